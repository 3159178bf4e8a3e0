"""Keep only the GitOps engine that was chosen, and the optional platform parts asked for."""

import shutil
from pathlib import Path

CHOSEN = "{{ cookiecutter.gitops }}"
OPTIONAL = {
    "platform/aws-load-balancer-controller": "{{ cookiecutter.aws_load_balancer_controller }}",
    "platform/external-dns": "{{ cookiecutter.external_dns }}",
}

for engine in ("argocd", "flux"):
    if engine != CHOSEN:
        shutil.rmtree(Path("gitops") / engine)

for folder, wanted in OPTIONAL.items():
    if wanted != "True":
        shutil.rmtree(folder)
