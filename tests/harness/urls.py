"""The one URL rewriter of the tests: a URL's ``host:port`` or password replaced, everything else kept as written.

The loopback tiers map a rendered URL onto this machine (``tests.harness.loopback.local_redis_url``: the network alias
-> ``127.0.0.1``; ``tests.harness.replicas_support.local_url``: a container's ``host:port`` -> a local one) or give Open
WebUI another password (``tests.harness.open_webui_process.with_password``); each says which part changes and calls
this.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit


def host_port(url: str) -> str:
    """The ``host:port`` of ``url`` as written (after the credentials' ``@``, before the path)."""
    return urlsplit(url).netloc.rpartition("@")[2]


def rewrite_url(url: str, *, new_host_port: str | None = None, password: str | None = None) -> str:
    """``url`` with its ``host:port`` replaced by ``new_host_port`` and/or its password by ``password``
    (percent-encoded, the user kept). Scheme, user, path, query and fragment are kept byte for byte, and so are
    the parts not replaced (a password stays percent-encoded as written)."""
    parts = urlsplit(url)
    userinfo, at, old_host_port = parts.netloc.rpartition("@")
    if password is not None:
        if not at:
            raise ValueError("URL has no credentials to replace")
        userinfo = f"{userinfo.split(':', 1)[0]}:{quote(password, safe='')}"
    netloc = f"{userinfo}{at}{old_host_port if new_host_port is None else new_host_port}"
    return urlunsplit(parts._replace(netloc=netloc))
