"""Where things are, for every module of the test tree wherever it sits in its folders."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root (the program, ``components/``, ``scripts/``, the docs)."""
TESTS = ROOT / "tests"
"""The test tree: the tier folders, ``harness/``, and the data the tiers share (``data/``, ``programs/``,
``standins/``)."""
