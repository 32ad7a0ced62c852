"""The components for every Pulumi language: schema-friendly arguments, hosted by ``provider/__main__.py``.

Pulumi infers the package schema from these classes (``pulumi.provider.experimental``): the inputs from the
``args`` TypedDict of each ``__init__`` (generated into ``_hosted_fields.py`` by tools/hosted_fields.py from
``_hosted_schema.py`` and the settings models), the outputs from the class's ``pulumi.Output`` annotations, and the
descriptions from the docstring that follows each of them. The analyzer reads annotations as they are written,
so this module must not use ``from __future__ import annotations``, and each class re-declares every output of
the component it extends (those modules do use it).

Each hosted class maps its ``args`` onto the pydantic settings, validates them (every problem reported at
once, as ``InvalidArgumentsError``) and builds the real component, so the resources are those of the Python
API. Differences from the Python API, all forced by the inferred schema:

- Settings are plain values (``plain`` in the schema): they are validated before anything is created, so
  they cannot come from another resource's outputs.
- Passwords, keys, URLs and certificates are ``Input`` values outside the settings objects (``valkeyPassword``,
  ``openWebuiSecretKey``, ``redisUrl``, ``websocketRedisUrl``, ``redisCaCert``, ``redisClientCert``,
  ``redisClientKey``, ``databaseUrl``; ``password``; ``secretKey``), the stacks' as the Python stacks' keyword
  Inputs (``core/inputs.py``), so that a secret config value or another resource's output can be passed. The
  schema cannot mark an input secret; the components wrap them with ``Output.secret``.
- ``database.password`` is not offered (the managed PostgreSQL generates its password), nor S3's key pair.
- Choices (restart policy, fsync policy, eviction policy, vector store) are enums.
"""

import enum
import inspect
import math
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import pulumi
from pulumi.provider.experimental.util import camel_case
from pydantic import BaseModel, ValidationError

from . import rules
from ._hosted_fields import (
    DatabaseSettings,
    DockerSettings,
    LoadBalancerSettings,
    LogsSettings,
    NetworkSettings,
    OpenWebUIArgs,
    OpenWebUISettings,
    OpenWebUIStackArgs,
    RedisSettings,
    RedisTLSSettings,
    S3Settings,
    SelfHealSettings,
    SentinelSettings,
    SharedVolumeSettings,
    SwarmSettings,
    SwarmStackArgs,
    ValkeyArgs,
    ValkeySettings,
)
from ._hosted_schema import (
    SETTINGS_SECRET_FIELDS,
    AppendFsync,
    CertReqs,
    EndpointMode,
    MaxMemoryPolicy,
    RestartPolicy,
    UpgradeStrategy,
    Uploads,
    VectorStore,
)
from ._hosted_schema import (
    STACK_INPUT_FIELDS as STACK_INPUT_FIELDS,  # where it was before issue 21  # the schema's description of a field
)
from ._hosted_schema import settings_description as settings_description
from .core.config import check_stack, describe_errors
from .core.errors import ArgumentError
from .core.inputs import STACK_INPUTS, without_stand_ins
from .host import network as _network
from .host import open_webui as _open_webui
from .host import stack as _stack
from .host import valkey as _valkey
from .host._docker import TYPE_PREFIX
from .settings import DatabaseSettings as DatabaseModel
from .settings import DockerSettings as DockerModel
from .settings import LoadBalancerSettings as LoadBalancerModel
from .settings import LogsSettings as LogsModel
from .settings import NetworkSettings as NetworkModel
from .settings import OpenWebUISettings as OpenWebUIModel
from .settings import RedisSettings as RedisModel
from .settings import StackSettings as StackModel
from .settings import SwarmSettings as SwarmModel
from .settings import ValkeySettings as ValkeyModel
from .swarm import stack as _swarm_stack

PACKAGE = TYPE_PREFIX.split(":")[0]
"""The package name: ``open-webui-redis``, the first part of every type token."""

# ---------------------------------------------------------------------------------------------------------
# Arguments -> validated settings
# ---------------------------------------------------------------------------------------------------------


class InvalidArgumentsError(ArgumentError):
    """Arguments of a hosted component that cannot be deployed; the message lists every problem (a
    ``ConfigurationError`` and a ``ValueError``, named for the component and its arguments)."""

    def __init__(self, component: str, name: str, problems: list[str]) -> None:
        super().__init__(
            problems, subject=f"Invalid arguments for {TYPE_PREFIX}:{component} {name!r}", outcome="nothing was created"
        )


def _holds_output(value: Any) -> bool:
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, Mapping):
        return any(_holds_output(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_output(item) for item in value)
    return False


def _plain_settings(
    args: Mapping[str, Any], model: type[BaseModel], path: str = ""
) -> tuple[dict[str, Any], list[str]]:
    """The arguments that are fields of ``model``, by their schema (camelCase) names, enums as their values."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, field in model.model_fields.items():
        if name not in args or name in SETTINGS_SECRET_FIELDS:
            continue
        key = field.alias or name
        value = args[name]
        if _holds_output(value):
            problems.append(
                f"{path}{key}: must be a plain value known before deployment, not another resource's output or a secret"
            )
        elif (model_of := _model_of(field.annotation)) is not None and isinstance(value, Mapping):
            values[key], nested = _plain_settings(value, model_of, f"{path}{key}.")
            problems += nested
        else:
            values[key] = _plain(value)
    return values, problems


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The settings model a field holds (``X`` or ``X | None``), or None."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _plain(value: Any) -> Any:
    """Enums as their values, and whole floats as ints: numbers arrive as floats, and the SDK's mapping (3.272)
    converts integer inputs but then keeps the float."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _idle_timeout_problems(value: Any, settings: OpenWebUIModel | None) -> list[str]:
    """``redisIdleTimeout``: a whole number of seconds, with room for ``REDIS_HEALTH_CHECK_INTERVAL`` below it."""
    if _holds_output(value):
        return ["redisIdleTimeout: must be a plain value known before deployment, not another resource's output"]
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value != int(value)
        or value < 0
    ):
        return [f"redisIdleTimeout: must be a whole number of seconds, 0 or more (got {_plain(value)!r})"]
    timeout = int(value)
    interval = settings.env.get("REDIS_HEALTH_CHECK_INTERVAL") if settings is not None else None
    problem = rules.health_check_interval_problem(
        interval, timeout, env="env.REDIS_HEALTH_CHECK_INTERVAL", timeout_key="redisIdleTimeout"
    )
    return [problem] if problem is not None else []


def _secret_problems(key: str, value: Any) -> list[str]:
    if isinstance(value, str) and not value:
        return [f"{key}: is empty; leave it out to have one generated"]
    return []


_ModelT = TypeVar("_ModelT", bound=BaseModel)


def _validated(model: type[_ModelT], values: dict[str, Any], problems: list[str]) -> _ModelT | None:
    try:
        settings = model.model_validate(values)
    except ValidationError as error:
        problems.extend(describe_errors(error, model))
        return None
    return settings


def network_settings(args: Mapping[str, Any]) -> tuple[NetworkModel | None, list[str]]:
    """``NetworkSettings`` arguments (snake_case keys, as the provider hands them over) -> the model."""
    values, problems = _plain_settings(args, NetworkModel)
    return _validated(NetworkModel, values, problems), problems


def valkey_settings(args: Mapping[str, Any]) -> tuple[ValkeyModel | None, list[str]]:
    """``ValkeySettings`` arguments -> the model (without the password, which is an Input)."""
    values, problems = _plain_settings(args, ValkeyModel)
    return _validated(ValkeyModel, values, problems), problems


def open_webui_settings(args: Mapping[str, Any]) -> tuple[OpenWebUIModel | None, list[str]]:
    """``OpenWebUISettings`` arguments -> the model (without the secret key, which is an Input)."""
    values, problems = _plain_settings(args, OpenWebUIModel)
    return _validated(OpenWebUIModel, values, problems), problems


def stack_settings(args: Mapping[str, Any], engine: str = "docker") -> tuple[StackModel | None, list[str]]:
    """``OpenWebUIStack`` (``engine`` docker) or ``SwarmStack`` (swarm) arguments -> ``StackSettings``, validated as
    stack configuration is, with the rules of the Inputs given (``core/inputs.py``)."""
    values: dict[str, Any] = {"engine": engine}
    problems: list[str] = []
    sections: dict[str, type[BaseModel]] = {
        "network": NetworkModel,
        "valkey": ValkeyModel,
        "open_webui": OpenWebUIModel,
        "database": DatabaseModel,
        "load_balancer": LoadBalancerModel,
        "docker": DockerModel,
        "logs": LogsModel,
        "redis": RedisModel,
        **({"swarm": SwarmModel} if engine == "swarm" else {}),
    }
    for name, model in sections.items():
        alias = StackModel.model_fields[name].alias or name
        section = args.get(name)
        if section is None:
            continue
        problems += _object_problems(alias, section)
        if isinstance(section, Mapping):
            values[alias], section_problems = _plain_settings(section, model, f"{alias}.")
            problems += section_problems
    allow_moving = args.get("allow_moving_image_tags")
    if allow_moving is not None:
        if _holds_output(allow_moving):
            problems.append("allowMovingImageTags: give a plain true or false, not another resource's output")
        values["allowMovingImageTags"] = _plain(allow_moving)
    inputs = _stack_inputs(args, engine)
    for name, value in inputs.items():
        if isinstance(value, str) and not value:
            problems.append(f"{_input_key(name, engine)}: is empty; give a value or leave it out")
    given = [name for name, value in inputs.items() if value is not None]
    deployed, found = check_stack(values, given)
    problems += [_hosted_names(problem, engine) for problem in found]
    return (without_stand_ins(deployed, values, given) if deployed is not None else None), problems


NETWORK_INPUT = {"docker": "network_name", "swarm": "network_id"}
"""The hosted name of the Python stacks' ``network`` Input (``network`` is the settings object there):
``networkName`` on ``OpenWebUIStack``, ``networkId`` on ``SwarmStack``."""


def _hosted_arg(name: str, engine: str) -> str:
    """The hosted argument that carries the Python stacks' Input ``name``."""
    return NETWORK_INPUT[engine] if name == "network" else name


def _input_key(name: str, engine: str) -> str:
    """The schema name of the Python stacks' Input ``name`` (``redis_url`` -> ``redisUrl``)."""
    return camel_case(_hosted_arg(name, engine))


_HOSTED_SETTINGS = {
    "redis.tls.caCert[File]": "redisCaCert",
    "redis.tls.clientCert[File]": "redisClientCert",
    "redis.tls.clientKey[File]": "redisClientKey",
    "redis.websocketUrl": "websocketRedisUrl",
    "redis.url": "redisUrl",
    "database.url": "databaseUrl",
}
"""Settings the hosted stacks offer as inputs instead (their PEM texts and URLs): a problem names the input."""
_SAID_TWICE = {
    "redisUrl is not set or redisUrl": "redisUrl is not given",
    "neither redisUrl nor redisUrl is given": "redisUrl is not given",
    "without redisUrl or redisUrl": "without redisUrl",
    "give redisClientCert or redisClientCert together with redisClientKey or redisClientKey": (
        "give redisClientCert together with redisClientKey"
    ),
}


def _hosted_names(problem: str, engine: str) -> str:
    """A problem as the hosted package's user reads it: each Input, and each setting offered as an input, by its
    schema name (a rule that names the setting and the Input says it once)."""
    for name in STACK_INPUTS:
        problem = problem.replace(f"the {name} Input", _input_key(name, engine))
    for setting, key in _HOSTED_SETTINGS.items():
        problem = problem.replace(setting, key)
    for twice, once in _SAID_TWICE.items():
        problem = problem.replace(twice, once)
    return problem


def _stack_inputs(args: Mapping[str, Any], engine: str) -> dict[str, Any]:
    """The Python stack's Input arguments (``STACK_INPUTS``) from the hosted arguments."""
    return {name: args.get(_hosted_arg(name, engine)) for name in STACK_INPUTS}


def _object_problems(key: str, section: Any) -> list[str]:
    """A settings object must arrive as plain values.

    Pulumi's component provider (3.272) hands a component ``{}`` for an object input that arrived as an
    Output (marked secret, or holding another resource's output), dropping what it held: an empty object
    is refused so that defaults are never deployed in place of what the program set.
    """
    if isinstance(section, Mapping) and section:
        return []
    return [
        f"{key}: arrived empty or as an output; give plain values (not secrets, not other resources' outputs), "
        "or leave it out for the defaults"
    ]


def _require(args: Mapping[str, Any], *names: str) -> list[str]:
    return [f"{camel_case(name)}: is required" for name in names if args.get(name) is None]


# ---------------------------------------------------------------------------------------------------------
# Hosted components: same type tokens and resources as the Python components they extend
# ---------------------------------------------------------------------------------------------------------


class Network(_network.Network):
    """A Docker bridge network, created by the stack or adopted when `external` is true (looked up by name, never created or deleted)."""  # noqa: E501

    network_name: pulumi.Output[str]
    """Name of the network, for the `networkName` input of `Valkey` and `OpenWebUI`."""
    network_id: pulumi.Output[str]
    """Docker's ID of the network."""

    def __init__(self, name: str, args: NetworkSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        settings, problems = network_settings(args)
        if problems or settings is None:
            raise InvalidArgumentsError("Network", name, problems)
        super().__init__(name, settings, opts)


class Valkey(_valkey.Valkey):
    """A Valkey server on a Docker network: data volume, password (generated unless given), healthchecked container. Consumers wait for it through `redisUrl`."""  # noqa: E501

    container_name: pulumi.Output[str]
    """Name of the Valkey container (for `docker exec`)."""
    volume_name: pulumi.Output[str]
    """Name of the data volume mounted at `/data`."""
    host: pulumi.Output[str]
    """Host name of Valkey on the network: its network alias, stable across container replacements."""
    port: pulumi.Output[int]
    """Port Valkey listens on inside the network."""
    password: pulumi.Output[str] | None
    """The password (secret); absent when `auth` is false."""
    ca_cert: pulumi.Output[str] | None
    """The CA certificate (PEM) generated for the server's certificate, for the `redisCaCert` input of `OpenWebUI` and other clients; absent unless `tls` is true."""  # noqa: E501
    redis_url: pulumi.Output[str]
    """`redis://` URL of `database`, password included (secret); with `tls`, `rediss://` with the query that makes redis-py verify the server against `/run/secrets/redis-ca.pem`."""  # noqa: E501

    def __init__(self, name: str, args: ValkeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings, problems = valkey_settings(args)
        problems = _require(args, "network_name") + problems
        password = args.get("password")
        problems += _secret_problems("password", password)
        if settings is not None and (
            problem := rules.password_without_auth(password is not None, settings.auth, key="password", auth_key="auth")
        ):
            problems.append(problem)
        if problems or settings is None:
            raise InvalidArgumentsError("Valkey", name, problems)
        super().__init__(name, settings, args["network_name"], opts, password=password)


class OpenWebUI(_open_webui.OpenWebUI):
    """Open WebUI on a Docker network, its websockets managed by the Redis server at `redisUrl`: one container, or several replicas behind a load balancer. Created once `redisUrl` resolves."""  # noqa: E501

    url: pulumi.Output[str]
    """URL of Open WebUI on the Docker host."""
    container_name: pulumi.Output[str]
    """Name of the (first) Open WebUI container."""
    container_names: list[pulumi.Output[str]]
    """Names of every replica's container."""
    volume_name: pulumi.Output[str]
    """Name of the data volume mounted at `/app/backend/data`."""
    secret_key: pulumi.Output[str]
    """`WEBUI_SECRET_KEY` (secret)."""
    oauth_session_token_encryption_key: pulumi.Output[str]
    """`OAUTH_SESSION_TOKEN_ENCRYPTION_KEY` (secret), the same on every replica."""

    def __init__(self, name: str, args: OpenWebUIArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings, problems = open_webui_settings(args)
        problems = _require(args, "network_name", "redis_url") + problems
        problems += _secret_problems("secretKey", args.get("secret_key"))
        load_balancer: LoadBalancerModel | None = None
        if "load_balancer" in args:
            problems += _object_problems("loadBalancer", args["load_balancer"])
            values, lb_problems = _plain_settings(args["load_balancer"] or {}, LoadBalancerModel, "loadBalancer.")
            problems += lb_problems
            load_balancer = _validated(LoadBalancerModel, values, problems)
        vector_store = VectorStore(args.get("vector_store", VectorStore.PGVECTOR))
        replicas = settings.replicas if settings is not None else 1
        if problem := rules.replicas_need_database(
            replicas, args.get("database_url") is not None, database="databaseUrl"
        ):
            problems.append(problem)
        if problem := rules.chroma_with_replicas(
            replicas, vector_store.value, key="vectorStore", replicas_key="replicas"
        ):
            problems.append(problem)
        idle_timeout = args.get("redis_idle_timeout", 0)
        problems += _idle_timeout_problems(idle_timeout, settings)
        if problems or settings is None:
            raise InvalidArgumentsError("OpenWebUI", name, problems)
        database_url = args.get("database_url")
        super().__init__(
            name,
            settings,
            args["network_name"],
            args["redis_url"],
            opts,
            secret_key=args.get("secret_key"),
            database_url=pulumi.Output.secret(database_url) if database_url is not None else None,
            vector_store=vector_store.value,
            load_balancer=load_balancer,
            redis_idle_timeout=int(idle_timeout),
            redis_ca_cert=args.get("redis_ca_cert"),
        )


class OpenWebUIStack(_stack.OpenWebUIStack):
    """Open WebUI with Valkey-managed websockets on one Docker network: a `Network`, a `Valkey` and an `OpenWebUI` (with replicas, a PostgreSQL and a load balancer), wired by their outputs."""  # noqa: E501

    url: pulumi.Output[str]
    """URL of Open WebUI on the Docker host."""
    redis_url: pulumi.Output[str]
    """`REDIS_URL` given to Open WebUI (holds the password)."""
    websocket_redis_url: pulumi.Output[str]
    """`WEBSOCKET_REDIS_URL` given to Open WebUI (holds the password)."""
    network_name: pulumi.Output[str]
    """Docker network of both containers."""
    valkey_container_name: pulumi.Output[str] | None
    """Valkey container, for `docker exec` (and `python -m components.verify`); not with `redis.url`."""
    valkey_volume_name: pulumi.Output[str] | None
    """Valkey's data volume (back it up); not with `redis.url`."""
    valkey_ca_cert: pulumi.Output[str] | None
    """The CA certificate (PEM) Valkey's server certificate verifies against, for other clients (only with `valkey.tls`)."""  # noqa: E501
    redis_key_prefix: pulumi.Output[str]
    """`REDIS_KEY_PREFIX` of Open WebUI's keys (`python -m components.verify` reads it)."""
    redis_sentinel_hosts: pulumi.Output[list[str]] | None
    """The sentinels Open WebUI asks for the primary (only with `redis.sentinel`)."""
    redis_sentinel_port: pulumi.Output[int] | None
    """Their port (only with `redis.sentinel`)."""
    open_webui_container_name: pulumi.Output[str]
    """Open WebUI container."""
    open_webui_volume_name: pulumi.Output[str]
    """Open WebUI's data volume (back it up)."""
    open_webui_container_names: pulumi.Output[list[str]]
    """Every Open WebUI replica's container."""
    database_url: pulumi.Output[str] | None
    """`DATABASE_URL` of the replicas' shared PostgreSQL (only with a database)."""
    postgres_container_name: pulumi.Output[str] | None
    """PostgreSQL container (only with the stack's own PostgreSQL)."""
    postgres_volume_name: pulumi.Output[str] | None
    """PostgreSQL's data volume (only with the stack's own PostgreSQL; back it up)."""
    load_balancer_container_name: pulumi.Output[str] | None
    """HAProxy container (only with Open WebUI on PostgreSQL)."""

    def _name_problem(self, problem: str) -> str:
        return _hosted_names(problem, "docker")

    def __init__(self, name: str, args: OpenWebUIStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings, password, secret_key = _stack_arguments("OpenWebUIStack", name, args, "docker")
        super().__init__(
            name,
            settings,
            opts,
            valkey_password=password,
            open_webui_secret_key=secret_key,
            **_stack_inputs(args, "docker"),
        )
        _expose_outputs(self)


def _expose_outputs(stack: _stack.OpenWebUIStack | _swarm_stack.SwarmStack) -> None:
    """Each output a hosted stack declares, from the stack's outputs by the same name (the program's stack outputs);
    None where the settings make none (the schema marks those optional)."""
    outputs = stack.outputs()
    for attribute in inspect.get_annotations(type(stack)):
        setattr(stack, attribute, outputs.get(camel_case(attribute)))


def _stack_arguments(component: str, name: str, args: Mapping[str, Any], engine: str) -> tuple[StackModel, Any, Any]:
    """The validated settings and the two secrets of a hosted stack (``InvalidArgumentsError`` otherwise)."""
    settings, problems = stack_settings(args, engine)
    password = args.get("valkey_password")
    secret_key = args.get("open_webui_secret_key")
    problems += _secret_problems("valkeyPassword", password) + _secret_problems("openWebuiSecretKey", secret_key)
    if settings is not None and (
        problem := rules.password_without_auth(password is not None, settings.valkey.auth, key="valkeyPassword")
    ):
        problems.append(problem)
    if settings is not None and (
        problem := rules.password_with_external_server(
            password is not None,
            settings.managed_valkey and args.get("redis_url") is None,
            key="valkeyPassword",
            server="redis.url or redisUrl",
        )
    ):
        problems.append(problem)
    if problems or settings is None:
        raise InvalidArgumentsError(component, name, problems)
    return settings, password, secret_key


class SwarmStack(_swarm_stack.SwarmStack):
    """Open WebUI with Valkey-managed websockets as services on a Docker Swarm: an overlay network, Valkey, Open WebUI (with replicas, PostgreSQL and a load balancer), wired by their outputs. Run from a manager node."""  # noqa: E501

    TYPE = f"{PACKAGE}:index:SwarmStack"  # the schema's token: every hosted component is in module `index`

    url: pulumi.Output[str]
    """URL of Open WebUI on a node (the routing mesh publishes the port on every node)."""
    redis_url: pulumi.Output[str]
    """`REDIS_URL` given to Open WebUI (holds the password)."""
    websocket_redis_url: pulumi.Output[str]
    """`WEBSOCKET_REDIS_URL` given to Open WebUI (holds the password)."""
    network_name: pulumi.Output[str]
    """The overlay network of every service (its ID when the program gave the network)."""
    valkey_service_name: pulumi.Output[str] | None
    """Valkey service (`python -m components.verify` finds its task); not with `redis.url`."""
    valkey_volume_name: pulumi.Output[str] | None
    """Valkey's volume on the data node (back it up); not with `redis.url`."""
    valkey_ca_cert: pulumi.Output[str] | None
    """The CA certificate (PEM) Valkey's server certificate verifies against, for other clients (only with `valkey.tls`)."""  # noqa: E501
    redis_key_prefix: pulumi.Output[str]
    """`REDIS_KEY_PREFIX` of Open WebUI's keys (`python -m components.verify` reads it)."""
    redis_sentinel_hosts: pulumi.Output[list[str]] | None
    """The sentinels Open WebUI asks for the primary (only with `redis.sentinel`)."""
    redis_sentinel_port: pulumi.Output[int] | None
    """Their port (only with `redis.sentinel`)."""
    open_webui_service_name: pulumi.Output[str]
    """The Open WebUI service that migrates the database (the only one on SQLite)."""
    open_webui_service_names: pulumi.Output[list[str]]
    """Every Open WebUI service."""
    open_webui_volume_name: pulumi.Output[str]
    """Open WebUI's data volume."""
    secret_names: pulumi.Output[list[str]]
    """Every Docker secret of the stack (auto-named: a new value is a new secret with a new name)."""
    database_url: pulumi.Output[str] | None
    """`DATABASE_URL` of the shared PostgreSQL (only with a database)."""
    postgres_service_name: pulumi.Output[str] | None
    """PostgreSQL service (only with the managed database)."""
    postgres_volume_name: pulumi.Output[str] | None
    """PostgreSQL's volume on the data node (only with the managed database)."""
    load_balancer_service_name: pulumi.Output[str] | None
    """HAProxy service publishing the port (only with Open WebUI on PostgreSQL)."""

    def _name_problem(self, problem: str) -> str:
        return _hosted_names(problem, "swarm")

    def __init__(self, name: str, args: SwarmStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings, password, secret_key = _stack_arguments("SwarmStack", name, args, "swarm")
        super().__init__(
            name,
            settings,
            opts,
            valkey_password=password,
            open_webui_secret_key=secret_key,
            **_stack_inputs(args, "swarm"),
        )
        _expose_outputs(self)


COMPONENTS: tuple[type[pulumi.ComponentResource], ...] = (Network, Valkey, OpenWebUI, OpenWebUIStack, SwarmStack)
"""What the plugin hosts, in schema order."""

__all__ = [
    "COMPONENTS",
    "PACKAGE",
    "AppendFsync",
    "CertReqs",
    "DatabaseSettings",
    "DockerSettings",
    "EndpointMode",
    "InvalidArgumentsError",
    "LoadBalancerSettings",
    "LogsSettings",
    "MaxMemoryPolicy",
    "Network",
    "NetworkSettings",
    "OpenWebUI",
    "OpenWebUIArgs",
    "OpenWebUISettings",
    "OpenWebUIStack",
    "OpenWebUIStackArgs",
    "RedisSettings",
    "RedisTLSSettings",
    "RestartPolicy",
    "S3Settings",
    "SelfHealSettings",
    "SentinelSettings",
    "SharedVolumeSettings",
    "SwarmSettings",
    "SwarmStack",
    "SwarmStackArgs",
    "UpgradeStrategy",
    "Uploads",
    "Valkey",
    "ValkeyArgs",
    "ValkeySettings",
    "VectorStore",
]
