"""Against a real Docker daemon with the Pulumi CLI: `pulumi preview`, and with LIVE_UP=1 a full up, a second
preview that must find no change, verify and destroy.

These need the Pulumi CLI, which these development machines cannot install (a Docker daemon they can run: the
real-Docker tier, tests/docker/test_real_docker.py, stands in for the provider there); they run in the GitHub
workflow's preview job and on any workstation that has both.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from components.core.images import OPEN_WEBUI_IMAGE, VALKEY_IMAGE
from components.swarm.preflight import ipvs_available
from tests.harness.lifecycle import (
    Event,
    Poller,
    assert_recreated,
    assert_rolled,
    assert_two_waves,
    first,
    post_json,
    record,
)
from tests.harness.paths import ROOT
from tests.harness.waiting import wait_until
from tests.harness.wheel import build, consumer_venv


def _docker_daemon_answers() -> bool:
    return (
        shutil.which("docker") is not None and subprocess.run(["docker", "info"], capture_output=True).returncode == 0
    )


def _docker_out(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False).stdout.strip()


pytestmark = [
    pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the Pulumi CLI, which is not installed here"),
    pytest.mark.skipif(not _docker_daemon_answers(), reason="needs a Docker daemon, and none answers here"),
]


def _config(name: str, *, swarm: bool = False, **blocks: dict[str, object]) -> dict[str, object]:
    """The stack configuration with this run's unique names and port (volumes not kept; on Swarm, which never
    removes volumes, the fixture removes them)."""
    config: dict[str, dict[str, object]] = {
        "network": {"name": f"{name}-net"},
        "valkey": {"containerName": f"{name}-valkey", "volumeName": f"{name}-valkey-data", "retainVolume": False},
        "openWebui": {
            "containerName": f"{name}-owui",
            "volumeName": f"{name}-owui-data",
            "hostPort": 39000 + int(name[-3:], 16) % 1000,
            "retainVolume": False,
        },
        "database": {"containerName": f"{name}-pg", "volumeName": f"{name}-pg-data", "retainVolume": False},
        "loadBalancer": {"containerName": f"{name}-lb"},
    }
    for key, values in blocks.items():
        config[key] = {**config.get(key, {}), **values}
    result: dict[str, object] = {f"open-webui-redis:{key}": value for key, value in config.items()}
    if swarm:
        for block in config.values():
            block.pop("retainVolume", None)
        result["open-webui-redis:engine"] = "swarm"
        result["open-webui-redis:swarm"] = {"dataLabel": f"{name}.data", **_swarm_machine()}
    return result


@functools.cache
def _swarm_machine() -> dict[str, object]:
    """What this machine lets a Swarm stack use, said in the output: ``vip`` only where the kernel has IPVS
    (components.swarm.preflight), and images pinned by digest only where a registry serves them (a stand-in
    tagged as the default image here: no registry to ask; LIVE_PIN_IMAGES=1 or 0 decides instead)."""
    mode = "vip" if ipvs_available() else "dnsrr"
    pinned = os.environ.get("LIVE_PIN_IMAGES")
    if pinned is None:
        label = _docker_out(
            "image", "inspect", "--format", '{{index .Config.Labels "open-webui-redis.test"}}', OPEN_WEBUI_IMAGE
        )
        pinned = "0" if label == "standin" else "1"
    choice: dict[str, object] = {"endpointMode": mode, "pinImages": pinned == "1"}
    ipvs = "found" if mode == "vip" else "missing"
    print(f"live Swarm stacks: endpointMode {mode} (IPVS {ipvs}), pinImages {pinned == '1'}")
    return choice


@dataclass
class LiveStack:
    """A throwaway stack on a local file backend; ``configure`` rewrites its stack file."""

    name: str
    env: dict[str, str]
    file: Path

    def configure(self, *, swarm: bool = False, **blocks: dict[str, object]) -> None:
        """New configuration; what Pulumi keeps in the file beside it (``encryptionsalt``) stays."""
        kept = yaml.safe_load(self.file.read_text()) if self.file.exists() else None
        kept = {key: value for key, value in (kept or {}).items() if key != "config"}
        config = _config(self.name, swarm=swarm, **blocks)
        self.file.write_text(json.dumps({**kept, "config": config}))  # JSON is YAML

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["pulumi", *args, "--stack", self.name], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        assert not check or result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveStack]:
    """A throwaway stack on a local file backend with unique names, removed afterwards."""
    name = f"live-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env.update(
        {
            "PULUMI_BACKEND_URL": f"file://{tmp_path}",
            "PULUMI_CONFIG_PASSPHRASE": "live-test",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }
    )
    stack = LiveStack(name, env, ROOT / f"Pulumi.{name}.yaml")
    stack.configure()
    subprocess.run(["pulumi", "stack", "init", name], cwd=ROOT, env=env, check=True)
    try:
        yield stack
    finally:
        destroyed = subprocess.run(
            ["pulumi", "destroy", "--yes", "--stack", name], cwd=ROOT, env=env, capture_output=True, text=True
        )
        subprocess.run(["pulumi", "stack", "rm", "--yes", "--force", name], cwd=ROOT, env=env, check=False)
        stack.file.unlink(missing_ok=True)
        # Whatever a failed destroy left behind, then the locally built "new release" images.
        left = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"name=^{name}-"], capture_output=True, text=True
        ).stdout.split()
        if left:
            subprocess.run(["docker", "rm", "-f", "-v", *left], capture_output=True, check=False)
        for image in subprocess.run(
            ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", f"{name}-owui"], capture_output=True, text=True
        ).stdout.split():
            subprocess.run(["docker", "rmi", image], capture_output=True, check=False)
        if destroyed.returncode != 0:
            pytest.fail(f"pulumi destroy failed:\n{destroyed.stdout[-3000:]}{destroyed.stderr[-3000:]}")


@pytest.fixture
def live_stack(live: LiveStack) -> tuple[str, dict[str, str]]:
    """The default stack (one Open WebUI container on SQLite), as the first tests use it."""
    return live.name, live.env


def test_preview_when_run_against_docker_plans_the_stack(live_stack: tuple[str, dict[str, str]]) -> None:
    """`pulumi preview` against a real daemon plans every resource and reports no error."""
    name, env = live_stack
    result = subprocess.run(
        ["pulumi", "preview", "--stack", name, "--json"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    steps = json.loads(result.stdout)["steps"]
    created = sorted(step["newState"]["type"] for step in steps if step["op"] == "create")
    assert created.count("docker:index/container:Container") == 2


@pytest.mark.skipif(os.environ.get("LIVE_UP") != "1", reason="deploys real containers: set LIVE_UP=1 to run it")
def test_up_when_run_serves_open_webui_with_redis_managed_websockets(live_stack: tuple[str, dict[str, str]]) -> None:
    """`pulumi up` ends with both containers healthy, a second preview plans nothing, `components.verify` passes."""
    name, env = live_stack
    subprocess.run(["pulumi", "up", "--yes", "--stack", name], cwd=ROOT, env=env, check=True)
    # A second `pulumi up` with nothing changed must change nothing: everything declared as Docker reads it back.
    again = subprocess.run(
        ["pulumi", "preview", "--expect-no-changes", "--diff", "--stack", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    verify = subprocess.run(
        [sys.executable, "-m", "components.verify", "--stack", name], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def verified(live: LiveStack) -> None:
    """`python -m components.verify --stack <name>` passes on the live stack."""
    verify = subprocess.run(
        [sys.executable, "-m", "components.verify", "--stack", live.name],
        cwd=ROOT,
        env=live.env,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.skipif(os.environ.get("LIVE_UP") != "1", reason="deploys real containers: set LIVE_UP=1 to run it")
def test_up_when_valkey_tls_is_on_makes_real_certificates_and_a_second_preview_changes_nothing(
    live: LiveStack, tmp_path: Path
) -> None:
    """`valkey.tls` with the real pulumi-tls provider: `pulumi up` ends with both containers healthy (their
    healthchecks PING over TLS with the generated CA), the exported CA verifies the server's certificate, a second
    preview plans nothing (the certificates kept in state), and `components.verify` passes over TLS."""
    live.configure(valkey={"tls": True})
    live.pulumi("up", "--yes")
    again = live.pulumi("preview", "--expect-no-changes", "--diff", check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    outputs = json.loads(live.pulumi("stack", "output", "--json", "--show-secrets").stdout)
    assert outputs["redisUrl"].startswith("rediss://")
    ca = outputs["valkeyCaCert"]
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    container = outputs["valkeyContainerName"]
    served = subprocess.run(
        ["docker", "exec", container, "cat", "/run/secrets/valkey-server.pem"], capture_output=True, text=True
    )
    assert served.returncode == 0, served.stderr
    ca_file, cert_file = tmp_path / "ca.pem", tmp_path / "server.pem"
    ca_file.write_text(ca)
    cert_file.write_text(served.stdout)
    checked = subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca_file), str(cert_file)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verified(live)


# ---------------------------------------------------------------------------------------------------------
# The replica lifecycle with the real engine: the order is the engine's, read from the daemon's events
# ---------------------------------------------------------------------------------------------------------


class DockerEvents:
    """``docker events`` for this stack's containers, streamed while the block runs (the daemon keeps only its
    last 256 events, and healthcheck probes add three each)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.events: list[Event] = []
        filters = [f"--filter=event={e}" for e in ("create", "start", "die", "destroy", "health_status")]
        since = f"--since={time.time():.3f}"  # the daemon replays from here: nothing is missed while subscribing
        self._process = subprocess.Popen(
            ["docker", "events", since, "--format", "{{json .}}", "--filter=type=container", *filters],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        assert self._process.stdout is not None
        record(self._process.stdout, self.prefix, self.events)

    def __enter__(self) -> DockerEvents:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(1)  # the last events are on their way
        if self._process.poll() is not None:
            assert self._process.stderr is not None
            pytest.fail(f"docker events stopped early: {self._process.stderr.read()[-2000:]}")
        self._process.terminate()
        self._process.wait(timeout=10)
        self._thread.join(timeout=5)


def _ids(names: list[str]) -> dict[str, str]:
    found = subprocess.run(
        ["docker", "inspect", "--type", "container", "--format", "{{.Id}}", *names], capture_output=True, text=True
    )
    assert found.returncode == 0, found.stderr
    return dict(zip(names, found.stdout.split(), strict=True))


def _new_release(name: str, tag: str) -> str:
    """A new image id (as a new release has) from the default image, tagged locally: the provider uses a
    local image of that name and pulls only when there is none."""
    reference = f"{name}-owui:{tag}"
    dockerfile = f"FROM {OPEN_WEBUI_IMAGE}\nLABEL open-webui-redis.live.release={tag}\n"
    subprocess.run(["docker", "build", "-q", "-t", reference, "-"], input=dockerfile, text=True, check=True)
    return reference


def _signed_in(url: str, token: str) -> str:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{url}/api/v1/auths/", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        return str(json.loads(answer.read())["email"])


@pytest.mark.skipif(os.environ.get("LIVE_UP") != "1", reason="deploys real containers: set LIVE_UP=1 to run it")
def test_replicas_when_created_and_upgraded_by_the_cli_follow_openwebui_upgrade(live: LiveStack) -> None:
    """Three replicas with the real engine and provider: created in two waves; a new image under `recreate`
    (every old replica down before replica 1 starts); `rolling` switched on alone (no change); a new image under
    `rolling` (one at a time, no failed request); a user signed in at the start still is at the end."""
    replicas = [f"{live.name}-owui-{n}" for n in (1, 2, 3)]
    load_balancer = f"{live.name}-lb"
    port = int(_config(live.name)["open-webui-redis:openWebui"]["hostPort"])  # type: ignore[index]
    url = f"http://127.0.0.1:{port}"
    live.configure(openWebui={"replicas": 3})
    with DockerEvents(f"{live.name}-") as created:
        live.pulumi("up", "--yes")
    assert_two_waves(created.events, _ids([*replicas, load_balancer]), replicas, load_balancer)
    live.pulumi("preview", "--expect-no-changes", "--diff")

    admin = {"name": "Live", "email": "live@example.com", "password": "live-correct-horse-battery"}
    token = post_json(f"{url}/api/v1/auths/signup", admin)["token"]

    figures = []
    image = OPEN_WEBUI_IMAGE
    # Release-like tags: the stack refuses a moving tag with `rolling` (allowMovingImageTags).
    for upgrade, tag in (("recreate", "0.99.0"), ("rolling", "0.99.1")):
        if upgrade == "rolling":  # switched in an update of its own (README): only edges change, nothing else
            live.configure(openWebui={"replicas": 3, "upgrade": "rolling", "image": image})
            live.pulumi("preview", "--expect-no-changes", "--diff")
            live.pulumi("up", "--yes", "--expect-no-changes")  # records the new edges in the state
        image = _new_release(live.name, tag)
        before = _ids([*replicas, load_balancer])
        live.configure(openWebui={"replicas": 3, "upgrade": upgrade, "image": image})
        started = time.monotonic()
        with DockerEvents(f"{live.name}-") as upgraded, Poller(url) as poller:
            live.pulumi("up", "--yes")
            applied = time.monotonic()
            time.sleep(3)
        assert poller.covered(applied), f"the client stopped asking before the update ended: {poller.errors[-3:]}"
        after = _ids([*replicas, load_balancer])
        (assert_recreated if upgrade == "recreate" else assert_rolled)(upgraded.events, before, after, replicas)
        assert after[load_balancer] == before[load_balancer]
        figures.append(
            f"{upgrade}: {time.monotonic() - started:.1f} s, {poller.failed} of {poller.ok + poller.failed} requests "
            f"failed, longest outage {poller.longest_outage():.1f} s"
        )
        if upgrade == "rolling":
            assert poller.failed == 0, f"{figures}: {poller.errors[:5]}"
        else:
            assert poller.failed > 0, figures  # the outage the guide accepts: no replica runs while 1 migrates
        assert _signed_in(url, token) == admin["email"]
    print("live replica lifecycle:", "; ".join(figures))  # the figures, in the CI log (pytest -s)


# ---------------------------------------------------------------------------------------------------------
# The Swarm stack with the real engine and provider, on a one-node swarm
# ---------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def one_node_swarm(live: LiveStack) -> Iterator[None]:
    """This daemon as a one-node swarm (initialised here unless it is one already), its node labelled as the
    stack's data node; the stack's volumes removed afterwards (Swarm never removes them)."""
    initialised = _docker_out("info", "--format", "{{.Swarm.LocalNodeState}}") != "active"
    if initialised:
        init = subprocess.run(["docker", "swarm", "init"], capture_output=True, text=True, check=False)
        assert init.returncode == 0, init.stderr
    try:
        node = _docker_out("info", "--format", "{{.Swarm.NodeID}}")
        subprocess.run(["docker", "node", "update", "--label-add", f"{live.name}.data=true", node], check=True)
        yield
    finally:
        live.pulumi("destroy", "--yes", check=False)
        for volume in _docker_out("volume", "ls", "-q", "--filter", f"name={live.name}-").split():
            subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True, check=False)
        if initialised:
            subprocess.run(["docker", "swarm", "leave", "--force"], capture_output=True, check=False)


@pytest.mark.skipif(os.environ.get("LIVE_UP") != "1", reason="deploys real services: set LIVE_UP=1 to run it")
def test_swarm_up_when_run_on_a_one_node_swarm_converges_and_a_second_preview_changes_nothing(live: LiveStack) -> None:
    """`pulumi up` of the Swarm stack (two replicas, HAProxy, PostgreSQL) on `docker swarm init`: every service
    converges, a second preview plans nothing (images pinned as the provider reads them back, durations in its
    short form), `components.verify` finds Valkey's task and passes, and the published port answers."""
    with one_node_swarm(live):
        live.configure(swarm=True, openWebui={"replicas": 2, "upgrade": "rolling"})
        live.pulumi("up", "--yes")
        again = live.pulumi("preview", "--expect-no-changes", "--diff", check=False)
        assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-2000:]
        verified(live)
        url = json.loads(live.pulumi("stack", "output", "--json").stdout)["url"]
        with urllib.request.urlopen(f"{url}/health", timeout=10) as answer:  # noqa: S310 - loopback
            assert answer.status == 200


def _task_containers(service: str) -> list[str]:
    return _docker_out("ps", "-aq", "--no-trunc", "--filter", f"label=com.docker.swarm.service.name={service}").split()


@pytest.mark.skipif(os.environ.get("LIVE_UP") != "1", reason="deploys real services: set LIVE_UP=1 to run it")
def test_swarm_recreate_when_the_image_changes_stops_every_task_before_the_new_primary_starts(live: LiveStack) -> None:
    """`recreate` on Swarm with the real engine, across both Open WebUI services: the primary's service is
    replaced and the replicas' with it (deleted first), so every old task has died before the new primary
    starts on the new image; the replicas start once it is healthy."""
    with one_node_swarm(live):
        primary, rest = f"{live.name}-owui", f"{live.name}-owui-replicas"
        live.configure(swarm=True, openWebui={"replicas": 3, "upgrade": "recreate"})
        live.pulumi("up", "--yes")
        old = _task_containers(primary) + _task_containers(rest)
        image = _new_release(live.name, "0.99.2")
        live.configure(swarm=True, openWebui={"replicas": 3, "upgrade": "recreate", "image": image})
        with DockerEvents(primary) as upgraded:
            live.pulumi("up", "--yes")
        (new_primary,) = [c for c in _task_containers(primary) if c not in old]
        new_rest = [c for c in _task_containers(rest) if c not in old]
        assert len(new_rest) == 2
        events = upgraded.events
        last_old_died = max(first(events, "die", task) for task in old)
        assert last_old_died < first(events, "start", new_primary)
        primary_healthy = first(events, "health_status: healthy", new_primary)
        assert all(primary_healthy <= first(events, "start", task) for task in new_rest)
        live.pulumi("preview", "--expect-no-changes", "--diff")
        gap = first(events, "start", new_primary) - last_old_died
        print(f"live Swarm recreate: the last old task died {gap:.1f} s before the new primary started")


def _new_state(live: LiveStack) -> None:
    """`pulumi stack rm` and `init` again under the same name: the stack file stays, the state (and with it every
    generated password and key) is new, as after `pulumi destroy` on a stack made again."""
    live.pulumi("stack", "rm", "--yes", "--force", "--preserve-config")
    subprocess.run(["pulumi", "stack", "init", live.name], cwd=ROOT, env=live.env, check=True)


@pytest.mark.parametrize("engine", ["docker", "swarm"])
@pytest.mark.skipif(os.environ.get("LIVE_UP") != "1", reason="deploys real containers: set LIVE_UP=1 to run it")
def test_redeploy_when_destroyed_with_kept_volumes_serves_the_same_accounts_with_new_secrets(
    live: LiveStack, engine: str
) -> None:
    """`pulumi up`, an account made, `pulumi destroy` (the volumes stay: the default), a new state, `pulumi up`:
    PostgreSQL takes the new generated password, every replica is healthy, the account signs in again, and the
    preview announced the new WEBUI_SECRET_KEY."""
    swarm = engine == "swarm"
    kept: dict[str, object] = {} if swarm else {"retainVolume": True}
    blocks: dict[str, dict[str, object]] = {"openWebui": {"replicas": 2, **kept}, "valkey": kept, "database": kept}
    port = int(_config(live.name)["open-webui-redis:openWebui"]["hostPort"])  # type: ignore[index]
    url = f"http://127.0.0.1:{port}"
    admin = {"name": "Live", "email": "redeploy@example.com", "password": "live-redeploy-correct-horse"}
    with contextlib.ExitStack() as cleanup:
        if swarm:
            cleanup.enter_context(one_node_swarm(live))
        live.configure(swarm=swarm, **blocks)
        live.pulumi("up", "--yes")
        post_json(f"{url}/api/v1/auths/signup", admin)
        live.pulumi("destroy", "--yes")
        if not swarm:
            kept_volumes = _docker_out("volume", "ls", "-q", "--filter", f"name={live.name}-").split()
            assert {f"{live.name}-pg-data", f"{live.name}-owui-data", f"{live.name}-valkey-data"} <= set(kept_volumes)
        _new_state(live)
        redeployed = live.pulumi("up", "--yes")
        assert "a new WEBUI_SECRET_KEY is generated for this stack" in redeployed.stdout + redeployed.stderr
        signed_in = post_json(f"{url}/api/v1/auths/signin", {"email": admin["email"], "password": admin["password"]})
        assert signed_in["email"] == admin["email"]
        verified(live)
        if not swarm:
            live.pulumi("destroy", "--yes")
            for volume in _docker_out("volume", "ls", "-q", "--filter", f"name={live.name}-").split():
                subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True, check=False)


@pytest.mark.skipif(os.environ.get("LIVE_UP") != "1", reason="deploys real containers: set LIVE_UP=1 to run it")
def test_valkey_when_its_image_changes_is_replaced_alone_and_open_webui_subscribes_again(live: LiveStack) -> None:
    """The rule the emulated engine follows, with the real one: Valkey replaced delete-before-replace does not
    take Open WebUI along (its `envs` come from Valkey, and pulumi-docker answers "no change" for them unknown);
    Open WebUI keeps running and `components.verify` passes on the new Valkey."""
    live.pulumi("up", "--yes")
    open_webui = f"{live.name}-owui"
    before = _ids([open_webui, f"{live.name}-valkey"])
    reference = f"{live.name}-valkey:8.0.99"
    dockerfile = f"FROM {VALKEY_IMAGE}\nLABEL open-webui-redis.live.release=valkey\n"
    subprocess.run(["docker", "build", "-q", "-t", reference, "-"], input=dockerfile, text=True, check=True)
    try:
        live.configure(valkey={"image": reference})
        preview = json.loads(live.pulumi("preview", "--json").stdout)
        replaced = sorted(
            s["urn"].rsplit("::", 1)[-1] for s in preview["steps"] if s["op"] in ("replace", "create-replacement")
        )
        assert replaced == ["open-webui-valkey-container", "open-webui-valkey-image"]
        live.pulumi("up", "--yes")
        after = _ids([open_webui, f"{live.name}-valkey"])
        assert after[open_webui] == before[open_webui]
        assert after[f"{live.name}-valkey"] != before[f"{live.name}-valkey"]
        checks: list[subprocess.CompletedProcess[str]] = []

        def verify_passes() -> bool:
            checks.append(subprocess.run(
                [sys.executable, "-m", "components.verify", "--stack", live.name],
                cwd=ROOT, env=live.env, capture_output=True, text=True,
            ))  # fmt: skip
            return checks[-1].returncode == 0

        # The websocket manager subscribes again on its own (python-socketio's backoff).
        wait_until(verify_passes, 120, interval=2)
        assert checks[-1].returncode == 0, checks[-1].stdout + checks[-1].stderr
    finally:
        live.pulumi("destroy", "--yes", check=False)
        subprocess.run(["docker", "rmi", reference], capture_output=True, check=False)


COMPOSED = ROOT / "examples" / "composed"


@pytest.mark.skipif(os.environ.get("LIVE_UP") != "1", reason="deploys real containers: set LIVE_UP=1 to run it")
def test_composed_program_when_up_from_the_wheel_orders_the_stack_after_its_own_redis(tmp_path: Path) -> None:
    """Issue #20 with the real engine: ``examples/composed`` in its own project and virtualenv, the package
    installed from the built wheel, makes its own Valkey container and network and passes their Outputs to the
    stack. `pulumi up` creates Open WebUI after the server it was given (healthy: its healthcheck delivers an event
    through that server), a second preview changes nothing, the URL output is a secret; the program changed to
    give a URL Open WebUI cannot read is refused by `pulumi preview` with the Input named and nothing shown."""
    name = f"live-{uuid.uuid4().hex[:8]}"
    project = tmp_path / "project"
    shutil.copytree(COMPOSED, project, ignore=shutil.ignore_patterns("__pycache__", "venv", "test_*.py"))
    (tmp_path / "dist").mkdir()
    (tmp_path / "source").mkdir()
    consumer_venv(build(tmp_path / "dist", tmp_path / "source"), project / "venv", project / "requirements.txt")
    env = dict(os.environ)
    env.update(
        {
            "PULUMI_BACKEND_URL": f"file://{tmp_path}",
            "PULUMI_CONFIG_PASSPHRASE": "live-test",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }
    )
    open_webui = {
        "containerName": f"{name}-owui",
        "volumeName": f"{name}-owui-data",
        "hostPort": 39000 + int(name[-3:], 16) % 1000,
        "retainVolume": False,
    }

    def pulumi(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["pulumi", *args, "--stack", name], cwd=project, env=env, capture_output=True, text=True
        )
        assert not check or result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result

    subprocess.run(["pulumi", "stack", "init", name], cwd=project, env=env, check=True, capture_output=True)
    try:
        pulumi("config", "set", "prefix", name)
        pulumi("config", "set", "open-webui-redis:openWebui", json.dumps(open_webui))
        started = time.monotonic()
        pulumi("up", "--yes")
        print(f"live composed program: up in {time.monotonic() - started:.0f} s")
        created = {
            item["Name"].lstrip("/"): item["Created"]
            for item in json.loads(_docker_out("inspect", f"{name}-cache", f"{name}-owui"))
        }
        assert created[f"{name}-owui"] > created[f"{name}-cache"], created
        env_lines = _docker_out("inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", f"{name}-owui")
        redis_url = next(line for line in env_lines.splitlines() if line.startswith("REDIS_URL="))
        assert redis_url.endswith(f"@{name}-cache:6379/0"), "Open WebUI is not on the program's own server"
        assert _docker_out("inspect", "--format", "{{.State.Health.Status}}", f"{name}-owui") == "healthy"
        networks = _docker_out(
            "inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", f"{name}-owui"
        )
        assert networks.split() == [name]
        again = pulumi("preview", "--expect-no-changes", "--diff", check=False)
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        assert pulumi("stack", "output", "redisUrl").stdout.strip() == "[secret]"
        password = redis_url.split(":", 2)[2].split("@")[0]
        main = project / "__main__.py"
        program = main.read_text()
        main.write_text(program.replace('f"redis://:{parts[1]}@', 'f"http://:{parts[1]}@'))
        refused = pulumi("preview", check=False)
        output = refused.stdout + refused.stderr
        print("live composed program, a URL Open WebUI cannot read:", output[output.find("Invalid input") :][:300])
        assert refused.returncode != 0
        assert "Invalid input for project 'open-webui-redis'" in output
        assert "the redis_url Input: must start with redis:// or rediss:// (TLS), got the scheme 'http'" in output
        assert password not in output
        assert "Traceback" not in output
        main.write_text(program)
    finally:
        destroyed = pulumi("destroy", "--yes", check=False)
        subprocess.run(["pulumi", "stack", "rm", "--yes", "--force", name], cwd=project, env=env, check=False)
        left = _docker_out("ps", "-aq", "--filter", f"name=^{name}").split()
        if left:
            subprocess.run(["docker", "rm", "-f", "-v", *left], capture_output=True, check=False)
        subprocess.run(["docker", "network", "rm", name], capture_output=True, check=False)
        assert destroyed.returncode == 0, destroyed.stdout[-3000:] + destroyed.stderr[-3000:]
