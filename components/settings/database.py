"""The ``database`` block: the PostgreSQL database that Open WebUI replicas share."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from ._model import _Settings
from .images import POSTGRES_IMAGE
from .types import _RETAIN, DockerName, ImageReference, PostgresURL, RestartPolicy, Seconds


class DatabaseSettings(_Settings):
    """The PostgreSQL database that Open WebUI replicas share (used with `openWebui.replicas` > 1, or `enabled`)."""

    enabled: bool = Field(
        False,
        description=(
            "Keep Open WebUI's data in PostgreSQL (behind the load balancer) even with one replica. Set it to scale "
            "back from several replicas to one in one `pulumi up`: without it Open WebUI would return to its "
            "SQLite file and the PostgreSQL container would go (see docs/upgrades.md, Scaling down)."
        ),
    )
    url: PostgresURL | None = Field(
        None,
        description=(
            "An existing PostgreSQL database instead of the managed container, set with "
            "`pulumi config set --secret --path database.url`. Used with any number of replicas."
        ),
    )
    image: ImageReference = Field(
        POSTGRES_IMAGE,
        description="PostgreSQL image; it must ship the pgvector extension when `vectorStore` is `pgvector`.",
    )
    container_name: DockerName = Field("open-webui-postgres", description="Name of the PostgreSQL container.")
    volume_name: DockerName = Field(
        "open-webui-postgres", description="Name of the volume mounted at `/var/lib/postgresql/data`."
    )
    alias: DockerName = Field("postgres", description="Network alias of the PostgreSQL container.")
    name: DockerName = Field("openwebui", description="Database name.")
    user: DockerName = Field("openwebui", description="Database user.")
    password: SecretStr | None = Field(
        None,
        description=(
            "Database password, set with `pulumi config set --secret --path database.password`. Default: generated."
        ),
    )
    vector_store: Literal["pgvector", "chroma"] = Field(
        "pgvector",
        description=(
            "Where replicas keep document embeddings: `pgvector` in the shared database; `chroma` only for a "
            "single replica (its files in the data directory cannot be shared)."
        ),
    )
    restart: RestartPolicy = Field("unless-stopped", description="Docker restart policy.")
    wait_timeout: Seconds = Field(120, description="Seconds `pulumi up` waits for PostgreSQL to be healthy.")
    retain_volume: bool = Field(True, description=_RETAIN)

    @model_validator(mode="after")
    def _one_source(self) -> DatabaseSettings:
        if self.url is not None and self.password is not None:
            raise ValueError("database.url and database.password are both set; an external database takes only url")
        if self.password is not None and not self.password.get_secret_value():
            raise ValueError("database.password is empty; remove it to have one generated")
        return self
