"""Swarm: the whole deployment as services on an overlay network, wired by their outputs."""

from __future__ import annotations

from typing import Any

import pulumi

from .._shared import REDIS_OUTPUT_DESCRIPTIONS
from .._stack import Stack
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


class SwarmStack(Stack):
    """Open WebUI with Valkey-managed websockets as services on a Docker Swarm (``engine: swarm``).

    Run from a manager node (the provider's Docker host). Valkey and PostgreSQL stay on the node labelled
    ``node.labels.<swarm.dataLabel>==true`` with their volumes; Open WebUI's replicas spread over the nodes when
    their uploads are shared (``swarm.uploads``), else they stay on that node too.

    The Inputs as ``OpenWebUIStack``'s, but ``network`` is the ID of an attachable overlay network the caller's
    program made (``docker.Network(...).id``: a service that names its network by name is replaced on every
    ``pulumi up``)."""

    TYPE = f"{TYPE_PREFIX}:SwarmStack"
    """The type token (the multi-language package's ``SwarmStack`` is ``open-webui-redis:index:SwarmStack``)."""
    ENGINE = "swarm"
    ATTACH_BY_ID = True

    url: pulumi.Output[str]
    redis_url: pulumi.Output[str]
    websocket_redis_url: pulumi.Output[str]
    network_name: pulumi.Output[str]

    def _engine_problem(self, engine: str) -> str:
        return f"SwarmStack needs settings with engine 'swarm' (got {engine!r}: OpenWebUIStack)"

    def _before_components(self) -> None:
        open_webui = self.settings.open_webui
        if open_webui.public_url is None and "CORS_ALLOW_ORIGIN" not in open_webui.env:
            pulumi.log.warn(
                "openWebui.publicUrl is not set: Open WebUI accepts websockets only from pages opened at "
                f"http://localhost:{open_webui.host_port} (or 127.0.0.1, [::1]) on a node; set it to the "
                "URL browsers open (a node's name, or the proxy in front), such as "
                f"`pulumi config set --path openWebui.publicUrl http://swarm.example.com:{open_webui.host_port}`",
                resource=self,
            )

    def _on_data_node(self) -> dict[str, Any]:
        """What Valkey and PostgreSQL are given alike: the data node, the endpoint mode, pinned images, logs."""
        swarm = self.settings.swarm_effective
        return {
            "constraints": [swarm.data_constraint],
            "endpoint_mode": swarm.endpoint_mode,
            "pin_image": swarm.pin_images,
            "logs": self.settings.logs,
        }

    def _declare_network(self, opts: pulumi.ResourceOptions) -> OverlayNetwork:
        encrypted = self.settings.swarm_effective.encrypted
        return OverlayNetwork(self.plan.network_component, self.settings.network, opts=opts, encrypted=encrypted)

    def _declare_valkey(
        self, network: pulumi.Output[str], opts: pulumi.ResourceOptions, password: pulumi.Input[str] | None
    ) -> SwarmValkey:
        return SwarmValkey(
            self.plan.valkey_component,
            self.settings.valkey_effective,
            network,
            opts=opts,
            password=password,
            **self._on_data_node(),
        )

    def _declare_postgres(self, network: pulumi.Output[str], opts: pulumi.ResourceOptions) -> SwarmPostgres:
        return SwarmPostgres(
            self.plan.postgres_component, self.settings.database, network, opts=opts, **self._on_data_node()
        )

    def _declare_open_webui(
        self, network: pulumi.Output[str], opts: pulumi.ResourceOptions, common: dict[str, Any]
    ) -> SwarmOpenWebUI:
        swarm = self.settings.swarm_effective
        storage_env: dict[str, str] | None = None
        storage_secret = None
        if swarm.s3 is not None:
            storage_env = s3_env(swarm.s3)
            if swarm.s3.secret_access_key is not None:
                storage_secret = pulumi.Output.secret(swarm.s3.secret_access_key.get_secret_value())
        spread = self.plan.spreads
        return SwarmOpenWebUI(
            self.plan.open_webui_component,
            self.settings.open_webui,
            network_id=network,
            opts=opts,
            constraints=None if spread else [swarm.data_constraint],
            spread=spread,
            shared_volume=swarm.shared_volume,
            storage_env=storage_env,
            storage_secret=storage_secret,
            update_monitor=swarm.update_monitor,
            endpoint_mode=swarm.endpoint_mode,
            publish_mode=swarm.publish_mode,
            pin_image=swarm.pin_images,
            **common,
        )

    def _engine_outputs(self) -> dict[str, pulumi.Output[Any]]:
        secret_names = [self.open_webui.secret_names]
        if self.valkey is not None:
            secret_names.insert(0, self.valkey.secret_names)
        if self.postgres is not None:
            secret_names.append(self.postgres.secret_names)
        outputs: dict[str, pulumi.Output[Any]] = {
            "openWebuiServiceName": self.open_webui.service_name,
            "openWebuiServiceNames": pulumi.Output.all(*self.open_webui.service_names),
            "openWebuiVolumeName": self.open_webui.volume_name,
            "secretNames": pulumi.Output.all(*secret_names).apply(lambda groups: sorted(n for g in groups for n in g)),
        }
        if self.valkey is not None:
            outputs["valkeyServiceName"] = self.valkey.service_name
            outputs["valkeyVolumeName"] = self.valkey.volume_name
        if self.postgres is not None:
            outputs["postgresServiceName"] = self.postgres.service_name
            outputs["postgresVolumeName"] = self.postgres.volume_name
        if self.open_webui.load_balancer is not None:
            outputs["loadBalancerServiceName"] = self.open_webui.load_balancer.service_name
        return outputs
