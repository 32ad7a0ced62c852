"""The test tree: one folder a tier, each with its own ``conftest.py`` (which fixtures it uses, how it is run), and
``harness/`` for what the tiers share. No test module imports another; shared code is in ``tests/harness``.

  unit/      the library under Pulumi's mocks: what each configuration declares (default run)
  project/   the docs, scripts, workflows, locks and layout of the repository (default run)
  selftest/  the harness's own tests: the engine emulation, the pulumi-tls emulation, the scheduler (default run)
  tier1/     a real valkey-server on loopback, started from the rendered container (default run)
  tier2/     a real Open WebUI backend on loopback (``OPEN_WEBUI_VENV``; ``scripts/test --all``)
  docker/    the rendered stacks on a real Docker daemon and a real swarm (``REAL_DOCKER=1``)
  faults/    Redis faults on real processes, with the seconds to recovery printed (``scripts/test --all``)
  browser/   Open WebUI's pages in Chromium on the real-Docker and Swarm stacks (``REAL_DOCKER=1``)
  package/   the wheel in a fresh virtualenv with a consumer program (``PACKAGE_TEST=1``)
  test_live.py  the real Pulumi CLI and engine (``LIVE_UP=1``); at the top, where the docs and CI name it
"""

from __future__ import annotations

import sys
import traceback

import pytest

# CPython 3.11 places a traceback's carets by parsing source with ``ast``, and the ``ast`` module's recursion
# counter is shared across threads: Pulumi's threads formatting the tracebacks of a refused value race pytest's
# assertion rewriting and the docs tests' parsing in the main thread (python/cpython#106905: ``SystemError: AST
# constructor recursion depth mismatch``, in whichever later test parses next). Tracebacks keep their lines and
# ranges; only the carets' anchors go.
if sys.version_info[:2] == (3, 11) and hasattr(traceback, "_extract_caret_anchors_from_line_segment"):
    traceback._extract_caret_anchors_from_line_segment = lambda segment: None

# Before any module imports the harness: its checks (the order checks of lifecycle.py, the shared checks moved out of
# the test modules) then explain themselves when they fail, as assertions in test modules do.
pytest.register_assert_rewrite("tests.harness")
