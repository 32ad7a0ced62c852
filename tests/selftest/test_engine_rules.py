"""The engine's replacement rule that both emulated engines follow, pinned to what the real engine measured."""

from __future__ import annotations

from typing import Any

import pytest

from components.testing import Resource
from tests.harness.engine_rules import CONTAINER, SERVICE, UnknownProviderAnswerError, cascades, replaced_with

REPLICA_1 = "urn:pulumi:dev::p::docker:index/container:Container::replica-1"


def resource(name: str, type_: str = CONTAINER, **options: Any) -> Resource:
    return Resource(
        type=type_,
        name=name,
        urn=f"urn:pulumi:dev::p::{type_}::{name}",
        parent="",
        custom=True,
        inputs={},
        secret_inputs=set(),
        dependencies=options.pop("dependencies", []),
        property_dependencies=options.pop("property_dependencies", {}),
        provider="",
        protect=False,
        retain_on_delete=False,
        delete_before_replace=True,
        replace_on_changes=[],
        ignore_changes=[],
        aliases=[],
        **options,
    )


def test_input_edge_when_through_a_containers_envs_does_not_cascade() -> None:
    """Measured with the real engine and pulumi-docker 5.2: a container whose envs come from a replaced container
    is not replaced with it (the provider answers "no change" for the unknown envs)."""
    replica = resource("replica-2", property_dependencies={"envs": [REPLICA_1]}, dependencies=[REPLICA_1])
    assert cascades(replica, REPLICA_1) is False


def test_replace_with_when_named_always_cascades() -> None:
    """replace_with follows whatever the provider would say (findDependentCascadeReplacements)."""
    assert cascades(resource("replica-2", replace_with=[REPLICA_1]), REPLICA_1) is True
    assert cascades(resource("service", SERVICE, replace_with=[REPLICA_1]), REPLICA_1) is True


def test_deleted_with_when_named_cascades() -> None:
    assert cascades(resource("replica-2", deleted_with=REPLICA_1), REPLICA_1) is True


def test_depends_on_when_alone_never_cascades() -> None:
    """A depends_on edge orders; it never replaces."""
    assert cascades(resource("load-balancer", dependencies=[REPLICA_1]), REPLICA_1) is False


def test_input_edge_when_never_measured_stops_the_emulation_instead_of_guessing() -> None:
    """An input the provider's answer is unknown for fails loudly, naming what to measure."""
    dependent = resource("open-webui", property_dependencies={"uploads": [REPLICA_1]})
    with pytest.raises(UnknownProviderAnswerError, match=r"open-webui\.uploads comes from replica-1.*never measured"):
        cascades(dependent, REPLICA_1)


def test_replaced_with_when_chained_follows_replace_with_one_level() -> None:
    """What names the root in replace_with or deleted_with goes with it, each once; what names one of those in
    turn is replaced when it registers, not deleted before the root; an envs edge takes nothing."""
    second = resource("replica-2", replace_with=[REPLICA_1])
    third = resource("replica-3", replace_with=[REPLICA_1, second.urn])
    sidecar = resource("sidecar", deleted_with=third.urn)
    bystander = resource("bystander", property_dependencies={"envs": [REPLICA_1]})
    edges = {r.urn: r for r in (second, third, sidecar, bystander)}
    assert replaced_with(edges, REPLICA_1) == [second.urn, third.urn]
