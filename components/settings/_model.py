"""The base of every settings model: its configuration, and the hiding of inputs in the errors of a model built
in Python (``ValkeySettings(password=...)``).

Only the constructor call hides: stack configuration goes through ``model_validate``, whose errors
``describe_errors`` (``core/config.py``) reports with secrets hidden but other values shown (``got 99``), and a
nested block is validated inside its parent's validation, never through its constructor.

The one undocumented piece of pydantic this package uses is here. pydantic calls a model's own ``__init__`` from
``model_validate`` and from its parent's validation too (a "custom init") unless that ``__init__`` carries
``__pydantic_base_init__``, the mark that ``BaseModel.__init__`` and ``RootModel.__init__`` carry in pydantic's
public modules; no public hook wraps the constructor alone (a wrap ``model_validator`` runs for every way a model
is built, and a ``ValidationError`` raised inside validation becomes a ``value_error``). The stack did this with a
metaclass on ``pydantic._internal._model_construction.ModelMetaclass`` before; the mark needs no private module.
``tests/unit/test_settings_package.py`` checks it against the pinned pydantic (requirements.txt) and fails loudly if
pydantic stops honouring it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails

HIDDEN_INPUT = "[hidden]"
"""What a settings model built in Python reports as the input of a problem (it may be a password or a key)."""


def _without_inputs(error: ValidationError) -> ValidationError:
    """``error`` with every input replaced by ``HIDDEN_INPUT``: ``errors()`` and ``json()`` hold the inputs even
    with ``hide_input_in_errors``, which only shortens ``str()``."""
    details: list[InitErrorDetails] = []
    for item in error.errors(include_url=False):
        detail: InitErrorDetails = {"type": item["type"], "loc": item["loc"], "input": HIDDEN_INPUT}
        if "ctx" in item:
            detail["ctx"] = item["ctx"]
        details.append(detail)
    return ValidationError.from_exception_data(error.title, details, hide_input=True)


class _Settings(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        hide_input_in_errors=True,  # a password or key given to a model must never reach an error message
    )

    def __init__(self, /, **data: Any) -> None:
        """Settings built in Python raise errors without any input."""
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise _without_inputs(error) from None

    # Not a "custom init": model_validate and a parent's validation keep going around it (see the module's doc).
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]
