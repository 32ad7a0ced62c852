"""Move one default image to another release, together with everything that names it (``scripts/bump-image``).

    scripts/bump-image open-webui 0.12.5
    scripts/bump-image valkey 8.0.14

NAME is one of ``components/settings/images.py``'s ``DEFAULT_IMAGES`` (open-webui, valkey, postgres, haproxy); VERSION
replaces the release number in the tag, keeping its form (``v0.12.5``, ``8.0.14-alpine``, ``0.8.7-pg17``). Every
tracked text file that names the old reference gets the new one (the example stacks, the docs, the generated
argument docs); for Open WebUI also the version Tier 2 installs (``tests/requirements-open-webui.in``), and then
``scripts/lock`` re-locks its dependencies. Run ``scripts/test --all`` next: the tiers run the new version.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "components" / "settings" / "images.py"
OPEN_WEBUI_REQUIREMENTS = ROOT / "tests" / "requirements-open-webui.in"
_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")
_TAG_VERSION = re.compile(r"^(v?)([0-9]+\.[0-9]+\.[0-9]+)")
_LOCKS = ("requirements.txt", "requirements-dev.txt")


def default_images(source: str) -> dict[str, str]:
    """``DEFAULT_IMAGES`` as ``images.py`` spells them out (read as text: no import, no dependencies)."""
    constants = dict(re.findall(r'^([A-Z_]+_IMAGE) = f?"([^"]+)"$', source, re.MULTILINE))
    version = re.search(r'^OPEN_WEBUI_VERSION = "([^"]+)"$', source, re.MULTILINE)
    if version:
        constants = {name: value.replace("{OPEN_WEBUI_VERSION}", version.group(1)) for name, value in constants.items()}
    names = dict(re.findall(r'^    "([a-z-]+)": ([A-Z_]+_IMAGE),$', source, re.MULTILINE))
    return {name: constants[constant] for name, constant in names.items()}


def bumped(reference: str, version: str) -> str:
    """``reference`` with the release number of its tag replaced by ``version``."""
    repository, _, tag = reference.rpartition(":")
    match = _TAG_VERSION.match(tag)
    if not match:
        raise SystemExit(f"bump-image: {reference!r} has no release number in its tag to replace")
    return f"{repository}:{match.group(1)}{version}{tag[match.end() :]}"


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in names.splitlines() if not name.endswith(_LOCKS) and (ROOT / name).is_file()]


def main(argv: list[str]) -> int:
    source = IMAGES.read_text()
    images = default_images(source)
    if len(argv) != 2 or argv[0] not in images or not _VERSION.fullmatch(argv[1]):
        print(f"usage: scripts/bump-image {{{','.join(images)}}} X.Y.Z", file=sys.stderr)
        return 2
    name, version = argv
    old = images[name]
    new = bumped(old, version)
    if new == old:
        print(f"bump-image: {name} is {old} already", file=sys.stderr)
        return 0
    if name == "open-webui":
        IMAGES.write_text(
            re.sub(r'^OPEN_WEBUI_VERSION = "[^"]+"$', f'OPEN_WEBUI_VERSION = "{version}"', source, count=1, flags=re.M)
        )
        requirements = OPEN_WEBUI_REQUIREMENTS.read_text()
        OPEN_WEBUI_REQUIREMENTS.write_text(
            re.sub(r"^(open-webui\[postgres\])==\S+$", rf"\1=={version}", requirements, count=1, flags=re.M)
        )
    changed = []
    for path in tracked_text_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        if old in text:
            path.write_text(text.replace(old, new))
            changed.append(str(path.relative_to(ROOT)))
    print(f"bump-image: {old} -> {new} in {', '.join(sorted(changed)) or 'no file'}", file=sys.stderr)
    if name == "open-webui":
        subprocess.run([str(ROOT / "scripts" / "lock"), "--upgrade-package", "open-webui"], cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
