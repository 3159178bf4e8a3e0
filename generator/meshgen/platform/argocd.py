"""What an Argo CD AppProject permits, decided the way Argo CD decides it.

Argo CD matches `sourceRepos` and `destinations` as globs (github.com/gobwas/glob):
`*` matches any run of characters (for repository URLs, none of them `/`), `**` any run,
`?` one character, `[abc]`/`[!abc]` a class, `{a,b}` alternatives. A pattern starting
with `!` denies what it matches. Repository URLs are compared normalised (lower case,
without `.git`, `git@host:path` as `host/path`). A destination matches by cluster `name`
or `server`, and by `namespace`; an Application is permitted when some entry matches and
no deny entry refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

_SCP_STYLE = re.compile(r"^(ssh://)?([^/:]*?)@[^@]+\Z")


def normalize_repo_url(url: str) -> str:
    """Argo CD's NormalizeGitURL: the form in which two URLs of one repository agree."""
    url = url.strip().lower()
    if _SCP_STYLE.match(url) and not url.startswith("ssh://"):
        url = "ssh://" + url.replace(":", "/", 1)
    url = url.removesuffix(".git")
    return url.removeprefix("ssh://")


@cache
def _compile(pattern: str, separator: str) -> re.Pattern[str]:
    not_separator = f"[^{re.escape(separator)}]" if separator else "."
    out: list[str] = []
    index = 0
    depth = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            out.append(".*")
            index += 1
        elif char in "*?":
            out.append(not_separator + ("*" if char == "*" else ""))
        elif char == "[" and "]" in pattern[index + 1 :]:
            end = pattern.index("]", index + 1)
            body = pattern[index + 1 : end].replace("\\", "\\\\")
            out.append(f"[^{body[1:]}]" if body.startswith("!") else f"[{body}]")
            index = end
        elif char in "{},":
            opened = char == "{"
            if not opened and not depth:
                out.append(re.escape(char))
            else:
                out.append({"{": "(?:", "}": ")", ",": "|"}[char])
                depth += 1 if opened else -1 if char == "}" else 0
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            out.append(re.escape(pattern[index]))
        else:
            out.append(re.escape(char))
        index += 1
    try:
        return re.compile("".join(out) + "\\Z", re.DOTALL)
    except re.error:
        # gobwas/glob refuses such a pattern, and Argo CD then matches nothing with it.
        return re.compile(r"(?!)")


def glob_match(pattern: str, value: str, separator: str = "") -> bool:
    if pattern == "*":
        return True
    return _compile(pattern, separator).match(value) is not None


def _match(pattern: str, value: str, separator: str = "") -> bool:
    """A pattern that may deny: `!p` matches whatever `p` does not."""
    if pattern.startswith("!"):
        return not glob_match(pattern[1:], value, separator)
    return glob_match(pattern, value, separator)


def source_permitted(source_repos: Sequence[str], repo_url: str) -> bool:
    wanted = normalize_repo_url(repo_url)
    matched = False
    for pattern in source_repos:
        deny = pattern.startswith("!")
        normalized = normalize_repo_url(pattern[1:] if deny else pattern)
        if _match(("!" if deny else "") + normalized, wanted, "/"):
            matched = True
        elif deny:
            return False
    return matched


@dataclass(frozen=True)
class Destination:
    name: str
    server: str
    namespace: str

    @classmethod
    def of(cls, data: Any) -> Destination:
        data = data if isinstance(data, Mapping) else {}
        return cls(*(str(data.get(key) or "") for key in ("name", "server", "namespace")))

    def __str__(self) -> str:
        cluster = f"cluster {self.name!r}" if self.name else f"server {self.server!r}"
        return f"{cluster}, namespace {self.namespace!r}"


def destination_permitted(destinations: Sequence[Destination], wanted: Destination) -> bool:
    any_matched = False
    for item in destinations:
        name_ok = bool(wanted.name) and _match(item.name, wanted.name)
        server_ok = bool(wanted.server) and _match(item.server, wanted.server)
        namespace_ok = _match(item.namespace, wanted.namespace)
        if (name_ok or server_ok) and namespace_ok:
            any_matched = True
        elif (
            (not name_ok and item.name.startswith("!"))
            or (not server_ok and item.server.startswith("!"))
            or (not namespace_ok and item.namespace.startswith("!"))
        ):
            return False
    return any_matched


_GLOB = frozenset("*?[{\\!")


class Destinations:
    """An AppProject's destinations, indexed: a literal entry is a set lookup, so checking
    every Application stays linear in their number."""

    def __init__(self, entries: Sequence[Destination]) -> None:
        self.entries = tuple(entries)
        is_literal = [not _GLOB & set(e.name + e.server + e.namespace) for e in self.entries]
        literal = [e for e, plain in zip(self.entries, is_literal, strict=True) if plain]
        self._globs = tuple(
            e for e, plain in zip(self.entries, is_literal, strict=True) if not plain
        )
        self._denies = any(
            part.startswith("!") for e in self.entries for part in (e.name, e.server, e.namespace)
        )
        self._by_name = {(e.name, e.namespace) for e in literal if e.name}
        self._by_server = {(e.server, e.namespace) for e in literal if e.server}

    def permit(self, wanted: Destination) -> bool:
        if self._denies:
            return destination_permitted(self.entries, wanted)
        if (wanted.name, wanted.namespace) in self._by_name and wanted.name:
            return True
        if (wanted.server, wanted.namespace) in self._by_server and wanted.server:
            return True
        return destination_permitted(self._globs, wanted)
