"""`kubectl apply --dry-run` against an explicit context: the API server's own verdict.

meshgen starts nothing: it runs the user's kubectl with the user's kubeconfig, always
naming the context (never the current one by accident) and always with a timeout, so a
cluster that does not answer ends the run instead of hanging it.

A server dry-run is a server-side apply (as Argo CD with `ServerSideApply=true` and
Flux's kustomize-controller apply), one field manager per release
(`meshgen.<environment>.<app>`): the server then also reports fields that another
manager (another release, a person's `kubectl edit`) owns with a different value.
Helm test hooks are left out: neither engine applies them at sync (`helm test` creates
them later, once the release's ServiceAccounts exist).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
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
# kubectl's wording for a kind the server does not serve (its CRD is not installed).
_UNMAPPED = re.compile(
    r'resource mapping not found for name: "(?P<name>[^"]*)".*no matches for kind "(?P<kind>[^"]+)"'
)
# How kubectl begins a line about an object it could not apply.
_REJECTION_STARTS = ("error", "the ", "resource mapping not found", "apply failed with")
_TEST_HOOKS = frozenset({"test", "test-success", "test-failure"})


class ClusterUnreachable(ToolError):
    """The cluster behind the context did not answer, or refused us before judging."""


@dataclass(frozen=True)
class DryRunOptions:
    context: str
    mode: DryRunMode = "server"
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    kubectl: str = "kubectl"
    kubeconfig: str | None = None
    field_manager: str | None = None
    """With mode "server": the server-side apply field manager; None: one per release."""


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
    ]
    if options.mode == "server":
        argv += ["--server-side", f"--field-manager={options.field_manager or 'meshgen'}"]
    argv += ["--output=name", "--filename=-"]
    return argv


def field_manager_for(label: str) -> str:
    """`meshgen.staging.first-app` for the release `staging/first-app`; `meshgen` for files."""
    return ".".join(("meshgen", *(part for part in label.split("/") if part)))


def is_test_hook(manifest: Manifest) -> bool:
    """A Helm test hook (`helm.sh/hook: test`, or Helm 2's test-success/test-failure)."""
    metadata = manifest.data.get("metadata") or {}
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    if not isinstance(annotations, Mapping):
        return False
    hooks = str(annotations.get("helm.sh/hook", ""))
    return any(hook.strip() in _TEST_HOOKS for hook in hooks.split(","))


def manifest_stream(manifests: Sequence[Manifest]) -> str:
    return "".join("---\n" + yamlio.dump_manifest(dict(m.data)) for m in manifests)


def dry_run(label: str, manifests: Sequence[Manifest], options: DryRunOptions) -> DryRunResult:
    """Apply `manifests` in dry-run mode; raises ClusterUnreachable when nothing was judged."""
    manifests = [m for m in manifests if not is_test_hook(m)]
    if options.field_manager is None:
        options = replace(options, field_manager=field_manager_for(label))
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
    rejections = parse_rejections(stderr, manifests, result.stdout.split())
    return DryRunResult(label, rejections, tuple(manifests))


def parse_rejections(
    stderr: str, manifests: Sequence[Manifest], accepted: Sequence[str] = ()
) -> tuple[Rejection, ...]:
    """One Rejection per error line of kubectl, tied to the object it concerns when possible.

    `accepted` is kubectl's `--output=name` list of the objects that passed. A
    server-side apply conflict names no object, but kubectl reports errors in stream
    order: such a line goes to the next object that was neither accepted nor named.
    """
    lines = [raw.strip() for raw in stderr.splitlines()]
    lines = [line for line in lines if line.lower().startswith(_REJECTION_STARTS)]
    named = [_named_object(line, manifests) for line in lines]
    if accepted:
        passed = {_name_key(name) for name in accepted}
        claimed = {id(manifest) for manifest in named if manifest is not None}
        unnamed = iter(
            m for m in manifests if (m.kind.lower(), m.name) not in passed and id(m) not in claimed
        )
        named = [manifest or next(unnamed, None) for manifest in named]
    rejections = [Rejection(line, manifest) for line, manifest in zip(lines, named, strict=True)]
    if not rejections and stderr:
        rejections.append(Rejection(" ".join(stderr.split()), None))
    return tuple(rejections)


def _name_key(name: str) -> tuple[str, str]:
    """`deployment.apps/first-app-v1` -> ("deployment", "first-app-v1")."""
    resource, _, object_name = name.strip().partition("/")
    return resource.split(".", 1)[0].lower(), object_name


def _named_object(line: str, manifests: Sequence[Manifest]) -> Manifest | None:
    unmapped = _UNMAPPED.search(line)
    if unmapped:
        for manifest in manifests:
            if manifest.name == unmapped["name"] and manifest.kind == unmapped["kind"]:
                return manifest
    for match in _OBJECT_IN_MESSAGE.finditer(line):
        kind, name = match["kind"].lower(), match["name"]
        for manifest in manifests:
            if manifest.name == name and manifest.kind.lower() == kind:
                return manifest
    return None
