"""Single host: what every container component declares the same way (image, retained volume, logs, stop grace)."""

from __future__ import annotations

from typing import TypedDict

import pulumi
import pulumi_docker as docker

from ..core.docker_forms import duration_text
from ..settings import LogsSettings

TYPE_PREFIX = "open-webui-redis:index"
"""Type tokens of the single-host components (``open-webui-redis:index:Valkey``): part of every URN, never changed."""

STOP_GRACE_SECONDS = 30
"""Seconds a container gets to stop cleanly (SIGTERM) before it is killed: on replace and destroy
(``destroy_grace_seconds``: without it the provider stops with no grace at all) and on ``docker stop`` or a daemon
restart (``stop_timeout``: Docker's default is 10 s)."""


def healthcheck(
    tests: list[str],
    *,
    start_period: int,
    interval: int,
    timeout: int,
    retries: int,
    start_interval: int | None = None,
) -> docker.ContainerHealthcheckArgs:
    """A healthcheck with every duration (in seconds) written as Docker and the provider read it back.

    ``start_interval`` (probes during ``start_period``) needs Docker 25 (API 1.44): Docker's Go client, which the
    provider uses, refuses to create the container on an older engine. None leaves it out."""
    return docker.ContainerHealthcheckArgs(
        tests=tests,
        start_period=duration_text(start_period),
        start_interval=duration_text(start_interval) if start_interval is not None else None,
        interval=duration_text(interval),
        timeout=duration_text(timeout),
        retries=retries,
    )


class LogOptions(TypedDict):
    log_driver: str
    log_opts: dict[str, str]


def bounded_logs(logs: LogsSettings | None) -> LogOptions:
    """A container's ``log_driver`` and ``log_opts``: json-file within ``logs``' bounds (its defaults when None),
    whatever the daemon's default driver, in the form Docker stores and the provider reads back."""
    return {"log_driver": "json-file", "log_opts": (logs or LogsSettings()).options_for_docker()}


class Intervals(TypedDict):
    interval: int
    start_interval: int | None


def probe_intervals(start_interval: bool, *, steady: int, fast: int = 5) -> Intervals:
    """``interval`` and ``start_interval`` for a service that takes a while to start.

    With a start interval (Docker 25+) probes run every second while the container starts and every ``steady``
    seconds after it is healthy. Without one Docker probes at ``interval`` from the start, so ``fast`` bounds the
    time from the service answering to Docker calling it healthy (and ``pulumi up`` going on)."""
    return {"interval": steady, "start_interval": 1} if start_interval else {"interval": fast, "start_interval": None}


def pulled_image(name: str, reference: str, parent: pulumi.Resource) -> docker.RemoteImage:
    """The image, pulled once and kept on the host when the stack goes (other stacks may use it)."""
    return docker.RemoteImage(name, name=reference, keep_locally=True, opts=pulumi.ResourceOptions(parent=parent))


def data_volume(name: str, volume_name: str, *, retain: bool, parent: pulumi.Resource) -> docker.Volume:
    """A named volume that survives `pulumi destroy` and replacement unless ``retain`` is false."""
    return docker.Volume(name, name=volume_name, opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=retain))
