"""The shared pieces of the test harness (``tests/harness``), pinned on their own: waiting, the process base
class and the URL rewriter."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from tests.harness.processes import LoggedProcess
from tests.harness.urls import host_port, rewrite_url
from tests.harness.waiting import wait_for, wait_until


def test_wait_for_when_the_probe_gives_a_value_returns_the_first_truthy_one() -> None:
    answers = iter([None, "", "ready", "later"])
    assert wait_for(lambda: next(answers), 5, interval=0.001) == "ready"


def test_wait_for_when_nothing_comes_raises_naming_what_was_awaited() -> None:
    with pytest.raises(TimeoutError, match=r"^timed out after 0\.05 s waiting for the replica healthy$"):
        wait_for(lambda: None, 0.05, interval=0.01, what="the replica healthy")


def test_wait_until_when_the_condition_holds_only_at_the_deadline_still_counts_it() -> None:
    deadline = time.monotonic() + 0.05
    assert wait_until(lambda: time.monotonic() > deadline, 0.05, interval=0.2)
    assert not wait_until(lambda: False, 0.05, interval=0.01)


def test_rewrite_url_when_the_host_or_password_changes_keeps_every_other_byte() -> None:
    url = "rediss://default:p%40ss@redis-valkey:6380/2?ssl_cert_reqs=required#x"
    assert host_port(url) == "redis-valkey:6380"
    assert rewrite_url(url, new_host_port="127.0.0.1:6380") == (
        "rediss://default:p%40ss@127.0.0.1:6380/2?ssl_cert_reqs=required#x"
    )
    assert rewrite_url(url, password="n@w/") == "rediss://default:n%40w%2F@redis-valkey:6380/2?ssl_cert_reqs=required#x"
    assert rewrite_url("redis://redis-valkey/0", new_host_port="127.0.0.1") == "redis://127.0.0.1/0"
    with pytest.raises(ValueError, match="no credentials"):
        rewrite_url("redis://redis-valkey:6379/0", password="x")


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_logged_process_when_it_exits_while_awaited_fails_at_once_with_its_log(tmp_path: Path) -> None:
    process = LoggedProcess(tmp_path / "p.log", "the program")
    process.spawn(_python("print('listening failed: port in use'); raise SystemExit(3)"), cwd=tmp_path)
    started = time.monotonic()
    with process, pytest.raises(RuntimeError, match=r"(?s)the program exited with status 3\n.*port in use"):
        process.wait_ready(lambda: False, 30, interval=0.01, what="ready")
    assert time.monotonic() - started < 10


def _ended(pid: int) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie its new parent has not reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_logged_process_when_terminated_ends_its_whole_group(tmp_path: Path) -> None:
    """SIGTERM to the group, then SIGKILL to what ignores it: a child that ignores SIGTERM is gone too."""
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        '\'import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print("child", os.getpid(), '
        "flush=True); time.sleep(60)'])\n"
        "time.sleep(60)\n"
    )
    process = LoggedProcess(tmp_path / "p.log", "the parent")
    process.spawn(_python(code), cwd=tmp_path)
    line = process.wait_ready(
        lambda: next((line for line in process.log().splitlines() if line.startswith("child ")), None),
        20,
        interval=0.02,
        what="its child started",
    )
    child = int(line.split()[1])
    process.terminate(timeout=0.5)
    assert process.process is not None
    assert process.process.returncode == -signal.SIGTERM
    assert not process.running
    assert wait_until(lambda: _ended(child), 5), "the child that ignores SIGTERM outlived the group's end"


def test_run_plugins_when_made_are_hashable_as_pluggy_needs_with_conftests_in_folders() -> None:
    """The reports the tiers register as pytest plugins: with a conftest per folder, pytest asks pluggy for a hook
    caller without the other folders' conftests, which puts every plugin in a set (an unhashable one stopped the
    whole run with an INTERNALERROR)."""
    import importlib
    import pkgutil

    import tests.harness
    from tests.harness.open_webui_process import RunPlugin

    for module in pkgutil.iter_modules(tests.harness.__path__):
        if module.name not in ("swarm_probe", "refused_inputs"):
            importlib.import_module(f"tests.harness.{module.name}")
    plugins: list[type[RunPlugin]] = []
    pending: list[type[RunPlugin]] = [RunPlugin]
    while pending:
        for sub in pending.pop().__subclasses__():
            plugins.append(sub)
            pending.append(sub)
    made = [cls for cls in plugins if "NAME" in vars(cls)]
    assert len(made) >= 7, [cls.__name__ for cls in made]
    for cls in made:
        hash(cls())
