"""Editing environment files: only the edited scalars (or lines) change, byte for byte."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshgen import resources, yamlio
from meshgen.errors import ConfigError
from meshgen.traffic.envfile import EnvFile
from meshgen.traffic.steps.weights import shifted

PATH = Path("environments/staging/first-app.yaml")


@dataclass(frozen=True)
class Layout:
    """How a generated file is written; `render` puts weights into the same bytes."""

    names: tuple[str, ...]
    indent: int
    flow_traffic: bool
    spaces_after_colon: int
    inline_comments: tuple[bool, ...]
    quote: str
    header: bool
    blank_before_traffic: bool
    newline: str

    def render(self, weights: dict[str, int]) -> str:
        pad = " " * self.indent
        lines = []
        if self.header:
            lines += ["# first-app in staging", "#   weights: whole percentages"]
        lines += ["host: first-app.staging.example.com", "versions:  # one Deployment each"]
        for number, name in enumerate(self.names):
            lines += [
                f"{pad}{name}:",
                f"{pad}{pad}image:",
                f"{pad}{pad}{pad}repository: docker.io/acme/app",
                f"{pad}{pad}{pad}tag: {self.quote}1.{number}{self.quote}",
                f"{pad}{pad}replicas: {number + 1}",
            ]
        if self.blank_before_traffic:
            lines += ["", "# the canary split"]
        sep = " " * self.spaces_after_colon
        if self.flow_traffic:
            pairs = ", ".join(f"{name}:{sep}{weights[name]}" for name in self.names)
            lines += [f"traffic: {{{pairs}}}  # flow style"]
        else:
            lines.append("traffic:")
            for name, comment in zip(self.names, self.inline_comments, strict=True):
                suffix = f"   # {name} weight" if comment else ""
                lines.append(f"{pad}{name}:{sep}{weights[name]}{suffix}")
        lines.append("gateway:")
        lines.append(f"{pad}issuer: letsencrypt-staging")
        return self.newline.join(lines) + self.newline

    @property
    def canonical(self) -> bool:
        """The formatting ruamel itself writes (2-space indent, one space after colons)."""
        return (
            self.indent == 2
            and not self.flow_traffic
            and self.spaces_after_colon == 1
            and self.newline == "\n"
        )


def _compositions(count: int) -> st.SearchStrategy[list[int]]:
    """Lists of `count` whole numbers 0..100 that sum to 100."""
    cuts = st.lists(st.integers(0, 100), min_size=count - 1, max_size=count - 1)
    return cuts.map(
        lambda c: [b - a for a, b in zip([0, *sorted(c)], [*sorted(c), 100], strict=True)]
    )


@st.composite
def layouts(draw: st.DrawFn) -> tuple[Layout, dict[str, int], dict[str, int]]:
    names = tuple(
        draw(
            st.lists(
                st.from_regex(r"[a-z][a-z0-9]{0,4}", fullmatch=True).filter(
                    # Helm would read these keys as booleans, not version names.
                    lambda name: (
                        name not in {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
                    )
                ),
                min_size=1,
                max_size=4,
                unique=True,
            )
        )
    )
    layout = Layout(
        names=names,
        indent=draw(st.sampled_from([2, 4])),
        flow_traffic=draw(st.booleans()),
        spaces_after_colon=draw(st.sampled_from([1, 3])),
        inline_comments=tuple(
            draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names)))
        ),
        quote=draw(st.sampled_from(['"', "'"])),
        header=draw(st.booleans()),
        blank_before_traffic=draw(st.booleans()),
        newline=draw(st.sampled_from(["\n", "\r\n"])),
    )
    before = dict(zip(names, draw(_compositions(len(names))), strict=True))
    after = dict(zip(names, draw(_compositions(len(names))), strict=True))
    return layout, before, after


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts())
def test_setting_weights_changes_only_those_scalars(
    case: tuple[Layout, dict[str, int], dict[str, int]],
) -> None:
    layout, before, after = case
    text = layout.render(before)
    env = EnvFile.parse(text, PATH)
    assert env.weights() == before
    changed = {name: weight for name, weight in after.items() if before[name] != weight}
    assert env.with_weights(changed) == layout.render(after)
    # Setting every weight to what it already is leaves every byte as it was.
    assert env.with_weights(before) == text


@settings(max_examples=60, deadline=None)
@given(layouts())
def test_untouched_canonical_file_dumps_to_the_same_bytes(
    case: tuple[Layout, dict[str, int], dict[str, int]],
) -> None:
    layout, before, _ = case
    if not layout.canonical:
        return
    text = layout.render(before)
    assert yamlio.dumps_roundtrip(yamlio.loads_roundtrip(text, PATH)) == text


@given(st.lists(st.integers(0, 100), min_size=2, max_size=5), st.integers(1, 100), st.data())
def test_shift_moves_exactly_the_step_and_keeps_the_sum(
    raw: list[int], step: int, data: st.DataObject
) -> None:
    total = sum(raw) or 1
    weights = [w * 100 // total for w in raw]
    weights[0] += 100 - sum(weights)
    current = {f"v{i}": w for i, w in enumerate(weights)}
    to = data.draw(st.sampled_from(sorted(current)))
    after = shifted(current, to, step)
    assert sum(after.values()) == 100
    assert after[to] == min(100, current[to] + step)
    assert all(0 <= w <= 100 for w in after.values())
    assert all(after[v] <= current[v] for v in current if v != to)


def _default_overlay() -> str:
    return (resources.environments_dir() / "defaults" / "staging.yaml").read_text()


def test_adding_a_version_appends_its_block_and_a_zero_weight() -> None:
    text = _default_overlay()
    new = EnvFile.parse(text, PATH).with_version("v3", "docker.io/acme/app", "1.10", 1)
    expected = text.replace(
        "    replicas: 1\ntraffic:\n",
        "    replicas: 1\n"
        "  v3:\n"
        "    image:\n"
        "      repository: docker.io/acme/app\n"
        '      tag: "1.10"\n'
        "    replicas: 1\n"
        "traffic:\n",
    ).replace("  v2: 0\n", "  v2: 0\n  v3: 0\n")
    assert new == expected
    assert EnvFile.parse(new, PATH).version("v3").tag == "1.10"


def test_retiring_a_version_removes_exactly_its_lines() -> None:
    text = _default_overlay()
    new = EnvFile.parse(text, PATH).without_version("v1")
    removed = [line for line in text.splitlines() if line not in new.splitlines()]
    assert removed == [
        "  v1:",
        "      repository: docker.io/istio/examples-helloworld-v1",
        "  v1: 100",
    ]
    assert len(text.splitlines()) - len(new.splitlines()) == 6
    assert EnvFile.parse(new, PATH).version_names == ["v2"]


def test_flow_style_versions_cannot_take_a_new_entry() -> None:
    text = "versions: {v1: {image: {repository: a, tag: '1'}}}\ntraffic: {v1: 100}\n"
    with pytest.raises(ConfigError, match="flow style"):
        EnvFile.parse(text, PATH).with_version("v2", "a", "2", None)


def test_a_weight_written_as_text_is_reported_with_its_line() -> None:
    text = "versions:\n  v1: {image: {repository: a, tag: '1'}}\ntraffic:\n  v1: '100'\n"
    with pytest.raises(ConfigError, match=r"first-app.yaml:4: weight of v1 is '100'"):
        EnvFile.parse(text, PATH).weights()
