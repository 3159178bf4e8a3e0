"""Pushing a step's branch to origin, and the pull-request link of a GitHub remote."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from meshgen.errors import GitError
from meshgen.git.plumbing import run_git

REMOTE = "origin"
# https://github.com/OWNER/REPO(.git), git@github.com:OWNER/REPO(.git) and
# ssh://git@github.com(:22)/OWNER/REPO(.git): the forms GitHub offers to clone with.
_GITHUB = re.compile(
    r"^(?:https://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com(?::\d+)?/)"
    r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+?)(?:\.git)?/?\Z"
)


@dataclass(frozen=True)
class Pushed:
    remote: str
    pull_request_url: str | None


def pull_request_url(remote_url: str, branch: str) -> str | None:
    """GitHub's "open a pull request" page for `branch`, or None for another host."""
    match = _GITHUB.match(remote_url.strip())
    if match is None:
        return None
    return (
        f"https://github.com/{match.group('owner')}/{match.group('repo')}/pull/new/"
        f"{quote(branch, safe='/')}"
    )


def push_branch(top: Path, branch: str) -> Pushed:
    """`git push -u origin BRANCH`; never forced, never prompting for credentials."""
    try:
        url = run_git(top, ["remote", "get-url", REMOTE]).strip()
    except GitError:
        raise GitError(
            f"the commit is made, but there is no remote {REMOTE!r} to push {branch} to; "
            f"add one (git remote add {REMOTE} URL), then: git push -u {REMOTE} {branch}"
        ) from None
    try:
        # A credential prompt would wait for an answer nobody types in CI.
        run_git(
            top,
            ["push", "--quiet", "--set-upstream", REMOTE, f"refs/heads/{branch}"],
            env={"GIT_TERMINAL_PROMPT": "0"},
            shield=False,
        )
    except GitError as exc:
        raise GitError(
            f"the commit is made on {branch}, but pushing it failed ({exc}); "
            f"push it yourself: git push -u {REMOTE} {branch}"
        ) from None
    return Pushed(REMOTE, pull_request_url(url, branch))
