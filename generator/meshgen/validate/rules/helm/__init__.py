"""Helm lint and render of every environment (MG2xx)."""
