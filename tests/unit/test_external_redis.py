"""`redis` (issue #11): an external Redis instead of the managed Valkey, with TLS, Sentinel and a key prefix, on
both engines, under Pulumi's mocks: what Open WebUI is given, what stays secret, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from redis.connection import SSLConnection, parse_url

from components import ConfigurationError, settings_from_mapping
from components.core.open_webui import PROBE_PATH
from components.testing import Deployment
from tests.harness.pem import CA_BODY, CA_PEM, CERT_BODY, CERT_PEM, KEY_BODY, KEY_PEM
from tests.harness.rendered import (
    SECRET,
    OpenWebUIView,
    by_docker_name,
    decoded,
    deploy,
    input_texts,
    open_webuis,
    the_open_webui,
    tls_files,
)
from tests.harness.rendered import redis_problems_of as problems_of

ENGINES = ["docker", "swarm"]
PASSWORD = "Xk7pQ2vR9sTm4"
WS_PASSWORD = "Wz4nB8cY1dLe6"
URL = f"rediss://default:{PASSWORD}@redis.example.com:6380/2"
WS_URL = f"rediss://sockets:{WS_PASSWORD}@ws.example.com:6390/5"
PLAIN_URL = f"redis://default:{PASSWORD}@redis.example.com:6379/2"
PLAIN_WS_URL = f"redis://sockets:{WS_PASSWORD}@ws.example.com:6379/5"
SENTINEL_URL = f"redis://:{PASSWORD}@mymaster/2"
SENTINEL_WS_URL = f"redis://sockets:{WS_PASSWORD}@wsmaster:6379/5"


CA_PATH = "/run/secrets/redis-ca.pem"
CERT_PATH = "/run/secrets/redis-client.pem"
KEY_PATH = "/run/secrets/redis-client-key.pem"
FULL_TLS = {"caCert": CA_PEM, "clientCert": CERT_PEM, "clientKey": KEY_PEM}
SENTINEL: dict[str, Any] = {"hosts": ["sentinel-1", "10.0.0.5", "sentinel-3.example.com"], "port": 26380}

# ---------------------------------------------------------------------------------------------------------
# Rendering, and what an Open WebUI container or task is given
# ---------------------------------------------------------------------------------------------------------


def on(engine: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"engine": "swarm", **config} if engine == "swarm" else dict(config)


# ---------------------------------------------------------------------------------------------------------
# No Valkey with redis.url
# ---------------------------------------------------------------------------------------------------------


def _mentions_valkey(deployment: Deployment) -> list[str]:
    """Every declared resource or registry lookup that is about Valkey."""
    found = [
        f"{r.type} {r.name}"
        for r in deployment.resources
        if "valkey" in json.dumps([r.type, r.name, r.inputs]).lower() or "redis-data" in json.dumps(r.inputs)
    ]
    return found + [f"invoke {token} {args}" for token, args in deployment.invokes if "valkey" in json.dumps(args)]


@pytest.mark.parametrize("engine", ENGINES)
class TestNoValkeyWithAnExternalServer:
    """With redis.url the stack declares no Valkey of any kind, and says so in its outputs."""

    def test_managed_stack_when_rendered_declares_valkey(self, engine: str) -> None:
        """The control: without redis.url the Valkey container or service, volume, password and image exist."""
        pinned = {"pinImages": True} if engine == "swarm" else None
        deployment = deploy(engine, swarm=pinned) if pinned else deploy(engine)
        found = _mentions_valkey(deployment)
        assert any("randomPassword" in item and "valkey-password" in item for item in found), found
        assert any("invoke" in item for item in found) == (engine == "swarm"), found
        assert {"valkeyVolumeName", "valkeyContainerName" if engine == "docker" else "valkeyServiceName"} <= set(
            deployment.outputs
        )

    def test_external_url_when_rendered_declares_no_valkey_at_all(self, engine: str) -> None:
        """No Valkey component, container, service, volume, password, image or image lookup."""
        # On Swarm with image pinning on (the default), so that a Valkey image lookup would show.
        pinned = {"pinImages": True} if engine == "swarm" else None
        deployment = deploy(engine, {"url": URL}, swarm=pinned) if pinned else deploy(engine, {"url": URL})
        assert _mentions_valkey(deployment) == []
        assert sorted(r.name for r in deployment.of_type("random:index/randomPassword:RandomPassword")) == [
            "open-webui-open-webui-oauth-key",
            "open-webui-open-webui-secret-key",
        ]
        if engine == "docker":
            assert sorted(deployment.containers()) == ["open-webui"]
            assert [r.inputs["name"] for r in deployment.of_type("docker:index/volume:Volume")] == ["open-webui"]
        else:
            assert sorted(deployment.services()) == ["open-webui"]
            assert [token for token, _ in deployment.invokes] == ["docker:index/getRegistryImage:getRegistryImage"]

    def test_external_url_when_rendered_exports_no_valkey_names(self, engine: str) -> None:
        """The outputs are those of Open WebUI and the connection; the URLs alone are secret."""
        deployment = deploy(engine, {"url": URL})
        expected = {"url", "redisUrl", "websocketRedisUrl", "networkName", "redisKeyPrefix", "openWebuiVolumeName"}
        if engine == "docker":
            expected |= {"openWebuiContainerName", "openWebuiContainerNames"}
        else:
            expected |= {"openWebuiServiceName", "openWebuiServiceNames", "secretNames"}
        assert set(deployment.outputs) == expected
        assert deployment.secret_outputs == {"redisUrl", "websocketRedisUrl"}


# ---------------------------------------------------------------------------------------------------------
# Every setting lands where it should
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
class TestUrls:
    """redis.url and redis.websocketUrl reach Open WebUI as given, and the outputs are what it was given."""

    def test_urls_when_both_set_reach_open_webui_and_the_secret_outputs(self, engine: str) -> None:
        """REDIS_URL is redis.url, WEBSOCKET_REDIS_URL is redis.websocketUrl; both outputs are secrets."""
        deployment = deploy(engine, {"url": PLAIN_URL, "websocketUrl": PLAIN_WS_URL})
        view = the_open_webui(deployment, engine)
        assert view.env["REDIS_URL"] == PLAIN_URL
        assert view.env["WEBSOCKET_REDIS_URL"] == PLAIN_WS_URL
        assert deployment.outputs["redisUrl"] == PLAIN_URL
        assert deployment.outputs["websocketRedisUrl"] == PLAIN_WS_URL
        assert {"redisUrl", "websocketRedisUrl"} <= deployment.secret_outputs
        assert tls_files(view) == {}

    def test_websocket_url_when_unset_is_redis_url(self, engine: str) -> None:
        """Without redis.websocketUrl both variables and both outputs are redis.url (a rediss:// URL without
        redis.tls is left as it is: redis-py's defaults verify the server against the image's CAs)."""
        deployment = deploy(engine, {"url": URL})
        view = the_open_webui(deployment, engine)
        assert view.env["REDIS_URL"] == view.env["WEBSOCKET_REDIS_URL"] == URL
        assert deployment.outputs["redisUrl"] == deployment.outputs["websocketRedisUrl"] == URL
        assert "REDIS_KEY_PREFIX" not in view.env
        assert "REDIS_SOCKET_CONNECT_TIMEOUT" not in view.env
        assert not {name for name in view.env if "SENTINEL" in name}


class TestSwarmUrls:
    """On Swarm the URLs travel as Docker secrets (one host: the whole env is one secret input)."""

    def test_urls_on_swarm_when_set_are_secret_files_not_plain_env(self) -> None:
        """Each URL is a Docker secret file /run/secrets/<VAR>; the plain stack.env has neither."""
        deployment = deploy("swarm", {"url": PLAIN_URL, "websocketUrl": PLAIN_WS_URL})
        view = the_open_webui(deployment, "swarm")
        assert view.files["/run/secrets/REDIS_URL"] == PLAIN_URL
        assert view.files["/run/secrets/WEBSOCKET_REDIS_URL"] == PLAIN_WS_URL
        assert view.secret_files["/run/secrets/REDIS_URL"]
        assert view.secret_files["/run/secrets/WEBSOCKET_REDIS_URL"]
        assert not {"REDIS_URL", "WEBSOCKET_REDIS_URL"} & set(view.plain_env)
        assert deployment.outputs["secretNames"] == sorted(by_docker_name(deployment, SECRET))


TLS_CASES = {
    "every file": (
        FULL_TLS,
        [
            ("ssl_ca_certs", CA_PATH),
            ("ssl_cert_reqs", "required"),
            ("ssl_certfile", CERT_PATH),
            ("ssl_check_hostname", "true"),
            ("ssl_keyfile", KEY_PATH),
        ],
        {CA_PATH: CA_PEM, CERT_PATH: CERT_PEM, KEY_PATH: KEY_PEM},
    ),
    "ca only": (
        {"caCert": CA_PEM},
        [("ssl_ca_certs", CA_PATH), ("ssl_cert_reqs", "required"), ("ssl_check_hostname", "true")],
        {CA_PATH: CA_PEM},
    ),
    "client certificate only": (
        {"clientCert": CERT_PEM, "clientKey": KEY_PEM},
        [
            ("ssl_cert_reqs", "required"),
            ("ssl_certfile", CERT_PATH),
            ("ssl_check_hostname", "true"),
            ("ssl_keyfile", KEY_PATH),
        ],
        {CERT_PATH: CERT_PEM, KEY_PATH: KEY_PEM},
    ),
    "no verification": ({"certReqs": "none", "checkHostname": True}, [("ssl_cert_reqs", "none")], {}),
    "optional, any host": (
        {"certReqs": "optional", "checkHostname": False},
        [("ssl_cert_reqs", "optional"), ("ssl_check_hostname", "false")],
        {},
    ),
}


@pytest.mark.parametrize("engine", ENGINES)
class TestTLS:
    """redis.tls: query parameters on both URLs, and the PEM files at /run/secrets as secrets."""

    @pytest.mark.parametrize(("tls", "query", "files"), TLS_CASES.values(), ids=TLS_CASES.keys())
    def test_tls_when_set_adds_exactly_its_parameters_and_files(
        self, engine: str, tls: dict[str, Any], query: list[tuple[str, str]], files: dict[str, str]
    ) -> None:
        """Both URLs are the given ones plus exactly these parameters; exactly the given PEMs are files."""
        deployment = deploy(engine, {"url": URL, "websocketUrl": WS_URL, "tls": tls})
        view = the_open_webui(deployment, engine)
        for given, variable, output in (
            (URL, "REDIS_URL", "redisUrl"),
            (WS_URL, "WEBSOCKET_REDIS_URL", "websocketRedisUrl"),
        ):
            url = view.env[variable]
            base, _, parameters = url.partition("?")
            assert base == given
            assert parse_qsl(parameters, keep_blank_values=True, strict_parsing=True) == query
            assert deployment.outputs[output] == url
        assert tls_files(view) == files
        assert all(view.secret_files[path] for path in files)

    def test_tls_url_when_read_by_redis_py_gives_the_files_and_password(self, engine: str) -> None:
        """What Open WebUI's redis-py makes of REDIS_URL: TLS with the uploaded files and the password."""
        view = the_open_webui(deploy(engine, {"url": URL, "tls": FULL_TLS}), engine)
        options = parse_url(view.env["REDIS_URL"])  # type: ignore[no-untyped-call]
        assert options["connection_class"] is SSLConnection
        assert (options["host"], options["port"], options["db"]) == ("redis.example.com", 6380, 2)
        assert (options["username"], options["password"]) == ("default", PASSWORD)
        assert (options["ssl_ca_certs"], options["ssl_certfile"], options["ssl_keyfile"]) == (
            CA_PATH,
            CERT_PATH,
            KEY_PATH,
        )
        assert (options["ssl_cert_reqs"], options["ssl_check_hostname"]) == ("required", True)
        for path in (options["ssl_ca_certs"], options["ssl_certfile"], options["ssl_keyfile"]):
            assert path in view.files  # every file redis-py opens is there

    def test_tls_when_url_has_its_own_parameters_keeps_them_first(self, engine: str) -> None:
        """A URL's own query parameters stay, before the stack's, with the same values for redis-py."""
        view = the_open_webui(deploy(engine, {"url": f"{URL}?protocol=3&client_name=owui", "tls": {}}), engine)
        assert view.env["REDIS_URL"] == (
            f"{URL}?protocol=3&client_name=owui&ssl_cert_reqs=required&ssl_check_hostname=true"
        )
        assert parse_url(view.env["REDIS_URL"])["protocol"] == 3  # type: ignore[no-untyped-call]

    def test_tls_files_when_given_as_paths_are_read_and_given_to_open_webui(self, engine: str, tmp_path: Path) -> None:
        """caCertFile, clientCertFile and clientKeyFile (paths on the machine running pulumi) are read, and their
        content lands as the inline settings' does."""
        for name, text in (("ca.pem", CA_PEM), ("client.pem", CERT_PEM), ("client.key", KEY_PEM)):
            (tmp_path / name).write_text(text)
        tls = {
            "caCertFile": str(tmp_path / "ca.pem"),
            "clientCertFile": str(tmp_path / "client.pem"),
            "clientKeyFile": str(tmp_path / "client.key"),
        }
        deployment = deploy(engine, {"url": URL, "tls": tls})
        view = the_open_webui(deployment, engine)
        assert tls_files(view) == {CA_PATH: CA_PEM, CERT_PATH: CERT_PEM, KEY_PATH: KEY_PEM}
        assert all(view.secret_files.values())
        assert (
            deployment.outputs["redisUrl"]
            == view.env["REDIS_URL"]
            == URL + "?" + "&".join(f"{name}={value}" for name, value in TLS_CASES["every file"][1])
        )

    def test_tls_files_when_several_replicas_reach_every_one(self, engine: str) -> None:
        """Every Open WebUI container (one host) or service (Swarm) gets the files and the same URL."""
        deployment = deploy(engine, {"url": URL, "tls": FULL_TLS}, openWebui={"replicas": 3})
        views = open_webuis(deployment, engine)
        assert len(views) == (3 if engine == "docker" else 2)
        for view in views:
            assert tls_files(view) == {CA_PATH: CA_PEM, CERT_PATH: CERT_PEM, KEY_PATH: KEY_PEM}
            assert view.env["REDIS_URL"] == deployment.outputs["redisUrl"]

    def test_tls_files_when_declared_are_secret_and_not_variables(self, engine: str) -> None:
        """One host: the uploads are a secret input, the key readable by its owner only. Swarm: each file is a
        Docker secret (secret data) named so that the entrypoint exports it as no variable."""
        deployment = deploy(engine, {"url": URL, "tls": FULL_TLS})
        view = the_open_webui(deployment, engine)
        if engine == "docker":
            assert view.resource.is_secret("uploads")
            permissions = {u["file"]: u["permissions"] for u in view.resource.inputs["uploads"]}
            assert permissions[KEY_PATH] == "0600"
        else:
            declared = {decoded(r.inputs["data"]): r for r in deployment.of_type(SECRET)}
            for content in (CA_PEM, CERT_PEM, KEY_PEM):
                assert declared[content].is_secret("data")
            assert deployment.outputs["secretNames"] == sorted(by_docker_name(deployment, SECRET))
            service = deployment.service("open-webui")
            modes = {f["fileName"]: f["fileMode"] for f in service.inputs["taskSpec"]["containerSpec"]["secrets"]}
            assert modes[KEY_PATH] == 0o400  # root alone, as the single-host upload
            assert modes["/run/secrets/redis-ca.pem"] == 0o444
        assert not [name for name, value in view.env.items() if KEY_BODY in value or CA_BODY in value]


@pytest.mark.parametrize("engine", ENGINES)
class TestSentinelAndKeyPrefix:
    """redis.sentinel and redis.keyPrefix: plain variables for the app state and the websockets, and outputs."""

    def test_sentinel_when_set_gives_both_managers_the_sentinels(self, engine: str) -> None:
        """Hosts, port, retries and delay as Open WebUI reads them; a 5 s connect timeout by default."""
        sentinel = {**SENTINEL, "maxRetryCount": 7, "reconnectDelay": 250}
        deployment = deploy(engine, {"url": SENTINEL_URL, "sentinel": sentinel, "keyPrefix": "team-a"})
        view = the_open_webui(deployment, engine)
        expected = {
            "REDIS_SENTINEL_HOSTS": "sentinel-1,10.0.0.5,sentinel-3.example.com",
            "WEBSOCKET_SENTINEL_HOSTS": "sentinel-1,10.0.0.5,sentinel-3.example.com",
            "REDIS_SENTINEL_PORT": "26380",
            "WEBSOCKET_SENTINEL_PORT": "26380",
            "REDIS_SENTINEL_MAX_RETRY_COUNT": "7",
            "REDIS_RECONNECT_DELAY": "250",
            "REDIS_SOCKET_CONNECT_TIMEOUT": "5",
            "REDIS_KEY_PREFIX": "team-a",
        }
        assert {name: view.env.get(name) for name in expected} == expected
        assert view.env["REDIS_URL"] == view.env["WEBSOCKET_REDIS_URL"] == SENTINEL_URL
        if engine == "swarm":  # the plain config holds them (what a preview shows)
            assert {name: view.plain_env.get(name) for name in expected} == expected
        outputs = deployment.outputs
        assert outputs["redisSentinelHosts"] == ["sentinel-1", "10.0.0.5", "sentinel-3.example.com"]
        assert outputs["redisSentinelPort"] == 26380
        assert outputs["redisKeyPrefix"] == "team-a"
        assert not {"redisSentinelHosts", "redisSentinelPort", "redisKeyPrefix"} & deployment.secret_outputs

    def test_sentinel_when_only_hosts_set_uses_the_documented_defaults(self, engine: str) -> None:
        """Port 26379, 5 tries, 1000 ms between them, 5 s to connect."""
        view = the_open_webui(deploy(engine, {"url": SENTINEL_URL, "sentinel": {"hosts": ["sentinel-1"]}}), engine)
        assert (
            view.env["REDIS_SENTINEL_HOSTS"],
            view.env["REDIS_SENTINEL_PORT"],
            view.env["WEBSOCKET_SENTINEL_PORT"],
            view.env["REDIS_SENTINEL_MAX_RETRY_COUNT"],
            view.env["REDIS_RECONNECT_DELAY"],
            view.env["REDIS_SOCKET_CONNECT_TIMEOUT"],
        ) == ("sentinel-1", "26379", "26379", "5", "1000", "5")

    @pytest.mark.parametrize(
        ("redis", "expected"),
        [
            ({"url": SENTINEL_URL, "sentinel": {"hosts": ["s1"]}, "socketConnectTimeout": 2.5}, "2.5"),
            ({"url": URL, "socketConnectTimeout": 10}, "10"),
            ({"url": URL}, None),
        ],
        ids=["sentinel and set", "set without sentinel", "neither"],
    )
    def test_socket_connect_timeout_when_given_or_not(self, engine: str, redis: dict[str, Any], expected) -> None:
        """REDIS_SOCKET_CONNECT_TIMEOUT as set; without Sentinel and unset, not set at all."""
        view = the_open_webui(deploy(engine, redis), engine)
        assert view.env.get("REDIS_SOCKET_CONNECT_TIMEOUT") == expected

    def test_key_prefix_when_default_sets_no_variable_but_exports_it(self, engine: str) -> None:
        """Open WebUI's own prefix is not written (a new variable would replace the containers); the output
        still names it."""
        for redis in (None, {"url": URL}, {"url": URL, "keyPrefix": "open-webui"}):
            deployment = deploy(engine, redis)
            assert "REDIS_KEY_PREFIX" not in the_open_webui(deployment, engine).env
            assert deployment.outputs["redisKeyPrefix"] == "open-webui"
            assert "redisSentinelHosts" not in deployment.outputs

    def test_key_prefix_when_set_with_the_managed_valkey_is_used_there(self, engine: str) -> None:
        """A key prefix alone keeps the managed Valkey and sets REDIS_KEY_PREFIX."""
        deployment = deploy(engine, {"keyPrefix": "team-b"})
        view = the_open_webui(deployment, engine)
        assert view.env["REDIS_KEY_PREFIX"] == "team-b"
        assert deployment.outputs["redisKeyPrefix"] == "team-b"
        assert "valkeyVolumeName" in deployment.outputs
        assert view.env["REDIS_URL"].endswith("@redis:6379/1")


# ---------------------------------------------------------------------------------------------------------
# The healthcheck
# ---------------------------------------------------------------------------------------------------------


def probe_arguments(view: OpenWebUIView) -> list[str]:
    """The probe's arguments in a rendered healthcheck (``python3 PROBE_PATH <arguments>``)."""
    python, path, *arguments = view.healthcheck.split()
    assert (python, path) == ("python3", PROBE_PATH), view.healthcheck
    return arguments


@pytest.mark.parametrize("engine", ENGINES)
class TestHealthcheck:
    """Each check runs the probe the container is given (tests/tier1/test_probe.py runs it against real servers): it
    reads the URLs Open WebUI was given itself, and is told only what Open WebUI reads elsewhere."""

    def test_healthcheck_with_the_managed_valkey_names_no_sentinel(self, engine: str) -> None:
        args = probe_arguments(the_open_webui(deploy(engine), engine))
        assert "--sentinels" not in args
        assert args[args.index("health") + 1 :] == ["--deadline", "2", "--unhealthy-after", "20"]

    def test_healthcheck_with_sentinel_names_every_sentinel(self, engine: str) -> None:
        """The sentinels are in the command: on Swarm the healthcheck does not see the stack's environment file."""
        redis = {"url": SENTINEL_URL, "websocketUrl": SENTINEL_WS_URL, "sentinel": SENTINEL}
        view = the_open_webui(deploy(engine, redis), engine)
        args = probe_arguments(view)
        nodes = ",".join(f"{host}:26380" for host in SENTINEL["hosts"])
        assert args[args.index("--sentinels") + 1] == nodes
        # Docker's timeout (5 s, and 1 s per sentinel for each of the two URLs: 11 s); the probe's round trip
        # gets 2 s besides the sentinels' share.
        assert args[args.index("--deadline") + 1] == "8"

    def test_healthcheck_when_room_channels_are_off_says_so(self, engine: str) -> None:
        """With WEBSOCKET_REDIS_ROOM_CHANNELS off the probe publishes on the common channel, as Open WebUI then
        listens only there."""
        view = the_open_webui(deploy(engine, openWebui={"env": {"WEBSOCKET_REDIS_ROOM_CHANNELS": "False"}}), engine)
        assert "--room-channels false" in " ".join(probe_arguments(view))


# ---------------------------------------------------------------------------------------------------------
# No secret in a plain input or output
# ---------------------------------------------------------------------------------------------------------


def _write_pems(tmp_path: Path) -> dict[str, str]:
    for name, text in (("ca.pem", CA_PEM), ("client.pem", CERT_PEM), ("client.key", KEY_PEM)):
        (tmp_path / name).write_text(text)
    return {
        "caCertFile": str(tmp_path / "ca.pem"),
        "clientCertFile": str(tmp_path / "client.pem"),
        "clientKeyFile": str(tmp_path / "client.key"),
    }


SCENARIOS = {
    "tls inline, two servers": (
        lambda tmp: {"url": URL, "websocketUrl": WS_URL, "tls": FULL_TLS, "keyPrefix": "team-a"},
        (PASSWORD, WS_PASSWORD, CA_BODY, CERT_BODY, KEY_BODY),
    ),
    "tls from files": (lambda tmp: {"url": URL, "tls": _write_pems(tmp)}, (PASSWORD, CA_BODY, CERT_BODY, KEY_BODY)),
    "sentinel, two masters": (
        lambda tmp: {"url": SENTINEL_URL, "websocketUrl": SENTINEL_WS_URL, "sentinel": SENTINEL, "keyPrefix": "k"},
        (PASSWORD, WS_PASSWORD),
    ),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("build", "secrets"), SCENARIOS.values(), ids=SCENARIOS.keys())
class TestSecretsStayOutOfPlainInputs:
    """A URL's password and the PEMs are only ever inside inputs and outputs that are Pulumi secrets."""

    def test_secrets_when_rendered_appear_only_in_secret_inputs(
        self, engine: str, build, secrets: tuple[str, ...], tmp_path: Path
    ) -> None:
        """Walk every input of every resource (keys, values, base64 data decoded): a secret's text is only under
        an input marked secret, and each secret does reach some resource that way."""
        deployment = deploy(engine, build(tmp_path), openWebui={"replicas": 2})
        leaks = []
        found = dict.fromkeys(secrets, False)
        for resource in deployment.resources:
            for is_secret, path, text in input_texts(resource):
                for value in secrets:
                    if value in text:
                        if is_secret:
                            found[value] = True
                        else:
                            leaks.append(f"{resource.type} {resource.name} {path}")
        assert leaks == []
        assert found == dict.fromkeys(secrets, True)

    def test_secrets_when_exported_are_only_in_secret_outputs(
        self, engine: str, build, secrets: tuple[str, ...], tmp_path: Path
    ) -> None:
        """No plain output holds a secret; redisUrl and websocketRedisUrl, which do, are secrets."""
        deployment = deploy(engine, build(tmp_path))
        for name, value in deployment.outputs.items():
            if name not in deployment.secret_outputs:
                assert not [s for s in secrets if s in json.dumps(value)], name
        assert PASSWORD in deployment.outputs["redisUrl"]
        assert {"redisUrl", "websocketRedisUrl"} <= deployment.secret_outputs

    def test_plain_environment_when_rendered_holds_no_secret(
        self, engine: str, build, secrets: tuple[str, ...], tmp_path: Path
    ) -> None:
        """One host: the container's env and uploads are secret inputs. Swarm: stack.env (a plain config) has
        the connection's plain variables and no secret, and the task spec is not a secret."""
        redis = build(tmp_path)
        deployment = deploy(engine, redis)
        view = the_open_webui(deployment, engine)
        if engine == "docker":
            assert view.resource.is_secret("envs")
        else:
            assert not view.resource.is_secret("taskSpec")
            assert not [s for s in secrets if s in json.dumps(view.plain_env)]
            assert view.plain_env.get("REDIS_KEY_PREFIX") == redis.get("keyPrefix")
            if "sentinel" in redis:
                assert view.plain_env["REDIS_SENTINEL_HOSTS"] == ",".join(redis["sentinel"]["hosts"])
            assert not {"REDIS_URL", "WEBSOCKET_REDIS_URL"} & set(view.plain_env)


# ---------------------------------------------------------------------------------------------------------
# Bad input: refused before anything is declared, naming the key, never echoing a secret
# ---------------------------------------------------------------------------------------------------------

NO_SCHEME = "must start with redis:// or rediss:// (TLS), got the scheme"
SENTINEL_PORTED = (
    "must be a host name or IP address without a port: Open WebUI gives every sentinel the one port "
    "redis.sentinel.port (got [secret])"
)
SENTINEL_HOST = (
    "must be a host name (letters, digits, '-' and '.') or an IP address, such as 'sentinel-1' or '10.0.0.5' "
    "(got [secret])"
)
TLS_WITHOUT_REDISS = "redis.tls is set but the URL is redis:// (no TLS); write rediss:// or remove redis.tls"
REDISS_WITH_SENTINEL = (
    "rediss:// with redis.sentinel: Open WebUI 0.12 reaches a primary that Sentinel names without TLS (it passes "
    "no TLS options to Sentinel); use redis:// on a private network, or TLS without Sentinel"
)
ESCAPED_WITH_SENTINEL = (
    "with redis.sentinel Open WebUI sends the URL's user and password as written, without decoding %-escapes: "
    "use a password of letters, digits and -._~!$&'()*+,;= only (and the same in the sentinels' requirepass)"
)
NEEDS_URL = (
    "is for an external server, and redis.url is not set; set redis.url, or remove redis.{key} (the managed "
    "Valkey is one container on the stack's network)"
)
NO_VALKEY = (
    "the managed Valkey is not deployed with redis.url (an external server); remove {which}, or remove redis.url "
    "to deploy Valkey"
)
CLIENT_PAIR = (
    "redis.tls: a client certificate needs its key and a key its certificate; set clientCert[File] and "
    "clientKey[File] together"
)
ESCAPED_URL = f"redis://default:{PASSWORD}%40x@mymaster/0"

BAD = {
    "http scheme": (
        {"redis": {"url": f"http://default:{PASSWORD}@redis.example.com:6379/0"}},
        [f"redis.url: {NO_SCHEME} 'http' (got [secret])"],
    ),
    "bare host": ({"redis": {"url": "redis.example.com"}}, [f"redis.url: {NO_SCHEME} none (got [secret])"]),
    "upper-case scheme (redis-py reads none)": (
        {"redis": {"url": f"REDIS://:{PASSWORD}@redis.example.com:6379/0"}},
        [
            "redis.url: must start with redis:// or rediss:// in lower case (redis-py reads no other "
            "spelling) (got [secret])"
        ],
    ),
    "a query parameter redis-py does not take": (
        {"redis": {"url": f"redis://:{PASSWORD}@redis.example.com:6379/0?foo=bar"}},
        [
            "redis.url: has query parameters redis-py does not take ('foo'; a connection would fail): use only "
            "socket_timeout, socket_connect_timeout, socket_keepalive, retry_on_timeout, max_connections, "
            "health_check_interval, protocol, client_name, with the database in the path (got [secret])"
        ],
    ),
    "a query with sentinel": (
        {"redis": {"url": "redis://:pw@mymaster:6379/0?socket_timeout=3", "sentinel": {"hosts": ["s1"]}}},
        ["redis.url: with redis.sentinel Open WebUI ignores the URL's query parameters; remove them"],
    ),
    "host and port, no scheme": (
        {"redis": {"url": "redis.example.com:6379"}},
        [f"redis.url: {NO_SCHEME} none (got [secret])"],
    ),
    "a password with a colon, no scheme (never quoted)": (
        {"redis": {"url": "p4ss:w0rd"}},
        [f"redis.url: {NO_SCHEME} none (got [secret])"],
    ),
    "websocket url with https": (
        {"redis": {"url": URL, "websocketUrl": f"https://sockets:{WS_PASSWORD}@ws.example.com"}},
        [f"redis.websocketUrl: {NO_SCHEME} 'https' (got [secret])"],
    ),
    "ssl parameters in the url": (
        {"redis": {"url": f"{URL}?ssl_cert_reqs=none&ssl_ca_certs=/etc/ca.pem"}},
        [
            "redis.url: carries ssl_ca_certs, ssl_cert_reqs: set TLS under redis.tls (the stack writes these "
            "parameters) (got [secret])"
        ],
    ),
    "ssl parameter in the websocket url": (
        {"redis": {"url": URL, "websocketUrl": f"{WS_URL}?ssl_keyfile=/k.pem", "tls": {}}},
        [
            "redis.websocketUrl: carries ssl_keyfile: set TLS under redis.tls (the stack writes these parameters) "
            "(got [secret])"
        ],
    ),
    "tls with redis://": (
        {"redis": {"url": PLAIN_URL, "tls": {"caCert": CA_PEM}}},
        [f"redis.url: {TLS_WITHOUT_REDISS}"],
    ),
    "tls with a redis:// websocket url": (
        {"redis": {"url": URL, "websocketUrl": PLAIN_WS_URL, "tls": {}}},
        [f"redis.websocketUrl: {TLS_WITHOUT_REDISS}"],
    ),
    "sentinel host with a port": (
        {"redis": {"url": SENTINEL_URL, "sentinel": {"hosts": ["host:26379"]}}},
        [f"redis.sentinel.hosts.0: {SENTINEL_PORTED}"],
    ),
    "sentinel host with a space": (
        {"redis": {"url": SENTINEL_URL, "sentinel": {"hosts": ["sentinel-1", "a b"]}}},
        [f"redis.sentinel.hosts.1: {SENTINEL_HOST}"],
    ),
    "empty sentinel host": (
        {"redis": {"url": SENTINEL_URL, "sentinel": {"hosts": [""]}}},
        [f"redis.sentinel.hosts.0: {SENTINEL_HOST}"],
    ),
    "no sentinel host": (
        {"redis": {"url": SENTINEL_URL, "sentinel": {"hosts": []}}},
        ["redis.sentinel.hosts: List should have at least 1 item after validation, not 0 (got [secret])"],
    ),
    "rediss with sentinel": (
        {"redis": {"url": f"rediss://:{PASSWORD}@mymaster/0", "sentinel": {"hosts": ["s1"]}}},
        [f"redis.url: {REDISS_WITH_SENTINEL}"],
    ),
    "escaped password with sentinel": (
        {"redis": {"url": ESCAPED_URL, "sentinel": {"hosts": ["s1"]}}},
        [f"redis.url: {ESCAPED_WITH_SENTINEL}"],
    ),
    "escaped websocket password with sentinel": (
        {"redis": {"url": SENTINEL_URL, "websocketUrl": ESCAPED_URL, "sentinel": {"hosts": ["s1"]}}},
        [f"redis.websocketUrl: {ESCAPED_WITH_SENTINEL}"],
    ),
    "websocket url without url": (
        {"redis": {"websocketUrl": WS_URL}},
        ["redis.websocketUrl is set without redis.url; set redis.url (the external server) too"],
    ),
    "tls without url": (
        {"redis": {"tls": {"caCert": CA_PEM}}},
        [
            "redis.tls: "
            + NEEDS_URL.format(key="tls").replace("network)", "network; for TLS to it, set valkey.tls: true)")
        ],
    ),
    "sentinel without url": (
        {"redis": {"sentinel": {"hosts": ["s1"]}}},
        ["redis.sentinel: " + NEEDS_URL.format(key="sentinel")],
    ),
    "url with valkey settings": (
        {"redis": {"url": URL}, "valkey": {"appendOnly": True, "database": 3}},
        ["valkey.appendOnly, valkey.database: " + NO_VALKEY.format(which="them")],
    ),
    "url with a valkey password": (
        {"redis": {"url": URL}, "valkey": {"password": PASSWORD + "v"}},
        ["valkey.password: " + NO_VALKEY.format(which="it")],
    ),
    "caCert and caCertFile": (
        {"redis": {"url": URL, "tls": {"caCert": CA_PEM, "caCertFile": "/etc/hostname"}}},
        ["redis.tls.caCert and redis.tls.caCertFile are both set; give one"],
    ),
    "client certificate without its key": ({"redis": {"url": URL, "tls": {"clientCert": CERT_PEM}}}, [CLIENT_PAIR]),
    "client key without its certificate": ({"redis": {"url": URL, "tls": {"clientKey": KEY_PEM}}}, [CLIENT_PAIR]),
    "inline ca that is a key": (
        {"redis": {"url": URL, "tls": {"caCert": KEY_PEM}}},
        ["redis.tls.caCert: holds no PEM CERTIFICATE block (-----BEGIN ...CERTIFICATE-----) (got [secret])"],
    ),
    "inline key that is a certificate": (
        {"redis": {"url": URL, "tls": {"clientCert": CERT_PEM, "clientKey": CA_PEM}}},
        ["redis.tls.clientKey: holds no PEM PRIVATE KEY block (-----BEGIN ...PRIVATE KEY-----) (got [secret])"],
    ),
}
ALL_SECRETS = (PASSWORD, WS_PASSWORD, CA_BODY, CERT_BODY, KEY_BODY)


def assert_no_secret_in(problems: list[str]) -> None:
    text = "\n".join(problems)
    assert not [secret for secret in ALL_SECRETS if secret in text], text
    assert "%40x" not in text


@pytest.mark.parametrize("engine", ENGINES)
class TestBadInput:
    """Each bad redis input stops the program before any resource, with one line naming the key."""

    @pytest.mark.parametrize(("config", "expected"), BAD.values(), ids=BAD.keys())
    def test_program_when_redis_input_is_bad_names_the_key(
        self, engine: str, config: dict[str, Any], expected: list[str]
    ) -> None:
        """Exactly these problems (secret values never shown), nothing declared."""
        secret_keys = ("redis", "valkey") if "password" in config.get("valkey", {}) else ("redis",)
        problems = problems_of(on(engine, config), secret_keys)
        assert problems == expected
        assert_no_secret_in(problems)

    @pytest.mark.parametrize(
        ("redis", "keys"),
        [
            ({"url": PLAIN_URL}, ["redis.url"]),
            ({"url": PLAIN_URL, "websocketUrl": PLAIN_WS_URL}, ["redis.url", "redis.websocketUrl"]),
            (
                {"url": URL, "tls": {"clientCert": CERT_PEM, "clientKey": KEY_PEM}},
                ["redis.url", "redis.tls.clientCert", "redis.tls.clientKey"],
            ),
            ({"url": URL, "tls": {"caCert": CA_PEM}}, ["redis.url", "redis.tls.caCert"]),
        ],
        ids=["url", "url and websocketUrl", "client certificate and key", "ca"],
    )
    def test_program_when_a_redis_secret_is_plain_text_refuses_it(
        self, engine: str, redis: dict[str, Any], keys: list[str]
    ) -> None:
        """Set without --secret, each secret key is refused by name, and its value is not printed."""
        problems = problems_of(on(engine, {"redis": redis}), secret_keys=())
        assert problems == [
            f"{key}: is stored in plain text; set it with `pulumi config set --secret --path {key} <value>`"
            for key in keys
        ]
        assert_no_secret_in(problems)

    def test_program_when_key_prefix_is_bad_refuses_it(self, engine: str) -> None:
        """A prefix with a space, an empty one, or one starting with '-' is refused, naming redis.keyPrefix."""
        for prefix in ("team a", "", "-team"):
            (problem,) = problems_of(on(engine, {"redis": {"keyPrefix": prefix}}), secret_keys=())
            assert problem.startswith(f"redis.keyPrefix: {prefix!r} must be 1 to 100 letters, digits, "), problem

    def test_key_prefix_message_when_shown_lists_the_characters_as_written(self, engine: str) -> None:
        """The message shows the allowed braces as the characters a user types: '{' and '}'."""
        (problem,) = problems_of(on(engine, {"redis": {"keyPrefix": "team a"}}), secret_keys=())
        assert problem == (
            "redis.keyPrefix: 'team a' must be 1 to 100 letters, digits, '_', '.', ':', '-', '{' or '}', starting "
            "with a letter or digit (Open WebUI writes keys '<prefix>:...')"
        )

    def test_program_when_ca_file_is_missing_names_the_file(self, engine: str, tmp_path: Path) -> None:
        """A caCertFile that does not exist: the key, the path and why."""
        path = tmp_path / "missing.pem"
        problems = problems_of(on(engine, {"redis": {"url": URL, "tls": {"caCertFile": str(path)}}}))
        assert problems == [f"redis.tls.caCertFile: cannot read {str(path)!r}: No such file or directory"]

    @pytest.mark.parametrize(
        ("key", "content", "reason"),
        [
            ("caCertFile", "just some text\n", "holds no PEM CERTIFICATE block (-----BEGIN ...CERTIFICATE-----)"),
            ("caCertFile", KEY_PEM, "holds no PEM CERTIFICATE block (-----BEGIN ...CERTIFICATE-----)"),
            ("clientKeyFile", CERT_PEM, "holds no PEM PRIVATE KEY block (-----BEGIN ...PRIVATE KEY-----)"),
            (
                "clientKeyFile",
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
                "is an encrypted key, which Open WebUI cannot open (it gives redis-py no passphrase): decrypt it",
            ),
        ],
        ids=["text as ca", "key as ca", "certificate as key", "encrypted key"],
    )
    def test_program_when_a_tls_file_is_not_the_pem_it_should_be_refuses_it(
        self, engine: str, tmp_path: Path, key: str, content: str, reason: str
    ) -> None:
        """The key and the path, never the file's content."""
        path = tmp_path / "file.pem"
        path.write_text(content)
        tls = {key: str(path)}
        if key == "clientKeyFile":
            tls["clientCert"] = CERT_PEM
        problems = problems_of(on(engine, {"redis": {"url": URL, "tls": tls}}))
        assert problems == [f"redis.tls.{key}: {str(path)!r} {reason}"]
        assert_no_secret_in(problems)

    def test_program_when_a_tls_file_is_binary_refuses_it(self, engine: str, tmp_path: Path) -> None:
        """A DER (binary) file is no PEM text."""
        path = tmp_path / "ca.der"
        path.write_bytes(b"\x30\x82\x03\xff\xfe\x00\x01")
        problems = problems_of(on(engine, {"redis": {"url": URL, "tls": {"caCertFile": str(path)}}}))
        assert problems == [f"redis.tls.caCertFile: cannot read {str(path)!r}: not PEM text"]

    @pytest.mark.parametrize(
        ("name", "setting"),
        [
            ("REDIS_KEY_PREFIX", "redis.keyPrefix"),
            ("REDIS_SENTINEL_HOSTS", "redis.sentinel.hosts"),
            ("REDIS_SENTINEL_PORT", "redis.sentinel.port"),
            ("WEBSOCKET_SENTINEL_HOSTS", "redis.sentinel.hosts"),
            ("WEBSOCKET_SENTINEL_PORT", "redis.sentinel.port"),
            ("REDIS_SOCKET_CONNECT_TIMEOUT", "redis.socketConnectTimeout"),
            ("REDIS_SENTINEL_MAX_RETRY_COUNT", "redis.sentinel.maxRetryCount"),
            ("REDIS_RECONNECT_DELAY", "redis.sentinel.reconnectDelay"),
        ],
    )
    def test_program_when_env_sets_a_redis_variable_says_which_setting(
        self, engine: str, name: str, setting: str
    ) -> None:
        """openWebui.env may not set what the redis block sets; the hint names the setting to use."""
        (problem,) = problems_of(on(engine, {"openWebui": {"env": {name: "x"}}}), secret_keys=())
        assert problem == (
            f"openWebui.env.{name}: is set by the stack and cannot be overridden; any variable but the managed ones "
            f"may be set (docs/configuration.md: Default settings, 'Managed env'); set {setting} (got '{name}')"
        )

    def test_program_when_several_redis_inputs_are_bad_reports_them_together(self, engine: str) -> None:
        """Problems of both URLs come in one run."""
        problems = problems_of(
            on(engine, {"redis": {"url": f"http://u:{PASSWORD}@h", "websocketUrl": "ws.example.com"}})
        )
        assert problems == [
            f"redis.url: {NO_SCHEME} 'http' (got [secret])",
            f"redis.websocketUrl: {NO_SCHEME} none (got [secret])",
        ]
        assert_no_secret_in(problems)


class TestSettingsFromMapping:
    """The configuration path itself (``settings_from_mapping``, which ``load_settings`` calls)."""

    def test_settings_when_redis_is_valid_keep_the_secrets_secret(self) -> None:
        """The URL and key are SecretStr: not in the settings' repr."""
        settings = settings_from_mapping({"redis": {"url": URL, "tls": FULL_TLS}}, secret_sections=["redis"])
        assert settings.redis.url is not None
        assert settings.redis.url.get_secret_value() == URL
        assert not settings.managed_valkey
        assert not [secret for secret in (PASSWORD, KEY_BODY, CA_BODY) if secret in repr(settings)]

    def test_settings_when_redis_is_bad_raise_configuration_error_without_the_secret(self) -> None:
        """A ConfigurationError naming the key; the key's PEM is not in its message."""
        with pytest.raises(ConfigurationError) as raised:
            settings_from_mapping(
                {"redis": {"url": URL, "tls": {"clientCert": CERT_PEM, "clientKey": "not " + KEY_BODY}}},
                secret_sections=["redis"],
            )
        assert raised.value.problems == [
            "redis.tls.clientKey: holds no PEM PRIVATE KEY block (-----BEGIN ...PRIVATE KEY-----) (got [secret])"
        ]
        assert not [secret for secret in (PASSWORD, KEY_BODY, CERT_BODY) if secret in str(raised.value)]

    def test_settings_when_url_is_external_leave_out_valkey_name_checks(self) -> None:
        """Without the managed Valkey its default names collide with nothing: Open WebUI may take them."""
        settings = settings_from_mapping(
            {"redis": {"url": URL}, "openWebui": {"containerName": "redis-valkey", "volumeName": "redis-data"}},
            secret_sections=["redis"],
        )
        assert settings.open_webui.container_name == "redis-valkey"
        assert settings.open_webui.volume_name == "redis-data"
        with pytest.raises(ConfigurationError):  # the control: beside the managed Valkey the names collide
            settings_from_mapping({"openWebui": {"containerName": "redis-valkey", "volumeName": "redis-data"}})
