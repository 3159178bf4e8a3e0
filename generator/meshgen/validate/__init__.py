"""`meshgen validate`: every layer, as findings with stable rule IDs.

The config and environment files, Helm lint and render, Kubernetes and CRD schemas,
mesh analysis, platform and GitOps wiring, workload security, canary guard rails, and
`kubectl apply --dry-run` when asked. See docs/decisions.md for the layers inside.
"""
