"""Swarm: HAProxy as a service in front of the Open WebUI services, publishing the port through the routing mesh.

Why a load balancer service: the replicas are two services (a primary that migrates the database and the rest,
which must not), and a port of the routing mesh belongs to one service. HAProxy finds every task of both by
Docker's DNS (``tasks.<service>``), re-resolved as tasks come and go, and checks each one's ``/health``.
"""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from ..core.load_balancer import CONFIG_PATH, LISTEN_PORT, haproxy_config
from ..settings import LoadBalancerSettings, LogsSettings
from ._swarm import (
    SERVICE_IGNORES,
    STOP_GRACE,
    TYPE_PREFIX,
    config_file,
    converge,
    endpoint,
    healthcheck,
    json_file_logs,
    replicated,
    restart_policy,
    rollback_config,
    service_image,
    swarm_config,
    update_config,
)


class SwarmLoadBalancer(pulumi.ComponentResource):
    """An HAProxy service publishing Open WebUI's tasks on ``host_port`` of every node."""

    service_name: pulumi.Output[str]
    config_name: pulumi.Output[str]
    """The Docker config holding the HAProxy configuration (a new one, named by its content, when it changes)."""
    config: str
    """The generated HAProxy configuration."""

    def __init__(
        self,
        name: str,
        settings: LoadBalancerSettings,
        *,
        network_id: pulumi.Input[str],
        backends: list[tuple[str, int, str]],
        replica_port: int,
        host_port: int,
        replicas: list[pulumi.Resource],
        pin_image: bool = True,
        endpoint_mode: str = "vip",
        publish_mode: str = "ingress",
        opts: pulumi.ResourceOptions | None = None,
        logs: LogsSettings | None = None,
    ) -> None:
        """``backends``: ``(prefix, slots, tasks.<service>)`` per Open WebUI service. ``logs``: the task's log
        bounds (default: ``LogsSettings()``): HAProxy logs a line per request."""
        super().__init__(f"{TYPE_PREFIX}:LoadBalancer", name, None, opts)
        image = service_image(settings.image, pin_image, self)
        self.config = haproxy_config(
            [],
            replica_port,
            sticky=False,
            max_connections=settings.max_connections,
            server_templates=backends,
        )
        config = swarm_config(f"{name}-config", self.config, self)
        service = docker.Service(
            f"{name}-service",
            name=settings.container_name,
            task_spec=docker.ServiceTaskSpecArgs(
                container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                    image=image,
                    configs=[config_file(config, CONFIG_PATH, mode=0o444)],
                    healthcheck=healthcheck(
                        ["CMD-SHELL", f"wget -q -O /dev/null http://127.0.0.1:{LISTEN_PORT}/health || exit 1"],
                        start_period=30,
                        interval=5,
                        timeout=5,
                        retries=3,
                    ),
                    stop_grace_period=STOP_GRACE,
                ),
                networks_advanceds=[docker.ServiceTaskSpecNetworksAdvancedArgs(id=network_id)],
                restart_policy=restart_policy(settings.restart),
                log_driver=json_file_logs(logs),
            ),
            mode=replicated(1),
            endpoint_spec=endpoint(endpoint_mode, publish=(host_port, LISTEN_PORT), publish_mode=publish_mode),
            # A new configuration starts a new HAProxy before the old one stops, so the port keeps answering; a
            # port published in host mode cannot be bound twice on a node: stop-first then.
            update_config=update_config("rolling", monitor=5, single=publish_mode == "host"),
            rollback_config=rollback_config("rolling", monitor=5, single=publish_mode == "host"),
            converge_config=converge(settings.wait_timeout),
            opts=pulumi.ResourceOptions(parent=self, depends_on=replicas, ignore_changes=SERVICE_IGNORES),
        )
        self.service_name = service.name
        self.config_name = config.name
        self.register_outputs({"service_name": self.service_name, "config_name": self.config_name})
