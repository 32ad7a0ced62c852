"""Open WebUI: data volume, stable secret key, and a container whose websockets Valkey manages."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from ._network import TYPE_PREFIX
from ._settings import OpenWebUISettings

CONTAINER_PORT = 8080
DATA_PATH = "/app/backend/data"
# Healthy within about a second of Open WebUI answering: checks every second during the start period,
# every 30 s after it. Failures inside the start period do not count, so a slow first start is fine.
HEALTHCHECK = docker.ContainerHealthcheckArgs(
    tests=["CMD-SHELL", "curl --silent --fail --max-time 3 http://localhost:${PORT:-8080}/health || exit 1"],
    start_period="5m",
    start_interval="1s",
    interval="30s",
    timeout="5s",
    retries=3,
)


def websocket_env(redis_url: str, secret_key: str, extra: dict[str, str] | None = None) -> list[str]:
    """Open WebUI's environment (``NAME=value`` entries, sorted): Valkey for websockets and app state."""
    env = dict(extra or {})
    env.update(
        {
            "ENABLE_WEBSOCKET_SUPPORT": "true",
            "WEBSOCKET_MANAGER": "redis",
            "WEBSOCKET_REDIS_URL": redis_url,
            # Without REDIS_URL there is no token revocation on logout and no config sync between replicas.
            "REDIS_URL": redis_url,
            "WEBUI_SECRET_KEY": secret_key,
        }
    )
    return [f"{name}={value}" for name, value in sorted(env.items())]


def public_url(bind_address: str, port: int) -> str:
    """The URL a browser on the Docker host opens."""
    address = ipaddress.ip_address(bind_address)
    if address.is_unspecified:
        host = "localhost"
    elif address.version == 6:
        host = f"[{address}]"
    else:
        host = str(address)
    return f"http://{host}:{port}"


class OpenWebUI(pulumi.ComponentResource):
    """Open WebUI on a Docker network, its websockets managed by the Redis server at ``redis_url``.

    The container is created only once ``redis_url`` resolves, so it follows whatever produced the URL in
    Pulumi's dependency graph (the ``Valkey`` component's container, healthy).
    """

    url: pulumi.Output[str]
    """URL of Open WebUI on the Docker host."""
    container_name: pulumi.Output[str]
    """Name of the Open WebUI container."""
    volume_name: pulumi.Output[str]
    """Name of the data volume mounted at ``/app/backend/data``."""
    secret_key: pulumi.Output[str]
    """``WEBUI_SECRET_KEY`` (secret)."""

    def __init__(
        self,
        name: str,
        settings: OpenWebUISettings,
        network_name: pulumi.Input[str],
        redis_url: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:OpenWebUI", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        if settings.secret_key is not None:
            self.secret_key = pulumi.Output.secret(settings.secret_key.get_secret_value())
        else:
            generated = random.RandomPassword(f"{name}-secret-key", length=48, special=False, opts=child)
            self.secret_key = pulumi.Output.secret(generated.result)

        image = docker.RemoteImage(f"{name}-image", name=settings.image, keep_locally=True, opts=child)
        volume = docker.Volume(
            f"{name}-data",
            name=settings.volume_name,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=settings.retain_volume),
        )
        envs: pulumi.Output[list[str]] = pulumi.Output.all(redis_url, self.secret_key).apply(
            lambda args: websocket_env(args[0], args[1], settings.env)
        )
        container = docker.Container(
            f"{name}-container",
            name=settings.container_name,
            image=image.image_id,
            envs=pulumi.Output.secret(envs),  # type: ignore[arg-type]  # pulumi types secret() narrowly
            ports=[
                docker.ContainerPortArgs(internal=CONTAINER_PORT, external=settings.host_port, ip=settings.bind_address)
            ],
            volumes=[docker.ContainerVolumeArgs(volume_name=volume.name, container_path=DATA_PATH)],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network_name)],
            healthcheck=HEALTHCHECK,
            restart=settings.restart,
            wait=True,
            wait_timeout=settings.wait_timeout,
            opts=pulumi.ResourceOptions(parent=self, replace_on_changes=["healthcheck"], delete_before_replace=True),
        )

        self.container_name = container.name
        self.volume_name = volume.name
        self.url = container.id.apply(lambda _: public_url(settings.bind_address, settings.host_port))
        self.register_outputs(
            {
                "url": self.url,
                "container_name": self.container_name,
                "volume_name": self.volume_name,
                "secret_key": self.secret_key,
            }
        )
