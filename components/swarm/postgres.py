"""Swarm: PostgreSQL as a one-task service pinned to the node that holds its volume."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from .._shared import postgres_password, postgres_url_output
from ..core.postgres import (
    DATA_PATH,
    START_ARGS,
    START_COMMAND,
    START_PATH,
    START_SCRIPT,
)
from ..settings import DatabaseSettings, LogsSettings
from ._secret_files import POSTGRES_PASSWORD_FILE, postgres_healthcheck_test
from ._swarm import (
    TYPE_PREFIX,
    config_file,
    healthcheck,
    secret_file,
    service_image,
    swarm_config,
    swarm_secret,
    volume_service,
)

STOP_GRACE = "1m"
"""A clean shutdown (checkpoint) before the task is killed."""


class SwarmPostgres(pulumi.ComponentResource):
    """PostgreSQL with pgvector as a Swarm service; its password a Docker secret (``POSTGRES_PASSWORD_FILE``)."""

    url: pulumi.Output[str]
    """``DATABASE_URL`` for Open WebUI (secret)."""
    service_name: pulumi.Output[str]
    volume_name: pulumi.Output[str]
    secret_names: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        settings: DatabaseSettings,
        network_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        pin_image: bool = True,
        constraints: list[str] | None = None,
        endpoint_mode: str = "vip",
        logs: LogsSettings | None = None,
    ) -> None:
        """``logs``: the task's log bounds (default: ``LogsSettings()``)."""
        super().__init__(f"{TYPE_PREFIX}:Postgres", name, None, opts)
        image = service_image(settings.image, pin_image, self)
        password = postgres_password(name, settings, self)
        secret = swarm_secret(f"{name}-password-file", password, self)
        start = swarm_config(f"{name}-start", START_SCRIPT, self)
        container_spec = docker.ServiceTaskSpecContainerSpecArgs(
            image=image,
            # The image's own start, then the stack's password given to the user on every start.
            commands=START_COMMAND,
            args=START_ARGS,
            configs=[config_file(start, START_PATH, mode=0o555)],
            env={
                "POSTGRES_DB": settings.name,
                "POSTGRES_PASSWORD_FILE": POSTGRES_PASSWORD_FILE,
                "POSTGRES_USER": settings.user,
            },
            secrets=[secret_file(secret, POSTGRES_PASSWORD_FILE)],
            mounts=[
                docker.ServiceTaskSpecContainerSpecMountArgs(
                    type="volume", source=settings.volume_name, target=DATA_PATH
                )
            ],
            healthcheck=healthcheck(
                postgres_healthcheck_test(settings), start_period=60, interval=5, timeout=5, retries=5
            ),
            stop_grace_period=STOP_GRACE,
        )
        service = volume_service(
            name,
            self,
            container_spec,
            service_name=settings.container_name,
            network_id=network_id,
            alias=settings.alias,
            constraints=constraints,
            restart=settings.restart,
            logs=logs,
            endpoint_mode=endpoint_mode,
            wait_timeout=settings.wait_timeout,
        )
        self.service_name = service.name
        self.volume_name = service.id.apply(lambda _: settings.volume_name)
        self.secret_names = pulumi.Output.all(secret.name)
        self.url = postgres_url_output(service.id, password, settings)
        self.register_outputs(
            {
                "url": self.url,
                "service_name": self.service_name,
                "volume_name": self.volume_name,
                "secret_names": self.secret_names,
            }
        )
