"""Single host: Open WebUI's data volume, stable secret key, and a container whose websockets Valkey manages."""

from __future__ import annotations

import functools

import pulumi
import pulumi_docker as docker

from .. import rules
from .._shared import open_webui_env_inputs, open_webui_secrets
from ..core.open_webui import (
    CONTAINER_PORT,
    DATA_PATH,
    HEALTHCHECK_INTERVAL,
    HEALTHCHECK_RETRIES,
    PROBE_PATH,
    PROBE_SCRIPT,
    check_arguments,
    env_defaults,
    env_from_inputs,
    healthcheck_command,
    public_url,
)
from ..core.redis import connection_env, healthcheck_timeout, tls_certificates
from ..settings import DockerSettings, LoadBalancerSettings, LogsSettings, OpenWebUISettings, RedisSettings
from ._docker import (
    STOP_GRACE_SECONDS,
    TYPE_PREFIX,
    bounded_logs,
    data_volume,
    healthcheck,
    probe_intervals,
    pulled_image,
)
from .load_balancer import LoadBalancer


def open_webui_healthcheck(
    start_interval: bool, settings: OpenWebUISettings, redis: RedisSettings | None = None
) -> docker.ContainerHealthcheckArgs:
    """Failures inside the 5-minute start period do not count, so a slow first start (migrations) is fine.

    Every 5 s (and every second while starting, with a start interval: Docker 25+) the probe checks that an event
    published to Redis comes back through this replica; one deaf for ``selfHeal.unhealthyAfterSeconds`` while
    Redis answers is unhealthy (Docker leaves it running: README, Faults)."""
    return healthcheck(
        ["CMD-SHELL", healthcheck_command(settings, redis)],
        start_period=300,
        timeout=healthcheck_timeout(redis),
        retries=HEALTHCHECK_RETRIES,
        **probe_intervals(start_interval, steady=HEALTHCHECK_INTERVAL),
    )


class OpenWebUI(pulumi.ComponentResource):
    """Open WebUI on a Docker network, its websockets managed by the Redis server at ``redis_url``.

    The container is created only once ``redis_url`` resolves, so it follows whatever produced the URL in
    Pulumi's dependency graph (the ``Valkey`` component's container, healthy).
    """

    url: pulumi.Output[str]
    """URL of Open WebUI on the Docker host."""
    container_name: pulumi.Output[str]
    """Name of the (first) Open WebUI container."""
    container_names: list[pulumi.Output[str]]
    """Names of every replica's container."""
    volume_name: pulumi.Output[str]
    """Name of the data volume mounted at ``/app/backend/data``."""
    secret_key: pulumi.Output[str]
    """``WEBUI_SECRET_KEY`` (secret)."""
    oauth_session_token_encryption_key: pulumi.Output[str]
    """``OAUTH_SESSION_TOKEN_ENCRYPTION_KEY`` (secret), the same on every replica."""

    def __init__(
        self,
        name: str,
        settings: OpenWebUISettings,
        network_name: pulumi.Input[str],
        redis_url: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        secret_key: pulumi.Input[str] | None = None,
        database_url: pulumi.Input[str] | None = None,
        vector_store: str = "pgvector",
        load_balancer: LoadBalancerSettings | None = None,
        engine: DockerSettings | None = None,
        redis_idle_timeout: int = 0,
        websocket_redis_url: pulumi.Input[str] | None = None,
        redis: RedisSettings | None = None,
        redis_ca_cert: pulumi.Input[str] | None = None,
        redis_client_cert: pulumi.Input[str] | None = None,
        redis_client_key: pulumi.Input[str] | None = None,
        logs: LogsSettings | None = None,
        allow_moving_image_tags: bool = False,
    ) -> None:
        """``redis_url``: ``REDIS_URL`` (secret), and ``WEBSOCKET_REDIS_URL`` unless ``websocket_redis_url`` names
        another server. ``redis``: how Open WebUI reaches them (``redis.url`` itself is not read: pass the URLs):
        the key prefix, Sentinel's hosts (the healthcheck PINGs through them) and the TLS files, uploaded to
        ``/run/secrets`` in each container before it starts. ``redis_ca_cert``: the CA of a Valkey with TLS
        (``Valkey.ca_cert``), or of an external server, uploaded where its URL's ``ssl_ca_certs`` points
        (``/run/secrets/redis-ca.pem``); ``redis_client_cert`` and ``redis_client_key``: a client certificate for an
        external server as Inputs (PEM), instead of ``redis.tls``'s (the URL names their files: ``tls_query``).

        ``secret_key``: ``WEBUI_SECRET_KEY`` as an Input (another resource's output, a secret), instead of
        ``settings.secret_key``; it is wrapped with ``Output.secret``.

        ``database_url``: a PostgreSQL URL (secret) shared by every replica; required with ``settings.replicas``
        above 1. With it ``vector_store`` (``pgvector``) keeps embeddings in the same database, and the replicas
        (one or more, named ``<container_name>-<n>``) sit behind the HAProxy container that ``load_balancer``
        configures, which alone publishes the port. ``engine``: what the Docker Engine supports.

        ``redis_idle_timeout``: the Redis server's ``timeout`` (0: never closes idle clients), which the default
        ``REDIS_HEALTH_CHECK_INTERVAL`` stays below; an interval set in ``settings.env`` must be below it too.

        Replicas follow ``settings.upgrade``. ``recreate``: replicas 2..N ``depends_on`` replica 1, so they are
        created once it is healthy, all at once, and name it in ``replace_with``, so that when replica 1 is
        replaced (delete-before-replace) the engine deletes them first: every old replica has stopped before the
        new replica 1 starts and migrates the database. (An input edge would not do: the engine follows one only
        where the provider answers "replace" for the unknown input, and pulumi-docker answers "no change" for
        ``envs``; measured with the real engine.) ``rolling``: each replica ``depends_on`` the one before it (an
        edge that replacement does not follow), so one is replaced at a time."""
        engine = engine or DockerSettings()
        check_arguments(
            settings,
            secret_key_given=secret_key is not None,
            has_database=database_url is not None,
            redis_idle_timeout=redis_idle_timeout,
            allow_moving_image_tags=allow_moving_image_tags,
        )
        certificates = tls_certificates(redis, redis_ca_cert, redis_client_cert, redis_client_key)
        super().__init__(f"{TYPE_PREFIX}:OpenWebUI", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.secret_key, self.oauth_session_token_encryption_key = open_webui_secrets(name, settings, secret_key, self)
        defaults = env_defaults(settings, redis_idle_timeout, redis.connect_timeout if redis is not None else None)
        connection = connection_env(redis) if redis is not None else {}
        uploads = [
            docker.ContainerUploadArgs(file=PROBE_PATH, content=PROBE_SCRIPT, permissions="0644"),
            *(
                docker.ContainerUploadArgs(
                    file=path,
                    content=pulumi.Output.secret(pem),
                    permissions="0600" if path.endswith("key.pem") else "0644",
                )
                for path, pem in sorted(certificates.items())
            ),
        ]
        image = pulled_image(f"{name}-image", settings.image, self)
        volume = data_volume(f"{name}-data", settings.volume_name, retain=settings.retain_volume, parent=self)
        database_url = pulumi.Output.from_input(database_url) if database_url is not None else None
        # On a shared database the replicas always sit behind the load balancer, even one of them: the host
        # port then never moves between containers when the count changes (a container cannot bind the port
        # while the load balancer, deleted only at the end of an update, still holds it).
        load_balanced = rules.load_balanced(settings.replicas, database_url is not None)
        replica_names = settings.replica_names(load_balanced)
        self.containers: list[docker.Container] = []
        for index, container_name in enumerate(replica_names, 1):
            extra = dict(settings.env)
            if database_url is not None:
                extra["VECTOR_DB"] = vector_store
            if index > 1:
                extra["ENABLE_DB_MIGRATIONS"] = "false"  # the first replica alone migrates the database
            env_inputs = open_webui_env_inputs(
                redis_url, self.secret_key, self.oauth_session_token_encryption_key, database_url, websocket_redis_url
            )
            envs: pulumi.Output[list[str]] = pulumi.Output.all(**env_inputs).apply(
                functools.partial(env_from_inputs, extra, defaults, connection=connection, files=tuple(certificates))
            )
            container = docker.Container(
                f"{name}-container" if index == 1 else f"{name}-container-{index}",
                name=container_name,
                image=image.image_id,
                envs=pulumi.Output.secret(envs),  # type: ignore[arg-type]  # pulumi types secret() narrowly
                ports=(
                    [
                        docker.ContainerPortArgs(
                            internal=CONTAINER_PORT, external=settings.host_port, ip=settings.bind_address
                        )
                    ]
                    if not load_balanced
                    else None
                ),
                volumes=[docker.ContainerVolumeArgs(volume_name=volume.name, container_path=DATA_PATH)],
                networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network_name)],
                healthcheck=open_webui_healthcheck(engine.health_start_interval, settings, redis),
                uploads=uploads,
                sysctls=settings.self_heal.sysctls(),
                restart=settings.restart,
                **bounded_logs(logs),
                memory=settings.memory_mb,
                # The limit is a hard cap: without memory_swap Docker adds as much swap on top (and the provider
                # reads that back, a difference on the next `pulumi up`).
                memory_swap=settings.memory_mb,
                wait=True,
                wait_timeout=settings.wait_timeout,
                # Let in-flight requests finish on replace and destroy instead of a forced removal.
                destroy_grace_seconds=STOP_GRACE_SECONDS,
                stop_timeout=STOP_GRACE_SECONDS,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    # rolling: each replica after the first waits for the one before it, created and replaced
                    # one at a time. recreate: the others wait for replica 1 and go whenever it is replaced.
                    depends_on=(self.containers[-1:] if settings.upgrade == "rolling" else self.containers[:1]) or None,
                    replace_with=[*self.containers[:1]] if settings.upgrade == "recreate" and index > 1 else None,
                    replace_on_changes=["healthcheck"],
                    delete_before_replace=True,
                ),
            )
            self.containers.append(container)

        self.container_names = [container.name for container in self.containers]
        self.container_name = self.containers[0].name
        self.volume_name = volume.name
        self.load_balancer: LoadBalancer | None = None
        if not load_balanced:
            self.url = self.containers[0].id.apply(lambda _: public_url(settings.bind_address, settings.host_port))
        else:
            self.load_balancer = LoadBalancer(
                f"{name}-lb",
                load_balancer or LoadBalancerSettings(),
                network_name=network_name,
                replica_hosts=replica_names,
                replica_port=CONTAINER_PORT,
                bind_address=settings.bind_address,
                host_port=settings.host_port,
                replicas=list(self.containers),
                opts=child,
                engine=engine,
                logs=logs,
            )
            self.url = self.load_balancer.container_name.apply(
                lambda _: public_url(settings.bind_address, settings.host_port)
            )
        self.register_outputs(
            {
                "url": self.url,
                "container_name": self.container_name,
                "container_names": self.container_names,
                "volume_name": self.volume_name,
                "secret_key": self.secret_key,
                "oauth_session_token_encryption_key": self.oauth_session_token_encryption_key,
            }
        )
