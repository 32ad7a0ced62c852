"""The ``redis`` block: the Redis Open WebUI uses (the managed Valkey, or an external server), with its
``tls`` and ``sentinel`` blocks."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from ._model import _Settings
from .formats import pem_problem, redis_url_problems
from .types import Port, SentinelHost

SENTINEL_CONNECT_TIMEOUT = 5.0
"""``REDIS_SOCKET_CONNECT_TIMEOUT`` with Sentinel unless set: the figure Open WebUI's env reference "strongly
recommends" (without it a failover can hang Open WebUI)."""


DEFAULT_KEY_PREFIX = "open-webui"
"""Open WebUI's own ``REDIS_KEY_PREFIX``."""

_KEY_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:{}-]{0,99}")


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
