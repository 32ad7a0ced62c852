"""The library's layout (issue #10): an engine-neutral core, one package per engine, URNs that do not move."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

import components
from components import testing
from components.core._moved import MOVED
from components.testing import render
from tests.harness.paths import ROOT, TESTS

URNS_BEFORE = json.loads((TESTS / "data" / "urns-before-issue-10.json").read_text())
"""Every URN of three single-host stacks as the program declared them before the layout changed."""
CONFIGS: dict[str, tuple[dict[str, object], tuple[str, ...]]] = {
    "dev": ({}, ()),
    "replicas": ({"openWebui": {"replicas": 3}}, ()),
    "external-db": (
        {"openWebui": {"replicas": 2}, "database": {"url": "postgresql://u:p@db:5432/owui"}},
        ("database",),
    ),
}


_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.MULTILINE)


def _imports(path: Path) -> set[str]:
    """The absolute modules a source file imports (``from x import`` and ``import x`` lines)."""
    return {first or second for first, second in _IMPORT.findall(path.read_text()) if not (first or "").startswith(".")}


@pytest.mark.parametrize("label", sorted(CONFIGS))
def test_single_host_urns_when_the_layout_changed_are_the_ones_existing_stacks_hold(label: str) -> None:
    """A stack deployed before the reshape finds every resource under the same URN: nothing is replaced."""
    config, secret_keys = CONFIGS[label]
    deployment = render(config, secret_keys=secret_keys)
    assert sorted(resource.urn for resource in deployment.resources) == URNS_BEFORE[label]


def test_core_when_imported_declares_nothing_and_needs_no_docker_provider() -> None:
    """The core is settings and renderers only: no module of it imports pulumi_docker or an engine package."""
    for path in sorted((ROOT / "components" / "core").glob("*.py")):
        imported = _imports(path)
        assert not any(name.startswith("pulumi_docker") for name in imported), path.name
        source = path.read_text()
        assert "from ..host" not in source, path.name
        assert "from ..swarm" not in source, path.name


def _defined_names(path: Path) -> list[str]:
    """The names a module defines at its top level: functions, classes and assigned constants."""
    names: list[str] = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [target.id for target in targets if isinstance(target, ast.Name)]
    return names


def test_core_when_read_defines_nothing_for_swarm_alone() -> None:
    """Swarm-only code (secret file paths, the entrypoint wrapper, commands that read secret files) lives in
    ``components/swarm/``: no core module defines a name about Swarm. (settings.py holds the settings of every
    engine, Swarm's section included.)"""
    for path in sorted((ROOT / "components" / "core").glob("*.py")):
        if path.name == "settings.py":
            continue
        assert [name for name in _defined_names(path) if "swarm" in name.lower()] == [], path.name


def test_engines_when_imported_do_not_import_each_other() -> None:
    """The single-host and Swarm packages share the core, not each other's code."""
    for engine, other in (("host", "swarm"), ("swarm", "host")):
        for path in sorted((ROOT / "components" / engine).glob("*.py")):
            assert f"from ..{other}" not in path.read_text(), f"{engine}/{path.name} imports {other}"


def test_public_names_when_the_layout_changed_still_import_from_components() -> None:
    """Everything a user imported from ``components`` before is still there."""
    for name in components.__all__:
        assert getattr(components, name) is not None
    assert components.Valkey.__module__ == "components.host.valkey"


def test_components_testing_when_read_names_nothing_of_the_test_tree() -> None:
    """``components.testing`` is library code: it imports nothing from ``tests/`` (not even through importlib), and an
    unknown name raises AttributeError as in any module (the loopback helpers moved to tests/harness/loopback.py in
    #10)."""
    source = (ROOT / "components" / "testing.py").read_text()
    assert "importlib" not in source
    imported = {from_name or name for from_name, name in _IMPORT.findall(source)}
    assert not {name for name in imported if name == "tests" or name.startswith("tests.")}, imported
    assert not re.search(r"\btests[./]\w", source), "components/testing.py names a module of the test tree"
    with pytest.raises(AttributeError, match="no attribute 'not_a_helper'"):
        getattr(testing, "not_a_helper")  # noqa: B009 - the attribute access is what is tested


def _is_test_module(name: str) -> bool:
    """``tests.test_*`` (at any depth, for tiers in folders) or a ``conftest``."""
    last = name.rsplit(".", 1)[-1]
    return name.startswith("tests.") and (last.startswith("test_") or last == "conftest")


def _imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, by its dotted name (``from tests import x`` counts as ``tests.x``,
    a relative import is resolved against the file's package, and a string given to ``import_module`` counts)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def test_test_modules_when_imported_import_no_other_test_module_or_conftest() -> None:
    """What tiers share lives in the harness (``tests/harness/``) and the support modules; fixtures reach a test
    through pytest, never through an import of ``conftest``; no module of the test tree imports a test module."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in _imported_modules(path) if _is_test_module(name))
        for path in sorted((ROOT / "tests").rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}


@pytest.mark.parametrize(
    ("module", "name"), [(module, name) for module, names in sorted(MOVED.items()) for name in sorted(names)]
)
def test_core_when_a_name_moved_to_the_swarm_package_is_imported_from_it_warns_and_resolves(
    module: str, name: str
) -> None:
    """Swarm-only code left the core in issue 21; ``from components.core.valkey import swarm_server_command`` and
    the like keep working, with a warning naming where each name is now."""
    where, new = MOVED[module][name]
    with pytest.warns(DeprecationWarning, match=rf"components\.{module}\.{name} moved to components\.{where}\.{new}"):
        value = getattr(importlib.import_module(f"components.{module}"), name)
    assert value is getattr(importlib.import_module(f"components.{where}"), new)


def test_components_testing_when_a_loopback_helper_of_before_is_asked_for_says_where_it_is() -> None:
    """The loopback helpers are test support: the error names where they are, without importing the test tree."""
    with pytest.raises(AttributeError, match=r"localize_valkey is test support.*harness/loopback\.py"):
        getattr(testing, "localize_valkey")  # noqa: B009 - the attribute access is what is tested
