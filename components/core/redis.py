"""The Redis connection Open WebUI is given, engine-neutral: an external server's URLs with their TLS parameters,
the certificate files the containers receive, the Sentinel and key-prefix variables, and how long the
healthcheck may take."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic.alias_generators import to_camel

from ..settings import DEFAULT_KEY_PREFIX, RedisSettings, RedisTLSSettings
from .errors import ArgumentError, ConfigurationError

TLS_DIR = "/run/secrets"
"""Where the certificate files go in an Open WebUI container (on Swarm: Docker secrets, a tmpfs; on one host:
uploaded into the container before it starts)."""
TLS_FILES = {
    "ca_cert": f"{TLS_DIR}/redis-ca.pem",
    "client_cert": f"{TLS_DIR}/redis-client.pem",
    "client_key": f"{TLS_DIR}/redis-client-key.pem",
}
"""``redis.tls`` field -> the file redis-py reads (lower-case names: the Swarm entrypoint exports only upper-case
secret files as variables)."""
_QUERY_NAMES = {"ca_cert": "ssl_ca_certs", "client_cert": "ssl_certfile", "client_key": "ssl_keyfile"}


def tls_files(tls: RedisTLSSettings | None) -> dict[str, str]:
    """The certificate files an Open WebUI container needs: path -> PEM text (secret)."""
    if tls is None:
        return {}
    files = {}
    for field, path in TLS_FILES.items():
        pem = tls.pem(field)  # type: ignore[arg-type]  # the keys of TLS_FILES are the Literal's values
        if pem is not None:
            files[path] = pem
    return files


def tls_certificates(
    redis: RedisSettings | None, ca_cert: Any = None, client_cert: Any = None, client_key: Any = None
) -> dict[str, Any]:
    """The certificate files an Open WebUI container is given, path -> PEM: ``redis.tls``'s, and Pulumi Inputs
    (the CA of a managed Valkey with TLS, or an external server's CA and client certificate that the caller's
    program made) at ``TLS_FILES``'s paths, each either from settings or as an Input."""
    files: dict[str, Any] = dict(tls_files(redis.tls if redis is not None else None))
    for field, value in (("ca_cert", ca_cert), ("client_cert", client_cert), ("client_key", client_key)):
        if value is not None:
            if TLS_FILES[field] in files:
                raise ArgumentError([f"redis_{field} is given with redis.tls.{to_camel(field)}[File]; give one"])
            files[TLS_FILES[field]] = value
    if (TLS_FILES["client_cert"] in files) != (TLS_FILES["client_key"] in files):
        raise ArgumentError(
            [
                "a client certificate needs its key and a key its certificate: give redis_client_cert (or "
                "redis.tls.clientCert[File]) together with redis_client_key (or redis.tls.clientKey[File])"
            ]
        )
    return files


def check_tls_files(urls: dict[str, str], given: Any) -> None:
    """Refuse a URL whose TLS options name a file under ``TLS_DIR`` that the container is not given (a
    ``rediss://`` URL of a ``Valkey`` with TLS, without its CA): redis-py could not open it, and every connection,
    the healthcheck's too, would fail. ``urls``: variable -> URL; ``given``: the paths the container receives."""
    files = set(given)
    for variable, url in sorted(urls.items()):
        for name, value in parse_qsl(urlsplit(url).query):
            if name.startswith("ssl_") and value.startswith(f"{TLS_DIR}/") and value not in files:
                hint = " (pass the Valkey's ca_cert as redis_ca_cert)" if value == TLS_FILES["ca_cert"] else ""
                raise ConfigurationError(
                    [f"{variable}'s {name} names {value}, a file this Open WebUI is not given{hint}"], resolved=True
                )


def tls_query(tls: RedisTLSSettings, given: Collection[str] = ()) -> dict[str, str]:
    """redis-py's TLS options as URL query parameters (``from_url`` reads them; Open WebUI passes the URL on).
    ``given``: the ``redis.tls`` fields whose PEM comes as an Input instead (``ca_cert``, ...)."""
    query: dict[str, str] = {"ssl_cert_reqs": tls.cert_reqs}
    for field, name in _QUERY_NAMES.items():
        if field in given or tls.pem(field) is not None:  # type: ignore[arg-type]
            query[name] = TLS_FILES[field]
    if tls.cert_reqs != "none":
        query["ssl_check_hostname"] = "true" if tls.check_hostname else "false"
    return query


def with_query(url: str, parameters: dict[str, str]) -> str:
    """``url`` with ``parameters`` added to its query (the URL's own parameters first, in their order)."""
    if not parameters:
        return url
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *sorted(parameters.items())]
    return urlunsplit(parts._replace(query=urlencode(query, safe="/")))


def open_webui_url(url: str, settings: RedisSettings, tls_given: Collection[str] = ()) -> str:
    """An external server's URL as Open WebUI is given it (a secret: it holds the password): with the TLS
    parameters of ``redis.tls``, and of the certificate Inputs ``tls_given`` (``redis.tls`` fields; without
    ``redis.tls`` they ask for its defaults: the certificate verified, its host name checked)."""
    tls = settings.tls if settings.tls is not None or not tls_given else RedisTLSSettings()
    return with_query(url, tls_query(tls, tls_given) if tls is not None else {})


def connection_env(settings: RedisSettings) -> dict[str, str]:
    """Open WebUI's variables for the connection that hold no secret: the key prefix, Sentinel's hosts and
    port (for both the app state and the websocket manager), and the timeouts."""
    # Open WebUI's default prefix is left unset: a new variable would replace every existing container.
    env = {"REDIS_KEY_PREFIX": settings.key_prefix} if settings.key_prefix != DEFAULT_KEY_PREFIX else {}
    if settings.sentinel is not None:
        hosts = ",".join(settings.sentinel.hosts)
        port = str(settings.sentinel.port)
        env |= {
            "REDIS_SENTINEL_HOSTS": hosts,
            "REDIS_SENTINEL_PORT": port,
            "WEBSOCKET_SENTINEL_HOSTS": hosts,
            "WEBSOCKET_SENTINEL_PORT": port,
            "REDIS_SENTINEL_MAX_RETRY_COUNT": str(settings.sentinel.max_retry_count),
            "REDIS_RECONNECT_DELAY": str(settings.sentinel.reconnect_delay),
        }
    timeout = settings.connect_timeout
    if timeout is not None:
        env["REDIS_SOCKET_CONNECT_TIMEOUT"] = f"{timeout:g}"
    return env


def sentinels(settings: RedisSettings | None) -> list[tuple[str, int]]:
    """The sentinels as (host, port), or none."""
    if settings is None or settings.sentinel is None:
        return []
    return [(host, settings.sentinel.port) for host in settings.sentinel.hosts]


SENTINEL_TIMEOUT = 1
"""Seconds the healthcheck waits for one sentinel (on loopback or a LAN it answers in milliseconds)."""


HEALTHCHECK_TIMEOUT = 5
"""Seconds Docker gives Open WebUI's healthcheck without Sentinel."""


def healthcheck_timeout(settings: RedisSettings | None) -> int:
    """Seconds Docker gives one healthcheck: 5, and with Sentinel room for every sentinel to be tried once per URL."""
    if settings is None or settings.sentinel is None:
        return HEALTHCHECK_TIMEOUT
    urls = 2 if settings.websocket_url is not None else 1
    return HEALTHCHECK_TIMEOUT + urls * len(settings.sentinel.hosts) * SENTINEL_TIMEOUT
