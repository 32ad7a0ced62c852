"""Carry out a rendered Swarm stack on a real swarm the way pulumi-docker's provider does, and diff it.

pulumi-docker 5.x embeds terraform-provider-docker v4.5 (its ``upstream`` submodule). For its Swarm objects
(``internal/provider/resource_docker_service{,_funcs,_structures}.go``, ``resource_docker_secret.go``,
``resource_docker_config.go``) this module does what the provider does, field by field for what this project
declares:

- ``docker_network``: ``NetworkCreate`` with the driver, ``Attachable`` and the options;
- ``docker_secret`` / ``docker_config``: ``data`` is standard base64, decoded before ``SecretCreate`` /
  ``ConfigCreate``; every field is ForceNew (a new value is a new object); the engine creates the replacement
  first (auto-named, so under a new name), updates what refers to it, and deletes the old one at the end;
- ``docker_service`` create: the whole ``ServiceSpec`` built from the inputs (``createServiceSpec``: env as
  ``K=V``, durations parsed into nanoseconds, secret and config references with uid, gid and mode, mounts with
  volume options, networks by ID with aliases, placement, restart policy, update and rollback configs, the
  endpoint spec), ``ServiceCreate``; then ``converge_config``: wait ``delay``, then poll (``MinTimeout`` 5 s) until
  every slot has a running task on an active node; on timeout the provider deletes the service;
- update: inspect for the version, send the full spec, then wait (7 s, then every 5-10 s) for
  ``UpdateStatus.State`` ``completed`` (``paused`` or a rollback fails it), or without one for the running count;
- read (``resourceDockerServiceRead`` and its ``flatten*``): durations in the provider's short form (``1m``, not
  ``1m0s``), env as a map, sets compared without order; ``diff_service`` compares a declaration with it.

The engine's walk (which step when, delete-before-replace or create-before-delete, what a replacement takes
along, deletes at the end) is ``tests/harness/scheduler.py``'s, the same as for the single-host applier.

What differs: this is Python over the Engine API, not the Go client. The provider's ``QueryRegistry`` pin of the
image digest is skipped, as the provider itself skips it when no registry answers (none does here). Only the
fields this project declares are mapped.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from components.swarm._swarm import familiar_reference
from components.swarm._swarm import short_duration as declared_short_duration
from components.testing import Resource
from tests.harness.docker_applier import DockerError, EngineClient, duration_string, parse_duration
from tests.harness.scheduler import Change, Step, StepScheduler

NETWORK = "docker:index/network:Network"
SECRET = "docker:index/secret:Secret"
CONFIG = "docker:index/serviceConfig:ServiceConfig"
SERVICE = "docker:index/service:Service"
HANDLED = (NETWORK, SECRET, CONFIG, SERVICE)
UPDATE_DELAY = 7.0
"""``resourceDockerServiceUpdate``'s wait before its first look at the update (hard-coded, not ``converge_config``)."""
MIN_TIMEOUT = 5.0
MAX_BACKOFF = 10.0


def short_duration(nanoseconds: int) -> str:
    """The provider's ``shortDur`` of a duration Docker holds in nanoseconds: for whole seconds the form the
    components declare (``components.swarm._swarm.short_duration``); with a fraction of a second Go's
    ``Duration.String()`` has no trailing ``0s`` or ``0m`` to drop."""
    seconds, fraction = divmod(nanoseconds, 10**9)
    return duration_string(nanoseconds) if fraction else declared_short_duration(seconds)


# ---------------------------------------------------------------------------------------------------------
# Inputs -> ServiceSpec (createServiceSpec and its helpers)
# ---------------------------------------------------------------------------------------------------------


def _file_reference(item: Mapping[str, Any], kind: str) -> dict[str, Any]:
    return {
        f"{kind}ID": item[f"{kind.lower()}Id"],
        f"{kind}Name": item.get(f"{kind.lower()}Name", ""),
        "File": {
            "Name": item["fileName"],
            "UID": item.get("fileUid", "0"),
            "GID": item.get("fileGid", "0"),
            "Mode": int(item.get("fileMode", 0o444)),
        },
    }


def _mount(item: Mapping[str, Any]) -> dict[str, Any]:
    mount: dict[str, Any] = {
        "Type": item["type"],
        "Source": item.get("source", ""),
        "Target": item["target"],
        "ReadOnly": bool(item.get("readOnly", False)),
    }
    options = item.get("volumeOptions")
    if options is not None:
        mount["VolumeOptions"] = {
            "NoCopy": bool(options.get("noCopy", False)),
            "Labels": {label["label"]: label["value"] for label in options.get("labels") or []},
            "DriverConfig": {
                "Name": options.get("driverName", ""),
                "Options": dict(options.get("driverOptions") or {}),
            },
        }
    return mount


def _update_config(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if config is None:
        return None  # sent only when declared (d.GetOk)
    return {
        "Parallelism": int(config.get("parallelism", 1)),
        "Delay": parse_duration(config.get("delay", "0s")),
        "FailureAction": config.get("failureAction", "pause"),
        "Monitor": parse_duration(config.get("monitor", "5s")),
        "MaxFailureRatio": float(config.get("maxFailureRatio", "0.0")),
        "Order": config.get("order", "stop-first"),
    }


_PORT_FIELDS: tuple[tuple[str, str, str | int | None], ...] = (
    ("protocol", "Protocol", "tcp"),
    ("targetPort", "TargetPort", None),
    ("publishedPort", "PublishedPort", 0),
    ("publishMode", "PublishMode", "ingress"),
)
"""An endpoint port's fields: the input's name, the ``ServiceSpec``'s, and the default either way (None: required;
an int default: a number)."""


def _ports(ports: list[Mapping[str, Any]] | None, *, to_spec: bool) -> list[dict[str, Any]]:
    """Endpoint ports from the inputs' form to the ``ServiceSpec``'s (``to_spec``) or back, as read."""
    converted = []
    for port in ports or []:
        fields = {}
        for key, spec_key, default in _PORT_FIELDS:
            source, target = (key, spec_key) if to_spec else (spec_key, key)
            value = port[source] if default is None else port.get(source, default)
            fields[target] = value if isinstance(default, str) else int(value)
        converted.append(fields)
    return converted


def service_spec(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ServiceSpec`` ``createServiceSpec`` builds (blocks the provider always sends are sent empty)."""
    task = inputs["taskSpec"]
    container = task["containerSpec"]
    health = container.get("healthcheck") or {}
    env = [f"{key}={value}" for key, value in (container.get("env") or {}).items()]
    random.shuffle(env)  # mapTypeMapValsToStringSlice: a Go map's order, different on every call
    spec_container: dict[str, Any] = {
        # Docker's client writes the image in its familiar form on every create and update (imageWithTagString).
        "Image": familiar_reference(container["image"]),
        "Command": list(container.get("commands") or []),
        "Args": list(container.get("args") or []),
        "Env": env,
        "Secrets": [_file_reference(item, "Secret") for item in container.get("secrets") or []],
        "Configs": [_file_reference(item, "Config") for item in container.get("configs") or []],
        "Mounts": [_mount(item) for item in container.get("mounts") or []],
        "Healthcheck": {
            "Test": list(health.get("tests") or []),
            "Interval": parse_duration(health.get("interval", "0s")),
            "Timeout": parse_duration(health.get("timeout", "0s")),
            "StartPeriod": parse_duration(health.get("startPeriod", "0s")),
            "Retries": int(health.get("retries", 0)),
        },
        "StopGracePeriod": parse_duration(container.get("stopGracePeriod", "")),
        "CapabilityAdd": list(container.get("capAdds") or []) or None,
        "CapabilityDrop": list(container.get("capDrops") or []) or None,
        "Sysctls": {str(k): str(v) for k, v in (container.get("sysctl") or {}).items()} or None,
        "DNSConfig": {},
        "Isolation": "default",
    }
    placement = task.get("placement") or {}
    restart = task.get("restartPolicy") or {}
    limits = (task.get("resources") or {}).get("limits")
    template: dict[str, Any] = {
        "ContainerSpec": spec_container,
        "Networks": [
            {"Target": network.get("id") or network["name"], "Aliases": list(network.get("aliases") or [])}
            for network in task.get("networksAdvanceds") or []
        ],
        "Placement": {
            "Constraints": list(placement.get("constraints") or []),
            "Preferences": [
                {"Spread": {"SpreadDescriptor": pref.removeprefix("spread=")}} for pref in placement.get("prefs") or []
            ],
            "MaxReplicas": int(placement.get("maxReplicas", 0)),
        },
        "Resources": {
            "Limits": {"MemoryBytes": int(limits.get("memoryBytes", 0)), "NanoCPUs": int(limits.get("nanoCpus", 0))}
        }
        if limits
        else {},
        "RestartPolicy": {
            "Condition": restart.get("condition", ""),
            "Delay": parse_duration(restart.get("delay", "")),
            "MaxAttempts": int(restart.get("maxAttempts", 0)),
            "Window": parse_duration(restart.get("window", "")),
        },
    }
    log_driver = task.get("logDriver")
    if log_driver:
        template["LogDriver"] = {"Name": log_driver["name"], "Options": dict(log_driver.get("options") or {})}
    endpoint = inputs.get("endpointSpec") or {}
    spec: dict[str, Any] = {
        "Name": inputs["name"],
        "Labels": {label["label"]: label["value"] for label in inputs.get("labels") or []},
        "TaskTemplate": template,
        "Mode": {
            "Replicated": {"Replicas": int(((inputs.get("mode") or {}).get("replicated") or {}).get("replicas", 1))}
        },
        "EndpointSpec": {"Mode": endpoint.get("mode", "vip"), "Ports": _ports(endpoint.get("ports"), to_spec=True)},
    }
    for key, spec_key in (("updateConfig", "UpdateConfig"), ("rollbackConfig", "RollbackConfig")):
        converted = _update_config(inputs.get(key))
        if converted is not None:
            spec[spec_key] = converted
    return spec


# ---------------------------------------------------------------------------------------------------------
# Read back (resourceDockerServiceRead, flatten*) and diff
# ---------------------------------------------------------------------------------------------------------


def _read_reference(item: Mapping[str, Any], kind: str) -> dict[str, Any]:
    file = item.get("File") or {}
    return {
        f"{kind.lower()}Id": item[f"{kind}ID"],
        f"{kind.lower()}Name": item.get(f"{kind}Name", ""),
        "fileName": file.get("Name", ""),
        "fileUid": file.get("UID", ""),
        "fileGid": file.get("GID", ""),
        "fileMode": int(file.get("Mode", 0)),
    }


def read_service(inspect: Mapping[str, Any]) -> dict[str, Any]:
    """What the provider stores after reading a service back, in the inputs' shape."""
    spec = inspect["Spec"]
    template = spec["TaskTemplate"]
    container = template["ContainerSpec"]
    health = container.get("Healthcheck") or {}
    container_state: dict[str, Any] = {
        "image": container["Image"],
        "commands": list(container.get("Command") or []),
        "args": list(container.get("Args") or []),
        "env": dict(entry.split("=", 1) for entry in container.get("Env") or []),
        "secrets": [_read_reference(item, "Secret") for item in container.get("Secrets") or []],
        "configs": [_read_reference(item, "Config") for item in container.get("Configs") or []],
        **({"sysctl": dict(container["Sysctls"])} if container.get("Sysctls") else {}),  # len(in.Sysctls) > 0
        "mounts": [
            {
                "type": mount["Type"],
                "source": mount.get("Source", ""),
                "target": mount["Target"],
                "readOnly": bool(mount.get("ReadOnly", False)),
                **(
                    {
                        "volumeOptions": {
                            "noCopy": bool(mount["VolumeOptions"].get("NoCopy", False)),
                            "labels": [],
                            "driverName": (mount["VolumeOptions"].get("DriverConfig") or {}).get("Name", ""),
                            "driverOptions": dict(
                                (mount["VolumeOptions"].get("DriverConfig") or {}).get("Options") or {}
                            ),
                        }
                    }
                    if mount.get("VolumeOptions")
                    else {}
                ),
            }
            for mount in container.get("Mounts") or []
        ],
        "healthcheck": {
            "tests": list(health.get("Test") or []),
            "interval": short_duration(int(health.get("Interval", 0))),
            "timeout": short_duration(int(health.get("Timeout", 0))),
            "startPeriod": short_duration(int(health.get("StartPeriod", 0))),
            "retries": int(health.get("Retries", 0)),
        },
        "stopGracePeriod": short_duration(int(container.get("StopGracePeriod") or 0)),
        "capAdds": list(container.get("CapabilityAdd") or []),
        "capDrops": list(container.get("CapabilityDrop") or []),
    }
    placement = template.get("Placement") or {}
    restart = template.get("RestartPolicy") or {}
    limits = (template.get("Resources") or {}).get("Limits") or {}
    task: dict[str, Any] = {
        "containerSpec": container_state,
        "networksAdvanceds": [
            {"id": network["Target"], "aliases": list(network.get("Aliases") or [])}
            for network in template.get("Networks") or []
        ],
        "placement": {
            "constraints": list(placement.get("Constraints") or []),
            "prefs": [pref["Spread"]["SpreadDescriptor"] for pref in placement.get("Preferences") or []],
            "maxReplicas": int(placement.get("MaxReplicas", 0)),
        },
        "resources": {
            "limits": {"memoryBytes": int(limits.get("MemoryBytes", 0)), "nanoCpus": int(limits.get("NanoCPUs", 0))}
        },
        "restartPolicy": {
            "condition": restart.get("Condition", ""),
            "delay": short_duration(int(restart.get("Delay", 0))),
            "maxAttempts": int(restart.get("MaxAttempts", 0)),
            "window": short_duration(int(restart.get("Window", 0))),
        },
    }
    if template.get("LogDriver"):
        task["logDriver"] = {
            "name": template["LogDriver"]["Name"],
            "options": dict(template["LogDriver"].get("Options") or {}),
        }
    endpoint = (inspect.get("Endpoint") or {}).get("Spec") or spec.get("EndpointSpec") or {}
    state: dict[str, Any] = {
        "name": spec["Name"],
        "taskSpec": task,
        "mode": {"replicated": {"replicas": int(spec["Mode"]["Replicated"]["Replicas"])}},
        "endpointSpec": {"mode": endpoint.get("Mode", ""), "ports": _ports(endpoint.get("Ports"), to_spec=False)},
    }
    for spec_key, key in (("UpdateConfig", "updateConfig"), ("RollbackConfig", "rollbackConfig")):
        config = spec.get(spec_key)
        if config:
            state[key] = {
                "parallelism": int(config.get("Parallelism", 0)),
                "delay": short_duration(int(config.get("Delay", 0))),
                "failureAction": config.get("FailureAction", ""),
                "monitor": short_duration(int(config.get("Monitor", 0))),
                "maxFailureRatio": f"{float(config.get('MaxFailureRatio', 0)):.1f}",
                "order": config.get("Order", ""),
            }
    return state


_SETS = {
    "secrets",
    "configs",
    "mounts",
    "networksAdvanceds",
    "constraints",
    "prefs",
}
"""Schema sets of the provider: compared without order."""
_NOT_READ = {"convergeConfig", "auth"}
_FORCE_NEW = {"name", "networksAdvanceds", "auth", "labels"}


def _canonical(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(k, v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_canonical(key, item) for item in value]
        if key in _SETS:
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
        return items
    if key == "maxFailureRatio":
        return f"{float(value):.1f}"  # suppressEquivalentFloatRatio
    return value


def _compare(path: str, declared: Any, state: Any, changes: list[Change]) -> None:
    """Every declared field against the read state; a field left out is Computed (it keeps what was read)."""
    if isinstance(declared, dict) and isinstance(state, dict):
        for key, value in declared.items():
            if key in _NOT_READ:
                continue
            _compare(f"{path}.{key}" if path else key, value, state.get(key), changes)
        return
    leaf = path.rsplit(".", 1)[-1]
    want, have = _canonical(leaf, declared), _canonical(leaf, state)
    if leaf in ("secrets", "configs", "mounts", "networksAdvanceds") and isinstance(want, list):
        # Each read item on the keys declared of the items (the provider's set hash covers every field; the
        # undeclared ones read back as the schema's defaults): a missing or extra item is a difference.
        keys = {key for item in want for key in item}
        have = _canonical(leaf, [{k: v for k, v in item.items() if k in keys} for item in have or []])
    if want != have and not (want in (None, [], {}) and have in (None, [], {}, "", 0)):
        top = path.split(".", 1)[0]
        action = "replace" if top in _FORCE_NEW or leaf in ("networksAdvanceds", "sysctl") else "update"
        changes.append(Change(path, want, have, action))


def diff_service(declared: Mapping[str, Any], state: Mapping[str, Any]) -> list[Change]:
    """The provider's plan for a service: each declared field that differs from the read state."""
    changes: list[Change] = []
    _compare("", dict(declared), dict(state), changes)
    return changes


# ---------------------------------------------------------------------------------------------------------
# One resource's step, as the provider carries it out (the engine's walk: tests/harness/scheduler.py)
# ---------------------------------------------------------------------------------------------------------


@dataclass
class SwarmApplied:
    resource: Resource
    inputs: dict[str, Any]
    docker_id: str
    name: str
    converged_after: float | None = None
    """Seconds the provider waited for ``converge_config`` (create or update)."""
    rendered_name: str = ""
    """The name the mocks gave an auto-named resource (the real one has Pulumi's random suffix instead)."""


SwarmStep = Step
"""A step of the engine's walk (``tests/harness/scheduler.py``), under the name this module has always given it."""


class SwarmApplier(StepScheduler[SwarmApplied]):
    """Applies rendered Swarm deployments to one manager, as ``pulumi up`` would; state is kept here. ``plan``,
    ``apply``, ``steps``, ``state`` and ``timeline`` are the engine's, the same as the single-host applier's
    (``tests/harness/scheduler.py``)."""

    def __init__(self, client: EngineClient, log: Callable[[str], None] = lambda _: None) -> None:
        super().__init__(log)
        self.client = client

    # -- references ----------------------------------------------------------------------------------------

    def _ids(self) -> dict[str, str]:
        """Mock id -> real id, and an auto-named resource's mock name -> its real name, for everything carried out."""
        with self._lock:
            applied = list(self.state.values())
        ids = {a.resource.id: a.docker_id for a in applied}
        ids.update({a.rendered_name: a.name for a in applied if a.rendered_name})
        return ids

    def _resolve(self, value: Any, ids: Mapping[str, str]) -> Any:
        if isinstance(value, dict):
            return {key: self._resolve(item, ids) for key, item in value.items()}
        if isinstance(value, list):
            return [self._resolve(item, ids) for item in value]
        if isinstance(value, str) and value in ids:
            return ids[value]
        return value

    def _handles(self, resource: Resource) -> bool:
        return resource.type in HANDLED

    def _inputs(self, resource: Resource) -> dict[str, Any]:
        """The inputs with every mock id (and an auto-named resource's mock name) replaced by the real one."""
        resolved: dict[str, Any] = self._resolve(resource.inputs, self._ids())
        return resolved

    # -- one resource --------------------------------------------------------------------------------------

    def _create(self, resource: Resource, inputs: dict[str, Any]) -> SwarmApplied:
        if resource.type == NETWORK:
            created = self.client.call(
                "POST",
                "/networks/create",
                body={
                    "Name": inputs["name"],
                    "Driver": inputs.get("driver", "bridge"),
                    "Attachable": bool(inputs.get("attachable", False)),
                    "Options": dict(inputs.get("options") or {}),
                    "CheckDuplicate": True,
                },
            )
            return SwarmApplied(resource, inputs, created["Id"], inputs["name"])
        if resource.type in (SECRET, CONFIG):
            kind = "secrets" if resource.type == SECRET else "configs"
            rendered = "" if inputs.get("name") else str(resource.outputs["name"])
            # Pulumi's auto-naming: the resource name and 7 random hex digits, new on every create and replacement.
            name = inputs.get("name") or f"{resource.name}-{secrets.token_hex(4)[:7]}"
            body: dict[str, Any] = {
                "Name": name,
                "Data": base64.b64encode(base64.b64decode(inputs["data"])).decode(),
            }
            labels = {label["label"]: label["value"] for label in inputs.get("labels") or []}
            if labels:
                body["Labels"] = labels
            created = self.client.call("POST", f"/{kind}/create", body=body)
            return SwarmApplied(resource, inputs, created["ID"], name, rendered_name=rendered)
        created = self.client.call("POST", "/services/create", body=service_spec(inputs))
        applied = SwarmApplied(resource, inputs, created["ID"], inputs["name"])
        converge = inputs.get("convergeConfig")
        if converge is not None:
            try:
                first_look = parse_duration(converge.get("delay", "7s")) / 1e9
                applied.converged_after = self._converge(
                    applied, converge, first_look, lambda: self._all_running(applied)
                )
            except DockerError:
                self._remove_service(applied)  # the provider deletes a service that did not converge
                raise
        return applied

    def _running(self, service_id: str) -> tuple[int, int]:
        """``resourceDockerServiceCreateRefreshFunc``: running tasks (one per slot, on active nodes), replicas."""
        service = self.client.call("GET", f"/services/{service_id}")
        replicas = int(service["Spec"]["Mode"]["Replicated"]["Replicas"])
        filters = json.dumps({"service": [service_id], "desired-state": ["running"]})
        tasks = self.client.call("GET", "/tasks", query={"filters": filters})
        nodes = {node["ID"] for node in self.client.call("GET", "/nodes") if node["Status"]["State"] != "down"}
        running = {
            task["Slot"] for task in tasks if task.get("NodeID") in nodes and task["Status"]["State"] == "running"
        }
        return len(running), replicas

    def _converge(
        self, applied: SwarmApplied, converge: Mapping[str, Any], first_look: float, converged: Callable[[], bool]
    ) -> float:
        """The provider's wait (``StateChangeConf``): a first look after ``first_look`` seconds, then backing off
        from ``MIN_TIMEOUT`` to ``MAX_BACKOFF`` until ``converged()`` or ``converge_config``'s timeout; the seconds
        it took."""
        start = time.monotonic()
        timeout = parse_duration(converge.get("timeout", "3m")) / 1e9
        time.sleep(first_look)
        wait = 0.1
        while not converged():
            if time.monotonic() - start > timeout:
                raise DockerError(
                    f"Service with ID ({applied.docker_id}) did not converge after {converge.get('timeout')}"
                )
            wait = min(max(wait * 2, MIN_TIMEOUT), MAX_BACKOFF)
            time.sleep(wait)
        return time.monotonic() - start

    def _all_running(self, applied: SwarmApplied) -> bool:
        running, replicas = self._running(applied.docker_id)
        return running == replicas

    def _update_done(self, applied: SwarmApplied) -> bool:
        """``UpdateStatus.State`` ``completed`` (``paused`` or a rollback fails it), or without one every slot
        running."""
        status = self.client.call("GET", f"/services/{applied.docker_id}").get("UpdateStatus")
        if status is None:
            return self._all_running(applied)
        state = status.get("State")
        if state in ("paused", "rollback_completed", "rollback_paused"):
            raise DockerError(f"service update {state}: {status.get('Message', '')}")
        return bool(state == "completed")

    def _update(self, applied: SwarmApplied, inputs: dict[str, Any]) -> None:
        current = self.client.call("GET", f"/services/{applied.docker_id}")
        self.client.call(
            "POST",
            f"/services/{applied.docker_id}/update",
            query={"version": current["Version"]["Index"]},
            body=service_spec(inputs),
        )
        applied.inputs = inputs
        converge = inputs.get("convergeConfig")
        if converge is not None:
            applied.converged_after = self._converge(
                applied, converge, UPDATE_DELAY, lambda: self._update_done(applied)
            )

    def _remove_service(self, applied: SwarmApplied) -> None:
        self.client.call("DELETE", f"/services/{applied.docker_id}")
        grace = parse_duration(applied.inputs["taskSpec"]["containerSpec"].get("stopGracePeriod", "0s")) / 1e9
        if grace:  # the provider waits for the tasks' containers on its daemon to go, then force-removes them
            deadline = time.monotonic() + grace
            label = json.dumps({"label": [f"com.docker.swarm.service.id={applied.docker_id}"]})
            while time.monotonic() < deadline:
                if not self.client.call("GET", "/containers/json", query={"all": "1", "filters": label}):
                    break
                time.sleep(0.5)
            for container in self.client.call("GET", "/containers/json", query={"all": "1", "filters": label}):
                self.client.call("DELETE", f"/containers/{container['Id']}", query={"force": "1", "v": "0"})

    def _delete(self, applied: SwarmApplied) -> None:
        kind = applied.resource.type
        if kind == SERVICE:
            self._remove_service(applied)
        elif kind == SECRET:
            self.client.call("DELETE", f"/secrets/{applied.docker_id}")
        elif kind == CONFIG:
            self.client.call("DELETE", f"/configs/{applied.docker_id}")
        else:
            self.client.call("DELETE", f"/networks/{applied.docker_id}")

    # -- the provider's diff -------------------------------------------------------------------------------

    def _decide(self, resource: Resource, inputs: dict[str, Any], old: SwarmApplied) -> Step:
        if resource.type == SERVICE:
            changes = diff_service(inputs, read_service(self.client.call("GET", f"/services/{old.docker_id}")))
            if not changes:
                return Step("same", resource.urn, resource.name)
            # replace_on_changes: the engine turns a provider's update of those properties into a replacement.
            forced = [
                change
                for change in changes
                if any(change.key == p or change.key.startswith(f"{p}.") for p in resource.replace_on_changes)
            ]
            op = "replace" if forced or any(change.action == "replace" for change in changes) else "update"
            return Step(op, resource.urn, resource.name, changes)
        if resource.type == NETWORK and "options" in inputs and "options" not in resource.ignore_changes:
            read = self.client.call("GET", f"/networks/{old.docker_id}")
            if dict(read.get("Options") or {}) != inputs["options"]:  # Optional+Computed+ForceNew: a replacement
                return Step(
                    "replace",
                    resource.urn,
                    resource.name,
                    [Change("options", inputs["options"], read["Options"], "replace")],
                )
        if inputs != old.inputs:  # secrets, configs and networks: every field is ForceNew
            keys = sorted(k for k in set(inputs) | set(old.inputs) if inputs.get(k) != old.inputs.get(k))
            return Step(
                "replace", resource.urn, resource.name, [Change(k, "[changed]", "[state]", "replace") for k in keys]
            )
        return Step("same", resource.urn, resource.name)

    def destroy(self) -> None:
        """Delete everything, services first (they hold the secrets, configs and the network, which their tasks
        may still hold for a while: retried for up to a minute); what could not be deleted is raised."""
        order = {SERVICE: 0, SECRET: 1, CONFIG: 1, NETWORK: 2}
        failed: list[str] = []
        pending, self.pending_deletes = self.pending_deletes, []
        everything = [*self.state.items(), *((None, applied) for applied in pending)]  # a failed apply's leftovers
        for urn, applied in sorted(everything, key=lambda item: order[item[1].resource.type]):
            deadline = time.monotonic() + 60
            while True:
                try:
                    self._delete(applied)
                    break
                except DockerError as error:
                    if ": 404 " in str(error):
                        break
                    if "in use" not in str(error) or time.monotonic() > deadline:
                        failed.append(f"{applied.name}: {error}")
                        break
                    time.sleep(1)
            if urn is not None:
                del self.state[urn]
        if failed:
            raise DockerError("destroy left behind: " + "; ".join(failed))

    def read_back(self) -> dict[str, list[Change]]:
        """Each service's differences between what was declared and what Docker holds."""
        return {
            applied.name: diff_service(
                applied.inputs, read_service(self.client.call("GET", f"/services/{applied.docker_id}"))
            )
            for applied in self.state.values()
            if applied.resource.type == SERVICE
        }


def tasks_of(client: EngineClient, service: str) -> list[dict[str, Any]]:
    """The running tasks of a service (by name), each with its node and its address on each network."""
    filters = json.dumps({"service": [service], "desired-state": ["running"]})
    return [
        task
        for task in client.call("GET", "/tasks", query={"filters": filters})
        if task["Status"]["State"] == "running"
    ]


def task_addresses(task: Mapping[str, Any], network_id: str) -> list[str]:
    """A task's addresses on a network (``NetworksAttachments``), without the prefix length."""
    return [
        address.split("/")[0]
        for attachment in task.get("NetworksAttachments") or []
        if attachment["Network"]["ID"] == network_id
        for address in attachment.get("Addresses") or []
    ]
