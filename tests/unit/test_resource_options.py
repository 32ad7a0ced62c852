"""Resource options a larger project passes to ``OpenWebUIStack`` reach what the stack creates (under mocks).

The components create every child with ``parent=self`` and nothing else, so the engine and the SDK derive the
children's options from the parent. Pulumi's mock monitor stands in for the engine: these tests read what
each RegisterResource request carries. What only the engine does (run transforms, resolve aliases) is
checked on the request that carries it, and each test says so.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi
import pytest

from components import testing
from components.testing import Deployment, Resource, StackMocks, render
from tests.harness.paths import TESTS

PROGRAMS = TESTS / "programs"
OPTIONS = PROGRAMS / "options.py"
MOVED = PROGRAMS / "moved.py"
STACK_TYPE = "open-webui-redis:index:OpenWebUIStack"
DOCKER_TYPES = {
    "docker:index/network:Network": 1,
    "docker:index/remoteImage:RemoteImage": 2,
    "docker:index/volume:Volume": 2,
    "docker:index/container:Container": 2,
}
"""What the stack creates with the docker provider, and how many of each."""


def docker_resources(deployment: Deployment) -> list[Resource]:
    return [resource for resource in deployment.resources if resource.type in DOCKER_TYPES]


def provider_reference(deployment: Deployment, name: str) -> str:
    """How a resource names its provider to the engine: ``<provider URN>::<provider ID>``."""
    provider = deployment.resource("pulumi:providers:docker", name)
    return f"{provider.urn}::{name}-id"  # StackMocks gives every resource the ID "<name>-id"


def descendants_of(deployment: Deployment, root: Resource) -> list[Resource]:
    """Every resource whose parent chain leads to ``root``."""
    by_urn = {resource.urn: resource for resource in deployment.resources}

    def under_root(resource: Resource) -> bool:
        parent = by_urn.get(resource.parent)
        return parent is not None and (parent is root or under_root(parent))

    return [resource for resource in deployment.resources if under_root(resource)]


class TestExplicitProvider:
    """A ``docker.Provider`` given to the stack is the provider of every docker resource in it."""

    @pytest.mark.parametrize("option", ["providers", "provider"])
    def test_every_docker_resource_when_passed_to_the_stack_uses_that_provider(self, option):
        """``providers=[p]`` and ``provider=p`` on the component both reach each docker resource."""
        deployment = render({"options:provider": option}, program=OPTIONS)
        reference = provider_reference(deployment, "remote-docker")
        created = docker_resources(deployment)
        assert {type_: sum(r.type == type_ for r in created) for type_ in DOCKER_TYPES} == DOCKER_TYPES
        for resource in created:
            assert resource.provider == reference, resource.urn

    def test_random_resources_when_only_docker_is_given_keep_the_default_provider(self):
        """A docker provider is for docker resources only: the random passwords use the default one."""
        deployment = render({"options:provider": "providers"}, program=OPTIONS)
        passwords = deployment.of_type("random:index/randomPassword:RandomPassword")
        assert len(passwords) == 3
        for resource in passwords:
            assert resource.provider == "", resource.urn

    def test_docker_resources_when_no_provider_is_given_use_the_default_provider(self):
        """The control: without the option, no docker resource names a provider (the engine's default)."""
        deployment = render(program=OPTIONS)
        for resource in docker_resources(deployment):
            assert resource.provider == "", resource.urn


class TestProtect:
    """``protect=True`` on the stack protects everything in it."""

    def test_every_resource_when_the_stack_is_protected_is_protected(self):
        """The components and each resource they create are registered with ``protect``."""
        deployment = render({"options:protect": "true"}, program=OPTIONS)
        assert len(deployment.resources) == 14
        for resource in deployment.resources:
            assert resource.protect, resource.urn

    def test_no_resource_when_the_stack_is_not_protected_is_protected(self):
        """The control: without the option nothing is protected."""
        deployment = render(program=OPTIONS)
        assert not [resource.urn for resource in deployment.resources if resource.protect]


class RecordingTransforms(StackMocks):
    """StackMocks that keep the transforms each registration carried (the mock monitor resolves them)."""

    def __init__(self) -> None:
        super().__init__()
        self.transforms: dict[str, list[Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.transforms[args.name] = list(args.transforms)
        return super().new_resource(args)


class TestTransforms:
    """``transforms=[...]`` on the stack: registered with the component, for the engine to apply to its children.

    The engine, not the SDK, applies a component's transforms to every resource under it, and the mock monitor
    runs no transform. So what can be shown here is that the transform travels with the component's
    registration, that the children are registered under it, and what the transform does to a child's
    properties when called as the engine calls it.
    """

    def test_the_transform_when_given_to_the_stack_is_registered_with_the_stack_only(self):
        """The stack's RegisterResource carries the transform; its children carry none of their own."""
        mocks = RecordingTransforms()
        deployment = render({"options:transform": "true"}, program=OPTIONS, mocks=mocks)
        stack = deployment.resource(STACK_TYPE, "open-webui")
        assert [transform.__name__ for transform in mocks.transforms["open-webui"]] == ["label_containers"]
        children = descendants_of(deployment, stack)
        assert len(children) == 13
        for child in children:
            assert mocks.transforms[child.name] == [], child.urn

    def test_the_transform_when_called_as_the_engine_does_labels_each_container(self):
        """Called with a container's registered properties, the stack's transform adds the label."""
        mocks = RecordingTransforms()
        deployment = render({"options:transform": "true"}, program=OPTIONS, mocks=mocks)
        (transform,) = mocks.transforms["open-webui"]
        containers = deployment.of_type("docker:index/container:Container")
        assert len(containers) == 2
        for container in containers:
            args = pulumi.ResourceTransformArgs(True, container.type, container.name, container.inputs, None)  # type: ignore[arg-type]
            result = transform(args)
            assert result is not None, container.urn
            assert [label.label for label in result.props["labels"]] == ["com.example.owner"]
        (network,) = deployment.of_type("docker:index/network:Network")
        assert transform(pulumi.ResourceTransformArgs(True, network.type, network.name, network.inputs, None)) is None  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# Aliases. The mock monitor neither resolves aliases nor builds the engine's URNs (it qualifies a type with
# its parent's last type only, and top-level types with `pulumi:pulumi:Stack$`), so the engine's two rules are
# restated here and applied to what the requests carry:
#   - URN: urn:pulumi:<stack>::<project>::<ancestor types and own type, joined by $>::<name>, the root stack
#     left out (pulumi/pulumi sdk/go/common/resource/urn; the SDKs' create_urn).
#   - Alias: an alias spec defaults name, type and parent to the resource's own (`noParent`: no parent); each
#     alias of a parent gives each child an alias under it (the engine's inherited child aliases).
# ---------------------------------------------------------------------------------------------------------


class RecordingAliases(testing.RecordingMonitor):
    """The mock monitor, also keeping the alias specs of each request by URN."""

    aliases: ClassVar[dict[str, list[Any]]] = {}
    """Alias specs by URN: the monitor is built inside ``render``, so it records into the class."""

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        RecordingAliases.aliases[response.urn] = list(request.aliases)
        return response


@pytest.fixture
def recorded_aliases(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """``render`` with a monitor that keeps the alias specs; the specs by URN."""
    RecordingAliases.aliases = {}
    monkeypatch.setattr(testing, "RecordingMonitor", RecordingAliases)
    return RecordingAliases.aliases


def engine_urn(qualified_type: str, name: str) -> str:
    return f"urn:pulumi:dev::{testing.PROJECT}::{qualified_type}::{name}"


def qualified_type(urn: str) -> str:
    return urn.split("::")[2]


def engine_urns(deployment: Deployment) -> dict[str, str]:
    """Mock URN -> the URN the engine gives the resource."""
    by_urn = {resource.urn: resource for resource in deployment.resources}

    def qualified(resource: Resource) -> str:
        parent = by_urn.get(resource.parent)  # the root stack is not among the recorded resources
        return resource.type if parent is None else f"{qualified(parent)}${resource.type}"

    return {resource.urn: engine_urn(qualified(resource), resource.name) for resource in deployment.resources}


def engine_aliases(deployment: Deployment, specs: dict[str, list[Any]]) -> dict[str, set[str]]:
    """Mock URN -> every URN the engine treats as a former URN of the resource."""
    by_urn = {resource.urn: resource for resource in deployment.resources}
    urns = engine_urns(deployment)
    aliases: dict[str, set[str]] = {}
    for resource in deployment.resources:  # registered parents first
        parent = by_urn.get(resource.parent)
        own = set()
        for alias in specs.get(resource.urn, []):
            if alias.urn:
                own.add(alias.urn)
                continue
            spec = alias.spec
            if spec.noParent:
                parent_type = ""
            elif spec.parentUrn:
                parent_type = qualified_type(spec.parentUrn)
            else:
                parent_type = qualified_type(urns[parent.urn]) if parent else ""
            type_ = spec.type or resource.type
            own.add(engine_urn(f"{parent_type}${type_}" if parent_type else type_, spec.name or resource.name))
        inherited = {
            engine_urn(f"{qualified_type(parent_alias)}${resource.type}", resource.name)
            for parent_alias in (aliases[parent.urn] if parent else set())
        }
        aliases[resource.urn] = own | inherited
    return aliases


class TestAliases:
    """A project that moves the deployed stack into a component of its own keeps every URN with one alias."""

    def test_the_alias_when_given_to_the_stack_is_sent_as_a_spec_without_parent(self, recorded_aliases):
        """``Alias(parent=ROOT_STACK_RESOURCE)`` reaches the engine as ``noParent``, name and type unchanged."""
        deployment = render({"options:layout": "platform"}, program=MOVED)
        stack = deployment.resource(STACK_TYPE, "open-webui")
        (alias,) = recorded_aliases[stack.urn]
        assert alias.spec.noParent
        assert (alias.spec.name, alias.spec.type, alias.spec.parentUrn) == ("", "", "")
        for child in descendants_of(deployment, stack):
            assert recorded_aliases[child.urn] == [], child.urn

    def test_every_former_urn_when_the_stack_moves_with_its_alias_is_an_alias(self, recorded_aliases):
        """Each resource deployed with the stack at the top has its former URN among its aliases."""
        before = render({"options:layout": "root"}, program=MOVED)
        before_urns = engine_urns(before)
        former = {(r.type, r.name): before_urns[r.urn] for r in before.resources}
        after = render({"options:layout": "platform"}, program=MOVED)
        aliases = engine_aliases(after, recorded_aliases)
        current = engine_urns(after)
        moved = [r for r in after.resources if (r.type, r.name) in former]
        assert len(moved) == len(former) == 14
        for resource in moved:
            assert current[resource.urn] != former[(resource.type, resource.name)], resource.urn  # it did move
            assert former[(resource.type, resource.name)] in aliases[resource.urn], resource.urn

    def test_no_former_urn_when_the_stack_moves_without_alias_is_kept(self, recorded_aliases):
        """The control: moved without the alias, every resource would be replaced."""
        before = render({"options:layout": "root"}, program=MOVED)
        former = set(engine_urns(before).values())
        after = render({"options:layout": "platform-without-alias"}, program=MOVED)
        aliases = engine_aliases(after, recorded_aliases)
        assert all(not (aliases[urn] | {current}) & former for urn, current in engine_urns(after).items())
