"""meshgen: bootstrap and operate a GitOps repository for Istio canary releases on EKS."""

from __future__ import annotations

__version__ = "0.1.0"

# The layout of generated repositories; bumped when `meshgen new` output changes shape,
# so that `meshgen validate` can tell which layout a repo was written with.
TEMPLATE_VERSION = 1
