"""Valkey: data volume, password, container, and the Redis URL that Open WebUI consumes."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from .._shared import ValkeyServer
from ..core.valkey import (
    AUTH_CONFIG_PATH,
    DATA_PATH,
    KEPT_CAPABILITIES,
    TLS_CA_PATH,
    TLS_CERT_PATH,
    TLS_KEY_PATH,
    auth_config,
    healthcheck_test,
    server_command,
)
from ..settings import LogsSettings, ValkeySettings
from ._docker import (
    STOP_GRACE_SECONDS,
    TYPE_PREFIX,
    bounded_logs,
    data_volume,
    healthcheck,
    pulled_image,
)


class Valkey(ValkeyServer):
    """A Valkey server on a Docker network: volume, optional generated password, healthchecked container.

    ``redis_url`` is built once the container exists and is healthy (``wait``), so anything that consumes
    it is ordered after Valkey by Pulumi's dependency graph.
    """

    container_name: pulumi.Output[str]
    """Name of the Valkey container (for ``docker exec``)."""
    volume_name: pulumi.Output[str]
    """Name of the data volume mounted at ``/data``."""
    host: pulumi.Output[str]
    """Host name of Valkey on the network: its network alias, stable across container replacements."""
    port: pulumi.Output[int]
    """Port Valkey listens on inside the network."""
    password: pulumi.Output[str] | None
    """The password (secret), or None with ``auth`` off."""
    ca_cert: pulumi.Output[str] | None
    """With ``settings.tls``: the generated CA's certificate (PEM), which clients verify the server with."""
    redis_url: pulumi.Output[str]
    """``redis://`` URL of ``settings.database`` (secret: it holds the password). With ``settings.tls`` a
    ``rediss://`` URL whose ``ssl_ca_certs`` names ``/run/secrets/redis-ca.pem``: a consumer puts ``ca_cert``
    there (``OpenWebUI``'s ``redis_ca_cert`` does)."""

    def __init__(
        self,
        name: str,
        settings: ValkeySettings,
        network_name: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        password: pulumi.Input[str] | None = None,
        logs: LogsSettings | None = None,
    ) -> None:
        """``password``: the password as an Input (another resource's output, a secret), instead of
        ``settings.password``; it is wrapped with ``Output.secret``. ``logs``: the container's log bounds
        (default: ``LogsSettings()``, json-file, 10 MB x 3)."""
        super().__init__(f"{TYPE_PREFIX}:Valkey", name, settings, opts, password)
        image = pulled_image(f"{name}-image", settings.image, self)
        volume = data_volume(f"{name}-data", settings.volume_name, retain=settings.retain_volume, parent=self)

        envs: pulumi.Input[list[str]] | None = None
        uploads: list[docker.ContainerUploadArgs] = []
        if self.password is not None:
            envs = pulumi.Output.secret(self.password.apply(lambda pw: [f"REDISCLI_AUTH={pw}"]))
            uploads.append(
                docker.ContainerUploadArgs(
                    file=AUTH_CONFIG_PATH,
                    content=pulumi.Output.secret(self.password.apply(auth_config)),
                    permissions="0644",  # read by the valkey user after the entrypoint drops root
                )
            )
        certificates = self.certificates
        if certificates is not None:
            # An upload is a tar entry owned by root: the key, like the password file, is 0644 so that the valkey
            # user can read it once the entrypoint drops root (only Valkey runs in this container).
            uploads += [
                docker.ContainerUploadArgs(file=path, content=pulumi.Output.secret(pem), permissions="0644")
                for path, pem in (
                    (TLS_CA_PATH, certificates.ca_cert),
                    (TLS_CERT_PATH, certificates.server_cert),
                    (TLS_KEY_PATH, certificates.server_key),
                )
            ]

        container = docker.Container(
            f"{name}-container",
            name=settings.container_name,
            image=image.image_id,
            command=server_command(settings),
            envs=envs,
            uploads=uploads or None,
            volumes=[docker.ContainerVolumeArgs(volume_name=volume.name, container_path=DATA_PATH)],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network_name, aliases=[settings.alias])],
            # A PING is cheap: probed every second from the start, so no start interval (which needs Docker 25).
            healthcheck=healthcheck(healthcheck_test(settings), start_period=5, interval=1, timeout=3, retries=5),
            restart=settings.restart,
            capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"], adds=KEPT_CAPABILITIES),
            **bounded_logs(logs),
            wait=True,
            wait_timeout=settings.wait_timeout,
            # Stop (SIGTERM) and let Valkey write its final snapshot before removal; without a grace period
            # the provider force-removes the container (SIGKILL) on replace and destroy.
            destroy_grace_seconds=STOP_GRACE_SECONDS,
            stop_timeout=STOP_GRACE_SECONDS,
            opts=pulumi.ResourceOptions(
                parent=self,
                # pulumi-docker does not apply healthcheck edits in place; replace instead.
                replace_on_changes=["healthcheck"],
                delete_before_replace=True,  # the container name is fixed
            ),
        )

        self.container_name = container.name
        self.volume_name = volume.name
        # The alias, not the container's name, is the host: it survives replacement, so a new Valkey
        # container does not change the URL. (Consumers are still replaced with it: the URL comes from the
        # container's outputs, and the container is replaced delete-before-replace; see docs/upgrades.md.)
        self.serve(container.id, {"container_name": self.container_name, "volume_name": self.volume_name})
