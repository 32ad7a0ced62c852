"""Run a Pulumi program that uses these components under Pulumi's mocks, and read back what it declares.

For users' own tests as much as ours::

    from components.testing import render

    deployment = render({"valkey": {"database": 2}})
    valkey = deployment.container("redis-valkey")
    assert valkey.env["REDISCLI_AUTH"]

``render`` runs the program exactly as ``pulumi up`` would, with Pulumi's own mock monitor standing in for
the engine and providers. It records every resource's inputs (secrets unwrapped, and which were secret),
its options and the dependencies the engine would be told about, plus the stack's outputs.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import runpy
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import rpc

from .verify import ValkeyCli as ValkeyCli

PROJECT = "open-webui-redis"
_LOOPBACK_HELPERS = frozenset(
    {
        "LocalValkey",
        "ValkeyProcess",
        "free_port",
        "local_redis_url",
        "localize_valkey",
        "valkey_cli",
        "valkey_cli_dir",
        "valkey_server_binary",
    }
)
"""What this module re-exported before issue #10: test support (a rendered Valkey container run on this machine),
in the repository's test harness (``harness/loopback.py`` under the tests folder), which the library never imports.
"""

if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name in _LOOPBACK_HELPERS:
            raise AttributeError(
                f"components.testing.{name} is test support, not part of the library: it is in the repository's test "
                "harness (harness/loopback.py under the tests folder)"
            )
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


PROGRAM = Path(__file__).resolve().parent.parent / "__main__.py"
_AUTO_NAMED = ("docker:index/container:Container", "docker:index/volume:Volume", "docker:index/network:Network")
_SIG = rpc._special_sig_key
_SECRET = rpc._special_secret_sig


def _unwrap(value: Any, path: str, secrets: set[str]) -> Any:
    """Strip Pulumi's secret wrappers, noting the dotted path of every secret value."""
    if isinstance(value, dict):
        if value.get(_SIG) == _SECRET:
            secrets.add(path)
            return _unwrap(value.get("value"), path, set())
        return {key: _unwrap(item, f"{path}.{key}" if path else key, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap(item, f"{path}[{index}]", secrets) for index, item in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the mock monitor turns every number into a float
    return value


@dataclass
class Resource:
    """One declared resource, as the engine would receive it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    secret_inputs: set[str]
    """Dotted paths of inputs that were Pulumi secrets (``envs``, ``uploads[0].content``, ...)."""
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    provider: str
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    replace_on_changes: list[str]
    ignore_changes: list[str]
    aliases: list[str]
    replace_with: list[str] = field(default_factory=list)
    """URNs whose replacement replaces this resource too (``ResourceOptions.replace_with``)."""
    deleted_with: str = ""
    """The URN whose deletion deletes this one (``ResourceOptions.deleted_with``; its own Delete is skipped)."""
    replacement_trigger: Any = None
    """``ResourceOptions.replacement_trigger``: a new value replaces the resource."""
    id: str = ""
    """The id the (mock) provider gave it."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """What the (mock) provider answered: the inputs and what it computes, such as an auto-generated ``name``."""

    def is_secret(self, key: str) -> bool:
        """Whether the input ``key`` (or all of it, for a list or object) was a secret."""
        return key in self.secret_inputs

    def depends_on(self, other: Resource) -> bool:
        """Whether the engine is told that this resource needs ``other`` first (directly)."""
        return other.urn in self.dependencies


@dataclass
class Container:
    """What Docker is told for one container, with secret values resolved."""

    resource: Resource
    image: str
    """The image reference (from the ``RemoteImage`` whose ``image_id`` the container uses)."""
    command: list[str]
    env: dict[str, str]
    healthcheck: dict[str, Any]
    volumes: dict[str, str]
    """Container path -> volume name."""
    ports: list[dict[str, Any]]
    networks: dict[str, list[str]]
    """Network name -> aliases."""
    uploads: dict[str, str]
    """Container path -> uploaded content."""

    @property
    def name(self) -> str:
        return str(self.resource.inputs["name"])

    @property
    def healthcheck_command(self) -> str:
        """The shell command of a ``CMD-SHELL`` healthcheck."""
        tests = self.healthcheck["tests"]
        if tests[0] != "CMD-SHELL":
            raise ValueError(f"healthcheck of {self.name} is not CMD-SHELL: {tests}")
        return str(tests[1])


@dataclass
class Deployment:
    """Everything a program declared under the mocks."""

    resources: list[Resource]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Resource]:
        return [resource for resource in self.resources if resource.type == type_]

    def by_urn(self, urn: str) -> Resource:
        return next(resource for resource in self.resources if resource.urn == urn)

    def orders_after(self, resource: Resource, name: str) -> bool:
        """Whether the engine creates ``resource`` after the resource of logical name ``name`` (a dependency,
        directly or through others): what a value from another part of the program brings along."""
        by_urn = {r.urn: r for r in self.resources}
        targets = {r.urn for r in self.resources if r.name == name}
        if not targets:
            raise KeyError(f"no resource named {name!r}")
        seen: set[str] = set()
        todo = list(resource.dependencies)
        while todo:
            urn = todo.pop()
            if urn in targets:
                return True
            if urn not in seen and urn in by_urn:
                seen.add(urn)
                todo.extend(by_urn[urn].dependencies)
        return False

    def resource(self, type_: str, name: str) -> Resource:
        """The resource of this type and logical (Pulumi) name."""
        matches = [resource for resource in self.of_type(type_) if resource.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources of type {type_} named {name!r}")
        return matches[0]

    def containers(self) -> dict[str, Container]:
        """Every ``docker:Container`` by its Docker name."""
        images = {
            resource.urn: resource.inputs["name"] for resource in self.of_type("docker:index/remoteImage:RemoteImage")
        }
        image_ids = {_image_id(name): name for name in images.values()}
        rendered = {}
        for resource in self.of_type("docker:index/container:Container"):
            inputs = resource.inputs
            env = dict(entry.split("=", 1) for entry in inputs.get("envs") or [])
            rendered[inputs["name"]] = Container(
                resource=resource,
                image=image_ids.get(inputs["image"], inputs["image"]),
                command=list(inputs.get("command") or []),
                env=env,
                healthcheck=dict(inputs.get("healthcheck") or {}),
                volumes={v["containerPath"]: v.get("volumeName", "") for v in inputs.get("volumes") or []},
                ports=list(inputs.get("ports") or []),
                networks={n["name"]: list(n.get("aliases") or []) for n in inputs.get("networksAdvanced") or []},
                uploads={u["file"]: u.get("content", "") for u in inputs.get("uploads") or []},
            )
        return rendered

    def services(self) -> dict[str, Resource]:
        """Every ``docker:Service`` (Swarm) by its service name."""
        return {str(r.inputs["name"]): r for r in self.of_type("docker:index/service:Service")}

    def service(self, name: str) -> Resource:
        """The Swarm service with this name."""
        services = self.services()
        if name not in services:
            raise KeyError(f"no service named {name!r}; declared: {sorted(services)}")
        return services[name]

    def swarm_secrets(self) -> dict[str, str]:
        """Every ``docker:Secret`` by its (auto-generated) name, with its value decoded."""
        return {
            str(r.outputs["name"]): base64.b64decode(r.inputs["data"]).decode()
            for r in self.of_type("docker:index/secret:Secret")
        }

    def swarm_configs(self) -> dict[str, str]:
        """Every ``docker:ServiceConfig`` by its name, with its content decoded."""
        return {
            str(r.outputs["name"]): base64.b64decode(r.inputs["data"]).decode()
            for r in self.of_type("docker:index/serviceConfig:ServiceConfig")
        }

    def container(self, name: str) -> Container:
        """The container with this Docker name."""
        containers = self.containers()
        if name not in containers:
            raise KeyError(f"no container named {name!r}; declared: {sorted(containers)}")
        return containers[name]


def _image_id(reference: str) -> str:
    return "sha256:" + hashlib.sha256(reference.encode()).hexdigest()


def _generated_password(name: str, inputs: Mapping[str, Any]) -> str:
    """A deterministic stand-in for random.RandomPassword that honours its character-set inputs."""
    alphabet = ""
    if inputs.get("lower", True):
        alphabet += string.ascii_lowercase
    if inputs.get("upper", True):
        alphabet += string.ascii_uppercase
    if inputs.get("numeric", True):
        alphabet += string.digits
    if inputs.get("special", True):
        alphabet += inputs.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?"
    rng = random.Random(name)
    return "".join(rng.choice(alphabet) for _ in range(int(inputs.get("length", 16))))


def _placeholder_pem(label: str, name: str) -> str:
    """A PEM-shaped stand-in for what pulumi-tls generates: unique per resource, not a usable key or certificate."""
    body = hashlib.sha256(f"{label}\0{name}".encode()).hexdigest()
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def _tls_placeholders(type_: str, name: str) -> dict[str, Any]:
    """Outputs of the pulumi-tls resources the stacks declare, as placeholders (``StackMocks(tls=...)`` gives
    real ones)."""
    if type_ == "tls:index/privateKey:PrivateKey":
        return {
            "privateKeyPem": _placeholder_pem("EC PRIVATE KEY", name),
            "publicKeyPem": _placeholder_pem("PUBLIC KEY", name),
        }
    if type_ in ("tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert"):
        return {"certPem": _placeholder_pem("CERTIFICATE", name), "readyForRenewal": False}
    if type_ == "tls:index/certRequest:CertRequest":
        return {"certRequestPem": _placeholder_pem("CERTIFICATE REQUEST", name)}
    return {}


TLSEmulation = Callable[[str, str, Mapping[str, Any]], "dict[str, Any] | None"]
"""``(type token, resource name, inputs) -> outputs`` of a pulumi-tls resource, or None for another type; an
``"id"`` among the outputs is taken as the resource's id."""


class StackMocks(pulumi.runtime.Mocks):
    """Mocks for pulumi-docker, pulumi-random and pulumi-tls that compute what the real providers would output.

    ``existing_networks``: names that ``docker.get_network`` finds (None: every name is found).
    ``passwords``: values for ``RandomPassword`` results by resource name, instead of the deterministic ones.
    ``tls``: computes pulumi-tls resources' outputs (real keys and certificates, for tests that hand them to real
    servers); by default they are PEM-shaped placeholders.
    ``creating``: resource types the (preview) engine is about to create: their id is not known yet, as in the
    preview that `pulumi up` starts with on a new stack.
    """

    def __init__(
        self,
        existing_networks: Iterable[str] | None = None,
        passwords: Mapping[str, str] | None = None,
        tls: TLSEmulation | None = None,
        creating: Iterable[str] = (),
    ) -> None:
        self.creating = set(creating)
        self.existing_networks = None if existing_networks is None else set(existing_networks)
        self.passwords = dict(passwords or {})
        self.tls = tls
        self.invokes: list[tuple[str, dict[str, Any]]] = []
        self.declared: list[Resource] = []
        """After a run, every resource it declared, even when the run raised."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            result = self.passwords.get(args.name) or _generated_password(args.name, args.inputs)
            state["result"] = result
            state["bcryptHash"] = "$2a$10$" + hashlib.sha256(result.encode()).hexdigest()[:53]
        elif args.typ == "docker:index/remoteImage:RemoteImage":
            state["imageId"] = _image_id(args.inputs["name"])
            state["repoDigest"] = args.inputs["name"].split(":")[0] + "@" + state["imageId"]
        elif args.typ in (
            "docker:index/container:Container",
            "docker:index/volume:Volume",
            "docker:index/network:Network",
        ):
            # Docker auto-names what has no name: the resource name plus a suffix.
            state.setdefault("name", f"{args.name}-{hashlib.sha1(args.name.encode()).hexdigest()[:7]}")
        elif args.typ.startswith("tls:"):
            computed = self.tls(args.typ, args.name, args.inputs) if self.tls is not None else None
            outputs = dict(computed if computed is not None else _tls_placeholders(args.typ, args.name))
            provider_id = outputs.pop("id", None)  # the provider's id (a serial, a key's hash), when computed
            state.update(outputs)
            if provider_id is not None:
                return str(provider_id), state
        elif args.typ in ("docker:index/secret:Secret", "docker:index/serviceConfig:ServiceConfig"):
            # Pulumi auto-names them (<name>-<7 random hex>), and a new value replaces them under a new random
            # name; here the suffix follows the data, so a changed value shows as a new name.
            seed = f"{args.name}\0{args.inputs.get('data', '')}"
            state.setdefault("name", f"{args.name}-{hashlib.sha1(seed.encode()).hexdigest()[:7]}")
        return ("" if args.typ in self.creating else f"{args.name}-id"), state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        self.invokes.append((args.token, dict(args.args)))
        if args.token == "docker:index/getNetwork:getNetwork":
            name = args.args["name"]
            if self.existing_networks is not None and name not in self.existing_networks:
                raise Exception(f"Error: network {name} not found")  # what the provider reports
            return {"id": f"{name}-id", "name": name, "driver": "bridge", "scope": "local", "options": {}}
        if args.token == "docker:index/getRegistryImage:getRegistryImage":
            name = args.args["name"]
            return {"id": name, "name": name, "sha256Digest": _image_id(f"registry:{name}")}
        return {}


class RecordingMonitor(_mocks.MockMonitor):
    """Pulumi's mock monitor, also keeping what the engine would be told (inputs, dependencies, options)."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Resource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            secrets: set[str] = set()
            inputs = _unwrap(rpc.deserialize_properties(request.object), "", secrets)
            self.registrations.append(
                Resource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    custom=request.custom,
                    inputs=inputs,
                    secret_inputs=secrets,
                    dependencies=list(request.dependencies),
                    property_dependencies={
                        key: list(value.urns) for key, value in request.propertyDependencies.items()
                    },
                    provider=request.provider,
                    protect=request.protect,
                    retain_on_delete=request.retainOnDelete,
                    delete_before_replace=request.deleteBeforeReplace,
                    replace_on_changes=list(request.replaceOnChanges),
                    ignore_changes=list(request.ignoreChanges),
                    aliases=[alias.urn or alias.spec.name for alias in request.aliases],
                    replace_with=list(request.replace_with),
                    deleted_with=request.deletedWith,
                    replacement_trigger=(
                        _unwrap(json_format.MessageToDict(request.replacement_trigger), "", set())
                        if request.HasField("replacement_trigger")
                        else None
                    ),
                    id=response.id if request.custom else "",
                    outputs=_unwrap(rpc.deserialize_properties(response.object), "", set()) if request.custom else {},
                )
            )
        return response


async def _stack_outputs() -> tuple[dict[str, Any], set[str]]:
    """The values ``pulumi.export`` was given, resolved, and which of them are secret."""
    root = pulumi.runtime.settings.get_root_resource()
    values: dict[str, Any] = {}
    secrets: set[str] = set()
    for name, value in dict(getattr(root, "outputs", {}) or {}).items():
        output = pulumi.Output.from_input(value)
        values[name] = _unwrap(await output.future(), name, set())
        if await output.is_secret():
            secrets.add(name)
    return values, secrets


def stack_config(raw: Mapping[str, Any]) -> dict[str, str]:
    """Stack configuration as Pulumi hands it to a program: project-prefixed keys, objects as JSON."""
    config = {}
    for key, value in raw.items():
        full_key = key if ":" in key else f"{PROJECT}:{key}"
        config[full_key] = value if isinstance(value, str) else json.dumps(value)
    return config


def read_stack_file(path: str | Path) -> dict[str, Any]:
    """The ``config:`` block of a ``Pulumi.<stack>.yaml`` file, keys without the project prefix."""
    import yaml  # PyYAML comes with pulumi

    document = yaml.safe_load(Path(path).read_text()) or {}
    return {
        key.split(":", 1)[1] if key.startswith(f"{PROJECT}:") else key: value
        for key, value in (document.get("config") or {}).items()
    }


def run(
    build: Callable[[], object],
    config: Mapping[str, Any] | None = None,
    *,
    stack: str = "dev",
    secret_keys: Iterable[str] = (),
    mocks: StackMocks | None = None,
    preview: bool = False,
) -> Deployment:
    """Call ``build`` (code that declares resources) under Pulumi's mocks and return what it declared.

    ``config`` keys are those of ``Pulumi.<stack>.yaml`` with or without the ``open-webui-redis:`` prefix;
    ``secret_keys`` names the keys Pulumi holds as secrets (``valkey`` once ``valkey.password`` is set with
    ``--secret``). Whatever ``build`` raises (a ``ConfigurationError``, say) is raised here.
    """
    mocks = mocks or StackMocks()
    monitor = RecordingMonitor(mocks)
    # A fresh root Stack per run: set_mocks keeps an existing one, and with it the previous run's exports.
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(
        stack_config(config or {}), [key if ":" in key else f"{PROJECT}:{key}" for key in secret_keys]
    )
    exported: list[tuple[dict[str, Any], set[str]]] = []

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def declare() -> Any:
        build()
        outputs: Any = asyncio.ensure_future(_stack_outputs())
        return pulumi.Output.from_input(outputs).apply(exported.append)

    try:
        declare()
    finally:
        # Whatever happened, report what had been declared (tests check that bad input declares nothing).
        mocks.declared = list(monitor.registrations)
    outputs, secret_outputs = exported[0] if exported else ({}, set())
    return Deployment(
        resources=list(monitor.registrations),
        outputs=outputs,
        secret_outputs=secret_outputs,
        invokes=list(mocks.invokes),
    )


def render(
    config: Mapping[str, Any] | None = None,
    *,
    stack: str = "dev",
    secret_keys: Iterable[str] = (),
    mocks: StackMocks | None = None,
    program: str | Path = PROGRAM,
    preview: bool = False,
) -> Deployment:
    """Run a program (default: this repository's ``__main__.py``; installed, give your program's path) under
    Pulumi's mocks with this configuration.

    The program runs exactly as under ``pulumi up``; see ``run`` for the arguments.
    """
    if not Path(program).is_file():
        raise FileNotFoundError(f"no program at {program}: pass render(..., program=<your __main__.py>)")
    return run(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        config,
        stack=stack,
        secret_keys=secret_keys,
        mocks=mocks,
        preview=preview,
    )
