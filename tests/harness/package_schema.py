"""The multi-language package's schema, inferred as the plugin infers it, and a checker for Pulumi YAML programs."""

from __future__ import annotations

import json
import re
from typing import Any

from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.schema import generate_schema

from components import __version__
from components.hosted import COMPONENTS, PACKAGE

TOKEN = f"{PACKAGE}:index:"


def _served() -> dict[str, Any]:
    provider = ComponentProvider(list(COMPONENTS), PACKAGE, version=__version__)
    schema: dict[str, Any] = json.loads(provider.schema or "{}")
    return schema


def _inferred() -> dict[str, Any]:
    result = Analyzer(PACKAGE).analyze(list(COMPONENTS))
    dependencies = sorted(result["dependencies"], key=lambda dependency: f"{dependency.name}{dependency.version}")
    spec = generate_schema(
        PACKAGE, __version__, None, result["component_definitions"], result["type_definitions"], dependencies
    )
    schema: dict[str, Any] = spec.to_json()
    return schema


# Inferred once, when the tests are collected and before any Pulumi program runs: the analyzer reads each
# docstring with inspect.getsource (ast.parse), which CPython 3.11 races with tracebacks that Pulumi's executor
# threads format (python/cpython#106905, a SystemError); the analyzer swallows the error and the description is
# lost. The plugin infers its schema once at start, before it serves, so it is not exposed.
_SERVED = _served()
_INFERRED = _inferred()


def served_schema() -> dict[str, Any]:
    """The schema the plugin serves (``GetSchema``): what ``ComponentProvider`` infers when it starts."""
    return _SERVED


def inferred_schema() -> dict[str, Any]:
    """The schema from the SDK's analyzer and schema generator, called directly as ``ComponentProvider`` does."""
    return _INFERRED


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Where two JSON documents differ, one line per path."""
    if isinstance(left, dict) and isinstance(right, dict):
        return [
            line
            for key in sorted(set(left) | set(right))
            for line in (
                differences(left[key], right[key], f"{path}/{key}")
                if key in left and key in right
                else [f"{path}/{key}: only in {'left' if key in left else 'right'}"]
            )
        ]
    return [] if left == right else [f"{path}: {left!r} != {right!r}"]


def kind(prop: dict[str, Any]) -> str:
    """A property's type in one word: ``string``, ``map<string>``, ``array<string>``, ``ref:RestartPolicy``."""
    if "$ref" in prop:
        return "ref:" + str(prop["$ref"]).rsplit(":", 1)[1]
    if prop["type"] == "object":
        return f"map<{kind(prop['additionalProperties'])}>"
    if prop["type"] == "array":
        return f"array<{kind(prop['items'])}>"
    return str(prop["type"])


_EXPRESSION = re.compile(r"\$\{([^}]+)\}")
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "number": (int, float),
}


def yaml_program_problems(program: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """What in a Pulumi YAML program does not fit the package schema (its resources of this package only).

    Checks each resource's type, required inputs, input names, value types (enums, nested objects, maps),
    that expressions go to non-plain inputs only and name a config key or a schema output, and the program's
    outputs.
    """
    resources = program.get("resources") or {}
    config = program.get("config") or {}
    problems: list[str] = []

    def reference(path: str, expression: str) -> None:
        for ref in _EXPRESSION.findall(expression):
            if ref in config:
                continue
            resource_name, _, prop = ref.partition(".")
            resource = resources.get(resource_name)
            if resource is None:
                problems.append(f"{path}: ${{{ref}}} names no config key or resource")
                continue
            spec = schema["resources"].get(resource["type"])
            if spec is not None and prop not in spec["properties"]:
                problems.append(f"{path}: ${{{ref}}}: {resource['type']} has no output {prop!r}")

    def value(path: str, given: Any, prop: dict[str, Any] | None) -> None:
        if prop is None:
            problems.append(f"{path}: not an input in the schema")
            return
        if isinstance(given, str) and _EXPRESSION.search(given):
            if prop.get("plain"):
                problems.append(f"{path}: a plain input given an expression ({given})")
            reference(path, given)
            return
        if "$ref" in prop:
            type_ = schema["types"][prop["$ref"].removeprefix("#/types/")]
            if "enum" in type_:
                allowed = [member["value"] for member in type_["enum"]]
                if given not in allowed:
                    problems.append(f"{path}: {given!r} is not one of {allowed}")
                return
            if not isinstance(given, dict):
                problems.append(f"{path}: must be an object")
                return
            for key, item in given.items():
                value(f"{path}.{key}", item, type_.get("properties", {}).get(key))
            return
        if prop["type"] == "object":
            if not isinstance(given, dict):
                problems.append(f"{path}: must be a map")
                return
            for key, item in given.items():
                value(f"{path}.{key}", item, prop["additionalProperties"])
            return
        if prop["type"] == "array":
            if not isinstance(given, list):
                problems.append(f"{path}: must be array (got {given!r})")
                return
            for index, item in enumerate(given):
                value(f"{path}[{index}]", item, prop["items"])
            return
        expected = _JSON_TYPES[prop["type"]]
        if not isinstance(given, expected) or (prop["type"] != "boolean" and isinstance(given, bool)):
            problems.append(f"{path}: must be {prop['type']} (got {given!r})")

    for name, resource in resources.items():
        token = resource.get("type", "")
        if not token.startswith(f"{PACKAGE}:"):
            continue
        spec = schema["resources"].get(token)
        if spec is None:
            problems.append(f"{name}: {token} is not in the schema")
            continue
        properties = resource.get("properties") or {}
        problems += [f"{name}.{key}: required input missing" for key in spec["requiredInputs"] if key not in properties]
        for key, given in properties.items():
            value(f"{name}.{key}", given, spec["inputProperties"].get(key))
    for name, expression in (program.get("outputs") or {}).items():
        reference(f"outputs.{name}", str(expression))
    return problems
