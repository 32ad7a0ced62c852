"""Composition by Outputs (issue #20): a larger program passes what it made (a Redis server's URL, its CA and client
certificate, a database's URL, a network) into either stack as ``pulumi.Input``s. Under Pulumi's mocks: the
stack declares no Valkey, PostgreSQL or network of its own, Open WebUI receives the values, every resource that
holds one orders after its producer (the graph), a plain Input is as secret as a secret one, what is wrong before
the value is known is refused before anything is declared, and a bad value is refused once it resolves, without
the value in the message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pulumi
import pulumi_docker as docker
import pytest

from components import (
    ConfigurationError,
    DatabaseSettings,
    OpenWebUISettings,
    OpenWebUIStack,
    RedisSettings,
    RedisTLSSettings,
    SentinelSettings,
    StackSettings,
    SwarmSettings,
    SwarmStack,
    settings_from_mapping,
)
from components.core.redis import TLS_FILES
from components.testing import Deployment, StackMocks, run
from tests.harness.pem import CA_PEM, CERT_PEM, KEY_PEM
from tests.harness.refused_inputs import refuse
from tests.harness.rendered import input_texts, open_webuis

PASSWORD = "cache-password-0123456789"
SECRET_WORDS = (PASSWORD, "db-password-9876543210")
SWARM = {"engine": "swarm", "swarm": SwarmSettings(pin_images=False)}


def settings(engine: str, **blocks: Any) -> StackSettings:
    return StackSettings(
        **({"engine": "swarm", "swarm": SwarmSettings(pin_images=False)} if engine == "swarm" else {}), **blocks
    )


def stack(engine: str, the_settings: StackSettings, **inputs: Any) -> OpenWebUIStack | SwarmStack:
    kind = SwarmStack if engine == "swarm" else OpenWebUIStack
    made = kind("owui", the_settings, **inputs)
    for name, value in made.outputs().items():
        pulumi.export(name, value)
    return made


class Producers:
    """What the caller's own program declares first: a Redis container, a database container, a network."""

    def __init__(self, secret: bool) -> None:
        wrap: Callable[[pulumi.Output[str]], pulumi.Output[str]] = pulumi.Output.secret if secret else (lambda o: o)
        self.network = docker.Network("own-network", name="own-net", attachable=True)
        self.redis = docker.Container("own-redis", name="own-redis", image="valkey/valkey:8.0.1-alpine")
        self.postgres = docker.Container("own-postgres", name="own-postgres", image="postgres:16")
        self.redis_url = wrap(self.redis.name.apply(lambda host: f"redis://:{PASSWORD}@{host}:6379/0"))
        self.rediss_url = wrap(self.redis.name.apply(lambda host: f"rediss://:{PASSWORD}@{host}:6380/0"))
        self.ca = wrap(self.redis.name.apply(lambda _: CA_PEM))
        self.client_cert = wrap(self.redis.name.apply(lambda _: CERT_PEM))
        self.client_key = wrap(self.redis.name.apply(lambda _: KEY_PEM))
        self.database_url = wrap(
            self.postgres.name.apply(lambda host: f"postgresql://owui:db-password-9876543210@{host}:5432/owui")
        )


def compose(engine: str, the_settings: StackSettings, secret: bool = True, **which: bool) -> Deployment:
    """The caller's program: its producers, then the stack with the Inputs ``which`` names."""

    def program() -> None:
        made = Producers(secret)
        inputs: dict[str, Any] = {}
        if which.get("redis"):
            inputs["redis_url"] = made.rediss_url if which.get("tls") else made.redis_url
        if which.get("tls"):
            inputs |= {
                "redis_ca_cert": made.ca,
                "redis_client_cert": made.client_cert,
                "redis_client_key": made.client_key,
            }
        if which.get("database"):
            inputs["database_url"] = made.database_url
        if which.get("network"):
            inputs["network"] = made.network.id if engine == "swarm" else made.network.name
        stack(engine, the_settings, **inputs)

    return run(program)


ENGINES = ["docker", "swarm"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("secret", [True, False], ids=["secret Inputs", "plain Inputs"])
def test_stack_when_given_every_external_input_follows_its_producers_and_keeps_them_secret(
    engine: str, secret: bool
) -> None:
    """The URL, the certificates, the database and the network of the caller's program: nothing of the stack's
    own for them, Open WebUI given each value (the URL with the TLS files it names), after its producer, secret."""
    deployment = compose(engine, settings(engine), secret, redis=True, tls=True, database=True, network=True)
    names = {r.name for r in deployment.resources}
    assert not any("valkey" in name for name in names), "a Valkey was declared beside the redis_url Input"
    assert not any("postgres" in name and not name.startswith("own-") for name in names)
    assert not any(
        r.type == "docker:index/network:Network" and not r.name.startswith("own-") for r in deployment.resources
    )
    views = open_webuis(deployment, engine)
    assert len(views) >= 1
    for view in views:
        url = view.env["REDIS_URL"]
        assert url.startswith(f"rediss://:{PASSWORD}@own-redis:6380/0?")
        assert dict(parse_qsl(urlsplit(url).query)) == {
            "ssl_ca_certs": TLS_FILES["ca_cert"],
            "ssl_certfile": TLS_FILES["client_cert"],
            "ssl_keyfile": TLS_FILES["client_key"],
            "ssl_cert_reqs": "required",
            "ssl_check_hostname": "true",
        }
        assert view.env["WEBSOCKET_REDIS_URL"] == url
        assert view.env["DATABASE_URL"] == "postgresql+psycopg://owui:db-password-9876543210@own-postgres:5432/owui"
        files = {path: content for path, content in view.files.items() if path.endswith(".pem")}
        assert files == {
            TLS_FILES["ca_cert"]: CA_PEM,
            TLS_FILES["client_cert"]: CERT_PEM,
            TLS_FILES["client_key"]: KEY_PEM,
        }
        assert all(view.secret_files[path] for path in files), "a certificate Input was declared in plain text"
        for producer in ("own-redis", "own-postgres", "own-network"):
            assert deployment.orders_after(view.resource, producer), (
                f"{view.resource.name} does not order after {producer}"
            )
    if engine == "docker":
        for view in views:
            assert view.resource.is_secret("envs")
            assert view.resource.inputs["networksAdvanced"] == [{"name": "own-net"}]
    else:
        for view in views:
            assert all(PASSWORD not in value for value in view.plain_env.values())
            networks = view.resource.inputs["taskSpec"]["networksAdvanceds"]
            assert [n["id"] for n in networks] == [next(r.id for r in deployment.resources if r.name == "own-network")]
    for output in ("redisUrl", "websocketRedisUrl", "databaseUrl"):
        assert output in deployment.secret_outputs, f"{output} is not a secret output"
    for resource in deployment.resources:
        for secret, path, text in input_texts(resource):
            for word in SECRET_WORDS:
                assert secret or word not in text, f"{resource.name}.{path} holds a secret in plain text"


@pytest.mark.parametrize("engine", ENGINES)
def test_stack_when_given_a_database_url_input_load_balances_the_replicas(engine: str) -> None:
    """A database of the caller's program counts as a database: the replicas sit behind the load balancer, as with
    ``database.url``; Valkey is still the stack's own."""
    deployment = compose(engine, settings(engine, open_webui=OpenWebUISettings(replicas=2)), database=True)
    assert len(open_webuis(deployment, engine)) == 2
    assert "loadBalancerContainerName" in deployment.outputs or "loadBalancerServiceName" in deployment.outputs
    assert "valkeyContainerName" in deployment.outputs or "valkeyServiceName" in deployment.outputs
    assert "postgresContainerName" not in deployment.outputs
    assert "postgresServiceName" not in deployment.outputs


@pytest.mark.parametrize("engine", ENGINES)
def test_stack_when_given_a_redis_url_input_with_sentinel_settings_asks_the_sentinels(engine: str) -> None:
    """Settings that only make sense with an external server (Sentinel) are accepted once its URL is an Input."""
    sentinel = RedisSettings(sentinel=SentinelSettings(hosts=["s1", "s2", "s3"]))
    deployment = compose(engine, settings(engine, redis=sentinel), redis=True)
    (view, *_) = open_webuis(deployment, engine)
    assert view.env["REDIS_SENTINEL_HOSTS"] == "s1,s2,s3"
    assert view.env["REDIS_URL"] == f"redis://:{PASSWORD}@own-redis:6379/0"


def refused_before(build: Callable[[], object]) -> list[str]:
    mocks = StackMocks()
    with pytest.raises(ConfigurationError) as raised:
        run(build, mocks=mocks)
    assert [r for r in mocks.declared if "own-" not in r.name] == [], "the stack declared something before refusing"
    assert "nothing was deployed" in str(raised.value)
    return raised.value.problems


@pytest.mark.parametrize("engine", ENGINES)
def test_stack_when_an_input_repeats_a_setting_or_lacks_its_server_refuses_before_declaring(engine: str) -> None:
    both = settings(engine, redis=RedisSettings(url=f"redis://:{PASSWORD}@elsewhere:6379/0"))
    problems = refused_before(lambda: stack(engine, both, redis_url=f"redis://:{PASSWORD}@own:6379/0"))
    assert problems == ["redis.url is set and the redis_url Input is given; give one"]
    problems = refused_before(lambda: stack(engine, settings(engine), redis_ca_cert=CA_PEM))
    assert problems == [
        "the redis_ca_cert Input is for an external server over TLS, and neither redis.url nor the redis_url Input "
        "is given (for TLS to the managed Valkey, set valkey.tls: true)"
    ]
    problems = refused_before(
        lambda: stack(
            engine, settings(engine), redis_url=f"rediss://:{PASSWORD}@own:6380/0", redis_client_cert=CERT_PEM
        )
    )
    assert problems == [
        "a client certificate needs its key and a key its certificate: give redis.tls.clientCert[File] or the "
        "redis_client_cert Input together with redis.tls.clientKey[File] or the redis_client_key Input"
    ]
    with_password = settings(engine, database=DatabaseSettings(password="db-password-9876543210"))
    problems = refused_before(lambda: stack(engine, with_password, database_url="postgresql://u:p@h/d"))
    assert problems == [
        "database.password is set and the database_url Input is given; an external database takes only its URL"
    ]
    for problem in problems:
        assert "db-password" not in problem


BAD_VALUES = [
    (
        {"redis_url": f"http://:{PASSWORD}@own:6379/0"},
        "the redis_url Input: must start with redis:// or rediss:// (TLS), got the scheme 'http' (got [secret])",
    ),
    (
        {"redis_url": f"redis://:{PASSWORD}@own:6379/0", "redis_ca_cert": CA_PEM},
        "the redis_url Input: the Redis certificate Inputs are for TLS, and the URL is redis:// (no TLS); give a "
        "rediss:// URL or leave the certificates out",
    ),
    (
        {"redis_url": f"rediss://:{PASSWORD}@own:6380/0", "redis_ca_cert": "not a certificate"},
        "the redis_ca_cert Input: holds no PEM CERTIFICATE block (-----BEGIN ...CERTIFICATE-----) (got [secret])",
    ),
    (
        {"database_url": f"mysql://u:{PASSWORD}@own/d"},
        "the database_url Input: must be a PostgreSQL URL such as 'postgresql://user:password@host:5432/database' "
        "(schemes: postgresql, postgres, postgresql+psycopg) (got [secret])",
    ),
]
"""Inputs whose values are refused once they resolve, and the problem the user reads."""
BAD_IDS = ["redis_url scheme", "TLS files with redis://", "CA not PEM", "database_url scheme"]


@pytest.fixture(scope="module")
def refusals() -> dict[tuple[str, int], dict[str, Any]]:
    """Each bad value given to each engine's stack, refused in a process of its own
    (``tests/harness/refused_inputs.py``)."""
    cases = [(engine, index) for engine in ENGINES for index in range(len(BAD_VALUES))]
    answers = refuse([{"engine": engine, "inputs": BAD_VALUES[index][0]} for engine, index in cases])
    return dict(zip(cases, answers, strict=True))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("index", range(len(BAD_VALUES)), ids=BAD_IDS)
def test_stack_when_an_input_resolves_to_a_bad_value_refuses_it_without_showing_it(
    engine: str, index: int, refusals: dict[tuple[str, int], dict[str, Any]]
) -> None:
    """Checked when it resolves (given as a secret Output, as another resource's output arrives), by its setting's
    rules; the refusal says what was wrong and which Input, never the value, and Open WebUI is not declared with
    it."""
    refused = refusals[engine, index]
    assert refused["problems"] == [BAD_VALUES[index][1]]
    # The stack's own error, not Pulumi's "While processing input ..." wrapping of a ValueError (a traceback).
    assert refused["error_type"] == "ConfigurationError"
    assert str(refused["message"]).startswith(
        "Invalid input for project 'open-webui-redis' (1 problem); what needs it was not deployed:"
    )
    assert PASSWORD not in str(refused["message"])
    assert refused["open_webui_declared"] == [], "Open WebUI was declared with a refused value"


def test_configuration_when_the_program_passes_the_url_as_an_input_takes_tls_and_sentinel_settings() -> None:
    """A configuration file beside an Input: ``load_settings(inputs=...)`` accepts settings that need the external
    server the Input names, and refuses them as today without it."""
    raw = {"redis": {"tls": {"certReqs": "required", "checkHostname": False}}}
    accepted = settings_from_mapping(raw, ["redis"], inputs=("redis_url",))
    assert accepted.redis.tls == RedisTLSSettings(check_hostname=False)
    with pytest.raises(ConfigurationError) as raised:
        settings_from_mapping(raw, ["redis"])
    assert raised.value.problems == [
        "redis.tls: is for an external server, and redis.url is not set; set redis.url, or remove redis.tls (the "
        "managed Valkey is one container on the stack's network; for TLS to it, set valkey.tls: true)"
    ]


def test_stack_inputs_when_named_by_the_settings_they_replace_cover_every_secret_setting_of_the_external_parts() -> (
    None
):
    """Every external server's secret setting has its Input (``redis.*`` and ``database.url``), so a program never
    has to put another resource's secret into configuration."""
    from components.core.config import SECRET_PATHS
    from components.core.inputs import STACK_INPUTS

    external = {".".join(path) for path in SECRET_PATHS if path[0] == "redis" or path == ("database", "url")}
    assert external <= set(STACK_INPUTS.values())


def test_configuration_when_a_moved_rule_meets_an_unrelated_mistake_reports_both() -> None:
    """The rules of settings and Inputs together are read from the keys: one mistake elsewhere does not hide them."""
    with pytest.raises(ConfigurationError) as raised:
        settings_from_mapping({"redis": {"tls": {}}, "valkey": {"memory": "lots"}}, ["redis"])
    problems = raised.value.problems
    assert any(p.startswith("valkey.memory: unknown key") for p in problems), problems
    assert problems[-1].startswith("redis.tls: is for an external server, and redis.url is not set"), problems
    with pytest.raises(ConfigurationError) as raised:
        settings_from_mapping({"redis": {"websocketUrl": "redis://ws/0"}, "openWebui": {"replicas": 0}}, ["redis"])
    assert raised.value.problems[-1] == (
        "redis.websocketUrl is set without redis.url; set redis.url (the external server) too"
    )
    assert len(raised.value.problems) == 2


def test_configuration_when_an_input_replaces_a_managed_part_follows_what_is_deployed() -> None:
    """With the URL an Input, no Valkey is deployed: a name only the managed Valkey would use is free, and Valkey's
    own settings are refused when the configuration is read, naming the Input."""
    settings = settings_from_mapping({"openWebui": {"volumeName": "redis-data"}}, inputs=("redis_url",))
    assert settings.open_webui.volume_name == "redis-data"
    assert settings.redis.url is None, "a stand-in stayed in the settings as configured"
    replicas = settings_from_mapping(
        {"openWebui": {"replicas": 2, "volumeName": "open-webui-postgres"}}, inputs=("database_url",)
    )
    assert replicas.database.url is None
    with pytest.raises(ConfigurationError) as raised:
        settings_from_mapping({"valkey": {"appendOnly": True}}, inputs=("redis_url",))
    assert raised.value.problems == [
        "valkey.appendOnly: the managed Valkey is not deployed with the redis_url Input (an external server); remove "
        "it, or leave out the redis_url Input to deploy Valkey"
    ]


@pytest.mark.parametrize(
    ("blocks", "inputs", "expected"),
    [
        (
            {"swarm": {"encrypted": True}},
            {"network": "own-network-id"},
            "swarm.encrypted is for the overlay network the stack makes, and the network Input is given; create your "
            "network encrypted (docker.Network options encrypted) and remove swarm.encrypted",
        ),
        (
            {"redis": {"tls": {}, "sentinel": {"hosts": ["s1"]}}},
            {"redis_url": f"redis://:{PASSWORD}@mymaster/0"},
            "redis.tls with redis.sentinel: Open WebUI 0.12 reaches a primary that Sentinel names without TLS (it "
            "passes no TLS options to Sentinel); use TLS without Sentinel",
        ),
        (
            {"redis": {"url": f"redis://:{PASSWORD}@own:6379/0"}},
            {"redis_ca_cert": CA_PEM},
            "the Redis certificate Inputs are for TLS, and redis.url is redis:// (no TLS); write rediss:// or leave "
            "the certificates out",
        ),
    ],
    ids=["encrypted network", "TLS with Sentinel", "certificates with redis://"],
)
def test_stack_when_settings_and_inputs_disagree_says_what_the_user_wrote(blocks, inputs, expected) -> None:
    """Said of what was written, not of a stand-in; before anything is declared."""
    data = {
        "engine": "swarm",
        "swarm": {"pinImages": False, **blocks.get("swarm", {})},
        **{k: v for k, v in blocks.items() if k != "swarm"},
    }
    settings = StackSettings.model_validate(data)
    assert refused_before(lambda: SwarmStack("owui", settings, **inputs)) == [expected]


@pytest.mark.parametrize("engine", ENGINES)
def test_open_webui_when_given_a_client_certificate_without_its_key_is_refused_before_declaring(engine: str) -> None:
    """The component on its own (not through a stack): a certificate without its key would fail every connection."""
    from components import OpenWebUI, SwarmOpenWebUI

    url = f"rediss://:{PASSWORD}@own:6380/0?ssl_certfile=/run/secrets/redis-client.pem"

    def build() -> None:
        if engine == "docker":
            OpenWebUI("o", OpenWebUISettings(), "net", url, redis_client_cert=CERT_PEM)
        else:
            SwarmOpenWebUI("o", OpenWebUISettings(), "net-id", url, pin_image=False, redis_client_cert=CERT_PEM)

    mocks = StackMocks()
    with pytest.raises(ValueError, match="a client certificate needs its key and a key its certificate"):
        run(build, mocks=mocks)
    assert mocks.declared == []
