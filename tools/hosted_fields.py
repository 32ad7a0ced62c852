"""Generate the settings fields of the multi-language argument types (``components/hosted.py``) from the pydantic
settings models, or check that they are current.

venv/bin/python tools/hosted_fields.py --write   # rewrite every generated block in components/hosted.py
venv/bin/python tools/hosted_fields.py --check   # exit 1 if one is stale (tests/test_provider_schema.py does this)

Pulumi's schema analyzer reads a field's description from the source of the class that declares it (a docstring
after the annotation), so the fields must be written out in ``hosted.py``: this writes them, each with its
model's description and default, its type as the schema takes it (an enum of ``hosted.py`` for a choice), and
without the secret fields (separate ``Input`` arguments there, or not offered).
"""

from __future__ import annotations

import argparse
import enum
import re
import sys
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.core import settings as _settings  # noqa: E402
from components.hosted import SETTINGS_SECRET_FIELDS, STACK_INPUT_FIELDS, settings_description  # noqa: E402

HOSTED = ROOT / "components" / "hosted.py"
BEGIN = re.compile(r"^    # Generated from (\w+) by tools/hosted_fields\.py --write; do not edit\.$")
END = "    # End of generated fields."


def _enums(source: str) -> dict[frozenset[str], str]:
    """The ``enum.StrEnum`` classes that ``hosted.py`` declares, by their set of values."""
    found: dict[frozenset[str], str] = {}
    for match in re.finditer(r"^class (\w+)\(enum\.StrEnum\):\n(.*?)(?=^\S)", source, re.MULTILINE | re.DOTALL):
        values = frozenset(re.findall(r'^    \w+ = "([^"]*)"$', match.group(2), re.MULTILINE))
        found[values] = match.group(1)
    return found


def hosted_type(model: type[BaseModel], name: str, enums: dict[frozenset[str], str]) -> str:
    """The annotation ``hosted.py`` gives a settings field: plain ``str``/``int``/``bool``, a map, or an enum."""
    annotation: Any = model.model_fields[name].annotation
    if get_origin(annotation) in (Union, types.UnionType):
        (annotation,) = [arg for arg in get_args(annotation) if arg is not type(None)]
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is Literal:
        values = frozenset(str(value) for value in get_args(annotation))
        if values not in enums:
            raise SystemExit(f"{model.__name__}.{name}: no enum in hosted.py offers {sorted(values)}")
        return enums[values]
    if get_origin(annotation) is dict:
        return "dict[str, str]"
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        item = get_args(item)[0] if get_origin(item) is Annotated else item
        if item is not str:
            raise SystemExit(f"{model.__name__}.{name}: no schema type for a list of {item!r}")
        return "list[str]"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        raise SystemExit(f"{model.__name__}.{name}: enum fields are written as Literal in the settings")
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__  # the TypedDict of hosted.py with the model's name
    if annotation in (str, int, bool, float):
        return str(annotation.__name__)
    raise SystemExit(f"{model.__name__}.{name}: no schema type for {annotation!r}")


def fields_block(model: type[BaseModel], enums: dict[frozenset[str], str]) -> list[str]:
    """The generated lines for ``model``: markers, then each field and its docstring."""
    lines = [f"    # Generated from {model.__name__} by tools/hosted_fields.py --write; do not edit."]
    for name in model.model_fields:
        if name in SETTINGS_SECRET_FIELDS:
            continue
        text = settings_description(model, name).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        doc = f'    """{text}"""'
        lines += [f"    {name}: {hosted_type(model, name, enums)}", doc + ("  # noqa: E501" if len(doc) > 120 else "")]
    return [*lines, END]


def stack_inputs_block() -> list[str]:
    """The generated lines of ``hosted.STACK_INPUT_FIELDS``: the arguments both hosted stacks take alike."""
    lines = ["    # Generated from STACK_INPUT_FIELDS by tools/hosted_fields.py --write; do not edit."]
    for name, (annotation, text) in STACK_INPUT_FIELDS.items():
        doc = f'    """{text}"""'
        lines += [f"    {name}: {annotation}", doc + ("  # noqa: E501" if len(doc) > 120 else "")]
    return [*lines, END]


def generated(source: str) -> str:
    """``source`` with every generated block rewritten from its model."""
    enums = _enums(source)
    lines = source.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        begin = BEGIN.match(lines[index])
        if not begin:
            out.append(lines[index])
            index += 1
            continue
        end = lines.index(END, index)
        model = getattr(_settings, begin.group(1), None)
        if begin.group(1) == "STACK_INPUT_FIELDS":
            out += stack_inputs_block()
        elif isinstance(model, type) and issubclass(model, BaseModel):
            out += fields_block(model, enums)
        else:
            raise SystemExit(f"hosted.py line {index + 1}: no settings model {begin.group(1)}")
        index = end + 1
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the generated blocks")
    mode.add_argument("--check", action="store_true", help="exit 1 if a generated block is stale")
    options = parser.parse_args()
    source = HOSTED.read_text()
    fresh = generated(source)
    if options.write:
        HOSTED.write_text(fresh)
        return 0
    if fresh != source:
        print("components/hosted.py is stale: run venv/bin/python tools/hosted_fields.py --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
