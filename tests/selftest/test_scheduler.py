"""The engine's walk both appliers share (``tests/harness/scheduler.py``), on a provider that only records: the
order of steps, the first error, the deletes at the end, and what a replacement takes along."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from components.testing import Deployment, Resource
from tests.harness.scheduler import REPLACED_ALONG, Step, StepScheduler, deletes_first

CONTAINER = "docker:index/container:Container"
SECRET = "docker:index/secret:Secret"
SERVICE = "docker:index/service:Service"
NETWORK = "docker:index/network:Network"
IMAGE = "docker:index/remoteImage:RemoteImage"
COMPONENT = "open-webui:index:Part"


def resource(name: str, type_: str = CONTAINER, **options: Any) -> Resource:
    return Resource(
        type=type_,
        name=name,
        urn=f"urn:pulumi:dev::p::{type_}::{name}",
        parent=options.pop("parent", ""),
        custom=type_ != COMPONENT,
        inputs=options.pop("inputs", {}),
        secret_inputs=set(),
        dependencies=[r.urn for r in options.pop("after", [])],
        property_dependencies={key: [r.urn for r in rs] for key, rs in options.pop("inputs_from", {}).items()},
        provider="",
        protect=False,
        retain_on_delete=False,
        delete_before_replace=options.pop("delete_before_replace", False),
        replace_on_changes=[],
        ignore_changes=[],
        aliases=[],
        replace_with=[r.urn for r in options.pop("replace_with", [])],
        **options,
    )


def deployment(*resources: Resource) -> Deployment:
    return Deployment(resources=list(resources), outputs={}, secret_outputs=set())


@dataclass
class Record:
    resource: Resource
    inputs: dict[str, Any]


class Recorder(StepScheduler[Record]):
    """A provider that answers each diff as told and records every call, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, str] = {}
        """Resource name -> the op its next diff answers (``same`` when not named)."""
        self.failing: set[str] = set()
        """Resource names whose create raises, once a create of ``failing_later`` is under way."""
        self.failing_later: set[str] = set()
        """Resource names whose create raises too, well after a first one has."""
        self.under_way = threading.Event()
        self.failed = threading.Event()
        self.together: threading.Barrier | None = None
        """Every create waits here: only steps that run at the same time get past it."""
        self.calls: list[tuple[str, str]] = []
        self.asked: list[str] = []
        """The names of the resources whose diff was asked for, in order."""

    def _record(self, what: str, name: str) -> None:
        with self._lock:
            self.calls.append((what, name))

    def _handles(self, resource: Resource) -> bool:
        return resource.type.startswith("docker:index/")

    def _inputs(self, resource: Resource) -> dict[str, Any]:
        return dict(resource.inputs)

    def _decide(self, resource: Resource, inputs: dict[str, Any], old: Record) -> Step:
        with self._lock:
            self.asked.append(resource.name)
        return Step(self.answers.get(resource.name, "same"), resource.urn, resource.name)

    def _create(self, resource: Resource, inputs: dict[str, Any]) -> Record:
        self._record("create", resource.name)
        if self.together is not None:
            self.together.wait()
        if resource.name in self.failing:
            self.under_way.wait(5)
            self.failed.set()
            raise RuntimeError(f"{resource.name} failed")
        if resource.name in self.failing_later:
            self.under_way.set()
            self.failed.wait(5)
            time.sleep(0.2)  # well after the first failure was recorded
            raise RuntimeError(f"{resource.name} failed")
        return Record(resource, inputs)

    def _update(self, applied: Record, inputs: dict[str, Any]) -> None:
        self._record("update", applied.resource.name)

    def _delete(self, applied: Record) -> None:
        self._record("delete", applied.resource.name)


def ops(steps: list[Step]) -> dict[str, str]:
    return {step.name: step.op for step in steps}


class TestOrder:
    def test_apply_when_a_resource_needs_another_through_a_component_starts_it_after_that_one_finished(self) -> None:
        """A dependency on a component waits for every resource under it; an input's Output orders too."""
        part = resource("part", COMPONENT)
        network = resource("network", NETWORK, parent=part.urn, inputs={"name": "net"})
        valkey = resource("valkey", after=[part])
        open_webui = resource("open-webui", inputs_from={"envs": [valkey]})
        engine = Recorder()
        engine.apply(deployment(open_webui, valkey, part, network))
        events = [(what, name) for _, what, name in engine.timeline]
        assert events.index(("created", "network")) < events.index(("create", "valkey"))
        assert events.index(("created", "valkey")) < events.index(("create", "open-webui"))
        assert [step.name for step in engine.steps] == ["network", "valkey", "open-webui"]

    def test_apply_when_steps_are_independent_runs_them_at_the_same_time(self) -> None:
        """Two resources that need nothing of each other are created at once (each waits for the other)."""
        engine = Recorder()
        engine.together = threading.Barrier(2, timeout=5)
        steps = engine.apply(deployment(resource("one"), resource("two")))
        assert ops(steps) == {"one": "create", "two": "create"}


class TestFailure:
    def test_apply_when_steps_fail_raises_the_first_error_and_starts_nothing_after_it(self) -> None:
        """The first failure is raised once the steps under way have stopped; what needs a failed step never
        starts, and nothing is deleted (the removed resource stays in the state)."""
        engine = Recorder()
        removed = resource("removed")
        engine.apply(deployment(removed))
        first, later = resource("first"), resource("later")
        engine.failing, engine.failing_later = {"first"}, {"later"}
        after_first, after_later = resource("after-first", after=[first]), resource("after-later", after=[later])
        with pytest.raises(RuntimeError, match=r"^first failed$"):
            engine.apply(deployment(first, later, after_first, after_later))
        created = [name for what, name in engine.calls if what == "create"]
        assert sorted(created) == ["first", "later", "removed"]
        assert ("delete", "removed") not in engine.calls
        assert removed.urn in engine.state


class TestDeletes:
    def test_apply_when_resources_are_removed_deletes_them_after_every_create_newest_first(self) -> None:
        """Removed resources go at the end, once everything else succeeded, what depends on another first."""
        engine = Recorder()
        network = resource("network", NETWORK, inputs={"name": "net"})
        valkey = resource("valkey", inputs_from={"networksAdvanced": [network]})
        engine.apply(deployment(network, valkey))
        steps = engine.apply(deployment(resource("postgres")))
        assert engine.calls[-3:] == [("create", "postgres"), ("delete", "valkey"), ("delete", "network")]
        assert [(step.op, step.name) for step in steps] == [
            ("create", "postgres"),
            ("delete", "valkey"),
            ("delete", "network"),
        ]
        assert list(engine.state) == [resource("postgres").urn]

    def test_apply_when_replaced_create_first_deletes_the_old_one_at_the_end_and_takes_nothing_along(self) -> None:
        """An auto-named secret is replaced create-before-delete: the new one first, what uses it updated, the old
        one deleted last; nothing is deleted before it (no cascade is asked for)."""
        engine = Recorder()
        secret = resource("secret", SECRET)
        service = resource("service", SERVICE, inputs={"name": "svc"}, inputs_from={"taskSpec": [secret]})
        engine.apply(deployment(secret, service))
        engine.calls.clear()
        engine.answers = {"secret": "replace", "service": "update"}
        steps = engine.apply(deployment(secret, service))
        assert engine.calls == [("create", "secret"), ("update", "service"), ("delete", "secret")]
        assert ops(steps) == {"secret": "replace", "service": "update"}

    def test_apply_when_failing_after_a_create_first_replacement_keeps_the_old_one_for_destroy(self) -> None:
        """The engine's pending delete: the replaced secret's old half is no longer in the state but still exists;
        the apply that failed does not delete it, and it is not lost: ``pending_deletes`` holds it."""
        engine = Recorder()
        secret = resource("secret", SECRET)
        broken = resource("broken", inputs={"name": "b"}, inputs_from={"env": [secret]})
        engine.apply(deployment(secret))
        engine.calls.clear()
        engine.answers = {"secret": "replace"}
        engine.failing = {"broken"}
        engine.under_way.set()
        with pytest.raises(RuntimeError, match="broken failed"):
            engine.apply(deployment(secret, broken))
        assert ("delete", "secret") not in engine.calls
        assert [record.resource.name for record in engine.pending_deletes] == ["secret"]


class TestReplacement:
    ROOT = resource("root", delete_before_replace=True)
    ALONG = resource("along", after=[ROOT], replace_with=[ROOT])
    READER = resource("reader", after=[ROOT], inputs_from={"envs": [ROOT]})
    FOLLOWER = resource("follower", after=[ROOT])
    SECOND = resource("second", after=[ALONG], replace_with=[ALONG])
    STACK = deployment(ROOT, ALONG, READER, FOLLOWER, SECOND)
    REPLACED: ClassVar[dict[str, str]] = {
        "root": "replace",
        "along": "replace",
        "reader": "same",
        "follower": "same",
        "second": "same",
    }
    """Each resource's op once ``root`` is replaced."""

    def engine(self) -> Recorder:
        """The stack applied once, then told that ``root`` (delete-before-replace) is replaced."""
        engine = Recorder()
        engine.apply(self.STACK)
        engine.calls.clear()
        engine.asked.clear()
        engine.answers = {"root": "replace", "along": "replace", "second": "same"}
        return engine

    def test_apply_when_a_dependency_is_replaced_delete_first_replaces_its_dependents(self) -> None:
        """What names the root in replace_with is deleted before it and created again after it, as a replacement;
        an envs input edge (the provider answers "no change") and a depends_on edge take nothing along."""
        engine = self.engine()
        steps = engine.apply(self.STACK)
        assert engine.calls == [("delete", "along"), ("delete", "root"), ("create", "root"), ("create", "along")]
        assert ops(steps) == self.REPLACED
        assert [change.key for change in steps[1].changes] == [REPLACED_ALONG]
        assert list(engine.state) == [r.urn for r in self.STACK.resources]  # the graph's order, not creation's

    def test_apply_when_taken_along_recreates_without_a_diff_and_takes_nothing_along_in_turn(self) -> None:
        """The engine's "recreating" case: what was deleted with the root is re-created as a replacement without
        asking its provider, and what names it in turn is not deleted (its own diff decides)."""
        engine = self.engine()
        engine.apply(self.STACK)
        assert "along" not in engine.asked
        assert "second" in engine.asked
        assert ("delete", "second") not in engine.calls

    def test_plan_when_a_dependency_is_replaced_delete_first_shows_its_dependents_replaced(self) -> None:
        """The preview shows the same replacements the apply carries out, and does nothing."""
        engine = self.engine()
        steps = engine.plan(self.STACK)
        assert ops(steps) == self.REPLACED
        assert engine.calls == []


@pytest.mark.parametrize(
    ("declared", "first"),
    [
        (resource("valkey", CONTAINER), True),
        (resource("network", NETWORK, inputs={"name": "net"}), True),
        (resource("service", SERVICE, inputs={"name": "svc"}), True),
        (resource("secret", SECRET), False),
        (resource("secret", SECRET, delete_before_replace=True), True),
        (resource("image", IMAGE, inputs={"name": "valkey/valkey:8"}), False),
    ],
)
def test_deletes_first_when_asked_follows_the_option_and_pulumi_docker(declared: Resource, first: bool) -> None:
    """Declared, a container (the provider's own choice), or a name the program sets (the bridge's rule)."""
    assert deletes_first(declared) is first
