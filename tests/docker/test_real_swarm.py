"""The real-Swarm tier: the rendered Swarm stack carried out on a real swarm as pulumi-docker would, then read back.

``tests/harness/swarm_applier.py`` does what the provider does for services, secrets, configs and the overlay network
(create, converge, update, read, diff, delete); the images are the stand-ins of the real-Docker tier. One node: the
test daemon becomes a swarm manager (``docker swarm init``; it leaves the swarm again at the end if it was not in
one). Two nodes: a second Docker daemon in a privileged container (``tests/harness/swarm_nodes.py``), images moved
in with ``docker save``/``docker load``, joined as a worker. The tasks' addresses live on the overlay network, which the
host cannot reach: clients run in a container on that network (``tests/harness/swarm_probe.py``). Runs with
``scripts/test --all`` or ``REAL_DOCKER=1``.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.testing import Deployment, StackMocks, render
from components.verify import DockerValkeyCli, Target, check_deployment, locate_task
from tests.harness.docker_applier import KEPT_CAPABILITY_BITS, EngineClient
from tests.harness.faults import RECOVERY_BOUND, HealthWatch, established, kernel_timers, silenced
from tests.harness.lifecycle import EventRecorder, Poller, first, post_json
from tests.harness.loopback import free_port
from tests.harness.swarm_applier import task_addresses
from tests.harness.swarm_stack import (
    SWARM_MARKS,
    SwarmReport,
    SwarmRun,
    apply,
    cleanup,
    docker,
    label_data_node,
    swarm_config,
)
from tests.harness.waiting import wait_until

pytestmark = SWARM_MARKS
ADMIN = {"name": "Real Swarm", "email": "swarm@example.com", "password": "real-swarm-correct-horse"}


# ---------------------------------------------------------------------------------------------------------
# One node
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_node(
    engine: EngineClient, images: dict[str, str], manager: str, swarm_report: SwarmReport
) -> Iterator[SwarmRun]:
    name = f"owrs{os.getpid()}"
    config = swarm_config(name, images, free_port())
    label_data_node(manager, f"{name}.data")
    running: SwarmRun | None = None
    try:
        running = apply(engine, name, config, swarm_report)
        yield running
    finally:
        cleanup(running, engine, [None])


def _secret_values(deployment: Deployment) -> list[str]:
    values = list(deployment.swarm_secrets().values())
    return [value for value in values if len(value) >= 8]


def test_swarm_stack_when_applied_converges_in_order_with_every_task_healthy(one_node: SwarmRun) -> None:
    """Every service has its replicas running, each task healthy by Docker's own status; Valkey and PostgreSQL
    converged before Open WebUI was created, the primary before the other replicas, HAProxy last."""
    client = one_node.applier.client
    for service, count in (("valkey", 1), ("postgres", 1), ("open-webui", 1), ("open-webui-replicas", 1), ("lb", 1)):
        tasks = one_node.tasks(service)
        assert len(tasks) == count, (service, tasks)
        for task in tasks:
            container = client.call("GET", f"/containers/{task['Status']['ContainerStatus']['ContainerID']}/json")
            assert container["State"]["Health"]["Status"] == "healthy", service
    timeline = one_node.applier.timeline
    at = {(what, name): when for when, what, name in timeline}
    services = {a.resource.name: a.name for a in one_node.applier.state.values()}
    by_service = {v: k for k, v in services.items()}

    def when(what: str, service: str) -> float:
        return at[(what, by_service[one_node.service(service)])]

    assert when("created", "valkey") < when("create", "open-webui")
    assert when("created", "postgres") < when("create", "open-webui")
    assert when("created", "open-webui") < when("create", "open-webui-replicas")
    assert when("created", "open-webui-replicas") < when("create", "lb")


def test_swarm_logs_when_inspected_are_bounded_json_files_on_every_service(one_node: SwarmRun) -> None:
    """Every service's task template logs with json-file, 10 MB x 3, as Docker stores it, and so does each task's
    container (the second apply reads the same back: no change)."""
    client = one_node.applier.client
    bounded = {"Name": "json-file", "Options": {"max-file": "3", "max-size": "10m"}}
    services = [a for a in one_node.applier.state.values() if a.resource.type == "docker:index/service:Service"]
    assert len(services) == 5
    for applied in services:
        assert client.call("GET", f"/services/{applied.docker_id}")["Spec"]["TaskTemplate"]["LogDriver"] == bounded
    for service in ("valkey", "postgres", "open-webui", "open-webui-replicas", "lb"):
        for task in one_node.tasks(service):
            container = client.call("GET", f"/containers/{task['Status']['ContainerStatus']['ContainerID']}/json")
            assert container["HostConfig"]["LogConfig"] == {"Type": "json-file", "Config": bounded["Options"]}


def test_swarm_services_when_inspected_show_no_secret(one_node: SwarmRun) -> None:
    """``docker service inspect`` of every service holds no password, key or URL with a password in it."""
    client = one_node.applier.client
    secrets = _secret_values(one_node.deployment)
    assert secrets
    for applied in one_node.applier.state.values():
        if applied.resource.type != "docker:index/service:Service":
            continue
        text = json.dumps(client.call("GET", f"/services/{applied.docker_id}"))
        leaked = [value[:4] + "..." for value in secrets if value in text or value.split("\n")[0] in text]
        assert leaked == [], f"{applied.name} shows secret values"


def test_valkey_task_when_running_reads_its_password_from_a_secret_file_with_only_the_declared_capabilities(
    one_node: SwarmRun,
) -> None:
    """Valkey runs as uid 999 with a bounding set of the three kept capabilities; the password is a file under
    /run/secrets, not in its command line or environment."""
    client = one_node.applier.client
    (task,) = one_node.tasks("valkey")
    container = task["Status"]["ContainerStatus"]["ContainerID"]
    fields = client.process_status(container)
    assert fields["Uid"].split()[0] == "999"
    assert int(fields["CapBnd"], 16) == sum(1 << bit for bit in KEPT_CAPABILITY_BITS.values())
    assert int(fields["CapEff"], 16) == 0
    code, cmdline = client.exec(container, ["cat", "/proc/1/cmdline"])
    password = one_node.deployment.swarm_secrets()
    bare = next(v for k, v in password.items() if "valkey-password" in k)
    assert bare not in cmdline
    inspect = client.call("GET", f"/containers/{container}/json")
    assert not any(bare in entry for entry in inspect["Config"]["Env"] or [])
    code, listing = client.exec(container, ["ls", "/run/secrets"])
    assert code == 0, listing
    assert sorted(listing.split()) == ["valkey-auth.conf", "valkey-password"]


def test_verify_when_run_against_the_swarm_stack_finds_the_task_and_passes(one_node: SwarmRun) -> None:
    """``components.verify`` finds the Valkey service's task on this node and every check passes."""
    outputs = one_node.deployment.outputs
    target = locate_task(Target.from_outputs(outputs), "docker")
    assert target.service == one_node.service("valkey")
    assert target.container.startswith(f"{one_node.service('valkey')}.1.")
    report = check_deployment(target, DockerValkeyCli(target.container, target.port, target.password))
    assert report.passed, report.render()


def test_port_when_published_through_the_routing_mesh_answers(one_node: SwarmRun) -> None:
    """The routing mesh publishes HAProxy's port on the node: ``/health`` answers 200 through it."""
    with urllib.request.urlopen(f"http://127.0.0.1:{one_node.port}/health", timeout=10) as answer:
        assert answer.status == 200


def test_events_when_raised_through_one_task_reach_a_client_on_another(
    one_node: SwarmRun, swarm_report: SwarmReport
) -> None:
    """channel:created raised on the primary's task reaches a socket.io client connected to the other task
    directly (their addresses on the overlay network), and one on the primary too."""
    (primary,) = one_node.tasks("open-webui")
    (replica,) = one_node.tasks("open-webui-replicas")
    a = task_addresses(primary, one_node.network_id)[0]
    b = task_addresses(replica, one_node.network_id)[0]
    output = one_node.probe(
        "events", {"raise": f"http://{a}:8080", "clients": {"on A": f"http://{a}:8080", "on B": f"http://{b}:8080"}}
    )
    result = json.loads(output.splitlines()[-1])
    assert all(value is not None for value in result["latency_ms"].values()), result
    swarm_report.add(f"{one_node.run}: channel:created raised on task A: {result['latency_ms']} (ms)")


@pytest.mark.faults
def test_valkey_task_when_killed_is_replaced_by_swarm_and_events_flow_again_within_the_bound(
    one_node: SwarmRun, swarm_report: SwarmReport
) -> None:
    """The faults tier's Swarm case (tests/harness/faults.py): kill -9 of the Valkey task's server; Swarm starts a new
    task (a new container), and an event raised on task A reaches a client on task B again within the bound."""
    (primary,) = one_node.tasks("open-webui")
    (replica,) = one_node.tasks("open-webui-replicas")
    a = task_addresses(primary, one_node.network_id)[0]
    b = task_addresses(replica, one_node.network_id)[0]
    (old,) = one_node.tasks("valkey")
    container = old["Status"]["ContainerStatus"]["ContainerID"]
    pid = int(docker("inspect", "--format", "{{.State.Pid}}", container).strip())
    killed = time.time()
    os.kill(pid, signal.SIGKILL)
    output = one_node.probe(
        "recover",
        {"raise": f"http://{a}:8080", "clients": {"on B": f"http://{b}:8080"}, "since": killed, "timeout": 90},
    )
    result = json.loads(output.splitlines()[-1])
    (new,) = one_node.tasks("valkey")
    assert new["ID"] != old["ID"]
    swarm_report.add(
        f"{one_node.run}: Valkey task killed: Swarm's new task running, events reach task B again "
        f"{result['seconds']} s after the kill ({result['attempts']} raised)"
    )
    assert result["seconds"] is not None, result
    assert result["seconds"] <= RECOVERY_BOUND


def _task_container(task: dict[str, Any]) -> str:
    return str(task["Status"]["ContainerStatus"]["ContainerID"])


def _pid(container: str) -> int:
    return int(docker("inspect", "--format", "{{.State.Pid}}", container).strip())


def _passed_a_check_from_now(container: str, timeout: float = 30) -> bool:
    """Whether a healthcheck that started after this call passes (the probe has delivered since: no deafness of
    an earlier fault is still on its clock)."""

    def last() -> dict[str, Any]:
        output = docker("inspect", "--format", "{{json .State.Health.Log}}", container, check=False)
        entries = json.loads(output or "null") or [{}]
        return dict(entries[-1])

    before = last().get("Start")

    def passed() -> bool:
        entry = last()
        return entry.get("Start") != before and entry.get("ExitCode") == 0

    return wait_until(passed, timeout, interval=0.5)


def _health(container: str) -> str | None:
    """Docker's verdict on a task's container; None once the container is gone."""
    output = docker("inspect", "--format", "{{.State.Health.Status}}", container, check=False).strip()
    return output or None


@pytest.mark.faults
def test_task_connections_when_silent_on_the_overlay_are_ended_by_the_kernel_and_events_flow_again_within_the_bound(
    one_node: SwarmRun, swarm_report: SwarmReport
) -> None:
    """Task B's Redis connections over the overlay network stop answering (packets dropped in task B's namespace
    and in the Valkey task's; no FIN, no RST; new connections work): the service's ``sysctl`` end them, the
    listener reconnects, and an event raised on task A reaches a client on task B again within the bound; task B
    stays the same task, healthy throughout."""
    (primary,) = one_node.tasks("open-webui")
    (replica,) = one_node.tasks("open-webui-replicas")
    (valkey,) = one_node.tasks("valkey")
    a = task_addresses(primary, one_node.network_id)[0]
    b = task_addresses(replica, one_node.network_id)[0]
    b_pid = _pid(_task_container(replica))
    # The probe's client connects to task B first; the silence and the raising begin together at `start`, on the
    # connections task B has then (a listener may still be reconnecting after an earlier fault).
    start = time.time() + 10
    options = {"raise": f"http://{a}:8080", "clients": {"on B": f"http://{b}:8080"}, "since": start, "timeout": 60}
    outputs: list[str] = []
    probe = threading.Thread(target=lambda: outputs.append(one_node.probe("recover", {**options, "start": start})))
    probe.start()
    time.sleep(max(0.0, start - time.time() - 0.5))
    ports = established(6379, pid=b_pid)
    assert len(ports) >= 3, f"task B's connections to Valkey: {ports}"
    with (
        HealthWatch(lambda: _health(_task_container(replica))) as watch,
        silenced(6379, ports, client_pid=b_pid, server_pid=_pid(_task_container(valkey))),
    ):
        probe.join()
    assert outputs, "the probe did not finish"
    result = json.loads(outputs[0].splitlines()[-1])
    swarm_report.add(
        f"{one_node.run}: task B's Redis connections silent on the overlay: events reach task B again "
        f"{result['seconds']} s after the silence began ({result['attempts']} raised)"
    )
    assert result["seconds"] is not None, result
    assert result["attempts"] > 1, "the first event after the silence began still arrived: nothing went silent"
    assert result["seconds"] <= RECOVERY_BOUND
    assert watch.seen, "task B's health was never read"
    assert watch.problems() == [], "task B was called unhealthy while it healed by itself"
    assert [task["ID"] for task in one_node.tasks("open-webui-replicas")] == [replica["ID"]]


@pytest.mark.faults
def test_task_when_deaf_for_good_is_unhealthy_within_the_bound_and_swarm_replaces_it_with_one_that_hears(
    one_node: SwarmRun, swarm_report: SwarmReport
) -> None:
    """A listener deaf for good while Redis answers (Open WebUI issues 26425, 28909): task B's Redis connections
    silent with Linux's own TCP timers put back in its namespace, so nothing ends them for minutes. Docker calls
    the task's container unhealthy within the bound, Swarm replaces the task, and an event raised on task A
    reaches a client on the new task B."""
    (primary,) = one_node.tasks("open-webui")
    (replica,) = one_node.tasks("open-webui-replicas")
    (valkey,) = one_node.tasks("valkey")
    a = task_addresses(primary, one_node.network_id)[0]
    container = _task_container(replica)
    b_pid = _pid(container)
    assert _passed_a_check_from_now(container), "task B's healthcheck does not pass before the fault"
    ports = established(6379, pid=b_pid)
    assert len(ports) >= 3, f"task B's connections to Valkey: {ports}"
    unhealthy = replaced = None
    with kernel_timers(b_pid), silenced(6379, ports, client_pid=b_pid, server_pid=_pid(_task_container(valkey))):
        silent = time.monotonic()
        while time.monotonic() - silent < 90 and unhealthy is None:
            health = _health(container)
            if health != "healthy":  # unhealthy, or already gone: Swarm acts on the verdict at once
                unhealthy = time.monotonic() - silent
            time.sleep(0.2)
        while unhealthy is not None and time.monotonic() - silent < 360:
            new = [task for task in one_node.tasks("open-webui-replicas") if task["ID"] != replica["ID"]]
            if new and _health(_task_container(new[0])) == "healthy":
                replaced = time.monotonic() - silent
                break
            time.sleep(1)
    swarm_report.add(
        f"{one_node.run}: task B deaf for good (silent, the kernel's own timers): unhealthy "
        + (f"{unhealthy:.1f} s after the silence began" if unhealthy is not None else "never, in 90 s")
        + (f"; Swarm's new task healthy {replaced:.1f} s after" if replaced is not None else "; no new healthy task")
    )
    assert unhealthy is not None
    assert unhealthy <= RECOVERY_BOUND
    assert replaced is not None
    (new_replica,) = one_node.tasks("open-webui-replicas")
    b = task_addresses(new_replica, one_node.network_id)[0]
    output = one_node.probe("events", {"raise": f"http://{a}:8080", "clients": {"on B": f"http://{b}:8080"}})
    result = json.loads(output.splitlines()[-1])
    assert result["latency_ms"]["on B"] is not None, result


def test_swarm_stack_when_applied_again_changes_nothing(one_node: SwarmRun) -> None:
    """The second `pulumi up`: nothing to do, nothing read back differs."""
    assert [(s.op, s.name, s.changes) for s in one_node.applier.plan(render(one_node.config)) if s.op != "same"] == []
    assert all(changes == [] for changes in one_node.applier.read_back().values())


def test_secret_when_its_value_changes_rolls_the_services_to_a_new_secret(
    one_node: SwarmRun, swarm_report: SwarmReport
) -> None:
    """A new secret key: a new Docker secret is created, both Open WebUI services move to it (a rolling update,
    no failed request through the published port), and the old secret is deleted."""
    client = one_node.applier.client
    before = {s["Spec"]["Name"] for s in client.call("GET", "/secrets")}
    one_node.secret_keys = ("openWebui",)
    deployment = one_node.render(
        openWebui={"secretKey": "a-new-secret-key-" + base64.b32encode(os.urandom(10)).decode()}
    )
    with Poller(f"http://127.0.0.1:{one_node.port}") as poller:
        started = time.monotonic()
        steps = one_node.applier.apply(deployment)
        took = time.monotonic() - started
    after = {s["Spec"]["Name"] for s in client.call("GET", "/secrets")}
    ops = sorted((s.op, s.name) for s in steps if s.op != "same")
    replaced = [name for op, name in ops if op == "replace"]
    assert len(replaced) == 1, ops
    assert replaced[0].endswith("-secret-key"), ops
    new = next(a.name for a in one_node.applier.state.values() if a.resource.name.endswith("-secret-key"))
    assert new in after
    assert new not in before
    assert len(before - after) == 1
    for service in ("open-webui", "open-webui-replicas"):
        spec = client.call("GET", f"/services/{one_node.service(service)}")["Spec"]
        names = {s["SecretName"] for s in spec["TaskTemplate"]["ContainerSpec"]["Secrets"]}
        assert new in names, service
    assert poller.covered(started + took)
    swarm_report.add(
        f"{one_node.run}: a new secret key rolled both Open WebUI services in {took:.0f} s; "
        f"{poller.failed} of {poller.ok + poller.failed} requests through the port failed"
    )
    assert poller.failed == 0, poller.errors[:5]
    one_node.deployment = deployment


def test_image_when_changed_under_rolling_updates_task_by_task_without_a_failed_request(
    one_node: SwarmRun, images: dict[str, str], swarm_report: SwarmReport
) -> None:
    """A new image under ``rolling`` (start-first, one task at a time): the primary, then the replicas' service;
    no request through the published port fails. The figures go in the README."""
    client = one_node.applier.client
    # Tagged like a release: the stack refuses a moving tag with `upgrade: rolling`.
    new_image = f"{images['open-webui'].rsplit(':', 1)[0]}:0.99.1-{one_node.run}"
    docker("tag", images["open-webui"], new_image)
    try:
        deployment = one_node.render(openWebui={"image": new_image})
        with Poller(f"http://127.0.0.1:{one_node.port}") as poller:
            started = time.monotonic()
            steps = one_node.applier.apply(deployment)
            took = time.monotonic() - started
        updated = sorted(s.name for s in steps if s.op == "update")
        assert updated == sorted(
            a.resource.name
            for a in one_node.applier.state.values()
            if a.name in (one_node.service("open-webui"), one_node.service("open-webui-replicas"))
        )
        for service in ("open-webui", "open-webui-replicas"):
            spec = client.call("GET", f"/services/{one_node.service(service)}")["Spec"]
            assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == new_image
        assert poller.covered(started + took)
        swarm_report.add(
            f"{one_node.run}: a new image under rolling took {took:.0f} s for both Open WebUI services; "
            f"{poller.failed} of {poller.ok + poller.failed} requests failed, longest outage "
            f"{poller.longest_outage():.1f} s"
        )
        assert poller.failed == 0, poller.errors[:5]
        one_node.deployment = deployment
    finally:
        docker("rmi", new_image, check=False)


def _task_containers(client: EngineClient, service: str, *, running: bool = False) -> list[str]:
    """The ids of the containers of ``service``'s tasks on this daemon (``running``: only those that run)."""
    label = json.dumps({"label": [f"com.docker.swarm.service.name={service}"]})
    found = client.call("GET", "/containers/json", query={"all": "1", "filters": label})
    return [c["Id"] for c in found if not running or c["State"] == "running"]


def test_image_when_changed_under_recreate_stops_every_task_then_migrates_then_starts_the_rest(
    one_node: SwarmRun, images: dict[str, str], swarm_report: SwarmReport
) -> None:
    """``recreate`` on Swarm, across both Open WebUI services: every old task (the primary's and the replicas'
    service's) has stopped before the new primary starts on the new image and migrates, and the replicas start
    once it is healthy: both services are replaced (the replicas' with the primary), not updated side by side."""
    client = one_node.applier.client
    primary, rest = one_node.service("open-webui"), one_node.service("open-webui-replicas")
    switched = one_node.render(openWebui={"upgrade": "recreate"})
    assert [s.op for s in one_node.applier.apply(switched) if s.op != "same"] == ["update", "update"]  # update_config
    # The tasks that run now (earlier updates left exited containers of the same services behind).
    old_tasks = _task_containers(client, primary, running=True) + _task_containers(client, rest, running=True)
    assert len(old_tasks) == 2
    old_services = {name: client.call("GET", f"/services/{name}")["ID"] for name in (primary, rest)}
    new_image = f"{images['open-webui'].rsplit(':', 1)[0]}:0.99.2-{one_node.run}"
    docker("tag", images["open-webui"], new_image)
    try:
        deployment = one_node.render(openWebui={"image": new_image})
        with EventRecorder(client, f"{primary}") as recorder, Poller(f"http://127.0.0.1:{one_node.port}") as poller:
            started = time.monotonic()
            steps = one_node.applier.apply(deployment)
            took = time.monotonic() - started
        assert {s.name: s.op for s in steps if s.op != "same"} == {
            "open-webui-open-webui-service": "replace",
            "open-webui-open-webui-replicas": "replace",  # deleted first with the primary, created after it
        }
        for name in (primary, rest):
            service = client.call("GET", f"/services/{name}")
            assert service["ID"] != old_services[name]
            assert service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == new_image
        (new_primary,) = _task_containers(client, primary)
        new_rest = _task_containers(client, rest)
        assert new_rest
        events = recorder.events
        last_old_died = max(first(events, "die", task) for task in old_tasks)
        assert last_old_died < first(events, "start", new_primary)
        primary_healthy = first(events, "health_status: healthy", new_primary)
        assert all(primary_healthy <= first(events, "start", task) for task in new_rest)
        assert poller.covered(started + took)
        swarm_report.add(
            f"{one_node.run}: a new image under recreate took {took:.0f} s for both Open WebUI services; the last old "
            f"task died {first(events, 'start', new_primary) - last_old_died:.1f} s before the new primary started; "
            f"{poller.failed} of {poller.ok + poller.failed} requests failed, longest outage "
            f"{poller.longest_outage():.1f} s"
        )
        one_node.deployment = deployment
    finally:
        docker("rmi", new_image, check=False)


def _valkey_cli(client: EngineClient, service: str, *args: str) -> str:
    states = {c: (client.inspect_container(c) or {}).get("State", {}) for c in _task_containers(client, service)}
    (container,) = [c for c, state in states.items() if state.get("Running")]
    code, output = client.exec(container, ["sh", "-c", 'REDISCLI_AUTH="$(cat /run/secrets/valkey-password)" "$@"', "sh",
                                           "valkey-cli", *args])  # fmt: skip
    assert code == 0, output
    return output.strip()


def test_redeploy_when_destroyed_with_kept_volumes_finds_its_data_under_new_secrets(
    engine: EngineClient, images: dict[str, str], manager: str, swarm_report: SwarmReport
) -> None:
    """On Swarm as on one host: the volumes outlive the stack (Swarm never removes them); a new stack with new
    state, so new generated passwords and keys, finds PostgreSQL with its new password, the account made before
    and Valkey's data."""
    name = f"owrs{os.getpid()}k"
    config = swarm_config(name, images, free_port())
    label_data_node(manager, f"{name}.data")
    url = f"http://127.0.0.1:{config['openWebui']['hostPort']}"
    first: SwarmRun | None = None
    try:
        first = apply(engine, name, config, swarm_report)
        client = first.applier.client
        post_json(f"{url}/api/v1/auths/signup", ADMIN)
        assert _valkey_cli(client, f"{name}-valkey", "SET", "redeploy:kept", "written before") == "OK"
        first.applier.destroy()
        volumes = {v["Name"] for v in engine.call("GET", "/volumes")["Volumes"] or []}
        assert {f"{name}-redis-data", f"{name}-open-webui", f"{name}-postgres"} <= volumes

        generated = [
            r.name for r in first.deployment.resources if r.type == "random:index/randomPassword:RandomPassword"
        ]
        second = render(config, mocks=StackMocks(passwords={n: secrets.token_hex(16) for n in generated}))
        postgres = [
            {v for k, v in d.swarm_secrets().items() if k.startswith("open-webui-postgres-password-file")}
            for d in (first.deployment, second)
        ]
        assert postgres[0].isdisjoint(postgres[1])  # a new generated password
        started = time.monotonic()
        first.applier.apply(second)
        first.deployment = second
        swarm_report.add(
            f"{name}: redeploy onto kept volumes with new secrets converged in {time.monotonic() - started:.0f} s"
        )
        signed_in = post_json(f"{url}/api/v1/auths/signin", {"email": ADMIN["email"], "password": ADMIN["password"]})
        assert signed_in["email"] == ADMIN["email"]
        assert _valkey_cli(client, f"{name}-valkey", "GET", "redeploy:kept") == "written before"
    finally:
        cleanup(first, engine, [None])


# ---------------------------------------------------------------------------------------------------------
# Two nodes
# ---------------------------------------------------------------------------------------------------------


@dataclass
class TwoNodes:
    stack: SwarmRun
    worker: Any
    manager: str


@pytest.fixture(scope="module")
def two_nodes(
    engine: EngineClient, images: dict[str, str], manager: str, swarm_report: SwarmReport
) -> Iterator[TwoNodes]:
    """The stack on a swarm of this daemon (manager, data node) and a worker; Open WebUI's data directory on a
    volume both nodes mount: the local driver binding a directory both see at the same path (what an NFS export
    gives real nodes), so the replicas spread over both nodes."""
    from tests.harness.swarm_nodes import WorkerNode

    name = f"owrs{os.getpid()}w"
    shared = Path(f"/srv/{name}-uploads")
    shared.mkdir(parents=True, exist_ok=True)
    config = swarm_config(
        name,
        images,
        free_port(),
        openWebui={"replicas": 3},
        swarm={
            "uploads": "shared-volume",
            "sharedVolume": {"driver": "local", "options": {"type": "none", "o": "bind", "device": str(shared)}},
        },
    )
    label_data_node(manager, f"{name}.data")
    running: SwarmRun | None = None
    started = time.monotonic()
    try:
        with WorkerNode(
            f"{name}-worker", images=[images["open-webui"], images["haproxy"]], binds=[f"{shared}:{shared}"]
        ) as worker:
            worker.join()
            loads = ", ".join(f"{k} {v:.0f} s" for k, v in worker.timings.items() if k.startswith("load"))
            swarm_report.add(
                f"{name}: worker node up and joined in {time.monotonic() - started:.0f} s (images loaded: {loads})"
            )
            try:
                running = apply(engine, name, config, swarm_report)
                yield TwoNodes(running, worker, manager)
            finally:
                cleanup(running, engine, [None, worker.docker_host])
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_two_nodes_when_applied_run_open_webui_tasks_on_both_nodes_and_data_on_the_data_node(
    two_nodes: TwoNodes,
) -> None:
    """Valkey and PostgreSQL run on the labelled manager; the Open WebUI replicas' tasks are on both nodes."""
    stack = two_nodes.stack
    worker_id = two_nodes.worker.node_id
    for service in ("valkey", "postgres"):
        assert {task["NodeID"] for task in stack.tasks(service)} == {two_nodes.manager}, service
    nodes = {task["NodeID"] for service in ("open-webui", "open-webui-replicas") for task in stack.tasks(service)}
    assert nodes == {two_nodes.manager, worker_id}


def test_two_nodes_when_an_event_is_raised_on_node_one_it_reaches_a_client_on_node_two(
    two_nodes: TwoNodes, swarm_report: SwarmReport
) -> None:
    """channel:created raised through a task on the manager reaches a socket.io client connected to a task on
    the worker (across the overlay's VXLAN), through Valkey."""
    stack = two_nodes.stack
    tasks = [task for service in ("open-webui", "open-webui-replicas") for task in stack.tasks(service)]
    on_manager = next(t for t in tasks if t["NodeID"] == two_nodes.manager)
    on_worker = next(t for t in tasks if t["NodeID"] == two_nodes.worker.node_id)
    a = task_addresses(on_manager, stack.network_id)[0]
    b = task_addresses(on_worker, stack.network_id)[0]
    output = stack.probe(
        "events",
        {"raise": f"http://{a}:8080", "clients": {"node 1": f"http://{a}:8080", "node 2": f"http://{b}:8080"}},
    )
    result = json.loads(output.splitlines()[-1])
    assert all(value is not None for value in result["latency_ms"].values()), result
    swarm_report.add(f"{stack.run}: channel:created raised on node 1: {result['latency_ms']} (ms)")


def test_two_nodes_when_the_worker_stops_its_tasks_move_to_the_manager_and_clients_reconnect(
    two_nodes: TwoNodes, swarm_report: SwarmReport
) -> None:
    """The worker goes down: Swarm reschedules its tasks on the manager, and socket.io clients connected through
    the load balancer reconnect and receive an event raised after. The times are printed."""
    stack = two_nodes.stack
    worker = two_nodes.worker
    lb = stack.service("lb")
    count = 6
    stack.probe("survive", {"raise": f"http://{lb}:8080", "count": count, "timeout": 300}, detach=True)
    probe = f"{stack.run}-probe"
    wait_until(lambda: "READY" in docker("logs", probe, check=False), 120, interval=0.5)
    assert "READY" in docker("logs", probe, check=False), docker("logs", probe, check=False)
    stopped_at = time.time()
    began = time.monotonic()
    worker.stop()
    worker.wait_state("down", timeout=120)
    down_after = time.monotonic() - began

    def all_on_manager() -> bool:
        running = [t for s in ("open-webui", "open-webui-replicas", "lb") for t in stack.tasks(s)]
        return len(running) == 4 and {t["NodeID"] for t in running} == {two_nodes.manager}

    rescheduled = wait_until(all_on_manager, began + 400 - time.monotonic(), interval=1)
    assert rescheduled, "the worker's tasks were not rescheduled on the manager"
    moved_after = time.monotonic() - began
    code = docker("wait", probe, timeout=600)
    output = docker("logs", probe, check=False).splitlines()[-1]
    docker("rm", "-f", probe, check=False)
    result = json.loads(output)
    reconnected = [
        max(times) - stopped_at for label, times in result["connected"].items() if result["disconnected"][label]
    ]
    swarm_report.add(
        f"{stack.run}: worker stopped: node down after {down_after:.0f} s, its tasks running on the manager after "
        f"{moved_after:.0f} s; {len(reconnected)} of {count} clients were cut off and reconnected "
        f"{min(reconnected):.0f}-{max(reconnected):.0f} s after the stop; the event after: {result['latency_ms']} (ms)"
        if reconnected
        else f"{stack.run}: worker stopped: no client was cut off ({result})"
    )
    assert code == "0", result
    assert reconnected, "no client was connected to a task on the worker"
