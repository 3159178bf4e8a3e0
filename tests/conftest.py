"""Shared fixtures: an isolated git identity, a CLI runner, generated repositories."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kube_server import kube_api  # noqa: F401 - the session's test API server, as a fixture
from meshgen.cli import cli

SHARED_SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "schemas"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
# A domain and contact Let's Encrypt accepts: `meshgen new`'s defaults (example.com) are
# placeholders that `meshgen validate` refuses (MG004, MG114).
REAL_DOMAIN = "acme.io"
REAL_EMAIL = "platform@acme.io"
REAL_ANSWERS = ("--domain", REAL_DOMAIN, "--acme-email", REAL_EMAIL)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="Rewrite tests/golden/ from the current output; review the diff before committing.",
    )


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test gets its own HOME, git config and meshgen cache, so nothing leaks in
    or out."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Author")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "author@example.com")
    monkeypatch.delenv("MESHGEN_HELM", raising=False)
    monkeypatch.delenv("MESHGEN_TRACEBACK", raising=False)
    for cache_variable in ("MESHGEN_CACHE_DIR", "MESHGEN_NO_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(cache_variable, raising=False)


Invoke = Callable[..., Result]


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail a test that hangs (a FIFO or a device read without a bound) within 180 s,
    instead of stalling the suite."""

    def fail(signum: int, frame: object) -> None:
        raise AssertionError("hung: a read without a bound?")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(180)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def invoke() -> Invoke:
    """Run the CLI in-process; the assertion message shows both output streams."""

    def run(args: Sequence[str], *, input: str | None = None, expect: int | None = 0) -> Result:
        result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, (
                f"meshgen {' '.join(args)} exited {result.exit_code}, expected {expect}\n"
                f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
            )
        return result

    return run


@pytest.fixture(scope="session")
def pristine_repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One generated repo per GitOps engine, made once; tests copy them before changing."""
    from meshgen.scaffold import answers_from_mapping, generate

    base = tmp_path_factory.mktemp("pristine")
    repos = {}
    for engine in ("argocd", "flux"):
        answers = answers_from_mapping(
            {"name": "acme-mesh", "gitops": engine, "domain": REAL_DOMAIN, "acme_email": REAL_EMAIL}
        )
        repos[engine] = generate(answers, base / engine, git=False).path
    return repos


@pytest.fixture
def repo_copy(pristine_repos: dict[str, Path], tmp_path: Path) -> Callable[[str], Path]:
    """A private copy of a generated repo (no git), safe to damage."""

    def copy(engine: str = "argocd") -> Path:
        target = tmp_path / f"{engine}-repo"
        shutil.copytree(pristine_repos[engine], target)
        return target

    return copy


@pytest.fixture
def shared_schemas() -> Iterator[Path]:
    """The official upstream schemas beside this project, when present (../shared)."""
    if not SHARED_SCHEMAS.is_dir():
        pytest.skip(f"{SHARED_SCHEMAS} is absent: upstream schema conformance not checked here")
    yield SHARED_SCHEMAS


Golden = Callable[[str, str], None]


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """Compare text with tests/golden/<name> byte for byte (or rewrite it with --update-goldens)."""
    update = bool(request.config.getoption("--update-goldens"))

    def check(name: str, actual: str) -> None:
        path = GOLDEN_DIR / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        assert path.is_file(), f"no golden file {path}; create it with pytest --update-goldens"
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"{name} differs from its golden file (see the diff above)"

    return check


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "rule_case(rule_id, kind): this test is a passing or failing case of a rule "
        "(read by tests/rules/test_rule_cases.py)",
    )


@pytest.fixture
def acme(tmp_path: Path, invoke: Invoke) -> Path:
    """A repository made by `meshgen new`, with its first commit on main."""
    invoke(["new", str(tmp_path / "acme"), "--no-input", *REAL_ANSWERS])
    return tmp_path / "acme"
