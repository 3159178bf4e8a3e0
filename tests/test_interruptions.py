"""Interrupted or failing commands leave the user's files as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Invoke
from meshgen.scaffold import create


def _interrupt(*_args: object, **_kwargs: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("step", ["_copy_chart", "_write_overlays", "_render_per_environment"])
def test_ctrl_c_mid_generation_leaves_no_destination(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    monkeypatch.setattr(create, step, _interrupt)
    result = invoke(["new", str(tmp_path / "out"), "--no-input"], expect=130)
    assert "interrupted" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_keeps_an_empty_destination_folder_empty(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    monkeypatch.setattr(create, "_write_overlays", _interrupt)
    invoke(["new", str(dest), "--no-input"], expect=130)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert list(dest.iterdir()) == []


def test_a_failing_template_step_leaves_nothing(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device (injected)")

    monkeypatch.setattr(create, "_copy_chart", broken)
    result = invoke(["new", str(tmp_path / "out"), "--no-input"], expect=2)
    assert result.stderr == "meshgen: error: No space left on device (injected)\n"
    assert list(tmp_path.iterdir()) == []
