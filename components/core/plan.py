"""The deployment's plan: what a stack declares, computed once from its validated settings, which both engines render.

Each stack (``OpenWebUIStack`` on one host, ``SwarmStack`` on a Swarm) validates its settings with the Inputs it is
given (``StackInputs.settings``) and calls ``plan_deployment`` once. ``components/_stack.py`` declares what the plan
says, in one order for both engines: which parts are managed (the network, Valkey, PostgreSQL), whether Open WebUI
is load balanced (the database URL it is given), the components' names. The rest of the plan is what those
components then name and generate from the same settings (containers or services, volumes, the replicas in their
order, the secrets generated once): ``tests/unit/test_plan.py`` holds each engine's rendered resources to it, so a
component that named or generated something else would fail there.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from .. import rules
from ..settings import StackSettings
from .errors import ArgumentError


@dataclass(frozen=True)
class Plan:
    """What a stack named ``name`` declares (``plan_deployment``)."""

    name: str
    """The stack component's name: every component's name starts with it."""
    engine: str
    """``docker`` (containers on one host) or ``swarm`` (services on a Swarm)."""
    inputs: frozenset[str]
    """The stack Inputs given (``StackInputArgs``'s names)."""

    declares_network: bool
    """Whether the stack declares its network component (not with the ``network`` Input)."""
    adopts_network: bool
    """Whether that component looks up an existing network (``network.external``) instead of creating one."""
    managed_valkey: bool
    """Whether the stack runs Valkey (no external server: ``redis.url`` or the ``redis_url`` Input)."""
    managed_database: bool
    """Whether the stack runs PostgreSQL (Open WebUI on PostgreSQL without ``database.url`` or its Input)."""
    external_database: bool
    """Whether Open WebUI uses a PostgreSQL the stack does not run (``database.url`` or the ``database_url``
    Input)."""
    load_balanced: bool
    """Whether Open WebUI runs on PostgreSQL, its replicas (even one) behind the load balancer
    (``rules.load_balanced``)."""

    network_component: str
    valkey_component: str
    postgres_component: str
    open_webui_component: str
    """The components' resource names (their URNs end with them)."""

    network_name: str | None
    """The Docker network's name, or None when the ``network`` Input names it."""
    valkey_name: str | None
    """Valkey's container (one host) or service (Swarm), when managed."""
    valkey_volume: str | None
    postgres_name: str | None
    """PostgreSQL's container or service, when managed."""
    postgres_volume: str | None
    open_webui_volume: str
    replica_names: tuple[str, ...]
    """Open WebUI in its order: one host, each replica's container (the first migrates the database); Swarm, the
    service that migrates and, with more than one replica, the service of the rest."""
    load_balancer_name: str | None
    """HAProxy's container or service, when load balanced."""

    generated_secrets: tuple[str, ...]
    """The secrets the stack generates once and keeps in its state, by the setting that would give them."""
    spreads: bool
    """Swarm: whether Open WebUI's tasks may run on every node (``StackSettings.swarm_spreads``); else False."""


def _replica_names(settings: StackSettings, load_balanced: bool) -> tuple[str, ...]:
    open_webui = settings.open_webui
    if settings.engine == "swarm":
        rest = [open_webui.replicas_service_name] if open_webui.replicas > 1 else []
        return (open_webui.container_name, *rest)
    return tuple(open_webui.replica_names(load_balanced))


def _generated_secrets(
    settings: StackSettings, managed_valkey: bool, managed_database: bool, valkey_password: bool, secret_key: bool
) -> tuple[str, ...]:
    wanted = {
        "valkey.password": managed_valkey
        and settings.valkey.auth
        and settings.valkey.password is None
        and not valkey_password,
        "openWebui.secretKey": settings.open_webui.secret_key is None and not secret_key,
        "openWebui.oauthSessionTokenEncryptionKey": settings.open_webui.oauth_session_token_encryption_key is None,
        "database.password": managed_database and settings.database.password is None,
    }
    return tuple(key for key, generated in wanted.items() if generated)


def plan_deployment(
    name: str,
    settings: StackSettings,
    inputs: Collection[str] = (),
    *,
    valkey_password_given: bool = False,
    secret_key_given: bool = False,
) -> Plan:
    """The plan of the stack ``name`` for ``settings`` as deployed with the Inputs ``inputs`` (validated with them:
    ``StackInputs.settings``), given ``valkey_password`` or ``open_webui_secret_key`` as Inputs or not.
    ``ConfigurationError`` for what only the stack's own arguments can get wrong."""
    # The settings a stack validated with its Inputs hold a stand-in for each Input's value; the names of the
    # Inputs are read too, so that settings validated without them plan the same.
    managed_valkey = settings.managed_valkey and "redis_url" not in inputs
    external_database = settings.database.url is not None or "database_url" in inputs
    problem = rules.password_with_external_server(valkey_password_given, managed_valkey)
    if problem is not None:
        raise ArgumentError([problem])
    load_balanced = rules.load_balanced(settings.open_webui.replicas, settings.database.enabled or external_database)
    managed_database = load_balanced and not external_database
    declares_network = "network" not in inputs
    return Plan(
        name=name,
        engine=settings.engine,
        inputs=frozenset(inputs),
        declares_network=declares_network,
        adopts_network=declares_network and settings.network.external,
        managed_valkey=managed_valkey,
        managed_database=managed_database,
        external_database=external_database,
        load_balanced=load_balanced,
        network_component=f"{name}-network",
        valkey_component=f"{name}-valkey",
        postgres_component=f"{name}-postgres",
        open_webui_component=f"{name}-open-webui",
        network_name=settings.network.name if declares_network else None,
        valkey_name=settings.valkey.container_name if managed_valkey else None,
        valkey_volume=settings.valkey.volume_name if managed_valkey else None,
        postgres_name=settings.database.container_name if managed_database else None,
        postgres_volume=settings.database.volume_name if managed_database else None,
        open_webui_volume=settings.open_webui.volume_name,
        replica_names=_replica_names(settings, load_balanced),
        load_balancer_name=settings.load_balancer.container_name if load_balanced else None,
        generated_secrets=_generated_secrets(
            settings, managed_valkey, managed_database, valkey_password_given, secret_key_given
        ),
        spreads=settings.engine == "swarm" and settings.swarm_spreads,
    )
