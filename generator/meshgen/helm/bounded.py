"""Run a program with its output, time, memory and CPU bounded (for the `helm` binary)."""

from __future__ import annotations

import selectors
import subprocess
import threading
import time
from collections.abc import Sequence

# What a program may print on standard error: enough for any message, not for a dump.
MAX_STDERR_BYTES = 1024 * 1024

# Programs running now, in any thread: what an interrupted command stops.
_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()


class Exceeded(Exception):
    """The program passed a limit and was stopped; the message says which."""


def bounded_run(
    command: Sequence[str],
    *,
    timeout: float,
    max_output: int,
    memory: int,
    cpu_seconds: int,
) -> subprocess.CompletedProcess[str]:
    """Run `command`; stop it (Exceeded) past `timeout` or `max_output` bytes of output.

    `memory` bounds its address space and `cpu_seconds` its CPU time, set on the
    process as soon as it exists (a program running out of either ends itself).
    """
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    _limit(process.pid, memory, cpu_seconds)
    with _running_lock:
        _running.add(process)
    caps = {"stdout": max_output, "stderr": MAX_STDERR_BYTES}
    captured: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
    deadline = time.monotonic() + timeout
    try:
        with selectors.DefaultSelector() as selector:
            for name in captured:
                selector.register(getattr(process, name), selectors.EVENT_READ, name)
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Exceeded(
                        f"did not finish within {timeout:g}s and was stopped; "
                        "check the chart for an endless or very slow loop"
                    )
                for key, _ in selector.select(remaining):
                    chunk = key.fileobj.read1(65536)  # type: ignore[union-attr]
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    stream = captured[key.data]
                    stream += chunk
                    if len(stream) > caps[key.data]:
                        raise Exceeded(
                            f"printed more than {caps[key.data]} bytes and was stopped; "
                            "check the chart for a runaway loop"
                        )
        returncode = process.wait(timeout=max(deadline - time.monotonic(), 1))
    except (Exceeded, subprocess.TimeoutExpired) as exc:
        process.kill()
        process.wait()
        if isinstance(exc, Exceeded):
            raise
        raise Exceeded(f"did not finish within {timeout:g}s and was stopped") from None
    finally:
        with _running_lock:
            _running.discard(process)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    return subprocess.CompletedProcess(
        list(command),
        returncode,
        captured["stdout"].decode("utf-8", errors="replace"),
        captured["stderr"].decode("utf-8", errors="replace"),
    )


def stop_all() -> None:
    """Kill every program still running here (the command was interrupted)."""
    with _running_lock:
        running = list(_running)
    for process in running:
        if process.poll() is None:
            process.kill()


def _limit(pid: int, memory: int, cpu_seconds: int) -> None:
    try:
        import resource

        resource.prlimit(pid, resource.RLIMIT_AS, (memory, memory))
        resource.prlimit(pid, resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    except (ImportError, AttributeError, OSError, ValueError):
        # No prlimit (not Linux), or the program has already ended: the timeout and the
        # output cap still hold.
        pass
