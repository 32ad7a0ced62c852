"""The load balancer container in front of the Open WebUI replicas (its configuration: core.load_balancer)."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from ..core.load_balancer import CONFIG_PATH, LISTEN_PORT, haproxy_config, nofile_limit
from ..settings import DockerSettings, LoadBalancerSettings, LogsSettings
from ._docker import STOP_GRACE_SECONDS, TYPE_PREFIX, bounded_logs, healthcheck, probe_intervals, pulled_image


class LoadBalancer(pulumi.ComponentResource):
    """An HAProxy container publishing Open WebUI's replicas on one host port."""

    container_name: pulumi.Output[str]
    """Name of the load balancer container."""
    config: str
    """The generated HAProxy configuration."""

    def __init__(
        self,
        name: str,
        settings: LoadBalancerSettings,
        *,
        network_name: pulumi.Input[str],
        replica_hosts: list[str],
        replica_port: int,
        bind_address: str,
        host_port: int,
        replicas: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
        engine: DockerSettings | None = None,
        logs: LogsSettings | None = None,
    ) -> None:
        """``engine``: what the Docker Engine supports (health start intervals). ``logs``: the container's log
        bounds (default: ``LogsSettings()``): HAProxy logs a line per request."""
        engine = engine or DockerSettings()
        super().__init__(f"{TYPE_PREFIX}:LoadBalancer", name, None, opts)
        self.config = haproxy_config(
            replica_hosts, replica_port, sticky=settings.sticky_sessions, max_connections=settings.max_connections
        )
        image = pulled_image(f"{name}-image", settings.image, self)
        container = docker.Container(
            f"{name}-container",
            name=settings.container_name,
            image=image.image_id,
            uploads=[docker.ContainerUploadArgs(file=CONFIG_PATH, content=self.config, permissions="0644")],
            ports=[docker.ContainerPortArgs(internal=LISTEN_PORT, external=host_port, ip=bind_address)],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network_name)],
            healthcheck=healthcheck(
                # busybox wget in the alpine image; healthy once a replica answers through HAProxy.
                ["CMD-SHELL", f"wget -q -O /dev/null http://127.0.0.1:{LISTEN_PORT}/health || exit 1"],
                start_period=30,
                timeout=5,
                retries=3,
                **probe_intervals(engine.health_start_interval, steady=10),
            ),
            restart=settings.restart,
            **bounded_logs(logs),
            # HAProxy needs about two descriptors per connection; don't depend on the daemon's default limit.
            ulimits=[
                docker.ContainerUlimitArgs(
                    name="nofile",
                    soft=nofile_limit(settings.max_connections),
                    hard=nofile_limit(settings.max_connections),
                )
            ],
            wait=True,
            wait_timeout=settings.wait_timeout,
            # In-flight requests finish (HAProxy's soft stop) before it is killed, on replace and on docker stop.
            destroy_grace_seconds=STOP_GRACE_SECONDS,
            stop_timeout=STOP_GRACE_SECONDS,
            opts=pulumi.ResourceOptions(
                parent=self,
                # Created once every replica is healthy; replicas are replaced without touching it.
                depends_on=replicas,
                replace_on_changes=["healthcheck"],
                delete_before_replace=True,
            ),
        )
        self.container_name = container.name
        self.register_outputs({"container_name": self.container_name})
