"""The Docker network that the services share."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from ..core.settings import NetworkSettings
from ._docker import TYPE_PREFIX


class Network(pulumi.ComponentResource):
    """A Docker bridge network, created by the stack or adopted when ``settings.external`` is true.

    An adopted network is looked up by name (the lookup fails at preview when it does not exist) and is
    never created or deleted by the stack.
    """

    network_name: pulumi.Output[str]
    """Name of the network, for a container's ``networks_advanced``."""
    network_id: pulumi.Output[str]
    """Docker's ID of the network."""

    def __init__(self, name: str, settings: NetworkSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Network", name, None, opts)
        if settings.external:
            found = docker.get_network_output(name=settings.name, opts=pulumi.InvokeOutputOptions(parent=self))
            self.network_name = found.name
            self.network_id = found.id
        else:
            network = docker.Network(
                f"{name}-network",
                name=settings.name,
                driver="bridge",
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.network_name = network.name
            self.network_id = network.id
        self.register_outputs({"network_name": self.network_name, "network_id": self.network_id})
