"""Tier 2: a real Open WebUI backend on loopback (``OPEN_WEBUI_VENV``, which ``scripts/test --all`` installs), with the
rendered Valkey (``valkey``) or external Redis servers, their figures in the summary (``figures``)."""

from __future__ import annotations

from tests.harness.fixtures import figures as figures
from tests.harness.fixtures import valkey as valkey
