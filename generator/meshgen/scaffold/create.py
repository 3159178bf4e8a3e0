"""Write a new GitOps repository: render in a scratch folder, then move it into place."""

from __future__ import annotations

import contextlib
import glob
import re
import shutil
import stat
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshgen import TEMPLATE_VERSION, __version__, resources, safefs
from meshgen.errors import ConfigError, TemplateError
from meshgen.git import commit as vcs
from meshgen.git.plumbing import gitpython
from meshgen.scaffold.answers import GITOPS_ENGINES, Answers

if TYPE_CHECKING:
    from jinja2.bccache import BytecodeCache

PER_ENVIRONMENT_DIR = "per-environment"
STALE_SCRATCH_SECONDS = 3600
PRODUCTION_PROFILE_PREFIX = "prod"
# The defaults' `host:` line, and a host YAML writes as it is: a plain word of a DNS name.
_HOST_LINE = re.compile(r"^host:.*$", re.MULTILINE)
_PLAIN_HOST_LINE = re.compile(r"host: [a-z0-9][-a-z0-9.]*")
_PLAIN_HOST = re.compile(r"[a-z][-a-z0-9]*(\.[-a-z0-9]+)+")
# What would make a line edit read differently: another document, a directive, or a
# line continuing the host's value (indented, right after it).
_NOT_ONE_PLAIN_DOCUMENT = re.compile(r"^(---|\.\.\.|%)|^host:.*\n[ \t]+\S", re.MULTILINE)


@dataclass(frozen=True)
class GenerationResult:
    path: Path
    commit: str | None
    files: tuple[str, ...]
    fallback_author: str | None = None
    """Who the first commit names when git had no identity (meshgen's own)."""
    enclosing_repository: Path | None = None
    """The git repository DEST was written inside, so the new one is nested in it."""


def check_destination(dest: Path) -> None:
    """DEST must not exist, or be an empty folder; its parent must exist."""
    if dest.exists() or dest.is_symlink():
        if not dest.is_dir() or dest.is_symlink():
            raise ConfigError(f"{dest} exists and is not a folder; choose a new path")
        if any(dest.iterdir()):
            raise ConfigError(f"{dest} is not empty; choose a new or empty folder")
    if not dest.parent.is_dir():
        raise ConfigError(f"{dest.parent} does not exist; create it first")


def generate(
    answers: Answers, dest: Path, *, git: bool = True, template_cache: Path | None = None
) -> GenerationResult:
    """Render the repository for `answers` at `dest`, and make the first commit.

    Everything is written in a scratch folder beside `dest` and renamed into place only
    when complete: on any failure `dest` is as it was. Compiled templates are kept in
    `template_cache` across runs (see scaffold.compiled), when given.
    """
    answers.validate()
    dest = dest.absolute()
    check_destination(dest)
    if git:
        _import_gitpython_meanwhile()
    _remove_stale_scratch(dest)
    scratch = Path(tempfile.mkdtemp(prefix=_scratch_prefix(dest), dir=dest.parent))
    try:
        built = build(answers, scratch, template_cache=template_cache)
        # Asked after rendering, which GitPython's import (that this needs) overlaps.
        enclosing = vcs.enclosing_work_tree(dest.parent) if git else None
        files = tuple(
            sorted(p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file())
        )
        first = vcs.first_commit(built, _commit_message(answers)) if git else None
        if dest.exists():
            _move_into(built, dest)
        else:
            built.replace(dest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return GenerationResult(
        path=dest,
        commit=first.sha if first else None,
        files=files,
        fallback_author=str(first.fallback_identity) if first and first.fallback_identity else None,
        enclosing_repository=enclosing,
    )


def _scratch_prefix(dest: Path) -> str:
    return f".{dest.name}.meshgen-"


def _remove_stale_scratch(dest: Path) -> None:
    """Remove the scratch folders a killed `meshgen new DEST` left beside DEST (a SIGKILL
    leaves no chance to), once they are an hour old: no run takes that long, so none is
    in use."""
    stale_before = time.time() - STALE_SCRATCH_SECONDS
    for folder in dest.parent.glob(f"{glob.escape(_scratch_prefix(dest))}*"):
        with contextlib.suppress(OSError):
            info = folder.lstat()
            if stat.S_ISDIR(info.st_mode) and info.st_mtime < stale_before:
                shutil.rmtree(folder)


def _import_gitpython_meanwhile() -> None:
    """Import GitPython (and let it probe git) in a thread while the template renders.

    Rendering waits on the template's hook processes, during which the interpreter is
    idle; GitPython's import, a sizeable part of `meshgen new`, fits there. The first
    commit imports it again in this thread: Python's import lock makes it wait for this
    import, and a failure is raised there, with its clear message.
    """

    def load() -> None:
        with contextlib.suppress(Exception):
            gitpython()

    threading.Thread(target=load, name="import-gitpython", daemon=True).start()


def _move_into(built: Path, dest: Path) -> None:
    """Move the tree into an existing empty folder, entry by entry, or not at all.

    The folder itself stays: it may be the shell's current directory (`meshgen new .`),
    a mount point, or carry ownership and ACLs its owner chose. On a failure, what was
    moved is removed again, leaving the folder empty as it was.
    """
    moved: list[Path] = []
    try:
        for entry in sorted(built.iterdir()):
            target = dest / entry.name
            entry.replace(target)
            moved.append(target)
    except BaseException:
        for target in moved:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        raise


def _commit_message(answers: Answers) -> str:
    environments = ", ".join(answers.environments)
    return (
        f"Initial commit: {answers.name}, generated by meshgen {__version__}\n\n"
        f"GitOps engine: {answers.gitops}\nEnvironments: {environments}\n"
    )


def build(
    answers: Answers,
    scratch: Path,
    data: Path | None = None,
    template_version: int = TEMPLATE_VERSION,
    template_cache: Path | None = None,
) -> Path:
    """Render the repository for `answers` into a new folder under `scratch`.

    `data` holds the template, charts/ and environments/ (default: the ones meshgen
    ships); `meshgen update` renders an earlier template version from its archive.
    Compiled templates are kept in `template_cache` across runs, when given.
    """
    from cookiecutter.exceptions import CookiecutterException

    from meshgen.scaffold.compiled import CompiledTemplates

    # One folder per template version: `meshgen update` renders two, whose files have
    # the same names, and each keeps its own.
    compiled = (
        CompiledTemplates(template_cache / f"template-{template_version}")
        if template_cache is not None
        else None
    )

    data = data or resources.data_root()
    context = answers.cookiecutter_context(__version__, template_version)
    template = data / "cookiecutter-template"
    # cookiecutter writes each rendered hook script to the temporary folder and never
    # removes it: point its temporary files into the scratch folder, removed with it.
    private_tmp = scratch / ".tmp"
    private_tmp.mkdir()
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = str(private_tmp)
    try:
        project = _cookiecutter(template, context, scratch, compiled)
    except CookiecutterException as exc:
        raise TemplateError(f"cookiecutter template {template}: {exc}") from None
    finally:
        tempfile.tempdir = saved_tempdir
    shutil.rmtree(private_tmp, ignore_errors=True)
    _render_per_environment(template / PER_ENVIRONMENT_DIR, project, context, answers, compiled)
    _copy_chart(answers, project, data)
    _write_environment_files(answers, project, data)
    return project


def _cookiecutter(
    template: Path,
    extra_context: dict[str, Any],
    output_dir: Path,
    compiled: BytecodeCache | None = None,
) -> Path:
    """What `cookiecutter.main.cookiecutter(template, no_input=True, ...)` does for a local
    template, with cookiecutter's own functions, and nothing else.

    The main entry point first looks the template up as a repository (a URL, a zip, an
    abbreviation), which imports an HTTP client and its dependencies: about half of
    `meshgen new`'s start-up, for a template that is always a local folder. The user's
    cookiecutter config and replay folder stay out of it, as `default_config` and no
    replay did; the hooks run as they do from the cookiecutter CLI. `compiled` reaches
    cookiecutter's Jinja environment through the context's `_jinja2_env_vars`, the
    template's own way to configure it.
    """
    from cookiecutter.generate import generate_context, generate_files
    from cookiecutter.hooks import run_pre_prompt_hook
    from cookiecutter.prompt import prompt_for_config

    from meshgen.scaffold.compiled import ENVIRONMENT_SETTINGS

    repo_dir = str(run_pre_prompt_hook(str(template)))
    # A template's local Jinja extensions are importable from its folder while it renders.
    saved_path = list(sys.path)
    sys.path.append(repo_dir)
    try:
        context = generate_context(
            context_file=str(Path(repo_dir) / "cookiecutter.json"),
            default_context={},
            extra_context=extra_context,
        )
        context["_cookiecutter"] = {
            k: v for k, v in context["cookiecutter"].items() if not k.startswith("_")
        }
        context["cookiecutter"].update(prompt_for_config(context, no_input=True))
        context["cookiecutter"]["_template"] = str(template)
        context["cookiecutter"]["_output_dir"] = str(output_dir.absolute())
        context["cookiecutter"]["_repo_dir"] = repo_dir
        context["cookiecutter"]["_checkout"] = None
        if compiled is not None:
            settings = dict(context["cookiecutter"].get("_jinja2_env_vars") or {})
            context["cookiecutter"]["_jinja2_env_vars"] = {
                **settings,
                **ENVIRONMENT_SETTINGS,
                "bytecode_cache": compiled,
            }
        project = generate_files(
            repo_dir=repo_dir, context=context, output_dir=str(output_dir), accept_hooks=True
        )
    finally:
        sys.path[:] = saved_path
        if repo_dir != str(template):  # a pre_prompt hook ran in a copy of the template
            shutil.rmtree(repo_dir, ignore_errors=True)
    return Path(project)


def _render_per_environment(
    source: Path,
    project: Path,
    context: dict[str, Any],
    answers: Answers,
    compiled: BytecodeCache | None = None,
) -> None:
    """Files under per-environment/ are rendered once per environment (`{{ environment }}`);
    one that renders to nothing (an optional part left out) is not written."""
    from cookiecutter.environment import StrictEnvironment
    from jinja2 import DictLoader
    from jinja2 import TemplateError as JinjaError

    from meshgen.scaffold.compiled import ENVIRONMENT_SETTINGS

    templates: dict[str, str] = {}
    for template_path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = template_path.relative_to(source).as_posix()
        # Decided before compiling: the other engine's files are most of the work saved.
        if not _belongs_to_other_engine(relative, answers.gitops):
            templates[relative] = template_path.read_text(encoding="utf-8")
    # Loaded by name, both the path and the content of each file, so that `compiled`
    # keeps them: Jinja compiles a template given as a string every time.
    jinja = StrictEnvironment(
        context={"cookiecutter": context},
        keep_trailing_newline=True,
        loader=DictLoader(
            {f"path:{name}": name for name in templates}
            | {f"content:{name}": text for name, text in templates.items()}
        ),
        bytecode_cache=compiled,
        **(ENVIRONMENT_SETTINGS if compiled is not None else {}),
    )
    for relative in templates:
        try:
            # Compiled once, rendered once per environment.
            target_template = jinja.get_template(f"path:{relative}")
            content_template = jinja.get_template(f"content:{relative}")
        except JinjaError as exc:
            raise TemplateError(f"{source / relative}: {exc}") from None
        for environment in answers.environments:
            variables = {"cookiecutter": context, "environment": environment}
            try:
                target = target_template.render(**variables)
                content = content_template.render(**variables)
            except JinjaError as exc:
                raise TemplateError(f"{source / relative}: {exc}") from None
            # An optional part that was not asked for renders to nothing: no file.
            if not content.strip():
                continue
            out = project / target
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(content, encoding="utf-8")


def _belongs_to_other_engine(relative: str, engine: str) -> bool:
    """Per-environment files under gitops/<engine>/ exist only for the chosen engine.

    The same rule as the template's post-generation hook, which removes the other
    engine's folder before per-environment files are rendered. It is decided on the
    template's own path, so the engine's folder must be named there literally.
    """
    parts = relative.split("/")
    if len(parts) <= 2 or parts[0] != "gitops":
        return False
    if parts[1] not in GITOPS_ENGINES:
        raise TemplateError(
            f"per-environment/{relative}: files under gitops/ go in a folder named after "
            f"their engine ({', '.join(GITOPS_ENGINES)}), not {parts[1]!r}"
        )
    return parts[1] != engine


def _copy_chart(answers: Answers, project: Path, data: Path) -> None:
    source = data / "charts" / "first-app"
    target = project / "charts" / answers.app_name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.tgz"))


def profile_for(environment: str) -> str:
    """Which default environment file an environment starts from: production-like or
    staging-like."""
    return "production" if environment.startswith(PRODUCTION_PROFILE_PREFIX) else "staging"


def default_host(answers: Answers, environment: str) -> str:
    return f"{answers.app_name}.{environment}.{answers.domain}"


def _write_environment_files(answers: Answers, project: Path, data: Path) -> None:
    defaults = data / "environments" / "defaults"
    for environment in answers.environments:
        source = defaults / f"{profile_for(environment)}.yaml"
        target = project / "environments" / environment / f"{answers.app_name}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        text = environment_file_text(source, default_host(answers, environment))
        target.write_text(text, encoding="utf-8")


def environment_file_text(defaults: Path, host: str) -> str:
    """The defaults of `defaults` with `host:` set to `host`, every comment kept.

    The shipped defaults write `host:` on one top-level line of its own, in a single
    document: then that line is replaced in the text, which for them gives the bytes a
    round-trip edit writes (tested for every template version) without reading YAML.
    Defaults of any other shape are edited with the round-trip reader.
    """
    text = safefs.read_text(defaults)
    lines = _HOST_LINE.findall(text)
    if (
        len(lines) == 1
        and _PLAIN_HOST_LINE.fullmatch(lines[0])
        and _PLAIN_HOST.fullmatch(host)
        and text.endswith("\n")
        and not _NOT_ONE_PLAIN_DOCUMENT.search(text)
    ):
        return _HOST_LINE.sub(f"host: {host}", text)
    from meshgen import yamlio
    from meshgen.environment_file import EnvironmentFile

    tree = EnvironmentFile.parse(text, defaults).tree
    tree["host"] = host
    return yamlio.dumps_roundtrip(tree)
