"""Spotting values that look like credentials, so they never land in a repository.

The patterns are deliberately specific (known token formats, private-key blocks,
secret-named keys holding a value): a GitOps repo is read by many, and a false alarm
costs less than a leaked key, but noise would teach people to ignore the check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

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
_SECRET_KEY = re.compile(
    r"(^|[-_.])(password|passwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|"
    r"client[-_]?secret|credentials?)$",
    re.IGNORECASE,
)
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
                    and _SECRET_KEY.search(key_text)
                    and not _REFERENCE_KEY.search(key_text.replace("-", "").replace("_", ""))
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


# Messages quote values so the user can find them, but a value can be megabytes long or
# a secret: quote a short prefix only, and never a credential.
SHORT_CHARS = 40
MASK = "'***' (looks like a credential, masked)"
_QUOTED = re.compile(r"'([^'\n]*)'")
_MAX_MESSAGE_CHARS = 400


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


def scrub(message: str) -> str:
    """`message` with its quoted values shortened, credentials masked, on one line."""
    message = _QUOTED.sub(lambda match: short(match[1]), message)
    for _, pattern in _TOKEN_PATTERNS:
        message = pattern.sub("***", message)
    message = " ".join(message.split())
    if len(message) > _MAX_MESSAGE_CHARS:
        message = message[:_MAX_MESSAGE_CHARS] + "…"
    return message
