"""Generate the configuration and output reference of docs/configuration.md from the code, or check it is current.

venv/bin/python tools/reference.py --write   # rewrite docs/configuration.md between the markers
venv/bin/python tools/reference.py --check   # exit 1 if the page's reference is stale (the tests do this too)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components import StackSettings  # noqa: E402
from components.host.stack import OUTPUT_DESCRIPTIONS  # noqa: E402
from components.settings import secret_paths  # noqa: E402
from components.swarm.stack import OUTPUT_DESCRIPTIONS as SWARM_OUTPUTS  # noqa: E402

PAGE = ROOT / "docs" / "configuration.md"
"""The page that holds the generated reference, between ``BEGIN`` and ``END``."""
BEGIN = "<!-- BEGIN GENERATED REFERENCE (tools/reference.py --write) -->"
END = "<!-- END GENERATED REFERENCE -->"
SECRET_FIELDS = {path[-1] for path in secret_paths()}
"""Keys that hold secrets (``SecretStr`` fields), shown as secret strings."""


def _type(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        kinds = [_type(option) for option in schema["anyOf"] if option.get("type") != "null"]
        return " or ".join(kinds)
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    kind = schema.get("type", "object")
    if kind == "object" and "additionalProperties" in schema:
        return "map of string"
    if kind == "integer" and "minimum" in schema and "maximum" in schema:
        return f"integer {schema['minimum']}-{schema['maximum']}"
    if schema.get("format") == "password":
        return "secret string"
    return str(kind)


def _default(schema: dict[str, Any], required: bool = False) -> str:
    if required:
        return "required"
    if "default" not in schema:
        return "{}"
    value = schema["default"]
    if value is None:
        return "none"
    return f"`{json.dumps(value)}`" if not isinstance(value, str) else f"`{value}`" if value else '`""`'


def _ref(schema: dict[str, Any]) -> str | None:
    """The model a field holds (``$ref``, or ``anyOf [$ref, null]`` for an optional block)."""
    for option in [schema, *schema.get("anyOf", [])]:
        if "$ref" in option:
            return str(option["$ref"].split("/")[-1])
    return None


def _block(path: str, model: dict[str, Any], definitions: dict[str, Any]) -> list[str]:
    lines = [
        f"#### `{path}` — {model.get('description', '').strip()}",
        "",
        "| key | type | default | description |",
        "| --- | --- | --- | --- |",
    ]
    nested: list[tuple[str, dict[str, Any]]] = []
    for key, field in model["properties"].items():
        ref = _ref(field)
        kind = f"object (`{path}.{key}` below)" if ref else _type(field)
        if ref:
            nested.append((f"{path}.{key}", definitions[ref]))
        if key in SECRET_FIELDS:
            kind = "secret string"
        description = " ".join(field.get("description", "").split()).replace("|", "\\|")
        required = key in model.get("required", [])
        lines.append(f"| `{path}.{key}` | {kind} | {_default(field, required)} | {description} |")
    lines.append("")
    for nested_path, nested_model in nested:
        lines += _block(nested_path, nested_model, definitions)
    return lines


def reference() -> str:
    """The generated Markdown: the top-level keys, one table per configuration block, then the stack outputs."""
    schema = StackSettings.model_json_schema(by_alias=True)
    definitions = schema["$defs"]
    lines: list[str] = []
    scalars = {key: field for key, field in schema["properties"].items() if _ref(field) is None}
    if scalars:
        lines += ["#### Top-level keys", "", "| key | type | default | description |", "| --- | --- | --- | --- |"]
        for key, field in scalars.items():
            description = " ".join(field.get("description", "").split()).replace("|", "\\|")
            lines.append(f"| `{key}` | {_type(field)} | {_default(field)} | {description} |")
        lines.append("")
    for block, block_schema in schema["properties"].items():
        ref = _ref(block_schema)
        if ref is not None:
            lines += _block(block, definitions[ref], definitions)
    for title, outputs in (("Stack outputs", OUTPUT_DESCRIPTIONS), ("Swarm stack outputs", SWARM_OUTPUTS)):
        lines += [f"#### {title}", "", "| output | secret | description |", "| --- | --- | --- |"]
        for name, (secret, description) in outputs.items():
            lines.append(f"| `{name}` | {'yes' if secret else 'no'} | {description} |")
        lines.append("")
    return "\n".join(lines[:-1]) + "\n"


def current_page() -> str:
    """The page with its reference regenerated; a page without both markers is an error, not a silent pass."""
    text = PAGE.read_text()
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise SystemExit(f"{PAGE.relative_to(ROOT)} must hold the markers {BEGIN!r} and {END!r} once each")
    return re.sub(
        re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: f"{BEGIN}\n{reference()}{END}", text, flags=re.S
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args()
    updated = current_page()
    if args.write:
        PAGE.write_text(updated)
        return 0
    if updated != PAGE.read_text():
        print(
            "docs/configuration.md's reference is stale: run venv/bin/python tools/reference.py --write",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
