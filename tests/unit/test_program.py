"""The whole program, from __main__.py with a stack's configuration, as `pulumi up` runs it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.testing import Deployment, Resource, StackMocks, read_stack_file, render

DEV = read_stack_file("Pulumi.dev.yaml")


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [str(value)]


def plain_strings(resource: Resource) -> list[str]:
    """Every input value of a resource that was NOT a Pulumi secret."""
    return [
        text
        for key, value in resource.inputs.items()
        if not any(secret == key or secret.startswith(f"{key}.") for secret in resource.secret_inputs)
        for text in _strings(value)
    ]


class TestDevStack:
    """The dev stack file, run through the program."""

    @pytest.fixture(scope="class")
    @classmethod
    def deployment(cls) -> Deployment:
        return render(DEV)

    def test_program_when_run_declares_the_whole_tree(self, deployment: Deployment) -> None:
        """One network, two images, two volumes, two containers, two generated secrets, four components."""
        counts: dict[str, int] = {}
        for resource in deployment.resources:
            counts[resource.type] = counts.get(resource.type, 0) + 1
        assert counts == {
            "open-webui-redis:index:OpenWebUIStack": 1,
            "open-webui-redis:index:Network": 1,
            "open-webui-redis:index:Valkey": 1,
            "open-webui-redis:index:OpenWebUI": 1,
            "docker:index/network:Network": 1,
            "docker:index/remoteImage:RemoteImage": 2,
            "docker:index/volume:Volume": 2,
            "docker:index/container:Container": 2,
            "random:index/randomPassword:RandomPassword": 3,
        }

    def test_program_outputs_when_run_name_what_a_user_needs(self, deployment: Deployment) -> None:
        """URL, network, container and volume names in clear; Redis URLs as secrets."""
        outputs = deployment.outputs
        password = deployment.container("redis-valkey").env["REDISCLI_AUTH"]
        assert {key: value for key, value in outputs.items() if "Url" not in key or key == "url"} == {
            "url": "http://127.0.0.1:3000",
            "networkName": "openwebui-network",
            "valkeyContainerName": "redis-valkey",
            "valkeyVolumeName": "redis-data",
            "openWebuiContainerName": "open-webui",
            "openWebuiVolumeName": "open-webui",
            "openWebuiContainerNames": ["open-webui"],
            "redisKeyPrefix": "open-webui",
        }
        assert outputs["redisUrl"] == outputs["websocketRedisUrl"]
        assert outputs["redisUrl"].startswith("redis://default:")
        assert outputs["redisUrl"].endswith("@redis:6379/1")
        assert password not in outputs["redisUrl"] or password.isalnum()  # encoded unless nothing to encode
        assert deployment.secret_outputs == {"redisUrl", "websocketRedisUrl"}

    def test_program_when_run_gives_open_webui_the_urls_it_exports(self, deployment: Deployment) -> None:
        """Open WebUI's env holds exactly the exported Redis URLs."""
        env = deployment.container("open-webui").env
        assert env["REDIS_URL"] == deployment.outputs["redisUrl"]
        assert env["WEBSOCKET_REDIS_URL"] == deployment.outputs["websocketRedisUrl"]

    def test_program_secrets_when_run_never_appear_in_plain_inputs(self, deployment: Deployment) -> None:
        """The password and the secret key appear only inside inputs that are Pulumi secrets."""
        password = deployment.container("redis-valkey").env["REDISCLI_AUTH"]
        secret_key = deployment.container("open-webui").env["WEBUI_SECRET_KEY"]
        for resource in deployment.resources:
            if resource.type == "random:index/randomPassword:RandomPassword":
                continue  # the generators hold no value in their inputs, only character sets
            for text in plain_strings(resource):
                assert password not in text, resource.urn
                assert secret_key not in text, resource.urn

    def test_program_when_run_orders_open_webui_after_valkey(self, deployment: Deployment) -> None:
        """The engine is told Open WebUI's container needs Valkey's container (through the env data)."""
        valkey = deployment.container("redis-valkey").resource
        owui = deployment.container("open-webui").resource
        assert valkey.urn in owui.property_dependencies["envs"]


class TestStackSettings:
    """Settings given in stack configuration reach the deployment."""

    def test_program_when_password_set_as_secret_uses_it_url_encoded(self) -> None:
        """`pulumi config set --secret --path valkey.password` is used as the password, encoded in URLs."""
        deployment = render({"valkey": {"password": "a b@c/d"}}, secret_keys=["valkey"])
        assert deployment.container("redis-valkey").env["REDISCLI_AUTH"] == "a b@c/d"
        assert deployment.outputs["redisUrl"] == "redis://default:a%20b%40c%2Fd@redis:6379/1"
        assert sorted(r.name for r in deployment.of_type("random:index/randomPassword:RandomPassword")) == [
            "open-webui-open-webui-oauth-key",
            "open-webui-open-webui-secret-key",
        ]

    def test_program_when_secret_key_set_as_secret_uses_it(self) -> None:
        """`openWebui.secretKey` and `openWebui.oauthSessionTokenEncryptionKey` set with --secret become
        WEBUI_SECRET_KEY and OAUTH_SESSION_TOKEN_ENCRYPTION_KEY, and neither is generated."""
        config = {"openWebui": {"secretKey": "s3cr3t", "oauthSessionTokenEncryptionKey": "0auth-k3y"}}
        deployment = render(config, secret_keys=["openWebui"])
        env = deployment.container("open-webui").env
        assert env["WEBUI_SECRET_KEY"] == "s3cr3t"
        assert env["OAUTH_SESSION_TOKEN_ENCRYPTION_KEY"] == "0auth-k3y"
        assert [r.name for r in deployment.of_type("random:index/randomPassword:RandomPassword")] == [
            "open-webui-valkey-password"
        ]

    def test_program_when_auth_off_exports_urls_without_credentials(self) -> None:
        """With `valkey.auth: false` the URLs carry no user or password."""
        deployment = render({"valkey": {"auth": False, "database": 4, "alias": "valkey"}})
        assert deployment.outputs["redisUrl"] == "redis://valkey:6379/4"
        assert "REDISCLI_AUTH" not in deployment.container("redis-valkey").env

    def test_program_when_network_external_adopts_it(self) -> None:
        """`network.external: true` looks the network up instead of creating it."""
        deployment = render(
            {"network": {"name": "openwebui-network", "external": True}},
            mocks=StackMocks(existing_networks=["openwebui-network"]),
        )
        assert deployment.of_type("docker:index/network:Network") == []
        assert deployment.outputs["networkName"] == "openwebui-network"

    def test_program_when_every_block_is_set_reaches_every_resource(self) -> None:
        """A stack that sets every block's names, ports and images gets them all."""
        deployment = render(
            {
                "network": {"name": "ai"},
                "valkey": {"containerName": "kv", "volumeName": "kv-data", "alias": "kv", "database": 7},
                "openWebui": {
                    "containerName": "ui",
                    "volumeName": "ui-data",
                    "hostPort": 8080,
                    "bindAddress": "0.0.0.0",
                    "env": {"ENABLE_SIGNUP": False},
                },
            }
        )
        assert deployment.outputs["url"] == "http://localhost:8080"
        assert deployment.outputs["redisUrl"].endswith("@kv:6379/7")
        assert deployment.container("kv").volumes == {"/data": "kv-data"}
        assert deployment.container("kv").networks == {"ai": ["kv"]}
        assert deployment.container("ui").env["ENABLE_SIGNUP"] == "false"
        assert deployment.container("ui").volumes == {"/app/backend/data": "ui-data"}

    def test_program_when_previewed_declares_the_same_resources(self) -> None:
        """`pulumi preview` declares the same resources as `pulumi up`."""
        up = render(DEV)
        preview = render(DEV, preview=True)
        assert sorted((r.type, r.name) for r in preview.resources) == sorted((r.type, r.name) for r in up.resources)

    def test_stack_file_when_serialised_like_pulumi_round_trips(self) -> None:
        """Objects reach the program as JSON strings, exactly as the Pulumi CLI passes them."""
        assert json.loads(json.dumps(DEV["valkey"])) == DEV["valkey"]
        assert render(DEV).outputs == render({key: json.dumps(value) for key, value in DEV.items()}).outputs
