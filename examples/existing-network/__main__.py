"""Open WebUI and Valkey on a network that already exists, on a Docker host reached through an explicit provider.

The network is adopted (``NetworkSettings(external=True)``): looked up by name, never created or deleted. The
provider is given to the stack once, in its resource options; every docker resource and the network lookup
under the stack use it.
"""

import sys
from pathlib import Path

# Use the components of this checkout (two levels up): they are not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pulumi
import pulumi_docker as docker

from components import NetworkSettings, OpenWebUIStack, StackSettings

config = pulumi.Config()
docker_host = config.get("dockerHost") or "ssh://deploy@docker-host"
network_name = config.get("networkName") or "proxy"

remote_docker = docker.Provider("remote-docker", host=docker_host)

stack = OpenWebUIStack(
    "open-webui",
    StackSettings(network=NetworkSettings(external=True, name=network_name)),
    opts=pulumi.ResourceOptions(providers=[remote_docker]),
)
for output_name, value in stack.outputs().items():
    pulumi.export(output_name, value)
