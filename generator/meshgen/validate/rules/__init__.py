"""Rule modules; importing this package registers every rule.

IDs are grouped by area and never reused:
MG0xx meshgen.yaml and repository files, MG1xx environment files and weights,
MG2xx Helm, MG3xx Kubernetes and CRD schemas, MG4xx mesh analysis,
MG5xx platform and GitOps wiring, MG6xx workload security, MG7xx guard rails.
"""

from meshgen.validate.rules import files, guardrails, helm, kube, platform, security

__all__ = ["files", "guardrails", "helm", "kube", "platform", "security"]
