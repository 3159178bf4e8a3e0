"""Credentials: MG620 finds them wherever the repository holds text; no message echoes one.

MG620's other cases are folders under tests/rules/MG620/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Invoke
from meshgen import credentials

SECRET = "hunter2-0ZQ8w4x"


@pytest.mark.parametrize(
    ("file", "added", "what"),
    [
        ("environments/staging/first-app.yaml", f"adminPassword: {SECRET}\n", "adminPassword"),
        ("environments/staging/first-app.yaml", f"apiToken: {SECRET}\n", "apiToken"),
        ("meshgen.yaml", f"awsSecretAccessKey: {SECRET}\n", "awsSecretAccessKey"),
        ("environments/staging/first-app.yaml", f"# password: {SECRET}\n", "'password'"),
        ("platform/istio/istiod.yaml", "# old key AKIAIOSFODNN7EXAMPLE\n", "AWS access key"),
        ("charts/first-app/values.yaml", f"adminPassword: {SECRET}\n", "adminPassword"),
        ("charts/first-app/templates/extra.txt", f"apiToken={SECRET}\n", "apiToken"),
        ("gitops/settings.json", f'{{\n  "apiToken": "{SECRET}"\n}}\n', "apiToken"),
    ],
    ids=[
        "camel-password",
        "camel-token",
        "camel-aws-secret",
        "yaml-comment",
        "token-in-comment",
        "chart-values",
        "chart-file",
        "json",
    ],
)
def test_credentials_are_found_in_every_text_file(
    repo_copy: Callable[[str], Path], invoke: Invoke, file: str, added: str, what: str
) -> None:
    repo = repo_copy("argocd")
    path = repo / file
    before = path.read_text() if path.exists() else ""
    path.write_text(before + added)
    line = len(path.read_text().splitlines()) - (1 if file.endswith(".json") else 0)
    for output_format in ("text", "json", "sarif"):
        result = invoke(
            ["-C", str(repo), "validate", "--select", "MG620", "--format", output_format], expect=1
        )
        assert SECRET not in result.stdout + result.stderr
        assert "AKIAIOSFODNN7EXAMPLE" not in result.stdout + result.stderr
    result = invoke(["-C", str(repo), "validate", "--select", "MG620"], expect=1)
    assert f"{file}:{line}:1: MG620 error:" in result.stdout, result.stdout
    assert what in result.stdout


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("adminPassword", True),
        ("apiToken", True),
        ("awsSecretAccessKey", True),
        ("client_secret", True),
        ("existingSecret", False),
        ("passwordSecretRef", False),
        ("secretName", False),
        ("tokenTTL", False),
    ],
)
def test_secret_keys_in_every_spelling(key: str, secret: bool) -> None:
    assert credentials.is_secret_key(key) is secret


def test_values_in_messages_are_cut_and_credentials_masked() -> None:
    assert credentials.short("staging") == "'staging'"
    long = credentials.short("x" * 100_000)
    assert long.startswith("'" + "x" * credentials.SHORT_CHARS + "'…")
    assert len(long) < 80
    assert "AKIA" not in credentials.short("AKIAIOSFODNN7EXAMPLE")
    assert "s3cr3t" not in credentials.short("https://deploy:s3cr3t@git.example.com/x")
    message = credentials.scrub(f"tag: '{'y' * 5000}' is not a int.\nmore")
    assert len(message) < 160 and "\n" not in message
    assert "y" * 101 not in message
    assert "AKIA" not in credentials.scrub("image: 'AKIAIOSFODNN7EXAMPLE' is not a int.")
    assert "AKIA" not in credentials.scrub("unquoted AKIAIOSFODNN7EXAMPLE")


def test_a_server_message_keeps_its_reason_after_a_long_double_quoted_value() -> None:
    name = "settings-" + "x" * 300
    message = credentials.scrub(
        f'The ConfigMap "{name}" is invalid: metadata.name: Invalid value: "{name}": '
        "must be no more than 253 characters"
    )
    assert message.endswith("must be no more than 253 characters")
    assert name not in message
