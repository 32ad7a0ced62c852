"""Every command and configuration snippet of README.md and docs/*.md runs here, and every relative link resolves.

- ``yaml`` blocks of stack configuration (``config:`` with ``open-webui-redis:`` keys) go through the settings
  loader (``load_settings``, as under ``pulumi up``) and must load; after ``<!-- docs-test: invalid -->`` they must
  be refused, and a block marked ``<!-- docs-test: output -->`` after that one lists the problems, in order.
- ``bash`` blocks pass ``bash -n``; every command's program is one of ``PROGRAMS`` (or a ``scripts/`` file that
  exists and is executable, or a sourced one that exists); every ``python -m`` module can be imported; every
  ``pulumi config set [--secret] --path KEY VALUE`` line is applied to a configuration (from an empty one, or the
  stack file of ``<!-- docs-test: base FILE -->``) that must then load.
- ``python`` blocks run under Pulumi's mocks (one that starts the mocks itself, with ``components.testing``, runs
  as it is).
- ``json`` blocks parse.
- Relative links reach a file, and a ``#fragment`` a heading of the page it names (GitHub's anchors).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import re
import shlex
import subprocess
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from components import MANAGED_ENV, ConfigurationError, StackSettings, load_settings
from components.testing import read_stack_file, run
from tests.harness.paths import ROOT

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
PROJECT = "open-webui-redis"

PROGRAMS = frozenset(
    {
        # what a reader runs
        "pulumi",
        "docker",
        "ssh",
        "git",
        "curl",
        "pip",
        "python",
        "python3",
        "venv/bin/python",
        "venv/bin/pip",
        "policy/venv/bin/pip",
        # shell built-ins and the plain tools of the backup and migration commands
        "source",
        ".",
        "export",
        "cd",
        "until",
        "do",
        "done",
        "sleep",
        "echo",
        "printf",
        "cat",
        "head",
        "tr",
        "tar",
        "rm",
        "sh",
        "grep",
    }
)
"""The programs a page may tell its reader to run, besides ``scripts/*`` (checked to exist)."""
PYTHONS = frozenset({"python", "python3", "venv/bin/python"})
SEPARATORS = frozenset({"&&", "||", "|", ";", "&", "(", ")", ";;", "|&"})
REDIRECTIONS = frozenset({"<", ">", ">>", "<<", "<<<", ">&", "<&", "&>", "&>>", ">|"})
MARK = re.compile(r"<!--\s*docs-test:\s*(.*?)\s*-->")
PEM = {"CERTIFICATE": "-----BEGIN CERTIFICATE-----\nTUlJ\n-----END CERTIFICATE-----\n"}
PEM["PRIVATE KEY"] = "-----BEGIN PRIVATE KEY-----\nTUlJ\n-----END PRIVATE KEY-----\n"


@dataclass(frozen=True)
class Block:
    """A fenced code block of a page."""

    page: Path
    line: int
    language: str
    text: str
    mark: str
    """The ``docs-test`` comment right before the block ('' if none)."""

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page`` (a fence of four backticks may hold fences of three)."""
    found: list[Block] = []
    lines = page.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^( *)(`{3,})(\S*)\s*$", lines[index])
        if not opening:
            index += 1
            continue
        fence, language, start = opening[2], opening[3], index
        end = start + 1
        while end < len(lines) and not re.match(rf"^ *{fence}`*\s*$", lines[end]):
            end += 1
        indent = len(opening[1])
        text = "\n".join(line[indent:] for line in lines[start + 1 : end]) + "\n"
        before = [line for line in lines[:start] if line.strip()]
        mark = MARK.fullmatch(before[-1].strip()) if before else None
        found.append(Block(page, start + 1, language, text, mark[1] if mark else ""))
        index = end + 1
    return found


ALL_BLOCKS = [block for page in PAGES for block in blocks(page)]


def of_language(language: str) -> list[Block]:
    return [block for block in ALL_BLOCKS if block.language == language]


# ---------------------------------------------------------------------------------------------------------
# Loading configuration as `pulumi up` does
# ---------------------------------------------------------------------------------------------------------


def load(config: Mapping[str, Any], secret_sections: set[str]) -> StackSettings:
    """``config`` (keys without the project prefix) read by ``load_settings`` under Pulumi's mocks, with the
    top-level keys in ``secret_sections`` held as secrets (as ``pulumi config set --secret --path`` holds them)."""
    loaded: list[StackSettings] = []
    run(lambda: loaded.append(load_settings()), config, secret_keys=sorted(secret_sections))
    return loaded[0]


def _placeholder_secrets(value: Any) -> tuple[Any, bool]:
    """``value`` with every ``secure:`` value of a stack file replaced by a placeholder, and whether it had any."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return "docs-placeholder-secret", True
        pairs = [(key, *_placeholder_secrets(item)) for key, item in value.items()]
        return {key: item for key, item, _ in pairs}, any(secret for *_, secret in pairs)
    if isinstance(value, list):
        items = [_placeholder_secrets(item) for item in value]
        return [item for item, _ in items], any(secret for _, secret in items)
    return value, False


def stack_configuration(block: Block) -> tuple[dict[str, Any], set[str]] | None:
    """A ``yaml`` block's stack configuration and its secret sections, or None if it is no stack file."""
    document = yaml.safe_load(block.text)
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict) or not any(str(key).startswith(f"{PROJECT}:") for key in config):
        return None
    raw: dict[str, Any] = {}
    secrets: set[str] = set()
    for key, value in config.items():
        assert str(key).startswith(f"{PROJECT}:"), f"{block}: {key} is not a key of this project"
        section = str(key).split(":", 1)[1]
        raw[section], secret = _placeholder_secrets(value)
        if secret:
            secrets.add(section)
    return raw, secrets


CONFIG_BLOCKS = [block for block in of_language("yaml") if stack_configuration(block) is not None]


def test_docs_when_read_hold_stack_configuration_and_errors() -> None:
    """The pages show stack configuration, and at least one configuration that is refused with its message."""
    assert len(CONFIG_BLOCKS) >= 4
    assert any(block.mark == "invalid" for block in CONFIG_BLOCKS)
    assert any(block.mark == "output" for block in ALL_BLOCKS)
    marks = {block.mark.split()[0] for block in ALL_BLOCKS if block.mark}
    assert marks <= {"invalid", "output", "base"}, marks


@pytest.mark.parametrize("block", CONFIG_BLOCKS, ids=str)
def test_yaml_block_when_loaded_is_accepted_or_refused_as_marked(block: Block) -> None:
    """A stack configuration block loads through the settings loader; a block marked invalid is refused, with the
    problems of the output block marked after it."""
    parsed = stack_configuration(block)
    assert parsed is not None
    config, secrets = parsed
    if block.mark != "invalid":
        load(config, secrets)
        return
    with pytest.raises(ConfigurationError) as refused:
        load(config, secrets)
    following = ALL_BLOCKS[ALL_BLOCKS.index(block) + 1 :]
    output = next((later for later in following if later.page == block.page), None)
    if output is not None and output.mark == "output":
        shown = [line.removeprefix("  - ") for line in output.text.splitlines() if line.startswith("  - ")]
        assert output.text.splitlines()[0] == f"error: {str(refused.value).splitlines()[0]}"  # as Pulumi prints it
        assert shown == refused.value.problems


def test_yaml_blocks_when_parsed_are_yaml() -> None:
    """Every yaml block, configuration or not, is YAML."""
    for block in of_language("yaml"):
        yaml.safe_load(block.text)


def test_json_blocks_when_parsed_are_json() -> None:
    for block in of_language("json"):
        json.loads(block.text)


# ---------------------------------------------------------------------------------------------------------
# Shell commands
# ---------------------------------------------------------------------------------------------------------

BASH_BLOCKS = of_language("bash")


def logical_lines(text: str) -> list[str]:
    """The lines of a shell block, continuation lines joined."""
    return [line for line in text.replace("\\\n", " ").splitlines() if line.strip()]


def commands(line: str) -> Iterator[list[str]]:
    """The simple commands of a shell line (their words, unquoted), inner ``$(...)`` commands included; variable
    assignments before a command and redirections are left out."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    for token in tokens:
        for inner in re.findall(r"\$\(([^()]*)\)", token):
            yield from commands(inner)
    words: list[str] = []
    skip = False
    for token in [*tokens, ";"]:
        if skip:
            skip = False
        elif token in REDIRECTIONS or re.fullmatch(r"[0-9]*[<>][>&]?", token):
            skip = True
        elif token in SEPARATORS:
            if words:
                yield words
            words = []
        elif not words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", token):
            continue  # NAME=value before the program
        else:
            words.append(token)


BASH_COMMANDS = [
    (block, command) for block in BASH_BLOCKS for line in logical_lines(block.text) for command in commands(line)
]


def test_bash_blocks_when_read_hold_commands() -> None:
    assert len(BASH_BLOCKS) >= 10
    assert any(command[:3] == ["pulumi", "config", "set"] for _, command in BASH_COMMANDS)


@pytest.mark.parametrize("block", BASH_BLOCKS, ids=str)
def test_bash_block_when_parsed_by_bash_is_valid(block: Block) -> None:
    result = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True)
    assert result.returncode == 0, f"{block}: {result.stderr}"


@pytest.mark.parametrize(("block", "command"), BASH_COMMANDS, ids=lambda item: str(item)[:60])
def test_bash_command_when_read_runs_a_known_program(block: Block, command: list[str]) -> None:
    """Each command's program is one a page may name: a listed one, or a script of this repository."""
    program, *arguments = command
    if program.startswith("scripts/"):
        assert (ROOT / program).is_file(), f"{block}: {program} does not exist"
        assert os.access(ROOT / program, os.X_OK), f"{block}: {program} is not executable"
        return
    assert program in PROGRAMS, f"{block}: {program!r} is not a program the docs may name (PROGRAMS)"
    if program in ("source", "."):
        assert (ROOT / arguments[0]).is_file(), f"{block}: {arguments[0]} does not exist"
    if program in PYTHONS and "-m" in arguments:
        module = arguments[arguments.index("-m") + 1]
        assert importlib.util.find_spec(module) is not None, f"{block}: no module {module}"
    elif program in PYTHONS and arguments and arguments[0].endswith(".py"):
        assert (ROOT / arguments[0]).is_file(), f"{block}: {arguments[0]} does not exist"


def path_parts(key: str) -> list[str | int]:
    """``pulumi config set --path``'s key: ``a.b[0].c`` -> ``['a', 'b', 0, 'c']``."""
    parts: list[str | int] = []
    for piece in key.split("."):
        name, indexes = re.fullmatch(r"([^\[\]]+)((?:\[[0-9]+\])*)", piece).groups()  # type: ignore[union-attr]
        parts += [name, *(int(index) for index in re.findall(r"[0-9]+", indexes))]
    return parts


def path_value(text: str) -> Any:
    """A value as ``pulumi config set --path`` stores it: ``true``/``false`` as booleans, integers as numbers."""
    if text in ("true", "false"):
        return text == "true"
    return int(text) if re.fullmatch(r"-?[0-9]+", text) else text


def set_path(config: dict[str, Any], parts: list[str | int], value: Any) -> None:
    node: Any = config
    for part, following in itertools.pairwise(parts):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(part, int):
            node.extend([None] * (part + 1 - len(node)))
            node[part] = node[part] if node[part] is not None else empty
        else:
            node.setdefault(part, empty)
        node = node[part]
    last = parts[-1]
    if isinstance(last, int):
        node.extend([None] * (last + 1 - len(node)))
    node[last] = value


def settings_key_exists(parts: list[str | int]) -> bool:
    """Whether ``parts`` names a setting (a value read from standard input cannot be checked, its key can)."""
    model: type[BaseModel] = StackSettings
    for part in parts:
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        if part not in fields:
            return False
        annotation = fields[str(part)].annotation
        nested = [kind for kind in (annotation, *typing.get_args(annotation)) if isinstance(kind, type)]
        models = [kind for kind in nested if issubclass(kind, BaseModel)]
        if not models:
            return True  # a value, a list or a map: what is below it is data
        model = models[0]
    return True


def config_set(arguments: list[str]) -> tuple[list[str | int], Any, bool, bool]:
    """``pulumi config set`` arguments -> (key parts, value or None from stdin, --secret, --path)."""
    secret = path = False
    rest: list[str] = []
    words = iter(arguments)
    for word in words:
        if word == "--secret":
            secret = True
        elif word == "--path":
            path = True
        elif word in ("--stack", "-s", "--config-file"):
            next(words)
        elif word == "--plaintext":
            continue
        else:
            assert not word.startswith("-"), f"unknown flag {word}"
            rest.append(word)
    key, *value = rest
    parts: list[str | int] = path_parts(key) if path else [key]
    if not value:
        return parts, None, secret, path
    return parts, path_value(value[0]) if path else value[0], secret, path


def pem_file(tmp_path: Path, key: str) -> str:
    """A stand-in for a certificate or key file the reader has (``redis.tls.caCertFile /etc/ssl/...``)."""
    kind = "PRIVATE KEY" if key == "clientKeyFile" else "CERTIFICATE"
    path = tmp_path / f"{key}.pem"
    path.write_text(PEM[kind])
    return str(path)


CONFIG_SET_BLOCKS = [
    block
    for block in BASH_BLOCKS
    if any(command[:3] == ["pulumi", "config", "set"] for b, command in BASH_COMMANDS if b == block)
]


@pytest.mark.parametrize("block", CONFIG_SET_BLOCKS, ids=str)
def test_config_set_lines_when_applied_load(block: Block, tmp_path: Path) -> None:
    """The block's `pulumi config set` lines, applied in order to an empty configuration (or the stack file of its
    ``base`` mark), give a configuration the settings loader accepts."""
    config: dict[str, Any] = read_stack_file(ROOT / block.mark.split()[1]) if block.mark.startswith("base ") else {}
    secrets: set[str] = set()
    applied = 0
    for b, command in BASH_COMMANDS:
        if b != block or command[:3] != ["pulumi", "config", "set"]:
            continue
        parts, value, secret, path = config_set(command[3:])
        assert path or "." not in str(parts[0]), f"{block}: {parts[0]} without --path sets a key with dots in it"
        assert settings_key_exists(parts), f"{block}: {'.'.join(map(str, parts))} is no setting"
        if value is None:
            continue  # read from standard input: the key is checked, the value is the reader's
        if str(parts[-1]).endswith("File"):
            value = pem_file(tmp_path, str(parts[-1]))
        set_path(config, parts, value)
        if secret:
            secrets.add(str(parts[0]))
        applied += 1
    if applied:
        load(config, secrets)


# ---------------------------------------------------------------------------------------------------------
# Python
# ---------------------------------------------------------------------------------------------------------

PYTHON_BLOCKS = of_language("python")


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=str)
def test_python_block_when_run_declares_without_error(block: Block) -> None:
    """A program runs under Pulumi's mocks; a block that starts the mocks itself (components.testing) runs as it is."""
    # The pages write the installed package's name; in this checkout the same modules are `components` (the
    # wheel maps the folder so: pyproject.toml; tests/package/test_package.py runs the installed wheel itself).
    code = compile(block.text.replace("open_webui_redis", "components"), str(block), "exec")
    if "components.testing" in block.text:
        exec(code, {})  # noqa: S102 - our own documentation
    else:
        run(lambda: exec(code, {}))  # noqa: S102 - our own documentation


# ---------------------------------------------------------------------------------------------------------
# Links, pages and facts the pages state
# ---------------------------------------------------------------------------------------------------------


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings (outside code blocks)."""
    text = page.read_text()
    for block in blocks(page):
        text = text.replace(block.text, "")
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#* *$", text, re.MULTILINE):
        plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
        slug = re.sub(r"[^\w\- ]", "", plain.replace("`", "").strip().lower()).replace(" ", "-")
        candidate, number = slug, 0
        while candidate in found:
            number += 1
            candidate = f"{slug}-{number}"
        found.add(candidate)
    return found


def links(page: Path) -> list[str]:
    text = page.read_text()
    for block in blocks(page):
        text = text.replace(block.text, "")
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_when_followed_reach_a_file_and_heading(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file):
            broken.append(f"{target}: no heading #{fragment} in {file.relative_to(ROOT)}")
    assert broken == []


def test_readme_when_read_links_every_docs_page_and_stays_short() -> None:
    """README.md is the first page: it links every page of docs/ and stays under 250 lines."""
    readme = (ROOT / "README.md").read_text()
    linked = {Path(target.partition("#")[0]) for target in links(ROOT / "README.md")}
    assert {page.relative_to(ROOT) for page in DOCS.glob("*.md")} <= linked
    assert len(readme.splitlines()) <= 250


def test_scripts_when_named_in_the_docs_exist() -> None:
    """Every `scripts/...` a page names is in the repository."""
    named = {name for page in PAGES for name in re.findall(r"\bscripts/[a-z][a-z0-9-]*", page.read_text())}
    assert named, "no script named"
    assert sorted(name for name in named if not (ROOT / name).is_file()) == []


def test_configuration_page_when_read_names_every_managed_variable() -> None:
    """The "Managed env" row lists every variable that openWebui.env may not set."""
    row = next(line for line in (DOCS / "configuration.md").read_text().splitlines() if line.startswith("| Managed"))
    assert sorted(name for name in MANAGED_ENV if f"`{name}`" not in row) == []


def test_pinned_images_table_when_read_matches_the_defaults() -> None:
    """docs/configuration.md's image table names the default image of each setting."""
    text = (DOCS / "configuration.md").read_text()
    table = dict(re.findall(r"^\| [^|]+ \| `(\w+)\.image` \| `([^`]+)` \|$", text, re.MULTILINE))
    defaults = StackSettings()
    assert table == {
        "openWebui": defaults.open_webui.image,
        "valkey": defaults.valkey.image,
        "database": defaults.database.image,
        "loadBalancer": defaults.load_balancer.image,
    }
