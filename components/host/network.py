"""The Docker network that the services share."""

from __future__ import annotations

import pulumi

from .._shared import DockerNetwork
from ..settings import NetworkSettings
from ._docker import TYPE_PREFIX


class Network(DockerNetwork):
    """A Docker bridge network, created by the stack or adopted when ``settings.external`` is true.

    An adopted network is looked up by name (the lookup fails at preview when it does not exist) and is
    never created or deleted by the stack.
    """

    network_name: pulumi.Output[str]
    """Name of the network, for a container's ``networks_advanced``."""
    network_id: pulumi.Output[str]
    """Docker's ID of the network."""

    def __init__(self, name: str, settings: NetworkSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Network", name, settings, opts, driver="bridge")
