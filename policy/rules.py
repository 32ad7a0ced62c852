"""The project's standards as Pulumi policies, for any stack built from the open-webui-redis components.

Kept apart from ``__main__.py`` because constructing a ``PolicyPack`` starts the policy server and blocks:
tests import this module and call each policy's ``validate`` directly.

Two limits of pulumi-policy 1.21 (read from its source) shape these rules:

- Secrets. The engine sends a secret input to the policy server still marked as a secret, but the stock
  server (``Analyze``) unwraps the mark before a rule sees it (pulumi/pulumi-policy#241), so a rule cannot
  tell ``pulumi.Output.secret(env)`` from plain text. ``keep_secret_markers()`` makes the server hand secret
  values over as ``pulumi_policy.Secret``; ``__main__.py`` calls it before it builds the pack.
- Resource options. ``args.opts`` carries ``protect`` but not ``retainOnDelete`` (neither does the engine's
  analyzer protocol), so a volume retained on delete but not protected cannot be told from one that is
  neither: ``data-volume-retained`` checks ``protect``, and ``retain_on_delete`` whenever the SDK reports it.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pulumi_policy.policy
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

PACK_NAME = "open-webui-redis-policy"

CONTAINER = "docker:index/container:Container"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
VOLUME = "docker:index/volume:Volume"

OPEN_WEBUI_PORT = 8080
"""The port Open WebUI listens on inside its container."""
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
MOVING_TAGS = frozenset({"main", "master", "dev", "develop", "edge", "nightly", "canary", "unstable", "cuda", "ollama"})
"""Tags rebuilt from a branch: each pull may bring a different build (Open WebUI's ``cuda``/``ollama`` follow main)."""
SENSITIVE_ENV_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL|REDISCLI_AUTH", re.IGNORECASE)
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^\s/@:]*:[^\s/@]+@", re.IGNORECASE)
"""``scheme://user:password@`` (the user may be empty: ``redis://:pw@host``)."""
NOT_A_CREDENTIAL = frozenset({"", "true", "false", "yes", "no", "on", "off"})
"""Values of sensitive-sounding variables that are switches, not credentials (``ENABLE_API_KEY=true``)."""
PASSWORD_FLAGS = frozenset({"--requirepass", "--masterauth", "--pass"})
CLI_PASSWORD_FLAG = "-a"
"""valkey-cli/redis-cli's password flag; elsewhere ``-a`` means something else."""
CLIS = frozenset({"valkey-cli", "redis-cli"})
SERVERS = frozenset({"valkey-server", "redis-server"})
_VALKEY_NAME = re.compile(r"valkey|redis", re.IGNORECASE)
_OPEN_WEBUI_NAME = re.compile(r"open-?webui", re.IGNORECASE)
_IMAGE_ID = re.compile(r"(?:sha256:)?[0-9a-f]{64}")
_UNKNOWNS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


# ---------------------------------------------------------------------------------------------------------
# Secrets as the policy server hands them over
# ---------------------------------------------------------------------------------------------------------


def deserialize_keeping_secrets(props: Mapping[str, Any]) -> dict[str, Any]:
    """``pulumi_policy``'s ``deserialize_properties``, except that a secret stays wrapped in ``Secret``."""
    return {key: _keep_secret(value) for key, value in props.items()}


def _keep_secret(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            return Secret(_keep_secret(value["value"]))
        if SPECIAL_SIG_KEY in value:  # an asset or an archive: as pulumi_policy reads it
            return deserialize_properties({"value": value})["value"]
        return {key: _keep_secret(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_keep_secret(item) for item in value]
    return value


def keep_secret_markers() -> None:
    """Make this process's policy server pass secret inputs to rules as ``Secret``, not as plain values.

    ``Analyze`` (pulumi-policy 1.21) reads properties through its module's ``deserialize_properties`` with
    ``proxy_secrets=False``, which drops the secret mark; ``Remediate`` asks for ``proxy_secrets=True`` and is
    left as it is. Fails loudly if a later pulumi-policy no longer reads properties that way.
    """
    current = getattr(pulumi_policy.policy, "deserialize_properties", None)
    if current is None:
        raise RuntimeError(
            "pulumi_policy.policy.deserialize_properties is gone: this pulumi-policy reads resource properties "
            "differently; update keep_secret_markers in policy/rules.py"
        )
    if getattr(current, "keeps_secret_markers", False):
        return

    def deserialize(props: dict[str, Any], proxy_secrets: bool = False) -> Any:
        return current(props, True) if proxy_secrets else deserialize_keeping_secrets(props)

    setattr(deserialize, "keeps_secret_markers", True)  # noqa: B010 - an attribute on a function
    setattr(pulumi_policy.policy, "deserialize_properties", deserialize)  # noqa: B010


def _reveal(value: Any, path: str) -> tuple[Any, bool]:
    """The plain value and whether it was a Pulumi secret; raises for a value unknown during preview."""
    secret = False
    while isinstance(value, Secret):
        value, secret = value.value, True
    if isinstance(value, str) and value in _UNKNOWNS:
        # A secret's content escapes pulumi_policy's unknown-checking proxy: check it here.
        raise UnknownValueError(value, path.split("."))
    return value, secret


def _plain(value: Any, path: str) -> Any:
    return _reveal(value, path)[0]


def _items(value: Any, path: str) -> list[Any]:
    """A list input's items (revealed); an absent input is an empty list."""
    value = _plain(value, path)
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    return [value]


def _known(mapping: Mapping[str, Any], key: str, path: str) -> Any:
    """``mapping[key]`` revealed, or None when absent or unknown during preview (for hints, never for checks)."""
    try:
        return _plain(mapping.get(key), path)
    except UnknownValueError:
        return None


def _known_items(mapping: Mapping[str, Any], key: str, path: str) -> list[Any]:
    """The items of a list input, or none when it is absent or unknown during preview (for hints)."""
    try:
        return _items(mapping.get(key), path)
    except UnknownValueError:
        return []


# ---------------------------------------------------------------------------------------------------------
# What a container runs
# ---------------------------------------------------------------------------------------------------------


def _container_name(args: ResourceValidationArgs) -> str:
    name = _known(args.props, "name", "name")
    return name if isinstance(name, str) and name else args.name


def _image_reference(args: ResourceValidationArgs) -> str | None:
    """The image reference a container names, or None for an image ID (``RemoteImage.image_id``)."""
    image = _known(args.props, "image", "image")
    if not isinstance(image, str) or _IMAGE_ID.fullmatch(image):
        return None
    return image


def _program(args: ResourceValidationArgs) -> str | None:
    """The basename of the program a container starts, when its command or entrypoint names one."""
    for field in ("entrypoints", "command"):
        items = _known_items(args.props, field, field)
        if items and isinstance(items[0], str):
            return items[0].rsplit("/", 1)[-1]
    return None


def _names(args: ResourceValidationArgs) -> list[str]:
    """The container's Docker name, image reference and network aliases: what says what it runs."""
    names = [_container_name(args), _image_reference(args) or ""]
    for index, network in enumerate(_known_items(args.props, "networksAdvanced", "networksAdvanced")):
        if isinstance(network, Mapping):
            aliases = _known_items(network, "aliases", f"networksAdvanced[{index}].aliases")
            names += [alias for alias in aliases if isinstance(alias, str)]
    return names


def _ports(args: ResourceValidationArgs) -> list[Mapping[str, Any]]:
    return [port for port in _items(args.props.get("ports"), "ports") if isinstance(port, Mapping)]


def _publishes_open_webui_port(args: ResourceValidationArgs) -> bool:
    ports = [port for port in _known_items(args.props, "ports", "ports") if isinstance(port, Mapping)]
    return any(_known(port, "internal", "ports.internal") == OPEN_WEBUI_PORT for port in ports)


def runs_valkey(args: ResourceValidationArgs) -> bool:
    """Whether the container runs Valkey or Redis: its program, or its name/image/alias and not Open WebUI's."""
    if _program(args) in SERVERS:
        return True
    names = _names(args)
    if any(_OPEN_WEBUI_NAME.search(name) for name in names) or _publishes_open_webui_port(args):
        return False
    return any(_VALKEY_NAME.search(name) for name in names)


def runs_open_webui(args: ResourceValidationArgs) -> bool:
    """Whether the container runs Open WebUI: its name or image says so, or it publishes port 8080."""
    if _program(args) in SERVERS:
        return False
    return any(_OPEN_WEBUI_NAME.search(name) for name in _names(args)) or _publishes_open_webui_port(args)


def _describe_port(port: Mapping[str, Any]) -> str:
    ip = _plain(port.get("ip"), "ports.ip") or "0.0.0.0"  # noqa: S104 - Docker's default, described
    external = _plain(port.get("external"), "ports.external")
    internal = _plain(port.get("internal"), "ports.internal")
    protocol = _plain(port.get("protocol"), "ports.protocol") or "tcp"
    host = f"[{ip}]" if ":" in str(ip) else str(ip)
    published = f"{host}:{int(external)}" if external is not None else f"{host}:(random)"
    return f"{published}->{int(internal)}/{protocol}"


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _network_mode(args: ResourceValidationArgs) -> str | None:
    mode = _plain(args.props.get("networkMode"), "networkMode")
    return mode if isinstance(mode, str) else None


# ---------------------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------------------


def _valkey_publishes_no_ports(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CONTAINER or not runs_valkey(args):
        return
    name = _container_name(args)
    ports = _ports(args)
    if ports:
        published = ", ".join(_describe_port(port) for port in ports)
        report(
            f"container {name!r} runs Valkey/Redis and publishes {published} on the Docker host; remove its ports: "
            "Open WebUI reaches Valkey over the Docker network, by its network alias",
            None,
        )
    if _network_mode(args) == "host":
        report(
            f"container {name!r} runs Valkey/Redis on the host's network (networkMode 'host'), which opens its port "
            "on every interface of the Docker host; attach it to the stack's Docker network instead",
            None,
        )


def _valkey_drops_all_capabilities(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CONTAINER or not runs_valkey(args):
        return
    capabilities = _plain(args.props.get("capabilities"), "capabilities") or {}
    drops = _items(capabilities.get("drops"), "capabilities.drops") if isinstance(capabilities, Mapping) else []
    if not any(isinstance(drop, str) and drop.upper() == "ALL" for drop in drops):
        report(
            f"container {_container_name(args)!r} runs Valkey/Redis without dropping every Linux capability "
            f"(capabilities.drops: {sorted(str(drop) for drop in drops)}); drop ALL and add back only what the "
            "image's entrypoint needs (CAP_DAC_OVERRIDE, CAP_SETGID, CAP_SETUID)",
            None,
        )


def _healthcheck_and_restart(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CONTAINER:
        return
    name = _container_name(args)
    healthcheck = _plain(args.props.get("healthcheck"), "healthcheck") or {}
    tests = _items(healthcheck.get("tests"), "healthcheck.tests") if isinstance(healthcheck, Mapping) else []
    if not tests or tests[0] == "NONE":
        report(
            f"container {name!r} has no healthcheck, so Docker cannot tell a hung service from a healthy one and "
            "`wait` has nothing to wait for; set healthcheck.tests",
            None,
        )
    restart = _plain(args.props.get("restart"), "restart") or "no"
    if restart == "no":
        report(
            f"container {name!r} has restart policy 'no' (Docker's default), so it stays down after a crash or a "
            "restart of the Docker daemon; set restart to 'unless-stopped'",
            None,
        )
    elif restart not in RESTART_POLICIES:
        report(
            f"container {name!r} has restart policy {restart!r}, which Docker refuses; use one of "
            f"{', '.join(RESTART_POLICIES[1:])}",
            None,
        )


def _image_references(args: ResourceValidationArgs) -> Iterator[str]:
    """The image references a resource pulls or runs: a RemoteImage's name, a container's image reference."""
    if args.resource_type == REMOTE_IMAGE:
        reference = _plain(args.props.get("name"), "name")
        if isinstance(reference, str):
            yield reference
    elif args.resource_type == CONTAINER:
        reference = _image_reference(args)
        if reference is not None:
            yield reference


def parse_reference(reference: str) -> tuple[str | None, str | None]:
    """``(tag, digest)`` of an image reference (``registry:5000/path/name:tag@sha256:...``)."""
    name, _, digest = reference.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    return tag, digest or None


def _image_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for reference in _image_references(args):
        tag, digest = parse_reference(reference)
        if digest:
            continue
        if tag is None:
            report(
                f"image {reference!r} has no tag or digest, so Docker pulls 'latest', which changes with every "
                "release; pin a version tag or a digest (@sha256:...)",
                None,
            )
        elif tag == "latest":
            report(
                f"image {reference!r} uses the tag 'latest', which changes with every release; pin a version tag "
                "or a digest (@sha256:...)",
                None,
            )


def _image_tag_not_moving(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for reference in _image_references(args):
        tag, digest = parse_reference(reference)
        if tag in MOVING_TAGS and not digest:
            report(
                f"image {reference!r} uses the moving tag {tag!r}: each pull can bring a different build; pin a "
                "release tag or a digest (@sha256:...) for deployments you can reproduce",
                None,
            )


def _open_webui_loopback_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CONTAINER or args.get_config().get("allowPublicBind") is True:
        return
    if not runs_open_webui(args):
        return
    name = _container_name(args)
    remedy = (
        "publish it on 127.0.0.1 (openWebui.bindAddress) behind a reverse proxy with TLS, or allow it for this "
        "stack with the policy config allowPublicBind: true"
    )
    for port in _ports(args):
        ip = _plain(port.get("ip"), "ports.ip") or "0.0.0.0"  # noqa: S104 - Docker's default, checked
        if not _is_loopback(str(ip)):
            report(
                f"container {name!r} publishes Open WebUI ({_describe_port(port)}) on {ip}, which other hosts can "
                f"reach; {remedy}",
                None,
            )
    if _network_mode(args) == "host":
        report(
            f"container {name!r} runs Open WebUI on the host's network (networkMode 'host'), so port "
            f"{OPEN_WEBUI_PORT} is open on every interface of the Docker host; {remedy}",
            None,
        )


def _credential_in_words(words: list[Any]) -> str | None:
    """What in a command line (items revealed, secret items as ``Secret``) carries a password, or None."""
    tokens: list[Any] = []
    for word in words:
        if isinstance(word, str) and any(char.isspace() for char in word):
            try:
                tokens += shlex.split(word)  # a shell string: sh -c "valkey-server --requirepass ..."
            except ValueError:
                tokens += word.split()
        else:
            tokens.append(word)
    strings = [token for token in tokens if isinstance(token, str)]
    is_cli = any(token.rsplit("/", 1)[-1] in CLIS for token in strings)
    for index, token in enumerate(tokens):
        if not isinstance(token, str):
            continue  # a secret item
        if URL_WITH_PASSWORD.search(token):
            return "a URL with a password"
        if token in PASSWORD_FLAGS or (is_cli and token == CLI_PASSWORD_FLAG):
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if isinstance(following, str) and following and not following.startswith("$"):
                return token
    return None


def _no_plaintext_credentials(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CONTAINER:
        return
    name = _container_name(args)
    envs, envs_secret = _reveal(args.props.get("envs"), "envs")
    if not envs_secret and envs is not None:
        for index, entry in enumerate(envs):
            value, secret = _reveal(entry, f"envs[{index}]")
            if secret or not isinstance(value, str):
                continue
            variable, _, content = value.partition("=")
            if SENSITIVE_ENV_NAME.search(variable) and content.lower() not in NOT_A_CREDENTIAL:
                what = "a credential"
            elif URL_WITH_PASSWORD.search(content):
                what = "a URL with a password"
            else:
                continue
            report(
                f"container {name!r}: environment variable {variable} holds {what} in plain text, stored unencrypted "
                "in the stack's state; pass envs as a Pulumi secret (pulumi.Output.secret)",
                None,
            )
    lines: list[tuple[str, Any]] = [(field, args.props.get(field)) for field in ("command", "entrypoints")]
    healthcheck, healthcheck_secret = _reveal(args.props.get("healthcheck"), "healthcheck")
    if isinstance(healthcheck, Mapping) and not healthcheck_secret:
        lines.append(("healthcheck.tests", healthcheck.get("tests")))
    for field, line in lines:
        words, secret = _reveal(line, field)
        if secret or words is None:
            continue
        found = _credential_in_words(
            [item if isinstance(item, Secret) else _plain(item, f"{field}[{i}]") for i, item in enumerate(words)]
        )
        if found:
            report(
                f"container {name!r}: {field} passes a password in plain text ({found}), readable with "
                "`docker inspect` and stored unencrypted in the stack's state; put it in a file (uploads) or a "
                "secret environment variable (REDISCLI_AUTH for valkey-cli), as a Pulumi secret",
                None,
            )


def _data_volume_retained(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != VOLUME or args.opts.protect:
        return
    retain = getattr(args.opts, "retain_on_delete", None)
    if retain is None:
        args.not_applicable(
            "this pulumi-policy does not report retainOnDelete and the volume is not protected, so whether its data "
            "survives `pulumi destroy` cannot be checked"
        )
        return
    if not retain:
        volume = _known(args.props, "name", "name") or args.name
        report(
            f"volume {volume!r} is neither retained on delete nor protected, so `pulumi destroy` or a replacement "
            "deletes its data; set retainVolume: true (retainOnDelete) or protect it",
            None,
        )


# ---------------------------------------------------------------------------------------------------------
# The policies
# ---------------------------------------------------------------------------------------------------------

VALKEY_PUBLISHES_NO_PORTS = ResourceValidationPolicy(
    name="valkey-publishes-no-ports",
    description="Valkey/Redis publishes no port on the Docker host.",
    validate=_valkey_publishes_no_ports,
)
VALKEY_DROPS_ALL_CAPABILITIES = ResourceValidationPolicy(
    name="valkey-drops-all-capabilities",
    description="Valkey/Redis runs with every Linux capability dropped (capabilities.drops contains ALL).",
    validate=_valkey_drops_all_capabilities,
)
CONTAINER_HEALTHCHECK_AND_RESTART = ResourceValidationPolicy(
    name="container-healthcheck-and-restart",
    description="Every container has a healthcheck and a restart policy other than 'no'.",
    validate=_healthcheck_and_restart,
)
IMAGE_PINNED = ResourceValidationPolicy(
    name="image-pinned",
    description="Images are pinned to a tag or digest, never 'latest'.",
    validate=_image_pinned,
)
IMAGE_TAG_NOT_MOVING = ResourceValidationPolicy(
    name="image-tag-not-moving",
    description="Images avoid tags rebuilt from a branch (main, dev, edge, nightly, ...).",
    validate=_image_tag_not_moving,
    enforcement_level=EnforcementLevel.ADVISORY,
)
OPEN_WEBUI_LOOPBACK_ONLY = ResourceValidationPolicy(
    name="open-webui-loopback-only",
    description="Open WebUI is published on loopback only (127.0.0.1 or ::1), unless the stack allows otherwise.",
    validate=_open_webui_loopback_only,
    config_schema=PolicyConfigSchema(
        properties={
            "allowPublicBind": {
                "type": "boolean",
                "default": False,
                "description": "Allow Open WebUI on a non-loopback address (behind your own TLS and firewall).",
            }
        }
    ),
)
NO_PLAINTEXT_CREDENTIALS = ResourceValidationPolicy(
    name="no-plaintext-credentials",
    description="No password travels in a container's environment or command line unless it is a Pulumi secret.",
    validate=_no_plaintext_credentials,
)
DATA_VOLUME_RETAINED = ResourceValidationPolicy(
    name="data-volume-retained",
    description="Data volumes survive `pulumi destroy` and replacement (retainOnDelete or protect).",
    validate=_data_volume_retained,
)

POLICIES: list[Policy] = [
    VALKEY_PUBLISHES_NO_PORTS,
    VALKEY_DROPS_ALL_CAPABILITIES,
    CONTAINER_HEALTHCHECK_AND_RESTART,
    IMAGE_PINNED,
    IMAGE_TAG_NOT_MOVING,
    OPEN_WEBUI_LOOPBACK_ONLY,
    NO_PLAINTEXT_CREDENTIALS,
    DATA_VOLUME_RETAINED,
]
"""Every policy of the pack; those without their own enforcement level take the pack's (mandatory)."""
