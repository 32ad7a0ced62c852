"""What the browser tier shares (``tests/browser/test_browser.py``): Debian's Chromium driven by Playwright (the locked
Python package, whose driver ships in its wheel; ``executable_path``, so no browser is downloaded), Open WebUI's own
pages signed in as two users, and Valkey's own record of which replica each page's websocket landed on.

Which replica serves a page: Open WebUI 0.12 subscribes one Redis channel per socket.io room that has a member on a
replica (``WEBSOCKET_REDIS_ROOM_CHANNELS``, on by default), and every socket is in a room named after its sid. The
page's websocket receives ``40{"sid": ...}``; Valkey's ``MONITOR`` shows which connection, from which replica's
address, sent ``SUBSCRIBE socketio#/#<sid>``.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.harness.open_webui_process import FiguresReport
from tests.harness.paths import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
"""Debian's ``chromium`` (``scripts/test --all`` installs it)."""
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS") or ROOT / "test-artifacts" / "browser")
"""Where the screenshots of each page go (CI keeps them; the GitHub workflow uploads the folder)."""
PUBLIC_HOST = "chat.owui-browser.test"
"""The host name of ``openWebui.publicUrl`` in the browser tier: Chromium resolves it to 127.0.0.1."""
ELSEWHERE_HOST = "elsewhere.owui-browser.test"
"""Another site's host name (its page opens a websocket to the stack: refused)."""
SOCKET_PATH = "/ws/socket.io/?EIO=4&transport=websocket"
SID = re.compile(r'^40\{"sid":"([^"]+)"')
MESSAGE_BOX = "[contenteditable=true]"
"""The channel's message box (Open WebUI's rich-text input)."""
MONITOR_LINE = re.compile(r'^[\d.]+ \[\d+ (?P<address>[^\]]+):\d+\] "(?P<command>[^"]+)"(?P<args>.*)$')


class BrowserReport(FiguresReport):
    NAME = "open-webui-browser-report"
    TITLE = "Browser: what two users' pages showed, and how fast"


def api(base: str, method: str, path: str, payload: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, headers=headers, method=method)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the stack on loopback
        return json.load(response)


@dataclass(frozen=True)
class Account:
    name: str
    email: str
    password: str
    token: str
    id: str


def two_users(base: str, run: str) -> tuple[Account, Account, str]:
    """The first account (Open WebUI makes it the admin), a second one the admin adds as a user, and a group
    channel of the two; each has seen the release notes (Open WebUI shows them to an admin once per version)."""
    first = {"name": "Ada", "email": f"ada-{run}@example.com", "password": f"ada-{run}-correct-horse"}
    answer = api(base, "POST", "/api/v1/auths/signup", first)
    ada = Account(first["name"], first["email"], first["password"], answer["token"], answer["id"])
    second = {"name": "Bob", "email": f"bob-{run}@example.com", "password": f"bob-{run}-correct-horse", "role": "user"}
    api(base, "POST", "/api/v1/auths/add", second, ada.token)
    signin = {"email": second["email"], "password": second["password"]}
    answer = api(base, "POST", "/api/v1/auths/signin", signin)
    bob = Account(second["name"], second["email"], second["password"], answer["token"], answer["id"])
    version = api(base, "GET", "/api/version")["version"]
    for account in (ada, bob):
        api(base, "POST", "/api/v1/users/user/settings/update", {"ui": {"version": version}}, account.token)
    form = {"name": f"browser-{run}", "type": "group", "user_ids": [bob.id]}
    channel = api(base, "POST", "/api/v1/channels/create", form, ada.token)
    return ada, bob, str(channel["id"])


class ValkeyMonitor:
    """``valkey-cli MONITOR`` in the Valkey container (its password from the container's environment on one host,
    from the secret file on Swarm), read in a thread; listening once the constructor returns."""

    def __init__(self, container: str, timeout: float = 20) -> None:
        self.container = container
        script = (
            'echo "pid $$"; REDISCLI_AUTH="${REDISCLI_AUTH:-$(cat /run/secrets/valkey-password 2>/dev/null)}" '
            "exec valkey-cli --no-auth-warning MONITOR"
        )
        self.process = subprocess.Popen(
            ["docker", "exec", container, "sh", "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.lock = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        # valkey-cli says OK once Valkey has it as a monitor: a command before that would not be seen.
        assert self._wait(lambda line: line == "OK", timeout) is not None, f"MONITOR did not start: {self.lines[:3]}"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))
                self.lock.notify_all()

    def _wait(self, found: Callable[[str], bool], timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for line in self.lines:
                    if found(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.lock.wait(remaining)

    def _sender(self, command: str, needle: str, timeout: float) -> list[str]:
        """The addresses that sent ``command`` with ``needle`` in its arguments (waiting up to ``timeout`` for one)."""

        def matches(line: str) -> bool:
            match = MONITOR_LINE.match(line)
            return bool(match and match["command"].upper() == command and needle in match["args"])

        self._wait(matches, timeout)
        with self.lock:
            found = [MONITOR_LINE.match(line) for line in self.lines if matches(line)]
        return [match["address"] for match in found if match is not None]

    def subscribers_of(self, sid: str, timeout: float = 20) -> list[str]:
        """The addresses of the connections that subscribed ``socketio#/#<sid>``: the replica serving that socket."""
        return self._sender("SUBSCRIBE", f'"socketio#/#{sid}"', timeout)

    def publishers_of(self, text: str, timeout: float = 5) -> list[str]:
        """The addresses that published an event whose payload holds ``text``: the replica that emitted it."""
        return self._sender("PUBLISH", text, timeout)

    def close(self) -> None:
        """Stops valkey-cli in the container too (ending ``docker exec`` alone may leave it running there)."""
        pid = next((line.split()[1] for line in self.lines if line.startswith("pid ")), None)
        if pid is not None:
            subprocess.run(["docker", "exec", self.container, "kill", pid], capture_output=True, check=False)
        self.process.kill()
        self.process.wait()


WATCH_SCRIPT = """(() => {
    window.__wanted = new Set();
    window.__seen = {};
    const look = () => {
        if (!window.__wanted.size) return;
        const text = document.body.innerText;
        for (const marker of [...window.__wanted]) {
            if (text.includes(marker)) {
                window.__seen[marker] = Date.now();
                window.__wanted.delete(marker);
            }
        }
    };
    const changes = {subtree: true, childList: true, characterData: true};
    const watch = () => new MutationObserver(look).observe(document.body, changes);
    if (document.body) watch(); else document.addEventListener("DOMContentLoaded", watch);
})();"""
"""Notes the time (``Date.now()``) each awaited text first shows on the page, as the page's DOM changes; an init
script, so a reloaded page watches too."""


class UserPage:
    """One user's Open WebUI page in its own browser context (signed in through the token in ``localStorage``, as
    Open WebUI keeps it after a sign-in), with the socket.io sids its websockets were given."""

    def __init__(self, browser: Any, account: Account, label: str) -> None:
        self.account = account
        self.label = label
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.context.add_init_script(f"localStorage.setItem('token', {json.dumps(account.token)});")
        self.context.add_init_script(WATCH_SCRIPT)
        self.page = self.context.new_page()
        self.sids: list[str] = []
        self.sid: str | None = None
        """The sid the test found the page's replica by; ``sids`` holds every one since (a reconnect adds one)."""
        self.socket_errors: list[str] = []
        self.page.on("websocket", self._websocket)

    def _websocket(self, websocket: Any) -> None:
        def frame(payload: str | bytes) -> None:
            match = SID.match(payload if isinstance(payload, str) else "")
            if match:
                self.sids.append(match[1])

        websocket.on("framereceived", frame)
        websocket.on("socketerror", lambda error: self.socket_errors.append(error))

    def open(self, url: str, sid_timeout: float = 30) -> str | None:
        """Load ``url``; the sid of the page's socket.io connection (None: it never connected)."""
        self.sids.clear()
        self.socket_errors.clear()
        self.page.goto(url)
        deadline = time.monotonic() + sid_timeout
        while not self.sids and not self.socket_errors and time.monotonic() < deadline:
            self.page.wait_for_timeout(100)
        if not self.sids:
            return None
        box = self.page.locator(MESSAGE_BOX).first
        try:
            box.wait_for(state="visible", timeout=30_000)
        except Exception as error:
            shot = self.screenshot(f"{self.label}-not-ready")
            raise AssertionError(f"{self.label}'s page at {self.page.url} shows no message box ({shot})") from error
        self.sid = self.sids[-1]
        return self.sid

    def expect(self, marker: str) -> None:
        """Note the time ``marker`` first shows on the page (from now on)."""
        self.page.evaluate("marker => window.__wanted.add(marker)", marker)

    def seen(self, marker: str, timeout: float) -> int | None:
        """When (``Date.now()``, ms) ``marker`` showed on the page, waiting up to ``timeout`` seconds; None: not."""
        try:
            handle = self.page.wait_for_function(
                "marker => window.__seen[marker]", arg=marker, timeout=timeout * 1000, polling=20
            )
        except Exception as error:  # Playwright's TimeoutError
            if "Timeout" in type(error).__name__:
                return None
            raise
        return int(handle.json_value())

    def post(self, text: str) -> int:
        """Type ``text`` in the channel's message box and press Enter, as a user does; ``Date.now()`` (ms) then."""
        box = self.page.locator(MESSAGE_BOX).first
        box.click()
        box.fill(text)
        sent = int(self.page.evaluate("Date.now()"))
        box.press("Enter")
        return sent

    def shows(self, text: str) -> bool:
        return bool(self.page.get_by_text(text).first.is_visible())

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.context.close()


@contextlib.contextmanager
def chromium(*hosts: str) -> Iterator[Any]:
    """Debian's Chromium, headless, with ``hosts`` resolved to 127.0.0.1 (where the stack publishes its port)."""
    from playwright.sync_api import sync_playwright

    rules = ", ".join(f"MAP {host} 127.0.0.1" for host in hosts)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[f"--host-resolver-rules={rules}"])
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def elsewhere_site() -> Iterator[str]:
    """Another site: a blank page at ``http://ELSEWHERE_HOST:<port>/`` (its URL)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<!doctype html><title>elsewhere</title><p>another site</p>")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{ELSEWHERE_HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def websocket_answer(browser: Any, page_url: str, target: str, timeout: float = 20) -> str:
    """A script of the page at ``page_url`` opens a websocket to ``target``'s socket.io (the browser sends the
    page's origin): ``"open"`` once the server's first packet arrives, or the browser's handshake error (it names
    the status: ``...: 403``)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        opened: list[bool] = []

        def on_websocket(websocket: Any) -> None:
            websocket.on("socketerror", lambda error: errors.append(error))
            websocket.on("framereceived", lambda payload: opened.append(True))

        page.on("websocket", on_websocket)
        page.goto(page_url)
        page.evaluate("url => { window.__socket = new WebSocket(url); }", f"ws://{target}{SOCKET_PATH}")
        deadline = time.monotonic() + timeout
        while not errors and not opened and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        return errors[0] if errors else ("open" if opened else "no answer")
    finally:
        context.close()


def marker(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


@dataclass
class Delivery:
    sender: str
    receiver: str
    milliseconds: int | None
    """From Enter on the sender's page to the text showing on the receiver's; None: it did not show."""
    shown: bool
    """The text is visible on the receiver's page (what the user sees), read after it showed."""
    publishers: list[str]
    """The addresses that published the message's event to Valkey (MONITOR)."""


def exchange(
    sender: UserPage, receiver: UserPage, monitor: ValkeyMonitor | None = None, timeout: float = 10
) -> Delivery:
    """``sender`` posts a message; how long until ``receiver``'s page shows it (None: not within ``timeout``), and
    which replica published the event to Valkey (the one that took the POST: HAProxy's round robin)."""
    text = marker(f"from-{sender.label}")
    receiver.expect(text)
    sent = sender.post(text)
    seen = receiver.seen(text, timeout)
    publishers = monitor.publishers_of(text) if monitor is not None else []
    shown = receiver.shows(text)
    return Delivery(sender.label, receiver.label, None if seen is None else seen - sent, shown, publishers)


def wait_shown_again(
    sender: UserPage, receiver: UserPage, since: float, timeout: float, every: float = 1.0
) -> tuple[float, int]:
    """After a fault: ``sender`` posts a message every ``every`` seconds until ``receiver``'s page shows one; the
    seconds from ``since`` (``time.monotonic()``) to the post that showed, and the number of posts."""
    posts = 0
    errors: list[str] = []
    while time.monotonic() < since + timeout:
        started = time.monotonic()
        posts += 1
        text = marker(f"again-{sender.label}")
        try:  # the page may refuse to post while Redis is away: post again
            receiver.expect(text)
            sender.post(text)
            if receiver.seen(text, every) is not None:
                return started - since, posts
        except Exception as error:
            errors.append(f"{type(error).__name__}: {str(error)[:200]}")
        time.sleep(max(0.0, every - (time.monotonic() - started)))
    raise AssertionError(f"{receiver.label}'s page showed none of {posts} messages; last errors: {errors[-2:]}")


def pages_on_two_replicas(
    browser: Any,
    users: tuple[Account, Account],
    url: str,
    monitor: ValkeyMonitor,
    replicas: dict[str, str],
    attempts: int = 8,
) -> tuple[UserPage, UserPage]:
    """Both users' pages open at ``url``, their websockets on two different replicas (``replicas``: each one's
    address): the second page is opened again until the load balancer sends its websocket to the other one."""
    first = UserPage(browser, users[0], "ada")
    second = UserPage(browser, users[1], "bob")
    try:
        first_replica = replica_of(first, url, monitor, replicas)
        for _ in range(attempts):
            if replica_of(second, url, monitor, replicas) != first_replica:
                return first, second
        raise AssertionError(f"Bob's websocket landed on Ada's replica ({first_replica}) {attempts} times in a row")
    except BaseException:
        for page in (first, second):
            with contextlib.suppress(Exception):
                page.screenshot(f"{page.label}-on-failure")
            page.close()
        raise


def replica_of(page: UserPage, url: str, monitor: ValkeyMonitor, replicas: dict[str, str]) -> str:
    """Open ``url`` in ``page``: the replica (its address) whose connection subscribed the page socket's room."""
    sid = page.open(url)
    assert sid is not None, f"{page.label}'s page never connected its websocket: {page.socket_errors}"
    subscribers = monitor.subscribers_of(sid)
    assert len(subscribers) == 1, f"{page.label}'s socket room subscribed by {subscribers} (replicas: {replicas})"
    assert subscribers[0] in replicas, f"{subscribers[0]} is none of the replicas {replicas}"
    return subscribers[0]
