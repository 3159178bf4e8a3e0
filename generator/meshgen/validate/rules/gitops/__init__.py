"""GitOps wiring (MG5xx): each environment deployed by the engine, each path it reads present."""
