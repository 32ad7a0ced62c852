"""Other software's rules, as the stack checks values against them: browser origins and ``CORS_ALLOW_ORIGIN``
(Open WebUI), redis-py's URLs, options and ``REDIS_HEALTH_CHECK_INTERVAL``, Fernet keys, PEM, PostgreSQL URLs,
Linux's TCP retransmission budget and swarmkit's names. Plain functions on plain values: no model here."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_POSTGRES_URL = re.compile(r"(?:postgres|postgresql|postgresql\+psycopg)://[^/\s]+/[^\s]+")


def database_url_problem(url: str) -> str | None:
    """What is wrong with an external PostgreSQL URL, or None (the URL is never quoted)."""
    if not _POSTGRES_URL.fullmatch(url):
        return (
            "must be a PostgreSQL URL such as 'postgresql://user:password@host:5432/database' "
            "(schemes: postgresql, postgres, postgresql+psycopg)"
        )
    return None


_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _web_host(host: str) -> str | None:
    """``host`` (from ``urlsplit``: lower case, no brackets) as a browser writes it in ``Origin``, or None when a
    browser would write it differently or not at all (IDN hosts go in their punycode ``xn--`` form)."""
    if "%" in host:
        return None  # an IPv6 zone (fe80::1%eth0): browsers do not send one
    if ":" in host:
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            return None
    if re.fullmatch(r"[0-9.]+", host):
        try:
            return str(ipaddress.IPv4Address(host))  # 127.1 and 0x7f.1 are not accepted: write 127.0.0.1
        except ValueError:
            return None
    labels = host.removesuffix(".").split(".")
    return host if all(_HOST_LABEL.fullmatch(label) for label in labels) else None


def url_origin(url: str) -> str | None:
    """A URL's origin as a browser sends it in ``Origin`` (scheme, host, the port only when not the default), or
    None when it has none: not http(s), no or a malformed host, a bad port, or user credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or "@" in parts.netloc or not parts.hostname:
        return None
    host = _web_host(parts.hostname)
    if host is None or port == 0:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def cors_problems(value: str, custom_schemes: str = "") -> list[str]:
    """What is wrong with a ``CORS_ALLOW_ORIGIN`` value (``;``-separated origins, or ``*``) as Open WebUI reads it:
    it refuses to start on an empty entry or a scheme other than http, https and ``CORS_ALLOW_CUSTOM_SCHEME``'s,
    and an http(s) entry that is not written as a browser writes ``Origin`` (a path, a default port, upper case,
    spaces) never matches. The entries are not echoed: ``openWebui.env`` may be held as a secret."""
    if value == "*":
        return []
    entries = value.split(";")
    custom = {scheme for scheme in custom_schemes.split(";") if scheme}
    problems = []
    for number, origin in enumerate(entries, 1):
        which = f"entry {number} of {len(entries)}"
        try:
            parts = urlsplit(origin)
        except ValueError:
            parts = urlsplit("")
        if parts.scheme in custom and parts.netloc:
            continue
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(
                f"{which} is no origin: write http(s)://host[:port] (another scheme only if CORS_ALLOW_CUSTOM_SCHEME "
                "lists it), separated by ';' with no empty entry"
            )
        elif origin != url_origin(origin):
            problems.append(
                f"{which} never matches the Origin a browser sends: write scheme://host[:port] in lower case, with no "
                "path, '/', default port, credentials or spaces"
            )
    return problems


def oauth_key_problem(key: str) -> str | None:
    """Open WebUI hashes any key into a Fernet key except one of 44 characters, which it takes as a Fernet key."""
    if not key:
        return "is empty; remove it to have one generated"
    if len(key) == 44:
        try:
            if len(base64.urlsafe_b64decode(key.encode())) == 32:
                return None
        except (ValueError, binascii.Error):
            pass
        return (
            "has 44 characters but is no Fernet key (Open WebUI would fail to start): give a Fernet key "
            "(url-safe base64 of 32 bytes) or a key of any other length"
        )
    return None


TCP_RTO_MIN = 0.2
"""Linux's minimum retransmission timeout (``TCP_RTO_MIN``, seconds): the base of ``tcp_retries2``'s time budget."""
MIN_TCP_RETRIES2 = 5
"""The fewest retransmissions the stack lets a container's TCP make before it gives a connection up (12.6 s)."""


def retransmission_budget(retries: int) -> float:
    """Seconds Linux retransmits unacknowledged data before it drops the connection, for ``tcp_retries2``
    (``tcp_retransmits_timed_out``: doubling from ``TCP_RTO_MIN`` up to ``TCP_RTO_MAX``, 120 s)."""
    boundary = 9  # ilog2(TCP_RTO_MAX / TCP_RTO_MIN)
    if retries <= boundary:
        return ((2 << retries) - 1) * TCP_RTO_MIN
    return ((2 << boundary) - 1) * TCP_RTO_MIN + (retries - boundary) * 120


def tcp_retries(seconds: int) -> int:
    """The smallest ``tcp_retries2`` (at least ``MIN_TCP_RETRIES2``) whose budget reaches ``seconds``."""
    retries = MIN_TCP_RETRIES2
    while retransmission_budget(retries) < seconds:
        retries += 1
    return retries


def websocket_redis_options(
    given: str | None = None, connect_timeout: float | None = None, health_check_interval: int | None = None
) -> str:
    """``WEBSOCKET_REDIS_OPTIONS`` (redis-py's keyword arguments for the socket.io manager) as JSON (sorted,
    compact): keepalive on, so that the container's keepalive sysctls end a silent connection, and
    ``health_check_interval`` (``SelfHealSettings.health_check_interval``) unless ``given`` (``openWebui.env``'s,
    already checked) sets one; without ``given``, ``socket_connect_timeout`` (Open WebUI takes
    ``REDIS_SOCKET_CONNECT_TIMEOUT`` into it only when the variable is unset)."""
    options: dict[str, Any] = json.loads(given) if given is not None else {}
    if given is None and connect_timeout is not None:
        options["socket_connect_timeout"] = connect_timeout
    if health_check_interval is not None:
        options.setdefault("health_check_interval", health_check_interval)
    options["socket_keepalive"] = True
    return json.dumps(options, sort_keys=True, separators=(",", ":"))


_SENTINEL_USERINFO = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=]*(?::[A-Za-z0-9\-._~!$&'()*+,;=:]*)?")
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s.*?-----END \1-----", re.DOTALL)
REDIS_SCHEMES = ("redis", "rediss")
TLS_QUERY_PARAMETERS = ("ssl_ca_certs", "ssl_cert_reqs", "ssl_certfile", "ssl_keyfile", "ssl_check_hostname")
"""redis-py's TLS options in a URL's query: the stack writes them from ``redis.tls``; a URL may not carry them."""
URL_QUERY_PARAMETERS = (
    "socket_timeout",
    "socket_connect_timeout",
    "socket_keepalive",
    "retry_on_timeout",
    "max_connections",
    "health_check_interval",
    "protocol",
    "client_name",
)
"""The other connection options redis-py 8 reads from a URL's query (``URL_QUERY_ARGUMENT_PARSERS``, without
``db``: the database goes in the path, which Open WebUI's Sentinel code reads)."""


def redis_url_problem(url: str) -> str | None:
    """What is wrong with an external Redis URL as Open WebUI reads it (redis-py's ``from_url``, and the Sentinel
    parser that takes the host as the master name), or None. Only the scheme is ever quoted: the URL may hold a
    password."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a URL with a valid port: write redis[s]://[user:password@]host[:port][/database]"
    if parts.scheme not in REDIS_SCHEMES or not url.startswith(("redis://", "rediss://")):
        if parts.scheme in REDIS_SCHEMES:  # redis-py compares the scheme case-sensitively
            return "must start with redis:// or rediss:// in lower case (redis-py reads no other spelling)"
        # Only a scheme written as one (``name://``) is quoted: in ``p4ss:w0rd`` the "scheme" is part of a secret.
        written = re.fullmatch(r"[a-z][a-z0-9+.-]*", parts.scheme) and url.startswith(f"{parts.scheme}://")
        shown = repr(parts.scheme) if written else "none"
        return f"must start with redis:// or rediss:// (TLS), got the scheme {shown}"
    if any(char.isspace() for char in url) or not parts.hostname:
        return "has no host, or holds spaces: write redis[s]://[user:password@]host[:port][/database]"
    if port == 0:
        return "has port 0: write a port from 1 to 65535, or none for 6379"
    path = parts.path.removeprefix("/")
    if path and not (path.isdigit() and int(path) < 2**31):
        return "names no database: the path must be a database index such as /0, or empty for 0"
    if parts.fragment:
        return "has a #fragment, which redis-py ignores: remove it"
    names = {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    given = sorted(names & set(TLS_QUERY_PARAMETERS))
    if given:
        return f"carries {', '.join(given)}: set TLS under redis.tls (the stack writes these parameters)"
    unknown = sorted(names - set(URL_QUERY_PARAMETERS))
    if unknown:
        shown = ", ".join(repr(name) for name in unknown if re.fullmatch(r"[a-z_]{1,40}", name)) or "some"
        return (
            f"has query parameters redis-py does not take ({shown}; a connection would fail): use only "
            f"{', '.join(URL_QUERY_PARAMETERS)}, with the database in the path"
        )
    return None


def pem_problem(kind: str, value: str) -> str | None:
    """What is wrong with a PEM text that should hold ``kind`` blocks (``CERTIFICATE``, ``PRIVATE KEY``)."""
    blocks = [match[1] for match in _PEM_BLOCK.finditer(value)]
    if "ENCRYPTED PRIVATE KEY" in blocks or "Proc-Type: 4,ENCRYPTED" in value:
        return "is an encrypted key, which Open WebUI cannot open (it gives redis-py no passphrase): decrypt it"
    if not any(block.endswith(kind) for block in blocks):
        return f"holds no PEM {kind} block (-----BEGIN ...{kind}-----)"
    return None


def redis_url_problems(key: str, url: str, *, tls: bool, sentinel: bool) -> list[str]:
    """What is wrong with external Redis URL ``url`` (written at ``key``: a setting, or an Input) given whether
    ``redis.tls`` and ``redis.sentinel`` are set, one line each; the URL is never quoted."""
    problem = redis_url_problem(url)
    if problem:
        return [f"{key}: {problem} (got [secret])"]
    problems = []
    parts = urlsplit(url)
    if tls and parts.scheme != "rediss":
        problems.append(
            f"{key}: redis.tls is set but the URL is redis:// (no TLS); write rediss:// or remove redis.tls"
        )
    if sentinel:
        if parts.scheme == "rediss":
            problems.append(
                f"{key}: rediss:// with redis.sentinel: Open WebUI 0.12 reaches a primary that Sentinel names "
                "without TLS (it passes no TLS options to Sentinel); use redis:// on a private network, or TLS "
                "without Sentinel"
            )
        if parts.query:
            problems.append(f"{key}: with redis.sentinel Open WebUI ignores the URL's query parameters; remove them")
        userinfo = parts.netloc.rpartition("@")[0]
        if not _SENTINEL_USERINFO.fullmatch(userinfo):
            problems.append(
                f"{key}: with redis.sentinel Open WebUI sends the URL's user and password as written, "
                "without decoding %-escapes: use a password of letters, digits and -._~!$&'()*+,;= only "
                "(and the same in the sentinels' requirepass)"
            )
    return problems


_SWARM_NAME = re.compile(r"[A-Za-z0-9]+(?:[-_]+[A-Za-z0-9]+)*")
"""swarmkit's rule for service and network names (``isValidDNSName``), written so that it cannot backtrack."""
SWARM_NAME_LIMIT = 63
"""A service name is a host name on the overlay network (``tasks.<name>`` too): one DNS label."""
