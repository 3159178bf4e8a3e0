"""Rule modules; importing this package registers every rule.

IDs are grouped by area and never reused:
MG0xx meshgen.yaml, MG1xx environment files and weights, MG2xx Helm,
MG3xx Kubernetes and CRD schemas.
"""

import meshgen.validate.rules.platform  # noqa: F401  (MG5xx: platform and GitOps wiring)
from meshgen.validate.rules import files, helm, kube
from meshgen.validate.rules import guardrails as guardrails

__all__ = ["files", "helm", "kube"]
