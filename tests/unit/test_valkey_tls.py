"""`valkey.tls` (issue #11): the managed Valkey on TLS only, with a CA and a server certificate the stack makes with
pulumi-tls, on both engines, under Pulumi's mocks: what is declared, what Valkey and Open WebUI are given, what
stays secret, what ``components.verify`` runs, and what is refused. (The real servers: Tier 2's
``test_tier2_valkey_tls.py``; the real daemon: ``test_real_docker_valkey_tls.py``.)"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from redis.connection import SSLConnection, parse_url

from components import verify
from components.core import valkey as core_valkey
from components.core.settings import ValkeySettings
from components.testing import Deployment, Resource, StackMocks
from tests.harness.refused_inputs import refuse
from tests.harness.rendered import SECRET, deploy, input_texts, open_webuis
from tests.harness.rendered import redis_problems_of as problems_of

ENGINES = ["docker", "swarm"]
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"
CERT_REQUEST = "tls:index/certRequest:CertRequest"
LOCALLY_SIGNED = "tls:index/locallySignedCert:LocallySignedCert"
CA_PATH = "/run/secrets/valkey-ca.pem"
CERT_PATH = "/run/secrets/valkey-server.pem"
KEY_PATH = "/run/secrets/valkey-server-key.pem"
OPEN_WEBUI_CA = "/run/secrets/redis-ca.pem"


def on_tls(engine: str, valkey: dict[str, Any] | None = None, **blocks: Any) -> Deployment:
    return deploy(engine, None, secret_keys=(), valkey={"tls": True, **(valkey or {})}, **blocks)


def tls_resources(deployment: Deployment) -> list[Resource]:
    return [r for r in deployment.resources if r.type.startswith("tls:")]


def one(deployment: Deployment, type_: str, name_part: str = "") -> Resource:
    (found,) = [r for r in deployment.of_type(type_) if name_part in r.name]
    return found


def ca_pem(deployment: Deployment) -> str:
    return str(one(deployment, SELF_SIGNED).outputs["certPem"])


def server_key_pem(deployment: Deployment) -> str:
    return str(one(deployment, PRIVATE_KEY, "server-key").outputs["privateKeyPem"])


def server_cert_pem(deployment: Deployment) -> str:
    return str(one(deployment, LOCALLY_SIGNED).outputs["certPem"])


class ValkeyView:
    """The Valkey container (one host) or service (Swarm): its command, healthcheck, and files with their modes."""

    def __init__(self, deployment: Deployment, engine: str) -> None:
        self.files: dict[str, str] = {}
        self.modes: dict[str, tuple[str, str, int]] = {}
        """Path -> (uid, gid, mode) of each Swarm secret file."""
        self.secret_files: dict[str, bool] = {}
        if engine == "docker":
            container = deployment.container(str(deployment.outputs["valkeyContainerName"]))
            self.resource = container.resource
            self.command = container.command
            self.healthcheck = container.healthcheck_command
            self.files = dict(container.uploads)
            self.upload_modes = {u["file"]: u.get("permissions") for u in container.resource.inputs["uploads"]}
            self.secret_files = dict.fromkeys(self.files, container.resource.is_secret("uploads"))
            return
        service = deployment.service(str(deployment.outputs["valkeyServiceName"]))
        self.resource = service
        spec = service.inputs["taskSpec"]["containerSpec"]
        self.command = list(spec["args"])
        self.healthcheck = spec["healthcheck"]["tests"][1]
        secrets = {str(r.outputs["name"]): r for r in deployment.of_type(SECRET)}
        for reference in spec["secrets"]:
            secret = secrets[reference["secretName"]]
            self.files[reference["fileName"]] = base64.b64decode(secret.inputs["data"]).decode()
            self.secret_files[reference["fileName"]] = secret.is_secret("data")
            self.modes[reference["fileName"]] = (reference["fileUid"], reference["fileGid"], reference["fileMode"])


# ---------------------------------------------------------------------------------------------------------
# The certificates
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
class TestCertificates:
    def test_default_when_rendered_declares_no_tls_resource(self, engine: str) -> None:
        """Without `valkey.tls` nothing of pulumi-tls is declared, and the URL stays `redis://`."""
        deployment = deploy(engine, None, secret_keys=())
        assert tls_resources(deployment) == []
        assert deployment.outputs["redisUrl"].startswith("redis://")
        assert "valkeyCaCert" not in deployment.outputs

    def test_tls_when_on_declares_a_ca_and_a_server_certificate_it_signed(self, engine: str) -> None:
        """Two ECDSA P-256 keys, a self-signed CA (only for signing), a request for the server and the server
        certificate signed with the CA's key and certificate (only for a TLS server); all children of Valkey."""
        deployment = on_tls(engine)
        assert sorted(r.type for r in tls_resources(deployment)) == sorted(
            [PRIVATE_KEY, PRIVATE_KEY, SELF_SIGNED, CERT_REQUEST, LOCALLY_SIGNED]
        )
        for key in deployment.of_type(PRIVATE_KEY):
            assert (key.inputs["algorithm"], key.inputs["ecdsaCurve"]) == ("ECDSA", "P256"), key.urn
        ca, ca_key = one(deployment, SELF_SIGNED), one(deployment, PRIVATE_KEY, "ca-key")
        assert ca.inputs["isCaCertificate"] is True
        assert ca.inputs["allowedUses"] == ["cert_signing", "crl_signing"]
        assert ca.inputs["privateKeyPem"] == ca_key.outputs["privateKeyPem"]
        request = one(deployment, CERT_REQUEST)
        assert request.inputs["privateKeyPem"] == server_key_pem(deployment)
        server = one(deployment, LOCALLY_SIGNED)
        assert server.inputs["certRequestPem"] == request.outputs["certRequestPem"]
        assert server.inputs["caCertPem"] == ca.outputs["certPem"]
        assert server.inputs["caPrivateKeyPem"] == ca_key.outputs["privateKeyPem"]
        assert server.inputs["allowedUses"] == ["digital_signature", "key_encipherment", "server_auth"]
        valkey = one(
            deployment, "open-webui-redis:index:Valkey" if engine == "docker" else "open-webui-redis:swarm:Valkey"
        )
        assert {r.parent for r in tls_resources(deployment)} == {valkey.urn}

    def test_server_certificate_when_requested_names_every_way_valkey_is_reached(self, engine: str) -> None:
        """The network alias (the URLs' host), the container or service name, localhost and 127.0.0.1 (the
        healthcheck and `docker exec` connect from inside the container)."""
        request = one(on_tls(engine, {"alias": "cache", "containerName": "my-valkey"}), CERT_REQUEST)
        assert request.inputs["dnsNames"] == ["cache", "my-valkey", "localhost"]
        assert request.inputs["ipAddresses"] == ["127.0.0.1"]
        assert request.inputs["subject"]["commonName"] == "cache"

    def test_validity_when_set_in_days_is_given_to_both_certificates_in_hours(self, engine: str) -> None:
        """`tlsValidityDays` and `tlsRenewalDays` reach the CA and the server certificate, in hours."""
        deployment = on_tls(engine, {"tlsValidityDays": 400, "tlsRenewalDays": 45})
        for certificate in (one(deployment, SELF_SIGNED), one(deployment, LOCALLY_SIGNED)):
            assert certificate.inputs["validityPeriodHours"] == 400 * 24, certificate.urn
            assert certificate.inputs["earlyRenewalHours"] == 45 * 24, certificate.urn
        default = on_tls(engine)
        assert one(default, SELF_SIGNED).inputs["validityPeriodHours"] == 3650 * 24
        assert one(default, SELF_SIGNED).inputs["earlyRenewalHours"] == 30 * 24

    def test_keys_when_declared_are_secret_outputs_and_inputs(self, engine: str) -> None:
        """The private keys flow only as secrets: into the request, the CA and the signing."""
        deployment = on_tls(engine)
        assert one(deployment, CERT_REQUEST).is_secret("privateKeyPem")
        assert one(deployment, SELF_SIGNED).is_secret("privateKeyPem")
        assert one(deployment, LOCALLY_SIGNED).is_secret("caPrivateKeyPem")


# ---------------------------------------------------------------------------------------------------------
# Valkey
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
class TestValkey:
    def test_command_when_tls_listens_with_tls_only_on_the_configured_port(self, engine: str) -> None:
        """No plain port (`--port 0`), the TLS port where the plain one was, the three files, no client
        certificates asked for (clients authenticate with the password)."""
        view = ValkeyView(on_tls(engine, {"port": 6390}), engine)
        command = view.command
        assert command[command.index("--port") + 1] == "0"
        assert command[command.index("--tls-port") + 1] == "6390"
        assert command[command.index("--tls-cert-file") + 1] == CERT_PATH
        assert command[command.index("--tls-key-file") + 1] == KEY_PATH
        assert command[command.index("--tls-ca-cert-file") + 1] == CA_PATH
        assert command[command.index("--tls-auth-clients") + 1] == "no"
        assert command.count("--port") == 1

    def test_files_when_tls_are_the_generated_pems_as_secrets(self, engine: str) -> None:
        """Valkey holds the CA, its certificate and its key, the content secret."""
        deployment = on_tls(engine)
        view = ValkeyView(deployment, engine)
        assert view.files[CA_PATH] == ca_pem(deployment)
        assert view.files[CERT_PATH] == server_cert_pem(deployment)
        assert view.files[KEY_PATH] == server_key_pem(deployment)
        assert all(view.secret_files[path] for path in (CA_PATH, CERT_PATH, KEY_PATH))

    def test_key_file_when_tls_is_readable_by_the_valkey_user(self, engine: str) -> None:
        """One host: an upload is a root-owned tar entry, so the key is 0644 for the valkey user (uid 999) the
        entrypoint becomes. Swarm: the key is the valkey user's alone (999:1000, 0400), the rest 0444 root's."""
        view = ValkeyView(on_tls(engine), engine)
        if engine == "docker":
            assert {path: view.upload_modes[path] for path in (CA_PATH, CERT_PATH, KEY_PATH)} == dict.fromkeys(
                (CA_PATH, CERT_PATH, KEY_PATH), "0644"
            )
        else:
            assert view.modes[KEY_PATH] == ("999", "1000", 0o400)
            assert view.modes[CA_PATH] == view.modes[CERT_PATH] == ("0", "0", 0o444)

    def test_healthcheck_when_tls_pings_over_tls_verifying_the_ca(self, engine: str) -> None:
        view = ValkeyView(on_tls(engine, {"port": 6390}), engine)
        assert f"valkey-cli --tls --cacert {CA_PATH} -p 6390 ping" in view.healthcheck

    def test_valkey_when_tls_is_off_is_declared_exactly_as_before(self, engine: str) -> None:
        """Without TLS, the command and the healthcheck are those of the stacks before `valkey.tls` (a new one
        would replace every existing Valkey); `tls: false` written out renders the same Valkey as no setting."""
        auth = "/usr/local/etc/valkey/auth.conf" if engine == "docker" else "/run/secrets/valkey-auth.conf"
        before = ValkeyView(deploy(engine, None, secret_keys=()), engine)
        assert before.command == [
            "valkey-server", auth, "--port", "6379", "--save", "30", "1", "--appendonly", "no",
            "--maxclients", "10000", "--timeout", "1800", "--maxmemory-policy", "noeviction",
        ]  # fmt: skip
        password = 'REDISCLI_AUTH="$(cat /run/secrets/valkey-password)" ' if engine == "swarm" else ""
        assert before.healthcheck == f'[ "$({password}valkey-cli -p 6379 ping)" = PONG ]'
        after = ValkeyView(deploy(engine, None, secret_keys=(), valkey={"tls": False}), engine)
        assert after.resource.inputs == before.resource.inputs


# ---------------------------------------------------------------------------------------------------------
# Open WebUI, and the outputs
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
class TestOpenWebUI:
    def test_urls_when_tls_are_rediss_verifying_the_server_with_the_ca_file(self, engine: str) -> None:
        """Both URLs are `rediss://` on the alias and port, and redis-py reads from them: verify the certificate
        and the host name, against the CA file Open WebUI is given."""
        (view,) = open_webuis(on_tls(engine, {"alias": "cache", "port": 6390, "database": 4}), engine)
        assert view.env["REDIS_URL"] == view.env["WEBSOCKET_REDIS_URL"]
        parts = urlsplit(view.env["REDIS_URL"])
        assert (parts.scheme, parts.hostname, parts.port, parts.path) == ("rediss", "cache", 6390, "/4")
        assert dict(parse_qsl(parts.query)) == {
            "ssl_ca_certs": OPEN_WEBUI_CA,
            "ssl_cert_reqs": "required",
            "ssl_check_hostname": "true",
        }
        kwargs = parse_url(view.env["REDIS_URL"])  # type: ignore[no-untyped-call]
        assert kwargs["connection_class"] is SSLConnection
        assert (kwargs["ssl_ca_certs"], kwargs["ssl_cert_reqs"], kwargs["ssl_check_hostname"]) == (
            OPEN_WEBUI_CA,
            "required",
            True,
        )

    def test_ca_when_tls_reaches_every_replica_as_a_file_and_nothing_else(self, engine: str) -> None:
        """Each replica gets the generated CA, and only it (no server key), at the URL's `ssl_ca_certs`."""
        deployment = on_tls(engine, openWebui={"replicas": 2}, database={"enabled": True})
        views = open_webuis(deployment, engine)
        assert len(views) == 2  # two containers; on Swarm the primary service and the replicas' service
        for view in views:
            pems = {path: content for path, content in view.files.items() if path.endswith(".pem")}
            assert pems == {OPEN_WEBUI_CA: ca_pem(deployment)}, view.resource.urn
            assert server_key_pem(deployment) not in json.dumps(view.resource.inputs)

    def test_healthcheck_when_tls_reads_the_url_that_carries_the_tls_options(self, engine: str) -> None:
        """The probe reads the very `rediss://` URL Open WebUI is given (its CA file, its name check apply) and
        the container has the CA there (tests/tier1/test_probe.py connects with such a URL to a real TLS Valkey)."""
        (view,) = open_webuis(on_tls(engine), engine)
        assert "ssl_ca_certs=/run/secrets/redis-ca.pem" in view.env["WEBSOCKET_REDIS_URL"]
        assert "/run/secrets/redis-ca.pem" in view.files
        assert "WEBSOCKET_REDIS_URL" not in view.healthcheck

    def test_outputs_when_tls_export_the_ca_and_the_secret_rediss_urls(self, engine: str) -> None:
        deployment = on_tls(engine)
        assert deployment.outputs["valkeyCaCert"] == ca_pem(deployment)
        assert "valkeyCaCert" not in deployment.secret_outputs  # a certificate is public
        assert deployment.outputs["redisUrl"].startswith("rediss://")
        assert {"redisUrl", "websocketRedisUrl"} <= deployment.secret_outputs

    def test_server_key_when_rendered_appears_only_in_secret_inputs_and_no_output(self, engine: str) -> None:
        """Walk every input of every resource: the server key (and the CA's) only under secret inputs."""
        deployment = on_tls(engine, openWebui={"replicas": 2}, database={"enabled": True})
        keys = [str(k.outputs["privateKeyPem"]).splitlines()[1] for k in deployment.of_type(PRIVATE_KEY)]
        leaks = [
            f"{resource.type} {resource.name} {path}"
            for resource in deployment.resources
            for is_secret, path, text in input_texts(resource)
            if not is_secret and any(key in text for key in keys)
        ]
        assert leaks == []
        assert not [key for key in keys if key in json.dumps(deployment.outputs)]


def test_tls_when_mocked_with_real_certificates_gives_valkey_the_providers_outputs() -> None:
    """`StackMocks(tls=...)` hands the stack what a provider computes; the stack passes it on untouched."""
    calls: list[str] = []

    def provider(type_: str, name: str, inputs: Any) -> dict[str, Any] | None:
        calls.append(type_)
        if type_ == SELF_SIGNED:
            return {"certPem": "CA FROM THE PROVIDER\n"}
        return None  # the default placeholders

    deployment = deploy("docker", None, secret_keys=(), valkey={"tls": True}, mocks=StackMocks(tls=provider))
    assert sorted(set(calls)) == sorted({PRIVATE_KEY, SELF_SIGNED, CERT_REQUEST, LOCALLY_SIGNED})
    assert deployment.outputs["valkeyCaCert"] == "CA FROM THE PROVIDER\n"
    assert ValkeyView(deployment, "docker").files[CA_PATH] == "CA FROM THE PROVIDER\n"


@pytest.mark.parametrize("engine", ENGINES)
def test_open_webui_component_when_given_a_tls_valkey_url_without_its_ca_fails_naming_the_file(engine: str) -> None:
    """Used on their own, `Valkey` (tls) and `OpenWebUI` without `redis_ca_cert`: the URL names a CA file the
    container would not have (every connection would fail, `pulumi up` would wait out the timeout), so the Open
    WebUI resource fails at once with what to pass; with it, the CA is given."""
    from components.core.settings import OpenWebUISettings
    from components.host.open_webui import OpenWebUI
    from components.host.valkey import Valkey
    from components.swarm.open_webui import SwarmOpenWebUI
    from components.testing import run

    def build(with_ca: bool) -> None:
        valkey = Valkey("v", ValkeySettings(tls=True), "net")
        ca = valkey.ca_cert if with_ca else None
        if engine == "docker":
            OpenWebUI("o", OpenWebUISettings(), "net", valkey.redis_url, redis_ca_cert=ca)
        else:
            SwarmOpenWebUI("o", OpenWebUISettings(), "net-id", valkey.redis_url, pin_image=False, redis_ca_cert=ca)

    # Refused once the URL resolves: in a process of its own, as the stacks' refused Inputs (the Outputs that
    # needed the URL fail too, and their tracebacks must not race this process's parsing).
    [refused] = refuse([{"engine": engine, "tls_valkey_url_without_ca": True}])
    assert refused["error_type"] == "ConfigurationError"
    assert refused["problems"] == [
        "REDIS_URL's ssl_ca_certs names /run/secrets/redis-ca.pem, a file this Open WebUI is not given (pass the "
        "Valkey's ca_cert as redis_ca_cert)"
    ]
    deployment = run(lambda: build(True))
    assert [r.type for r in deployment.resources if r.type.endswith(("Container", "Service"))]


# ---------------------------------------------------------------------------------------------------------
# components.verify
# ---------------------------------------------------------------------------------------------------------


def test_verify_ca_path_is_the_one_valkey_is_given() -> None:
    """verify imports nothing of the project, so it keeps its own copy of the path: they must agree."""
    assert verify.TLS_CA_PATH == core_valkey.TLS_CA_PATH == CA_PATH


@pytest.mark.parametrize("engine", ENGINES)
def test_verify_when_outputs_are_rediss_runs_valkey_cli_with_tls_and_the_ca(engine: str) -> None:
    """From the rendered outputs: the target is the managed Valkey with TLS, and valkey-cli in its container
    connects with `--tls --cacert`, the password in the environment only."""
    deployment = on_tls(engine, {"port": 6390})
    target = verify.Target.from_outputs(deployment.outputs)
    assert (target.external, target.tls, target.port) == (False, True, 6390)
    cli = verify.DockerValkeyCli(target.container, target.port, target.password, tls=target.tls)
    argv = cli.argv(["PING"])
    assert argv[argv.index("valkey-cli") :] == ["valkey-cli", "--tls", "--cacert", CA_PATH, "-p", "6390", "PING"]
    assert target.password is not None
    assert target.password not in " ".join(argv)


def test_verify_when_outputs_are_plain_runs_valkey_cli_without_tls() -> None:
    target = verify.Target.from_outputs(deploy("docker", None, secret_keys=()).outputs)
    assert target.tls is False
    argv = verify.DockerValkeyCli(target.container, target.port, target.password).argv(["PING"])
    assert "--tls" not in argv


# ---------------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------------

BAD = {
    "validity without tls": (
        {"valkey": {"tlsValidityDays": 10}},
        ["valkey.tlsValidityDays is set while valkey.tls is false; set valkey.tls: true, or remove it"],
    ),
    "both without tls": (
        {"valkey": {"tlsValidityDays": 10, "tlsRenewalDays": 5}},
        [
            "valkey.tlsValidityDays and valkey.tlsRenewalDays are set while valkey.tls is false; set valkey.tls: "
            "true, or remove them"
        ],
    ),
    "renewal not below validity": (
        {"valkey": {"tls": True, "tlsValidityDays": 20, "tlsRenewalDays": 20}},
        [
            "valkey.tlsRenewalDays is 20 and valkey.tlsValidityDays 20: the renewal window must be shorter than the "
            "certificates' validity, or every `pulumi up` would make new ones"
        ],
    ),
    "default renewal above a short validity": (
        {"valkey": {"tls": True, "tlsValidityDays": 7}},
        [
            "valkey.tlsRenewalDays is 30 and valkey.tlsValidityDays 7: the renewal window must be shorter than the "
            "certificates' validity, or every `pulumi up` would make new ones"
        ],
    ),
    "validity too short": (
        {"valkey": {"tls": True, "tlsValidityDays": 1}},
        ["valkey.tlsValidityDays: Input should be greater than or equal to 2 (got 1)"],
    ),
    "renewal zero": (
        {"valkey": {"tls": True, "tlsRenewalDays": 0}},
        ["valkey.tlsRenewalDays: Input should be greater than or equal to 1 (got 0)"],
    ),
    "tls with an external server": (
        {"valkey": {"tls": True}, "redis": {"url": "rediss://default:pw@cache.example.com:6380/0"}},
        [
            "valkey.tls: the managed Valkey is not deployed with redis.url (an external server); remove it, or "
            "remove redis.url to deploy Valkey"
        ],
    ),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("config", "expected"), BAD.values(), ids=BAD.keys())
def test_program_when_valkey_tls_input_is_bad_names_the_key_and_declares_nothing(
    engine: str, config: dict[str, Any], expected: list[str]
) -> None:
    config = {"engine": "swarm", **config} if engine == "swarm" else config
    assert problems_of(config) == expected


def test_settings_when_tls_is_on_keep_the_defaults() -> None:
    settings = ValkeySettings.model_validate({"tls": True})
    assert (settings.tls, settings.tls_validity_days, settings.tls_renewal_days) == (True, 3650, 30)
