"""The component library as users install it: the sdist and the wheel built from this checkout's sources, and a
fresh virtualenv holding a consumer program's requirements from that wheel (``tests/package/test_package.py`` under
mocks, ``tests/test_live.py`` with the Pulumi CLI)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

from tests.harness.paths import ROOT

SOURCES = ["pyproject.toml", "MANIFEST.in", "README.md", "requirements.in", "components"]
"""What the build reads: a copy of these is built, so that the checkout gets no build folders."""


def run(*argv: str | Path, cwd: Path | None = None, timeout: float = 900) -> str:
    """``argv``'s output; its output and errors in the assertion when it fails."""
    result = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(map(str, argv))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def build(out: Path, scratch: Path) -> Path:
    """The sdist and the wheel built from it into ``out``, with the locked build backend (no build isolation),
    from a copy of the sources in ``scratch``."""
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, scratch / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(path, scratch / name)
    uv = Path(sys.executable).with_name("uv")
    run(uv, "build", "--quiet", "--no-build-isolation", "--python", sys.executable, "--out-dir", out, scratch)
    return out


def consumer_venv(dist: Path, where: Path, requirements: Path) -> Path:
    """A virtualenv at ``where`` with ``requirements`` installed, the package from the wheels in ``dist`` and
    everything else at this repository's locked versions (as constraints: the lock's hashes are for PyPI's files
    and the wheel has none); its python."""
    venv.create(where, with_pip=True)
    python = where / "bin" / "python"
    constraints = where / "constraints.txt"
    pins = [line.split()[0] for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line]
    constraints.write_text("\n".join(pins) + "\n")
    run(
        python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--find-links", dist, "-c", constraints, "-r", requirements,
    )  # fmt: skip
    return python
