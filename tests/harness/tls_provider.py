"""The pulumi-tls resources as Pulumi mocks see them: real keys, CSRs and certificates, made with ``cryptography``.

pulumi-tls 5.6.x bridges hashicorp/terraform-provider-tls v4.3.0 (pulumi/pulumi-tls ``provider/go.mod``, PR #1035;
before it v4.2.1, commit 857b38cd). The resources' logic below follows v4.2.1's source (``internal/provider/``,
unchanged on main since but for copyright headers); v4.3.0 adds the write-only ``*_wo`` / ``*_wo_version`` inputs,
followed here from the pulumi_tls 5.6.2 SDK's docs and the upstream "writeOnly attributes" change (65f1396f):
Create takes the key from ``private_key_pem`` or else the write-only one, and never stores the latter.
``new_resource`` does what each resource's ``Create`` does, field by field, so that the PEM it returns can be
handed to real servers and clients. References name the provider's file and function, and Go's ``crypto/x509``
where the provider leaves the encoding to ``x509.CreateCertificate`` / ``x509.CreateCertificateRequest``.

Inputs arrive as ``MockResourceArgs.inputs`` gives them: camelCase, numbers as floats, secrets wrapped in
Pulumi's RPC secret envelope. Outputs echo the inputs (secrets stay wrapped, write-only ``*Wo`` values are
dropped, as the provider never stores them), add the schema defaults and the computed attributes. ``"id"`` is
the provider's resource ID (the Pulumi resource's ``id``, not an output property): a mock pops it and returns
it as the ID.

Provider errors (validators, ``res.Diagnostics.AddError``) raise ``ProviderError``; the one warning the
provider issues (a CA certificate that is not a CA) is a ``ProviderWarning``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import ipaddress
import re
import secrets
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID, ObjectIdentifier
from pulumi.runtime import rpc

PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
SELF_SIGNED_CERT = "tls:index/selfSignedCert:SelfSignedCert"
CERT_REQUEST = "tls:index/certRequest:CertRequest"
LOCALLY_SIGNED_CERT = "tls:index/locallySignedCert:LocallySignedCert"

UNKNOWN = rpc.UNKNOWN
"""What a computed output is in a preview: the bridge plans it unknown until ``Create`` runs."""

PrivateKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey: TypeAlias = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class ProviderError(Exception):
    """An error diagnostic of the provider: ``summary: detail``."""

    def __init__(self, summary: str, detail: str) -> None:
        super().__init__(f"{summary}: {detail}")
        self.summary = summary
        self.detail = detail


class ProviderWarning(UserWarning):
    """A warning diagnostic of the provider (the deployment goes on)."""


def new_resource(
    type_token: str, name: str, inputs: Mapping[str, Any], *, preview: bool = False
) -> dict[str, Any] | None:
    """Outputs (camelCase, the Pulumi property names, inputs included as the provider echoes them) for a pulumi-tls
    resource type token, or None for any other type.

    ``preview``: plan only, as the bridge does in ``pulumi preview``: the schema defaults and the plan modifiers'
    values are known, every other computed output is ``UNKNOWN``. Unknown inputs plan the same way.
    """
    create = _RESOURCES.get(type_token)
    if create is None:
        return None
    planned = preview or _has_unknown(inputs)
    return create(name, inputs, planned)


# --- private keys: resource_private_key.go, common_key.go ------------------------------------------------------

_CURVES: dict[str, type[ec.EllipticCurve]] = {
    # types.go supportedECDSACurves; common_key.go keyGenerators[ECDSA]
    "P224": ec.SECP224R1,
    "P256": ec.SECP256R1,
    "P384": ec.SECP384R1,
    "P521": ec.SECP521R1,
}
_ALGORITHMS = ("RSA", "ECDSA", "ED25519")  # types.go supportedAlgorithms


def _private_key(name: str, inputs: Mapping[str, Any], planned: bool) -> dict[str, Any]:
    """privateKeyResource.Create (resource_private_key.go)."""
    plain = _unwrap(inputs)
    algorithm = _one_of(plain, "algorithm", _ALGORITHMS, required=True)
    # privateKeyResourceSchemaV1: rsa_bits defaults to 2048, ecdsa_curve to P224, whatever the algorithm
    curve = _one_of(plain, "ecdsaCurve", tuple(_CURVES), default="P224")
    rsa_bits = _int(plain, "rsaBits", default=2048)
    out = _echo(inputs)
    out.update(ecdsaCurve=inputs.get("ecdsaCurve", curve), rsaBits=inputs.get("rsaBits", rsa_bits))
    computed = (
        "privateKeyPem",
        "privateKeyPemPkcs8",
        "privateKeyOpenssh",
        "publicKeyPem",
        "publicKeyOpenssh",
        "publicKeyFingerprintMd5",
        "publicKeyFingerprintSha256",
        "id",
    )
    if planned:
        return out | dict.fromkeys(computed, UNKNOWN)

    key: PrivateKey
    try:  # common_key.go keyGenerators: rsa.GenerateKey(rand.Reader, bits) (e = 65537), ecdsa.GenerateKey, ed25519
        if algorithm == "RSA":
            key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
        elif algorithm == "ECDSA":
            key = ec.generate_private_key(_CURVES[curve]())
        else:
            key = ed25519.Ed25519PrivateKey.generate()
    except ValueError as error:  # Go 1.24+ refuses RSA keys under 1024 bits, as cryptography does
        raise ProviderError("Unable to generate Key from configuration", str(error)) from error

    # Create: RSA -> PKCS#1 "RSA PRIVATE KEY" (x509.MarshalPKCS1PrivateKey), ECDSA -> SEC 1 "EC PRIVATE KEY"
    # (x509.MarshalECPrivateKey, named curve and public key included), ED25519 -> PKCS#8 "PRIVATE KEY".
    if isinstance(key, ed25519.Ed25519PrivateKey):
        pem_type, der = "PRIVATE KEY", _private_der(key, serialization.PrivateFormat.PKCS8)
    else:
        pem_type = "RSA PRIVATE KEY" if isinstance(key, rsa.RSAPrivateKey) else "EC PRIVATE KEY"
        der = _private_der(key, serialization.PrivateFormat.TraditionalOpenSSL)
    out["privateKeyPem"] = _pem(pem_type, der)
    # prvKeyToPKCS8PEMBlock: x509.MarshalPKCS8PrivateKey (for EC: the inner ECPrivateKey without the curve, as
    # OpenSSL writes it too)
    out["privateKeyPemPkcs8"] = _pem("PRIVATE KEY", _private_der(key, serialization.PrivateFormat.PKCS8))
    # prvKeySupportsOpenSSHMarshalling: x/crypto/ssh has no P-224, the attribute is then "".
    # ssh.MarshalPrivateKey(key, "") (no comment, no passphrase), pem.EncodeToMemory'd.
    out["privateKeyOpenssh"] = ""
    if _ssh_supported(key):
        openssh = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        block = _pem_decode(openssh.decode())
        assert block is not None
        out["privateKeyOpenssh"] = _pem(*block)
    out.update(_public_key_attributes(key.public_key()))
    return out


def _public_key_attributes(public: PublicKey) -> dict[str, str]:
    """setPublicKeyAttributes (common_key.go): id, public_key_pem, public_key_openssh and its fingerprints."""
    pkix = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    attributes = {
        # id: hashForState(string(x509.MarshalPKIXPublicKey(pubKey))) (common.go)
        "id": _hash_for_state(pkix),
        "publicKeyPem": _pem("PUBLIC KEY", pkix),
        "publicKeyOpenssh": "",
        "publicKeyFingerprintMd5": "",
        "publicKeyFingerprintSha256": "",
    }
    if _ssh_supported(public):  # ssh.NewPublicKey fails on P-224: the three attributes stay ""
        authorized = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        blob = base64.b64decode(authorized.split()[1])
        md5 = hashlib.md5(blob).hexdigest()
        attributes["publicKeyOpenssh"] = authorized.decode() + "\n"  # ssh.MarshalAuthorizedKey ends with "\n"
        # ssh.FingerprintLegacyMD5: "aa:bb:..."; ssh.FingerprintSHA256: "SHA256:" + unpadded standard base64
        attributes["publicKeyFingerprintMd5"] = ":".join(md5[i : i + 2] for i in range(0, len(md5), 2))
        sha256 = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
        attributes["publicKeyFingerprintSha256"] = "SHA256:" + sha256
    return attributes


def _ssh_supported(key: PrivateKey | PublicKey) -> bool:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return key.curve.name != "secp224r1"
    return True


def _private_der(key: PrivateKey, private_format: serialization.PrivateFormat) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, private_format, serialization.NoEncryption())


def _parse_private_key_pem(text: str) -> tuple[PrivateKey, str]:
    """parsePrivateKeyPEM (common_key.go): the first PEM block, parsed by its preamble; the key and its algorithm."""
    block = _pem_decode(text)
    if block is None:
        raise ValueError("failed to decode PEM block")
    pem_type, der = block
    if pem_type in ("PUBLIC KEY", "CERTIFICATE", "CERTIFICATE REQUEST"):  # pemBlockToPEMPreamble knows these
        raise ValueError(f"unable to determine parser for PEM preamble: {pem_type}")
    if pem_type not in ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"):
        raise ValueError(f"unsupported PEM preamble/type: {pem_type}")
    try:  # keyParsers: PKCS#1, SEC 1 or PKCS#8 by the preamble (cryptography also dispatches on the PEM label)
        key = serialization.load_pem_private_key(_pem(pem_type, der).encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise ValueError(f"failed to parse private key given PEM preamble '{pem_type}': {error}") from error
    # privateKeyToAlgorithm; Go's x509 parses only the NIST curves P-224 to P-521
    if isinstance(key, rsa.RSAPrivateKey):
        return key, "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _CURVE_NAMES:
        return key, "ECDSA"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key, "ED25519"
    raise ValueError(f"unsupported private key type: {type(key).__name__}")


_CURVE_NAMES = ("secp224r1", "secp256r1", "secp384r1", "secp521r1")


# --- certificates: common_cert.go createCertificate and Go's x509.CreateCertificate -------------------------------

_KEY_USAGES = {
    # common_cert.go keyUsages: x509.KeyUsage bits, RFC 5280 4.2.1.3 bit numbers
    "digital_signature": 0,
    "content_commitment": 1,
    "key_encipherment": 2,
    "data_encipherment": 3,
    "key_agreement": 4,
    "cert_signing": 5,
    "crl_signing": 6,
    "encipher_only": 7,
    "decipher_only": 8,
}
_EXTENDED_KEY_USAGES = {
    # common_cert.go extendedKeyUsages, with the OIDs Go's x509 marshals them to (extKeyUsageOIDs)
    "any_extended": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "server_auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code_signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email_protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec_end_system": ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec_tunnel": ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec_user": ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp_signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoft_server_gated_crypto": ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscape_server_gated_crypto": ObjectIdentifier("2.16.840.1.113730.4.1"),
    "microsoft_commercial_code_signing": ObjectIdentifier("1.3.6.1.4.1.311.2.1.22"),
    "microsoft_kernel_code_signing": ObjectIdentifier("1.3.6.1.4.1.311.61.1.1"),
}
_MAX_DURATION_HOURS = (2**63 - 1) // (3600 * 10**9)
"""time.Duration(validityPeriodHours) * time.Hour is an int64 of nanoseconds: beyond this it wraps around."""


@dataclass
class _Template:
    """The parts of the x509.Certificate template the provider fills in."""

    subject: _GoName
    dns_names: list[str] = field(default_factory=list)
    ip_addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = field(default_factory=list)
    uris: list[str] = field(default_factory=list)
    subject_key_id: bytes = b""


@dataclass
class _Parent:
    """The issuer as x509.CreateCertificate sees it: its subject, subject key id and public key."""

    subject: x509.Name
    subject_key_id: bytes
    public_key: PublicKey | None


def _create_certificate(
    plain: Mapping[str, Any],
    template: _Template,
    parent: _Parent | None,
    public: PublicKey,
    signer: PrivateKey,
) -> dict[str, str]:
    """createCertificate (common_cert.go) then x509.CreateCertificate; ``parent`` None: self-signed (the template
    is its own parent). The id, cert_pem and validity times."""
    hours = _int(plain, "validityPeriodHours", required=True, minimum=0)
    if hours > _MAX_DURATION_HOURS:
        raise ProviderError("Not emulated", "validity_period_hours overflows Go's time.Duration in the provider")
    # template.NotBefore = overridableTimeFunc() (time.Now()); NotAfter = NotBefore + hours
    not_before = datetime.datetime.now(datetime.UTC)
    not_after = not_before + datetime.timedelta(hours=hours)
    # serial: rand.Int(rand.Reader, 2^128), so in [0, 2^128); cryptography refuses 0 (a 2^-128 chance)
    serial = 0
    while serial == 0:
        serial = secrets.randbelow(1 << 128)

    key_usage, extended = _allowed_uses(plain)
    is_ca = _bool(plain, "isCaCertificate")
    if is_ca:
        # RFC 5280 4.1.2.6: a CA has a subject; cmp.Equal(template.Subject, pkix.Name{})
        if template.subject.is_zero():
            raise ProviderError(
                "Invalid Certificate Subject",
                "Must contain at least one Distinguished Name when creating Certificate Authority (CA)",
            )
        template.subject_key_id = _subject_key_id(public)
    # max_path_length >= 0 sets template.MaxPathLen; Go's marshalBasicConstraints omits a MaxPathLen of 0
    # (MaxPathLenZero is never set), so 0 and -1 both mean "no limit"
    max_path_len = _int(plain, "maxPathLength", default=-1, minimum=-1)
    if _bool(plain, "setSubjectKeyId"):
        template.subject_key_id = _subject_key_id(public)

    subject = template.subject.to_x509()
    self_signed = parent is None
    if parent is None:  # createCertificate(ctx, &cert, &cert, ...): the same template, its SubjectKeyId included
        parent = _Parent(subject, template.subject_key_id, None)
    authority_key_id = b""
    # set_authority_key_id exists only in tls_self_signed_cert's schema (plan.Schema.GetAttributes() check)
    if self_signed and _bool(plain, "setAuthorityKeyId"):
        if not parent.subject_key_id:
            raise ProviderError("Invalid Certificate Authority", "Could not determine Authority Key Identifier")
        authority_key_id = parent.subject_key_id
    # x509.CreateCertificate checks, in its order
    if not is_ca and max_path_len > 0:
        raise ProviderError("Failed to create certificate", "x509: only CAs are allowed to specify MaxPathLen")
    # x509.CreateCertificate: the parent's SubjectKeyId becomes the AuthorityKeyId whenever issuer != subject
    if parent.subject.public_bytes() != subject.public_bytes() and parent.subject_key_id:
        authority_key_id = parent.subject_key_id
    # x509.CreateCertificate: "x509: provided PrivateKey doesn't match parent's PublicKey"
    if parent.public_key is not None and _spki(signer.public_key()) != _spki(parent.public_key):
        raise ProviderError(
            "Failed to create certificate", "x509: provided PrivateKey doesn't match parent's PublicKey"
        )

    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(parent.subject)
        .public_key(public)
        .serial_number(serial)
        # Go's asn1 writes whole seconds (UTCTime until 2049, then GeneralizedTime, as cryptography does)
        .not_valid_before(not_before.replace(microsecond=0))
        .not_valid_after(not_after.replace(microsecond=0))
    )
    # buildCertExtensions, in its order: KeyUsage (marshalKeyUsage: critical) when any bit is set, ExtKeyUsage
    # (not critical) when any, BasicConstraints (marshalBasicConstraints: critical; always there, both resources
    # set BasicConstraintsValid; a leaf's is CA:FALSE, an empty SEQUENCE), SubjectKeyId, AuthorityKeyId (keyid
    # only), SubjectAltName (critical only when the subject is empty, RFC 5280 4.2.1.6). No AIA, CRL DP, policies.
    if key_usage:
        builder = builder.add_extension(_key_usage_extension(key_usage), critical=True)
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    path_length = max_path_len if is_ca and max_path_len > 0 else None
    builder = builder.add_extension(x509.BasicConstraints(ca=is_ca, path_length=path_length), critical=True)
    if template.subject_key_id:
        builder = builder.add_extension(x509.SubjectKeyIdentifier(template.subject_key_id), critical=False)
    if authority_key_id:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier(authority_key_id, None, None), critical=False)
    names = _general_names(template.dns_names, template.ip_addresses, template.uris)
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(names), critical=subject.public_bytes() == b"\x30\x00"
        )
    try:
        certificate = builder.sign(signer, _signature_hash(signer))
    except ValueError as error:
        raise ProviderError("Failed to create certificate", str(error)) from error
    return {
        "id": str(serial),  # template.SerialNumber.String()
        "certPem": _pem("CERTIFICATE", certificate.public_bytes(serialization.Encoding.DER)),
        # template.NotBefore.MarshalText(): RFC 3339 with the fraction of the second, in the local time zone
        "validityStartTime": _rfc3339(not_before),
        "validityEndTime": _rfc3339(not_after),
    }


def _allowed_uses(plain: Mapping[str, Any]) -> tuple[int, list[ObjectIdentifier]]:
    """createCertificate: each allowed use ORed into template.KeyUsage or appended to template.ExtKeyUsage."""
    uses = _str_list(plain, "allowedUses", required=True)
    key_usage = 0
    extended: list[ObjectIdentifier] = []
    for use in uses:
        if use in _KEY_USAGES:
            key_usage |= 1 << _KEY_USAGES[use]
        elif use in _EXTENDED_KEY_USAGES:
            extended.append(_EXTENDED_KEY_USAGES[use])
        else:  # listvalidator.ValueStringsAre(stringvalidator.OneOf(supportedKeyUsagesStr()...))
            supported = sorted([*_KEY_USAGES, *_EXTENDED_KEY_USAGES])
            raise ProviderError(
                "Invalid Attribute Value Match",
                f"Attribute allowed_uses value must be one of: {supported}, got: {use!r}",
            )
    return key_usage, extended


def _key_usage_extension(bits: int) -> x509.ExtensionType:
    """marshalKeyUsage; Go sets encipher/decipher_only without key_agreement too, which cryptography's KeyUsage
    refuses: that case is written as Go's DER BIT STRING."""
    flags = [bool(bits & (1 << bit)) for bit in range(9)]
    if flags[4] or not (flags[7] or flags[8]):
        return x509.KeyUsage(*flags)
    length = bits.bit_length()
    content = int("".join("1" if flag else "0" for flag in flags[:length]).ljust((length + 7) // 8 * 8, "0"), 2)
    octets = content.to_bytes((length + 7) // 8, "big")
    value = bytes([0x03, len(octets) + 1, len(octets) * 8 - length]) + octets
    return x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, value)


def _subject_key_id(public: PublicKey) -> bytes:
    """generateSubjectKeyID (common_cert.go): SHA-1 of the marshalled public key. RSA: asn1.Marshal(rsa.PublicKey)
    (PKCS#1), ECDSA: elliptic.Marshal (the uncompressed point), i.e. RFC 5280 method 1; Ed25519:
    asn1.Marshal(ed25519.PublicKey), a DER OCTET STRING around the 32 bytes."""
    if isinstance(public, rsa.RSAPublicKey):
        data = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        data = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    else:
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        data = bytes([0x04, len(raw)]) + raw
    return hashlib.sha1(data).digest()


def _signature_hash(signer: PrivateKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None:
    """Go's x509 signingParamsForKey: SHA256WithRSA; ECDSA with SHA-256 (P-224, P-256), SHA-384 (P-384),
    SHA-512 (P-521); PureEd25519 (no hash)."""
    if isinstance(signer, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(signer, ec.EllipticCurvePrivateKey) and signer.curve.name == "secp384r1":
        return hashes.SHA384()
    if isinstance(signer, ec.EllipticCurvePrivateKey) and signer.curve.name == "secp521r1":
        return hashes.SHA512()
    return hashes.SHA256()


def _general_names(
    dns_names: Sequence[str], ips: Sequence[ipaddress.IPv4Address | ipaddress.IPv6Address], uris: Sequence[str]
) -> list[x509.GeneralName]:
    """marshalSANs order: DNS names, (e-mail addresses: never set by the provider), IP addresses, URIs."""
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    names += [x509.IPAddress(ip) for ip in ips]
    names += [x509.UniformResourceIdentifier(uri) for uri in uris]
    return names


def _ready_for_renewal(plain: Mapping[str, Any]) -> bool:
    """attribute_plan_modifier_bool.ReadyForRenewal, the plan value Create stores: true when validity_period_hours
    is 0 or early_renewal_hours >= validity_period_hours. (Read turns it true later, once now >= end - early:
    modifyStateIfCertificateReadyForRenewal; a mock only creates.)"""
    hours = _int(plain, "validityPeriodHours", required=True, minimum=0)
    early = _int(plain, "earlyRenewalHours", default=0, minimum=0)
    return hours == 0 or early >= hours


def _certificate_defaults(inputs: Mapping[str, Any], plain: Mapping[str, Any], self_signed: bool) -> dict[str, Any]:
    """The echoed inputs with the schema's Default values (booldefault/int64default) and ready_for_renewal."""
    # the schema's validators (plan time): allowed_uses values, the hours, max_path_length, the names' lengths
    _allowed_uses(plain)
    _int(plain, "maxPathLength", minimum=-1)
    _str_list(plain, "ipAddresses", min_length=1)
    _str_list(plain, "uris", min_length=1)
    out = _echo(inputs)
    defaults: dict[str, Any] = {"earlyRenewalHours": 0, "isCaCertificate": False, "setSubjectKeyId": False}
    if self_signed:
        defaults["setAuthorityKeyId"] = False
    for key, value in defaults.items():
        out.setdefault(key, value)
    out["readyForRenewal"] = _ready_for_renewal(plain)
    return out


def _self_signed_cert(name: str, inputs: Mapping[str, Any], planned: bool) -> dict[str, Any]:
    """selfSignedCertResource.Create (resource_self_signed_cert.go)."""
    plain = _unwrap(inputs)
    key_text = _key_input(plain, "privateKeyPem")
    out = _certificate_defaults(inputs, plain, self_signed=True)
    if planned:
        # max_path_length: Computed without a default, UseStateForUnknown: unknown in the plan, null after Create
        out.setdefault("maxPathLength", UNKNOWN)
        return out | dict.fromkeys(("certPem", "keyAlgorithm", "validityStartTime", "validityEndTime", "id"), UNKNOWN)
    try:
        key, algorithm = _parse_private_key_pem(key_text)
    except ValueError as error:
        raise ProviderError("Failed to parse private key PEM", str(error)) from error
    out["keyAlgorithm"] = algorithm
    template = _Template(_GoName.from_subject(plain.get("subject")), *_subject_alt_names(plain))
    out.update(_create_certificate(plain, template, None, key.public_key(), key))
    return out


def _locally_signed_cert(name: str, inputs: Mapping[str, Any], planned: bool) -> dict[str, Any]:
    """locallySignedCertResource.Create (resource_locally_signed_cert.go)."""
    plain = _unwrap(inputs)
    request_text = _str(plain, "certRequestPem", required=True)
    ca_key_text = _key_input(plain, "caPrivateKeyPem")
    ca_cert_text = _str(plain, "caCertPem", required=True)
    out = _certificate_defaults(inputs, plain, self_signed=False)
    if planned:
        out.setdefault("maxPathLength", UNKNOWN)
        return out | dict.fromkeys(("certPem", "caKeyAlgorithm", "validityStartTime", "validityEndTime", "id"), UNKNOWN)
    try:  # parseCertificateRequest: the PEM must be "CERTIFICATE REQUEST"; the CSR's signature is not checked
        request = x509.load_der_x509_csr(_decode_pem_of_type(request_text, "CERTIFICATE REQUEST"))
    except ValueError as error:
        raise ProviderError("Failed to parse certificate request PEM", str(error)) from error
    try:
        ca_key, algorithm = _parse_private_key_pem(ca_key_text)
    except ValueError as error:
        raise ProviderError("Failed to parse CA private key PEM", str(error)) from error
    out["caKeyAlgorithm"] = algorithm
    try:  # parseCertificate: a "CERTIFICATE" PEM holding exactly one certificate
        ca_cert = x509.load_der_x509_certificate(_decode_pem_of_type(ca_cert_text, "CERTIFICATE"))
    except ValueError as error:
        raise ProviderError("Failed to parse CA certificate PEM", str(error)) from error
    if not _is_ca(ca_cert):
        warnings.warn(
            "Potentially Invalid Certificate Authority: Certificate provided as Authority does not appear to be a "
            "valid Certificate Authority. The resulting certificate might fail certificate validation.",
            ProviderWarning,
            stacklevel=3,
        )
    public = request.public_key()
    if not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) or (
        isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name not in _CURVE_NAMES
    ):
        raise ProviderError("Failed to create certificate", f"x509: unsupported public key type: {type(public)}")
    # certTemplate: Subject, DNSNames, IPAddresses and URIs of the parsed request (x509.ParseCertificateRequest)
    try:
        alt_names: list[x509.GeneralName] = list(
            request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        )
    except x509.ExtensionNotFound:
        alt_names = []
    with warnings.catch_warnings():  # cryptography warns of names Go takes (a 3-letter country)
        warnings.simplefilter("ignore", UserWarning)
        request_subject, ca_subject = request.subject, ca_cert.subject
    template = _Template(
        _GoName.from_x509(request_subject),
        [n.value for n in alt_names if isinstance(n, x509.DNSName)],
        [_to4(n.value) for n in alt_names if isinstance(n, x509.IPAddress) and not isinstance(n.value, _NETWORKS)],
        [n.value for n in alt_names if isinstance(n, x509.UniformResourceIdentifier)],
    )
    try:
        ca_key_id = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        ca_key_id = b""
    ca_public = ca_cert.public_key()
    assert isinstance(ca_public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey)
    parent = _Parent(ca_subject, ca_key_id, ca_public)
    out.update(_create_certificate(plain, template, parent, public, ca_key))
    return out


_NETWORKS = (ipaddress.IPv4Network, ipaddress.IPv6Network)


def _is_ca(certificate: x509.Certificate) -> bool:
    """x509.Certificate.IsCA: a BasicConstraints extension saying cA."""
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


# --- certificate requests: resource_cert_request.go and Go's x509.CreateCertificateRequest -------------------------


def _cert_request(name: str, inputs: Mapping[str, Any], planned: bool) -> dict[str, Any]:
    """certRequestResource.Create (resource_cert_request.go)."""
    plain = _unwrap(inputs)
    key_text = _key_input(plain, "privateKeyPem")
    _str_list(plain, "dnsNames")
    _str_list(plain, "ipAddresses", min_length=1)
    _str_list(plain, "uris", min_length=1)
    out = _echo(inputs)
    if planned:
        return out | dict.fromkeys(("certRequestPem", "keyAlgorithm", "id"), UNKNOWN)
    try:
        key, algorithm = _parse_private_key_pem(key_text)
    except ValueError as error:
        raise ProviderError("Failed to parse private key PEM", str(error)) from error
    out["keyAlgorithm"] = algorithm
    subject = _GoName.from_subject(plain.get("subject"))
    dns_names, ips, uris = _subject_alt_names(plain)
    # x509.CreateCertificateRequest: the subject, and an extensionRequest attribute with a non-critical
    # SubjectAltName when there are names (buildCSRExtensions); signed as certificates are
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject.to_x509())
    names = _general_names(dns_names, ips, uris)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    try:
        request = builder.sign(key, _signature_hash(key))
    except ValueError as error:
        raise ProviderError("Error creating certificate request", str(error)) from error
    der = request.public_bytes(serialization.Encoding.DER)
    out["certRequestPem"] = _pem("CERTIFICATE REQUEST", der)
    out["id"] = _hash_for_state(der)  # hashForState(string(certReqBytes))
    return out


# --- subjects: common_cert.go createSubjectDistinguishedNames and Go's pkix.Name ----------------------------------

_EMAIL_ADDRESS = NameOID.EMAIL_ADDRESS  # pkix.AttributeTypeAndValue{1.2.840.113549.1.9.1, IA5String}
_PRINTABLE = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]*")
"""encoding/asn1 isPrintable (no '*' nor '&'): such strings are PrintableString, any other UTF8String."""


@dataclass
class _GoName:
    """A pkix.Name: None is a nil slice; ``attributes`` counts pkix.Name.Names (what a parsed name held)."""

    country: list[str] | None = None
    province: list[str] | None = None
    locality: list[str] | None = None
    street_address: list[str] | None = None
    postal_code: list[str] | None = None
    organization: list[str] | None = None
    organizational_unit: list[str] | None = None
    common_name: str = ""
    serial_number: str = ""
    email_address: str | None = None
    attributes: int = 0

    @classmethod
    def from_subject(cls, subject: Mapping[str, Any] | None) -> _GoName:
        """createSubjectDistinguishedNames: each set attribute, single-valued but street_address (a list);
        email_address goes to ExtraNames."""
        if not subject:
            return cls()

        def one(key: str) -> list[str] | None:
            value = subject.get(key)
            return None if value is None else [str(value)]

        streets = subject.get("streetAddresses")
        return cls(
            country=one("country"),
            province=one("province"),
            locality=one("locality"),
            street_address=None if streets is None else [str(street) for street in streets],
            postal_code=one("postalCode"),
            organization=one("organization"),
            organizational_unit=one("organizationalUnit"),
            common_name=str(subject.get("commonName") or ""),
            serial_number=str(subject.get("serialNumber") or ""),
            email_address=None if subject.get("emailAddress") is None else str(subject["emailAddress"]),
        )

    @classmethod
    def from_x509(cls, name: x509.Name) -> _GoName:
        """pkix.Name.FillFromRDNSequence: the 2.5.4.x attributes it knows (the last CN and SERIALNUMBER win),
        every other attribute (the e-mail address among them) only counted in Names, never written back."""
        result = cls()
        lists = {
            NameOID.COUNTRY_NAME: "country",
            NameOID.LOCALITY_NAME: "locality",
            NameOID.STATE_OR_PROVINCE_NAME: "province",
            NameOID.STREET_ADDRESS: "street_address",
            NameOID.ORGANIZATION_NAME: "organization",
            NameOID.ORGANIZATIONAL_UNIT_NAME: "organizational_unit",
            NameOID.POSTAL_CODE: "postal_code",
        }
        for attribute in name:
            result.attributes += 1
            if not isinstance(attribute.value, str):
                continue
            if attribute.oid == NameOID.COMMON_NAME:
                result.common_name = attribute.value
            elif attribute.oid == NameOID.SERIAL_NUMBER:
                result.serial_number = attribute.value
            elif attribute.oid in lists:
                values = getattr(result, lists[attribute.oid]) or []
                setattr(result, lists[attribute.oid], [*values, attribute.value])
        return result

    def is_zero(self) -> bool:
        """cmp.Equal(name, pkix.Name{})."""
        return self == _GoName()

    def to_x509(self) -> x509.Name:
        """pkix.Name.ToRDNSequence: C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER, then ExtraNames; each
        list one (multi-valued) RDN."""
        sequence: list[tuple[ObjectIdentifier, list[str] | None]] = [
            (NameOID.COUNTRY_NAME, self.country),
            (NameOID.STATE_OR_PROVINCE_NAME, self.province),
            (NameOID.LOCALITY_NAME, self.locality),
            (NameOID.STREET_ADDRESS, self.street_address),
            (NameOID.POSTAL_CODE, self.postal_code),
            (NameOID.ORGANIZATION_NAME, self.organization),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, self.organizational_unit),
            (NameOID.COMMON_NAME, [self.common_name] if self.common_name else None),
            (NameOID.SERIAL_NUMBER, [self.serial_number] if self.serial_number else None),
        ]
        rdns = [
            x509.RelativeDistinguishedName([_attribute(oid, value) for value in values])
            for oid, values in sequence
            if values
        ]
        if self.email_address is not None:
            rdns.append(
                x509.RelativeDistinguishedName([_attribute(_EMAIL_ADDRESS, self.email_address, _ASN1Type.IA5String)])
            )
        return x509.Name(rdns)


def _attribute(oid: ObjectIdentifier, value: str, kind: _ASN1Type | None = None) -> x509.NameAttribute[str]:
    if kind is None:
        kind = _ASN1Type.PrintableString if _PRINTABLE.fullmatch(value) else _ASN1Type.UTF8String
    with warnings.catch_warnings():  # Go checks no lengths (a 3-letter country): cryptography only warns then
        warnings.simplefilter("ignore")
        return x509.NameAttribute(oid, value, kind, _validate=False)


def _subject_alt_names(
    plain: Mapping[str, Any],
) -> tuple[list[str], list[ipaddress.IPv4Address | ipaddress.IPv6Address], list[str]]:
    """dns_names as given; ip_addresses through net.ParseIP ("Invalid IP address"); uris through url.Parse."""
    dns_names = _str_list(plain, "dnsNames")
    ips: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for text in _str_list(plain, "ipAddresses", min_length=1):
        try:
            if "%" in text:  # net.ParseIP takes no IPv6 zone
                raise ValueError(text)
            ips.append(_to4(ipaddress.ip_address(text)))
        except ValueError:
            raise ProviderError("Invalid IP address", f'Failed to parse "{text}"') from None
    uris = _str_list(plain, "uris", min_length=1)
    for uri in uris:
        try:
            urlsplit(uri)
        except ValueError as error:
            raise ProviderError("Invalid URI", f'Failed to parse "{uri}": {error}') from error
    return dns_names, ips, uris


def _to4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """marshalSANs writes rawIP.To4() when it is one: an IPv4-mapped IPv6 address becomes 4 bytes."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


# --- encodings: encoding/pem, hashForState, time.MarshalText -----------------------------------------------------


def _pem(pem_type: str, der: bytes) -> str:
    """pem.EncodeToMemory: 64-column base64 lines, each ending with "\\n", as the END line does."""
    body = base64.b64encode(der).decode()
    lines = "".join(body[i : i + 64] + "\n" for i in range(0, len(body), 64))
    return f"-----BEGIN {pem_type}-----\n{lines}-----END {pem_type}-----\n"


_PEM_BLOCK = re.compile(r"(?:^|\n)-----BEGIN ([^\n]*?)-----[ \t\r]*\n(.*?)-----END \1-----", re.DOTALL)


def _pem_decode(text: str) -> tuple[str, bytes] | None:
    """pem.Decode: the first block (its BEGIN at the start of a line), whitespace in the base64 ignored."""
    match = _PEM_BLOCK.search(text)
    if match is None:
        return None
    try:
        return match.group(1), base64.b64decode(re.sub(r"\s", "", match.group(2)), validate=True)
    except binascii.Error:
        return None


def _decode_pem_of_type(text: str, pem_type: str) -> bytes:
    """decodePEM (resource_locally_signed_cert.go)."""
    block = _pem_decode(text)
    if block is None:
        raise ValueError(f'failed to decode PEM of expected type "{pem_type}" from bytes')
    if block[0] != pem_type:
        raise ValueError(f'invalid PEM type - expected "{pem_type}", got "{block[0]}"')
    return block[1]


_UNICODE_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
"""unicode.IsSpace."""


def _hash_for_state(value: bytes) -> str:
    """hashForState (common.go): hex SHA-1 of strings.TrimSpace(value) — of DER bytes here, whose last bytes
    may well read as whitespace."""
    return hashlib.sha1(_go_trim_space(value)).hexdigest()


def _go_trim_space(value: bytes) -> bytes:
    """strings.TrimSpace on bytes that are not UTF-8 text: a rune is trimmed only when it decodes and is a space."""

    def rune(chunk: bytes) -> str | None:
        try:
            text = chunk.decode()
        except UnicodeDecodeError:
            return None
        return text if len(text) == 1 else None

    def space_at(start: bool) -> int:
        for size in range(1, min(4, len(value)) + 1):
            char = rune(value[:size] if start else value[-size:])
            if char is not None:
                return size if char in _UNICODE_SPACES else 0
        return 0

    while value and (size := space_at(True)):
        value = value[size:]
    while value and (size := space_at(False)):
        value = value[:-size]
    return value


def _rfc3339(moment: datetime.datetime) -> str:
    """time.Time.MarshalText (RFC 3339 with the fraction, trailing zeros cut) of time.Now(), in time.Local ("Z"
    for a zero offset). Python's clock stops at microseconds, Go's at nanoseconds."""
    local = moment.astimezone()
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{local.microsecond:06d}".rstrip("0")
    if fraction:
        text += "." + fraction
    offset = local.utcoffset() or datetime.timedelta()
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _spki(public: PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# --- inputs: Pulumi's wire values and the schema's validators ------------------------------------------------------

_WRITE_ONLY = ("privateKeyPemWo", "caPrivateKeyPemWo")
"""v4.3.0's write-only inputs (WriteOnly: true): used by Create, never in the state."""


def _echo(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in inputs.items() if key not in _WRITE_ONLY and value is not None}


def _unwrap(value: Any) -> Any:
    """The inputs with Pulumi's secret envelopes opened."""
    if rpc.is_rpc_secret(value):
        return _unwrap(rpc.unwrap_rpc_secret(value))
    if isinstance(value, Mapping):
        return {key: _unwrap(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_unwrap(item) for item in value]
    return value


def _has_unknown(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_has_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_unknown(item) for item in value)
    return isinstance(value, str) and value == UNKNOWN


def _key_input(plain: Mapping[str, Any], attribute: str) -> str:
    """v4.3.0: exactly one of ``attribute`` and its write-only ``attribute + "Wo"`` (which also requires
    ``... + "WoVersion"``); Create reads the state's value, else the configuration's write-only one."""
    write_only = attribute + "Wo"
    given = [key for key in (attribute, write_only) if plain.get(key) is not None]
    if len(given) != 1:
        raise ProviderError(
            "Invalid Attribute Combination",
            f"Exactly one of these attributes must be configured: [{attribute},{write_only}]",
        )
    if (plain.get(write_only) is None) != (plain.get(write_only + "Version") is None):
        raise ProviderError(
            "Invalid Attribute Combination", f"{write_only} and {write_only}Version must be configured together"
        )
    return _str(plain, given[0], required=True)


def _missing(attribute: str) -> ProviderError:
    return ProviderError("Missing required argument", f'The argument "{attribute}" is required')


def _str(plain: Mapping[str, Any], attribute: str, *, required: bool = False, default: str = "") -> str:
    value = plain.get(attribute)
    if value is None:
        if required:
            raise _missing(attribute)
        return default
    if not isinstance(value, str):
        raise ProviderError("Incorrect attribute value type", f"{attribute}: expected a string, got {value!r}")
    return value


def _one_of(
    plain: Mapping[str, Any], attribute: str, allowed: Sequence[str], *, required: bool = False, default: str = ""
) -> str:
    """stringvalidator.OneOf."""
    value = _str(plain, attribute, required=required, default=default)
    if value not in allowed:
        raise ProviderError(
            "Invalid Attribute Value Match",
            f"Attribute {attribute} value must be one of: {list(allowed)}, got: {value!r}",
        )
    return value


def _int(
    plain: Mapping[str, Any], attribute: str, *, required: bool = False, default: int = 0, minimum: int | None = None
) -> int:
    """An Int64 attribute (a float on Pulumi's wire); int64validator.AtLeast(minimum)."""
    value = plain.get(attribute)
    if value is None:
        if required:
            raise _missing(attribute)
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ProviderError("Incorrect attribute value type", f"{attribute}: expected a whole number, got {value!r}")
    number = int(value)
    if minimum is not None and number < minimum:
        raise ProviderError(
            "Invalid Attribute Value", f"Attribute {attribute} value must be at least {minimum}, got: {number}"
        )
    return number


def _bool(plain: Mapping[str, Any], attribute: str) -> bool:
    value = plain.get(attribute, False)
    if not isinstance(value, bool):
        raise ProviderError("Incorrect attribute value type", f"{attribute}: expected a bool, got {value!r}")
    return value


def _str_list(plain: Mapping[str, Any], attribute: str, *, required: bool = False, min_length: int = 0) -> list[str]:
    """A list of strings; listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(min_length))."""
    value = plain.get(attribute)
    if value is None:
        if required:
            raise _missing(attribute)
        return []
    if not isinstance(value, Iterable) or isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ProviderError("Incorrect attribute value type", f"{attribute}: expected a list of strings, got {value!r}")
    items = list(value)
    for item in items:
        if len(item) < min_length:
            raise ProviderError(
                "Invalid Attribute Value Length",
                f"Attribute {attribute} value must be at least {min_length} characters, got: {item!r}",
            )
    return items


_RESOURCES = {
    PRIVATE_KEY: _private_key,
    SELF_SIGNED_CERT: _self_signed_cert,
    CERT_REQUEST: _cert_request,
    LOCALLY_SIGNED_CERT: _locally_signed_cert,
}


class ProviderState:
    """pulumi-tls resources as a stack's state keeps them, for ``StackMocks(tls=...)`` across renders: a resource
    declared again with the same inputs keeps the outputs it was created with (a second ``pulumi up`` with nothing
    changed makes no new key), and different inputs make new ones (every input of these resources forces a
    replacement in the provider)."""

    def __init__(self) -> None:
        self._created: dict[tuple[str, str, str], dict[str, Any]] = {}

    def __call__(self, type_token: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        key = (type_token, name, repr(sorted(inputs.items())))
        if key not in self._created:
            outputs = new_resource(type_token, name, inputs)
            if outputs is None:
                return None
            self._created[key] = outputs
        return dict(self._created[key])
