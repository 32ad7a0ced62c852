"""The shape both stacks share: validate the settings with the Inputs, plan once, declare what the plan says.

``OpenWebUIStack`` (one host) and ``SwarmStack`` subclass ``Stack`` and add only what differs: the components of
their engine (``_declare_*``), the arguments those take, and their own outputs (``_engine_outputs``). The order is
the same for both: the network, Valkey, PostgreSQL, Open WebUI (with its load balancer), wired by their outputs.
"""

from __future__ import annotations

from typing import Any, Protocol, Unpack

import pulumi

from ._shared import StackInputArgs, StackInputs, redis_outputs
from .core.errors import ArgumentError
from .core.plan import Plan, plan_deployment
from .settings import StackSettings


class _Network(Protocol):
    network_name: pulumi.Output[str]
    network_id: pulumi.Output[str]


class _Valkey(Protocol):
    redis_url: pulumi.Output[str]
    ca_cert: pulumi.Output[str] | None


class _Postgres(Protocol):
    url: pulumi.Output[str]


class _OpenWebUI(Protocol):
    url: pulumi.Output[str]


class Stack(pulumi.ComponentResource):
    """A whole deployment on one engine (``ENGINE``), rendered from its ``Plan``.

    ``__init__`` refuses settings of another engine, validates them with the Inputs given (``StackInputs``), plans
    once (``self.plan``) and declares what the plan says, in its order. Subclasses declare each component
    (``_declare_network``, ``_declare_valkey``, ``_declare_postgres``, ``_declare_open_webui``) and add their
    outputs (``_engine_outputs``). ``self.network``, ``self.valkey``, ``self.postgres`` and ``self.open_webui`` are
    the engine's components (None where the plan declares none)."""

    # Not annotated: Pulumi's component analyzer takes every annotation of the class and its bases for an output.
    TYPE = ""
    """The type token (each subclass names its own)."""
    ENGINE = ""
    """``settings.engine`` of this stack (each subclass names its own)."""
    ATTACH_BY_ID = False
    """Whether the components join the network by its ID (Swarm services) rather than by its name."""

    url: pulumi.Output[str]
    redis_url: pulumi.Output[str]
    websocket_redis_url: pulumi.Output[str]
    network_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        opts: pulumi.ResourceOptions | None = None,
        *,
        valkey_password: pulumi.Input[str] | None = None,
        open_webui_secret_key: pulumi.Input[str] | None = None,
        **inputs: Unpack[StackInputArgs],
    ) -> None:
        """``valkey_password`` and ``open_webui_secret_key``: secrets as Inputs, instead of
        ``settings.valkey.password`` and ``settings.open_webui.secret_key``; ``inputs`` (``StackInputArgs``): what
        the caller's program makes, as Inputs instead of settings (the subclasses say what each engine takes).
        ``ConfigurationError`` before anything is declared for what can be checked without the Inputs' values."""
        if settings.engine != self.ENGINE:
            raise ArgumentError([self._engine_problem(settings.engine)])
        given = StackInputs(inputs, self._name_problem)
        settings = given.settings(settings)
        self.plan: Plan = plan_deployment(
            name,
            settings,
            given.given,
            valkey_password_given=valkey_password is not None,
            secret_key_given=open_webui_secret_key is not None,
        )
        super().__init__(self.TYPE, name, None, opts)
        self.settings = settings
        self._before_components()
        child = pulumi.ResourceOptions(parent=self)
        plan = self.plan

        self.network: Any = None
        if plan.declares_network:
            self.network = self._declare_network(child)
            network_id, network_name = self.network.network_id, self.network.network_name
        else:
            network_id = network_name = pulumi.Output.from_input(given.get("network"))
        network = network_id if self.ATTACH_BY_ID else network_name

        self.valkey: Any = None
        websocket_url: pulumi.Output[str] | None = None
        if plan.managed_valkey:
            self.valkey = self._declare_valkey(network, child, valkey_password)
            redis = self.valkey.redis_url
        else:
            redis, websocket_url = given.redis_urls(settings)

        self.postgres: Any = None
        self.database_url: pulumi.Output[str] | None = given.external_database_url(settings)
        if plan.managed_database:
            self.postgres = self._declare_postgres(network, child)
            self.database_url = self.postgres.url

        self.open_webui: Any = self._declare_open_webui(
            network,
            child,
            {
                "redis_url": redis,
                "secret_key": open_webui_secret_key,
                "database_url": self.database_url if plan.load_balanced else None,
                "vector_store": settings.database.vector_store,
                "load_balancer": settings.load_balancer,
                "redis_idle_timeout": settings.redis_idle_timeout,
                "websocket_redis_url": websocket_url,
                "redis": settings.redis,
                **given.certificates(self.valkey.ca_cert if self.valkey is not None else None),
                "logs": settings.logs,
                "allow_moving_image_tags": settings.allow_moving_image_tags,
            },
        )
        self.url = self.open_webui.url
        self.redis_url = redis
        self.websocket_redis_url = websocket_url if websocket_url is not None else redis
        self.network_name = network_name
        self._after_components()
        self.register_outputs(self.outputs())

    def _engine_problem(self, engine: str) -> str:
        """Why settings of ``engine`` are refused here."""
        raise NotImplementedError

    def _name_problem(self, problem: str) -> str:
        """A problem found in an Input's value, as the caller reads it (the multi-language stacks rename)."""
        return problem

    def _before_components(self) -> None:
        """What the engine does before it declares any component (a warning, say)."""

    def _after_components(self) -> None:
        """What the engine sets once every component is declared (its attributes for the outputs)."""

    def _declare_network(self, opts: pulumi.ResourceOptions) -> _Network:
        raise NotImplementedError

    def _declare_valkey(
        self, network: pulumi.Output[str], opts: pulumi.ResourceOptions, password: pulumi.Input[str] | None
    ) -> _Valkey:
        raise NotImplementedError

    def _declare_postgres(self, network: pulumi.Output[str], opts: pulumi.ResourceOptions) -> _Postgres:
        raise NotImplementedError

    def _declare_open_webui(
        self, network: pulumi.Output[str], opts: pulumi.ResourceOptions, common: dict[str, Any]
    ) -> _OpenWebUI:
        """Open WebUI (and its load balancer) with ``common``, the keyword arguments both engines' components
        take alike, and the engine's own."""
        raise NotImplementedError

    def _engine_outputs(self) -> dict[str, pulumi.Output[Any]]:
        """The outputs that name the engine's containers or services, volumes and secrets."""
        raise NotImplementedError

    def outputs(self) -> dict[str, pulumi.Output[Any]]:
        """The stack's outputs by their exported name (``pulumi stack output``)."""
        outputs: dict[str, pulumi.Output[Any]] = {
            "url": self.url,
            "redisUrl": self.redis_url,
            "websocketRedisUrl": self.websocket_redis_url,
            "networkName": self.network_name,
            **self._engine_outputs(),
        }
        if self.valkey is not None and self.valkey.ca_cert is not None:
            outputs["valkeyCaCert"] = self.valkey.ca_cert
        outputs |= redis_outputs(self.settings, self.url)
        if self.database_url is not None:
            outputs["databaseUrl"] = self.database_url
        return outputs
