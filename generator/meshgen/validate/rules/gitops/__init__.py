"""GitOps wiring (MG5xx): each environment deployed by the engine and nothing else, each
path it reads present, each Argo CD Application permitted by its AppProject, each Flux
reference resolved."""
