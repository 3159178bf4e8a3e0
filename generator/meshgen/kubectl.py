"""`kubectl apply --dry-run` against an explicit context: the API server's own verdict.

meshgen starts nothing: it runs the user's kubectl with the user's kubeconfig, always
naming the context (never the current one by accident) and always with a timeout, so a
cluster that does not answer ends the run instead of hanging it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from meshgen import tools, yamlio
from meshgen.errors import ToolError
from meshgen.render import Manifest

DryRunMode = Literal["server", "client"]
DEFAULT_TIMEOUT_SECONDS = 30.0

# kubectl's wording when it never got an answer from the API server (or was refused
# before any object was judged): the run cannot say anything about the manifests.
_UNREACHABLE = (
    "unable to connect to the server",
    "connection refused",
    "no such host",
    "i/o timeout",
    "context deadline exceeded",
    "tls handshake timeout",
    "failed to download openapi",
    "couldn't get current server api group list",
    "the server has asked for the client to provide credentials",
    "unauthorized",
    "no route to host",
    "network is unreachable",
)
_MISSING_CONTEXT = re.compile(r'context "([^"]*)" does not exist')
_OBJECT_IN_MESSAGE = re.compile(r'(?P<kind>[A-Za-z]+)(?:\.[\w.-]+)? "(?P<name>[^"]+)"')


class ClusterUnreachable(ToolError):
    """The cluster behind the context did not answer, or refused us before judging."""


@dataclass(frozen=True)
class DryRunOptions:
    context: str
    mode: DryRunMode = "server"
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    kubectl: str = "kubectl"
    kubeconfig: str | None = None


@dataclass(frozen=True)
class Rejection:
    """An object the API server (or kubectl) refused; `manifest` when it could be told."""

    message: str
    manifest: Manifest | None


@dataclass(frozen=True)
class DryRunResult:
    label: str
    """`environment/app`, or "" for plain files."""
    rejections: tuple[Rejection, ...]
    manifests: tuple[Manifest, ...]


def build_command(options: DryRunOptions) -> list[str]:
    """The kubectl argument list: explicit context, request timeout, manifests on stdin."""
    seconds = max(1, round(options.timeout))
    argv = [options.kubectl]
    if options.kubeconfig:
        argv += ["--kubeconfig", options.kubeconfig]
    argv += [
        "--context",
        options.context,
        f"--request-timeout={seconds}s",
        "apply",
        f"--dry-run={options.mode}",
        "--output=name",
        "--filename=-",
    ]
    return argv


def manifest_stream(manifests: Sequence[Manifest]) -> str:
    return "".join("---\n" + yamlio.dump_manifest(dict(m.data)) for m in manifests)


def dry_run(label: str, manifests: Sequence[Manifest], options: DryRunOptions) -> DryRunResult:
    """Apply `manifests` in dry-run mode; raises ClusterUnreachable when nothing was judged."""
    argv = build_command(options)
    where = f"context {options.context!r}" + (f" ({label})" if label else "")
    try:
        result = tools.run(
            argv, timeout=options.timeout, input_text=manifest_stream(manifests), check=False
        )
    except ToolError as exc:
        if "no answer within" in str(exc):
            raise ClusterUnreachable(
                argv,
                f"the cluster of {where} did not answer within {options.timeout:g}s; "
                "check the context and your network, or raise --timeout",
            ) from None
        raise
    if result.returncode == 0:
        return DryRunResult(label, (), tuple(manifests))
    stderr = result.stderr.strip()
    missing = _MISSING_CONTEXT.search(stderr)
    if missing:
        raise ClusterUnreachable(
            argv,
            f"your kubeconfig has no context {missing[1]!r}; "
            "list them with `kubectl config get-contexts`",
            returncode=result.returncode,
        )
    lowered = stderr.lower()
    if any(marker in lowered for marker in _UNREACHABLE):
        first = " ".join(stderr.splitlines()[0].split()) if stderr else "no message"
        raise ClusterUnreachable(
            argv,
            f"could not reach the cluster of {where}: {first}",
            returncode=result.returncode,
        )
    return DryRunResult(label, parse_rejections(stderr, manifests), tuple(manifests))


def parse_rejections(stderr: str, manifests: Sequence[Manifest]) -> tuple[Rejection, ...]:
    """One Rejection per error line of kubectl, tied to the object it names when possible."""
    rejections = []
    for raw in stderr.splitlines():
        line = raw.strip()
        if not line.lower().startswith(("error", "the ")):
            continue
        rejections.append(Rejection(line, _named_object(line, manifests)))
    if not rejections and stderr:
        rejections.append(Rejection(" ".join(stderr.split()), None))
    return tuple(rejections)


def _named_object(line: str, manifests: Sequence[Manifest]) -> Manifest | None:
    for match in _OBJECT_IN_MESSAGE.finditer(line):
        kind, name = match["kind"].lower(), match["name"]
        for manifest in manifests:
            if manifest.name == name and manifest.kind.lower() == kind:
                return manifest
    return None
