"""Mesh analyzers across objects, in the spirit of `istioctl analyze`, fully offline.

Each rule looks at one World at a time (the objects one environment's cluster gets), so
a reference is only satisfied by an object that cluster would really hold.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from meshgen.render import Manifest
from meshgen.traffic.weights import weight_problems
from meshgen.validate.context import ValidationContext
from meshgen.validate.mesh import (
    INJECTION_LABEL,
    REVISION_LABEL,
    World,
    host_matches,
    labels_of,
    route_destinations,
    selects,
    spec,
    str_map,
)
from meshgen.validate.model import Problem, Severity, rule


def _at(ctx: ValidationContext, world: World, manifest: Manifest, message: str) -> Problem:
    return Problem(
        f"{world.label(manifest)}{manifest.ref}: {message}",
        ctx.location(manifest.source, manifest.line),
    )


@rule("MG401", "subset-not-found", Severity.ERROR, istio_code="IST0101")
def subset_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService routes to a subset that no DestinationRule for that host defines.

    Add the subset to the host's DestinationRule (one subset per version), or route to a
    subset that exists; requests to a missing subset fail with 503.
    """
    for world in ctx.worlds:
        subsets: dict[str, set[str]] = {}
        for rule_object in world.istio("DestinationRule"):
            host = str(spec(rule_object).get("host", ""))
            fqdn = world.fqdn(host, world.namespace_of(rule_object))
            names = subsets.setdefault(fqdn, set())
            for subset in spec(rule_object).get("subsets") or []:
                if isinstance(subset, Mapping) and subset.get("name"):
                    names.add(str(subset["name"]))
        for service in world.istio("VirtualService"):
            namespace = world.namespace_of(service)
            for _, route in route_destinations(service):
                for entry in route:
                    destination = entry.get("destination")
                    if not isinstance(destination, Mapping) or not destination.get("subset"):
                        continue
                    host = str(destination.get("host", ""))
                    subset = str(destination["subset"])
                    fqdn = world.fqdn(host, namespace)
                    if fqdn not in subsets:
                        yield _at(
                            ctx,
                            world,
                            service,
                            f"routes to subset {subset!r} of {host}, but no DestinationRule "
                            f"has host {host}",
                        )
                    elif subset not in subsets[fqdn]:
                        known = ", ".join(sorted(subsets[fqdn])) or "none"
                        yield _at(
                            ctx,
                            world,
                            service,
                            f"routes to subset {subset!r} of {host}, which its DestinationRule "
                            f"does not define (subsets: {known})",
                        )


@rule("MG402", "subset-selects-no-pods", Severity.ERROR, istio_code="IST0173")
def subset_selects_no_pods(ctx: ValidationContext) -> Iterator[Problem]:
    """A DestinationRule subset's labels select no pod template behind the host's Service.

    Make the subset's labels match the pod template labels of one of the host's
    workloads (e.g. `version: v2`), deploy that version, or remove the subset.
    """
    for world in ctx.worlds:
        workloads = world.workloads()
        for rule_object in world.istio("DestinationRule"):
            host = str(spec(rule_object).get("host", ""))
            resolved = world.resolve_service(host, world.namespace_of(rule_object))
            if resolved is None:
                continue
            service = world.service(*resolved)
            if service is None:
                continue
            selector = str_map(spec(service).get("selector"))
            if not selector:
                continue
            behind = [
                w.pod_labels
                for w in workloads
                if w.namespace == resolved[1] and selects(selector, w.pod_labels)
            ]
            for subset in spec(rule_object).get("subsets") or []:
                if not isinstance(subset, Mapping):
                    continue
                wanted = str_map(subset.get("labels"))
                if not any(selects(wanted, labels) for labels in behind):
                    shown = ", ".join(f"{k}={v}" for k, v in wanted.items()) or "no labels"
                    yield _at(
                        ctx,
                        world,
                        rule_object,
                        f"subset {subset.get('name')!r} ({shown}) selects no pod template "
                        f"of Service {resolved[1]}/{resolved[0]}",
                    )


@rule("MG403", "host-not-found", Severity.ERROR, istio_code="IST0101")
def host_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService or DestinationRule names a cluster host that no Service provides.

    Use the Service's name (`first-app`) or its full name
    (`first-app.staging.svc.cluster.local`), or create the Service (or a ServiceEntry
    for an external host).
    """
    for world in ctx.worlds:
        entries = world.service_entry_hosts()

        def missing(
            host: str,
            namespace: str,
            *,
            external_ok: bool,
            w: World = world,
            known: set[str] = entries,
        ) -> bool:
            if "*" in host or not host or any(host_matches(e, host) for e in known):
                return False
            resolved = w.resolve_service(host, namespace)
            if resolved is None:
                return not external_ok
            return w.service(*resolved) is None

        for rule_object in world.istio("DestinationRule"):
            host = str(spec(rule_object).get("host", ""))
            if missing(host, world.namespace_of(rule_object), external_ok=False):
                yield _at(ctx, world, rule_object, f"host {host} names no Service")
        for service in world.istio("VirtualService"):
            namespace = world.namespace_of(service)
            reported: set[str] = set()
            for host in spec(service).get("hosts") or []:
                # VirtualService hosts may be external names served through a Gateway.
                if missing(str(host), namespace, external_ok=True):
                    reported.add(str(host))
                    yield _at(ctx, world, service, f"host {host} names no Service")
            for _, route in route_destinations(service):
                for entry in route:
                    destination = entry.get("destination")
                    if not isinstance(destination, Mapping):
                        continue
                    host = str(destination.get("host", ""))
                    if host in reported:
                        continue
                    if missing(host, namespace, external_ok=False):
                        reported.add(host)
                        yield _at(
                            ctx,
                            world,
                            service,
                            f"routes to host {host}, which names no Service or ServiceEntry",
                        )


@rule("MG404", "route-weights", Severity.ERROR)
def route_weights(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService route's weights do not sum to 100, or are all zero.

    Give the destinations of each route whole weights that add up to 100; in a generated
    repository, fix `traffic:` in the environment file (`meshgen weights set`).
    """
    # An environment whose file already breaks the weight rules is reported once, by MG110.
    broken = {
        ref.environment.name
        for ref in ctx.overlays
        if isinstance(ref.file.data, Mapping)
        and isinstance(ref.file.data.get("traffic"), Mapping)
        and weight_problems((ref.file.data.get("versions") or {}).keys(), ref.file.data["traffic"])
    }
    for world in ctx.worlds:
        if world.environment in broken:
            continue
        for service in world.istio("VirtualService"):
            for protocol, route in route_destinations(service):
                weights = [entry.get("weight") for entry in route]
                if len(route) < 2 and all(w is None for w in weights):
                    continue
                numbers = [
                    w if isinstance(w, int) and not isinstance(w, bool) else 0 for w in weights
                ]
                total = sum(numbers)
                listed = " + ".join(
                    f"{_destination_name(entry)}={weight}"
                    for entry, weight in zip(route, numbers, strict=True)
                )
                if total == 0:
                    yield _at(
                        ctx,
                        world,
                        service,
                        f"{protocol} route weights are all 0 ({listed}): it sends no traffic",
                    )
                elif total != 100:
                    yield _at(
                        ctx,
                        world,
                        service,
                        f"{protocol} route weights sum to {total}, not 100 ({listed})",
                    )


def _destination_name(entry: Mapping[str, object]) -> str:
    destination = entry.get("destination")
    if not isinstance(destination, Mapping):
        return "?"
    subset = destination.get("subset")
    return str(subset) if subset else str(destination.get("host", "?"))


@rule("MG405", "gateway-selector-no-workload", Severity.ERROR, istio_code="IST0101")
def gateway_selector_no_workload(ctx: ValidationContext) -> Iterator[Problem]:
    """A Gateway's selector matches no gateway the repository installs.

    Set `spec.selector` to the labels of the ingress gateway's pods (with the `gateway`
    chart released as `istio-gateway`, that is `istio: gateway`).
    """
    for world in ctx.worlds:
        installs = world.gateway_installs()
        for gateway in world.istio("Gateway"):
            selector = str_map(spec(gateway).get("selector"))
            if any(selects(selector, install.pod_labels) for install in installs):
                continue
            shown = ", ".join(f"{k}={v}" for k, v in selector.items()) or "(empty)"
            known = ", ".join(
                sorted(
                    {f"istio={i.pod_labels['istio']}" for i in installs if "istio" in i.pod_labels}
                )
            )
            yield _at(
                ctx,
                world,
                gateway,
                f"selector {shown} matches no gateway workload"
                + (f" (installed gateways: {known})" if known else " (no gateway installed)"),
            )


def _bound_gateways(world: World, service: Manifest) -> Iterator[tuple[str, Manifest | None]]:
    namespace = world.namespace_of(service)
    gateways = {(world.namespace_of(g), g.name): g for g in world.istio("Gateway")}
    for entry in spec(service).get("gateways") or []:
        name = str(entry)
        if name == "mesh":
            continue
        gw_namespace, _, gw_name = name.rpartition("/")
        yield name, gateways.get((gw_namespace or namespace, gw_name))


@rule("MG406", "gateway-not-found", Severity.ERROR, istio_code="IST0101")
def gateway_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService binds a Gateway that does not exist.

    Name the Gateway as `namespace/name` (the Gateway lives in the ingress gateway's
    namespace), or create it.
    """
    for world in ctx.worlds:
        for service in world.istio("VirtualService"):
            for name, gateway in _bound_gateways(world, service):
                if gateway is None:
                    yield _at(ctx, world, service, f"binds gateway {name!r}, which does not exist")


@rule("MG407", "host-not-in-gateway", Severity.WARNING, istio_code="IST0132")
def host_not_in_gateway(ctx: ValidationContext) -> Iterator[Problem]:
    """None of a VirtualService's hosts is served by a Gateway it binds.

    Add the external host to the Gateway's `servers[].hosts`, or correct the host in
    the VirtualService (in a generated repository: `host:` in the environment file).
    """
    for world in ctx.worlds:
        for service in world.istio("VirtualService"):
            hosts = [str(h) for h in spec(service).get("hosts") or []]
            for name, gateway in _bound_gateways(world, service):
                if gateway is None:
                    continue
                served: list[str] = []
                for server in spec(gateway).get("servers") or []:
                    if isinstance(server, Mapping):
                        served.extend(str(h).rpartition("/")[2] for h in server.get("hosts") or [])
                if not any(host_matches(p, h) for p in served for h in hosts):
                    yield _at(
                        ctx,
                        world,
                        service,
                        f"none of its hosts ({', '.join(hosts)}) is served by gateway "
                        f"{name} (hosts: {', '.join(served) or 'none'})",
                    )


@rule("MG408", "gateway-port-not-on-service", Severity.WARNING, istio_code="IST0162")
def gateway_port_not_on_service(ctx: ValidationContext) -> Iterator[Problem]:
    """A Gateway listens on a port that the gateway's Service does not expose.

    Add the port to the gateway Service (`service.ports` in the gateway chart's values,
    with `targetPort` equal to the Gateway's port number), or use a port it exposes.
    """
    for world in ctx.worlds:
        installs = world.gateway_installs()
        for gateway in world.istio("Gateway"):
            selector = str_map(spec(gateway).get("selector"))
            matched = [
                i
                for i in installs
                if selects(selector, i.pod_labels) and i.target_ports is not None
            ]
            if not matched:
                continue
            exposed = frozenset().union(*(i.target_ports or frozenset() for i in matched))
            for server in spec(gateway).get("servers") or []:
                port = (server.get("port") or {}) if isinstance(server, Mapping) else {}
                number = port.get("number") if isinstance(port, Mapping) else None
                if isinstance(number, int) and number not in exposed:
                    service_names = ", ".join(sorted({str(i.service_name) for i in matched}))
                    yield _at(
                        ctx,
                        world,
                        gateway,
                        f"listens on port {number}, which Service {service_names} does not "
                        f"expose (target ports: {', '.join(map(str, sorted(exposed)))})",
                    )


@rule("MG409", "namespace-not-injected", Severity.WARNING, istio_code="IST0102")
def namespace_not_injected(ctx: ValidationContext) -> Iterator[Problem]:
    """A namespace that runs workloads is not labelled for sidecar injection.

    Label it `istio-injection: enabled` (or `istio.io/rev: <revision>`); to keep a
    namespace out of the mesh on purpose, label it `istio-injection: disabled`.
    """
    for world in ctx.worlds:
        busy = {w.namespace for w in world.workloads()}
        for name, namespace in sorted(world.namespaces().items()):
            labels = labels_of(namespace.data)
            if name in busy and INJECTION_LABEL not in labels and REVISION_LABEL not in labels:
                yield _at(
                    ctx,
                    world,
                    namespace,
                    f"runs workloads but has neither {INJECTION_LABEL} nor {REVISION_LABEL}: "
                    "its pods get no sidecar",
                )


@rule("MG410", "namespace-both-injection-labels", Severity.WARNING, istio_code="IST0123")
def namespace_both_injection_labels(ctx: ValidationContext) -> Iterator[Problem]:
    """A namespace carries both `istio-injection` and `istio.io/rev`.

    Keep one: `istio-injection: enabled` for the default revision, or `istio.io/rev` for
    a revisioned control plane; with both, which one wins depends on the webhook order.
    """
    for world in ctx.worlds:
        for _, namespace in sorted(world.namespaces().items()):
            labels = labels_of(namespace.data)
            if INJECTION_LABEL in labels and REVISION_LABEL in labels:
                yield _at(
                    ctx,
                    world,
                    namespace,
                    f"has both {INJECTION_LABEL}={labels[INJECTION_LABEL]} and "
                    f"{REVISION_LABEL}={labels[REVISION_LABEL]}",
                )


@rule("MG411", "credential-not-found", Severity.ERROR, istio_code="IST0161")
def credential_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A Gateway's TLS `credentialName` has no Certificate or Secret in the Gateway's namespace.

    A Gateway reads its TLS secret from its own namespace: create a cert-manager
    Certificate there whose `secretName` is the `credentialName`.
    """
    for world in ctx.worlds:
        secrets: dict[tuple[str, str], str] = {}
        for certificate in world.kind("Certificate"):
            if certificate.api_version.startswith("cert-manager.io/"):
                name = str(spec(certificate).get("secretName", ""))
                secrets[(world.namespace_of(certificate), name)] = certificate.ref
        for secret in world.kind("Secret"):
            secrets[(world.namespace_of(secret), secret.name)] = secret.ref
        for gateway in world.istio("Gateway"):
            namespace = world.namespace_of(gateway)
            for server in spec(gateway).get("servers") or []:
                tls = server.get("tls") if isinstance(server, Mapping) else None
                if not isinstance(tls, Mapping) or not tls.get("credentialName"):
                    continue
                credential = str(tls["credentialName"])
                if (namespace, credential) in secrets:
                    continue
                elsewhere = sorted(ref for (_, name), ref in secrets.items() if name == credential)
                hint = (
                    f"; {', '.join(elsewhere)} writes it in another namespace" if elsewhere else ""
                )
                yield _at(
                    ctx,
                    world,
                    gateway,
                    f"credentialName {credential!r} has no Certificate or Secret in namespace "
                    f"{namespace}{hint}",
                )


@rule("MG412", "acme-class-not-served", Severity.ERROR)
def acme_class_not_served(ctx: ValidationContext) -> Iterator[Problem]:
    """An ACME HTTP-01 solver uses an ingress class the mesh's ingress settings do not serve.

    Use `ingressClassName: istio` (meshConfig.ingressClass), keep
    meshConfig.ingressControllerMode on, and point meshConfig.ingressSelector and
    ingressService at the installed gateway (`gateway`, `istio-gateway`).
    """
    for world in ctx.worlds:
        mesh, _ = world.mesh_config()
        installs = world.gateway_installs()
        served_class = str(mesh.get("ingressClass"))
        mode = str(mesh.get("ingressControllerMode")).upper()
        selector = str(mesh.get("ingressSelector"))
        service_name = str(mesh.get("ingressService"))
        for issuer in [*world.kind("ClusterIssuer"), *world.kind("Issuer")]:
            if not issuer.api_version.startswith("cert-manager.io/"):
                continue
            acme = spec(issuer).get("acme")
            solvers = acme.get("solvers") if isinstance(acme, Mapping) else None
            for solver in solvers or []:
                http01 = solver.get("http01") if isinstance(solver, Mapping) else None
                ingress = http01.get("ingress") if isinstance(http01, Mapping) else None
                if not isinstance(ingress, Mapping) or ingress.get("name"):
                    continue
                wanted = ingress.get("ingressClassName") or ingress.get("class")
                if not wanted:
                    continue
                if wanted != served_class:
                    yield _at(
                        ctx,
                        world,
                        issuer,
                        f"HTTP-01 solver uses ingress class {wanted!r}, but the mesh serves "
                        f"{served_class!r} (meshConfig.ingressClass)",
                    )
                elif mode == "OFF":
                    yield _at(
                        ctx,
                        world,
                        issuer,
                        f"HTTP-01 solver uses ingress class {wanted!r}, but "
                        "meshConfig.ingressControllerMode is OFF",
                    )
                elif installs and not any(i.pod_labels.get("istio") == selector for i in installs):
                    yield _at(
                        ctx,
                        world,
                        issuer,
                        f"HTTP-01 challenges go to the gateway labelled istio={selector} "
                        "(meshConfig.ingressSelector), which is not installed",
                    )
                elif installs and not any(i.service_name == service_name for i in installs):
                    yield _at(
                        ctx,
                        world,
                        issuer,
                        f"meshConfig.ingressService is {service_name!r}, but no installed "
                        "gateway has a Service of that name",
                    )


_CERT_MANAGER_GROUP = "cert-manager.io"


@rule("MG413", "certificate-issuer-not-found", Severity.ERROR)
def certificate_issuer_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A Certificate's issuerRef names a ClusterIssuer or Issuer the repository does not define.

    cert-manager never issues such a certificate, so the Gateway serves no TLS. Name an
    issuer that exists (in a generated repository: `gateway.issuer` in the environment
    file), or define the issuer (platform/cert-manager/cluster-issuers.yaml). An Issuer
    must be in the Certificate's namespace; `kind` defaults to Issuer.
    """
    worlds = ctx.worlds
    if not any(_issuers(world, kind) for world in worlds for kind in ("ClusterIssuer", "Issuer")):
        # Plain manifests that bring no issuer: the issuers live elsewhere, unknown here.
        return
    where = "the given files do not define" if ctx.files_mode else "the repository does not define"
    for world in worlds:
        cluster_issuers = {issuer.name for issuer in _issuers(world, "ClusterIssuer")}
        issuers = {(world.namespace_of(i), i.name) for i in _issuers(world, "Issuer")}
        for certificate in world.kind("Certificate"):
            if not certificate.api_version.startswith(f"{_CERT_MANAGER_GROUP}/"):
                continue
            ref = spec(certificate).get("issuerRef")
            if not isinstance(ref, Mapping) or not ref.get("name"):
                continue
            if str(ref.get("group") or _CERT_MANAGER_GROUP) != _CERT_MANAGER_GROUP:
                continue  # an external issuer (AWS PCA, Vault...): its kinds are not ours
            name = str(ref["name"])
            kind = str(ref.get("kind") or "Issuer")
            if kind == "ClusterIssuer":
                if name in cluster_issuers:
                    continue
                known = f"ClusterIssuers: {', '.join(sorted(cluster_issuers)) or 'none'}"
            elif kind == "Issuer":
                namespace = world.namespace_of(certificate)
                if (namespace, name) in issuers:
                    continue
                here = sorted(n for ns, n in issuers if ns == namespace)
                known = f"Issuers in namespace {namespace}: {', '.join(here) or 'none'}"
            else:
                continue
            yield _at(
                ctx,
                world,
                certificate,
                f"issuerRef names {kind} {name!r}, which {where} ({known}); "
                f"{_issuer_fix(ctx, world, certificate, name)}",
            )


def _issuers(world: World, kind: str) -> list[Manifest]:
    return [m for m in world.kind(kind) if m.api_version.startswith(f"{_CERT_MANAGER_GROUP}/")]


def _issuer_fix(ctx: ValidationContext, world: World, certificate: Manifest, name: str) -> str:
    """Where the issuer's name comes from: the environment file, when it sets it."""
    if ctx.repo is not None and id(certificate) not in world.shared:
        for ref in ctx.overlays:
            chart = ctx.rel(ctx.repo.chart_path(ref.app)) + "/"
            gateway = ref.file.data.get("gateway") if isinstance(ref.file.data, Mapping) else None
            if (
                ref.environment.name == world.environment
                and certificate.source.startswith(chart)
                and isinstance(gateway, Mapping)
                and str(gateway.get("issuer")) == name
            ):
                return f"set gateway.issuer in {ctx.rel(ref.file.path)} to one that exists"
    return "point issuerRef at an issuer that exists, or define it"
