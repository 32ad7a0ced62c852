"""Stack configuration -> validated settings, before any resource is declared.

Every problem is collected and reported at once as a ``pulumi.RunError`` (Pulumi prints its message without
a Python traceback), naming the key path, the value and what is allowed. Secret values are never printed.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

from ..settings import StackSettings, secret_paths
from .errors import PROJECT as PROJECT
from .errors import ArgumentError as ArgumentError
from .errors import ConfigurationError as ConfigurationError
from .inputs import input_problems, name_inputs, with_stand_ins, without_stand_ins

SECRET_PATHS = secret_paths(StackSettings)
"""Configuration keys that hold secrets (every ``SecretStr`` field of the models): they must be set with ``--secret``
and are never printed."""
SECRET_FIELDS = frozenset(path[-1] for path in SECRET_PATHS)


_ABSENT = object()


def _sections() -> dict[str, str]:
    """Top-level keys of ``StackSettings`` by their configuration name."""
    return {field.alias or name: name for name, field in StackSettings.model_fields.items()}


def _field_aliases(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _suggest(key: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    if not close:
        lowered = {candidate.lower(): candidate for candidate in candidates}
        close = [lowered[key.lower()]] if key.lower() in lowered else []
    return f"; did you mean {close[0]!r}?" if close else ""


def _is_secret_path(loc: tuple[str | int, ...]) -> bool:
    """Secrets, and extra environment variables (their values may be API keys), are never shown."""
    path = [str(part) for part in loc]
    return "env" in path or any(part in SECRET_FIELDS for part in path)


_CREDENTIALS_IN_URL = re.compile(r"://[^/?#@\s]*@")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return "[secret]" if _CREDENTIALS_IN_URL.search(value) else repr(value)  # user:password@ in a URL
    return json.dumps(value) if isinstance(value, (bool, int, float, type(None))) else repr(value)


def _model_at(loc: tuple[str | int, ...], root: type[BaseModel]) -> type[BaseModel] | None:
    model = root
    for part in loc:
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        field = fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def describe_errors(
    error: ValidationError, root: type[BaseModel] = StackSettings, secret_sections: Iterable[str] = ()
) -> list[str]:
    """One line per problem: ``key.path: what is wrong (got value)``; secret values are never shown.

    ``root`` is the model that was validated, for suggestions of misspelt keys; nothing under a key of
    ``secret_sections`` (top-level keys that Pulumi holds as secrets) is shown either."""
    hidden = set(secret_sections)
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "model_type":
            message = "must be an object of settings (a YAML mapping)"
        value = item.get("input")
        if loc and loc[-1] == "[key]":  # a bad key of a mapping (openWebui.env): the key is the value
            loc, value = loc[:-1], loc[-2]
        path = ".".join(str(part) for part in loc)
        if item["type"] == "extra_forbidden":
            parent = _model_at(loc[:-1], root)
            hint = _suggest(str(loc[-1]), _field_aliases(parent)) if parent else ""
            allowed = f" (allowed: {', '.join(_field_aliases(parent))})" if parent and not hint else ""
            problems.append(f"{path}: unknown key{hint}{allowed}")
        elif item["type"] == "value_error" and isinstance(value, dict):
            problems.extend(message.splitlines())  # checks across keys: their messages name them
        elif (_is_secret_path(loc) or (loc and str(loc[0]) in hidden)) and item["loc"][-1] != "[key]":
            problems.append(f"{path}: {message} (got [secret])")
        else:
            problems.append(f"{path}: {message} (got {_show(value)})")
    return problems


def settings_from_mapping(
    raw: Mapping[str, Any], secret_sections: Iterable[str] = (), inputs: Collection[str] = ()
) -> StackSettings:
    """Validate plain configuration (keys as in ``Pulumi.<stack>.yaml``, without the project prefix).

    ``secret_sections`` names the top-level keys that Pulumi holds as secrets; a secret key set in plain
    text is refused so that it never lands unencrypted in a stack file. ``inputs``: the stack's keyword
    arguments (``STACK_INPUTS``) the program passes as Inputs instead of settings, such as ``redis_url``.
    """
    sections = _sections()
    problems = [f"{PROJECT}:{key}: unknown key{_suggest(key, sections)}" for key in raw if key not in sections]
    secret_sections = set(secret_sections)
    for path in SECRET_PATHS:
        section, *keys = path
        block: Any = raw.get(section)
        for key in keys:
            block = block.get(key) if isinstance(block, Mapping) and key in block else _ABSENT
        if block is not _ABSENT and section in raw and section not in secret_sections:
            dotted = ".".join(path)
            problems.append(
                f"{dotted}: is stored in plain text; set it with `pulumi config set --secret --path {dotted} <value>`"
            )
    data = {key: value for key, value in raw.items() if key in sections}
    deployed, found = check_stack(data, inputs, secret_sections)
    problems += found
    if problems or deployed is None:
        raise ConfigurationError(problems)
    return without_stand_ins(deployed, data, inputs)


def check_stack(
    data: Mapping[str, Any], inputs: Collection[str] = (), secret_sections: Iterable[str] = ()
) -> tuple[StackSettings | None, list[str]]:
    """Stack settings ``data`` (configuration keys) validated as a stack given the Inputs ``inputs`` deploys them:
    the settings as deployed (a stand-in for each Input's value, ``core/inputs.py``), or None, and every problem:
    the models' (each Input named where its stand-in was refused), then the rules of settings and Inputs
    together, which are read from the keys and so reported beside any other problem."""
    together = input_problems(data, inputs)
    staged = with_stand_ins(data, inputs) if not together else dict(data)
    try:
        return StackSettings.model_validate(staged), together
    except ValidationError as error:
        return None, name_inputs(describe_errors(error, secret_sections=secret_sections), inputs) + together


def settings_for_inputs(settings: StackSettings, inputs: Collection[str]) -> StackSettings:
    """``settings`` as a stack given the Inputs ``inputs`` deploys them (a stand-in for each value, every rule run
    again); ``ConfigurationError`` listing every problem, before anything is declared."""
    deployed, problems = check_stack(settings.model_dump(by_alias=True, exclude_unset=True), inputs)
    if problems or deployed is None:
        raise ConfigurationError(problems)
    return deployed


def load_settings(config: pulumi.Config | None = None, inputs: Collection[str] = ()) -> StackSettings:
    """Read and validate this stack's configuration; raise ``ConfigurationError`` listing every problem.
    ``inputs``: the stack's keyword arguments the program passes as Inputs (``settings_from_mapping``)."""
    config = config or pulumi.Config(PROJECT)
    prefix = f"{config.name}:"
    known = dict(pulumi.runtime.get_config_env())
    known.update(pulumi.runtime.config.CONFIG.get())
    raw: dict[str, Any] = {}
    for full_key in known:
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        value = config.get(key)
        try:
            raw[key] = json.loads(value) if key in _sections() and value is not None else value
        except json.JSONDecodeError:
            raw[key] = value  # not an object: validation reports it
    secret_sections = [key for key in raw if pulumi.runtime.is_config_secret(f"{prefix}{key}")]
    return settings_from_mapping(raw, secret_sections, inputs)
