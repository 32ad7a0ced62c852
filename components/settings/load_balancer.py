"""The ``loadBalancer`` block: HAProxy in front of several Open WebUI replicas."""

from __future__ import annotations

from pydantic import Field

from ._model import _Settings
from .images import HAPROXY_IMAGE
from .types import DockerName, ImageReference, RestartPolicy, Seconds


class LoadBalancerSettings(_Settings):
    """The HAProxy load balancer in front of several Open WebUI replicas (used when `openWebui.replicas` > 1)."""

    image: ImageReference = Field(
        HAPROXY_IMAGE,
        description="HAProxy image (the 2.6 LTS line, as Debian bookworm's haproxy that the real-process tests run).",
    )
    container_name: DockerName = Field("open-webui-lb", description="Name of the load balancer container.")
    sticky_sessions: bool = Field(
        False,
        description="Pin each browser to one replica with a cookie. Not needed: Valkey shares websocket events.",
    )
    max_connections: int = Field(
        4096,
        ge=64,
        le=100_000,
        description="HAProxy's `maxconn`: concurrent connections (a browser tab holds a websocket and a few more).",
    )
    restart: RestartPolicy = Field("unless-stopped", description="Docker restart policy.")
    wait_timeout: Seconds = Field(60, description="Seconds `pulumi up` waits for the load balancer to be healthy.")
