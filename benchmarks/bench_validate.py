"""`meshgen validate` against rendering alone and against the pipeline a user would script.

For repositories of 1, 5, 20 and 50 environments (one app each), measured in one run:

- validate: `meshgen validate REPO` (all layers: files, Helm lint + render, strict
  Kubernetes schemas, CRD schemas when present, mesh analyzers), one process;
- render: rendering every environment alone with the embedded Helm SDK, in one process
  (the floor validation cannot go under);
- scripted: what a team scripts without meshgen: per environment, the official
  `helm template` piped to the `kubernetes-validate` CLI (strict). Where no helm binary
  is on PATH (`make test` installs one in the virtualenv where it can), `meshgen render`
  (the same Helm, as an SDK) stands in, and the run says so; kubeconform and istioctl
  are not installable from the package registries. The scripted pipeline does less: no
  lint, no CRD schemas, no mesh analysis.

Usage: python benchmarks/bench_validate.py [--sizes 1,5,20,50] [--repeat 5]
Prints a Markdown table; times are the best of `--repeat` runs. The three measurements
take turns within each repeat, so a change in the machine's load affects all of them.
meshgen's bytecode is compiled first, as `pip install` does: without it (an editable
install with PYTHONDONTWRITEBYTECODE set) every run compiles each module it imports.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

from timing import best_of_interleaved

BIN = Path(sys.executable).parent
MESHGEN = str(BIN / "meshgen")
KUBERNETES_VALIDATE = str(BIN / "kubernetes-validate")

RENDER_ONLY = """
import sys
from pathlib import Path
from meshgen.helm import select_backend
from meshgen.render import render_app
from meshgen.repo import load_repo
repo = load_repo(Path(sys.argv[1]))
backend = select_backend(None)
for environment in repo.environments:
    for app in repo.apps:
        render_app(repo, environment, app, backend)
"""


def make_repo(base: Path, environments: int) -> Path:
    from meshgen.scaffold import answers_from_mapping, generate

    names = [f"env{index:02d}" for index in range(1, environments + 1)]
    answers = answers_from_mapping({"name": "bench", "gitops": "argocd", "environments": names})
    return generate(answers, base / f"repo-{environments}", git=False).path


def compile_bytecode() -> None:
    import meshgen

    compileall.compile_dir(Path(meshgen.__file__).parent, quiet=1)


def run_validate(repo: Path) -> None:
    result = subprocess.run(
        [MESHGEN, "-C", str(repo), "validate"], check=False, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"meshgen validate failed:\n{result.stdout}{result.stderr}")


def run_render_only(repo: Path) -> None:
    subprocess.run([sys.executable, "-c", RENDER_ONLY, str(repo)], check=True)


def render_command(helm: str | None, repo: Path, environment: str, version: str) -> list[str]:
    """How the scripted pipeline renders one environment: `helm template` when installed."""
    if helm is None:
        return [MESHGEN, "-C", str(repo), "render", "--env", environment]
    return [
        helm,
        "template",
        "first-app",
        str(repo / "charts" / "first-app"),
        "--namespace",
        environment,
        "--values",
        str(repo / "environments" / environment / "first-app.yaml"),
        "--kube-version",
        version,
    ]


def run_scripted(
    repo: Path, environments: list[str], kubernetes_version: str, helm: str | None
) -> None:
    for environment in environments:
        rendered = subprocess.run(
            render_command(helm, repo, environment, kubernetes_version),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
            handle.write(rendered)
            handle.flush()
            subprocess.run(
                [
                    KUBERNETES_VALIDATE,
                    "--strict",
                    "--quiet",
                    "-k",
                    kubernetes_version,
                    handle.name,
                ],
                capture_output=True,
                check=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,20,50")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    helm = shutil.which("helm")
    print(
        f"scripted pipeline renders with: {helm + ' template' if helm else 'meshgen render'}",
        file=sys.stderr,
    )

    from meshgen.repo import load_repo

    compile_bytecode()
    rows = []
    with tempfile.TemporaryDirectory(prefix="meshgen-bench-") as scratch:
        for size in sizes:
            repo_path = make_repo(Path(scratch), size)
            repo = load_repo(repo_path)
            names = [e.name for e in repo.environments]
            version = f"{repo.kubernetes_version}.0"
            validate, render, scripted = best_of_interleaved(
                args.repeat,
                [
                    partial(run_validate, repo_path),
                    partial(run_render_only, repo_path),
                    partial(run_scripted, repo_path, names, version, helm),
                ],
            )
            rows.append((size, validate, render, scripted))
            print(f"{size} environments done", file=sys.stderr)

    print(
        "| environments | validate (s) | render alone (s) | scripted (s) "
        "| validate / render | scripted / validate |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size, validate, render, scripted in rows:
        print(
            f"| {size} | {validate:.2f} | {render:.2f} | {scripted:.2f} "
            f"| {validate / render:.2f}x | {scripted / validate:.1f}x |"
        )


if __name__ == "__main__":
    main()
