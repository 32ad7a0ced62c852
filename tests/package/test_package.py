"""The component library as users install it (issue #20): the source distribution and the wheel built from this
repository by the standard backend, installed into a fresh virtualenv (no access to this checkout), with a
consumer program (``examples/composed``) that imports it, passes Outputs into the stack, type-checks under
``mypy --strict`` against the installed package and passes its own mock test there.

The virtualenv installs the example's own requirements with this repository's lock as constraints, so it runs
the versions CI runs; PyPI serves them (pip's cache makes a second run quick). Runs with ``scripts/test --all``
(marker ``package``) or ``PACKAGE_TEST=1``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import components
from tests.harness.paths import ROOT
from tests.harness.wheel import build, consumer_venv, run

EXAMPLE = ROOT / "examples" / "composed"

pytestmark = pytest.mark.package
builds = pytest.mark.skipif(
    os.environ.get("PACKAGE_TEST") != "1",
    reason="builds the wheel and installs it with its dependencies in a fresh virtualenv (about a minute): "
    "set PACKAGE_TEST=1, or run scripts/test --all",
)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from the sdist."""
    return build(tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("source"))


@pytest.fixture(scope="module")
def fresh(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the example's requirements from the wheel, on the lock's versions; its python."""
    return consumer_venv(dist, tmp_path_factory.mktemp("venv"), EXAMPLE / "requirements.txt")


@builds
def test_wheel_when_built_holds_the_package_under_its_own_name_with_its_types_and_ranges(dist: Path) -> None:
    """``open_webui_redis`` (not ``components``), every module, ``py.typed``; the ranges of requirements.in."""
    version = components.__version__
    (wheel,) = dist.glob("*.whl")
    assert wheel.name == f"open_webui_redis-{version}-py3-none-any.whl"
    assert (dist / f"open_webui_redis-{version}.tar.gz").exists()
    names = zipfile.ZipFile(wheel).namelist()
    modules = {
        f"open_webui_redis/{path.relative_to(ROOT / 'components').as_posix()}"
        for path in (ROOT / "components").rglob("*.py")
    }
    assert modules <= set(names), sorted(modules - set(names))
    assert "open_webui_redis/py.typed" in names
    assert not [name for name in names if name.startswith(("components/", "tests/"))]
    metadata = zipfile.ZipFile(wheel).read(f"open_webui_redis-{version}.dist-info/METADATA").decode()
    required = {
        Requirement(line.removeprefix("Requires-Dist: "))
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    }
    ranges = {
        Requirement(line) for line in (ROOT / "requirements.in").read_text().splitlines() if line and line[0] != "#"
    }
    assert {(r.name, r.specifier) for r in required} == {(r.name, r.specifier) for r in ranges}


@builds
def test_package_when_installed_imports_and_its_consumer_passes_its_mock_test(fresh: Path, tmp_path: Path) -> None:
    """The example, copied out of the checkout, runs its unittest against the installed wheel."""
    consumer = tmp_path / "composed"
    shutil.copytree(EXAMPLE, consumer, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    version = run(
        fresh, "-c", "import open_webui_redis, sys; print(open_webui_redis.__version__, open_webui_redis.__file__)"
    )
    assert version.split()[0] == components.__version__
    assert "site-packages" in version.split()[1]
    run(fresh, "-m", "pip", "check")
    output = subprocess.run(
        [fresh, "-m", "unittest", "-v", "test_composed"], cwd=consumer, capture_output=True, text=True, timeout=300
    )
    assert output.returncode == 0, output.stderr
    assert "Ran 2 tests" in output.stderr


@builds
def test_consumer_when_type_checked_strictly_against_the_installed_package_passes(fresh: Path, tmp_path: Path) -> None:
    """``mypy --strict`` on the example (its program and its test), reading the package from the fresh
    virtualenv's site-packages: ``py.typed`` makes its annotations count."""
    consumer = tmp_path / "composed"
    shutil.copytree(EXAMPLE, consumer, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    mypy = Path(sys.executable).with_name("mypy")
    result = subprocess.run(
        [mypy, "--strict", "--no-incremental", "--python-executable", fresh, "--config-file", os.devnull,
         "__main__.py", "test_composed.py"],
        cwd=consumer, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # Proof that the package was read, not skipped as missing: a wrong call into it is an error.
    (consumer / "wrong.py").write_text("from open_webui_redis import OpenWebUIStack\nOpenWebUIStack('x', 42)\n")
    wrong = subprocess.run(
        [mypy, "--strict", "--no-incremental", "--python-executable", fresh, "--config-file", os.devnull, "wrong.py"],
        cwd=consumer, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert wrong.returncode == 1
    assert 'Argument 2 to "OpenWebUIStack" has incompatible type "int"' in wrong.stdout


@builds
def test_package_when_installed_from_the_repository_at_a_commit_builds_with_the_standard_backend(
    tmp_path: Path,
) -> None:
    """`pip install git+<repository>@<tag>`, as users install a release: pip clones this repository at a commit
    (HEAD here: a tag is a name for one), builds it in isolation with the backend pyproject.toml names, and
    installs ``open_webui_redis``."""
    commit = run("git", "rev-parse", "HEAD", cwd=ROOT).strip()
    target = tmp_path / "site"
    run(
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
        "--target", target, f"git+file://{ROOT}@{commit}",
    )  # fmt: skip
    installed = {path.name for path in target.iterdir()}
    assert "open_webui_redis" in installed
    assert f"open_webui_redis-{components.__version__}.dist-info" in installed
    assert (target / "open_webui_redis" / "py.typed").exists()
    assert (target / "open_webui_redis" / "core" / "probe.py").exists()


def test_version_when_released_is_one_in_pyproject_and_the_package() -> None:
    """pyproject.toml reads the version from the package (one place), and the ranges from requirements.in."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["dynamic"] == ["version", "dependencies"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "open_webui_redis.__version__"}
    assert project["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.in"]}
    assert project["tool"]["setuptools"]["package-dir"] == {"open_webui_redis": "components"}
