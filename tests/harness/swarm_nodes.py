"""A second Swarm node on this machine: a Docker daemon in a container, joined to the host daemon's swarm.

The test daemon is the manager (:func:`ensure_swarm_manager`); :class:`WorkerNode` runs the ``owr-standin/dockerd``
stand-in (Debian bookworm's ``docker.io`` 20.10, the same line as the host's daemon; ``tests/standins/dockerd/``),
loads images into it (no registry is reachable: ``docker save`` piped into its ``docker load``) and joins it as a
worker::

    manager = ensure_swarm_manager()
    with WorkerNode("owr-swarm-worker", images=[valkey_tag]) as worker:
        worker.join(manager, worker_join_token())
        ...  # `docker node ls` on the host: two nodes Ready; worker.stop() takes the node down, worker.start() back

What it took here (Debian's docker.io 20.10.24, cgroup v1, kernel 6.18 in a Firecracker VM, iptables nf_tables):

- **No --privileged.** The VM's capability bounding set lacks ``CAP_SYS_RESOURCE``, so runc refuses every
  ``--privileged`` container ("unable to apply caps: operation not permitted"). :func:`privilege_flags` then
  gives every other capability, ``seccomp=unconfined``, ``apparmor=unconfined``, ``systempaths=unconfined``
  (``/proc/sys`` writable: dockerd sets ``ip_forward``) and all devices; the image's entrypoint remounts ``/sys``
  and the cgroup v1 hierarchies read-write (what --privileged mounts). Where the bounding set is full it is plain
  ``--privileged``.
- **Storage: overlay2**, on the image's ``/var/lib/docker`` volume (ext4 on the host). overlay2 on the
  container's own overlayfs root fails ("failed to mount overlay: invalid argument"); vfs was not needed.
- **iptables: nf_tables** (Debian's default alternative, as on the host) works inside; no legacy switch.
- **Sysctls: none set by hand.** dockerd sets ``net.ipv4.ip_forward=1`` in the container's namespace itself;
  ``net.bridge.bridge-nf-call-iptables`` is 1 there already (per network namespace on this kernel).
- **TLS off on purpose** (``--tls=false`` in the image): without it dockerd 20.10.24 waits 15 s at start to warn
  about an unauthenticated TCP socket.
- **Addresses.** The manager advertises the host's address on ``docker0``, the default bridge's gateway
  (172.17.0.1 here), and listens on it only (``--listen-addr <it>:2377``); workers are on that bridge too
  (172.17.0.2, ...). The host reaches a worker at its bridge address, a worker the manager at its gateway, and
  2377/tcp, 7946/tcp+udp and 4789/udp (VXLAN) flow with no rule added (INPUT policy ACCEPT, ICC on docker0).
  The same bridge matters: the kernel sends VXLAN from the address of the route to the peer, and a node drops
  VXLAN packets whose source is not the address the sender advertised (Docker's vxlan devices learn; the kernel
  drops a packet that would move a static FDB entry). Tried first, a worker on a user-defined bridge got the
  manager's packets from the host's address on that bridge: control plane fine, overlay traffic from the
  manager's side dropped (worker's vxlan0 received 0 packets). A worker's own dockerd sees 172.17.0.0/16 as its
  link and takes the next pools for its docker0 and docker_gwbridge (172.18, 172.19), so it does not shadow the
  manager's address. The default bridge has no fixed addresses: a restarted worker takes the first free one (its
  old one unless another container took it meanwhile; then :meth:`WorkerNode.start` joins again).
- **No IPVS** in this kernel (``CONFIG_IP_VS`` unset), on the host as in a worker: a service's virtual IP does not
  answer (the name resolves to the VIP, connections time out; dockerd logs ``net.ipv4.vs.*`` errors), so neither
  would the ingress routing mesh. ``--endpoint-mode dnsrr`` (the name resolves to the tasks) and
  ``tasks.<service>`` work, across nodes too, as do task addresses on the overlay.

Measured here (2 CPUs): image build 16.5 s without cache (513 MB); worker start, ``docker run`` to an answering
API, 1.7-1.9 s; loading the Valkey stand-in (185 MB) 3.7-5.9 s; join to Ready 0.1 s; after ``stop()`` (2.5-2.9 s
itself) the manager sees the node down 10-15 s after the stop began (heartbeat period 5 s), and a replicated
service's task runs on the manager 16-20 s after it (5.5 s after down: the default restart delay);
``start()`` to Ready 1.7-3.1 s.

Everything made here carries the stand-ins' label ``open-webui-redis.test=standin``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.harness import docker_standins as standins
from tests.harness.waiting import wait_for

IMAGE_NAME = "dockerd"
"""The stand-in's directory under ``tests/standins/``, and its repository: ``owr-standin/dockerd:<hash>``."""
API_PORT = 2375
"""Where a worker's dockerd answers, unencrypted, on its bridge address (:attr:`WorkerNode.docker_host`)."""
SWARM_PORT = 2377
GWBRIDGE = "docker_gwbridge"
NODE_LABEL = f"{standins.LABEL_KEY}.swarm-node"
"""Label of a worker container, its name as the value (besides ``open-webui-redis.test=standin``)."""

# linux/capability.h, by bit. Docker 20.10 grants (and knows by name) these 38, up to CAP_AUDIT_READ.
# fmt: off
_CAPABILITIES = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
    "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ",
)
# fmt: on


def _log(message: str) -> None:
    print(f"swarm_nodes: {message}", file=sys.stderr, flush=True)


def _docker(
    *args: str, host: str | None = None, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    command = ["docker", *(["-H", host] if host else []), *args]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit {result.returncode}): {result.stderr.strip()}")
    return result


def _out(*args: str, host: str | None = None, timeout: float = 120) -> str:
    return _docker(*args, host=host, timeout=timeout).stdout.strip()


def _until(what: str, condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> float:
    """Call ``condition`` until it is true: the seconds that took (TimeoutError after ``timeout``)."""
    started = time.monotonic()
    wait_for(condition, timeout, interval=interval, what=what)
    return time.monotonic() - started


# ---------------------------------------------------------------------------------------------------------
# The image
# ---------------------------------------------------------------------------------------------------------


def ensure_dockerd_image() -> str:
    """The tag of ``owr-standin/dockerd``, built first when missing (as ``docker_standins.ensure_image`` builds its
    stand-ins: same hashing, lock, log directory, label, and removal of the older tags; its list of names is
    closed, so the plan is made here). About 16 s to build without cache."""
    plan = standins._dockerfile_plan(IMAGE_NAME, "bookworm")
    if standins.image_id(plan.tag):
        return plan.tag
    with standins._locked("build"):
        if standins.image_id(plan.tag):
            return plan.tag
        started = time.monotonic()
        _log(f"building {plan.tag}")
        log = standins.cache_dir() / f"{IMAGE_NAME}.log"
        log.unlink(missing_ok=True)
        plan.build(log)
        _log(f"built {plan.tag} in {time.monotonic() - started:.1f} s")
        standins._remove_older_tags(plan.tag)
    return plan.tag


def privilege_flags(status: Path = Path("/proc/self/status")) -> list[str]:
    """``docker run`` flags for a nested dockerd: ``--privileged`` when this machine's capability bounding set is
    full, else its equivalent less the capabilities the set lacks (runc refuses ``--privileged`` then). The set
    read is this process's: the daemon's too when both run on the machine as here (the VM's set is inherited)."""
    bounding = next(int(line.split()[1], 16) for line in status.read_text().splitlines() if line.startswith("CapBnd:"))
    missing = [name for bit, name in enumerate(_CAPABILITIES) if not bounding >> bit & 1]
    if not missing:
        return ["--privileged"]
    flags = ["--cap-add=ALL", *(f"--cap-drop={name}" for name in missing)]
    # Unmasked /proc (systempaths), no seccomp or AppArmor filter, every device allowed by the device cgroup: what
    # --privileged also does. /sys and the cgroups stay read-only mounts: the entrypoint remounts them.
    flags += ["--security-opt=seccomp=unconfined", "--security-opt=apparmor=unconfined"]
    flags += ["--security-opt=systempaths=unconfined", "--device-cgroup-rule=a *:* rwm"]
    return flags


# ---------------------------------------------------------------------------------------------------------
# The manager: this machine's daemon
# ---------------------------------------------------------------------------------------------------------


def _swarm_info(host: str | None = None) -> dict[str, object]:
    info: dict[str, object] = json.loads(_out("info", "--format", "{{json .Swarm}}", host=host))
    return info


def bridge_gateway() -> str:
    """The host's address on ``docker0``: the gateway of the default ``bridge`` network."""
    configs = json.loads(_out("network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}")) or []
    for config in configs:
        if config.get("Gateway") and ipaddress.ip_address(config["Gateway"]).version == 4:
            return str(config["Gateway"])
    # A daemon started without --bip may list the subnet alone; docker0 then holds its first address.
    for config in configs:
        subnet = ipaddress.ip_network(config.get("Subnet") or "::/128", strict=False)
        if subnet.version == 4 and subnet.num_addresses > 2:
            return str(subnet[1])
    raise RuntimeError(f"the default bridge network has no IPv4 gateway: {configs}")


def ensure_swarm_manager() -> str:
    """This machine's daemon as a swarm manager (``docker swarm init`` when it is in no swarm; idempotent): the
    address it advertises, which workers join at ``<address>:2377``. A new swarm advertises :func:`bridge_gateway`
    (a worker container reaches it, and it stays as long as the daemon runs)."""
    with standins._locked("swarm-manager"):
        swarm = _swarm_info()
        state = swarm.get("LocalNodeState")
        if state == "inactive":
            address = bridge_gateway()
            started = time.monotonic()
            _docker("swarm", "init", "--advertise-addr", address, "--listen-addr", f"{address}:{SWARM_PORT}")
            _log(f"swarm initialised on {address}:{SWARM_PORT} in {time.monotonic() - started:.1f} s")
            swarm = _swarm_info()
            state = swarm.get("LocalNodeState")
        if state != "active" or not swarm.get("ControlAvailable"):
            raise RuntimeError(f"this daemon is in a swarm but not as a usable manager: {swarm}")
        return str(swarm["NodeAddr"])


def worker_join_token() -> str:
    """The swarm's current worker join token (this daemon must be a manager)."""
    return _out("swarm", "join-token", "--quiet", "worker")


def node_state(node_id: str) -> str | None:
    """``ready``, ``down``, ``unknown``, ``disconnected``: the manager's view of a node (None: no such node)."""
    result = _docker("node", "inspect", "--format", "{{.Status.State}}", node_id, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


# ---------------------------------------------------------------------------------------------------------
# A worker
# ---------------------------------------------------------------------------------------------------------


class WorkerNode:
    """A Docker daemon in a container on the default bridge, as a second Swarm node.

    Entering starts the container, waits for its dockerd and loads ``images`` into it; :meth:`join` makes it a
    worker of the host's swarm. :meth:`stop` and :meth:`start` take the node down and bring it back (its swarm
    state is on its ``/var/lib/docker`` volume: the same node ID). Leaving the block leaves the swarm, removes the
    container with its volume, then the node from the manager's list.
    """

    def __init__(
        self,
        name: str = "owr-swarm-worker",
        images: Iterable[str] = (),
        *,
        timeout: float = 60.0,
        binds: Iterable[str] = (),
    ) -> None:
        """``binds``: ``host-path:container-path`` mounts, such as a directory both nodes see at the same path (the
        stand-in for an NFS export)."""
        self.name = name
        self.images = list(images)
        self.binds = list(binds)
        self.timeout = timeout
        """Seconds to wait for the daemon to answer, and for the node to be Ready."""
        self._ip: str | None = None
        self._node_id: str | None = None
        self._manager: str | None = None
        self.timings: dict[str, float] = {}
        """Seconds taken: ``start`` (``docker run`` to an answering API), ``load <image>``, ``join`` (to Ready)."""
        self.loaded_bytes: dict[str, int] = {}
        """Size of each loaded image as the host's daemon reports it (``docker image inspect .Size``)."""

    # -- addresses ----------------------------------------------------------------------------------------

    @property
    def ip(self) -> str:
        """The container's address on the default bridge: where the host reaches its API, and the swarm the node."""
        if self._ip is None:
            raise RuntimeError(f"worker {self.name} has not been started")
        return self._ip

    @property
    def docker_host(self) -> str:
        """``tcp://<ip>:2375``, for ``docker -H`` or ``DOCKER_HOST``."""
        return f"tcp://{self.ip}:{API_PORT}"

    @property
    def node_id(self) -> str:
        """Its swarm node ID (``docker info`` on it; remembered once joined, so known while it is stopped)."""
        if self._node_id is None:
            node_id = _out("info", "--format", "{{.Swarm.NodeID}}", host=self.docker_host)
            if not node_id:
                raise RuntimeError(f"worker {self.name} is in no swarm")
            self._node_id = node_id
        return self._node_id

    def docker(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``docker -H <this worker> ARGS``."""
        return _docker(*args, host=self.docker_host, check=check, timeout=timeout)

    # -- life cycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        try:
            self._run()
            self.load(self.images)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _run(self) -> None:
        image = ensure_dockerd_image()
        stale = _docker("inspect", "--format", f'{{{{index .Config.Labels "{NODE_LABEL}"}}}}', self.name, check=False)
        if stale.returncode == 0:
            if stale.stdout.strip() != self.name:
                raise RuntimeError(f"a container named {self.name} exists and is not a worker made here")
            _log(f"removing the stale worker container {self.name}")
            _docker("rm", "--force", "--volumes", self.name)
        run = ["run", "--detach", "--name", self.name, "--hostname", self.name]
        run += ["--label", standins.LABEL, "--label", f"{NODE_LABEL}={self.name}", *privilege_flags()]
        for bind in self.binds:
            run += ["--volume", bind]
        started = time.monotonic()
        _out(*run, image)
        self._ip = self._address()
        self._wait_daemon()
        self.timings["start"] = time.monotonic() - started
        _log(f"worker {self.name} at {self._ip} answers ({self.timings['start']:.1f} s after docker run)")

    def _address(self) -> str:
        address = _out("inspect", "--format", "{{.NetworkSettings.IPAddress}}", self.name)
        if not address:
            raise RuntimeError(f"worker {self.name} has no address on the default bridge")
        return address

    def _running(self) -> bool:
        result = _docker("inspect", "--format", "{{.State.Running}}", self.name, check=False)
        return result.stdout.strip() == "true"

    def _wait_daemon(self) -> float:
        def answers() -> bool:
            if not self._running():
                logs = _docker("logs", "--tail", "30", self.name, check=False)
                raise RuntimeError(f"worker {self.name} exited; its log ends:\n{logs.stdout}{logs.stderr}")
            return self.docker("version", "--format", "{{.Server.Version}}", check=False, timeout=10).returncode == 0

        return _until(f"the dockerd of {self.name} at {self.docker_host}", answers, self.timeout)

    def load(self, images: Iterable[str]) -> None:
        """``docker save IMAGE | docker -H <worker> load`` for each image (streamed, no file in between)."""
        for image in images:
            size = int(_out("image", "inspect", "--format", "{{.Size}}", image))
            started = time.monotonic()
            save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
            try:
                load = subprocess.run(
                    ["docker", "-H", self.docker_host, "load", "--quiet"],
                    stdin=save.stdout,
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=600,
                )
            finally:
                if save.stdout is not None:
                    save.stdout.close()
                saved = save.wait()
            if saved != 0 or load.returncode != 0:
                raise RuntimeError(f"moving {image} into {self.name} failed (save {saved}): {load.stderr.strip()}")
            took = time.monotonic() - started
            self.timings[f"load {image}"] = took
            self.loaded_bytes[image] = size
            _log(f"loaded {image} ({size / 1e6:.0f} MB) into {self.name} in {took:.1f} s")

    def join(self, manager_addr: str | None = None, token: str | None = None) -> str:
        """Join the swarm of ``manager_addr`` (default :func:`ensure_swarm_manager`) as a worker, with ``token``
        (default :func:`worker_join_token`), advertising :attr:`ip`; wait until the manager sees it Ready. Its
        node ID. Nodes of the same name that the manager still lists as down (earlier runs') are removed first."""
        self._manager = manager_addr = manager_addr or ensure_swarm_manager()
        if self.docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip() == "active":
            return self.node_id
        token = token or worker_join_token()
        listed = _out("node", "ls", "--filter", f"name={self.name}", "--format", "{{.ID}} {{.Hostname}}")
        for line in listed.splitlines():
            node_id, _, hostname = line.partition(" ")
            if hostname == self.name and node_state(node_id) == "down":
                _docker("node", "rm", "--force", node_id, check=False)
        started = time.monotonic()
        self.docker("swarm", "join", "--token", token, "--advertise-addr", self.ip, f"{manager_addr}:{SWARM_PORT}")
        node_id = self.node_id
        self.wait_state("ready")
        self.timings["join"] = time.monotonic() - started
        _log(f"worker {self.name} joined {manager_addr} as node {node_id} ({self.timings['join']:.1f} s to Ready)")
        return node_id

    def wait_state(self, state: str, timeout: float | None = None) -> float:
        """Wait until the manager sees this node in ``state`` (``ready``, ``down``): the seconds it took."""
        node_id = self.node_id
        limit = self.timeout if timeout is None else timeout
        return _until(f"node {self.name} ({node_id}) {state}", lambda: node_state(node_id) == state, limit)

    def stop(self, timeout: int = 10) -> None:
        """``docker stop`` the container: the node goes down as a machine would (its tasks die with its dockerd; it
        does not leave the swarm: the manager notices the missed heartbeats)."""
        _out("stop", "--time", str(timeout), self.name, timeout=timeout + 60)

    def start(self) -> None:
        """Start the stopped container again and wait for its dockerd; a joined node rejoins by itself (the same
        node ID): wait until the manager sees it Ready. The default bridge gives a restarted container the first
        free address: when another container took the old one meanwhile, the node's advertised address is wrong,
        so it leaves and joins again (a new node ID)."""
        started = time.monotonic()
        _out("start", self.name)
        previous, self._ip = self._ip, self._address()
        self._wait_daemon()
        if self._manager is not None:
            if self._ip == previous:
                self.wait_state("ready")
            else:
                _log(f"worker {self.name} came back at {self._ip} instead of {previous}: joining again")
                self.docker("swarm", "leave", "--force", check=False, timeout=60)
                if self._node_id is not None:
                    _docker("node", "rm", "--force", self._node_id, check=False)
                    self._node_id = None
                self.join(self._manager)
        _log(f"worker {self.name} started again in {time.monotonic() - started:.1f} s")

    def close(self) -> None:
        """Leave the swarm, remove the container (and its volume), then the node from the manager's list."""
        if self._ip is not None and self._running():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                found = self.docker("info", "--format", "{{.Swarm.NodeID}}", check=False, timeout=30).stdout.strip()
                self._node_id = self._node_id or found or None
                self.docker("swarm", "leave", "--force", check=False, timeout=60)
        _docker("rm", "--force", "--volumes", self.name, check=False)
        if self._node_id is not None:
            _docker("node", "rm", "--force", self._node_id, check=False)
        self._ip = self._node_id = self._manager = None


@contextlib.contextmanager
def swarm_manager() -> Iterator[str]:
    """:func:`ensure_swarm_manager` for a block: the manager's address; the swarm is left at the end (``docker swarm
    leave --force``) only when this block initialised it."""
    was_active = _swarm_info().get("LocalNodeState") == "active"
    had_gwbridge = _docker("network", "inspect", GWBRIDGE, check=False).returncode == 0
    address = ensure_swarm_manager()
    try:
        yield address
    finally:
        if not was_active:
            _docker("swarm", "leave", "--force", check=False, timeout=120)
            if not had_gwbridge:  # made by the daemon for the first task on an overlay network; stays after leaving
                _docker("network", "rm", GWBRIDGE, check=False)
