"""Rule modules; importing this package registers every rule.

IDs are grouped by area and never reused:
MG0xx meshgen.yaml, MG1xx environment files and weights, MG2xx Helm,
MG3xx Kubernetes and CRD schemas.
"""

from meshgen.validate.rules import files, helm, kube, security

__all__ = ["files", "helm", "kube", "security"]
