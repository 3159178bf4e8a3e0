"""Spotting values that look like credentials, so they never land in a repository.

The patterns are deliberately specific (known token formats, private-key blocks,
secret-named keys holding a value): a GitOps repo is read by many, and a false alarm
costs less than a leaked key, but noise would teach people to ignore the check.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen import safefs
from meshgen.errors import ConfigError

_TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key ID", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b")),
    (
        "a JSON web token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    ),
    ("credentials in a URL", re.compile(r"://[^/\s:@]+:[^/\s@]+@")),
)
# Matched against the key in snake case, so `adminPassword`, `apiToken` and
# `awsSecretAccessKey` are caught as `admin_password`, `api_token`, ...
_SECRET_KEY = re.compile(
    r"(^|[-_.])(password|passwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|"
    r"client[-_]?secret|credentials?)$",
    re.IGNORECASE,
)
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Keys whose names sound secret but that hold references, not secrets.
_REFERENCE_KEY = re.compile(
    r"(secretname|secretref|credentialname|secretkeyref|existingsecret)$", re.IGNORECASE
)


@dataclass(frozen=True)
class Suspect:
    key_path: tuple[str | int, ...]
    what: str


def credential_in_text(value: str) -> str | None:
    """What kind of credential `value` looks like, or None."""
    for what, pattern in _TOKEN_PATTERNS:
        if pattern.search(value):
            return what
    return None


def is_secret_key(key: str) -> bool:
    """Whether `key` names a secret value (`adminPassword`, `api_key`), not a reference to
    one (`existingSecret`, `passwordSecretRef`)."""
    return bool(_SECRET_KEY.search(_CAMEL_HUMP.sub("_", key))) and not _REFERENCE_KEY.search(
        key.replace("-", "").replace("_", "")
    )


def find_credentials(tree: Any) -> Iterator[Suspect]:
    """Walk a YAML tree and yield every value that looks like a credential."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), tree)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            for key, value in node.items():
                key_text = str(key)
                child_path = (*path, key_text)
                if (
                    isinstance(value, str | int)
                    and not isinstance(value, bool)
                    and str(value).strip()
                    and is_secret_key(key_text)
                ):
                    yield Suspect(child_path, f"a value under the secret-sounding key {key_text!r}")
                    continue
                stack.append((child_path, value))
        elif isinstance(node, list):
            stack.extend(((*path, index), item) for index, item in enumerate(node))
        elif isinstance(node, str):
            what = credential_in_text(node)
            if what is not None:
                yield Suspect(path, what)


# `key: value`, `key = value` or `"key": "value",` on one line of any text file
# (YAML, JSON, templates, .env, comments); the value must be given literally.
_ASSIGNMENT = re.compile(
    r"""^\s*(?:-\s+)?["']?(?P<key>[A-Za-z][\w.-]*)["']?\s*[:=]\s*(?P<value>.*?)\s*,?\s*\Z"""
)
# What a value starts with when it is a reference, a template or a YAML structure.
_NOT_LITERAL = ("{{", "${", "<", "*", "&", "|", ">", "[", "{", "!", "$(", "%")
_NOT_LITERAL_WORDS = frozenset({"", "~", "null", "none", "true", "false", '""', "''"})
# Every credential pattern and secret-sounding key contains one of these: one search a
# line (and one a file) skips the text that cannot hold a credential.
_HINT = re.compile(
    r"pass|secret|token|key|credential|AKIA|ASIA|gh[pousr]_|xox|eyJ|PRIVATE|@", re.IGNORECASE
)
# A comment: `#` at the start of a line or after a blank (not `"#fff"` nor `url#frag`).
_COMMENT = re.compile(r"(?:^|\s)#(?P<comment>.*)$")


@dataclass(frozen=True)
class TextSuspect:
    path: Path
    line: int
    what: str


def credential_in_line(line: str) -> str | None:
    """What kind of credential a line of text holds (a token, or a literal value under a
    secret-sounding key), or None."""
    what = credential_in_text(line)
    if what is not None:
        return what
    match = _ASSIGNMENT.match(line)
    if match is None or not is_secret_key(match["key"]):
        return None
    value = re.sub(r"\s+#.*$", "", match["value"]).strip()
    if value.lower() in _NOT_LITERAL_WORDS or value.startswith(_NOT_LITERAL):
        return None
    return f"a value under the secret-sounding key {match['key']!r}"


def scan_text_files(root: Path, parsed: set[Path]) -> Iterator[TextSuspect]:
    """Every text file in the repository, line by line: comments of the files in `parsed`
    (their values are checked as trees), every line of the others (charts, JSON, ...).

    Files that cannot be read (links out, devices, binaries, oversized) are skipped:
    other rules report them, and a credential cannot be read out of them here either.
    """
    resolved_parsed = {os.path.realpath(path) for path in parsed}
    for directory, subfolders, names in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if name != ".git")
        for name in sorted(names):
            path = Path(directory) / name
            try:
                text = safefs.read_text(path, root=root)
            except ConfigError:
                continue
            if _HINT.search(text) is None:
                continue
            comments_only = os.path.realpath(path) in resolved_parsed
            for number, line in enumerate(text.splitlines(), start=1):
                if _HINT.search(line) is None:
                    continue
                scanned = line
                if comments_only:
                    match = _COMMENT.search(line)
                    if match is None:
                        continue
                    scanned = match["comment"].strip()
                what = credential_in_line(scanned)
                if what is not None:
                    yield TextSuspect(path, number, what)


# Messages quote values so the user can find them, but a value can be megabytes long or
# a secret: quote a short prefix only, and never a credential.
SHORT_CHARS = 40
# A table cell holds a whole image repository, but not a pasted file.
CELL_CHARS = 200
MASK = "'***' (looks like a credential, masked)"
# Values quoted by meshgen ('x') and by the tools it runs (kubectl and the API server: "x").
_QUOTED = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")
_MAX_MESSAGE_CHARS = 500
# Quoted values in a finding may be longer than an answer echoed back (a host, a path).
MESSAGE_VALUE_CHARS = 100


def short(value: object, limit: int = SHORT_CHARS) -> str:
    """`value` quoted for a message: a credential masked, a long value cut to a prefix."""
    if not isinstance(value, str):
        value = (
            repr(value) if value is None or isinstance(value, bool | int | float) else str(value)
        )
        if len(value) <= limit and "\n" not in value:
            return value
    if credential_in_text(value) is not None:
        return MASK
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}… ({len(value)} characters)"


def shown(value: object, limit: int = CELL_CHARS) -> str:
    """`value` for a table cell: as text, a credential masked, a long value cut."""
    text = str(value)
    if credential_in_text(text) is not None:
        return "***"
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[:limit]}…"


def _shorten_quoted(match: re.Match[str]) -> str:
    if match[1] is not None:
        return short(match[1], MESSAGE_VALUE_CHARS)
    value = match[2]
    if len(value) <= MESSAGE_VALUE_CHARS:
        return match[0]
    return f'"{value[:MESSAGE_VALUE_CHARS]}…"'


def scrub(message: str) -> str:
    """`message` with its quoted values shortened, credentials masked, on one line."""
    message = _QUOTED.sub(_shorten_quoted, message)
    for _, pattern in _TOKEN_PATTERNS:
        message = pattern.sub("***", message)
    message = " ".join(message.split())
    if len(message) > _MAX_MESSAGE_CHARS:
        message = message[:_MAX_MESSAGE_CHARS] + "…"
    return message
