"""What both engines declare alike: a secret value (supplied, or generated once and kept in the stack's state),
and the Redis URL of a Valkey component."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_random as random
import pulumi_tls as tls
from pydantic import SecretStr

from .core.redis import open_webui_urls
from .core.settings import StackSettings, ValkeySettings
from .core.valkey import TLS_DNS_NAMES, redis_url


def secret_value(
    name: str,
    supplied: pulumi.Input[str] | SecretStr | None,
    parent: pulumi.Resource,
    *,
    length: int,
    special: bool = False,
    override_special: str | None = None,
    when_new: str | None = None,
) -> pulumi.Output[str]:
    """``supplied`` (an Input or a configuration secret) or, when None, a password generated once and kept in
    the stack's state. Either way a Pulumi secret. ``when_new``: a warning that `pulumi preview` and `pulumi up`
    print when they are about to generate it (a new stack's state, after `pulumi destroy` too)."""
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
    if when_new is not None and pulumi.runtime.is_dry_run():
        message = when_new

        async def warn_when_new(urn: str) -> str:
            # A resource about to be created has no id yet during the preview that `pulumi up` starts with.
            if not await generated.id.is_known():
                pulumi.log.warn(message, resource=generated)
            return urn

        # pulumi types Input[T] so that mypy infers no T from a coroutine.
        generated.urn.apply(lambda urn: pulumi.Output.from_input(warn_when_new(urn)))  # type: ignore[arg-type]
    return pulumi.Output.secret(generated.result)


def redis_url_output(
    host: pulumi.Output[str],
    port: pulumi.Output[int],
    password: pulumi.Output[str] | None,
    database: int,
    *,
    tls: bool = False,
) -> pulumi.Output[str]:
    """The ``redis://`` (with ``tls``: ``rediss://``) URL of ``database`` on a Valkey server (secret: it holds the
    password)."""
    if not 0 <= database <= 15:
        raise ValueError(f"database must be from 0 to 15 (got {database})")
    secret = password if password is not None else pulumi.Output.from_input("")
    url = pulumi.Output.all(host, port, secret).apply(
        lambda args: redis_url(args[0], args[1], database, args[2] or None, tls=tls)
    )
    return pulumi.Output.secret(url)


@dataclass(frozen=True)
class ValkeyCertificates:
    """What a managed Valkey with TLS is given: a CA made for it, and a server certificate that CA signed."""

    ca_cert: pulumi.Output[str]
    """The CA's certificate (PEM): clients verify the server with it."""
    server_cert: pulumi.Output[str]
    """The server's certificate (PEM), for the network alias, the container or service name, ``localhost`` and
    ``127.0.0.1``."""
    server_key: pulumi.Output[str]
    """The server certificate's private key (PEM, secret)."""


CA_USES = ["cert_signing", "crl_signing"]
SERVER_USES = ["digital_signature", "key_encipherment", "server_auth"]


def valkey_certificates(name: str, settings: ValkeySettings, parent: pulumi.Resource) -> ValkeyCertificates:
    """A CA and a server certificate for a Valkey with ``settings.tls``, made by pulumi-tls once and kept in the
    stack's state (the keys as secrets). ECDSA P-256 keys; ``tlsValidityDays`` of validity. Within
    ``tlsRenewalDays`` of the end, ``pulumi up`` replaces both certificates, and with them whatever holds them."""
    child = pulumi.ResourceOptions(parent=parent)
    hours = settings.tls_validity_days * 24
    renewal = settings.tls_renewal_days * 24
    ca_key = tls.PrivateKey(f"{name}-ca-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
    ca = tls.SelfSignedCert(
        f"{name}-ca",
        private_key_pem=ca_key.private_key_pem,
        is_ca_certificate=True,
        subject=tls.SelfSignedCertSubjectArgs(
            common_name=f"{settings.container_name} CA", organization="open-webui-redis"
        ),
        validity_period_hours=hours,
        early_renewal_hours=renewal,
        allowed_uses=CA_USES,
        opts=child,
    )
    server_key = tls.PrivateKey(f"{name}-server-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
    names = list(dict.fromkeys([settings.alias, settings.container_name, *TLS_DNS_NAMES]))
    request = tls.CertRequest(
        f"{name}-server-request",
        private_key_pem=server_key.private_key_pem,
        subject=tls.CertRequestSubjectArgs(common_name=settings.alias, organization="open-webui-redis"),
        dns_names=names,
        ip_addresses=["127.0.0.1"],
        opts=child,
    )
    server = tls.LocallySignedCert(
        f"{name}-server-cert",
        cert_request_pem=request.cert_request_pem,
        ca_private_key_pem=ca_key.private_key_pem,
        ca_cert_pem=ca.cert_pem,
        validity_period_hours=hours,
        early_renewal_hours=renewal,
        allowed_uses=SERVER_USES,
        opts=child,
    )
    return ValkeyCertificates(
        ca_cert=ca.cert_pem, server_cert=server.cert_pem, server_key=pulumi.Output.secret(server_key.private_key_pem)
    )


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
