"""The platform around the app (MG5xx): Istio ingress settings, Istio CNI, and each
environment's cluster and platform releases, their chart pins and their values.

These rules read the static files under cluster/, platform/ and gitops/ and check that
they fit together: what istiod's meshConfig names is what the gateway release creates,
istiod expects the Istio CNI node agent exactly where one is installed, every
environment has its eksctl cluster and its Istio and cert-manager releases, at the
versions meshgen.yaml pins, with values their charts accept.
"""
