"""Waiting for a condition: the one polling loop of the tests.

``wait_until`` answers whether ``predicate`` became true in time (for ``assert wait_until(...), "message"``);
``wait_for`` returns the first truthy value ``probe`` gives and raises ``TimeoutError`` naming ``what`` when none
came in time. Both poll with ``time.monotonic`` and check once more at the deadline, so a condition that holds
when the time is up still counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], timeout: float = 10.0, *, interval: float = 0.05, what: str = "") -> T:
    """Call ``probe`` every ``interval`` seconds until it returns a truthy value, and return that value.

    Raises ``TimeoutError`` ("timed out after <timeout> s waiting for <what>") when ``timeout`` seconds pass
    first; an exception from ``probe`` propagates at once (catch it inside ``probe`` to keep polling through it).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what or 'the condition'}")
        time.sleep(interval)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; whether it became true."""
    try:
        wait_for(predicate, timeout, interval=interval)
    except TimeoutError:
        return False
    return True
