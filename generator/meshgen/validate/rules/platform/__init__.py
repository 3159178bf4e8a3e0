"""The platform around the app (MG5xx): Istio ingress settings, ACME solvers, Istio CNI.

These rules read the static files under cluster/, platform/ and gitops/ and check that
they fit together: what istiod's meshConfig names is what the gateway release creates,
the ACME HTTP-01 solvers use an ingress class the mesh serves, and istiod expects the
Istio CNI node agent exactly where one is installed.
"""
