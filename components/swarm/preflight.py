"""What a Swarm stack needs from the node's kernel, checked before `pulumi up` (``scripts/deploy`` runs this).

Swarm's default endpoint mode, ``vip``, gives each service a virtual IP that the kernel's IPVS load balancer
serves, and publishes ports through the routing mesh, which IPVS serves too. On a kernel without IPVS the
services start but cannot reach each other's virtual IPs: Open WebUI never reaches PostgreSQL, its tasks never
turn healthy, and after ``waitTimeout`` pulumi-docker stops with "did not converge", which names no cause. With
``swarm.endpointMode: dnsrr`` a service name resolves to its tasks' addresses instead, and no IPVS is needed.

    python -m components.swarm.preflight --endpoint-mode vip   # exit 1 with the cause and the fix, else 0

Only this machine's kernel can be read: the check stops a deployment only where the Docker daemon is this
machine's (``DOCKER_HOST`` unset or a unix socket, on Linux); elsewhere it prints what to check on each node.
``OWR_SKIP_PREFLIGHT=1`` turns a refusal into that note.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

NO_IPVS = (
    "Swarm's endpoint mode 'vip' (the default) needs IPVS in every node's kernel for the services' virtual IPs "
    "and the routing mesh: without it the services start but never reach each other, and `pulumi up` stops after "
    'the wait timeout with pulumi-docker\'s "did not converge". Set `pulumi config set --path swarm.endpointMode '
    "dnsrr` (names resolve to the tasks' addresses; the port is published on the node running the load balancer), "
    "or load IPVS on every node (`modprobe ip_vs`)"
)


def ipvs_available(root: Path = Path("/")) -> bool:
    """Whether this kernel has IPVS: loaded (``/proc/net/ip_vs``), built in, or a module it can load."""
    if (root / "proc/net/ip_vs").exists():
        return True
    modules = root / "lib/modules" / platform.release()
    builtin = modules / "modules.builtin"
    if builtin.exists() and "/ip_vs.ko" in builtin.read_text(errors="replace"):
        return True
    if any((modules / "kernel/net/netfilter/ipvs").glob("ip_vs.ko*")):
        return True
    modprobe = shutil.which("modprobe")
    if root == Path("/") and modprobe is not None:  # a module installed elsewhere (NixOS, a custom layout)
        return subprocess.run([modprobe, "-nq", "ip_vs"], capture_output=True).returncode == 0
    return False


def local_daemon(environ: dict[str, str] | None = None) -> bool:
    """Whether the Docker daemon that `pulumi up` reaches is this Linux machine's."""
    environ = dict(os.environ if environ is None else environ)
    host = environ.get("DOCKER_HOST", "")
    return (
        platform.system() == "Linux"
        and not environ.get("DOCKER_CONTEXT")
        and (host in ("",) or host.startswith("unix://"))
    )


def problem(
    endpoint_mode: str, root: Path = Path("/"), environ: dict[str, str] | None = None
) -> tuple[str, bool] | None:
    """What to say before `pulumi up`, and whether it stops the deployment; None when there is nothing to say."""
    if endpoint_mode != "vip":
        return None
    if not local_daemon(environ):
        return (
            f"the nodes' kernels cannot be read from here; check each for IPVS (`ls /proc/net/ip_vs`): {NO_IPVS}",
            False,
        )
    if ipvs_available(root):
        return None
    skip = (environ if environ is not None else os.environ).get("OWR_SKIP_PREFLIGHT") == "1"
    return (f"this node's kernel has no IPVS. {NO_IPVS}", not skip)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--endpoint-mode", default="vip", help="the stack's swarm.endpointMode (default: vip)")
    found = problem(parser.parse_args(argv).endpoint_mode)
    if found is None:
        return 0
    message, stops = found
    print(f"{'error' if stops else 'note'}: {message}", file=sys.stderr)
    return 1 if stops else 0


if __name__ == "__main__":
    sys.exit(main())
