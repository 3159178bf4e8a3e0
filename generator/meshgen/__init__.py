"""meshgen: bootstrap and operate a GitOps repository for Istio canary releases on EKS."""

from __future__ import annotations

__version__ = "0.1.0"

# The layout of generated repositories, recorded in their meshgen.yaml (`template:`);
# bumped when `meshgen new` output changes shape.
TEMPLATE_VERSION = 1
