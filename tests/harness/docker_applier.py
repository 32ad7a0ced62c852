"""Carry out a rendered deployment on a real Docker daemon the way pulumi-docker's provider does, and diff it.

``components.testing.render`` gives what the program declares (under Pulumi's mocks). ``Applier`` creates it on
the daemon step by step as pulumi-docker 5.x does (its embedded Terraform provider, terraform-provider-docker
v4.5, ``internal/provider/resource_docker_*``; the Docker Go client it vendors, moby v28.5):

- the client negotiates the API version with ``/_ping`` and makes the Go client's own version checks before a
  container is created (``client/container_create.go``: a stop timeout needs 1.25, a health start interval
  1.44), and sends capabilities as that client does (upper case, ``CAP_`` prefix, sorted);
- networks are created (or adopted, ``getNetwork``), volumes created, images looked up locally by name and
  pulled only when missing;
- a container is created on the default ``bridge`` network, disconnected from it and connected to each of
  ``networks_advanced`` with its aliases, each upload copied in as a one-entry tar extracted at ``/``, then
  started; with ``wait`` its health is polled every second until healthy or ``wait_timeout`` runs out (the
  provider does not delete a container that timed out);
- delete stops with ``destroy_grace_seconds`` (0 without: a kill) and force-removes;
- the engine's order (``tests/harness/scheduler.py``, shared with ``tests/harness/swarm_applier.py``): dependencies
  first, delete-before-replace where declared or answered (containers, explicit names), what the engine replaces
  along with a resource replaced delete-before-replace (``tests/harness/engine_rules.py``) deleted first, removed
  resources deleted at the end.

``read_container`` is the provider's ``resourceDockerContainerRead`` for the fields it reads back (``envs``,
``labels``, ``volumes``, ``uploads`` and ``networks_advanced`` are not read, so state keeps what was declared);
``diff_container`` compares a declaration with that state as the provider's plan does (schema defaults,
Computed fields, ForceNew fields, the ports' order-insensitive comparison). Any difference is what the next
``pulumi up`` would do.

What differs from the real provider: this is Python, not the Go client; the checks above are the Go client's,
ported (``tests/docker/test_real_docker.py`` shows that the real Go client of the ``docker`` CLI refuses the same start
interval on this daemon). Only the fields this project declares are mapped.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import tarfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from components.testing import Resource, _image_id
from tests.harness.loopback import go_duration
from tests.harness.scheduler import Change, Step, StepScheduler

CLIENT_API_VERSION = "1.51"
"""The API version moby's v28.5 client starts from before negotiating down to the daemon's."""
MIB = 1024 * 1024
KEPT_CAPABILITY_BITS = {"CAP_DAC_OVERRIDE": 1, "CAP_SETGID": 6, "CAP_SETUID": 7}
"""Bit numbers of the capabilities Valkey keeps (``components.core.valkey.KEPT_CAPABILITIES``), for ``CapBnd``."""
CONTAINER = "docker:index/container:Container"
NETWORK = "docker:index/network:Network"
VOLUME = "docker:index/volume:Volume"
IMAGE = "docker:index/remoteImage:RemoteImage"


class DockerError(Exception):
    """The daemon refused a request, or the client refused to send it."""


class ClientVersionError(DockerError):
    """Docker's Go client refuses a field the daemon's API version does not have."""


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


class EngineClient:
    """The Docker Engine API as pulumi-docker's client calls it (``WithAPIVersionNegotiation``)."""

    def __init__(self, host: str | None = None, timeout: float = 120.0) -> None:
        self.host = host or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        self.timeout = timeout
        ping = self._raw("GET", "/_ping")
        server = ping[1].get("api-version") or "1.24"  # moby's fallbackAPIVersion
        self.version = server if _version(server) < _version(CLIENT_API_VERSION) else CLIENT_API_VERSION

    def _connection(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.host)
        if parts.scheme == "unix":
            return _UnixConnection(parts.path, self.timeout)
        if parts.scheme in ("tcp", "http"):
            return http.client.HTTPConnection(parts.hostname or "localhost", parts.port or 2375, timeout=self.timeout)
        raise DockerError(f"DOCKER_HOST {self.host!r}: only unix:// and tcp:// are supported here")

    def _raw(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = self._connection()
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        data: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """One API call under the negotiated version; the decoded JSON answer (None when empty)."""
        url = f"/v{self.version}{path}" + (f"?{urlencode(query)}" if query else "")
        payload = data if data is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": content_type} if payload is not None else {}
        status, _, answer = self._raw(method, url, payload, headers)
        if status >= 400:
            try:
                message = json.loads(answer).get("message", answer.decode())
            except ValueError:
                message = answer.decode(errors="replace")
            raise DockerError(f"{method} {path}: {status} {message}")
        return json.loads(answer) if answer.strip() else None

    def require(self, minimum: str, what: str) -> None:
        """``cli.NewVersionError``: the Go client's refusal, in its words."""
        if _version(self.version) < _version(minimum):
            raise ClientVersionError(
                f'"{what}" requires API version {minimum}, but the Docker daemon API version is {self.version}'
            )

    def inspect_container(self, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.call("GET", f"/containers/{quote(name)}/json")
        except DockerError as error:
            if ": 404 " in str(error):
                return None
            raise
        return found

    def process_status(self, container: str, pid: int = 1) -> dict[str, str]:
        """``/proc/<pid>/status`` of a process in a running container, by field (``Uid``, ``CapBnd``, ...)."""
        code, status = self.exec(container, ["cat", f"/proc/{pid}/status"])
        if code != 0:
            raise DockerError(f"cat /proc/{pid}/status in {container}: {code} {status}")
        return dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)

    def exec(self, container: str, argv: list[str], env: list[str] | None = None) -> tuple[int, str]:
        """Run ``argv`` in a running container; exit code and output (stdout and stderr, demultiplexed)."""
        created = self.call(
            "POST",
            f"/containers/{quote(container)}/exec",
            body={"Cmd": argv, "Env": env or [], "AttachStdout": True, "AttachStderr": True},
        )
        status, _, raw = self._raw(
            "POST",
            f"/v{self.version}/exec/{created['Id']}/start",
            json.dumps({"Detach": False, "Tty": False}).encode(),
            {"Content-Type": "application/json"},
        )
        if status >= 400:
            raise DockerError(f"exec in {container}: {status} {raw.decode(errors='replace')}")
        output, offset = [], 0
        while offset + 8 <= len(raw):  # the multiplexed stream: 8-byte frame headers
            size = int.from_bytes(raw[offset + 4 : offset + 8], "big")
            output.append(raw[offset + 8 : offset + 8 + size])
            offset += 8 + size
        code = self.call("GET", f"/exec/{created['Id']}/json")["ExitCode"]
        return int(code), b"".join(output).decode(errors="replace")


# ---------------------------------------------------------------------------------------------------------
# Durations, capabilities: as Go and the Go client write them
# ---------------------------------------------------------------------------------------------------------


def parse_duration(text: str) -> int:
    """Nanoseconds of a Go duration string, as ``time.ParseDuration`` gives them (``"0"`` is zero too)."""
    return 0 if text in ("0", "") else round(go_duration(text) * 10**9)


def duration_string(nanoseconds: int) -> str:
    """Go's ``time.Duration.String()`` for whole milliseconds and up (what Docker's fields hold here)."""
    if nanoseconds == 0:
        return "0s"
    if nanoseconds < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if nanoseconds >= size:
                return f"{nanoseconds / size:g}{unit}"
    hours, rest = divmod(nanoseconds, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = f"{rest / 10**9:.9f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{minutes}m{seconds}s"
    return f"{seconds}s"


def normalize_capabilities(values: Iterable[str]) -> list[str]:
    """What moby's client sends for CapAdd/CapDrop (v28, moby#48551): upper case, ``CAP_`` prefix, sorted."""
    normalized = {
        value.upper() if value.upper() == "ALL" else "CAP_" + value.upper().removeprefix("CAP_") for value in values
    }
    return sorted(normalized)


# ---------------------------------------------------------------------------------------------------------
# Container: create, read, diff, delete (resource_docker_container_funcs.go)
# ---------------------------------------------------------------------------------------------------------


def _healthcheck_config(healthcheck: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Test": list(healthcheck.get("tests") or []),
        "Interval": parse_duration(healthcheck.get("interval", "0s")),
        "Timeout": parse_duration(healthcheck.get("timeout", "0s")),
        "StartPeriod": parse_duration(healthcheck.get("startPeriod", "0s")),
        "StartInterval": parse_duration(healthcheck.get("startInterval", "0s")),
        "Retries": int(healthcheck.get("retries", 0)),
    }


def create_request(inputs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``Config`` and ``HostConfig`` as ``resourceDockerContainerCreate`` builds them from the inputs."""
    config: dict[str, Any] = {
        "Image": inputs["image"],
        "Env": list(inputs.get("envs") or []),
        "Labels": {label["label"]: label["value"] for label in inputs.get("labels") or []},
        "AttachStdin": False,
        "Tty": False,
        "OpenStdin": False,
    }
    if inputs.get("command"):
        config["Cmd"] = list(inputs["command"])
    if inputs.get("entrypoints"):
        config["Entrypoint"] = list(inputs["entrypoints"])
    for key, name in (("user", "User"), ("workingDir", "WorkingDir"), ("hostname", "Hostname")):
        if inputs.get(key):
            config[name] = inputs[key]
    if "stopTimeout" in inputs:
        config["StopTimeout"] = int(inputs["stopTimeout"])
    if inputs.get("stopSignal"):
        config["StopSignal"] = inputs["stopSignal"]
    if inputs.get("healthcheck"):
        config["Healthcheck"] = _healthcheck_config(inputs["healthcheck"])
    ports = inputs.get("ports") or []
    config["ExposedPorts"] = {f"{p['internal']}/{p.get('protocol', 'tcp')}": {} for p in ports}
    capabilities = inputs.get("capabilities") or {}
    host: dict[str, Any] = {
        "Privileged": bool(inputs.get("privileged", False)),
        "PublishAllPorts": bool(inputs.get("publishAllPorts", False)),
        "RestartPolicy": {
            "Name": inputs.get("restart", "no"),
            "MaximumRetryCount": int(inputs.get("maxRetryCount", 0)),
        },
        "Mounts": [],
        "AutoRemove": bool(inputs.get("rm", False)),
        "ReadonlyRootfs": bool(inputs.get("readOnly", False)),
        "LogConfig": {"Type": inputs.get("logDriver", ""), "Config": dict(inputs.get("logOpts") or {})},
        "Binds": [
            f"{v.get('volumeName') or v.get('hostPath')}:{v['containerPath']}:{'ro' if v.get('readOnly') else 'rw'}"
            for v in inputs.get("volumes") or []
        ],
        "PortBindings": {
            f"{p['internal']}/{p.get('protocol', 'tcp')}": [
                {"HostIp": p.get("ip", "0.0.0.0"), "HostPort": str(p.get("external", 0))}
            ]
            for p in ports
        },
        "NetworkMode": inputs.get("networkMode", "bridge"),
        "Init": bool(inputs.get("init", False)),
    }
    if capabilities:
        host["CapAdd"] = normalize_capabilities(capabilities.get("adds") or [])
        host["CapDrop"] = normalize_capabilities(capabilities.get("drops") or [])
    if inputs.get("memory"):
        host["Memory"] = int(inputs["memory"]) * MIB
    if "memorySwap" in inputs:
        swap = int(inputs["memorySwap"])
        host["MemorySwap"] = swap * MIB if swap > 0 else swap
    if inputs.get("sysctls"):  # d.GetOk: sent only when declared
        host["Sysctls"] = {str(name): str(value) for name, value in inputs["sysctls"].items()}
    if inputs.get("ulimits"):
        host["Ulimits"] = [
            {"Name": u["name"], "Soft": int(u["soft"]), "Hard": int(u["hard"])} for u in inputs["ulimits"]
        ]
    return config, host


def upload_archive(path: str, content: str, permissions: str | None) -> bytes:
    """The provider's tar for one upload: a single regular file named by its full path, mode from ``permissions``."""
    data = content.encode()
    info = tarfile.TarInfo(path)
    info.size = len(data)
    info.mode = int(permissions, 8) if permissions else 0o644
    info.mtime = int(time.time())
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def read_container(inspect: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
    """The state ``resourceDockerContainerRead`` writes, in the Pulumi SDK's names, for what this project uses."""
    config, host, state = inspect["Config"], inspect["HostConfig"], inspect["State"]
    running = bool(state.get("Running"))
    read: dict[str, Any] = {
        "name": inspect["Name"].lstrip("/"),
        "image": inspect["Image"] if str(declared.get("image", "")).startswith("sha256:") else config["Image"],
        "command": list(config.get("Cmd") or []),
        "entrypoints": list(config.get("Entrypoint") or []),
        "user": config.get("User", ""),
        "workingDir": config.get("WorkingDir", ""),
        "hostname": config.get("Hostname", ""),
        "restart": host["RestartPolicy"]["Name"],
        "maxRetryCount": host["RestartPolicy"].get("MaximumRetryCount", 0),
        "init": bool(host.get("Init") or False),
        "privileged": bool(host.get("Privileged")),
        "readOnly": bool(host.get("ReadonlyRootfs")),
        "publishAllPorts": bool(host.get("PublishAllPorts")),
        "networkMode": host.get("NetworkMode", ""),
        "memory": (host.get("Memory") or 0) // MIB,
        "memorySwap": (host["MemorySwap"] // MIB)
        if (host.get("MemorySwap") or 0) > 0
        else (host.get("MemorySwap") or 0),
        "logDriver": host["LogConfig"]["Type"],
        "sysctls": dict(host.get("Sysctls") or {}),  # d.Set on every read; ForceNew
        "stopSignal": config.get("StopSignal", ""),
        "mustRun": declared.get("mustRun", True) if running else False,
    }
    if config.get("StopTimeout") is not None:
        read["stopTimeout"] = config["StopTimeout"]
    if host.get("CapAdd") or host.get("CapDrop"):
        read["capabilities"] = {"adds": list(host.get("CapAdd") or []), "drops": list(host.get("CapDrop") or [])}
    if "logOpts" in declared:
        read["logOpts"] = dict(host["LogConfig"].get("Config") or {})
    if "ulimits" in declared:
        read["ulimits"] = [{"name": u["Name"], "soft": u["Soft"], "hard": u["Hard"]} for u in host.get("Ulimits") or []]
    if (running or declared.get("mustRun", True)) and "ports" in declared:
        ports = []
        for key, bindings in sorted((inspect["NetworkSettings"].get("Ports") or {}).items()):
            internal, protocol = key.split("/")
            for binding in bindings or []:
                ports.append(
                    {
                        "internal": int(internal),
                        "external": int(binding["HostPort"]),
                        "ip": binding["HostIp"],
                        "protocol": protocol,
                    }
                )
        read["ports"] = ports
    health = config.get("Healthcheck")
    if health is not None:
        read["healthcheck"] = {
            "tests": list(health.get("Test") or []),
            "interval": duration_string(health.get("Interval", 0)),
            "timeout": duration_string(health.get("Timeout", 0)),
            "startPeriod": duration_string(health.get("StartPeriod", 0)),
            "startInterval": duration_string(health.get("StartInterval", 0)),
            "retries": health.get("Retries", 0),
        }
    return read


# Fields of the container schema (v4.5) this project touches: update in place or ForceNew, Computed or default.
_UPDATABLE = {"restart", "maxRetryCount", "memory", "memorySwap", "mustRun", "healthcheck", "init"}
_COMPUTED = {"command", "entrypoints", "hostname", "stopTimeout", "stopSignal", "logDriver", "init", "healthcheck"}
_NOT_READ_FORCE_NEW = ("envs", "labels", "volumes", "uploads", "networksAdvanced")
_NOT_READ_UPDATABLE = ("destroyGraceSeconds", "wait", "waitTimeout", "start", "rm", "removeVolumes")
"""Inputs the provider never reads back (state keeps what was declared); a change to one is an update of state."""
_DEFAULTS: dict[str, Any] = {
    "restart": "no",
    "maxRetryCount": 0,
    "privileged": False,
    "readOnly": False,
    "publishAllPorts": False,
    "networkMode": "bridge",
    "memory": 0,
    "memorySwap": 0,
    "mustRun": True,
}


def _declared_value(key: str, value: Any) -> Any:
    if key == "healthcheck":
        defaults = {"interval": "0s", "timeout": "0s", "startPeriod": "0s", "startInterval": "0s", "retries": 0}
        return {**defaults, **value}
    if key == "capabilities":
        return {k: sorted(value.get(k) or []) for k in ("adds", "drops")}
    if key == "ports":
        return sorted(
            (p["internal"], p.get("protocol", "tcp"), p.get("external", 0), p.get("ip") or "0.0.0.0") for p in value
        )
    if key == "ulimits":
        return sorted((u["name"], u["soft"], u["hard"]) for u in value)
    return value


def diff_container(
    declared: Mapping[str, Any], state: Mapping[str, Any], replace_on_changes: Iterable[str] = ()
) -> list[Change]:
    """The provider's plan for a container: each field where the declaration and the read state differ."""
    forced = set(replace_on_changes)
    changes = []
    for key, state_value in state.items():
        if key in declared:
            want = _declared_value(key, declared[key])
        elif key in _COMPUTED or key in ("user", "workingDir", "entrypoints"):
            continue  # Optional+Computed (or suppressed when empty): an undeclared field keeps what was read
        else:
            want = _DEFAULTS.get(key)
        have = _declared_value(key, state_value) if key in ("capabilities", "ports", "ulimits") else state_value
        if key in ("user", "workingDir") and not declared.get(key):
            continue
        if want != have and not (want is None and have in (0, "", [], {})):
            action = "replace" if key not in _UPDATABLE or key in forced else "update"
            changes.append(Change(key, want, have, action))
    return changes


# ---------------------------------------------------------------------------------------------------------
# One resource's step, as the provider carries it out (the engine's walk: tests/harness/scheduler.py)
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Applied:
    """One resource carried out on the daemon: its inputs (mock ids replaced by real ones) and its Docker id."""

    resource: Resource
    inputs: dict[str, Any]
    docker_id: str
    state: dict[str, Any] = field(default_factory=dict)
    """For a container: what the provider read back after creating it."""
    created_at: float = 0.0
    """``time.monotonic()`` when it was created (containers)."""
    started_at: float = 0.0
    healthy_after: float | None = None
    """Seconds from start to the provider seeing it healthy (with ``wait``): when ``pulumi up`` goes on."""


class Applier(StepScheduler[Applied]):
    """Applies rendered deployments to one daemon, as ``pulumi up`` would, one after another (state kept here);
    ``plan``, ``apply``, ``steps``, ``state`` and ``timeline`` are the engine's (``tests/harness/scheduler.py``)."""

    def __init__(self, client: EngineClient, log: Callable[[str], None] = lambda _: None) -> None:
        super().__init__(log)
        self.client = client
        self._images: dict[str, str] = {}
        """A RemoteImage's image_id (the containers' image input) -> the local image of that name."""

    # -- declarations -> concrete inputs ----------------------------------------------------------------

    def _handles(self, resource: Resource) -> bool:
        return resource.type.startswith("docker:index/")

    def _prepare(self, resources: list[Resource]) -> None:
        # The local image of each RemoteImage's name, as findImage does (pulled when missing).
        self._images = {
            _image_id(r.inputs["name"]): self._image_id(r.inputs["name"]) for r in resources if r.type == IMAGE
        }

    def _inputs(self, resource: Resource) -> dict[str, Any]:
        inputs: dict[str, Any] = json.loads(json.dumps(resource.inputs))
        if resource.type == CONTAINER and inputs["image"] in self._images:
            inputs["image"] = self._images[inputs["image"]]
        return inputs

    # -- steps ----------------------------------------------------------------------------------------

    def _image_id(self, reference: str) -> str:
        try:
            found = self.client.call("GET", f"/images/{quote(reference, safe='')}/json")
        except DockerError:
            self.log(f"image {reference} not found locally: pulling")
            self.client.call("POST", "/images/create", query={"fromImage": reference})
            found = self.client.call("GET", f"/images/{quote(reference, safe='')}/json")
        return str(found["Id"])

    def _create(self, resource: Resource, inputs: dict[str, Any]) -> Applied:
        if resource.type == NETWORK:
            body = {
                "Name": inputs["name"],
                "Driver": inputs.get("driver", "bridge"),
                "IPAM": {"Driver": inputs.get("ipamDriver", "default")},
                "Internal": bool(inputs.get("internal", False)),
                "Attachable": bool(inputs.get("attachable", False)),
            }
            created = self.client.call("POST", "/networks/create", body=body)
            return Applied(resource, inputs, created["Id"])
        if resource.type == VOLUME:
            created = self.client.call("POST", "/volumes/create", body={"Name": inputs["name"]})
            return Applied(resource, inputs, created["Name"])
        if resource.type == IMAGE:
            return Applied(resource, inputs, self._image_id(inputs["name"]))
        return self._create_container(resource, inputs)

    def _create_container(self, resource: Resource, inputs: dict[str, Any]) -> Applied:
        config, host = create_request(inputs)
        # The Go client's own checks (client/container_create.go), before anything reaches the daemon.
        if "StopTimeout" in config:
            self.client.require("1.25", "stop timeout")
        if config.get("Healthcheck", {}).get("StartInterval"):
            self.client.require("1.44", "specify health-check start interval")
        name = inputs["name"]
        created = self.client.call(
            "POST",
            "/containers/create",
            query={"name": name},
            body={**config, "HostConfig": host, "NetworkingConfig": {}},
        )
        container_id = created["Id"]
        networks = inputs.get("networksAdvanced") or []
        if networks:
            self.client.call("POST", "/networks/bridge/disconnect", body={"Container": container_id, "Force": False})
        for network in networks:
            endpoint = {"Aliases": list(network.get("aliases") or []), "IPAMConfig": {}, "DriverOpts": {}}
            self.client.call(
                "POST",
                f"/networks/{quote(network['name'])}/connect",
                body={"Container": container_id, "EndpointConfig": endpoint},
            )
        for upload in inputs.get("uploads") or []:
            archive = upload_archive(upload["file"], upload.get("content", ""), upload.get("permissions"))
            self.client.call(
                "PUT",
                f"/containers/{container_id}/archive",
                query={"path": "/", "noOverwriteDirNonDir": "true"},
                data=archive,
                content_type="application/x-tar",
            )
        applied = Applied(resource, inputs, container_id, created_at=time.monotonic())
        if inputs.get("start", True):
            self.client.call("POST", f"/containers/{container_id}/start")
            applied.started_at = time.monotonic()
        if inputs.get("wait"):
            try:
                applied.healthy_after = self._wait_healthy(name, container_id, float(inputs.get("waitTimeout", 60)))
            except DockerError as error:
                # The provider keeps a container that did not turn healthy (the resource is recorded with an
                # initialization error): so does the state here, and destroy() removes it.
                self.state[resource.urn] = applied
                raise error
        applied.state = read_container(self.client.call("GET", f"/containers/{container_id}/json"), inputs)
        return applied

    def _wait_healthy(self, name: str, container_id: str, timeout: float) -> float:
        started = time.monotonic()
        while True:
            info = self.client.call("GET", f"/containers/{container_id}/json")
            health = info["State"].get("Health")
            if health is None:
                raise DockerError(f"{name}: 'wait' without a healthcheck")
            if health["Status"] == "healthy":
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                last = (health.get("Log") or [{}])[-1]
                output = last.get("Output", "")[-300:]
                raise DockerError(
                    f"{name}: container failed to be in healthy state within {timeout:.0f} s "
                    f"(status {health['Status']}; last check exit {last.get('ExitCode')}: {output!r})"
                )
            time.sleep(1.0)

    def _delete(self, applied: Applied) -> None:
        resource, docker_id = applied.resource, applied.docker_id
        if resource.type == CONTAINER:
            grace = int(applied.inputs.get("destroyGraceSeconds") or 0)
            try:
                self.client.call("POST", f"/containers/{docker_id}/stop", query={"t": grace})
            except DockerError as error:
                if ": 404 " not in str(error):
                    raise
            try:
                self.client.call("DELETE", f"/containers/{docker_id}", query={"force": 1, "v": 1})
            except DockerError as error:
                if ": 404 " not in str(error):
                    raise
        elif resource.type == VOLUME and not resource.retain_on_delete:
            self.client.call("DELETE", f"/volumes/{quote(docker_id)}", query={"force": "true"})
        elif resource.type == NETWORK:
            self.client.call("DELETE", f"/networks/{docker_id}")
        # images are kept (keep_locally) and retained volumes are left for the next stack

    def _update(self, applied: Applied, inputs: dict[str, Any]) -> None:
        body: dict[str, Any] = {
            "RestartPolicy": {
                "Name": inputs.get("restart", "no"),
                "MaximumRetryCount": int(inputs.get("maxRetryCount", 0)),
            },
            "Memory": int(inputs.get("memory", 0)) * MIB,
        }
        if "memorySwap" in inputs:
            swap = int(inputs["memorySwap"])
            body["MemorySwap"] = swap * MIB if swap > 0 else swap
        self.client.call("POST", f"/containers/{applied.docker_id}/update", body=body)
        applied.inputs = inputs
        applied.state = {**applied.state, **{k: v for k, v in inputs.items() if k in applied.state}}  # no re-read

    def _decide(self, resource: Resource, inputs: dict[str, Any], old: Applied) -> Step:
        if resource.type == CONTAINER:
            changes = diff_container(inputs, old.state, resource.replace_on_changes)
            # Not read back: the state holds what was declared. Values are not kept in the change (envs and
            # uploads hold secrets, and a failing assertion would print them).
            changes += [
                Change(key, "(declared now)", "(declared before)", action)
                for keys, action in ((_NOT_READ_FORCE_NEW, "replace"), (_NOT_READ_UPDATABLE, "update"))
                for key in keys
                if inputs.get(key) != old.inputs.get(key)
            ]
            op = "replace" if any(c.action == "replace" for c in changes) else "update" if changes else "same"
            return Step(op, resource.urn, resource.name, changes)
        keys = {"name", "driver", "labels"} & (set(inputs) | set(old.inputs))
        changes = [
            Change(k, inputs.get(k), old.inputs.get(k), "replace")
            for k in sorted(keys)
            if inputs.get(k) != old.inputs.get(k)
        ]
        return Step("replace" if changes else "same", resource.urn, resource.name, changes)

    def destroy(self) -> None:
        """``pulumi destroy``: what a failed apply left pending, then everything in reverse order (retained volumes
        stay)."""
        pending, self.pending_deletes = self.pending_deletes, []
        for applied in [*pending, *(self.state.pop(urn) for urn in reversed(list(self.state)))]:
            try:
                self._delete(applied)
            except DockerError as error:
                self.log(f"destroy {applied.resource.name}: {error}")

    def read_back(self) -> dict[str, list[Change]]:
        """Read every container again (``pulumi refresh``) and diff it against what was declared: name -> changes."""
        found = {}
        for applied in self.state.values():
            if applied.resource.type != CONTAINER:
                continue
            inspect = self.client.call("GET", f"/containers/{applied.docker_id}/json")
            fresh = read_container(inspect, applied.inputs)
            found[applied.inputs["name"]] = diff_container(applied.inputs, fresh, applied.resource.replace_on_changes)
        return found
