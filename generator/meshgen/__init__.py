"""meshgen: bootstrap and operate a GitOps repository for Istio canary releases on EKS."""

from __future__ import annotations

__version__ = "0.1.0"

# The layout of generated repositories, recorded in their meshgen.yaml (`template:`);
# bumped when `meshgen new` output changes, so that `meshgen update` knows which template
# a repository was written with. 1: everything meshgen 0.1.0 generated before the day-2
# commands; each earlier version ships as an archive (meshgen/day2/archives/) to serve as
# the base of the three-way update.
TEMPLATE_VERSION = 2
