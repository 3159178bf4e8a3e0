"""Helm render backends behind one interface: the embedded SDK (default) or a binary."""

from __future__ import annotations

from meshgen.helm.base import HelmBackend, LintMessage, RenderedTemplate
from meshgen.helm.select import ENV_HELM_BINARY, select_backend

__all__ = ["ENV_HELM_BINARY", "HelmBackend", "LintMessage", "RenderedTemplate", "select_backend"]
