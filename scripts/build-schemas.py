"""Build the schemas and chart knowledge meshgen ships, from the upstream files.

Run with the project's virtualenv, from anywhere:

    .venv/bin/python scripts/build-schemas.py [--shared ../shared] [--output DIR]

Inputs (never needed at run time): the upstream CRD YAML in `<shared>/schemas/crd-yaml/`,
eksctl's ClusterConfig JSON schema in `<shared>/schemas/eksctl/`, and the packaged
upstream charts in `<shared>/upstream-charts/`. Output (default
`generator/meshgen/_schemas/`, part of the package):

- `crds/{group}/{kind}.json.gz`: the strict JSON schemas `meshgen schemas import` makes
  of every served version of the kind, minified; versions with the same schema (Istio
  serves v1, v1beta1 and v1alpha3 alike) are stored once;
- `eksctl.io/clusterconfig.json.gz`: eksctl's own ClusterConfig schema, minified;
- `charts/{chart}-{version}/values.yaml.gz` (and `values.schema.json.gz` where the
  chart has one): the pinned platform charts' defaults, verbatim;
- `index.json`: which kinds, versions and charts are there, and where;
- `PROVENANCE.md`: the upstream repository, tag, commit, path and licence of each.

The build runs the `meshgen schemas import` of this checkout, writes into a scratch folder
and replaces the output only when complete. The test suite builds again and compares.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = PROJECT.parent / "shared"
DEFAULT_OUTPUT = PROJECT / "generator" / "meshgen" / "_schemas"
INDEX_FORMAT = 1


@dataclass(frozen=True)
class Upstream:
    repository: str
    tag: str
    commit: str


ISTIO = Upstream(
    "https://github.com/istio/istio", "1.30.3", "56df41f63e513f834c9a3af33d8aed82d1d961f2"
)
CERT_MANAGER = Upstream(
    "https://github.com/cert-manager/cert-manager",
    "v1.21.1",
    "24e33194fb39488eff2bbf10c6dc640f407cad44",
)
ARGO_CD = Upstream(
    "https://github.com/argoproj/argo-cd", "v3.5.1", "109ca7ca71139e514114499d294a492e7910a965"
)
HELM_CONTROLLER = Upstream(
    "https://github.com/fluxcd/helm-controller",
    "v1.6.3",
    "372c34e2b4a455d24ef6cbb8321c82c4533dbbd8",
)
SOURCE_CONTROLLER = Upstream(
    "https://github.com/fluxcd/source-controller",
    "v1.9.1",
    "092bcff3c9c3f258a44310507201d295ff294ba6",
)
KUSTOMIZE_CONTROLLER = Upstream(
    "https://github.com/fluxcd/kustomize-controller",
    "v1.9.4",
    "1324b615da01038e2859cbcde604bd5434f21933",
)
EKSCTL = Upstream(
    "https://github.com/eksctl-io/eksctl", "v0.230.0", "6ee3b761771c4ae78c76c82bbf2ea168afd61a9e"
)
GATEWAY_API = Upstream("https://github.com/kubernetes-sigs/gateway-api", "v1.5.1", "")


@dataclass(frozen=True)
class CrdSource:
    """One upstream CRD file: where it lies in <shared>/schemas/crd-yaml/ and upstream."""

    file: str
    upstream: Upstream
    path: str
    note: str = ""


CRD_SOURCES = (
    CrdSource(
        "istio+istio/crd-all.gen.yaml", ISTIO, "manifests/charts/base/files/crd-all.gen.yaml"
    ),
    CrdSource(
        "kubernetes-sigs+gateway-api/gateway-api-experimental-v1.5.1.yaml",
        GATEWAY_API,
        "config/crd/experimental (release v1.5.1)",
        "as vendored by istio/istio 1.30.3 in tests/integration/pilot/testdata/",
    ),
    *(
        CrdSource(f"cert-manager+cert-manager/{name}", CERT_MANAGER, f"deploy/crds/{name}")
        for name in (
            "cert-manager.io_certificates.yaml",
            "cert-manager.io_clusterissuers.yaml",
            "cert-manager.io_issuers.yaml",
        )
    ),
    *(
        CrdSource(f"argoproj+argo-cd/{name}", ARGO_CD, f"manifests/crds/{name}")
        for name in ("application-crd.yaml", "applicationset-crd.yaml", "appproject-crd.yaml")
    ),
    CrdSource(
        "fluxcd+helm-controller/helm.toolkit.fluxcd.io_helmreleases.yaml",
        HELM_CONTROLLER,
        "config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml",
    ),
    CrdSource(
        "fluxcd+kustomize-controller/kustomize.toolkit.fluxcd.io_kustomizations.yaml",
        KUSTOMIZE_CONTROLLER,
        "config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml",
    ),
    *(
        CrdSource(
            f"fluxcd+source-controller/source.toolkit.fluxcd.io_{name}.yaml",
            SOURCE_CONTROLLER,
            f"config/crd/bases/source.toolkit.fluxcd.io_{name}.yaml",
        )
        for name in (
            "buckets",
            "gitrepositories",
            "helmcharts",
            "helmrepositories",
            "ocirepositories",
        )
    ),
)

# Left out on purpose, and why: controllers create these; a GitOps repository never
# commits them (cert-manager's Challenge, Order and CertificateRequest; Flux's
# ExternalArtifact). A repository that does gets the usual "not schema-checked" note.
NOT_SHIPPED = (
    "cert-manager+cert-manager/acme.cert-manager.io_challenges.yaml",
    "cert-manager+cert-manager/acme.cert-manager.io_orders.yaml",
    "cert-manager+cert-manager/cert-manager.io_certificaterequests.yaml",
    "fluxcd+source-controller/source.toolkit.fluxcd.io_externalartifacts.yaml",
)

EKSCTL_SOURCE = (
    "eksctl/clusterconfig_v1alpha5.json",
    "pkg/apis/eksctl.io/v1alpha5/assets/schema.json",
)
EKSCTL_KIND = ("eksctl.io", "ClusterConfig", "v1alpha5")

ISTIO_CHARTS = "https://istio-release.storage.googleapis.com/charts"
JETSTACK_CHARTS = "https://charts.jetstack.io"


@dataclass(frozen=True)
class ChartSource:
    """One pinned platform chart, packaged in <shared>/upstream-charts/."""

    name: str
    version: str
    repository: str
    upstream: Upstream
    path: str


CHART_SOURCES = (
    ChartSource("base", "1.30.3", ISTIO_CHARTS, ISTIO, "manifests/charts/base"),
    ChartSource("cni", "1.30.3", ISTIO_CHARTS, ISTIO, "manifests/charts/istio-cni"),
    ChartSource(
        "istiod", "1.30.3", ISTIO_CHARTS, ISTIO, "manifests/charts/istio-control/istio-discovery"
    ),
    ChartSource("gateway", "1.30.3", ISTIO_CHARTS, ISTIO, "manifests/charts/gateway"),
    ChartSource(
        "cert-manager", "v1.21.1", JETSTACK_CHARTS, CERT_MANAGER, "deploy/charts/cert-manager"
    ),
)
CHART_FILES = ("values.yaml", "values.schema.json")
# How templates read a top-level value: `.Values.x`, `$.Values.x`, `($.Values).x` and
# `index .Values "x"`.
TEMPLATE_KEY = re.compile(
    r"\.Values\)?\.([A-Za-z_][A-Za-z0-9_]*)|index\s+\(?\$?\.Values\)?\s+\"([^\"]+)\""
)
# Read by Istio's templates only to lift the defaults or to refuse the key: not settings.
NOT_SETTINGS = {"_internal_defaults_do_not_set", "_original", "defaults"}


def minified(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def write_gzip(path: Path, text: str) -> None:
    # mtime=0 and no file name inside: the bytes depend on the content only.
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        out.write(text.encode("utf-8"))


def import_crds(shared: Path, scratch: Path) -> Path:
    """Run this checkout's `meshgen schemas import` on every shipped CRD file."""
    files = [str(shared / "schemas" / "crd-yaml" / source.file) for source in CRD_SOURCES]
    target = scratch / "imported"
    command = [
        sys.executable,
        "-m",
        "meshgen",
        "schemas",
        "import",
        *files,
        "--output",
        str(target),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"build-schemas: `meshgen schemas import` failed:\n{result.stderr}")
    return target / "crds-strict"


def crd_kinds(shared: Path) -> dict[tuple[str, str], CrdSource]:
    """(group, kind) of every CRD in the shipped files, with the file it comes from."""
    import yaml

    kinds: dict[tuple[str, str], CrdSource] = {}
    for source in CRD_SOURCES:
        text = (shared / "schemas" / "crd-yaml" / source.file).read_text("utf-8")
        for document in yaml.safe_load_all(text):
            if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition":
                spec = document["spec"]
                kinds[(spec["group"], spec["names"]["kind"])] = source
    return kinds


def pack_kind(schemas: dict[str, Any]) -> tuple[list[Any], dict[str, int]]:
    """Distinct schemas of one kind, and which of them each version uses."""
    distinct: list[Any] = []
    texts: list[str] = []
    versions: dict[str, int] = {}
    for version in sorted(schemas):
        text = minified(schemas[version])
        if text not in texts:
            texts.append(text)
            distinct.append(schemas[version])
        versions[version] = texts.index(text)
    return distinct, versions


def build_crds(shared: Path, imported: Path, output: Path) -> tuple[dict[str, Any], list[str]]:
    kinds = crd_kinds(shared)
    lower = {(group, kind.lower()): kind for group, kind in kinds}
    by_kind: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(imported.glob("*/*.json")):
        group = path.parent.name
        kind_lower, _, version = path.stem.rpartition("_")
        kind = lower[(group, kind_lower)]
        by_kind.setdefault((group, kind), {})[version] = json.loads(path.read_text("utf-8"))
    index: dict[str, Any] = {}
    provenance = []
    for (group, kind), schemas in sorted(by_kind.items()):
        distinct, versions = pack_kind(schemas)
        relative = f"crds/{group}/{kind.lower()}.json.gz"
        write_gzip(output / relative, minified(distinct))
        index[f"{group}/{kind}"] = {"file": relative, "versions": versions}
        source = kinds[(group, kind)]
        provenance.append(
            f"| `{relative}` | {kind} {', '.join(sorted(versions))} | "
            f"{_upstream(source.upstream)} | `{source.path}` | {source.note or 'served versions'} |"
        )
    return index, provenance


def build_eksctl(shared: Path, output: Path) -> tuple[dict[str, Any], str]:
    source, upstream_path = EKSCTL_SOURCE
    schema = json.loads((shared / "schemas" / source).read_text("utf-8"))
    group, kind, version = EKSCTL_KIND
    relative = f"{group}/{kind.lower()}.json.gz"
    write_gzip(output / relative, minified([schema]))
    line = (
        f"| `{relative}` | {kind} {version} | {_upstream(EKSCTL)} | `{upstream_path}` | "
        "eksctl's own schema, unchanged |"
    )
    return {f"{group}/{kind}": {"file": relative, "versions": {version: 0}}}, line


def build_charts(shared: Path, output: Path) -> tuple[list[dict[str, Any]], list[str]]:
    import yaml

    repository_index = yaml.safe_load(
        (shared / "upstream-charts" / "index.yaml").read_text("utf-8")
    )
    charts = []
    provenance = []
    for source in CHART_SOURCES:
        entry = next(
            e
            for e in repository_index["entries"][source.name]
            if str(e["version"]) == source.version
        )
        archive = shared / "upstream-charts" / entry["urls"][0]
        files = dict(_chart_files(archive, source.name))
        record: dict[str, Any] = {
            "name": source.name,
            "version": source.version,
            "repository": source.repository,
            "templateKeys": _template_keys(archive, source.name),
        }
        for name in CHART_FILES:
            key = "values" if name == "values.yaml" else "valuesSchema"
            if name not in files:
                record[key] = None
                continue
            relative = f"charts/{source.name}-{source.version}/{name}.gz"
            write_gzip(output / relative, files[name])
            record[key] = relative
            provenance.append(
                f"| `{relative}` | chart {source.name} {source.version} ({source.repository}) | "
                f"{_upstream(source.upstream)} | `{source.path}/{name}` | as packaged |"
            )
        charts.append(record)
    return charts, provenance


def _chart_files(archive: Path, chart: str) -> Iterable[tuple[str, str]]:
    with tarfile.open(archive, "r:gz") as tar:
        for name in CHART_FILES:
            try:
                member = tar.getmember(f"{chart}/{name}")
            except KeyError:
                continue
            extracted = tar.extractfile(member)
            if extracted is not None:
                yield name, extracted.read().decode("utf-8")


def _template_keys(archive: Path, chart: str) -> list[str]:
    """Top-level values the chart's own templates read (its subcharts' excluded)."""
    keys: set[str] = set()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith(f"{chart}/templates/"):
                continue
            extracted = tar.extractfile(member)
            if extracted is None:
                continue
            for match in TEMPLATE_KEY.finditer(extracted.read().decode("utf-8")):
                keys.add(match.group(1) or match.group(2))
    return sorted(keys - NOT_SETTINGS)


def _upstream(upstream: Upstream) -> str:
    commit = f" ({upstream.commit[:12]})" if upstream.commit else ""
    return f"{upstream.repository.removeprefix('https://github.com/')}@{upstream.tag}{commit}"


def provenance_text(rows: list[str], shared: Path) -> str:
    upstreams = (
        ISTIO,
        GATEWAY_API,
        CERT_MANAGER,
        ARGO_CD,
        HELM_CONTROLLER,
        SOURCE_CONTROLLER,
        KUSTOMIZE_CONTROLLER,
        EKSCTL,
    )
    digest = hashlib.sha256()
    for source in CRD_SOURCES:
        digest.update((shared / "schemas" / "crd-yaml" / source.file).read_bytes())
    lines = [
        "# Provenance of the schemas and chart defaults meshgen ships",
        "",
        "Built by `scripts/build-schemas.py` (do not edit by hand): the CRD schemas with",
        "`meshgen schemas import` (strict variant) from the upstream CRD YAML released at the",
        "tags below, eksctl's ClusterConfig schema and the charts' values files unchanged. JSON",
        "is minified and gzipped; versions of one kind that share a schema are stored once.",
        "",
        "Every upstream project below is licensed under the Apache License 2.0 (the LICENSE",
        "file at each tag). These files are derived from or copied from those projects and",
        "remain under Apache-2.0; keep this notice when redistributing them.",
        "",
        "| upstream repository | tag | commit | licence |",
        "|---|---|---|---|",
        *(
            f"| {u.repository} | {u.tag} | {u.commit or 'release manifest, vendored by Istio'} "
            "| Apache-2.0 |"
            for u in upstreams
        ),
        "",
        "Not shipped, because controllers create them and a GitOps repository never commits",
        "them: " + ", ".join(f"`{name.split('/')[1]}`" for name in NOT_SHIPPED) + ".",
        "",
        "| file | what | upstream | upstream path | notes |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"SHA-256 of the CRD YAML inputs, in the order above: `{digest.hexdigest()}`",
        "",
    ]
    return "\n".join(lines)


def build(shared: Path, output: Path) -> None:
    """Write the whole output folder, replacing `output` only once it is complete."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-schemas-", dir=output.parent) as scratch_name:
        scratch = Path(scratch_name)
        staged = scratch / "out"
        imported = import_crds(shared, scratch)
        crds, crd_rows = build_crds(shared, imported, staged)
        eksctl, eksctl_row = build_eksctl(shared, staged)
        charts, chart_rows = build_charts(shared, staged)
        index = {"format": INDEX_FORMAT, "kinds": {**crds, **eksctl}, "charts": charts}
        (staged / "index.json").write_text(
            json.dumps(index, indent=1, sort_keys=True) + "\n", "utf-8"
        )
        (staged / "PROVENANCE.md").write_text(
            provenance_text([*crd_rows, eksctl_row, *chart_rows], shared), "utf-8"
        )
        previous = scratch / "previous"
        if output.exists():
            output.rename(previous)
        staged.rename(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the upstream files")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write")
    args = parser.parse_args()
    if not (args.shared / "schemas" / "crd-yaml").is_dir():
        raise SystemExit(f"build-schemas: {args.shared}/schemas/crd-yaml not found; pass --shared")
    build(args.shared.resolve(), args.output.resolve())
    print(f"build-schemas: wrote {args.output}")


if __name__ == "__main__":
    main()
