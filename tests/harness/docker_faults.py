"""The faults tier on real Docker: the stack's two replicas and Valkey as containers (``DockerFaults``), shared by the
managed-Valkey and external-Redis cases.
"""

from __future__ import annotations

import time

from tests.harness.docker_stack import Running
from tests.harness.faults import (
    RECOVERY_BOUND,
    FaultsReport,
    HealthWatch,
    ReplicaEvents,
    established,
    silenced,
    wait_recovery,
)
from tests.harness.replicas_support import api
from tests.harness.waiting import wait_until

USER = {"name": "Faults", "email": "faults@example.com", "password": "faults-correct-horse-battery"}


class DockerFaults(ReplicaEvents):
    """The stack's containers: replicas by their addresses on the stack's network, Valkey's key through
    valkey-cli in its container."""

    WHERE = "real Docker"
    BASELINE = 30.0

    def __init__(self, running: Running, report: FaultsReport) -> None:
        self.running = running
        self.network = running.config["network"]["name"]
        self.replicas = [f"{running.run}-open-webui-1", f"{running.run}-open-webui-2"]
        self.valkey = f"{running.run}-valkey"
        token = str(api(self.url(0), "POST", "/api/v1/auths/signup", USER)["token"])
        super().__init__(token, f"http://127.0.0.1:{running.port}", USER, report)

    def url(self, index: int) -> str:
        """Replica ``index``'s address on the stack's network (this host reaches a bridge network directly)."""
        address = self.running.inspect(self.replicas[index])["NetworkSettings"]["Networks"][self.network]["IPAddress"]
        return f"http://{address}:8080"

    def pid(self, name: str) -> int:
        return int(self.running.inspect(name)["State"]["Pid"])

    def set_kept(self, key: str) -> None:
        self.running.valkey_cli("-n", "1", "SET", key, "kept")

    def kept(self, key: str) -> str | None:
        return self.running.valkey_cli("-n", "1", "GET", key) or None

    def health(self, name: str) -> str | None:
        """Docker's verdict on container ``name`` (None: no such container, or no verdict)."""
        info = self.running.applier.client.inspect_container(name)
        return None if info is None else info["State"].get("Health", {}).get("Status")

    def wait_health(self, name: str, status: str, timeout: float) -> float | None:
        """Seconds until Docker calls container ``name`` ``status`` (None: not within ``timeout``)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.health(name) == status:
                return time.monotonic() - started
            time.sleep(0.2)
        return None

    def checks(self, name: str) -> list[str]:
        """What the last healthchecks of container ``name`` printed (Docker keeps five), oldest first."""
        info = self.running.applier.client.inspect_container(name) or {}
        return [entry["Output"].strip() for entry in info.get("State", {}).get("Health", {}).get("Log") or []]

    def wait_delivered(self, name: str, timeout: float = 30) -> None:
        """Until the last healthcheck of ``name`` delivered its event: the replica starts the next fault settled,
        with no earlier outage left in its probe's memory."""

        def delivered() -> bool:
            last = self.checks(name)[-1:]
            return bool(last) and last[0].startswith("healthy: an event")

        if wait_until(delivered, timeout, interval=0.5):
            return
        raise AssertionError(f"{name}'s healthcheck has not delivered an event in {timeout:g} s: {self.checks(name)}")

    def silent(self, server_port: int, server_pid: int | None, *, connections: str, server: str) -> None:
        """The silent case: replica 2's ``connections`` connections to ``server`` (on ``server_port``; its process
        ``server_pid``, None when it runs in this network namespace) stop answering (no FIN, no RST; new connections
        work). The kernel ends them, the replica is never reported unhealthy, and events flow again within the
        bound, measured from when the silence began."""
        self.before("silent")
        b_pid = self.pid(self.replicas[1])
        ports = established(server_port, pid=b_pid)
        assert len(ports) >= 3, f"replica 2's connections to {server}: {ports}"
        with (
            HealthWatch(lambda: self.health(self.replicas[1])) as watch,
            silenced(server_port, ports, client_pid=b_pid, server_pid=server_pid),
        ):
            recovery = wait_recovery(
                f"replica 2's {connections} connections silent",
                time.monotonic(),
                self.raise_and_wait,
                60,
                since="the silence began",
            )
        assert recovery.attempts > 1, "the first event after the silence began still arrived: nothing went silent"
        assert watch.seen, "replica 2's health was never read"
        assert watch.problems() == [], "replica 2 was reported unhealthy while it healed by itself"
        self.after("silent", recovery, RECOVERY_BOUND)

    def wait_valkey_healthy(self, restarts: int, timeout: float = 60) -> float:
        """Seconds until Valkey has been started again (its restart count above ``restarts``, or running again
        after a stop) and is healthy."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            info = self.running.inspect(self.valkey)
            state = info["State"]
            if (
                (info["RestartCount"] > restarts or restarts < 0)
                and state.get("Running")
                and state.get("Health", {}).get("Status") == "healthy"
            ):
                return time.monotonic() - started
            time.sleep(0.1)
        raise AssertionError("Valkey is not healthy again")
