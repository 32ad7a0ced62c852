"""Building blocks every component declares the same way: image, retained volume, secret value."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker
import pulumi_random as random
from pydantic import SecretStr


def pulled_image(name: str, reference: str, parent: pulumi.Resource) -> docker.RemoteImage:
    """The image, pulled once and kept on the host when the stack goes (other stacks may use it)."""
    return docker.RemoteImage(name, name=reference, keep_locally=True, opts=pulumi.ResourceOptions(parent=parent))


def data_volume(name: str, volume_name: str, *, retain: bool, parent: pulumi.Resource) -> docker.Volume:
    """A named volume that survives `pulumi destroy` and replacement unless ``retain`` is false."""
    return docker.Volume(name, name=volume_name, opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=retain))


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
