"""`meshgen diff` as text and as the pull-request comment: traffic, platform, rendered objects."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from meshgen.traffic.diff import AppState, DiffResult, EnvDiff
from meshgen.traffic.platform_diff import PlatformDiff

# GitHub refuses comments above 65536 characters; keep room for the traffic table.
MARKDOWN_DIFF_BUDGET = 50_000


def render_diff_text(result: DiffResult) -> str:
    lines = [
        f"meshgen diff {result.base_ref}...{result.head_ref} "
        f"({result.base_commit[:12]}..{result.head_commit[:12]})",
        "",
        "Traffic:",
    ]
    for entry in result.entries:
        lines.append(f"  {entry.label}: {', '.join(entry.changes) or 'no change'}")
        lines.extend(f"  {entry.label}: {error}" for error in entry.errors)
    lines += text_sections(result.platform, others_changed=result.apps_changed)
    lines += ["", "Rendered manifests:"]
    diffs = [entry.rendered_diff for entry in result.entries if entry.rendered_diff]
    if result.incomplete:
        lines.append(f"  not compared for {', '.join(result.incomplete)}: did not render (above)")
    if not diffs:
        if not result.incomplete:
            lines.append("  no change")
        return "\n".join(lines) + "\n"
    text = "\n".join(lines) + "\n"
    for diff in diffs:
        text += "".join(ensure_newlines(diff))
    return text


def render_diff_markdown(result: DiffResult) -> str:
    """The pull-request comment: traffic first, a weight table, then the rendered diff."""
    out = [f"### meshgen diff: `{result.base_ref}` -> `{result.head_ref}`", "", "**Traffic**", ""]
    for entry in result.entries:
        changes = ", ".join(entry.changes)
        if changes:
            out.append(f"- **{entry.label}**: {changes}")
        else:
            out.append(f"- {entry.label}: no change")
        out.extend(f"- **{entry.label}**: :warning: {error}" for error in entry.errors)
    out += ["", "| environment | version | image tag | base | head |", "|---|---|---|---|---|"]
    for entry in result.entries:
        out.extend(_weight_rows(entry))
    out.append("")
    budget = MARKDOWN_DIFF_BUDGET
    platform = markdown_sections(
        result.platform, others_changed=result.apps_changed, budget=budget // 2
    )
    budget -= sum(len(line) for line in platform)
    out += [*platform, "**Rendered manifests**", ""]
    shown_any = False
    for entry in result.entries:
        diff = entry.rendered_diff
        if not diff:
            continue
        shown_any = True
        body = "".join(ensure_newlines(diff))
        added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
        removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
        summary = f"{entry.label}: +{added} -{removed} rendered lines"
        if len(body) > budget:
            out += [
                f"- {summary}: diff too long to post; run "
                f"`meshgen diff --base {result.base_ref} --head {result.head_ref} "
                f"--env {entry.environment}`",
                "",
            ]
            continue
        budget -= len(body)
        out += details(summary, body, opened=True)
    if result.incomplete:
        out += [
            f":warning: Not compared for {', '.join(result.incomplete)}: "
            "did not render (see above).",
            "",
        ]
    elif not shown_any and not result.changed:
        out += ["No change.", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _weight_rows(entry: EnvDiff) -> list[str]:
    base = entry.base or AppState({}, {}, {})
    head = entry.head or AppState({}, {}, {})
    rows = []
    for version in dict.fromkeys([*base.tags, *head.tags]):
        tag = head.tags.get(version) or base.tags.get(version, "")
        old = f"{base.weights.get(version, 0)}%" if version in base.tags else "-"
        new = f"{head.weights.get(version, 0)}%" if version in head.tags else "-"
        shown_new = f"**{new}**" if new != old else new
        rows.append(f"| {entry.label} | {version} | {tag} | {old} | {shown_new} |")
    return rows


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
        out += details(title, text, opened=False)
    if platform.changed_files and not others_changed and not platform.shown:
        out += ["**Changed files**", "", *(f"- `{name}`" for name in platform.changed_files), ""]
    return out


def details(summary: str, diff: str, *, opened: bool) -> list[str]:
    """A collapsible section holding `diff` in a fence no backtick run inside can close."""
    fence = "`" * max(3, longest_backtick_run(diff) + 1)
    tag = "<details open>" if opened else "<details>"
    return [
        f"{tag}<summary>{summary}</summary>",
        "",
        f"{fence}diff",
        diff.rstrip("\n"),
        fence,
        "",
        "</details>",
        "",
    ]


def ensure_newlines(lines: list[str]) -> list[str]:
    return [
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    ]


def longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


# The output formats of `meshgen diff --format`, by name.
DIFF_RENDERERS: Mapping[str, Callable[[DiffResult], str]] = {
    "text": render_diff_text,
    "markdown": render_diff_markdown,
}
