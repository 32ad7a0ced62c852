"""Pure functions for Valkey: connection URLs, command line, configuration text and healthcheck."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from ..settings import ValkeySettings
from ._moved import moved_names
from .redis import TLS_FILES, with_query

AUTH_CONFIG_PATH = "/usr/local/etc/valkey/auth.conf"
"""Where the password file is uploaded in the Valkey container.

This keeps the password out of the command line (``ps``, and Pulumi previews show the command in clear); it is
still in the container's environment (``REDISCLI_AUTH``, for the healthcheck), which ``docker inspect`` shows to
anyone who may use the Docker daemon, as it shows Open WebUI's URLs.
"""
# Every printable ASCII punctuation character: generated passwords exercise URL encoding and config quoting.
PASSWORD_SPECIALS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
KEPT_CAPABILITIES = ["CAP_DAC_OVERRIDE", "CAP_SETGID", "CAP_SETUID"]
"""What the image's entrypoint needs to hand /data to the valkey user and drop root.

Written as Docker's Go client sends them (upper case, ``CAP_`` prefix, sorted), which is what Docker stores and the
provider reads back: ``SETGID`` would differ on every ``pulumi up``, and a capability change replaces the container.
"""

DATA_PATH = "/data"
"""The Valkey image's working directory, where RDB and AOF files are written."""

TLS_CA_PATH = "/run/secrets/valkey-ca.pem"
"""With ``valkey.tls``: the generated CA's certificate in the Valkey container (the healthcheck and
``components.verify`` verify the server with it). The same paths on both engines: uploaded before the container
starts on one host, Docker secrets (a tmpfs) on Swarm."""
TLS_CERT_PATH = "/run/secrets/valkey-server.pem"
"""The server's certificate, signed by that CA."""
TLS_KEY_PATH = "/run/secrets/valkey-server-key.pem"
"""The server certificate's private key."""
VALKEY_UID = 999
VALKEY_GID = 1000
"""The official image's ``valkey`` user and group, which Valkey runs as once the entrypoint drops root: on Swarm
the TLS key is a secret file owned by that user, mode 0400 (root in the container can read it too)."""
TLS_DNS_NAMES = ("localhost",)
"""Names the server certificate holds besides the network alias and the container or service name (with
``127.0.0.1``): what a client inside the container would check (valkey-cli verifies the chain only, redis-py the
name too)."""


def redis_url(host: str, port: int, database: int, password: str | None = None, *, tls: bool = False) -> str:
    """A ``redis://`` URL that redis-py, Open WebUI, valkey-cli and redis-cli all parse; with ``tls`` a
    ``rediss://`` one with the query of ``tls_url_query`` (redis-py's TLS options).

    The password is percent-encoded (a generated password may hold ``@``, ``/``, ``:`` or ``%``); the user is
    ``default`` because redis-cli 7.0 cannot parse an empty user (``redis://:pw@host``).
    """
    scheme = "rediss" if tls else "redis"
    credentials = f"default:{quote(password, safe='')}@" if password else ""
    bracketed = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{credentials}{bracketed}:{port}/{database}"
    return with_query(url, tls_url_query()) if tls else url


def config_quote(value: str) -> str:
    """Quote a value for a Valkey configuration file, as Valkey's own ``sdscatrepr`` does."""
    escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\a": "\\a", "\b": "\\b"}
    out = []
    for char in value:
        if char in escapes:
            out.append(escapes[char])
        elif char.isprintable() and char.isascii():
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode())
    return '"' + "".join(out) + '"'


def auth_config(password: str) -> str:
    """The uploaded configuration file that turns on password authentication."""
    return f"requirepass {config_quote(password)}\n"


def server_command(settings: ValkeySettings) -> list[str]:
    """``valkey-server`` arguments, as the container's command (the image's entrypoint drops root first)."""
    command = ["valkey-server"]
    if settings.auth:
        command.append(AUTH_CONFIG_PATH)  # a config file must come first
    if settings.tls:
        # TLS only: no plain-text port. Clients are not asked for certificates; they authenticate with the password.
        command += ["--port", "0", "--tls-port", str(settings.port)]
        command += ["--tls-cert-file", TLS_CERT_PATH, "--tls-key-file", TLS_KEY_PATH]
        command += ["--tls-ca-cert-file", TLS_CA_PATH, "--tls-auth-clients", "no"]
    else:
        command += ["--port", str(settings.port)]
    command += ["--save", *settings.save.split()] if settings.save else ["--save", ""]
    command += ["--appendonly", "yes" if settings.append_only else "no"]
    if settings.append_only:
        command += ["--appendfsync", settings.append_fsync]
    command += ["--maxclients", str(settings.max_clients), "--timeout", str(settings.timeout)]
    if settings.max_memory:
        command += ["--maxmemory", settings.max_memory]
    command += ["--maxmemory-policy", settings.max_memory_policy]
    return command


def cli_arguments(settings: ValkeySettings) -> list[str]:
    """What ``valkey-cli`` needs to reach this server from inside its container: the port, and with TLS the
    generated CA, which the server's certificate must verify against."""
    tls = ["--tls", "--cacert", TLS_CA_PATH] if settings.tls else []
    return [*tls, "-p", str(settings.port)]


def healthcheck_test(settings: ValkeySettings) -> list[str]:
    """Docker healthcheck: an authenticated PING (``REDISCLI_AUTH`` comes from the container's environment).

    Docker's API does no compose-style interpolation, so the command substitution takes one ``$``.
    """
    return ["CMD-SHELL", f'[ "$(valkey-cli {" ".join(cli_arguments(settings))} ping)" = PONG ]']


def tls_url_query() -> dict[str, str]:
    """The query of a managed Valkey's ``rediss://`` URLs (redis-py's ``from_url`` reads it): verify the server
    and its name against the generated CA, which a consumer puts at ``core.redis.TLS_FILES["ca_cert"]``."""
    return {"ssl_ca_certs": TLS_FILES["ca_cert"], "ssl_cert_reqs": "required", "ssl_check_hostname": "true"}


if not TYPE_CHECKING:  # old imports of what moved to the Swarm package (issue 21) warn and still resolve
    __getattr__ = moved_names(__name__)
