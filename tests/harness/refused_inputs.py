"""Stacks refusing an Input's value once it resolves, run in a Python process of their own.

Every Output that needed the refused value fails too, and Pulumi's threads format their tracebacks. In CPython
3.11 that formatting parses source with ``ast`` to place its carets, which races with pytest's assertion
rewriting in the main thread (python/cpython#106905: ``SystemError: AST constructor recursion depth mismatch``),
so a test that refuses values in pytest's own process can fail a later, unrelated module. Here each batch of
cases runs in ``python -m tests.harness.refused_inputs`` and answers JSON: what the user would read.

A case: ``{"engine": "docker"|"swarm", "inputs": {name: value}, "hosted": bool}``, or
``{"engine": ..., "tls_valkey_url_without_ca": true}`` (the components on their own, ``_open_webui_without_ca``); each
value is passed as a secret Output, as another resource's secret output or a secret config value arrives. Python stacks
take the Python names (``redis_url``), hosted ones the schema's (``redisUrl``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, cast

from tests.harness.paths import ROOT, TESTS

OPEN_WEBUI_TYPES = ("docker:index/container:Container", "docker:index/service:Service")


def refuse(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each case's refusal, from a process of its own: ``message`` (the error as printed, or None when nothing was
    refused), ``error_type`` (its class's name), ``problems`` (its lines) and ``open_webui_declared`` (names of Open
    WebUI containers or services declared before the refusal)."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.harness.refused_inputs"],
        input=json.dumps(cases),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers: list[dict[str, Any]] = json.loads(result.stdout.splitlines()[-1])
    return answers


def _one(case: dict[str, Any]) -> dict[str, Any]:
    import pulumi

    from components import ConfigurationError, OpenWebUIStack, StackSettings, SwarmSettings, SwarmStack
    from components._shared import StackInputArgs
    from components.testing import StackMocks, render, run

    mocks = StackMocks()
    message: str | None = None
    error_type: str | None = None
    problems: list[str] = []
    swarm = case["engine"] == "swarm"
    try:
        if case.get("tls_valkey_url_without_ca"):
            run(lambda: _open_webui_without_ca(swarm), mocks=mocks)
        elif case.get("hosted"):
            inputs = {"swarm": {"pinImages": False}} if swarm else {}
            render(
                {
                    "options:type": f"open-webui-redis:index:{'SwarmStack' if swarm else 'OpenWebUIStack'}",
                    "options:name": "open-webui",
                    "options:inputs": {**inputs, **case["inputs"]},
                    "options:secretInputs": list(case["inputs"]),
                },
                program=TESTS / "programs" / "construct.py",
                mocks=mocks,
            )
        else:
            settings = (
                StackSettings(engine="swarm", swarm=SwarmSettings(pin_images=False)) if swarm else StackSettings()
            )
            kind = SwarmStack if swarm else OpenWebUIStack
            made = cast(StackInputArgs, {name: pulumi.Output.secret(value) for name, value in case["inputs"].items()})
            run(lambda: kind("owui", settings, **made), mocks=mocks)
    except ConfigurationError as error:
        message, problems, error_type = str(error), list(error.problems), type(error).__name__
    except Exception as error:
        message, error_type = str(error), type(error).__name__
        problems = [line.removeprefix("  - ") for line in message.splitlines() if line.startswith("  - ")]
    declared = [
        r.name for r in mocks.declared if r.type in OPEN_WEBUI_TYPES and "open-webui" in r.name and "lb" not in r.name
    ]
    return {"message": message, "problems": problems, "error_type": error_type, "open_webui_declared": declared}


def _open_webui_without_ca(swarm: bool) -> None:
    """A TLS ``Valkey`` and an ``OpenWebUI`` used on their own, without ``redis_ca_cert``: the URL names a CA file
    the container would not have, found once the URL resolves."""
    from components.core.settings import OpenWebUISettings, ValkeySettings
    from components.host.open_webui import OpenWebUI
    from components.host.valkey import Valkey
    from components.swarm.open_webui import SwarmOpenWebUI

    valkey = Valkey("v", ValkeySettings(tls=True), "net")
    if swarm:
        SwarmOpenWebUI("o", OpenWebUISettings(), "net-id", valkey.redis_url, pin_image=False)
    else:
        OpenWebUI("o", OpenWebUISettings(), "net", valkey.redis_url)


def main() -> None:
    cases = json.loads(sys.stdin.read())
    print(json.dumps([_one(case) for case in cases]))


if __name__ == "__main__":
    main()
