"""Confined, bounded reads: links out, FIFOs, devices and endless streams are refused.

Every test that could hang on a FIFO or a device runs under an alarm, so a regression
fails the test instead of stalling the suite.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from meshgen import safefs, yamlio
from meshgen.errors import ConfigError

SECRET = "root:x:0:0:SECRET-CONTENT-FROM-OUTSIDE"


@pytest.fixture(autouse=True)
def _no_hang(no_hang: None) -> None:
    """Every test here reads FIFOs or devices: a regression fails instead of hanging."""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "environments" / "staging").mkdir(parents=True)
    (root / "meshgen.yaml").write_text("name: acme\n")
    (tmp_path / "outside.txt").write_text(SECRET)
    return root


def _refusal(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        yamlio.load_roundtrip(path)
    message = str(caught.value)
    assert "SECRET" not in message
    assert str(path) in message
    assert "\n" not in message
    return message


def test_a_link_out_of_the_repository_is_refused_naming_the_link(repo: Path) -> None:
    link = repo / "environments" / "staging" / "first-app.yaml"
    link.symlink_to(repo.parent / "outside.txt")
    assert "symbolic link that leads out of the repository" in _refusal(link)


def test_a_linked_folder_out_of_the_repository_is_refused(repo: Path) -> None:
    (repo.parent / "elsewhere").mkdir()
    (repo.parent / "elsewhere" / "first-app.yaml").write_text(SECRET)
    # A repository marker in the linked folder must not make it a repository of its own.
    (repo.parent / "elsewhere" / "meshgen.yaml").write_text("name: other\n")
    (repo / "environments" / "production").symlink_to(repo.parent / "elsewhere")
    assert "goes through a symbolic link" in _refusal(
        repo / "environments" / "production" / "first-app.yaml"
    )


def test_a_path_climbing_out_with_dots_is_refused(repo: Path) -> None:
    climbing = repo / "environments" / ".." / ".." / "outside.txt"
    with pytest.raises(ConfigError):
        safefs.read_text(climbing, root=repo)


def test_a_link_inside_the_repository_is_read(repo: Path) -> None:
    (repo / "shared.yaml").write_text("a: 1\n")
    link = repo / "environments" / "staging" / "first-app.yaml"
    link.symlink_to(repo / "shared.yaml")
    assert yamlio.load_roundtrip(link) == {"a": 1}


def test_a_fifo_is_refused_without_waiting_for_a_writer(repo: Path) -> None:
    fifo = repo / "environments" / "staging" / "first-app.yaml"
    os.mkfifo(fifo)
    assert "FIFO" in _refusal(fifo)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_given_directly_is_refused(device: str) -> None:
    with pytest.raises(ConfigError, match="character device"):
        safefs.read_text(Path(device))


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")
def test_a_device_node_inside_the_repository_is_refused(repo: Path) -> None:
    node = repo / "environments" / "staging" / "first-app.yaml"
    os.mknod(node, 0o644 | 0o020000, os.makedev(1, 5))  # the /dev/zero device
    assert "character device" in _refusal(node)


def test_a_file_over_the_limit_is_refused_before_reading(repo: Path) -> None:
    big = repo / "big.yaml"
    big.write_bytes(b"a: 1\n" * 100)
    with pytest.raises(ConfigError, match="larger than the 64 bytes"):
        safefs.read_text(big, limit=64)


def test_standard_input_is_capped() -> None:
    assert safefs.read_stream(io.StringIO("a: 1\n"), "<stdin>", limit=64) == "a: 1\n"
    with pytest.raises(ConfigError, match="more than the 64 bytes"):
        safefs.read_stream(io.StringIO("x" * 10_000), "<stdin>", limit=64)


def test_a_link_is_never_written_through(repo: Path) -> None:
    target = repo / "shared.yaml"
    target.write_text("a: 1\n")
    link = repo / "environments" / "staging" / "first-app.yaml"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match="is a symbolic link"):
        yamlio.atomic_write_text(link, "a: 2\n")
    assert target.read_text() == "a: 1\n"
    assert link.is_symlink()


def test_a_fifo_is_never_replaced(repo: Path) -> None:
    fifo = repo / "environments" / "staging" / "first-app.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="FIFO"):
        yamlio.atomic_write_text(fifo, "a: 2\n")
    assert fifo.is_fifo()


def test_a_chart_with_a_device_or_a_link_out_is_refused(repo: Path) -> None:
    chart = repo / "charts" / "app"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("name: app\n")
    safefs.check_tree(chart)
    (chart / "values.yaml").symlink_to("/dev/zero")
    with pytest.raises(ConfigError, match="leads out of the repository") as caught:
        safefs.check_tree(chart)
    assert caught.value.path == chart / "values.yaml"
