"""The locks: what the program, the policy pack and the tests install is exactly what the repository pins."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from components.core.images import DEFAULT_IMAGES, OPEN_WEBUI_VERSION
from tests.harness.paths import ROOT

HASHED_LOCKS = {
    "requirements.txt": "requirements.in",
    "policy/requirements.txt": "policy/requirements.in",
    "requirements-dev.txt": "requirements-dev.in",
}
OPEN_WEBUI_LOCK = ("tests/requirements-open-webui.txt", "tests/requirements-open-webui.in")
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?)==(\S+?)(?:\s*;\s*([^\\#]+?))?\s*(?:\\)?$")
SEED_PACKAGES = {"pip", "setuptools", "wheel"}
"""What a virtualenv starts with; the locks name setuptools where something needs it."""


def lock_entries(path: str) -> dict[str, tuple[str, Marker | None, list[str]]]:
    """``name -> (version, marker, hashes)`` of a lock written by ``scripts/lock``: for a package pinned once per
    Python version (``; python_full_version < '3.12'``), the entry whose marker this interpreter meets."""
    entries: dict[str, tuple[str, Marker | None, list[str]]] = {}
    current: list[str] | None = None
    for line in (ROOT / path).read_text().splitlines():
        match = _ENTRY.match(line)
        if match:
            name = canonicalize_name(match.group(1).split("[")[0])
            marker = Marker(match.group(3)) if match.group(3) else None
            current = []
            if name not in entries or applies(marker):
                entries[name] = (match.group(2), marker, current)
        elif current is not None and line.strip().startswith("--hash=sha256:"):
            current.append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        elif not line.startswith(" "):
            current = None
    return entries


def ranges(path: str) -> list[Requirement]:
    """The requirements of a ``.in`` file and of the files it includes with ``-r``."""
    found: list[Requirement] = []
    for raw in (ROOT / path).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            found += ranges(str(Path(path).parent / line[3:].strip()))
        else:
            found.append(Requirement(line))
    return found


def applies(marker: Marker | None) -> bool:
    return marker is None or marker.evaluate()


@pytest.mark.parametrize(("lock", "source"), [*HASHED_LOCKS.items(), OPEN_WEBUI_LOCK])
def test_lock_when_compiled_satisfies_every_range_of_its_source(lock: str, source: str) -> None:
    """Each pinned version lies in the range its ``.in`` file (and the files it includes) allows."""
    entries = lock_entries(lock)
    for requirement in ranges(source):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in entries, f"{lock} does not pin {requirement.name} (run scripts/lock)"
        version = entries[name][0]
        assert requirement.specifier.contains(version, prereleases=True), f"{lock}: {name}=={version} vs {requirement}"


@pytest.mark.parametrize("lock", sorted(HASHED_LOCKS))
def test_lock_when_read_pins_every_package_with_its_hashes(lock: str) -> None:
    """Every entry is an exact version with at least one sha256, so pip installs in hash-checking mode."""
    entries = lock_entries(lock)
    assert entries
    unhashed = [name for name, (_, _, hashes) in entries.items() if not hashes]
    assert unhashed == []
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for _, _, hashes in entries.values() for digest in hashes)


@pytest.mark.parametrize("lock", ["requirements.txt", "policy/requirements.txt"])
def test_program_and_policy_locks_when_compared_hold_the_tested_versions(lock: str) -> None:
    """The program and the policy pack run the very versions the tests run (requirements-dev.txt)."""
    tested = lock_entries("requirements-dev.txt")
    for name, (version, _, hashes) in lock_entries(lock).items():
        assert name in tested, f"{lock} pins {name}, which the tests do not install"
        assert tested[name][0] == version, f"{lock}: {name}=={version}, tests run {tested[name][0]}"
        assert set(hashes) == set(tested[name][2]), name


@pytest.mark.parametrize("lock", [*HASHED_LOCKS, OPEN_WEBUI_LOCK[0]])
def test_lock_header_when_read_is_the_command_scripts_lock_runs(lock: str) -> None:
    """The header names the ``uv pip compile`` command, options as ``--name=value`` and the output file, so that
    Renovate's pip-compile manager can run it again for an update."""
    header = (ROOT / lock).read_text().splitlines()[1].strip("# ")
    assert header.startswith("uv pip compile --universal --python-version=3.11 ")
    assert header.endswith(f" --output-file={lock}")
    assert " -o " not in header
    assert ("--generate-hashes" in header) == (lock in HASHED_LOCKS)


def test_installed_packages_when_listed_are_exactly_the_test_lock() -> None:
    """This virtualenv (scripts/test installs and syncs it) holds what requirements-dev.txt pins, at those
    versions, and nothing else but pip's own seed packages."""
    locked = {
        name: version for name, (version, marker, _) in lock_entries("requirements-dev.txt").items() if applies(marker)
    }
    installed = {str(canonicalize_name(d.metadata["Name"])): d.version for d in importlib.metadata.distributions()}
    different = {
        name: (installed.get(name), version) for name, version in locked.items() if installed.get(name) != version
    }
    assert different == {}, "installed vs locked; run scripts/test (it installs the lock)"
    assert sorted(set(installed) - set(locked) - SEED_PACKAGES) == []


def test_open_webui_virtualenv_when_installed_is_the_lock_and_the_default_image_version() -> None:
    """The Open WebUI the Tier 2 tests run is the default image's release, every package at its locked version."""
    venv = os.environ.get("OPEN_WEBUI_VENV")
    if not venv:
        pytest.skip("OPEN_WEBUI_VENV is not set: scripts/test --all installs the Tier 2 Open WebUI and sets it")
    listed = subprocess.run(
        [f"{venv}/bin/python", "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {str(canonicalize_name(item["name"])): item["version"] for item in json.loads(listed)}
    assert installed["open-webui"] == OPEN_WEBUI_VERSION
    locked = lock_entries(OPEN_WEBUI_LOCK[0])
    different = {
        name: (installed[name], locked[name][0])
        for name in installed
        if name in locked and installed[name].split("+")[0] != locked[name][0]  # torch's CPU build: 2.13.0+cpu
    }
    assert different == {}
    assert sorted(set(installed) - set(locked) - SEED_PACKAGES) == []


def test_open_webui_version_when_pinned_is_one_constant() -> None:
    """The default image, the Tier 2 requirement and its lock name the same Open WebUI release."""
    assert f"open-webui[postgres]=={OPEN_WEBUI_VERSION}" in (ROOT / OPEN_WEBUI_LOCK[1]).read_text().splitlines()
    assert lock_entries(OPEN_WEBUI_LOCK[0])["open-webui"][0] == OPEN_WEBUI_VERSION
    script = (ROOT / "scripts" / "install-open-webui").read_text()
    assert "components/settings/images.py" in script
    assert '-c "$lock"' in script


def test_pulumi_project_when_installed_uses_pip_on_the_hashed_lock() -> None:
    """`pulumi install` and `pulumi up` create venv/ with pip from requirements.txt: the hashed lock."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert lock_entries("requirements.txt")["pulumi-docker"][2]
    provider = (ROOT / "provider" / "requirements.txt").read_text().splitlines()
    assert "-r ../requirements.txt" in provider


def test_scripts_when_they_install_python_packages_use_the_locks() -> None:
    """scripts/test installs the test lock with --require-hashes and removes what it does not name."""
    script = (ROOT / "scripts" / "test").read_text()
    assert "pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt" in script
    assert "uv pip sync --quiet --python venv/bin/python --require-hashes requirements-dev.txt" in script
    assert "pulumi install" in (ROOT / "scripts" / "deploy").read_text()


def _python_regex(pattern: str) -> re.Pattern[str]:
    """A Renovate (JavaScript) regex with named groups, as Python's ``re`` writes them."""
    return re.compile(pattern.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!"))


def test_renovate_when_configured_proposes_every_lock_action_and_image() -> None:
    """renovate.json re-locks the four locks, pins actions by commit, and finds every default image and Open
    WebUI's version where they are written, with the version that Renovate would change."""
    config = json.loads((ROOT / "renovate.json").read_text())
    assert "helpers:pinGitHubActionDigests" in config["extends"]
    patterns = [_python_regex(p.strip("/")) for p in config["pip-compile"]["managerFilePatterns"]]
    for lock in [*HASHED_LOCKS, OPEN_WEBUI_LOCK[0]]:
        assert any(pattern.fullmatch(lock) for pattern in patterns), lock
    assert config["pip_requirements"] == {"enabled": False}  # the locks are not read twice
    images, version = config["customManagers"]
    found: set[tuple[str, str]] = set()
    for path in ["components/settings/images.py", "Pulumi.dev.yaml", "Pulumi.swarm.yaml"]:
        assert any(_python_regex(p.strip("/")).fullmatch(path) for p in images["managerFilePatterns"]), path
        text = (ROOT / path).read_text()
        for pattern in images["matchStrings"]:
            found |= {(m["depName"], m["currentValue"]) for m in _python_regex(pattern).finditer(text)}
    expected = {tuple(reference.rsplit(":", 1)) for reference in DEFAULT_IMAGES.values()}
    assert found == expected  # Open WebUI's tag from the stacks, its version below
    (match,) = _python_regex(version["matchStrings"][0]).finditer((ROOT / "components/settings/images.py").read_text())
    assert match["currentValue"] == OPEN_WEBUI_VERSION
    assert version["depNameTemplate"] == "ghcr.io/open-webui/open-webui"
