"""Rule modules; importing this package registers every rule.

IDs are grouped by area and never reused:
MG0xx meshgen.yaml and repository files, MG1xx environment files and weights,
MG2xx Helm, MG3xx Kubernetes and CRD schemas, MG4xx mesh analysis,
MG5xx platform and GitOps wiring, MG6xx workload security, MG7xx canary guard rails,
MG9xx kubectl dry-run.

One import per line, so that adding a rule module is a one-line change.
"""

import meshgen.validate.rules.domains
import meshgen.validate.rules.files
import meshgen.validate.rules.guardrails
import meshgen.validate.rules.helm
import meshgen.validate.rules.kube
import meshgen.validate.rules.kubectl
import meshgen.validate.rules.mesh
import meshgen.validate.rules.platform
import meshgen.validate.rules.security  # noqa: F401
