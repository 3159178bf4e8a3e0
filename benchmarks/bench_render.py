"""meshgen's render post-processing against a plain YAML split, in one run.

What Helm returns is text; meshgen splits it into objects, keeps each object's text and
its line, points it at its template line and sorts it in install order. This measures
that part alone (`render.assemble`) on one template that renders 1,000 and 20,000
objects, against parsing the same text with PyYAML's C loader (`yaml.load_all`), which
does the least any consumer must do. Both must grow linearly: the ratios must stay flat
from 1,000 to 20,000 objects.

Usage: python benchmarks/bench_render.py [--repeat 3] [--sizes 1000 20000]
Prints a Markdown table; times are the best of `--repeat` runs, taking turns.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import yaml

from meshgen import render
from meshgen.helm.base import RenderedTemplate
from meshgen.repo import App, Environment, Repo
from timing import best_of_interleaved

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def rendered_text(objects: int) -> str:
    return "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{n}\n"
        f"data:\n  key: value-{n}\n"
        for n in range(objects)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "charts" / "bench" / "templates").mkdir(parents=True)
        template = "kind: ConfigMap\n"
        (root / "charts" / "bench" / "templates" / "configmaps.yaml").write_text(template)
        environment = Environment("staging", "staging", "bench")
        app = App("bench", "charts/bench")
        repo = Repo(root, "bench", "argocd", "1.34", (environment,), (app,))
        print("| objects | meshgen assemble | yaml.load_all | ratio |")
        print("|---:|---:|---:|---:|")
        for size in args.sizes:
            text = rendered_text(size)
            templates = [RenderedTemplate("bench/templates/configmaps.yaml", text)]
            meshgen_time, plain_time = best_of_interleaved(
                args.repeat,
                [
                    lambda templates=templates: render.assemble(repo, environment, app, templates),
                    lambda text=text: list(yaml.load_all(text, Loader=_LOADER)),
                ],
            )
            ratio = meshgen_time / plain_time
            print(f"| {size} | {meshgen_time:.2f} s | {plain_time:.2f} s | {ratio:.2f} |")


if __name__ == "__main__":
    main()
