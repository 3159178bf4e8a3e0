"""A Helm backend that remembers renders and lints across runs, keyed by their content.

The key of an entry is the SHA-256 of everything the result depends on: the bytes of
every file of the chart, the values, the release name, namespace and Kubernetes version,
which Helm (SDK version, or binary path, size and modification time) and which meshgen.
A changed input is a different key, so an entry can never be stale; an entry whose
payload does not hash to the checksum stored with it is ignored and written again. A
render or lint that fails is not remembered.

The folder is bounded: once a command has written to it, entries beyond MAX_CACHE_BYTES
are removed least recently used first (a hit refreshes an entry's modification time),
down to three quarters of the bound, so that pruning is rare.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from meshgen.helm.base import HelmBackend, LintMessage, RenderedTemplate, check_chart
from meshgen.severity import Severity

_FORMAT = 2
# About 40 kB an environment's render: some three thousand renders, the history of many
# canary steps of a large repository.
MAX_CACHE_BYTES = 128 * 1024 * 1024
# Temporary files of a write that never finished (a killed run) are removed after this.
_STALE_TEMPORARY_SECONDS = 3600


class CachedHelm:
    """Wraps `inner`; results live in `cache_dir` as one small JSON file per key."""

    def __init__(
        self,
        inner: HelmBackend,
        cache_dir: Path,
        identity: str,
        max_bytes: int = MAX_CACHE_BYTES,
    ) -> None:
        self.inner = inner
        self.cache_dir = cache_dir
        self.identity = identity
        self.entries = EntryStore(cache_dir, max_bytes)
        self._chart_digests: dict[Path, str] = {}
        self._lock = threading.Lock()

    def describe(self) -> str:
        return self.inner.describe()

    def render(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        release: str,
        namespace: str,
        kube_version: str,
    ) -> list[RenderedTemplate]:
        key = self._key("render", chart, values, release, namespace, kube_version)
        cached = self._load(key)
        if isinstance(cached, list):
            try:
                return [
                    RenderedTemplate(
                        str(i["source"]),
                        str(i["text"]),
                        None if i["parsed"] is None else tuple((n, d) for n, d in i["parsed"]),
                    )
                    for i in cached
                ]
            except (KeyError, TypeError, ValueError):
                pass
        result = self.inner.render(
            chart, values, release=release, namespace=namespace, kube_version=kube_version
        )
        parsed = [_parsed(t.text) for t in result]
        self._store(
            key,
            [
                {"source": t.source, "text": t.text, "parsed": p}
                for t, p in zip(result, parsed, strict=True)
            ],
        )
        # Parsed once here, not again by the caller.
        return [
            RenderedTemplate(t.source, t.text, None if p is None else tuple((n, d) for n, d in p))
            for t, p in zip(result, parsed, strict=True)
        ]

    def lint(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        namespace: str,
        kube_version: str,
    ) -> list[LintMessage]:
        key = self._key("lint", chart, values, "", namespace, kube_version)
        cached = self._load(key)
        if isinstance(cached, list):
            try:
                return [
                    LintMessage(Severity(i["severity"]), str(i["path"]), str(i["message"]))
                    for i in cached
                ]
            except (KeyError, TypeError, ValueError):
                pass
        result = self.inner.lint(chart, values, namespace=namespace, kube_version=kube_version)
        self._store(
            key,
            [{"severity": m.severity.value, "path": m.path, "message": m.message} for m in result],
        )
        return result

    def _key(self, *parts: Any) -> str:
        action, chart, values, release, namespace, kube_version = parts
        material = json.dumps(
            [
                _FORMAT,
                self.identity,
                action,
                self._chart_digest(chart),
                values,
                release,
                namespace,
                kube_version,
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def _chart_digest(self, chart: Path) -> str:
        """SHA-256 over every file of the chart (relative path and bytes), once per run.

        The chart is checked first as every backend checks it (links out of the
        repository, devices, oversized files): a remembered render must not let through
        a chart its backend would refuse now.
        """
        key = chart.resolve()
        with self._lock:
            known = self._chart_digests.get(key)
            if known is None:
                check_chart(chart)
                digest = hashlib.sha256()
                for path in sorted(p for p in key.rglob("*") if p.is_file()):
                    digest.update(path.relative_to(key).as_posix().encode() + b"\0")
                    digest.update(hashlib.sha256(path.read_bytes()).digest())
                known = self._chart_digests[key] = digest.hexdigest()
            return known

    def _load(self, key: str) -> Any:
        return self.entries.load(key)

    def _store(self, key: str, payload: Any) -> None:
        self.entries.store(key, payload)


class EntryStore:
    """JSON entries in a folder, one file per key, each with the checksum of its payload;
    bounded (see prune) once this store has written to it."""

    def __init__(self, folder: Path, max_bytes: int = MAX_CACHE_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._pruned = False

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def load(self, key: str) -> Any:
        """The payload stored under `key`, or None (absent, unreadable or damaged)."""
        path = self._path(key)
        try:
            entry = json.loads(path.read_text("utf-8"))
            payload = entry["payload"]
            if entry["key"] != key or entry["sha256"] != _checksum(payload):
                return None
            # Used now: the last to be pruned (access times are often not kept).
            os.utime(path)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return payload

    def store(self, key: str, payload: Any) -> None:
        path = self._path(key)
        entry = {"key": key, "sha256": _checksum(payload), "payload": payload}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(entry, out)
            Path(name).replace(path)
        except OSError:
            return  # a read-only or full cache only costs the work next time
        with self._lock:
            if self._pruned:
                return
            self._pruned = True
        prune(self.folder, self.max_bytes)


def prune(cache_dir: Path, max_bytes: int) -> None:
    """Remove the least recently used entries while the folder holds more than
    `max_bytes`, down to three quarters of it; and temporary files a killed run left.

    Another meshgen may be reading or pruning at the same time: an entry that vanishes
    is a miss for its reader, and a file already gone is skipped.
    """
    entries = _entries(cache_dir)
    total = sum(size for _, size, _ in entries)
    if total <= max_bytes:
        return
    target = max_bytes * 3 // 4
    for _, size, path in sorted(entries):
        if total <= target:
            break
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            return  # not ours to remove (permissions): leave the rest as it is
        total -= size


def _entries(cache_dir: Path) -> list[tuple[float, int, Path]]:
    """(modification time, size, path) of every entry; stale temporary files removed."""
    import time

    stale_before = time.time() - _STALE_TEMPORARY_SECONDS
    found: list[tuple[float, int, Path]] = []
    try:
        folders = [f.path for f in os.scandir(cache_dir) if f.is_dir(follow_symlinks=False)]
    except OSError:
        return found
    for folder in folders:
        try:
            items = list(os.scandir(folder))
        except OSError:
            continue
        for item in items:
            try:
                info = item.stat(follow_symlinks=False)
            except OSError:
                continue
            if item.name.startswith(".tmp-") and info.st_mtime < stale_before:
                Path(item.path).unlink(missing_ok=True)
            elif item.name.endswith(".json"):
                found.append((info.st_mtime, info.st_size, Path(item.path)))
    return found


def _parsed(text: str) -> list[list[Any]] | None:
    """The text's documents as [line, data], when JSON holds them exactly; else None (the
    text is parsed on every use, and a parse error is reported then)."""
    from meshgen import yamlio
    from meshgen.errors import ConfigError

    try:
        documents = [[d.line, d.data] for d in yamlio.split_documents(text, "template")]
    except ConfigError:
        return None
    return documents if all(json_exact(data) for _, data in documents) else None


def json_exact(value: Any) -> bool:
    """Whether JSON gives `value` back unchanged (no dates, no non-text keys)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and json_exact(v) for k, v in value.items())
    if isinstance(value, list):
        return all(json_exact(item) for item in value)
    return value is None or isinstance(value, str | bool | int | float)


def _checksum(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def backend_identity(backend: HelmBackend) -> str | None:
    """What distinguishes this Helm's output from another's, without loading it; None
    for a backend whose identity cannot be told cheaply (it is then not cached)."""
    from meshgen import __version__

    name = type(backend).__name__
    if name == "EmbeddedHelm":
        from meshgen.resources import installed_version

        sdk = installed_version("helm-python-sdk", "helm_python")
        return f"meshgen {__version__}; helm-python-sdk {sdk}" if sdk is not None else None
    binary = getattr(backend, "executable", None)
    if isinstance(binary, Path):
        try:
            stat = binary.stat()
        except OSError:
            return None
        return f"meshgen {__version__}; {binary} {stat.st_size} {stat.st_mtime_ns}"
    return None


def cached(backend: HelmBackend, cache_dir: Path) -> HelmBackend:
    """`backend` with a cross-run cache of renders and lints in `cache_dir`."""
    identity = backend_identity(backend)
    if identity is None:
        return backend
    return CachedHelm(backend, cache_dir, identity)
