"""The components for every Pulumi language: schema-friendly arguments, hosted by ``provider/__main__.py``.

Pulumi infers the package schema from these classes (``pulumi.provider.experimental``): the inputs from the
``args`` TypedDict of each ``__init__``, the outputs from the class's ``pulumi.Output`` annotations, and the
descriptions from the docstring that follows each of them. The analyzer reads annotations as they are written,
so this module must not use ``from __future__ import annotations``, and each class re-declares every output of
the component it extends (those modules do use it).

Each hosted class maps its ``args`` onto the pydantic settings, validates them (every problem reported at
once, as ``InvalidArgumentsError``) and builds the real component, so the resources are those of the Python
API. Differences from the Python API, all forced by the inferred schema:

- Settings are plain values (``plain`` in the schema): they are validated before anything is created, so
  they cannot come from another resource's outputs.
- Passwords, keys, URLs and certificates are ``Input`` values outside the settings objects (``valkeyPassword``,
  ``openWebuiSecretKey``, ``redisUrl``, ``websocketRedisUrl``, ``redisCaCert``, ``redisClientCert``,
  ``redisClientKey``, ``databaseUrl``; ``password``; ``secretKey``), the stacks' as the Python stacks' keyword
  Inputs (``core/inputs.py``), so that a secret config value or another resource's output can be passed. The
  schema cannot mark an input secret; the components wrap them with ``Output.secret``.
- ``database.password`` is not offered (the managed PostgreSQL generates its password), nor S3's key pair.
- Choices (restart policy, fsync policy, eviction policy, vector store) are enums.
"""

import enum
import inspect
import math
import typing
from collections.abc import Mapping
from typing import Any, Required, TypedDict, TypeVar

import pulumi
from pulumi.provider.experimental.util import camel_case
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from . import rules
from .core.config import ConfigurationError, check_stack, describe_errors
from .core.inputs import STACK_INPUTS, without_stand_ins
from .core.settings import DatabaseSettings as DatabaseModel
from .core.settings import DockerSettings as DockerModel
from .core.settings import LoadBalancerSettings as LoadBalancerModel
from .core.settings import LogsSettings as LogsModel
from .core.settings import NetworkSettings as NetworkModel
from .core.settings import OpenWebUISettings as OpenWebUIModel
from .core.settings import RedisSettings as RedisModel
from .core.settings import StackSettings as StackModel
from .core.settings import SwarmSettings as SwarmModel
from .core.settings import ValkeySettings as ValkeyModel
from .host import network as _network
from .host import open_webui as _open_webui
from .host import stack as _stack
from .host import valkey as _valkey
from .host._docker import TYPE_PREFIX
from .swarm import stack as _swarm_stack

PACKAGE = TYPE_PREFIX.split(":")[0]
"""The package name: ``open-webui-redis``, the first part of every type token."""

# ---------------------------------------------------------------------------------------------------------
# Enums
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
# Settings objects (schema types). Their fields are generated from the settings models (the pydantic field's
# description, then its default) by tools/hosted_fields.py --write; tests fail when they are stale.
# ---------------------------------------------------------------------------------------------------------


class NetworkSettings(TypedDict, total=False):
    """The Docker network that Valkey and Open WebUI share."""

    # Generated from NetworkSettings by tools/hosted_fields.py --write; do not edit.
    name: str
    """Name of the Docker network. Default: `openwebui-network`."""
    external: bool
    """Adopt an existing network of this name (created with `docker network create`) instead of creating one. An adopted network is never deleted by the stack. Default: `false`."""  # noqa: E501
    # End of generated fields.


class ValkeySettings(TypedDict, total=False):
    """The Valkey server that manages Open WebUI's websockets (its password is a separate input)."""

    # Generated from ValkeySettings by tools/hosted_fields.py --write; do not edit.
    image: str
    """Valkey image. Default: `docker.io/valkey/valkey:8.0.13-alpine`."""
    container_name: str
    """Name of the Valkey container. Default: `redis-valkey`."""
    volume_name: str
    """Name of the Docker volume mounted at `/data`. Default: `redis-data`."""
    alias: str
    """Network alias of the Valkey container: the host name in the Redis URLs. Default: `redis`."""
    port: int
    """Port Valkey listens on inside the network (never published). Default: `6379`."""
    database: int
    """Database index that Open WebUI uses for both `REDIS_URL` and `WEBSOCKET_REDIS_URL`. Default: `1`."""
    auth: bool
    """Require a password. Without `password`, a random one is generated and kept in the stack's state. Default: `true`."""  # noqa: E501
    save: str
    """RDB snapshot schedule: `<seconds> <changes>` pairs (`30 1`: after 30 s if a key changed). Default: `30 1`."""
    append_only: bool
    """AOF persistence (`--appendonly yes`): every write logged, fsynced per `appendFsync`, so a crash loses at most about a second instead of up to `save`'s interval. Default: on for stacks on PostgreSQL (replicas share Valkey's state: revoked sign-ins, config sync), off for one container on SQLite and for a `Valkey` component used on its own. Turning it on for an existing Valkey starts it empty unless you first run `CONFIG SET appendonly yes` (docs/upgrades.md)."""  # noqa: E501
    append_fsync: AppendFsync
    """AOF fsync policy when `appendOnly` is on. Default: `everysec`."""
    max_clients: int
    """`--maxclients`. Default: `10000`."""
    timeout: int
    """`--timeout`: seconds before an idle client is closed (0: never). Default: `1800`."""
    max_memory: str
    """`--maxmemory`, such as `256mb`. Default: no limit."""
    max_memory_policy: MaxMemoryPolicy
    """`--maxmemory-policy`. `allkeys-*` policies are refused: they evict Open WebUI's state. Default: `noeviction`."""
    restart: RestartPolicy
    """Docker restart policy. Default: `unless-stopped`."""
    wait_timeout: int
    """Seconds `pulumi up` waits for the container to be healthy. Default: `60`."""
    retain_volume: bool
    """Keep the data volume when the stack is destroyed or the volume replaced. `false` for throwaway stacks. Default: `true`."""  # noqa: E501
    tls: bool
    """Valkey listens with TLS only (`rediss://`), on a CA and a server certificate generated for it (pulumi-tls; the keys kept in the stack's state as secrets); Open WebUI, the healthchecks and `components.verify` verify the server against that CA. Turning it on or off replaces Valkey and Open WebUI. Default: `false`."""  # noqa: E501
    tls_validity_days: int
    """Days the generated CA and server certificates are valid (with `tls`). Default: `3650`."""
    tls_renewal_days: int
    """A `pulumi up` this many days or fewer before the certificates expire makes new ones (replacing Valkey and Open WebUI); must be below `tlsValidityDays`. Default: `30`."""  # noqa: E501
    # End of generated fields.


class SelfHealSettings(TypedDict, total=False):
    """How Open WebUI replicas notice silent Redis connections and deaf websocket listeners."""

    # Generated from SelfHealSettings by tools/hosted_fields.py --write; do not edit.
    silent_connection_seconds: int
    """How long a Redis connection that stopped answering without closing (a network partition, a NAT or load balancer that dropped it, a node gone) may go unnoticed. The container's TCP keepalive (idle connections: `net.ipv4.tcp_keepalive_time`/`_intvl`/`_probes`, 3 probes) and retransmission limit (data in flight: `net.ipv4.tcp_retries2`, at least 5, 12.6 s) are set from it as `sysctls`; Open WebUI's Redis clients turn keepalive on (`WEBSOCKET_REDIS_OPTIONS`, `REDIS_SOCKET_KEEPALIVE`) and reconnect once the kernel ends the connection. These sysctls apply to the container's other TCP connections too (a browser whose network drops everything that long reconnects). Default: `10`."""  # noqa: E501
    unhealthy_after_seconds: int
    """A replica whose websocket listener has not delivered the healthcheck's event for this long, while Redis answers a new connection, fails its next check and is unhealthy (at most about this plus 14 s after going deaf, the checks being about 7 s apart then; 23-29 s at the default 20): Swarm replaces its task. After Redis was unreachable the count waits for Open WebUI's own retry backoff (the outage the checks saw, plus 16 s, up to 65 s). Each check (5 s after the last) publishes an event through Redis to a socket.io client of that replica. On one host Docker does not restart an unhealthy container: `docker restart` it (README: Faults). While Redis itself is unreachable the replicas stay healthy (a new one would not reach it either), once they have delivered an event. Must exceed the silent connection's retransmission budget by 5 s, so that TCP ends a silent connection before the replica is called unhealthy. Default: `20`."""  # noqa: E501
    # End of generated fields.


class OpenWebUISettings(TypedDict, total=False):
    """The Open WebUI container (its secret key is a separate input)."""

    # Generated from OpenWebUISettings by tools/hosted_fields.py --write; do not edit.
    image: str
    """Open WebUI image. Default: `ghcr.io/open-webui/open-webui:v0.12.4`."""
    container_name: str
    """Name of the Open WebUI container. Default: `open-webui`."""
    volume_name: str
    """Name of the Docker volume mounted at `/app/backend/data`. Default: `open-webui`."""
    host_port: int
    """Host port that publishes Open WebUI's port 8080. Default: `3000`."""
    bind_address: str
    """Host address the port is published on (`0.0.0.0`: every interface). Default: `127.0.0.1`."""
    env: dict[str, str]
    """Extra environment variables. The variables the stack manages may not be set here."""
    restart: RestartPolicy
    """Docker restart policy. Default: `unless-stopped`."""
    wait_timeout: int
    """Seconds `pulumi up` waits for Open WebUI to be healthy (first start migrates the database). Default: `300`."""
    replicas: int
    """Open WebUI containers. 1 (on SQLite): one container publishes the port. 2 or more, or any number on PostgreSQL (`database`): containers `<containerName>-<n>` share PostgreSQL, Valkey and the data volume behind a load balancer (`loadBalancer`) that alone publishes the port, so the count moves between 1 and 16 in one `pulumi up`. How they are created and replaced: `upgrade`. Default: `1`."""  # noqa: E501
    upgrade: UpgradeStrategy
    """How replicas are replaced (a new image, a changed setting). `recreate`, as Open WebUI's scaling guide asks: every replica stops, replica 1 starts on the new version and migrates the database, then the rest start together (an outage of about one start; never two versions on one schema); replicas are created the same way, replica 1 and then the rest at once. `rolling`: one replica at a time, each healthy before the next stops, so the load balancer keeps answering; only for changes that keep the schema (settings, a patch release), and replicas are also created one at a time. Default: `recreate`."""  # noqa: E501
    public_url: str
    """The URL browsers open when a proxy or a host name is in front, such as `https://chat.example.com`: its origin becomes `CORS_ALLOW_ORIGIN` (without it websockets fail with 403 through that name). Default: the published address (`http://<bindAddress>:<hostPort>`, and localhost beside a loopback address; for `0.0.0.0` or `::`, localhost, 127.0.0.1 and [::1])."""  # noqa: E501
    memory_mb: int
    """Memory limit per Open WebUI container in MiB (one process takes about 810 MB). Default: no limit."""
    retain_volume: bool
    """Keep the data volume when the stack is destroyed or the volume replaced. `false` for throwaway stacks. Default: `true`."""  # noqa: E501
    self_heal: SelfHealSettings
    """How replicas notice silent Redis connections and deaf listeners (README: Faults)."""
    # End of generated fields.


class DatabaseSettings(TypedDict, total=False):
    """The PostgreSQL container that several Open WebUI replicas share (used when `openWebui.replicas` > 1; its password is generated)."""  # noqa: E501

    # Generated from DatabaseSettings by tools/hosted_fields.py --write; do not edit.
    enabled: bool
    """Keep Open WebUI's data in PostgreSQL (behind the load balancer) even with one replica. Set it to scale back from several replicas to one in one `pulumi up`: without it Open WebUI would return to its SQLite file and the PostgreSQL container would go (see docs/upgrades.md, Scaling down). Default: `false`."""  # noqa: E501
    image: str
    """PostgreSQL image; it must ship the pgvector extension when `vectorStore` is `pgvector`. Default: `docker.io/pgvector/pgvector:0.8.6-pg17`."""  # noqa: E501
    container_name: str
    """Name of the PostgreSQL container. Default: `open-webui-postgres`."""
    volume_name: str
    """Name of the volume mounted at `/var/lib/postgresql/data`. Default: `open-webui-postgres`."""
    alias: str
    """Network alias of the PostgreSQL container. Default: `postgres`."""
    name: str
    """Database name. Default: `openwebui`."""
    user: str
    """Database user. Default: `openwebui`."""
    vector_store: VectorStore
    """Where replicas keep document embeddings: `pgvector` in the shared database; `chroma` only for a single replica (its files in the data directory cannot be shared). Default: `pgvector`."""  # noqa: E501
    restart: RestartPolicy
    """Docker restart policy. Default: `unless-stopped`."""
    wait_timeout: int
    """Seconds `pulumi up` waits for PostgreSQL to be healthy. Default: `120`."""
    retain_volume: bool
    """Keep the data volume when the stack is destroyed or the volume replaced. `false` for throwaway stacks. Default: `true`."""  # noqa: E501
    # End of generated fields.


class LoadBalancerSettings(TypedDict, total=False):
    """The HAProxy load balancer in front of several Open WebUI replicas (used when `openWebui.replicas` > 1)."""

    # Generated from LoadBalancerSettings by tools/hosted_fields.py --write; do not edit.
    image: str
    """HAProxy image (the 2.6 LTS line, as Debian bookworm's haproxy that the real-process tests run). Default: `docker.io/library/haproxy:2.6.32-alpine`."""  # noqa: E501
    container_name: str
    """Name of the load balancer container. Default: `open-webui-lb`."""
    sticky_sessions: bool
    """Pin each browser to one replica with a cookie. Not needed: Valkey shares websocket events. Default: `false`."""
    max_connections: int
    """HAProxy's `maxconn`: concurrent connections (a browser tab holds a websocket and a few more). Default: `4096`."""
    restart: RestartPolicy
    """Docker restart policy. Default: `unless-stopped`."""
    wait_timeout: int
    """Seconds `pulumi up` waits for the load balancer to be healthy. Default: `60`."""
    # End of generated fields.


class DockerSettings(TypedDict, total=False):
    """What the Docker Engine that runs the stack supports."""

    # Generated from DockerSettings by tools/hosted_fields.py --write; do not edit.
    health_start_interval: bool
    """The engine is Docker 25 or newer (API 1.44+): while a container starts, probe its health every second (`start_interval`), so `pulumi up` goes on within about 1 s of Open WebUI answering, and probe less often after that. Off: every engine from 20.10 on (older engines refuse a start interval); Open WebUI, PostgreSQL and the load balancer are probed every 5 s, so `pulumi up` goes on at most about 6 s after they answer (the interval, and the provider's 1 s poll). Default: `false`."""  # noqa: E501
    # End of generated fields.


class LogsSettings(TypedDict, total=False):
    """Container logs: every container logs with Docker's json-file driver within these bounds."""

    # Generated from LogsSettings by tools/hosted_fields.py --write; do not edit.
    max_size: str
    """Size at which a container's log file is rotated (`max-size`: `k`, `m` or `g`). Default: `10m`."""
    max_files: int
    """Log files kept per container (`max-file`), the current one included: a container's logs take at most `maxSize` times this on the host's disk (30 MB by default). Default: `3`."""  # noqa: E501
    options: dict[str, str]
    """Other json-file options (`compress`, `labels`, `labels-regex`, `env`, `env-regex`, `tag`). Docker adds the daemon's own `log-opts` (daemon.json) to a container on the daemon's default driver, and the provider reads them back: repeat them here, or every `pulumi up` replaces the containers."""  # noqa: E501
    # End of generated fields.


class RedisTLSSettings(TypedDict, total=False):
    """TLS to an external Redis (`rediss://`): what redis-py verifies. The PEM texts are the stack's inputs `redisCaCert`, `redisClientCert` and `redisClientKey` (or files on the machine running `pulumi`)."""  # noqa: E501

    # Generated from RedisTLSSettings by tools/hosted_fields.py --write; do not edit.
    ca_cert_file: str
    """Path (on the machine running `pulumi`) of that PEM file, instead of `caCert`."""
    client_cert_file: str
    """Path of the client certificate's PEM file, instead."""
    client_key_file: str
    """Path of the client key's PEM file, instead."""
    cert_reqs: CertReqs
    """`ssl_cert_reqs`: `required` verifies the server's certificate against the CA; `none` accepts any certificate (encryption without authentication: only to try a server out). Default: `required`."""  # noqa: E501
    check_hostname: bool
    """`ssl_check_hostname`: the certificate must name the URL's host (ignored with `certReqs: none`). Default: `true`."""  # noqa: E501
    # End of generated fields.


class SentinelSettings(TypedDict, total=False):
    """Redis Sentinel: Open WebUI asks the sentinels for the current primary (the URL's host is the master name)."""

    # Generated from SentinelSettings by tools/hosted_fields.py --write; do not edit.
    hosts: list[str]
    """Sentinel host names or addresses (`REDIS_SENTINEL_HOSTS`, `WEBSOCKET_SENTINEL_HOSTS`), three or more for a quorum that survives one failure."""  # noqa: E501
    port: int
    """Port of every sentinel (`REDIS_SENTINEL_PORT`, `WEBSOCKET_SENTINEL_PORT`). Default: `26379`."""
    max_retry_count: int
    """`REDIS_SENTINEL_MAX_RETRY_COUNT`: how many times Open WebUI tries a command, asking the sentinels for the primary again after each failure (Open WebUI's own default is 2; 5 is its Redis guide's figure). Default: `5`."""  # noqa: E501
    reconnect_delay: int
    """`REDIS_RECONNECT_DELAY`: milliseconds between those tries (the guide's figure). Default: `1000`."""
    # End of generated fields.


class RedisSettings(TypedDict, total=False):
    """How Open WebUI reaches an external Redis: the URLs are the stack's inputs `redisUrl` and `websocketRedisUrl`; without `redisUrl` the stack runs its own Valkey."""  # noqa: E501

    # Generated from RedisSettings by tools/hosted_fields.py --write; do not edit.
    key_prefix: str
    """`REDIS_KEY_PREFIX`: the prefix of Open WebUI's keys, so that several deployments can share one server. The websocket pub/sub channel does not follow it (docs/external-redis.md, Sharing one Redis). Default: `open-webui`."""  # noqa: E501
    tls: RedisTLSSettings
    """TLS options for a `rediss://` URL."""
    sentinel: SentinelSettings
    """Redis Sentinel, for failover of an external server."""
    socket_connect_timeout: float
    """`REDIS_SOCKET_CONNECT_TIMEOUT` in seconds: how long Open WebUI waits to connect before it tries again (with Sentinel: asks for the new primary). Default: 5 with `sentinel` (Open WebUI's env reference: without it a failover can hang Open WebUI), else none (the operating system's timeout)."""  # noqa: E501
    # End of generated fields.


class SharedVolumeSettings(TypedDict, total=False):
    """A volume every Swarm node mounts (NFS) for Open WebUI's data directory."""

    # Generated from SharedVolumeSettings by tools/hosted_fields.py --write; do not edit.
    driver: str
    """Volume driver on every node (`local` for NFS). Default: `local`."""
    options: dict[str, str]
    """Driver options, as `docker volume create -o`: for NFS `type: nfs`, `o: addr=10.0.0.5,rw,nfsvers=4`, `device: :/exports/open-webui`. Each node's daemon creates the volume with them on first use."""  # noqa: E501
    # End of generated fields.


class S3Settings(TypedDict, total=False):
    """Open WebUI's S3 storage for uploads shared by every node, with the nodes' own credentials (the access key pair is not offered here: its secret half would need an input)."""  # noqa: E501

    # Generated from S3Settings by tools/hosted_fields.py --write; do not edit.
    bucket: str
    """`S3_BUCKET_NAME`."""
    region: str
    """`S3_REGION_NAME`."""
    endpoint_url: str
    """`S3_ENDPOINT_URL` (MinIO, Ceph, another cloud)."""
    key_prefix: str
    """`S3_KEY_PREFIX`: a folder in the bucket."""
    # End of generated fields.


class SwarmSettings(TypedDict, total=False):
    """Swarm mode: node placement, the overlay network, shared uploads."""

    # Generated from SwarmSettings by tools/hosted_fields.py --write; do not edit.
    data_label: str
    """Node label that places Valkey and PostgreSQL (and Open WebUI with `uploads: local`) with their volumes: they run only on a node with `node.labels.<dataLabel>==true` (`docker node update --label-add open-webui-redis.data=true <node>`). Default: `open-webui-redis.data`."""  # noqa: E501
    encrypted: bool
    """Encrypt the overlay network's traffic between nodes (IPsec; `--opt encrypted`). Default: `false`."""
    uploads: Uploads
    """Where Open WebUI keeps uploads (its data directory). `local`: a volume on the data node, and Open WebUI runs there only (every replica on one node). `shared-volume`: `sharedVolume`, which every node mounts, and replicas spread over the nodes. `s3`: Open WebUI's S3 storage provider (`s3`); replicas on PostgreSQL spread over the nodes, their data directories node-local (caches); one replica on SQLite stays on the data node. Default: `local`."""  # noqa: E501
    shared_volume: SharedVolumeSettings
    """The volume every node mounts, with `uploads: shared-volume`."""
    s3: S3Settings
    """The bucket, with `uploads: s3`."""
    endpoint_mode: EndpointMode
    """How services find each other on the overlay network. `vip`: a virtual IP per service and the port published on every node through the routing mesh (Swarm's default; needs IPVS in the nodes' kernels). `dnsrr`: a service's name resolves to its tasks' addresses (HAProxy resolves them so anyway) and the port is published on the node running the load balancer (host mode), for kernels without IPVS; the publishing service then updates stop-first (one port per node). Default: `vip`."""  # noqa: E501
    pin_images: bool
    """Declare each service's image by its digest, looked up in the registry at preview (`docker.getRegistryImage`): the provider reads a service's image back pinned, so a tag alone would update every service once more on the second `pulumi up`; a new digest behind the tag is an update. `false` where no registry answers (the images are on every node already). Default: `true`."""  # noqa: E501
    update_monitor: int
    """Seconds Swarm watches each updated Open WebUI task before it counts as updated; a task that fails in that time rolls the service back (`update_config.monitor`, failure action `rollback`). Default: `30`."""  # noqa: E501
    # End of generated fields.


# ---------------------------------------------------------------------------------------------------------
# Component arguments. The analyzer takes a field's description from the class that declares it, so the
# components' own arguments repeat the settings fields, generated as the settings objects' are.
# ---------------------------------------------------------------------------------------------------------


class ValkeyArgs(TypedDict, total=False):
    """Arguments of `Valkey`."""

    network_name: Required[pulumi.Input[str]]
    """Name of the Docker network to join (the `networkName` output of a `Network`)."""
    password: pulumi.Input[str]
    """Valkey password. Default: generated (32 characters) and kept in the stack's state. Treated as a secret (wrapped with `Output.secret`) whether or not it arrives as one."""  # noqa: E501
    # Generated from ValkeySettings by tools/hosted_fields.py --write; do not edit.
    image: str
    """Valkey image. Default: `docker.io/valkey/valkey:8.0.13-alpine`."""
    container_name: str
    """Name of the Valkey container. Default: `redis-valkey`."""
    volume_name: str
    """Name of the Docker volume mounted at `/data`. Default: `redis-data`."""
    alias: str
    """Network alias of the Valkey container: the host name in the Redis URLs. Default: `redis`."""
    port: int
    """Port Valkey listens on inside the network (never published). Default: `6379`."""
    database: int
    """Database index that Open WebUI uses for both `REDIS_URL` and `WEBSOCKET_REDIS_URL`. Default: `1`."""
    auth: bool
    """Require a password. Without `password`, a random one is generated and kept in the stack's state. Default: `true`."""  # noqa: E501
    save: str
    """RDB snapshot schedule: `<seconds> <changes>` pairs (`30 1`: after 30 s if a key changed). Default: `30 1`."""
    append_only: bool
    """AOF persistence (`--appendonly yes`): every write logged, fsynced per `appendFsync`, so a crash loses at most about a second instead of up to `save`'s interval. Default: on for stacks on PostgreSQL (replicas share Valkey's state: revoked sign-ins, config sync), off for one container on SQLite and for a `Valkey` component used on its own. Turning it on for an existing Valkey starts it empty unless you first run `CONFIG SET appendonly yes` (docs/upgrades.md)."""  # noqa: E501
    append_fsync: AppendFsync
    """AOF fsync policy when `appendOnly` is on. Default: `everysec`."""
    max_clients: int
    """`--maxclients`. Default: `10000`."""
    timeout: int
    """`--timeout`: seconds before an idle client is closed (0: never). Default: `1800`."""
    max_memory: str
    """`--maxmemory`, such as `256mb`. Default: no limit."""
    max_memory_policy: MaxMemoryPolicy
    """`--maxmemory-policy`. `allkeys-*` policies are refused: they evict Open WebUI's state. Default: `noeviction`."""
    restart: RestartPolicy
    """Docker restart policy. Default: `unless-stopped`."""
    wait_timeout: int
    """Seconds `pulumi up` waits for the container to be healthy. Default: `60`."""
    retain_volume: bool
    """Keep the data volume when the stack is destroyed or the volume replaced. `false` for throwaway stacks. Default: `true`."""  # noqa: E501
    tls: bool
    """Valkey listens with TLS only (`rediss://`), on a CA and a server certificate generated for it (pulumi-tls; the keys kept in the stack's state as secrets); Open WebUI, the healthchecks and `components.verify` verify the server against that CA. Turning it on or off replaces Valkey and Open WebUI. Default: `false`."""  # noqa: E501
    tls_validity_days: int
    """Days the generated CA and server certificates are valid (with `tls`). Default: `3650`."""
    tls_renewal_days: int
    """A `pulumi up` this many days or fewer before the certificates expire makes new ones (replacing Valkey and Open WebUI); must be below `tlsValidityDays`. Default: `30`."""  # noqa: E501
    # End of generated fields.


class OpenWebUIArgs(TypedDict, total=False):
    """Arguments of `OpenWebUI`."""

    network_name: Required[pulumi.Input[str]]
    """Name of the Docker network to join (the `networkName` output of a `Network`)."""
    redis_url: Required[pulumi.Input[str]]
    """`REDIS_URL` and `WEBSOCKET_REDIS_URL` (the `redisUrl` output of a `Valkey`). The container waits for it."""
    secret_key: pulumi.Input[str]
    """`WEBUI_SECRET_KEY`. Default: generated once and kept, so replacing the container logs nobody out. Treated as a secret (wrapped with `Output.secret`) whether or not it arrives as one."""  # noqa: E501
    database_url: pulumi.Input[str]
    """`DATABASE_URL` of a PostgreSQL database that every replica shares (`postgresql+psycopg://...`); required with `replicas` above 1. Default: SQLite in the data volume. Treated as a secret."""  # noqa: E501
    vector_store: VectorStore
    """Where replicas keep document embeddings when `databaseUrl` is set: `pgvector` in that database; `chroma` only for a single replica. Default: `pgvector`."""  # noqa: E501
    load_balancer: LoadBalancerSettings
    """The load balancer in front of the replicas (with `replicas` above 1)."""
    redis_idle_timeout: int
    """The Redis server's `timeout` in seconds (a `Valkey`'s `timeout` setting; 0: it never closes idle clients). `REDIS_HEALTH_CHECK_INTERVAL` stays below it: 60 s, or half of a shorter timeout, and at most half of `selfHeal.silentConnectionSeconds`. Default: `0`."""  # noqa: E501
    redis_ca_cert: pulumi.Input[str]
    """The CA certificate (PEM) of a `Valkey` with `tls` (its `caCert` output), put where its `redisUrl` tells Open WebUI to find it (`/run/secrets/redis-ca.pem`). Required with a `rediss://` URL of such a Valkey."""  # noqa: E501
    # Generated from OpenWebUISettings by tools/hosted_fields.py --write; do not edit.
    image: str
    """Open WebUI image. Default: `ghcr.io/open-webui/open-webui:v0.12.4`."""
    container_name: str
    """Name of the Open WebUI container. Default: `open-webui`."""
    volume_name: str
    """Name of the Docker volume mounted at `/app/backend/data`. Default: `open-webui`."""
    host_port: int
    """Host port that publishes Open WebUI's port 8080. Default: `3000`."""
    bind_address: str
    """Host address the port is published on (`0.0.0.0`: every interface). Default: `127.0.0.1`."""
    env: dict[str, str]
    """Extra environment variables. The variables the stack manages may not be set here."""
    restart: RestartPolicy
    """Docker restart policy. Default: `unless-stopped`."""
    wait_timeout: int
    """Seconds `pulumi up` waits for Open WebUI to be healthy (first start migrates the database). Default: `300`."""
    replicas: int
    """Open WebUI containers. 1 (on SQLite): one container publishes the port. 2 or more, or any number on PostgreSQL (`database`): containers `<containerName>-<n>` share PostgreSQL, Valkey and the data volume behind a load balancer (`loadBalancer`) that alone publishes the port, so the count moves between 1 and 16 in one `pulumi up`. How they are created and replaced: `upgrade`. Default: `1`."""  # noqa: E501
    upgrade: UpgradeStrategy
    """How replicas are replaced (a new image, a changed setting). `recreate`, as Open WebUI's scaling guide asks: every replica stops, replica 1 starts on the new version and migrates the database, then the rest start together (an outage of about one start; never two versions on one schema); replicas are created the same way, replica 1 and then the rest at once. `rolling`: one replica at a time, each healthy before the next stops, so the load balancer keeps answering; only for changes that keep the schema (settings, a patch release), and replicas are also created one at a time. Default: `recreate`."""  # noqa: E501
    public_url: str
    """The URL browsers open when a proxy or a host name is in front, such as `https://chat.example.com`: its origin becomes `CORS_ALLOW_ORIGIN` (without it websockets fail with 403 through that name). Default: the published address (`http://<bindAddress>:<hostPort>`, and localhost beside a loopback address; for `0.0.0.0` or `::`, localhost, 127.0.0.1 and [::1])."""  # noqa: E501
    memory_mb: int
    """Memory limit per Open WebUI container in MiB (one process takes about 810 MB). Default: no limit."""
    retain_volume: bool
    """Keep the data volume when the stack is destroyed or the volume replaced. `false` for throwaway stacks. Default: `true`."""  # noqa: E501
    self_heal: SelfHealSettings
    """How replicas notice silent Redis connections and deaf listeners (README: Faults)."""
    # End of generated fields.


STACK_INPUT_FIELDS: dict[str, tuple[str, str]] = {
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
each stack's arguments: the analyzer reads a field's description only from the class that declares it."""


class OpenWebUIStackArgs(TypedDict, total=False):
    """Arguments of `OpenWebUIStack`."""

    network: NetworkSettings
    """The Docker network."""
    valkey: ValkeySettings
    """The Valkey server."""
    open_webui: OpenWebUISettings
    """Open WebUI."""
    database: DatabaseSettings
    """Shared PostgreSQL."""
    load_balancer: LoadBalancerSettings
    """Load balancer in front of replicas."""
    docker: DockerSettings
    """The Docker Engine."""
    logs: LogsSettings
    """Bounded container logs."""
    allow_moving_image_tags: bool
    """Accept a moving image tag (`main`, `latest`, a version without its patch number such as `8.0-alpine`) where it would change what runs without a change to the stack: with `openWebui.upgrade: rolling` (a new build behind the tag would roll replica by replica onto one database) and on Swarm with `swarm.pinImages` (each preview looks the tag's digest up again). Set it only when you want that. Default: `false`."""  # noqa: E501
    # Generated from STACK_INPUT_FIELDS by tools/hosted_fields.py --write; do not edit.
    redis: RedisSettings
    """The Redis Open WebUI uses: the managed Valkey, or an external server (TLS, Sentinel)."""
    valkey_password: pulumi.Input[str]
    """Valkey password. Default: generated (32 characters) and kept in the stack's state. Treated as a secret (wrapped with `Output.secret`) whether or not it arrives as one."""  # noqa: E501
    open_webui_secret_key: pulumi.Input[str]
    """`WEBUI_SECRET_KEY`. Default: generated once and kept, so replacing the container logs nobody out. Treated as a secret (wrapped with `Output.secret`) whether or not it arrives as one."""  # noqa: E501
    redis_url: pulumi.Input[str]
    """`REDIS_URL` of an external Redis or Valkey (`redis://` or `rediss://`, user, password, database), such as another resource's output: no Valkey is declared. Checked when it resolves; a secret whether or not it arrives as one."""  # noqa: E501
    websocket_redis_url: pulumi.Input[str]
    """`WEBSOCKET_REDIS_URL` when websockets use another server or database than `redisUrl`. Default: `redisUrl`."""
    redis_ca_cert: pulumi.Input[str]
    """PEM of the CA that signed the external server's certificate (with a `rediss://` `redisUrl`). Default: the image's trusted CAs."""  # noqa: E501
    redis_client_cert: pulumi.Input[str]
    """PEM of a client certificate, for a server that asks for one; with `redisClientKey`."""
    redis_client_key: pulumi.Input[str]
    """PEM of that certificate's private key (a secret)."""
    database_url: pulumi.Input[str]
    """URL of an external PostgreSQL (`postgresql://user:password@host:5432/db`), such as a database resource's output: no PostgreSQL is declared, and the replicas sit behind the load balancer. A secret whether or not it arrives as one."""  # noqa: E501
    # End of generated fields.
    network_name: pulumi.Input[str]
    """Name of a Docker network the program made (such as a `docker.Network`'s `name`), instead of `network`: none is declared."""  # noqa: E501


class SwarmStackArgs(TypedDict, total=False):
    """Arguments of `SwarmStack`."""

    network: NetworkSettings
    """The overlay network."""
    valkey: ValkeySettings
    """The Valkey service."""
    open_webui: OpenWebUISettings
    """Open WebUI."""
    database: DatabaseSettings
    """Shared PostgreSQL."""
    load_balancer: LoadBalancerSettings
    """Load balancer in front of replicas."""
    logs: LogsSettings
    """Bounded container logs."""
    swarm: SwarmSettings
    """Swarm mode: node placement, the overlay network, shared uploads."""
    allow_moving_image_tags: bool
    """Accept a moving image tag where it would change what runs without a change to the stack (see `OpenWebUIStack`). Default: `false`."""  # noqa: E501
    # Generated from STACK_INPUT_FIELDS by tools/hosted_fields.py --write; do not edit.
    redis: RedisSettings
    """The Redis Open WebUI uses: the managed Valkey, or an external server (TLS, Sentinel)."""
    valkey_password: pulumi.Input[str]
    """Valkey password. Default: generated (32 characters) and kept in the stack's state. Treated as a secret (wrapped with `Output.secret`) whether or not it arrives as one."""  # noqa: E501
    open_webui_secret_key: pulumi.Input[str]
    """`WEBUI_SECRET_KEY`. Default: generated once and kept, so replacing the container logs nobody out. Treated as a secret (wrapped with `Output.secret`) whether or not it arrives as one."""  # noqa: E501
    redis_url: pulumi.Input[str]
    """`REDIS_URL` of an external Redis or Valkey (`redis://` or `rediss://`, user, password, database), such as another resource's output: no Valkey is declared. Checked when it resolves; a secret whether or not it arrives as one."""  # noqa: E501
    websocket_redis_url: pulumi.Input[str]
    """`WEBSOCKET_REDIS_URL` when websockets use another server or database than `redisUrl`. Default: `redisUrl`."""
    redis_ca_cert: pulumi.Input[str]
    """PEM of the CA that signed the external server's certificate (with a `rediss://` `redisUrl`). Default: the image's trusted CAs."""  # noqa: E501
    redis_client_cert: pulumi.Input[str]
    """PEM of a client certificate, for a server that asks for one; with `redisClientKey`."""
    redis_client_key: pulumi.Input[str]
    """PEM of that certificate's private key (a secret)."""
    database_url: pulumi.Input[str]
    """URL of an external PostgreSQL (`postgresql://user:password@host:5432/db`), such as a database resource's output: no PostgreSQL is declared, and the replicas sit behind the load balancer. A secret whether or not it arrives as one."""  # noqa: E501
    # End of generated fields.
    network_id: pulumi.Input[str]
    """ID of an attachable overlay network the program made (a `docker.Network`'s `id`), instead of `network`: none is declared (a service that names its network by name would be replaced on every update)."""  # noqa: E501


# ---------------------------------------------------------------------------------------------------------
# Arguments -> validated settings
# ---------------------------------------------------------------------------------------------------------


class InvalidArgumentsError(ConfigurationError):
    """Arguments of a hosted component that cannot be deployed; the message lists every problem (a
    ``ConfigurationError``, named for the component and its arguments)."""

    def __init__(self, component: str, name: str, problems: list[str]) -> None:
        super().__init__(
            problems, subject=f"Invalid arguments for {TYPE_PREFIX}:{component} {name!r}", outcome="nothing was created"
        )


def _holds_output(value: Any) -> bool:
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, Mapping):
        return any(_holds_output(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_output(item) for item in value)
    return False


SETTINGS_SECRET_FIELDS = frozenset(
    {
        "password",
        "secret_key",
        "url",
        "websocket_url",
        "oauth_session_token_encryption_key",
        "ca_cert",
        "client_cert",
        "client_key",
        "secret_access_key",
        "access_key_id",
    }
)
"""Settings fields never taken from settings arguments: secrets (separate Inputs, or absent), and S3's access key
id, whose secret half has no input (the nodes' own credentials are used)."""


def settings_description(model: type[BaseModel], name: str) -> str:
    """The schema description of a settings field: its pydantic description, then its default unless the
    description gives one (what tools/hosted_fields.py writes into this module)."""
    field = model.model_fields[name]
    text = field.description or ""
    default = field.default
    if default is not PydanticUndefined and default is not None and "Default" not in text:
        shown = ("true" if default else "false") if isinstance(default, bool) else default
        text += f" Default: `{shown}`."
    return text


def _plain_settings(
    args: Mapping[str, Any], model: type[BaseModel], path: str = ""
) -> tuple[dict[str, Any], list[str]]:
    """The arguments that are fields of ``model``, by their schema (camelCase) names, enums as their values."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, field in model.model_fields.items():
        if name not in args or name in SETTINGS_SECRET_FIELDS:
            continue
        key = field.alias or name
        value = args[name]
        if _holds_output(value):
            problems.append(
                f"{path}{key}: must be a plain value known before deployment, not another resource's output or a secret"
            )
        elif (model_of := _model_of(field.annotation)) is not None and isinstance(value, Mapping):
            values[key], nested = _plain_settings(value, model_of, f"{path}{key}.")
            problems += nested
        else:
            values[key] = _plain(value)
    return values, problems


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The settings model a field holds (``X`` or ``X | None``), or None."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _plain(value: Any) -> Any:
    """Enums as their values, and whole floats as ints: numbers arrive as floats, and the SDK's mapping (3.272)
    converts integer inputs but then keeps the float."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _idle_timeout_problems(value: Any, settings: OpenWebUIModel | None) -> list[str]:
    """``redisIdleTimeout``: a whole number of seconds, with room for ``REDIS_HEALTH_CHECK_INTERVAL`` below it."""
    if _holds_output(value):
        return ["redisIdleTimeout: must be a plain value known before deployment, not another resource's output"]
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value != int(value)
        or value < 0
    ):
        return [f"redisIdleTimeout: must be a whole number of seconds, 0 or more (got {_plain(value)!r})"]
    timeout = int(value)
    interval = settings.env.get("REDIS_HEALTH_CHECK_INTERVAL") if settings is not None else None
    problem = rules.health_check_interval_problem(
        interval, timeout, env="env.REDIS_HEALTH_CHECK_INTERVAL", timeout_key="redisIdleTimeout"
    )
    return [problem] if problem is not None else []


def _secret_problems(key: str, value: Any) -> list[str]:
    if isinstance(value, str) and not value:
        return [f"{key}: is empty; leave it out to have one generated"]
    return []


_ModelT = TypeVar("_ModelT", bound=BaseModel)


def _validated(model: type[_ModelT], values: dict[str, Any], problems: list[str]) -> _ModelT | None:
    try:
        settings = model.model_validate(values)
    except ValidationError as error:
        problems.extend(describe_errors(error, model))
        return None
    return settings


def network_settings(args: Mapping[str, Any]) -> tuple[NetworkModel | None, list[str]]:
    """``NetworkSettings`` arguments (snake_case keys, as the provider hands them over) -> the model."""
    values, problems = _plain_settings(args, NetworkModel)
    return _validated(NetworkModel, values, problems), problems


def valkey_settings(args: Mapping[str, Any]) -> tuple[ValkeyModel | None, list[str]]:
    """``ValkeySettings`` arguments -> the model (without the password, which is an Input)."""
    values, problems = _plain_settings(args, ValkeyModel)
    return _validated(ValkeyModel, values, problems), problems


def open_webui_settings(args: Mapping[str, Any]) -> tuple[OpenWebUIModel | None, list[str]]:
    """``OpenWebUISettings`` arguments -> the model (without the secret key, which is an Input)."""
    values, problems = _plain_settings(args, OpenWebUIModel)
    return _validated(OpenWebUIModel, values, problems), problems


def stack_settings(args: Mapping[str, Any], engine: str = "docker") -> tuple[StackModel | None, list[str]]:
    """``OpenWebUIStack`` (``engine`` docker) or ``SwarmStack`` (swarm) arguments -> ``StackSettings``, validated as
    stack configuration is, with the rules of the Inputs given (``core/inputs.py``)."""
    values: dict[str, Any] = {"engine": engine}
    problems: list[str] = []
    sections: dict[str, type[BaseModel]] = {
        "network": NetworkModel,
        "valkey": ValkeyModel,
        "open_webui": OpenWebUIModel,
        "database": DatabaseModel,
        "load_balancer": LoadBalancerModel,
        "docker": DockerModel,
        "logs": LogsModel,
        "redis": RedisModel,
        **({"swarm": SwarmModel} if engine == "swarm" else {}),
    }
    for name, model in sections.items():
        alias = StackModel.model_fields[name].alias or name
        section = args.get(name)
        if section is None:
            continue
        problems += _object_problems(alias, section)
        if isinstance(section, Mapping):
            values[alias], section_problems = _plain_settings(section, model, f"{alias}.")
            problems += section_problems
    allow_moving = args.get("allow_moving_image_tags")
    if allow_moving is not None:
        if _holds_output(allow_moving):
            problems.append("allowMovingImageTags: give a plain true or false, not another resource's output")
        values["allowMovingImageTags"] = _plain(allow_moving)
    inputs = _stack_inputs(args, engine)
    for name, value in inputs.items():
        if isinstance(value, str) and not value:
            problems.append(f"{_input_key(name, engine)}: is empty; give a value or leave it out")
    given = [name for name, value in inputs.items() if value is not None]
    deployed, found = check_stack(values, given)
    problems += [_hosted_names(problem, engine) for problem in found]
    return (without_stand_ins(deployed, values, given) if deployed is not None else None), problems


NETWORK_INPUT = {"docker": "network_name", "swarm": "network_id"}
"""The hosted name of the Python stacks' ``network`` Input (``network`` is the settings object there):
``networkName`` on ``OpenWebUIStack``, ``networkId`` on ``SwarmStack``."""


def _hosted_arg(name: str, engine: str) -> str:
    """The hosted argument that carries the Python stacks' Input ``name``."""
    return NETWORK_INPUT[engine] if name == "network" else name


def _input_key(name: str, engine: str) -> str:
    """The schema name of the Python stacks' Input ``name`` (``redis_url`` -> ``redisUrl``)."""
    return camel_case(_hosted_arg(name, engine))


_HOSTED_SETTINGS = {
    "redis.tls.caCert[File]": "redisCaCert",
    "redis.tls.clientCert[File]": "redisClientCert",
    "redis.tls.clientKey[File]": "redisClientKey",
    "redis.websocketUrl": "websocketRedisUrl",
    "redis.url": "redisUrl",
    "database.url": "databaseUrl",
}
"""Settings the hosted stacks offer as inputs instead (their PEM texts and URLs): a problem names the input."""
_SAID_TWICE = {
    "redisUrl is not set or redisUrl": "redisUrl is not given",
    "neither redisUrl nor redisUrl is given": "redisUrl is not given",
    "without redisUrl or redisUrl": "without redisUrl",
    "give redisClientCert or redisClientCert together with redisClientKey or redisClientKey": (
        "give redisClientCert together with redisClientKey"
    ),
}


def _hosted_names(problem: str, engine: str) -> str:
    """A problem as the hosted package's user reads it: each Input, and each setting offered as an input, by its
    schema name (a rule that names the setting and the Input says it once)."""
    for name in STACK_INPUTS:
        problem = problem.replace(f"the {name} Input", _input_key(name, engine))
    for setting, key in _HOSTED_SETTINGS.items():
        problem = problem.replace(setting, key)
    for twice, once in _SAID_TWICE.items():
        problem = problem.replace(twice, once)
    return problem


def _stack_inputs(args: Mapping[str, Any], engine: str) -> dict[str, Any]:
    """The Python stack's Input arguments (``STACK_INPUTS``) from the hosted arguments."""
    return {name: args.get(_hosted_arg(name, engine)) for name in STACK_INPUTS}


def _object_problems(key: str, section: Any) -> list[str]:
    """A settings object must arrive as plain values.

    Pulumi's component provider (3.272) hands a component ``{}`` for an object input that arrived as an
    Output (marked secret, or holding another resource's output), dropping what it held: an empty object
    is refused so that defaults are never deployed in place of what the program set.
    """
    if isinstance(section, Mapping) and section:
        return []
    return [
        f"{key}: arrived empty or as an output; give plain values (not secrets, not other resources' outputs), "
        "or leave it out for the defaults"
    ]


def _require(args: Mapping[str, Any], *names: str) -> list[str]:
    return [f"{camel_case(name)}: is required" for name in names if args.get(name) is None]


# ---------------------------------------------------------------------------------------------------------
# Hosted components: same type tokens and resources as the Python components they extend
# ---------------------------------------------------------------------------------------------------------


class Network(_network.Network):
    """A Docker bridge network, created by the stack or adopted when `external` is true (looked up by name, never created or deleted)."""  # noqa: E501

    network_name: pulumi.Output[str]
    """Name of the network, for the `networkName` input of `Valkey` and `OpenWebUI`."""
    network_id: pulumi.Output[str]
    """Docker's ID of the network."""

    def __init__(self, name: str, args: NetworkSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        settings, problems = network_settings(args)
        if problems or settings is None:
            raise InvalidArgumentsError("Network", name, problems)
        super().__init__(name, settings, opts)


class Valkey(_valkey.Valkey):
    """A Valkey server on a Docker network: data volume, password (generated unless given), healthchecked container. Consumers wait for it through `redisUrl`."""  # noqa: E501

    container_name: pulumi.Output[str]
    """Name of the Valkey container (for `docker exec`)."""
    volume_name: pulumi.Output[str]
    """Name of the data volume mounted at `/data`."""
    host: pulumi.Output[str]
    """Host name of Valkey on the network: its network alias, stable across container replacements."""
    port: pulumi.Output[int]
    """Port Valkey listens on inside the network."""
    password: pulumi.Output[str] | None
    """The password (secret); absent when `auth` is false."""
    ca_cert: pulumi.Output[str] | None
    """The CA certificate (PEM) generated for the server's certificate, for the `redisCaCert` input of `OpenWebUI` and other clients; absent unless `tls` is true."""  # noqa: E501
    redis_url: pulumi.Output[str]
    """`redis://` URL of `database`, password included (secret); with `tls`, `rediss://` with the query that makes redis-py verify the server against `/run/secrets/redis-ca.pem`."""  # noqa: E501

    def __init__(self, name: str, args: ValkeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings, problems = valkey_settings(args)
        problems = _require(args, "network_name") + problems
        password = args.get("password")
        problems += _secret_problems("password", password)
        if settings is not None and (
            problem := rules.password_without_auth(password is not None, settings.auth, key="password", auth_key="auth")
        ):
            problems.append(problem)
        if problems or settings is None:
            raise InvalidArgumentsError("Valkey", name, problems)
        super().__init__(name, settings, args["network_name"], opts, password=password)


class OpenWebUI(_open_webui.OpenWebUI):
    """Open WebUI on a Docker network, its websockets managed by the Redis server at `redisUrl`: one container, or several replicas behind a load balancer. Created once `redisUrl` resolves."""  # noqa: E501

    url: pulumi.Output[str]
    """URL of Open WebUI on the Docker host."""
    container_name: pulumi.Output[str]
    """Name of the (first) Open WebUI container."""
    container_names: list[pulumi.Output[str]]
    """Names of every replica's container."""
    volume_name: pulumi.Output[str]
    """Name of the data volume mounted at `/app/backend/data`."""
    secret_key: pulumi.Output[str]
    """`WEBUI_SECRET_KEY` (secret)."""
    oauth_session_token_encryption_key: pulumi.Output[str]
    """`OAUTH_SESSION_TOKEN_ENCRYPTION_KEY` (secret), the same on every replica."""

    def __init__(self, name: str, args: OpenWebUIArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings, problems = open_webui_settings(args)
        problems = _require(args, "network_name", "redis_url") + problems
        problems += _secret_problems("secretKey", args.get("secret_key"))
        load_balancer: LoadBalancerModel | None = None
        if "load_balancer" in args:
            problems += _object_problems("loadBalancer", args["load_balancer"])
            values, lb_problems = _plain_settings(args["load_balancer"] or {}, LoadBalancerModel, "loadBalancer.")
            problems += lb_problems
            load_balancer = _validated(LoadBalancerModel, values, problems)
        vector_store = VectorStore(args.get("vector_store", VectorStore.PGVECTOR))
        replicas = settings.replicas if settings is not None else 1
        if problem := rules.replicas_need_database(
            replicas, args.get("database_url") is not None, database="databaseUrl"
        ):
            problems.append(problem)
        if problem := rules.chroma_with_replicas(
            replicas, vector_store.value, key="vectorStore", replicas_key="replicas"
        ):
            problems.append(problem)
        idle_timeout = args.get("redis_idle_timeout", 0)
        problems += _idle_timeout_problems(idle_timeout, settings)
        if problems or settings is None:
            raise InvalidArgumentsError("OpenWebUI", name, problems)
        database_url = args.get("database_url")
        super().__init__(
            name,
            settings,
            args["network_name"],
            args["redis_url"],
            opts,
            secret_key=args.get("secret_key"),
            database_url=pulumi.Output.secret(database_url) if database_url is not None else None,
            vector_store=vector_store.value,
            load_balancer=load_balancer,
            redis_idle_timeout=int(idle_timeout),
            redis_ca_cert=args.get("redis_ca_cert"),
        )


class OpenWebUIStack(_stack.OpenWebUIStack):
    """Open WebUI with Valkey-managed websockets on one Docker network: a `Network`, a `Valkey` and an `OpenWebUI` (with replicas, a PostgreSQL and a load balancer), wired by their outputs."""  # noqa: E501

    url: pulumi.Output[str]
    """URL of Open WebUI on the Docker host."""
    redis_url: pulumi.Output[str]
    """`REDIS_URL` given to Open WebUI (holds the password)."""
    websocket_redis_url: pulumi.Output[str]
    """`WEBSOCKET_REDIS_URL` given to Open WebUI (holds the password)."""
    network_name: pulumi.Output[str]
    """Docker network of both containers."""
    valkey_container_name: pulumi.Output[str] | None
    """Valkey container, for `docker exec` (and `python -m components.verify`); not with `redis.url`."""
    valkey_volume_name: pulumi.Output[str] | None
    """Valkey's data volume (back it up); not with `redis.url`."""
    valkey_ca_cert: pulumi.Output[str] | None
    """The CA certificate (PEM) Valkey's server certificate verifies against, for other clients (only with `valkey.tls`)."""  # noqa: E501
    redis_key_prefix: pulumi.Output[str]
    """`REDIS_KEY_PREFIX` of Open WebUI's keys (`python -m components.verify` reads it)."""
    redis_sentinel_hosts: pulumi.Output[list[str]] | None
    """The sentinels Open WebUI asks for the primary (only with `redis.sentinel`)."""
    redis_sentinel_port: pulumi.Output[int] | None
    """Their port (only with `redis.sentinel`)."""
    open_webui_container_name: pulumi.Output[str]
    """Open WebUI container."""
    open_webui_volume_name: pulumi.Output[str]
    """Open WebUI's data volume (back it up)."""
    open_webui_container_names: pulumi.Output[list[str]]
    """Every Open WebUI replica's container."""
    database_url: pulumi.Output[str] | None
    """`DATABASE_URL` of the replicas' shared PostgreSQL (only with a database)."""
    postgres_container_name: pulumi.Output[str] | None
    """PostgreSQL container (only with the stack's own PostgreSQL)."""
    postgres_volume_name: pulumi.Output[str] | None
    """PostgreSQL's data volume (only with the stack's own PostgreSQL; back it up)."""
    load_balancer_container_name: pulumi.Output[str] | None
    """HAProxy container (only with Open WebUI on PostgreSQL)."""

    def _name_problem(self, problem: str) -> str:
        return _hosted_names(problem, "docker")

    def __init__(self, name: str, args: OpenWebUIStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings, password, secret_key = _stack_arguments("OpenWebUIStack", name, args, "docker")
        super().__init__(
            name,
            settings,
            opts,
            valkey_password=password,
            open_webui_secret_key=secret_key,
            **_stack_inputs(args, "docker"),
        )
        _expose_outputs(self)


def _expose_outputs(stack: _stack.OpenWebUIStack | _swarm_stack.SwarmStack) -> None:
    """Each output a hosted stack declares, from the stack's outputs by the same name (the program's stack outputs);
    None where the settings make none (the schema marks those optional)."""
    outputs = stack.outputs()
    for attribute in inspect.get_annotations(type(stack)):
        setattr(stack, attribute, outputs.get(camel_case(attribute)))


def _stack_arguments(component: str, name: str, args: Mapping[str, Any], engine: str) -> tuple[StackModel, Any, Any]:
    """The validated settings and the two secrets of a hosted stack (``InvalidArgumentsError`` otherwise)."""
    settings, problems = stack_settings(args, engine)
    password = args.get("valkey_password")
    secret_key = args.get("open_webui_secret_key")
    problems += _secret_problems("valkeyPassword", password) + _secret_problems("openWebuiSecretKey", secret_key)
    if settings is not None and (
        problem := rules.password_without_auth(password is not None, settings.valkey.auth, key="valkeyPassword")
    ):
        problems.append(problem)
    if problems or settings is None:
        raise InvalidArgumentsError(component, name, problems)
    return settings, password, secret_key


class SwarmStack(_swarm_stack.SwarmStack):
    """Open WebUI with Valkey-managed websockets as services on a Docker Swarm: an overlay network, Valkey, Open WebUI (with replicas, PostgreSQL and a load balancer), wired by their outputs. Run from a manager node."""  # noqa: E501

    TYPE = f"{PACKAGE}:index:SwarmStack"  # the schema's token: every hosted component is in module `index`

    url: pulumi.Output[str]
    """URL of Open WebUI on a node (the routing mesh publishes the port on every node)."""
    redis_url: pulumi.Output[str]
    """`REDIS_URL` given to Open WebUI (holds the password)."""
    websocket_redis_url: pulumi.Output[str]
    """`WEBSOCKET_REDIS_URL` given to Open WebUI (holds the password)."""
    network_name: pulumi.Output[str]
    """The overlay network of every service (its ID when the program gave the network)."""
    valkey_service_name: pulumi.Output[str] | None
    """Valkey service (`python -m components.verify` finds its task); not with `redis.url`."""
    valkey_volume_name: pulumi.Output[str] | None
    """Valkey's volume on the data node (back it up); not with `redis.url`."""
    valkey_ca_cert: pulumi.Output[str] | None
    """The CA certificate (PEM) Valkey's server certificate verifies against, for other clients (only with `valkey.tls`)."""  # noqa: E501
    redis_key_prefix: pulumi.Output[str]
    """`REDIS_KEY_PREFIX` of Open WebUI's keys (`python -m components.verify` reads it)."""
    redis_sentinel_hosts: pulumi.Output[list[str]] | None
    """The sentinels Open WebUI asks for the primary (only with `redis.sentinel`)."""
    redis_sentinel_port: pulumi.Output[int] | None
    """Their port (only with `redis.sentinel`)."""
    open_webui_service_name: pulumi.Output[str]
    """The Open WebUI service that migrates the database (the only one on SQLite)."""
    open_webui_service_names: pulumi.Output[list[str]]
    """Every Open WebUI service."""
    open_webui_volume_name: pulumi.Output[str]
    """Open WebUI's data volume."""
    secret_names: pulumi.Output[list[str]]
    """Every Docker secret of the stack (auto-named: a new value is a new secret with a new name)."""
    database_url: pulumi.Output[str] | None
    """`DATABASE_URL` of the shared PostgreSQL (only with a database)."""
    postgres_service_name: pulumi.Output[str] | None
    """PostgreSQL service (only with the managed database)."""
    postgres_volume_name: pulumi.Output[str] | None
    """PostgreSQL's volume on the data node (only with the managed database)."""
    load_balancer_service_name: pulumi.Output[str] | None
    """HAProxy service publishing the port (only with Open WebUI on PostgreSQL)."""

    def _name_problem(self, problem: str) -> str:
        return _hosted_names(problem, "swarm")

    def __init__(self, name: str, args: SwarmStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings, password, secret_key = _stack_arguments("SwarmStack", name, args, "swarm")
        super().__init__(
            name,
            settings,
            opts,
            valkey_password=password,
            open_webui_secret_key=secret_key,
            **_stack_inputs(args, "swarm"),
        )
        _expose_outputs(self)


COMPONENTS: tuple[type[pulumi.ComponentResource], ...] = (Network, Valkey, OpenWebUI, OpenWebUIStack, SwarmStack)
"""What the plugin hosts, in schema order."""

__all__ = [
    "COMPONENTS",
    "PACKAGE",
    "AppendFsync",
    "CertReqs",
    "DatabaseSettings",
    "EndpointMode",
    "InvalidArgumentsError",
    "LoadBalancerSettings",
    "LogsSettings",
    "MaxMemoryPolicy",
    "Network",
    "NetworkSettings",
    "OpenWebUI",
    "OpenWebUIArgs",
    "OpenWebUISettings",
    "OpenWebUIStack",
    "OpenWebUIStackArgs",
    "RedisSettings",
    "RedisTLSSettings",
    "RestartPolicy",
    "S3Settings",
    "SelfHealSettings",
    "SentinelSettings",
    "SharedVolumeSettings",
    "SwarmSettings",
    "SwarmStack",
    "SwarmStackArgs",
    "Uploads",
    "Valkey",
    "ValkeyArgs",
    "ValkeySettings",
    "VectorStore",
]
