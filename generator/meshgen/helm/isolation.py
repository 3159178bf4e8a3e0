"""meshgen's side of the Helm worker process (`meshgen.helm.worker`).

One worker serves a whole meshgen run: it is started by the first render that needs
it (a command that never renders, or whose renders all come from the cache, starts
none), and it renders every environment in turn. A render that runs past its
wall-clock limit, ends the worker (out of memory, out of CPU time) or answers more
than the output limit becomes a RenderLimitError naming what happened; the worker is
then replaced for the next render. What the worker prints on standard error (a Go
goroutine dump) is read here and never shown.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from meshgen.helm.base import MEMORY_HEADROOM_BYTES, Limits, RenderLimitError

# JSON escapes can make a reply several times longer than the text it carries; the
# worker checks the text's size itself, this only stops a worker gone wrong.
_REPLY_OVERHEAD = 6
_WORKER_SCRIPT = Path(__file__).with_name("worker.py")
_STDERR_KEPT = 16 * 1024
_READ_CHUNK = 1024 * 1024


class WorkerFailure(Exception):
    """The worker answered with an error that is not a limit: Helm's own message."""

    def __init__(self, message: str, *, tool: bool = False) -> None:
        super().__init__(message)
        self.tool = tool


class HelmWorker:
    """A `python -m meshgen.helm.worker` child, one request at a time."""

    def __init__(self, memory_headroom: int = MEMORY_HEADROOM_BYTES) -> None:
        self._memory_headroom = memory_headroom
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr_tail = bytearray()
        self._stderr_reader: threading.Thread | None = None
        self._lock = threading.Lock()

    def kill(self) -> None:
        """End the process now, even in the middle of a render (whose caller is then
        told the worker ended): how an interrupted command stops a slow render."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        process = subprocess.Popen(
            # -P: the script's folder holds a `select.py`, which must not hide the
            # standard library's.
            [sys.executable, "-P", str(_WORKER_SCRIPT), str(self._memory_headroom)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            # Its own session: Ctrl-C is meshgen's to handle, and the worker ends when
            # meshgen closes its standard input.
            start_new_session=True,
        )
        self._stderr_tail = bytearray()
        self._stderr_reader = threading.Thread(
            target=self._drain_stderr, args=(process,), name="meshgen-helm-stderr", daemon=True
        )
        self._stderr_reader.start()
        self._process = process
        return process

    def close(self) -> None:
        """End the process: it leaves its loop when its standard input closes."""
        with self._lock:
            process, self._process = self._process, None
            if process is None:
                return
            if process.stdin is not None:
                process.stdin.close()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _drain_stderr(self, process: subprocess.Popen[bytes]) -> None:
        tail = self._stderr_tail
        while process.stderr is not None and (chunk := process.stderr.read(65536)):
            tail += chunk
            del tail[:-_STDERR_KEPT]

    def call(self, request: dict[str, Any], limits: Limits, chart: Path) -> dict[str, Any]:
        """The worker's reply to `request`, or a RenderLimitError / WorkerFailure."""
        payload = json.dumps(request, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
        with self._lock:
            process = self._started()
            try:
                _write_all(process, payload)
                reply = self._read_reply(process, limits)
            except _Stopped as stopped:
                why = self._stop(process, stopped.reason, limits)
                raise RenderLimitError(f"{chart}: {why}") from None
        if reply.get("ok"):
            return reply
        message = str(reply.get("error", "Helm failed"))
        if reply.get("limit"):
            raise RenderLimitError(f"{chart}: {message}")
        raise WorkerFailure(message, tool=bool(reply.get("tool")))

    def _read_reply(self, process: subprocess.Popen[bytes], limits: Limits) -> dict[str, Any]:
        if process.stdout is None:
            raise _Stopped("ended")
        descriptor = process.stdout.fileno()
        deadline = time.monotonic() + limits.timeout_seconds
        cap = limits.max_render_bytes * _REPLY_OVERHEAD + _READ_CHUNK
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Stopped("timeout")
            readable, _, _ = select.select([descriptor], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(descriptor, _READ_CHUNK)
            if not chunk:
                raise _Stopped("ended")
            chunks.append(chunk)
            size += len(chunk)
            if chunk.endswith(b"\n"):
                break
            if size > cap:
                raise _Stopped("output")
        try:
            reply = json.loads(b"".join(chunks))
        except ValueError:
            raise _Stopped("garbled") from None
        if not isinstance(reply, dict):
            raise _Stopped("garbled")
        return reply

    def _stop(self, process: subprocess.Popen[bytes], reason: str, limits: Limits) -> str:
        """End `process` and say, in one line, why the render stopped."""
        if process.poll() is None:
            process.kill()
        returncode = process.wait()
        if self._stderr_reader is not None:
            self._stderr_reader.join(timeout=2)
        self._process = None
        printed = self._stderr_tail.decode("utf-8", errors="replace")
        fix = "check the chart for a runaway loop"
        if reason == "timeout":
            return (
                f"rendering did not finish within {limits.timeout_seconds:g}s and was stopped; "
                "check the chart for an endless or very slow loop"
            )
        if reason == "output":
            return f"rendering answered more than the output limit and was stopped; {fix}"
        if "out of memory" in printed or "MemoryError" in printed:
            mib = self._memory_headroom // (1024 * 1024)
            return (
                f"rendering ran out of memory (limit: {mib} MiB beyond Helm's own) "
                f"and was stopped; {fix}"
            )
        if returncode == -signal.SIGXCPU:
            return f"rendering used more than {limits.cpu_seconds}s of CPU and was stopped; {fix}"
        return (
            f"the Helm worker process ended unexpectedly (exit code {returncode})"
            f"{_last_words(printed)}"
        )


class _Stopped(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _write_all(process: subprocess.Popen[bytes], payload: bytes) -> None:
    view = memoryview(payload)
    try:
        while view and process.stdin is not None:
            written = process.stdin.write(view)
            view = view[written or 0 :]
    except OSError:  # the worker is gone (BrokenPipeError) before reading the request
        raise _Stopped("ended") from None


def _last_words(printed: str) -> str:
    """The line of a dying worker's standard error that says why: `fatal error: ...`."""
    lines = [line.strip() for line in printed.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal error:", "panic:", "runtime:")) or "Error:" in line:
            return f": {line[:200]}"
    return f": {lines[-1][:200]}" if lines else ""


class WorkerPool:
    """Workers for concurrent renders: Helm renders two environments at once, each alone
    in its process, so a render stopped at a limit is always the one that passed it."""

    def __init__(self, size: int = 2) -> None:
        self._workers = [HelmWorker() for _ in range(size)]
        # Last in, first out: a second process starts only when renders overlap.
        self._idle: queue.LifoQueue[HelmWorker] = queue.LifoQueue()
        for worker in reversed(self._workers):
            self._idle.put(worker)

    def kill(self) -> None:
        for worker in self._workers:
            worker.kill()

    def call(self, request: dict[str, Any], limits: Limits, chart: Path) -> dict[str, Any]:
        worker = self._idle.get()
        try:
            return worker.call(request, limits, chart)
        finally:
            self._idle.put(worker)


_shared: dict[str, WorkerPool] = {}
_shared_lock = threading.Lock()


def shared_worker() -> WorkerPool:
    """The workers of this meshgen run (each started on first use)."""
    with _shared_lock:
        if "pool" not in _shared:
            _shared["pool"] = WorkerPool()
            # A render interrupted in the main thread leaves its worker rendering until
            # its CPU limit; nothing is waiting for it once meshgen exits.
            atexit.register(stop_workers)
        return _shared["pool"]


def stop_workers() -> None:
    """End this run's workers now, renders in progress included (see HelmWorker.kill)."""
    with _shared_lock:
        pool = _shared.get("pool")
    if pool is not None:
        pool.kill()
