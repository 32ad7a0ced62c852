"""Tier 1: a real valkey-server on loopback, started from the container the program renders (``valkey``). Default
run."""

from __future__ import annotations

from tests.harness.fixtures import valkey as valkey
