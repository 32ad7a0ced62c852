"""Stand-ins for the official images the stack runs, built here from Debian packages and local binaries.

No image registry is reachable from the machines this project is developed and tested on, so the real-Docker
tests run these instead (``tests/standins/README.md`` lists every difference from the real images):

=============  ===============================================  ===============================================
name           stands in for (components/settings/images.py)   made of
=============  ===============================================  ===============================================
``valkey``     ``docker.io/valkey/valkey:8.0.13-alpine``        Debian trixie's ``valkey-tools`` 8.1.1
``open-webui`` ``ghcr.io/open-webui/open-webui:v0.12.4``        the virtualenv of ``scripts/install-open-webui``
``haproxy``    ``docker.io/library/haproxy:2.6.32-alpine``      Debian bookworm's ``haproxy`` 2.6
``postgres``   ``docker.io/pgvector/pgvector:0.8.6-pg17``       Debian trixie's ``postgresql-17``, pgvector 0.8.0
=============  ===============================================  ===============================================

Each is tagged ``owr-standin/<name>:<hash>``, the hash (12 hex digits) covering everything that goes into the
image: the files of ``tests/standins/<name>/``, the id of the base image, the binaries copied in. An image whose
tag exists is reused at once; a change builds a new one (and removes the stand-in's older tags). The bases are
Debian minbase root file systems made by ``mmdebstrap`` and imported (``owr-standin/base:bookworm``, about 25 s).
Builds hold a file lock, so parallel test processes build each image once. Everything built carries the label
``open-webui-redis.test=standin``.

``python -m tests.harness.docker_standins [NAME...]`` builds them (all by default) and prints ``name tag`` lines.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.harness.paths import ROOT, TESTS

STANDINS_DIR = TESTS / "standins"
REPOSITORY = "owr-standin"
LABEL_KEY = "open-webui-redis.test"
LABEL_VALUE = "standin"
LABEL = f"{LABEL_KEY}={LABEL_VALUE}"
"""The label of every image and build container made here (and of nothing else)."""
BASE = f"{REPOSITORY}/base:bookworm"
"""Debian bookworm minbase, from ``mmdebstrap --variant=minbase bookworm`` and ``docker import``."""
BASE_TRIXIE = f"{REPOSITORY}/base:trixie"
"""Debian trixie minbase: the only Debian release with PostgreSQL 17 and pgvector 0.8.0 packages."""
NAMES = ("valkey", "open-webui", "haproxy", "postgres")
HASH_LENGTH = 12


def cache_dir() -> Path:
    """Where the locks, build logs and temporary root file systems live."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "open-webui-redis" / "standins"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _log(message: str) -> None:
    print(f"docker_standins: {message}", file=sys.stderr, flush=True)


def _docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, stdin=subprocess.DEVNULL)


def _run_logged(command: list[str], log: Path) -> None:
    """Run ``command`` with its output appended to ``log``; on failure raise with the log's end."""
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-40:])
        raise RuntimeError(f"{command[:3]} failed (exit {result.returncode}); end of {log}:\n{tail}")


def image_id(reference: str) -> str | None:
    """The id of a local image, or None when there is none by that name."""
    result = _docker("image", "inspect", "--format", "{{.Id}}", reference, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """An exclusive ``fcntl`` lock on ``<cache>/<name>.lock``, held for the block (waits for other processes)."""
    with (cache_dir() / f"{name}.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _log(f"waiting for another process holding the {name} lock")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def base_image(suite: str = "bookworm") -> str:
    """The Debian ``suite`` minbase image's tag, built first if missing (``mmdebstrap``, then ``docker import``)."""
    tag = f"{REPOSITORY}/base:{suite}"
    if image_id(tag):
        return tag
    with _locked(f"base-{suite}"):
        if image_id(tag):
            return tag
        if shutil.which("mmdebstrap") is None:
            raise RuntimeError(
                "mmdebstrap is missing: run scripts/start-docker as root (or apt-get install mmdebstrap)"
            )
        started = time.monotonic()
        _log(f"building {tag} (mmdebstrap --variant=minbase {suite})")
        log = cache_dir() / f"base-{suite}.log"
        log.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_dir(), prefix=f"rootfs-{suite}-") as scratch:
            rootfs = Path(scratch) / "rootfs.tar"
            # No mirror argument: mmdebstrap uses deb.debian.org, with the updates and security suites of a stable
            # release. Standard input is closed, or mmdebstrap could read it as a sources.list.
            # Like Docker's own Debian images, no apt binary caches (80 MB in every layer that runs apt-get).
            no_caches = ['--aptopt=Dir::Cache::pkgcache ""', '--aptopt=Dir::Cache::srcpkgcache ""']
            _run_logged(["mmdebstrap", "--variant=minbase", "--quiet", *no_caches, suite, str(rootfs)], log)
            _run_logged(
                [
                    "docker",
                    "import",
                    "--change",
                    f"LABEL {LABEL}",
                    "--change",
                    'CMD ["bash"]',
                    "--message",
                    f"mmdebstrap --variant=minbase {suite}",
                    str(rootfs),
                    tag,
                ],
                log,
            )
        _log(f"built {tag} in {time.monotonic() - started:.1f} s")
    return tag


def _tree_digest(directory: Path) -> dict[str, str]:
    """``{relative path: sha256, and whether executable}`` of every file under ``directory`` (git keeps no more)."""
    digest = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            executable = "x" if path.stat().st_mode & 0o100 else "-"
            digest[str(path.relative_to(directory))] = f"{hashlib.sha256(path.read_bytes()).hexdigest()} {executable}"
    return digest


def _content_hash(inputs: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:HASH_LENGTH]


@dataclass(frozen=True)
class _Plan:
    """How one stand-in is made: its tag, and a build that runs only when no image has that tag."""

    tag: str
    build: Callable[[Path], None]
    """Builds ``tag``, logging to the given file."""
    helpers: tuple[str, ...] = ()
    """Tags of intermediate images the build makes (their older tags are removed with the stand-in's)."""


def _docker_build(tag: str, context: Path, log: Path, build_args: dict[str, str]) -> None:
    command = ["docker", "build", "--force-rm", "--label", LABEL, "--tag", tag]
    for key, value in sorted(build_args.items()):
        command += ["--build-arg", f"{key}={value}"]
    _run_logged([*command, str(context)], log)


def _dockerfile_plan(
    name: str,
    suite: str,
    *,
    extra_files: dict[str, Path] | None = None,
    extra_inputs: dict[str, str] | None = None,
    build_args: dict[str, str] | None = None,
    image: str | None = None,
) -> _Plan:
    """``docker build`` of ``tests/standins/<name>/`` (plus ``extra_files``, context name: source) on a base."""
    directory = STANDINS_DIR / name
    extra_files = extra_files or {}
    base = base_image(suite)
    args = {"BASE": base, **(build_args or {})}
    inputs: dict[str, object] = {
        "files": _tree_digest(directory),
        "base": image_id(base),
        "build_args": args,
        "extra_files": {key: hashlib.sha256(path.read_bytes()).hexdigest() for key, path in extra_files.items()},
        "extra": extra_inputs or {},
    }
    tag = f"{REPOSITORY}/{image or name}:{_content_hash(inputs)}"

    def build(log: Path) -> None:
        with tempfile.TemporaryDirectory(dir=cache_dir(), prefix=f"context-{name}-") as scratch:
            context = Path(scratch) / "context"
            shutil.copytree(directory, context)
            for key, source in extra_files.items():
                shutil.copy2(source, context / key)
            _docker_build(tag, context, log, args)

    return _Plan(tag, build)


def _valkey_plan() -> _Plan:
    return _dockerfile_plan("valkey", "trixie")


def open_webui_venv() -> Path:
    """The Open WebUI virtualenv: ``OPEN_WEBUI_VENV``, else what ``scripts/install-open-webui`` prints."""
    if os.environ.get("OPEN_WEBUI_VENV"):
        return Path(os.environ["OPEN_WEBUI_VENV"])
    result = subprocess.run(
        [str(ROOT / "scripts" / "install-open-webui")],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return Path(result.stdout.strip().splitlines()[-1])


def _venv_fingerprint(venv: Path) -> dict[str, object]:
    """What identifies a virtualenv's content cheaply: its configuration and every installed distribution."""
    site_packages = sorted(venv.glob("lib/python*/site-packages"))
    distributions = sorted(p.name for sp in site_packages for p in sp.iterdir() if p.name.endswith(".dist-info"))
    return {"pyvenv.cfg": (venv / "pyvenv.cfg").read_text(), "distributions": distributions}


_COPY_SCRIPT = """set -eu
mkdir -p "$VENV" "$PYTHON_HOME"
cp -a /mnt/. "$VENV/"
# The interpreter's own site-packages stay out: the virtualenv does not see them (include-system-site-packages).
tar -C /media --exclude="./lib/python$PYTHON_VERSION/site-packages" -cf - . | tar -C "$PYTHON_HOME" -xf -
mkdir -p "$PYTHON_HOME/lib/python$PYTHON_VERSION/site-packages"
# The interpreter's extension modules and the wheels' native parts load (open_webui itself would need a secret).
"$VENV/bin/python" -c 'import bz2, ctypes, lzma, sqlite3, ssl, zlib, redis, psycopg, psycopg2, pgvector, uvicorn, torch'
test -z "$(ls -A /app/backend/data)"
"""
"""Runs in the runtime image, the virtualenv mounted read-only on /mnt and its interpreter on /media."""
_COMMIT_CHANGES = ('CMD ["bash", "start.sh"]', f"LABEL {LABEL}")


_PYTHON_PROBE = "import sys; print(sys.base_prefix); print('%d.%d' % sys.version_info[:2])"


def _open_webui_plan() -> _Plan:
    venv = open_webui_venv()
    probe = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            _PYTHON_PROBE,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    python_home, python_version = probe.stdout.split()
    # The runtime (packages, environment, start script, healthcheck); its build arguments are where the copy goes.
    runtime = _dockerfile_plan(
        "open-webui",
        "bookworm",
        build_args={"VENV": str(venv), "PYTHON_HOME": python_home},
        image="open-webui-runtime",
    )
    inputs: dict[str, object] = {
        "runtime": runtime.tag,
        "venv": _venv_fingerprint(venv),
        "python": {"home": python_home, "version": python_version},
        "copy": _COPY_SCRIPT,
        "changes": _COMMIT_CHANGES,
    }
    tag = f"{REPOSITORY}/open-webui:{_content_hash(inputs)}"

    def build(log: Path) -> None:
        if image_id(runtime.tag) is None:
            started = time.monotonic()
            runtime.build(log)
            _log(f"built {runtime.tag} in {time.monotonic() - started:.1f} s")
        # Copying inside a container from read-only bind mounts, then committing it, avoids sending a 3 GB build
        # context through the API.
        container = f"owr-standin-copy-{os.getpid()}-{int(time.time())}"
        run = ["docker", "run", "--name", container, "--label", LABEL, "--network", "none"]
        # Mounted on directories the base has, empty: new mount points would stay in the image as empty directories.
        run += [f"--volume={venv}:/mnt:ro", f"--volume={python_home}:/media:ro"]
        run += [
            "--env",
            f"VENV={venv}",
            "--env",
            f"PYTHON_HOME={python_home}",
            "--env",
            f"PYTHON_VERSION={python_version}",
        ]
        try:
            started = time.monotonic()
            _run_logged([*run, runtime.tag, "sh", "-c", _COPY_SCRIPT], log)
            _log(f"copied the virtualenv and its Python into {container} in {time.monotonic() - started:.1f} s")
            commit = ["docker", "commit"]
            for change in _COMMIT_CHANGES:
                commit += ["--change", change]
            started = time.monotonic()
            _run_logged([*commit, container, tag], log)
            _log(f"committed {tag} in {time.monotonic() - started:.1f} s")
        finally:
            _docker("rm", "--force", "--volumes", container, check=False)

    return _Plan(tag, build, helpers=(runtime.tag,))


_PLANS: dict[str, Callable[[], _Plan]] = {
    "valkey": _valkey_plan,
    "open-webui": _open_webui_plan,
    "haproxy": lambda: _dockerfile_plan("haproxy", "bookworm"),
    "postgres": lambda: _dockerfile_plan("postgres", "trixie"),
}


def _remove_older_tags(keep: str) -> None:
    """Remove the other tags of ``keep``'s repository that carry our label (rmi without --force: in use stays)."""
    repository = keep.rsplit(":", 1)[0]
    listed = _docker("image", "ls", "--filter", f"label={LABEL}", "--format", "{{.Repository}}:{{.Tag}}", repository)
    for reference in listed.stdout.split():
        if reference != keep:
            _docker("rmi", reference, check=False)


def ensure_image(name: str) -> str:
    """The tag of one stand-in (see :data:`NAMES`), built first when no image has it."""
    if name not in _PLANS:
        raise ValueError(f"unknown stand-in {name!r}: one of {', '.join(NAMES)}")
    plan = _PLANS[name]()
    if image_id(plan.tag):
        return plan.tag
    with _locked("build"):
        if image_id(plan.tag):
            return plan.tag
        started = time.monotonic()
        _log(f"building {plan.tag}")
        log = cache_dir() / f"{name}.log"
        log.unlink(missing_ok=True)
        plan.build(log)
        _log(f"built {plan.tag} in {time.monotonic() - started:.1f} s")
        for tag in (plan.tag, *plan.helpers):
            _remove_older_tags(tag)
    return plan.tag


def ensure_images(names: Iterable[str] | None = None) -> dict[str, str]:
    """``{name: tag}`` of the stand-ins asked for (all of :data:`NAMES` by default), built first when missing."""
    return {name: ensure_image(name) for name in (NAMES if names is None else list(names))}


def main(argv: list[str] | None = None) -> int:
    names = sys.argv[1:] if argv is None else argv
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        usage = f"usage: python -m tests.harness.docker_standins [{' '.join(NAMES)}]... (unknown: {', '.join(unknown)})"
        print(usage, file=sys.stderr)
        return 2
    for name, tag in ensure_images(names or None).items():
        print(name, tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
