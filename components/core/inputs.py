"""Values a caller's program produces (another resource's outputs: a cloud cache's URL, a database resource's URL,
a network it made) that a stack takes as ``pulumi.Input`` instead of settings, engine-neutral.

Each replaces one setting (``STACK_INPUTS``). Before anything is declared the stack checks what can be checked
without the value (``input_problems``: given twice, a websocket server without a server, TLS files without TLS)
and validates its settings again with a stand-in for each value (``with_inputs``), so that every rule that only
needs to know *whether* there is an external server or database (what is managed, load balancing, names) runs
as for configuration. What needs the value itself (a URL's scheme and form, a PEM block) is checked when it
resolves (``checked_redis_url``, ``checked_database_url``, ``checked_pem``), with the same rules and messages,
and never with the value in the message."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

from pydantic import SecretStr

from .redis import open_webui_url
from .settings import (
    RedisSettings,
    StackSettings,
    database_url_problem,
    pem_problem,
    redis_url_problems,
)

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
"""The host of the stand-in URLs ``with_inputs`` validates with (``.invalid``: never a real name, RFC 2606); no
resource ever receives one."""


def _named(given: Collection[str]) -> set[str]:
    unknown = sorted(set(given) - set(STACK_INPUTS))
    if unknown:
        raise ValueError(f"unknown stack Inputs {unknown}: the stacks take {sorted(STACK_INPUTS)}")
    return set(given)


def _tls_set(redis: RedisSettings, field: str) -> bool:
    tls = redis.tls
    return tls is not None and (getattr(tls, field) is not None or getattr(tls, f"{field}_file") is not None)


def input_problems(settings: StackSettings, given: Collection[str] = ()) -> list[str]:
    """What is wrong with ``settings`` together with the Inputs ``given`` (names of ``STACK_INPUTS``), before any
    value is known; ``given`` empty: the rules of a configuration on its own. One line per problem."""
    names = _named(given)
    redis = settings.redis
    problems = []
    in_settings = {
        "redis_url": redis.url is not None,
        "websocket_redis_url": redis.websocket_url is not None,
        **{name: _tls_set(redis, field) for name, field in TLS_INPUTS.items()},
        "database_url": settings.database.url is not None,
        "network": settings.network.external or "name" in settings.network.model_fields_set,
    }
    for name in sorted(names):
        if in_settings[name]:
            key = STACK_INPUTS[name]
            written = f"{key}[File]" if name in TLS_INPUTS else key
            if name == "network":
                written = "network.name or network.external"
            problems.append(f"{written} is set and the {name} Input is given; give one")
    if "database_url" in names and settings.database.password is not None:
        problems.append(
            "database.password is set and the database_url Input is given; an external database takes only its URL"
        )
    external = redis.url is not None or "redis_url" in names
    via = " or the redis_url Input" if names else ""
    if (redis.websocket_url is not None or "websocket_redis_url" in names) and not external:
        if "websocket_redis_url" in names:
            problems.append(
                "the websocket_redis_url Input is given without redis.url or the redis_url Input; give the external "
                "server's URL too"
            )
        else:
            problems.append(
                f"redis.websocketUrl is set without redis.url{via}; set redis.url (the external server) too"
            )
    if not external:
        for key, value in (("tls", redis.tls), ("sentinel", redis.sentinel)):
            if value is not None:
                problems.append(
                    f"redis.{key}: is for an external server, and redis.url is not set{via}; set redis.url, or "
                    f"remove redis.{key} (the managed Valkey is one container on the stack's network"
                    + ("; for TLS to it, set valkey.tls: true)" if key == "tls" else ")")
                )
        for name in sorted(names & set(TLS_INPUTS)):
            problems.append(
                f"the {name} Input is for an external server over TLS, and neither redis.url nor the redis_url "
                "Input is given (for TLS to the managed Valkey, set valkey.tls: true)"
            )
    if redis.sentinel is not None and names & set(TLS_INPUTS):
        problems.append(
            "the Redis certificate Inputs are given with redis.sentinel: Open WebUI 0.12 reaches a primary that "
            "Sentinel names without TLS; use TLS without Sentinel"
        )
    has_cert = "redis_client_cert" in names or _tls_set(redis, "client_cert")
    has_key = "redis_client_key" in names or _tls_set(redis, "client_key")
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


def with_inputs(settings: StackSettings, given: Collection[str]) -> StackSettings:
    """``settings`` validated again with a stand-in for each Input ``given`` (a ``redis://`` or ``rediss://`` URL on
    ``STAND_IN_HOST``; ``redis.tls`` with its defaults when only certificate Inputs ask for TLS), so that what is
    managed, load balanced and named follows the Inputs. Raises pydantic's ``ValidationError`` (``name_inputs``
    turns its keys into the Inputs' names). Call ``input_problems`` first."""
    names = _named(given)
    if not names - {"network"}:
        return settings
    data: dict[str, Any] = settings.model_dump(exclude_unset=True)
    redis: dict[str, Any] = dict(data.get("redis", {}))
    tls = redis.get("tls") is not None or bool(names & set(TLS_INPUTS))
    scheme = "rediss" if tls and settings.redis.sentinel is None else "redis"
    stand_in = f"{scheme}://{STAND_IN_HOST}:6379/0"
    if "redis_url" in names:
        redis["url"] = SecretStr(stand_in)
    if "websocket_redis_url" in names:
        redis["websocket_url"] = SecretStr(stand_in)
    if names & set(TLS_INPUTS) and redis.get("tls") is None:
        redis["tls"] = {}
    data["redis"] = redis
    if "database_url" in names:
        data["database"] = {**data.get("database", {}), "url": SecretStr(f"postgresql://input@{STAND_IN_HOST}/input")}
    return StackSettings.model_validate(data)


def name_inputs(problems: list[str], given: Collection[str]) -> list[str]:
    """``problems`` found with ``with_inputs``'s stand-ins, each naming the Input instead of the setting it
    replaced (which the caller did not write)."""
    for name in sorted(_named(given)):
        key = STACK_INPUTS[name]
        named = f"the {name} Input"
        problems = [p.replace(f"{key}:", f"{named}:").replace(f"with {key} (", f"with {named} (") for p in problems]
    return problems


def checked_redis_url(name: str, url: str, redis: RedisSettings, tls_given: Collection[str] = ()) -> str:
    """``url`` (the value of Input ``name``, resolved) as Open WebUI is given it: checked by the rules of
    ``redis.url`` (``ValueError`` naming the Input, never the URL), with the TLS parameters of ``redis.tls`` and of
    the certificate Inputs ``tls_given`` (fields of ``redis.tls``) added."""
    if not isinstance(url, str):
        raise ValueError(f"the {name} Input: must be a string URL (got a {type(url).__name__})")
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
