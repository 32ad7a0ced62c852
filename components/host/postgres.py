"""PostgreSQL: the database (and pgvector store) that several Open WebUI replicas share."""

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
    STOP_GRACE_SECONDS,
    healthcheck_test,
)
from ..settings import DatabaseSettings, DockerSettings, LogsSettings
from ._docker import (
    TYPE_PREFIX,
    bounded_logs,
    data_volume,
    healthcheck,
    probe_intervals,
    pulled_image,
)


class Postgres(pulumi.ComponentResource):
    """A PostgreSQL server with pgvector, on the stack's network: retained volume, generated password."""

    url: pulumi.Output[str]
    """``DATABASE_URL`` for Open WebUI (secret: it holds the password)."""
    container_name: pulumi.Output[str]
    """Name of the PostgreSQL container."""
    volume_name: pulumi.Output[str]
    """Name of the data volume."""

    def __init__(
        self,
        name: str,
        settings: DatabaseSettings,
        network_name: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        engine: DockerSettings | None = None,
        logs: LogsSettings | None = None,
    ) -> None:
        """``engine``: what the Docker Engine supports (health start intervals). ``logs``: the container's log
        bounds (default: ``LogsSettings()``)."""
        engine = engine or DockerSettings()
        super().__init__(f"{TYPE_PREFIX}:Postgres", name, None, opts)
        password = postgres_password(name, settings, self)
        image = pulled_image(f"{name}-image", settings.image, self)
        volume = data_volume(f"{name}-data", settings.volume_name, retain=settings.retain_volume, parent=self)
        envs = password.apply(
            lambda pw: [f"POSTGRES_DB={settings.name}", f"POSTGRES_PASSWORD={pw}", f"POSTGRES_USER={settings.user}"]
        )
        container = docker.Container(
            f"{name}-container",
            name=settings.container_name,
            image=image.image_id,
            # The image's own start, then the stack's password given to the user on every start (a kept volume).
            entrypoints=START_COMMAND,
            command=START_ARGS,
            uploads=[docker.ContainerUploadArgs(file=START_PATH, content=START_SCRIPT, permissions="0755")],
            envs=pulumi.Output.secret(envs),  # type: ignore[arg-type]  # pulumi types secret() narrowly
            volumes=[docker.ContainerVolumeArgs(volume_name=volume.name, container_path=DATA_PATH)],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network_name, aliases=[settings.alias])],
            healthcheck=healthcheck(
                healthcheck_test(settings),
                start_period=60,
                timeout=5,
                retries=5,
                **probe_intervals(engine.health_start_interval, steady=10),
            ),
            restart=settings.restart,
            **bounded_logs(logs),
            wait=True,
            wait_timeout=settings.wait_timeout,
            # A clean shutdown (checkpoint) on replace and destroy instead of a forced removal.
            destroy_grace_seconds=STOP_GRACE_SECONDS,
            stop_timeout=STOP_GRACE_SECONDS,
            opts=pulumi.ResourceOptions(parent=self, replace_on_changes=["healthcheck"], delete_before_replace=True),
        )
        self.container_name = container.name
        self.volume_name = volume.name
        self.url = postgres_url_output(container.id, password, settings)
        self.register_outputs({"url": self.url, "container_name": self.container_name, "volume_name": self.volume_name})
