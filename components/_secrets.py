"""What both engines declare alike: a secret value, supplied or generated once and kept in the stack's state."""

from __future__ import annotations

import pulumi
import pulumi_random as random
from pydantic import SecretStr


def secret_value(
    name: str,
    supplied: pulumi.Input[str] | SecretStr | None,
    parent: pulumi.Resource,
    *,
    length: int,
    special: bool = False,
    override_special: str | None = None,
) -> pulumi.Output[str]:
    """``supplied`` (an Input or a configuration secret) or, when None, a password generated once and kept in
    the stack's state. Either way a Pulumi secret."""
    if isinstance(supplied, SecretStr):
        return pulumi.Output.secret(supplied.get_secret_value())
    if supplied is not None:
        return pulumi.Output.secret(supplied)
    generated = random.RandomPassword(
        name,
        length=length,
        special=special,
        override_special=override_special,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return pulumi.Output.secret(generated.result)
