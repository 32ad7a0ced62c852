"""The pulumi-tls emulation (``tests.harness.tls_provider``) makes PEM files that real TLS tools accept, as the
provider's do.

A CA and a Valkey server certificate are issued the way the stack chains them (a ``PrivateKey`` into a
``SelfSignedCert`` CA, another into a ``CertRequest``, both into a ``LocallySignedCert``), then checked with the
``openssl`` CLI, ``ssh-keygen`` and a real TLS handshake through Python's ``ssl``.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import re
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_tls as tls
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pulumi.runtime import rpc

from tests.harness import tls_provider
from tests.harness.tls_provider import (
    CERT_REQUEST,
    LOCALLY_SIGNED_CERT,
    PRIVATE_KEY,
    SELF_SIGNED_CERT,
    UNKNOWN,
    ProviderError,
    ProviderWarning,
    new_resource,
)

CA_HOURS = 87600
SERVER_HOURS = 8760
SERVER_USES = ["digital_signature", "key_encipherment", "server_auth"]


def secret(value: str) -> dict[str, str]:
    """A secret input as Pulumi's mocks pass it (``MockResourceArgs.inputs``): the RPC secret envelope."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def create(type_token: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    outputs = new_resource(type_token, "test", inputs)
    assert outputs is not None
    return outputs


def private_key(algorithm: str = "ECDSA", **inputs: Any) -> dict[str, Any]:
    if algorithm == "ECDSA":
        inputs.setdefault("ecdsaCurve", "P256")
    return create(PRIVATE_KEY, {"algorithm": algorithm, **inputs})


def issue_ca(key: Mapping[str, Any], common_name: str = "Valkey CA", **inputs: Any) -> dict[str, Any]:
    return create(
        SELF_SIGNED_CERT,
        {
            "privateKeyPem": secret(key["privateKeyPem"]),
            "isCaCertificate": True,
            "allowedUses": ["cert_signing", "crl_signing"],
            "subject": {"commonName": common_name, "organization": "Open WebUI"},
            "validityPeriodHours": float(CA_HOURS),  # numbers arrive as floats
            "earlyRenewalHours": 720.0,
            **inputs,
        },
    )


def request(key: Mapping[str, Any], **inputs: Any) -> dict[str, Any]:
    return create(
        CERT_REQUEST,
        {
            "privateKeyPem": secret(key["privateKeyPem"]),
            "subject": {"commonName": "redis"},
            "dnsNames": ["redis", "localhost"],
            "ipAddresses": ["127.0.0.1"],
            **inputs,
        },
    )


def sign(csr: Mapping[str, Any], ca_key: Mapping[str, Any], ca: Mapping[str, Any], **inputs: Any) -> dict[str, Any]:
    return create(
        LOCALLY_SIGNED_CERT,
        {
            "certRequestPem": csr["certRequestPem"],
            "caPrivateKeyPem": secret(ca_key["privateKeyPem"]),
            "caCertPem": ca["certPem"],
            "allowedUses": SERVER_USES,
            "validityPeriodHours": float(SERVER_HOURS),
            "earlyRenewalHours": 720.0,
            **inputs,
        },
    )


def openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, timeout=30, check=False)


def text_of(pem_file: Path) -> str:
    result = openssl("x509", "-noout", "-text", "-in", pem_file)
    assert result.returncode == 0, result.stderr
    return result.stdout


@dataclass
class Pki:
    ca_key: dict[str, Any]
    ca: dict[str, Any]
    server_key: dict[str, Any]
    csr: dict[str, Any]
    server: dict[str, Any]
    ca_file: Path
    cert_file: Path
    key_file: Path
    issued_at: datetime.datetime


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    issued_at = datetime.datetime.now(datetime.UTC)
    ca_key = private_key()
    ca = issue_ca(ca_key)
    server_key = private_key()
    csr = request(server_key)
    server = sign(csr, ca_key, ca)
    files = {"ca.pem": ca["certPem"], "server.pem": server["certPem"], "server.key": server_key["privateKeyPem"]}
    for name, content in files.items():
        (directory / name).write_text(content)
    return Pki(
        ca_key,
        ca,
        server_key,
        csr,
        server,
        directory / "ca.pem",
        directory / "server.pem",
        directory / "server.key",
        issued_at,
    )


@contextlib.contextmanager
def tls_server(cert_file: Path, key_file: Path) -> Iterator[int]:
    """A TLS server on loopback with this certificate and key, answering "hello" to each handshake; its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(5)
            with contextlib.suppress(OSError), connection, context.wrap_socket(connection, server_side=True) as tls:
                tls.sendall(b"hello")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def handshake(ca_file: Path, port: int, hostname: str) -> bytes:
    """A client that trusts only ``ca_file`` and checks the host name, as redis-py's ``ssl_check_hostname``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    context.load_verify_locations(ca_file)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=hostname) as connection,
    ):
        return connection.recv(5)


def test_openssl_verifies_the_server_certificate_against_the_ca(pki: Pki) -> None:
    """`openssl verify` accepts the chain, for the TLS server purpose (serverAuth) and under RFC 5280 strictness."""
    result = openssl("verify", "-purpose", "sslserver", "-x509_strict", "-CAfile", pki.ca_file, pki.cert_file)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"{pki.cert_file}: OK"


def test_server_certificate_names_the_valkey_host_for_server_auth(pki: Pki) -> None:
    text = text_of(pki.cert_file)

    assert "DNS:redis, DNS:localhost, IP Address:127.0.0.1" in text
    assert "X509v3 Extended Key Usage: \n                TLS Web Server Authentication\n" in text
    assert "X509v3 Key Usage: critical\n                Digital Signature, Key Encipherment\n" in text
    assert "X509v3 Basic Constraints: critical\n                CA:FALSE\n" in text
    assert "Subject: CN = redis\n" in text
    assert "Issuer: O = Open WebUI, CN = Valkey CA\n" in text
    certificate = x509.load_pem_x509_certificate(pki.server["certPem"].encode())
    ca = x509.load_pem_x509_certificate(pki.ca["certPem"].encode())
    # x509.CreateCertificate puts the CA's subject key id in the authority key id
    authority = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert authority.key_identifier == ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert pki.server["id"] == str(certificate.serial_number)
    assert pki.server["caKeyAlgorithm"] == "ECDSA"
    assert certificate.public_key() == x509.load_pem_x509_csr(pki.csr["certRequestPem"].encode()).public_key()


def test_ca_certificate_is_a_certificate_authority(pki: Pki) -> None:
    text = text_of(pki.ca_file)

    assert "X509v3 Basic Constraints: critical\n                CA:TRUE\n" in text
    assert "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign\n" in text
    assert "Subject: O = Open WebUI, CN = Valkey CA\n" in text
    assert "Issuer: O = Open WebUI, CN = Valkey CA\n" in text
    assert "Authority Key Identifier" not in text  # set_authority_key_id defaults to false
    ca = x509.load_pem_x509_certificate(pki.ca["certPem"].encode())
    # RFC 5280 method 1, SHA-1 of the public key bits, as generateSubjectKeyID makes it for ECDSA
    expected = x509.SubjectKeyIdentifier.from_public_key(ca.public_key()).digest
    assert ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest == expected
    assert pki.ca["keyAlgorithm"] == "ECDSA"
    assert pki.ca["isCaCertificate"] is True


@pytest.mark.parametrize(("resource", "hours"), [("ca", CA_HOURS), ("server", SERVER_HOURS)])
def test_validity_is_the_requested_hours_from_now(pki: Pki, resource: str, hours: int) -> None:
    outputs = pki.ca if resource == "ca" else pki.server
    certificate = x509.load_pem_x509_certificate(outputs["certPem"].encode())

    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc == datetime.timedelta(hours=hours)
    assert abs(certificate.not_valid_before_utc - pki.issued_at) < datetime.timedelta(minutes=1)
    start = datetime.datetime.fromisoformat(outputs["validityStartTime"])
    end = datetime.datetime.fromisoformat(outputs["validityEndTime"])
    # in time.Local, as Go's time.Now() is; a zero offset is written "Z"
    offset = datetime.datetime.now().astimezone().utcoffset()
    assert start.utcoffset() == offset
    assert outputs["validityStartTime"].endswith("Z") == (not offset)
    assert start.replace(microsecond=0) == certificate.not_valid_before_utc
    assert end.replace(microsecond=0) == certificate.not_valid_after_utc
    assert end - start == datetime.timedelta(hours=hours)
    assert outputs["readyForRenewal"] is False


@pytest.mark.parametrize("hostname", ["localhost", "redis", "127.0.0.1"])
def test_tls_client_checking_the_hostname_accepts_the_server(pki: Pki, hostname: str) -> None:
    with tls_server(pki.cert_file, pki.key_file) as port:
        assert handshake(pki.ca_file, port, hostname) == b"hello"


def test_tls_client_rejects_a_name_the_certificate_does_not_carry(pki: Pki) -> None:
    with tls_server(pki.cert_file, pki.key_file) as port, pytest.raises(ssl.SSLCertVerificationError) as raised:
        handshake(pki.ca_file, port, "valkey")

    assert "Hostname mismatch" in str(raised.value)


def test_a_certificate_from_another_ca_fails_verification(pki: Pki, tmp_path: Path) -> None:
    other_key = private_key()
    other_ca = issue_ca(other_key, common_name="Valkey CA")  # the same name, another key
    (tmp_path / "other-ca.pem").write_text(other_ca["certPem"])
    other_server_key = private_key()
    stranger = sign(request(other_server_key), other_key, other_ca)
    (tmp_path / "stranger.pem").write_text(stranger["certPem"])
    (tmp_path / "stranger.key").write_text(other_server_key["privateKeyPem"])

    # a CA the client trusts instead of ours, of the same name: the server certificate's authority key id
    # names our CA's key, so OpenSSL finds no issuer for it
    result = openssl("verify", "-CAfile", tmp_path / "other-ca.pem", pki.cert_file)
    assert result.returncode != 0
    assert "unable to get local issuer certificate" in result.stderr
    # a server whose certificate the other CA issued: the client trusting ours refuses it, one trusting it accepts
    with tls_server(tmp_path / "stranger.pem", tmp_path / "stranger.key") as port:
        with pytest.raises(ssl.SSLCertVerificationError) as raised:
            handshake(pki.ca_file, port, "redis")
        assert handshake(tmp_path / "other-ca.pem", port, "redis") == b"hello"
    assert raised.value.verify_message == "unable to get local issuer certificate"


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_private_key_comes_in_the_provider_formats(pki: Pki, tmp_path: Path) -> None:
    """PKCS#1/SEC 1 PEM, PKCS#8, PKIX public key, OpenSSH key pair and fingerprints: all of one key."""
    key = pki.server_key
    assert key["privateKeyPem"].startswith("-----BEGIN EC PRIVATE KEY-----\n")
    assert key["privateKeyPem"].endswith("\n-----END EC PRIVATE KEY-----\n")
    assert key["privateKeyPemPkcs8"].startswith("-----BEGIN PRIVATE KEY-----\n")
    assert key["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----\n")
    assert all(len(line) <= 64 for name in ("privateKeyPem", "privateKeyOpenssh") for line in key[name].splitlines())
    for name in ("privateKeyPem", "privateKeyPemPkcs8"):
        (tmp_path / name).write_text(key[name])
        derived = openssl("pkey", "-in", tmp_path / name, "-pubout")
        assert derived.returncode == 0, derived.stderr
        assert derived.stdout == key["publicKeyPem"]

    private = tmp_path / "id_ecdsa"
    private.write_text(key["privateKeyOpenssh"])
    private.chmod(0o600)
    public = subprocess.run(["ssh-keygen", "-y", "-f", private], capture_output=True, text=True, check=True)
    assert public.stdout.split() == key["publicKeyOpenssh"].split()
    assert key["publicKeyOpenssh"].startswith("ecdsa-sha2-nistp256 ")
    assert key["publicKeyOpenssh"].endswith("\n")
    (tmp_path / "id_ecdsa.pub").write_text(key["publicKeyOpenssh"])
    for digest, output in (("sha256", "publicKeyFingerprintSha256"), ("md5", "publicKeyFingerprintMd5")):
        listed = subprocess.run(
            ["ssh-keygen", "-l", "-E", digest, "-f", tmp_path / "id_ecdsa.pub"],
            capture_output=True,
            text=True,
            check=True,
        )
        fingerprint = listed.stdout.split()[1]
        assert fingerprint == (key[output] if digest == "sha256" else "MD5:" + key[output])

    # id: hashForState, the SHA-1 of the PKIX public key with Go's strings.TrimSpace applied
    der = serialization.load_pem_public_key(key["publicKeyPem"].encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if not der.endswith((b"\xc2\x85", b"\xc2\xa0")):  # two-byte Unicode spaces: see the hash_for_state test
        assert key["id"] == hashlib.sha1(der.rstrip(b"\t\n\v\f\r ")).hexdigest()


def test_p224_keys_have_no_openssh_forms(tmp_path: Path) -> None:
    """ecdsa_curve defaults to P224, which x/crypto/ssh cannot marshal: the OpenSSH attributes are empty."""
    key = create(PRIVATE_KEY, {"algorithm": "ECDSA"})

    assert key["ecdsaCurve"] == "P224"
    assert key["rsaBits"] == 2048
    (tmp_path / "key.pem").write_text(key["privateKeyPem"])
    described = openssl("pkey", "-in", tmp_path / "key.pem", "-noout", "-text")
    assert "Private-Key: (224 bit)" in described.stdout
    for name in ("privateKeyOpenssh", "publicKeyOpenssh", "publicKeyFingerprintMd5", "publicKeyFingerprintSha256"):
        assert key[name] == ""


@pytest.mark.parametrize(
    ("algorithm", "inputs", "pem_type", "signature"),
    [
        ("RSA", {"rsaBits": 2048.0}, "RSA PRIVATE KEY", "sha256WithRSAEncryption"),
        ("ECDSA", {"ecdsaCurve": "P384"}, "EC PRIVATE KEY", "ecdsa-with-SHA384"),
        ("ED25519", {}, "PRIVATE KEY", "ED25519"),
    ],
)
def test_every_key_algorithm_makes_a_ca_that_verifies(
    tmp_path: Path, algorithm: str, inputs: dict[str, Any], pem_type: str, signature: str
) -> None:
    ca_key = private_key(algorithm, **inputs)
    ca = issue_ca(ca_key)
    server = sign(request(private_key()), ca_key, ca)
    (tmp_path / "ca.pem").write_text(ca["certPem"])
    (tmp_path / "server.pem").write_text(server["certPem"])

    assert ca_key["privateKeyPem"].startswith(f"-----BEGIN {pem_type}-----\n")
    assert ca["keyAlgorithm"] == server["caKeyAlgorithm"] == algorithm
    result = openssl("verify", "-purpose", "sslserver", "-CAfile", tmp_path / "ca.pem", tmp_path / "server.pem")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Signature Algorithm: {signature}\n" in text_of(tmp_path / "server.pem")
    # generateSubjectKeyID: SHA-1 of the public key bits (RFC 5280 method 1) for RSA and ECDSA; for Ed25519 of
    # asn1.Marshal(ed25519.PublicKey), the 32 bytes in a DER OCTET STRING
    certificate = x509.load_pem_x509_certificate(ca["certPem"].encode())
    key_id = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    public = certificate.public_key()
    if algorithm == "ED25519":
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert key_id == hashlib.sha1(b"\x04\x20" + raw).digest()
    else:
        assert key_id == x509.SubjectKeyIdentifier.from_public_key(public).digest


def test_issued_subject_is_the_request_subject_as_go_rewrites_it(tmp_path: Path) -> None:
    """The CSR keeps the e-mail address; the certificate drops it (pkix.Name has no field for it), and a
    certificate without a subject marks its alternative names critical (RFC 5280 4.2.1.6)."""
    ca_key = private_key()
    ca = issue_ca(ca_key)
    csr = request(private_key(), subject={"commonName": "redis", "organization": "Valkey", "emailAddress": "a@b.c"})
    (tmp_path / "csr.pem").write_text(csr["certRequestPem"])
    (tmp_path / "named.pem").write_text(sign(csr, ca_key, ca)["certPem"])
    (tmp_path / "anonymous.pem").write_text(sign(request(private_key(), subject=None), ca_key, ca)["certPem"])

    described = openssl("req", "-in", tmp_path / "csr.pem", "-noout", "-subject", "-verify")
    assert described.returncode == 0, described.stderr
    assert described.stdout.strip() == "subject=O = Valkey, CN = redis, emailAddress = a@b.c"
    assert "Subject: O = Valkey, CN = redis\n" in text_of(tmp_path / "named.pem")
    assert "X509v3 Subject Alternative Name: \n" in text_of(tmp_path / "named.pem")
    assert "X509v3 Subject Alternative Name: critical\n" in text_of(tmp_path / "anonymous.pem")


@pytest.mark.parametrize(
    ("hours", "early", "ready"),
    [(24, 0, False), (24, 23, False), (24, 24, True), (24, 48, True), (0, 0, True)],
)
def test_ready_for_renewal_when_the_early_renewal_covers_the_validity(hours: int, early: int, ready: bool) -> None:
    key = private_key()
    inputs: dict[str, Any] = {"validityPeriodHours": float(hours), "earlyRenewalHours": float(early)}

    assert issue_ca(key, **inputs)["readyForRenewal"] is ready
    assert sign(request(private_key()), key, issue_ca(key), **inputs)["readyForRenewal"] is ready


def test_write_only_private_key_signs_but_is_not_kept() -> None:
    key = private_key()
    ca = create(
        SELF_SIGNED_CERT,
        {
            "privateKeyPemWo": secret(key["privateKeyPem"]),
            "privateKeyPemWoVersion": 1.0,
            "allowedUses": ["cert_signing"],
            "isCaCertificate": True,
            "subject": {"commonName": "CA"},
            "validityPeriodHours": 1.0,
        },
    )

    certificate = x509.load_pem_x509_certificate(ca["certPem"].encode())
    assert certificate.public_key() == serialization.load_pem_public_key(key["publicKeyPem"].encode())
    assert "privateKeyPemWo" not in ca
    assert ca["privateKeyPemWoVersion"] == 1.0


def test_a_ca_certificate_that_is_no_ca_warns_and_does_not_verify(tmp_path: Path) -> None:
    key = private_key()
    not_a_ca = issue_ca(key, isCaCertificate=False)
    with pytest.warns(ProviderWarning, match="Potentially Invalid Certificate Authority"):
        server = sign(request(private_key()), key, not_a_ca)
    (tmp_path / "ca.pem").write_text(not_a_ca["certPem"])
    (tmp_path / "server.pem").write_text(server["certPem"])

    assert openssl("verify", "-CAfile", tmp_path / "ca.pem", tmp_path / "server.pem").returncode != 0


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("ca without subject", "Invalid Certificate Subject"),
        ("signed with another key than the CA's", "x509: provided PrivateKey doesn't match parent's PublicKey"),
        ("CSR given as the CA certificate", 'invalid PEM type - expected "CERTIFICATE", got "CERTIFICATE REQUEST"'),
        ("bad IP address", 'Invalid IP address: Failed to parse "redis"'),
        ("unknown allowed use", "Attribute allowed_uses value must be one of"),
        ("key and write-only key", "Exactly one of these attributes must be configured"),
        ("public key as private key", "unable to determine parser for PEM preamble: PUBLIC KEY"),
        ("path length on a leaf", "x509: only CAs are allowed to specify MaxPathLen"),
    ],
)
def test_provider_errors(case: str, error: str) -> None:
    ca_key = private_key()
    ca = issue_ca(ca_key)
    csr = request(private_key())
    attempts = {
        "ca without subject": lambda: issue_ca(ca_key, subject=None),
        "signed with another key than the CA's": lambda: sign(csr, private_key(), ca),
        "CSR given as the CA certificate": lambda: sign(csr, ca_key, {"certPem": csr["certRequestPem"]}),
        "bad IP address": lambda: request(private_key(), ipAddresses=["redis"]),
        "unknown allowed use": lambda: sign(csr, ca_key, ca, allowedUses=["server_authentication"]),
        "key and write-only key": lambda: issue_ca(ca_key, privateKeyPemWo="x", privateKeyPemWoVersion=1.0),
        "public key as private key": lambda: issue_ca({"privateKeyPem": ca_key["publicKeyPem"]}),
        "path length on a leaf": lambda: sign(csr, ca_key, ca, maxPathLength=1.0),
    }

    with pytest.raises(ProviderError, match=re.escape(error)):
        attempts[case]()


def test_path_length_zero_means_no_limit_as_in_go() -> None:
    """max_path_length = 0 sets x509 MaxPathLen 0 without MaxPathLenZero: Go writes no pathLenConstraint."""
    key = private_key()
    limited = x509.load_pem_x509_certificate(issue_ca(key, maxPathLength=2.0)["certPem"].encode())
    zero = x509.load_pem_x509_certificate(issue_ca(key, maxPathLength=0.0)["certPem"].encode())

    assert limited.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 2
    assert zero.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length is None


def test_preview_plans_the_computed_outputs_unknown() -> None:
    planned = new_resource(
        SELF_SIGNED_CERT,
        "ca",
        {"privateKeyPem": UNKNOWN, "allowedUses": ["cert_signing"], "validityPeriodHours": 24.0},
    )

    assert planned is not None
    for name in ("certPem", "keyAlgorithm", "validityStartTime", "validityEndTime", "id", "maxPathLength"):
        assert planned[name] == UNKNOWN
    # known at plan time: the defaults and the ReadyForRenewal plan modifier
    assert planned["readyForRenewal"] is False
    assert planned["earlyRenewalHours"] == 0
    key = new_resource(PRIVATE_KEY, "key", {"algorithm": "RSA"}, preview=True)
    assert key is not None
    assert key["privateKeyPem"] == UNKNOWN
    assert key["rsaBits"] == 2048


def test_other_type_tokens_are_not_emulated() -> None:
    assert new_resource("random:index/randomPassword:RandomPassword", "password", {"length": 16.0}) is None
    assert new_resource("tls:index/getPublicKey:getPublicKey", "key", {}) is None


def test_hash_for_state_trims_what_go_reads_as_whitespace() -> None:
    """strings.TrimSpace on DER bytes: ASCII spaces and whole UTF-8 space runes at the ends, nothing else."""
    digest = tls_provider._hash_for_state

    assert digest(b"0\x01\x20\n") == hashlib.sha1(b"0\x01").hexdigest()
    assert digest(b"0\x01\xc2\xa0") == hashlib.sha1(b"0\x01").hexdigest()  # U+00A0
    assert digest(b"0\x01\xe2\x80\x80\t") == hashlib.sha1(b"0\x01").hexdigest()  # U+2000
    assert digest(b"0\x01\xa0") == hashlib.sha1(b"0\x01\xa0").hexdigest()  # not UTF-8: kept
    assert digest(b"0\x01\x1c") == hashlib.sha1(b"0\x01\x1c").hexdigest()  # Python's isspace, not Go's


class ProviderMocks(pulumi.runtime.Mocks):
    """Pulumi mocks answering with the emulation (the ID apart from the outputs)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        outputs = new_resource(args.typ, args.name, args.inputs)
        assert outputs is not None, args.typ
        return outputs.pop("id"), outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        return {}


def test_pulumi_program_chains_the_sdk_resources_into_a_working_server_certificate(tmp_path: Path) -> None:
    """The pulumi_tls SDK reads what the emulation returns, and chained outputs make a certificate servers use."""
    collected: list[Any] = []
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(ProviderMocks(), project="tls", stack="test", preview=False)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> Any:
        ca_key = tls.PrivateKey("ca", algorithm="ECDSA", ecdsa_curve="P256")
        ca = tls.SelfSignedCert(
            "ca",
            private_key_pem=ca_key.private_key_pem,
            is_ca_certificate=True,
            allowed_uses=["cert_signing", "crl_signing"],
            subject=tls.SelfSignedCertSubjectArgs(common_name="Valkey CA", organization="Open WebUI"),
            validity_period_hours=CA_HOURS,
            early_renewal_hours=720,
        )
        key = tls.PrivateKey("valkey", algorithm="ECDSA", ecdsa_curve="P256")
        csr = tls.CertRequest(
            "valkey",
            private_key_pem=key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name="redis"),
            dns_names=["redis", "localhost"],
            ip_addresses=["127.0.0.1"],
        )
        cert = tls.LocallySignedCert(
            "valkey",
            cert_request_pem=csr.cert_request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca.cert_pem,
            allowed_uses=SERVER_USES,
            validity_period_hours=SERVER_HOURS,
            early_renewal_hours=720,
        )
        return pulumi.Output.all(
            ca.cert_pem, cert.cert_pem, key.private_key_pem, cert.id, cert.ready_for_renewal, cert.ca_key_algorithm
        ).apply(collected.extend)

    program()

    ca_pem, cert_pem, key_pem, cert_id, ready, ca_key_algorithm = collected
    for name, content in (("ca.pem", ca_pem), ("server.pem", cert_pem), ("server.key", key_pem)):
        (tmp_path / name).write_text(content)
    verified = openssl("verify", "-purpose", "sslserver", "-CAfile", tmp_path / "ca.pem", tmp_path / "server.pem")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert cert_id == str(x509.load_pem_x509_certificate(cert_pem.encode()).serial_number)
    assert ready is False
    assert ca_key_algorithm == "ECDSA"
    with tls_server(tmp_path / "server.pem", tmp_path / "server.key") as port:
        assert handshake(tmp_path / "ca.pem", port, "redis") == b"hello"
