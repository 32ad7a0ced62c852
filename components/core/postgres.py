"""PostgreSQL, engine-neutral: its paths, the URL Open WebUI is given, the healthcheck."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..settings import DatabaseSettings
from ._moved import moved_names

DATA_PATH = "/var/lib/postgresql/data"
PORT = 5432
STOP_GRACE_SECONDS = 60
"""Seconds a container gets to stop cleanly (SIGTERM) before it is killed, on replace, destroy and daemon stop."""


def database_url(user: str, password: str, host: str, port: int, database: str) -> str:
    """A SQLAlchemy URL for psycopg 3, which both the Open WebUI image and its PyPI build ship.

    (``postgresql://`` picks psycopg2, which the PyPI build lacks: ``No module named 'psycopg2'``.)
    """
    return f"postgresql+psycopg://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{database}"


def normalize_database_url(url: str) -> str:
    """An external database URL in the psycopg 3 form Open WebUI can always load."""
    return re.sub(r"^postgres(?:ql)?://", "postgresql+psycopg://", url)


START_PATH = "/usr/local/bin/open-webui-redis-postgres-start"
"""Where the container's start script is put (an upload on one host, a Docker config on Swarm)."""
START_COMMAND = ["/bin/sh", START_PATH]
"""The container's entrypoint: the script, which runs the image's own ``docker-entrypoint.sh postgres``."""
START_ARGS = ["postgres"]
PASSWORD_SET = "/tmp/open-webui-redis-password-set"  # noqa: S108 - inside the PostgreSQL container
"""A file the start script makes once the user has the stack's password (removed at each start): the
healthcheck waits for it (inside the container the image's pg_hba.conf trusts every local connection, so a
login there proves nothing about the password)."""
START_SCRIPT = r"""#!/bin/sh
# Start PostgreSQL as the image does, then give the database user the stack's password, on every start.
# The image applies POSTGRES_PASSWORD only when it initialises an empty data directory: a volume kept from an
# earlier deployment (`pulumi destroy` keeps it), or shared with another stack, would keep the password of its
# first initialisation while the stack, with new state, generates another. (open-webui-redis)
set -u
# Job control: the server runs in its own process group and keeps SIGINT (a plain `&` would ignore it).
set -m
rm -f __MARKER__
if [ -z "${POSTGRES_PASSWORD:-}" ] && [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
  POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
fi
docker-entrypoint.sh "$@" &
server=$!
# docker stop sends the image's stop signal (SIGINT: a fast shutdown) to this shell: pass it on as it came.
trap 'kill -INT "$server" 2>/dev/null' INT
trap 'kill -TERM "$server" 2>/dev/null' TERM
# The server proper listens on TCP; the image's temporary one while it initialises a cluster does not.
until pg_isready -q -h 127.0.0.1 -p __PORT__ -U "$POSTGRES_USER"; do
  if ! kill -0 "$server" 2>/dev/null; then
    wait "$server"
    exit $?
  fi
  sleep 1
done
# Through the local socket, which the image's pg_hba.conf trusts. The password goes through the environment
# (readable by this user alone, unlike a command line) into a psql variable, which psql quotes; the session
# logs no failed statement, which would hold it.
OWR_PASSWORD=$POSTGRES_PASSWORD
export OWR_PASSWORD
printf '%s\n' "SET log_min_error_statement = panic;" '\getenv owr_password OWR_PASSWORD' \
  "ALTER ROLE :\"owr_user\" WITH PASSWORD :'owr_password';" |
  psql --no-psqlrc -q -v ON_ERROR_STOP=1 -v owr_user="$POSTGRES_USER" -U "$POSTGRES_USER" -d postgres >/dev/null &&
  : >__MARKER__ ||
  echo "open-webui-redis: could not set the password of $POSTGRES_USER; the healthcheck will fail" >&2
unset OWR_PASSWORD
# A trapped signal interrupts wait: wait again until the server has exited, and exit with its status.
while :; do
  status=0
  wait "$server" || status=$?
  kill -0 "$server" 2>/dev/null || break
done
exit "$status"
""".replace("__PORT__", str(PORT)).replace("__MARKER__", PASSWORD_SET)


def healthcheck_test(settings: DatabaseSettings) -> list[str]:
    """A query as Open WebUI makes it: over TCP, with the password from the container's environment.

    Healthy once the start script has given the user the stack's password (on a volume initialised with another
    one, kept from an earlier deployment) and the server answers a query, so `pulumi up` goes on to the replicas
    only when they can log in.
    """
    return [
        "CMD-SHELL",
        f'test -f {PASSWORD_SET} && PGPASSWORD="$POSTGRES_PASSWORD" psql --no-psqlrc -h 127.0.0.1 -p {PORT} '
        f"-U {settings.user} -d {settings.name} -tAc 'SELECT 1' >/dev/null",
    ]


if not TYPE_CHECKING:  # old imports of what moved to the Swarm package (issue 21) warn and still resolve
    __getattr__ = moved_names(__name__)
