"""Pulumi's engine walking a rendered deployment, for the emulated providers: which step each resource gets,
in which order, and what a replacement takes along. ``tests/harness/docker_applier.py`` (containers on one host) and
``tests/harness/swarm_applier.py`` (services on a swarm) say what pulumi-docker does for one resource; this module says
when the engine asks, the same for both.

Read from the engine (``pkg/resource/deploy/step_generator.go`` and ``step_executor.go``, CLI 3.276):

- a resource's step starts once every resource it needs has finished its own: its ``depends_on`` and the
  resources its inputs' Outputs come from (``dependencies`` and ``property_dependencies``), a component standing
  for every resource under it, as the Python SDK expands them before it registers a resource; independent steps
  run at the same time (``pulumi up``'s parallelism is unbounded by default);
- the step is the provider's answer to a diff against the last state: ``create``, ``same``, ``update`` or
  ``replace``; a replacement is delete-before-replace where the resource declares it or the provider answers it
  (``deletes_first``), else create-before-delete: the new one now, the old one at the end;
- a delete-before-replace deletes first what the engine replaces along with it (``tests/harness/engine_rules.py``:
  ``replaced_with``, over each resource's edges in the last state), newest first; each of those is then created
  again when its own turn comes, as a replacement, without a diff and without taking anything along in turn
  (``generateSteps``' "recreating" case: "re-create replaced resource deleted due to dependent DBR");
- after a failure nothing new starts; the steps under way finish and the first error is raised;
- removed resources, newest first, and the old halves of create-before-delete replacements are deleted at the end,
  once everything else has succeeded.

What differs from the engine: a resource also waits for what it names in ``replace_with`` or ``deleted_with``
(the engine decides those cascades when the named resource's step is generated; here that must have happened
before the dependent's own step, so it cannot be taken as "same" and then deleted). This project declares those
options only beside a ``depends_on`` of the same resource, so the order is the engine's.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from components.testing import Deployment, Resource
from tests.harness.engine_rules import CONTAINER, replaced_with

REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"


@dataclass(frozen=True)
class Change:
    """What the next ``pulumi up`` does to one field: ``replace`` or ``update``."""

    key: str
    declared: Any
    state: Any
    action: str


REPLACED_ALONG = "(replaced with a resource it depends on)"
"""The key of the ``Change`` that marks a step replaced because of a delete-before-replace it depends on."""


@dataclass
class Step:
    """One resource's step in a ``pulumi preview`` or ``pulumi up``."""

    op: str
    """``create``, ``update``, ``replace``, ``delete`` or ``same``."""
    urn: str
    name: str
    changes: list[Change] = field(default_factory=list)
    seconds: float = 0.0
    """How long the step took (``apply``)."""


def deletes_first(resource: Resource) -> bool:
    """Whether a replacement of ``resource`` is delete-before-replace: declared so, or answered so by pulumi-docker.

    The provider answers it for every container (``DeleteBeforeReplace`` in its ``resources.go``), and, through
    the Terraform bridge, for any resource whose auto-named ``name`` the program sets itself
    (``nameRequiresDeleteBeforeReplace``; ``SetAutonaming`` auto-names every ``name`` but the image's, which
    pulumi-docker maps itself: a reference, not a name). Anything else is replaced create-before-delete."""
    explicit_name = "name" in resource.inputs and resource.type != REMOTE_IMAGE
    return resource.delete_before_replace or resource.type == CONTAINER or explicit_name


def needs_of(deployment: Deployment, handled: Iterable[str]) -> dict[str, set[str]]:
    """URN -> the ``handled`` resources (URNs) it waits for: its dependencies, the resources its inputs come from
    and what it names in ``replace_with`` or ``deleted_with``, each component expanded to the resources under it."""
    wanted = set(handled)
    children: dict[str, list[str]] = {}
    for resource in deployment.resources:
        children.setdefault(resource.parent, []).append(resource.urn)

    def expand(urn: str) -> set[str]:
        if urn in wanted:
            return {urn}
        return set().union(*(expand(child) for child in children.get(urn, [])), set())

    needs: dict[str, set[str]] = {}
    for resource in deployment.resources:
        if resource.urn in wanted:
            direct = set(resource.dependencies) | set(resource.replace_with)
            direct |= {urn for urns in resource.property_dependencies.values() for urn in urns}
            if resource.deleted_with:
                direct.add(resource.deleted_with)
            needs[resource.urn] = set().union(*(expand(urn) for urn in direct), set()) - {resource.urn}
    return needs


def topological(resources: Iterable[Resource], needs: Mapping[str, set[str]]) -> list[Resource]:
    """``resources`` each after everything it ``needs`` (declaration order where that leaves a choice)."""
    by_urn = {resource.urn: resource for resource in resources}
    ordered: list[Resource] = []
    done: set[str] = set()

    def visit(urn: str, path: tuple[str, ...]) -> None:
        if urn in done:
            return
        if urn in path:
            raise ValueError(f"dependency cycle through {urn}")
        for dependency in sorted(needs[urn]):
            visit(dependency, (*path, urn))
        done.add(urn)
        ordered.append(by_urn[urn])

    for urn in by_urn:
        visit(urn, ())
    return ordered


class Recorded(Protocol):
    """What the state keeps of one resource carried out: at least the resource as last declared (its edges)."""

    resource: Resource


A = TypeVar("A", bound=Recorded)


class StepScheduler(ABC, Generic[A]):
    """The engine over one emulated provider: ``plan`` (``pulumi preview``) and ``apply`` (``pulumi up``) on the
    state kept here. A subclass says what the provider does to one resource (``_inputs``, ``_decide``,
    ``_create``, ``_update``, ``_delete``) and which resources it handles (``_handles``)."""

    def __init__(self, log: Callable[[str], None] = lambda _: None) -> None:
        self.log = log
        self.state: dict[str, A] = {}
        """By URN: what the last apply left, as the stack's state would hold it (in the order of its graph)."""
        self.steps: list[Step] = []
        """What the last apply did, in the order of the graph."""
        self.timeline: list[tuple[float, str, str]] = []
        """(``time.monotonic()``, what, resource name) of every step's start and end: create/created,
        update/updated, delete/deleted."""
        self.pending_deletes: list[A] = []
        """Old halves of create-before-delete replacements that an apply which failed left (the engine's pending
        deletes): no longer in ``state``, still in Docker; the next ``destroy`` deletes them."""
        self._lock = threading.Lock()

    # -- what the provider does (each applier) ---------------------------------------------------------------

    @abstractmethod
    def _handles(self, resource: Resource) -> bool:
        """Whether ``resource`` is one of this provider's (anything else is left to the mocks' answers)."""

    def _prepare(self, resources: list[Resource]) -> None:
        """Called once before a plan or an apply walks ``resources`` (their graph's order)."""

    @abstractmethod
    def _inputs(self, resource: Resource) -> dict[str, Any]:
        """The concrete inputs of ``resource`` at its turn (the mocks' ids replaced by the real ones)."""

    @abstractmethod
    def _decide(self, resource: Resource, inputs: dict[str, Any], old: A) -> Step:
        """The provider's diff of ``inputs`` against the state ``old``: a ``same``, ``update`` or ``replace`` step."""

    @abstractmethod
    def _create(self, resource: Resource, inputs: dict[str, Any]) -> A: ...

    @abstractmethod
    def _update(self, applied: A, inputs: dict[str, Any]) -> None: ...

    @abstractmethod
    def _delete(self, applied: A) -> None: ...

    # -- the engine ---------------------------------------------------------------------------------------

    def _note(self, what: str, name: str, detail: str = "") -> None:
        with self._lock:
            self.timeline.append((time.monotonic(), what, name))
        if what in ("create", "update", "delete"):
            self.log(f"{what} {name}{' ' + detail if detail else ''}")

    def _graph(self, deployment: Deployment) -> tuple[list[Resource], dict[str, set[str]], dict[str, Resource]]:
        """The handled resources in the graph's order, what each needs, and each custom resource as the engine sees
        its edges when it decides what a replacement takes along: from the last state for what is in it
        (``calculateDependentReplacements`` walks the last snapshot), from the declaration for what is new."""
        handled = [resource for resource in deployment.resources if resource.custom and self._handles(resource)]
        needs = needs_of(deployment, (resource.urn for resource in handled))
        with self._lock:
            edges = {
                resource.urn: (self.state[resource.urn].resource if resource.urn in self.state else resource)
                for resource in deployment.resources
                if resource.custom
            }
        return topological(handled, needs), needs, edges

    def plan(self, deployment: Deployment) -> list[Step]:
        """What ``pulumi preview`` would show: one step per declared resource in the graph's order (what a
        delete-before-replace takes along marked as replaced), then the deletes."""
        ordered, _, edges = self._graph(deployment)
        self._prepare(ordered)
        steps: dict[str, Step] = {}
        for resource in ordered:
            old = self.state.get(resource.urn)
            steps[resource.urn] = (
                Step("create", resource.urn, resource.name)
                if old is None
                else self._decide(resource, self._inputs(resource), old)
            )
        along: set[str] = set()
        for resource in ordered:  # in the graph's order, as apply meets them
            step = steps[resource.urn]
            if step.op != "replace" or not deletes_first(resource) or resource.urn in along:
                continue  # what is taken along is re-created as it was deleted, taking nothing along in turn
            for dependent in replaced_with(edges, resource.urn):
                marked = steps.get(dependent)
                if marked is not None and marked.op != "create":
                    along.add(dependent)
                    if marked.op != "replace":
                        marked.op = "replace"
                        marked.changes.append(Change(REPLACED_ALONG, None, None, "replace"))
        return [*steps.values(), *self._removals(deployment)]

    def _removals(self, deployment: Deployment) -> list[Step]:
        """Delete steps for what the state holds and the deployment no longer declares, newest first."""
        declared = {resource.urn for resource in deployment.resources}
        return [
            Step("delete", urn, applied.resource.name)
            for urn, applied in reversed(list(self.state.items()))
            if urn not in declared
        ]

    def apply(self, deployment: Deployment) -> list[Step]:
        """Carry the deployment out as the engine schedules it (the module's docstring); the steps taken, in the
        graph's order, then the deletes. The first error any step raised is raised once every step has stopped,
        before anything is deleted."""
        ordered, needs, edges = self._graph(deployment)
        self._prepare(ordered)
        place = {resource.urn: index for index, resource in enumerate(ordered)}
        taken: dict[str, Step] = {}
        deleted: set[str] = set()
        """Deleted during this apply, before their replacement (delete-before-replace, and what it takes along)."""
        superseded: list[A] = []
        """The old halves of create-before-delete replacements: deleted at the end."""
        finished = {resource.urn: threading.Event() for resource in ordered}
        failures: list[BaseException] = []

        def delete_old(urn: str, detail: str) -> None:
            with self._lock:
                if urn not in self.state or urn in deleted or urn in taken:
                    return  # already gone, or already stepped this run (a stale edge): not taken back
                applied = self.state.pop(urn)
                deleted.add(urn)
            self._note("delete", applied.resource.name, detail)
            self._delete(applied)
            self._note("deleted", applied.resource.name)

        def carry_out(resource: Resource) -> None:
            started = time.monotonic()
            urn = resource.urn
            inputs = self._inputs(resource)
            with self._lock:
                old = self.state.get(urn)
                along = urn in deleted
            if along:
                step = Step("replace", urn, resource.name, [Change(REPLACED_ALONG, None, None, "replace")])
            elif old is None:
                step = Step("create", urn, resource.name)
            else:
                step = self._decide(resource, inputs, old)
            if step.op == "replace" and deletes_first(resource) and not along:
                dependents = sorted(replaced_with(edges, urn), key=lambda u: place.get(u, -1), reverse=True)
                for dependent in dependents:
                    delete_old(dependent, f"(replaced with {resource.name})")
                delete_old(urn, "(replace)")
            elif step.op == "replace":
                with self._lock:
                    if urn in self.state:
                        superseded.append(self.state.pop(urn))
            with self._lock:
                taken[urn] = step
            if step.op in ("create", "replace"):
                self._note("create", resource.name)
                applied = self._create(resource, inputs)
                with self._lock:
                    self.state[urn] = applied
                self._note("created", resource.name)
            elif step.op == "update" and old is not None:
                self._note("update", resource.name, str([change.key for change in step.changes]))
                self._update(old, inputs)
                self._note("updated", resource.name)
            with self._lock:
                if urn in self.state:
                    self.state[urn].resource = resource  # the new state records the new edges ("same" too)
            step.seconds = time.monotonic() - started

        def run(resource: Resource) -> None:
            try:
                for need in needs[resource.urn]:
                    finished[need].wait()
                if not failures:
                    carry_out(resource)
            except BaseException as error:  # reported once every step has stopped
                failures.append(error)
            finally:
                finished[resource.urn].set()

        threads = [threading.Thread(target=run, args=(resource,), daemon=True) for resource in ordered]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.steps = [taken[resource.urn] for resource in ordered if resource.urn in taken]
        if failures:
            self.pending_deletes.extend(superseded)
            raise failures[0]
        for step in self._removals(deployment):
            self._note("delete", step.name)
            self._delete(self.state.pop(step.urn))
            self._note("deleted", step.name)
            self.steps.append(step)
        for old in superseded:
            self._note("delete", old.resource.name, "(replaced)")
            self._delete(old)
            self._note("deleted", old.resource.name)
        with self._lock:  # the new state in the graph's order, as the engine writes its snapshot
            kept = [(resource.urn, self.state.pop(resource.urn)) for resource in ordered if resource.urn in self.state]
            self.state.update(kept)
        return self.steps
