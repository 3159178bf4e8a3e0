"""Timing shared by the benchmarks: best of several runs, the contenders taking turns."""

from __future__ import annotations

import compileall
import time
from collections.abc import Callable
from pathlib import Path


def compile_bytecode() -> None:
    """Compile meshgen's bytecode, as `pip install` does, so no run pays for compiling it.

    With PYTHONDONTWRITEBYTECODE set (or after an edit) every start would otherwise compile
    the modules it imports again, a cost an installed meshgen never has.
    """
    import meshgen

    compileall.compile_dir(Path(meshgen.__file__).parent, quiet=1)


def best_of_interleaved(repeat: int, actions: list[Callable[[], None]]) -> list[float]:
    """The best time of each action, running them in turn `repeat` times.

    Taking turns within each repeat means a change in the machine's load affects every
    contender alike, so the ratios stay fair on a busy machine.
    """
    best = [float("inf")] * len(actions)
    for _ in range(repeat):
        for index, action in enumerate(actions):
            start = time.perf_counter()
            action()
            best[index] = min(best[index], time.perf_counter() - start)
    return best
