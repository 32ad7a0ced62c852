"""The browser tier: Open WebUI's pages in Debian's Chromium, two users on two replicas, on real Docker and Swarm
(``REAL_DOCKER=1``)."""

from __future__ import annotations

from tests.harness.fixtures import engine as engine
from tests.harness.fixtures import images as images
from tests.harness.fixtures import manager as manager
from tests.harness.fixtures import report as report
from tests.harness.fixtures import swarm_report as swarm_report
