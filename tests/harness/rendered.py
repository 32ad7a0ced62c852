"""What a program rendered under Pulumi's mocks declares, read as the tests read it: the environment an Open WebUI
container or Swarm task is given, every input's text, and the problems of a refused configuration.
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from components import ConfigurationError
from components.swarm._secret_files import EXTRA_ENV_PATH, STACK_ENV_PATH
from components.testing import Deployment, Resource, StackMocks, render

HEADER = "Invalid configuration for project 'open-webui-redis' ({count}); nothing was deployed:"


def parse_env_file(text: str) -> dict[str, str]:
    """The variables of an ``export NAME='value'`` file, as the wrapper's ``.`` sets them."""
    env = {}
    for line in text.splitlines():
        words = shlex.split(line)
        assert words[0] == "export", line
        name, value = words[1].split("=", 1)
        env[name] = value
    return env


def problems_of(config: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> list[str]:
    """Render with this configuration; return the problems reported, after checking nothing was declared and
    each problem is a line of the error's message."""
    mocks = StackMocks()
    with pytest.raises(ConfigurationError) as raised:
        render(config, mocks=mocks, secret_keys=secret_keys)
    assert mocks.declared == [], "resources were declared before the configuration was refused"
    problems = raised.value.problems
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    assert str(raised.value) == "\n".join([HEADER.format(count=count), *(f"  - {p}" for p in problems)])
    return problems


SECRET = "docker:index/secret:Secret"
CONFIG = "docker:index/serviceConfig:ServiceConfig"


def deploy(
    engine: str,
    redis: dict[str, Any] | None = None,
    *,
    secret_keys: tuple[str, ...] = ("redis",),
    mocks: StackMocks | None = None,
    **blocks: Any,
) -> Deployment:
    """Render the program on ``engine`` with this ``redis`` block (held as a secret, as `--secret` makes it)."""
    config: dict[str, Any] = dict(blocks)
    if redis is not None:
        config["redis"] = redis
    if engine == "swarm":
        config = {"engine": "swarm", "swarm": {"pinImages": False}, **config}
    return render(config, secret_keys=secret_keys, mocks=mocks)


@dataclass
class OpenWebUIView:
    """One Open WebUI container (one host) or service (Swarm), as its process sees it."""

    resource: Resource
    env: dict[str, str]
    """The process's environment (on Swarm: what the entrypoint wrapper exports from the config and secrets)."""
    files: dict[str, str]
    """Files given to it under /run/secrets: path -> content."""
    secret_files: dict[str, bool]
    """Path -> whether its content is a Pulumi secret."""
    healthcheck: str
    plain_env: dict[str, str]
    """On Swarm, the stack.env config (a plain input); on one host, nothing is plain (``envs`` is secret)."""


def decoded(data: str) -> str:
    """The text of a secret's or config's base64 ``data``."""
    return base64.b64decode(data).decode()


def by_docker_name(deployment: Deployment, type_: str) -> dict[str, Resource]:
    """The resources of ``type_`` by the name Docker gives them."""
    return {str(r.outputs["name"]): r for r in deployment.of_type(type_)}


def open_webuis(deployment: Deployment, engine: str) -> list[OpenWebUIView]:
    """Every Open WebUI container or service the deployment declares."""
    views = []
    if engine == "docker":
        for name in deployment.outputs["openWebuiContainerNames"]:
            container = deployment.container(name)
            secret = container.resource.is_secret("uploads")
            views.append(
                OpenWebUIView(
                    resource=container.resource,
                    env=container.env,
                    files=dict(container.uploads),
                    secret_files=dict.fromkeys(container.uploads, secret),
                    healthcheck=container.healthcheck_command,
                    plain_env={},
                )
            )
        return views
    secrets = by_docker_name(deployment, SECRET)
    configs = by_docker_name(deployment, CONFIG)
    for name in deployment.outputs["openWebuiServiceNames"]:
        service = deployment.service(name)
        spec = service.inputs["taskSpec"]["containerSpec"]
        files = {s["fileName"]: decoded(secrets[s["secretName"]].inputs["data"]) for s in spec.get("secrets") or []}
        secret_files = {s["fileName"]: secrets[s["secretName"]].is_secret("data") for s in spec.get("secrets") or []}
        config_files = {c["fileName"]: decoded(configs[c["configName"]].inputs["data"]) for c in spec["configs"]}
        plain_env = parse_env_file(config_files[STACK_ENV_PATH])
        # As the entrypoint wrapper runs: the spec's env, stack.env, openWebui.env, then every upper-case secret file.
        env = dict(spec.get("env") or {}) | plain_env
        if EXTRA_ENV_PATH in files:
            env |= parse_env_file(files[EXTRA_ENV_PATH])
        for path, content in sorted(files.items()):
            variable = path.rsplit("/", 1)[1]
            if re.fullmatch(r"[A-Z_][A-Z0-9_]*", variable):
                env[variable] = content
        views.append(
            OpenWebUIView(
                resource=service,
                env=env,
                files={path: content for path, content in files.items() if path != EXTRA_ENV_PATH},
                secret_files=secret_files,
                healthcheck=spec["healthcheck"]["tests"][1],
                plain_env=plain_env,
            )
        )
    return views


def the_open_webui(deployment: Deployment, engine: str) -> OpenWebUIView:
    (view,) = open_webuis(deployment, engine)
    return view


def tls_files(view: OpenWebUIView) -> dict[str, str]:
    """The certificate files of ``redis.tls`` (every /run/secrets file whose name is not a variable's)."""
    return {path: content for path, content in view.files.items() if path.endswith(".pem")}


def redis_problems_of(config: dict[str, Any], secret_keys: tuple[str, ...] = ("redis",)) -> list[str]:
    """``problems_of`` (nothing declared, the header and one line per problem), with ``redis``
    held as a secret unless said otherwise, as ``pulumi config set --secret`` makes it."""
    return problems_of(config, secret_keys)


def _maybe_base64(text: str) -> str | None:
    if len(text) < 8 or len(text) % 4:
        return None
    try:
        return base64.b64decode(text, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def input_texts(resource: Resource) -> Iterator[tuple[bool, str, str]]:
    """(secret?, dotted path, text) of every key and value in a resource's inputs; base64 data decoded too."""

    def walk(value: Any, path: str, secret: bool) -> Iterator[tuple[bool, str, str]]:
        secret = secret or path in resource.secret_inputs
        if isinstance(value, dict):
            for key, item in value.items():
                yield secret, path, str(key)
                yield from walk(item, f"{path}.{key}" if path else str(key), secret)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, f"{path}[{index}]", secret)
        else:
            text = str(value)
            yield secret, path, text
            decoded = _maybe_base64(text)
            if decoded is not None:
                yield secret, f"{path} (base64)", decoded

    return walk(resource.inputs, "", False)
