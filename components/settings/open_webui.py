"""The ``openWebui`` block: the Open WebUI container(s), and the rules of the environment it may be given."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, SecretStr, model_validator

from .. import rules
from ._model import _Settings
from .formats import cors_problems, oauth_key_problem, url_origin, websocket_redis_options
from .images import OPEN_WEBUI_IMAGE
from .self_heal import SelfHealSettings
from .types import (
    _RETAIN,
    DockerName,
    EnvName,
    EnvValue,
    ImageReference,
    IPAddress,
    Port,
    PublicURL,
    RestartPolicy,
    UpgradeStrategy,
)


class OpenWebUISettings(_Settings):
    """The Open WebUI container."""

    image: ImageReference = Field(OPEN_WEBUI_IMAGE, description="Open WebUI image.")
    container_name: DockerName = Field("open-webui", description="Name of the Open WebUI container.")
    volume_name: DockerName = Field(
        "open-webui", description="Name of the Docker volume mounted at `/app/backend/data`."
    )
    host_port: Port = Field(3000, description="Host port that publishes Open WebUI's port 8080.")
    bind_address: IPAddress = Field(
        "127.0.0.1", description="Host address the port is published on (`0.0.0.0`: every interface)."
    )
    secret_key: SecretStr | None = Field(
        None,
        description=(
            "`WEBUI_SECRET_KEY`, set with `pulumi config set --secret --path openWebui.secretKey`. "
            "Default: generated once and kept, so replacing the container logs nobody out."
        ),
    )
    env: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        description="Extra environment variables. The variables the stack manages may not be set here.",
    )
    restart: RestartPolicy = Field("unless-stopped", description="Docker restart policy.")
    wait_timeout: Annotated[int, Field(ge=1, le=3600)] = Field(
        300, description="Seconds `pulumi up` waits for Open WebUI to be healthy (first start migrates the database)."
    )
    replicas: int = Field(
        1,
        ge=1,
        le=16,
        description=(
            "Open WebUI containers. 1 (on SQLite): one container publishes the port. 2 or more, or any number on "
            "PostgreSQL (`database`): containers `<containerName>-<n>` share PostgreSQL, Valkey and the data "
            "volume behind a load balancer (`loadBalancer`) that alone publishes the port, so the count moves "
            "between 1 and 16 in one `pulumi up`. How they are created and replaced: `upgrade`."
        ),
    )
    upgrade: UpgradeStrategy = Field(
        "recreate",
        description=(
            "How replicas are replaced (a new image, a changed setting). `recreate`, as Open WebUI's scaling guide "
            "asks: every replica stops, replica 1 starts on the new version and migrates the database, then the "
            "rest start together (an outage of about one start; never two versions on one schema); replicas are "
            "created the same way, replica 1 and then the rest at once. `rolling`: one replica at a time, each "
            "healthy before the next stops, so the load balancer keeps answering; only for changes that keep the "
            "schema (settings, a patch release), and replicas are also created one at a time."
        ),
    )
    public_url: PublicURL | None = Field(
        None,
        description=(
            "The URL browsers open when a proxy or a host name is in front, such as `https://chat.example.com`: "
            "its origin becomes `CORS_ALLOW_ORIGIN` (without it websockets fail with 403 through that name). "
            "Default: the published address (`http://<bindAddress>:<hostPort>`, and localhost beside a loopback "
            "address; for `0.0.0.0` or `::`, localhost, 127.0.0.1 and [::1])."
        ),
    )
    oauth_session_token_encryption_key: SecretStr | None = Field(
        None,
        description=(
            "`OAUTH_SESSION_TOKEN_ENCRYPTION_KEY`, set with `pulumi config set --secret --path "
            "openWebui.oauthSessionTokenEncryptionKey`. Default: generated once and kept, the same on every replica."
        ),
    )
    memory_mb: int | None = Field(
        None,
        ge=1024,
        le=1_048_576,
        description="Memory limit per Open WebUI container in MiB (one process takes about 810 MB). Default: no limit.",
    )
    retain_volume: bool = Field(
        True,
        description=_RETAIN,
    )
    self_heal: SelfHealSettings = Field(
        default_factory=SelfHealSettings,
        description="How replicas notice silent Redis connections and deaf listeners (README: Faults).",
    )

    @property
    def replicas_service_name(self) -> str:
        """Swarm: the service of every replica but the first, which migrates the database."""
        return f"{self.container_name}-replicas"

    def replica_names(self, load_balanced: bool | None = None) -> list[str]:
        """Docker names of the Open WebUI containers: ``containerName`` alone, or ``<containerName>-<n>`` behind
        the load balancer (``load_balanced``; default: with more than one replica)."""
        if not (rules.load_balanced(self.replicas, False) if load_balanced is None else load_balanced):
            return [self.container_name]
        return [f"{self.container_name}-{n}" for n in range(1, self.replicas + 1)]

    def cors_origins(self) -> list[str]:
        """``CORS_ALLOW_ORIGIN``'s origins: ``public_url``'s, or the published address's; on a loopback address
        also ``localhost`` (what a browser on the host, or through an SSH tunnel, opens), and for every interface
        the loopback names too (remote browsers need ``public_url``)."""
        if self.public_url is not None:
            origin = url_origin(self.public_url)
            assert origin is not None  # validated
            return [origin]
        address = ipaddress.ip_address(self.bind_address)
        port = self.host_port
        if address.is_unspecified:
            hosts = ["localhost", "127.0.0.1", "[::1]"]
        elif address.is_loopback:
            hosts = [f"[{address}]" if address.version == 6 else str(address), "localhost"]
        else:
            hosts = [f"[{address}]" if address.version == 6 else str(address)]
        return [f"http://{host}:{port}" for host in hosts]

    @model_validator(mode="after")
    def _secrets_not_empty(self) -> OpenWebUISettings:
        if self.secret_key is not None and not self.secret_key.get_secret_value():
            raise ValueError("openWebui.secretKey is empty; remove it to have one generated")
        key = self.oauth_session_token_encryption_key
        if key is not None:
            problem = oauth_key_problem(key.get_secret_value())
            if problem:
                raise ValueError(f"openWebui.oauthSessionTokenEncryptionKey {problem}")
        return self

    @model_validator(mode="after")
    def _env_values(self) -> OpenWebUISettings:
        problems = []
        origins = self.env.get("CORS_ALLOW_ORIGIN")
        if origins is not None:
            custom = self.env.get("CORS_ALLOW_CUSTOM_SCHEME", "")
            problems += [f"openWebui.env.CORS_ALLOW_ORIGIN: {p}" for p in cors_problems(origins, custom)]
        interval = self.env.get("REDIS_HEALTH_CHECK_INTERVAL")
        if interval is not None and not re.fullmatch(r"[0-9]+", interval):
            problems.append(
                "openWebui.env.REDIS_HEALTH_CHECK_INTERVAL: must be a whole number of seconds written in digits, "
                "such as '60' (Open WebUI turns what it cannot read as one into no check at all)"
            )
        problems += _keepalive_env_problems(self.env)
        if problems:
            raise ValueError("\n".join(problems))
        options = self.env.get("WEBSOCKET_REDIS_OPTIONS")
        if options is not None:
            self.env["WEBSOCKET_REDIS_OPTIONS"] = websocket_redis_options(
                options, health_check_interval=self.self_heal.health_check_interval()
            )
        return self


def _keepalive_env_problems(env: Mapping[str, str]) -> list[str]:
    """``WEBSOCKET_REDIS_OPTIONS`` and ``REDIS_SOCKET_KEEPALIVE`` as ``openWebui.env`` may set them."""
    problems = []
    keepalive = env.get("REDIS_SOCKET_KEEPALIVE")
    if keepalive is not None and keepalive.strip().lower() != "true":
        problems.append(
            f"openWebui.env.REDIS_SOCKET_KEEPALIVE: is {keepalive!r}; only 'true' (the stack's default) is allowed: "
            "without keepalive a silent Redis connection is never noticed (openWebui.selfHeal)"
        )
    options = env.get("WEBSOCKET_REDIS_OPTIONS")
    if options is None:
        return problems
    where = "openWebui.env.WEBSOCKET_REDIS_OPTIONS (its value is not shown: it may hold a password):"
    try:
        parsed = json.loads(options)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        problems.append(
            f"{where} it must be a JSON object of redis-py options, such as '{{\"socket_connect_timeout\": 5}}' "
            "(Open WebUI ignores anything else and falls back to its defaults)"
        )
    elif parsed.get("socket_keepalive", True) is not True:
        problems.append(
            f"{where} socket_keepalive may only be true (the stack adds it): without it a silent Redis connection "
            "is never noticed (openWebui.selfHeal)"
        )
    elif isinstance(interval := parsed.get("health_check_interval", 1), bool) or not (
        isinstance(interval, int) and interval >= 1
    ):
        problems.append(
            f"{where} health_check_interval must be a whole number of seconds from 1 (the stack sets half of "
            "openWebui.selfHeal.silentConnectionSeconds unless you do): without it a listener whose connection the "
            "kernel ended stays deaf"
        )
    elif "socket_keepalive_options" in parsed:
        problems.append(
            f"{where} socket_keepalive_options cannot be given as JSON (redis-py needs integer keys); the keepalive "
            "timing is openWebui.selfHeal.silentConnectionSeconds (the container's sysctls)"
        )
    return problems
