"""The examples (``examples/*``): each declares, under Pulumi's mocks, what its README says.

The Python examples are rendered with ``components.testing.render``; the YAML example is checked against the
schema Pulumi infers for the package, then its component is constructed from its own properties.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pulumi
import pytest
import yaml

from components.testing import Deployment, StackMocks, render
from tests.harness.package_schema import TOKEN, served_schema, yaml_program_problems
from tests.harness.paths import ROOT, TESTS
from tests.harness.rendered import open_webuis

EXAMPLES = ROOT / "examples"
TWO_INSTANCES = EXAMPLES / "two-instances" / "__main__.py"
EXISTING_NETWORK = EXAMPLES / "existing-network" / "__main__.py"
YAML_CONSUMER = EXAMPLES / "yaml-consumer" / "Pulumi.yaml"
YAML_SWARM = EXAMPLES / "yaml-swarm" / "Pulumi.yaml"
CONSTRUCT = TESTS / "programs" / "construct.py"
DOCKER_TYPES = (
    "docker:index/network:Network",
    "docker:index/remoteImage:RemoteImage",
    "docker:index/volume:Volume",
    "docker:index/container:Container",
)


def project(example: str) -> dict[str, Any]:
    return dict(yaml.safe_load((EXAMPLES / example / "Pulumi.yaml").read_text()))


class TestLayout:
    """Every example is a complete project: its own Pulumi.yaml and a README."""

    @pytest.mark.parametrize(
        "example", ["two-instances", "existing-network", "yaml-consumer", "yaml-swarm", "composed"]
    )
    def test_example_when_listed_has_a_project_file_and_readme(self, example):
        """``Pulumi.yaml`` with a name, a runtime and a description, and a README beside it."""
        document = project(example)
        assert document["name"].startswith("open-webui-")
        assert document["description"]
        assert (EXAMPLES / example / "README.md").read_text().startswith("# ")

    @pytest.mark.parametrize("example", ["two-instances", "existing-network"])
    def test_python_example_when_run_by_pulumi_uses_the_repository_virtualenv(self, example):
        """Runtime python with pip and ``../../venv``, the virtualenv ``scripts/test`` makes at the root."""
        runtime = project(example)["runtime"]
        assert runtime == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "../../venv"}}
        assert (EXAMPLES / example / runtime["options"]["virtualenv"]).resolve() == ROOT / "venv"


# ---------------------------------------------------------------------------------------------------------
# two-instances
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def two_instances() -> Deployment:
    return render(program=TWO_INSTANCES)


def url_parts(url: str) -> tuple[str, int | None, str, str | None]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port, parts.path, parts.password


class TestTwoInstances:
    """Two Open WebUI instances sharing one Valkey: separate databases, secret keys, ports, containers, volumes."""

    def test_containers_when_rendered_are_one_valkey_and_two_open_webuis(self, two_instances):
        """Three containers, one network, one Valkey image and one Open WebUI image per instance."""
        assert sorted(two_instances.containers()) == ["open-webui-team-a", "open-webui-team-b", "shared-valkey"]
        assert [n.inputs["name"] for n in two_instances.of_type("docker:index/network:Network")] == ["openwebui-shared"]
        for container in two_instances.containers().values():
            assert list(container.networks) == ["openwebui-shared"], container.name

    def test_each_instance_when_rendered_uses_its_own_database_of_the_shared_valkey(self, two_instances):
        """Both URLs of team-a name database 1, team-b's database 2; same host, port and password."""
        valkey = two_instances.container("shared-valkey")
        databases = {}
        for team in ("team-a", "team-b"):
            env = two_instances.container(f"open-webui-{team}").env
            assert env["REDIS_URL"] == env["WEBSOCKET_REDIS_URL"], team
            host, port, path, password = url_parts(env["REDIS_URL"])
            assert (host, port) == ("redis", 6379), team
            assert valkey.networks["openwebui-shared"] == ["redis"]
            assert password is not None
            databases[team] = path
        assert databases == {"team-a": "/1", "team-b": "/2"}

    def test_each_instance_when_rendered_has_its_own_secret_key(self, two_instances):
        """Two generated secret keys, different, each only in its own container."""
        keys = {
            team: two_instances.container(f"open-webui-{team}").env["WEBUI_SECRET_KEY"] for team in ("team-a", "team-b")
        }
        assert all(keys.values())
        assert keys["team-a"] != keys["team-b"]
        generated = two_instances.of_type("random:index/randomPassword:RandomPassword")
        assert sorted(resource.name for resource in generated) == [
            "team-a-oauth-key",
            "team-a-secret-key",
            "team-b-oauth-key",
            "team-b-secret-key",
            "valkey-password",
        ]

    def test_each_instance_when_rendered_has_its_own_port_container_and_volume(self, two_instances):
        """Host ports 3001 and 3002 on loopback, and one data volume per instance."""
        for team, port in (("team-a", 3001), ("team-b", 3002)):
            container = two_instances.container(f"open-webui-{team}")
            assert container.ports == [{"internal": 8080, "external": port, "ip": "127.0.0.1"}], team
            assert container.volumes == {"/app/backend/data": f"open-webui-{team}"}, team
        volumes = sorted(volume.inputs["name"] for volume in two_instances.of_type("docker:index/volume:Volume"))
        assert volumes == ["open-webui-team-a", "open-webui-team-b", "shared-valkey-data"]

    def test_secrets_when_rendered_reach_docker_only_as_secret_inputs(self, two_instances):
        """Each container's environment (URLs with the password, secret key) is a secret input."""
        for container in two_instances.containers().values():
            assert container.resource.is_secret("envs"), container.name

    def test_outputs_when_rendered_give_each_instance_url(self, two_instances):
        """``urls`` by team, and the Valkey container for ``docker exec``."""
        assert two_instances.outputs == {
            "urls": {"team-a": "http://127.0.0.1:3001", "team-b": "http://127.0.0.1:3002"},
            "valkeyContainerName": "shared-valkey",
        }


# ---------------------------------------------------------------------------------------------------------
# existing-network
# ---------------------------------------------------------------------------------------------------------


class RecordingCalls(StackMocks):
    """StackMocks that also keep the provider of each invoke."""

    def __init__(self, existing_networks: set[str]) -> None:
        super().__init__(existing_networks=existing_networks)
        self.call_providers: list[tuple[str, str]] = []

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        self.call_providers.append((args.token, args.provider))
        return super().call(args)


def provider_reference(deployment: Deployment, name: str) -> str:
    provider = deployment.resource("pulumi:providers:docker", name)
    return f"{provider.urn}::{name}-id"  # StackMocks gives every resource the ID "<name>-id"


class TestExistingNetwork:
    """The stack on an existing network, through an explicit docker provider for a remote host."""

    def test_network_when_rendered_is_looked_up_by_name_not_created(self):
        """No docker Network resource; one getNetwork invoke for ``proxy``; both containers join it."""
        deployment = render(program=EXISTING_NETWORK, mocks=RecordingCalls({"proxy"}))
        assert deployment.of_type("docker:index/network:Network") == []
        assert deployment.invokes == [("docker:index/getNetwork:getNetwork", {"name": "proxy"})]
        for container in deployment.containers().values():
            assert list(container.networks) == ["proxy"], container.name
        assert deployment.outputs["networkName"] == "proxy"

    def test_provider_when_rendered_is_the_remote_host_for_every_docker_resource_and_the_lookup(self):
        """The provider's host is the SSH URL; it manages every docker resource and answers the lookup."""
        mocks = RecordingCalls({"proxy"})
        deployment = render(program=EXISTING_NETWORK, mocks=mocks)
        provider = deployment.resource("pulumi:providers:docker", "remote-docker")
        assert provider.inputs["host"] == "ssh://deploy@docker-host"
        reference = provider_reference(deployment, "remote-docker")
        docker_resources = [resource for resource in deployment.resources if resource.type in DOCKER_TYPES]
        assert len(docker_resources) == 6
        for resource in docker_resources:
            assert resource.provider == reference, resource.urn
        assert mocks.call_providers == [("docker:index/getNetwork:getNetwork", reference)]

    def test_missing_network_when_rendered_fails_the_deployment(self):
        """A network the host does not have fails the lookup, as at preview."""
        with pytest.raises(Exception, match="network proxy not found"):
            render(program=EXISTING_NETWORK, mocks=RecordingCalls(set()))


# ---------------------------------------------------------------------------------------------------------
# yaml-consumer
# ---------------------------------------------------------------------------------------------------------


class TestYamlConsumer:
    """The Pulumi YAML program uses only components, inputs and outputs that the inferred schema has."""

    def test_program_when_parsed_declares_the_package_from_this_repository(self):
        """Runtime yaml; ``packages`` points at ``provider/``, whose PulumiPlugin.yaml runs Python."""
        document = project("yaml-consumer")
        assert document["runtime"] == "yaml"
        source = document["packages"][served_schema()["name"]]
        plugin = (YAML_CONSUMER.parent / source).resolve()
        assert plugin == ROOT / "provider"
        assert yaml.safe_load((plugin / "PulumiPlugin.yaml").read_text()) == {"runtime": "python"}
        assert (plugin / "__main__.py").is_file()

    def test_program_when_checked_against_the_schema_has_no_problem(self):
        """Types, inputs (names, types, enums, nested objects), expressions and outputs all exist."""
        document = project("yaml-consumer")
        assert [resource["type"] for resource in document["resources"].values()] == [TOKEN + "OpenWebUIStack"]
        assert yaml_program_problems(document, served_schema()) == []

    def test_checker_when_the_program_is_wrong_reports_each_problem(self):
        """The control: the checker finds an unknown input, a bad enum value, a wrong type and a bad output."""
        document = project("yaml-consumer")
        properties = document["resources"]["openwebui"]["properties"]
        properties["valkey"]["maxMemoryPolicy"] = "allkeys-lru"
        properties["openWebui"]["hostPort"] = "3100"
        properties["redisPassword"] = "x"
        document["outputs"]["nope"] = "${openwebui.nope}"
        assert yaml_program_problems(document, served_schema()) == [
            "openwebui.valkey.maxMemoryPolicy: 'allkeys-lru' is not one of "
            "['noeviction', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']",
            "openwebui.openWebui.hostPort: must be integer (got '3100')",
            "openwebui.redisPassword: not an input in the schema",
            "outputs.nope: ${openwebui.nope}: open-webui-redis:index:OpenWebUIStack has no output 'nope'",
        ]

    def test_program_when_constructed_deploys_what_it_declares(self):
        """Its properties, config substituted, through the SDK's ComponentProvider: the declared containers."""
        document = project("yaml-consumer")
        (resource,) = document["resources"].values()
        inputs = dict(resource["properties"])
        assert inputs.pop("valkeyPassword") == "${valkeyPassword}"
        deployment = render(
            {
                "options:type": resource["type"],
                "options:name": "openwebui",
                "options:inputs": {**inputs, "valkeyPassword": "from-secret-config"},
                "options:secretInputs": ["valkeyPassword"],
            },
            program=CONSTRUCT,
        )
        valkey = deployment.container("yaml-valkey")
        open_webui = deployment.container("open-webui-yaml")
        assert valkey.env["REDISCLI_AUTH"] == "from-secret-config"
        assert "--appendonly" in valkey.command
        assert valkey.command[valkey.command.index("--appendonly") + 1] == "yes"
        assert open_webui.env["REDIS_URL"] == "redis://default:from-secret-config@redis:6379/2"
        assert open_webui.env["ENABLE_SIGNUP"] == "false"
        assert open_webui.ports == [{"internal": 8080, "external": 3100, "ip": "127.0.0.1"}]
        assert list(open_webui.networks) == ["openwebui-yaml"]
        for name in document["outputs"]:
            assert name in deployment.outputs, name


# ---------------------------------------------------------------------------------------------------------
# yaml-swarm
# ---------------------------------------------------------------------------------------------------------


class TestYamlSwarm:
    """The Swarm stack and the external-Redis inputs from Pulumi YAML, as the yaml-consumer is checked."""

    def test_program_when_checked_against_the_schema_has_no_problem(self):
        """The SwarmStack type, its settings (swarm, redis with sentinels) and the redisUrl input all exist."""
        document = project("yaml-swarm")
        assert [resource["type"] for resource in document["resources"].values()] == [TOKEN + "SwarmStack"]
        assert yaml_program_problems(document, served_schema()) == []

    def test_checker_when_a_swarm_input_is_wrong_reports_it(self):
        """The control: a bad endpoint mode, a sentinel list given as a string, an unknown input."""
        document = project("yaml-swarm")
        properties = document["resources"]["openwebui"]["properties"]
        properties["swarm"]["endpointMode"] = "ingress"
        properties["redis"]["sentinel"]["hosts"] = "sentinel-1"
        properties["redisPassword"] = "x"
        assert yaml_program_problems(document, served_schema()) == [
            "openwebui.swarm.endpointMode: 'ingress' is not one of ['vip', 'dnsrr']",
            "openwebui.redis.sentinel.hosts: must be array (got 'sentinel-1')",
            "openwebui.redisPassword: not an input in the schema",
        ]

    def test_program_when_constructed_deploys_its_services_on_the_external_redis(self):
        """Its properties, the secret config substituted, through the SDK's ComponentProvider: no Valkey service,
        the replicas given the URL as a secret and asking the sentinels, every output the program reads."""
        document = project("yaml-swarm")
        (resource,) = document["resources"].values()
        inputs = dict(resource["properties"])
        assert inputs.pop("redisUrl") == "${redisUrl}"
        url = "redis://:yaml-sentinel-pw@mymaster:6379/0"
        deployment = render(
            {
                "options:type": resource["type"],
                "options:name": "openwebui",
                "options:inputs": {**inputs, "redisUrl": url},
                "options:secretInputs": ["redisUrl"],
            },
            program=CONSTRUCT,
        )
        services = [r for r in deployment.resources if r.type == "docker:index/service:Service"]
        names = sorted(str(r.inputs["name"]) for r in services)
        assert names == ["open-webui", "open-webui-lb", "open-webui-postgres", "open-webui-replicas"]
        for view in open_webuis(deployment, "swarm"):
            assert view.env["REDIS_URL"] == url
            assert view.env["REDIS_SENTINEL_HOSTS"] == "sentinel-1,sentinel-2,sentinel-3"
            assert view.env["REDIS_KEY_PREFIX"] == "yaml-swarm"
            assert url not in " ".join(view.plain_env.values())
        for name in document["outputs"]:
            assert name in deployment.outputs, name
        assert deployment.outputs["redisSentinelHosts"] == ["sentinel-1", "sentinel-2", "sentinel-3"]
        assert "redisUrl" in deployment.secret_outputs
