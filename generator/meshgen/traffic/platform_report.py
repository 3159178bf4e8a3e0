"""The platform part of `meshgen diff`, as text and as the pull-request comment."""

from __future__ import annotations

import re

from meshgen.traffic.platform_diff import PlatformDiff


def text_sections(platform: PlatformDiff, *, others_changed: bool) -> list[str]:
    """The platform part of `meshgen diff` as text; the changed files only when nothing
    else in the diff shows a change, so that a change is never reported as none."""
    lines: list[str] = []
    if platform.versions or platform.notes:
        lines += ["", "Platform:"]
        lines += [f"  {change}" for change in platform.versions]
        lines += [f"  {note}" for note in platform.notes]
    for title, body in (
        ("Platform values:", platform.values),
        ("GitOps and platform objects:", platform.objects),
        ("Rendered platform:", platform.rendered),
    ):
        if body:
            lines += ["", title, *(line.rstrip("\n") for line in ensure_newlines(list(body)))]
    if platform.changed_files and not others_changed and not platform.shown:
        lines += ["", "Changed files:", *(f"  {name}" for name in platform.changed_files)]
    return lines


def markdown_sections(platform: PlatformDiff, *, others_changed: bool, budget: int) -> list[str]:
    """The platform part of the pull-request comment; diffs over `budget` are summarised."""
    out: list[str] = []
    if platform.versions or platform.notes:
        out += ["**Platform**", ""]
        out += [f"- {change}" for change in platform.versions]
        out += [f"- :warning: {note}" for note in platform.notes]
        out.append("")
    for title, body in (
        ("Platform values", platform.values),
        ("GitOps and platform objects", platform.objects),
        ("Rendered platform", platform.rendered),
    ):
        if not body:
            continue
        text = "".join(ensure_newlines(list(body)))
        if len(text) > budget:
            out += [f"**{title}**: diff too long to post; run `meshgen diff` to see it", ""]
            continue
        budget -= len(text)
        fence = "`" * max(3, longest_backtick_run(text) + 1)
        out += [
            f"<details><summary>{title}</summary>",
            "",
            f"{fence}diff",
            text.rstrip("\n"),
            fence,
            "",
            "</details>",
            "",
        ]
    if platform.changed_files and not others_changed and not platform.shown:
        out += ["**Changed files**", "", *(f"- `{name}`" for name in platform.changed_files), ""]
    return out


def ensure_newlines(lines: list[str]) -> list[str]:
    return [
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    ]


def longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)
