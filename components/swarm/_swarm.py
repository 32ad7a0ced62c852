"""Swarm: what every service component declares the same way (secrets and configs named by content, the update,
rollback and converge settings, healthchecks and restart policies in the form the provider reads back)."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import pulumi
import pulumi_docker as docker

from ..core.docker_forms import duration_text
from ..settings import LogsSettings, RestartPolicy, UpgradeStrategy

TYPE_PREFIX = "open-webui-redis:swarm"
"""Type tokens of the Swarm components (``open-webui-redis:swarm:Valkey``)."""
STOP_GRACE = "30s"
"""How long a task gets to stop cleanly (SIGTERM) before it is killed, on update, scale-down and removal."""
MANAGED_LABEL = "open-webui-redis.managed"
SERVICE_IGNORES = ["taskSpec.placement.platforms"]
"""On create the provider has Docker's client write the image's platforms into the placement (``QueryRegistry``);
declared or not, they would be a difference on the next ``pulumi up``: the stack leaves them to Docker."""
CONVERGE_POLL = "2s"
SECRET_FILE_MODE = 0o444
"""Read-only for everyone in the task (the secret is on a tmpfs of the task's own mount namespace): the Valkey,
PostgreSQL and Open WebUI processes drop root or run as another user and still read it."""


def short_duration(seconds: int) -> str:
    """``seconds`` as the provider reads a Swarm service's durations back (its ``shortDur``: Go's form without a
    trailing ``0s`` after minutes or ``0m`` after hours: ``300`` -> ``5m``, ``90`` -> ``1m30s``, ``3600`` -> ``1h``).

    Any other spelling (``300s``, ``5m0s``) is a difference on every ``pulumi up``: an update that rolls the tasks."""
    text = duration_text(seconds)
    if text.endswith("m0s"):
        text = text[:-2]
    if text.endswith("h0m"):
        text = text[:-2]
    return text


def encoded(value: str) -> str:
    """``data`` of a ``docker.Secret`` or ``docker.ServiceConfig``: the provider base64-decodes it before sending."""
    return base64.b64encode(value.encode()).decode()


def swarm_secret(name: str, value: pulumi.Input[str], parent: pulumi.Resource) -> docker.Secret:
    """A Docker secret holding ``value``, auto-named by Pulumi (``<name>-<7 hex>``).

    Swarm's secrets cannot change: a new value replaces the secret. Auto-named, the replacement is created first
    under a new name, the services move to it in a rolling update, and only then is the old one deleted. (A fixed
    name cannot work: created first it is "already exists"; deleted first, "in use by service". The bridge deletes
    first whenever a name is given, even one that changes.)"""
    return docker.Secret(
        name,
        data=pulumi.Output.secret(pulumi.Output.from_input(value).apply(encoded)),  # type: ignore[arg-type]
        labels=[docker.SecretLabelArgs(label=MANAGED_LABEL, value="true")],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def swarm_config(name: str, content: str, parent: pulumi.Resource) -> docker.ServiceConfig:
    """A Docker config holding ``content`` (not secret), auto-named like ``swarm_secret`` and for the same reason."""
    return docker.ServiceConfig(name, data=encoded(content), opts=pulumi.ResourceOptions(parent=parent))


def secret_file(
    secret: docker.Secret, path: str, *, mode: int = SECRET_FILE_MODE, uid: int = 0, gid: int = 0
) -> docker.ServiceTaskSpecContainerSpecSecretArgs:
    """A reference to ``secret``, mounted at ``path``; uid, gid and mode as the provider reads them back."""
    return docker.ServiceTaskSpecContainerSpecSecretArgs(
        secret_id=secret.id,
        secret_name=secret.name,
        file_name=path,
        file_uid=str(uid),
        file_gid=str(gid),
        file_mode=mode,
    )


def config_file(config: docker.ServiceConfig, path: str, *, mode: int) -> docker.ServiceTaskSpecContainerSpecConfigArgs:
    return docker.ServiceTaskSpecContainerSpecConfigArgs(
        config_id=config.id, config_name=config.name, file_name=path, file_uid="0", file_gid="0", file_mode=mode
    )


def healthcheck(
    tests: list[str], *, start_period: int, interval: int, timeout: int, retries: int
) -> docker.ServiceTaskSpecContainerSpecHealthcheckArgs:
    """Swarm's healthcheck (no start interval on services: the engine probes at ``interval`` from the start)."""
    return docker.ServiceTaskSpecContainerSpecHealthcheckArgs(
        tests=tests,
        start_period=short_duration(start_period),
        interval=short_duration(interval),
        timeout=short_duration(timeout),
        retries=retries,
    )


RESTART_CONDITIONS: Mapping[str, str] = {
    "no": "none",
    "on-failure": "on-failure",
    "always": "any",
    "unless-stopped": "any",
}
"""A Docker restart policy as Swarm's restart condition (a task that Swarm stops is not restarted: it is replaced)."""


def restart_policy(restart: RestartPolicy) -> docker.ServiceTaskSpecRestartPolicyArgs:
    return docker.ServiceTaskSpecRestartPolicyArgs(
        condition=RESTART_CONDITIONS[restart], delay="5s", max_attempts=0, window="0s"
    )


def update_config(strategy: UpgradeStrategy, *, monitor: int, single: bool = False) -> docker.ServiceUpdateConfigArgs:
    """Swarm's rolling update for the upgrade strategy. ``rolling``: one task at a time, the new one started and
    healthy before the old stops (start-first). ``recreate``: every task stopped, then started on the new spec
    (stop-first, all at once). ``single``: a service whose task holds a volume (Valkey, PostgreSQL): stop-first.
    A task that fails within ``monitor`` seconds rolls the service back."""
    rolling = strategy == "rolling" and not single
    return docker.ServiceUpdateConfigArgs(
        parallelism=1 if rolling or single else 0,
        delay="0s",
        failure_action="rollback",
        monitor=short_duration(monitor),
        max_failure_ratio="0.0",
        order="start-first" if rolling else "stop-first",
    )


def rollback_config(
    strategy: UpgradeStrategy, *, monitor: int, single: bool = False
) -> docker.ServiceRollbackConfigArgs:
    """A rollback goes the way the update came."""
    update = update_config(strategy, monitor=monitor, single=single)
    return docker.ServiceRollbackConfigArgs(
        parallelism=update.parallelism,
        delay="0s",
        failure_action="pause",
        monitor=update.monitor,
        max_failure_ratio="0.0",
        order=update.order,
    )


def converge(timeout: int) -> docker.ServiceConvergeConfigArgs:
    """``pulumi up`` waits until every task of the service runs (and is healthy, where it has a healthcheck)."""
    return docker.ServiceConvergeConfigArgs(delay=CONVERGE_POLL, timeout=short_duration(timeout))


def replicated(count: int) -> docker.ServiceModeArgs:
    return docker.ServiceModeArgs(replicated=docker.ServiceModeReplicatedArgs(replicas=count))


def json_file_logs(logs: LogsSettings | None) -> docker.ServiceTaskSpecLogDriverArgs:
    """A task's logs: json-file within ``logs``' bounds (its defaults when None), whatever the nodes' default
    driver, in the form Docker stores and the provider reads back."""
    return docker.ServiceTaskSpecLogDriverArgs(name="json-file", options=(logs or LogsSettings()).options_for_docker())


def endpoint(
    mode: str, *, publish: tuple[int, int] | None = None, publish_mode: str = "ingress"
) -> docker.ServiceEndpointSpecArgs:
    """How the service is found (``vip`` or ``dnsrr``) and, with ``publish`` (published, target), its port."""
    ports = None
    if publish is not None:
        ports = [
            docker.ServiceEndpointSpecPortArgs(
                target_port=publish[1], published_port=publish[0], protocol="tcp", publish_mode=publish_mode
            )
        ]
    return docker.ServiceEndpointSpecArgs(mode=mode, ports=ports)


def volume_service(
    name: str,
    parent: pulumi.Resource,
    container_spec: docker.ServiceTaskSpecContainerSpecArgs,
    *,
    service_name: str,
    network_id: pulumi.Input[str],
    alias: str,
    constraints: list[str] | None,
    restart: RestartPolicy,
    logs: LogsSettings | None,
    endpoint_mode: str,
    wait_timeout: int,
) -> docker.Service:
    """A one-task service beside its volume (Valkey, PostgreSQL): found by ``alias`` on the overlay network, placed
    by ``constraints`` on the node that holds the volume, updated and rolled back stop-first (two tasks never share
    the volume), ``pulumi up`` waiting until the task is healthy."""
    return docker.Service(
        f"{name}-service",
        name=service_name,
        task_spec=docker.ServiceTaskSpecArgs(
            container_spec=container_spec,
            networks_advanceds=[docker.ServiceTaskSpecNetworksAdvancedArgs(id=network_id, aliases=[alias])],
            placement=docker.ServiceTaskSpecPlacementArgs(constraints=constraints) if constraints else None,
            restart_policy=restart_policy(restart),
            log_driver=json_file_logs(logs),
        ),
        mode=replicated(1),
        endpoint_spec=endpoint(endpoint_mode),
        update_config=update_config("recreate", monitor=5, single=True),
        rollback_config=rollback_config("recreate", monitor=5, single=True),
        converge_config=converge(wait_timeout),
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=SERVICE_IGNORES),
    )


def service_image(reference: str, pin: bool, parent: pulumi.Resource) -> pulumi.Input[str]:
    """The image a service declares, in Docker's familiar form: ``reference@sha256:<digest>`` from the registry
    (``pin``), or the reference.

    On create the provider lets Docker's client pin the tag to its digest (``QueryRegistry``) and reads the pinned
    image back; a tag alone is then a difference on the next ``pulumi up`` (an update that rolls every task).
    Declared pinned, the image is what Docker keeps, and a new digest behind the tag is an update."""
    familiar = familiar_reference(reference)
    if not pin or "@" in reference:  # already pinned: Docker keeps a digest it is given
        return familiar
    found = docker.get_registry_image_output(name=reference, opts=pulumi.InvokeOutputOptions(parent=parent))
    return found.sha256_digest.apply(lambda digest: f"{familiar}@{digest}")


def familiar_reference(reference: str) -> str:
    """``reference`` as Docker's client writes it into a service spec on every create and update: normalised
    (``ParseNormalizedNamed``: a first part without ``.`` or ``:`` that is not ``localhost`` is on Docker Hub), then
    its ``FamiliarString`` (no ``docker.io/``, no ``library/`` before a one-part name): ``docker.io/library/haproxy``
    and ``library/haproxy`` -> ``haproxy``, ``docker.io/valkey/valkey`` -> ``valkey/valkey``. Declared otherwise,
    the image read back differs on every ``pulumi up``."""
    first, _, rest = reference.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost") and first not in HUB_DOMAINS:
        return reference  # another registry: kept as written
    remainder = rest if rest and first in HUB_DOMAINS else reference
    path = remainder.split("@")[0].split(":")[0]
    if path.startswith("library/") and path.count("/") == 1:
        remainder = remainder[len("library/") :]
    return remainder


HUB_DOMAINS = ("docker.io", "index.docker.io")
