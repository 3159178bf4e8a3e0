"""The answers a new repository is made from, validated before anything is rendered."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from meshgen.credentials import credential_in_text, short
from meshgen.errors import ConfigError

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
# The environment files' schema: the last label (the top-level domain) starts with a
# letter, so neither 1.2.3.4 nor acme.123 is a domain.
HOSTNAME = re.compile(
    r"^(?=.{1,253}\Z)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?\Z"
)
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\Z")
AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d\Z")
REPO_URL = re.compile(r"^(https://|ssh://|git@)[^\s{}%#<>\"']+\Z")
KUBERNETES_MINOR = re.compile(r"^1\.\d{2}\Z")
GITOPS_ENGINES = ("argocd", "flux")
SCP_LIKE_URL = re.compile(r"^(?P<user>[^@/\s]+)@(?P<host>[^:/\s]+):(?P<path>[^\s]+)\Z")
# The chart's Chart.yaml says kubeVersion >= 1.29.
MIN_KUBERNETES_MINOR = 29
# Namespaces of Kubernetes itself and of the platform a generated repo installs; an
# environment's app namespace takes the environment's name, so it must not be one.
RESERVED_NAMESPACES = frozenset(
    {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "istio-system",
        "istio-ingress",
        "cert-manager",
        "argocd",
        "flux-system",
    }
)
# Answers that switch an optional platform part on or off: true or false, never text.
SWITCHES = frozenset({"aws_load_balancer_controller", "external_dns"})
# cookiecutter renders answers as Jinja: template syntax in an answer would run.
TEMPLATE_SYNTAX = re.compile(r"\{\{|\{%|\{#|\}\}|%\}|#\}")
# What YAML reads a DNS label written unquoted as, when not text. A label holds only
# lowercase letters, digits and '-', so of the implicit types of YAML 1.1 (PyYAML) and of
# Go's reader (Helm, Argo CD, Flux), only these shapes can match: Go adds `y`/`n`,
# exponents (`1e3`, `1e-3`), `0o17`, and dates with one-digit months and days
# (`2024-1-5`). Tests compare them with both readers' rules over generated labels.
_LABEL_BOOLEANS = {"y": True, "yes": True, "on": True, "true": True}
_LABEL_BOOLEANS |= {"n": False, "no": False, "off": False, "false": False}
_LABEL_NUMBER = re.compile(r"^(\d+(e-?\d+)?|0b[01]+|0o[0-7]+|0x[0-9a-f]+)\Z")
_LABEL_DATE = re.compile(r"^\d{4}-\d\d?-\d\d?\Z")


@dataclass(frozen=True)
class Answers:
    name: str = "acme-mesh"
    gitops: str = "argocd"
    environments: tuple[str, ...] = ("staging", "production")
    region: str = "eu-west-1"
    domain: str = "example.com"
    acme_email: str = "platform@example.com"
    repo_url: str = ""
    kubernetes_version: str = "1.34"
    istio_version: str = "1.30.3"
    cert_manager_version: str = "v1.21.1"
    app_name: str = field(default="first-app")
    # Optional platform parts, off unless asked for (docs/decisions.md says why).
    aws_load_balancer_controller: bool = False
    external_dns: bool = False
    aws_load_balancer_controller_version: str = "1.17.1"
    external_dns_version: str = "1.19.0"

    @property
    def effective_repo_url(self) -> str:
        return self.repo_url or f"https://github.com/example/{self.name}.git"

    def validate(self) -> None:
        """Raise ConfigError naming the first answer that is not acceptable."""
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in SWITCHES:
                if not isinstance(value, bool):
                    raise ConfigError(
                        f"{_option(item.name)}: expected true or false, got {short(value)}"
                    )
                continue
            values = value if isinstance(value, tuple) else (value,)
            for one in values:
                if not isinstance(one, str):
                    raise ConfigError(f"{_option(item.name)}: expected text, got {short(one)}")
                if TEMPLATE_SYNTAX.search(one):
                    raise ConfigError(
                        f"{_option(item.name)}: {short(one)} contains template syntax "
                        "({{, {% or {#), which is not allowed in answers"
                    )
        _expect_name(self.name, "name", "a DNS label: lowercase letters, digits, '-'")
        if len(self.name) > 40:
            raise ConfigError("--name: at most 40 characters (cluster names derive from it)")
        if self.gitops not in GITOPS_ENGINES:
            raise ConfigError(
                f"--gitops: expected one of {', '.join(GITOPS_ENGINES)}, got {self.gitops!r}"
            )
        _check_environments(self.environments)
        _expect(AWS_REGION, self.region, "region", "an AWS region such as eu-west-1")
        _expect(HOSTNAME, self.domain, "domain", "a DNS domain such as example.com")
        _expect(EMAIL, self.acme_email, "acme_email", "an e-mail address for Let's Encrypt")
        if self.repo_url:
            _check_repo_url(self.repo_url, self.gitops)
        _expect(KUBERNETES_MINOR, self.kubernetes_version, "kubernetes_version", "e.g. 1.34")
        _check_kubernetes_version(self.kubernetes_version)
        _expect_name(self.app_name, "app_name", "a DNS label")

    def cookiecutter_context(self, meshgen_version: str, template_version: int) -> dict[str, Any]:
        return {
            "project_name": self.name,
            "project_slug": self.name,
            "gitops": self.gitops,
            "aws_region": self.region,
            "domain": self.domain,
            "acme_email": self.acme_email,
            "repo_url": self.effective_repo_url,
            "kubernetes_version": self.kubernetes_version,
            "istio_version": self.istio_version,
            "cert_manager_version": self.cert_manager_version,
            "app_name": self.app_name,
            "aws_load_balancer_controller": self.aws_load_balancer_controller,
            "aws_load_balancer_controller_version": self.aws_load_balancer_controller_version,
            "external_dns": self.external_dns,
            "external_dns_version": self.external_dns_version,
            "environments": {"names": list(self.environments)},
            "meshgen_version": meshgen_version,
            "template_version": str(template_version),
        }


def _check_environments(environments: tuple[str, ...]) -> None:
    if not environments:
        raise ConfigError("--env: at least one environment is required")
    seen: set[str] = set()
    for environment in environments:
        _expect_name(environment, "env", "a DNS label such as staging")
        if len(environment) > 20:
            raise ConfigError(f"--env: {short(environment)} is longer than 20 characters")
        if environment in RESERVED_NAMESPACES:
            raise ConfigError(
                f"--env: {environment!r} is a namespace the cluster or the platform "
                "already uses (the app namespace is named after the environment); "
                "choose another name"
            )
        if environment in seen:
            raise ConfigError(f"--env: {short(environment)} is given twice")
        seen.add(environment)


def _check_repo_url(repo_url: str, gitops: str) -> None:
    _expect(REPO_URL, repo_url, "repo_url", "an https://, ssh:// or git@ URL")
    if credential_in_text(repo_url) is not None:
        raise ConfigError(
            "--repo-url: holds a password or token, which would be written into the "
            "repository; give the URL without it (the GitOps engine gets its credentials "
            "from a secret, git from its credential helper)"
        )
    scp_like = SCP_LIKE_URL.match(repo_url)
    if gitops == "flux" and scp_like:
        # Flux's GitRepository accepts only http(s):// and ssh:// URLs.
        raise ConfigError(
            f"--repo-url: Flux needs an ssh:// URL, not {short(repo_url)}; use "
            f"ssh://{scp_like['user']}@{scp_like['host']}/{scp_like['path']}"
        )


def _check_kubernetes_version(version: str) -> None:
    """Between the chart's minimum and the newest Kubernetes meshgen can validate against."""
    from meshgen.resources import kubernetes_versions

    newest = kubernetes_versions()[-1]
    minor = int(version.split(".")[1])
    if minor < MIN_KUBERNETES_MINOR or minor > int(newest.split(".")[1]):
        raise ConfigError(
            f"--kubernetes-version: {version} is outside 1.{MIN_KUBERNETES_MINOR}..{newest}, "
            "the versions the first-app chart supports and meshgen validates against"
        )


def _option(field_name: str) -> str:
    """The option an answer is given with, as errors name it (`environments` is --env)."""
    return "--env" if field_name == "environments" else "--" + field_name.replace("_", "-")


def _expect(pattern: re.Pattern[str], value: str, field_name: str, expected: str) -> None:
    if not pattern.match(value):
        raise ConfigError(f"{_option(field_name)}: {short(value)} is not {expected}")


def _expect_name(value: str, field_name: str, expected: str) -> None:
    """A DNS label that YAML also reads as text wherever it is written unquoted."""
    _expect(DNS_LABEL, value, field_name, expected)
    reads_as = label_reading(value)
    if reads_as is not None:
        raise ConfigError(
            f"{_option(field_name)}: {value!r} would be read by YAML as {reads_as}, "
            f"not as a name; choose another, e.g. {field_name.split('_', maxsplit=1)[0]}-{value}"
        )


def label_reading(label: str) -> str | None:
    """What a YAML reader makes of the DNS label `label` written unquoted, when not text.

    `on`, `no` and `y` are booleans in YAML 1.1, `null` is nothing, `104`, `1e3` and
    `0x1f` are numbers, `2024-01-05` a date: a name written unquoted into a YAML file
    must not be one of them, or the file says something else than the answer given.
    """
    if label in _LABEL_BOOLEANS:
        return f"the boolean {str(_LABEL_BOOLEANS[label]).lower()}"
    if label == "null":
        return "null (nothing)"
    if _LABEL_NUMBER.match(label):
        return "a number"
    return "a date" if _LABEL_DATE.match(label) else None


# Keys accepted in a --config-file, in the spelling people write YAML with.
_CONFIG_KEYS = {
    "name": "name",
    "gitops": "gitops",
    "environments": "environments",
    "region": "region",
    "domain": "domain",
    "acmeEmail": "acme_email",
    "acme_email": "acme_email",
    "repoUrl": "repo_url",
    "repo_url": "repo_url",
    "kubernetesVersion": "kubernetes_version",
    "kubernetes_version": "kubernetes_version",
    "awsLoadBalancerController": "aws_load_balancer_controller",
    "aws_load_balancer_controller": "aws_load_balancer_controller",
    "externalDns": "external_dns",
    "external_dns": "external_dns",
}


@dataclass(frozen=True)
class ConfigFileAnswers:
    """The answers a --config-file gives, and where each is written."""

    path: Path
    values: dict[str, Any]
    written: dict[str, tuple[str, int | None]]
    """Answer field -> (its key as written in the file, its line)."""

    def blame(self, error: ConfigError, given: Iterable[str]) -> ConfigError:
        """`error`, about an answer this file gave and no option overrode, as an error of
        the file: its key and line instead of the option's name."""
        option, _, rest = str(error).partition(": ")
        overridden = set(given)
        for answer, (key, line) in self.written.items():
            if option == _option(answer) and answer not in overridden:
                return ConfigError(f"{key}: {rest}", path=self.path, line=line)
        return error


def read_config_file(path: Path) -> ConfigFileAnswers:
    """Answers from a YAML file: a flat mapping, or cookiecutter's `default_context:`."""
    from meshgen import yamlio  # only with --config-file: `meshgen new` reads no YAML else

    data = yamlio.load_roundtrip(path)
    if isinstance(data, Mapping) and isinstance(data.get("default_context"), Mapping):
        data = data["default_context"]
    if not isinstance(data, Mapping):
        raise ConfigError(
            "expected a mapping of answers (name, gitops, environments, ...)", path=path, line=1
        )
    answers: dict[str, Any] = {}
    written: dict[str, tuple[str, int | None]] = {}
    for key, tagged in data.items():
        value = yamlio.to_plain(tagged)
        target = _CONFIG_KEYS.get(str(key))
        if target is None:
            known = ", ".join(sorted({k for k in _CONFIG_KEYS if "_" not in k}))
            raise ConfigError(
                f"unknown key {key!r}; known keys: {known}",
                path=path,
                line=yamlio.line_of(data, key),
            )
        if target == "environments":
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, Sequence):
                raise ConfigError(
                    "`environments` must be a list of names",
                    path=path,
                    line=yamlio.line_of(data, key),
                )
            for name in names:
                _expect_text(name, f"{key}[]", path, yamlio.line_of(data, key))
            answers[target] = tuple(names)
        elif target in SWITCHES:
            if not isinstance(value, bool):
                raise ConfigError(
                    f"`{key}` must be true or false, but YAML reads it as {_yaml_kind(value)}",
                    path=path,
                    line=yamlio.line_of(data, key),
                )
            answers[target] = value
        elif target == "kubernetes_version" and isinstance(value, float):
            # YAML reads 1.30 as the number 1.3.
            raise ConfigError(
                f'`{key}` must be quoted, e.g. {key}: "1.34" (YAML reads {value} as a number)',
                path=path,
                line=yamlio.line_of(data, key),
            )
        else:
            _expect_text(value, str(key), path, yamlio.line_of(data, key))
            answers[target] = str(value)
        written[target] = (str(key), yamlio.line_of(data, key))
    return ConfigFileAnswers(path, answers, written)


def _expect_text(value: Any, key: str, path: Path, line: int | None) -> None:
    """Answers are text: a value YAML read as a number, boolean or list is refused, not
    coerced (`0x1F` would otherwise become `31`, and `yes` `True`)."""
    if not isinstance(value, str):
        raise ConfigError(
            f"`{key}` must be text, but YAML reads it as {_yaml_kind(value)}; "
            f'quote the value, e.g. {key.rstrip("[]")}: "..."',
            path=path,
            line=line,
        )


def answers_from_mapping(values: Mapping[str, Any]) -> Answers:
    """Answers from defaults overridden by `values` (None entries are ignored)."""
    given = {key: value for key, value in values.items() if value not in (None, (), [])}
    if "environments" in given:
        given["environments"] = tuple(given["environments"])
    answers = Answers(**given)
    answers.validate()
    return answers


def _yaml_kind(value: Any) -> str:
    if isinstance(value, str):
        return f"the text {short(value)}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, Mapping):
        return "a mapping"
    return "a list" if isinstance(value, Sequence) else type(value).__name__
