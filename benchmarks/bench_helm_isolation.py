"""What running chart code in a worker process costs: meshgen before and after, one run.

Before: the embedded Helm SDK in meshgen's own process (the source tree of `--base`,
by default the commit before the worker was introduced). After: this tree, where the
SDK runs in a worker process started while meshgen imports itself. Measured, for
repositories of 1 and 20 environments (one app each): `meshgen validate` and
`meshgen render --env <first>`.

Usage: python benchmarks/bench_helm_isolation.py [--base REF] [--sizes 1,20] [--repeat 7]
Prints a Markdown table; times are the best of `--repeat` runs, before and after taking
turns within each repeat so that a change in the machine's load affects both alike.
Both trees run with the same interpreter and virtualenv, bytecode compiled first.
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import tarfile
import tempfile
from functools import partial
from io import BytesIO
from pathlib import Path

from timing import best_of_interleaved

PROJECT = Path(__file__).resolve().parents[1]
# The parent of the commit that moved Helm into a worker process.
DEFAULT_BASE = "c98487a^"


def export_tree(ref: str, target: Path) -> Path:
    """The project as of `ref` (meshgen reads its charts and schemas beside the package)."""
    archive = subprocess.run(
        ["git", "-C", str(PROJECT), "archive", ref],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "generator"


def make_repo(base: Path, environments: int) -> Path:
    from meshgen.scaffold import answers_from_mapping, generate

    names = [f"env{index:02d}" for index in range(1, environments + 1)]
    answers = answers_from_mapping({"name": "bench", "gitops": "argocd", "environments": names})
    return generate(answers, base / f"repo-{environments}", git=False).path


def run_meshgen(source: Path, args: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("MESHGEN_HELM", None)
    result = subprocess.run(
        [sys.executable, "-m", "meshgen", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"meshgen {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=DEFAULT_BASE)
    parser.add_argument("--sizes", default="1,20")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    after = PROJECT / "generator"
    rows = []
    with tempfile.TemporaryDirectory(prefix="meshgen-bench-") as scratch:
        before = export_tree(args.base, Path(scratch) / "base")
        for tree in (before, after):
            compileall.compile_dir(tree / "meshgen", quiet=1)
        for size in sizes:
            repo = make_repo(Path(scratch), size)
            for label, command in (
                ("validate", ["-C", str(repo), "validate"]),
                ("render", ["-C", str(repo), "render", "--env", "env01"]),
            ):
                old, new = best_of_interleaved(
                    args.repeat,
                    [partial(run_meshgen, before, command), partial(run_meshgen, after, command)],
                )
                rows.append((label, size, old, new))
            print(f"{size} environments done", file=sys.stderr)

    print("| command | environments | in-process (s) | worker process (s) | after / before |")
    print("|---|---:|---:|---:|---:|")
    for label, size, old, new in rows:
        print(f"| `meshgen {label}` | {size} | {old:.3f} | {new:.3f} | {new / old:.2f}x |")


if __name__ == "__main__":
    main()
