"""Swarm: Open WebUI as services whose secrets are Docker secret files, read into the environment by a wrapper.

A service cannot vary the environment per task, so the replicas are two services: a one-task primary that
migrates the database, and ``<containerName>-replicas`` with the rest (``ENABLE_DB_MIGRATIONS=false``), created and
updated after the primary has converged; HAProxy (``SwarmLoadBalancer``) publishes both. One replica on SQLite is
one service publishing the port itself through the routing mesh.
"""

from __future__ import annotations

import functools
from typing import Any

import pulumi
import pulumi_docker as docker
from annotated_types import Le

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
)
from ..core.redis import TLS_FILES, connection_env, healthcheck_timeout, tls_certificates
from ..settings import (
    LoadBalancerSettings,
    LogsSettings,
    OpenWebUISettings,
    RedisSettings,
    S3Settings,
    SharedVolumeSettings,
)
from ._secret_files import (
    ENTRYPOINT_PATH,
    ENTRYPOINT_SCRIPT,
    EXTRA_ENV_PATH,
    SECRETS_DIR,
    STACK_ENV_PATH,
    START_COMMAND,
    env_file,
    split_secret_env,
)
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
    secret_file,
    service_image,
    swarm_config,
    swarm_secret,
    update_config,
)
from .load_balancer import SwarmLoadBalancer

MIB = 1024 * 1024


def _most_replicas() -> int:
    """The upper bound of ``openWebui.replicas`` (its field's ``le``), read from the model rather than copied."""
    for bound in OpenWebUISettings.model_fields["replicas"].metadata:
        if isinstance(bound, Le) and isinstance(bound.le, int):
            return bound.le
    raise AssertionError("openWebui.replicas has no upper bound")


REPLICA_SLOTS = _most_replicas()
"""Servers HAProxy keeps for the replicas' service: its most tasks (``openWebui.replicas`` 16, less the primary)
plus one more during a start-first update."""
SECRET_SHORT_NAMES = {
    "DATABASE_URL": "database-url",
    "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY": "oauth-key",
    "REDIS_URL": "redis-url",
    "S3_SECRET_ACCESS_KEY": "s3-key",
    "WEBSOCKET_REDIS_URL": "ws-redis-url",
    "WEBUI_SECRET_KEY": "secret-key",
}


PLACEHOLDER = "[in a Docker secret]"


def s3_env(settings: S3Settings) -> dict[str, str]:
    """Open WebUI's S3 storage provider settings (``STORAGE_PROVIDER=s3``), all but the secret access key (which
    goes to the task as a secret file)."""
    env = {"STORAGE_PROVIDER": "s3", "S3_BUCKET_NAME": settings.bucket}
    for name, value in (
        ("S3_REGION_NAME", settings.region),
        ("S3_ENDPOINT_URL", settings.endpoint_url),
        ("S3_KEY_PREFIX", settings.key_prefix),
        ("S3_ACCESS_KEY_ID", settings.access_key_id),
    ):
        if value is not None:
            env[name] = value
    return env


def _secret_part(
    extra: dict[str, str],
    defaults: dict[str, str],
    connection: dict[str, str],
    files: tuple[str, ...],
    values: dict[str, Any],
) -> dict[str, str]:
    return split_secret_env(env_from_inputs(extra, defaults, values, connection, files))[1]


def _pick(variable: str, env: dict[str, str]) -> str:
    return env[variable]


def public_url(host_port: int) -> str:
    """The URL on a node (the routing mesh publishes the port on every node)."""
    return f"http://localhost:{host_port}"


class SwarmOpenWebUI(pulumi.ComponentResource):
    """Open WebUI on a Swarm, its websockets managed by the Redis server at ``redis_url``.

    Every replica gets the same secret key, OAuth session key, Redis URLs and database URL, each a Docker secret
    file under ``/run/secrets`` (named after its variable) that the stack's entrypoint wrapper exports before it
    runs the image's own start command; ``docker service inspect`` shows none of them."""

    url: pulumi.Output[str]
    service_name: pulumi.Output[str]
    """The primary service (the only one with one replica on SQLite)."""
    service_names: list[pulumi.Output[str]]
    volume_name: pulumi.Output[str]
    secret_names: pulumi.Output[list[str]]
    secret_key: pulumi.Output[str]
    oauth_session_token_encryption_key: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: OpenWebUISettings,
        network_id: pulumi.Input[str],
        redis_url: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        pin_image: bool = True,
        secret_key: pulumi.Input[str] | None = None,
        database_url: pulumi.Input[str] | None = None,
        vector_store: str = "pgvector",
        load_balancer: LoadBalancerSettings | None = None,
        redis_idle_timeout: int = 0,
        constraints: list[str] | None = None,
        spread: bool = False,
        shared_volume: SharedVolumeSettings | None = None,
        storage_env: dict[str, str] | None = None,
        storage_secret: pulumi.Input[str] | None = None,
        update_monitor: int = 30,
        endpoint_mode: str = "vip",
        publish_mode: str = "ingress",
        websocket_redis_url: pulumi.Input[str] | None = None,
        redis: RedisSettings | None = None,
        redis_ca_cert: pulumi.Input[str] | None = None,
        redis_client_cert: pulumi.Input[str] | None = None,
        redis_client_key: pulumi.Input[str] | None = None,
        logs: LogsSettings | None = None,
        allow_moving_image_tags: bool = False,
    ) -> None:
        """``redis_url``: ``REDIS_URL`` (secret), and ``WEBSOCKET_REDIS_URL`` unless ``websocket_redis_url`` names
        another server; ``redis``: the key prefix, Sentinel's hosts and the TLS files (Docker secrets under
        ``/run/secrets``), as for the single-host ``OpenWebUI``; ``redis_ca_cert``: the CA of a Valkey with TLS
        (``SwarmValkey.ca_cert``) or of an external server, a secret file where its URL's ``ssl_ca_certs`` points;
        ``redis_client_cert`` and ``redis_client_key``: an external server's client certificate as Inputs.

        ``constraints``: placement constraints (the data node, for node-local uploads); ``spread``: spread the
        tasks over the nodes. ``shared_volume``: the data directory on a volume every node mounts (NFS options).
        ``storage_env`` and ``storage_secret``: Open WebUI's S3 settings and its secret access key."""
        check_arguments(
            settings,
            secret_key_given=secret_key is not None,
            has_database=database_url is not None,
            redis_idle_timeout=redis_idle_timeout,
            swarm=True,
            digest_lookup=pin_image,
            allow_moving_image_tags=allow_moving_image_tags,
        )
        certificates = tls_certificates(redis, redis_ca_cert, redis_client_cert, redis_client_key)
        super().__init__(f"{TYPE_PREFIX}:OpenWebUI", name, None, opts)
        image = service_image(settings.image, pin_image, self)
        self.secret_key, self.oauth_session_token_encryption_key = open_webui_secrets(name, settings, secret_key, self)
        # The port is on every interface of a node: the loopback origins (a browser on a node, or through an SSH
        # tunnel); other browsers need openWebui.publicUrl (SwarmStack warns without it).
        defaults = env_defaults(
            settings.model_copy(update={"bind_address": "0.0.0.0"}),  # noqa: S104
            redis_idle_timeout,
            redis.connect_timeout if redis is not None else None,
        )
        base_extra = {**(storage_env or {}), **settings.env}
        if database_url is not None:
            base_extra["VECTOR_DB"] = vector_store
        env_inputs = open_webui_env_inputs(
            redis_url, self.secret_key, self.oauth_session_token_encryption_key, database_url, websocket_redis_url
        )
        connection = connection_env(redis) if redis is not None else {}
        secret_env: pulumi.Output[dict[str, str]] = pulumi.Output.secret(
            pulumi.Output.all(**env_inputs).apply(
                functools.partial(_secret_part, base_extra, defaults, connection, tuple(certificates))
            )
        )
        # The plain part never holds a secret value (they all go to files), so it is computed without them: a
        # secret anywhere in the task spec would hide the whole spec in previews. It goes in a config, and
        # openWebui.env in a secret, both sourced by the entrypoint wrapper; the spec's env stays empty, as the
        # provider sends env in a random order and a reordered env is a new task spec (every task restarts).
        plain_env = split_secret_env(
            env_from_inputs(
                base_extra,
                defaults,
                {name: PLACEHOLDER for name in env_inputs} | {"redis_url": PLACEHOLDER},
                connection,
            )
        )[0]
        stack_env = {key: value for key, value in plain_env.items() if key not in settings.env}
        # Which secrets exist is known before any value is: the managed names, and the S3 key when given.
        names = ["OAUTH_SESSION_TOKEN_ENCRYPTION_KEY", "REDIS_URL", "WEBSOCKET_REDIS_URL", "WEBUI_SECRET_KEY"]
        if database_url is not None:
            names.append("DATABASE_URL")
        secrets: list[docker.Secret] = []
        for variable in sorted(names):
            value = secret_env.apply(functools.partial(_pick, variable))
            secrets.append(swarm_secret(f"{name}-{SECRET_SHORT_NAMES[variable]}", value, self))
        files = [
            secret_file(secret, f"{SECRETS_DIR}/{variable}")
            for secret, variable in zip(secrets, sorted(names), strict=True)
        ]
        if storage_secret is not None:
            s3_key = swarm_secret(f"{name}-s3-key", storage_secret, self)
            secrets.append(s3_key)
            files.append(secret_file(s3_key, f"{SECRETS_DIR}/S3_SECRET_ACCESS_KEY"))
        short = {path: field.replace("_", "-") for field, path in TLS_FILES.items()}
        for path, pem in sorted(certificates.items()):
            certificate = swarm_secret(f"{name}-redis-{short[path]}", pulumi.Output.secret(pem), self)
            secrets.append(certificate)
            # The key readable by root alone (Open WebUI runs as root), as the single-host upload's 0600.
            files.append(secret_file(certificate, path, mode=0o400 if path.endswith("key.pem") else 0o444))
        entrypoint = swarm_config(f"{name}-entrypoint", ENTRYPOINT_SCRIPT, self)
        probe = swarm_config(f"{name}-probe", PROBE_SCRIPT, self)
        stack_env_config = swarm_config(f"{name}-stack-env", env_file(stack_env), self)
        if settings.env:
            extra = swarm_secret(f"{name}-env", pulumi.Output.secret(env_file(dict(settings.env))), self)
            secrets.append(extra)
            files.append(secret_file(extra, EXTRA_ENV_PATH))

        volume_options = None
        if shared_volume is not None:
            volume_options = docker.ServiceTaskSpecContainerSpecMountVolumeOptionsArgs(
                driver_name=shared_volume.driver, driver_options=dict(shared_volume.options) or None
            )
        mounts = [
            docker.ServiceTaskSpecContainerSpecMountArgs(
                type="volume", source=settings.volume_name, target=DATA_PATH, volume_options=volume_options
            )
        ]
        placement = docker.ServiceTaskSpecPlacementArgs(
            constraints=constraints or None, prefs=["spread=node.id"] if spread else None
        )
        resources = (
            docker.ServiceTaskSpecResourcesArgs(
                limits=docker.ServiceTaskSpecResourcesLimitsArgs(memory_bytes=settings.memory_mb * MIB)
            )
            if settings.memory_mb
            else None
        )

        strategy = settings.upgrade
        replicas = settings.replicas

        def service(
            resource_name: str, service_name: str, count: int, migrates: bool, ports: bool, after: list[pulumi.Resource]
        ) -> docker.Service:
            env = None if migrates else {"ENABLE_DB_MIGRATIONS": "false"}  # one variable: no order to differ
            return docker.Service(
                resource_name,
                name=service_name,
                task_spec=docker.ServiceTaskSpecArgs(
                    container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                        image=image,
                        commands=["/bin/sh", ENTRYPOINT_PATH],
                        args=START_COMMAND,
                        env=env,
                        secrets=files,
                        configs=[
                            config_file(entrypoint, ENTRYPOINT_PATH, mode=0o555),
                            config_file(stack_env_config, STACK_ENV_PATH, mode=0o444),
                            config_file(probe, PROBE_PATH, mode=0o444),
                        ],
                        mounts=mounts,
                        # Swarm replaces an unhealthy task: a deaf one too.
                        healthcheck=healthcheck(
                            [
                                "CMD-SHELL",
                                healthcheck_command(settings, redis),
                            ],
                            start_period=300,
                            interval=HEALTHCHECK_INTERVAL,
                            timeout=healthcheck_timeout(redis),
                            retries=HEALTHCHECK_RETRIES,
                        ),
                        sysctl=settings.self_heal.sysctls(),
                        stop_grace_period=STOP_GRACE,
                    ),
                    networks_advanceds=[docker.ServiceTaskSpecNetworksAdvancedArgs(id=network_id)],
                    placement=placement if (constraints or spread) else None,
                    resources=resources,
                    restart_policy=restart_policy(settings.restart),
                    log_driver=json_file_logs(logs),
                ),
                mode=replicated(count),
                endpoint_spec=endpoint(
                    endpoint_mode,
                    publish=(settings.host_port, CONTAINER_PORT) if ports else None,
                    publish_mode=publish_mode,
                ),
                # A port published in host mode cannot be bound twice on one node: its service updates stop-first.
                update_config=update_config(strategy, monitor=update_monitor, single=ports and publish_mode == "host"),
                rollback_config=rollback_config(
                    strategy, monitor=update_monitor, single=ports and publish_mode == "host"
                ),
                converge_config=converge(settings.wait_timeout),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=after or None,
                    ignore_changes=SERVICE_IGNORES,
                    # recreate: a change to the primary's task (an image, a setting, a secret) replaces it, and the
                    # replicas' service with it (replace_with), deleted first: every old task stops before the
                    # new primary starts and migrates; the replicas start once it has converged (depends_on).
                    # Swarm's own stop-first holds within one service only.
                    replace_on_changes=["taskSpec"] if strategy == "recreate" and migrates and replicas > 1 else None,
                    replace_with=after if strategy == "recreate" and after else None,
                    delete_before_replace=True,  # the service's name is fixed
                ),
            )

        # On a shared database the port is always the load balancer's, even with one replica: it never moves
        # between services when the count changes (the primary could not take a port the load balancer, deleted
        # only at the end of the update, still holds).
        load_balanced = rules.load_balanced(replicas, database_url is not None)
        primary = service(f"{name}-service", settings.container_name, 1, True, not load_balanced, [])
        self.services = [primary]
        self.load_balancer: SwarmLoadBalancer | None = None
        if replicas > 1:
            rest = service(
                f"{name}-replicas",
                settings.replicas_service_name,
                replicas - 1,
                False,
                False,
                [primary],  # created and updated once the primary has migrated and converged
            )
            self.services.append(rest)
        if load_balanced:
            self.load_balancer = SwarmLoadBalancer(
                f"{name}-lb",
                load_balancer or LoadBalancerSettings(),
                network_id=network_id,
                # The same configuration for any count (a name with no tasks resolves to none): scaling leaves
                # the load balancer alone. A start-first update runs one task more for a while.
                backends=[
                    ("primary", 2, f"tasks.{settings.container_name}"),
                    ("replica", REPLICA_SLOTS, f"tasks.{settings.replicas_service_name}"),
                ],
                replica_port=CONTAINER_PORT,
                host_port=settings.host_port,
                replicas=list(self.services),
                endpoint_mode=endpoint_mode,
                publish_mode=publish_mode,
                pin_image=pin_image,
                opts=pulumi.ResourceOptions(parent=self),
                logs=logs,
            )
        self.service_name = primary.name
        self.service_names = [s.name for s in self.services]
        self.volume_name = primary.id.apply(lambda _: settings.volume_name)
        self.secret_names = pulumi.Output.all(*[secret.name for secret in secrets])
        last = self.load_balancer.service_name if self.load_balancer else primary.name
        self.url = last.apply(lambda _: public_url(settings.host_port))
        self.register_outputs(
            {
                "url": self.url,
                "service_name": self.service_name,
                "service_names": self.service_names,
                "volume_name": self.volume_name,
                "secret_names": self.secret_names,
                "secret_key": self.secret_key,
                "oauth_session_token_encryption_key": self.oauth_session_token_encryption_key,
            }
        )
