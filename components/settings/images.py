"""The default images: pinned releases, and the rule that tells a pinned reference from a moving one.

Each default is a release tag, never a tag that follows a branch or a release line. Open WebUI's is the release
that Tier 2 installs and the stand-in image carries; the real-Docker tiers run Debian stand-ins of the others
(tests/standins/README.md). An official image's release tag is rebuilt when its base system gets security
fixes (the same release on a patched base): pin a digest (``tag@sha256:...``) to freeze even that.

``scripts/bump-image NAME VERSION`` changes a version here together with what the tests install
(``tests/requirements-open-webui.in`` for Open WebUI) and the example stacks; Renovate proposes the same edits as
pull requests. Upgrading a deployment: docs/upgrades.md.
"""

from __future__ import annotations

import re

OPEN_WEBUI_VERSION = "0.12.4"
"""The Open WebUI release of the default image, and the one Tier 2 installs (``scripts/install-open-webui``) and the
stand-in image carries: one constant, so the two cannot drift."""
OPEN_WEBUI_IMAGE = f"ghcr.io/open-webui/open-webui:v{OPEN_WEBUI_VERSION}"
VALKEY_IMAGE = "docker.io/valkey/valkey:8.0.13-alpine"
"""The newest patched 8.0.x (2026-11-18): 8.0.6 fixed CVE-2025-49844 (Lua use-after-free, remote code execution) and
CVE-2025-46817/46818/46819, 8.0.9 CVE-2026-23479/25243/23631, 8.0.10 CVE-2026-56684/63639, 8.0.13 CVE-2026-130822;
the seed's 8.0.1 has none of these fixes."""
POSTGRES_IMAGE = "docker.io/pgvector/pgvector:0.8.6-pg17"
"""pgvector 0.8.6 on PostgreSQL 17 (0.8.2 fixed CVE-2026-3172, a buffer overflow in parallel HNSW builds). The tag
follows PostgreSQL 17's patch releases; pin a digest (``@sha256:``) to hold the minor version too."""
HAPROXY_IMAGE = "docker.io/library/haproxy:2.6.32-alpine"
"""The 2.6 LTS line (maintained until 2027-Q2), as Debian bookworm's haproxy that the real-process tests run."""

DEFAULT_IMAGES = {
    "open-webui": OPEN_WEBUI_IMAGE,
    "valkey": VALKEY_IMAGE,
    "postgres": POSTGRES_IMAGE,
    "haproxy": HAPROXY_IMAGE,
}
"""The defaults by the names ``scripts/bump-image`` takes."""

BRANCH_TAGS = frozenset(
    {"latest", "main", "master", "dev", "develop", "edge", "nightly", "canary", "unstable", "cuda", "ollama"}
)
"""Tags that follow a branch: each pull may bring a different build (Open WebUI's ``cuda``/``ollama`` follow main)."""
_RELEASE = re.compile(r"v?[0-9]+\.[0-9]+\.[0-9]+(?:[-._].*)?")
"""A tag that names a whole release, major, minor and patch (``8.0.13-alpine``, ``v0.12.4``, ``0.8.6-pg17``)."""
_BUILD = re.compile(r"(?:git-|sha-)[0-9a-f]{7,64}|(?=[0-9]*[a-f])[0-9a-f]{7,64}")
"""A tag that names one build by its commit or content hash (Open WebUI's ``git-1a2b3c4``): never moved. A bare
hash needs a letter, so that a date (``20240101``) is not taken for one."""


def moving_tag(reference: str) -> str | None:
    """The tag of ``reference`` when it moves (a branch, ``latest``, or a version without its patch number such as
    ``8.0-alpine``), else None: a whole release and a build's hash (``git-1a2b3c4``) do not move, and a digest pins
    the reference whatever its tag says."""
    if "@sha256:" in reference:
        return None
    name = reference.rsplit("/", 1)[-1]
    tag = name.partition(":")[2]
    if not tag:
        return "latest"  # Docker's default
    if tag in BRANCH_TAGS or not (_RELEASE.fullmatch(tag) or _BUILD.fullmatch(tag)):
        return tag
    return None


def rolls_side_by_side(upgrade: str, replicas: int, *, swarm: bool) -> bool:
    """Whether replacing Open WebUI runs old and new versions together: ``rolling`` with several replicas on one
    host, at any count on Swarm (a start-first update)."""
    return upgrade == "rolling" and (swarm or replicas > 1)


def moving_image_problems(
    images: list[tuple[str, str]], *, open_webui_rolls: bool = False, digest_lookup: bool = False
) -> list[str]:
    """What is wrong with running these images, as (configuration key, reference): a moving tag where it would
    change what runs without a change to the stack.

    ``open_webui_rolls``: Open WebUI's replicas are replaced side by side on one database
    (``rolls_side_by_side``); a new build behind a moving tag would roll out that way. ``digest_lookup``: Swarm's
    ``pinImages``, which looks every tag's digest up again at each preview. The settings and the Open WebUI
    components of both engines ask this one function."""
    pin = "pin a release tag or a digest (@sha256:...)"
    opt_in = "set allowMovingImageTags: true to accept it knowingly"
    problems = []
    for key, reference in images:
        tag = moving_tag(reference)
        if tag is None:
            continue
        if key == "openWebui.image" and open_webui_rolls:
            problems.append(
                f"{key}: {reference!r} has the moving tag {tag!r} while openWebui.upgrade is 'rolling': a new "
                "build behind the tag would roll out replica by replica, old and new versions on one database, "
                f"which Open WebUI's scaling guide forbids; {pin}, use upgrade: recreate, or {opt_in}"
            )
        elif digest_lookup:
            problems.append(
                f"{key}: {reference!r} has the moving tag {tag!r} while swarm.pinImages is on: every preview "
                "looks the tag's digest up again, so any `pulumi up` can update the service to a build no test "
                f"ran; {pin}, or {opt_in}"
            )
    return problems
