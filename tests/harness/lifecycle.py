"""A client's view and the daemon's record of a replica lifecycle, for the real-Docker tier and the live test.

``Poller`` asks ``/health`` through the published port every 100 ms; ``Event`` is one container event as the
daemon reports it; the ``assert_*`` functions state the order each ``openWebui.upgrade`` strategy promises, in
the daemon's own timestamps.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from tests.harness.docker_applier import EngineClient


class Poller:
    """A client asking ``/health`` on the published port every 0.1 s from a thread (``limit`` seconds at most):
    how many answers were 200 and how many failed, and when the first 200 came."""

    def __init__(self, url: str, limit: float = 600.0) -> None:
        self.url, self.limit = url, limit
        self.ok = self.failed = 0
        self.first_ok: float | None = None
        self.samples: list[tuple[float, bool]] = []
        """(``time.monotonic()``, answered 200) of every request."""
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.limit
        while not self._stop.is_set() and time.monotonic() < deadline:
            asked = time.monotonic()
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:  # noqa: S310 - loopback
                    good = answer.status == 200
            except Exception as error:  # any failure a client sees counts (an HTTPException too)
                good = False
                self.errors.append(f"{time.monotonic() - asked:.2f} s: {error!r}")
            self.ok += good
            self.failed += not good
            self.samples.append((asked, good))
            if good and self.first_ok is None:
                self.first_ok = time.monotonic()
            time.sleep(0.1)

    def covered(self, until: float) -> bool:
        """Whether the client kept asking, and got answers, up to ``until`` (``time.monotonic()``): a stopped
        client would hide failures."""
        return self.ok > 0 and bool(self.samples) and self.samples[-1][0] >= until - 1.0

    def longest_outage(self) -> float:
        """Seconds from the last answer before the longest run of failures to the first answer after it."""
        longest, last_good, failing = 0.0, None, False
        for asked, good in self.samples:
            if good:
                if failing and last_good is not None:
                    longest = max(longest, asked - last_good)
                last_good, failing = asked, False
            else:
                failing = True
        return longest

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass(frozen=True)
class Event:
    """One container event as the daemon reports it (``GET /events``)."""

    time: float
    """Seconds since the epoch (the daemon's ``timeNano``)."""
    action: str
    """``create``, ``start``, ``die``, ``destroy``, ``health_status: healthy``, ..."""
    name: str
    id: str

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Event:
        """From one message of the Engine API's ``/events`` (``docker events --format '{{json .}}'``)."""
        actor = message["Actor"]
        return cls(message["timeNano"] / 1e9, message["Action"], actor["Attributes"].get("name", ""), actor["ID"])


def record(lines: Iterable[str | bytes], prefix: str, into: list[Event]) -> None:
    """Append the events of containers named ``prefix…`` among ``lines`` (one JSON message each, as the Engine
    API's ``/events`` and ``docker events --format '{{json .}}'`` stream them) to ``into``."""
    for line in lines:
        if line.strip():
            event = Event.from_message(json.loads(line))
            if event.name.startswith(prefix):
                into.append(event)


def post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` as JSON (Open WebUI's sign-up and sign-in) and return the JSON answer."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
        result: dict[str, Any] = json.loads(answer.read())
        return result


def first(events: list[Event], action: str, container_id: str) -> float:
    """When the container ``container_id`` first did ``action``."""
    found = [e.time for e in events if e.action == action and e.id == container_id]
    assert found, f"no {action!r} event for {container_id[:12]}"
    return found[0]


def assert_two_waves(events: list[Event], ids: dict[str, str], replicas: list[str], load_balancer: str) -> None:
    """Replica 1 healthy before the others start; those all started before any of them is healthy (together,
    not one after another); the load balancer started once every replica is healthy."""
    start = {name: first(events, "start", ids[name]) for name in [*replicas, load_balancer]}
    healthy = {name: first(events, "health_status: healthy", ids[name]) for name in replicas}
    one, *rest = replicas
    assert healthy[one] <= min(start[name] for name in rest)
    assert max(start[name] for name in rest) < min(healthy[name] for name in rest)
    assert max(healthy.values()) <= start[load_balancer]


def assert_recreated(events: list[Event], before: dict[str, str], after: dict[str, str], replicas: list[str]) -> None:
    """``recreate``: every old replica died before the new replica 1 started; the others started (together)
    once it was healthy."""
    one, *rest = replicas
    assert max(first(events, "die", before[name]) for name in replicas) < first(events, "start", after[one])
    one_healthy = first(events, "health_status: healthy", after[one])
    assert all(one_healthy <= first(events, "start", after[name]) for name in rest)
    assert max(first(events, "start", after[name]) for name in rest) < min(
        first(events, "health_status: healthy", after[name]) for name in rest
    )


def assert_rolled(events: list[Event], before: dict[str, str], after: dict[str, str], replicas: list[str]) -> None:
    """``rolling``: each old replica died before its new one started, and each new one was healthy before the
    next old one died."""
    for name in replicas:
        assert first(events, "die", before[name]) < first(events, "start", after[name])
    for name, following in itertools.pairwise(replicas):
        assert first(events, "health_status: healthy", after[name]) <= first(events, "die", before[following])


class EventRecorder:
    """The daemon's own record of what happens to this run's containers, streamed while the block runs.

    Streamed, not asked for afterwards with ``since``: the daemon keeps only its last 256 events, and every
    healthcheck probe adds three (``exec_create``, ``exec_start``, ``exec_die``), so a minute of a stack's
    healthchecks pushes the starts out."""

    FILTERS = json.dumps({"type": ["container"], "event": ["create", "start", "die", "destroy", "health_status"]})

    def __init__(self, engine: EngineClient, prefix: str) -> None:
        self.prefix = prefix
        self.events: list[Event] = []
        self._connection = engine._connection()
        self._connection.timeout = None
        self._connection.request("GET", f"/v{engine.version}/events?{urlencode({'filters': self.FILTERS})}")
        self._response = self._connection.getresponse()
        assert self._response.status == 200, self._response.read(300)
        self._thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        with contextlib.suppress(OSError, ValueError, http.client.HTTPException):
            record(iter(self._response.readline, b""), self.prefix, self.events)

    def __enter__(self) -> EventRecorder:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(0.5)  # the last events are on their way
        sock = self._connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        self._connection.close()
