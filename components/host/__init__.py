"""Single Docker host: the components as containers on a bridge network (type tokens ``open-webui-redis:index:*``)."""

from .load_balancer import LoadBalancer
from .network import Network
from .open_webui import OpenWebUI
from .postgres import Postgres
from .stack import OpenWebUIStack
from .valkey import Valkey

__all__ = ["LoadBalancer", "Network", "OpenWebUI", "OpenWebUIStack", "Postgres", "Valkey"]
