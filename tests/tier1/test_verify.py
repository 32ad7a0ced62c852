"""``python -m components.verify`` against a real Valkey in the state Open WebUI leaves it in.

The stack outputs are the ones ``render`` produces; ``valkey-cli`` runs on this machine instead of through
``docker exec`` (the Docker adapter is checked on its own, without a daemon).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from components.verify import (
    EXIT_CANNOT_RUN,
    EXIT_FAILED,
    EXIT_PASSED,
    DockerValkeyCli,
    RedisPyCli,
    Target,
    check_deployment,
    main,
    pulumi_outputs_argv,
)
from tests.harness.loopback import valkey_cli
from tests.harness.valkey import RenderedValkey, StartValkey
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.tier1

PASSWORD = "pa:ss@w/rd%$`\"' x"


def found(name: str) -> str:
    return f"/usr/bin/{name}"


def run_verify(server: RenderedValkey, tmp_path: Path, outputs: dict[str, Any] | None = None) -> tuple[int, str]:
    """Run the command on the rendered outputs, valkey-cli reaching ``server``; exit status and all output."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(server.deployment.outputs if outputs is None else outputs))
    out, err = io.StringIO(), io.StringIO()
    status = main(
        ["--outputs", str(path)],
        which=found,
        make_cli=lambda target: valkey_cli(target.port, target.password, tmp_path),
        stdout=out,
        stderr=err,
    )
    return status, out.getvalue() + err.getvalue()


@contextmanager
def socketio_subscriber(server: RenderedValkey) -> Iterator[None]:
    """A client subscribed to ``socketio`` in a thread, as Open WebUI's socket.io manager is."""
    pubsub = server.url_client(server.websocket_redis_url).pubsub()
    pubsub.subscribe(socketio=lambda message: None)
    thread = pubsub.run_in_thread(sleep_time=0.05, daemon=True)
    try:
        assert wait_until(lambda: server.client().pubsub_numsub("socketio") == [(b"socketio", 1)])
        yield
    finally:
        thread.stop()
        thread.join(5)
        pubsub.close()


@pytest.fixture
def server(valkey: StartValkey) -> RenderedValkey:
    return valkey({"valkey": {"password": PASSWORD}}, secret_keys=["valkey"])


def write_open_webui_keys(server: RenderedValkey, database: int) -> None:
    client = server.client(database)
    client.hset("open-webui:session_pool", "sid-1", json.dumps({"id": "user-1"}))
    client.set("open-webui:usage_cleanup_lock", "token", ex=60)


def test_verify_when_open_webui_state_present_passes(server: RenderedValkey, tmp_path: Path) -> None:
    """A socketio subscriber and Open WebUI's keys in database 1: exit 0, every check PASS."""
    write_open_webui_keys(server, 1)
    with socketio_subscriber(server):
        status, output = run_verify(server, tmp_path)
    assert status == EXIT_PASSED, output
    assert output.count("  PASS  ") == 4
    assert "open-webui:session_pool" in output
    assert "verify: all 4 checks passed" in output


def test_verify_when_no_socketio_subscriber_fails(server: RenderedValkey, tmp_path: Path) -> None:
    """Keys but nobody on ``socketio`` (websockets not managed by Valkey): exit 1, saying so."""
    write_open_webui_keys(server, 1)
    status, output = run_verify(server, tmp_path)
    assert status == EXIT_FAILED
    assert "FAIL  a websocket manager subscribes to 'socketio': nobody subscribes to 'socketio'" in output


def test_verify_when_keys_in_wrong_database_fails(server: RenderedValkey, tmp_path: Path) -> None:
    """Open WebUI's keys in database 0 while the URL names 1: both key checks fail, naming database 0."""
    write_open_webui_keys(server, 0)
    with socketio_subscriber(server):
        status, output = run_verify(server, tmp_path)
    assert status == EXIT_FAILED
    assert "FAIL  Open WebUI's keys (open-webui:*) are in database 1: database 1 holds no open-webui:* key" in output
    assert "FAIL  no Open WebUI keys in databases no URL names: database 0: open-webui:session_pool" in output


def test_verify_when_password_wrong_fails_without_printing_either(server: RenderedValkey, tmp_path: Path) -> None:
    """A URL with a wrong password: PING fails, the rest is skipped, no password is printed."""
    wrong = "Wrong:P@ss/word"
    outputs = dict(server.deployment.outputs)
    outputs["websocketRedisUrl"] = outputs["websocketRedisUrl"].replace(quote(PASSWORD, safe=""), quote(wrong, safe=""))
    status, output = run_verify(server, tmp_path, outputs)
    assert status == EXIT_FAILED
    assert "FAIL  Valkey answers PING with the URL's password" in output
    assert output.count("SKIP") == 3
    for secret in (PASSWORD, wrong, quote(PASSWORD, safe=""), quote(wrong, safe="")):
        assert secret not in output


def test_verify_when_passing_never_prints_the_password(server: RenderedValkey, tmp_path: Path) -> None:
    """The report of a healthy deployment holds neither the password nor its URL-encoded form."""
    write_open_webui_keys(server, 1)
    with socketio_subscriber(server):
        status, output = run_verify(server, tmp_path)
    assert status == EXIT_PASSED
    assert PASSWORD not in output
    assert quote(PASSWORD, safe="") not in output


def test_target_when_read_from_rendered_outputs_has_container_port_database_password(
    server: RenderedValkey,
) -> None:
    """The stack outputs give the Valkey container, its port, database 1 and the decoded password."""
    target = Target.from_outputs(server.deployment.outputs)
    assert target == Target("redis-valkey", server.port, PASSWORD, 1, frozenset({1}), key_prefix="open-webui")


def test_docker_cli_when_built_passes_the_password_in_env_not_argv() -> None:
    """The Docker adapter runs valkey-cli in the container; REDISCLI_AUTH travels in the environment only."""
    cli = DockerValkeyCli("redis-valkey", 6379, PASSWORD)
    argv = cli.argv(["PUBSUB", "NUMSUB", "socketio"])
    assert argv == [
        "docker",
        "exec",
        "-e",
        "REDISCLI_AUTH",
        "redis-valkey",
        "valkey-cli",
        "-p",
        "6379",
        "PUBSUB",
        "NUMSUB",
        "socketio",
    ]
    assert not any(PASSWORD in argument or quote(PASSWORD, safe="") in argument for argument in argv)
    assert cli.env()["REDISCLI_AUTH"] == PASSWORD


def test_docker_cli_when_auth_off_passes_no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a password the adapter neither forwards nor leaks a REDISCLI_AUTH from the caller's shell."""
    monkeypatch.setenv("REDISCLI_AUTH", "from-the-shell")
    cli = DockerValkeyCli("redis-valkey", 6379, None)
    assert cli.argv(["PING"]) == ["docker", "exec", "redis-valkey", "valkey-cli", "-p", "6379", "PING"]
    assert "REDISCLI_AUTH" not in cli.env()


def test_pulumi_outputs_argv_when_stack_given_asks_for_json_with_secrets() -> None:
    """Outputs come from ``pulumi stack output --json --show-secrets``, for the named stack if any."""
    assert pulumi_outputs_argv("pulumi", "prod") == [
        "pulumi",
        "stack",
        "output",
        "--json",
        "--show-secrets",
        "--stack",
        "prod",
    ]
    assert pulumi_outputs_argv("pulumi", None)[-1] == "--show-secrets"


def test_verify_when_docker_missing_exits_2_naming_it(tmp_path: Path) -> None:
    """Without the Docker CLI the command says so and exits 2 (with --outputs, Pulumi is not needed)."""
    path = tmp_path / "outputs.json"
    path.write_text("{}")
    err = io.StringIO()
    status = main(["--outputs", str(path)], which=lambda name: None, stderr=err)
    assert status == EXIT_CANNOT_RUN
    assert err.getvalue() == (
        "verify: cannot run; not found on PATH:\n"
        "  - docker (the Docker CLI, to run valkey-cli inside the Valkey container, or redis-py in Open WebUI's)\n"
    )


def test_verify_when_docker_and_pulumi_missing_names_both() -> None:
    """Without --outputs the Pulumi CLI is needed too; both missing tools are named at once."""
    err = io.StringIO()
    status = main([], which=lambda name: None, stderr=err)
    assert status == EXIT_CANNOT_RUN
    assert "  - docker (" in err.getvalue()
    assert "  - pulumi (" in err.getvalue()
    assert "--outputs FILE" in err.getvalue()


def test_verify_when_outputs_lack_the_url_exits_2(tmp_path: Path) -> None:
    """Outputs of another stack (no websocketRedisUrl) exit 2 with what is missing, printing no values."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"valkeyContainerName": "redis-valkey", "url": "http://127.0.0.1:3000"}))
    err = io.StringIO()
    status = main(["--outputs", str(path)], which=found, stderr=err)
    assert status == EXIT_CANNOT_RUN
    assert err.getvalue().startswith("verify: cannot run: the stack outputs lack websocketRedisUrl (outputs present:")
    assert "http://127.0.0.1:3000" not in err.getvalue()


# ---------------------------------------------------------------------------------------------------------
# A Swarm stack: valkey-cli runs in a task of the Valkey service
# ---------------------------------------------------------------------------------------------------------


def test_target_when_outputs_are_a_swarm_stacks_names_the_valkey_service() -> None:
    """The Swarm stack's outputs (``valkeyServiceName``) make a target whose service is found at run time."""
    from components.testing import render

    outputs = render({"engine": "swarm"}).outputs
    target = Target.from_outputs(outputs)
    assert (target.service, target.container, target.database) == ("redis-valkey", "redis-valkey", 1)


def test_locate_task_when_a_task_runs_here_picks_its_container() -> None:
    """``docker ps`` filtered by the service's label gives the task's container, named ``<service>.<slot>.<id>``."""
    from components.verify import locate_task

    asked: list[list[str]] = []

    def docker_ps(argv: list[str], **_: Any) -> Any:
        asked.append(argv)
        return type("Done", (), {"returncode": 0, "stdout": "redis-valkey.1.abc\n", "stderr": ""})()

    target = Target("redis-valkey", 6379, None, 1, frozenset({1}), "redis-valkey")
    located = locate_task(target, "docker", run=docker_ps)
    assert located.container == "redis-valkey.1.abc"
    assert asked == [
        ["docker", "ps", "--filter", "label=com.docker.swarm.service.name=redis-valkey", "--format", "{{.Names}}"]
    ]


def test_locate_task_when_no_task_runs_here_says_where_to_run_it() -> None:
    """No task on this Docker host: the checks cannot run, and the message names the service and the way out."""
    from components.verify import CannotVerify, locate_task

    def docker_ps(argv: list[str], **_: Any) -> Any:
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    target = Target("redis-valkey", 6379, None, 1, frozenset({1}), "redis-valkey")
    with pytest.raises(CannotVerify, match=r"no running task of the Swarm service 'redis-valkey'.*DOCKER_HOST"):
        locate_task(target, "docker", run=docker_ps)


def test_verify_when_external_through_redis_py_finds_stray_keys_in_another_database(
    server: RenderedValkey,
) -> None:
    """An external server's checks run with redis-py (``RedisPyCli``, here a local Python): keys in the URL's
    database pass, and keys in a database no URL names are found there (redis-py's own URL database would
    otherwise win over the one asked for)."""
    write_open_webui_keys(server, 1)
    server.client(5).set("open-webui:stray", "1")
    url = f"redis://default:{quote(PASSWORD, safe='')}@127.0.0.1:{server.port}/1"
    outputs = {"openWebuiContainerName": "open-webui", "websocketRedisUrl": url, "redisUrl": url}
    target = Target.from_outputs(outputs)
    assert target.external
    with socketio_subscriber(server):
        report = check_deployment(target, RedisPyCli((sys.executable,), target.url))
    statuses = {check.name: (check.status, check.detail) for check in report.checks}
    assert statuses["Redis answers PING with the URL's password"][0] == "PASS"
    assert statuses["a websocket manager subscribes to 'socketio'"][0] == "PASS"
    assert statuses["Open WebUI's keys (open-webui:*) are in database 1"][0] == "PASS"
    assert statuses["no Open WebUI keys in databases no URL names"] == (
        "FAIL",
        "database 5: open-webui:stray (expected only in database 1: is an Open WebUI configured with another URL "
        "writing here?)",
    )
    assert PASSWORD not in report.render()


# ---------------------------------------------------------------------------------------------------------
# Every replica (the real round trip runs in Tier 2 and on real Docker)
# ---------------------------------------------------------------------------------------------------------


class _Scripted:
    """A ``StartProbe`` whose replicas answer from a script: ``deaf`` replicas never deliver."""

    def __init__(self, deaf: set[str]) -> None:
        self.deaf = deaf
        self.clients: dict[str, list[str]] = {}
        self.started: list[tuple[str, tuple[str, ...]]] = []

    def __call__(self, container: str, args: Any) -> Any:
        self.started.append((container, tuple(args)))
        if args[0] == "listen":
            sid = f"-sid-of-{container}"  # socket.io sids are base64url: they may begin with "-"
            self.clients[sid] = []
            owner = self

            class Listener:
                def __init__(self) -> None:
                    lines = [f"sid {sid}\n"]
                    self.stdout = _Feed(lines, owner.clients[sid], container in owner.deaf)

                def kill(self) -> None: ...
                def wait(self) -> int:
                    return 0

            return Listener()
        assert args[:2] == ("publish", "--") or list(args[:2]) == ["publish", "--"], args  # a sid may begin with "-"
        sid, nonce = args[2], args[3]
        self.clients[sid].append(nonce)

        class Publisher:
            def communicate(self, timeout: float) -> tuple[str, str]:
                return ("receivers 1\n", "")

            def kill(self) -> None: ...

        return Publisher()


class _Feed:
    """stdout of a listener: its sid, then one line per event published for it (none when deaf)."""

    def __init__(self, first: list[str], published: list[str], deaf: bool) -> None:
        self.first, self.published, self.deaf = first, published, deaf

    def __iter__(self) -> Any:
        import time

        yield from self.first
        sent = 0
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            while sent < len(self.published):
                if not self.deaf:
                    yield f"event {self.published[sent]}\n"
                sent += 1
            time.sleep(0.01)


def test_check_replicas_when_every_replica_delivers_passes_each_pair() -> None:
    from components.verify import check_replicas

    checks = check_replicas(["owui-1", "owui-2"], _Scripted(set()), timeout=1)
    assert [(c.name, c.status) for c in checks] == [
        ("an event from owui-1 reaches a client on owui-1", "PASS"),
        ("an event from owui-2 reaches a client on owui-1", "PASS"),
        ("an event from owui-1 reaches a client on owui-2", "PASS"),
        ("an event from owui-2 reaches a client on owui-2", "PASS"),
    ]


def test_check_replicas_when_one_replica_is_deaf_fails_every_event_to_its_clients() -> None:
    from components.verify import check_replicas

    checks = check_replicas(["owui-1", "owui-2"], _Scripted({"owui-2"}), timeout=0.5)
    failed = [c.name for c in checks if c.status == "FAIL"]
    assert failed == [
        "an event from owui-1 reaches a client on owui-2",
        "an event from owui-2 reaches a client on owui-2",
    ]
    assert all("does not hear Redis" in c.detail for c in checks if c.status == "FAIL")


def test_probe_options_when_read_from_a_healthcheck_are_what_docker_passes() -> None:
    from components.core.open_webui import PROBE_PATH as CORE_PROBE_PATH
    from components.verify import PROBE_PATH, probe_options

    assert PROBE_PATH == CORE_PROBE_PATH  # verify imports nothing of the project: the same path, written twice
    test = [
        "CMD-SHELL",
        f"python3 {PROBE_PATH} --sentinels s1:26379,s2:26379 --room-channels false health --deadline 4",
    ]
    assert probe_options(test) == ["--sentinels", "s1:26379,s2:26379", "--room-channels", "false"]
    assert probe_options(["CMD-SHELL", "curl -f http://localhost:8080/health"]) == []
