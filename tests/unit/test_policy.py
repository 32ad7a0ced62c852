"""The policy pack (policy/): every rule on resources rendered from the stacks by components.testing.render.

A rule sees a resource as the policy server hands it over: the rendered inputs are put in the engine's wire
format (secrets marked), read back as the server reads them once ``keep_secret_markers`` is on, and wrapped in
pulumi-policy's unknown-checking proxy. Each test then calls ``policy.validate`` directly (no CLI here); the
last tests run the whole dev stack through pulumi-policy's own server code (``Analyze``).
"""

from __future__ import annotations

import copy
import inspect
import re
import runpy
import sys
from typing import Any

import pulumi_policy
import pulumi_policy.policy
import pytest
import yaml
from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from components.core.images import BRANCH_TAGS, OPEN_WEBUI_IMAGE, VALKEY_IMAGE
from components.testing import Deployment, Resource, read_stack_file, render
from policy import rules
from tests.harness.paths import ROOT

DIGEST = "sha256:" + "ab" * 32
STOCK_DESERIALIZE = getattr(pulumi_policy.policy, "deserialize_properties")  # noqa: B009 - not re-exported

LOOPBACK_REMEDY = (
    "publish it on 127.0.0.1 (openWebui.bindAddress) behind a reverse proxy with TLS, or allow it for this "
    "stack with the policy config allowPublicBind: true"
)
PLAIN_ENV = "stored unencrypted in the stack's state; pass envs as a Pulumi secret (pulumi.Output.secret)"
PLAIN_COMMAND = (
    "readable with `docker inspect` and stored unencrypted in the stack's state; put it in a file (uploads) or "
    "a secret environment variable (REDISCLI_AUTH for valkey-cli), as a Pulumi secret"
)


# ---------------------------------------------------------------------------------------------------------
# Helpers: a rendered resource as a policy sees it
# ---------------------------------------------------------------------------------------------------------


def wire(value: Any, secrets: set[str], path: str = "") -> Any:
    """Inputs in the engine's wire format: every value at a path in ``secrets`` wrapped as a secret."""
    if isinstance(value, dict):
        value = {key: wire(item, secrets, f"{path}.{key}" if path else key) for key, item in value.items()}
    elif isinstance(value, list):
        value = [wire(item, secrets, f"{path}[{index}]") for index, item in enumerate(value)]
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value} if path in secrets else value


def struct(inputs: dict[str, Any], secrets: set[str]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(wire(inputs, secrets))
    return message


def validation_args(
    resource: Resource,
    *,
    inputs: dict[str, Any] | None = None,
    secrets: set[str] | None = None,
    config: dict[str, Any] | None = None,
    protect: bool | None = None,
    retain_on_delete: bool | None = None,
) -> ResourceValidationArgs:
    """What the policy server passes a rule for ``resource``, optionally with other inputs or options.

    ``retain_on_delete``: set it on the options as a pulumi-policy that reported it would (1.21 does not).
    """
    message = struct(
        resource.inputs if inputs is None else inputs, resource.secret_inputs if secrets is None else secrets
    )
    props = unknown_checking_proxy(rules.deserialize_keeping_secrets(MessageToDict(message)))
    opts = PolicyResourceOptions(
        protect=resource.protect if protect is None else protect,
        ignore_changes=list(resource.ignore_changes),
        delete_before_replace=resource.delete_before_replace,
        aliases=list(resource.aliases),
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.parent or None,
    )
    if retain_on_delete is not None:
        setattr(opts, "retain_on_delete", retain_on_delete)  # noqa: B010
    return ResourceValidationArgs(resource.type, props, resource.urn, resource.name, opts, None, config)


def violations(policy: ResourceValidationPolicy, args: ResourceValidationArgs) -> list[str]:
    """The messages ``policy`` reports for ``args`` (the server prefixes each with the description)."""
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    assert policy.validate(args, report) is None  # every rule is synchronous
    return found


def container(deployment: Deployment, name: str) -> Resource:
    return deployment.container(name).resource


def volume(deployment: Deployment, name: str) -> Resource:
    return next(r for r in deployment.of_type(rules.VOLUME) if r.inputs["name"] == name)


def image(deployment: Deployment, reference: str) -> Resource:
    return next(r for r in deployment.of_type(rules.REMOTE_IMAGE) if r.inputs["name"] == reference)


def changed(resource: Resource, **inputs: Any) -> dict[str, Any]:
    """A copy of the resource's inputs with some replaced (None removes one)."""
    result = copy.deepcopy(resource.inputs)
    for key, value in inputs.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


@pytest.fixture(scope="module")
def dev() -> Deployment:
    """The dev stack as Pulumi.dev.yaml configures it."""
    return render(read_stack_file(ROOT / "Pulumi.dev.yaml"))


# ---------------------------------------------------------------------------------------------------------
# 1. Valkey publishes no port
# ---------------------------------------------------------------------------------------------------------


class TestValkeyPublishesNoPorts:
    policy = rules.VALKEY_PUBLISHES_NO_PORTS

    def test_passes_on_the_dev_valkey_container(self, dev):
        """The rendered Valkey container publishes nothing."""
        assert violations(self.policy, validation_args(container(dev, "redis-valkey"))) == []

    def test_fails_when_valkey_publishes_a_port(self, dev):
        """A published Valkey port is reported with where it is published."""
        valkey = container(dev, "redis-valkey")
        inputs = changed(valkey, ports=[{"internal": 6379, "external": 6379}])
        assert violations(self.policy, validation_args(valkey, inputs=inputs)) == [
            "container 'redis-valkey' runs Valkey/Redis and publishes 0.0.0.0:6379->6379/tcp on the Docker host; "
            "remove its ports: Open WebUI reaches Valkey over the Docker network, by its network alias"
        ]

    def test_fails_when_valkey_uses_the_host_network(self, dev):
        """networkMode host opens Valkey's port on every host interface."""
        valkey = container(dev, "redis-valkey")
        assert violations(self.policy, validation_args(valkey, inputs=changed(valkey, networkMode="host"))) == [
            "container 'redis-valkey' runs Valkey/Redis on the host's network (networkMode 'host'), which opens its "
            "port on every interface of the Docker host; attach it to the stack's Docker network instead"
        ]

    def test_recognises_valkey_by_its_program_when_renamed(self):
        """A Valkey container named and aliased 'cache' is still Valkey: it runs valkey-server."""
        valkey = container(render({"valkey": {"containerName": "cache", "alias": "cache"}}), "cache")
        inputs = changed(valkey, ports=[{"internal": 6379, "external": 16379, "ip": "127.0.0.1"}])
        assert violations(self.policy, validation_args(valkey, inputs=inputs)) == [
            "container 'cache' runs Valkey/Redis and publishes 127.0.0.1:16379->6379/tcp on the Docker host; "
            "remove its ports: Open WebUI reaches Valkey over the Docker network, by its network alias"
        ]

    def test_ignores_open_webui_ports(self, dev):
        """Open WebUI's published port is not Valkey's, although its environment names Redis."""
        assert violations(self.policy, validation_args(container(dev, "open-webui"))) == []


# ---------------------------------------------------------------------------------------------------------
# 2. Valkey drops every capability
# ---------------------------------------------------------------------------------------------------------


class TestValkeyDropsAllCapabilities:
    policy = rules.VALKEY_DROPS_ALL_CAPABILITIES

    def test_passes_on_the_dev_valkey_container(self, dev):
        """The rendered Valkey drops ALL and adds back three."""
        assert violations(self.policy, validation_args(container(dev, "redis-valkey"))) == []

    def test_fails_when_valkey_drops_only_some(self, dev):
        """Dropping a list of capabilities instead of ALL is reported, naming what is dropped."""
        valkey = container(dev, "redis-valkey")
        inputs = changed(valkey, capabilities={"drops": ["NET_RAW", "MKNOD"], "adds": ["SETUID"]})
        assert violations(self.policy, validation_args(valkey, inputs=inputs)) == [
            "container 'redis-valkey' runs Valkey/Redis without dropping every Linux capability "
            "(capabilities.drops: ['MKNOD', 'NET_RAW']); drop ALL and add back only what the image's entrypoint "
            "needs (CAP_DAC_OVERRIDE, CAP_SETGID, CAP_SETUID)"
        ]

    def test_fails_when_valkey_sets_no_capabilities(self, dev):
        """No capabilities input at all keeps Docker's default set."""
        valkey = container(dev, "redis-valkey")
        assert violations(self.policy, validation_args(valkey, inputs=changed(valkey, capabilities=None))) == [
            "container 'redis-valkey' runs Valkey/Redis without dropping every Linux capability "
            "(capabilities.drops: []); drop ALL and add back only what the image's entrypoint needs "
            "(CAP_DAC_OVERRIDE, CAP_SETGID, CAP_SETUID)"
        ]

    def test_ignores_open_webui(self, dev):
        """The rule is about Valkey; Open WebUI keeps its capabilities."""
        assert violations(self.policy, validation_args(container(dev, "open-webui"))) == []


# ---------------------------------------------------------------------------------------------------------
# 3. Healthcheck and restart policy
# ---------------------------------------------------------------------------------------------------------


class TestContainerHealthcheckAndRestart:
    policy = rules.CONTAINER_HEALTHCHECK_AND_RESTART

    @pytest.mark.parametrize("name", ["redis-valkey", "open-webui"])
    def test_passes_on_the_dev_containers(self, dev, name):
        """Both rendered containers have a healthcheck and restart unless-stopped."""
        assert violations(self.policy, validation_args(container(dev, name))) == []

    @pytest.mark.parametrize(("section", "name"), [("valkey", "redis-valkey"), ("openWebui", "open-webui")])
    def test_fails_when_the_stack_sets_restart_no(self, section, name):
        """`restart: "no"` in the stack configuration is reported."""
        resource = container(render({section: {"restart": "no"}}), name)
        assert violations(self.policy, validation_args(resource)) == [
            f"container {name!r} has restart policy 'no' (Docker's default), so it stays down after a crash or a "
            "restart of the Docker daemon; set restart to 'unless-stopped'"
        ]

    def test_fails_when_a_container_has_no_healthcheck_and_no_restart(self, dev):
        """Without either input, both are reported (Docker's default restart policy is 'no')."""
        valkey = container(dev, "redis-valkey")
        inputs = changed(valkey, healthcheck=None, restart=None)
        assert violations(self.policy, validation_args(valkey, inputs=inputs)) == [
            "container 'redis-valkey' has no healthcheck, so Docker cannot tell a hung service from a healthy one "
            "and `wait` has nothing to wait for; set healthcheck.tests",
            "container 'redis-valkey' has restart policy 'no' (Docker's default), so it stays down after a crash or "
            "a restart of the Docker daemon; set restart to 'unless-stopped'",
        ]

    def test_fails_when_the_healthcheck_is_none(self, dev):
        """A healthcheck of ["NONE"] turns the image's own off: no healthcheck."""
        webui = container(dev, "open-webui")
        inputs = changed(webui, healthcheck={"tests": ["NONE"]})
        assert violations(self.policy, validation_args(webui, inputs=inputs)) == [
            "container 'open-webui' has no healthcheck, so Docker cannot tell a hung service from a healthy one "
            "and `wait` has nothing to wait for; set healthcheck.tests"
        ]

    def test_fails_when_the_restart_policy_is_not_dockers(self, dev):
        """A value the provider only refuses at apply time is caught at preview."""
        webui = container(dev, "open-webui")
        assert violations(self.policy, validation_args(webui, inputs=changed(webui, restart="sometimes"))) == [
            "container 'open-webui' has restart policy 'sometimes', which Docker refuses; use one of on-failure, "
            "always, unless-stopped"
        ]


# ---------------------------------------------------------------------------------------------------------
# 4. Images pinned (mandatory) and not on a moving tag (advisory)
# ---------------------------------------------------------------------------------------------------------


class TestImagePinned:
    policy = rules.IMAGE_PINNED

    @pytest.mark.parametrize("reference", [VALKEY_IMAGE, OPEN_WEBUI_IMAGE])
    def test_passes_on_the_dev_images(self, dev, reference):
        """Both dev images have a release tag."""
        assert violations(self.policy, validation_args(image(dev, reference))) == []

    def test_fails_when_the_stack_uses_latest(self):
        """`openWebui.image: ...:latest` is reported on the RemoteImage."""
        reference = "ghcr.io/open-webui/open-webui:latest"
        resource = image(render({"openWebui": {"image": reference}}), reference)
        assert violations(self.policy, validation_args(resource)) == [
            "image 'ghcr.io/open-webui/open-webui:latest' uses the tag 'latest', which changes with every release; "
            "pin a version tag or a digest (@sha256:...)"
        ]

    def test_fails_when_an_image_has_no_tag(self, dev):
        """No tag means latest (the settings refuse it; another program might not)."""
        resource = image(dev, VALKEY_IMAGE)
        inputs = changed(resource, name="localhost:5000/valkey/valkey")
        assert violations(self.policy, validation_args(resource, inputs=inputs)) == [
            "image 'localhost:5000/valkey/valkey' has no tag or digest, so Docker pulls 'latest', which changes with "
            "every release; pin a version tag or a digest (@sha256:...)"
        ]

    def test_passes_when_the_stack_pins_a_digest(self):
        """A digest pins whatever the tag says."""
        reference = f"ghcr.io/open-webui/open-webui@{DIGEST}"
        assert (
            violations(self.policy, validation_args(image(render({"openWebui": {"image": reference}}), reference)))
            == []
        )

    def test_checks_a_container_that_names_its_image(self, dev):
        """A container given a reference instead of a RemoteImage's ID is checked too."""
        valkey = container(dev, "redis-valkey")
        assert violations(self.policy, validation_args(valkey, inputs=changed(valkey, image="valkey/valkey"))) == [
            "image 'valkey/valkey' has no tag or digest, so Docker pulls 'latest', which changes with every release; "
            "pin a version tag or a digest (@sha256:...)"
        ]

    def test_skips_a_container_running_an_image_id(self, dev):
        """The rendered containers run RemoteImage.image_id: the RemoteImage is what is checked."""
        assert container(dev, "redis-valkey").inputs["image"].startswith("sha256:")
        assert violations(self.policy, validation_args(container(dev, "redis-valkey"))) == []


class TestImageTagNotMoving:
    policy = rules.IMAGE_TAG_NOT_MOVING

    def test_is_advisory(self):
        """A moving tag warns; it does not block a deployment."""
        assert self.policy.enforcement_level == EnforcementLevel.ADVISORY

    def test_warns_on_open_webuis_main_branch_image(self):
        """ghcr.io/open-webui/open-webui:main, the tutorial's image, gets the warning."""
        reference = "ghcr.io/open-webui/open-webui:main"
        resource = image(render({"openWebui": {"image": reference}}), reference)
        assert violations(self.policy, validation_args(resource)) == [
            "image 'ghcr.io/open-webui/open-webui:main' uses the moving tag 'main': each pull can bring a different "
            "build; pin a release tag or a digest (@sha256:...) for deployments you can reproduce"
        ]

    @pytest.mark.parametrize("reference", [VALKEY_IMAGE, OPEN_WEBUI_IMAGE])
    def test_passes_on_the_dev_images(self, dev, reference):
        """A release tag is not moving."""
        assert violations(self.policy, validation_args(image(dev, reference))) == []

    def test_branch_tags_when_listed_are_the_ones_the_settings_refuse(self):
        """The pack (its own virtualenv, no import of the components) knows the same branch tags as the settings;
        `latest` is the mandatory image-pinned policy's."""
        assert rules.MOVING_TAGS | {"latest"} == BRANCH_TAGS

    def test_passes_when_a_moving_tag_is_pinned_by_digest(self):
        """`:main@sha256:...` names the tag for people and pins the build for Docker."""
        reference = f"ghcr.io/open-webui/open-webui:main@{DIGEST}"
        assert (
            violations(self.policy, validation_args(image(render({"openWebui": {"image": reference}}), reference)))
            == []
        )


# ---------------------------------------------------------------------------------------------------------
# 5. Open WebUI on loopback unless the stack allows otherwise
# ---------------------------------------------------------------------------------------------------------


class TestOpenWebUILoopbackOnly:
    policy = rules.OPEN_WEBUI_LOOPBACK_ONLY

    @pytest.mark.parametrize("address", ["127.0.0.1", "::1", "127.0.0.2"])
    def test_passes_on_loopback(self, address):
        """Any loopback address, IPv4 or IPv6, passes."""
        webui = container(render({"openWebui": {"bindAddress": address}}), "open-webui")
        assert violations(self.policy, validation_args(webui)) == []

    @pytest.mark.parametrize(("address", "published"), [("0.0.0.0", "0.0.0.0:3000"), ("::", "[::]:3000")])
    def test_fails_when_the_stack_binds_every_interface(self, address, published):
        """`openWebui.bindAddress: 0.0.0.0` (or ::) is reported."""
        webui = container(render({"openWebui": {"bindAddress": address}}), "open-webui")
        assert violations(self.policy, validation_args(webui)) == [
            f"container 'open-webui' publishes Open WebUI ({published}->8080/tcp) on {address}, which other hosts "
            f"can reach; {LOOPBACK_REMEDY}"
        ]

    def test_passes_when_the_stack_allows_a_public_bind(self):
        """The policy config allowPublicBind: true lets a stack publish on every interface."""
        webui = container(render({"openWebui": {"bindAddress": "0.0.0.0"}}), "open-webui")
        assert violations(self.policy, validation_args(webui, config={"allowPublicBind": True})) == []

    def test_fails_when_the_port_has_no_address(self, dev):
        """A port without ip is published on Docker's default, every interface."""
        webui = container(dev, "open-webui")
        inputs = changed(webui, ports=[{"internal": 8080, "external": 3000}])
        assert violations(self.policy, validation_args(webui, inputs=inputs)) == [
            f"container 'open-webui' publishes Open WebUI (0.0.0.0:3000->8080/tcp) on 0.0.0.0, which other hosts "
            f"can reach; {LOOPBACK_REMEDY}"
        ]

    def test_recognises_open_webui_by_its_port_when_renamed(self):
        """A container named 'chat' that publishes port 8080 is held to the rule."""
        webui = container(render({"openWebui": {"containerName": "chat", "bindAddress": "10.0.0.5"}}), "chat")
        assert violations(self.policy, validation_args(webui)) == [
            f"container 'chat' publishes Open WebUI (10.0.0.5:3000->8080/tcp) on 10.0.0.5, which other hosts can "
            f"reach; {LOOPBACK_REMEDY}"
        ]

    def test_ignores_valkey(self, dev):
        """Valkey's ports are rule 1's business."""
        valkey = container(dev, "redis-valkey")
        inputs = changed(valkey, ports=[{"internal": 6379, "external": 6379}])
        assert violations(self.policy, validation_args(valkey, inputs=inputs)) == []


# ---------------------------------------------------------------------------------------------------------
# 6. No credential in plain text
# ---------------------------------------------------------------------------------------------------------


class TestNoPlaintextCredentials:
    policy = rules.NO_PLAINTEXT_CREDENTIALS

    @pytest.mark.parametrize("name", ["redis-valkey", "open-webui"])
    def test_passes_on_the_dev_containers(self, dev, name):
        """The components pass envs as a secret and keep the password off the command line."""
        resource = container(dev, name)
        assert "envs" in resource.secret_inputs
        assert violations(self.policy, validation_args(resource)) == []

    def test_passes_when_valkey_has_no_password(self):
        """`valkey.auth: false`: no envs, nothing to hide."""
        assert (
            violations(self.policy, validation_args(container(render({"valkey": {"auth": False}}), "redis-valkey")))
            == []
        )

    def test_fails_when_valkeys_envs_are_plain(self, dev):
        """REDISCLI_AUTH outside a secret is reported, without its value."""
        valkey = container(dev, "redis-valkey")
        found = violations(self.policy, validation_args(valkey, secrets=valkey.secret_inputs - {"envs"}))
        assert found == [
            f"container 'redis-valkey': environment variable REDISCLI_AUTH holds a credential in plain text, "
            f"{PLAIN_ENV}"
        ]

    def test_fails_when_open_webuis_envs_are_plain(self, dev):
        """Both Redis URLs (they carry the password) and both keys are reported; the switches are not."""
        webui = container(dev, "open-webui")
        found = violations(self.policy, validation_args(webui, secrets=set()))
        assert found == [
            f"container 'open-webui': environment variable OAUTH_SESSION_TOKEN_ENCRYPTION_KEY holds a credential in "
            f"plain text, {PLAIN_ENV}",
            f"container 'open-webui': environment variable REDIS_URL holds a URL with a password in plain text, "
            f"{PLAIN_ENV}",
            f"container 'open-webui': environment variable WEBSOCKET_REDIS_URL holds a URL with a password in plain "
            f"text, {PLAIN_ENV}",
            f"container 'open-webui': environment variable WEBUI_SECRET_KEY holds a credential in plain text, "
            f"{PLAIN_ENV}",
        ]
        assert all("DyPa" not in message for message in found)

    def test_passes_when_only_the_credentials_are_secret(self, dev):
        """Secret entries in a plain list are enough."""
        webui = container(dev, "open-webui")
        entries = webui.inputs["envs"]
        secrets = {
            f"envs[{i}]"
            for i, entry in enumerate(entries)
            if entry.startswith(("REDIS", "WEBSOCKET_REDIS", "WEBUI", "OAUTH"))
        }
        assert violations(self.policy, validation_args(webui, secrets=secrets)) == []

    def test_passes_on_a_plain_switch_with_a_sensitive_name(self, dev):
        """ENABLE_API_KEY=true is a switch, not a key."""
        webui = container(dev, "open-webui")
        inputs = changed(webui, envs=["ENABLE_API_KEY=true", "REDIS_KEY_PREFIX="])
        assert violations(self.policy, validation_args(webui, inputs=inputs, secrets=set())) == []

    def test_fails_when_the_command_carries_requirepass(self, dev):
        """`valkey-server --requirepass <pw>` in a plain command is reported."""
        valkey = container(dev, "redis-valkey")
        inputs = changed(valkey, command=["valkey-server", "--requirepass", "hunter2", "--port", "6379"])
        assert violations(self.policy, validation_args(valkey, inputs=inputs)) == [
            f"container 'redis-valkey': command passes a password in plain text (--requirepass), {PLAIN_COMMAND}"
        ]

    def test_passes_when_that_command_is_secret(self, dev):
        """The same command as a Pulumi secret passes (the rule is about Pulumi's state)."""
        valkey = container(dev, "redis-valkey")
        inputs = changed(valkey, command=["valkey-server", "--requirepass", "hunter2"])
        assert violations(self.policy, validation_args(valkey, inputs=inputs, secrets={"envs", "command"})) == []

    def test_fails_when_a_shell_command_carries_requirepass(self, dev):
        """A password inside `sh -c "..."` is found too."""
        valkey = container(dev, "redis-valkey")
        inputs = changed(valkey, command=["sh", "-c", "exec valkey-server --requirepass 'hunter 2'"])
        assert violations(self.policy, validation_args(valkey, inputs=inputs)) == [
            f"container 'redis-valkey': command passes a password in plain text (--requirepass), {PLAIN_COMMAND}"
        ]

    def test_passes_when_a_shell_command_reads_the_password_from_the_environment(self, dev):
        """`--requirepass "$VALKEY_PASSWORD"` carries a variable name, not the password."""
        valkey = container(dev, "redis-valkey")
        inputs = changed(valkey, command=["sh", "-c", 'exec valkey-server --requirepass "$VALKEY_PASSWORD"'])
        assert violations(self.policy, validation_args(valkey, inputs=inputs)) == []

    def test_fails_when_the_healthcheck_passes_a_password_to_valkey_cli(self, dev):
        """`valkey-cli -a <pw> ping` in the healthcheck is reported."""
        valkey = container(dev, "redis-valkey")
        healthcheck = dict(valkey.inputs["healthcheck"], tests=["CMD", "valkey-cli", "-a", "hunter2", "ping"])
        assert violations(self.policy, validation_args(valkey, inputs=changed(valkey, healthcheck=healthcheck))) == [
            f"container 'redis-valkey': healthcheck.tests passes a password in plain text (-a), {PLAIN_COMMAND}"
        ]

    def test_fails_when_the_command_carries_a_url_with_a_password(self, dev):
        """`valkey-cli -u redis://default:pw@host` is reported."""
        valkey = container(dev, "redis-valkey")
        healthcheck = dict(
            valkey.inputs["healthcheck"], tests=["CMD", "valkey-cli", "-u", "redis://default:pw@redis:6379", "ping"]
        )
        assert violations(self.policy, validation_args(valkey, inputs=changed(valkey, healthcheck=healthcheck))) == [
            f"container 'redis-valkey': healthcheck.tests passes a password in plain text (a URL with a password), "
            f"{PLAIN_COMMAND}"
        ]


# ---------------------------------------------------------------------------------------------------------
# 7. Data volumes retained
# ---------------------------------------------------------------------------------------------------------


class TestDataVolumeRetained:
    policy = rules.DATA_VOLUME_RETAINED

    def test_pulumi_policy_does_not_report_retain_on_delete(self):
        """The limit the rule works around: when this fails, pulumi-policy reports it; simplify the rule."""
        assert "retain_on_delete" not in inspect.signature(PolicyResourceOptions).parameters

    @pytest.mark.parametrize("name", ["redis-data", "open-webui"])
    def test_dev_volumes_are_retained_on_delete(self, dev, name):
        """What the rule would check if it could: the components set retainOnDelete by default."""
        assert volume(dev, name).retain_on_delete is True

    @pytest.mark.parametrize("name", ["redis-data", "open-webui"])
    def test_is_not_applicable_without_retain_on_delete_or_protect(self, dev, name):
        """With pulumi-policy 1.21's options, an unprotected volume cannot be judged: not applicable."""
        with pytest.raises(pulumi_policy.policy._NotApplicableError) as raised:
            violations(self.policy, validation_args(volume(dev, name)))
        assert raised.value.reason == (
            "this pulumi-policy does not report retainOnDelete and the volume is not protected, so whether its data "
            "survives `pulumi destroy` cannot be checked"
        )

    def test_passes_a_protected_volume(self):
        """protect is reported today: a protected volume passes, retained or not."""
        resource = volume(render({"valkey": {"retainVolume": False}}), "redis-data")
        assert violations(self.policy, validation_args(resource, protect=True)) == []

    @pytest.mark.parametrize("name", ["redis-data", "open-webui"])
    def test_passes_a_retained_volume_where_retain_on_delete_is_reported(self, dev, name):
        """With retainOnDelete reported, the dev volumes pass."""
        resource = volume(dev, name)
        assert violations(self.policy, validation_args(resource, retain_on_delete=resource.retain_on_delete)) == []

    def test_fails_when_the_stack_drops_retention_where_retain_on_delete_is_reported(self):
        """`valkey.retainVolume: false` is reported once the option reaches the policy."""
        resource = volume(render({"valkey": {"retainVolume": False}}), "redis-data")
        assert resource.retain_on_delete is False
        assert violations(self.policy, validation_args(resource, retain_on_delete=resource.retain_on_delete)) == [
            "volume 'redis-data' is neither retained on delete nor protected, so `pulumi destroy` or a replacement "
            "deletes its data; set retainVolume: true (retainOnDelete) or protect it"
        ]


# ---------------------------------------------------------------------------------------------------------
# The pack through pulumi-policy's own server code
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def stock_server(monkeypatch: pytest.MonkeyPatch) -> Any:
    """pulumi-policy's analyzer servicer for the pack, as the CLI would talk to it, without keep_secret_markers."""
    monkeypatch.setattr(pulumi_policy.policy, "deserialize_properties", STOCK_DESERIALIZE)
    # A private class: it is what PolicyPack serves over gRPC; a rename fails these tests loudly.
    return pulumi_policy.policy._PolicyAnalyzerServicer(
        rules.PACK_NAME, "0.1.0", rules.POLICIES, EnforcementLevel.MANDATORY
    )


@pytest.fixture
def server(stock_server: Any) -> Any:
    """The servicer as policy/__main__.py runs it: keep_secret_markers on (undone after the test)."""
    rules.keep_secret_markers()
    return stock_server


def analyze(server: Any, resource: Resource, inputs: dict[str, Any] | None = None) -> list[tuple[str, int, str]]:
    """``(policy, enforcement level, message)`` of every diagnostic the server reports for the resource."""
    request = proto.AnalyzeRequest(
        type=resource.type,
        properties=struct(resource.inputs if inputs is None else inputs, resource.secret_inputs),
        urn=resource.urn,
        name=resource.name,
        options=proto.AnalyzerResourceOptions(protect=resource.protect, parent=resource.parent),
    )
    response = server.Analyze(request, None)
    return [(d.policyName, d.enforcementLevel, d.message) for d in response.diagnostics]


def analyze_stack(server: Any, deployment: Deployment) -> list[tuple[str, int, str]]:
    return [found for resource in deployment.resources if resource.custom for found in analyze(server, resource)]


class TestPolicyServer:
    def test_dev_stack_passes_every_policy(self, server, dev):
        """Every rendered resource of the dev stack passes, advisory policies too (its images are releases)."""
        assert analyze_stack(server, dev) == []

    def test_a_branch_tag_gets_the_advisory_warning(self, server):
        """The tutorial's `:main` passes every mandatory policy and gets one advisory warning."""
        tutorial = render({"openWebui": {"image": "ghcr.io/open-webui/open-webui:main"}})
        assert analyze_stack(server, tutorial) == [
            (
                "image-tag-not-moving",
                proto.ADVISORY,
                "Images avoid tags rebuilt from a branch (main, dev, edge, nightly, ...).\n"
                "image 'ghcr.io/open-webui/open-webui:main' uses the moving tag 'main': each pull can bring a "
                "different build; pin a release tag or a digest (@sha256:...) for deployments you can reproduce",
            )
        ]

    def test_a_stack_breaking_the_rules_gets_mandatory_violations(self, server):
        """Public bind and latest, from stack configuration alone, block the deployment."""
        broken = render({"openWebui": {"bindAddress": "0.0.0.0", "image": "ghcr.io/open-webui/open-webui:latest"}})
        found = [(policy, level) for policy, level, _ in analyze_stack(server, broken)]
        assert found == [("image-pinned", proto.MANDATORY), ("open-webui-loopback-only", proto.MANDATORY)]

    def test_stock_server_hands_secrets_over_as_plain_text(self, stock_server, dev):
        """Why keep_secret_markers exists: without it, the dev stack's secret envs look plain."""
        found = analyze(stock_server, container(dev, "redis-valkey"))
        assert [(policy, level) for policy, level, _ in found] == [("no-plaintext-credentials", proto.MANDATORY)]

    def test_unknown_secret_envs_defer_the_check_during_preview(self, server, dev):
        """At a first preview Open WebUI's envs are unknown: an advisory 'can't run', not a false violation."""
        webui = container(dev, "open-webui")
        inputs = changed(webui, envs=UNKNOWN_ARRAY_VALUE, image=UNKNOWN_STRING_VALUE)
        found = analyze(server, webui, inputs)
        assert found == [
            (
                "no-plaintext-credentials",
                proto.ADVISORY,
                "can't run policy 'no-plaintext-credentials' from policy pack 'open-webui-redis-policy@v0.1.0' "
                "during preview: Array value at .envs can't be known during preview",
            )
        ]

    def test_policy_config_reaches_the_rule(self, server):
        """`--policy-pack-config` with allowPublicBind: true lets a public bind through."""
        config = proto.PolicyConfig(enforcementLevel=proto.MANDATORY)
        config.properties.update({"allowPublicBind": True})
        server.Configure(proto.ConfigureAnalyzerRequest(policyConfig={"open-webui-loopback-only": config}), None)
        public = render({"openWebui": {"bindAddress": "0.0.0.0"}})
        assert analyze_stack(server, public) == []
        server.Configure(proto.ConfigureAnalyzerRequest(policyConfig={}), None)
        assert [policy for policy, _, _ in analyze_stack(server, public)] == ["open-webui-loopback-only"]

    def test_pack_describes_its_policies_and_config(self, server):
        """What `pulumi policy` and the CLI read: names, levels, the allowPublicBind schema."""
        info = server.GetAnalyzerInfo(None, None)
        assert info.name == "open-webui-redis-policy"
        assert [(p.name, p.enforcementLevel) for p in info.policies] == [
            ("valkey-publishes-no-ports", proto.MANDATORY),
            ("valkey-drops-all-capabilities", proto.MANDATORY),
            ("container-healthcheck-and-restart", proto.MANDATORY),
            ("image-pinned", proto.MANDATORY),
            ("image-tag-not-moving", proto.ADVISORY),
            ("open-webui-loopback-only", proto.MANDATORY),
            ("no-plaintext-credentials", proto.MANDATORY),
            ("data-volume-retained", proto.MANDATORY),
        ]
        loopback = next(p for p in info.policies if p.name == "open-webui-loopback-only")
        assert MessageToDict(loopback.configSchema.properties)["allowPublicBind"]["type"] == "boolean"


# ---------------------------------------------------------------------------------------------------------
# The pack's files
# ---------------------------------------------------------------------------------------------------------


class TestPackFiles:
    def test_main_builds_the_mandatory_pack_with_secret_markers_on(self, monkeypatch):
        """policy/__main__.py builds PolicyPack(name, MANDATORY, POLICIES) after keep_secret_markers."""
        built: list[dict[str, Any]] = []

        def record(**kwargs: Any) -> None:
            built.append(kwargs)

        monkeypatch.setattr(pulumi_policy, "PolicyPack", record)
        monkeypatch.setattr(pulumi_policy.policy, "deserialize_properties", STOCK_DESERIALIZE)
        monkeypatch.syspath_prepend(str(ROOT / "policy"))
        monkeypatch.delitem(sys.modules, "rules", raising=False)
        runpy.run_path(str(ROOT / "policy" / "__main__.py"), run_name="__main__")
        assert len(built) == 1
        assert built[0]["name"] == "open-webui-redis-policy"
        assert built[0]["enforcement_level"] == EnforcementLevel.MANDATORY
        assert [policy.name for policy in built[0]["policies"]] == [policy.name for policy in rules.POLICIES]
        assert getattr(getattr(pulumi_policy.policy, "deserialize_properties"), "keeps_secret_markers", False)  # noqa: B009
        monkeypatch.delitem(sys.modules, "rules", raising=False)

    def test_pulumi_policy_yaml_runs_python_in_the_pack_virtualenv(self):
        """PulumiPolicy.yaml: runtime python, virtualenv policy/venv."""
        document = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
        assert document["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}

    def test_requirements_name_pulumi_policy(self):
        """policy/requirements.in names pulumi-policy, its lock pins it with hashes, and the tests' ranges include
        the pack's (requirements-dev.in), so the tests run the pack's versions."""
        ranges = (ROOT / "policy" / "requirements.in").read_text().splitlines()
        assert any(line.startswith("pulumi-policy") for line in ranges)
        lock = (ROOT / "policy" / "requirements.txt").read_text()
        assert re.search(r"^pulumi-policy==[0-9.]+ \\\n    --hash=sha256:", lock, re.MULTILINE)
        assert "-r policy/requirements.in" in (ROOT / "requirements-dev.in").read_text().splitlines()
