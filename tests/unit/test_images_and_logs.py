"""Day two: the default images are pinned releases, moving tags are refused where they would change what runs
without a change to the stack, and every container and service keeps bounded logs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components import OpenWebUI, OpenWebUISettings, SwarmOpenWebUI
from components.core.config import ConfigurationError
from components.core.images import DEFAULT_IMAGES, OPEN_WEBUI_VERSION, moving_tag
from components.testing import Deployment, StackMocks, read_stack_file, render, run
from tests.harness.paths import ROOT

SWARM: dict[str, Any] = {"engine": "swarm", "swarm": {"pinImages": False}}
BOUNDED = {"max-file": "3", "max-size": "10m"}


def refused(config: dict[str, Any]) -> list[str]:
    """The problems the program reports for ``config``, after checking that nothing was declared."""
    mocks = StackMocks()
    with pytest.raises(ConfigurationError) as raised:
        render(config, mocks=mocks)
    assert mocks.declared == []
    return raised.value.problems


def log_configs(deployment: Deployment) -> dict[str, tuple[str, dict[str, str]]]:
    """Every container's and service's log driver and options, by Docker name."""
    found = {
        name: (container.resource.inputs["logDriver"], container.resource.inputs["logOpts"])
        for name, container in deployment.containers().items()
    }
    for name, service in deployment.services().items():
        driver = service.inputs["taskSpec"]["logDriver"]
        found[name] = (driver["name"], driver["options"])
    return found


class TestDefaultImages:
    def test_defaults_when_read_are_releases_the_tests_run(self) -> None:
        """Each default names a whole release: Open WebUI's is the one Tier 2 installs; none moves."""
        assert DEFAULT_IMAGES == {
            "open-webui": "ghcr.io/open-webui/open-webui:v0.12.4",
            "valkey": "docker.io/valkey/valkey:8.0.13-alpine",
            "postgres": "docker.io/pgvector/pgvector:0.8.6-pg17",
            "haproxy": "docker.io/library/haproxy:2.6.32-alpine",
        }
        assert DEFAULT_IMAGES["open-webui"].endswith(f":v{OPEN_WEBUI_VERSION}")
        assert [moving_tag(reference) for reference in DEFAULT_IMAGES.values()] == [None] * 4

    def test_rendered_stacks_when_default_pull_only_the_pinned_images(self) -> None:
        """The images a replicated stack pulls are exactly the defaults."""
        deployment = render({"openWebui": {"replicas": 2}})
        pulled = {resource.inputs["name"] for resource in deployment.of_type("docker:index/remoteImage:RemoteImage")}
        assert pulled == set(DEFAULT_IMAGES.values())

    @pytest.mark.parametrize("stack_file", ["Pulumi.dev.yaml", "Pulumi.swarm.yaml"])
    def test_example_stacks_when_they_name_images_name_the_defaults(self, stack_file: str) -> None:
        """The shipped stacks name the pinned defaults (scripts/bump-image moves them together)."""
        config = read_stack_file(ROOT / stack_file)
        named = {
            config[block]["image"]
            for block in ("valkey", "openWebui", "database", "loadBalancer")
            if block in config and "image" in config[block]
        }
        assert named
        assert named <= set(DEFAULT_IMAGES.values())


class TestMovingTags:
    @pytest.mark.parametrize(
        ("reference", "tag"),
        [
            ("ghcr.io/open-webui/open-webui:main", "main"),
            ("ghcr.io/open-webui/open-webui:latest", "latest"),
            ("ghcr.io/open-webui/open-webui:cuda", "cuda"),
            ("docker.io/valkey/valkey:8.0-alpine", "8.0-alpine"),
            ("docker.io/library/haproxy:2.6", "2.6"),
            ("ghcr.io/open-webui/open-webui:v0.12", "v0.12"),
            ("docker.io/pgvector/pgvector:pg17", "pg17"),
            ("localhost:5000/valkey", "latest"),
            ("ghcr.io/open-webui/open-webui:v0.12.4", None),
            ("docker.io/valkey/valkey:8.0.13-alpine", None),
            ("localhost:5000/valkey:8.0.13", None),
            ("ghcr.io/open-webui/open-webui:git-1a2b3c4", None),
            ("owr-standin/open-webui:5b35cec9e69d", None),
            ("docker.io/library/haproxy:beef", "beef"),
            ("example.com/app:20240101", "20240101"),
            ("example.com/app:deadbee", None),
            ("ghcr.io/open-webui/open-webui:main@sha256:" + "a" * 64, None),
            ("ghcr.io/open-webui/open-webui@sha256:" + "b" * 64, None),
        ],
    )
    def test_moving_tag_when_read_names_the_tag_that_moves(self, reference: str, tag: str | None) -> None:
        """Branches, `latest` and versions without a patch number move; a release or a digest does not (a registry
        port is not a tag)."""
        assert moving_tag(reference) == tag

    def test_rolling_when_open_webui_moves_is_refused_naming_why_and_the_opt_in(self) -> None:
        """`rolling` with `:main` could roll a schema-changing build replica by replica onto one database."""
        config = {"openWebui": {"image": "ghcr.io/open-webui/open-webui:main", "upgrade": "rolling", "replicas": 2}}
        assert refused(config) == [
            "openWebui.image: 'ghcr.io/open-webui/open-webui:main' has the moving tag 'main' while openWebui.upgrade "
            "is 'rolling': a new build behind the tag would roll out replica by replica, old and new versions on one "
            "database, which Open WebUI's scaling guide forbids; pin a release tag or a digest (@sha256:...), use "
            "upgrade: recreate, or set allowMovingImageTags: true to accept it knowingly"
        ]

    def test_swarm_pinning_when_images_move_is_refused_for_each_image(self) -> None:
        """On Swarm with pinImages every preview looks the digest up again: each moving image is named."""
        config = {
            "engine": "swarm",
            "valkey": {"image": "docker.io/valkey/valkey:8.0-alpine"},
            "openWebui": {"image": "ghcr.io/open-webui/open-webui:latest"},
        }
        why = (
            "while swarm.pinImages is on: every preview looks the tag's digest up again, so any `pulumi up` can "
            "update the service to a build no test ran; pin a release tag or a digest (@sha256:...), or set "
            "allowMovingImageTags: true to accept it knowingly"
        )
        assert refused(config) == [
            f"valkey.image: 'docker.io/valkey/valkey:8.0-alpine' has the moving tag '8.0-alpine' {why}",
            f"openWebui.image: 'ghcr.io/open-webui/open-webui:latest' has the moving tag 'latest' {why}",
        ]

    @pytest.mark.parametrize(
        "config",
        [
            {"openWebui": {"image": "ghcr.io/open-webui/open-webui:main"}},  # recreate: one version at a time
            {
                "openWebui": {"image": "ghcr.io/open-webui/open-webui:main", "upgrade": "rolling"},
                "allowMovingImageTags": True,
            },
            {"openWebui": {"image": "ghcr.io/open-webui/open-webui:main@sha256:" + "c" * 64, "upgrade": "rolling"}},
            {**SWARM, "openWebui": {"image": "ghcr.io/open-webui/open-webui:main"}},  # pinImages off
            {
                "engine": "swarm",
                "valkey": {"image": "docker.io/valkey/valkey:8.0-alpine"},
                "allowMovingImageTags": True,
            },
        ],
    )
    def test_moving_tags_when_nothing_moves_by_itself_or_opted_in_are_accepted(self, config: dict[str, Any]) -> None:
        """Recreate, a digest, Swarm without pinning, or the opt-in: the stack renders."""
        assert render(config).resources

    def test_rolling_when_one_container_on_one_host_moves_nothing_side_by_side(self) -> None:
        """One replica on one host is replaced delete-then-create whatever `upgrade` says: nothing to refuse. On
        Swarm a start-first update runs the old and the new task together even with one replica."""
        image = "ghcr.io/open-webui/open-webui:main"
        assert render({"openWebui": {"image": image, "upgrade": "rolling"}}).resources
        assert refused({**SWARM, "openWebui": {"image": image, "upgrade": "rolling"}}) == [
            f"openWebui.image: '{image}' has the moving tag 'main' while openWebui.upgrade is 'rolling': a new build "
            "behind the tag would roll out replica by replica, old and new versions on one database, which Open "
            "WebUI's scaling guide forbids; pin a release tag or a digest (@sha256:...), use upgrade: recreate, or "
            "set allowMovingImageTags: true to accept it knowingly"
        ]

    @pytest.mark.parametrize("engine", ["docker", "swarm"])
    def test_open_webui_component_when_used_alone_refuses_the_same_and_takes_the_opt_in(self, engine: str) -> None:
        """The rule holds for a program that builds an Open WebUI component itself, on either engine."""
        settings = OpenWebUISettings(image="ghcr.io/open-webui/open-webui:main", upgrade="rolling", replicas=3)
        component = OpenWebUI if engine == "docker" else SwarmOpenWebUI
        network = {"network_name": "net"} if engine == "docker" else {"network_id": "net-id", "pin_image": False}

        def build(allow: bool) -> None:
            component(
                "chat",
                settings,
                redis_url="redis://redis:6379/1",
                database_url="postgresql://u:p@db:5432/o",
                allow_moving_image_tags=allow,
                **network,
            )

        with pytest.raises(
            ValueError, match=re.escape("openWebui.image: 'ghcr.io/open-webui/open-webui:main' has the moving tag")
        ):
            run(lambda: build(False))
        assert run(lambda: build(True)).resources

    def test_bad_opt_in_when_given_is_refused_naming_the_key(self) -> None:
        assert refused({"allowMovingImageTags": "sometimes"}) == [
            "allowMovingImageTags: Input should be a valid boolean, unable to interpret input (got 'sometimes')"
        ]


class TestBoundedLogs:
    @pytest.mark.parametrize(
        ("label", "config", "count"),
        [
            ("dev", {}, 2),
            ("replicas", {"openWebui": {"replicas": 3}}, 6),
            ("external database", {"openWebui": {"replicas": 2}, "database": {"url": "postgresql://u:p@db:5432/o"}}, 4),
            ("swarm", {**SWARM, "openWebui": {"replicas": 3}}, 5),
        ],
    )
    def test_every_container_and_service_when_default_logs_json_file_within_30_mb(
        self, label: str, config: dict[str, Any], count: int
    ) -> None:
        """Valkey, every Open WebUI replica, PostgreSQL and HAProxy: json-file, 10 MB, 3 files."""
        secret_keys = ("database",) if "database" in config else ()
        found = log_configs(render(config, secret_keys=secret_keys))
        assert len(found) == count, label
        assert [name for name, value in found.items() if value != ("json-file", BOUNDED)] == []

    def test_logs_options_when_set_join_the_bounds_on_containers_and_services(self) -> None:
        """The daemon's own json-file options (daemon.json's log-opts), repeated so the read-back matches."""
        options = {"compress": "true", "labels": "com.example.team"}
        expected = ("json-file", {**options, **BOUNDED})
        for config in ({"logs": {"options": options}}, {**SWARM, "logs": {"options": options}}):
            found = log_configs(render(config))
            assert [name for name, value in found.items() if value != expected] == []

    def test_logs_when_set_apply_to_every_container(self) -> None:
        found = log_configs(render({"openWebui": {"replicas": 2}, "logs": {"maxSize": "50m", "maxFiles": 5}}))
        assert set(found) == {"redis-valkey", "open-webui-1", "open-webui-2", "open-webui-lb", "open-webui-postgres"}
        assert all(value == ("json-file", {"max-file": "5", "max-size": "50m"}) for value in found.values())

    @pytest.mark.parametrize(
        ("logs", "problem"),
        [
            (
                {"maxSize": "10MB"},
                "logs.maxSize: must be a size with its unit k, m or g, such as '10m' or '500k' (got '10MB')",
            ),
            (
                {"maxSize": "0m"},
                "logs.maxSize: must be a size with its unit k, m or g, such as '10m' or '500k' (got '0m')",
            ),
            ({"maxFiles": 0}, "logs.maxFiles: Input should be greater than or equal to 1 (got 0)"),
            ({"maxFile": 2}, "logs.maxFile: unknown key; did you mean 'maxFiles'?"),
            (
                {"options": {"max-size": "1m"}},
                "logs.options.max-size: Input should be 'compress', 'labels', 'labels-regex', 'env', 'env-regex' or "
                "'tag' (got 'max-size')",
            ),
        ],
    )
    def test_bad_logs_when_given_are_refused_naming_key_and_value(self, logs: dict[str, Any], problem: str) -> None:
        assert refused({"logs": logs}) == [problem]


def test_bump_image_when_run_moves_every_mention_of_the_old_reference(tmp_path: Path) -> None:
    """scripts/bump-image valkey 8.0.14 rewrites the constant and every tracked file naming 8.0.13-alpine."""
    checkout = tmp_path / "checkout"
    for relative in ("tools/bump_image.py", "components/settings/images.py", "Pulumi.dev.yaml", "Pulumi.swarm.yaml"):
        (checkout / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, checkout / relative)
    subprocess.run(["git", "init", "-q"], cwd=checkout, check=True)
    subprocess.run(["git", "add", "."], cwd=checkout, check=True)
    result = subprocess.run(
        [sys.executable, "tools/bump_image.py", "valkey", "8.0.14"], cwd=checkout, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert (
        'VALKEY_IMAGE = "docker.io/valkey/valkey:8.0.14-alpine"'
        in (checkout / "components/settings/images.py").read_text()
    )
    for stack in ("Pulumi.dev.yaml", "Pulumi.swarm.yaml"):
        text = (checkout / stack).read_text()
        assert "docker.io/valkey/valkey:8.0.14-alpine" in text
        assert "8.0.13" not in text
    usage = subprocess.run(
        [sys.executable, "tools/bump_image.py", "redis", "7"], cwd=checkout, capture_output=True, text=True
    )
    assert usage.returncode == 2
    assert "usage: scripts/bump-image {open-webui,valkey,postgres,haproxy} X.Y.Z" in usage.stderr
