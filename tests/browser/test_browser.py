"""The browser tier (issue #24): Open WebUI's own pages in Debian's Chromium, two users, two replicas, real time.

On real Docker (two replicas behind HAProxy, the stand-in images: the real Open WebUI build, its pages included)
and on a one-node swarm (through the published port), with ``openWebui.publicUrl`` on a host name that Chromium
resolves to 127.0.0.1:

- Ada's and Bob's pages are open on a group channel of theirs, each websocket on another replica (Valkey's MONITOR
  names the replica that subscribed each socket's room: ``tests/harness/browser.py``). A message Ada types appears on
  Bob's page without a reload, and Bob's on Ada's; the delay from Enter to the other page showing it is printed.
- The public origin's websocket is accepted; the app opened through another origin (the published address the
  browser was not told about) and another site's page are refused with 403 (``CORS_ALLOW_ORIGIN``).
- On Docker, Valkey is killed with both pages open: Docker restarts it, and Bob's page shows Ada's messages again
  within the faults tier's bound (``tests/harness/faults.py``), measured.

Screenshots of both pages go to ``test-artifacts/browser/`` (``BROWSER_ARTIFACTS``). Runs with
``scripts/test --all`` (which installs Chromium) or ``REAL_DOCKER=1``; alone: ``scripts/test --all -- -m browser``.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.harness.browser import (
    ARTIFACTS,
    ELSEWHERE_HOST,
    PUBLIC_HOST,
    Account,
    BrowserReport,
    UserPage,
    ValkeyMonitor,
    chromium,
    elsewhere_site,
    exchange,
    pages_on_two_replicas,
    two_users,
    wait_shown_again,
    websocket_answer,
)
from tests.harness.docker_applier import EngineClient
from tests.harness.docker_stack import DOCKER_MARKS, DockerReport, Running, apply_stack, stack_config
from tests.harness.docker_stack import cleanup as docker_cleanup
from tests.harness.faults import RECOVERY_BOUND
from tests.harness.loopback import free_port
from tests.harness.swarm_applier import task_addresses
from tests.harness.swarm_stack import SwarmReport, SwarmRun, apply, cleanup, label_data_node, swarm_config

pytestmark = [*DOCKER_MARKS, pytest.mark.browser]


@pytest.fixture(scope="session")
def browser_report(request: pytest.FixtureRequest) -> BrowserReport:
    return BrowserReport.of(request.config)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module (Playwright's sync API runs one instance per thread); this run's screenshots
    only in the artifacts folder."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    with chromium(PUBLIC_HOST, ELSEWHERE_HOST) as running:
        yield running


@dataclass
class Site:
    """A deployed stack as the browser tier uses it."""

    where: str
    port: int
    valkey: str
    """The Valkey container (MONITOR runs there)."""
    replicas: dict[str, str]
    """Each replica's address on the stack's network, to its name."""
    users: tuple[Account, Account]
    channel: str

    @property
    def public(self) -> str:
        return f"http://{PUBLIC_HOST}:{self.port}"

    def channel_url(self, base: str | None = None) -> str:
        return f"{base or self.public}/channels/{self.channel}"


@dataclass
class Pages:
    """Both users' pages, each websocket on another replica, and the MONITOR that found them (still running: it
    names the replica that published each message's event)."""

    site: Site
    ada: UserPage
    bob: UserPage
    monitor: ValkeyMonitor

    def replica(self, page: UserPage) -> str:
        assert page.sid is not None
        return self.site.replicas[self.monitor.subscribers_of(page.sid)[0]]

    def close(self) -> None:
        self.ada.close()
        self.bob.close()
        self.monitor.close()


def _open_pages(site: Site, browser: Any) -> Pages:
    monitor = ValkeyMonitor(site.valkey)
    try:
        ada, bob = pages_on_two_replicas(browser, site.users, site.channel_url(), monitor, site.replicas)
    except BaseException:
        monitor.close()
        raise
    return Pages(site, ada, bob, monitor)


def _stayed(pages: Pages) -> None:
    """Neither page's websocket reconnected since its replica was found (a reconnect may land elsewhere)."""
    for page in (pages.ada, pages.bob):
        assert page.sids == [page.sid], f"{page.label}'s websocket reconnected: {page.sids}"


def _check_real_time(pages: Pages, report: BrowserReport, name: str, rounds: int = 6) -> None:
    """Messages typed on each page appear on the other without a reload. HAProxy sends each POST to either replica:
    the exchanges go on (up to ``rounds`` each way) until, in each direction, one was published to Valkey by the
    replica that does not hold the receiver's websocket (MONITOR); every one of them must show."""
    where = pages.site.where
    replicas = {page.label: pages.replica(page) for page in (pages.ada, pages.bob)}
    deliveries = []
    crossed = {"ada": False, "bob": False}
    for _ in range(rounds):
        for sender, receiver in ((pages.ada, pages.bob), (pages.bob, pages.ada)):
            if crossed[receiver.label]:
                continue
            delivery = exchange(sender, receiver, pages.monitor)
            deliveries.append(delivery)
            publishers = {pages.site.replicas.get(address, address) for address in delivery.publishers}
            crossed[receiver.label] = delivery.milliseconds is not None and replicas[receiver.label] not in publishers
        if all(crossed.values()):
            break
    lines = [
        f"{d.sender} -> {d.receiver} {d.milliseconds} ms (published by "
        f"{', '.join(pages.site.replicas.get(a, a) for a in d.publishers) or 'nobody seen'})"
        for d in deliveries
    ]
    report.add(
        f"{where}: Ada's page on {replicas['ada']}, Bob's on {replicas['bob']}; from Enter to the other page showing "
        "the message: " + "; ".join(lines)
    )
    for page in (pages.ada, pages.bob):
        report.add(f"{where}: screenshot {page.screenshot(f'{name}-{page.label}')}")
    assert replicas["ada"] != replicas["bob"]
    assert all(d.milliseconds is not None and d.shown for d in deliveries), deliveries
    assert all(crossed.values()), f"no message crossed replicas in {rounds} rounds: {lines}"
    _stayed(pages)


def _check_origins(site: Site, browser: Any, report: BrowserReport) -> None:
    """``openWebui.publicUrl``'s origin is the one ``CORS_ALLOW_ORIGIN`` accepts: a script of a page there opens the
    socket.io websocket; the same app opened through the published address (a name the stack was not told about)
    and another site's page that opens a websocket to the stack are refused, as the README's troubleshooting says."""
    target = f"{PUBLIC_HOST}:{site.port}"
    accepted = websocket_answer(browser, f"{site.public}/health", target)
    wrong_name = UserPage(browser, site.users[0], "ada-by-address")
    try:
        sid = wrong_name.open(site.channel_url(f"http://127.0.0.1:{site.port}"), sid_timeout=15)
        refused_app = wrong_name.socket_errors[:1]
    finally:
        wrong_name.close()
    with elsewhere_site() as elsewhere:
        refused_site = websocket_answer(browser, elsewhere, target)
    report.add(
        f"{site.where}: websocket from {site.public}: {accepted}; the app through http://127.0.0.1:{site.port}: "
        f"{refused_app}; another site's page: {refused_site}"
    )
    assert accepted == "open"
    assert sid is None
    assert refused_app, "the app opened through the published address connected its websocket"
    assert refused_app[0].endswith("403"), refused_app
    assert refused_site.endswith("403"), refused_site


# ---------------------------------------------------------------------------------------------------------
# One host: two replicas behind HAProxy
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docker_site(engine: EngineClient, images: dict[str, str], request: pytest.FixtureRequest) -> Iterator[Site]:
    run = f"owrb{os.getpid()}x"
    port = free_port()
    openwebui = {"replicas": 2, "publicUrl": f"http://{PUBLIC_HOST}:{port}", "env": {"ENABLE_CHANNELS": "true"}}
    try:
        running: Running = apply_stack(
            engine, stack_config(run, images, port, openWebui=openwebui), run, port, DockerReport.of(request.config)
        )
        network = running.config["network"]["name"]
        replicas = {}
        for index in (1, 2):
            name = f"{run}-open-webui-{index}"
            replicas[running.inspect(name)["NetworkSettings"]["Networks"][network]["IPAddress"]] = name
        ada, bob, channel = two_users(running.url, run)
        yield Site("real Docker", port, f"{run}-valkey", replicas, (ada, bob), channel)
    finally:
        docker_cleanup(engine, run)


@pytest.fixture(scope="module")
def docker_pages(docker_site: Site, browser: Any) -> Iterator[Pages]:
    pages = _open_pages(docker_site, browser)
    try:
        yield pages
    finally:
        pages.close()


def test_pages_on_two_replicas_when_a_user_posts_show_it_on_the_other_page_without_a_reload(
    docker_pages: Pages, browser_report: BrowserReport
) -> None:
    _check_real_time(docker_pages, browser_report, "docker")


def test_websocket_when_the_page_is_on_the_public_url_is_accepted_and_from_another_origin_refused_with_403(
    docker_site: Site, browser: Any, browser_report: BrowserReport
) -> None:
    _check_origins(docker_site, browser, browser_report)


def test_pages_when_valkey_is_killed_show_messages_again_within_the_bound(
    docker_pages: Pages, engine: EngineClient, browser_report: BrowserReport
) -> None:
    """kill -9 of Valkey with both pages open; Docker restarts it; Ada posts every second until Bob's page shows
    one of her messages (the faults tier's bound, tests/harness/faults.py)."""
    assert exchange(docker_pages.ada, docker_pages.bob).milliseconds is not None
    pid = int(engine.call("GET", f"/containers/{docker_pages.site.valkey}/json")["State"]["Pid"])
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    seconds, posts = wait_shown_again(docker_pages.ada, docker_pages.bob, killed, timeout=90)
    browser_report.add(
        f"{docker_pages.site.where}: Valkey killed with both pages open: Bob's page shows Ada's messages again "
        f"{seconds:.1f} s after the kill ({posts} posted)"
    )
    docker_pages.bob.screenshot("docker-after-valkey-killed-bob")
    assert seconds <= RECOVERY_BOUND
    assert exchange(docker_pages.bob, docker_pages.ada).milliseconds is not None
    _stayed(docker_pages)


# ---------------------------------------------------------------------------------------------------------
# A one-node swarm, through the published port
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def swarm_site(engine: EngineClient, images: dict[str, str], manager: str, swarm_report: SwarmReport) -> Iterator[Site]:
    name = f"owrsb{os.getpid()}"
    port = free_port()
    config = swarm_config(name, images, port, openWebui={"publicUrl": f"http://{PUBLIC_HOST}:{port}"})
    label_data_node(manager, f"{name}.data")
    running: SwarmRun | None = None
    try:
        running = apply(engine, name, config, swarm_report)
        replicas = {}
        for service in ("open-webui", "open-webui-replicas"):
            for task in running.tasks(service):
                for address in task_addresses(task, running.network_id):
                    replicas[address] = f"{running.service(service)} task {task['ID'][:8]}"
        (valkey,) = running.tasks("valkey")
        container = str(valkey["Status"]["ContainerStatus"]["ContainerID"])
        ada, bob, channel = two_users(f"http://127.0.0.1:{port}", name)
        yield Site("real Swarm", port, container, replicas, (ada, bob), channel)
    finally:
        cleanup(running, engine, [None])


def test_swarm_pages_on_two_tasks_when_a_user_posts_show_it_on_the_other_page_without_a_reload(
    swarm_site: Site, browser: Any, browser_report: BrowserReport
) -> None:
    pages = _open_pages(swarm_site, browser)
    try:
        _check_real_time(pages, browser_report, "swarm")
    finally:
        pages.close()


def test_swarm_websocket_when_the_page_is_on_the_public_url_is_accepted_and_from_another_origin_refused_with_403(
    swarm_site: Site, browser: Any, browser_report: BrowserReport
) -> None:
    _check_origins(swarm_site, browser, browser_report)
