"""The whole stack (``StackSettings``) and the rules across its blocks: distinct names, the engine's own
rules (the host-only keys refused on Swarm, service names), an external Redis without the managed Valkey, moving
image tags, the Redis health check below the idle timeout."""

from __future__ import annotations

import json

from pydantic import Field, model_validator

from .. import rules
from ._model import _Settings
from .database import DatabaseSettings
from .docker import DockerSettings
from .formats import _SWARM_NAME, SWARM_NAME_LIMIT
from .images import moving_image_problems, rolls_side_by_side
from .load_balancer import LoadBalancerSettings
from .logs import LogsSettings
from .network import NetworkSettings
from .open_webui import OpenWebUISettings
from .redis import RedisSettings
from .swarm import SwarmSettings
from .types import Engine
from .valkey import ValkeySettings

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
        return rules.load_balanced(self.open_webui.replicas, self.database.enabled or self.database.url is not None)

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
        chroma = rules.chroma_with_replicas(self.open_webui.replicas, self.database.vector_store)
        if chroma:
            problems.append(chroma)
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
            names.append(("openWebui.containerName (replicas)", self.open_webui.replicas_service_name))
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
        problem = rules.health_check_interval_problem(
            self.open_webui.env.get("REDIS_HEALTH_CHECK_INTERVAL"), self.redis_idle_timeout
        )
        if problem:
            raise ValueError(problem)
        return self
