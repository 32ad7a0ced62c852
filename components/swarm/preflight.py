"""What a Swarm stack needs from the node's kernel, checked before `pulumi up` (``scripts/deploy`` runs this).

Swarm's default endpoint mode, ``vip``, gives each service a virtual IP that the kernel's IPVS load balancer
serves, and publishes ports through the routing mesh, which IPVS serves too. On a kernel without IPVS the
services start but cannot reach each other's virtual IPs: Open WebUI never reaches PostgreSQL, its tasks never
turn healthy, and after ``waitTimeout`` pulumi-docker stops with "did not converge", which names no cause. With
``swarm.endpointMode: dnsrr`` a service name resolves to its tasks' addresses instead, and no IPVS is needed.

    python -m components.swarm.preflight [--config FILE]   # exit 1 with the cause and the fix, 0 otherwise

``--config``: the output of ``pulumi config --json`` (default: stdin). Only this node's kernel is read: run it on
each node, or read its answer as "this node" when ``DOCKER_HOST`` points elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

PROJECT = "open-webui-redis"


def ipvs_available(root: Path = Path("/")) -> bool:
    """Whether this kernel has IPVS: loaded (``/proc/net/ip_vs``), built in, or a module it can load."""
    if (root / "proc/net/ip_vs").exists():
        return True
    modules = root / "lib/modules" / platform.release()
    builtin = modules / "modules.builtin"
    if builtin.exists() and "/ip_vs.ko" in builtin.read_text(errors="replace"):
        return True
    return any((modules / "kernel/net/netfilter/ipvs").glob("ip_vs.ko*"))


def endpoint_mode(config: dict[str, Any]) -> str | None:
    """The stack's Swarm endpoint mode from ``pulumi config --json``; None for a single-host stack."""

    def value(key: str) -> Any:
        item = config.get(f"{PROJECT}:{key}") or {}
        raw = item.get("objectValue", item.get("value"))
        return json.loads(raw) if isinstance(raw, str) and raw[:1] in "{[" else raw

    if value("engine") != "swarm":
        return None
    swarm = value("swarm") or {}
    return str(swarm.get("endpointMode", "vip")) if isinstance(swarm, dict) else "vip"


def problem(config: dict[str, Any], root: Path = Path("/")) -> str | None:
    """Why this stack cannot converge on this node, or None."""
    if endpoint_mode(config) != "vip" or ipvs_available(root):
        return None
    where = (
        f" (DOCKER_HOST={os.environ['DOCKER_HOST']}: this checked the machine running it)"
        if os.environ.get("DOCKER_HOST", "").startswith(("ssh://", "tcp://"))
        else ""
    )
    return (
        f"this node's kernel has no IPVS{where}, which Swarm's endpoint mode 'vip' (the default) needs for the "
        "services' virtual IPs and the routing mesh: the services would start but never reach each other, and "
        '`pulumi up` would stop after the wait timeout with pulumi-docker\'s "did not converge". Set '
        "`pulumi config set --path swarm.endpointMode dnsrr` (names resolve to the tasks' addresses; the port is "
        "published on the node running the load balancer), or load IPVS on every node (`modprobe ip_vs`)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--config", type=Path, help="a file holding `pulumi config --json` (default: stdin)")
    options = parser.parse_args(argv)
    text = options.config.read_text() if options.config else sys.stdin.read()
    found = problem(json.loads(text or "{}"))
    if found:
        print(f"error: {found}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
