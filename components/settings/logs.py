"""The ``logs`` block: the bounds of every container's json-file log."""

from __future__ import annotations

from pydantic import Field

from ._model import _Settings
from .types import EnvValue, JsonFileOption, LogSize


class LogsSettings(_Settings):
    """Container logs: every container and Swarm service logs with Docker's json-file driver within these bounds."""

    max_size: LogSize = Field(
        "10m", description="Size at which a container's log file is rotated (`max-size`: `k`, `m` or `g`)."
    )
    max_files: int = Field(
        3,
        ge=1,
        le=100,
        description=(
            "Log files kept per container (`max-file`), the current one included: a container's logs take at most "
            "`maxSize` times this on the host's disk (30 MB by default)."
        ),
    )

    options: dict[JsonFileOption, EnvValue] = Field(
        default_factory=dict,
        description=(
            "Other json-file options (`compress`, `labels`, `labels-regex`, `env`, `env-regex`, `tag`). Docker adds "
            "the daemon's own `log-opts` (daemon.json) to a container on the daemon's default driver, and the "
            "provider reads them back: repeat them here, or every `pulumi up` replaces the containers."
        ),
    )

    def options_for_docker(self) -> dict[str, str]:
        """The json-file driver's options, as Docker stores them and the provider reads them back."""
        options = {str(name): value for name, value in self.options.items()}
        return {**options, "max-file": str(self.max_files), "max-size": self.max_size}
