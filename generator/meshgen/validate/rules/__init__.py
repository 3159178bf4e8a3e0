"""The rules, one package per family and one module per concern; only `@rule` checks.

IDs are grouped by area and never reused: MG0xx the config and repository files, MG1xx
environment files and weights, MG2xx Helm, MG3xx Kubernetes and CRD schemas, MG4xx mesh
analysis, MG5xx platform and GitOps wiring, MG6xx workload security, MG7xx canary guard
rails, MG9xx kubectl dry-run. Importing this package registers nothing: `registry` is
the one place that imports the rule modules.
"""
