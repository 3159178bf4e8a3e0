"""The README's walkthroughs run as written on a fresh repository."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from conftest import Invoke

README = Path(__file__).resolve().parents[1] / "README.md"


def _console_commands(section: str) -> list[list[str]]:
    """The `$ meshgen ...` lines of the first console block under `section`."""
    text = README.read_text()
    after = text[text.index(section) :]
    block = re.search(r"```console\n(.*?)```", after, re.DOTALL)
    assert block is not None, f"no console block under {section!r}"
    commands = []
    for line in block.group(1).splitlines():
        if line.startswith("$ meshgen "):
            words = shlex.split(line.removeprefix("$ "), comments=True)
            commands.append(words[1:])
    return commands


@pytest.mark.slow
def test_the_canary_walkthrough_runs_as_written(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(["new", str(tmp_path / "acme-mesh"), "--no-input"])
    monkeypatch.chdir(tmp_path / "acme-mesh")
    commands = _console_commands("### Canary releases by pull request")
    assert len(commands) >= 6
    for args in commands:
        invoke(args)
    invoke(["validate"])


def test_the_demo_path_line_runs_as_written(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "build" / "demo").mkdir(parents=True)
    invoke(["new", str(tmp_path / "build" / "demo" / "acme-mesh"), "--no-input", "--no-git"])
    monkeypatch.chdir(tmp_path)
    commands = _console_commands("`make demo` installs meshgen")
    assert commands == [["-C", "build/demo/acme-mesh", "render", "--env", "staging"]]
    assert "kind: VirtualService" in invoke(commands[0]).stdout
