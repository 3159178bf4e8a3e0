"""`meshgen validate`: schemas, Helm, Kubernetes schemas and mesh analysis, as findings."""
