"""The ``valkey`` block: the managed Valkey server."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic.alias_generators import to_camel

from .. import rules
from ._model import _Settings
from .images import VALKEY_IMAGE
from .types import (
    _RETAIN,
    DockerName,
    ImageReference,
    MemorySize,
    Port,
    RedisDatabase,
    RestartPolicy,
    SaveSchedule,
    Seconds,
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
        problem = rules.password_without_auth(self.password is not None, self.auth)
        if problem:
            raise ValueError(problem)
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
