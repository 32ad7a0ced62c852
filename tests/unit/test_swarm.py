"""`engine: swarm`: the stack as services on a Docker Swarm, its secrets as Docker secrets, under Pulumi's mocks."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pulumi
import pytest

from components.core.open_webui import PROBE_PATH
from components.swarm._secret_files import (
    ENTRYPOINT_PATH,
    ENTRYPOINT_SCRIPT,
    EXTRA_ENV_PATH,
    SECRET_ENV,
    SECRETS_DIR,
    STACK_ENV_PATH,
    env_file,
)
from components.testing import Deployment, Resource, read_stack_file, render
from tests.harness.paths import ROOT
from tests.harness.rendered import decoded, parse_env_file, problems_of

STACK_FILE = ROOT / "Pulumi.swarm.yaml"
SWARM: dict[str, Any] = {"engine": "swarm"}
SECRET = "docker:index/secret:Secret"
CONFIG = "docker:index/serviceConfig:ServiceConfig"
PASSWORD = "random:index/randomPassword:RandomPassword"
NETWORK = "docker:index/network:Network"
SERVICE = "docker:index/service:Service"
DATA_NODE = "node.labels.open-webui-redis.data==true"
NFS_OPTIONS = {"type": "nfs", "o": "addr=10.0.0.5,rw,nfsvers=4", "device": ":/exports/owui"}
S3 = {"bucket": "owui-uploads", "region": "eu-west-1", "accessKeyId": "AKIAEXAMPLE", "secretAccessKey": 's3/k+y"$x'}
OPEN_WEBUI_SECRETS = [
    "DATABASE_URL",
    "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY",
    "REDIS_URL",
    "WEBSOCKET_REDIS_URL",
    "WEBUI_SECRET_KEY",
]
SHORT_DURATION = re.compile(r"(\d+h)?(\d+m)?(\d+s)?")


@dataclass
class Swarm:
    """A rendered Swarm stack and what its resources resolved to."""

    deployment: Deployment

    def name_of(self, resource: Resource) -> str:
        """The Docker name the resource got (auto-named resources have none in their inputs)."""
        return str(resource.outputs["name"])

    def secrets(self) -> dict[str, str]:
        """Every Docker secret by its name, its data decoded."""
        return {self.name_of(r): decoded(r.inputs["data"]) for r in self.deployment.of_type(SECRET)}

    def configs(self) -> dict[str, str]:
        """Every Docker config by its name, its data decoded."""
        return {self.name_of(r): decoded(r.inputs["data"]) for r in self.deployment.of_type(CONFIG)}

    def passwords(self) -> dict[str, str]:
        """Every generated password (``RandomPassword.result``) by resource name."""
        return {r.name: str(r.outputs["result"]) for r in self.deployment.of_type(PASSWORD)}

    def service(self, name: str) -> Resource:
        return self.deployment.service(name)

    def secret_file(self, service: str, path: str) -> str:
        """The decoded content of the Docker secret that ``service`` mounts at ``path``."""
        return self.secrets()[secret_files(self.service(service))[path]]

    def config_file(self, service: str, path: str) -> str:
        """The decoded content of the Docker config that ``service`` mounts at ``path``."""
        configs = {c["fileName"]: c["configName"] for c in spec(self.service(service)).get("configs") or []}
        return self.configs()[configs[path]]


def swarm(config: dict[str, Any] | None = None, secret_keys: tuple[str, ...] = ()) -> Swarm:
    """Render the program with ``engine: swarm`` and this configuration."""
    return Swarm(render({**SWARM, **(config or {})}, secret_keys=secret_keys))


def task_env(rendered: Swarm, name: str) -> dict[str, str]:
    """What an Open WebUI task's process gets that is not a secret file: the stack's env config, openWebui.env's
    secret file, and the spec's own env (ENABLE_DB_MIGRATIONS only)."""
    env = dict(spec(rendered.service(name)).get("env") or {})  # the process starts with it; the files come after
    env.update(parse_env_file(rendered.config_file(name, STACK_ENV_PATH)))
    files = secret_files(rendered.service(name))
    if EXTRA_ENV_PATH in files:
        env.update(parse_env_file(rendered.secret_file(name, EXTRA_ENV_PATH)))
    return env


def spec(service: Resource) -> dict[str, Any]:
    """The service's ``taskSpec.containerSpec``."""
    return dict(service.inputs["taskSpec"]["containerSpec"])


def secret_files(service: Resource) -> dict[str, str]:
    """The service's secret files: path in the task -> Docker secret name."""
    return {s["fileName"]: s["secretName"] for s in spec(service).get("secrets") or []}


def replicas_of(service: Resource) -> int:
    return int(service.inputs["mode"]["replicated"]["replicas"])


def go_short_duration(seconds: int) -> str:
    """What the provider reads back (its ``shortDur``: Go's ``Duration.String()`` without a trailing ``0s``
    after minutes, then without a trailing ``0m`` after hours), written here independently of the product."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}h{minutes}m{secs}s" if hours else f"{minutes}m{secs}s" if minutes else f"{secs}s"
    text = text.removesuffix("0s") if text.endswith("m0s") else text
    return text.removesuffix("0m") if text.endswith("h0m") else text


def seconds_of(duration: str) -> int:
    match = SHORT_DURATION.fullmatch(duration)
    if not duration or match is None:
        raise ValueError(f"{duration!r} is not a duration of hours, minutes and seconds")
    return sum(int(part[:-1]) * unit for part, unit in zip(match.groups(), (3600, 60, 1), strict=True) if part)


def durations(service: Resource) -> dict[str, str]:
    """Every duration field of a service, by its dotted path."""
    inputs = service.inputs
    fields = {
        "taskSpec.containerSpec.stopGracePeriod": spec(service).get("stopGracePeriod"),
        **{
            f"taskSpec.containerSpec.healthcheck.{key}": (spec(service).get("healthcheck") or {}).get(key)
            for key in ("interval", "timeout", "startPeriod")
        },
        **{f"taskSpec.restartPolicy.{k}": inputs["taskSpec"]["restartPolicy"].get(k) for k in ("delay", "window")},
        **{
            f"{block}.{key}": inputs[block].get(key)
            for block in ("updateConfig", "rollbackConfig")
            for key in ("delay", "monitor")
        },
        **{f"convergeConfig.{key}": inputs["convergeConfig"].get(key) for key in ("delay", "timeout")},
    }
    return {path: str(value) for path, value in fields.items() if value is not None}


def strings_in(value: Any) -> Iterator[str]:
    """Every string anywhere in a value (keys too)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


@pytest.fixture(scope="module")
def stack_file() -> Swarm:
    """Pulumi.swarm.yaml: two replicas (rolling) on PostgreSQL behind HAProxy, every secret generated."""
    config = read_stack_file(STACK_FILE)
    assert config["engine"] == "swarm"
    return swarm(config)


@pytest.fixture(scope="module")
def three() -> Swarm:
    """Three replicas: a primary, a replicas service with two tasks, PostgreSQL and HAProxy."""
    return swarm({"openWebui": {"replicas": 3}})


@pytest.fixture(scope="module")
def single() -> Swarm:
    """The defaults: one Open WebUI on SQLite."""
    return swarm()


class TestStackFile:
    """Pulumi.swarm.yaml renders the whole Swarm deployment."""

    def test_stack_file_when_rendered_declares_an_attachable_overlay_network(self, stack_file: Swarm) -> None:
        """One overlay network, attachable (docker run --network joins it), named as in the stack file."""
        (network,) = stack_file.deployment.of_type(NETWORK)
        assert network.inputs == {"name": "openwebui-overlay", "driver": "overlay", "attachable": True}

    def test_stack_file_when_rendered_declares_every_service(self, stack_file: Swarm) -> None:
        """Valkey, PostgreSQL, the primary Open WebUI, its replicas and HAProxy; no containers."""
        assert sorted(stack_file.deployment.services()) == [
            "open-webui",
            "open-webui-lb",
            "open-webui-postgres",
            "open-webui-replicas",
            "redis-valkey",
        ]
        assert stack_file.deployment.containers() == {}

    def test_stack_file_when_rendered_exports_the_redis_urls_as_secrets(self, stack_file: Swarm) -> None:
        """url on the routing mesh in clear; redisUrl and websocketRedisUrl (and databaseUrl) secret."""
        outputs = stack_file.deployment.outputs
        assert outputs["url"] == "http://localhost:3000"
        assert outputs["redisUrl"].startswith("redis://default:")
        assert outputs["redisUrl"].endswith("@redis:6379/1")
        assert outputs["websocketRedisUrl"] == outputs["redisUrl"]
        assert stack_file.deployment.secret_outputs == {"redisUrl", "websocketRedisUrl", "databaseUrl"}

    def test_stack_file_when_rendered_lists_every_secret_name(self, stack_file: Swarm) -> None:
        """secretNames is the sorted name of every declared Docker secret."""
        names = stack_file.secrets()
        assert len(names) == len(stack_file.deployment.of_type(SECRET)) == 8
        assert stack_file.deployment.outputs["secretNames"] == sorted(names)

    def test_swarm_secrets_helper_when_secrets_are_auto_named_reads_them(self, stack_file: Swarm) -> None:
        """Deployment.swarm_secrets() and swarm_configs() return every secret and config by its Docker name."""
        assert stack_file.deployment.swarm_secrets() == stack_file.secrets()
        assert stack_file.deployment.swarm_configs() == stack_file.configs()


def secret_values(rendered: Swarm, supplied: tuple[str, ...] = ()) -> set[str]:
    """Every secret value of a rendered stack: each Docker secret's content (decoded and as declared), each
    generated or ``supplied`` password, and each of those percent-encoded (as in the URLs)."""
    values = set(rendered.secrets().values()) | set(rendered.passwords().values()) | set(supplied)
    values |= {quote(value, safe="") for value in values}
    return values | {str(r.inputs["data"]) for r in rendered.deployment.of_type(SECRET)}


SECRET_CONFIGS = {
    "stack file": ({**read_stack_file(STACK_FILE)}, ()),
    "one replica": ({}, ()),
    "s3 and supplied secrets": (
        {
            "openWebui": {"replicas": 2, "secretKey": "k3y with 'quotes' and $(echo x)"},
            "valkey": {"password": 'p@ss"w$rd/:%'},
            "swarm": {"uploads": "s3", "s3": S3},
        },
        ("openWebui", "valkey", "swarm"),
    ),
}


class TestSecretsStayOutOfPlainInputs:
    """Secret values reach the tasks only as Docker secrets: never in another resource's inputs."""

    @pytest.mark.parametrize(("config", "secret_keys"), SECRET_CONFIGS.values(), ids=SECRET_CONFIGS.keys())
    def test_secret_values_when_rendered_appear_in_no_other_resource(
        self, config: dict[str, Any], secret_keys: tuple[str, ...]
    ) -> None:
        """No secret value, raw, JSON-escaped or percent-encoded, is in the inputs of a non-secret resource."""
        rendered = swarm(config, secret_keys)
        supplied = (config.get("openWebui", {}).get("secretKey"), config.get("valkey", {}).get("password"))
        values = secret_values(rendered, tuple(value for value in supplied if value is not None))
        assert len(rendered.secrets()) == len(rendered.deployment.of_type(SECRET)) >= 6
        for resource in rendered.deployment.resources:
            if resource.type in (SECRET, PASSWORD):
                continue
            text = json.dumps(resource.inputs)
            for value in values:
                assert value not in text, f"{resource.type} {resource.name} holds a secret value"
                assert json.dumps(value)[1:-1] not in text, f"{resource.type} {resource.name} holds a secret value"
                assert all(value not in string for string in strings_in(resource.inputs)), resource.name

    def test_swarm_secrets_when_declared_hold_their_data_as_pulumi_secrets(self, stack_file: Swarm) -> None:
        """Every Docker secret's data is a Pulumi secret (encrypted in the state, [secret] in previews)."""
        for secret in stack_file.deployment.of_type(SECRET):
            assert secret.is_secret("data"), secret.name

    def test_service_env_when_rendered_holds_no_secret_variable(self, stack_file: Swarm) -> None:
        """No service's environment has a variable of SECRET_ENV: they are files under /run/secrets."""
        for name, service in stack_file.deployment.services().items():
            assert not set(spec(service).get("env") or {}) & set(SECRET_ENV), name

    def test_valkey_when_rendered_has_no_password_in_args_or_env(self, stack_file: Swarm) -> None:
        """Valkey's arguments hold no password and it has no environment at all."""
        valkey = spec(stack_file.service("redis-valkey"))
        password = stack_file.passwords()["open-webui-valkey-password"]
        assert "env" not in valkey
        assert not [arg for arg in valkey["args"] if password in arg or quote(password, safe="") in arg]

    def test_open_webui_task_spec_when_rendered_is_not_hidden_as_a_secret(self, stack_file: Swarm) -> None:
        """Open WebUI's task spec (image, plain env, mounts) holds no secret, so a preview shows its changes."""
        for name in ("open-webui", "open-webui-replicas"):
            assert not stack_file.service(name).is_secret("taskSpec"), name


class TestOpenWebUIEnv:
    """``openWebui.env`` on Swarm: its values may be API keys, so they travel in a Docker secret."""

    def test_open_webui_env_when_set_is_only_in_a_secret_file(self) -> None:
        """An API key in openWebui.env is in a Docker secret (a Pulumi secret) and in no plain input."""
        key = "sk-live-0123456789abcdef"
        rendered = swarm({"openWebui": {"replicas": 2, "env": {"OPENAI_API_KEY": key}}}, secret_keys=("openWebui",))
        for name in ("open-webui", "open-webui-replicas"):
            assert task_env(rendered, name)["OPENAI_API_KEY"] == key
        holders = [r for r in rendered.deployment.resources if key in json.dumps(r.inputs)]
        assert holders == []
        assert [name for name, content in rendered.configs().items() if key in content] == []  # configs are plain
        (extra,) = [r for r in rendered.deployment.of_type(SECRET) if r.name.endswith("-env")]
        assert extra.is_secret("data")


class TestProviderReadBack:
    """What the provider or Docker adds on its own is left to them, so a second `pulumi up` plans nothing."""

    def test_services_when_rendered_leave_the_image_platforms_to_docker(self) -> None:
        """Every service ignores ``taskSpec.placement.platforms`` (Docker's client writes the image's platforms on
        create)."""
        for name, service in swarm({"openWebui": {"replicas": 2}}).deployment.services().items():
            assert service.ignore_changes == ["taskSpec.placement.platforms"], name

    def test_overlay_when_encrypted_leaves_only_dockers_vxlan_ids_to_docker(self) -> None:
        """Only the option Docker adds (the VXLAN ids) is ignored: turning encryption on or off stays a change."""
        vxlan = 'options["com.docker.network.driver.overlay.vxlanid_list"]'
        encrypted = swarm({"swarm": {"encrypted": True}}).deployment.of_type(NETWORK)[0]
        assert (encrypted.inputs["options"], encrypted.ignore_changes) == ({"encrypted": "true"}, [vxlan])
        plain = swarm().deployment.of_type(NETWORK)[0]
        assert ("options" not in plain.inputs, plain.ignore_changes) == (True, [vxlan])

    def test_one_replica_on_postgres_when_rendered_keeps_the_port_on_the_load_balancer(self) -> None:
        """database.enabled with one replica: HAProxy publishes the port, as with several, so scaling between 1
        and N never moves the port between services (the load balancer goes only at the end of an update)."""
        one = swarm({"database": {"enabled": True}}).deployment.services()
        three = swarm({"openWebui": {"replicas": 3}}).deployment.services()
        for services in (one, three):
            published = {n for n, s in services.items() if s.inputs["endpointSpec"].get("ports")}
            assert published == {"open-webui-lb"}
        assert one["open-webui-lb"].inputs == three["open-webui-lb"].inputs
        assert "open-webui-replicas" not in one

    def test_single_host_stack_when_given_swarm_settings_refuses_them(self) -> None:
        """OpenWebUIStack and SwarmStack each refuse the other engine's settings before declaring anything."""
        from components import OpenWebUIStack, StackSettings, SwarmStack

        with pytest.raises(ValueError, match=r"settings\.engine is 'swarm'"):
            OpenWebUIStack("x", StackSettings(engine="swarm"))
        with pytest.raises(ValueError, match="engine 'swarm'"):
            SwarmStack("x", StackSettings())


class TestValkeyService:
    """Valkey: one task on the data node, its password in two secret files."""

    def test_valkey_service_when_rendered_runs_one_task_on_the_data_node(self, stack_file: Swarm) -> None:
        """One replica, placed by the data label, beside its volume redis-data at /data."""
        valkey = stack_file.service("redis-valkey")
        assert replicas_of(valkey) == 1
        assert valkey.inputs["taskSpec"]["placement"] == {"constraints": [DATA_NODE]}
        assert spec(valkey)["mounts"] == [{"type": "volume", "source": "redis-data", "target": "/data"}]

    def test_valkey_service_when_rendered_drops_every_capability_but_three(self, stack_file: Swarm) -> None:
        """capDrops ALL; only what the entrypoint needs to hand /data over and drop root is added back."""
        valkey = spec(stack_file.service("redis-valkey"))
        assert valkey["capDrops"] == ["ALL"]
        assert valkey["capAdds"] == ["CAP_DAC_OVERRIDE", "CAP_SETGID", "CAP_SETUID"]

    def test_valkey_service_when_rendered_mounts_the_auth_config_and_password(self, stack_file: Swarm) -> None:
        """/run/secrets/valkey-auth.conf holds `requirepass "<password>"`; /run/secrets/valkey-password the
        bare password; the server reads the config file first."""
        password = stack_file.passwords()["open-webui-valkey-password"]
        quoted = password.replace("\\", "\\\\").replace('"', '\\"')
        assert set(secret_files(stack_file.service("redis-valkey"))) == {
            "/run/secrets/valkey-auth.conf",
            "/run/secrets/valkey-password",
        }
        assert stack_file.secret_file("redis-valkey", "/run/secrets/valkey-auth.conf") == f'requirepass "{quoted}"\n'
        assert stack_file.secret_file("redis-valkey", "/run/secrets/valkey-password") == password
        assert spec(stack_file.service("redis-valkey"))["args"][:2] == [
            "valkey-server",
            "/run/secrets/valkey-auth.conf",
        ]

    def test_valkey_service_when_rendered_joins_the_network_by_id_as_redis(self, stack_file: Swarm) -> None:
        """The overlay network by its ID (by name the provider replaces the service), with the alias redis."""
        network = stack_file.deployment.resource(NETWORK, "open-webui-network-network")
        valkey = stack_file.service("redis-valkey")
        network_id = network.id
        assert valkey.inputs["taskSpec"]["networksAdvanceds"] == [{"id": network_id, "aliases": ["redis"]}]
        assert valkey.depends_on(network)

    def test_valkey_service_when_rendered_checks_health_with_the_password_file(self, stack_file: Swarm) -> None:
        """The healthcheck is a shell PING that reads the password from its secret file."""
        tests = spec(stack_file.service("redis-valkey"))["healthcheck"]["tests"]
        assert tests == [
            "CMD-SHELL",
            '[ "$(REDISCLI_AUTH="$(cat /run/secrets/valkey-password)" valkey-cli -p 6379 ping)" = PONG ]',
        ]


class TestOpenWebUIServices:
    """With replicas, a one-task primary that migrates and a replicas service, both behind HAProxy."""

    def test_primary_when_three_replicas_runs_one_task_that_migrates(self, three: Swarm) -> None:
        """open-webui has one replica and no ENABLE_DB_MIGRATIONS (it migrates the database)."""
        primary = three.service("open-webui")
        assert replicas_of(primary) == 1
        assert "ENABLE_DB_MIGRATIONS" not in task_env(three, "open-webui")
        assert "env" not in spec(primary)

    def test_replicas_service_when_three_replicas_runs_two_after_the_primary(self, three: Swarm) -> None:
        """open-webui-replicas has the other two, ENABLE_DB_MIGRATIONS=false, and waits for the primary."""
        rest = three.service("open-webui-replicas")
        assert replicas_of(rest) == 2
        assert spec(rest)["env"] == {"ENABLE_DB_MIGRATIONS": "false"}  # one variable: no order to differ
        assert rest.depends_on(three.service("open-webui"))

    @pytest.mark.parametrize("name", ["open-webui", "open-webui-replicas"])
    def test_open_webui_when_three_replicas_starts_through_the_entrypoint_wrapper(
        self, three: Swarm, name: str
    ) -> None:
        """The wrapper (a config, ENTRYPOINT_SCRIPT) run by /bin/sh is the command (a config's mount may be noexec);
        the image's start.sh its args; the stack's variables a second config, sorted, with no secret."""
        container = spec(three.service(name))
        assert container["commands"] == ["/bin/sh", ENTRYPOINT_PATH]
        assert container["args"] == ["bash", "start.sh"]
        modes = {config["fileName"]: config["fileMode"] for config in container["configs"]}
        assert modes == {ENTRYPOINT_PATH: 0o555, STACK_ENV_PATH: 0o444, PROBE_PATH: 0o444}
        assert three.config_file(name, ENTRYPOINT_PATH) == ENTRYPOINT_SCRIPT
        stack_env = three.config_file(name, STACK_ENV_PATH)
        assert stack_env.splitlines() == sorted(stack_env.splitlines())
        assert parse_env_file(stack_env)["WEBSOCKET_MANAGER"] == "redis"
        assert not set(parse_env_file(stack_env)) & set(OPEN_WEBUI_SECRETS)

    @pytest.mark.parametrize("name", ["open-webui", "open-webui-replicas"])
    def test_open_webui_when_three_replicas_reads_each_secret_from_a_file(self, three: Swarm, name: str) -> None:
        """One secret file /run/secrets/<VAR> per secret variable; REDIS_URL's is the redisUrl output."""
        assert sorted(secret_files(three.service(name))) == [f"{SECRETS_DIR}/{v}" for v in OPEN_WEBUI_SECRETS]
        outputs = three.deployment.outputs
        assert three.secret_file(name, f"{SECRETS_DIR}/REDIS_URL") == outputs["redisUrl"]
        assert three.secret_file(name, f"{SECRETS_DIR}/WEBSOCKET_REDIS_URL") == outputs["websocketRedisUrl"]
        assert three.secret_file(name, f"{SECRETS_DIR}/DATABASE_URL") == outputs["databaseUrl"]

    def test_open_webui_when_three_replicas_share_every_secret(self, three: Swarm) -> None:
        """The primary and the replicas mount the same Docker secrets."""
        primary, rest = (secret_files(three.service(name)) for name in ("open-webui", "open-webui-replicas"))
        assert primary == rest

    def test_load_balancer_when_three_replicas_alone_publishes_the_port(self, three: Swarm) -> None:
        """Only open-webui-lb has endpoint ports: 3000 on the routing mesh to HAProxy's 8080."""
        published = {
            n: s.inputs["endpointSpec"]["ports"]
            for n, s in three.deployment.services().items()
            if s.inputs["endpointSpec"].get("ports")
        }
        assert published == {
            "open-webui-lb": [{"targetPort": 8080, "publishedPort": 3000, "protocol": "tcp", "publishMode": "ingress"}]
        }

    def test_images_when_default_are_pinned_to_the_registry_digest(self, three: Swarm) -> None:
        """Each service's image is ``<reference>@<digest>`` from ``docker.getRegistryImage`` (what Docker keeps
        after the provider's create: pinned, and in the familiar form Docker's client writes on every create and
        update); each reference is looked up once (both Open WebUI services share one)."""
        looked_up = sorted(args["name"] for token, args in three.deployment.invokes if "getRegistryImage" in token)
        images = {n: spec(s)["image"] for n, s in three.deployment.services().items()}
        assert looked_up == sorted(
            {"docker.io/valkey/valkey:8.0.13-alpine", "docker.io/pgvector/pgvector:0.8.6-pg17"}
            | {"docker.io/library/haproxy:2.6.32-alpine", "ghcr.io/open-webui/open-webui:v0.12.4"}
        )
        assert images["redis-valkey"].startswith("valkey/valkey:8.0.13-alpine@sha256:")
        assert images["open-webui-lb"].startswith("haproxy:2.6.32-alpine@sha256:")
        for image in images.values():
            digest = image.split("@")[1]
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), image
        assert images["open-webui"].startswith("ghcr.io/open-webui/open-webui:v0.12.4@sha256:")

    def test_images_when_pinning_is_off_are_the_references_and_nothing_is_looked_up(self) -> None:
        """``swarm.pinImages: false`` (no registry): the configured references as they are."""
        unpinned = swarm({"openWebui": {"replicas": 3}, "swarm": {"pinImages": False}})
        assert not [token for token, _ in unpinned.deployment.invokes if "getRegistryImage" in token]
        assert (
            spec(unpinned.service("redis-valkey"))["image"] == "valkey/valkey:8.0.13-alpine"
        )  # Docker's familiar form

    def test_services_when_default_are_found_by_virtual_ip(self, three: Swarm) -> None:
        """Every service has Swarm's default endpoint mode, a virtual IP (the routing mesh publishes the port)."""
        assert {n: s.inputs["endpointSpec"]["mode"] for n, s in three.deployment.services().items()} == dict.fromkeys(
            SERVICES, "vip"
        )

    def test_services_when_dnsrr_resolve_tasks_and_publish_in_host_mode_stop_first(self) -> None:
        """``swarm.endpointMode: dnsrr`` (kernels without IPVS): every service is found by DNS round robin, the
        load balancer publishes in host mode and, as a host port is bound once per node, updates stop-first."""
        dnsrr = swarm({"openWebui": {"replicas": 3, "upgrade": "rolling"}, "swarm": {"endpointMode": "dnsrr"}})
        services = dnsrr.deployment.services()
        assert {n: s.inputs["endpointSpec"]["mode"] for n, s in services.items()} == dict.fromkeys(SERVICES, "dnsrr")
        assert services["open-webui-lb"].inputs["endpointSpec"]["ports"] == [
            {"targetPort": 8080, "publishedPort": 3000, "protocol": "tcp", "publishMode": "host"}
        ]
        assert services["open-webui-lb"].inputs["updateConfig"]["order"] == "stop-first"
        assert services["open-webui-replicas"].inputs["updateConfig"]["order"] == "start-first"
        single = swarm({"openWebui": {"upgrade": "rolling"}, "swarm": {"endpointMode": "dnsrr"}}).service("open-webui")
        assert single.inputs["endpointSpec"]["ports"][0]["publishMode"] == "host"
        assert single.inputs["updateConfig"]["order"] == "stop-first"

    def test_load_balancer_when_three_replicas_finds_both_services_by_dns(self, three: Swarm) -> None:
        """HAProxy's config has a server-template for tasks.open-webui and one for tasks.open-webui-replicas."""
        config = three.config_file("open-webui-lb", "/usr/local/etc/haproxy/haproxy.cfg")
        templates = [line.strip() for line in config.splitlines() if line.strip().startswith("server-template")]
        assert templates == [
            "server-template primary 2 tasks.open-webui:8080",
            "server-template replica 16 tasks.open-webui-replicas:8080",
        ]

    def test_load_balancer_when_three_replicas_waits_for_both_services(self, three: Swarm) -> None:
        """HAProxy is created after both Open WebUI services."""
        lb = three.service("open-webui-lb")
        assert lb.depends_on(three.service("open-webui"))
        assert lb.depends_on(three.service("open-webui-replicas"))

    def test_open_webui_when_one_replica_is_one_service_publishing_the_port(self, single: Swarm) -> None:
        """By default: one Open WebUI service on SQLite publishing 3000 itself; no HAProxy, no PostgreSQL."""
        assert sorted(single.deployment.services()) == ["open-webui", "redis-valkey"]
        open_webui = single.service("open-webui")
        assert replicas_of(open_webui) == 1
        assert open_webui.inputs["endpointSpec"]["ports"] == [
            {"targetPort": 8080, "publishedPort": 3000, "protocol": "tcp", "publishMode": "ingress"}
        ]
        assert "DATABASE_URL" not in {path.rsplit("/", 1)[1] for path in secret_files(open_webui)}
        assert single.deployment.outputs["url"] == "http://localhost:3000"
        assert not {"databaseUrl", "loadBalancerServiceName", "postgresServiceName"} & set(single.deployment.outputs)


SERVICES = ["redis-valkey", "open-webui-postgres", "open-webui", "open-webui-replicas", "open-webui-lb"]


class TestUpgradeStrategy:
    """openWebui.upgrade becomes Swarm's update order; every duration is written as the provider reads it back."""

    @pytest.mark.parametrize("name", ["open-webui", "open-webui-replicas"])
    def test_update_config_when_rolling_starts_one_new_task_first(self, name: str) -> None:
        """rolling: one task at a time, start-first, rolled back on failure, watched swarm.updateMonitor (30 s)."""
        service = swarm({"openWebui": {"replicas": 3, "upgrade": "rolling"}}).service(name)
        update = service.inputs["updateConfig"]
        assert (update["parallelism"], update["order"], update["failureAction"], update["monitor"]) == (
            1,
            "start-first",
            "rollback",
            "30s",
        )
        assert service.inputs["rollbackConfig"]["order"] == "start-first"

    def test_update_config_when_monitor_is_45_watches_45s(self) -> None:
        """swarm.updateMonitor 45 is "45s" on both Open WebUI services' update and rollback."""
        rendered = swarm({"openWebui": {"replicas": 2, "upgrade": "rolling"}, "swarm": {"updateMonitor": 45}})
        for name in ("open-webui", "open-webui-replicas"):
            service = rendered.service(name)
            assert service.inputs["updateConfig"]["monitor"] == service.inputs["rollbackConfig"]["monitor"] == "45s"

    @pytest.mark.parametrize("name", ["open-webui", "open-webui-replicas"])
    def test_update_config_when_recreate_stops_every_task_first(self, three: Swarm, name: str) -> None:
        """recreate (the default): every task at once (parallelism 0), stop-first."""
        update = three.service(name).inputs["updateConfig"]
        assert (update["parallelism"], update["order"], update["failureAction"]) == (0, "stop-first", "rollback")

    def test_converge_config_when_wait_timeouts_set_waits_for_each_service(self) -> None:
        """Each service's waitTimeout is its convergeConfig timeout, in the provider's short form."""
        rendered = swarm(
            {
                "openWebui": {"replicas": 2, "waitTimeout": 90},
                "valkey": {"waitTimeout": 3600},
                "database": {"waitTimeout": 120},
            }
        )
        timeouts = {n: s.inputs["convergeConfig"]["timeout"] for n, s in rendered.deployment.services().items()}
        assert timeouts == {
            "redis-valkey": "1h",
            "open-webui-postgres": "2m",
            "open-webui": "1m30s",
            "open-webui-replicas": "1m30s",
            "open-webui-lb": "1m",
        }

    def test_converge_config_when_default_waits_5m_for_open_webui(self, single: Swarm) -> None:
        """Open WebUI's default waitTimeout 300 is "5m" (not "300s" or "5m0s")."""
        assert single.service("open-webui").inputs["convergeConfig"] == {"delay": "2s", "timeout": "5m"}

    @pytest.mark.parametrize(
        "name",
        [name for name in SERVICES],
    )
    def test_service_durations_when_rendered_are_in_the_providers_short_form(self, three: Swarm, name: str) -> None:
        """Every duration of every service is what the provider reads back (5m, 1m30s, 0s; never 5m0s or 300s)."""
        fields = durations(three.service(name))
        assert {"convergeConfig.timeout", "updateConfig.monitor", "taskSpec.restartPolicy.delay"} <= set(fields)
        for path, value in fields.items():
            assert value, f"{name} {path} is empty"
            assert SHORT_DURATION.fullmatch(value), f"{name} {path}: {value!r}"
            assert value == go_short_duration(seconds_of(value)), f"{name} {path}: {value!r}"

    def test_go_short_duration_when_checked_matches_the_providers_examples(self) -> None:
        """The test's own reading of shortDur: Go's form minus a trailing 0s after m, then a trailing 0m after h."""
        assert [go_short_duration(s) for s in (0, 5, 60, 90, 300, 3600, 3630, 3660)] == [
            "0s",
            "5s",
            "1m",
            "1m30s",
            "5m",
            "1h",
            "1h0m30s",
            "1h1m",
        ]


class TestSecretRotation:
    """A changed secret is a new Docker secret under a new name; an unchanged one keeps its name."""

    def test_secret_key_when_changed_gets_a_new_name_the_service_follows(self) -> None:
        """Another openWebui.secretKey: the WEBUI_SECRET_KEY secret has another name, and open-webui mounts it;
        the other secrets keep theirs."""
        path = f"{SECRETS_DIR}/WEBUI_SECRET_KEY"
        first, second = (
            swarm({"openWebui": {"secretKey": key}}, secret_keys=("openWebui",)) for key in ("first-key", "second-key")
        )
        before, after = (secret_files(r.service("open-webui")) for r in (first, second))
        assert before[path] != after[path]
        assert first.secrets()[before[path]] == "first-key"
        assert second.secrets()[after[path]] == "second-key"
        resource = second.deployment.resource(SECRET, "open-webui-open-webui-secret-key")
        assert second.name_of(resource) == after[path]
        assert {p: n for p, n in before.items() if p != path} == {p: n for p, n in after.items() if p != path}

    def test_secret_names_when_rendered_twice_are_identical(self) -> None:
        """The same configuration twice gives every secret and config the same name: no spurious replacement."""
        config = {"openWebui": {"replicas": 2, "secretKey": "same-key"}}
        first, second = (swarm(config, secret_keys=("openWebui",)) for _ in range(2))
        assert first.secrets() == second.secrets()
        assert first.configs() == second.configs()
        assert first.deployment.outputs["secretNames"] == second.deployment.outputs["secretNames"]
        for name in first.deployment.services():
            assert first.service(name).inputs == second.service(name).inputs, name


class TestUploads:
    """swarm.uploads decides where Open WebUI's data lives and so where its tasks may run."""

    @pytest.mark.parametrize("name", ["open-webui", "open-webui-replicas"])
    def test_open_webui_when_uploads_local_stays_on_the_data_node(self, three: Swarm, name: str) -> None:
        """local (the default): every Open WebUI task on the data node, no spread preference."""
        assert three.service(name).inputs["taskSpec"]["placement"] == {"constraints": [DATA_NODE]}

    def test_open_webui_when_uploads_shared_volume_mounts_it_and_spreads(self) -> None:
        """shared-volume: the data volume with the local driver and the NFS options; spread, no constraint."""
        rendered = swarm(
            {
                "database": {"enabled": True},
                "swarm": {"uploads": "shared-volume", "sharedVolume": {"options": NFS_OPTIONS}},
            }
        )
        open_webui = rendered.service("open-webui")
        assert spec(open_webui)["mounts"] == [
            {
                "type": "volume",
                "source": "open-webui",
                "target": "/app/backend/data",
                "volumeOptions": {"driverName": "local", "driverOptions": NFS_OPTIONS},
            }
        ]
        assert open_webui.inputs["taskSpec"]["placement"] == {"prefs": ["spread=node.id"]}
        assert rendered.service("redis-valkey").inputs["taskSpec"]["placement"] == {"constraints": [DATA_NODE]}

    def test_open_webui_when_uploads_s3_gets_the_bucket_and_a_key_file(self) -> None:
        """s3: STORAGE_PROVIDER and the bucket settings in env; the secret access key only as a secret file."""
        rendered = swarm({"swarm": {"uploads": "s3", "s3": S3}}, secret_keys=("swarm",))
        open_webui = rendered.service("open-webui")
        env = task_env(rendered, "open-webui")
        assert {k: v for k, v in env.items() if k == "STORAGE_PROVIDER" or k.startswith("S3_")} == {
            "STORAGE_PROVIDER": "s3",
            "S3_BUCKET_NAME": "owui-uploads",
            "S3_REGION_NAME": "eu-west-1",
            "S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
        }
        assert "S3_SECRET_ACCESS_KEY" not in env
        path = f"{SECRETS_DIR}/S3_SECRET_ACCESS_KEY"
        assert rendered.secret_file("open-webui", path) == S3["secretAccessKey"]
        assert secret_files(open_webui)[path] in rendered.deployment.outputs["secretNames"]
        key = rendered.deployment.resource(SECRET, "open-webui-open-webui-s3-key")
        assert key.is_secret("data")

    def test_open_webui_when_uploads_s3_with_replicas_spreads(self) -> None:
        """s3 on PostgreSQL: nothing of Open WebUI's is node-local, so both services spread over the nodes."""
        rendered = swarm({"openWebui": {"replicas": 2}, "swarm": {"uploads": "s3", "s3": S3}}, secret_keys=("swarm",))
        for name in ("open-webui", "open-webui-replicas"):
            assert rendered.service(name).inputs["taskSpec"]["placement"] == {"prefs": ["spread=node.id"]}

    def test_open_webui_when_uploads_s3_on_sqlite_stays_on_the_data_node(self) -> None:
        """s3 with one replica on SQLite: the database is in the node-local data directory, so the task stays."""
        rendered = swarm({"swarm": {"uploads": "s3", "s3": S3}}, secret_keys=("swarm",))
        assert rendered.service("open-webui").inputs["taskSpec"]["placement"] == {"constraints": [DATA_NODE]}


class TestBadInput:
    """Swarm settings that cannot work are refused before anything is declared, each naming its key."""

    @pytest.mark.parametrize(
        ("config", "secret_keys", "problems"),
        [
            pytest.param(
                {"swarm": {"uploads": "local"}},
                (),
                ["swarm: is for `engine: swarm` (engine is 'docker'); remove it or set engine: swarm"],
                id="swarm section on docker by default",
            ),
            pytest.param(
                {"engine": "docker", "swarm": {}},
                (),
                ["swarm: is for `engine: swarm` (engine is 'docker'); remove it or set engine: swarm"],
                id="swarm section on docker",
            ),
            pytest.param(
                {**SWARM, "openWebui": {"bindAddress": "0.0.0.0"}},
                (),
                [
                    "openWebui.bindAddress: is for one Docker host (engine: docker) only; on Swarm the routing mesh "
                    "publishes the port on every interface of every node; put a firewall or a proxy in front instead "
                    '(got "0.0.0.0")'
                ],
                id="bindAddress",
            ),
            pytest.param(
                {**SWARM, "valkey": {"retainVolume": False}},
                (),
                [
                    "valkey.retainVolume: is for one Docker host (engine: docker) only; Swarm creates volumes on "
                    "each node and never removes them (docker volume rm) (got false)"
                ],
                id="retainVolume",
            ),
            pytest.param(
                {**SWARM, "loadBalancer": {"stickySessions": True}},
                (),
                [
                    "loadBalancer.stickySessions: is for one Docker host (engine: docker) only; Swarm's load "
                    "balancer resolves tasks by DNS and has no per-task cookie (got true)"
                ],
                id="stickySessions",
            ),
            pytest.param(
                {**SWARM, "swarm": {"uploads": "shared-volume"}},
                (),
                [
                    "swarm.uploads is 'shared-volume' but swarm.sharedVolume is not set; set swarm.sharedVolume (the "
                    "volume driver and its options, such as an NFS export), or set swarm.uploads to 'local' or 's3'"
                ],
                id="shared-volume without sharedVolume",
            ),
            pytest.param(
                {**SWARM, "swarm": {"uploads": "shared-volume", "sharedVolume": {"options": {"type": "nfs"}}}},
                (),
                [
                    "swarm.sharedVolume.options: the local driver needs `device` (for NFS also `type: nfs` and "
                    "`o: addr=<server>,...`); without it each node gets its own empty volume"
                ],
                id="local driver without device",
            ),
            pytest.param(
                {**SWARM, "swarm": {"uploads": "s3", "s3": {"bucket": "Bad_Bucket"}}},
                (),
                [
                    "swarm.s3.bucket: must be an S3 bucket name: 3 to 63 lower-case letters, digits, '.' or '-' "
                    "(got 'Bad_Bucket')"
                ],
                id="bucket",
            ),
            pytest.param(
                {**SWARM, "swarm": {"uploads": "s3", "s3": {"bucket": "owui", "accessKeyId": "AKIAEXAMPLE"}}},
                (),
                [
                    "swarm.s3.accessKeyId and swarm.s3.secretAccessKey go together: set both (the key with "
                    "`pulumi config set --secret --path swarm.s3.secretAccessKey <value>`), or neither to use the "
                    "credentials of the nodes or the environment"
                ],
                id="accessKeyId without secretAccessKey",
            ),
            pytest.param(
                {**SWARM, "swarm": {"uploads": "s3", "s3": S3}},
                (),
                [
                    "swarm.s3.secretAccessKey: is stored in plain text; set it with "
                    "`pulumi config set --secret --path swarm.s3.secretAccessKey <value>`"
                ],
                id="secretAccessKey in plain text",
            ),
            pytest.param(
                {**SWARM, "openWebui": {"env": {"STORAGE_PROVIDER": "s3"}}},
                (),
                [
                    "openWebui.env.STORAGE_PROVIDER: on Swarm the stack sets Open WebUI's storage from "
                    "swarm.uploads (and swarm.s3, whose secret key goes in a Docker secret); remove it from env"
                ],
                id="STORAGE_PROVIDER in env",
            ),
            pytest.param(
                {"engine": "kubernetes"},
                (),
                ["engine: Input should be 'docker' or 'swarm' (got 'kubernetes')"],
                id="engine",
            ),
        ],
    )
    def test_program_when_swarm_setting_is_bad_names_key_value_and_allowed(
        self, config: dict[str, Any], secret_keys: tuple[str, ...], problems: list[str]
    ) -> None:
        """The program stops with exactly these problem lines and declares nothing."""
        assert problems_of(config, secret_keys) == problems

    def test_program_when_secret_access_key_is_plain_text_never_prints_it(self) -> None:
        """The plain-text S3 key is refused by its key path; its value is in no problem."""
        problems = problems_of({**SWARM, "swarm": {"uploads": "s3", "s3": S3}})
        assert any("swarm.s3.secretAccessKey: is stored in plain text" in problem for problem in problems)
        assert all(str(S3["secretAccessKey"]) not in problem for problem in problems)


class TestTypeTokens:
    """Swarm components have their own type tokens; the single-host stack has none of them."""

    def test_swarm_stack_when_rendered_uses_swarm_type_tokens(self, stack_file: Swarm) -> None:
        """SwarmStack, OverlayNetwork, Valkey, Postgres, OpenWebUI and LoadBalancer under open-webui-redis:swarm,
        and every resource is inside the SwarmStack."""
        types = {r.type for r in stack_file.deployment.resources if r.type.startswith("open-webui-redis:")}
        assert types == {
            f"open-webui-redis:swarm:{kind}"
            for kind in ("SwarmStack", "OverlayNetwork", "Valkey", "Postgres", "OpenWebUI", "LoadBalancer")
        }
        (root,) = stack_file.deployment.of_type("open-webui-redis:swarm:SwarmStack")
        urns = {r.urn for r in stack_file.deployment.resources}
        for resource in stack_file.deployment.resources:
            ancestor = resource
            while ancestor is not root:
                assert ancestor.parent in urns, f"{resource.urn} is not inside the SwarmStack"
                ancestor = stack_file.deployment.by_urn(ancestor.parent)

    def test_default_stack_when_rendered_declares_no_swarm_types(self) -> None:
        """engine: docker (the default) declares containers and no open-webui-redis:swarm resource or service."""
        deployment = render({})
        assert not [r.type for r in deployment.resources if r.type.startswith("open-webui-redis:swarm:")]
        assert deployment.of_type(SERVICE) == []


class TestEntrypointWrapper:
    """ENTRYPOINT_SCRIPT, really run by sh: each secret file named like a variable is exported, then exec."""

    REDIS_URL = b"redis://default:p%40ss%22w$rd@redis:6379/1"
    SECRET_KEY = b"a key with spaces, 'single' and \"double\" quotes, `backticks`, $HOME and $(echo x)"

    def wrapper(self, tmp_path: Path) -> Path:
        """The script with SECRETS_DIR replaced by a temp directory of secret files, some to be ignored."""
        secrets = tmp_path / "secrets"
        secrets.mkdir()
        (secrets / "REDIS_URL").write_bytes(self.REDIS_URL)
        (secrets / "WEBUI_SECRET_KEY").write_bytes(self.SECRET_KEY)
        for ignored in ("lower-case", "9BAD", "valkey-auth.conf"):
            (secrets / ignored).write_bytes(b"ignored")
        (secrets / "DIRECTORY").mkdir()
        script = tmp_path / "entrypoint"
        assert SECRETS_DIR in ENTRYPOINT_SCRIPT
        script.write_text(
            ENTRYPOINT_SCRIPT.replace(STACK_ENV_PATH, str(tmp_path / "stack.env")).replace(SECRETS_DIR, str(secrets))
        )
        return script

    def test_entrypoint_when_run_sources_the_stack_env_then_open_webui_env_then_secret_files(
        self, tmp_path: Path
    ) -> None:
        """The stack's variables, openWebui.env over its defaults (CORS_ALLOW_ORIGIN), and the secret files over
        both, every value as written by env_file (quotes, $, newlines kept)."""
        script = self.wrapper(tmp_path)
        (tmp_path / "stack.env").write_text(
            env_file({"CORS_ALLOW_ORIGIN": "http://localhost:3000", "WEBSOCKET_MANAGER": "redis"})
        )
        tricky = 'it\'s "$(echo no)" `x` $HOME\nline two'
        (tmp_path / "secrets" / EXTRA_ENV_PATH.rsplit("/", 1)[1]).write_text(
            env_file({"CORS_ALLOW_ORIGIN": "https://chat.example.com", "OPENAI_API_KEY": tricky})
        )
        result = subprocess.run(
            ["sh", str(script), "env", "-0"], env={"PATH": os.environ["PATH"]}, capture_output=True, check=True
        )
        exported = dict(entry.split(b"=", 1) for entry in result.stdout.split(b"\0") if entry)
        assert exported[b"WEBSOCKET_MANAGER"] == b"redis"
        assert exported[b"CORS_ALLOW_ORIGIN"] == b"https://chat.example.com"
        assert exported[b"OPENAI_API_KEY"] == tricky.encode()
        assert exported[b"REDIS_URL"] == self.REDIS_URL

    def test_entrypoint_when_run_exports_the_secret_files_byte_for_byte(self, tmp_path: Path) -> None:
        """REDIS_URL and WEBUI_SECRET_KEY reach the command exactly; other names and directories do not."""
        result = subprocess.run(
            ["sh", str(self.wrapper(tmp_path)), "env", "-0"],
            env={"PATH": os.environ["PATH"]},
            capture_output=True,
            check=True,
        )
        exported = dict(entry.split(b"=", 1) for entry in result.stdout.split(b"\0") if entry)
        assert exported[b"REDIS_URL"] == self.REDIS_URL
        assert exported[b"WEBUI_SECRET_KEY"] == self.SECRET_KEY
        assert not {b"lower-case", b"9BAD", b"valkey-auth.conf", b"DIRECTORY"} & set(exported)
        assert b"ignored" not in exported.values()

    def test_entrypoint_when_run_execs_its_arguments(self, tmp_path: Path) -> None:
        """The arguments replace the wrapper: their exit status is the task's."""
        result = subprocess.run(
            ["sh", str(self.wrapper(tmp_path)), "sh", "-c", "exit 7"], env={"PATH": os.environ["PATH"]}, check=False
        )
        assert result.returncode == 7

    def test_entrypoint_when_no_secret_files_runs_the_command(self, tmp_path: Path) -> None:
        """An empty secrets directory (the unmatched glob) is no error under set -eu."""
        script = tmp_path / "entrypoint"
        (tmp_path / "empty").mkdir()
        script.write_text(ENTRYPOINT_SCRIPT.replace(SECRETS_DIR, str(tmp_path / "empty")))
        result = subprocess.run(
            ["sh", str(script), "sh", "-c", "echo ran"], env={"PATH": os.environ["PATH"]}, capture_output=True
        )
        assert (result.returncode, result.stdout) == (0, b"ran\n")


class TestSwarmNames:
    """Service, alias and network names on Swarm: swarmkit's rule, no collision, checked before anything is declared."""

    def test_names_when_not_swarm_names_are_refused_quickly_with_the_rule(self) -> None:
        """A dotted or over-long name is refused with swarmkit's rule; a long dotted one does not make the check
        backtrack (it returns at once)."""
        long_dotted = "ourcompanyopenwebuiproductionxxxxxxxxxxxxxxxxxxxxxxxx.net"
        assert problems_of({**SWARM, "network": {"name": long_dotted}, "valkey": {"containerName": "my.valkey"}}) == [
            "valkey.containerName: 'my.valkey' is not a Swarm service or network name: letters and digits, with '-' "
            "or '_' between them, at most 63 characters",
            f"network.name: {long_dotted!r} is not a Swarm service or network name: letters and digits, with '-' or "
            "'_' between them, at most 63 characters",
        ]

    def test_names_when_they_collide_ignoring_case_are_refused(self) -> None:
        """Two services whose names differ only by case collide (Swarm and DNS ignore case); a service may share
        its name with its own alias."""
        assert problems_of(
            {**SWARM, "database": {"enabled": True}, "loadBalancer": {"containerName": "Redis-Valkey"}}
        ) == [
            "valkey.containerName and loadBalancer.containerName are both 'redis-valkey'; on Swarm service names and "
            "aliases are host names on the overlay network and must differ"
        ]
        render({**SWARM, "valkey": {"containerName": "redis", "alias": "redis"}})

    def test_load_balancer_name_when_one_replica_on_postgres_is_checked(self) -> None:
        """HAProxy runs on PostgreSQL at any count, so its name is checked with one replica too."""
        assert problems_of({**SWARM, "database": {"enabled": True}, "loadBalancer": {"containerName": "lb.x"}}) == [
            "loadBalancer.containerName: 'lb.x' is not a Swarm service or network name: letters and digits, with '-' "
            "or '_' between them, at most 63 characters"
        ]

    def test_replica_names_when_on_swarm_are_not_the_single_hosts(self) -> None:
        """``open-webui-1`` is a container name on one host only: on Swarm a service may take it."""
        render({**SWARM, "openWebui": {"replicas": 2}, "valkey": {"containerName": "open-webui-1"}})

    def test_shared_volume_when_on_sqlite_is_refused(self) -> None:
        """SQLite's webui.db would be on the shared volume: refused, with the two ways out."""
        shared = {"uploads": "shared-volume", "sharedVolume": {"options": {"device": ":/x"}}}
        assert problems_of({**SWARM, "swarm": shared}) == [
            "swarm.uploads is 'shared-volume' with Open WebUI on SQLite (one replica, no database): its webui.db would "
            "be on the shared volume, where SQLite's locking is unreliable; set database.enabled: true (PostgreSQL), "
            "or swarm.uploads 'local'"
        ]


class TestImageReferences:
    """Images as Docker's client writes them into a service spec (normalised, then familiar)."""

    @pytest.mark.parametrize(
        ("reference", "kept"),
        [
            ("docker.io/library/haproxy:2.6-alpine", "haproxy:2.6-alpine"),
            ("library/haproxy:2.6-alpine", "haproxy:2.6-alpine"),
            ("index.docker.io/library/redis:7", "redis:7"),
            ("docker.io/valkey/valkey:8.0.1-alpine", "valkey/valkey:8.0.1-alpine"),
            ("valkey/valkey:8.0.1-alpine", "valkey/valkey:8.0.1-alpine"),
            ("docker.io/library/a/b:1", "library/a/b:1"),
            ("ghcr.io/open-webui/open-webui:main", "ghcr.io/open-webui/open-webui:main"),
            ("localhost:5000/owui:1", "localhost:5000/owui:1"),
        ],
    )
    def test_service_image_when_pinning_is_off_is_the_familiar_form(self, reference: str, kept: str) -> None:
        """What reference/FamiliarString give for each (as read from Docker's distribution/reference package)."""
        rendered = swarm({"openWebui": {"image": reference}, "swarm": {"pinImages": False}})
        assert spec(rendered.service("open-webui"))["image"] == kept

    def test_service_image_when_already_pinned_is_not_looked_up_again(self) -> None:
        """A reference with a digest keeps it (familiar form), with no registry lookup and no second digest."""
        pinned = "docker.io/valkey/valkey:8.0.1-alpine@sha256:" + "a" * 64
        rendered = swarm({"valkey": {"image": pinned}})
        assert spec(rendered.service("redis-valkey"))["image"] == "valkey/valkey:8.0.1-alpine@sha256:" + "a" * 64
        assert pinned not in [
            args["name"] for token, args in rendered.deployment.invokes if "getRegistryImage" in token
        ]


class TestPublicUrlWarning:
    """Without openWebui.publicUrl, a Swarm stack warns that websockets are accepted only from localhost."""

    def test_public_url_when_unset_warns_and_when_set_does_not(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """One warning naming the key without publicUrl (or CORS_ALLOW_ORIGIN); none with either."""
        warnings: list[str] = []
        monkeypatch.setattr(pulumi.log, "warn", lambda message, resource=None, **_: warnings.append(message))
        swarm()
        assert len(warnings) == 1
        assert warnings[0].startswith("openWebui.publicUrl is not set")
        warnings.clear()
        swarm({"openWebui": {"publicUrl": "https://chat.example.com"}})
        swarm({"openWebui": {"env": {"CORS_ALLOW_ORIGIN": "https://chat.example.com"}}})
        assert warnings == []
