"""AppProject permissions decided as Argo CD decides them (sourceRepos, destinations)."""

from __future__ import annotations

import pytest

from meshgen.platform.argocd import (
    Destination,
    Destinations,
    destination_permitted,
    source_permitted,
)

REPO = "https://github.com/acme/acme-mesh.git"


@pytest.mark.parametrize(
    ("patterns", "url", "permitted"),
    [
        ([REPO], REPO, True),
        # Argo CD compares normalised URLs: case and a `.git` suffix do not matter.
        (["https://GitHub.com/acme/acme-mesh"], REPO, True),
        (["git@github.com:acme/acme-mesh.git"], "ssh://git@github.com/acme/acme-mesh", True),
        (["https://github.com/acme/*"], REPO, True),
        # `*` stops at `/` in repository URLs; `**` does not.
        (["https://github.com/*"], REPO, False),
        (["https://github.com/**"], REPO, True),
        (["https://github.com/acme/{acme-mesh,other}"], REPO, True),
        (["https://github.com/acme/acme-mes?"], REPO, True),
        (["*"], REPO, True),
        (["https://github.com/acme/other.git"], REPO, False),
        ([], REPO, False),
        # A deny entry refuses what it matches, whatever else allows it.
        (["*", "!https://github.com/acme/*"], REPO, False),
        (["https://github.com/acme/*", "!https://github.com/evil/*"], REPO, True),
        (["https://charts.jetstack.io"], "https://charts.jetstack.io/", False),
    ],
)
def test_source_repos_match_as_in_argo_cd(patterns: list[str], url: str, permitted: bool) -> None:
    assert source_permitted(patterns, url) is permitted


def _dest(name: str = "", server: str = "", namespace: str = "") -> Destination:
    return Destination(name, server, namespace)


@pytest.mark.parametrize(
    ("allowed", "wanted", "permitted"),
    [
        (
            [_dest("acme-staging", namespace="staging")],
            _dest("acme-staging", namespace="staging"),
            True,
        ),
        (
            [_dest("acme-staging", namespace="staging")],
            _dest("acme-staging", namespace="prod"),
            False,
        ),
        (
            [_dest("acme-*", namespace="*")],
            _dest("acme-production", namespace="istio-system"),
            True,
        ),
        # Destination globs have no separator: `*` spans `/` and `.`.
        (
            [_dest(server="https://*", namespace="*")],
            _dest(server="https://k8s.acme.io/x", namespace="a"),
            True,
        ),
        ([_dest(server="https://a", namespace="*")], _dest("acme-staging", namespace="a"), False),
        (
            [_dest("*", namespace="*"), _dest("*", namespace="!kube-system")],
            _dest("acme-staging", namespace="kube-system"),
            False,
        ),
        ([], _dest("acme-staging", namespace="staging"), False),
    ],
)
def test_destinations_match_as_in_argo_cd(
    allowed: list[Destination], wanted: Destination, permitted: bool
) -> None:
    assert destination_permitted(allowed, wanted) is permitted


@pytest.mark.parametrize(
    "allowed",
    [
        [_dest("acme-staging", namespace="staging"), _dest("acme-*", namespace="istio-*")],
        [_dest(server="https://a", namespace="x"), _dest("*", namespace="!kube-system")],
        [_dest("acme-staging", namespace="staging"), _dest(server="https://b", namespace="*")],
    ],
)
def test_the_indexed_destinations_decide_as_the_plain_match(allowed: list[Destination]) -> None:
    indexed = Destinations(allowed)
    for wanted in (
        _dest("acme-staging", namespace="staging"),
        _dest("acme-staging", namespace="istio-system"),
        _dest("acme-production", namespace="staging"),
        _dest(server="https://a", namespace="x"),
        _dest(server="https://b", namespace="kube-system"),
        _dest("other", namespace="kube-system"),
    ):
        assert indexed.permit(wanted) is destination_permitted(allowed, wanted), wanted
