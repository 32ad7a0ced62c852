"""Swarm: the whole deployment as services on an overlay network, wired by their outputs."""

from __future__ import annotations

from typing import Any, Unpack

import pulumi

from .._shared import REDIS_OUTPUT_DESCRIPTIONS, StackInputArgs, StackInputs, redis_outputs
from ..core.settings import StackSettings
from ._swarm import TYPE_PREFIX
from .network import OverlayNetwork
from .open_webui import SwarmOpenWebUI, s3_env
from .postgres import SwarmPostgres
from .valkey import SwarmValkey

OUTPUT_DESCRIPTIONS: dict[str, tuple[bool, str]] = {
    "url": (False, "URL of Open WebUI on a node (the routing mesh publishes the port on every node)."),
    "redisUrl": (True, "`REDIS_URL` given to Open WebUI (holds the password)."),
    "websocketRedisUrl": (True, "`WEBSOCKET_REDIS_URL` given to Open WebUI (holds the password)."),
    "networkName": (False, "The overlay network of every service (its ID when the program gave the network)."),
    "valkeyServiceName": (
        False,
        "Valkey service (`python -m components.verify` finds its task); not with `redis.url`.",
    ),
    "valkeyVolumeName": (False, "Valkey's volume on the data node (back it up); not with `redis.url`."),
    "valkeyCaCert": (
        False,
        "The CA certificate (PEM) Valkey's server certificate verifies against, for other clients (only with "
        "`valkey.tls`).",
    ),
    **REDIS_OUTPUT_DESCRIPTIONS,
    "openWebuiServiceName": (False, "The Open WebUI service that migrates the database (the only one on SQLite)."),
    "openWebuiServiceNames": (False, "Every Open WebUI service."),
    "openWebuiVolumeName": (False, "Open WebUI's data volume."),
    "secretNames": (
        False,
        "Every Docker secret of the stack (auto-named: a new value is a new secret with a new name).",
    ),
    "databaseUrl": (True, "`DATABASE_URL` of the shared PostgreSQL (only with a database)."),
    "postgresServiceName": (False, "PostgreSQL service (only with the managed database)."),
    "postgresVolumeName": (False, "PostgreSQL's volume on the data node (only with the managed database)."),
    "loadBalancerServiceName": (
        False,
        "HAProxy service publishing the port (only with Open WebUI on PostgreSQL).",
    ),
}
"""Swarm stack outputs by name: whether each is a secret, and what it is for."""


class SwarmStack(pulumi.ComponentResource):
    """Open WebUI with Valkey-managed websockets as services on a Docker Swarm (``engine: swarm``).

    Run from a manager node (the provider's Docker host). Valkey and PostgreSQL stay on the node labelled
    ``node.labels.<swarm.dataLabel>==true`` with their volumes; Open WebUI's replicas spread over the nodes when
    their uploads are shared (``swarm.uploads``), else they stay on that node too."""

    TYPE = f"{TYPE_PREFIX}:SwarmStack"
    """The type token (the multi-language package's ``SwarmStack`` is ``open-webui-redis:index:SwarmStack``)."""

    url: pulumi.Output[str]
    redis_url: pulumi.Output[str]
    websocket_redis_url: pulumi.Output[str]
    network_name: pulumi.Output[str]

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
        """The Inputs as ``OpenWebUIStack``'s, but ``network`` is the ID of an attachable overlay network the
        caller's program made (``docker.Network(...).id``: a service that names its network by name is replaced
        on every ``pulumi up``)."""
        if settings.engine != "swarm":
            raise ValueError(f"SwarmStack needs settings with engine 'swarm' (got {settings.engine!r}: OpenWebUIStack)")
        given = StackInputs(inputs, self._name_problem)
        settings = given.settings(settings)
        if valkey_password is not None and not settings.managed_valkey:
            raise ValueError("valkey_password is given with an external server (redis.url or redis_url); remove one")
        super().__init__(self.TYPE, name, None, opts)
        if settings.open_webui.public_url is None and "CORS_ALLOW_ORIGIN" not in settings.open_webui.env:
            pulumi.log.warn(
                "openWebui.publicUrl is not set: Open WebUI accepts websockets only from pages opened at "
                f"http://localhost:{settings.open_webui.host_port} (or 127.0.0.1, [::1]) on a node; set it to the "
                "URL browsers open (a node's name, or the proxy in front), such as "
                f"`pulumi config set --path openWebui.publicUrl http://swarm.example.com:{settings.open_webui.host_port}`",
                resource=self,
            )
        swarm = settings.swarm_effective
        child = pulumi.ResourceOptions(parent=self)
        data_node = [swarm.data_constraint]
        self.network: OverlayNetwork | None = None
        network = given.get("network")
        if network is None:
            self.network = OverlayNetwork(f"{name}-network", settings.network, opts=child, encrypted=swarm.encrypted)
            network_id, network_name = self.network.network_id, self.network.network_name
        else:
            network_id = network_name = pulumi.Output.from_input(network)
        self.settings = settings
        self.valkey: SwarmValkey | None = None
        websocket_url: pulumi.Output[str] | None = None
        if settings.managed_valkey:
            self.valkey = SwarmValkey(
                f"{name}-valkey",
                settings.valkey_effective,
                network_id,
                opts=child,
                constraints=data_node,
                endpoint_mode=swarm.endpoint_mode,
                password=valkey_password,
                pin_image=swarm.pin_images,
                logs=settings.logs,
            )
            redis = self.valkey.redis_url
        else:
            redis, websocket_url = given.redis_urls(settings)
        self.postgres: SwarmPostgres | None = None
        self.database_url: pulumi.Output[str] | None = given.external_database_url(settings)
        if settings.managed_database:
            self.postgres = SwarmPostgres(
                f"{name}-postgres",
                settings.database,
                network_id,
                opts=child,
                constraints=data_node,
                endpoint_mode=swarm.endpoint_mode,
                pin_image=swarm.pin_images,
                logs=settings.logs,
            )
            self.database_url = self.postgres.url

        spread = settings.swarm_spreads
        storage_env: dict[str, str] | None = None
        storage_secret = None
        if swarm.s3 is not None:
            storage_env = s3_env(swarm.s3)
            if swarm.s3.secret_access_key is not None:
                storage_secret = pulumi.Output.secret(swarm.s3.secret_access_key.get_secret_value())
        self.open_webui = SwarmOpenWebUI(
            f"{name}-open-webui",
            settings.open_webui,
            network_id=network_id,
            redis_url=redis,
            opts=child,
            secret_key=open_webui_secret_key,
            database_url=self.database_url,
            vector_store=settings.database.vector_store,
            load_balancer=settings.load_balancer,
            redis_idle_timeout=settings.redis_idle_timeout,
            websocket_redis_url=websocket_url,
            redis=settings.redis,
            **given.certificates(self.valkey.ca_cert if self.valkey is not None else None),
            constraints=None if spread else data_node,
            spread=spread,
            shared_volume=swarm.shared_volume,
            storage_env=storage_env,
            storage_secret=storage_secret,
            update_monitor=swarm.update_monitor,
            endpoint_mode=swarm.endpoint_mode,
            publish_mode=swarm.publish_mode,
            pin_image=swarm.pin_images,
            logs=settings.logs,
            allow_moving_image_tags=settings.allow_moving_image_tags,
        )
        self.url = self.open_webui.url
        self.redis_url = redis
        self.websocket_redis_url = websocket_url if websocket_url is not None else redis
        self.network_name = network_name
        self.register_outputs(self.outputs())

    def _name_problem(self, problem: str) -> str:
        """A problem found in an Input's value, as the caller reads it (the multi-language stacks rename)."""
        return problem

    def outputs(self) -> dict[str, pulumi.Output[Any]]:
        """The stack's outputs by their exported name (``pulumi stack output``)."""
        secret_names = [self.open_webui.secret_names]
        if self.valkey is not None:
            secret_names.insert(0, self.valkey.secret_names)
        if self.postgres is not None:
            secret_names.append(self.postgres.secret_names)
        outputs: dict[str, pulumi.Output[Any]] = {
            "url": self.url,
            "redisUrl": self.redis_url,
            "websocketRedisUrl": self.websocket_redis_url,
            "networkName": self.network_name,
            "openWebuiServiceName": self.open_webui.service_name,
            "openWebuiServiceNames": pulumi.Output.all(*self.open_webui.service_names),
            "openWebuiVolumeName": self.open_webui.volume_name,
            "secretNames": pulumi.Output.all(*secret_names).apply(lambda groups: sorted(n for g in groups for n in g)),
        }
        if self.valkey is not None:
            outputs["valkeyServiceName"] = self.valkey.service_name
            outputs["valkeyVolumeName"] = self.valkey.volume_name
            if self.valkey.ca_cert is not None:
                outputs["valkeyCaCert"] = self.valkey.ca_cert
        outputs |= redis_outputs(self.settings, self.url)
        if self.database_url is not None:
            outputs["databaseUrl"] = self.database_url
        if self.postgres is not None:
            outputs["postgresServiceName"] = self.postgres.service_name
            outputs["postgresVolumeName"] = self.postgres.volume_name
        if self.open_webui.load_balancer is not None:
            outputs["loadBalancerServiceName"] = self.open_webui.load_balancer.service_name
        return outputs
