"""The whole deployment: network, Valkey, Open WebUI, wired by their outputs."""

from __future__ import annotations

from typing import Any

import pulumi

from .._shared import REDIS_OUTPUT_DESCRIPTIONS
from .._stack import Stack
from ._docker import TYPE_PREFIX
from .network import Network
from .open_webui import OpenWebUI
from .postgres import Postgres
from .valkey import Valkey

OUTPUT_DESCRIPTIONS: dict[str, tuple[bool, str]] = {
    "url": (False, "URL of Open WebUI on the Docker host."),
    "redisUrl": (True, "`REDIS_URL` given to Open WebUI (holds the password)."),
    "websocketRedisUrl": (True, "`WEBSOCKET_REDIS_URL` given to Open WebUI (holds the password)."),
    "networkName": (False, "Docker network of both containers."),
    "valkeyContainerName": (
        False,
        "Valkey container, for `docker exec` (and `python -m components.verify`); not with `redis.url`.",
    ),
    "valkeyVolumeName": (False, "Valkey's data volume (back it up); not with `redis.url`."),
    "valkeyCaCert": (
        False,
        "The CA certificate (PEM) Valkey's server certificate verifies against, for other clients (only with "
        "`valkey.tls`).",
    ),
    **REDIS_OUTPUT_DESCRIPTIONS,
    "openWebuiContainerName": (False, "Open WebUI container."),
    "openWebuiVolumeName": (False, "Open WebUI's data volume (back it up)."),
    "openWebuiContainerNames": (False, "Every Open WebUI replica's container."),
    "databaseUrl": (True, "`DATABASE_URL` of the replicas' shared PostgreSQL (only with a database)."),
    "postgresContainerName": (
        False,
        "PostgreSQL container (only with the stack's own PostgreSQL).",
    ),
    "postgresVolumeName": (False, "PostgreSQL's data volume (only with the stack's own PostgreSQL; back it up)."),
    "loadBalancerContainerName": (
        False,
        "HAProxy container (only with Open WebUI on PostgreSQL).",
    ),
}
"""Stack outputs by name: whether each is a secret, and what it is for."""


class OpenWebUIStack(Stack):
    """Open WebUI with Valkey-managed websockets on one Docker network.

    Valkey's ``redis_url`` output feeds Open WebUI's environment: that edge alone orders the deployment.

    ``valkey_password`` and ``open_webui_secret_key``: secrets as Inputs (another resource's output, a secret),
    instead of ``settings.valkey.password`` and ``settings.open_webui.secret_key``.

    The other keyword arguments (``StackInputArgs``): what the caller's program makes, as Inputs instead of settings
    (the deployment then follows their producers): ``redis_url`` and ``websocket_redis_url`` (an external server,
    as ``redis.url`` and ``redis.websocketUrl``: no Valkey is declared), ``redis_ca_cert``, ``redis_client_cert``
    and ``redis_client_key`` (PEM, as ``redis.tls``'s), ``database_url`` (an external PostgreSQL, as
    ``database.url``) and ``network`` (the name of a Docker network it made: none is declared). URLs and keys are
    secrets here whether or not they arrive as secrets. What can be checked without the values is checked before
    anything is declared (``ConfigurationError``); each value is checked by its setting's rules when it resolves,
    and an error never holds it."""

    TYPE = f"{TYPE_PREFIX}:OpenWebUIStack"
    ENGINE = "docker"

    url: pulumi.Output[str]
    """URL of Open WebUI on the Docker host."""
    redis_url: pulumi.Output[str]
    """``REDIS_URL`` given to Open WebUI (secret)."""
    websocket_redis_url: pulumi.Output[str]
    """``WEBSOCKET_REDIS_URL`` given to Open WebUI (secret)."""
    network_name: pulumi.Output[str]
    valkey_container_name: pulumi.Output[str] | None
    """None with an external server (``redis.url``): no Valkey is declared."""
    valkey_volume_name: pulumi.Output[str] | None
    open_webui_container_name: pulumi.Output[str]
    open_webui_volume_name: pulumi.Output[str]

    def _engine_problem(self, engine: str) -> str:
        return f"OpenWebUIStack is the single-host stack: settings.engine is {engine!r} (SwarmStack)"

    def _declare_network(self, opts: pulumi.ResourceOptions) -> Network:
        return Network(self.plan.network_component, self.settings.network, opts=opts)

    def _declare_valkey(
        self, network: pulumi.Output[str], opts: pulumi.ResourceOptions, password: pulumi.Input[str] | None
    ) -> Valkey:
        settings = self.settings
        return Valkey(
            self.plan.valkey_component,
            settings.valkey_effective,
            network,
            opts=opts,
            password=password,
            logs=settings.logs,
        )

    def _declare_postgres(self, network: pulumi.Output[str], opts: pulumi.ResourceOptions) -> Postgres:
        settings = self.settings
        return Postgres(
            self.plan.postgres_component,
            settings.database,
            network,
            opts=opts,
            engine=settings.docker,
            logs=settings.logs,
        )

    def _declare_open_webui(
        self, network: pulumi.Output[str], opts: pulumi.ResourceOptions, common: dict[str, Any]
    ) -> OpenWebUI:
        return OpenWebUI(
            self.plan.open_webui_component,
            self.settings.open_webui,
            network_name=network,
            opts=opts,
            engine=self.settings.docker,
            **common,
        )

    def _after_components(self) -> None:
        self.valkey_container_name = self.valkey.container_name if self.valkey is not None else None
        self.valkey_volume_name = self.valkey.volume_name if self.valkey is not None else None
        self.open_webui_container_name = self.open_webui.container_name
        self.open_webui_volume_name = self.open_webui.volume_name

    def _engine_outputs(self) -> dict[str, pulumi.Output[Any]]:
        outputs: dict[str, pulumi.Output[Any]] = {
            "openWebuiContainerName": self.open_webui_container_name,
            "openWebuiVolumeName": self.open_webui_volume_name,
            "openWebuiContainerNames": pulumi.Output.all(*self.open_webui.container_names),
        }
        if self.valkey_container_name is not None and self.valkey_volume_name is not None:
            outputs["valkeyContainerName"] = self.valkey_container_name
            outputs["valkeyVolumeName"] = self.valkey_volume_name
        if self.postgres is not None:
            outputs["postgresContainerName"] = self.postgres.container_name
            outputs["postgresVolumeName"] = self.postgres.volume_name
        if self.open_webui.load_balancer is not None:
            outputs["loadBalancerContainerName"] = self.open_webui.load_balancer.container_name
        return outputs
