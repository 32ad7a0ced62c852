"""Swarm: the overlay network that the services share."""

from __future__ import annotations

import pulumi

from .._shared import DockerNetwork
from ..settings import NetworkSettings
from ._swarm import TYPE_PREFIX

VXLAN_OPTION = 'options["com.docker.network.driver.overlay.vxlanid_list"]'


class OverlayNetwork(DockerNetwork):
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
        super().__init__(
            f"{TYPE_PREFIX}:OverlayNetwork",
            name,
            settings,
            opts,
            driver="overlay",
            attachable=True,
            options={"encrypted": "true"} if encrypted else None,
            # Docker adds the VXLAN ids to an overlay's options: read back, they would differ from a declared map
            # and replace the network (and every service on it) on each `pulumi up`. That key alone is left to
            # Docker: turning encryption on or off is still a change (a replacement).
            ignore_changes=[VXLAN_OPTION],
        )
