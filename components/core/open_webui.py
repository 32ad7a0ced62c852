"""Open WebUI, engine-neutral: its port and data path, the healthcheck command, the environment it is given."""

from __future__ import annotations

import ipaddress

from .settings import OpenWebUISettings, default_health_check_interval

CONTAINER_PORT = 8080
DATA_PATH = "/app/backend/data"
REDIS_CHECKED = "/tmp/.open-webui-redis-auth-ok"  # noqa: S108 - a marker inside the container, not on the host
"""Marks a container whose Redis URL has been checked once (a replaced Valkey replaces the container too)."""
# /health answers 200 even when Valkey refuses Open WebUI's password, so the first check that finds Open WebUI
# up also PINGs Valkey with the URL Open WebUI was given (the image's Python and redis-py): a wrong password
# fails `pulumi up`. Later checks skip that PING: it costs about 0.2 s of CPU, the curl about 10 ms.
HEALTHCHECK_COMMAND = (
    "curl --silent --fail --max-time 3 http://localhost:${PORT:-8080}/health >/dev/null"
    f" && {{ [ -f {REDIS_CHECKED} ] || {{"
    " python3 -c \"import os, redis; redis.Redis.from_url(os.environ['WEBSOCKET_REDIS_URL'],"
    ' socket_timeout=3, socket_connect_timeout=3).ping()" >/dev/null 2>&1'
    f" && touch {REDIS_CHECKED}; }}; }}"
    " || exit 1"
)


def websocket_env(
    redis_url: str,
    secret_key: str,
    extra: dict[str, str] | None = None,
    *,
    database_url: str | None = None,
    oauth_key: str | None = None,
    defaults: dict[str, str] | None = None,
) -> list[str]:
    """Open WebUI's environment (``NAME=value`` entries, sorted): Valkey for websockets and app state.

    ``defaults`` (``CORS_ALLOW_ORIGIN``, ``REDIS_HEALTH_CHECK_INTERVAL``) give way to ``extra``; the managed
    variables win over both (``openWebui.env`` may not set them)."""
    env = {**(defaults or {}), **(extra or {})}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(
        {
            "ENABLE_WEBSOCKET_SUPPORT": "true",
            "WEBSOCKET_MANAGER": "redis",
            "WEBSOCKET_REDIS_URL": redis_url,
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


def env_from_inputs(extra: dict[str, str], defaults: dict[str, str], values: dict[str, str]) -> list[str]:
    """``websocket_env`` from the resolved inputs (``after`` only orders: its value is not used)."""
    return websocket_env(
        values["redis_url"],
        values["secret_key"],
        extra,
        database_url=values.get("database_url"),
        oauth_key=values["oauth_key"],
        defaults=defaults,
    )


def env_defaults(settings: OpenWebUISettings, redis_idle_timeout: int) -> dict[str, str]:
    """What the stack sets unless ``openWebui.env`` does: the browsers' origin, and a Redis connection check
    below the server's idle ``timeout`` (else Open WebUI finds a closed connection after a quiet spell)."""
    return {
        "CORS_ALLOW_ORIGIN": ";".join(settings.cors_origins()),
        "REDIS_HEALTH_CHECK_INTERVAL": str(default_health_check_interval(redis_idle_timeout)),
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
