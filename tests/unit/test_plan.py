"""components/core/plan.py: the deployment's plan, computed once, and both stacks rendering it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from components import ConfigurationError, OpenWebUIStack, StackSettings, SwarmStack
from components.core.config import settings_for_inputs
from components.core.plan import Plan, plan_deployment
from components.testing import Deployment, StackMocks, run

EXTERNAL_DATABASE = "postgresql://owui:pw@db.example.com:5432/owui"
EXTERNAL_REDIS = "redis://:pw@cache.example.com:6379/0"


def planned(data: dict[str, Any], inputs: tuple[str, ...] = (), **given: bool) -> Plan:
    """The plan of the stack ``s`` for the configuration ``data`` given the Inputs ``inputs``, as a stack plans."""
    return plan_deployment("s", settings_for_inputs(StackSettings.model_validate(data), inputs), inputs, **given)


def test_plan_when_default_manages_valkey_and_one_container_on_sqlite() -> None:
    plan = planned({})
    assert plan == Plan(
        name="s",
        engine="docker",
        inputs=frozenset(),
        declares_network=True,
        adopts_network=False,
        managed_valkey=True,
        managed_database=False,
        external_database=False,
        load_balanced=False,
        network_component="s-network",
        valkey_component="s-valkey",
        postgres_component="s-postgres",
        open_webui_component="s-open-webui",
        network_name="openwebui-network",
        valkey_name="redis-valkey",
        valkey_volume="redis-data",
        postgres_name=None,
        postgres_volume=None,
        open_webui_volume="open-webui",
        replica_names=("open-webui",),
        load_balancer_name=None,
        generated_secrets=("valkey.password", "openWebui.secretKey", "openWebui.oauthSessionTokenEncryptionKey"),
        spreads=False,
    )


def test_plan_when_replicas_on_an_external_database_is_load_balanced_without_postgres() -> None:
    plan = planned({"openWebui": {"replicas": 3}, "database": {"url": EXTERNAL_DATABASE}})
    assert plan.load_balanced
    assert plan.external_database
    assert not plan.managed_database
    assert plan.postgres_name is None
    assert plan.replica_names == ("open-webui-1", "open-webui-2", "open-webui-3")
    assert plan.load_balancer_name == "open-webui-lb"
    assert "database.password" not in plan.generated_secrets


def test_plan_when_replicas_without_a_database_runs_its_own_postgres() -> None:
    plan = planned({"openWebui": {"replicas": 2}})
    assert plan.load_balanced
    assert plan.managed_database
    assert (plan.postgres_name, plan.postgres_volume) == ("open-webui-postgres", "open-webui-postgres")
    assert plan.generated_secrets[-1] == "database.password"


def test_plan_when_the_database_url_is_an_input_is_load_balanced_on_it() -> None:
    plan = planned({}, ("database_url",))
    assert plan.load_balanced
    assert plan.external_database
    assert not plan.managed_database
    assert plan.replica_names == ("open-webui-1",)


def test_plan_when_redis_and_network_are_inputs_manages_neither() -> None:
    plan = planned({}, ("redis_url", "network"), valkey_password_given=False, secret_key_given=True)
    assert not plan.managed_valkey
    assert not plan.declares_network
    assert plan.valkey_name is None
    assert plan.network_name is None
    assert plan.generated_secrets == ("openWebui.oauthSessionTokenEncryptionKey",)


def test_plan_when_a_valkey_password_comes_with_an_external_server_refuses_it() -> None:
    with pytest.raises(ConfigurationError) as refused:
        planned({}, ("redis_url",), valkey_password_given=True)
    assert refused.value.problems == [
        "valkey_password is given with an external server (redis.url or redis_url); remove one"
    ]


def test_plan_when_swarm_names_the_primary_and_the_replicas_services() -> None:
    plan = planned({"engine": "swarm", "openWebui": {"replicas": 3}, "swarm": {"uploads": "s3", "s3": _S3}})
    assert plan.engine == "swarm"
    assert plan.replica_names == ("open-webui", "open-webui-replicas")
    assert plan.spreads
    assert planned({"engine": "swarm"}).replica_names == ("open-webui",)


_S3 = {"bucket": "owui-uploads", "region": "eu-west-1"}


def _components(deployment: Deployment) -> dict[str, str]:
    """The stack's components (children of the stack) by kind -> resource name."""
    return {
        resource.type.rsplit(":", 1)[1]: resource.name
        for resource in deployment.resources
        if not resource.custom
        and resource.type.rsplit(":", 1)[1] not in ("OpenWebUIStack", "SwarmStack")
        and resource.parent.endswith(("OpenWebUIStack::s", "SwarmStack::s"))
    }


def _deployed(
    kind: type[OpenWebUIStack | SwarmStack], settings: StackSettings, inputs: dict[str, Any]
) -> tuple[OpenWebUIStack | SwarmStack, Deployment]:
    """The stack ``s`` of ``kind`` with these settings and Inputs, and what it declared under the mocks."""
    made: list[OpenWebUIStack | SwarmStack] = []
    deployment = run(lambda: made.append(kind("s", settings, **inputs)), mocks=StackMocks())
    return made[0], deployment


CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({}, {}),
    ({"openWebui": {"replicas": 2}}, {}),
    ({"openWebui": {"replicas": 2}}, {"database_url": EXTERNAL_DATABASE}),
    ({}, {"redis_url": EXTERNAL_REDIS, "network": "theirs"}),
]


@pytest.mark.parametrize(("data", "inputs"), CASES)
def test_stacks_when_given_the_same_settings_render_the_same_plan(data: dict[str, Any], inputs: dict[str, Any]) -> None:
    """Both engines plan alike (names, what is managed, load balancing, secrets) and declare what their plan says."""
    plans = {}
    for engine, kind in (("docker", OpenWebUIStack), ("swarm", SwarmStack)):
        settings = StackSettings.model_validate({**data, "engine": engine})
        stack, deployment = _deployed(kind, settings, inputs)
        plan = stack.plan
        assert plan == plan_deployment("s", settings_for_inputs(settings, tuple(inputs)), tuple(inputs))
        components = _components(deployment)
        network_kind = "Network" if engine == "docker" else "OverlayNetwork"
        expected = {"OpenWebUI": plan.open_webui_component}
        if plan.declares_network:
            expected[network_kind] = plan.network_component
        if plan.managed_valkey:
            expected["Valkey"] = plan.valkey_component
        if plan.managed_database:
            expected["Postgres"] = plan.postgres_component
        assert components == expected
        assert ("databaseUrl" in stack.outputs()) is plan.load_balanced
        # What the components named and generated from the same settings is what the plan says.
        named = {plan.valkey_name, plan.postgres_name, *plan.replica_names, plan.load_balancer_name} - {None}
        declared_type = "docker:index/container:Container" if engine == "docker" else "docker:index/service:Service"
        assert {r.inputs["name"] for r in deployment.resources if r.type == declared_type} == named
        if engine == "docker":
            volumes = {plan.valkey_volume, plan.postgres_volume, plan.open_webui_volume} - {None}
            declared_volumes = {
                r.inputs["name"] for r in deployment.resources if r.type == "docker:index/volume:Volume"
            }
            assert declared_volumes == volumes
        generated = [r for r in deployment.resources if r.type == "random:index/randomPassword:RandomPassword"]
        assert len(generated) == len(plan.generated_secrets), [r.name for r in generated]
        plans[engine] = plan
    # All but what is the engine's own: its name, its replicas' containers or services, spreading over nodes.
    docker, swarm = plans["docker"], plans["swarm"]
    assert dataclasses.replace(swarm, engine="docker", replica_names=docker.replica_names, spreads=False) == docker
