"""`kubectl apply --dry-run` against a cluster, when asked (MG9xx)."""
