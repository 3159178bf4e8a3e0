"""Timing shared by the benchmarks: best of several runs, the contenders taking turns."""

from __future__ import annotations

import time
from collections.abc import Callable


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
