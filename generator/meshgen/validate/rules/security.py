"""Workload security: the Kubernetes "restricted" Pod Security Standard, and credentials.

The PSS checks follow https://kubernetes.io/docs/concepts/security/pod-security-standards/
(baseline and restricted controls), applied to the pod template of every workload kind,
rendered or static. Each control is its own rule so that a team can see, select or
ignore exactly one. What admission adds later (Istio's injected sidecar) is not in the
manifests and therefore not judged pod by pod; MG613 judges it per namespace, from the
Pod Security level the namespace enforces and how istiod is configured to inject.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from meshgen import yamlio
from meshgen.credentials import find_credentials, scan_text_files
from meshgen.errors import ConfigError
from meshgen.render import Manifest
from meshgen.validate.context import STDIN_NAME, ValidationContext
from meshgen.validate.model import Problem, Severity, rule
from meshgen.validate.rules.platform import ISTIOD_VALUES, mesh_uses_istio_cni

_POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_RESTRICTED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
_SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
_ALLOWED_SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)


@dataclass(frozen=True)
class Workload:
    environment: str
    manifest: Manifest
    pod: Mapping[str, Any]

    @property
    def containers(self) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        for key in _CONTAINER_LISTS:
            items = self.pod.get(key) or []
            if isinstance(items, list):
                found.extend(item for item in items if isinstance(item, Mapping))
        return found

    @property
    def pod_security(self) -> Mapping[str, Any]:
        context = self.pod.get("securityContext")
        return context if isinstance(context, Mapping) else {}

    def problem(self, ctx: ValidationContext, message: str) -> Problem:
        label = f"[{self.environment}] " if self.environment else ""
        return Problem(
            f"{label}{self.manifest.ref}: {message}",
            ctx.location(self.manifest.source, self.manifest.line),
        )


def _container_security(container: Mapping[str, Any]) -> Mapping[str, Any]:
    context = container.get("securityContext")
    return context if isinstance(context, Mapping) else {}


def _dig(data: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any] | None:
    node: Any = data
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node if isinstance(node, Mapping) else None


def workloads(ctx: ValidationContext) -> Iterator[Workload]:
    for environment, manifest in ctx.all_objects:
        path = _POD_TEMPLATE_PATHS.get(manifest.kind)
        if path is None:
            continue
        pod = _dig(manifest.data, path)
        if pod is not None:
            yield Workload(environment, manifest, pod)


def _name(container: Mapping[str, Any]) -> str:
    return str(container.get("name", "?"))


@rule("MG601", "pss-host-namespaces", Severity.ERROR)
def host_namespaces(ctx: ValidationContext) -> Iterator[Problem]:
    """A pod shares the node's network, PID or IPC namespace (baseline PSS).

    Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false).
    """
    for workload in workloads(ctx):
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if workload.pod.get(key) is True:
                yield workload.problem(ctx, f"{key}: true is not allowed; remove it")


@rule("MG602", "pss-privileged", Severity.ERROR)
def privileged(ctx: ValidationContext) -> Iterator[Problem]:
    """A container runs privileged (baseline PSS).

    Remove `securityContext.privileged: true`; grant a specific capability if one is needed.
    """
    for workload in workloads(ctx):
        for container in workload.containers:
            if _container_security(container).get("privileged") is True:
                yield workload.problem(
                    ctx, f"container {_name(container)}: privileged: true is not allowed"
                )


@rule("MG603", "pss-capabilities", Severity.ERROR)
def capabilities(ctx: ValidationContext) -> Iterator[Problem]:
    """A container does not drop ALL capabilities, or adds one other than NET_BIND_SERVICE.

    Set `securityContext.capabilities: {drop: [ALL]}` on every container, adding back at
    most NET_BIND_SERVICE.
    """
    for workload in workloads(ctx):
        for container in workload.containers:
            caps = _container_security(container).get("capabilities")
            caps = caps if isinstance(caps, Mapping) else {}
            dropped = caps.get("drop") or []
            if "ALL" not in dropped:
                yield workload.problem(
                    ctx, f"container {_name(container)}: capabilities.drop must include ALL"
                )
            for added in caps.get("add") or []:
                if added != "NET_BIND_SERVICE":
                    yield workload.problem(
                        ctx, f"container {_name(container)}: capability {added} may not be added"
                    )


@rule("MG604", "pss-volume-types", Severity.ERROR)
def volume_types(ctx: ValidationContext) -> Iterator[Problem]:
    """A pod mounts a volume type the restricted profile forbids (hostPath among them).

    Use configMap, secret, emptyDir, projected, downwardAPI, persistentVolumeClaim, csi or
    ephemeral volumes.
    """
    for workload in workloads(ctx):
        for volume in workload.pod.get("volumes") or []:
            if not isinstance(volume, Mapping):
                continue
            kinds = [key for key in volume if key != "name"]
            for kind in kinds:
                if kind not in _RESTRICTED_VOLUME_TYPES:
                    yield workload.problem(
                        ctx, f"volume {volume.get('name', '?')}: type {kind} is not allowed"
                    )


@rule("MG605", "pss-host-ports", Severity.ERROR)
def host_ports(ctx: ValidationContext) -> Iterator[Problem]:
    """A container binds a port on the node (hostPort; baseline PSS).

    Remove hostPort; expose the port through a Service instead.
    """
    for workload in workloads(ctx):
        for container in workload.containers:
            for port in container.get("ports") or []:
                if isinstance(port, Mapping) and port.get("hostPort"):
                    yield workload.problem(
                        ctx,
                        f"container {_name(container)}: hostPort {port['hostPort']} is not allowed",
                    )


@rule("MG606", "pss-privilege-escalation", Severity.ERROR)
def privilege_escalation(ctx: ValidationContext) -> Iterator[Problem]:
    """A container does not set allowPrivilegeEscalation: false (restricted PSS).

    Add `securityContext.allowPrivilegeEscalation: false` to every container.
    """
    for workload in workloads(ctx):
        for container in workload.containers:
            if _container_security(container).get("allowPrivilegeEscalation") is not False:
                yield workload.problem(
                    ctx,
                    f"container {_name(container)}: "
                    "set securityContext.allowPrivilegeEscalation: false",
                )


@rule("MG607", "pss-run-as-non-root", Severity.ERROR)
def run_as_non_root(ctx: ValidationContext) -> Iterator[Problem]:
    """A container may run as root: runAsNonRoot is not true, or runAsUser is 0 (restricted PSS).

    Set `runAsNonRoot: true` in the pod's securityContext (and a non-zero runAsUser where
    the image's user is root).
    """
    for workload in workloads(ctx):
        pod_level = workload.pod_security
        if pod_level.get("runAsUser") == 0:
            yield workload.problem(ctx, "pod securityContext.runAsUser: 0 is not allowed")
        for container in workload.containers:
            security = _container_security(container)
            non_root = security.get("runAsNonRoot", pod_level.get("runAsNonRoot"))
            if non_root is not True:
                yield workload.problem(ctx, f"container {_name(container)}: set runAsNonRoot: true")
            if security.get("runAsUser") == 0:
                yield workload.problem(
                    ctx, f"container {_name(container)}: runAsUser: 0 is not allowed"
                )


@rule("MG608", "pss-seccomp", Severity.ERROR)
def seccomp(ctx: ValidationContext) -> Iterator[Problem]:
    """A container has no seccomp profile of type RuntimeDefault or Localhost (restricted PSS).

    Set `securityContext.seccompProfile: {type: RuntimeDefault}` on the pod.
    """
    for workload in workloads(ctx):
        pod_profile = workload.pod_security.get("seccompProfile")
        pod_type = pod_profile.get("type") if isinstance(pod_profile, Mapping) else None
        for container in workload.containers:
            profile = _container_security(container).get("seccompProfile")
            kind = profile.get("type") if isinstance(profile, Mapping) else pod_type
            if kind not in ("RuntimeDefault", "Localhost"):
                shown = kind or "unset"
                yield workload.problem(
                    ctx,
                    f"container {_name(container)}: "
                    f"seccompProfile.type is {shown}, use RuntimeDefault",
                )


@rule("MG609", "pss-apparmor", Severity.ERROR)
def apparmor(ctx: ValidationContext) -> Iterator[Problem]:
    """A pod or container disables AppArmor (profile Unconfined; baseline PSS).

    Remove the Unconfined AppArmor profile (annotation or securityContext.appArmorProfile).
    """
    for workload in workloads(ctx):
        template_meta = _dig(
            workload.manifest.data, (*_POD_TEMPLATE_PATHS[workload.manifest.kind][:-1], "metadata")
        )
        annotations = (template_meta or {}).get("annotations") or {}
        for key, value in annotations.items() if isinstance(annotations, Mapping) else ():
            if (
                str(key).startswith("container.apparmor.security.beta.kubernetes.io/")
                and value == "unconfined"
            ):
                yield workload.problem(ctx, f"annotation {key}: unconfined is not allowed")
        contexts = [("pod", workload.pod_security)] + [
            (f"container {_name(c)}", _container_security(c)) for c in workload.containers
        ]
        for where, security in contexts:
            profile = security.get("appArmorProfile")
            if isinstance(profile, Mapping) and profile.get("type") == "Unconfined":
                yield workload.problem(ctx, f"{where}: appArmorProfile Unconfined is not allowed")


@rule("MG610", "pss-selinux", Severity.ERROR)
def selinux(ctx: ValidationContext) -> Iterator[Problem]:
    """A pod or container sets a custom SELinux user, role or a non-container type (baseline PSS).

    Remove seLinuxOptions.user and .role; use type container_t (or leave it unset).
    """
    for workload in workloads(ctx):
        contexts = [("pod", workload.pod_security)] + [
            (f"container {_name(c)}", _container_security(c)) for c in workload.containers
        ]
        for where, security in contexts:
            options = security.get("seLinuxOptions")
            if not isinstance(options, Mapping):
                continue
            if options.get("user") or options.get("role"):
                yield workload.problem(ctx, f"{where}: seLinuxOptions.user/role may not be set")
            if str(options.get("type") or "") not in _ALLOWED_SELINUX_TYPES:
                yield workload.problem(
                    ctx, f"{where}: seLinuxOptions.type {options.get('type')} is not allowed"
                )


@rule("MG611", "pss-proc-mount", Severity.ERROR)
def proc_mount(ctx: ValidationContext) -> Iterator[Problem]:
    """A container unmasks /proc (procMount other than Default; baseline PSS).

    Remove securityContext.procMount.
    """
    for workload in workloads(ctx):
        for container in workload.containers:
            mount = _container_security(container).get("procMount")
            if mount not in (None, "Default"):
                yield workload.problem(
                    ctx, f"container {_name(container)}: procMount {mount} is not allowed"
                )


@rule("MG612", "pss-sysctls", Severity.ERROR)
def sysctls(ctx: ValidationContext) -> Iterator[Problem]:
    """A pod sets a sysctl outside the safe set (baseline PSS).

    Remove the sysctl, or run the workload in a namespace with a less strict policy.
    """
    for workload in workloads(ctx):
        for entry in workload.pod_security.get("sysctls") or []:
            if isinstance(entry, Mapping) and entry.get("name") not in _SAFE_SYSCTLS:
                yield workload.problem(ctx, f"sysctl {entry.get('name')} is not in the safe set")


_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
# Pod Security levels that forbid the NET_ADMIN and NET_RAW capabilities istio-init adds.
_LEVELS_WITHOUT_NET_ADMIN = frozenset({"baseline", "restricted"})


def _sidecar_injection_on(labels: Mapping[str, Any]) -> bool:
    # Istio's injector reads `istio-injection` first; `disabled` wins over a revision label.
    injection = labels.get("istio-injection")
    if injection is not None:
        return bool(injection == "enabled")
    return bool(labels.get("istio.io/rev"))


@rule("MG613", "pss-istio-init-rejected", Severity.ERROR)
def istio_init_rejected(ctx: ValidationContext) -> Iterator[Problem]:
    """An injected namespace enforces `baseline` or `restricted` while istiod injects istio-init.

    Without the Istio CNI node agent, istiod adds to every injected pod an `istio-init`
    container that needs NET_ADMIN and NET_RAW, which both levels forbid: admission rejects
    the pods. Install Istio CNI (chart `cni` as release `istio-cni`, and `cni.enabled: true`
    in platform/istio/istiod.values.yaml), or enforce `privileged` on the namespace
    (`namespace.podSecurityEnforce: privileged` in the environment file).
    """
    if mesh_uses_istio_cni(ctx) is not False:
        return
    for environment, manifest in ctx.all_objects:
        if manifest.kind != "Namespace" or manifest.api_version != "v1":
            continue
        metadata = manifest.data.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
        if not isinstance(labels, Mapping) or not _sidecar_injection_on(labels):
            continue
        level = labels.get(_ENFORCE_LABEL)
        if level not in _LEVELS_WITHOUT_NET_ADMIN:
            continue
        label = f"[{environment}] " if environment else ""
        yield Problem(
            f"{label}{manifest.ref}: enforces Pod Security {level!r} with sidecar injection on, "
            f"but cni.enabled is not true in {ISTIOD_VALUES}: istio-init needs NET_ADMIN, "
            "so pods will be rejected",
            ctx.location(manifest.source, manifest.line),
        )


@rule("MG620", "credential-in-repo", Severity.ERROR)
def credential_in_repo(ctx: ValidationContext) -> Iterator[Problem]:
    """A file in the repository holds what looks like a credential.

    Every text file in the repository is scanned: the values of meshgen.yaml, the
    environment files and the YAML under cluster/, platform/ and gitops/, and every
    line of the rest (charts/, JSON, comments). Remove it (and
    rotate it: git history keeps it); reference a Kubernetes Secret, an External
    Secrets / Sealed Secrets object or a cloud secret store instead.
    """
    trees: list[tuple[Any, Any]] = [(ref.file.path, ref.file.data) for ref in ctx.overlays]
    trees.append((ctx.manifest.path, ctx.manifest.data))
    for path, tree in trees:
        if tree is None:
            continue
        for suspect in find_credentials(tree):
            line = yamlio.line_of_path(tree, suspect.key_path)
            yield Problem(
                f"{_dotted(suspect.key_path)}: looks like {suspect.what}; keep secrets out of git",
                ctx.location(path, line),
            )
    parsed = {path for path, _ in trees} | {file.path for file in ctx.static_files}
    for found in [] if ctx.files_mode else scan_text_files(ctx.root, parsed):
        yield Problem(
            f"looks like {found.what}; keep secrets out of git",
            ctx.location(found.path, found.line),
        )
    for file in ctx.static_files:
        lines = _KeyLines(file.path)
        for manifest in file.objects:
            for suspect in find_credentials(manifest.data):
                yield Problem(
                    f"{manifest.ref}: {_dotted(suspect.key_path)}: looks like {suspect.what}; "
                    "keep secrets out of git",
                    ctx.location(file.path, lines.line(manifest.line, suspect.key_path)),
                )
        for document in file.documents:
            for suspect in find_credentials(document.data):
                yield Problem(
                    f"{_dotted(suspect.key_path)}: looks like {suspect.what}; "
                    "keep secrets out of git",
                    ctx.location(file.path, lines.line(document.line, suspect.key_path)),
                )


def _dotted(key_path: tuple[str | int, ...]) -> str:
    return ".".join(map(str, key_path))


class _KeyLines:
    """Lines of keys in a static file, found only when a credential was found in it.

    Static files are parsed without line numbers (fast, and nearly always clean), so the
    document holding a suspect is composed again, from its first line, to point at the key.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._text: str | None = None

    def line(self, first_line: int, key_path: tuple[str | int, ...]) -> int:
        text = self._read()
        if text is None:
            return first_line
        rest = "".join(text.splitlines(keepends=True)[first_line - 1 :])
        try:
            node = next(yaml.compose_all(rest, Loader=yaml.SafeLoader), None)
        except (yaml.YAMLError, RecursionError):
            return first_line
        line = first_line
        for part in key_path:
            found = _child(node, part)
            if found is None:
                break
            key_node, node = found
            line = first_line + key_node.start_mark.line
        return line

    def _read(self) -> str | None:
        if self._text is None and self.path != Path(STDIN_NAME):
            try:
                self._text = yamlio.read_text(self.path)
            except ConfigError:
                return None
        return self._text


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(the node to point at, the node to descend into) for one step of a key path."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item, item
    return None
