"""Values as Docker and pulumi-docker read them back: a value declared in another spelling is a difference
on every ``pulumi up``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._moved import moved_names


def duration_text(seconds: int) -> str:
    """``seconds`` as Go's ``time.Duration.String()`` writes it (``300`` -> ``5m0s``, ``60`` -> ``1m0s``).

    The provider reads healthcheck durations back from Docker in that form; any other spelling of the same
    duration (``5m``, ``60s``) is a difference on the next ``pulumi up``, and healthcheck differences replace
    the container."""
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative (got {seconds})")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


if not TYPE_CHECKING:  # old imports of what moved to the Swarm package (issue 21) warn and still resolve
    __getattr__ = moved_names(__name__)
