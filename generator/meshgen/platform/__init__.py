"""The platform layer around the app: chart releases, their values, GitOps permissions."""
