"""`meshgen weights show`: every environment x version, from the files on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Invoke
from helpers import replace

STAGING = Path("environments/staging/first-app.yaml")


def test_show_lists_every_environment_and_version(acme: Path, invoke: Invoke) -> None:
    result = invoke(["-C", str(acme), "weights", "show"])
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ENVIRONMENT", "VERSION", "WEIGHT", "IMAGE"]
    assert lines[1].split() == [
        "staging",
        "v1",
        "100%",
        "registry.istio.io/release/examples-helloworld-v1:1.0",
    ]
    assert [line.split()[:3] for line in lines[2:]] == [
        ["staging", "v2", "0%"],
        ["production", "v1", "100%"],
        ["production", "v2", "0%"],
    ]


def test_show_json_is_a_versioned_document(acme: Path, invoke: Invoke) -> None:
    document = json.loads(invoke(["-C", str(acme), "weights", "show", "--format", "json"]).stdout)
    assert document["schemaVersion"] == 1
    staging = document["environments"][0]
    assert staging["environment"] == "staging"
    assert staging["file"] == STAGING.as_posix()
    assert [(v["name"], v["weight"], v["image"]["tag"]) for v in staging["versions"]] == [
        ("v1", 100, "1.0"),
        ("v2", 0, "1.0"),
    ]


def test_show_exits_1_when_weights_are_broken(acme: Path, invoke: Invoke) -> None:
    path = acme / STAGING
    replace(path, "v2: 0", "v2: 10")
    result = invoke(["-C", str(acme), "weights", "show"], expect=1)
    assert ["staging", "v2", "10%"] in [line.split()[:3] for line in result.stdout.splitlines()]
    assert f"{STAGING.as_posix()}: weights sum to 110, not 100" in result.stderr


@pytest.mark.slow
def test_show_for_one_app(acme: Path, invoke: Invoke) -> None:
    invoke(["-C", str(acme), "app", "add", "checkout", "--commit"])

    def apps(*extra: str) -> set[str]:
        args = ["-C", str(acme), "weights", "show", "--format", "json", *extra]
        return {entry["app"] for entry in json.loads(invoke(args).stdout)["environments"]}

    assert apps() == {"first-app", "checkout"}
    assert apps("--app", "checkout") == {"checkout"}
    unknown = invoke(["-C", str(acme), "weights", "show", "--app", "cart"], expect=2)
    assert "unknown app 'cart'" in unknown.stderr
