"""The real-Docker and real-Swarm tiers: the rendered stacks applied to a real daemon as pulumi-docker would
(``REAL_DOCKER=1``; ``scripts/test --all`` starts the daemon and builds the stand-in images)."""

from __future__ import annotations

from tests.harness.fixtures import engine as engine
from tests.harness.fixtures import images as images
from tests.harness.fixtures import manager as manager
from tests.harness.fixtures import report as report
from tests.harness.fixtures import swarm_report as swarm_report
