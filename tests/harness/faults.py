"""What the faults tier shares: how long until an event raised through replica 1 reaches a client on replica 2
again, and how to make a real connection go silent (packets dropped, no FIN, no RST).

``tests/faults/test_faults.py`` runs each fault on the real Open WebUI (Tier 2, loopback), on real Docker (two replicas
behind the load balancer) and one on a real swarm; the seconds to recovery go to the terminal summary.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from tests.harness.open_webui_process import FiguresReport
from tests.harness.replicas import is_channel_created
from tests.harness.replicas_support import EventClient, api

RECOVERY_BOUND = 30.0
"""The goal: events flow again within 30 s of a fault ending (or of a connection going silent)."""
BACKOFF_BOUND = 65.0
"""After a Valkey outage longer than about 30 s, Open WebUI's websocket listener retries on its own backoff (1, 2,
4 ... 60 s: python-socketio's ``_redis_listen_with_retries`` and Open WebUI 0.12's copy of it), so events may take
up to a minute after Valkey answers (README, Faults)."""


FROZEN = 10.0
"""Seconds a server is stopped (SIGSTOP) in the frozen case of every faults tier."""
LONG_OUTAGE = 70.0
"""Longer than a minute: Open WebUI's listener backs off to its longest wait (60 s) by then."""


def freeze(pid: int, seconds: float) -> None:
    """Stop process ``pid`` (SIGSTOP: its connections stay open and nothing answers on them) for ``seconds``, then
    resume it (SIGCONT), whatever happens meanwhile."""
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)


class FaultsReport(FiguresReport):
    NAME = "open-webui-faults-report"
    TITLE = "Faults: seconds until an event raised on replica 1 reaches a client on replica 2 again"


@dataclass
class Recovery:
    fault: str
    seconds: float | None
    """From the end of the fault to the raise of the first event that reached the client; None: never."""
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    since: str = "the fault ended"

    def line(self, where: str) -> str:
        if self.seconds is None:
            return f"{where}: {self.fault}: no event reached the client ({self.attempts} raised; {self.errors[-2:]})"
        return f"{where}: {self.fault}: events reach the client again {self.seconds:.1f} s after {self.since}"


def wait_recovery(
    fault: str,
    fault_end: float,
    raise_and_wait: Callable[[float], bool],
    timeout: float,
    every: float = 1.0,
    since: str = "the fault ended",
) -> Recovery:
    """Raise an event on replica 1 again and again (``raise_and_wait(wait)``: True once the client on replica 2
    got it within ``wait`` seconds) until one arrives or ``timeout`` passes; ``fault_end`` is ``time.monotonic()``
    when the fault ended (or began, for a silence that ends by itself: ``since`` says which)."""
    recovery = Recovery(fault, None, since=since)
    deadline = fault_end + timeout
    while time.monotonic() < deadline:
        sent = time.monotonic()
        recovery.attempts += 1
        try:
            if raise_and_wait(every):
                recovery.seconds = max(0.0, sent - fault_end)
                return recovery
        except Exception as error:  # a replica answering 500 while Redis is away: try again
            recovery.errors.append(f"{type(error).__name__}: {str(error)[:200]}")
        time.sleep(max(0.0, every - (time.monotonic() - sent)))
    return recovery


KEPT = "faults:kept"
"""A key written to Valkey (database 1) before each fault: the loss table keeps it through each of them."""


class ReplicaEvents:
    """A deployment's two replicas as the faults tier uses them: events raised through replica 1 (a REST call that
    emits ``channel:created`` to the user's room), a socket.io client on replica 2 that is reopened when it drops,
    and what the loss table keeps. Each tier says where the replicas and Valkey are."""

    WHERE: ClassVar[str]
    BASELINE: ClassVar[float] = 15.0
    """Seconds for events to flow before a fault (they do at once)."""

    def __init__(self, token: str, origin: str, user: Mapping[str, str], report: FaultsReport) -> None:
        self.token = token
        self.origin = origin
        self.user = user
        self.report = report
        self.client: EventClient | None = None

    def url(self, index: int) -> str:
        """Replica ``index`` (0 or 1)'s base URL."""
        raise NotImplementedError

    def set_kept(self, key: str) -> None:
        raise NotImplementedError

    def kept(self, key: str) -> str | None:
        raise NotImplementedError

    def client_on_b(self) -> EventClient:
        if self.client is None or not self.client.client.connected:
            if self.client is not None:
                self.client.close()
            self.client = EventClient(self.url(1), self.token, "on B", self.origin)
        return self.client

    def raise_and_wait(self, wait: float) -> bool:
        """channel:created raised through replica 1; whether the client on replica 2 got it within ``wait``."""
        client = self.client_on_b()
        sent = time.monotonic()
        form = {"name": f"faults-{uuid.uuid4().hex[:8]}", "type": "group", "user_ids": []}
        api(self.url(0), "POST", "/api/v1/channels/create", form, self.token)
        remaining = max(0.1, sent + wait - time.monotonic())
        return client.wait_for(lambda event: event.at >= sent and is_channel_created(event.data), remaining) is not None

    def before(self, fault: str) -> None:
        """Events flow now, and the key the loss table keeps is written."""
        baseline = wait_recovery(f"{fault} (before)", time.monotonic(), self.raise_and_wait, timeout=self.BASELINE)
        assert baseline.seconds is not None, baseline.line(self.WHERE)
        self.set_kept(f"{KEPT}:{fault}")

    def after(self, fault: str, recovery: Recovery, bound: float) -> None:
        """The figure printed; events flowed again within ``bound``; the key and the account are still there."""
        self.report.add(recovery.line(self.WHERE))
        assert recovery.seconds is not None, recovery.line(self.WHERE)
        assert recovery.seconds <= bound, recovery.line(self.WHERE)
        assert self.kept(f"{KEPT}:{fault}") == "kept", "a key written before the fault is gone"
        credentials = {key: self.user[key] for key in ("email", "password")}
        assert api(self.url(1), "POST", "/api/v1/auths/signin", credentials)["email"] == self.user["email"]

    def frozen(self, pid: Callable[[], int], server: str) -> None:
        """The frozen case of every tier: ``server`` (process ``pid()``) stopped for ``FROZEN`` seconds and resumed;
        events flow again within ``RECOVERY_BOUND`` of the resume."""
        self.before("frozen")
        freeze(pid(), FROZEN)
        recovery = wait_recovery(f"{server} frozen 10 s (SIGSTOP), resumed", time.monotonic(), self.raise_and_wait, 60)
        self.after("frozen", recovery, RECOVERY_BOUND)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


# ---------------------------------------------------------------------------------------------------------
# Silent connections: packets dropped where they arrive, in each end's network namespace
# ---------------------------------------------------------------------------------------------------------


def _netns(pid: int | None) -> list[str]:
    return ["nsenter", "-t", str(pid), "-n"] if pid is not None else []


class Namespace:
    """The network namespace of ``pid`` (this one when None), held open by a file descriptor: a rule removed or a
    setting restored later goes to the namespace it was made in, even once the container is gone and its PID taken
    by another process (the namespace itself lives on until the descriptor closes)."""

    def __init__(self, pid: int | None) -> None:
        self.fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY) if pid is not None else None

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["nsenter", f"--net=/proc/{os.getpid()}/fd/{self.fd}"] if self.fd is not None else []
        return subprocess.run([*prefix, *argv], capture_output=True, text=True, check=check)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@dataclass(frozen=True)
class Connection:
    """One end of an established TCP connection: the client's address and port."""

    address: str
    port: int


def established(server_port: int, *, pid: int | None = None, owner: int | None = None) -> list[Connection]:
    """The client ends of the established connections to ``server_port`` in the network namespace of ``pid`` (this
    one when None), only those of process ``owner`` when given."""
    argv = [*_netns(pid), "ss", "-tnpH", "state", "established", f"( dport = :{server_port} )"]
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    connections = []
    for line in output.splitlines():
        fields = line.split()
        if len(fields) < 3 or (owner is not None and f"pid={owner}," not in line):
            continue
        address, _, port = fields[2].rpartition(":")
        connections.append(Connection(address.strip("[]"), int(port)))
    return connections


@contextlib.contextmanager
def silenced(
    server_port: int,
    connections: list[Connection],
    *,
    client_pid: int | None = None,
    server_pid: int | None = None,
) -> Iterator[None]:
    """Drop every packet of these connections where it arrives (the client's namespace for the server's packets,
    the server's for the client's, matched by the client's address and port): both ends send, nothing arrives,
    nobody sends a FIN or a RST. New connections (new ports) are untouched. The rules go when the block ends."""
    client, server = Namespace(client_pid), Namespace(server_pid)
    rules = []
    for connection in connections:
        port = str(connection.port)
        rules.append((client, ["-p", "tcp", "--sport", str(server_port), "--dport", port]))
        rules.append((server, ["-p", "tcp", "-s", connection.address, "--sport", port, "--dport", str(server_port)]))
    added = []
    try:
        for namespace, match in rules:
            namespace.run("iptables", "-I", "INPUT", *match, "-j", "DROP")
            added.append((namespace, match))
        yield
    finally:
        for namespace, match in added:
            namespace.run("iptables", "-D", "INPUT", *match, "-j", "DROP", check=False)
        client.close()
        server.close()


KERNEL_TIMERS = {
    "net.ipv4.tcp_keepalive_time": "7200",
    "net.ipv4.tcp_keepalive_intvl": "75",
    "net.ipv4.tcp_keepalive_probes": "9",
    "net.ipv4.tcp_retries2": "15",
}
"""Linux's own defaults: a silent connection stays open two hours while idle, about 15 minutes with data in flight."""


@contextlib.contextmanager
def kernel_timers(pid: int) -> Iterator[None]:
    """Put Linux's default TCP timers back in the network namespace of ``pid`` (a container started with the
    rendered ``sysctls``), so that a silent connection there is not ended by the kernel for minutes: a listener
    deaf for good while Redis answers, as Open WebUI's issues describe. The kernel reads these per connection
    as it goes, so they apply to the connections already open. The rendered values come back when the block ends
    (into the same namespace, even if the container is gone by then)."""
    namespace = Namespace(pid)
    keys = list(KERNEL_TIMERS)
    try:
        rendered = dict(zip(keys, namespace.run("sysctl", "-n", *keys).stdout.split(), strict=True))
        try:
            namespace.run("sysctl", "-q", "-w", *(f"{k}={v}" for k, v in KERNEL_TIMERS.items()))
            yield
        finally:
            namespace.run("sysctl", "-q", "-w", *(f"{k}={v}" for k, v in rendered.items()), check=False)
    finally:
        namespace.close()


class HealthWatch:
    """Every status ``status()`` returns, polled twice a second in a thread while the block runs: a replica called
    unhealthy even for one check while it healed by itself is seen, not only its status at the end."""

    def __init__(self, status: Callable[[], str | None]) -> None:
        self.status = status
        self.seen: list[str | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            self.seen.append(self.status())

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def problems(self) -> list[str | None]:
        return [status for status in self.seen if status != "healthy"]
