"""Keep only the GitOps engine that was chosen."""

import shutil
from pathlib import Path

CHOSEN = "{{ cookiecutter.gitops }}"

for engine in ("argocd", "flux"):
    if engine != CHOSEN:
        shutil.rmtree(Path("gitops") / engine)
