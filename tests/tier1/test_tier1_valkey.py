"""Tier 1: the Valkey the program declares, run for real on loopback.

The command line, the uploaded auth file, the healthcheck and Open WebUI's Redis URLs come from
``render`` and run unchanged, except container paths (temporary directories) and host names (127.0.0.1).
The persistence tests state each setting's data-loss window; the README quotes them.
"""

from __future__ import annotations

import resource
import string
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.core.valkey import PASSWORD_SPECIALS
from components.testing import StackMocks, render
from tests.harness.loopback import free_port, localize_valkey, valkey_cli
from tests.harness.valkey import NO_RETRY, RenderedValkey, StartValkey
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.tier1

VALKEY_PASSWORD_RESOURCE = "open-webui-valkey-password"
GENERATED_ALPHABET = string.ascii_letters + string.digits + PASSWORD_SPECIALS
PRINTABLE_ASCII = "".join(chr(code) for code in range(0x20, 0x7F))  # space to '~'
PASSWORD_EXAMPLES = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def config_get(server: RenderedValkey, *names: str) -> dict[str, str]:
    """``CONFIG GET`` of each name, as the server reports it."""
    client = server.client(decode_responses=True)
    reported: dict[str, str] = {}
    for name in names:
        reported.update({str(key): str(value) for key, value in client.config_get(name).items()})
    return reported


def assert_urls_work(server: RenderedValkey, database: int) -> None:
    """Both rendered URLs authenticate, select ``database`` and answer."""
    for url in (server.redis_url, server.websocket_redis_url):
        client = server.url_client(url)
        assert client.ping() is True
        assert client.client_info()["db"] == database


# ---------------------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------------------


def test_server_when_defaults_reports_the_documented_settings(valkey: StartValkey) -> None:
    """With no configuration, Valkey runs with the docs' save, maxclients, timeout, no AOF, noeviction."""
    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 10_000 + 32:
        pytest.skip("the open-files hard limit is below 10032: Valkey would lower maxclients 10000 itself")
    server = valkey()
    assert config_get(server, "save", "maxclients", "timeout", "appendonly", "maxmemory-policy", "maxmemory") == {
        "save": "30 1",
        "maxclients": "10000",
        "timeout": "1800",
        "appendonly": "no",
        "maxmemory-policy": "noeviction",
        "maxmemory": "0",
    }
    assert config_get(server, "dir") == {"dir": str(server.data_dir)}  # /data: the volume


def test_server_when_settings_changed_reports_them(valkey: StartValkey) -> None:
    """Non-default save, maxClients, timeout, AOF, fsync and memory settings reach the server."""
    server = valkey(
        {
            "valkey": {
                "save": "60 10 300 100",
                "maxClients": 500,
                "timeout": 0,
                "appendOnly": True,
                "appendFsync": "always",
                "maxMemory": "64mb",
                "maxMemoryPolicy": "volatile-lru",
            }
        }
    )
    names = ("save", "maxclients", "timeout", "appendonly", "appendfsync", "maxmemory", "maxmemory-policy")
    assert config_get(server, *names) == {
        "save": "60 10 300 100",
        "maxclients": "500",
        "timeout": "0",
        "appendonly": "yes",
        "appendfsync": "always",
        "maxmemory": str(64 * 1024 * 1024),
        "maxmemory-policy": "volatile-lru",
    }


def test_server_when_save_empty_takes_no_snapshots(valkey: StartValkey) -> None:
    """``save: ""`` turns RDB snapshots off."""
    server = valkey({"valkey": {"save": ""}})
    assert config_get(server, "save") == {"save": ""}


# ---------------------------------------------------------------------------------------------------------
# The healthcheck
# ---------------------------------------------------------------------------------------------------------


def test_healthcheck_when_server_up_passes(valkey: StartValkey) -> None:
    """The rendered CMD-SHELL healthcheck, run by sh with the container's env, exits 0."""
    server = valkey()
    result = server.local.run_healthcheck()
    assert result.returncode == 0, result.stderr


def test_healthcheck_when_server_stopped_fails(valkey: StartValkey) -> None:
    """With Valkey down the healthcheck exits non-zero (Docker marks the container unhealthy)."""
    server = valkey()
    server.stop()
    assert server.local.run_healthcheck().returncode != 0


def test_healthcheck_when_rediscli_auth_wrong_fails(valkey: StartValkey) -> None:
    """A wrong REDISCLI_AUTH makes PING answer NOAUTH, so the healthcheck fails."""
    server = valkey()
    result = server.local.run_healthcheck({"REDISCLI_AUTH": "not-the-password"})
    assert result.returncode != 0
    assert "WRONGPASS" in result.stderr


# ---------------------------------------------------------------------------------------------------------
# Open WebUI's Redis URLs and authentication
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("database", [1, 7])
def test_redis_urls_when_rendered_authenticate_and_use_the_configured_database(
    valkey: StartValkey, database: int
) -> None:
    """REDIS_URL and WEBSOCKET_REDIS_URL log in and select valkey.database; their keys stay in it."""
    server = valkey({"valkey": {"database": database}})
    assert_urls_work(server, database)
    for url in (server.redis_url, server.websocket_redis_url):
        server.url_client(url).set(f"written-via:{url.rsplit('/', 1)[1]}", "yes")
    assert server.client(database).keys("written-via:*") == [f"written-via:{database}".encode()]
    assert list(server.client().info("keyspace")) == [f"db{database}"]  # no other database has a key


def test_client_when_password_missing_is_refused(valkey: StartValkey) -> None:
    """A client without the password cannot run commands (redis-py raises AuthenticationError)."""
    server = valkey()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=server.port, retry=NO_RETRY).ping()


def test_client_when_password_wrong_is_refused(valkey: StartValkey) -> None:
    """A client with a wrong password is refused (redis-py raises AuthenticationError)."""
    server = valkey()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=server.port, password="wrong", retry=NO_RETRY).ping()


def test_valkey_cli_when_password_missing_gets_noauth(valkey: StartValkey, tmp_path) -> None:
    """valkey-cli without REDISCLI_AUTH gets NOAUTH instead of PONG."""
    server = valkey()
    assert valkey_cli(server.port, None, tmp_path)(["PING"]).stdout.strip() == "NOAUTH Authentication required."


def test_redis_urls_when_auth_off_carry_no_credentials_and_work(valkey: StartValkey) -> None:
    """With ``auth: false`` the URLs have no user or password, and work against the open server."""
    server = valkey({"valkey": {"auth": False}})
    for url in (server.redis_url, server.websocket_redis_url):
        parts = urlsplit(url)
        assert (parts.username, parts.password) == (None, None)
    assert_urls_work(server, 1)
    assert server.local.run_healthcheck().returncode == 0


def test_valkey_container_when_auth_off_has_no_password_env_or_upload(valkey: StartValkey) -> None:
    """With ``auth: false`` the container has no REDISCLI_AUTH, no uploaded auth file, no config file arg."""
    server = valkey({"valkey": {"auth": False}})
    container = server.deployment.container("redis-valkey")
    assert "REDISCLI_AUTH" not in container.env
    assert container.uploads == {}
    assert not any(argument.endswith(".conf") for argument in server.local.argv)


# ---------------------------------------------------------------------------------------------------------
# Persistence: what survives `docker stop` (SIGTERM) and a crash (SIGKILL)
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("append_only", [False, True], ids=["rdb", "aof"])
def test_keys_when_stopped_with_sigterm_survive_restart(valkey: StartValkey, append_only: bool) -> None:
    """Keys written before ``docker stop`` (SIGTERM) are there after a restart on the same data dir."""
    server = valkey({"valkey": {"appendOnly": append_only}})
    server.url_client(server.redis_url).set("open-webui:kept", "1")
    assert server.stop() == 0
    server.start()
    assert server.url_client(server.redis_url).get("open-webui:kept") == b"1"


@pytest.mark.parametrize("fsync", ["everysec", "always"])
def test_keys_when_killed_with_aof_on_survive_restart(valkey: StartValkey, fsync: str) -> None:
    """With ``appendOnly: true``, acknowledged writes survive SIGKILL of the process (not a host crash)."""
    server = valkey({"valkey": {"appendOnly": True, "appendFsync": fsync}})
    server.url_client(server.redis_url).set("open-webui:kept", "1")
    server.kill()
    server.start()
    assert server.url_client(server.redis_url).get("open-webui:kept") == b"1"


def test_keys_when_killed_before_first_snapshot_without_aof_are_lost(valkey: StartValkey) -> None:
    """Defaults (RDB ``save 30 1``, no AOF): a SIGKILL loses every write since the last snapshot."""
    server = valkey()
    server.url_client(server.redis_url).set("open-webui:unsaved", "1")
    server.kill()
    server.start()
    assert server.url_client(server.redis_url).get("open-webui:unsaved") is None


def test_keys_when_killed_after_a_snapshot_without_aof_keep_only_the_snapshot(valkey: StartValkey) -> None:
    """RDB only: after SIGKILL, keys from the last scheduled snapshot are back, later keys are lost."""
    server = valkey({"valkey": {"save": "1 1"}})
    client = server.url_client(server.redis_url)
    client.set("open-webui:snapshotted", "1")
    assert wait_until(lambda: server.client().info("persistence")["rdb_changes_since_last_save"] == 0)
    client.set("open-webui:after-snapshot", "1")
    server.kill()
    server.start()
    client = server.url_client(server.redis_url)
    assert client.get("open-webui:snapshotted") == b"1"
    assert client.get("open-webui:after-snapshot") is None


def test_keys_when_snapshots_and_aof_off_are_lost_on_sigterm(valkey: StartValkey) -> None:
    """``save: ""`` without AOF keeps nothing: even ``docker stop`` (SIGTERM) loses every key."""
    server = valkey({"valkey": {"save": ""}})
    server.url_client(server.redis_url).set("open-webui:gone", "1")
    assert server.stop() == 0
    server.start()
    assert server.url_client(server.redis_url).get("open-webui:gone") is None


def _rendered_on(workdir: Path, port: int, config: dict[str, Any]) -> RenderedValkey:
    """The Valkey that ``config`` renders, on the data directory in ``workdir`` (a container replaced on its volume)."""
    valkey = {"port": port, "password": "kept-across-replacement"}
    deployment = render({**config, "valkey": valkey}, secret_keys=["valkey"])
    container = deployment.container(deployment.outputs["valkeyContainerName"])
    server = RenderedValkey(localize_valkey(container, workdir, port=port), deployment)
    server.start()
    return server


@pytest.mark.parametrize("prepared", [False, True], ids=["as-is", "config-set-first"])
def test_keys_when_a_stack_moves_to_replicas_and_aof_survive_only_if_aof_was_turned_on_first(
    tmp_path: Path, prepared: bool
) -> None:
    """A single-container stack (RDB) that moves to replicas gets Valkey with AOF on. Valkey started with AOF
    on and no AOF file starts empty, ignoring its ``dump.rdb``; ``CONFIG SET appendonly yes`` on the old server
    first writes the AOF from its data, and the new server loads it (README, Upgrades)."""
    port = free_port()
    old = _rendered_on(tmp_path, port, {})
    try:
        assert config_get(old, "appendonly") == {"appendonly": "no"}
        old.url_client(old.redis_url).set("open-webui:kept", "1")
        if prepared:
            client = old.client()
            client.config_set("appendonly", "yes")
            assert wait_until(lambda: client.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=10)
        assert old.stop() == 0
    finally:
        old.kill()
    new = _rendered_on(tmp_path, port, {"openWebui": {"replicas": 2}})
    try:
        assert config_get(new, "appendonly") == {"appendonly": "yes"}
        kept = new.url_client(new.redis_url).get("open-webui:kept")
        assert kept == (b"1" if prepared else None)
    finally:
        new.kill()


# ---------------------------------------------------------------------------------------------------------
# Passwords with every printable ASCII character
# ---------------------------------------------------------------------------------------------------------


def assert_password_works_end_to_end(server: RenderedValkey, password: str) -> None:
    assert server.password == password
    result = server.local.run_healthcheck()
    assert result.returncode == 0, result.stderr
    assert_urls_work(server, 1)


@PASSWORD_EXAMPLES
@given(password=st.text(alphabet=GENERATED_ALPHABET, min_size=1, max_size=48))
@example(password=PASSWORD_SPECIALS)
def test_generated_password_when_any_allowed_character_works_end_to_end(valkey: StartValkey, password: str) -> None:
    """A generated password (letters, digits, every ASCII punctuation) passes the healthcheck and both URLs."""
    with valkey(mocks=StackMocks(passwords={VALKEY_PASSWORD_RESOURCE: password})) as server:
        assert_password_works_end_to_end(server, password)


@PASSWORD_EXAMPLES
@given(password=st.text(alphabet=PRINTABLE_ASCII, min_size=1, max_size=48))
@example(password=PRINTABLE_ASCII)
@example(password=" ")
def test_supplied_password_when_any_printable_ascii_works_end_to_end(valkey: StartValkey, password: str) -> None:
    """A ``valkey.password`` secret of any printable ASCII (space included) works end to end."""
    with valkey({"valkey": {"password": password}}, secret_keys=["valkey"]) as server:
        assert_password_works_end_to_end(server, password)
