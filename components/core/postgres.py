"""PostgreSQL, engine-neutral: its paths, the URL Open WebUI is given, the healthcheck."""

from __future__ import annotations

import re
from urllib.parse import quote

from .settings import DatabaseSettings

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


def healthcheck_test(settings: DatabaseSettings) -> list[str]:
    """A query as Open WebUI makes it: over TCP, with the password from the container's environment.

    ``pg_isready`` would pass on a volume initialised with another password (the image sets the password only
    when it creates the cluster, for instance after a `pulumi destroy` that kept the volume and a new stack
    that generated a new password); this fails there, so `pulumi up` stops at PostgreSQL, not at the replicas.
    """
    return [
        "CMD-SHELL",
        f'PGPASSWORD="$POSTGRES_PASSWORD" psql --no-psqlrc -h 127.0.0.1 -p {PORT} -U {settings.user} '
        f"-d {settings.name} -tAc 'SELECT 1' >/dev/null",
    ]


SWARM_PASSWORD_FILE = "/run/secrets/postgres-password"
"""On Swarm the password is a Docker secret; the image reads it through ``POSTGRES_PASSWORD_FILE``."""


def swarm_healthcheck_test(settings: DatabaseSettings) -> list[str]:
    """``healthcheck_test`` with the password read from its secret file."""
    return [
        "CMD-SHELL",
        f'PGPASSWORD="$(cat {SWARM_PASSWORD_FILE})" psql --no-psqlrc -h 127.0.0.1 -p {PORT} -U {settings.user} '
        f"-d {settings.name} -tAc 'SELECT 1' >/dev/null",
    ]
