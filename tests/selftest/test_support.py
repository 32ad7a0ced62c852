"""The test harness itself: what lets the real-process tiers run wherever the repository is cloned."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.harness.replicas_support import reachable_by


@pytest.mark.skipif(os.geteuid() != 0, reason="PostgreSQL runs as another user only when the tests run as root")
def test_postgres_install_when_checkout_is_private_runs_from_a_reachable_copy(tmp_path):
    """A PostgreSQL install under a directory only root may enter (a `mktemp -d` clone) is copied for postgres."""
    private = tmp_path / "checkout"
    site = private / "venv" / "site-packages"
    bin_dir = site / "pgserver" / "pginstall" / "bin"
    bin_dir.mkdir(parents=True)
    (site / "pgserver.libs").mkdir()
    (site / "pgserver.libs" / "libpq.so.5").write_text("")
    initdb = bin_dir / "initdb"
    # as the wheel's programs do (RPATH $ORIGIN/../../../pgserver.libs): their libraries must come along
    initdb.write_text('#!/bin/sh\ntest -f "$(dirname "$0")/../../../pgserver.libs/libpq.so.5" && echo initdb ran\n')
    initdb.chmod(0o755)
    private.chmod(0o700)

    def runs_as_nobody(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["runuser", "-u", "nobody", "--", str(path / "initdb")], capture_output=True, text=True, check=False
        )

    assert runs_as_nobody(bin_dir).returncode != 0  # the situation the harness must get around
    reachable = reachable_by("nobody", bin_dir)
    assert reachable != bin_dir
    assert runs_as_nobody(reachable).stdout == "initdb ran\n"


def test_postgres_install_when_reachable_is_used_in_place(tmp_path):
    """Without another owner (tests not run as root) the install is used where it is."""
    assert reachable_by(None, tmp_path / "bin") == tmp_path / "bin"
