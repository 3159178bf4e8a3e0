"""Plain YAML files' documents, remembered across runs by the SHA-256 of their text.

The files under cluster/, platform/ and gitops/ change rarely: a canary step edits an
environment file. Parsing them is most of what a warm run reads, while JSON brings the
same documents back several times faster. An entry is keyed by the text itself and by
what parses it (meshgen's release and PyYAML's), so a changed file is another key and
no entry can be stale; only documents that JSON holds exactly are kept (no dates, no
keys that are not text), and a file that does not parse is never kept: it is parsed,
and its error reported, on every run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from meshgen import __version__, yamlio
from meshgen.helm.cached import EntryStore, json_exact

_IDENTITY = f"meshgen {__version__}; pyyaml {yaml.__version__} libyaml {yaml.__with_libyaml__}"


class ParsedDocuments:
    """`yamlio.split_documents`, remembered in `folder` (None: parsed every time)."""

    def __init__(self, folder: Path | None) -> None:
        self._store = EntryStore(folder) if folder is not None else None

    def split(self, text: str, source: str) -> list[yamlio.Document]:
        """The documents of `text`; raises ConfigError as split_documents does."""
        if self._store is None:
            return list(yamlio.split_documents(text, source))
        key = hashlib.sha256(f"{_IDENTITY}\0{text}".encode()).hexdigest()
        remembered = self._store.load(key)
        if isinstance(remembered, list):
            try:
                return [yamlio.Document(source, int(line), data) for line, data in remembered]
            except (TypeError, ValueError):
                pass  # not the shape written below: parse again
        documents = list(yamlio.split_documents(text, source))
        if all(json_exact(document.data) for document in documents):
            self._store.store(key, [[document.line, document.data] for document in documents])
        return documents
