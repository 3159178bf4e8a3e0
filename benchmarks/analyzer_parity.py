"""How close `meshgen validate --files` comes to `istioctl analyze`, case by case.

A case is a folder with a `case.yaml`:

    about: what the case shows
    files: [../files/bookinfo.yaml]      # optional; default: the folder's other YAML files
    args: [--mesh-config, mesh.yaml]     # optional extra arguments
    defaultGateway: false                # optional; default true
    clean: true                          # optional; no schema or mesh error allowed
                                         # (default: true when nothing is expected)
    expect:                              # the messages istioctl reports, one per line
      - IST0101 VirtualService default/reviews

Like Istio's own analyzer test harness, every run also gets the ingress gateway Pod and
Service that `istioctl analyze` assumes for files-only analysis (labels
`istio: ingressgateway`, namespace istio-system). A finding counts when its rule's
`istioCode` and its object (kind, namespace, name) match an expected message; each
expected message is matched at most once. Findings without an Istio code are left out
of precision and recall, but errors of the schema and mesh layers (MG3xx, MG4xx) are
counted for the cases marked clean: a correct sample must have none.

Usage: python benchmarks/analyzer_parity.py [CASE_ROOT ...] [--verbose] [--json]
(default roots: tests/analyzers/cases and tests/analyzers/samples)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROOTS = (ROOT / "tests" / "analyzers" / "cases", ROOT / "tests" / "analyzers" / "samples")
MESHGEN = [sys.executable, "-m", "meshgen"]

# What istioctl adds to files-only analysis (pkg/config/analysis/local/defaults.go).
DEFAULT_INGRESS = """\
apiVersion: v1
kind: Pod
metadata:
  name: istio-ingressgateway-dummypod
  namespace: istio-system
  labels: {istio: ingressgateway}
spec:
  containers:
    - name: istio-proxy
      image: docker.io/istio/proxyv2:1.28.0
---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
spec:
  selector: {istio: ingressgateway}
  ports:
    - {name: http2, port: 80, targetPort: 80, protocol: TCP}
    - {name: https, port: 443, targetPort: 443, protocol: TCP}
    - {name: tcp, port: 31400, targetPort: 31400, protocol: TCP}
    - {name: tls, port: 15443, targetPort: 15443, protocol: TCP}
"""

# `Kind/namespace/name: ` or `Kind/name: ` at the start of a message (reports without
# structured objects), after an optional `[environment] ` label.
_REF = re.compile(r"^(?:\[[^\]]*\] )?(?P<kind>[A-Za-z]+)/(?:(?P<ns>[^/: ]+)/)?(?P<name>[^/: ]+): ")


@dataclass
class CaseResult:
    name: str
    expected: Counter[str]
    found: Counter[str]
    mesh_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    failure: str | None = None

    @property
    def true_positives(self) -> int:
        return sum((self.expected & self.found).values())


def load_cases(roots: list[Path]) -> list[tuple[str, Path, dict[str, Any]]]:
    cases = []
    for root in roots:
        for case_file in sorted(root.glob("*/case.yaml")):
            spec = yaml.safe_load(case_file.read_text()) or {}
            cases.append((f"{root.name}/{case_file.parent.name}", case_file.parent, spec))
    return cases


def object_key(finding: dict[str, Any]) -> str | None:
    obj = finding.get("object")
    if isinstance(obj, dict) and obj.get("kind"):
        return f"{obj['kind']} {obj.get('namespace') or 'default'}/{obj.get('name')}"
    match = _REF.match(str(finding.get("message", "")))
    if match is None:
        return None
    return f"{match['kind']} {match['ns'] or 'default'}/{match['name']}"


def normalize(expectation: str) -> str:
    code, kind, ref = expectation.split()
    if "/" not in ref:
        ref = f"default/{ref}"
    return f"{code} {kind} {ref}"


def case_files(folder: Path, spec: dict[str, Any]) -> list[str]:
    """The inputs of a case, relative to its folder."""
    return [str(f) for f in spec.get("files") or []] or sorted(
        p.name for p in folder.glob("*.yaml") if p.name != "case.yaml"
    )


def score(name: str, spec: dict[str, Any], report: dict[str, Any]) -> CaseResult:
    """Compare a JSON report with the case's expectations."""
    expected = Counter(normalize(e) for e in spec.get("expect") or [])
    clean = spec.get("clean", not expected)
    found: Counter[str] = Counter()
    mesh_errors = []
    for finding in report["findings"]:
        code = finding.get("istioCode")
        key = object_key(finding)
        if code and key:
            found[f"{code} {key}"] += 1
        if clean and finding["severity"] == "error" and finding["rule"].startswith(("MG3", "MG4")):
            mesh_errors.append(f"{finding['rule']} {finding['message']}")
    return CaseResult(name, expected, found, mesh_errors)


def run_case(folder: Path, spec: dict[str, Any], gateway_file: Path) -> CaseResult:
    args = [*MESHGEN, "validate", "--format", "json", *map(str, spec.get("args") or [])]
    for file in case_files(folder, spec):
        args += ["--files", file]
    if spec.get("defaultGateway", True):
        args += ["--files", str(gateway_file)]
    start = time.perf_counter()
    completed = subprocess.run(args, cwd=folder, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if completed.returncode not in (0, 1):
        expected = Counter(normalize(e) for e in spec.get("expect") or [])
        return CaseResult(folder.name, expected, Counter(), [], seconds, completed.stderr)
    result = score(folder.name, spec, json.loads(completed.stdout))
    result.seconds = seconds
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("roots", nargs="*", type=Path, default=list(DEFAULT_ROOTS))
    parser.add_argument("--verbose", action="store_true", help="print every case")
    parser.add_argument("--json", action="store_true", help="print the totals as JSON")
    options = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        gateway_file = Path(scratch) / "istioctl-default-ingress.yaml"
        gateway_file.write_text(DEFAULT_INGRESS)
        for label, folder, spec in load_cases(options.roots):
            result = run_case(folder, spec, gateway_file)
            result.name = label
            results.append(result)
    tp = sum(r.true_positives for r in results)
    found = sum(sum(r.found.values()) for r in results)
    expected = sum(sum(r.expected.values()) for r in results)
    precision = tp / found if found else 1.0
    recall = tp / expected if expected else 1.0
    seconds = sum(r.seconds for r in results)
    codes_expected = {key.split()[0] for r in results for key in r.expected}
    codes_found = {key.split()[0] for r in results for key in r.expected & r.found}
    for r in results:
        missing = r.expected - r.found
        extra = r.found - r.expected
        if r.failure or missing or extra or r.mesh_errors or options.verbose:
            status = "ok" if not (r.failure or missing or extra or r.mesh_errors) else "DIFF"
            print(f"{status:4} {r.name} ({r.seconds:.2f}s)")
            for key in sorted(missing.elements()):
                print(f"     missed  {key}")
            for key in sorted(extra.elements()):
                print(f"     extra   {key}")
            for error in r.mesh_errors:
                print(f"     error   {error}")
            if r.failure:
                print(f"     failed  {r.failure.strip()}")
    totals = {
        "cases": len(results),
        "casesExact": sum(1 for r in results if r.expected == r.found and not r.failure),
        "cleanCasesWithErrors": sum(1 for r in results if r.mesh_errors),
        "expected": expected,
        "found": found,
        "truePositives": tp,
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "codesMatched": f"{len(codes_found)}/{len(codes_expected)}",
        "seconds": round(seconds, 2),
    }
    if options.json:
        print(json.dumps(totals, indent=2))
    else:
        print(
            f"{totals['cases']} cases ({totals['casesExact']} exact, "
            f"{totals['cleanCasesWithErrors']} clean ones with mesh or schema errors): "
            f"precision {precision:.2f}, recall {recall:.2f} "
            f"({tp} of {expected} expected, {found} found), "
            f"IST codes matched {totals['codesMatched']}, {seconds:.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
