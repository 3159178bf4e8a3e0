"""Workload security (MG6xx): the Kubernetes "restricted" Pod Security Standard, and credentials.

The PSS checks follow https://kubernetes.io/docs/concepts/security/pod-security-standards/
(baseline and restricted controls), applied to the pod template of every workload kind,
rendered or static. Each control is its own rule so that a team can see, select or
ignore exactly one. What admission adds later (Istio's injected sidecar) is not in the
manifests and therefore not judged pod by pod; MG613 judges it per namespace, from the
Pod Security level the namespace enforces and how istiod is configured to inject.
"""
