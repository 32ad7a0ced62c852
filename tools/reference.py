"""Generate the README's configuration and output reference from the code, or check that it is current.

venv/bin/python tools/reference.py --write   # rewrite the README between the markers
venv/bin/python tools/reference.py --check   # exit 1 if the README is stale (the tests do this too)
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

README = ROOT / "README.md"
BEGIN = "<!-- BEGIN GENERATED REFERENCE (tools/reference.py --write) -->"
END = "<!-- END GENERATED REFERENCE -->"
SECRET_FIELDS = {"password", "secretKey"}


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


def _default(schema: dict[str, Any]) -> str:
    if "default" not in schema:
        return "{}"
    value = schema["default"]
    if value is None:
        return "none"
    return f"`{json.dumps(value)}`" if not isinstance(value, str) else f"`{value}`" if value else '`""`'


def reference() -> str:
    """The generated Markdown: one table per configuration block, then the stack outputs."""
    schema = StackSettings.model_json_schema(by_alias=True)
    definitions = schema["$defs"]
    lines: list[str] = []
    for block, block_schema in schema["properties"].items():
        model = definitions[block_schema["$ref"].split("/")[-1]]
        lines += [
            f"#### `{block}` — {model.get('description', '').strip()}",
            "",
            "| key | type | default | description |",
            "| --- | --- | --- | --- |",
        ]
        for key, field in model["properties"].items():
            kind = _type(field)
            if key in SECRET_FIELDS:
                kind = "secret string"
            description = " ".join(field.get("description", "").split()).replace("|", "\\|")
            lines.append(f"| `{block}.{key}` | {kind} | {_default(field)} | {description} |")
        lines.append("")
    lines += ["#### Stack outputs", "", "| output | secret | description |", "| --- | --- | --- |"]
    for name, (secret, description) in OUTPUT_DESCRIPTIONS.items():
        lines.append(f"| `{name}` | {'yes' if secret else 'no'} | {description} |")
    return "\n".join(lines) + "\n"


def current_readme() -> str:
    text = README.read_text()
    return re.sub(
        re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: f"{BEGIN}\n{reference()}{END}", text, flags=re.S
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args()
    updated = current_readme()
    if args.write:
        README.write_text(updated)
        return 0
    if updated != README.read_text():
        print("README.md's reference is stale: run venv/bin/python tools/reference.py --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
