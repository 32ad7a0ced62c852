"""Construct a hosted component the way the plugin does for a program in another language (tests).

The SDK's ``ComponentProvider`` infers the schema, maps the inputs (schema names, enums, integers) and calls
the component, exactly as when the engine sends it a Construct request. Configuration (namespace ``options``):
``type`` (type token), ``name``, ``inputs`` (an object with schema names) and ``secretInputs`` (names of
top-level inputs that arrive as secrets, as a secret config value in the consumer's program does). Numbers are
sent as floats, as they arrive over the wire.
"""

from typing import Any

import pulumi
from pulumi.provider.experimental.component import ComponentProvider

from components.hosted import COMPONENTS, PACKAGE


def as_sent(value: Any) -> Any:
    """A value as the engine hands it to the provider: every number a float."""
    if isinstance(value, dict):
        return {key: as_sent(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_sent(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


options = pulumi.Config("options")
inputs = as_sent(dict(options.require_object("inputs")))
for key in options.get_object("secretInputs") or []:
    inputs[key] = pulumi.Output.secret(inputs[key])

provider = ComponentProvider(list(COMPONENTS), PACKAGE)
result = provider.construct(options.require("name"), options.require("type"), inputs, pulumi.ResourceOptions())
for output_name, value in result.state.items():
    pulumi.export(output_name, value)
