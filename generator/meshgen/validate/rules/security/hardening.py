"""Restricted PSS hardening: volumes, seccomp, AppArmor, SELinux, procMount, sysctls."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.workloads import container_name, container_security, workloads
from meshgen.validate.findings import Problem, Severity, rule

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


@rule("MG608", "pss-seccomp", Severity.ERROR)
def seccomp(ctx: ValidationContext) -> Iterator[Problem]:
    """A container has no seccomp profile of type RuntimeDefault or Localhost (restricted PSS).

    Set `securityContext.seccompProfile: {type: RuntimeDefault}` on the pod.
    """
    for workload in workloads(ctx):
        pod_profile = workload.pod_security.get("seccompProfile")
        pod_type = pod_profile.get("type") if isinstance(pod_profile, Mapping) else None
        for container in workload.containers:
            profile = container_security(container).get("seccompProfile")
            kind = profile.get("type") if isinstance(profile, Mapping) else pod_type
            if kind not in ("RuntimeDefault", "Localhost"):
                shown = kind or "unset"
                yield workload.problem(
                    ctx,
                    f"container {container_name(container)}: "
                    f"seccompProfile.type is {shown}, use RuntimeDefault",
                )


@rule("MG609", "pss-apparmor", Severity.ERROR)
def apparmor(ctx: ValidationContext) -> Iterator[Problem]:
    """A pod or container disables AppArmor (profile Unconfined; baseline PSS).

    Remove the Unconfined AppArmor profile (annotation or securityContext.appArmorProfile).
    """
    for workload in workloads(ctx):
        annotations = workload.template_metadata.get("annotations") or {}
        for key, value in annotations.items() if isinstance(annotations, Mapping) else ():
            if (
                str(key).startswith("container.apparmor.security.beta.kubernetes.io/")
                and value == "unconfined"
            ):
                yield workload.problem(ctx, f"annotation {key}: unconfined is not allowed")
        contexts = [("pod", workload.pod_security)] + [
            (f"container {container_name(c)}", container_security(c)) for c in workload.containers
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
            (f"container {container_name(c)}", container_security(c)) for c in workload.containers
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
            mount = container_security(container).get("procMount")
            if mount not in (None, "Default"):
                yield workload.problem(
                    ctx, f"container {container_name(container)}: procMount {mount} is not allowed"
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
