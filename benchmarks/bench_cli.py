"""`meshgen new` and `meshgen --help` against what they stand in for, in one run.

- new: `meshgen new DEST --no-input` (validated answers, cookiecutter, per-environment
  files, the chart and overlays copied, `git init` and the first commit), against the
  steps a team would otherwise run by hand for the same template: the `cookiecutter`
  CLI with the same answers, then `git init`, `git add -A` and `git commit`. The
  hand-run steps produce less (no per-environment files, no chart, no overlays), so
  the ratio is a ceiling on what meshgen's own work costs. Measured twice: with
  meshgen's compiled templates kept from an earlier run (the usual case), and without
  a cache (MESHGEN_NO_CACHE=1: every template compiled, as the cookiecutter CLI does
  every time, as on the first run on a machine).
- help: `meshgen --help` against starting the Python interpreter alone
  (`python -c pass`): what the lazy imports leave above the floor.

Usage: python benchmarks/bench_cli.py [--repeat 7]
Prints a Markdown table; times are the best of `--repeat` runs, taking turns.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

from timing import best_of_interleaved, compile_bytecode

BIN = Path(sys.executable).parent
MESHGEN = str(BIN / "meshgen")
COOKIECUTTER = str(BIN / "cookiecutter")
GIT_IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]


def fresh(scratch: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=scratch)) / "acme-mesh"


def run_meshgen_new(scratch: Path, *, cached: bool) -> None:
    cache = {"MESHGEN_CACHE_DIR": str(scratch / "cache")} if cached else {"MESHGEN_NO_CACHE": "1"}
    subprocess.run(
        [MESHGEN, "new", str(fresh(scratch)), "--no-input"],
        check=True,
        capture_output=True,
        env={**os.environ, **cache},
    )


def run_by_hand(scratch: Path, template: Path, context: dict[str, object]) -> None:
    dest = fresh(scratch)
    extra = [f"{key}={value}" for key, value in context.items() if isinstance(value, str)]
    subprocess.run(
        [COOKIECUTTER, "--no-input", "-o", str(dest.parent), str(template), *extra],
        check=True,
        capture_output=True,
        env={"HOME": str(scratch), "PATH": "/usr/bin:/bin"},
    )
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        [*GIT_IDENTITY, "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)


def run_help() -> None:
    subprocess.run([MESHGEN, "--help"], check=True, capture_output=True)


def run_python() -> None:
    subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    compile_bytecode()

    from meshgen import TEMPLATE_VERSION, __version__, resources
    from meshgen.scaffold import answers_from_mapping

    context = answers_from_mapping({"name": "acme-mesh"}).cookiecutter_context(
        __version__, TEMPLATE_VERSION
    )
    context = {key: value for key, value in context.items() if key != "environments"}
    with tempfile.TemporaryDirectory(prefix="meshgen-bench-") as name:
        scratch = Path(name)
        new, first_new, by_hand, help_, python = best_of_interleaved(
            args.repeat,
            [
                partial(run_meshgen_new, scratch, cached=True),
                partial(run_meshgen_new, scratch, cached=False),
                partial(run_by_hand, scratch, resources.template_dir(), context),
                run_help,
                run_python,
            ],
        )
    print("| command | meshgen (s) | alternative (s) | ratio |")
    print("|---|---:|---:|---:|")
    rows = [
        ("`meshgen new` vs cookiecutter + git by hand", new, by_hand),
        ("`meshgen new`, no cache, vs the same", first_new, by_hand),
        ("`meshgen --help` vs `python -c pass`", help_, python),
    ]
    for label, ours, theirs in rows:
        print(f"| {label} | {ours:.3f} | {theirs:.3f} | {ours / theirs:.2f}x |")


if __name__ == "__main__":
    main()
