"""The faults tier: Redis killed, frozen, silenced and replaced under real processes (loopback and real Docker), the
seconds to recovery printed (``scripts/test --all``)."""

from __future__ import annotations

from tests.harness.fixtures import engine as engine
from tests.harness.fixtures import images as images
from tests.harness.fixtures import report as report
from tests.harness.fixtures import valkey as valkey
