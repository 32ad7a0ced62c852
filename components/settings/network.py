"""The ``network`` block: the Docker network that Valkey and Open WebUI share."""

from __future__ import annotations

from pydantic import Field

from ._model import _Settings
from .types import DockerName


class NetworkSettings(_Settings):
    """The Docker network that Valkey and Open WebUI share."""

    name: DockerName = Field("openwebui-network", description="Name of the Docker network.")
    external: bool = Field(
        False,
        description=(
            "Adopt an existing network of this name (created with `docker network create`) instead of "
            "creating one. An adopted network is never deleted by the stack."
        ),
    )
