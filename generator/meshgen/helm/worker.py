"""The process that runs chart code: `python -P .../worker.py HEADROOM_BYTES`.

Chart templates are programs. One that loops a hundred million times makes Helm's Go
runtime allocate until it aborts the whole process with a goroutine dump, and one
that loops for ever never returns; neither can be stopped from inside the process
that runs it. So meshgen runs the embedded Helm SDK here, in a child process under
resource limits (address space, CPU time), and `meshgen.helm.isolation` talks to it:
one JSON request a line on standard input, one JSON reply a line on standard output.
Whatever the Go runtime prints goes to standard error, which the parent reads and
keeps to itself.

It is started as a script, not with `-m`, and imports nothing from meshgen: its start
is on the path of every command that renders, and meshgen's package imports are not.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
from pathlib import Path
from typing import IO, Any


def is_manifest_source(source: str) -> bool:
    """Whether a rendered template holds Kubernetes objects (not NOTES.txt or a partial)."""
    name = source.rsplit("/", 1)[-1]
    return not name.startswith("_") and name.endswith((".yaml", ".yml", ".json"))


def too_large(size: int, limit: int) -> str:
    """The message for a render of `size` bytes over `limit`."""
    return (
        f"rendered {size} bytes, more than the {limit} bytes meshgen accepts; "
        "check the chart for a runaway loop"
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _address_space() -> int | None:
    """Bytes of address space this process holds now (Go reserves much of it at load)."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _limit(kind: int, soft: int) -> None:
    """Lower `kind`'s soft limit to `soft` (never above the hard limit)."""
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    # A platform without this limit still has the parent's wall-clock timeout.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(kind, (soft, hard))


class Worker:
    def __init__(self, sdk: Any) -> None:
        self._sdk = sdk
        self._charts: dict[str, Any] = {}
        self._generation: object = None

    def _chart(self, path: str, generation: object) -> Any:
        # A chart is loaded once per backend (a meshgen command), as Helm's CLI loads it
        # once per command: a later command sees the chart as it is then.
        if generation != self._generation:
            self._charts.clear()
            self._generation = generation
        loaded = self._charts.get(path)
        if loaded is None:
            try:
                loaded = self._sdk.Chart.load(path)
            except self._sdk.HelmError as exc:
                raise _Refusal(f"cannot load chart: {_one_line(exc)}") from None
            self._charts[path] = loaded
        return loaded

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        used = resource.getrusage(resource.RUSAGE_SELF)
        # A backstop for a parent that died without stopping this process.
        _limit(resource.RLIMIT_CPU, int(used.ru_utime + used.ru_stime) + request["cpu_seconds"])
        try:
            if request["op"] == "render":
                return self._render(request)
            return self._lint(request)
        except _Refusal as exc:
            return {"ok": False, "error": str(exc)}
        except self._sdk.HelmError as exc:
            return {"ok": False, "error": _one_line(exc)}

    def _render(self, request: dict[str, Any]) -> dict[str, Any]:
        loaded = self._chart(request["chart"], request["generation"])
        rendered = loaded.render(
            request["values"],
            name=request["release"],
            namespace=request["namespace"],
            is_install=True,
        )
        templates = [
            [source, text]
            for source, text in sorted(rendered.items())
            if is_manifest_source(source)
        ]
        size = sum(len(text) for _, text in templates)
        if size > request["max_bytes"]:
            return {"ok": False, "limit": True, "error": too_large(size, request["max_bytes"])}
        return {"ok": True, "templates": templates}

    def _lint(self, request: dict[str, Any]) -> dict[str, Any]:
        report = self._sdk.lint(
            request["chart"],
            request["values"],
            strict=True,
            namespace=request["namespace"],
            kube_version=request["kube_version"],
        )
        return {"ok": True, "messages": list(report.get("messages", []))}


class _Refusal(Exception):
    pass


def _reply(channel: IO[bytes], payload: dict[str, Any]) -> None:
    channel.write(json.dumps(payload, ensure_ascii=False).encode("utf-8") + b"\n")
    channel.flush()


def main(argv: list[str]) -> int:
    # Replies get their own descriptor; file descriptor 1 becomes standard error, so
    # nothing else written to standard output can be taken for a reply.
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    headroom = int(argv[0])
    try:
        import helm_python
    except (ImportError, OSError) as exc:
        failure = (
            f"the embedded Helm SDK could not be loaded ({_one_line(exc)}); reinstall "
            "meshgen or use a helm binary with --helm-binary PATH"
        )
        for _ in sys.stdin.buffer:
            _reply(channel, {"ok": False, "tool": True, "error": failure})
        return 0
    helm_python.disable_logging()
    reserved = _address_space()
    if reserved is not None:
        _limit(resource.RLIMIT_AS, reserved + headroom)
    worker = Worker(helm_python)
    for line in sys.stdin.buffer:
        _reply(channel, worker.handle(json.loads(line)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
