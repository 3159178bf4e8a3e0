"""The schemas and chart defaults meshgen ships are exactly what scripts/build-schemas.py
makes from the upstream files, and every file the index names is there."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED_SCHEMAS

PROJECT = Path(__file__).resolve().parents[1]
SHIPPED = PROJECT / "generator" / "meshgen" / "_schemas"
SCRIPT = PROJECT / "scripts" / "build-schemas.py"
SHARED = SHARED_SCHEMAS.parent


def _contents(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, gzip members by their decompressed bytes.

    The compressed bytes may differ between zlib builds; what meshgen reads may not.
    """
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found[path.relative_to(folder).as_posix()] = (
                gzip.decompress(data) if path.suffix == ".gz" else data
            )
    return found


@pytest.mark.slow
def test_shipped_files_equal_what_the_build_script_produces(tmp_path: Path) -> None:
    if not (SHARED / "schemas" / "crd-yaml").is_dir() or not (SHARED / "upstream-charts").is_dir():
        pytest.skip(f"{SHARED} is absent: the shipped schemas cannot be rebuilt here")
    output = tmp_path / "schemas"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--shared", str(SHARED), "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    built, shipped = _contents(output), _contents(SHIPPED)
    assert sorted(built) == sorted(shipped), "run scripts/build-schemas.py and commit the result"
    changed = [name for name in built if built[name] != shipped[name]]
    assert not changed, f"differ from a fresh build (run scripts/build-schemas.py): {changed}"


def test_the_index_names_only_files_that_are_shipped_and_listed_in_the_provenance() -> None:
    index = json.loads((SHIPPED / "index.json").read_text("utf-8"))
    provenance = (SHIPPED / "PROVENANCE.md").read_text("utf-8")
    named = [entry["file"] for entry in index["kinds"].values()]
    named += [
        chart[key] for chart in index["charts"] for key in ("values", "valuesSchema") if chart[key]
    ]
    for relative in named:
        assert (SHIPPED / relative).is_file(), relative
        assert f"`{relative}`" in provenance, f"{relative} has no provenance line"
    shipped = {p.relative_to(SHIPPED).as_posix() for p in SHIPPED.rglob("*.gz") if p.is_file()}
    assert shipped == set(named), "files shipped but not in index.json, or the reverse"


def test_every_shipped_kind_version_is_a_valid_json_schema() -> None:
    import jsonschema

    index = json.loads((SHIPPED / "index.json").read_text("utf-8"))
    for name, entry in index["kinds"].items():
        schemas = json.loads(gzip.decompress((SHIPPED / entry["file"]).read_bytes()))
        assert sorted(set(entry["versions"].values())) == list(range(len(schemas))), name
        for schema in schemas:
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
            cls.check_schema(schema)
