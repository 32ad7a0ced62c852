"""What both engines declare alike: a secret value (supplied, or generated once and kept in the stack's state),
and the Redis URL of a Valkey component."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

import pulumi
import pulumi_docker as docker
import pulumi_random as random
import pulumi_tls as tls
from pydantic import SecretStr, TypeAdapter, ValidationError

from . import rules
from .core.config import ConfigurationError, settings_for_inputs
from .core.errors import ArgumentError
from .core.inputs import STACK_INPUTS, TLS_INPUTS, checked_database_url, checked_pem, checked_redis_url
from .core.open_webui import NEW_SECRET_KEY
from .core.postgres import PORT as POSTGRES_PORT
from .core.postgres import database_url, normalize_database_url
from .core.redis import open_webui_url
from .core.valkey import PASSWORD_SPECIALS, TLS_DNS_NAMES, redis_url
from .settings import (
    DatabaseSettings,
    NetworkSettings,
    OpenWebUISettings,
    RedisDatabase,
    RedisSettings,
    StackSettings,
    ValkeySettings,
)


class DockerNetwork(pulumi.ComponentResource):
    """What both engines' network components do alike: adopt the network ``settings.name`` when
    ``settings.external`` is true (looked up, never created or deleted: the lookup fails at preview when it does not
    exist), else create it with ``driver`` and ``created`` (``docker.Network``'s arguments) and the options
    ``ignore_changes``. The subclass names its type token."""

    network_name: pulumi.Output[str]
    """Name of the network."""
    network_id: pulumi.Output[str]
    """Docker's ID of the network."""

    def __init__(
        self,
        type_: str,
        name: str,
        settings: NetworkSettings,
        opts: pulumi.ResourceOptions | None,
        *,
        driver: str,
        ignore_changes: list[str] | None = None,
        **created: Any,
    ) -> None:
        super().__init__(type_, name, None, opts)
        if settings.external:
            found = docker.get_network_output(name=settings.name, opts=pulumi.InvokeOutputOptions(parent=self))
            self.network_name = found.name
            self.network_id = found.id
        else:
            network = docker.Network(
                f"{name}-network",
                name=settings.name,
                driver=driver,
                **created,
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=ignore_changes),
            )
            self.network_name = network.name
            self.network_id = network.id
        self.register_outputs({"network_name": self.network_name, "network_id": self.network_id})


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


def valkey_password(
    name: str, settings: ValkeySettings, password: pulumi.Input[str] | None, parent: pulumi.Resource
) -> pulumi.Output[str] | None:
    """A Valkey component's password (either engine): ``password`` (an Input), ``settings.password`` or one
    generated once (32 characters, specials among ``PASSWORD_SPECIALS``), a secret; None with ``auth`` off. Call
    ``refuse_valkey_password`` before the component is declared."""
    if not settings.auth:
        return None
    return secret_value(
        f"{name}-password",
        password if password is not None else settings.password,
        parent,
        length=32,
        special=True,
        override_special=PASSWORD_SPECIALS,
    )


def refuse_valkey_password(settings: ValkeySettings, password: pulumi.Input[str] | None) -> None:
    """What a Valkey component (either engine) refuses about its ``password`` argument (``ConfigurationError``)."""
    given = password is not None
    problems = [
        rules.password_without_auth(given, settings.auth, key="password", auth_key="settings.auth"),
        rules.given_twice(given, settings.password is not None, argument="password", setting="settings.password"),
    ]
    refused = [problem for problem in problems if problem is not None]
    if refused:
        raise ArgumentError(refused)


def postgres_password(name: str, settings: DatabaseSettings, parent: pulumi.Resource) -> pulumi.Output[str]:
    """A PostgreSQL component's password (either engine): ``settings.password`` or one generated once, a secret.
    Alphanumeric when generated: the image's entrypoint and psql take it as is, and URLs need no encoding."""
    return secret_value(f"{name}-password", settings.password, parent, length=32)


def postgres_url_output(
    ready: pulumi.Output[Any], password: pulumi.Output[str], settings: DatabaseSettings
) -> pulumi.Output[str]:
    """``DATABASE_URL`` of a PostgreSQL component's database (secret: it holds the password), once ``ready`` (the
    container's or service's id) resolves, so that whatever consumes it is ordered after the server."""
    return pulumi.Output.secret(
        pulumi.Output.all(ready, password).apply(
            lambda args: database_url(settings.user, args[1], settings.alias, POSTGRES_PORT, settings.name)
        )
    )


def open_webui_secrets(
    name: str, settings: OpenWebUISettings, secret_key: pulumi.Input[str] | None, parent: pulumi.Resource
) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    """An Open WebUI component's ``WEBUI_SECRET_KEY`` (``secret_key``, ``settings.secret_key`` or generated, with
    a warning when new) and ``OAUTH_SESSION_TOKEN_ENCRYPTION_KEY`` (the same on every replica), secrets, either
    engine. Generated keys are 48 characters: Open WebUI would take a 44-character key as a Fernet key; any other
    it hashes into one."""
    key = secret_value(
        f"{name}-secret-key",
        secret_key if secret_key is not None else settings.secret_key,
        parent,
        length=48,
        when_new=NEW_SECRET_KEY,
    )
    oauth_key = secret_value(f"{name}-oauth-key", settings.oauth_session_token_encryption_key, parent, length=48)
    return key, oauth_key


def open_webui_env_inputs(
    redis_url: pulumi.Input[str],
    secret_key: pulumi.Output[str],
    oauth_key: pulumi.Output[str],
    database_url: pulumi.Input[str] | None,
    websocket_redis_url: pulumi.Input[str] | None,
) -> dict[str, Any]:
    """The Inputs of Open WebUI's environment (``env_from_inputs``'s ``values``, once resolved), either engine."""
    inputs: dict[str, Any] = {"redis_url": redis_url, "secret_key": secret_key, "oauth_key": oauth_key}
    if database_url is not None:
        inputs["database_url"] = database_url
    if websocket_redis_url is not None:
        inputs["websocket_redis_url"] = websocket_redis_url
    return inputs


_REDIS_DATABASE = TypeAdapter(RedisDatabase)


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
    try:
        _REDIS_DATABASE.validate_python(database)  # the settings' own type: its bounds written once
    except ValidationError as error:
        raise ArgumentError([f"database: {error.errors()[0]['msg']} (got {database})"]) from None
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


class ValkeyServer(pulumi.ComponentResource):
    """What both engines' Valkey components share: the password (refused or taken as ``valkey_password`` says),
    the certificates of ``settings.tls`` (``certificates``), and the Redis URLs of the server they declare, once it
    runs (``serve``). The subclass declares the container or service between the two and names its type token."""

    host: pulumi.Output[str]
    """Host name of Valkey on the network: its alias, stable across replacements."""
    port: pulumi.Output[int]
    """Port Valkey listens on inside the network."""
    password: pulumi.Output[str] | None
    """The password (secret), or None with ``auth`` off."""
    ca_cert: pulumi.Output[str] | None
    """With ``settings.tls``: the generated CA's certificate (PEM), which clients verify the server with."""
    redis_url: pulumi.Output[str]
    """``redis://`` (with TLS ``rediss://``) URL of ``settings.database`` (secret: it holds the password)."""

    def __init__(
        self,
        type_: str,
        name: str,
        settings: ValkeySettings,
        opts: pulumi.ResourceOptions | None,
        password: pulumi.Input[str] | None,
    ) -> None:
        refuse_valkey_password(settings, password)
        super().__init__(type_, name, None, opts)
        self._settings = settings
        self.tls = settings.tls
        self.password = valkey_password(name, settings, password, self)
        self.certificates = valkey_certificates(name, settings, self) if settings.tls else None
        self.ca_cert = self.certificates.ca_cert if self.certificates is not None else None

    def serve(self, ready: pulumi.Output[Any], outputs: dict[str, pulumi.Output[Any]]) -> None:
        """Once ``ready`` (the container's or service's id) resolves: ``host``, ``port`` and ``redis_url``, so
        that whatever consumes them is ordered after the server; registers them with the engine's ``outputs``."""
        settings = self._settings
        self.host = ready.apply(lambda _: settings.alias)
        self.port = ready.apply(lambda _: settings.port)
        self.redis_url = self.url_for_database(settings.database)
        registered = {**outputs, "host": self.host, "port": self.port, "redis_url": self.redis_url}
        if self.ca_cert is not None:
            registered["ca_cert"] = self.ca_cert
        self.register_outputs(registered)

    def url_for_database(self, database: int) -> pulumi.Output[str]:
        """The ``redis://`` (with TLS ``rediss://``) URL of another database on this server (secret), for another
        consumer."""
        return redis_url_output(self.host, self.port, self.password, database, tls=self.tls)


class StackInputArgs(TypedDict, total=False):
    """The keyword arguments both stacks take as ``pulumi.Input`` instead of settings (``core/inputs.py``:
    ``STACK_INPUTS`` names the setting each replaces)."""

    redis_url: pulumi.Input[str]
    """``REDIS_URL`` of an external server (``redis.url``): no Valkey is declared."""
    websocket_redis_url: pulumi.Input[str]
    """``WEBSOCKET_REDIS_URL`` when websockets use another server or database (``redis.websocketUrl``)."""
    redis_ca_cert: pulumi.Input[str]
    """PEM of the CA of that server's certificate (``redis.tls.caCert``)."""
    redis_client_cert: pulumi.Input[str]
    """PEM of a client certificate (``redis.tls.clientCert``), with ``redis_client_key``."""
    redis_client_key: pulumi.Input[str]
    """PEM of its private key (``redis.tls.clientKey``)."""
    database_url: pulumi.Input[str]
    """URL of an external PostgreSQL (``database.url``): no PostgreSQL is declared, the replicas are load balanced."""
    network: pulumi.Input[str]
    """A network the caller made: its name (one host) or its ID (Swarm); none is declared (``network.*``)."""


class StackInputs:
    """What a caller's program passed a stack as ``pulumi.Input`` (``StackInputArgs``), and how the stack uses it.
    Secret values stay secret: every URL and key is wrapped with ``Output.secret``, whether it arrives secret or
    plain. The deployment follows whatever produced them."""

    def __init__(self, inputs: StackInputArgs, rename: Callable[[str], str] = str) -> None:
        """``rename``: a problem found in a value as the caller reads it (the multi-language package names each
        Input by its schema name)."""
        unknown = sorted(set(inputs) - set(STACK_INPUTS))
        if unknown:
            raise TypeError(f"unknown stack Inputs {unknown}: the stacks take {sorted(STACK_INPUTS)}")
        self._values: dict[str, Any] = {name: value for name, value in inputs.items() if value is not None}
        self._rename = rename

    def get(self, name: str) -> Any:
        """The Input ``name`` (a key of ``StackInputArgs``), or None."""
        return self._values.get(name)

    @property
    def given(self) -> frozenset[str]:
        """The names of the Inputs given."""
        return frozenset(self._values)

    def settings(self, settings: StackSettings) -> StackSettings:
        """``settings`` as deployed with these Inputs (``ConfigurationError``, before anything is declared)."""
        return settings_for_inputs(settings, self.given)

    def _tls_given(self) -> list[str]:
        return [field for name, field in TLS_INPUTS.items() if name in self._values]

    def _checked(self, name: str, check: Callable[[Any], str]) -> pulumi.Output[str]:
        """The Input ``name``, a secret, ``check``ed once it resolves: its ``ValueError`` (the problems found in the
        value) raised as ``ConfigurationError``, each problem as the caller reads it."""

        def resolved(value: Any) -> str:
            try:
                return check(value)
            except ValueError as error:
                raise ConfigurationError([self._rename(p) for p in str(error).splitlines()], resolved=True) from None

        return pulumi.Output.secret(pulumi.Output.from_input(self.get(name)).apply(resolved))

    def _url(self, name: str, setting: SecretStr | None, redis: RedisSettings) -> pulumi.Output[str] | None:
        tls_given = self._tls_given()
        if self.get(name) is not None:
            return self._checked(name, lambda url: checked_redis_url(name, url, redis, tls_given))
        if setting is None:
            return None
        return pulumi.Output.secret(open_webui_url(setting.get_secret_value(), redis, tls_given))

    def redis_urls(self, settings: StackSettings) -> tuple[pulumi.Output[str], pulumi.Output[str] | None]:
        """``REDIS_URL`` and, when websockets have their own server, ``WEBSOCKET_REDIS_URL`` of an external server
        (secrets): the ``redis_url`` Input or ``redis.url``, with the TLS parameters of ``redis.tls`` and of the
        certificate Inputs. An Input's value is checked by ``redis.url``'s rules when it resolves."""
        redis = settings.redis
        url = self._url("redis_url", redis.url, redis)
        websocket = self._url("websocket_redis_url", redis.websocket_url, redis)
        assert url is not None, "an external server only"
        return url, websocket

    def certificates(self, valkey_ca_cert: pulumi.Output[str] | None) -> dict[str, pulumi.Output[str] | None]:
        """Open WebUI's certificate arguments (``redis_ca_cert``, ``redis_client_cert``, ``redis_client_key``): the
        managed Valkey's CA (``valkey_ca_cert``, with ``valkey.tls``) or the certificate Inputs, each checked as PEM
        when it resolves (secrets)."""
        given = {
            name: self._checked(name, functools.partial(checked_pem, name)) if name in self._values else None
            for name in TLS_INPUTS
        }
        if valkey_ca_cert is not None:
            given["redis_ca_cert"] = valkey_ca_cert
        return given

    def external_database_url(self, settings: StackSettings) -> pulumi.Output[str] | None:
        """``DATABASE_URL`` of an external database (secret): the ``database_url`` Input (checked by
        ``database.url``'s rules when it resolves) or ``database.url``, in the psycopg 3 form."""
        if "database_url" in self._values:
            return self._checked("database_url", lambda url: normalize_database_url(checked_database_url(url)))
        if settings.database.url is not None:
            return pulumi.Output.secret(normalize_database_url(settings.database.url.get_secret_value()))
        return None


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
