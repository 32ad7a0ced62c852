"""The hand-written parts of the multi-language schema's argument types: the enums, and for each type its
description and its fields in order, each part either a settings model (its fields generated from the model) or
fields written here. ``tools/hosted_fields.py --write`` turns this into ``components/_hosted_fields.py``: edit this
module or the models, never that one.

Settings fields come from the pydantic models (``components/settings/``), each with its model's description and
default; the secret ones are left out (separate ``Input`` arguments in the schema, or not offered).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from . import settings as models
from .settings import secret_paths

# ---------------------------------------------------------------------------------------------------------
# Enums: the settings' choices (a ``Literal`` in the models) as the schema offers them
# ---------------------------------------------------------------------------------------------------------


class RestartPolicy(enum.StrEnum):
    """Docker restart policy of a container."""

    NO = "no"
    ON_FAILURE = "on-failure"
    ALWAYS = "always"
    UNLESS_STOPPED = "unless-stopped"


class AppendFsync(enum.StrEnum):
    """When Valkey fsyncs its append-only file."""

    ALWAYS = "always"
    EVERYSEC = "everysec"
    NO = "no"


class MaxMemoryPolicy(enum.StrEnum):
    """What Valkey evicts at `maxMemory`. `allkeys-*` policies are not offered: they evict Open WebUI's state."""

    NOEVICTION = "noeviction"
    VOLATILE_LRU = "volatile-lru"
    VOLATILE_LFU = "volatile-lfu"
    VOLATILE_RANDOM = "volatile-random"
    VOLATILE_TTL = "volatile-ttl"


class UpgradeStrategy(enum.StrEnum):
    """How Open WebUI replicas are replaced."""

    RECREATE = "recreate"
    ROLLING = "rolling"


class VectorStore(enum.StrEnum):
    """Where Open WebUI replicas keep document embeddings."""

    PGVECTOR = "pgvector"
    CHROMA = "chroma"


class CertReqs(enum.StrEnum):
    """redis-py's `ssl_cert_reqs`: how the server's certificate is checked."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    NONE = "none"


class Uploads(enum.StrEnum):
    """Where a Swarm stack's Open WebUI keeps uploads."""

    LOCAL = "local"
    SHARED_VOLUME = "shared-volume"
    S3 = "s3"


class EndpointMode(enum.StrEnum):
    """How a Swarm service is reached on the overlay network."""

    VIP = "vip"
    DNSRR = "dnsrr"


# ---------------------------------------------------------------------------------------------------------
# The argument types
# ---------------------------------------------------------------------------------------------------------

Fields = Mapping[str, tuple[str, str]]
"""Arguments written by hand: name -> (annotation as the generated module writes it, description)."""


@dataclass(frozen=True)
class SchemaType:
    """One ``TypedDict`` of the schema: its description, then its fields in order, each part a settings model
    (its fields but the secret ones) or ``Fields``."""

    doc: str
    parts: tuple[type[BaseModel] | Fields, ...]


SETTINGS_SECRET_FIELDS = frozenset(path[-1] for path in secret_paths(by_alias=False)) | {"access_key_id"}
"""Settings fields never taken from settings arguments: secrets (separate Inputs, or absent), and S3's access key
id, whose secret half has no input (the nodes' own credentials are used)."""


def settings_description(model: type[BaseModel], name: str) -> str:
    """The schema description of a settings field: its pydantic description, then its default unless the
    description gives one (what tools/hosted_fields.py writes into ``components/_hosted_fields.py``)."""
    field = model.model_fields[name]
    text = field.description or ""
    default = field.default
    if default is not PydanticUndefined and default is not None and "Default" not in text:
        shown = ("true" if default else "false") if isinstance(default, bool) else default
        text += f" Default: `{shown}`."
    return text


VALKEY_INPUTS: Fields = {
    "network_name": (
        "Required[pulumi.Input[str]]",
        "Name of the Docker network to join (the `networkName` output of a `Network`).",
    ),
    "password": (
        "pulumi.Input[str]",
        "Valkey password. Default: generated (32 characters) and kept in the stack's state. Treated as a secret (wrapped with `Output.secret`) whether or not it arrives as one.",  # noqa: E501
    ),
}
"""The arguments of `Valkey` besides its settings fields."""


OPEN_WEBUI_INPUTS: Fields = {
    "network_name": (
        "Required[pulumi.Input[str]]",
        "Name of the Docker network to join (the `networkName` output of a `Network`).",
    ),
    "redis_url": (
        "Required[pulumi.Input[str]]",
        "`REDIS_URL` and `WEBSOCKET_REDIS_URL` (the `redisUrl` output of a `Valkey`). The container waits for it.",
    ),
    "secret_key": (
        "pulumi.Input[str]",
        "`WEBUI_SECRET_KEY`. Default: generated once and kept, so replacing the container logs nobody out. Treated as a secret (wrapped with `Output.secret`) whether or not it arrives as one.",  # noqa: E501
    ),
    "database_url": (
        "pulumi.Input[str]",
        "`DATABASE_URL` of a PostgreSQL database that every replica shares (`postgresql+psycopg://...`); required with `replicas` above 1. Default: SQLite in the data volume. Treated as a secret.",  # noqa: E501
    ),
    "vector_store": (
        "VectorStore",
        "Where replicas keep document embeddings when `databaseUrl` is set: `pgvector` in that database; `chroma` only for a single replica. Default: `pgvector`.",  # noqa: E501
    ),
    "load_balancer": ("LoadBalancerSettings", "The load balancer in front of the replicas (with `replicas` above 1)."),
    "redis_idle_timeout": (
        "int",
        "The Redis server's `timeout` in seconds (a `Valkey`'s `timeout` setting; 0: it never closes idle clients). `REDIS_HEALTH_CHECK_INTERVAL` stays below it: 60 s, or half of a shorter timeout, and at most half of `selfHeal.silentConnectionSeconds`. Default: `0`.",  # noqa: E501
    ),
    "redis_ca_cert": (
        "pulumi.Input[str]",
        "The CA certificate (PEM) of a `Valkey` with `tls` (its `caCert` output), put where its `redisUrl` tells Open WebUI to find it (`/run/secrets/redis-ca.pem`). Required with a `rediss://` URL of such a Valkey.",  # noqa: E501
    ),
}
"""The arguments of `OpenWebUI` besides its settings fields."""


STACK_INPUT_FIELDS: Fields = {
    "redis": ("RedisSettings", "The Redis Open WebUI uses: the managed Valkey, or an external server (TLS, Sentinel)."),
    "valkey_password": (
        "pulumi.Input[str]",
        "Valkey password. Default: generated (32 characters) and kept in the stack's state. Treated as a secret (wrapped with `Output.secret`) whether or not it arrives as one.",  # noqa: E501
    ),
    "open_webui_secret_key": (
        "pulumi.Input[str]",
        "`WEBUI_SECRET_KEY`. Default: generated once and kept, so replacing the container logs nobody out. Treated as a secret (wrapped with `Output.secret`) whether or not it arrives as one.",  # noqa: E501
    ),
    "redis_url": (
        "pulumi.Input[str]",
        "`REDIS_URL` of an external Redis or Valkey (`redis://` or `rediss://`, user, password, database), such as another resource's output: no Valkey is declared. Checked when it resolves; a secret whether or not it arrives as one.",  # noqa: E501
    ),
    "websocket_redis_url": (
        "pulumi.Input[str]",
        "`WEBSOCKET_REDIS_URL` when websockets use another server or database than `redisUrl`. Default: `redisUrl`.",
    ),
    "redis_ca_cert": (
        "pulumi.Input[str]",
        "PEM of the CA that signed the external server's certificate (with a `rediss://` `redisUrl`). Default: the image's trusted CAs.",  # noqa: E501
    ),
    "redis_client_cert": (
        "pulumi.Input[str]",
        "PEM of a client certificate, for a server that asks for one; with `redisClientKey`.",
    ),
    "redis_client_key": ("pulumi.Input[str]", "PEM of that certificate's private key (a secret)."),
    "database_url": (
        "pulumi.Input[str]",
        "URL of an external PostgreSQL (`postgresql://user:password@host:5432/db`), such as a database resource's output: no PostgreSQL is declared, and the replicas sit behind the load balancer. A secret whether or not it arrives as one.",  # noqa: E501
    ),
}
"""The arguments both hosted stacks take beside their settings sections: the Redis settings and the Inputs (the
Python stacks' keyword Inputs, the secrets), as annotation and description. tools/hosted_fields.py writes them into
each stack's arguments."""


SCHEMA_TYPES: dict[str, SchemaType] = {
    "NetworkSettings": SchemaType("The Docker network that Valkey and Open WebUI share.", (models.NetworkSettings,)),
    "ValkeySettings": SchemaType(
        "The Valkey server that manages Open WebUI's websockets (its password is a separate input).",
        (models.ValkeySettings,),
    ),
    "SelfHealSettings": SchemaType(
        "How Open WebUI replicas notice silent Redis connections and deaf websocket listeners.",
        (models.SelfHealSettings,),
    ),
    "OpenWebUISettings": SchemaType(
        "The Open WebUI container (its secret key is a separate input).", (models.OpenWebUISettings,)
    ),
    "DatabaseSettings": SchemaType(
        "The PostgreSQL container that several Open WebUI replicas share (used when `openWebui.replicas` > 1; its password is generated).",  # noqa: E501
        (models.DatabaseSettings,),
    ),
    "LoadBalancerSettings": SchemaType(
        "The HAProxy load balancer in front of several Open WebUI replicas (used when `openWebui.replicas` > 1).",
        (models.LoadBalancerSettings,),
    ),
    "DockerSettings": SchemaType("What the Docker Engine that runs the stack supports.", (models.DockerSettings,)),
    "LogsSettings": SchemaType(
        "Container logs: every container logs with Docker's json-file driver within these bounds.",
        (models.LogsSettings,),
    ),
    "RedisTLSSettings": SchemaType(
        "TLS to an external Redis (`rediss://`): what redis-py verifies. The PEM texts are the stack's inputs `redisCaCert`, `redisClientCert` and `redisClientKey` (or files on the machine running `pulumi`).",  # noqa: E501
        (models.RedisTLSSettings,),
    ),
    "SentinelSettings": SchemaType(
        "Redis Sentinel: Open WebUI asks the sentinels for the current primary (the URL's host is the master name).",
        (models.SentinelSettings,),
    ),
    "RedisSettings": SchemaType(
        "How Open WebUI reaches an external Redis: the URLs are the stack's inputs `redisUrl` and `websocketRedisUrl`; without `redisUrl` the stack runs its own Valkey.",  # noqa: E501
        (models.RedisSettings,),
    ),
    "SharedVolumeSettings": SchemaType(
        "A volume every Swarm node mounts (NFS) for Open WebUI's data directory.", (models.SharedVolumeSettings,)
    ),
    "S3Settings": SchemaType(
        "Open WebUI's S3 storage for uploads shared by every node, with the nodes' own credentials (the access key pair is not offered here: its secret half would need an input).",  # noqa: E501
        (models.S3Settings,),
    ),
    "SwarmSettings": SchemaType(
        "Swarm mode: node placement, the overlay network, shared uploads.", (models.SwarmSettings,)
    ),
    "ValkeyArgs": SchemaType(
        "Arguments of `Valkey`.",
        (VALKEY_INPUTS, models.ValkeySettings),
    ),
    "OpenWebUIArgs": SchemaType(
        "Arguments of `OpenWebUI`.",
        (OPEN_WEBUI_INPUTS, models.OpenWebUISettings),
    ),
    "OpenWebUIStackArgs": SchemaType(
        "Arguments of `OpenWebUIStack`.",
        (
            {
                "network": ("NetworkSettings", "The Docker network."),
                "valkey": ("ValkeySettings", "The Valkey server."),
                "open_webui": ("OpenWebUISettings", "Open WebUI."),
                "database": ("DatabaseSettings", "Shared PostgreSQL."),
                "load_balancer": ("LoadBalancerSettings", "Load balancer in front of replicas."),
                "docker": ("DockerSettings", "The Docker Engine."),
                "logs": ("LogsSettings", "Bounded container logs."),
                "allow_moving_image_tags": (
                    "bool",
                    "Accept a moving image tag (`main`, `latest`, a version without its patch number such as `8.0-alpine`) where it would change what runs without a change to the stack: with `openWebui.upgrade: rolling` (a new build behind the tag would roll replica by replica onto one database) and on Swarm with `swarm.pinImages` (each preview looks the tag's digest up again). Set it only when you want that. Default: `false`.",  # noqa: E501
                ),
            },
            STACK_INPUT_FIELDS,
            {
                "network_name": (
                    "pulumi.Input[str]",
                    "Name of a Docker network the program made (such as a `docker.Network`'s `name`), instead of `network`: none is declared.",  # noqa: E501
                )
            },
        ),
    ),
    "SwarmStackArgs": SchemaType(
        "Arguments of `SwarmStack`.",
        (
            {
                "network": ("NetworkSettings", "The overlay network."),
                "valkey": ("ValkeySettings", "The Valkey service."),
                "open_webui": ("OpenWebUISettings", "Open WebUI."),
                "database": ("DatabaseSettings", "Shared PostgreSQL."),
                "load_balancer": ("LoadBalancerSettings", "Load balancer in front of replicas."),
                "logs": ("LogsSettings", "Bounded container logs."),
                "swarm": ("SwarmSettings", "Swarm mode: node placement, the overlay network, shared uploads."),
                "allow_moving_image_tags": (
                    "bool",
                    "Accept a moving image tag where it would change what runs without a change to the stack (see `OpenWebUIStack`). Default: `false`.",  # noqa: E501
                ),
            },
            STACK_INPUT_FIELDS,
            {
                "network_id": (
                    "pulumi.Input[str]",
                    "ID of an attachable overlay network the program made (a `docker.Network`'s `id`), instead of `network`: none is declared (a service that names its network by name would be replaced on every update).",  # noqa: E501
                )
            },
        ),
    ),
}
"""Every schema type with generated fields, in the order the generated module declares them (a type before the
types that use it)."""
