"""Each component on its own under Pulumi's mocks: what it declares, with which options and outputs."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pulumi
import pytest
from pydantic import SecretStr

from components import (
    Network,
    NetworkSettings,
    OpenWebUI,
    OpenWebUISettings,
    OpenWebUIStack,
    StackSettings,
    Valkey,
    ValkeySettings,
    rules,
)
from components.core.config import ConfigurationError
from components.core.open_webui import PROBE_PATH
from components.testing import Deployment, StackMocks, run
from tests.harness.loopback import PROBE_FILE

CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
NETWORK = "docker:index/network:Network"
PASSWORD = "random:index/randomPassword:RandomPassword"


def resolved(output: pulumi.Output[Any], into: dict[str, Any], key: str) -> None:
    """Record an output's value and secretness once the run resolves it."""

    async def grab() -> None:
        into[key] = await output.future()
        into[f"{key}.secret"] = await output.is_secret()

    pending: Any = asyncio.ensure_future(grab())
    pulumi.Output.from_input(pending).apply(lambda _: None)


class TestNetwork:
    """The Network component creates a bridge network or adopts an existing one."""

    def test_network_when_not_external_creates_a_named_bridge(self) -> None:
        """A new network is declared with the configured name."""
        seen: dict[str, Any] = {}
        deployment = run(lambda: resolved(Network("net", NetworkSettings(name="n1")).network_name, seen, "name"))
        (network,) = deployment.of_type(NETWORK)
        assert network.inputs == {"name": "n1", "driver": "bridge"}
        assert seen["name"] == "n1"
        assert deployment.invokes == []

    def test_network_when_external_looks_it_up_and_declares_nothing(self) -> None:
        """An adopted network is read with getNetwork and is never created (so never deleted)."""
        seen: dict[str, Any] = {}
        deployment = run(
            lambda: resolved(Network("net", NetworkSettings(name="shared", external=True)).network_id, seen, "id"),
            mocks=StackMocks(existing_networks=["shared"]),
        )
        assert deployment.of_type(NETWORK) == []
        assert deployment.invokes == [("docker:index/getNetwork:getNetwork", {"name": "shared"})]
        assert seen["id"] == "shared-id"

    def test_network_when_external_is_missing_fails(self) -> None:
        """Adopting a network that does not exist fails at preview, before any container."""
        with pytest.raises(Exception, match="network shared not found"):
            run(
                lambda: resolved(Network("net", NetworkSettings(name="shared", external=True)).network_id, {}, "id"),
                mocks=StackMocks(existing_networks=[]),
            )


def valkey_run(settings: ValkeySettings, seen: dict[str, Any] | None = None, **kwargs: Any) -> Deployment:
    seen = {} if seen is None else seen

    def build() -> None:
        valkey = Valkey("cache", settings, network_name="net")
        resolved(valkey.redis_url, seen, "redis_url")
        resolved(valkey.url_for_database(5), seen, "url5")
        resolved(valkey.container_name, seen, "container_name")
        resolved(valkey.volume_name, seen, "volume_name")

    return run(build, **kwargs)


class TestValkey:
    """The Valkey component: volume, password, hardened healthchecked container, Redis URL."""

    def test_valkey_when_default_declares_volume_password_image_and_container(self) -> None:
        """Four children, all parented to the component."""
        deployment = valkey_run(ValkeySettings())
        (component,) = deployment.of_type("open-webui-redis:index:Valkey")
        children = [r for r in deployment.resources if r.parent == component.urn]
        assert sorted(r.name for r in children) == ["cache-container", "cache-data", "cache-image", "cache-password"]

    def test_valkey_when_default_runs_the_tutorial_command_plus_current_flags(self) -> None:
        """valkey-server gets the auth file, --save 30 1 and the docs' long-lived client flags."""
        container = valkey_run(ValkeySettings()).container("redis-valkey")
        assert container.command == [
            "valkey-server",
            "/usr/local/etc/valkey/auth.conf",
            "--port",
            "6379",
            "--save",
            "30",
            "1",
            "--appendonly",
            "no",
            "--maxclients",
            "10000",
            "--timeout",
            "1800",
            "--maxmemory-policy",
            "noeviction",
        ]

    def test_valkey_when_default_is_hardened_like_the_tutorial(self) -> None:
        """Capabilities dropped but three, bounded json-file logs (10 MB x 3), unless-stopped, no published port."""
        inputs = valkey_run(ValkeySettings()).container("redis-valkey").resource.inputs
        # In the form Docker's Go client sends and the provider reads back (CAP_ prefix, sorted).
        assert inputs["capabilities"] == {"drops": ["ALL"], "adds": ["CAP_DAC_OVERRIDE", "CAP_SETGID", "CAP_SETUID"]}
        assert inputs["logDriver"] == "json-file"
        assert inputs["logOpts"] == {"max-size": "10m", "max-file": "3"}
        assert inputs["restart"] == "unless-stopped"
        assert "ports" not in inputs
        assert inputs["volumes"] == [{"volumeName": "redis-data", "containerPath": "/data"}]
        assert inputs["networksAdvanced"] == [{"name": "net", "aliases": ["redis"]}]

    def test_valkey_healthcheck_when_default_pings_with_one_dollar_and_waits(self) -> None:
        """Docker's API does no interpolation: one `$`; `pulumi up` waits for healthy."""
        container = valkey_run(ValkeySettings()).container("redis-valkey")
        assert container.healthcheck == {
            "tests": ["CMD-SHELL", '[ "$(valkey-cli -p 6379 ping)" = PONG ]'],
            "startPeriod": "5s",
            "interval": "1s",
            "timeout": "3s",
            "retries": 5,
        }
        assert container.resource.inputs["wait"] is True
        assert container.resource.inputs["waitTimeout"] == 60

    def test_valkey_container_when_replaced_stops_gracefully(self) -> None:
        """Replace and destroy stop Valkey with SIGTERM and 30 s to save, instead of a forced removal."""
        inputs = valkey_run(ValkeySettings()).container("redis-valkey").resource.inputs
        assert inputs["destroyGraceSeconds"] == 30
        assert inputs["stopTimeout"] == 30

    def test_valkey_container_when_declared_avoids_pulumi_docker_traps(self) -> None:
        """Healthcheck edits replace the container; the fixed name needs delete-before-replace."""
        resource = valkey_run(ValkeySettings()).container("redis-valkey").resource
        assert resource.replace_on_changes == ["healthcheck"]
        assert resource.delete_before_replace is True
        assert resource.inputs["name"] == "redis-valkey"

    def test_valkey_when_auth_on_puts_password_only_in_secrets(self) -> None:
        """The password reaches the server through a secret upload and the healthcheck through a secret env."""
        container = valkey_run(ValkeySettings()).container("redis-valkey")
        password = container.env["REDISCLI_AUTH"]
        assert len(password) == 32
        assert container.uploads == {"/usr/local/etc/valkey/auth.conf": f"requirepass {_quoted(password)}\n"}
        assert container.resource.is_secret("envs")
        assert container.resource.is_secret("uploads")
        assert all(password not in part for part in container.command)

    def test_valkey_when_auth_off_has_no_password_anywhere(self) -> None:
        """With auth off: no generated password, no env, no upload, no config file argument."""
        seen: dict[str, Any] = {}
        deployment = valkey_run(ValkeySettings(auth=False), seen)
        container = deployment.container("redis-valkey")
        assert deployment.of_type(PASSWORD) == []
        assert container.env == {}
        assert container.uploads == {}
        assert container.command[:3] == ["valkey-server", "--port", "6379"]
        assert seen["redis_url"] == "redis://redis:6379/1"

    def test_valkey_when_password_given_uses_it_and_generates_none(self) -> None:
        """A supplied password is used as is, and stays secret."""
        seen: dict[str, Any] = {}
        deployment = valkey_run(ValkeySettings(password=SecretStr("p@ss/w:rd%")), seen)
        assert deployment.of_type(PASSWORD) == []
        assert deployment.container("redis-valkey").env["REDISCLI_AUTH"] == "p@ss/w:rd%"
        assert seen["redis_url"] == "redis://default:p%40ss%2Fw%3Ard%25@redis:6379/1"
        assert seen["redis_url.secret"] is True

    def test_valkey_generated_password_when_declared_uses_every_punctuation_mark(self) -> None:
        """The generator may produce any printable character, so URLs must encode it."""
        (password,) = valkey_run(ValkeySettings()).of_type(PASSWORD)
        assert password.inputs["length"] == 32
        assert password.inputs["special"] is True
        assert set(password.inputs["overrideSpecial"]) == set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

    def test_valkey_redis_url_when_built_depends_on_the_container_and_is_secret(self) -> None:
        """The URL names the alias, the port and the database, and is secret."""
        seen: dict[str, Any] = {}
        deployment = valkey_run(ValkeySettings(password=SecretStr("pw"), alias="cache", port=6380, database=3), seen)
        assert seen["redis_url"] == "redis://default:pw@cache:6380/3"
        assert seen["url5"] == "redis://default:pw@cache:6380/5"
        assert seen["redis_url.secret"]
        assert seen["url5.secret"]
        assert deployment.container("redis-valkey").command[1:4] == [
            "/usr/local/etc/valkey/auth.conf",
            "--port",
            "6380",
        ]

    @pytest.mark.parametrize("database", [-1, 16])
    def test_valkey_url_for_database_when_out_of_range_refuses(self, database: int) -> None:
        """Another consumer's database must exist on the server (0-15)."""

        def build() -> None:
            Valkey("cache", ValkeySettings(), network_name="net").url_for_database(database)

        bounds = r"Input should be (greater|less) than or equal to (0|15)"
        with pytest.raises(ValueError, match=rf"database: {bounds} \(got {database}\)"):
            run(build)

    def test_valkey_when_settings_changed_passes_them_through(self) -> None:
        """Every Valkey setting reaches the container."""
        settings = ValkeySettings(
            image="docker.io/valkey/valkey:8.1.4-alpine",
            container_name="v",
            volume_name="vdata",
            save="",
            append_only=True,
            append_fsync="always",
            max_clients=50,
            timeout=0,
            max_memory="256mb",
            max_memory_policy="volatile-lru",
            restart="always",
            wait_timeout=120,
            retain_volume=False,
            auth=False,
        )
        deployment = valkey_run(settings)
        container = deployment.container("v")
        assert container.image == "docker.io/valkey/valkey:8.1.4-alpine"
        assert container.command == [
            "valkey-server",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--maxclients",
            "50",
            "--timeout",
            "0",
            "--maxmemory",
            "256mb",
            "--maxmemory-policy",
            "volatile-lru",
        ]
        assert container.resource.inputs["restart"] == "always"
        assert container.resource.inputs["waitTimeout"] == 120
        (volume,) = deployment.of_type(VOLUME)
        assert volume.inputs["name"] == "vdata"
        assert volume.retain_on_delete is False

    def test_valkey_volume_when_default_survives_destroy(self) -> None:
        """The data volume is retained on delete unless a throwaway stack says otherwise."""
        (volume,) = valkey_run(ValkeySettings()).of_type(VOLUME)
        assert volume.retain_on_delete is True


def _quoted(password: str) -> str:
    from components.core.valkey import config_quote

    return config_quote(password)


def owui_run(settings: OpenWebUISettings, seen: dict[str, Any] | None = None) -> Deployment:
    seen = {} if seen is None else seen

    def build() -> None:
        owui = OpenWebUI(
            "ui", settings, network_name="net", redis_url=pulumi.Output.secret("redis://default:pw@redis:6379/1")
        )
        resolved(owui.url, seen, "url")
        resolved(owui.secret_key, seen, "secret_key")
        resolved(owui.oauth_session_token_encryption_key, seen, "oauth_key")

    return run(build)


class TestOpenWebUI:
    """The OpenWebUI component: Valkey-managed websockets, stable secret key, published on loopback."""

    def test_open_webui_when_default_sets_websocket_env_from_the_redis_url(self) -> None:
        """Both Redis URLs, the websocket manager, generated stable keys, the browsers' origin, one worker."""
        seen: dict[str, Any] = {}
        container = owui_run(OpenWebUISettings(), seen).container("open-webui")
        assert container.env == {
            "ENABLE_WEBSOCKET_SUPPORT": "true",
            "WEBSOCKET_MANAGER": "redis",
            "WEBSOCKET_REDIS_URL": "redis://default:pw@redis:6379/1",
            "REDIS_URL": "redis://default:pw@redis:6379/1",
            "WEBUI_SECRET_KEY": seen["secret_key"],
            "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY": seen["oauth_key"],
            "CORS_ALLOW_ORIGIN": "http://127.0.0.1:3000;http://localhost:3000",
            "UVICORN_WORKERS": "1",
            # Keepalive on every Redis connection (the container's sysctls end a silent one), and a connection
            # check every 5 s that makes each listener notice (openWebui.selfHeal).
            "REDIS_HEALTH_CHECK_INTERVAL": "5",
            "REDIS_SOCKET_KEEPALIVE": "true",
            "WEBSOCKET_REDIS_OPTIONS": '{"health_check_interval":5,"socket_keepalive":true}',
        }
        assert container.resource.inputs["sysctls"] == {
            "net.ipv4.tcp_keepalive_intvl": "2",
            "net.ipv4.tcp_keepalive_probes": "3",
            "net.ipv4.tcp_keepalive_time": "4",
            "net.ipv4.tcp_retries2": "5",
        }
        assert len(seen["secret_key"]) == 48
        assert len(seen["oauth_key"]) == 48  # not 44: Open WebUI would read 44 characters as a Fernet key
        assert seen["oauth_key"] != seen["secret_key"]
        assert seen["secret_key.secret"] is True
        assert seen["oauth_key.secret"] is True
        assert container.resource.is_secret("envs")

    def test_open_webui_when_default_publishes_8080_on_loopback_3000(self) -> None:
        """Port 8080 is published on 127.0.0.1:3000 and the URL says so."""
        seen: dict[str, Any] = {}
        container = owui_run(OpenWebUISettings(), seen).container("open-webui")
        assert container.ports == [{"internal": 8080, "external": 3000, "ip": "127.0.0.1"}]
        assert seen["url"] == "http://127.0.0.1:3000"

    @pytest.mark.parametrize(
        ("bind", "url"),
        [("0.0.0.0", "http://localhost:8081"), ("::1", "http://[::1]:8081"), ("192.0.2.7", "http://192.0.2.7:8081")],
    )
    def test_open_webui_url_when_bound_elsewhere_follows_the_address(self, bind: str, url: str) -> None:
        """The output URL is what a browser on the host opens."""
        seen: dict[str, Any] = {}
        container = owui_run(OpenWebUISettings(bind_address=bind, host_port=8081), seen).container("open-webui")
        assert container.ports == [{"internal": 8080, "external": 8081, "ip": bind}]
        assert seen["url"] == url

    def test_open_webui_healthcheck_when_declared_reports_within_seconds(self) -> None:
        """Probes every 5 s (no start interval: Docker 20.10 refuses one), so `pulumi up` waits at most about 5 s
        after Open WebUI answers; each check sends an event through Redis back to this replica (the probe the
        container is given), and a replica deaf for 20 s while Redis answers fails one check: unhealthy."""
        container = owui_run(OpenWebUISettings()).container("open-webui")
        assert container.healthcheck == {
            "tests": [
                "CMD-SHELL",
                "python3 /usr/local/lib/open-webui-redis/probe.py health --deadline 2 --unhealthy-after 20",
            ],
            "startPeriod": "5m0s",
            "interval": "5s",
            "timeout": "5s",
            "retries": 1,
        }
        [probe] = [u for u in container.resource.inputs["uploads"] if u["file"] == PROBE_PATH]
        assert probe["content"] == PROBE_FILE.read_text()
        assert container.resource.inputs["wait"] is True
        assert container.resource.inputs["waitTimeout"] == 300
        assert container.resource.inputs["destroyGraceSeconds"] == 30
        assert container.resource.replace_on_changes == ["healthcheck"]

    @pytest.mark.parametrize(("interval", "timeout"), [("30", 30), ("45", 30), ("0", 1800), (None, 1)])
    def test_open_webui_when_the_interval_is_not_below_the_redis_timeout_refuses_before_declaring(
        self, interval: str | None, timeout: int
    ) -> None:
        """The component applies the stack's rule on its own: an interval from 1 s to below the server's timeout."""
        env = {"REDIS_HEALTH_CHECK_INTERVAL": interval} if interval is not None else {}
        mocks = StackMocks()

        def build() -> None:
            OpenWebUI("ui", OpenWebUISettings(env=env), "net", "redis://redis:6379/1", redis_idle_timeout=timeout)

        expected = rules.health_check_interval_problem(
            interval, timeout, env="settings.env.REDIS_HEALTH_CHECK_INTERVAL", timeout_key="redis_idle_timeout"
        )
        assert expected is not None
        with pytest.raises(ConfigurationError, match=re.escape(expected)):
            run(build, mocks=mocks)
        assert mocks.declared == []

    def test_open_webui_when_secret_key_given_uses_it(self) -> None:
        """A supplied WEBUI_SECRET_KEY is used as is and no key is generated."""
        seen: dict[str, Any] = {}
        settings = OpenWebUISettings(
            secret_key=SecretStr("k" * 40), oauth_session_token_encryption_key=SecretStr("o" * 40)
        )
        deployment = owui_run(settings, seen)
        assert deployment.of_type(PASSWORD) == []
        env = deployment.container("open-webui").env
        assert env["WEBUI_SECRET_KEY"] == "k" * 40
        assert env["OAUTH_SESSION_TOKEN_ENCRYPTION_KEY"] == "o" * 40
        assert seen["secret_key.secret"] is True
        assert seen["oauth_key.secret"] is True

    def test_open_webui_when_extra_env_given_adds_it_beside_the_managed_env(self) -> None:
        """Extra variables are added; the managed ones keep their values."""
        container = owui_run(OpenWebUISettings(env={"ENABLE_SIGNUP": "false"})).container("open-webui")
        assert container.env["ENABLE_SIGNUP"] == "false"
        assert container.env["WEBSOCKET_MANAGER"] == "redis"

    def test_open_webui_when_settings_changed_passes_them_through(self) -> None:
        """Image, names, restart, wait and retention reach the resources."""
        settings = OpenWebUISettings(
            image="ghcr.io/open-webui/open-webui:v0.12.4",
            container_name="ui",
            volume_name="ui-data",
            restart="on-failure",
            wait_timeout=900,
            retain_volume=False,
        )
        deployment = owui_run(settings)
        container = deployment.container("ui")
        assert container.image == "ghcr.io/open-webui/open-webui:v0.12.4"
        assert container.volumes == {"/app/backend/data": "ui-data"}
        assert container.resource.inputs["restart"] == "on-failure"
        assert container.resource.inputs["waitTimeout"] == 900
        (volume,) = deployment.of_type(VOLUME)
        assert volume.retain_on_delete is False


class TestOpenWebUIStack:
    """The stack component wires Valkey's URL into Open WebUI: the graph orders them."""

    def test_stack_when_declared_orders_open_webui_after_valkey_by_data_alone(self) -> None:
        """Open WebUI's container depends on Valkey's container through its env, with no depends_on."""
        deployment = run(lambda: OpenWebUIStack("s", StackSettings()))
        valkey = deployment.container("redis-valkey").resource
        owui = deployment.container("open-webui").resource
        assert owui.depends_on(valkey)
        assert valkey.urn in owui.property_dependencies["envs"]
        assert not valkey.depends_on(owui)
        # Only data edges: each dependency is also a property dependency (no explicit depends_on).
        property_urns = {urn for urns in owui.property_dependencies.values() for urn in urns}
        assert set(owui.dependencies) == property_urns

    def test_stack_when_declared_parents_every_child_to_its_component(self) -> None:
        """The tree is stack -> network/valkey/open-webui -> resources, named after their parent."""
        deployment = run(lambda: OpenWebUIStack("s", StackSettings()))
        (stack,) = deployment.of_type("open-webui-redis:index:OpenWebUIStack")
        components = {r.name: r for r in deployment.resources if r.parent == stack.urn}
        assert sorted(components) == ["s-network", "s-open-webui", "s-valkey"]
        for component in components.values():
            children = [r for r in deployment.resources if r.parent == component.urn]
            assert children, component.urn
            assert all(child.name.startswith(component.name + "-") for child in children), component.urn

    def test_stack_when_network_external_attaches_both_containers_to_it(self) -> None:
        """Both containers join the adopted network and no network is created."""
        deployment = run(
            lambda: OpenWebUIStack("s", StackSettings(network=NetworkSettings(name="corp", external=True))),
            mocks=StackMocks(existing_networks=["corp"]),
        )
        assert deployment.of_type(NETWORK) == []
        assert deployment.container("redis-valkey").networks == {"corp": ["redis"]}
        assert deployment.container("open-webui").networks == {"corp": []}


class TestFailuresAreCaught:
    """Guards against tests that cannot fail under mocks."""

    def test_assertion_inside_apply_when_false_fails_the_run(self) -> None:
        """A false assertion inside an Output's apply surfaces as a failure, not a silent pass."""

        def build() -> None:
            valkey = Valkey("cache", ValkeySettings(auth=False), network_name="net")
            valkey.redis_url.apply(lambda url: _assert_equal(url, "redis://wrong:6379/1"))

        with pytest.raises(AssertionError, match="redis://redis:6379/1 != redis://wrong:6379/1"):
            run(build)


def _assert_equal(actual: str, expected: str) -> None:
    assert actual == expected, f"{actual} != {expected}"
