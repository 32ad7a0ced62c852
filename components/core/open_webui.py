"""Open WebUI, engine-neutral: its port and data path, the healthcheck command, the environment it is given."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING

from .. import rules
from ..settings import (
    OpenWebUISettings,
    RedisSettings,
    moving_image_problems,
    rolls_side_by_side,
    websocket_redis_options,
)
from ._moved import moved_names
from .errors import ArgumentError
from .probe import CHECK_INTERVAL, ROUND_TRIP
from .redis import HEALTHCHECK_TIMEOUT, check_tls_files, healthcheck_timeout, sentinels

CONTAINER_PORT = 8080
DATA_PATH = "/app/backend/data"
PROBE_PATH = "/usr/local/lib/open-webui-redis/probe.py"
"""Where the healthcheck's program (``components/core/probe.py``) is in an Open WebUI container: uploaded on one host,
a Docker config on Swarm."""
PROBE_SCRIPT = (Path(__file__).with_name("probe.py")).read_text(encoding="utf-8")
HEALTHCHECK_INTERVAL = int(CHECK_INTERVAL)
"""Seconds between two healthchecks of a running replica (Docker counts from the end of the last; each costs about
30 ms of CPU)."""
HEALTHCHECK_RETRIES = 1
"""Failed checks in a row before Docker calls a replica unhealthy: the probe's own clock already waits
``selfHeal.unhealthyAfterSeconds`` before a deaf replica fails, so one failed check is the verdict."""
PROBE_DEADLINE = int(ROUND_TRIP)
"""Seconds the probe gives the round trip once Redis answered (milliseconds measured); with Sentinel the deadline
adds the sentinels' share for finding the master, and the round trip still gets this. A deaf replica's checks take
that long, so checks run every 7 s while it is deaf, and it is reported within about ``unhealthyAfterSeconds`` +
14 s of going deaf (23-29 s from the silence at the default 20, with or without Sentinel)."""


def room_channels(settings: OpenWebUISettings) -> bool:
    """``WEBSOCKET_REDIS_ROOM_CHANNELS`` as Open WebUI reads it (on unless ``openWebui.env`` turns it off)."""
    return settings.env.get("WEBSOCKET_REDIS_ROOM_CHANNELS", "True").lower() == "true"


def healthcheck_command(settings: OpenWebUISettings, redis: RedisSettings | None = None) -> str:
    """The shell command of Open WebUI's healthcheck: the probe (``components/core/probe.py``). An event published to
    Redis must come back through this replica's websocket listener (which also proves its HTTP server answers); a
    replica deaf for ``selfHeal.unhealthyAfterSeconds`` fails it. ``redis``: an external server's sentinels, which
    the probe asks as Open WebUI does, and their share of Docker's timeout (``healthcheck_timeout``)."""
    heal = settings.self_heal
    options = ""
    sentinel_hosts = sentinels(redis)
    if sentinel_hosts:
        options += " --sentinels " + ",".join(f"{host}:{port}" for host, port in sentinel_hosts)
    if not room_channels(settings):
        options += " --room-channels false"
    after = heal.unhealthy_after_seconds
    deadline = PROBE_DEADLINE + (healthcheck_timeout(redis) - HEALTHCHECK_TIMEOUT)  # the sentinels' share
    return f"python3 {PROBE_PATH}{options} health --deadline {deadline} --unhealthy-after {after}"


def websocket_env(
    redis_url: str,
    secret_key: str,
    extra: dict[str, str] | None = None,
    *,
    database_url: str | None = None,
    oauth_key: str | None = None,
    defaults: dict[str, str] | None = None,
    websocket_redis_url: str | None = None,
    connection: dict[str, str] | None = None,
) -> list[str]:
    """Open WebUI's environment (``NAME=value`` entries, sorted): Redis for websockets and app state.

    ``defaults`` (``CORS_ALLOW_ORIGIN``, ``REDIS_HEALTH_CHECK_INTERVAL``) give way to ``extra``; the managed
    variables win over both (``openWebui.env`` may not set them). ``websocket_redis_url``: another server for
    websockets (default ``redis_url``); ``connection``: the Sentinel, key-prefix and timeout variables
    (``core.redis.connection_env``)."""
    env = {**(defaults or {}), **(extra or {})}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(connection or {})
    env.update(
        {
            "ENABLE_WEBSOCKET_SUPPORT": "true",
            "WEBSOCKET_MANAGER": "redis",
            "WEBSOCKET_REDIS_URL": websocket_redis_url if websocket_redis_url is not None else redis_url,
            # Without REDIS_URL there is no token revocation on logout and no config sync between replicas.
            "REDIS_URL": redis_url,
            "WEBUI_SECRET_KEY": secret_key,
            # One process per container: replicas scale, not uvicorn workers (Open WebUI's scaling guide).
            "UVICORN_WORKERS": "1",
        }
    )
    if oauth_key is not None:
        env["OAUTH_SESSION_TOKEN_ENCRYPTION_KEY"] = oauth_key
    return [f"{name}={value}" for name, value in sorted(env.items())]


def env_from_inputs(
    extra: dict[str, str],
    defaults: dict[str, str],
    values: dict[str, str],
    connection: dict[str, str] | None = None,
    files: tuple[str, ...] | None = None,
) -> list[str]:
    """``websocket_env`` from the resolved inputs. ``files``: the certificate files the container is given, which
    the URLs' TLS options may name (``check_tls_files``)."""
    if files is not None:
        urls = {"REDIS_URL": values["redis_url"]}
        if values.get("websocket_redis_url"):
            urls["WEBSOCKET_REDIS_URL"] = values["websocket_redis_url"]
        check_tls_files(urls, files)
    return websocket_env(
        values["redis_url"],
        values["secret_key"],
        extra,
        database_url=values.get("database_url"),
        oauth_key=values["oauth_key"],
        defaults=defaults,
        websocket_redis_url=values.get("websocket_redis_url"),
        connection=connection,
    )


def env_defaults(
    settings: OpenWebUISettings, redis_idle_timeout: int, connect_timeout: float | None = None
) -> dict[str, str]:
    """What the stack sets unless ``openWebui.env`` does: the browsers' origin, a Redis connection check below the
    server's idle ``timeout`` (else Open WebUI finds a closed connection after a quiet spell) and at most half of
    ``selfHeal.silentConnectionSeconds``, and TCP keepalive on every Redis connection (the socket.io manager's
    through ``WEBSOCKET_REDIS_OPTIONS``, with the same check and ``connect_timeout``,
    ``redis.socketConnectTimeout``): the container's sysctls end a silent connection, and the check makes the
    listeners notice (``SelfHealSettings.health_check_interval``).
    ``openWebui.env``'s own ``WEBSOCKET_REDIS_OPTIONS`` has keepalive added where it is validated."""
    return {
        "CORS_ALLOW_ORIGIN": ";".join(settings.cors_origins()),
        "REDIS_HEALTH_CHECK_INTERVAL": str(
            rules.default_health_check_interval(redis_idle_timeout, settings.self_heal.silent_connection_seconds)
        ),
        "REDIS_SOCKET_KEEPALIVE": "true",
        "WEBSOCKET_REDIS_OPTIONS": websocket_redis_options(
            connect_timeout=connect_timeout, health_check_interval=settings.self_heal.health_check_interval()
        ),
    }


def public_url(bind_address: str, port: int) -> str:
    """The URL a browser on the Docker host opens."""
    address = ipaddress.ip_address(bind_address)
    if address.is_unspecified:
        host = "localhost"
    elif address.version == 6:
        host = f"[{address}]"
    else:
        host = str(address)
    return f"http://{host}:{port}"


NEW_SECRET_KEY = (
    "a new WEBUI_SECRET_KEY is generated for this stack: if its Open WebUI data volume (or database) was kept from "
    "an earlier deployment, for instance across `pulumi destroy`, every user is signed out and signs in again; "
    "accounts and chats stay. To keep the old key, set it first: pulumi config set --secret --path "
    "openWebui.secretKey <key> (docs/backups.md)"
)
"""What `pulumi up` warns when it is about to generate the secret key (new state)."""


def check_arguments(
    settings: OpenWebUISettings,
    *,
    secret_key_given: bool,
    has_database: bool,
    redis_idle_timeout: int,
    swarm: bool = False,
    digest_lookup: bool = False,
    allow_moving_image_tags: bool = False,
) -> None:
    """What an Open WebUI component (either engine) refuses before it declares anything (``ConfigurationError``,
    every problem).

    ``swarm``: the engine (how replicas roll); ``digest_lookup``: Swarm's pinned images;
    ``allow_moving_image_tags``: the opt-in."""
    problems: list[str | None] = []
    if not allow_moving_image_tags:
        problems += moving_image_problems(
            [("openWebui.image", settings.image)],
            open_webui_rolls=rolls_side_by_side(settings.upgrade, settings.replicas, swarm=swarm),
            digest_lookup=digest_lookup,
        )[:1]
    problems += [
        rules.given_twice(
            secret_key_given, settings.secret_key is not None, argument="secret_key", setting="settings.secret_key"
        ),
        rules.health_check_interval_problem(
            settings.env.get("REDIS_HEALTH_CHECK_INTERVAL"),
            redis_idle_timeout,
            env="settings.env.REDIS_HEALTH_CHECK_INTERVAL",
            timeout_key="redis_idle_timeout",
        ),
        rules.replicas_need_database(settings.replicas, has_database),
    ]
    refused = [problem for problem in problems if problem is not None]
    if refused:
        raise ArgumentError(refused)


if not TYPE_CHECKING:  # old imports of what moved to the Swarm package (issue 21) warn and still resolve
    __getattr__ = moved_names(__name__)
