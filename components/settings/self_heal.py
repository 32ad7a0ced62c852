"""The ``openWebui.selfHeal`` block: how a replica notices a silent Redis connection and a deaf listener."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from ._model import _Settings
from .formats import retransmission_budget, tcp_retries


class SelfHealSettings(_Settings):
    """How an Open WebUI replica notices a Redis connection that went silent, and when a deaf replica is
    unhealthy (the README's fault table)."""

    silent_connection_seconds: int = Field(
        10,
        ge=5,
        le=600,
        description=(
            "How long a Redis connection that stopped answering without closing (a network partition, a NAT or "
            "load balancer that dropped it, a node gone) may go unnoticed. The container's TCP keepalive (idle "
            "connections: `net.ipv4.tcp_keepalive_time`/`_intvl`/`_probes`, 3 probes) and retransmission limit "
            "(data in flight: `net.ipv4.tcp_retries2`, at least 5, 12.6 s) are set from it as `sysctls`; Open "
            "WebUI's Redis clients turn keepalive on (`WEBSOCKET_REDIS_OPTIONS`, `REDIS_SOCKET_KEEPALIVE`) and "
            "reconnect once the kernel ends the connection. These sysctls apply to the container's other TCP "
            "connections too (a browser whose network drops everything that long reconnects)."
        ),
    )
    unhealthy_after_seconds: int = Field(
        20,
        ge=10,
        le=3600,
        description=(
            "A replica whose websocket listener has not delivered the healthcheck's event for this long, while Redis "
            "answers a new connection, fails its next check and is unhealthy (at most about this plus 14 s after "
            "going deaf, the checks being about 7 s apart then; 23-29 s at the default 20): Swarm replaces its task. "
            "After Redis was unreachable the count waits for Open WebUI's own retry backoff (the outage the checks "
            "saw, plus 16 s, up to 65 s). Each check (5 s after the last) publishes an event through Redis to a "
            "socket.io client of that replica. On one host Docker does not restart an unhealthy container: `docker "
            "restart` it (README: Faults). While Redis itself is unreachable the replicas stay healthy (a new one "
            "would not reach it either), once they have delivered an event. Must exceed the silent connection's "
            "retransmission budget by 5 s, so that TCP ends a silent connection before the replica is called "
            "unhealthy."
        ),
    )

    def health_check_interval(self) -> int:
        """redis-py's ``health_check_interval`` for Open WebUI's Redis clients: half the silent time. A blocking
        pub/sub read that the kernel ends with ``ETIMEDOUT`` returns nothing in redis-py 8 on Python 3.11 (its
        ``except asyncio.TimeoutError`` takes the socket's ``TimeoutError`` for a read timeout); the listener's
        next read then sends the health check's PING on the closed connection, which raises, and the listener
        reconnects. Without it the socket.io manager's listener stays deaf (measured: Tier 2 and real Docker)."""
        return max(1, self.silent_connection_seconds // 2)

    def sysctls(self) -> dict[str, str]:
        """The container's kernel settings, as Docker stores them and the provider reads them back."""
        probes = 3
        interval = max(1, self.silent_connection_seconds // 5)
        return {
            "net.ipv4.tcp_keepalive_intvl": str(interval),
            "net.ipv4.tcp_keepalive_probes": str(probes),
            "net.ipv4.tcp_keepalive_time": str(self.silent_connection_seconds - probes * interval),
            "net.ipv4.tcp_retries2": str(tcp_retries(self.silent_connection_seconds)),
        }

    @model_validator(mode="after")
    def _unhealthy_after_tcp(self) -> SelfHealSettings:
        budget = retransmission_budget(tcp_retries(self.silent_connection_seconds))
        least = math.ceil(budget) + 5
        if self.unhealthy_after_seconds < least:
            raise ValueError(
                f"openWebui.selfHeal.unhealthyAfterSeconds is {self.unhealthy_after_seconds}; with "
                f"silentConnectionSeconds {self.silent_connection_seconds} it must be at least {least} (TCP gives up a "
                f"silent connection with data in flight after {budget:g} s; the replica gets 5 s more to reconnect)"
            )
        return self
