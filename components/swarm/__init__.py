"""Docker Swarm: the components as services on an overlay network (type tokens ``open-webui-redis:swarm:*``)."""

from .load_balancer import SwarmLoadBalancer
from .network import OverlayNetwork
from .open_webui import SwarmOpenWebUI
from .postgres import SwarmPostgres
from .stack import SwarmStack
from .valkey import SwarmValkey

__all__ = ["OverlayNetwork", "SwarmLoadBalancer", "SwarmOpenWebUI", "SwarmPostgres", "SwarmStack", "SwarmValkey"]
