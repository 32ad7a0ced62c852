"""What both engines declare alike: a secret value (supplied, or generated once and kept in the stack's state),
and the Redis URL of a Valkey component."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_random as random
from pydantic import SecretStr

from .core.redis import open_webui_urls
from .core.settings import StackSettings
from .core.valkey import redis_url


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


def redis_url_output(
    host: pulumi.Output[str], port: pulumi.Output[int], password: pulumi.Output[str] | None, database: int
) -> pulumi.Output[str]:
    """The ``redis://`` URL of ``database`` on a Valkey server (secret: it holds the password)."""
    if not 0 <= database <= 15:
        raise ValueError(f"database must be from 0 to 15 (got {database})")
    secret = password if password is not None else pulumi.Output.from_input("")
    url = pulumi.Output.all(host, port, secret).apply(
        lambda args: redis_url(args[0], args[1], database, args[2] or None)
    )
    return pulumi.Output.secret(url)


def external_redis_urls(settings: StackSettings) -> tuple[pulumi.Output[str], pulumi.Output[str] | None]:
    """``REDIS_URL`` and, when websockets have their own server, ``WEBSOCKET_REDIS_URL`` of ``redis.url`` (secrets),
    with the TLS parameters of ``redis.tls``."""
    redis, websocket = open_webui_urls(settings.redis)
    return pulumi.Output.secret(redis), pulumi.Output.secret(websocket) if settings.redis.websocket_url else None


REDIS_OUTPUT_DESCRIPTIONS: dict[str, tuple[bool, str]] = {
    "redisKeyPrefix": (False, "`REDIS_KEY_PREFIX` of Open WebUI's keys (`python -m components.verify` reads it)."),
    "redisSentinelHosts": (False, "The sentinels Open WebUI asks for the primary (only with `redis.sentinel`)."),
    "redisSentinelPort": (False, "Their port (only with `redis.sentinel`)."),
}
"""The outputs of ``redis_outputs`` (both engines), as the stacks' ``OUTPUT_DESCRIPTIONS`` list them."""


def redis_outputs(settings: StackSettings, after: pulumi.Output[Any]) -> dict[str, pulumi.Output[Any]]:
    """The outputs that say how Open WebUI reaches Redis, beside the URLs: the key prefix and the sentinels
    (``components.verify`` reads them). Each resolves once ``after`` (Open WebUI's URL) has."""
    outputs: dict[str, pulumi.Output[Any]] = {"redisKeyPrefix": after.apply(lambda _: settings.redis.key_prefix)}
    sentinel = settings.redis.sentinel
    if sentinel is not None:
        outputs["redisSentinelHosts"] = after.apply(lambda _: list(sentinel.hosts))
        outputs["redisSentinelPort"] = after.apply(lambda _: sentinel.port)
    return outputs
