"""Stand-in PEM texts for rendering tests: they look like PEM, hold no key, and are found again in the inputs."""

from __future__ import annotations


def pem(kind: str, body: str) -> str:
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"


CA_BODY = "Q0FfQ0VSVF9CT0RZX2E4ZjNjMjE5"
CERT_BODY = "Q0xJRU5UX0NFUlRfQk9EWV83ZDFl"
KEY_BODY = "UFJJVkFURV9LRVlfQk9EWV85YjRj"
CA_PEM = pem("CERTIFICATE", CA_BODY)
CERT_PEM = pem("CERTIFICATE", CERT_BODY)
KEY_PEM = pem("PRIVATE KEY", KEY_BODY)
