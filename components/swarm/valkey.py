"""Swarm: Valkey as a one-task service beside its volume, its password as Docker secret files."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from .._shared import ValkeyServer
from ..core.valkey import (
    DATA_PATH,
    KEPT_CAPABILITIES,
    TLS_CA_PATH,
    TLS_CERT_PATH,
    TLS_KEY_PATH,
    VALKEY_GID,
    VALKEY_UID,
    auth_config,
)
from ..settings import LogsSettings, ValkeySettings
from ._secret_files import VALKEY_AUTH_CONFIG, VALKEY_PASSWORD_FILE, valkey_healthcheck_test, valkey_server_command
from ._swarm import (
    STOP_GRACE,
    TYPE_PREFIX,
    healthcheck,
    secret_file,
    service_image,
    swarm_secret,
    volume_service,
)


class SwarmValkey(ValkeyServer):
    """Valkey as a Swarm service with one task, placed by ``constraints`` on the node that holds its volume.

    The password reaches Valkey as a Docker secret (a configuration file on the task's tmpfs), never as an
    environment variable or an argument, so ``docker service inspect`` shows none. ``redis_url`` resolves once the
    service has converged (its task runs and is healthy), so whatever consumes it is ordered after Valkey."""

    service_name: pulumi.Output[str]
    """Name of the service (``docker service ps``; ``python -m components.verify`` finds its task)."""
    volume_name: pulumi.Output[str]
    """Name of the volume at ``/data`` on the data node (created there by Docker on first use)."""
    host: pulumi.Output[str]
    """Host name of Valkey on the overlay network (its alias)."""
    port: pulumi.Output[int]
    password: pulumi.Output[str] | None
    """The password (secret), or None with ``auth`` off."""
    ca_cert: pulumi.Output[str] | None
    """With ``settings.tls``: the generated CA's certificate (PEM), which clients verify the server with."""
    secret_names: pulumi.Output[list[str]]
    """Names of its Docker secrets."""
    redis_url: pulumi.Output[str]
    """``redis://`` URL of ``settings.database`` (secret)."""

    def __init__(
        self,
        name: str,
        settings: ValkeySettings,
        network_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        pin_image: bool = True,
        constraints: list[str] | None = None,
        endpoint_mode: str = "vip",
        password: pulumi.Input[str] | None = None,
        logs: LogsSettings | None = None,
    ) -> None:
        """``constraints``: Swarm placement constraints (the stack passes ``node.labels.<dataLabel>==true``).
        ``logs``: the tasks' log bounds (default: ``LogsSettings()``)."""
        super().__init__(f"{TYPE_PREFIX}:Valkey", name, settings, opts, password)
        image = service_image(settings.image, pin_image, self)
        secrets: list[docker.ServiceTaskSpecContainerSpecSecretArgs] = []
        created: list[docker.Secret] = []
        if self.password is not None:
            config = swarm_secret(f"{name}-auth", self.password.apply(auth_config), self)
            bare = swarm_secret(f"{name}-password", self.password, self)
            created = [config, bare]
            secrets = [secret_file(config, VALKEY_AUTH_CONFIG), secret_file(bare, VALKEY_PASSWORD_FILE)]
        certificates = self.certificates
        if certificates is not None:
            for short, path, pem in (
                ("tls-ca", TLS_CA_PATH, certificates.ca_cert),
                ("tls-cert", TLS_CERT_PATH, certificates.server_cert),
                ("tls-key", TLS_KEY_PATH, certificates.server_key),
            ):
                secret = swarm_secret(f"{name}-{short}", pulumi.Output.secret(pem), self)
                created.append(secret)
                # The key owned by the image's valkey user, which Valkey runs as once the entrypoint drops root.
                owned = {"mode": 0o400, "uid": VALKEY_UID, "gid": VALKEY_GID} if path == TLS_KEY_PATH else {}
                secrets.append(secret_file(secret, path, **owned))

        container_spec = docker.ServiceTaskSpecContainerSpecArgs(
            image=image,
            args=valkey_server_command(settings),  # the image's entrypoint drops root, then runs these
            secrets=secrets or None,
            mounts=[
                docker.ServiceTaskSpecContainerSpecMountArgs(
                    type="volume", source=settings.volume_name, target=DATA_PATH
                )
            ],
            healthcheck=healthcheck(
                valkey_healthcheck_test(settings), start_period=5, interval=1, timeout=3, retries=5
            ),
            cap_drops=["ALL"],
            cap_adds=KEPT_CAPABILITIES,
            stop_grace_period=STOP_GRACE,  # Valkey writes its final snapshot on SIGTERM
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
        self.secret_names = pulumi.Output.all(*[secret.name for secret in created])
        self.serve(
            service.id,
            {"service_name": self.service_name, "volume_name": self.volume_name, "secret_names": self.secret_names},
        )
