"""The healthcheck's probe (``components/core/probe.py``) against the stack's Valkey (Tier 1), as a process.

Its round trip through a real Open WebUI (an event published to Redis coming back through the replica's listener)
runs in Tier 2 (``tests/tier2/test_tier2_*.py`` run the rendered healthcheck) and in the faults tier; here: what it
makes of Redis answering, refusing or not being there, and of a replica that does not deliver.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.core import probe
from tests.harness.loopback import PROBE_FILE, free_port
from tests.harness.valkey import StartValkey

pytestmark = pytest.mark.tier1
PASSWORD = "probe-test-password"


@pytest.fixture
def redis_port(valkey: StartValkey) -> int:
    """The stack's own Valkey (its rendered command, Tier 1's valkey-server), with ``PASSWORD``: its port."""
    return valkey({"valkey": {"password": PASSWORD}}, secret_keys=("valkey",)).port


def run_health(state: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The probe as the healthcheck runs it, its state in ``state``, with nothing listening on its port (a
    replica whose websocket never answers: deaf)."""
    argv = [sys.executable, str(PROBE_FILE), "--port", str(free_port()), "health", "--state", str(state), *args]
    return subprocess.run(argv, env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, timeout=30)


def test_connect_when_the_password_is_right_answers_and_publishes(redis_port: int) -> None:
    client = probe.connect(f"redis://default:{PASSWORD}@127.0.0.1:{redis_port}/1", [], 2.0)
    try:
        assert probe.publish(client, "sid-1", "nonce", room_channels=True) == 0  # nobody listens here
    finally:
        client.close()


def test_connect_when_the_password_is_wrong_is_refused_without_echoing_it(redis_port: int) -> None:
    with pytest.raises(probe.RefusedError) as refused:
        probe.connect(f"redis://:not-{PASSWORD}@127.0.0.1:{redis_port}/1", [], 2.0)
    assert f"127.0.0.1:{redis_port} refuses the password" in str(refused.value)
    assert PASSWORD not in str(refused.value)


def test_connect_when_nothing_listens_is_unreachable() -> None:
    with pytest.raises(probe.UnreachableError):
        probe.connect(f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/1", [], 1.0)


def test_health_when_redis_is_unreachable_before_any_delivery_fails(tmp_path: Path) -> None:
    """A new replica must prove the path once: a wrong host in redis.url fails `pulumi up`."""
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/1"
    result = run_health(tmp_path / "state.json", {"WEBSOCKET_REDIS_URL": url})
    assert result.returncode == 1, result.stdout
    assert "Redis unreachable" in result.stdout


@pytest.fixture
def health_server() -> Iterator[int]:
    """A port whose ``GET /health`` answers 200, and whose websocket never answers (a server up, a listener deaf)."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def run_health_on(port: int, state: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(PROBE_FILE), "--port", str(port), "health", "--state", str(state), *args]
    return subprocess.run(argv, env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, timeout=30)


def test_health_when_redis_is_unreachable_after_a_delivery_passes(tmp_path: Path, health_server: int) -> None:
    """Once delivered, an unreachable Redis is not this replica's fault (its /health answers): no engine should
    restart it for that."""
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"delivered": True}))
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/1"
    result = run_health_on(health_server, state, {"WEBSOCKET_REDIS_URL": url})
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("healthy: Redis unreachable")
    assert "unreachable_at" in json.loads(state.read_text())
    first = json.loads(state.read_text())["unreachable_since"]
    assert run_health_on(health_server, state, {"WEBSOCKET_REDIS_URL": url}).returncode == 0
    assert json.loads(state.read_text())["unreachable_since"] == first, "the outage's start moved"


def test_health_when_redis_and_the_server_are_both_gone_counts_as_deaf(tmp_path: Path) -> None:
    """Redis unreachable and this replica's /health not answering either: the deaf clock runs."""
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"delivered": True}))
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/1"
    result = run_health(state, {"WEBSOCKET_REDIS_URL": url})
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("healthy for now: deaf for 0 s")
    assert "GET /health does not answer 200" in result.stdout


def test_health_when_redis_answers_again_gives_the_listener_its_backoff(redis_port: int, tmp_path: Path) -> None:
    """Open WebUI's listener retries 1, 2, 4 ... up to 60 s apart: deafness right after Redis was unreachable for
    over a minute does not count for a minute, so a whole fleet is not called unhealthy while it reconnects."""
    state = tmp_path / "state.json"
    env = {"WEBSOCKET_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:{redis_port}/1"}
    now = time.time()
    outage = {"delivered": True, "deaf_since": now - 100, "unreachable_since": now - 70, "unreachable_at": now}
    state.write_text(json.dumps(outage))
    waiting = run_health(state, env, "--unhealthy-after", "20")
    assert waiting.returncode == 0, waiting.stdout
    assert 60 <= waited(waiting.stdout) <= 65, waiting.stdout
    state.write_text(json.dumps({**outage, "unreachable_since": now - 155, "unreachable_at": now - 85}))
    late = run_health(state, env, "--unhealthy-after", "20")
    assert late.returncode == 1, late.stdout
    assert "unhealthy: deaf for 20 s" in late.stdout


def waited(output: str) -> int:
    """The seconds the probe says the listener may still wait before it tries Redis again."""
    found = re.search(r"listener may wait (\d+) s more", output)
    assert found, output
    return int(found.group(1))


def test_health_after_a_blip_gives_the_listener_seconds_not_a_minute(redis_port: int, tmp_path: Path) -> None:
    """One check that found Redis unreachable (a freeze, a restart in 2 s): the listener tries again within seconds,
    so a replica that goes deaf 20 s later is not excused for a minute (measured on real Docker: 67 s to the
    verdict instead of 28 s when the grace was always 60 s)."""
    state = tmp_path / "state.json"
    env = {"WEBSOCKET_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:{redis_port}/1"}
    now = time.time()
    blip = {"delivered": True, "deaf_since": now - 30, "unreachable_since": now - 40, "unreachable_at": now - 40}
    state.write_text(json.dumps(blip))
    late = run_health(state, env, "--unhealthy-after", "20")
    assert late.returncode == 1, late.stdout
    assert "unhealthy: deaf for 24 s" in late.stdout
    state.write_text(json.dumps({**blip, "unreachable_since": now - 10, "unreachable_at": now - 10}))
    waiting = run_health(state, env, "--unhealthy-after", "20")
    assert waiting.returncode == 0, waiting.stdout
    assert 1 <= waited(waiting.stdout) <= 6, waiting.stdout


def test_refuse_when_the_reply_is_not_about_the_password_is_a_server_not_ready() -> None:
    """LOADING after a restart, MASTERDOWN, too many clients: unreachable for now, not a refused password."""
    for reply in (
        "LOADING Valkey is loading the dataset in memory",
        "MASTERDOWN Link with MASTER is down",
        "ERR max number of clients reached",
    ):
        with pytest.raises(probe.UnreachableError):
            probe.refuse("redis:6379", RuntimeError(reply))
    for reply in ("WRONGPASS invalid username-password pair or user is disabled.", "NOAUTH Authentication required."):
        with pytest.raises(probe.RefusedError):
            probe.refuse("redis:6379", RuntimeError(reply))


def test_health_when_the_password_is_refused_fails_even_after_a_delivery(redis_port: int, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"delivered": True}))
    result = run_health(state, {"WEBSOCKET_REDIS_URL": f"redis://:wrong@127.0.0.1:{redis_port}/1"})
    assert result.returncode == 1
    assert "refuses the password" in result.stdout
    assert "wrong" not in result.stdout


def test_health_when_redis_answers_but_the_replica_is_deaf_fails_only_after_the_bound(
    redis_port: int, tmp_path: Path
) -> None:
    """Deaf (Redis answers, the replica delivers nothing): healthy for now, unhealthy once deaf that long."""
    state = tmp_path / "state.json"
    env = {"WEBSOCKET_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:{redis_port}/1"}
    never = run_health(state, env, "--unhealthy-after", "20")
    assert never.returncode == 1, never.stdout  # a new replica must deliver once: `pulumi up` waits for that
    assert "has not delivered an event yet" in never.stdout
    state.write_text(json.dumps({"delivered": True}))
    first = run_health(state, env, "--unhealthy-after", "20")
    assert first.returncode == 0, first.stdout
    assert "deaf for 0 s of 20" in first.stdout
    since = json.loads(state.read_text())["deaf_since"]
    state.write_text(json.dumps({"delivered": True, "deaf_since": since - 25}))
    later = run_health(state, env, "--unhealthy-after", "20")
    assert later.returncode == 1, later.stdout
    assert "unhealthy: deaf for 25 s" in later.stdout


def test_health_when_the_replica_never_answers_gives_the_round_trip_its_own_share_of_the_deadline(
    redis_port: int, tmp_path: Path
) -> None:
    """With Sentinel the deadline adds the sentinels' share (8 s for three sentinels and two URLs): finding the
    master may take it, but once Redis answered the websocket round trip gets ROUND_TRIP alone, so a deaf replica's
    checks keep their rhythm (5 s apart, 2 s each) and its verdict the bound the README gives."""
    import socket

    state = tmp_path / "state.json"
    state.write_text(json.dumps({"delivered": True}))
    env = {"WEBSOCKET_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:{redis_port}/1"}
    with socket.create_server(("127.0.0.1", 0)) as silent:  # connections wait in its backlog, nothing answers
        started = time.monotonic()
        result = run_health_on(silent.getsockname()[1], state, env, "--deadline", "8", "--unhealthy-after", "20")
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout
    assert "healthy for now: deaf for 0 s of 20" in result.stdout
    assert probe.ROUND_TRIP <= elapsed < 8 - 2, f"the deaf check took {elapsed:.1f} s"


def test_publish_when_the_sid_begins_with_a_dash_takes_it_after_the_end_of_options(redis_port: int) -> None:
    """socket.io sids are base64url and may begin with "-": verify passes them after `--` (found by the live
    tier on Swarm)."""
    argv = [sys.executable, str(PROBE_FILE), "publish", "--", "-Ab3_sid", "nonce"]
    env = {"PATH": os.environ["PATH"], "WEBSOCKET_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:{redis_port}/1"}
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "receivers 0", result.stdout + result.stderr


def test_health_reads_the_url_from_a_swarm_secret_file_when_the_environment_lacks_it(
    redis_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "WEBSOCKET_REDIS_URL").write_text(f"redis://:{PASSWORD}@127.0.0.1:{redis_port}/1")
    monkeypatch.delenv("WEBSOCKET_REDIS_URL", raising=False)
    monkeypatch.setattr(probe, "SECRETS_DIR", str(secrets))
    assert probe._redis_urls() == [f"redis://:{PASSWORD}@127.0.0.1:{redis_port}/1"]
