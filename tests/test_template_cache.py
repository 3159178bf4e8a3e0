"""Compiled templates kept across runs: used only when they are exactly right."""

from __future__ import annotations

import marshal
import os
import time
from pathlib import Path

import jinja2
import pytest

from conftest import Invoke
from meshgen.scaffold import answers_from_mapping
from meshgen.scaffold.compiled import ENVIRONMENT_SETTINGS, CompiledTemplates
from meshgen.scaffold.create import build
from meshgen.scaffold.private_folder import TEMPORARY_PREFIX


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _render(cache: CompiledTemplates | None, source: str, name: str = "page") -> str:
    environment = jinja2.Environment(
        loader=jinja2.DictLoader({name: source}),
        bytecode_cache=cache,
        autoescape=True,
        **ENVIRONMENT_SETTINGS,
    )
    return environment.get_template(name).render(who="mesh")


class _CountingCompiles:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = jinja2.Environment.compile

        def counting(environment: jinja2.Environment, *args: object, **kwargs: object) -> object:
            self.count += 1
            return original(environment, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(jinja2.Environment, "compile", counting)


@pytest.mark.parametrize("gitops", ["argocd", "flux"])
def test_a_warm_cache_writes_the_same_repository_compiling_no_template_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gitops: str
) -> None:
    answers = answers_from_mapping({"name": "acme-mesh", "gitops": gitops})
    cache = tmp_path / "cache"
    compiles = _CountingCompiles(monkeypatch)
    uncached = _tree(build(answers, _mkdir(tmp_path / "a")))
    cold = _tree(build(answers, _mkdir(tmp_path / "b"), template_cache=cache))
    compiled_cold = compiles.count
    entries = len(list(cache.rglob("*.code")))
    warm = _tree(build(answers, _mkdir(tmp_path / "c"), template_cache=cache))
    compiled_warm = compiles.count - compiled_cold

    assert uncached == cold == warm
    # Every template file was loaded, not compiled: what is left are the strings
    # cookiecutter compiles itself (file names and the hook script).
    assert entries > 20
    assert compiled_warm == compiled_cold // 2 - entries, (compiled_cold, compiled_warm, entries)


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_an_entry_is_never_used_for_another_source(tmp_path: Path) -> None:
    cache = CompiledTemplates(tmp_path / "cache")
    assert _render(cache, "first {{ who }}") == "first mesh"
    assert _render(cache, "second {{ who }}") == "second mesh"
    assert (cache.hits, cache.misses) == (0, 2)
    assert _render(cache, "second {{ who }}") == "second mesh"
    assert cache.hits == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: data.split(b"\n", 1)[0] + b"\nnot marshal data",
        lambda data: data.split(b"\n", 1)[0] + b"\n" + marshal.dumps("a string, not code"),
        lambda data: b"",
        lambda data: data.replace(b"meshgen-template ", b"meshgen-template 0.0 ", 1),
    ],
    ids=["truncated", "garbage", "not-code", "empty", "other-jinja"],
)
def test_a_damaged_or_foreign_entry_is_compiled_again_and_rewritten(
    tmp_path: Path, damage: object
) -> None:
    folder = tmp_path / "cache"
    _render(CompiledTemplates(folder), "hello {{ who }}")
    [entry] = folder.glob("*.code")
    good = entry.read_bytes()
    entry.write_bytes(damage(good))  # type: ignore[operator]
    cache = CompiledTemplates(folder)
    assert _render(cache, "hello {{ who }}") == "hello mesh"
    assert (cache.hits, cache.misses) == (0, 1)
    assert entry.read_bytes() == good


def _forged_entry(folder: Path) -> None:
    """An entry for `hello {{ who }}` holding the code of another template: what someone
    who can write to the folder could plant."""
    _render(CompiledTemplates(folder), "hello {{ who }}")
    [entry] = folder.glob("*.code")
    header = entry.read_bytes().split(b"\n", 1)[0] + b"\n"
    planted = jinja2.Environment(autoescape=True).compile("planted", name="page")
    entry.write_bytes(header + marshal.dumps(planted))


def test_entries_of_a_folder_others_can_write_are_not_used(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    _forged_entry(folder)
    # The user's own private folder is trusted like Python's bytecode folder...
    assert _render(CompiledTemplates(folder), "hello {{ who }}") == "planted"
    # ...a folder others can write to is not, and nothing is written to it either.
    folder.chmod(0o777)
    cache = CompiledTemplates(folder)
    assert _render(cache, "hello {{ who }}") == "hello mesh"
    assert (cache.hits, len(list(folder.glob("*")))) == (0, 1)


def test_a_cache_folder_that_is_a_link_is_not_used(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    _forged_entry(target)
    link = tmp_path / "cache"
    link.symlink_to(target)
    assert _render(CompiledTemplates(link), "hello {{ who }}") == "hello mesh"


def test_a_cache_that_cannot_be_written_costs_nothing_but_time(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be")
    cache = CompiledTemplates(blocker / "cache")
    assert _render(cache, "hello {{ who }}") == "hello mesh"
    assert _render(cache, "hello {{ who }}") == "hello mesh"
    assert cache.hits == 0


def test_environments_of_other_syntax_do_not_share_entries(tmp_path: Path) -> None:
    cache = CompiledTemplates(tmp_path / "cache")
    source = "<< who >> {{ who }}"
    assert _render(cache, source) == "<< who >> mesh"
    other = jinja2.Environment(
        loader=jinja2.DictLoader({"page": source}),
        bytecode_cache=cache,
        variable_start_string="<<",
        variable_end_string=">>",
        autoescape=True,
        **ENVIRONMENT_SETTINGS,
    )
    assert other.get_template("page").render(who="mesh") == "mesh {{ who }}"


def test_new_keeps_its_compiled_templates_in_the_cache_folder_unless_told_not_to(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHGEN_CACHE_DIR", str(tmp_path / "cache"))
    invoke(["new", str(tmp_path / "one"), "--no-input", "--no-git"])
    folder = tmp_path / "cache" / "templates"
    assert len(list(folder.rglob("*.code"))) > 20
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {0o700}

    monkeypatch.setenv("MESHGEN_CACHE_DIR", str(tmp_path / "other"))
    monkeypatch.setenv("MESHGEN_NO_CACHE", "1")
    invoke(["new", str(tmp_path / "two"), "--no-input", "--no-git"])
    assert not (tmp_path / "other").exists()


@pytest.mark.slow
def test_env_add_with_a_warm_cache_changes_what_it_changes_without_one(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`env add` renders the template twice; with the templates already compiled by
    `meshgen new`, its change is byte for byte the one made without any cache."""
    monkeypatch.setenv("MESHGEN_CACHE_DIR", str(tmp_path / "cache"))
    options = ["--no-input", "--domain", "acme.io", "--acme-email", "ops@acme.io"]
    for name in ("warm", "none"):
        invoke(["new", str(tmp_path / name), "--name", "acme-mesh", *options])
    compiles = _CountingCompiles(monkeypatch)
    invoke(["-C", str(tmp_path / "warm"), "env", "add", "qa", "--commit"])
    compiled_warm = compiles.count
    monkeypatch.setenv("MESHGEN_NO_CACHE", "1")
    invoke(["-C", str(tmp_path / "none"), "env", "add", "qa", "--commit"])
    compiled_none = compiles.count - compiled_warm
    # Each of the two renders loaded every template file instead of compiling it.
    entries = len(list((tmp_path / "cache").rglob("*.code")))
    assert compiled_warm == compiled_none - 2 * entries, (compiled_warm, compiled_none)
    warm, none = (
        {k: v for k, v in _tree(tmp_path / name).items() if not k.startswith(".git/")}
        for name in ("warm", "none")
    )
    assert "environments/qa/first-app.yaml" in warm
    assert warm == none


def test_an_entry_that_is_a_link_or_someone_elses_is_not_used(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    _forged_entry(folder)
    [entry] = folder.glob("*.code")
    elsewhere = tmp_path / "elsewhere.code"
    entry.replace(elsewhere)
    entry.symlink_to(elsewhere)
    assert _render(CompiledTemplates(folder), "hello {{ who }}") == "hello mesh"
    entry.unlink()
    elsewhere.replace(entry)
    if os.getuid() != 0:
        pytest.skip("handing a file to another user needs root")
    os.chown(entry, 65534, 65534)
    assert _render(CompiledTemplates(folder), "hello {{ who }}") == "hello mesh"


def test_templates_compiled_with_constant_folding_are_not_kept(tmp_path: Path) -> None:
    """The optimizer runs filters while compiling: such code could hold a result from a
    release of the filter that computed it differently."""
    cache = CompiledTemplates(tmp_path / "cache")
    environment = jinja2.Environment(
        loader=jinja2.DictLoader({"page": "{{ 'a' | upper }}"}),
        bytecode_cache=cache,
        autoescape=True,
    )
    assert environment.get_template("page").render() == "A"
    assert not list((tmp_path / "cache").glob("*.code"))


def test_a_filter_of_another_kind_under_the_same_name_does_not_share_entries(
    tmp_path: Path,
) -> None:
    """Whether a filter is passed the context is compiled in."""
    cache = CompiledTemplates(tmp_path / "cache")
    source = "{{ who | shout }}"

    def shout(value: str) -> str:
        return value.upper()

    @jinja2.pass_context
    def shout_in_context(context: object, value: str) -> str:
        return value.upper() + "!"

    for function, expected in ((shout, "MESH"), (shout_in_context, "MESH!")):
        environment = jinja2.Environment(
            loader=jinja2.DictLoader({"page": source}),
            bytecode_cache=cache,
            autoescape=True,
            **ENVIRONMENT_SETTINGS,
        )
        environment.filters["shout"] = function
        assert environment.get_template("page").render(who="mesh") == expected


def test_what_a_killed_write_left_is_removed_an_hour_later(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    old, recent = folder / f"{TEMPORARY_PREFIX}old", folder / f"{TEMPORARY_PREFIX}recent"
    for path in (old, recent):
        path.write_bytes(b"half an entry")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert _render(CompiledTemplates(folder), "hello {{ who }}") == "hello mesh"
    assert not old.exists()
    assert recent.exists()
