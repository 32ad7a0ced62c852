"""A user of a Swarm stack, run inside a container on the stack's overlay network (the tasks' addresses are not
reachable from the host): ``docker run --network <overlay> <open-webui image> python3 /probe.py <mode> <json>``.

Only the standard library and python-socketio (the Open WebUI image has both). Prints one JSON line.

- ``events``: sign up (or in), connect a socket.io client to each of ``clients`` (base URLs: task addresses),
  create a channel through ``raise`` and report, per client, whether and how fast ``channel:created`` arrived.
- ``recover``: connect a client to each of ``clients`` (task B's first), then from ``start`` (a wall-clock time,
  default ``since``) create a channel through ``raise`` every second until the first client gets the event;
  report the seconds from ``since`` (when the fault began or ended) to the raise that reached it.
- ``survive``: connect ``count`` clients through ``raise`` (the load balancer) with reconnection on, print
  ``READY``; wait until a client was disconnected and every client is connected again (a node went down and the
  clients found the tasks that are left), then create a channel and report who got the event, with the times.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import socketio

SOCKET_PATH = "/ws/socket.io"
EVENT = "events:channel"


def api(base: str, method: str, path: str, payload: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, headers=headers, method=method)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the overlay network
        return json.load(response)


def account(base: str, user: dict[str, str]) -> str:
    """A token: sign up the first time, sign in after."""
    try:
        return str(api(base, "POST", "/api/v1/auths/signup", user)["token"])
    except urllib.error.HTTPError:
        return str(
            api(base, "POST", "/api/v1/auths/signin", {"email": user["email"], "password": user["password"]})["token"]
        )


class Client:
    def __init__(self, label: str, base: str, token: str, origin: str, reconnect: bool) -> None:
        self.label = label
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.connects: list[float] = []
        self.disconnects: list[float] = []
        self.lock = threading.Condition()
        self.sio = socketio.Client(
            reconnection=reconnect,
            reconnection_delay=0.5,
            reconnection_delay_max=2,
            websocket_extra_options={"origin": origin},
        )
        self.sio.on(EVENT, self._event)
        self.sio.on("connect", lambda: self._mark(self.connects))
        self.sio.on("disconnect", lambda *_: self._mark(self.disconnects))
        self.sio.connect(
            base, socketio_path=SOCKET_PATH, transports=["websocket"], auth={"token": token}, wait_timeout=20
        )

    def _mark(self, times: list[float]) -> None:
        with self.lock:
            times.append(time.time())
            self.lock.notify_all()

    def _event(self, data: Any) -> None:
        with self.lock:
            self.received.append((time.time(), dict(data)))
            self.lock.notify_all()

    def wait_channel(self, since: float, timeout: float) -> float | None:
        """When ``channel:created`` (to the user's room; it names no channel) first arrived after ``since``."""
        deadline = time.time() + timeout
        with self.lock:
            while True:
                for at, data in self.received:
                    inner = data.get("data") or {}
                    if at >= since and inner.get("type") == "channel:created":
                        return at
                remaining = deadline - time.time()
                if remaining <= 0:
                    return None
                self.lock.wait(remaining)


def raise_event(base: str, token: str, clients: list[Client], timeout: float = 20) -> dict[str, Any]:
    name = f"swarm-{uuid.uuid4().hex[:8]}"
    sent = time.time()
    api(base, "POST", "/api/v1/channels/create", {"name": name, "type": "group", "user_ids": []}, token)
    received = {c.label: c.wait_channel(sent, timeout) for c in clients}
    return {
        "sent": sent,
        "latency_ms": {k: None if v is None else round((v - sent) * 1000) for k, v in received.items()},
    }


def main() -> int:
    mode, options = sys.argv[1], json.loads(sys.argv[2])
    token = account(options["raise"], options["user"])
    origin = options["origin"]
    if mode == "events":
        clients = [Client(label, base, token, origin, False) for label, base in options["clients"].items()]
        result = raise_event(options["raise"], token, clients)
    elif mode == "recover":
        # After a fault: raise on task A every second until the client on task B gets one (tests/harness/faults.py).
        clients = [Client(label, base, token, origin, True) for label, base in options["clients"].items()]
        since = float(options["since"])
        while time.time() < float(options.get("start", since)):  # the clients connected, the fault begins then
            time.sleep(0.01)
        result = {"seconds": None, "attempts": 0, "errors": []}
        while time.time() < since + options.get("timeout", 90):
            sent = time.time()
            result["attempts"] += 1
            try:
                if raise_event(options["raise"], token, clients, timeout=1)["latency_ms"][clients[0].label] is not None:
                    result["seconds"] = round(max(0.0, sent - since), 1)
                    break
            except Exception as error:  # a task answering 500 while Redis is away: again
                result["errors"] = [*result["errors"][-2:], f"{type(error).__name__}: {str(error)[:200]}"]
            time.sleep(max(0.0, 1 - (time.time() - sent)))
        result["latency_ms"] = {clients[0].label: 0 if result["seconds"] is not None else None}
    else:
        clients = [Client(f"client-{n}", options["raise"], token, origin, True) for n in range(options["count"])]
        print("READY", flush=True)
        deadline = time.time() + options.get("timeout", 240)
        while time.time() < deadline:
            dropped = [c for c in clients if c.disconnects]
            back = all(c.sio.connected for c in clients)
            if dropped and back:
                break
            time.sleep(0.2)
        time.sleep(1)  # the rooms are joined on connect; give the last one a moment
        result = raise_event(options["raise"], token, clients, timeout=30)
        result["disconnected"] = {c.label: c.disconnects for c in clients}
        result["connected"] = {c.label: c.connects for c in clients}
    for client in clients:
        with contextlib.suppress(Exception):  # the run is over
            client.sio.disconnect()
    print(json.dumps(result), flush=True)
    return 0 if all(v is not None for v in result["latency_ms"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
