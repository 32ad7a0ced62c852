"""Values a caller's program produces (another resource's outputs: a cloud cache's URL, a database resource's URL,
a network it made) that a stack takes as ``pulumi.Input`` instead of settings, engine-neutral.

Each replaces one setting (``STACK_INPUTS``). Before anything is declared the stack checks what can be checked
without the values (``input_problems``, from the configuration's keys: a setting and its Input both given, a
websocket server or certificates without a server, certificates with Sentinel or beside a ``redis://`` URL, a
certificate without its key, ``database.password`` or ``swarm.encrypted`` beside the Input that replaces them) and
validates its settings again with a stand-in for each value (``with_stand_ins``), so that every rule that only
needs to know *whether* there is an external server or database (what is managed, load balancing, names) runs as
for configuration. What needs the value itself (a URL's scheme and form, a PEM block) is checked when it resolves
(``checked_redis_url``, ``checked_database_url``, ``checked_pem``), with the same rules and messages, and never
with the value in the message."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal

from pydantic import SecretStr
from pydantic.alias_generators import to_camel

from ..settings import (
    RedisSettings,
    StackSettings,
    database_url_problem,
    pem_problem,
    redis_url_problem,
    redis_url_problems,
)
from .redis import open_webui_url

STACK_INPUTS: dict[str, str] = {
    "redis_url": "redis.url",
    "websocket_redis_url": "redis.websocketUrl",
    "redis_ca_cert": "redis.tls.caCert",
    "redis_client_cert": "redis.tls.clientCert",
    "redis_client_key": "redis.tls.clientKey",
    "database_url": "database.url",
    "network": "network.name",
}
"""The stacks' keyword arguments that take an Input -> the setting each replaces."""

TLS_INPUTS: dict[str, Literal["ca_cert", "client_cert", "client_key"]] = {
    "redis_ca_cert": "ca_cert",
    "redis_client_cert": "client_cert",
    "redis_client_key": "client_key",
}
"""The certificate Inputs -> the ``redis.tls`` field each replaces (and the file Open WebUI is given)."""

_PEM_KINDS = {"ca_cert": "CERTIFICATE", "client_cert": "CERTIFICATE", "client_key": "PRIVATE KEY"}

STAND_IN_HOST = "stack-input.invalid"
"""The host of the stand-in URLs ``with_stand_ins`` gives (``.invalid``: never a real name, RFC 2606); no
resource ever receives one."""


def _named(given: Collection[str]) -> set[str]:
    unknown = sorted(set(given) - set(STACK_INPUTS))
    if unknown:
        raise ValueError(f"unknown stack Inputs {unknown}: the stacks take {sorted(STACK_INPUTS)}")
    return set(given)


def _block(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``data[key]`` when it is a settings object, else empty (a malformed block is validation's to report)."""
    block = data.get(key)
    return block if isinstance(block, Mapping) else {}


def _set(block: Mapping[str, Any], *keys: str) -> bool:
    return any(block.get(key) is not None for key in keys)


def _secret_text(value: Any) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def input_problems(data: Mapping[str, Any], given: Collection[str] = ()) -> list[str]:
    """What is wrong with the stack settings ``data`` (configuration keys, as ``Pulumi.<stack>.yaml`` writes them or
    ``model_dump(by_alias=True, exclude_unset=True)`` gives them) together with the Inputs ``given`` (names of
    ``STACK_INPUTS``), before any value is known; ``given`` empty: the rules of a configuration on its own. Read
    from the keys alone, so they are reported beside any other problem of the configuration. One line each."""
    names = _named(given)
    redis, database, network = _block(data, "redis"), _block(data, "database"), _block(data, "network")
    tls = _block(redis, "tls") if redis.get("tls") is not None else None
    problems = []
    in_settings = {
        "redis_url": _set(redis, "url"),
        "websocket_redis_url": _set(redis, "websocketUrl", "websocket_url"),
        **{
            name: tls is not None and _set(tls, to_camel(field), f"{to_camel(field)}File")
            for name, field in TLS_INPUTS.items()
        },
        "database_url": _set(database, "url"),
        "network": _set(network, "name") or network.get("external") is True,
    }
    for name in sorted(names):
        if in_settings[name]:
            key = STACK_INPUTS[name]
            written = f"{key}[File]" if name in TLS_INPUTS else key
            if name == "network":
                written = "network.name or network.external"
            problems.append(f"{written} is set and the {name} Input is given; give one")
    if "database_url" in names and _set(database, "password"):
        problems.append(
            "database.password is set and the database_url Input is given; an external database takes only its URL"
        )
    if "network" in names and _block(data, "swarm").get("encrypted") is True:
        problems.append(
            "swarm.encrypted is for the overlay network the stack makes, and the network Input is given; create your "
            "network encrypted (docker.Network options encrypted) and remove swarm.encrypted"
        )
    external = _set(redis, "url") or "redis_url" in names
    via = " or the redis_url Input" if names else ""
    if (in_settings["websocket_redis_url"] or "websocket_redis_url" in names) and not external:
        if "websocket_redis_url" in names:
            problems.append(
                "the websocket_redis_url Input is given without redis.url or the redis_url Input; give the external "
                "server's URL too"
            )
        else:
            problems.append(
                f"redis.websocketUrl is set without redis.url{via}; set redis.url (the external server) too"
            )
    cert_inputs = sorted(names & set(TLS_INPUTS))
    if not external:
        for key in ("tls", "sentinel"):
            if redis.get(key) is not None:
                problems.append(
                    f"redis.{key}: is for an external server, and redis.url is not set{via}; set redis.url, or "
                    f"remove redis.{key} (the managed Valkey is one container on the stack's network"
                    + ("; for TLS to it, set valkey.tls: true)" if key == "tls" else ")")
                )
        for name in cert_inputs:
            problems.append(
                f"the {name} Input is for an external server over TLS, and neither redis.url nor the redis_url "
                "Input is given (for TLS to the managed Valkey, set valkey.tls: true)"
            )
    elif cert_inputs and redis.get("sentinel") is not None:
        problems.append(
            "the Redis certificate Inputs are given with redis.sentinel: Open WebUI 0.12 reaches a primary that "
            "Sentinel names without TLS; use TLS without Sentinel"
        )
    elif cert_inputs and _set(redis, "url") and not _secret_text(redis["url"]).startswith("rediss://"):
        problems.append(
            "the Redis certificate Inputs are for TLS, and redis.url is redis:// (no TLS); write rediss:// or leave "
            "the certificates out"
        )
    if "redis_url" in names and tls is not None and redis.get("sentinel") is not None:
        problems.append(
            "redis.tls with redis.sentinel: Open WebUI 0.12 reaches a primary that Sentinel names without TLS (it "
            "passes no TLS options to Sentinel); use TLS without Sentinel"
        )
    has_cert = "redis_client_cert" in names or in_settings["redis_client_cert"]
    has_key = "redis_client_key" in names or in_settings["redis_client_key"]
    if has_cert != has_key:
        if names & {"redis_client_cert", "redis_client_key"}:
            problems.append(
                "a client certificate needs its key and a key its certificate: give redis.tls.clientCert[File] or "
                "the redis_client_cert Input together with redis.tls.clientKey[File] or the redis_client_key Input"
            )
        else:
            problems.append(
                "redis.tls: a client certificate needs its key and a key its certificate; set clientCert[File] "
                "and clientKey[File] together"
            )
    return problems


def with_stand_ins(data: Mapping[str, Any], given: Collection[str]) -> dict[str, Any]:
    """The stack settings ``data`` with a stand-in for each Input ``given``: a URL on ``STAND_IN_HOST``
    (``rediss://`` with ``redis.tls`` or certificate Inputs, ``redis://`` with Sentinel or neither), ``redis.tls``
    with its defaults when only certificate Inputs ask for TLS, a PostgreSQL URL there. Validated, they make what
    is managed, load balanced and named follow the Inputs; ``without_stand_ins`` takes them out again. Call
    ``input_problems`` first (a setting and its Input both given is refused there)."""
    names = _named(given)
    staged: dict[str, Any] = dict(data)
    redis: dict[str, Any] = dict(_block(data, "redis"))
    tls = redis.get("tls") is not None or bool(names & set(TLS_INPUTS))
    scheme = "rediss" if tls and redis.get("sentinel") is None else "redis"
    stand_in = SecretStr(f"{scheme}://{STAND_IN_HOST}:6379/0")
    if "redis_url" in names:
        redis["url"] = stand_in
    if "websocket_redis_url" in names:
        redis["websocketUrl"] = stand_in
    if names & set(TLS_INPUTS) and redis.get("tls") is None:
        redis["tls"] = {}
    if redis:
        staged["redis"] = redis
    if "database_url" in names:
        staged["database"] = {**_block(data, "database"), "url": SecretStr(f"postgresql://input@{STAND_IN_HOST}/input")}
    return staged


def without_stand_ins(settings: StackSettings, data: Mapping[str, Any], given: Collection[str]) -> StackSettings:
    """``settings`` (validated ``with_stand_ins(data, given)``) as configured: each stand-in taken out again."""
    names = _named(given)
    redis: dict[str, Any] = {}
    if "redis_url" in names:
        redis["url"] = None
    if "websocket_redis_url" in names:
        redis["websocket_url"] = None
    if names & set(TLS_INPUTS) and _block(data, "redis").get("tls") is None:
        redis["tls"] = None
    update: dict[str, Any] = {}
    if redis:
        update["redis"] = settings.redis.model_copy(update=redis)
    if "database_url" in names:
        update["database"] = settings.database.model_copy(update={"url": None})
    return settings.model_copy(update=update) if update else settings


def name_inputs(problems: list[str], given: Collection[str]) -> list[str]:
    """``problems`` found with ``with_stand_ins``'s stand-ins, each naming the Input instead of the setting it
    replaced (which the caller did not write)."""
    for name in sorted(_named(given)):
        key = STACK_INPUTS[name]
        named = f"the {name} Input"
        problems = [
            p.replace(f"{key}:", f"{named}:")
            .replace(f"with {key} (", f"with {named} (")
            .replace(f"remove {key} to", f"leave out {named} to")
            for p in problems
        ]
    return problems


def checked_redis_url(name: str, url: str, redis: RedisSettings, tls_given: Collection[str] = ()) -> str:
    """``url`` (the value of Input ``name``, resolved) as Open WebUI is given it: checked by the rules of
    ``redis.url`` (``ValueError`` naming the Input, never the URL), with the TLS parameters of ``redis.tls`` and of
    the certificate Inputs ``tls_given`` (fields of ``redis.tls``) added."""
    if not isinstance(url, str):
        raise ValueError(f"the {name} Input: must be a string URL (got a {type(url).__name__})")
    if tls_given and redis_url_problem(url) is None and not url.startswith("rediss://"):
        raise ValueError(
            f"the {name} Input: the Redis certificate Inputs are for TLS, and the URL is redis:// (no TLS); give a "
            "rediss:// URL or leave the certificates out"
        )
    problems = redis_url_problems(
        f"the {name} Input", url, tls=redis.tls is not None or bool(tls_given), sentinel=redis.sentinel is not None
    )
    if problems:
        raise ValueError("\n".join(problems))
    return open_webui_url(url, redis, tls_given)


def checked_database_url(url: str) -> str:
    """The resolved ``database_url`` Input, checked by the rules of ``database.url`` (``ValueError`` without it)."""
    problem = database_url_problem(url) if isinstance(url, str) else "must be a string URL"
    if problem:
        raise ValueError(f"the database_url Input: {problem} (got [secret])")
    return url


def checked_pem(name: str, pem: str) -> str:
    """The resolved certificate Input ``name``, checked as ``redis.tls`` checks its field (``ValueError``)."""
    problem = pem_problem(_PEM_KINDS[TLS_INPUTS[name]], pem) if isinstance(pem, str) else "must be PEM text"
    if problem:
        raise ValueError(f"the {name} Input: {problem} (got [secret])")
    return pem
