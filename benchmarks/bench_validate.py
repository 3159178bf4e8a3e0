"""`meshgen validate`, complete, against rendering alone and against a scripted pipeline.

For repositories of 20 and 200 environments (one app each, Argo CD), measured in one run:

- validate: `meshgen validate REPO`, every layer on: files, Helm lint and render, every
  rendered and plain object against the strict Kubernetes schemas and, with the schemas
  meshgen ships, every custom resource (Istio, cert-manager, Argo CD, eksctl) against its
  CRD schema, the GitOps and platform cross-references, the mesh analyzers; its
  cross-run cache warm, as on a developer's machine or a CI job that restores it;
- validate, no cache: the same with MESHGEN_NO_CACHE=1 (a first run);
- render: rendering every environment alone with the embedded Helm SDK, in one process;
- scripted: what a team scripts without meshgen: per environment, the official
  `helm template` piped to the `kubernetes-validate` CLI (strict). Where no helm binary
  is on PATH (`make test` installs one in the virtualenv where it can), `meshgen render`
  (the same Helm, as an SDK) stands in, and the run says so. It does less: no lint, no
  CRD schemas, no cross-references, no mesh analysis. Timed only for `--scripted-sizes`
  (at 200 environments it takes most of a minute per run).

Usage: python benchmarks/bench_validate.py [--sizes 20,200] [--scripted-sizes 20] [--repeat 5]
Prints a Markdown table and the two ratios the design asks for; times are the best of
`--repeat` runs. The measurements take turns within each repeat, so a change in the
machine's load affects all of them. meshgen's bytecode is compiled first, as `pip
install` does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

from timing import best_of_interleaved, compile_bytecode

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
    # A domain, mailbox and repository of one's own: the placeholders are findings.
    answers = answers_from_mapping(
        {
            "name": "bench",
            "gitops": "argocd",
            "environments": names,
            "domain": "bench.acme.io",
            "acme_email": "platform@acme.io",
            "repo_url": "https://github.com/acme/bench.git",
        }
    )
    return generate(answers, base / f"repo-{environments}", git=False).path


def run_validate(repo: Path, cache: Path | None) -> None:
    env = dict(os.environ)
    if cache is None:
        env["MESHGEN_NO_CACHE"] = "1"
    else:
        env["MESHGEN_CACHE_DIR"] = str(cache)
    result = subprocess.run(
        [MESHGEN, "-C", str(repo), "validate"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    # Complete means nothing skipped: a kind without a schema would be a note (MG303).
    if result.returncode != 0 or "MG303" in result.stdout:
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
    parser.add_argument("--sizes", default="20,200")
    parser.add_argument("--scripted-sizes", default="20")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    scripted_sizes = {int(size) for size in args.scripted_sizes.split(",") if size}
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
            cache = Path(scratch) / f"cache-{size}"
            run_validate(repo_path, cache)  # fills the cache the warm runs use
            actions = [
                partial(run_validate, repo_path, cache),
                partial(run_validate, repo_path, None),
                partial(run_render_only, repo_path),
            ]
            if size in scripted_sizes:
                actions.append(partial(run_scripted, repo_path, names, version, helm))
            times = best_of_interleaved(args.repeat, actions)
            rows.append((size, *times[:3], times[3] if len(times) > 3 else None))
            print(f"{size} environments done", file=sys.stderr)

    print(
        "| environments | validate (s) | validate, no cache (s) | render alone (s) "
        "| scripted (s) | validate / scripted | no cache / scripted |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size, warm, cold, render, scripted in rows:
        shown = f"{scripted:.2f}" if scripted is not None else "-"
        ratio = f"{warm / scripted:.3f}" if scripted else "-"
        cold_ratio = f"{cold / scripted:.3f}" if scripted else "-"
        print(
            f"| {size} | {warm:.2f} | {cold:.2f} | {render:.2f} | {shown} | {ratio} "
            f"| {cold_ratio} |"
        )
    if len(rows) > 1:
        small, large = rows[0], rows[-1]
        print(
            f"\n{large[0]} environments cost {large[1] / small[1]:.1f}x {small[0]} "
            f"({large[2] / small[2]:.1f}x without the cache)"
        )


if __name__ == "__main__":
    main()
