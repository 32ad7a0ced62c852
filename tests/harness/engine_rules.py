"""What Pulumi's engine replaces along with a resource it replaces delete-before-replace: the rule both emulated
engines (``tests/harness/docker_applier.py``, ``tests/harness/swarm_applier.py``) and the graph tests follow.

Read from the engine (``pkg/resource/deploy/step_generator.go``, CLI 3.276) and measured with it on pulumi-docker
5.2 (the engine's log at ``-v=7``):

- ``calculateDependentReplacements``: a resource whose *input properties* come from the replaced one is replaced
  with it only where the provider, asked to diff it with those inputs unknown, answers "replace". The answers are
  the provider's, so they are listed here as measured; an input edge whose answer was never measured stops the
  emulation (``UnknownProviderAnswerError``) rather than guess in the design's favour;
- ``findDependentCascadeReplacements``: a resource that names the replaced one in ``replace_with`` or
  ``deleted_with`` is replaced with it whatever the provider says;
- a ``depends_on`` edge alone is never followed.

Input edges are followed transitively; ``replace_with`` and ``deleted_with`` one level (what depends on such a
dependent in turn is replaced when it registers, not deleted before the root).
"""

from __future__ import annotations

from collections.abc import Mapping

from components.testing import Resource

CONTAINER = "docker:index/container:Container"
SERVICE = "docker:index/service:Service"

UNKNOWN_INPUT_REPLACES: Mapping[tuple[str, str], bool] = {
    # Measured: a container whose `envs` come from a replaced container (Open WebUI's Redis and database URLs,
    # a replica's input edge to replica 1): `Diff(...) success: changes=1 #replaces=[]`, `envs` among the stables.
    (CONTAINER, "envs"): False,
}
"""(resource type, input property) -> whether pulumi-docker answers "replace" for that input unknown."""


class UnknownProviderAnswerError(AssertionError):
    """An input edge whose provider answer the emulation does not know: measure it with the real engine."""


def input_cascades(dependent: Resource, replaced: str) -> bool:
    """Whether the engine replaces ``dependent`` for its inputs that come from ``replaced`` (a URN), replaced
    delete-before-replace: only where the provider answers "replace" for them unknown."""
    answers = []
    for prop in sorted(p for p, urns in dependent.property_dependencies.items() if replaced in urns):
        key = (dependent.type, prop)
        if key not in UNKNOWN_INPUT_REPLACES:
            raise UnknownProviderAnswerError(
                f"{dependent.name}.{prop} comes from {replaced.rsplit('::', 1)[-1]}, which is replaced "
                f"delete-before-replace: what {dependent.type} answers for an unknown {prop} was never measured "
                "with the real engine (tests/test_live.py), so the emulation cannot say whether it is replaced too"
            )
        answers.append(UNKNOWN_INPUT_REPLACES[key])
    return any(answers)


def cascades(dependent: Resource, replaced: str) -> bool:
    """Whether the engine replaces ``dependent`` directly along with ``replaced`` (a URN)."""
    if replaced in dependent.replace_with or dependent.deleted_with == replaced:
        return True
    return input_cascades(dependent, replaced)


def replaced_with(edges: Mapping[str, Resource], replaced: str) -> list[str]:
    """The URNs the engine replaces along with ``replaced``, nearest first. ``edges``: each resource as the engine
    sees its dependencies (the last state's, for what is in the state). What names ``replaced`` in
    ``replace_with`` or ``deleted_with`` goes with it (one level: what depends on that in turn is replaced when it
    registers, not deleted first); input edges are followed transitively."""
    found = [
        urn
        for urn, r in edges.items()
        if urn != replaced and (replaced in r.replace_with or r.deleted_with == replaced)
    ]
    frontier = [replaced]
    while frontier:
        current = frontier.pop(0)
        for urn, resource in edges.items():
            if urn != replaced and urn not in found and input_cascades(resource, current):
                found.append(urn)
                frontier.append(urn)
    return found
