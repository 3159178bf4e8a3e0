"""Who a commit is by: the person git is configured as, or the one named with --author.

A canary step changes production traffic, so its author must be a person: without a
configured identity (a fresh CI runner) the step is refused unless `--author` names one.
Only the first commit of `meshgen new` may fall back to meshgen's own identity.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from meshgen.errors import ConfigError, GitError
from meshgen.git.plumbing import run_git

FALLBACK_NAME = "meshgen"
FALLBACK_EMAIL = "meshgen@localhost"
_AUTHOR = re.compile(r"^\s*([^<>]*[^<>\s])\s*<([^<>\s@]+@[^<>\s@]+)>\s*\Z")


@dataclass(frozen=True)
class Author:
    name: str
    email: str

    @classmethod
    def parse(cls, text: str) -> Author:
        """`Jane Doe <jane@example.com>`, as git writes an author."""
        match = _AUTHOR.match(text)
        if match is None:
            raise ConfigError(
                f"--author: {text!r} is not 'Name <email>', e.g. 'Jane Doe <jane@example.com>'"
            )
        return cls(match.group(1), match.group(2))

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def environment(self) -> dict[str, str]:
        return {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
        }


FALLBACK = Author(FALLBACK_NAME, FALLBACK_EMAIL)


def _name_and_email(top: Path) -> tuple[str, str]:
    """The author name and e-mail git would use in `top` ("" for one not set)."""
    # The variables git itself reads win over its configuration, as in `git commit`.
    name, email = os.environ.get("GIT_AUTHOR_NAME", ""), os.environ.get("GIT_AUTHOR_EMAIL", "")
    if name and email:
        return name, email
    configured: dict[str, str] = {}
    try:
        # One git process for both keys; of a key set at several levels, the last wins.
        listing = run_git(top, ["config", "--get-regexp", r"^user\.(name|email)$"])
    except GitError:  # neither is set (git exits 1)
        listing = ""
    for line in listing.splitlines():
        key, _, value = line.partition(" ")
        configured[key.lower()] = value.strip()
    return name or configured.get("user.name", ""), email or configured.get("user.email", "")


def configured(top: Path) -> Author | None:
    """The identity git would use for a commit in `top`, when the user set one."""
    name, email = _name_and_email(top)
    return Author(name, email) if name and email else None


def commit_identity(top: Path, author: Author | None) -> dict[str, str]:
    """Environment for a canary commit: `author`, or git's own identity; refused without."""
    if author is not None:
        # git's committer stays the configured one when there is one: --author only
        # says whose change it is, as with `git commit --author`.
        own = configured(top)
        env = author.environment()
        if own is not None:
            env["GIT_COMMITTER_NAME"], env["GIT_COMMITTER_EMAIL"] = own.name, own.email
        return env
    if configured(top) is None:
        raise GitError(
            "git has no identity here (user.name and user.email), and a meshgen "
            "commit needs a person as its author; set one (git config user.name 'Jane Doe' && "
            "git config user.email jane@example.com) or pass --author 'Jane Doe <jane@example.com>'"
        )
    return {}


def first_commit_identity(top: Path) -> tuple[dict[str, str], bool]:
    """Environment for the first commit of `meshgen new`, and whether meshgen's fallback
    stands in for a missing name or e-mail."""
    name, email = _name_and_email(top)
    env: dict[str, str] = {}
    if not name:
        env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = FALLBACK_NAME
    if not email:
        env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = FALLBACK_EMAIL
    return env, bool(env)
