"""The whole deployment: network, Valkey, Open WebUI, wired by their outputs."""

from __future__ import annotations

from typing import Any, Unpack

import pulumi

from .._shared import REDIS_OUTPUT_DESCRIPTIONS, StackInputArgs, StackInputs, redis_outputs
from ..core.settings import StackSettings
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


class OpenWebUIStack(pulumi.ComponentResource):
    """Open WebUI with Valkey-managed websockets on one Docker network.

    Valkey's ``redis_url`` output feeds Open WebUI's environment: that edge alone orders the deployment.
    """

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

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        opts: pulumi.ResourceOptions | None = None,
        *,
        valkey_password: pulumi.Input[str] | None = None,
        open_webui_secret_key: pulumi.Input[str] | None = None,
        **inputs: Unpack[StackInputArgs],
    ) -> None:
        """``valkey_password`` and ``open_webui_secret_key``: secrets as Inputs (another resource's output, a
        secret), instead of ``settings.valkey.password`` and ``settings.open_webui.secret_key``.

        ``inputs`` (``StackInputArgs``): what the caller's program makes, as Inputs instead of settings (the
        deployment then follows their producers): ``redis_url`` and ``websocket_redis_url`` (an external server,
        as ``redis.url`` and ``redis.websocketUrl``: no Valkey is declared), ``redis_ca_cert``,
        ``redis_client_cert`` and ``redis_client_key`` (PEM, as ``redis.tls``'s), ``database_url`` (an external
        PostgreSQL, as ``database.url``) and ``network`` (the name of a Docker network it made: none is declared).
        URLs and keys are secrets here whether or not they arrive as secrets. What can be checked without the values is
        checked before anything is declared (``ConfigurationError``); each value is checked by its setting's
        rules when it resolves, and an error never holds it."""
        if settings.engine != "docker":
            raise ValueError(
                f"OpenWebUIStack is the single-host stack: settings.engine is {settings.engine!r} (SwarmStack)"
            )
        given = StackInputs(inputs, self._name_problem)
        settings = given.settings(settings)
        if valkey_password is not None and not settings.managed_valkey:
            raise ValueError("valkey_password is given with an external server (redis.url or redis_url); remove one")
        super().__init__(f"{TYPE_PREFIX}:OpenWebUIStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.network: Network | None = None
        network = given.get("network")
        if network is None:
            self.network = Network(f"{name}-network", settings.network, opts=child)
            network_name = self.network.network_name
        else:
            network_name = pulumi.Output.from_input(network)
        self.settings = settings
        self.valkey: Valkey | None = None
        websocket_url: pulumi.Output[str] | None = None
        if settings.managed_valkey:
            self.valkey = Valkey(
                f"{name}-valkey",
                settings.valkey_effective,
                network_name,
                opts=child,
                password=valkey_password,
                logs=settings.logs,
            )
            redis = self.valkey.redis_url
        else:
            redis, websocket_url = given.redis_urls(settings)
        self.postgres: Postgres | None = None
        self.database_url: pulumi.Output[str] | None = given.external_database_url(settings)
        if settings.managed_database:
            self.postgres = Postgres(
                f"{name}-postgres",
                settings.database,
                network_name,
                opts=child,
                engine=settings.docker,
                logs=settings.logs,
            )
            self.database_url = self.postgres.url
        self.open_webui = OpenWebUI(
            f"{name}-open-webui",
            settings.open_webui,
            network_name=network_name,
            redis_url=redis,
            opts=child,
            secret_key=open_webui_secret_key,
            database_url=self.database_url,
            vector_store=settings.database.vector_store,
            load_balancer=settings.load_balancer,
            engine=settings.docker,
            redis_idle_timeout=settings.redis_idle_timeout,
            websocket_redis_url=websocket_url,
            redis=settings.redis,
            **given.certificates(self.valkey.ca_cert if self.valkey is not None else None),
            logs=settings.logs,
            allow_moving_image_tags=settings.allow_moving_image_tags,
        )

        self.url = self.open_webui.url
        self.redis_url = redis
        self.websocket_redis_url = websocket_url if websocket_url is not None else redis
        self.network_name = network_name
        self.valkey_container_name = self.valkey.container_name if self.valkey is not None else None
        self.valkey_volume_name = self.valkey.volume_name if self.valkey is not None else None
        self.open_webui_container_name = self.open_webui.container_name
        self.open_webui_volume_name = self.open_webui.volume_name
        self.register_outputs(self.outputs())

    def _name_problem(self, problem: str) -> str:
        """A problem found in an Input's value, as the caller reads it (the multi-language stacks rename)."""
        return problem

    def outputs(self) -> dict[str, pulumi.Output[Any]]:
        """The stack's outputs by their exported name (``pulumi stack output``)."""
        outputs: dict[str, pulumi.Output[Any]] = {
            "url": self.url,
            "redisUrl": self.redis_url,
            "websocketRedisUrl": self.websocket_redis_url,
            "networkName": self.network_name,
            "openWebuiContainerName": self.open_webui_container_name,
            "openWebuiVolumeName": self.open_webui_volume_name,
            "openWebuiContainerNames": pulumi.Output.all(*self.open_webui.container_names),
        }
        if self.valkey_container_name is not None and self.valkey_volume_name is not None:
            outputs["valkeyContainerName"] = self.valkey_container_name
            outputs["valkeyVolumeName"] = self.valkey_volume_name
        if self.valkey is not None and self.valkey.ca_cert is not None:
            outputs["valkeyCaCert"] = self.valkey.ca_cert
        outputs |= redis_outputs(self.settings, self.url)
        if self.database_url is not None:
            outputs["databaseUrl"] = self.database_url
        if self.postgres is not None:
            outputs["postgresContainerName"] = self.postgres.container_name
            outputs["postgresVolumeName"] = self.postgres.volume_name
        if self.open_webui.load_balancer is not None:
            outputs["loadBalancerContainerName"] = self.open_webui.load_balancer.container_name
        return outputs
