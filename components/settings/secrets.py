"""Which settings hold secrets, read from the models: a field is a secret where its annotation holds ``SecretStr``
(alone, in ``Optional``, in an ``Annotated`` type such as ``PostgresURL``, or in a union), so a new secret field is
found without a list to keep."""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, SecretStr

from .stack import StackSettings


def _leaves(annotation: Any) -> list[Any]:
    """The types an annotation is made of: through ``Optional``, unions, ``Annotated`` and generic arguments."""
    arguments = get_args(annotation)
    if not arguments:
        return [annotation]
    return [leaf for argument in arguments for leaf in _leaves(argument)]


def secret_paths(model: type[BaseModel] = StackSettings, *, by_alias: bool = True) -> tuple[tuple[str, ...], ...]:
    """Every key of ``model`` that holds a secret, as a path of keys from the top: in the configuration's
    spelling (``("openWebui", "secretKey")``), or with ``by_alias=False`` in the fields' Python names
    (``("open_webui", "secret_key")``). A block (a nested model) is walked into; the order is the models'."""
    paths: list[tuple[str, ...]] = []
    for name, field in model.model_fields.items():
        key = (field.alias or name) if by_alias else name
        leaves = _leaves(field.annotation)
        if any(leaf is SecretStr for leaf in leaves):
            paths.append((key,))
        for leaf in leaves:
            if isinstance(leaf, type) and issubclass(leaf, BaseModel):
                paths += [(key, *path) for path in secret_paths(leaf, by_alias=by_alias)]
    return tuple(paths)
