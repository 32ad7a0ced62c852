"""How replicas are created and replaced (`openWebui.upgrade`), and the values every replica must share.

The graph is what Pulumi's engine orders by. Two of its rules matter here, read from the engine's source
(``pkg/resource/deploy/step_generator.go``) and modelled below:

- a resource is registered, so created or replaced, only once every resource it depends on (``depends_on`` or an
  input's Output) has finished its own step;
- when a resource is replaced delete-before-replace, what names it in ``replace_with`` is replaced too, and so is
  what takes an input from it only where the provider would replace for an unknown value there (pulumi-docker
  does not for ``envs``): those are deleted first (``tests/harness/engine_rules.py``); a ``depends_on`` edge alone is
  never followed.

The real-Docker tier (``tests/docker/test_real_docker.py``) carries both out on a daemon and reads the order back from
it.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import pytest

from components.testing import Deployment, Resource, render
from tests.harness.engine_rules import replaced_with

CONTAINER = "docker:index/container:Container"
SHARED = (
    "WEBUI_SECRET_KEY",
    "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY",
    "CORS_ALLOW_ORIGIN",
    "UVICORN_WORKERS",
    "REDIS_HEALTH_CHECK_INTERVAL",
    "REDIS_URL",
    "WEBSOCKET_REDIS_URL",
    "DATABASE_URL",
    "VECTOR_DB",
)
"""What Open WebUI's scaling guide asks to be the same on every replica (and what the stack already shared)."""


def stack(count: int, upgrade: str | None = None, **blocks: Any) -> Deployment:
    open_webui = {"replicas": count, **({"upgrade": upgrade} if upgrade else {}), **blocks.pop("openWebui", {})}
    return render({"openWebui": open_webui, **blocks})


def replica_names(deployment: Deployment) -> list[str]:
    return list(deployment.outputs["openWebuiContainerNames"])


def longest_open_webui_path(deployment: Deployment) -> int:
    """Open WebUI containers on the longest chain of dependencies: how many start one after another."""
    containers = {r.urn: r for r in deployment.of_type(CONTAINER)}
    is_open_webui = {urn: r.inputs["name"] in replica_names(deployment) for urn, r in containers.items()}

    @functools.cache
    def depth(urn: str) -> int:
        resource = containers[urn]
        below = [depth(dep) for dep in resource.dependencies if dep in containers]
        return max(below, default=0) + is_open_webui[urn]

    return max(depth(urn) for urn in containers)


def deleted_first(deployment: Deployment, root: Resource) -> list[str]:
    """What the engine deletes before ``root`` when ``root`` is replaced delete-before-replace
    (``tests/harness/engine_rules.py``): the containers replaced along with it, transitively."""
    edges = {resource.urn: resource for resource in deployment.resources if resource.custom}
    names = {resource.urn: resource.inputs.get("name", resource.name) for resource in edges.values()}
    return sorted(names[urn] for urn in replaced_with(edges, root.urn))


class TestCreateInTwoWaves:
    """`recreate` (the default): replica 1, then every other replica at once, then the load balancer."""

    @pytest.mark.parametrize(("count", "path"), [(1, 1), (2, 2), (4, 2), (16, 2)])
    def test_longest_path_when_recreate_holds_at_most_two_replicas(self, count: int, path: int) -> None:
        """However many replicas, at most two Open WebUI containers start one after another."""
        deployment = stack(count) if count > 1 else render({"database": {"enabled": True}})
        assert longest_open_webui_path(deployment) == path

    @pytest.mark.parametrize(("count", "path"), [(1, 1), (2, 2), (4, 4)])
    def test_longest_path_when_rolling_holds_every_replica(self, count: int, path: int) -> None:
        """`rolling` chains the replicas, for replacement and so for creation too (the engine orders both by the
        same edges)."""
        deployment = stack(count, "rolling", database={"enabled": True})
        assert longest_open_webui_path(deployment) == path

    def test_graph_when_four_recreate_waits_on_replica_one_only(self) -> None:
        """Replicas 2-4 each wait for replica 1 (depends_on), go whenever it is replaced (replace_with), and
        depend on nothing of each other; none takes an input from replica 1."""
        deployment = stack(4)
        first, *rest = (deployment.container(n).resource for n in replica_names(deployment))
        assert first.replace_with == []
        for replica in rest:
            assert first.urn in replica.dependencies
            assert not {r.urn for r in rest} & set(replica.dependencies)
            assert replica.replace_with == [first.urn]
            assert not any(first.urn in urns for urns in replica.property_dependencies.values())

    def test_load_balancer_when_four_waits_for_every_replica_without_taking_their_inputs(self) -> None:
        """HAProxy is created last, and no replica's replacement replaces it (depends_on only)."""
        for upgrade in ("recreate", "rolling"):
            deployment = stack(4, upgrade)
            lb = deployment.container("open-webui-lb").resource
            urns = {deployment.container(n).resource.urn for n in replica_names(deployment)}
            assert urns <= set(lb.dependencies)
            assert not any(urns & set(deps) for deps in lb.property_dependencies.values())


class TestReplacement:
    """What the engine deletes before replica 1 when it is replaced (a new image, a changed setting)."""

    @pytest.mark.parametrize("count", [2, 4])
    def test_replica_one_when_recreate_and_replaced_takes_every_other_replica_down_first(self, count: int) -> None:
        """The scaling guide's way: every old replica stops before replica 1 starts on the new image."""
        deployment = stack(count)
        first = deployment.container("open-webui-1").resource
        assert first.delete_before_replace is True
        assert deleted_first(deployment, first) == sorted(replica_names(deployment)[1:])

    @pytest.mark.parametrize("count", [2, 4])
    def test_replica_one_when_rolling_and_replaced_takes_nothing_down_with_it(self, count: int) -> None:
        """One at a time: each replica is replaced alone, after the one before it is back."""
        deployment = stack(count, "rolling")
        names = replica_names(deployment)
        for before, after in itertools.pairwise(names):
            replica = deployment.container(after).resource
            assert deployment.container(before).resource.urn in replica.dependencies
            assert deleted_first(deployment, deployment.container(before).resource) == []

    def test_valkey_when_replaced_leaves_every_replica_running_under_either_strategy(self) -> None:
        """Every replica takes Valkey's URL in `envs`, for which pulumi-docker answers "no change" while it is
        unknown: a new Valkey container (same alias, same password) replaces no replica; they reconnect."""
        for upgrade in ("recreate", "rolling"):
            deployment = stack(3, upgrade)
            valkey = deployment.container("redis-valkey").resource
            replica = deployment.container("open-webui-1").resource
            assert valkey.urn in replica.property_dependencies["envs"]
            assert deleted_first(deployment, valkey) == []

    @pytest.mark.parametrize("count", [1, 2, 4])
    def test_switching_strategy_when_applied_changes_no_input(self, count: int) -> None:
        """Only edges differ between the strategies: switching replaces nothing (a second `pulumi up` is quiet)."""
        database = {"enabled": True}
        recreate, rolling = stack(count, "recreate", database=database), stack(count, "rolling", database=database)
        assert sorted(r.name for r in recreate.resources) == sorted(r.name for r in rolling.resources)
        for name in replica_names(recreate):
            assert recreate.container(name).resource.inputs == rolling.container(name).resource.inputs
            assert recreate.container(name).env == rolling.container(name).env


class TestSharedValues:
    """Every value that must be the same on every replica is, and the secrets among them stay secrets."""

    @pytest.mark.parametrize("upgrade", ["recreate", "rolling"])
    def test_replicas_when_four_share_every_guide_value(self, upgrade: str) -> None:
        deployment = stack(4, upgrade)
        envs = [deployment.container(name).env for name in replica_names(deployment)]
        for key in SHARED:
            values = {env[key] for env in envs}
            assert len(values) == 1, key
        first = envs[0]
        assert first["UVICORN_WORKERS"] == "1"
        assert first["CORS_ALLOW_ORIGIN"] == "http://127.0.0.1:3000;http://localhost:3000"
        assert first["REDIS_HEALTH_CHECK_INTERVAL"] == "5"  # half of selfHeal.silentConnectionSeconds
        assert len(first["OAUTH_SESSION_TOKEN_ENCRYPTION_KEY"]) == 48
        assert first["OAUTH_SESSION_TOKEN_ENCRYPTION_KEY"] != first["WEBUI_SECRET_KEY"]
        assert "ENABLE_DB_MIGRATIONS" not in first
        assert all(env["ENABLE_DB_MIGRATIONS"] == "false" for env in envs[1:])

    def test_keys_when_four_are_generated_once_and_secret(self) -> None:
        """One generated key of each kind, and every replica's environment is a secret."""
        deployment = stack(4)
        generated = sorted(r.name for r in deployment.of_type("random:index/randomPassword:RandomPassword"))
        assert generated == [
            "open-webui-open-webui-oauth-key",
            "open-webui-open-webui-secret-key",
            "open-webui-postgres-password",
            "open-webui-valkey-password",
        ]
        for name in replica_names(deployment):
            assert deployment.container(name).resource.is_secret("envs"), name
        key = deployment.container("open-webui-1").env["OAUTH_SESSION_TOKEN_ENCRYPTION_KEY"]
        assert all(key not in repr(value) for value in deployment.outputs.values())

    @pytest.mark.parametrize(
        ("open_webui", "origin"),
        [
            ({"publicUrl": "https://chat.example.com/"}, "https://chat.example.com"),
            ({"publicUrl": "https://chat.example.com:8443/ui"}, "https://chat.example.com:8443"),
            ({"publicUrl": "https://Chat.Example.com"}, "https://chat.example.com"),
            ({"publicUrl": "http://[0:0::1]:8080/"}, "http://[::1]:8080"),
            (
                {"bindAddress": "0.0.0.0", "hostPort": 8080},
                "http://localhost:8080;http://127.0.0.1:8080;http://[::1]:8080",
            ),
            ({"bindAddress": "::1"}, "http://[::1]:3000;http://localhost:3000"),
            ({"bindAddress": "192.0.2.7"}, "http://192.0.2.7:3000"),
            (
                {"env": {"CORS_ALLOW_CUSTOM_SCHEME": "app", "CORS_ALLOW_ORIGIN": "app://open-webui;https://a.example"}},
                "app://open-webui;https://a.example",
            ),
            (
                {
                    "publicUrl": "https://chat.example.com",
                    "env": {"CORS_ALLOW_ORIGIN": "https://a.example;https://b.example"},
                },
                "https://a.example;https://b.example",
            ),
        ],
    )
    def test_cors_allow_origin_when_set_follows_the_public_url_or_the_env(
        self, open_webui: dict[str, Any], origin: str
    ) -> None:
        """The browsers' origin: `publicUrl`'s, else the published address; `openWebui.env` may list others."""
        deployment = stack(2, openWebui=open_webui)
        assert {deployment.container(n).env["CORS_ALLOW_ORIGIN"] for n in replica_names(deployment)} == {origin}

    @pytest.mark.parametrize(
        ("blocks", "interval"),
        [
            ({"valkey": {"timeout": 30}}, "5"),
            ({"valkey": {"timeout": 0}}, "5"),
            ({"valkey": {"timeout": 8}}, "4"),
            (
                {
                    "valkey": {"timeout": 7200},
                    "openWebui": {"selfHeal": {"silentConnectionSeconds": 300, "unhealthyAfterSeconds": 330}},
                },
                "60",
            ),
            (
                {
                    "valkey": {"timeout": 60},
                    "openWebui": {"selfHeal": {"silentConnectionSeconds": 300, "unhealthyAfterSeconds": 330}},
                },
                "30",
            ),
            ({"openWebui": {"env": {"REDIS_HEALTH_CHECK_INTERVAL": "20"}}, "valkey": {"timeout": 30}}, "20"),
        ],
    )
    def test_redis_health_check_interval_when_valkey_timeout_changes_stays_below_it(
        self, blocks: dict[str, Any], interval: str
    ) -> None:
        """60 s, or half of a shorter `valkey.timeout`, and at most half of `selfHeal.silentConnectionSeconds` (so
        that a listener whose connection the kernel ended notices); a value in `openWebui.env` is kept."""
        deployment = stack(2, **blocks)
        assert deployment.container("open-webui-2").env["REDIS_HEALTH_CHECK_INTERVAL"] == interval


class TestAppendOnly:
    """Valkey logs every write (AOF) on a stack whose replicas share it; one container keeps RDB snapshots only."""

    @pytest.mark.parametrize(
        ("config", "expected"),
        [
            ({}, ["--appendonly", "no"]),
            ({"openWebui": {"replicas": 2}}, ["--appendonly", "yes", "--appendfsync", "everysec"]),
            ({"database": {"enabled": True}}, ["--appendonly", "yes", "--appendfsync", "everysec"]),
            ({"openWebui": {"replicas": 2}, "valkey": {"appendOnly": False}}, ["--appendonly", "no"]),
            (
                {"valkey": {"appendOnly": True, "appendFsync": "always"}},
                ["--appendonly", "yes", "--appendfsync", "always"],
            ),
        ],
    )
    def test_valkey_command_when_rendered_turns_aof_on_for_shared_stacks(
        self, config: dict[str, Any], expected: list[str]
    ) -> None:
        command = render(config).container("redis-valkey").resource.inputs["command"]
        start = command.index("--appendonly")
        assert command[start : start + len(expected)] == expected
        if expected[1] == "no":
            assert "--appendfsync" not in command
