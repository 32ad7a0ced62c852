"""The ``swarm`` block (``engine: swarm``), with its ``sharedVolume`` and ``s3`` blocks."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator

from ._model import _Settings
from .types import DockerName, EnvName, EnvValue, NodeLabel, PublicURL, S3Bucket


class SharedVolumeSettings(_Settings):
    """A volume every node of the swarm can mount (NFS through the `local` driver, or a volume plugin)."""

    driver: DockerName = Field("local", description="Volume driver on every node (`local` for NFS).")
    options: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        description=(
            "Driver options, as `docker volume create -o`: for NFS `type: nfs`, `o: addr=10.0.0.5,rw,nfsvers=4`, "
            "`device: :/exports/open-webui`. Each node's daemon creates the volume with them on first use."
        ),
    )

    @model_validator(mode="after")
    def _options_for_local(self) -> SharedVolumeSettings:
        if self.driver == "local" and "device" not in self.options:
            raise ValueError(
                "swarm.sharedVolume.options: the local driver needs `device` (for NFS also `type: nfs` and "
                "`o: addr=<server>,...`); without it each node gets its own empty volume"
            )
        return self


class S3Settings(_Settings):
    """Open WebUI's S3 storage provider (`STORAGE_PROVIDER=s3`) for uploads shared by every node."""

    bucket: S3Bucket = Field(description="`S3_BUCKET_NAME`.")
    region: str | None = Field(None, description="`S3_REGION_NAME`.")
    endpoint_url: PublicURL | None = Field(None, description="`S3_ENDPOINT_URL` (MinIO, Ceph, another cloud).")
    key_prefix: str | None = Field(None, description="`S3_KEY_PREFIX`: a folder in the bucket.")
    access_key_id: str | None = Field(
        None, description="`S3_ACCESS_KEY_ID`. Default: the instance's or the environment's credentials."
    )
    secret_access_key: SecretStr | None = Field(
        None,
        description=(
            "`S3_SECRET_ACCESS_KEY`, set with `pulumi config set --secret --path swarm.s3.secretAccessKey`; "
            "delivered as a Docker secret."
        ),
    )

    @model_validator(mode="after")
    def _key_pair(self) -> S3Settings:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError(
                "swarm.s3.accessKeyId and swarm.s3.secretAccessKey go together: set both (the key with "
                "`pulumi config set --secret --path swarm.s3.secretAccessKey <value>`), or neither to use the "
                "credentials of the nodes or the environment"
            )
        return self


class SwarmSettings(_Settings):
    """Docker Swarm mode (`engine: swarm`): services on an overlay network, secrets as Docker secrets."""

    data_label: NodeLabel = Field(
        "open-webui-redis.data",
        description=(
            "Node label that places Valkey and PostgreSQL (and Open WebUI with `uploads: local`) with their volumes: "
            "they run only on a node with `node.labels.<dataLabel>==true` "
            "(`docker node update --label-add open-webui-redis.data=true <node>`)."
        ),
    )
    encrypted: bool = Field(
        False,
        description="Encrypt the overlay network's traffic between nodes (IPsec; `--opt encrypted`).",
    )
    uploads: Literal["local", "shared-volume", "s3"] = Field(
        "local",
        description=(
            "Where Open WebUI keeps uploads (its data directory). `local`: a volume on the data node, and Open "
            "WebUI runs there only (every replica on one node). `shared-volume`: `sharedVolume`, which every node "
            "mounts, and replicas spread over the nodes. `s3`: Open WebUI's S3 storage provider (`s3`); replicas on "
            "PostgreSQL spread over the nodes, their data directories node-local (caches); one replica on SQLite "
            "stays on the data node."
        ),
    )
    shared_volume: SharedVolumeSettings | None = Field(
        None, description="The volume every node mounts, with `uploads: shared-volume`."
    )
    s3: S3Settings | None = Field(None, description="The bucket, with `uploads: s3`.")
    endpoint_mode: Literal["vip", "dnsrr"] = Field(
        "vip",
        description=(
            "How services find each other on the overlay network. `vip`: a virtual IP per service and the port "
            "published on every node through the routing mesh (Swarm's default; needs IPVS in the nodes' kernels). "
            "`dnsrr`: a service's name resolves to its tasks' addresses (HAProxy resolves them so anyway) and the "
            "port is published on the node running the load balancer (host mode), for kernels without IPVS; the "
            "publishing service then updates stop-first (one port per node)."
        ),
    )
    pin_images: bool = Field(
        True,
        description=(
            "Declare each service's image by its digest, looked up in the registry at preview "
            "(`docker.getRegistryImage`): the provider reads a service's image back pinned, so a tag alone would "
            "update every service once more on the second `pulumi up`; a new digest behind the tag is an update. "
            "`false` where no registry answers (the images are on every node already)."
        ),
    )
    update_monitor: Annotated[int, Field(ge=0, le=600)] = Field(
        30,
        description=(
            "Seconds Swarm watches each updated Open WebUI task before it counts as updated; a task that fails in "
            "that time rolls the service back (`update_config.monitor`, failure action `rollback`)."
        ),
    )

    @model_validator(mode="after")
    def _uploads_source(self) -> SwarmSettings:
        problems = []
        if self.uploads == "shared-volume" and self.shared_volume is None:
            problems.append(
                "swarm.uploads is 'shared-volume' but swarm.sharedVolume is not set; set swarm.sharedVolume (the "
                "volume driver and its options, such as an NFS export), or set swarm.uploads to 'local' or 's3'"
            )
        if self.uploads == "s3" and self.s3 is None:
            problems.append(
                "swarm.uploads is 's3' but swarm.s3 is not set; set swarm.s3.bucket (and its credentials), "
                "or set swarm.uploads to 'local' or 'shared-volume'"
            )
        if self.uploads != "shared-volume" and self.shared_volume is not None:
            problems.append(f"swarm.sharedVolume is set but swarm.uploads is {self.uploads!r}; set one of them")
        if self.uploads != "s3" and self.s3 is not None:
            problems.append(f"swarm.s3 is set but swarm.uploads is {self.uploads!r}; set one of them")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def publish_mode(self) -> Literal["ingress", "host"]:
        """``ingress`` (the routing mesh) with virtual IPs; ``host`` with DNS round robin (no ingress there)."""
        return "ingress" if self.endpoint_mode == "vip" else "host"

    @property
    def data_constraint(self) -> str:
        return f"node.labels.{self.data_label}==true"
