"""Every object against the Kubernetes and CRD schemas (MG3xx)."""
