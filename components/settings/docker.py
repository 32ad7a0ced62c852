"""The ``docker`` block: what the Docker Engine that runs the stack supports."""

from __future__ import annotations

from pydantic import Field

from ._model import _Settings


class DockerSettings(_Settings):
    """What the Docker Engine that runs the stack supports."""

    health_start_interval: bool = Field(
        False,
        description=(
            "The engine is Docker 25 or newer (API 1.44+): while a container starts, probe its health every "
            "second (`start_interval`), so `pulumi up` goes on within about 1 s of Open WebUI answering, and "
            "probe less often after that. Off: every engine from 20.10 on (older engines refuse a start "
            "interval); Open WebUI, PostgreSQL and the load balancer are probed every 5 s, so `pulumi up` goes on "
            "at most about 6 s after they answer (the interval, and the provider's 1 s poll)."
        ),
    )
