"""The deployment's rules, each one function over plain values, written once.

The settings' validators, the components (either engine), the multi-language package (``hosted.py``) and the plan
(``core/plan.py``) call these instead of checking a rule themselves, so a rule and its message change in one place.
A rule returns the problem (one line, naming the keys as the caller passes them: ``valkey.password`` in the
configuration, ``password`` for a component's argument, ``valkeyPassword`` in the multi-language package) or None
when there is none; whoever calls it decides how to refuse (``ValueError`` inside a pydantic validator,
``ConfigurationError`` elsewhere).

The lowest floor of the package: the standard library alone, so that anything may call it.
"""

from __future__ import annotations

HEALTH_CHECK_INTERVAL = 60
"""Open WebUI's ``REDIS_HEALTH_CHECK_INTERVAL`` by default: the Redis guide's figure for ``timeout 1800``."""


def password_without_auth(
    password_given: bool, auth: bool, *, key: str = "valkey.password", auth_key: str = "valkey.auth"
) -> str | None:
    """A Valkey password while ``auth`` is off (Valkey would run without one and ignore it). ``key`` and
    ``auth_key``: the two as the caller names them."""
    if password_given and not auth:
        return f"{key} is set while {auth_key} is false; remove one of them"
    return None


def given_twice(argument_given: bool, setting_given: bool, *, argument: str, setting: str) -> str | None:
    """A secret given both as a component's argument (an Input) and in its settings (``settings.password``,
    ``settings.secret_key``): neither could win silently."""
    if argument_given and setting_given:
        return f"{argument} is given both as an argument and in {setting}; give one"
    return None


def password_with_external_server(
    password_given: bool,
    managed_valkey: bool,
    *,
    key: str = "valkey_password",
    server: str = "redis.url or redis_url",
) -> str | None:
    """A stack's ``valkey_password`` while no Valkey is managed (an external server: ``redis.url`` or the
    ``redis_url`` Input), whose password is in its URL. ``key`` and ``server``: as the caller names them."""
    if password_given and not managed_valkey:
        return f"{key} is given with an external server ({server}); remove one"
    return None


def load_balanced(replicas: int, database_given: bool) -> bool:
    """Whether Open WebUI's replicas sit behind the load balancer, which is whether they run on PostgreSQL
    (``StackSettings.uses_database``): with more than one replica (SQLite cannot be shared) or when a database is
    asked for (``database.enabled``, ``database.url``, a ``database_url``). On PostgreSQL even one replica sits
    behind the load balancer: the host port then never moves between containers as the count changes."""
    return replicas > 1 or database_given


def replicas_need_database(replicas: int, database_given: bool, *, database: str = "database_url") -> str | None:
    """Several replicas without a shared database (``database``: the key that gives one)."""
    if replicas > 1 and not database_given:
        return f"{replicas} replicas need a shared PostgreSQL {database} (SQLite cannot be shared)"
    return None


def chroma_with_replicas(
    replicas: int, vector_store: str, *, key: str = "database.vectorStore", replicas_key: str = "openWebui.replicas"
) -> str | None:
    """Chroma as the vector store of several replicas: its files in each replica's data directory cannot be
    shared."""
    if replicas > 1 and vector_store == "chroma":
        return (
            f"{key} is 'chroma' with {replicas_key} {replicas}; several replicas cannot share Chroma's files: use "
            "'pgvector'"
        )
    return None


def default_health_check_interval(timeout: int, silent_seconds: int | None = None) -> int:
    """``REDIS_HEALTH_CHECK_INTERVAL`` for a Valkey ``timeout`` (0: never): 60 s, or half the timeout if shorter;
    and with ``silent_seconds`` (``openWebui.selfHeal.silentConnectionSeconds``) at most half of that
    (``SelfHealSettings.health_check_interval``)."""
    base = HEALTH_CHECK_INTERVAL if timeout == 0 else min(HEALTH_CHECK_INTERVAL, timeout // 2)
    return base if silent_seconds is None else min(base, max(1, silent_seconds // 2))


def health_check_interval_fits(interval: str | None, timeout: int) -> bool:
    """Whether ``REDIS_HEALTH_CHECK_INTERVAL`` (``interval`` as set in Open WebUI's env, or None for the default)
    is a whole number of seconds from 1 to below a Redis server's idle ``timeout`` (0: it never closes idle
    clients, so any interval fits). An interval that is not digits is reported where the env is checked."""
    if timeout == 0 or (interval is not None and not interval.isdigit()):
        return True
    seconds = default_health_check_interval(timeout) if interval is None else int(interval)
    return 1 <= seconds < timeout


def health_check_interval_problem(
    interval: str | None,
    timeout: int,
    *,
    env: str = "openWebui.env.REDIS_HEALTH_CHECK_INTERVAL",
    timeout_key: str = "valkey.timeout",
) -> str | None:
    """``REDIS_HEALTH_CHECK_INTERVAL`` (``interval``, None for the default) not below the Redis server's idle
    ``timeout``: Open WebUI would use connections the server already closed. ``env`` and ``timeout_key``: the keys
    as the caller writes them."""
    if health_check_interval_fits(interval, timeout):
        return None
    if interval is None:
        return (
            f"{timeout_key} is {timeout}: Open WebUI's REDIS_HEALTH_CHECK_INTERVAL must be a whole number of "
            "seconds below it, so use 0 (never close idle clients) or 2 or more"
        )
    return (
        f"{env} must be from 1 to {timeout - 1} seconds with {timeout_key} {timeout}: below the timeout (Valkey "
        "closes a connection idle for `timeout` seconds, and Open WebUI checks one before use only once it has been "
        "idle this long)"
    )
