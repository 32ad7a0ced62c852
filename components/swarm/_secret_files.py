"""Swarm's secrets as files: where a task finds its Docker secrets, and the wrapper and commands that read them.

A Swarm service's spec is readable by anyone who may ``docker service inspect``, so nothing secret is in it: each
secret is a Docker secret mounted under ``/run/secrets`` (a tmpfs), and what needs one reads its file.
"""

from __future__ import annotations

import shlex

from ..core import postgres, valkey
from ..settings import DatabaseSettings, ValkeySettings

SECRETS_DIR = "/run/secrets"
"""Where Swarm mounts a service's secrets (tmpfs, never on disk)."""
SECRET_ENV = (
    "DATABASE_URL",
    "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY",
    "REDIS_URL",
    "S3_SECRET_ACCESS_KEY",
    "WEBSOCKET_REDIS_URL",
    "WEBUI_SECRET_KEY",
)
"""Variables that hold secrets: on Swarm each is a Docker secret file named after it, never in the service spec."""
ENTRYPOINT_PATH = "/usr/local/bin/open-webui-redis-entrypoint"
STACK_ENV_PATH = "/etc/open-webui-redis/stack.env"
"""The stack's own variables (a Docker config): what is not secret of the managed and default variables."""
EXTRA_ENV_PATH = f"{SECRETS_DIR}/open-webui-redis.env"
"""``openWebui.env`` (a Docker secret: its values may be API keys)."""
START_COMMAND = ["bash", "start.sh"]
"""The image's own command (its ``CMD``, run from its working directory ``/app/backend``)."""
ENTRYPOINT_SCRIPT = f"""#!/bin/sh
# open-webui-redis: the environment from files, then the image's own start command (the arguments).
# {STACK_ENV_PATH} (the stack's variables), then {EXTRA_ENV_PATH} (openWebui.env, which may override the
# defaults), then each Docker secret of {SECRETS_DIR} named like a variable. Nothing is in the service spec: no
# value appears in `docker service inspect`, and no variable order can differ between two updates.
set -eu
for open_webui_redis_env in {STACK_ENV_PATH} {EXTRA_ENV_PATH}; do
\tif [ -f "$open_webui_redis_env" ]; then . "$open_webui_redis_env"; fi
done
for open_webui_redis_file in {SECRETS_DIR}/*; do
\t[ -f "$open_webui_redis_file" ] || continue
\topen_webui_redis_name=${{open_webui_redis_file##*/}}
\tcase "$open_webui_redis_name" in
\t*[!A-Z0-9_]* | [0-9]*) continue ;;
\tesac
\topen_webui_redis_value=$(cat "$open_webui_redis_file")
\texport "$open_webui_redis_name=$open_webui_redis_value"
done
# The wrapper's own names (lower case: never a variable Open WebUI reads) go before the image's command runs.
unset open_webui_redis_env open_webui_redis_file open_webui_redis_name open_webui_redis_value
exec "$@"
"""
"""The Swarm entrypoint wrapper (a Docker config, run with ``/bin/sh``: a config's mount may be ``noexec``)."""


def env_file(env: dict[str, str]) -> str:
    """``export NAME='value'`` lines (POSIX shell quoting, sorted) that the entrypoint wrapper sources."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in sorted(env.items()))


def split_secret_env(entries: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """``websocket_env``'s entries as (plain environment, secrets by variable name)."""
    plain: dict[str, str] = {}
    secret: dict[str, str] = {}
    for entry in entries:
        name, value = entry.split("=", 1)
        (secret if name in SECRET_ENV else plain)[name] = value
    return plain, secret


# Valkey

VALKEY_AUTH_CONFIG = "/run/secrets/valkey-auth.conf"
"""Valkey's password file, a Docker secret, mounted here (tmpfs)."""
VALKEY_PASSWORD_FILE = "/run/secrets/valkey-password"
"""The bare password, a second secret, for the healthcheck and ``docker exec`` (no password in the spec)."""


def valkey_server_command(settings: ValkeySettings) -> list[str]:
    """``core.valkey.server_command`` with the password file where Swarm mounts the secret."""
    command = valkey.server_command(settings)
    return [VALKEY_AUTH_CONFIG if part == valkey.AUTH_CONFIG_PATH else part for part in command]


def valkey_healthcheck_test(settings: ValkeySettings) -> list[str]:
    """An authenticated PING with the password read from its secret file (not from the environment)."""
    auth = f'REDISCLI_AUTH="$(cat {VALKEY_PASSWORD_FILE})" ' if settings.auth else ""
    return ["CMD-SHELL", f'[ "$({auth}valkey-cli {" ".join(valkey.cli_arguments(settings))} ping)" = PONG ]']


# PostgreSQL

POSTGRES_PASSWORD_FILE = "/run/secrets/postgres-password"
"""PostgreSQL's password, a Docker secret; the image reads it through ``POSTGRES_PASSWORD_FILE``."""


def postgres_healthcheck_test(settings: DatabaseSettings) -> list[str]:
    """``core.postgres.healthcheck_test`` with the password read from its secret file."""
    return [
        "CMD-SHELL",
        f'test -f {postgres.PASSWORD_SET} && PGPASSWORD="$(cat {POSTGRES_PASSWORD_FILE})" psql --no-psqlrc '
        f"-h 127.0.0.1 -p {postgres.PORT} -U {settings.user} -d {settings.name} -tAc 'SELECT 1' >/dev/null",
    ]
