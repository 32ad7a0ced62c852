"""Swarm: the overlay network that the services share."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from ..core.settings import NetworkSettings
from ._swarm import TYPE_PREFIX

VXLAN_OPTION = 'options["com.docker.network.driver.overlay.vxlanid_list"]'


class OverlayNetwork(pulumi.ComponentResource):
    """An attachable overlay network (so ``docker run --network`` and tests can join it), created by the stack
    or adopted when ``settings.external`` is true; ``encrypted`` turns on IPsec between nodes."""

    network_name: pulumi.Output[str]
    """Name of the network."""
    network_id: pulumi.Output[str]
    """Docker's ID of the network: services refer to it by ID (by name the provider replaces them on every up)."""

    def __init__(
        self,
        name: str,
        settings: NetworkSettings,
        opts: pulumi.ResourceOptions | None = None,
        *,
        encrypted: bool = False,
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:OverlayNetwork", name, None, opts)
        if settings.external:
            found = docker.get_network_output(name=settings.name, opts=pulumi.InvokeOutputOptions(parent=self))
            self.network_name = found.name
            self.network_id = found.id
        else:
            network = docker.Network(
                f"{name}-network",
                name=settings.name,
                driver="overlay",
                attachable=True,
                options={"encrypted": "true"} if encrypted else None,
                # Docker adds the VXLAN ids to an overlay's options: read back, they would differ from a declared
                # map and replace the network (and every service on it) on each `pulumi up`. That key alone is left
                # to Docker: turning encryption on or off is still a change (a replacement).
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=[VXLAN_OPTION]),
            )
            self.network_name = network.name
            self.network_id = network.id
        self.register_outputs({"network_name": self.network_name, "network_id": self.network_id})
