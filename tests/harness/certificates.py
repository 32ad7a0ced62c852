"""The one certificate maker of the tests: a CA, a server certificate it signed for the names given, and a client
certificate, made with the openssl CLI (EC P-256, valid for 2 days).

The Tier 2 external-Redis servers, the real-Docker and real-Swarm external TLS Redis and the stack given another CA
all take theirs from ``make_certificates`` (and ``make_ca`` for a CA alone).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificates:
    """A CA, a server certificate it signed and a client certificate: PEM files, the keys readable by this user only."""

    ca: Path
    server: Path
    server_key: Path
    client: Path
    client_key: Path


def openssl(*args: str) -> None:
    """Run ``openssl`` with ``args``; its error output in the exception when it fails."""
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {result.stderr.strip()}")


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA (EC P-256, valid for 2 days): its certificate and key."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.pem", directory / f"{name}-key.pem"
    openssl(
        "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc",
        "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return cert, key


def issue(directory: Path, name: str, ca: tuple[Path, Path], extensions: Sequence[str]) -> tuple[Path, Path]:
    """A certificate signed by ``ca`` (EC P-256, 2 days) with ``extensions``: its PEM file and its key's."""
    cert, key, request = directory / f"{name}.pem", directory / f"{name}-key.pem", directory / f"{name}.csr"
    extfile = directory / f"{name}.ext"
    extfile.write_text(
        "".join(f"{line}\n" for line in ["basicConstraints=critical,CA:FALSE", "authorityKeyIdentifier=keyid",
                                          "subjectKeyIdentifier=hash", *extensions])
    )  # fmt: skip
    openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc",
        "-keyout", str(key), "-out", str(request), "-subj", f"/CN={name}",
    )  # fmt: skip
    openssl(
        "x509", "-req", "-in", str(request), "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-CAcreateserial",
        "-days", "2", "-extfile", str(extfile), "-out", str(cert),
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key


def make_certificates(
    directory: Path,
    server_names: Sequence[str] = ("DNS:localhost", "IP:127.0.0.1"),
    *,
    ca: str = "tier2-redis-ca",
    server: str = "localhost",
    client: str = "tier2-open-webui",
) -> Certificates:
    """A CA named ``ca``, a server certificate ``server`` for ``server_names`` (subjectAltName entries, such as
    ``DNS:localhost`` or ``IP:172.17.0.1``) and a client certificate ``client``, all in ``directory``: each as
    ``<name>.pem`` with its key in ``<name>-key.pem``."""
    authority = make_ca(directory, ca)
    server_pair = issue(
        directory,
        server,
        authority,
        [
            f"subjectAltName={','.join(server_names)}",
            "keyUsage=critical,digitalSignature",
            "extendedKeyUsage=serverAuth",
        ],
    )
    client_pair = issue(
        directory, client, authority, ["keyUsage=critical,digitalSignature", "extendedKeyUsage=clientAuth"]
    )
    return Certificates(authority[0], server_pair[0], server_pair[1], client_pair[0], client_pair[1])
