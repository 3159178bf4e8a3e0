"""The answers of `meshgen new`: where they come from (options, --config-file, questions),
and that a name written unquoted into YAML reads back as that name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import assume, example, given
from hypothesis import strategies as st

from conftest import Invoke
from meshgen.errors import ConfigError
from meshgen.scaffold.answers import (
    DNS_LABEL,
    answers_from_mapping,
    label_reading,
    read_config_file,
)


@pytest.mark.parametrize(
    ("label", "reads_as"),
    [
        ("on", "the boolean true"),
        ("no", "the boolean false"),
        ("y", "the boolean true"),
        ("null", "null (nothing)"),
        ("104", "a number"),
        ("1e3", "a number"),
        ("0x1f", "a number"),
        ("0o17", "a number"),
        ("0b101", "a number"),
        ("089", "a number"),
        ("2024-01-05", "a date"),
        ("2024-13-45", "a date"),
        ("staging", None),
        ("prod-1", None),
        ("e2e", None),
        ("1e", None),
        ("0x", None),
        ("2024-01-5", "a date"),
        ("2024-1-5", "a date"),
        ("1e-3", "a number"),
        ("1e-", None),
        ("202-01-05", None),
    ],
)
def test_label_reading_says_what_yaml_makes_of_a_name(label: str, reads_as: str | None) -> None:
    assert label_reading(label) == reads_as


# The reference: PyYAML's YAML 1.1 resolver, plus what Go's YAML (sigs.k8s.io/yaml over
# go-yaml v2, which Helm, Argo CD and Flux use) reads beyond it, in go-yaml's own terms:
# `y`/`n` as booleans; `strconv.ParseInt(s, 0, 64)` numbers (prefixes 0b, 0o, 0x, leading
# zero octal); floats matching its `yamlStyleFloat`; dates of layout "2006-1-2".
_RESOLVER = yaml.resolver.Resolver()
_GO_INT = re.compile(r"^[-+]?(0[bB][01_]+|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)$")
_GO_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_DATE = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$")
_READING_OF_TAG = {
    "tag:yaml.org,2002:null": "null (nothing)",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:timestamp": "a date",
}


def _reference_reading(label: str) -> str | None:
    if label in ("y", "n"):
        return f"the boolean {str(label == 'y').lower()}"
    tag = _RESOLVER.resolve(yaml.ScalarNode, label, (True, False))
    if tag == "tag:yaml.org,2002:bool":
        return f"the boolean {str(yaml.safe_load(label)).lower()}"
    if tag != "tag:yaml.org,2002:str":
        return _READING_OF_TAG[tag]
    if _GO_DATE.match(label):
        return "a date"
    return "a number" if _GO_INT.match(label) or _GO_FLOAT.match(label) else None


# Labels drawn from the characters that make YAML's implicit types (digits, the letters
# of `0x`, `0b`, `0o`, `1e3`, `yes`, `null`, `off`, `true`), and '-' as in dates.
_LABELS = st.from_regex(re.compile(r"[0-9abefxonlutrsy][-0-9abefxonlutrsy]{0,11}"), fullmatch=True)


@given(_LABELS)
@example("2024-01-05")
@example("0b1")
@example("yes")
@example("off")
@example("0777")
@example("1e-3")
@example("2024-1-5")
def test_label_reading_agrees_with_the_yaml_resolver(label: str) -> None:
    assume(DNS_LABEL.match(label))
    assert label_reading(label) == _reference_reading(label), label


@pytest.mark.parametrize("name", ["on\n", "staging\n", "null\n"])
def test_a_name_with_a_final_newline_is_not_a_label(name: str) -> None:
    assert not DNS_LABEL.match(name)
    with pytest.raises(ConfigError, match="is not a DNS label"):
        answers_from_mapping({"environments": [name]})


def test_a_date_as_environment_is_refused_with_a_clear_error_not_a_crash() -> None:
    """An invalid date such as 2024-13-45 still reads as a timestamp, which PyYAML's
    constructor rejects with a ValueError: the label is refused before any YAML is read."""
    with pytest.raises(ConfigError, match="would be read by YAML as a date"):
        answers_from_mapping({"environments": ["2024-13-45"]})


def test_an_answer_from_the_config_file_is_blamed_on_the_file_unless_an_option_overrode_it(
    tmp_path: Path,
) -> None:
    config = tmp_path / "answers.yaml"
    config.write_text("name: acme\nregion: EU-WEST-1\n")
    answers = read_config_file(config)
    with pytest.raises(ConfigError) as caught:
        answers_from_mapping(answers.values)
    blamed = answers.blame(caught.value, given=())
    assert str(blamed) == f"{config}:2: region: 'EU-WEST-1' is not an AWS region such as eu-west-1"
    # Given as --region too, the option is what was wrong.
    assert answers.blame(caught.value, given=("region",)) is caught.value


def test_a_config_file_answer_tagged_as_text_is_checked_as_that_text(tmp_path: Path) -> None:
    config = tmp_path / "answers.yaml"
    config.write_text("name: !!str acme\nenvironments: [!!str staging]\n")
    assert read_config_file(config).values == {"name": "acme", "environments": ("staging",)}


def test_config_file_answers(tmp_path: Path, invoke: Invoke) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "name: from-file\ngitops: flux\nenvironments: [qa]\nregion: us-east-2\n"
        "acmeEmail: ops@acme.io\n"
    )
    dest = tmp_path / "out"
    invoke(["new", str(dest), "--no-input", "--no-git", "--config-file", str(answers)])
    manifest = (dest / "meshgen.yaml").read_text()
    assert "name: from-file" in manifest
    assert "region: us-east-2" in manifest
    assert "acmeEmail: ops@acme.io" in manifest
    assert (dest / "environments" / "qa" / "first-app.yaml").is_file()


def test_options_override_the_config_file(tmp_path: Path, invoke: Invoke) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("name: from-file\ngitops: flux\n")
    dest = tmp_path / "out"
    invoke(
        [
            "new",
            str(dest),
            "--no-input",
            "--no-git",
            "--config-file",
            str(answers),
            "--gitops",
            "argocd",
        ]
    )
    assert "gitops: argocd" in (dest / "meshgen.yaml").read_text()


def test_prompts_for_answers_without_no_input(tmp_path: Path, invoke: Invoke) -> None:
    dest = tmp_path / "asked"
    # name, engine, environments (a bad one first: asked again), region, domain, e-mail,
    # repository URL, Kubernetes version
    answers = "\nflux\nDev\ndev,prod\n\nacme.io\n\n\n\n"
    result = invoke(["new", str(dest), "--no-git"], input=answers)
    assert "Error: 'Dev' is not a DNS label" in result.output
    manifest = (dest / "meshgen.yaml").read_text()
    assert "gitops: flux" in manifest
    assert "domain: acme.io" in manifest
    assert (dest / "environments" / "prod").is_dir()


def test_a_mistyped_engine_is_asked_again(tmp_path: Path, invoke: Invoke) -> None:
    dest = tmp_path / "asked"
    # name, engine (mistyped first: asked again), then the defaults
    answers = "\nfluxcd\nflux\n\n\n\n\n\n\n"
    result = invoke(["new", str(dest), "--no-git"], input=answers)
    assert "'fluxcd'" in result.output
    assert result.output.count("GitOps engine (argocd or flux)") == 2
    assert "gitops: flux" in (dest / "meshgen.yaml").read_text()


def test_a_bad_answer_in_the_config_file_stops_before_any_question(
    tmp_path: Path, invoke: Invoke
) -> None:
    config = tmp_path / "answers.yaml"
    config.write_text("gitops: fluxcd\n")
    dest = tmp_path / "asked"
    result = invoke(["new", str(dest), "--config-file", str(config)], input="\n" * 9, expect=2)
    assert "answers.yaml:1: gitops: expected one of argocd, flux, got 'fluxcd'" in result.stderr
    assert "Repository name" not in result.output
    assert not dest.exists()


def test_without_a_terminal_it_says_to_pass_no_input(tmp_path: Path, invoke: Invoke) -> None:
    dest = tmp_path / "unasked"
    result = invoke(["new", str(dest)], expect=2)
    assert "pass --no-input" in result.stderr
    assert not dest.exists()
