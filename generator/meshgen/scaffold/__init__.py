"""`meshgen new`: answers, the cookiecutter template, single-source copies, first commit."""

from meshgen.scaffold.answers import Answers, answers_from_mapping
from meshgen.scaffold.create import GenerationResult, generate

__all__ = ["Answers", "GenerationResult", "answers_from_mapping", "generate"]
