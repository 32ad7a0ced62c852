"""The real-Docker tier: the rendered stack carried out on a real daemon as pulumi-docker would, then read back.

``tests/harness/docker_applier.py`` does what the provider does (create, upload, start, wait, read, diff, delete) and
``tests/harness/docker_standins.py`` builds the images (no registry is reachable here; ``tests/standins/README.md``
lists how each differs from the real one). Names are unique per run (``owrt<n>-…``) and everything the tier
creates is removed at the end; volumes are declared with ``retainVolume: false`` so that ``destroy`` removes
them. Runs with ``scripts/test --all`` (which starts a daemon, ``scripts/start-docker``) or ``REAL_DOCKER=1``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import socketio

from components.testing import Deployment, StackMocks, _image_id, render
from tests.harness.docker_applier import (
    CONTAINER,
    IMAGE,
    KEPT_CAPABILITY_BITS,
    NETWORK,
    VOLUME,
    Applier,
    ClientVersionError,
    EngineClient,
    diff_container,
)
from tests.harness.docker_stack import (
    DOCKER_MARKS,
    DockerReport,
    Running,
    apply_stack,
    cleanup,
    derived_image,
    stack_config,
    verify_outputs,
)
from tests.harness.lifecycle import (
    Event,
    EventRecorder,
    Poller,
    assert_recreated,
    assert_rolled,
    assert_two_waves,
    first,
    post_json,
)
from tests.harness.loopback import free_port
from tests.harness.open_webui_process import SOCKET_PATH
from tests.harness.paths import ROOT
from tests.harness.waiting import wait_until

pytestmark = DOCKER_MARKS
ADMIN = {"name": "Real Docker", "email": "admin@example.com", "password": "real-docker-correct-horse"}


@pytest.fixture(scope="module")
def dev(engine: EngineClient, images: dict[str, str], report: DockerReport) -> Iterator[Running]:
    """The dev stack (Pulumi.dev.yaml's settings, with this run's names and port), applied and healthy."""
    run = f"owrt{os.getpid()}d"
    port = free_port()
    try:
        yield apply_stack(engine, stack_config(run, images, port), run, port, report)
    finally:
        cleanup(engine, run)


# ---------------------------------------------------------------------------------------------------------
# The Go client and the daemon: what made the stack fail on Engine 20.10
# ---------------------------------------------------------------------------------------------------------


def test_start_interval_when_daemon_is_older_than_api_1_44_is_refused_by_the_go_client(
    engine: EngineClient, images: dict[str, str]
) -> None:
    """The real Go client (the docker CLI's) refuses a health start interval here, and so does the applier for the
    stack rendered with docker.healthStartInterval, before anything reaches the daemon."""
    if tuple(int(p) for p in engine.version.split(".")) >= (1, 44):
        pytest.skip(f"the daemon has API {engine.version}: start intervals are accepted there")
    cli = subprocess.run(
        ["docker", "create", "--health-cmd", "true", "--health-start-interval", "1s", images["valkey"]],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode != 0
    assert "requires API version 1.44" in cli.stderr
    run = f"owrt{os.getpid()}s"
    deployment = render(stack_config(run, images, free_port(), docker={"healthStartInterval": True}))
    owui = next(r for r in deployment.resources if r.type == CONTAINER and r.inputs["name"] == f"{run}-open-webui")
    applier = Applier(engine)
    with pytest.raises(ClientVersionError, match=r"start interval\" requires API version 1.44"):
        applier._create_container(owui, applier._inputs(owui))
    assert engine.inspect_container(f"{run}-open-webui") is None


def test_old_declaration_forms_when_read_back_are_replaced_on_every_up(dev: Running) -> None:
    """The forms the stack used to declare (SETGID, 5m, memory without memory_swap) differ from what Docker stores."""
    valkey = dev.container(f"{dev.run}-valkey")
    old = json.loads(json.dumps(valkey.inputs))
    old["capabilities"]["adds"] = ["SETGID", "SETUID", "DAC_OVERRIDE"]
    assert {(c.key, c.action) for c in diff_container(old, valkey.state)} == {("capabilities", "replace")}
    owui = dev.container(f"{dev.run}-open-webui")
    old = json.loads(json.dumps(owui.inputs))
    old["healthcheck"]["startPeriod"] = "5m"
    assert {(c.key, c.action) for c in diff_container(old, owui.state, ["healthcheck"])} == {("healthcheck", "replace")}
    # memory alone: Docker stores as much swap again, and the provider reads it back
    state = {**owui.state, "memory": 1536, "memorySwap": 3072}
    assert {(c.key, c.action) for c in diff_container({**owui.inputs, "memory": 1536}, state)} == {
        ("memorySwap", "update")
    }
    assert diff_container({**owui.inputs, "memory": 1536, "memorySwap": 1536}, {**state, "memorySwap": 1536}) == []


# ---------------------------------------------------------------------------------------------------------
# The dev stack on real Docker
# ---------------------------------------------------------------------------------------------------------


def test_dev_stack_when_applied_is_healthy_by_docker_in_the_declared_order(dev: Running) -> None:
    """Docker calls every container healthy; Valkey was created and healthy before Open WebUI was created."""
    valkey, owui = dev.container(f"{dev.run}-valkey"), dev.container(f"{dev.run}-open-webui")
    for name in (valkey.inputs["name"], owui.inputs["name"]):
        assert dev.inspect(name)["State"]["Health"]["Status"] == "healthy", name
    assert valkey.healthy_after is not None
    assert owui.healthy_after is not None
    assert valkey.healthy_after <= valkey.inputs["waitTimeout"]
    assert owui.healthy_after <= owui.inputs["waitTimeout"]
    assert valkey.started_at + valkey.healthy_after <= owui.created_at


def test_dev_stack_when_applied_again_changes_nothing(dev: Running) -> None:
    """A second `pulumi up` with nothing changed: every resource the same, and a refresh finds no difference."""
    steps = dev.applier.plan(render(dev.config))
    assert [(s.op, s.name, s.changes) for s in steps if s.op != "same"] == []
    assert dev.applier.read_back() == {f"{dev.run}-valkey": [], f"{dev.run}-open-webui": []}


def test_dev_stack_when_a_setting_changes_replaces_only_what_it_should(dev: Running) -> None:
    """An Open WebUI env var replaces Open WebUI alone; a Valkey flag replaces Valkey alone (Open WebUI's
    environment, which takes Valkey's URL, is the same, and the engine does not follow that input edge: the
    provider answers "no change" for an unknown `envs`); a restart policy is an update in place."""

    def changed(**blocks: dict[str, Any]) -> dict[str, str]:
        config = {**dev.config, **{k: {**dev.config[k], **v} for k, v in blocks.items()}}
        return {s.name: s.op for s in dev.applier.plan(render(config)) if s.op != "same"}

    assert changed(openWebui={"env": {"DEFAULT_LOCALE": "fr"}}) == {"open-webui-open-webui-container": "replace"}
    assert changed(valkey={"timeout": 600}) == {"open-webui-valkey-container": "replace"}
    assert changed(openWebui={"restart": "always"}) == {"open-webui-open-webui-container": "update"}


def test_open_webui_when_running_reaches_valkey_by_alias_with_the_generated_password(dev: Running) -> None:
    """`socketio` has a subscriber, Open WebUI's keys are in database 1 only, and a socket.io session lands."""
    assert wait_until(lambda: int(dev.valkey_cli("PUBSUB", "NUMSUB", "socketio").split()[-1]) >= 1, timeout=20)
    keyspace = dev.valkey_cli("INFO", "keyspace")
    assert "db1:" in keyspace, keyspace
    assert "db0:" not in keyspace, keyspace
    assert dev.valkey_cli("-n", "1", "--scan", "--pattern", "open-webui:*")
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{dev.url}/api/v1/auths/signup",
        data=json.dumps(ADMIN).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
        token = json.loads(answer.read())["token"]
    client = socketio.Client(reconnection=False)
    client.connect(dev.url, socketio_path=SOCKET_PATH, transports=["websocket"], auth={"token": token}, wait_timeout=10)
    try:
        sid = client.get_sid()
        assert wait_until(lambda: sid in dev.valkey_cli("-n", "1", "HKEYS", "open-webui:session_pool"), timeout=10)
    finally:
        client.disconnect()


def _verify(dev: Running, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return verify_outputs(dev.deployment.outputs, tmp_path)


def test_verify_when_run_against_the_stack_passes_and_fails_when_the_password_changes(
    dev: Running, tmp_path: Path
) -> None:
    """`python -m components.verify` over `docker exec` passes; with Valkey's password changed under it, it fails
    and says so."""
    assert wait_until(lambda: _verify(dev, tmp_path).returncode == 0, timeout=20), _verify(dev, tmp_path).stdout
    password = dev.container(f"{dev.run}-valkey").inputs["envs"][0].split("=", 1)[1]
    dev.valkey_cli("CONFIG", "SET", "requirepass", "changed-under-it")
    try:
        result = _verify(dev, tmp_path)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "FAIL" in result.stdout, result.stdout
        assert "password" in result.stdout.lower(), result.stdout
        assert "changed-under-it" not in result.stdout + result.stderr
    finally:
        code, output = dev.applier.client.exec(
            f"{dev.run}-valkey",
            ["valkey-cli", "CONFIG", "SET", "requirepass", password],
            env=["REDISCLI_AUTH=changed-under-it"],
        )
        assert code == 0, output


def test_valkey_when_running_is_uid_999_with_only_the_declared_capabilities(dev: Running) -> None:
    """The server runs as valkey (uid 999); its bounding set is exactly the three kept capabilities, none
    effective; no port of Valkey is published; Open WebUI is bound to 127.0.0.1 only."""
    fields = dev.applier.client.process_status(f"{dev.run}-valkey")
    assert fields["Uid"].split()[:2] == ["999", "999"]
    assert int(fields["CapBnd"], 16) == sum(1 << bit for bit in KEPT_CAPABILITY_BITS.values())
    assert int(fields["CapEff"], 16) == 0
    valkey = dev.inspect(f"{dev.run}-valkey")
    assert not valkey["HostConfig"]["PortBindings"]
    assert all(not bindings for bindings in (valkey["NetworkSettings"]["Ports"] or {}).values())
    owui = dev.inspect(f"{dev.run}-open-webui")
    assert owui["NetworkSettings"]["Ports"]["8080/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(dev.port)}]
    listeners = _listeners(dev.port)
    assert listeners == {"127.0.0.1"}, listeners


def _listeners(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port`` (``/proc/net/tcp``, ``tcp6``)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                raw = bytes.fromhex(address)
                if width == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_valkey_data_when_its_container_is_replaced_by_a_new_image_survives(
    dev: Running, engine: EngineClient, images: dict[str, str], report: DockerReport
) -> None:
    """A new image tag replaces Valkey delete-before-replace, as the engine does: Valkey is stopped with its 30 s
    grace, snapshots, and the new container reads the data back. Open WebUI keeps running (its environment is
    the same) and its websocket manager subscribes again on the new Valkey by itself."""
    dev.valkey_cli("-n", "1", "SET", "realdocker:survives", "yes")
    open_webui = dev.inspect(f"{dev.run}-open-webui")["Id"]
    next_tag = derived_image(images["valkey"], f"{images['valkey'].split(':')[0]}:0.99.0-{dev.run}")
    config = {**dev.config, "valkey": {**dev.config["valkey"], "image": next_tag}}
    started = time.monotonic()
    steps = dev.applier.apply(render(config))
    assert {s.name: s.op for s in steps if s.op != "same"} == {
        "open-webui-valkey-image": "replace",
        "open-webui-valkey-container": "replace",
    }
    replaced = time.monotonic()
    assert dev.inspect(f"{dev.run}-open-webui")["Id"] == open_webui
    assert dev.valkey_cli("-n", "1", "GET", "realdocker:survives") == "yes"
    assert wait_until(lambda: dev.valkey_cli("PUBSUB", "NUMSUB", "socketio").split()[-1] != "0", timeout=120)
    report.add(
        f"{dev.run}: Valkey image replaced in {replaced - started:.1f} s (Open WebUI kept); its websocket manager "
        f"subscribed again {time.monotonic() - replaced:.1f} s later"
    )
    dev.config = config
    assert [s for s in dev.applier.plan(render(config)) if s.op != "same"] == []


def test_valkey_loss_table_when_stopped_or_killed_holds_in_containers(dev: Running, engine: EngineClient) -> None:
    """README's table, default `save 30 1`: `docker stop` loses nothing; a kill loses writes since the snapshot."""
    name = f"{dev.run}-valkey"
    dev.valkey_cli("-n", "1", "SET", "realdocker:stopped", "kept")
    engine.call("POST", f"/containers/{name}/stop", query={"t": 30})
    engine.call("POST", f"/containers/{name}/start")
    assert wait_until(lambda: dev.inspect(name)["State"]["Health"]["Status"] == "healthy", timeout=30)
    assert dev.valkey_cli("-n", "1", "GET", "realdocker:stopped") == "kept"
    dev.valkey_cli("-n", "1", "SET", "realdocker:killed", "lost")
    # A crash (kill -9 of the server, as the OOM killer does): not `docker kill`, which Docker counts as a manual
    # stop, so the restart policy would not start it again.
    restarts = dev.inspect(name)["RestartCount"]
    os.kill(dev.inspect(name)["State"]["Pid"], signal.SIGKILL)

    def restarted_healthy() -> bool:  # unless-stopped: Docker starts it again by itself
        info = dev.inspect(name)
        return bool(
            info["RestartCount"] > restarts
            and info["State"]["Running"]
            and info["State"]["Health"]["Status"] == "healthy"
        )

    assert wait_until(restarted_healthy, timeout=60, interval=0.2)
    assert dev.valkey_cli("-n", "1", "GET", "realdocker:killed") == ""


# ---------------------------------------------------------------------------------------------------------
# replicas: 4 on real Docker: created in two waves, upgraded with `recreate`, then with `rolling`
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Fleet(Running):
    """The four-replica stack, and a user who signed in at the start."""

    token: str = ""
    created: list[Event] = field(default_factory=list)
    """What the daemon recorded while the stack was created."""

    @property
    def replica_names(self) -> list[str]:
        return [f"{self.run}-open-webui-{n}" for n in (1, 2, 3, 4)]

    def ids(self) -> dict[str, str]:
        return {name: self.inspect(name)["Id"] for name in [*self.replica_names, f"{self.run}-lb"]}

    def signed_in_user(self) -> str:
        """The email of the user whose token was issued at the start, asked through the load balancer."""
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{self.url}/api/v1/auths/", headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return str(json.loads(answer.read())["email"])

    def upgrade(self, image: str, upgrade: str, report: DockerReport) -> tuple[list[Any], list[Event], Poller]:
        """Apply a new Open WebUI image under ``upgrade`` with a client polling through HAProxy; what the engine
        did, what the daemon recorded, and what the client saw."""
        config = {**self.config, "openWebui": {**self.config["openWebui"], "image": image, "upgrade": upgrade}}
        started = time.monotonic()
        with EventRecorder(self.applier.client, f"{self.run}-") as recorder, Poller(self.url) as poller:
            steps = self.applier.apply(render(config))
            applied = time.monotonic()
            time.sleep(3)  # a few requests after the last replica is back
        assert poller.covered(applied), f"the client stopped asking before the update ended: {poller.errors[-3:]}"
        self.config = config
        report.add(
            f"{self.run}: {upgrade} image upgrade of 4 replicas in {time.monotonic() - started:.1f} s; through HAProxy "
            f"every 100 ms: {poller.failed} of {poller.ok + poller.failed} requests failed, longest outage "
            f"{poller.longest_outage():.1f} s"
        )
        return steps, recorder.events, poller


@pytest.fixture(scope="module")
def fleet(engine: EngineClient, images: dict[str, str], report: DockerReport) -> Iterator[Fleet]:
    run = f"owrt{os.getpid()}f"
    port = free_port()
    try:
        with EventRecorder(engine, f"{run}-") as recorder:
            config = stack_config(run, images, port, openWebui={"replicas": 4})
            running = apply_stack(engine, config, run, port, report)
        yield Fleet(**vars(running), created=recorder.events)
    finally:
        cleanup(engine, run)


def test_fleet_when_created_starts_replica_one_then_the_other_three_at_once(fleet: Fleet, report: DockerReport) -> None:
    """Docker's own events: replica 1 healthy before replicas 2-4 start; those three all started before any of
    them is healthy (at once, not one after another); HAProxy started once all four are healthy."""
    events, ids = fleet.created, fleet.ids()
    assert_two_waves(events, ids, fleet.replica_names, f"{fleet.run}-lb")
    start = {name: first(events, "start", ids[name]) for name in ids}
    healthy = {name: first(events, "health_status: healthy", ids[name]) for name in fleet.replica_names}
    one, *rest = fleet.replica_names
    single = healthy[one] - start[one]
    every = max(healthy[name] for name in fleet.replica_names) - start[one]
    # CPU time each replica has used (its start, and a few idle seconds since): the second wave's starts share
    # the machine's cores, so it cannot take less than their sum over the cores.
    cpu = {
        name: fleet.applier.client.call("GET", f"/containers/{ids[name]}/stats", query={"stream": "false"})[
            "cpu_stats"
        ]["cpu_usage"]["total_usage"]
        / 1e9
        for name in fleet.replica_names
    }
    cores = os.cpu_count() or 1
    floor = single + sum(cpu[name] for name in rest) / cores
    report.add(
        f"{fleet.run}: one replica healthy {single:.1f} s after its start; all four {every:.1f} s after replica 1 "
        f"started ({every / single:.2f} times one replica's time; the target is at most about 2.3). CPU time used: "
        f"replica 1 {cpu[one]:.1f} s, replicas 2-4 {', '.join(f'{cpu[n]:.1f}' for n in rest)} s; on {cores} cores "
        f"the two waves cannot take less than {floor:.1f} s ({floor / single:.2f} times)"
    )
    published = {n for n in ids if any(fleet.inspect(n)["HostConfig"]["PortBindings"] or {})}
    assert published == {f"{fleet.run}-lb"}


def test_haproxy_when_running_resolves_every_replica_through_docker_dns(fleet: Fleet) -> None:
    """Inside the HAProxy container each replica's name resolves to its address on the stack's network."""
    network = fleet.config["network"]["name"]
    for name in fleet.replica_names:
        address = fleet.inspect(name)["NetworkSettings"]["Networks"][network]["IPAddress"]
        code, output = fleet.applier.client.exec(f"{fleet.run}-lb", ["getent", "hosts", name])
        assert code == 0, output
        assert output.split()[0] == address


def test_fleet_when_applied_again_changes_nothing(fleet: Fleet) -> None:
    """The second `pulumi up` of the replicated stack: nothing to do, nothing read back differs."""
    assert [(s.op, s.name, s.changes) for s in fleet.applier.plan(render(fleet.config)) if s.op != "same"] == []
    assert all(changes == [] for changes in fleet.applier.read_back().values())


def test_fleet_logs_when_inspected_are_bounded_json_files_on_every_container(fleet: Fleet) -> None:
    """Valkey, PostgreSQL, every replica and HAProxy log with json-file, 10 MB x 3, as Docker stores it (the
    second apply above reads the same back: no change)."""
    names = [a.inputs["name"] for a in fleet.applier.state.values() if a.resource.type == CONTAINER]
    assert len(names) == 7  # Valkey, PostgreSQL, four replicas, HAProxy
    configs = {name: fleet.inspect(name)["HostConfig"]["LogConfig"] for name in names}
    bounded = {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}
    assert {name: config for name, config in configs.items() if config != bounded} == {}


def test_fleet_replicas_when_running_share_every_guide_value(fleet: Fleet) -> None:
    """As the containers hold them: one key of each kind, the origin, one uvicorn worker, the Redis check."""
    envs = [dict(e.split("=", 1) for e in fleet.inspect(n)["Config"]["Env"]) for n in fleet.replica_names]
    for key in ("WEBUI_SECRET_KEY", "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY", "CORS_ALLOW_ORIGIN", "DATABASE_URL"):
        distinct = len({env[key] for env in envs})  # counted outside the assert: a failure must not print secrets
        assert distinct == 1, key
    assert envs[0]["CORS_ALLOW_ORIGIN"].split(";")[0] == fleet.url
    assert {env["UVICORN_WORKERS"] for env in envs} == {"1"}
    assert {env["REDIS_HEALTH_CHECK_INTERVAL"] for env in envs} == {"5"}  # half of selfHeal.silentConnectionSeconds
    listing = "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <$f; echo; done"  # no ps in the image
    code, output = fleet.applier.client.exec(fleet.replica_names[1], ["sh", "-c", listing])
    assert code == 0, output
    (server,) = [line for line in output.splitlines() if " uvicorn " in f" {line} "]
    assert " --workers 1 " in f"{server} "  # what the image's start script makes of UVICORN_WORKERS
    assert fleet.valkey_cli("CONFIG", "GET", "appendonly").split() == ["appendonly", "yes"]


def test_fleet_when_the_image_changes_under_recreate_stops_all_then_migrates_then_starts_the_rest(
    fleet: Fleet, images: dict[str, str], report: DockerReport
) -> None:
    """The default: every old replica is gone before replica 1 starts on the new image, the other three start
    together once it is healthy, HAProxy stays. A user signed in before is still signed in after."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{fleet.url}/api/v1/auths/signup",
        data=json.dumps(ADMIN).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
        fleet.token = json.loads(answer.read())["token"]
    assert fleet.signed_in_user() == ADMIN["email"]
    before = fleet.ids()
    image = derived_image(images["open-webui"], f"{images['open-webui'].split(':')[0]}:0.99.1-{fleet.run}")
    steps, events, poller = fleet.upgrade(image, "recreate", report)
    after = fleet.ids()
    assert {s.name for s in steps if s.op != "same"} == {
        "open-webui-open-webui-image",
        "open-webui-open-webui-container",
        *(f"open-webui-open-webui-container-{n}" for n in (2, 3, 4)),
    }
    assert_recreated(events, before, after, fleet.replica_names)
    assert after[f"{fleet.run}-lb"] == before[f"{fleet.run}-lb"]
    assert poller.failed > 0  # the outage the guide accepts: no replica runs while replica 1 migrates
    assert fleet.signed_in_user() == ADMIN["email"]


def test_fleet_when_switched_to_rolling_changes_nothing(fleet: Fleet) -> None:
    """Only edges differ between the strategies: switching replaces nothing."""
    config = {**fleet.config, "openWebui": {**fleet.config["openWebui"], "upgrade": "rolling"}}
    assert [s for s in fleet.applier.apply(render(config)) if s.op != "same"] == []
    fleet.config = config


def test_fleet_when_the_image_changes_under_rolling_replaces_one_at_a_time_and_no_request_fails(
    fleet: Fleet, images: dict[str, str], report: DockerReport
) -> None:
    """`rolling`: replica n is back (healthy) before replica n+1 stops; a client polling every 100 ms through
    HAProxy sees no failed request; the user signed in before both upgrades still is."""
    before = fleet.ids()
    image = derived_image(images["open-webui"], f"{images['open-webui'].split(':')[0]}:0.99.2-{fleet.run}")
    _, events, poller = fleet.upgrade(image, "rolling", report)
    after = fleet.ids()
    assert_rolled(events, before, after, fleet.replica_names)
    assert after[f"{fleet.run}-lb"] == before[f"{fleet.run}-lb"]
    assert poller.failed == 0, f"{poller.failed} of {poller.ok + poller.failed} requests failed: {poller.errors[:5]}"
    assert fleet.signed_in_user() == ADMIN["email"]


# ---------------------------------------------------------------------------------------------------------
# The examples on real Docker
# ---------------------------------------------------------------------------------------------------------

STANDIN_OF = (("valkey", "valkey"), ("open-webui", "open-webui"), ("haproxy", "haproxy"), ("pgvector", "postgres"))


def retarget(deployment: Deployment, run: str, images: dict[str, str], ports: dict[str, int]) -> Deployment:
    """An example's declaration with this run's names (``run-`` before every Docker name), free host ports and the
    stand-in images; nothing else changes. Volumes are not retained, so the run leaves nothing behind. ``ports``
    keeps the host port given to each published port, so that a second render gets the same ones."""
    references: dict[str, str] = {}
    for resource in deployment.resources:
        inputs = resource.inputs
        if resource.type == IMAGE:
            standin = next(images[name] for key, name in STANDIN_OF if key in inputs["name"])
            references[_image_id(inputs["name"])] = _image_id(standin)
            inputs["name"] = standin
        elif resource.type in (NETWORK, VOLUME):
            inputs["name"] = f"{run}-{inputs['name']}"
            resource.retain_on_delete = False
    for resource in deployment.resources:
        if resource.type != CONTAINER:
            continue
        inputs = resource.inputs
        inputs["name"] = f"{run}-{inputs['name']}"
        inputs["image"] = references.get(inputs["image"], inputs["image"])
        for volume in inputs.get("volumes") or []:
            volume["volumeName"] = f"{run}-{volume['volumeName']}"
        for network in inputs.get("networksAdvanced") or []:
            network["name"] = f"{run}-{network['name']}"
        for port in inputs.get("ports") or []:
            port["external"] = ports.setdefault(f"{inputs['name']}:{port['external']}", free_port())
    return deployment


def _apply_example(engine: EngineClient, deployment: Deployment, run: str, report: DockerReport) -> Applier:
    applier = Applier(engine, log=lambda line: print(f"[{run}] {line}", file=sys.stderr))
    started = time.monotonic()
    applier.apply(deployment)
    report.add(f"{run}: example applied, every container healthy, in {time.monotonic() - started:.1f} s")
    return applier


def test_two_instances_example_when_applied_serves_each_instance_from_its_own_database(
    engine: EngineClient, images: dict[str, str], report: DockerReport
) -> None:
    """examples/two-instances on real Docker: both Open WebUIs healthy on one Valkey, each in its own database;
    a second apply changes nothing."""
    run = f"owrt{os.getpid()}x"
    program = ROOT / "examples" / "two-instances" / "__main__.py"
    try:
        ports: dict[str, int] = {}
        applier = _apply_example(engine, retarget(render(program=program), run, images, ports), run, report)
        containers = [a for a in applier.state.values() if a.resource.type == CONTAINER]
        assert len(containers) == 3
        for applied in containers:
            info = engine.inspect_container(applied.inputs["name"])
            assert info is not None
            assert info["State"]["Health"]["Status"] == "healthy", applied.inputs["name"]
        valkey = f"{run}-shared-valkey"

        def cli(*args: str) -> str:
            code, output = engine.exec(valkey, ["valkey-cli", *args])
            assert code == 0, output
            return output

        assert wait_until(lambda: int(cli("PUBSUB", "NUMSUB", "socketio").split()[-1]) >= 2, timeout=20)
        keyspace = cli("INFO", "keyspace")
        assert "db1:" in keyspace, keyspace
        assert "db2:" in keyspace, keyspace
        again = applier.plan(retarget(render(program=program), run, images, ports))
        assert [(s.op, s.name, s.changes) for s in again if s.op != "same"] == []
    finally:
        cleanup(engine, run)


def test_existing_network_example_when_applied_adopts_the_network_and_leaves_it(
    engine: EngineClient, images: dict[str, str], report: DockerReport
) -> None:
    """examples/existing-network on real Docker: the stack joins a network made beforehand and never deletes it."""
    run = f"owrt{os.getpid()}n"
    program = ROOT / "examples" / "existing-network" / "__main__.py"
    network = f"{run}-proxy"
    engine.call("POST", "/networks/create", body={"Name": network, "Driver": "bridge"})
    try:
        ports: dict[str, int] = {}
        deployment = retarget(render({"networkName": "proxy"}, program=program), run, images, ports)
        assert not [r for r in deployment.resources if r.type == NETWORK]  # looked up, not declared
        applier = _apply_example(engine, deployment, run, report)
        valkey = engine.inspect_container(f"{run}-redis-valkey")
        assert valkey is not None
        assert list(valkey["NetworkSettings"]["Networks"]) == [network]
        again = applier.plan(retarget(render({"networkName": "proxy"}, program=program), run, images, ports))
        assert [(s.op, s.name, s.changes) for s in again if s.op != "same"] == []
        applier.destroy()
        assert engine.call("GET", f"/networks/{network}")["Name"] == network
    finally:
        cleanup(engine, run)


# ---------------------------------------------------------------------------------------------------------
# A redeploy onto kept volumes
# ---------------------------------------------------------------------------------------------------------


def new_state_mocks(deployment: Deployment) -> StackMocks:
    """Mocks whose generated passwords and keys all differ from ``deployment``'s: what a `pulumi up` after
    `pulumi destroy` generates (random's values go with the destroyed state)."""
    passwords = {
        r.name: secrets.token_hex(16)
        for r in deployment.resources
        if r.type == "random:index/randomPassword:RandomPassword"
    }
    return StackMocks(passwords=passwords)


def test_redeploy_when_destroyed_with_kept_volumes_finds_its_data_under_new_secrets(
    engine: EngineClient, images: dict[str, str], report: DockerReport
) -> None:
    """`pulumi destroy` keeps the data volumes (the default); the next `pulumi up` starts from new state, so
    every generated password and key is new. PostgreSQL takes the new password (its start script), every
    replica reaches it, the account made before signs in again, and what Valkey held is still there."""
    run = f"owrt{os.getpid()}r"
    port = free_port()
    kept = {"retainVolume": True}
    config = stack_config(run, images, port, openWebui={"replicas": 2, **kept}, valkey=kept, database=kept)
    url = f"http://127.0.0.1:{port}"
    try:
        first = render(config)
        applier = Applier(engine, log=lambda line: print(f"[{run}] {line}", file=sys.stderr))
        applier.apply(first)
        post_json(f"{url}/api/v1/auths/signup", ADMIN)
        code, output = applier.client.exec(f"{run}-valkey", ["valkey-cli", "SET", "redeploy:kept", "written before"])
        assert (code, output.strip()) == (0, "OK")
        applier.destroy()
        volumes = {v["Name"] for v in engine.call("GET", "/volumes")["Volumes"] or []}
        assert {f"{run}-redis-data", f"{run}-open-webui", f"{run}-postgres"} <= volumes
        assert not [c for c in engine.call("GET", "/containers/json", query={"all": "1"}) if f"/{run}-" in str(c)]

        second = render(config, mocks=new_state_mocks(first))
        old, new = (d.container(f"{run}-postgres").env["POSTGRES_PASSWORD"] for d in (first, second))
        assert old != new
        started = time.monotonic()
        again = Applier(engine, log=lambda line: print(f"[{run}] {line}", file=sys.stderr))
        again.apply(second)
        report.add(f"{run}: redeploy onto kept volumes with new secrets healthy in {time.monotonic() - started:.1f} s")
        signed_in = post_json(f"{url}/api/v1/auths/signin", {"email": ADMIN["email"], "password": ADMIN["password"]})
        assert signed_in["email"] == ADMIN["email"]
        code, output = again.client.exec(f"{run}-valkey", ["valkey-cli", "GET", "redeploy:kept"])
        assert (code, output.strip()) == (0, "written before")
        for name in (f"{run}-open-webui-1", f"{run}-open-webui-2"):
            inspected = again.client.inspect_container(name)
            assert inspected is not None
            assert inspected["State"]["Health"]["Status"] == "healthy"
        again.destroy()
    finally:
        cleanup(engine, run)
