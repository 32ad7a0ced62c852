"""The multi-language package: the schema Pulumi infers from ``components/hosted.py``, and what it builds.

The schema comes from the SDK's own analyzer (``pulumi.provider.experimental``), called as the plugin calls
it at start. The hosted components are run through the SDK's ``ComponentProvider.construct`` under mocks,
the path a Construct request from a program in another language takes.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import grpc
import pytest
from pulumi.provider.experimental.util import camel_case
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from pydantic import BaseModel

import components
from components import hosted
from components.core.settings import DatabaseSettings as DatabaseModel
from components.core.settings import DockerSettings as DockerModel
from components.core.settings import LoadBalancerSettings as LoadBalancerModel
from components.core.settings import LogsSettings as LogsModel
from components.core.settings import NetworkSettings as NetworkModel
from components.core.settings import OpenWebUISettings as OpenWebUIModel
from components.core.settings import RedisSettings as RedisModel
from components.core.settings import RedisTLSSettings as RedisTLSModel
from components.core.settings import S3Settings as S3Model
from components.core.settings import SelfHealSettings as SelfHealModel
from components.core.settings import SentinelSettings as SentinelModel
from components.core.settings import SharedVolumeSettings as SharedVolumeModel
from components.core.settings import StackSettings as StackModel
from components.core.settings import SwarmSettings as SwarmModel
from components.core.settings import ValkeySettings as ValkeyModel
from components.host import network as _network
from components.host import open_webui as _open_webui
from components.host import stack as _stack
from components.host import valkey as _valkey
from components.swarm import stack as _swarm_stack
from components.testing import Deployment, render
from tests.harness.package_schema import TOKEN, differences, inferred_schema, kind, served_schema
from tests.harness.paths import ROOT, TESTS
from tests.harness.pem import CA_PEM, CERT_PEM, KEY_PEM
from tests.harness.refused_inputs import refuse

CONSTRUCT = TESTS / "programs" / "construct.py"
SWARM_TOKEN = "open-webui-redis:swarm:SwarmStack"


def described(model: type[BaseModel], alias: str) -> str:
    """A settings field's schema description (``hosted.settings_description``), by its camelCase name."""
    (name,) = [name for name, field in model.model_fields.items() if (field.alias or name) == alias]
    return hosted.settings_description(model, name)


@dataclass(frozen=True)
class In:
    """An input property as the schema states it."""

    kind: str
    required: bool
    plain: bool
    description: str


@dataclass(frozen=True)
class Out:
    """An output property as the schema states it."""

    kind: str
    required: bool
    description: str


# ---------------------------------------------------------------------------------------------------------
# The expected schema
# ---------------------------------------------------------------------------------------------------------

NETWORK = {"name": "string", "external": "boolean"}
VALKEY = {
    "image": "string",
    "containerName": "string",
    "volumeName": "string",
    "alias": "string",
    "port": "integer",
    "database": "integer",
    "auth": "boolean",
    "save": "string",
    "appendOnly": "boolean",
    "appendFsync": "ref:AppendFsync",
    "maxClients": "integer",
    "timeout": "integer",
    "maxMemory": "string",
    "maxMemoryPolicy": "ref:MaxMemoryPolicy",
    "restart": "ref:RestartPolicy",
    "waitTimeout": "integer",
    "retainVolume": "boolean",
    "tls": "boolean",
    "tlsValidityDays": "integer",
    "tlsRenewalDays": "integer",
}
OPEN_WEBUI = {
    "image": "string",
    "containerName": "string",
    "volumeName": "string",
    "hostPort": "integer",
    "bindAddress": "string",
    "env": "map<string>",
    "restart": "ref:RestartPolicy",
    "waitTimeout": "integer",
    "replicas": "integer",
    "upgrade": "ref:UpgradeStrategy",
    "publicUrl": "string",
    "memoryMb": "integer",
    "retainVolume": "boolean",
    "selfHeal": "ref:SelfHealSettings",
}
SELF_HEAL = {"silentConnectionSeconds": "integer", "unhealthyAfterSeconds": "integer"}
DATABASE = {
    "enabled": "boolean",
    "image": "string",
    "containerName": "string",
    "volumeName": "string",
    "alias": "string",
    "name": "string",
    "user": "string",
    "vectorStore": "ref:VectorStore",
    "restart": "ref:RestartPolicy",
    "waitTimeout": "integer",
    "retainVolume": "boolean",
}
LOAD_BALANCER = {
    "image": "string",
    "containerName": "string",
    "stickySessions": "boolean",
    "maxConnections": "integer",
    "restart": "ref:RestartPolicy",
    "waitTimeout": "integer",
}
DOCKER = {"healthStartInterval": "boolean"}
LOGS = {"maxSize": "string", "maxFiles": "integer", "options": "map<string>"}
REDIS = {
    "keyPrefix": "string",
    "tls": "ref:RedisTLSSettings",
    "sentinel": "ref:SentinelSettings",
    "socketConnectTimeout": "number",
}
REDIS_TLS = {
    "caCertFile": "string",
    "clientCertFile": "string",
    "clientKeyFile": "string",
    "certReqs": "ref:CertReqs",
    "checkHostname": "boolean",
}
SENTINEL = {"hosts": "array<string>", "port": "integer", "maxRetryCount": "integer", "reconnectDelay": "integer"}
SHARED_VOLUME = {"driver": "string", "options": "map<string>"}
S3 = {"bucket": "string", "region": "string", "endpointUrl": "string", "keyPrefix": "string"}
SWARM = {
    "dataLabel": "string",
    "encrypted": "boolean",
    "uploads": "ref:Uploads",
    "sharedVolume": "ref:SharedVolumeSettings",
    "s3": "ref:S3Settings",
    "endpointMode": "ref:EndpointMode",
    "pinImages": "boolean",
    "updateMonitor": "integer",
}
SETTINGS_TYPES: dict[str, tuple[type[BaseModel], dict[str, str], set[str]]] = {
    # schema type: (settings model, properties, settings fields left out of it)
    "NetworkSettings": (NetworkModel, NETWORK, set()),
    "ValkeySettings": (ValkeyModel, VALKEY, {"password"}),  # OpenWebUIStack.valkeyPassword, Valkey.password
    # ...openWebuiSecretKey, OpenWebUI.secretKey; the OAuth key is generated
    "OpenWebUISettings": (OpenWebUIModel, OPEN_WEBUI, {"secretKey", "oauthSessionTokenEncryptionKey"}),
    "DatabaseSettings": (DatabaseModel, DATABASE, {"url", "password"}),  # settings-only secrets in the core
    "LoadBalancerSettings": (LoadBalancerModel, LOAD_BALANCER, set()),
    "DockerSettings": (DockerModel, DOCKER, set()),
    "LogsSettings": (LogsModel, LOGS, set()),
    "SelfHealSettings": (SelfHealModel, SELF_HEAL, set()),
    # The URLs and PEM texts are the stacks' inputs (redisUrl, redisCaCert, ...); S3's key pair is not offered.
    "RedisSettings": (RedisModel, REDIS, {"url", "websocketUrl"}),
    "RedisTLSSettings": (RedisTLSModel, REDIS_TLS, {"caCert", "clientCert", "clientKey"}),
    "SentinelSettings": (SentinelModel, SENTINEL, set()),
    "SharedVolumeSettings": (SharedVolumeModel, SHARED_VOLUME, set()),
    "S3Settings": (S3Model, S3, {"accessKeyId", "secretAccessKey"}),
    "SwarmSettings": (SwarmModel, SWARM, set()),
}
ENUMS = {
    "RestartPolicy": get_args(ValkeyModel.model_fields["restart"].annotation),
    "AppendFsync": get_args(ValkeyModel.model_fields["append_fsync"].annotation),
    "MaxMemoryPolicy": get_args(ValkeyModel.model_fields["max_memory_policy"].annotation),
    "VectorStore": get_args(DatabaseModel.model_fields["vector_store"].annotation),
    "UpgradeStrategy": get_args(OpenWebUIModel.model_fields["upgrade"].annotation),
    "CertReqs": get_args(RedisTLSModel.model_fields["cert_reqs"].annotation),
    "Uploads": get_args(SwarmModel.model_fields["uploads"].annotation),
    "EndpointMode": get_args(SwarmModel.model_fields["endpoint_mode"].annotation),
}

SECRET = "Treated as a secret (wrapped with `Output.secret`) whether or not it arrives as one."
VALKEY_PASSWORD = f"Valkey password. Default: generated (32 characters) and kept in the stack's state. {SECRET}"
SECRET_KEY = (
    f"`WEBUI_SECRET_KEY`. Default: generated once and kept, so replacing the container logs nobody out. {SECRET}"
)
NETWORK_NAME = In(
    "string", True, False, "Name of the Docker network to join (the `networkName` output of a `Network`)."
)


def settings_inputs(model: type[BaseModel], properties: dict[str, str]) -> dict[str, In]:
    return {name: In(type_, False, True, described(model, name)) for name, type_ in properties.items()}


STACK_INPUTS = {
    "valkeyPassword": In("string", False, False, VALKEY_PASSWORD),
    "openWebuiSecretKey": In("string", False, False, SECRET_KEY),
    "redisUrl": In(
        "string",
        False,
        False,
        "`REDIS_URL` of an external Redis or Valkey (`redis://` or `rediss://`, user, password, database), such as "
        "another resource's output: no Valkey is declared. Checked when it resolves; a secret whether or not it "
        "arrives as one.",
    ),
    "websocketRedisUrl": In(
        "string",
        False,
        False,
        "`WEBSOCKET_REDIS_URL` when websockets use another server or database than `redisUrl`. Default: `redisUrl`.",
    ),
    "redisCaCert": In(
        "string",
        False,
        False,
        "PEM of the CA that signed the external server's certificate (with a `rediss://` `redisUrl`). Default: the "
        "image's trusted CAs.",
    ),
    "redisClientCert": In(
        "string", False, False, "PEM of a client certificate, for a server that asks for one; with `redisClientKey`."
    ),
    "redisClientKey": In("string", False, False, "PEM of that certificate's private key (a secret)."),
    "databaseUrl": In(
        "string",
        False,
        False,
        "URL of an external PostgreSQL (`postgresql://user:password@host:5432/db`), such as a database resource's "
        "output: no PostgreSQL is declared, and the replicas sit behind the load balancer. A secret whether or not "
        "it arrives as one.",
    ),
}
"""The Inputs both hosted stacks take (the Python stacks' keyword arguments), the network's aside."""

EXPECTED_INPUTS: dict[str, dict[str, In]] = {
    "Network": settings_inputs(NetworkModel, NETWORK),
    "Valkey": {
        "networkName": NETWORK_NAME,
        "password": In("string", False, False, VALKEY_PASSWORD),
        **settings_inputs(ValkeyModel, VALKEY),
    },
    "OpenWebUI": {
        "networkName": NETWORK_NAME,
        "redisUrl": In(
            "string",
            True,
            False,
            "`REDIS_URL` and `WEBSOCKET_REDIS_URL` (the `redisUrl` output of a `Valkey`). The container waits for it.",
        ),
        "secretKey": In("string", False, False, SECRET_KEY),
        "databaseUrl": In(
            "string",
            False,
            False,
            "`DATABASE_URL` of a PostgreSQL database that every replica shares (`postgresql+psycopg://...`); "
            "required with `replicas` above 1. Default: SQLite in the data volume. Treated as a secret.",
        ),
        "vectorStore": In(
            "ref:VectorStore",
            False,
            True,
            "Where replicas keep document embeddings when `databaseUrl` is set: `pgvector` in that database; "
            "`chroma` only for a single replica. Default: `pgvector`.",
        ),
        "loadBalancer": In(
            "ref:LoadBalancerSettings",
            False,
            True,
            "The load balancer in front of the replicas (with `replicas` above 1).",
        ),
        "redisIdleTimeout": In(
            "integer",
            False,
            True,
            "The Redis server's `timeout` in seconds (a `Valkey`'s `timeout` setting; 0: it never closes idle "
            "clients). `REDIS_HEALTH_CHECK_INTERVAL` stays below it: 60 s, or half of a shorter timeout, and at most "
            "half of `selfHeal.silentConnectionSeconds`. Default: `0`.",
        ),
        "redisCaCert": In(
            "string",
            False,
            False,
            "The CA certificate (PEM) of a `Valkey` with `tls` (its `caCert` output), put where its `redisUrl` tells "
            "Open WebUI to find it (`/run/secrets/redis-ca.pem`). Required with a `rediss://` URL of such a Valkey.",
        ),
        **settings_inputs(OpenWebUIModel, OPEN_WEBUI),
    },
    "OpenWebUIStack": {
        **{
            name: In(f"ref:{type_}", False, True, described(StackModel, name))
            for name, type_ in {
                "network": "NetworkSettings",
                "valkey": "ValkeySettings",
                "openWebui": "OpenWebUISettings",
                "database": "DatabaseSettings",
                "loadBalancer": "LoadBalancerSettings",
                "docker": "DockerSettings",
                "logs": "LogsSettings",
                "redis": "RedisSettings",
            }.items()
        },
        "allowMovingImageTags": In("boolean", False, True, described(StackModel, "allowMovingImageTags")),
        **STACK_INPUTS,
        "networkName": In(
            "string",
            False,
            False,
            "Name of a Docker network the program made (such as a `docker.Network`'s `name`), instead of `network`: "
            "none is declared.",
        ),
    },
    "SwarmStack": {
        **{
            name: In(f"ref:{type_}", False, True, description)
            for name, (type_, description) in {
                "network": ("NetworkSettings", "The overlay network."),
                "valkey": ("ValkeySettings", "The Valkey service."),
                "openWebui": ("OpenWebUISettings", "Open WebUI."),
                "database": ("DatabaseSettings", "Shared PostgreSQL."),
                "loadBalancer": ("LoadBalancerSettings", "Load balancer in front of replicas."),
                "logs": ("LogsSettings", "Bounded container logs."),
                "redis": ("RedisSettings", described(StackModel, "redis")),
                "swarm": ("SwarmSettings", "Swarm mode: node placement, the overlay network, shared uploads."),
            }.items()
        },
        "allowMovingImageTags": In(
            "boolean",
            False,
            True,
            "Accept a moving image tag where it would change what runs without a change to the stack (see "
            "`OpenWebUIStack`). Default: `false`.",
        ),
        **STACK_INPUTS,
        "networkId": In(
            "string",
            False,
            False,
            "ID of an attachable overlay network the program made (a `docker.Network`'s `id`), instead of `network`: "
            "none is declared (a service that names its network by name would be replaced on every update).",
        ),
    },
}

ARRAYS = {"openWebuiContainerNames", "openWebuiServiceNames", "secretNames", "redisSentinelHosts"}


def stack_outputs(descriptions: dict[str, tuple[bool, str]]) -> dict[str, Out]:
    """A hosted stack's outputs: the program's, described as the program describes them; those that exist only with
    some settings (`only with`, `not with`) are optional."""
    return {
        name: Out(
            "array<string>" if name in ARRAYS else "integer" if name == "redisSentinelPort" else "string",
            "(only with" not in description and "not with" not in description,
            description,
        )
        for name, (_secret, description) in descriptions.items()
    }


EXPECTED_OUTPUTS: dict[str, dict[str, Out]] = {
    "Network": {
        "networkName": Out(
            "string", True, "Name of the network, for the `networkName` input of `Valkey` and `OpenWebUI`."
        ),
        "networkId": Out("string", True, "Docker's ID of the network."),
    },
    "Valkey": {
        "containerName": Out("string", True, "Name of the Valkey container (for `docker exec`)."),
        "volumeName": Out("string", True, "Name of the data volume mounted at `/data`."),
        "host": Out(
            "string",
            True,
            "Host name of Valkey on the network: its network alias, stable across container replacements.",
        ),
        "port": Out("integer", True, "Port Valkey listens on inside the network."),
        "password": Out("string", False, "The password (secret); absent when `auth` is false."),
        "caCert": Out(
            "string",
            False,
            "The CA certificate (PEM) generated for the server's certificate, for the `redisCaCert` input of "
            "`OpenWebUI` and other clients; absent unless `tls` is true.",
        ),
        "redisUrl": Out(
            "string",
            True,
            "`redis://` URL of `database`, password included (secret); with `tls`, `rediss://` with the query that "
            "makes redis-py verify the server against `/run/secrets/redis-ca.pem`.",
        ),
    },
    "OpenWebUI": {
        "url": Out("string", True, "URL of Open WebUI on the Docker host."),
        "containerName": Out("string", True, "Name of the (first) Open WebUI container."),
        "containerNames": Out("array<string>", True, "Names of every replica's container."),
        "volumeName": Out("string", True, "Name of the data volume mounted at `/app/backend/data`."),
        "secretKey": Out("string", True, "`WEBUI_SECRET_KEY` (secret)."),
        "oauthSessionTokenEncryptionKey": Out(
            "string", True, "`OAUTH_SESSION_TOKEN_ENCRYPTION_KEY` (secret), the same on every replica."
        ),
    },
    # The stacks' outputs are the program's stack outputs, described as the program describes them.
    "OpenWebUIStack": stack_outputs(_stack.OUTPUT_DESCRIPTIONS),
    "SwarmStack": stack_outputs(_swarm_stack.OUTPUT_DESCRIPTIONS),
}

PYTHON_COMPONENTS = {
    "Network": _network.Network,
    "Valkey": _valkey.Valkey,
    "OpenWebUI": _open_webui.OpenWebUI,
    "OpenWebUIStack": _stack.OpenWebUIStack,
    "SwarmStack": _swarm_stack.SwarmStack,
}


def resource_spec(component: str) -> dict[str, Any]:
    spec: dict[str, Any] = served_schema()["resources"][TOKEN + component]
    return spec


# ---------------------------------------------------------------------------------------------------------
# The schema
# ---------------------------------------------------------------------------------------------------------


class TestPackage:
    """The package as a whole: its name, components and type tokens."""

    def test_schema_when_inferred_directly_is_the_schema_the_plugin_serves(self):
        """The SDK's Analyzer and generate_schema, called directly, give what ComponentProvider serves."""
        assert differences(inferred_schema(), served_schema()) == []

    def test_resources_when_inferred_are_the_five_components_with_their_type_tokens(self):
        """``open-webui-redis:index:<ClassName>`` for each hosted class, each a component."""
        schema = served_schema()
        assert schema["name"] == "open-webui-redis"
        assert schema["version"] == components.__version__, "the plugin's schema is not the package's version"
        assert sorted(schema["resources"]) == sorted(TOKEN + name for name in EXPECTED_INPUTS)
        assert all(spec["isComponent"] for spec in schema["resources"].values())

    @pytest.mark.parametrize(
        ("component", "inputs"),
        [
            ("Network", {}),
            ("Valkey", {"networkName": "n"}),
            ("OpenWebUI", {"networkName": "n", "redisUrl": "redis://redis:6379/1"}),
            ("OpenWebUIStack", {}),
            ("SwarmStack", {"swarm": {"pinImages": False}}),
        ],
    )
    def test_type_token_when_constructed_is_the_schema_token(self, component, inputs):
        """Constructed from the schema, each hosted class registers its token: the Python component's own."""
        hosted_class = getattr(hosted, component)
        assert issubclass(hosted_class, PYTHON_COMPONENTS[component])
        deployment = construct(component, inputs)
        (registered,) = [resource for resource in deployment.resources if resource.name == "open-webui"]
        assert registered.type == TOKEN + component
        assert not registered.custom

    def test_types_when_inferred_are_the_settings_objects_and_enums(self):
        """The settings objects and enums, nothing else."""
        assert sorted(served_schema()["types"]) == sorted(TOKEN + name for name in [*SETTINGS_TYPES, *ENUMS])

    def test_every_description_when_inferred_is_set(self):
        """No property lacks a docstring (the analyzer drops a missing one silently)."""
        schema = served_schema()
        missing = [
            f"{token}.{name}"
            for token, spec in schema["resources"].items()
            for name, prop in {**spec["inputProperties"], **spec["properties"]}.items()
            if not prop.get("description")
        ] + [
            f"{token}.{name}"
            for token, spec in schema["types"].items()
            for name, prop in (spec.get("properties") or {}).items()
            if not prop.get("description")
        ]
        assert missing == []
        assert all(spec["description"] for spec in schema["resources"].values())


class TestSettingsTypes:
    """The settings objects: the pydantic settings' fields, types and descriptions (secrets excepted)."""

    @pytest.mark.parametrize("type_name", sorted(SETTINGS_TYPES))
    def test_properties_when_inferred_are_the_settings_fields_except_secrets(self, type_name):
        """Every settings field is a property, but the secrets, which are separate inputs."""
        model, properties, left_out = SETTINGS_TYPES[type_name]
        fields = {field.alias or name for name, field in model.model_fields.items()}
        assert set(properties) == fields - left_out
        assert set(served_schema()["types"][TOKEN + type_name]["properties"]) == set(properties)

    @pytest.mark.parametrize("type_name", sorted(SETTINGS_TYPES))
    def test_each_property_when_inferred_is_optional_plain_typed_and_described(self, type_name):
        """Optional, plain, the expected type, and the settings field's description with its default."""
        model, properties, _ = SETTINGS_TYPES[type_name]
        spec = served_schema()["types"][TOKEN + type_name]
        assert "required" not in spec
        actual = {
            name: In(kind(prop), False, prop.get("plain", False), prop["description"])
            for name, prop in spec["properties"].items()
        }
        assert actual == settings_inputs(model, properties)

    @pytest.mark.parametrize("enum_name", sorted(ENUMS))
    def test_enum_when_inferred_offers_exactly_the_settings_choices(self, enum_name):
        """A string enum whose values are the choices the settings accept, in their order."""
        spec = served_schema()["types"][TOKEN + enum_name]
        assert spec["type"] == "string"
        assert [member["value"] for member in spec["enum"]] == list(ENUMS[enum_name])


class TestComponents:
    """Each component's inputs and outputs against the expected table."""

    @pytest.mark.parametrize("component", sorted(EXPECTED_INPUTS))
    def test_inputs_when_inferred_match_the_table(self, component):
        """Names, types, which are required, which are plain, and descriptions."""
        spec = resource_spec(component)
        actual = {
            name: In(kind(prop), name in spec["requiredInputs"], prop.get("plain", False), prop["description"])
            for name, prop in spec["inputProperties"].items()
        }
        assert actual == EXPECTED_INPUTS[component]

    @pytest.mark.parametrize("component", sorted(EXPECTED_OUTPUTS))
    def test_outputs_when_inferred_match_the_table(self, component):
        """Names, types, which are always set, and descriptions."""
        spec = resource_spec(component)
        actual = {
            name: Out(kind(prop), name in spec["required"], prop["description"])
            for name, prop in spec["properties"].items()
        }
        assert actual == EXPECTED_OUTPUTS[component]

    @pytest.mark.parametrize("component", sorted(PYTHON_COMPONENTS))
    def test_outputs_when_inferred_include_every_output_of_the_python_component(self, component):
        """A new output of a Python component must be re-declared in hosted.py (the analyzer cannot read it)."""
        declared = {camel_case(name) for name in inspect.get_annotations(PYTHON_COMPONENTS[component])}
        missing = declared - set(resource_spec(component)["properties"])
        assert missing == set(), f"re-declare {sorted(missing)} on components.hosted.{component}"

    @pytest.mark.parametrize(
        ("component", "settings_type"),
        [("Network", "NetworkSettings"), ("Valkey", "ValkeySettings"), ("OpenWebUI", "OpenWebUISettings")],
    )
    def test_settings_inputs_when_repeated_on_a_component_equal_the_settings_type(self, component, settings_type):
        """The settings fields that a component's own arguments repeat are stated as in the settings type."""
        spec = resource_spec(component)
        properties = served_schema()["types"][TOKEN + settings_type]["properties"]
        for name, prop in properties.items():
            assert spec["inputProperties"][name] == prop, name


# ---------------------------------------------------------------------------------------------------------
# What the hosted components build (the SDK's ComponentProvider under mocks)
# ---------------------------------------------------------------------------------------------------------


def construct(component: str, inputs: dict[str, Any], secret_inputs: tuple[str, ...] = ()) -> Deployment:
    return render(
        {
            "options:type": TOKEN + component,
            "options:name": "open-webui",
            "options:inputs": inputs,
            "options:secretInputs": list(secret_inputs),
        },
        program=CONSTRUCT,
    )


def snapshot(deployment: Deployment) -> dict[tuple[str, str], dict[str, Any]]:
    """Each resource by (type, name): what the engine is told, with parents and dependencies by (type, name)."""
    by_urn = {resource.urn: resource for resource in deployment.resources}

    def key(urn: str) -> tuple[str, str] | None:
        resource = by_urn.get(urn)
        return (resource.type, resource.name) if resource else None

    return {
        (resource.type, resource.name): {
            "inputs": resource.inputs,
            "secret_inputs": sorted(resource.secret_inputs),
            "parent": key(resource.parent),
            "dependencies": sorted(filter(None, map(key, resource.dependencies))),
            "options": (
                resource.protect,
                resource.retain_on_delete,
                resource.delete_before_replace,
                sorted(resource.replace_on_changes),
                sorted(resource.ignore_changes),
            ),
        }
        for resource in deployment.resources
    }


SINGLE = {
    "network": {"name": "openwebui-hosted"},
    "valkey": {
        "database": 3,
        "appendOnly": True,
        "appendFsync": "always",
        "maxMemory": "256mb",
        "maxMemoryPolicy": "volatile-lru",
        "restart": "always",
    },
    "openWebui": {"hostPort": 3100, "env": {"ENABLE_SIGNUP": "false"}, "restart": "on-failure", "memoryMb": 2048},
}
REPLICAS = {
    "valkey": {"containerName": "valkey"},
    "openWebui": {"replicas": 2, "containerName": "owui"},
    "database": {"name": "owui", "vectorStore": "pgvector", "waitTimeout": 90},
    "loadBalancer": {"stickySessions": True},
}


class TestHostedStack:
    """``OpenWebUIStack`` constructed from schema inputs builds exactly what the Python program builds."""

    @pytest.mark.parametrize("settings", [SINGLE, REPLICAS], ids=["single", "replicas"])
    def test_resources_when_constructed_from_the_schema_are_those_of_the_program(self, settings):
        """Same resources, inputs, secrets, parents, dependencies and options as ``__main__.py`` with that config."""
        hosted_stack = construct(
            "OpenWebUIStack",
            {**settings, "valkeyPassword": "valkey-pw", "openWebuiSecretKey": "webui-key"},
            ("valkeyPassword", "openWebuiSecretKey"),
        )
        config = {key: dict(value) for key, value in settings.items()}
        config["valkey"] = {**config.get("valkey", {}), "password": "valkey-pw"}
        config["openWebui"] = {**config.get("openWebui", {}), "secretKey": "webui-key"}
        program = render(config, secret_keys=["valkey", "openWebui"])
        assert snapshot(hosted_stack) == snapshot(program)
        assert hosted_stack.outputs == program.outputs
        assert hosted_stack.secret_outputs == program.secret_outputs

    def test_secret_inputs_when_given_plain_are_still_secret(self):
        """A password given without being a secret is wrapped with Output.secret: secret in every resource input."""
        deployment = construct("OpenWebUIStack", {"valkeyPassword": "plain-pw", "openWebuiSecretKey": "plain-key"})
        valkey = deployment.container("redis-valkey")
        open_webui = deployment.container("open-webui")
        assert valkey.env["REDISCLI_AUTH"] == "plain-pw"
        assert open_webui.env["WEBUI_SECRET_KEY"] == "plain-key"
        assert valkey.resource.is_secret("envs")
        assert valkey.resource.is_secret("uploads")
        assert open_webui.resource.is_secret("envs")
        assert {"redisUrl", "websocketRedisUrl"} <= deployment.secret_outputs

    def test_invalid_arguments_when_constructed_are_all_reported_at_once(self):
        """Every problem, by its schema path, values shown except env values; nothing is created."""
        with pytest.raises(Exception) as raised:  # noqa: PT011 - the SDK wraps it in its ComponentInitError
            construct(
                "OpenWebUIStack",
                {
                    "valkey": {"port": 70000, "containerName": "bad name"},
                    "openWebui": {"hostPort": 0, "env": {"1BAD": "x", "TOKEN": ["not", "a", "string"]}},
                    "valkeyPassword": "",
                },
            )
        assert str(raised.value) == (
            "Invalid arguments for open-webui-redis:index:OpenWebUIStack 'open-webui' (6 problems); "
            "nothing was created:\n"
            "  - valkey.containerName: must be a Docker object name: a letter or digit first, then letters, "
            "digits, '_', '.' or '-' (got 'bad name')\n"
            "  - valkey.port: Input should be less than or equal to 65535 (got 70000)\n"
            "  - openWebui.hostPort: Input should be greater than or equal to 1 (got 0)\n"
            "  - openWebui.env.1BAD: must be an environment variable name: letters, digits and '_', not starting "
            "with a digit (got '1BAD')\n"
            "  - openWebui.env.TOKEN: Input should be a valid string (got [secret])\n"
            "  - valkeyPassword: is empty; leave it out to have one generated"
        )

    @pytest.mark.parametrize("component", ["OpenWebUIStack", "SwarmStack"])
    def test_valkey_password_when_given_with_an_external_server_is_refused_by_its_schema_name(
        self, component: str
    ) -> None:
        """No Valkey runs beside an external server: its password would go nowhere, and the refusal names the
        schema's arguments, under the hosted component's heading."""
        settings = {"swarm": {"pinImages": False}} if component == "SwarmStack" else {}
        with pytest.raises(Exception) as raised:  # noqa: PT011 - the SDK wraps it in its ComponentInitError
            construct(component, {**settings, "redisUrl": "redis://:pw@cache:6379/0", "valkeyPassword": "valkey-pw"})
        assert str(raised.value) == (
            f"Invalid arguments for open-webui-redis:index:{component} 'open-webui' (1 problem); nothing was "
            "created:\n  - valkeyPassword is given with an external server (redis.url or redisUrl); remove one"
        )

    @pytest.mark.parametrize(
        ("component", "settings", "inputs", "config"),
        [
            (
                "SwarmStack",
                {"swarm": {"pinImages": False}, "redis": {"sentinel": {"hosts": ["s1", "s2", "s3"]}}},
                {"redisUrl": "redis://:sentinel-pw@mymaster:6379/0"},
                {"redis": {"url": "redis://:sentinel-pw@mymaster:6379/0"}},
            ),
            (
                "SwarmStack",
                {"swarm": {"pinImages": False}, "openWebui": {"replicas": 2}},
                {"databaseUrl": "postgresql://owui:db-pw@db.example.com:5432/owui"},
                {"database": {"url": "postgresql://owui:db-pw@db.example.com:5432/owui"}},
            ),
            (
                "OpenWebUIStack",
                {"redis": {"tls": {"checkHostname": False}, "keyPrefix": "team-a"}},
                {
                    "redisUrl": "rediss://:tls-pw@redis.example.com:6380/0",
                    "redisCaCert": CA_PEM,
                    "redisClientCert": CERT_PEM,
                    "redisClientKey": KEY_PEM,
                },
                {
                    "redis": {
                        "url": "rediss://:tls-pw@redis.example.com:6380/0",
                        "tls": {"caCert": CA_PEM, "clientCert": CERT_PEM, "clientKey": KEY_PEM},
                    }
                },
            ),
        ],
        ids=["swarm, sentinel", "swarm, external database", "one host, TLS with a client certificate"],
    )
    def test_external_inputs_when_constructed_build_what_the_program_builds_from_configuration(
        self, component, settings, inputs, config
    ):
        """Every engine in every language: a stack given the external server's URL, certificates or database as
        inputs builds exactly what ``__main__.py`` builds with them in its configuration."""
        hosted_stack = construct(component, {**settings, **inputs}, tuple(inputs))
        merged: dict[str, Any] = {key: dict(value) for key, value in settings.items()}
        for key, value in config.items():
            block: dict[str, Any] = dict(merged.get(key, {}))
            for inner, item in value.items():
                block[inner] = {**block.get(inner, {}), **item} if isinstance(item, dict) else item
            merged[key] = block
        if component == "SwarmStack":
            merged["engine"] = "swarm"
        program = render(merged, secret_keys=list(config))
        # The hosted SwarmStack's own token is in the schema's module (index); the Python one's is swarm.
        hosted = json.dumps(list(snapshot(hosted_stack).items())).replace(TOKEN + "SwarmStack", SWARM_TOKEN)
        assert sorted(json.loads(hosted)) == sorted(json.loads(json.dumps(list(snapshot(program).items()))))

    def test_external_inputs_when_given_against_the_settings_are_refused_by_their_schema_names(self):
        """The Inputs' rules, with the schema's names: a URL twice, a certificate without its key."""
        with pytest.raises(Exception) as raised:  # noqa: PT011 - the SDK wraps it in its ComponentInitError
            construct(
                "SwarmStack",
                {
                    "swarm": {"pinImages": False},
                    "redisCaCert": CA_PEM,
                    "redisClientCert": CERT_PEM,
                    "databaseUrl": "",
                },
            )
        assert str(raised.value) == (
            "Invalid arguments for open-webui-redis:index:SwarmStack 'open-webui' (4 problems); nothing was created:\n"
            "  - databaseUrl: is empty; give a value or leave it out\n"
            "  - redisCaCert is for an external server over TLS, and redisUrl is not given (for TLS to the managed "
            "Valkey, set valkey.tls: true)\n"
            "  - redisClientCert is for an external server over TLS, and redisUrl is not given (for TLS to the "
            "managed Valkey, set valkey.tls: true)\n"
            "  - a client certificate needs its key and a key its certificate: give redisClientCert together with "
            "redisClientKey"
        )

    def test_external_input_when_it_resolves_to_a_bad_value_is_refused_by_its_schema_name(self):
        """Checked once known (a secret, as a config secret arrives), named as the consumer wrote it, never shown;
        Open WebUI is not declared with it (in a process of its own: ``tests/harness/refused_inputs.py`` says why)."""
        url = {"redisUrl": "http://:hosted-pw@redis.example.com:6379/0"}
        for refused in refuse([{"engine": engine, "inputs": url, "hosted": True} for engine in ("docker", "swarm")]):
            message = str(refused["message"])
            assert (
                "Invalid input for project 'open-webui-redis' (1 problem); what needs it was not deployed:" in message
            )
            assert refused["problems"] == [
                "redisUrl: must start with redis:// or rediss:// (TLS), got the scheme 'http' (got [secret])"
            ]
            assert "hosted-pw" not in message
            assert refused["open_webui_declared"] == []

    def test_settings_object_when_it_arrives_as_a_secret_is_refused(self):
        """The SDK hands the component ``{}`` for an object input that is an Output: refused, not defaulted."""
        with pytest.raises(Exception, match=r"valkey: arrived empty or as an output"):
            construct("OpenWebUIStack", {"valkey": {"containerName": "custom-valkey"}}, ("valkey",))


class TestHostedComponents:
    """``Network``, ``Valkey`` and ``OpenWebUI`` constructed one by one, as a program in another language wires them."""

    def test_valkey_when_constructed_uses_the_given_network_and_password(self):
        """The container joins ``networkName`` with its alias; the password is the given one, secret."""
        deployment = construct("Valkey", {"networkName": "shared", "password": "pw", "database": 4}, ("password",))
        valkey = deployment.container("redis-valkey")
        assert valkey.networks == {"shared": ["redis"]}
        assert valkey.env["REDISCLI_AUTH"] == "pw"
        assert deployment.outputs["redisUrl"] == "redis://default:pw@redis:6379/4"
        assert {"redisUrl", "password"} <= deployment.secret_outputs

    def test_open_webui_when_constructed_takes_its_redis_url_as_given(self):
        """Both Redis URLs are the ``redisUrl`` input; the secret key is generated when not given."""
        url = "redis://default:pw@redis:6379/5"
        deployment = construct("OpenWebUI", {"networkName": "shared", "redisUrl": url}, ("redisUrl",))
        open_webui = deployment.container("open-webui")
        assert open_webui.env["REDIS_URL"] == open_webui.env["WEBSOCKET_REDIS_URL"] == url
        assert open_webui.env["WEBUI_SECRET_KEY"]
        assert deployment.outputs["containerNames"] == ["open-webui"]

    @pytest.mark.parametrize(("timeout", "interval"), [(None, "5"), (0, "5"), (8, "4"), (1800, "5")])
    def test_open_webui_when_given_the_redis_idle_timeout_checks_connections_below_it(self, timeout, interval):
        """`redisIdleTimeout` (a Valkey's `timeout`) keeps the default REDIS_HEALTH_CHECK_INTERVAL below it (and
        `selfHeal` at 5 s)."""
        inputs: dict[str, Any] = {"networkName": "shared", "redisUrl": "redis://redis:6379/1"}
        if timeout is not None:
            inputs["redisIdleTimeout"] = timeout
        env = construct("OpenWebUI", inputs).container("open-webui").env
        assert env["REDIS_HEALTH_CHECK_INTERVAL"] == interval
        assert env["UVICORN_WORKERS"] == "1"
        assert env["OAUTH_SESSION_TOKEN_ENCRYPTION_KEY"]

    @pytest.mark.parametrize(
        ("extra", "problem"),
        [
            (
                {"redisIdleTimeout": 1},
                "redisIdleTimeout is 1: Open WebUI's REDIS_HEALTH_CHECK_INTERVAL must be a whole number of seconds "
                "below it",
            ),
            ({"redisIdleTimeout": -5}, r"redisIdleTimeout: must be a whole number of seconds, 0 or more \(got -5\)"),
            # the SDK's own conversion of an integer input, before the component runs
            ({"redisIdleTimeout": float("inf")}, r"cannot convert float infinity to integer"),
            (
                {"redisIdleTimeout": 30, "env": {"REDIS_HEALTH_CHECK_INTERVAL": "30"}},
                "env.REDIS_HEALTH_CHECK_INTERVAL must be from 1 to 29 seconds with redisIdleTimeout 30: below the "
                "timeout",
            ),
            # the SDK's own check of an enum input, before the component runs
            ({"upgrade": "blue-green"}, r"Invalid value blue-green .* for enum 'UpgradeStrategy'"),
        ],
    )
    def test_open_webui_when_given_a_bad_lifecycle_input_is_refused(self, extra, problem):
        """Bad timeouts, intervals and strategies are named before anything is created."""
        with pytest.raises(Exception, match=problem):
            construct("OpenWebUI", {"networkName": "shared", "redisUrl": "redis://redis:6379/1", **extra})

    def test_open_webui_when_replicated_without_database_url_is_refused(self):
        """Several replicas need a shared database: a clear problem, before anything is created."""
        problem = r"2 replicas need a shared PostgreSQL databaseUrl \(SQLite cannot be shared\)"
        with pytest.raises(Exception, match=problem):
            construct("OpenWebUI", {"networkName": "shared", "redisUrl": "redis://redis:6379/1", "replicas": 2})

    def test_network_when_external_is_looked_up_not_created(self):
        """``external: true`` adopts the network by name."""
        deployment = construct("Network", {"name": "proxy", "external": True})
        assert deployment.of_type("docker:index/network:Network") == []
        assert ("docker:index/getNetwork:getNetwork", {"name": "proxy"}) in deployment.invokes


# ---------------------------------------------------------------------------------------------------------
# The plugin process, as Pulumi's Python language host starts it (`python <plugin directory> <engine>`)
# ---------------------------------------------------------------------------------------------------------

PLUGIN = ROOT / "provider"


@pytest.fixture
def plugin_port(tmp_path: Path) -> Iterator[int]:
    """Start ``provider/`` from an unrelated directory, as for a consumer's project; its gRPC port."""
    process = subprocess.Popen(
        [sys.executable, str(PLUGIN), "127.0.0.1:1"],  # the engine address: unused by GetSchema
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the plugin prints its port once it serves
        if not line.strip().isdigit():
            process.kill()
            _, stderr = process.communicate(timeout=10)
            pytest.fail(f"the plugin printed no port: {line!r}\n{stderr}")
        yield int(line)
    finally:
        process.terminate()
        process.wait(timeout=10)


class TestPluginProcess:
    """``provider/__main__.py`` starts, finds the components, and serves the inferred schema over gRPC."""

    def test_schema_when_requested_over_grpc_is_the_inferred_schema(self, plugin_port):
        """GetSchema, the call ``pulumi package add`` makes, answers the schema the analyzer infers."""
        with grpc.insecure_channel(f"127.0.0.1:{plugin_port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            response = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
        assert json.loads(response.schema) == served_schema()
