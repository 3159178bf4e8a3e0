"""Upstream charts fetched from their Helm chart repository, cached by digest.

A chart repository's `index.yaml` lists each chart version with the SHA-256 digest of its
archive. An archive is kept under the cache folder by that digest and used again only
while its bytes still hash to it: a changed index (a re-published version) or a damaged
file is downloaded again, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen.errors import MeshgenError

FETCH_TIMEOUT_SECONDS = 10
MAX_INDEX_BYTES = 32 * 1024 * 1024
MAX_CHART_BYTES = 16 * 1024 * 1024


class ChartUnavailable(MeshgenError):
    """A chart could not be fetched; the message says why."""


@dataclass(frozen=True)
class FetchedChart:
    name: str
    version: str
    digest: str
    path: Path
    """The unpacked chart folder."""


class ChartRepositories:
    """Fetches charts; each repository's index is read once per instance."""

    def __init__(self, cache_dir: Path, *, timeout: float = FETCH_TIMEOUT_SECONDS) -> None:
        self.cache_dir = cache_dir
        self.timeout = timeout
        self._indexes: dict[str, dict[str, Any] | ChartUnavailable] = {}

    def fetch(self, repository: str, name: str, version: str) -> FetchedChart:
        entry = self._entry(repository, name, version)
        digest = str(entry.get("digest") or "")
        urls = entry.get("urls") or []
        if not digest or not urls:
            raise ChartUnavailable(f"{repository}: {name} {version} has no digest or URL")
        import urllib.parse

        url = urllib.parse.urljoin(repository.rstrip("/") + "/", str(urls[0]))
        folder = self.cache_dir / f"sha256-{digest}"
        archive = self.cache_dir / f"sha256-{digest}.tgz"
        if not _hashes_to(archive, digest):
            data = self._get(url, MAX_CHART_BYTES)
            if hashlib.sha256(data).hexdigest() != digest:
                raise ChartUnavailable(f"{url}: the archive does not match its index digest")
            _write_atomic(archive, data)
            _remove_tree(folder)
        if not (folder / name / "Chart.yaml").is_file():
            _unpack(archive, folder)
        return FetchedChart(name, version, digest, folder / name)

    def _entry(self, repository: str, name: str, version: str) -> dict[str, Any]:
        index = self._indexes.get(repository)
        if index is None:
            try:
                index = self._read_index(repository)
            except ChartUnavailable as exc:
                index = exc
            self._indexes[repository] = index
        if isinstance(index, ChartUnavailable):
            raise index
        entries = (index.get("entries") or {}).get(name) or []
        wanted = version.removeprefix("v")
        for entry in entries:
            if (
                isinstance(entry, dict)
                and str(entry.get("version", "")).removeprefix("v") == wanted
            ):
                return entry
        raise ChartUnavailable(f"{repository}: no chart {name} {version} in its index")

    def _read_index(self, repository: str) -> dict[str, Any]:
        import yaml

        data = self._get(repository.rstrip("/") + "/index.yaml", MAX_INDEX_BYTES)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            index = yaml.load(data, Loader=loader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            raise ChartUnavailable(f"{repository}/index.yaml is not YAML: {exc}") from None
        if not isinstance(index, dict):
            raise ChartUnavailable(f"{repository}/index.yaml is not a chart repository index")
        return index

    def _get(self, url: str, limit: int) -> bytes:
        # urllib pulls in http.client, ssl and email; only a diff that renders needs it.
        import urllib.error
        import urllib.request

        if not url.startswith(("https://", "http://")):
            raise ChartUnavailable(f"{url}: only http(s) chart repositories are fetched")
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310 - http(s) only, checked above
                data = bytes(response.read(limit + 1))
        except urllib.error.HTTPError as exc:
            raise ChartUnavailable(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ChartUnavailable(f"{url}: {reason}") from None
        if len(data) > limit:
            raise ChartUnavailable(f"{url}: larger than {limit} bytes")
        return data


def _hashes_to(path: Path, digest: str) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == digest
    except OSError:
        return False


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(name).replace(path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _unpack(archive: Path, folder: Path) -> None:
    """Unpack into a scratch folder, then rename: a reader never sees half a chart."""
    if not hasattr(tarfile, "data_filter"):
        raise ChartUnavailable("unpacking charts safely needs Python 3.11.4 or later")
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".unpack-"))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            # The `data` filter refuses links out, absolute paths and device files.
            tar.extractall(scratch, filter="data")
        _remove_tree(folder)
        scratch.replace(folder)
    except (tarfile.TarError, OSError) as exc:
        _remove_tree(scratch)
        raise ChartUnavailable(f"{archive.name}: cannot unpack: {exc}") from None
