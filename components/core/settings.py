"""Plain, validated configuration for the components (no Pulumi Outputs here).

Each model is one block of stack configuration: ``network``, ``valkey`` and ``openWebui`` under the
project namespace. Field names are snake_case in Python and camelCase in stack configuration.
Defaults follow the tutorial, corrected where it was wrong (docs/configuration.md, "Where the tutorial was wrong").
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic._internal._model_construction import ModelMetaclass  # BaseModel's metaclass
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails

from .images import (
    HAPROXY_IMAGE,
    OPEN_WEBUI_IMAGE,
    POSTGRES_IMAGE,
    VALKEY_IMAGE,
    moving_image_problems,
    rolls_side_by_side,
)

# ---------------------------------------------------------------------------------------------------------
# Reusable constrained types
# ---------------------------------------------------------------------------------------------------------

_DOCKER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
# Docker's reference grammar (distribution/reference), without the rarely used upper-case-free checks on
# registry hosts: [registry[:port]/]path[:tag][@digest].
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = re.compile(
    r"(?:(?P<registry>(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|[a-zA-Z0-9-]+:[0-9]+|"
    r"[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+:[0-9]+))/)?"
    rf"(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?"
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SAVE_SCHEDULE = re.compile(r"(?:[0-9]+ [0-9]+(?: [0-9]+ [0-9]+)*)?")
_MEMORY = re.compile(r"[0-9]+(?:[kKmMgG][bB]?)?")
_LOG_SIZE = re.compile(r"[1-9][0-9]{0,5}[kmg]")
_POSTGRES_URL = re.compile(r"(?:postgres|postgresql|postgresql\+psycopg)://[^/\s]+/[^\s]+")


def _docker_name(value: str) -> str:
    if not _DOCKER_NAME.fullmatch(value):
        raise ValueError("must be a Docker object name: a letter or digit first, then letters, digits, '_', '.' or '-'")
    return value


def _image_reference(value: str) -> str:
    match = _IMAGE_REFERENCE.fullmatch(value)
    if not match or not (match["tag"] or match["digest"]):
        raise ValueError(
            "must be an image reference with a tag or digest, such as "
            "'docker.io/valkey/valkey:8.0.13-alpine' or 'ghcr.io/open-webui/open-webui@sha256:<64 hex>'"
        )
    return value


def _log_size(value: str) -> str:
    if not _LOG_SIZE.fullmatch(value):
        raise ValueError("must be a size with its unit k, m or g, such as '10m' or '500k'")
    return value


def _ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address, such as '127.0.0.1' or '0.0.0.0'") from None


def _save_schedule(value: str) -> str:
    if not _SAVE_SCHEDULE.fullmatch(value):
        raise ValueError(
            "must be pairs of '<seconds> <changes>' separated by spaces, such as '30 1' or '3600 1 300 100', "
            "or '' to turn snapshots off"
        )
    return value


def _memory(value: str) -> str:
    if not _MEMORY.fullmatch(value):
        raise ValueError("must be a size in bytes with an optional unit, such as '256mb' or '1gb'")
    return value


def database_url_problem(url: str) -> str | None:
    """What is wrong with an external PostgreSQL URL, or None (the URL is never quoted)."""
    if not _POSTGRES_URL.fullmatch(url):
        return (
            "must be a PostgreSQL URL such as 'postgresql://user:password@host:5432/database' "
            "(schemes: postgresql, postgres, postgresql+psycopg)"
        )
    return None


def _postgres_url(value: SecretStr) -> SecretStr:
    problem = database_url_problem(value.get_secret_value())
    if problem:
        raise ValueError(problem)
    return value


def _env_value(value: object) -> object:
    # YAML turns `true` and `3` into bool and int; environment variables are strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError("must be an environment variable name: letters, digits and '_', not starting with a digit")
    return value


MANAGED_ENV: tuple[str, ...] = (
    "ENABLE_WEBSOCKET_SUPPORT",
    "WEBSOCKET_MANAGER",
    "WEBSOCKET_REDIS_URL",
    "REDIS_URL",
    "WEBUI_SECRET_KEY",
    # The same on every replica (Open WebUI's scaling guide): a generated secret, and one process per container.
    "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY",
    "UVICORN_WORKERS",
    # These would point Open WebUI away from the Valkey this stack manages, or off its data volume and port.
    "WEBSOCKET_REDIS_CLUSTER",
    "REDIS_CLUSTER",
    "WEBSOCKET_SENTINEL_HOSTS",
    "REDIS_SENTINEL_HOSTS",
    "WEBSOCKET_SENTINEL_PORT",
    "REDIS_SENTINEL_PORT",
    # Set from the `redis` block (an external server, Sentinel, the key prefix).
    "REDIS_KEY_PREFIX",
    "REDIS_SOCKET_CONNECT_TIMEOUT",
    "REDIS_SENTINEL_MAX_RETRY_COUNT",
    "REDIS_RECONNECT_DELAY",
    "DATA_DIR",
    "PORT",
    # Set from `database` and `openWebui.replicas`: several replicas must share one database.
    "DATABASE_URL",
    "VECTOR_DB",
    "PGVECTOR_DB_URL",
    "ENABLE_DB_MIGRATIONS",
    # Together these build a DATABASE_URL that wins over the stack's.
    "DATABASE_TYPE",
    "DATABASE_USER",
    "DATABASE_PASSWORD",
    "DATABASE_HOST",
    "DATABASE_PORT",
    "DATABASE_NAME",
)
"""Open WebUI environment variables that the stack sets itself and ``openWebui.env`` may not override."""


_MANAGED_ENV_HINTS = {
    "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY": "; set it as the secret openWebui.oauthSessionTokenEncryptionKey",
    "WEBUI_SECRET_KEY": "; set it as the secret openWebui.secretKey",
    "UVICORN_WORKERS": "; scale with openWebui.replicas (one process per container)",
    "REDIS_URL": "; an external server is redis.url (a secret)",
    "WEBSOCKET_REDIS_URL": "; an external server is redis.url, or redis.websocketUrl for a second one (secrets)",
    "REDIS_SENTINEL_HOSTS": "; set redis.sentinel.hosts",
    "WEBSOCKET_SENTINEL_HOSTS": "; set redis.sentinel.hosts",
    "REDIS_SENTINEL_PORT": "; set redis.sentinel.port",
    "WEBSOCKET_SENTINEL_PORT": "; set redis.sentinel.port",
    "REDIS_KEY_PREFIX": "; set redis.keyPrefix",
    "REDIS_SOCKET_CONNECT_TIMEOUT": "; set redis.socketConnectTimeout",
    "REDIS_SENTINEL_MAX_RETRY_COUNT": "; set redis.sentinel.maxRetryCount",
    "REDIS_RECONNECT_DELAY": "; set redis.sentinel.reconnectDelay",
}


def _unmanaged_env_name(value: str) -> str:
    if value.upper() in MANAGED_ENV:
        raise ValueError(
            "is set by the stack and cannot be overridden; any variable but the managed ones may be set "
            f"(docs/configuration.md: Default settings, 'Managed env'){_MANAGED_ENV_HINTS.get(value.upper(), '')}"
        )
    return value


_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _web_host(host: str) -> str | None:
    """``host`` (from ``urlsplit``: lower case, no brackets) as a browser writes it in ``Origin``, or None when a
    browser would write it differently or not at all (IDN hosts go in their punycode ``xn--`` form)."""
    if "%" in host:
        return None  # an IPv6 zone (fe80::1%eth0): browsers do not send one
    if ":" in host:
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            return None
    if re.fullmatch(r"[0-9.]+", host):
        try:
            return str(ipaddress.IPv4Address(host))  # 127.1 and 0x7f.1 are not accepted: write 127.0.0.1
        except ValueError:
            return None
    labels = host.removesuffix(".").split(".")
    return host if all(_HOST_LABEL.fullmatch(label) for label in labels) else None


def url_origin(url: str) -> str | None:
    """A URL's origin as a browser sends it in ``Origin`` (scheme, host, the port only when not the default), or
    None when it has none: not http(s), no or a malformed host, a bad port, or user credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or "@" in parts.netloc or not parts.hostname:
        return None
    host = _web_host(parts.hostname)
    if host is None or port == 0:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def _public_url(value: str) -> str:
    if url_origin(value) is None or any(char.isspace() for char in value):
        raise ValueError(
            "must be an http:// or https:// URL with a host as a browser sends it (letters, digits, '-' and '.', "
            "an IDN host in its xn-- form, or an IP address) and no user or password, such as "
            "'https://chat.example.com'"
        )
    return value


def cors_problems(value: str, custom_schemes: str = "") -> list[str]:
    """What is wrong with a ``CORS_ALLOW_ORIGIN`` value (``;``-separated origins, or ``*``) as Open WebUI reads it:
    it refuses to start on an empty entry or a scheme other than http, https and ``CORS_ALLOW_CUSTOM_SCHEME``'s,
    and an http(s) entry that is not written as a browser writes ``Origin`` (a path, a default port, upper case,
    spaces) never matches. The entries are not echoed: ``openWebui.env`` may be held as a secret."""
    if value == "*":
        return []
    entries = value.split(";")
    custom = {scheme for scheme in custom_schemes.split(";") if scheme}
    problems = []
    for number, origin in enumerate(entries, 1):
        which = f"entry {number} of {len(entries)}"
        try:
            parts = urlsplit(origin)
        except ValueError:
            parts = urlsplit("")
        if parts.scheme in custom and parts.netloc:
            continue
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(
                f"{which} is no origin: write http(s)://host[:port] (another scheme only if CORS_ALLOW_CUSTOM_SCHEME "
                "lists it), separated by ';' with no empty entry"
            )
        elif origin != url_origin(origin):
            problems.append(
                f"{which} never matches the Origin a browser sends: write scheme://host[:port] in lower case, with no "
                "path, '/', default port, credentials or spaces"
            )
    return problems


HEALTH_CHECK_INTERVAL = 60
"""Open WebUI's ``REDIS_HEALTH_CHECK_INTERVAL`` by default: the Redis guide's figure for ``timeout 1800``."""


def default_health_check_interval(timeout: int, silent_seconds: int | None = None) -> int:
    """``REDIS_HEALTH_CHECK_INTERVAL`` for a Valkey ``timeout`` (0: never): 60 s, or half the timeout if shorter;
    and with ``silent_seconds`` (``openWebui.selfHeal.silentConnectionSeconds``) at most half of that
    (``SelfHealSettings.health_check_interval``)."""
    base = HEALTH_CHECK_INTERVAL if timeout == 0 else min(HEALTH_CHECK_INTERVAL, timeout // 2)
    return base if silent_seconds is None else min(base, max(1, silent_seconds // 2))


def health_check_interval_fits(interval: str | None, timeout: int) -> bool:
    """Whether ``REDIS_HEALTH_CHECK_INTERVAL`` (``interval`` as set in ``openWebui.env``, or None for the default)
    is a whole number of seconds from 1 to below a Redis server's idle ``timeout`` (0: it never closes idle
    clients, so any interval fits). An interval that is not digits is reported where the env is checked."""
    if timeout == 0 or (interval is not None and not interval.isdigit()):
        return True
    seconds = default_health_check_interval(timeout) if interval is None else int(interval)
    return 1 <= seconds < timeout


def oauth_key_problem(key: str) -> str | None:
    """Open WebUI hashes any key into a Fernet key except one of 44 characters, which it takes as a Fernet key."""
    if not key:
        return "is empty; remove it to have one generated"
    if len(key) == 44:
        try:
            if len(base64.urlsafe_b64decode(key.encode())) == 32:
                return None
        except (ValueError, binascii.Error):
            pass
        return (
            "has 44 characters but is no Fernet key (Open WebUI would fail to start): give a Fernet key "
            "(url-safe base64 of 32 bytes) or a key of any other length"
        )
    return None


DockerName = Annotated[str, AfterValidator(_docker_name)]
"""The name of a Docker container, volume, network or network alias."""
ImageReference = Annotated[str, AfterValidator(_image_reference)]
"""An image reference with a tag or a digest."""
IPAddress = Annotated[str, AfterValidator(_ip_address)]
Port = Annotated[int, Field(ge=1, le=65535)]
RedisDatabase = Annotated[int, Field(ge=0, le=15)]
"""A database index of a Valkey server with the default ``databases 16``."""
Seconds = Annotated[int, Field(ge=1, le=3600)]
RestartPolicy = Literal["no", "on-failure", "always", "unless-stopped"]
SaveSchedule = Annotated[str, AfterValidator(_save_schedule)]
MemorySize = Annotated[str, AfterValidator(_memory)]
LogSize = Annotated[str, AfterValidator(_log_size)]
JsonFileOption = Literal["compress", "labels", "labels-regex", "env", "env-regex", "tag"]
"""json-file's options besides the two bounds (Docker's ``daemon/logger/jsonfilelog``)."""
"""A json-file log's ``max-size``, in the form Docker keeps and reads back (``10m``)."""
EnvName = Annotated[str, AfterValidator(_env_name), AfterValidator(_unmanaged_env_name)]
EnvValue = Annotated[str, BeforeValidator(_env_value)]
PostgresURL = Annotated[SecretStr, AfterValidator(_postgres_url)]
PublicURL = Annotated[str, AfterValidator(_public_url)]
UpgradeStrategy = Literal["recreate", "rolling"]


_RETAIN = "Keep the data volume when the stack is destroyed or the volume replaced. `false` for throwaway stacks."


HIDDEN_INPUT = "[hidden]"
"""What a settings model built in Python reports as the input of a problem (it may be a password or a key)."""


def _without_inputs(error: ValidationError) -> ValidationError:
    """``error`` with every input replaced by ``HIDDEN_INPUT``: ``errors()`` and ``json()`` hold the inputs even
    with ``hide_input_in_errors``, which only shortens ``str()``."""
    details: list[InitErrorDetails] = []
    for item in error.errors(include_url=False):
        detail: InitErrorDetails = {"type": item["type"], "loc": item["loc"], "input": HIDDEN_INPUT}
        if "ctx" in item:
            detail["ctx"] = item["ctx"]
        details.append(detail)
    return ValidationError.from_exception_data(error.title, details, hide_input=True)


class _HidesInputs(ModelMetaclass):
    """Settings built in Python (``ValkeySettings(password=...)``) raise errors without any input.

    The constructor call alone is wrapped: stack configuration goes through ``model_validate``, whose errors
    ``describe_errors`` reports with secrets hidden but other values shown (``got 99``)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - a metaclass method: cls is the model
        try:
            return super().__call__(*args, **kwargs)
        except ValidationError as error:
            raise _without_inputs(error) from None


class _Settings(BaseModel, metaclass=_HidesInputs):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        hide_input_in_errors=True,  # a password or key given to a model must never reach an error message
    )


# ---------------------------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------------------------


class NetworkSettings(_Settings):
    """The Docker network that Valkey and Open WebUI share."""

    name: DockerName = Field("openwebui-network", description="Name of the Docker network.")
    external: bool = Field(
        False,
        description=(
            "Adopt an existing network of this name (created with `docker network create`) instead of "
            "creating one. An adopted network is never deleted by the stack."
        ),
    )


class ValkeySettings(_Settings):
    """The Valkey server that manages Open WebUI's websockets."""

    image: ImageReference = Field(VALKEY_IMAGE, description="Valkey image.")
    container_name: DockerName = Field("redis-valkey", description="Name of the Valkey container.")
    volume_name: DockerName = Field("redis-data", description="Name of the Docker volume mounted at `/data`.")
    alias: DockerName = Field(
        "redis",
        description="Network alias of the Valkey container: the host name in the Redis URLs.",
    )
    port: Port = Field(6379, description="Port Valkey listens on inside the network (never published).")
    database: RedisDatabase = Field(
        1, description="Database index that Open WebUI uses for both `REDIS_URL` and `WEBSOCKET_REDIS_URL`."
    )
    auth: bool = Field(
        True,
        description=(
            "Require a password. Without `password`, a random one is generated and kept in the stack's state."
        ),
    )
    password: SecretStr | None = Field(
        None,
        description=(
            "Valkey password, set with `pulumi config set --secret --path valkey.password`. "
            "Default: generated (32 characters)."
        ),
    )
    save: SaveSchedule = Field(
        "30 1",
        description="RDB snapshot schedule: `<seconds> <changes>` pairs (`30 1`: after 30 s if a key changed).",
    )
    append_only: bool | None = Field(
        None,
        description=(
            "AOF persistence (`--appendonly yes`): every write logged, fsynced per `appendFsync`, so a crash loses "
            "at most about a second instead of up to `save`'s interval. Default: on for stacks on PostgreSQL "
            "(replicas share Valkey's state: revoked sign-ins, config sync), off for one container on SQLite and "
            "for a `Valkey` component used on its own. "
            "Turning it on for an existing Valkey starts it empty unless you first run `CONFIG SET appendonly yes` "
            "(docs/upgrades.md)."
        ),
    )
    append_fsync: Literal["always", "everysec", "no"] = Field(
        "everysec", description="AOF fsync policy when `appendOnly` is on."
    )
    max_clients: int = Field(10000, ge=1, le=1_000_000, description="`--maxclients`.")
    timeout: int = Field(
        1800, ge=0, le=86_400, description="`--timeout`: seconds before an idle client is closed (0: never)."
    )
    max_memory: MemorySize | None = Field(None, description="`--maxmemory`, such as `256mb`. Default: no limit.")
    max_memory_policy: Literal["noeviction", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] = Field(
        "noeviction",
        description="`--maxmemory-policy`. `allkeys-*` policies are refused: they evict Open WebUI's state.",
    )
    restart: RestartPolicy = Field("unless-stopped", description="Docker restart policy.")
    wait_timeout: Seconds = Field(60, description="Seconds `pulumi up` waits for the container to be healthy.")
    retain_volume: bool = Field(
        True,
        description=_RETAIN,
    )
    tls: bool = Field(
        False,
        description=(
            "Valkey listens with TLS only (`rediss://`), on a CA and a server certificate generated for it "
            "(pulumi-tls; the keys kept in the stack's state as secrets); Open WebUI, the healthchecks and "
            "`components.verify` verify the server against that CA. Turning it on or off replaces Valkey and "
            "Open WebUI."
        ),
    )
    tls_validity_days: int = Field(
        3650,
        ge=2,
        le=36_500,
        description="Days the generated CA and server certificates are valid (with `tls`).",
    )
    tls_renewal_days: int = Field(
        30,
        ge=1,
        le=36_499,
        description=(
            "A `pulumi up` this many days or fewer before the certificates expire makes new ones (replacing Valkey "
            "and Open WebUI); must be below `tlsValidityDays`."
        ),
    )

    @model_validator(mode="after")
    def _password_needs_auth(self) -> ValkeySettings:
        if self.password is not None and not self.auth:
            raise ValueError("valkey.password is set while valkey.auth is false; remove one of them")
        if self.password is not None and not self.password.get_secret_value():
            raise ValueError("valkey.password is empty; remove it to have one generated")
        return self

    @model_validator(mode="after")
    def _tls_settings(self) -> ValkeySettings:
        given = [name for name in ("tls_validity_days", "tls_renewal_days") if name in self.model_fields_set]
        if given and not self.tls:
            keys = " and ".join(f"valkey.{to_camel(name)}" for name in given)
            raise ValueError(
                f"{keys} {'is' if len(given) == 1 else 'are'} set while valkey.tls is false; set "
                "valkey.tls: true, or remove " + ("it" if len(given) == 1 else "them")
            )
        if self.tls_renewal_days >= self.tls_validity_days:
            raise ValueError(
                f"valkey.tlsRenewalDays is {self.tls_renewal_days} and valkey.tlsValidityDays "
                f"{self.tls_validity_days}: the renewal window must be shorter than the certificates' validity, "
                "or every `pulumi up` would make new ones"
            )
        return self


TCP_RTO_MIN = 0.2
"""Linux's minimum retransmission timeout (``TCP_RTO_MIN``, seconds): the base of ``tcp_retries2``'s time budget."""
MIN_TCP_RETRIES2 = 5
"""The fewest retransmissions the stack lets a container's TCP make before it gives a connection up (12.6 s)."""


def retransmission_budget(retries: int) -> float:
    """Seconds Linux retransmits unacknowledged data before it drops the connection, for ``tcp_retries2``
    (``tcp_retransmits_timed_out``: doubling from ``TCP_RTO_MIN`` up to ``TCP_RTO_MAX``, 120 s)."""
    boundary = 9  # ilog2(TCP_RTO_MAX / TCP_RTO_MIN)
    if retries <= boundary:
        return ((2 << retries) - 1) * TCP_RTO_MIN
    return ((2 << boundary) - 1) * TCP_RTO_MIN + (retries - boundary) * 120


def tcp_retries(seconds: int) -> int:
    """The smallest ``tcp_retries2`` (at least ``MIN_TCP_RETRIES2``) whose budget reaches ``seconds``."""
    retries = MIN_TCP_RETRIES2
    while retransmission_budget(retries) < seconds:
        retries += 1
    return retries


class SelfHealSettings(_Settings):
    """How an Open WebUI replica notices a Redis connection that went silent, and when a deaf replica is
    unhealthy (the README's fault table)."""

    silent_connection_seconds: int = Field(
        10,
        ge=5,
        le=600,
        description=(
            "How long a Redis connection that stopped answering without closing (a network partition, a NAT or "
            "load balancer that dropped it, a node gone) may go unnoticed. The container's TCP keepalive (idle "
            "connections: `net.ipv4.tcp_keepalive_time`/`_intvl`/`_probes`, 3 probes) and retransmission limit "
            "(data in flight: `net.ipv4.tcp_retries2`, at least 5, 12.6 s) are set from it as `sysctls`; Open "
            "WebUI's Redis clients turn keepalive on (`WEBSOCKET_REDIS_OPTIONS`, `REDIS_SOCKET_KEEPALIVE`) and "
            "reconnect once the kernel ends the connection. These sysctls apply to the container's other TCP "
            "connections too (a browser whose network drops everything that long reconnects)."
        ),
    )
    unhealthy_after_seconds: int = Field(
        20,
        ge=10,
        le=3600,
        description=(
            "A replica whose websocket listener has not delivered the healthcheck's event for this long, while Redis "
            "answers a new connection, fails its next check and is unhealthy (at most about this plus 14 s after "
            "going deaf, the checks being about 7 s apart then; 23-29 s at the default 20): Swarm replaces its task. "
            "After Redis was unreachable the count waits for Open WebUI's own retry backoff (the outage the checks "
            "saw, plus 16 s, up to 65 s). Each check (5 s after the last) publishes an event through Redis to a "
            "socket.io client of that replica. On one host Docker does not restart an unhealthy container: `docker "
            "restart` it (README: Faults). While Redis itself is unreachable the replicas stay healthy (a new one "
            "would not reach it either), once they have delivered an event. Must exceed the silent connection's "
            "retransmission budget by 5 s, so that TCP ends a silent connection before the replica is called "
            "unhealthy."
        ),
    )

    def health_check_interval(self) -> int:
        """redis-py's ``health_check_interval`` for Open WebUI's Redis clients: half the silent time. A blocking
        pub/sub read that the kernel ends with ``ETIMEDOUT`` returns nothing in redis-py 8 on Python 3.11 (its
        ``except asyncio.TimeoutError`` takes the socket's ``TimeoutError`` for a read timeout); the listener's
        next read then sends the health check's PING on the closed connection, which raises, and the listener
        reconnects. Without it the socket.io manager's listener stays deaf (measured: Tier 2 and real Docker)."""
        return max(1, self.silent_connection_seconds // 2)

    def sysctls(self) -> dict[str, str]:
        """The container's kernel settings, as Docker stores them and the provider reads them back."""
        probes = 3
        interval = max(1, self.silent_connection_seconds // 5)
        return {
            "net.ipv4.tcp_keepalive_intvl": str(interval),
            "net.ipv4.tcp_keepalive_probes": str(probes),
            "net.ipv4.tcp_keepalive_time": str(self.silent_connection_seconds - probes * interval),
            "net.ipv4.tcp_retries2": str(tcp_retries(self.silent_connection_seconds)),
        }

    @model_validator(mode="after")
    def _unhealthy_after_tcp(self) -> SelfHealSettings:
        budget = retransmission_budget(tcp_retries(self.silent_connection_seconds))
        least = math.ceil(budget) + 5
        if self.unhealthy_after_seconds < least:
            raise ValueError(
                f"openWebui.selfHeal.unhealthyAfterSeconds is {self.unhealthy_after_seconds}; with "
                f"silentConnectionSeconds {self.silent_connection_seconds} it must be at least {least} (TCP gives up a "
                f"silent connection with data in flight after {budget:g} s; the replica gets 5 s more to reconnect)"
            )
        return self


class OpenWebUISettings(_Settings):
    """The Open WebUI container."""

    image: ImageReference = Field(OPEN_WEBUI_IMAGE, description="Open WebUI image.")
    container_name: DockerName = Field("open-webui", description="Name of the Open WebUI container.")
    volume_name: DockerName = Field(
        "open-webui", description="Name of the Docker volume mounted at `/app/backend/data`."
    )
    host_port: Port = Field(3000, description="Host port that publishes Open WebUI's port 8080.")
    bind_address: IPAddress = Field(
        "127.0.0.1", description="Host address the port is published on (`0.0.0.0`: every interface)."
    )
    secret_key: SecretStr | None = Field(
        None,
        description=(
            "`WEBUI_SECRET_KEY`, set with `pulumi config set --secret --path openWebui.secretKey`. "
            "Default: generated once and kept, so replacing the container logs nobody out."
        ),
    )
    env: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        description="Extra environment variables. The variables the stack manages may not be set here.",
    )
    restart: RestartPolicy = Field("unless-stopped", description="Docker restart policy.")
    wait_timeout: Annotated[int, Field(ge=1, le=3600)] = Field(
        300, description="Seconds `pulumi up` waits for Open WebUI to be healthy (first start migrates the database)."
    )
    replicas: int = Field(
        1,
        ge=1,
        le=16,
        description=(
            "Open WebUI containers. 1 (on SQLite): one container publishes the port. 2 or more, or any number on "
            "PostgreSQL (`database`): containers `<containerName>-<n>` share PostgreSQL, Valkey and the data "
            "volume behind a load balancer (`loadBalancer`) that alone publishes the port, so the count moves "
            "between 1 and 16 in one `pulumi up`. How they are created and replaced: `upgrade`."
        ),
    )
    upgrade: UpgradeStrategy = Field(
        "recreate",
        description=(
            "How replicas are replaced (a new image, a changed setting). `recreate`, as Open WebUI's scaling guide "
            "asks: every replica stops, replica 1 starts on the new version and migrates the database, then the "
            "rest start together (an outage of about one start; never two versions on one schema); replicas are "
            "created the same way, replica 1 and then the rest at once. `rolling`: one replica at a time, each "
            "healthy before the next stops, so the load balancer keeps answering; only for changes that keep the "
            "schema (settings, a patch release), and replicas are also created one at a time."
        ),
    )
    public_url: PublicURL | None = Field(
        None,
        description=(
            "The URL browsers open when a proxy or a host name is in front, such as `https://chat.example.com`: "
            "its origin becomes `CORS_ALLOW_ORIGIN` (without it websockets fail with 403 through that name). "
            "Default: the published address (`http://<bindAddress>:<hostPort>`, and localhost beside a loopback "
            "address; for `0.0.0.0` or `::`, localhost, 127.0.0.1 and [::1])."
        ),
    )
    oauth_session_token_encryption_key: SecretStr | None = Field(
        None,
        description=(
            "`OAUTH_SESSION_TOKEN_ENCRYPTION_KEY`, set with `pulumi config set --secret --path "
            "openWebui.oauthSessionTokenEncryptionKey`. Default: generated once and kept, the same on every replica."
        ),
    )
    memory_mb: int | None = Field(
        None,
        ge=1024,
        le=1_048_576,
        description="Memory limit per Open WebUI container in MiB (one process takes about 810 MB). Default: no limit.",
    )
    retain_volume: bool = Field(
        True,
        description=_RETAIN,
    )
    self_heal: SelfHealSettings = Field(
        default_factory=SelfHealSettings,
        description="How replicas notice silent Redis connections and deaf listeners (README: Faults).",
    )

    def replica_names(self, load_balanced: bool | None = None) -> list[str]:
        """Docker names of the Open WebUI containers: ``containerName`` alone, or ``<containerName>-<n>`` behind
        the load balancer (``load_balanced``; default: with more than one replica)."""
        if not (self.replicas > 1 if load_balanced is None else load_balanced):
            return [self.container_name]
        return [f"{self.container_name}-{n}" for n in range(1, self.replicas + 1)]

    def cors_origins(self) -> list[str]:
        """``CORS_ALLOW_ORIGIN``'s origins: ``public_url``'s, or the published address's; on a loopback address
        also ``localhost`` (what a browser on the host, or through an SSH tunnel, opens), and for every interface
        the loopback names too (remote browsers need ``public_url``)."""
        if self.public_url is not None:
            origin = url_origin(self.public_url)
            assert origin is not None  # validated
            return [origin]
        address = ipaddress.ip_address(self.bind_address)
        port = self.host_port
        if address.is_unspecified:
            hosts = ["localhost", "127.0.0.1", "[::1]"]
        elif address.is_loopback:
            hosts = [f"[{address}]" if address.version == 6 else str(address), "localhost"]
        else:
            hosts = [f"[{address}]" if address.version == 6 else str(address)]
        return [f"http://{host}:{port}" for host in hosts]

    @model_validator(mode="after")
    def _secrets_not_empty(self) -> OpenWebUISettings:
        if self.secret_key is not None and not self.secret_key.get_secret_value():
            raise ValueError("openWebui.secretKey is empty; remove it to have one generated")
        key = self.oauth_session_token_encryption_key
        if key is not None:
            problem = oauth_key_problem(key.get_secret_value())
            if problem:
                raise ValueError(f"openWebui.oauthSessionTokenEncryptionKey {problem}")
        return self

    @model_validator(mode="after")
    def _env_values(self) -> OpenWebUISettings:
        problems = []
        origins = self.env.get("CORS_ALLOW_ORIGIN")
        if origins is not None:
            custom = self.env.get("CORS_ALLOW_CUSTOM_SCHEME", "")
            problems += [f"openWebui.env.CORS_ALLOW_ORIGIN: {p}" for p in cors_problems(origins, custom)]
        interval = self.env.get("REDIS_HEALTH_CHECK_INTERVAL")
        if interval is not None and not re.fullmatch(r"[0-9]+", interval):
            problems.append(
                "openWebui.env.REDIS_HEALTH_CHECK_INTERVAL: must be a whole number of seconds written in digits, "
                "such as '60' (Open WebUI turns what it cannot read as one into no check at all)"
            )
        problems += _keepalive_env_problems(self.env)
        if problems:
            raise ValueError("\n".join(problems))
        options = self.env.get("WEBSOCKET_REDIS_OPTIONS")
        if options is not None:
            self.env["WEBSOCKET_REDIS_OPTIONS"] = websocket_redis_options(
                options, health_check_interval=self.self_heal.health_check_interval()
            )
        return self


def websocket_redis_options(
    given: str | None = None, connect_timeout: float | None = None, health_check_interval: int | None = None
) -> str:
    """``WEBSOCKET_REDIS_OPTIONS`` (redis-py's keyword arguments for the socket.io manager) as JSON (sorted,
    compact): keepalive on, so that the container's keepalive sysctls end a silent connection, and
    ``health_check_interval`` (``SelfHealSettings.health_check_interval``) unless ``given`` (``openWebui.env``'s,
    already checked) sets one; without ``given``, ``socket_connect_timeout`` (Open WebUI takes
    ``REDIS_SOCKET_CONNECT_TIMEOUT`` into it only when the variable is unset)."""
    options: dict[str, Any] = json.loads(given) if given is not None else {}
    if given is None and connect_timeout is not None:
        options["socket_connect_timeout"] = connect_timeout
    if health_check_interval is not None:
        options.setdefault("health_check_interval", health_check_interval)
    options["socket_keepalive"] = True
    return json.dumps(options, sort_keys=True, separators=(",", ":"))


def _keepalive_env_problems(env: Mapping[str, str]) -> list[str]:
    """``WEBSOCKET_REDIS_OPTIONS`` and ``REDIS_SOCKET_KEEPALIVE`` as ``openWebui.env`` may set them."""
    problems = []
    keepalive = env.get("REDIS_SOCKET_KEEPALIVE")
    if keepalive is not None and keepalive.strip().lower() != "true":
        problems.append(
            f"openWebui.env.REDIS_SOCKET_KEEPALIVE: is {keepalive!r}; only 'true' (the stack's default) is allowed: "
            "without keepalive a silent Redis connection is never noticed (openWebui.selfHeal)"
        )
    options = env.get("WEBSOCKET_REDIS_OPTIONS")
    if options is None:
        return problems
    where = "openWebui.env.WEBSOCKET_REDIS_OPTIONS (its value is not shown: it may hold a password):"
    try:
        parsed = json.loads(options)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        problems.append(
            f"{where} it must be a JSON object of redis-py options, such as '{{\"socket_connect_timeout\": 5}}' "
            "(Open WebUI ignores anything else and falls back to its defaults)"
        )
    elif parsed.get("socket_keepalive", True) is not True:
        problems.append(
            f"{where} socket_keepalive may only be true (the stack adds it): without it a silent Redis connection "
            "is never noticed (openWebui.selfHeal)"
        )
    elif isinstance(interval := parsed.get("health_check_interval", 1), bool) or not (
        isinstance(interval, int) and interval >= 1
    ):
        problems.append(
            f"{where} health_check_interval must be a whole number of seconds from 1 (the stack sets half of "
            "openWebui.selfHeal.silentConnectionSeconds unless you do): without it a listener whose connection the "
            "kernel ended stays deaf"
        )
    elif "socket_keepalive_options" in parsed:
        problems.append(
            f"{where} socket_keepalive_options cannot be given as JSON (redis-py needs integer keys); the keepalive "
            "timing is openWebui.selfHeal.silentConnectionSeconds (the container's sysctls)"
        )
    return problems


class DatabaseSettings(_Settings):
    """The PostgreSQL database that Open WebUI replicas share (used with `openWebui.replicas` > 1, or `enabled`)."""

    enabled: bool = Field(
        False,
        description=(
            "Keep Open WebUI's data in PostgreSQL (behind the load balancer) even with one replica. Set it to scale "
            "back from several replicas to one in one `pulumi up`: without it Open WebUI would return to its "
            "SQLite file and the PostgreSQL container would go (see docs/upgrades.md, Scaling down)."
        ),
    )
    url: PostgresURL | None = Field(
        None,
        description=(
            "An existing PostgreSQL database instead of the managed container, set with "
            "`pulumi config set --secret --path database.url`. Used with any number of replicas."
        ),
    )
    image: ImageReference = Field(
        POSTGRES_IMAGE,
        description="PostgreSQL image; it must ship the pgvector extension when `vectorStore` is `pgvector`.",
    )
    container_name: DockerName = Field("open-webui-postgres", description="Name of the PostgreSQL container.")
    volume_name: DockerName = Field(
        "open-webui-postgres", description="Name of the volume mounted at `/var/lib/postgresql/data`."
    )
    alias: DockerName = Field("postgres", description="Network alias of the PostgreSQL container.")
    name: DockerName = Field("openwebui", description="Database name.")
    user: DockerName = Field("openwebui", description="Database user.")
    password: SecretStr | None = Field(
        None,
        description=(
            "Database password, set with `pulumi config set --secret --path database.password`. Default: generated."
        ),
    )
    vector_store: Literal["pgvector", "chroma"] = Field(
        "pgvector",
        description=(
            "Where replicas keep document embeddings: `pgvector` in the shared database; `chroma` only for a "
            "single replica (its files in the data directory cannot be shared)."
        ),
    )
    restart: RestartPolicy = Field("unless-stopped", description="Docker restart policy.")
    wait_timeout: Seconds = Field(120, description="Seconds `pulumi up` waits for PostgreSQL to be healthy.")
    retain_volume: bool = Field(True, description=_RETAIN)

    @model_validator(mode="after")
    def _one_source(self) -> DatabaseSettings:
        if self.url is not None and self.password is not None:
            raise ValueError("database.url and database.password are both set; an external database takes only url")
        if self.password is not None and not self.password.get_secret_value():
            raise ValueError("database.password is empty; remove it to have one generated")
        return self


class LogsSettings(_Settings):
    """Container logs: every container and Swarm service logs with Docker's json-file driver within these bounds."""

    max_size: LogSize = Field(
        "10m", description="Size at which a container's log file is rotated (`max-size`: `k`, `m` or `g`)."
    )
    max_files: int = Field(
        3,
        ge=1,
        le=100,
        description=(
            "Log files kept per container (`max-file`), the current one included: a container's logs take at most "
            "`maxSize` times this on the host's disk (30 MB by default)."
        ),
    )

    options: dict[JsonFileOption, EnvValue] = Field(
        default_factory=dict,
        description=(
            "Other json-file options (`compress`, `labels`, `labels-regex`, `env`, `env-regex`, `tag`). Docker adds "
            "the daemon's own `log-opts` (daemon.json) to a container on the daemon's default driver, and the "
            "provider reads them back: repeat them here, or every `pulumi up` replaces the containers."
        ),
    )

    def options_for_docker(self) -> dict[str, str]:
        """The json-file driver's options, as Docker stores them and the provider reads them back."""
        options = {str(name): value for name, value in self.options.items()}
        return {**options, "max-file": str(self.max_files), "max-size": self.max_size}


class LoadBalancerSettings(_Settings):
    """The HAProxy load balancer in front of several Open WebUI replicas (used when `openWebui.replicas` > 1)."""

    image: ImageReference = Field(
        HAPROXY_IMAGE,
        description="HAProxy image (the 2.6 LTS line, as Debian bookworm's haproxy that the real-process tests run).",
    )
    container_name: DockerName = Field("open-webui-lb", description="Name of the load balancer container.")
    sticky_sessions: bool = Field(
        False,
        description="Pin each browser to one replica with a cookie. Not needed: Valkey shares websocket events.",
    )
    max_connections: int = Field(
        4096,
        ge=64,
        le=100_000,
        description="HAProxy's `maxconn`: concurrent connections (a browser tab holds a websocket and a few more).",
    )
    restart: RestartPolicy = Field("unless-stopped", description="Docker restart policy.")
    wait_timeout: Seconds = Field(60, description="Seconds `pulumi up` waits for the load balancer to be healthy.")


SENTINEL_CONNECT_TIMEOUT = 5.0
"""``REDIS_SOCKET_CONNECT_TIMEOUT`` with Sentinel unless set: the figure Open WebUI's env reference "strongly
recommends" (without it a failover can hang Open WebUI)."""


DEFAULT_KEY_PREFIX = "open-webui"
"""Open WebUI's own ``REDIS_KEY_PREFIX``."""
_SENTINEL_USERINFO = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=]*(?::[A-Za-z0-9\-._~!$&'()*+,;=:]*)?")
_KEY_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:{}-]{0,99}")
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s.*?-----END \1-----", re.DOTALL)
REDIS_SCHEMES = ("redis", "rediss")
TLS_QUERY_PARAMETERS = ("ssl_ca_certs", "ssl_cert_reqs", "ssl_certfile", "ssl_keyfile", "ssl_check_hostname")
"""redis-py's TLS options in a URL's query: the stack writes them from ``redis.tls``; a URL may not carry them."""
URL_QUERY_PARAMETERS = (
    "socket_timeout",
    "socket_connect_timeout",
    "socket_keepalive",
    "retry_on_timeout",
    "max_connections",
    "health_check_interval",
    "protocol",
    "client_name",
)
"""The other connection options redis-py 8 reads from a URL's query (``URL_QUERY_ARGUMENT_PARSERS``, without
``db``: the database goes in the path, which Open WebUI's Sentinel code reads)."""


def redis_url_problem(url: str) -> str | None:
    """What is wrong with an external Redis URL as Open WebUI reads it (redis-py's ``from_url``, and the Sentinel
    parser that takes the host as the master name), or None. Only the scheme is ever quoted: the URL may hold a
    password."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a URL with a valid port: write redis[s]://[user:password@]host[:port][/database]"
    if parts.scheme not in REDIS_SCHEMES or not url.startswith(("redis://", "rediss://")):
        if parts.scheme in REDIS_SCHEMES:  # redis-py compares the scheme case-sensitively
            return "must start with redis:// or rediss:// in lower case (redis-py reads no other spelling)"
        # Only a scheme written as one (``name://``) is quoted: in ``p4ss:w0rd`` the "scheme" is part of a secret.
        written = re.fullmatch(r"[a-z][a-z0-9+.-]*", parts.scheme) and url.startswith(f"{parts.scheme}://")
        shown = repr(parts.scheme) if written else "none"
        return f"must start with redis:// or rediss:// (TLS), got the scheme {shown}"
    if any(char.isspace() for char in url) or not parts.hostname:
        return "has no host, or holds spaces: write redis[s]://[user:password@]host[:port][/database]"
    if port == 0:
        return "has port 0: write a port from 1 to 65535, or none for 6379"
    path = parts.path.removeprefix("/")
    if path and not (path.isdigit() and int(path) < 2**31):
        return "names no database: the path must be a database index such as /0, or empty for 0"
    if parts.fragment:
        return "has a #fragment, which redis-py ignores: remove it"
    names = {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    given = sorted(names & set(TLS_QUERY_PARAMETERS))
    if given:
        return f"carries {', '.join(given)}: set TLS under redis.tls (the stack writes these parameters)"
    unknown = sorted(names - set(URL_QUERY_PARAMETERS))
    if unknown:
        shown = ", ".join(repr(name) for name in unknown if re.fullmatch(r"[a-z_]{1,40}", name)) or "some"
        return (
            f"has query parameters redis-py does not take ({shown}; a connection would fail): use only "
            f"{', '.join(URL_QUERY_PARAMETERS)}, with the database in the path"
        )
    return None


def _sentinel_host(value: str) -> str:
    text = value.strip().lower() if isinstance(value, str) else value
    if ":" in text and not text.startswith("["):
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            raise ValueError(
                "must be a host name or IP address without a port: Open WebUI gives every sentinel the one port "
                "redis.sentinel.port"
            ) from None
        return text
    labels = text.removesuffix(".").split(".")
    if not text or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError(
            "must be a host name (letters, digits, '-' and '.') or an IP address, such as 'sentinel-1' or '10.0.0.5'"
        )
    return text


SentinelHost = Annotated[str, AfterValidator(_sentinel_host)]


def pem_problem(kind: str, value: str) -> str | None:
    """What is wrong with a PEM text that should hold ``kind`` blocks (``CERTIFICATE``, ``PRIVATE KEY``)."""
    blocks = [match[1] for match in _PEM_BLOCK.finditer(value)]
    if "ENCRYPTED PRIVATE KEY" in blocks or "Proc-Type: 4,ENCRYPTED" in value:
        return "is an encrypted key, which Open WebUI cannot open (it gives redis-py no passphrase): decrypt it"
    if not any(block.endswith(kind) for block in blocks):
        return f"holds no PEM {kind} block (-----BEGIN ...{kind}-----)"
    return None


class RedisTLSSettings(_Settings):
    """TLS to an external Redis (`rediss://`): what redis-py verifies, and the files Open WebUI is given."""

    ca_cert: SecretStr | None = Field(
        None,
        description=(
            "PEM of the CA that signed the server's certificate, set with `pulumi config set --secret --path "
            "redis.tls.caCert < ca.pem`. Default: the image's trusted CAs (a server with a public certificate)."
        ),
    )
    ca_cert_file: str | None = Field(
        None, description="Path (on the machine running `pulumi`) of that PEM file, instead of `caCert`."
    )
    client_cert: SecretStr | None = Field(
        None, description="PEM of a client certificate, for a server that asks for one (`tls-auth-clients yes`)."
    )
    client_cert_file: str | None = Field(None, description="Path of the client certificate's PEM file, instead.")
    client_key: SecretStr | None = Field(
        None,
        description="PEM of the client certificate's private key (a secret: `pulumi config set --secret`).",
    )
    client_key_file: str | None = Field(None, description="Path of the client key's PEM file, instead.")
    cert_reqs: Literal["required", "optional", "none"] = Field(
        "required",
        description=(
            "`ssl_cert_reqs`: `required` verifies the server's certificate against the CA; `none` accepts any "
            "certificate (encryption without authentication: only to try a server out)."
        ),
    )
    check_hostname: bool = Field(
        True,
        description="`ssl_check_hostname`: the certificate must name the URL's host (ignored with `certReqs: none`).",
    )

    def pem(self, which: Literal["ca_cert", "client_cert", "client_key"]) -> str | None:
        """The PEM text of ``which``: given inline, or read from its file (checked readable by validation)."""
        inline: SecretStr | None = getattr(self, which)
        if inline is not None:
            return inline.get_secret_value()
        path: str | None = getattr(self, f"{which}_file")
        if path is None:
            return None
        with open(path, encoding="utf-8") as file:
            return file.read()

    @model_validator(mode="after")
    def _files(self) -> RedisTLSSettings:
        problems = []
        pairs = (
            ("ca_cert", "caCert", "CERTIFICATE"),
            ("client_cert", "clientCert", "CERTIFICATE"),
            ("client_key", "clientKey", "PRIVATE KEY"),
        )
        for field, key, kind in pairs:
            inline, path = getattr(self, field), getattr(self, f"{field}_file")
            if inline is not None and path is not None:
                problems.append(f"redis.tls.{key} and redis.tls.{key}File are both set; give one")
                continue
            if path is not None:
                try:
                    with open(path, encoding="utf-8") as file:
                        text = file.read()
                except (OSError, UnicodeDecodeError) as error:
                    reason = error.strerror if isinstance(error, OSError) and error.strerror else "not PEM text"
                    problems.append(f"redis.tls.{key}File: cannot read {path!r}: {reason}")
                    continue
                problem = pem_problem(kind, text)
                if problem:
                    problems.append(f"redis.tls.{key}File: {path!r} {problem}")
            elif inline is not None:
                problem = pem_problem(kind, inline.get_secret_value())
                if problem:
                    problems.append(f"redis.tls.{key}: {problem} (got [secret])")
        # A certificate without its key (and the reverse) is a rule of the stack (core/inputs.py): either may
        # come as an Input instead.
        if problems:
            raise ValueError("\n".join(problems))
        return self


class SentinelSettings(_Settings):
    """Redis Sentinel: Open WebUI asks the sentinels for the current primary (the URL's host is the master name)."""

    hosts: list[SentinelHost] = Field(
        min_length=1,
        description=(
            "Sentinel host names or addresses (`REDIS_SENTINEL_HOSTS`, `WEBSOCKET_SENTINEL_HOSTS`), three or more "
            "for a quorum that survives one failure."
        ),
    )
    port: Port = Field(26379, description="Port of every sentinel (`REDIS_SENTINEL_PORT`, `WEBSOCKET_SENTINEL_PORT`).")
    max_retry_count: int = Field(
        5,
        ge=1,
        le=100,
        description=(
            "`REDIS_SENTINEL_MAX_RETRY_COUNT`: how many times Open WebUI tries a command, asking the sentinels for "
            "the primary again after each failure (Open WebUI's own default is 2; 5 is its Redis guide's figure)."
        ),
    )
    reconnect_delay: int = Field(
        1000,
        ge=0,
        le=60_000,
        description="`REDIS_RECONNECT_DELAY`: milliseconds between those tries (the guide's figure).",
    )


def redis_url_problems(key: str, url: str, *, tls: bool, sentinel: bool) -> list[str]:
    """What is wrong with external Redis URL ``url`` (written at ``key``: a setting, or an Input) given whether
    ``redis.tls`` and ``redis.sentinel`` are set, one line each; the URL is never quoted."""
    problem = redis_url_problem(url)
    if problem:
        return [f"{key}: {problem} (got [secret])"]
    problems = []
    parts = urlsplit(url)
    if tls and parts.scheme != "rediss":
        problems.append(
            f"{key}: redis.tls is set but the URL is redis:// (no TLS); write rediss:// or remove redis.tls"
        )
    if sentinel:
        if parts.scheme == "rediss":
            problems.append(
                f"{key}: rediss:// with redis.sentinel: Open WebUI 0.12 reaches a primary that Sentinel names "
                "without TLS (it passes no TLS options to Sentinel); use redis:// on a private network, or TLS "
                "without Sentinel"
            )
        if parts.query:
            problems.append(f"{key}: with redis.sentinel Open WebUI ignores the URL's query parameters; remove them")
        userinfo = parts.netloc.rpartition("@")[0]
        if not _SENTINEL_USERINFO.fullmatch(userinfo):
            problems.append(
                f"{key}: with redis.sentinel Open WebUI sends the URL's user and password as written, "
                "without decoding %-escapes: use a password of letters, digits and -._~!$&'()*+,;= only "
                "(and the same in the sentinels' requirepass)"
            )
    return problems


class RedisSettings(_Settings):
    """The Redis server Open WebUI uses: the managed Valkey (default), or an external server (`url`)."""

    url: SecretStr | None = Field(
        None,
        description=(
            "An external Redis or Valkey instead of the managed one (no Valkey container, volume or password is "
            "declared): `redis://` or `rediss://` (TLS), user, password and database index, such as "
            "`rediss://default:<password>@redis.example.com:6380/0`; set with `pulumi config set --secret --path "
            "redis.url`. With `sentinel`, the host is the master name (`redis://:<password>@mymaster:6379/0`). "
            "`REDIS_URL`, and `WEBSOCKET_REDIS_URL` unless `websocketUrl` is set."
        ),
    )
    websocket_url: SecretStr | None = Field(
        None,
        description=(
            "`WEBSOCKET_REDIS_URL` when websockets use another server (or database) than `url`; the same rules, TLS "
            "and Sentinel settings apply. Default: `url`."
        ),
    )
    key_prefix: str = Field(
        DEFAULT_KEY_PREFIX,
        description=(
            "`REDIS_KEY_PREFIX`: the prefix of Open WebUI's keys, so that several deployments can share one server. "
            "The websocket pub/sub channel does not follow it (docs/external-redis.md, Sharing one Redis)."
        ),
    )
    tls: RedisTLSSettings | None = Field(None, description="TLS options for a `rediss://` URL.")
    sentinel: SentinelSettings | None = Field(None, description="Redis Sentinel, for failover of an external server.")
    socket_connect_timeout: float | None = Field(
        None,
        gt=0,
        le=60,
        description=(
            "`REDIS_SOCKET_CONNECT_TIMEOUT` in seconds: how long Open WebUI waits to connect before it tries again "
            "(with Sentinel: asks for the new primary). Default: 5 with `sentinel` (Open WebUI's env reference: "
            "without it a failover can hang Open WebUI), else none (the operating system's timeout)."
        ),
    )

    @property
    def external(self) -> bool:
        return self.url is not None

    @property
    def connect_timeout(self) -> float | None:
        """``REDIS_SOCKET_CONNECT_TIMEOUT``: as set, or the Sentinel default."""
        if self.socket_connect_timeout is not None:
            return self.socket_connect_timeout
        return SENTINEL_CONNECT_TIMEOUT if self.sentinel is not None else None

    @model_validator(mode="after")
    def _external_server(self) -> RedisSettings:
        problems = []
        if not _KEY_PREFIX.fullmatch(self.key_prefix):
            problems.append(
                f"redis.keyPrefix: {self.key_prefix!r} must be 1 to 100 letters, digits, '_', '.', ':', '-', '{{' or "
                "'}', starting with a letter or digit (Open WebUI writes keys '<prefix>:...')"
            )
        urls = [("redis.url", self.url), ("redis.websocketUrl", self.websocket_url)]
        for key, secret in urls:
            if secret is not None:
                problems += redis_url_problems(
                    key, secret.get_secret_value(), tls=self.tls is not None, sentinel=self.sentinel is not None
                )
        # TLS, Sentinel or a websocket server without a server are rules of the stack (core/inputs.py): the URL
        # may come as an Input instead.
        if problems:
            raise ValueError("\n".join(problems))
        return self


class DockerSettings(_Settings):
    """What the Docker Engine that runs the stack supports."""

    health_start_interval: bool = Field(
        False,
        description=(
            "The engine is Docker 25 or newer (API 1.44+): while a container starts, probe its health every "
            "second (`start_interval`), so `pulumi up` goes on within about 1 s of Open WebUI answering, and "
            "probe less often after that. Off: every engine from 20.10 on (older engines refuse a start "
            "interval); Open WebUI, PostgreSQL and the load balancer are probed every 5 s, so `pulumi up` goes on "
            "at most about 6 s after they answer (the interval, and the provider's 1 s poll)."
        ),
    )


_NODE_LABEL = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_SWARM_NAME = re.compile(r"[A-Za-z0-9]+(?:[-_]+[A-Za-z0-9]+)*")
"""swarmkit's rule for service and network names (``isValidDNSName``), written so that it cannot backtrack."""
_S3_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _node_label(value: str) -> str:
    if not _NODE_LABEL.fullmatch(value):
        raise ValueError("must be a node label key: letters, digits, '.', '_' or '-', starting with a letter or digit")
    return value


def _s3_bucket(value: str) -> str:
    if not _S3_BUCKET.fullmatch(value):
        raise ValueError("must be an S3 bucket name: 3 to 63 lower-case letters, digits, '.' or '-'")
    return value


NodeLabel = Annotated[str, AfterValidator(_node_label)]
S3Bucket = Annotated[str, AfterValidator(_s3_bucket)]


class SharedVolumeSettings(_Settings):
    """A volume every node of the swarm can mount (NFS through the `local` driver, or a volume plugin)."""

    driver: DockerName = Field("local", description="Volume driver on every node (`local` for NFS).")
    options: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        description=(
            "Driver options, as `docker volume create -o`: for NFS `type: nfs`, `o: addr=10.0.0.5,rw,nfsvers=4`, "
            "`device: :/exports/open-webui`. Each node's daemon creates the volume with them on first use."
        ),
    )

    @model_validator(mode="after")
    def _options_for_local(self) -> SharedVolumeSettings:
        if self.driver == "local" and "device" not in self.options:
            raise ValueError(
                "swarm.sharedVolume.options: the local driver needs `device` (for NFS also `type: nfs` and "
                "`o: addr=<server>,...`); without it each node gets its own empty volume"
            )
        return self


class S3Settings(_Settings):
    """Open WebUI's S3 storage provider (`STORAGE_PROVIDER=s3`) for uploads shared by every node."""

    bucket: S3Bucket = Field(description="`S3_BUCKET_NAME`.")
    region: str | None = Field(None, description="`S3_REGION_NAME`.")
    endpoint_url: PublicURL | None = Field(None, description="`S3_ENDPOINT_URL` (MinIO, Ceph, another cloud).")
    key_prefix: str | None = Field(None, description="`S3_KEY_PREFIX`: a folder in the bucket.")
    access_key_id: str | None = Field(
        None, description="`S3_ACCESS_KEY_ID`. Default: the instance's or the environment's credentials."
    )
    secret_access_key: SecretStr | None = Field(
        None,
        description=(
            "`S3_SECRET_ACCESS_KEY`, set with `pulumi config set --secret --path swarm.s3.secretAccessKey`; "
            "delivered as a Docker secret."
        ),
    )

    @model_validator(mode="after")
    def _key_pair(self) -> S3Settings:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError(
                "swarm.s3.accessKeyId and swarm.s3.secretAccessKey go together: set both (the key with "
                "`pulumi config set --secret --path swarm.s3.secretAccessKey <value>`), or neither to use the "
                "credentials of the nodes or the environment"
            )
        return self


class SwarmSettings(_Settings):
    """Docker Swarm mode (`engine: swarm`): services on an overlay network, secrets as Docker secrets."""

    data_label: NodeLabel = Field(
        "open-webui-redis.data",
        description=(
            "Node label that places Valkey and PostgreSQL (and Open WebUI with `uploads: local`) with their volumes: "
            "they run only on a node with `node.labels.<dataLabel>==true` "
            "(`docker node update --label-add open-webui-redis.data=true <node>`)."
        ),
    )
    encrypted: bool = Field(
        False,
        description="Encrypt the overlay network's traffic between nodes (IPsec; `--opt encrypted`).",
    )
    uploads: Literal["local", "shared-volume", "s3"] = Field(
        "local",
        description=(
            "Where Open WebUI keeps uploads (its data directory). `local`: a volume on the data node, and Open "
            "WebUI runs there only (every replica on one node). `shared-volume`: `sharedVolume`, which every node "
            "mounts, and replicas spread over the nodes. `s3`: Open WebUI's S3 storage provider (`s3`); replicas on "
            "PostgreSQL spread over the nodes, their data directories node-local (caches); one replica on SQLite "
            "stays on the data node."
        ),
    )
    shared_volume: SharedVolumeSettings | None = Field(
        None, description="The volume every node mounts, with `uploads: shared-volume`."
    )
    s3: S3Settings | None = Field(None, description="The bucket, with `uploads: s3`.")
    endpoint_mode: Literal["vip", "dnsrr"] = Field(
        "vip",
        description=(
            "How services find each other on the overlay network. `vip`: a virtual IP per service and the port "
            "published on every node through the routing mesh (Swarm's default; needs IPVS in the nodes' kernels). "
            "`dnsrr`: a service's name resolves to its tasks' addresses (HAProxy resolves them so anyway) and the "
            "port is published on the node running the load balancer (host mode), for kernels without IPVS; the "
            "publishing service then updates stop-first (one port per node)."
        ),
    )
    pin_images: bool = Field(
        True,
        description=(
            "Declare each service's image by its digest, looked up in the registry at preview "
            "(`docker.getRegistryImage`): the provider reads a service's image back pinned, so a tag alone would "
            "update every service once more on the second `pulumi up`; a new digest behind the tag is an update. "
            "`false` where no registry answers (the images are on every node already)."
        ),
    )
    update_monitor: Annotated[int, Field(ge=0, le=600)] = Field(
        30,
        description=(
            "Seconds Swarm watches each updated Open WebUI task before it counts as updated; a task that fails in "
            "that time rolls the service back (`update_config.monitor`, failure action `rollback`)."
        ),
    )

    @model_validator(mode="after")
    def _uploads_source(self) -> SwarmSettings:
        problems = []
        if self.uploads == "shared-volume" and self.shared_volume is None:
            problems.append(
                "swarm.uploads is 'shared-volume' but swarm.sharedVolume is not set; set swarm.sharedVolume (the "
                "volume driver and its options, such as an NFS export), or set swarm.uploads to 'local' or 's3'"
            )
        if self.uploads == "s3" and self.s3 is None:
            problems.append(
                "swarm.uploads is 's3' but swarm.s3 is not set; set swarm.s3.bucket (and its credentials), "
                "or set swarm.uploads to 'local' or 'shared-volume'"
            )
        if self.uploads != "shared-volume" and self.shared_volume is not None:
            problems.append(f"swarm.sharedVolume is set but swarm.uploads is {self.uploads!r}; set one of them")
        if self.uploads != "s3" and self.s3 is not None:
            problems.append(f"swarm.s3 is set but swarm.uploads is {self.uploads!r}; set one of them")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def publish_mode(self) -> Literal["ingress", "host"]:
        """``ingress`` (the routing mesh) with virtual IPs; ``host`` with DNS round robin (no ingress there)."""
        return "ingress" if self.endpoint_mode == "vip" else "host"

    @property
    def data_constraint(self) -> str:
        return f"node.labels.{self.data_label}==true"


Engine = Literal["docker", "swarm"]
SWARM_NAME_LIMIT = 63
"""A service name is a host name on the overlay network (``tasks.<name>`` too): one DNS label."""
_HOST_ONLY_KEYS = {
    ("openWebui", "bindAddress"): (
        "on Swarm the routing mesh publishes the port on every interface of every node; put a firewall or a proxy "
        "in front instead"
    ),
    ("openWebui", "retainVolume"): "Swarm creates volumes on each node and never removes them (docker volume rm)",
    ("valkey", "retainVolume"): "Swarm creates volumes on each node and never removes them (docker volume rm)",
    ("database", "retainVolume"): "Swarm creates volumes on each node and never removes them (docker volume rm)",
    ("loadBalancer", "stickySessions"): "Swarm's load balancer resolves tasks by DNS and has no per-task cookie",
    ("docker", "healthStartInterval"): "services on Swarm are probed at the same interval from the start",
}
"""Single-host settings that Swarm has no equivalent for, refused when set with ``engine: swarm``."""


def _container_twice_or_own_alias(first: str, second: str) -> bool:
    """Pairs the host-name check leaves alone: two container names (the container check reports them), and a
    container's own name with its alias (``valkey.containerName`` and ``valkey.alias`` may be equal)."""
    both_containers = ".alias" not in first and ".alias" not in second
    return both_containers or first.split(".")[0] == second.split(".")[0]


class StackSettings(_Settings):
    """The whole deployment: one network, Valkey, Open WebUI (and, with replicas, PostgreSQL and a load balancer)."""

    network: NetworkSettings = Field(default_factory=NetworkSettings, description="The Docker network.")
    valkey: ValkeySettings = Field(default_factory=ValkeySettings, description="The Valkey server.")
    open_webui: OpenWebUISettings = Field(default_factory=OpenWebUISettings, description="Open WebUI.")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="Shared PostgreSQL.")
    load_balancer: LoadBalancerSettings = Field(
        default_factory=LoadBalancerSettings, description="Load balancer in front of replicas."
    )
    docker: DockerSettings = Field(default_factory=DockerSettings, description="The Docker Engine.")
    logs: LogsSettings = Field(default_factory=LogsSettings, description="Bounded container logs.")
    allow_moving_image_tags: bool = Field(
        False,
        description=(
            "Accept a moving image tag (`main`, `latest`, a version without its patch number such as `8.0-alpine`) "
            "where it would change what runs without a change to the stack: with `openWebui.upgrade: rolling` (a "
            "new build behind the tag would roll replica by replica onto one database) and on Swarm with "
            "`swarm.pinImages` (each preview looks the tag's digest up again). Set it only when you want that."
        ),
    )
    redis: RedisSettings = Field(
        default_factory=RedisSettings,
        description="The Redis Open WebUI uses: the managed Valkey, or an external server (TLS, Sentinel).",
    )
    engine: Engine = Field(
        "docker",
        description=(
            "`docker`: containers on one Docker host. `swarm`: services on a Docker Swarm (`docker swarm init`), "
            "run from a manager node; settings under `swarm`."
        ),
    )
    swarm: SwarmSettings | None = Field(
        None, description="Swarm mode: node placement, the overlay network, shared uploads (with `engine: swarm`)."
    )

    @property
    def swarm_effective(self) -> SwarmSettings:
        """``swarm``, or its defaults."""
        return self.swarm if self.swarm is not None else SwarmSettings()

    @property
    def swarm_spreads(self) -> bool:
        """Whether Open WebUI's tasks may run on every node of the swarm: their uploads are on a volume every node
        mounts or in S3, and the rest of their data in PostgreSQL (SQLite stays on the data node)."""
        return self.swarm_effective.uploads != "local" and self.uses_database

    @property
    def uses_database(self) -> bool:
        """Whether Open WebUI keeps its data in PostgreSQL (its own container, or ``database.url``)."""
        return self.open_webui.replicas > 1 or self.database.enabled or self.database.url is not None

    @property
    def valkey_effective(self) -> ValkeySettings:
        """``valkey`` with what depends on the rest of the stack filled in: ``appendOnly`` on for a stack on
        PostgreSQL, whose replicas share Valkey's state (Open WebUI's Redis guide runs ``--appendonly yes``)."""
        if self.valkey.append_only is not None:
            return self.valkey
        return self.valkey.model_copy(update={"append_only": self.uses_database})

    @property
    def managed_database(self) -> bool:
        """Whether the stack runs its own PostgreSQL container."""
        return self.uses_database and self.database.url is None

    def container_names(self) -> list[tuple[str, str]]:
        """Every container the stack declares, as (configuration key, Docker name)."""
        names = [("valkey.containerName", self.valkey.container_name)] if self.managed_valkey else []
        replica_names = self.open_webui.replica_names(load_balanced=self.uses_database)
        if not self.uses_database:
            names.append(("openWebui.containerName", replica_names[0]))
        else:
            names += [(f"openWebui.containerName (replica {n})", name) for n, name in enumerate(replica_names, 1)]
            names.append(("loadBalancer.containerName", self.load_balancer.container_name))
        if self.managed_database:
            names.append(("database.containerName", self.database.container_name))
        return names

    @model_validator(mode="after")
    def _names_are_distinct(self) -> StackSettings:
        problems = []
        volumes = [("openWebui.volumeName", self.open_webui.volume_name)]
        if self.managed_valkey:
            volumes.insert(0, ("valkey.volumeName", self.valkey.volume_name))
        if self.managed_database:
            volumes.append(("database.volumeName", self.database.volume_name))
        # On the network, container names and aliases are all host names (on Swarm: services, _engine_settings).
        hosts = [*self.container_names(), *([("valkey.alias", self.valkey.alias)] if self.managed_valkey else [])]
        if self.managed_database:
            hosts.append(("database.alias", self.database.alias))
        checks: list[tuple[list[tuple[str, str]], str]] = [(volumes, "each service needs its own volume")]
        if self.engine == "docker":
            checks += [
                (self.container_names(), "container names must differ"),
                (hosts, "host names on the network (container names and aliases) must differ"),
            ]
        for names, rule in checks:
            seen: dict[str, str] = {}
            for key, name in names:
                if name in seen and not (rule.startswith("host") and _container_twice_or_own_alias(seen[name], key)):
                    problems.append(f"{seen[name]} and {key} are both {name!r}; {rule}")
                seen.setdefault(name, key)
        if self.open_webui.replicas > 1 and self.database.vector_store == "chroma":
            problems.append(
                f"database.vectorStore is 'chroma' with openWebui.replicas {self.open_webui.replicas}; "
                "several replicas cannot share Chroma's files: use 'pgvector'"
            )
        if problems:
            raise ValueError("\n".join(dict.fromkeys(problems)))
        return self

    @model_validator(mode="after")
    def _engine_settings(self) -> StackSettings:
        problems = []
        if self.engine == "docker":
            if self.swarm is not None:
                problems.append("swarm: is for `engine: swarm` (engine is 'docker'); remove it or set engine: swarm")
        else:
            blocks = {
                "openWebui": self.open_webui,
                "valkey": self.valkey,
                "database": self.database,
                "loadBalancer": self.load_balancer,
                "docker": self.docker,
            }
            for (section, key), why in _HOST_ONLY_KEYS.items():
                block = blocks[section]
                field_name = next(name for name, f in type(block).model_fields.items() if f.alias == key)
                if field_name in block.model_fields_set:
                    value = json.dumps(getattr(block, field_name))
                    problems.append(
                        f"{section}.{key}: is for one Docker host (engine: docker) only; {why} (got {value})"
                    )
            named = [*self.service_names(), ("network.name", self.network.name)]
            for key, name in named:
                if len(name) > SWARM_NAME_LIMIT or not _SWARM_NAME.fullmatch(name):
                    problems.append(
                        f"{key}: {name!r} is not a Swarm service or network name: letters and digits, with '-' or '_' "
                        f"between them, at most {SWARM_NAME_LIMIT} characters"
                    )
            seen: dict[str, str] = {}
            hosts = [*self.service_names(), *([("valkey.alias", self.valkey.alias)] if self.managed_valkey else [])]
            if self.managed_database:
                hosts.append(("database.alias", self.database.alias))
            for key, name in ((key, name.lower()) for key, name in hosts):  # Swarm and DNS ignore case
                own_alias = (
                    seen.get(name, "").split(".")[0] == key.split(".")[0] and ".alias" in seen.get(name, "") + key
                )
                if name in seen and not own_alias:
                    problems.append(
                        f"{seen[name]} and {key} are both {name!r}; on Swarm service names and aliases are host "
                        "names on the overlay network and must differ"
                    )
                seen.setdefault(name, key)
            if self.swarm_effective.uploads == "shared-volume" and not self.uses_database:
                problems.append(
                    "swarm.uploads is 'shared-volume' with Open WebUI on SQLite (one replica, no database): its "
                    "webui.db would be on the shared volume, where SQLite's locking is unreliable; set "
                    "database.enabled: true (PostgreSQL), or swarm.uploads 'local'"
                )
            storage_env = sorted(
                name for name in self.open_webui.env if name == "STORAGE_PROVIDER" or name.startswith("S3_")
            )
            if storage_env:
                problems.append(
                    f"openWebui.env.{storage_env[0]}: on Swarm the stack sets Open WebUI's storage from swarm.uploads "
                    "(and swarm.s3, whose secret key goes in a Docker secret); remove it from env"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def service_names(self) -> list[tuple[str, str]]:
        """Every Swarm service the stack declares, as (configuration key, service name)."""
        names = [("valkey.containerName", self.valkey.container_name)] if self.managed_valkey else []
        names.append(("openWebui.containerName", self.open_webui.container_name))
        # On PostgreSQL HAProxy runs at any count, and names tasks.<containerName>-replicas: both are checked.
        if self.uses_database:
            names.append(("openWebui.containerName (replicas)", f"{self.open_webui.container_name}-replicas"))
            names.append(("loadBalancer.containerName", self.load_balancer.container_name))
        if self.managed_database:
            names.append(("database.containerName", self.database.container_name))
        return names

    @property
    def managed_valkey(self) -> bool:
        """Whether the stack runs its own Valkey (no ``redis.url``)."""
        return self.redis.url is None

    @property
    def redis_idle_timeout(self) -> int:
        """The Redis server's idle ``timeout`` that Open WebUI's connection check stays below: the managed
        Valkey's, or 0 (unknown, taken as never) for an external server."""
        return self.valkey.timeout if self.managed_valkey else 0

    @model_validator(mode="after")
    def _external_redis(self) -> StackSettings:
        if self.managed_valkey or "valkey" not in self.model_fields_set:
            return self
        keys = sorted(
            field.alias or name
            for name, field in ValkeySettings.model_fields.items()
            if name in self.valkey.model_fields_set
        )
        shown = ", ".join(f"valkey.{key}" for key in keys) if keys else "valkey"
        raise ValueError(
            f"{shown}: the managed Valkey is not deployed with redis.url (an external server); remove "
            f"{'them' if len(keys) > 1 else 'it'}, or remove redis.url to deploy Valkey"
        )

    def images(self) -> list[tuple[str, str]]:
        """Every image the stack runs, as (configuration key, reference)."""
        images = [("valkey.image", self.valkey.image)] if self.managed_valkey else []
        images.append(("openWebui.image", self.open_webui.image))
        if self.managed_database:
            images.append(("database.image", self.database.image))
        if self.uses_database:
            images.append(("loadBalancer.image", self.load_balancer.image))
        return images

    @model_validator(mode="after")
    def _images_do_not_move(self) -> StackSettings:
        if self.allow_moving_image_tags:
            return self
        swarm = self.engine == "swarm"
        problems = moving_image_problems(
            self.images(),
            open_webui_rolls=rolls_side_by_side(self.open_webui.upgrade, self.open_webui.replicas, swarm=swarm),
            digest_lookup=swarm and self.swarm_effective.pin_images,
        )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="after")
    def _health_check_below_timeout(self) -> StackSettings:
        timeout = self.redis_idle_timeout
        given = self.open_webui.env.get("REDIS_HEALTH_CHECK_INTERVAL")
        if health_check_interval_fits(given, timeout):
            return self
        if given is None:
            raise ValueError(
                f"valkey.timeout is {timeout}: Open WebUI's REDIS_HEALTH_CHECK_INTERVAL must be a whole number of "
                "seconds below it, so use 0 (never close idle clients) or 2 or more"
            )
        raise ValueError(
            f"openWebui.env.REDIS_HEALTH_CHECK_INTERVAL must be from 1 to {timeout - 1} seconds with "
            f"valkey.timeout {timeout}: below the timeout (Valkey closes a connection idle for `timeout` seconds, "
            "and Open WebUI checks one before use only once it has been idle this long)"
        )
