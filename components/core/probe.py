"""Does this Open WebUI replica receive websocket events through Redis? A program run INSIDE its container.

    python3 probe.py health [--unhealthy-after SECONDS] [--deadline SECONDS] # the Docker healthcheck
    python3 probe.py listen --seconds N                                    # components.verify: a client here
    python3 probe.py publish SID NONCE                                     # components.verify: an event from here

The stack ships this file into every Open WebUI container (an upload on one host, a Docker config on Swarm) and runs
it with the image's ``python3``. It imports only the standard library (about 30 ms of CPU, where redis-py's import
takes 200 ms), so it can run every few seconds.

``health`` connects a socket.io client to this replica (``ws://127.0.0.1:$PORT/ws/socket.io``, as a browser does,
without a token), publishes an event for that client's room to Redis as another replica's websocket manager would
(python-socketio's message on the room's channel ``socketio#/#<sid>``, or on ``socketio`` when
``WEBSOCKET_REDIS_ROOM_CHANNELS`` is off), and waits for the event to come back through this replica's listener. With
per-room channels on, the connect itself waits until the listener has subscribed the client's room and Redis has
answered its PING: a deaf listener never answers it.

Exit status 0 (healthy) when the event arrives; 1 (unhealthy) when:
- Redis refuses the URL's password, or is unreachable or the event does not come back before this replica ever
  delivered one (a wrong URL, or a replica whose listener never works, fails ``pulumi up``);
- Redis answers a new connection but this replica has not delivered an event for ``--unhealthy-after`` seconds
  (its listener is deaf). Until then it exits 0 and says how long it has been deaf: the listener's own
  reconnection (TCP keepalive ends a silent connection first) gets its chance.
Once this replica has delivered, Redis being unreachable exits 0 with a note: a new replica would not reach it
either, so no engine should restart one for it.

The URLs are read from the environment, else from Swarm's secret files (``/run/secrets/<NAME>``): a healthcheck does
not see what an entrypoint exports.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import socket
import ssl
import struct
import sys
import time
import urllib.parse

SECRETS_DIR = "/run/secrets"
STATE_PATH = "/tmp/open-webui-redis-probe.json"  # noqa: S108 - inside the container
EVENT = "open-webui-redis:probe"
CHANNEL = "socketio"
HOST_ID = "open-webui-redis-probe"
NO_URL = "no WEBSOCKET_REDIS_URL or REDIS_URL in the environment or /run/secrets"
ROUND_TRIP = 2.0
"""Seconds the socket.io round trip gets once Redis answered (milliseconds measured): a deaf replica's check lasts
this long whatever share of ``--deadline`` finding the master through the sentinels was given."""
LISTENER_BACKOFF = 60.0
"""The longest wait of Open WebUI's websocket listener between two Redis reconnects (python-socketio's
``_redis_listen_with_retries``, and Open WebUI 0.12's copy: 1 s, then doubled after each failed try, up to this)."""
CHECK_INTERVAL = 5.0
"""Seconds between two checks of a running replica (the rendered healthcheck's interval, from the end of the last)."""
SOCKET_PATH = "/ws/socket.io/?EIO=4&transport=websocket"


class UnreachableError(Exception):
    """Redis does not answer a new connection (refused, timed out, unknown host)."""


class RefusedError(Exception):
    """Redis answers but refuses the URL (a wrong password, an unknown user, a master name no sentinel knows)."""


class DeafError(Exception):
    """This replica did not deliver the event."""


def setting(name: str, default: str | None = None) -> str | None:
    """A variable from the environment, else from its Swarm secret file."""
    value = os.environ.get(name)
    if value:
        return value
    try:
        with open(os.path.join(SECRETS_DIR, name), encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return default


# ---------------------------------------------------------------------------------------------------------
# Redis (RESP) with the URL's TLS options and Sentinel, as Open WebUI reaches it
# ---------------------------------------------------------------------------------------------------------


def _command(*args: str | bytes) -> bytes:
    parts = [a.encode() if isinstance(a, str) else a for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


class Redis:
    def __init__(self, host: str, port: int, timeout: float, tls: ssl.SSLContext | None = None) -> None:
        try:
            raw = socket.create_connection((host, port), timeout=timeout)
            self.sock = tls.wrap_socket(raw, server_hostname=host) if tls is not None else raw
        except (OSError, ssl.SSLError) as error:
            raise UnreachableError(f"{host}:{port}: {error}") from None
        self.buffer = b""
        self.where = f"{host}:{port}"

    def _fill(self) -> None:
        try:
            chunk = self.sock.recv(65536)
        except OSError as error:  # a timeout too
            raise UnreachableError(f"{self.where}: {error or 'timed out'}") from None
        if not chunk:
            raise UnreachableError(f"{self.where}: closed the connection")
        self.buffer += chunk

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill()
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def _reply(self) -> object:
        line = self._line()
        kind, rest = line[:1], line[1:]
        try:
            if kind in (b"+", b":"):
                return int(rest) if kind == b":" else rest.decode()
            if kind == b"-":
                return RuntimeError(rest.decode(errors="replace"))
            if kind == b"$":
                size = int(rest)
                if size < 0:
                    return None
                while len(self.buffer) < size + 2:
                    self._fill()
                data, self.buffer = self.buffer[:size], self.buffer[size + 2 :]
                return data.decode(errors="replace")
            if kind == b"*":
                count = int(rest)
                return None if count < 0 else [self._reply() for _ in range(count)]
        except ValueError:
            pass
        raise UnreachableError(f"{self.where}: not a Redis reply")

    def call(self, *args: str) -> object:
        try:
            self.sock.sendall(_command(*args))
        except OSError as error:
            raise UnreachableError(f"{self.where}: {error}") from None
        return self._reply()

    def auth(self, username: str | None, password: str | None) -> None:
        if not password:
            return
        reply = self.call("AUTH", username, password) if username else self.call("AUTH", password)
        if isinstance(reply, Exception):
            refuse(self.where, reply)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


AUTH_ERRORS = ("WRONGPASS", "NOAUTH", "NOPERM", "ERR INVALID PASSWORD", "ERR AUTH", "INVALID USERNAME-PASSWORD")


def refuse(where: str, reply: Exception) -> None:
    """A refused password is this stack's configuration (unhealthy at once); any other error reply (``LOADING``
    after a restart, ``MASTERDOWN``, ``max number of clients``) is a server not ready: unreachable for now."""
    if str(reply).upper().startswith(AUTH_ERRORS) or "password" in str(reply).lower():
        raise RefusedError(f"{where} refuses the password: {reply}")
    raise UnreachableError(f"{where} answers {reply}")


def _tls_context(query: dict[str, str]) -> ssl.SSLContext:
    """redis-py's ``ssl_*`` URL options as an SSL context."""
    context = ssl.create_default_context(cafile=query.get("ssl_ca_certs") or None)
    if query.get("ssl_certfile"):
        context.load_cert_chain(query["ssl_certfile"], query.get("ssl_keyfile") or None)
    reqs = query.get("ssl_cert_reqs", "required").lower()
    check = query.get("ssl_check_hostname", "true" if reqs == "required" else "false").lower() in ("true", "1", "yes")
    context.check_hostname = check and reqs != "none"
    context.verify_mode = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL}.get(reqs, ssl.CERT_REQUIRED)
    return context


def connect(url: str, sentinels: list[tuple[str, int]], timeout: float) -> Redis:
    """A connection to the server ``url`` names, authenticated; with sentinels, to their current master (the
    URL's host is the master name, and the sentinels take the URL's user and password, as Open WebUI's)."""
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    username = urllib.parse.unquote(parts.username) if parts.username else None
    password = urllib.parse.unquote(parts.password) if parts.password else None
    host, port = parts.hostname or "localhost", parts.port or 6379
    if sentinels:
        errors = []
        for sentinel_host, sentinel_port in sentinels:
            try:
                sentinel = Redis(sentinel_host, sentinel_port, min(timeout, 1.0))
                try:
                    try:
                        sentinel.auth(username, password)
                    except RefusedError as error:
                        if "without any password configured" not in str(error):
                            raise
                    found = sentinel.call("SENTINEL", "get-master-addr-by-name", host)
                finally:
                    sentinel.close()
            except UnreachableError as error:
                errors.append(str(error))
                continue
            if isinstance(found, list) and len(found) == 2 and str(found[1]).isdigit():
                host, port = str(found[0]), int(str(found[1]))
                break
            # As redis-py's discover_master: a sentinel that knows no master (or answers an error) is skipped.
            errors.append(f"sentinel {sentinel_host}:{sentinel_port} knows no master {host!r}")
        else:
            raise UnreachableError("no sentinel names the master: " + "; ".join(errors))
    tls = _tls_context(query) if parts.scheme == "rediss" and not sentinels else None
    client = Redis(host, port, timeout, tls)
    try:
        client.auth(username, password)
        reply = client.call("PING")
        if isinstance(reply, Exception):
            refuse(client.where, reply)
        if reply != "PONG":
            raise UnreachableError(f"{client.where} answers PING with {reply!r}")
    except BaseException:
        client.close()
        raise
    return client


def publish(client: Redis, sid: str, nonce: str, room_channels: bool) -> int:
    """Publish python-socketio's ``emit`` of ``EVENT`` to the room ``sid``: the message another replica's websocket
    manager publishes, on the room's channel (per-room channels) or the common one."""
    message = {
        "method": "emit",
        "event": EVENT,
        "data": [nonce],
        "binary": False,
        "namespace": "/",
        "room": sid,
        "skip_sid": None,
        "callback": None,
        "host_id": HOST_ID,
    }
    channel = f"{CHANNEL}#/#{sid}" if room_channels else CHANNEL
    reply = client.call("PUBLISH", channel, json.dumps(message))
    if isinstance(reply, Exception):
        raise RefusedError(f"PUBLISH refused: {reply}")
    if not isinstance(reply, int):
        raise RefusedError(f"PUBLISH answered {reply!r}")
    return reply


# ---------------------------------------------------------------------------------------------------------
# socket.io over a websocket, to this replica
# ---------------------------------------------------------------------------------------------------------


class Client:
    """A socket.io client of this replica (Engine.IO 4 over a websocket, no token)."""

    def __init__(self, port: int, deadline: float) -> None:
        self.deadline = deadline
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=self._left())
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {SOCKET_PATH} HTTP/1.1\r\nHost: localhost:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise DeafError(f"the websocket upgrade answered {status.decode(errors='replace')!r}")
        if not self.message().startswith("0"):
            raise DeafError("no Engine.IO open packet")
        self.send("40")
        while True:
            packet = self.message()
            if packet.startswith("40"):
                self.sid = str(json.loads(packet[2:])["sid"])
                return
            if packet.startswith("44"):
                raise DeafError(f"the connect was refused: {packet[2:]}")

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    def _fill(self) -> None:
        self.sock.settimeout(self._left())
        chunk = self.sock.recv(65536)
        if not chunk:
            raise DeafError("the websocket closed")
        self.buffer += chunk

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        size = len(payload)
        head = bytes([0x80 | opcode])
        if size < 126:
            head += bytes([0x80 | size])
        elif size < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", size)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", size)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, text: str) -> None:
        self._frame(0x1, text.encode())

    def message(self) -> str:
        """The next Engine.IO packet (text), answering pings on the way."""
        parts = b""
        while True:
            first, second = self._take(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._take(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._take(8))[0]
            payload = self._take(size)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise DeafError("the websocket closed")
            if opcode == 0x9:
                self._frame(0xA, payload)
                continue
            if opcode in (0x0, 0x1, 0x2):
                parts += payload
                if first & 0x80:
                    text = parts.decode(errors="replace")
                    parts = b""
                    if text == "2":  # an Engine.IO ping
                        self.send("3")
                        continue
                    return text

    def event(self) -> object:
        """The data of the next ``EVENT`` this client receives."""
        while True:
            packet = self.message()
            if packet.startswith("42"):
                try:
                    name, *data = json.loads(packet[2:])
                except ValueError:
                    continue
                if name == EVENT:
                    return data[0] if data else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._frame(0x8, b"\x03\xe8")
        self.sock.close()


# ---------------------------------------------------------------------------------------------------------
# The commands
# ---------------------------------------------------------------------------------------------------------


def _redis_urls() -> list[str]:
    urls = []
    for name in ("WEBSOCKET_REDIS_URL", "REDIS_URL"):
        url = (setting(name) or "").strip()
        if url and url not in urls:
            urls.append(url)
    return urls


def _sentinels(text: str) -> list[tuple[str, int]]:
    nodes = []
    for item in filter(None, text.split(",")):
        host, _, port = item.rpartition(":")
        nodes.append((host, int(port)))
    return nodes


def _room_channels(text: str) -> bool:
    return text.lower() == "true"  # as Open WebUI's env.py reads WEBSOCKET_REDIS_ROOM_CHANNELS


def _load_state(path: str) -> dict[str, object]:
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_state(path: str, state: dict[str, object]) -> None:
    temporary = f"{path}.{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    os.replace(temporary, path)


def deliver(
    port: int, urls: list[str], sentinels: list[tuple[str, int]], room_channels: bool, deadline: float
) -> float:
    """Seconds from publishing to the event arriving (else UnreachableError, RefusedError or DeafError)."""
    if not urls:
        raise RefusedError(NO_URL)
    clients: list[Redis] = []
    try:
        for url in urls:  # every URL answers: Redis is not the fault
            clients.append(connect(url, sentinels, max(0.2, min(2.0, (deadline - time.monotonic()) / 2))))
    except BaseException:
        for redis_client in clients:
            redis_client.close()
        raise
    deadline = min(deadline, time.monotonic() + ROUND_TRIP)  # the sentinels' share is for finding the master
    try:
        try:
            client = Client(port, deadline)
        except (OSError, TimeoutError) as error:
            raise DeafError(f"no socket.io connection to this replica: {error or 'timed out'}") from None
        try:
            nonce = base64.b32encode(os.urandom(10)).decode()
            sent = time.monotonic()
            publish(clients[0], client.sid, nonce, room_channels)
            try:
                while client.event() != nonce:
                    pass
            except (OSError, TimeoutError):
                raise DeafError("the event published to Redis did not come back through this replica") from None
            return time.monotonic() - sent
        finally:
            client.close()
    finally:
        for redis_client in clients:
            redis_client.close()


def answers_health(port: int, timeout: float) -> bool:
    """Whether this replica's ``GET /health`` answers 200 (its HTTP server is up)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def listener_back_off_until(state: dict[str, object]) -> float:
    """When Open WebUI's listener has tried Redis again at the latest, after the outage this probe saw (0: none).
    The listener waits 1 s, 2 s, 4 s ... (up to ``LISTENER_BACKOFF``) between tries, so after an outage of T seconds
    it tries again within T + 1 s of Redis answering. The probe saw Redis unreachable from ``unreachable_since`` to
    ``unreachable_at``; the outage may have begun a check earlier and ended a check later. A blip gives the listener
    16 s, an outage over a minute the whole 60 s: deafness a while after a blip is not excused for a minute."""
    last = state.get("unreachable_at")
    if not isinstance(last, (int, float)):
        return 0.0
    first = state.get("unreachable_since")
    first = first if isinstance(first, (int, float)) else last
    outage = last - first + 2 * CHECK_INTERVAL
    return last + CHECK_INTERVAL + min(LISTENER_BACKOFF, outage + 1)


def health(args: argparse.Namespace) -> int:
    now = time.time()
    deadline = time.monotonic() + args.deadline
    state = _load_state(args.state)

    def deaf(error: object) -> int:
        """Not delivered while Redis answers (or this replica's server does not): unhealthy once it has lasted, not
        counting Open WebUI's own retry backoff after Redis was unreachable."""
        if not state.get("delivered"):  # a new replica proves its listener once: else `pulumi up` fails
            print(f"unhealthy: this replica has not delivered an event yet ({error})")
            return 1
        since = float(state.get("deaf_since") or now)  # type: ignore[arg-type]
        state["deaf_since"] = since
        _save_state(args.state, state)
        back_off_until = listener_back_off_until(state)
        if now < back_off_until:
            print(
                f"healthy for now: Redis answers again; Open WebUI's listener may wait {back_off_until - now:.0f} s "
                f"more before it tries again ({error})"
            )
            return 0
        since = max(since, back_off_until)
        if now - since >= args.unhealthy_after:
            print(f"unhealthy: deaf for {now - since:.0f} s: {error}")
            return 1
        print(f"healthy for now: deaf for {now - since:.0f} s of {args.unhealthy_after:g} ({error})")
        return 0

    try:
        seconds = deliver(
            args.port, _redis_urls(), _sentinels(args.sentinels), _room_channels(args.room_channels), deadline
        )
    except RefusedError as error:
        print(f"unhealthy: {error}")
        return 1
    except UnreachableError as error:
        if not state.get("delivered"):
            print(f"unhealthy: Redis unreachable ({error}) and this replica has not delivered an event yet")
            return 1
        if not answers_health(args.port, max(0.5, deadline - time.monotonic())):
            return deaf(f"Redis unreachable ({error}) and GET /health does not answer 200")
        state.pop("deaf_since", None)
        state.setdefault("unreachable_since", now)
        state["unreachable_at"] = now
        _save_state(args.state, state)
        print(f"healthy: Redis unreachable ({error}); events wait for it, and a new replica would not reach it either")
        return 0
    except DeafError as error:
        return deaf(error)
    except (OSError, ValueError) as error:  # anything else this check did not foresee: counted, not fatal at once
        return deaf(f"{type(error).__name__}: {error}")
    _save_state(args.state, {"delivered": True})
    print(f"healthy: an event published to Redis came back through this replica in {seconds * 1000:.1f} ms")
    return 0


def listen(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.seconds
    try:
        client = Client(args.port, deadline)
    except (OSError, TimeoutError, DeafError) as error:
        print(f"error no socket.io connection to this replica: {error or 'timed out'}", flush=True)
        return 1
    print(f"sid {client.sid}", flush=True)
    try:
        while True:
            print(f"event {client.event()}", flush=True)
    except (OSError, TimeoutError, DeafError):
        return 0
    finally:
        client.close()


def publish_command(args: argparse.Namespace) -> int:
    urls = _redis_urls()
    if not urls:
        print(f"error {NO_URL}")
        return 1
    try:
        client = connect(urls[0], _sentinels(args.sentinels), 5.0)
        try:
            print(f"receivers {publish(client, args.sid, args.nonce, _room_channels(args.room_channels))}")
        finally:
            client.close()
    except (UnreachableError, RefusedError) as error:
        print(f"error {error}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="probe")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8080))
    parser.add_argument("--sentinels", default="", help="host:port,... (redis.sentinel)")
    parser.add_argument("--room-channels", default="true", help="WEBSOCKET_REDIS_ROOM_CHANNELS as Open WebUI reads it")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("health")
    check.add_argument("--deadline", type=float, default=2.0)
    check.add_argument("--unhealthy-after", type=float, default=20.0)
    check.add_argument("--state", default=STATE_PATH, help="where the probe keeps what it saw between checks")
    check.set_defaults(run=health)
    client = commands.add_parser("listen")
    client.add_argument("--seconds", type=float, default=10.0)
    client.set_defaults(run=listen)
    event = commands.add_parser("publish")
    event.add_argument("sid")
    event.add_argument("nonce")
    event.set_defaults(run=publish_command)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
