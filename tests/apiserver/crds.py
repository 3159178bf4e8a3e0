"""Print, as one YAML stream, the CRDs of the platform that generated repositories pin.

Istio's and cert-manager's come from their packaged charts (rendered with meshgen's
embedded Helm, as the chart would install them); Argo CD's, Flux's and the Gateway API's
from their upstream CRD YAML. Usage: python crds.py SHARED_DIR > crds.yaml
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

from meshgen.helm.sdk import EmbeddedHelm

# chart archive glob -> values that make the chart render its CRDs
CHARTS = {
    "base-*.tgz": {},
    "cert-manager-*.tgz": {"crds": {"enabled": True}},
}
CRD_FOLDERS = ("argoproj+argo-cd", "fluxcd+*", "kubernetes-sigs+gateway-api")


def chart_crds(shared: Path) -> Iterator[str]:
    helm = EmbeddedHelm()
    for pattern, values in CHARTS.items():
        archives = sorted((shared / "upstream-charts").glob(pattern))
        if not archives:
            raise SystemExit(f"crds.py: no chart {pattern} in {shared / 'upstream-charts'}")
        for template in helm.render(
            archives[-1], values, release="crds", namespace="default", kube_version="1.34"
        ):
            # Only the CRD templates: others may hold what Helm splits but YAML cannot
            # (cert-manager's `---# comment`).
            if "kind: CustomResourceDefinition" in template.text:
                yield from _crds(template.text)


def yaml_crds(shared: Path) -> Iterator[str]:
    for pattern in CRD_FOLDERS:
        for folder in sorted((shared / "schemas" / "crd-yaml").glob(pattern)):
            for path in sorted(folder.rglob("*.yaml")):
                yield from _crds(path.read_text(encoding="utf-8"))


def _crds(text: str) -> Iterator[str]:
    for document in yaml.safe_load_all(text):
        if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition":
            yield yaml.safe_dump(document, sort_keys=False)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python crds.py SHARED_DIR", file=sys.stderr)
        return 2
    shared = Path(argv[1])
    for crd in (*chart_crds(shared), *yaml_crds(shared)):
        sys.stdout.write("---\n" + crd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
