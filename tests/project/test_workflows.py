"""The GitHub workflows: valid against GitHub's schema, clean under zizmor, pinned, least privilege.

check-jsonschema and zizmor run offline from this virtualenv (requirements-dev.txt installs both).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness.paths import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
TEST_COMMAND = "scripts/test --all"
STACKS = sorted(
    name
    for name in (path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in ROOT.glob("Pulumi.*.yaml"))
    if not name.startswith("live-")  # tests/test_live.py's throwaway stacks, while it runs
)
"""Every stack the repository ships (Pulumi.<stack>.yaml): each is previewed and deployed."""
"""The README's test command with every tier; .ci/run runs the same."""
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "pulumi/actions": ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
}
"""The reviewed commits of each action and the tags they were read from (shared FIELD-NOTES, section 6)."""
PULUMI_ACTION = "pulumi/actions@" + PINS["pulumi/actions"][0]


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def load(name: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in document:  # YAML 1.1 reads the key `on` as true
        document["on"] = document.pop(True)
    return document


def steps(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_name, job in document["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, cwd=ROOT, check=False)


def test_there_are_the_three_workflows():
    """CI (tests and PR previews), Deploy and Release."""
    assert [path.name for path in workflow_files()] == ["ci.yml", "deploy.yml", "release.yml"]


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_workflow_matches_githubs_schema(path):
    """check-jsonschema with the vendored GitHub workflow schema finds nothing."""
    result = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing():
    """zizmor's offline audits (regular persona) report no finding in any workflow."""
    result = run(BIN / "zizmor", "--offline", "--no-progress", WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_every_action_is_pinned_to_its_reviewed_commit(path):
    """Every `uses:` names a full commit hash, the reviewed one, with its tag in a comment."""
    lines = [line.strip() for line in path.read_text().splitlines() if re.match(r"\s*(-\s+)?uses:", line)]
    assert lines
    for line in lines:
        match = re.fullmatch(r"(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+#\s+(v[\w.]+)", line)
        assert match, f"not pinned by a full commit hash with its tag: {line}"
        action, commit, tag = match.groups()
        assert PINS.get(action) == (commit, tag), f"{action}@{commit} # {tag} is not the reviewed pin"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_no_expression_is_interpolated_into_a_script(path):
    """`run:` scripts take values from env, never from `${{ }}` (no template injection)."""
    for job, step in steps(load(path.name)):
        assert "${{" not in step.get("run", ""), f"{path.name} job {job}: {step.get('name', step['run'])}"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_checkout_keeps_no_credentials(path):
    """Every checkout sets persist-credentials: false."""
    checkouts = [step for _, step in steps(load(path.name)) if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    assert all(step.get("with", {}).get("persist-credentials") is False for step in checkouts)


def test_only_the_preview_job_may_write_and_only_pull_requests():
    """Top level: contents: read; the PR job adds pull-requests: write, the release's publish job contents: write
    (the release); nothing else writes."""
    writes = []
    for path in workflow_files():
        document = load(path.name)
        assert document["permissions"] == {"contents": "read"}, path.name
        for job_name, job in document["jobs"].items():
            for scope, level in (job.get("permissions") or {}).items():
                if level == "write":
                    writes.append((path.name, job_name, scope))
    assert writes == [("ci.yml", "preview", "pull-requests"), ("release.yml", "publish", "contents")]
    assert load("ci.yml")["jobs"]["preview"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert load("release.yml")["jobs"]["publish"]["permissions"] == {"contents": "write"}


def test_ci_test_job_runs_the_readme_test_command_like_ci_run():
    """The CI test job runs exactly `scripts/test --all`, which is what .ci/run execs."""
    document = load("ci.yml")
    assert set(document["on"]) == {"pull_request", "push"}
    assert document["on"]["push"] == {"branches": ["main"]}
    commands = [step["run"].strip() for _, step in steps(document) if "scripts/test" in step.get("run", "")]
    assert commands == [TEST_COMMAND]
    assert [job for job, step in steps(document) if step.get("run", "").strip() == TEST_COMMAND] == ["test"]
    ci_run = [line.split() for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("exec ")]
    assert ci_run == [["exec", *shlex.split(TEST_COMMAND)]]


def pulumi_step(document: dict[str, Any], job: str) -> dict[str, Any]:
    (step,) = [step for name, step in steps(document) if name == job and step.get("uses") == PULUMI_ACTION]
    return step


def test_preview_job_comments_a_policy_checked_preview_per_stack():
    """Pull requests only, after the tests, one preview per stack of the matrix, policy pack on."""
    job = load("ci.yml")["jobs"]["preview"]
    assert job["needs"] == "test"
    assert job["if"].startswith("github.event_name == 'pull_request'")
    assert [entry["stack"] for entry in job["strategy"]["matrix"]["include"]] == STACKS
    assert "${{ matrix.stack }}" in job["concurrency"]["group"]
    assert job["environment"] == "preview-${{ matrix.stack }}"  # each stack's own Docker host secrets
    assert pulumi_step(load("ci.yml"), "preview")["with"] == {
        "command": "preview",
        "stack-name": "${{ matrix.stack }}",
        "work-dir": ".",
        "cloud-url": "${{ secrets.PULUMI_BACKEND_URL }}",
        "pulumi-version": "3.272.0",
        "comment-on-pr": True,
        "edit-pr-comment": True,
        "policyPacks": "policy",
        "policyPackConfigs": "${{ matrix.policy-config }}",
    }


@pytest.mark.parametrize("job", [("ci.yml", "preview"), ("deploy.yml", "deploy")], ids=lambda job: job[1])
def test_state_passphrase_and_docker_host_come_from_secrets(job):
    """The backend, the passphrase and the Docker host are repository secrets, handed over in env."""
    path, name = job
    assert load(path)["jobs"][name]["env"] == {
        "PULUMI_BACKEND_URL": "${{ secrets.PULUMI_BACKEND_URL }}",
        "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
        "DOCKER_HOST": "${{ secrets.DOCKER_HOST }}",
    }
    (ssh,) = [
        step for job_name, step in steps(load(path)) if job_name == name and "DOCKER_SSH_KEY" in step.get("env", {})
    ]
    assert ssh["env"] == {
        "DOCKER_SSH_KEY": "${{ secrets.DOCKER_SSH_KEY }}",
        "DOCKER_KNOWN_HOSTS": "${{ secrets.DOCKER_KNOWN_HOSTS }}",
    }
    # Each stack's Docker secrets live in its environment: the first step stops a job whose environment has none.
    first = load(path)["jobs"][name]["steps"][0]
    assert 'if [ -z "$DOCKER_HOST" ]; then' in first["run"]
    assert "exit 1" in first["run"]


def test_deploy_runs_up_through_the_stacks_protected_environment():
    """push to main (every stack) and workflow_dispatch (one of them); environment and concurrency per stack,
    never cancelled."""
    document = load("deploy.yml")
    assert document["on"]["push"] == {"branches": ["main"]}
    assert document["on"]["workflow_dispatch"]["inputs"]["stack"]["type"] == "choice"
    assert document["on"]["workflow_dispatch"]["inputs"]["stack"]["options"] == STACKS
    job = document["jobs"]["deploy"]
    assert job["strategy"]["matrix"]["stack"] == (
        "${{ fromJSON(github.event_name == 'workflow_dispatch' && format('[\"{0}\"]', inputs.stack) || "
        f"'{json.dumps(STACKS)}') }}}}"
    )
    stack = "${{ matrix.stack }}"
    assert job["environment"] == stack
    assert job["concurrency"] == {"group": "deploy-" + stack, "cancel-in-progress": False}
    assert job["if"] == "github.ref == 'refs/heads/main'"
    step = pulumi_step(document, "deploy")
    assert step["with"]["command"] == "up"
    assert step["with"]["stack-name"] == stack
    assert step["with"]["policyPacks"] == "policy"


def test_release_when_a_version_tag_is_pushed_tests_first_then_builds_and_publishes_the_tag():
    """Release: on `v*` tags only; the test job runs the README's test command; publish needs it, builds with
    scripts/build-release given the tag (which refuses a tag that is not the package's version) and attaches
    dist/ (the sdist, the wheel, the plugin) to a release of that tag."""
    document = load("release.yml")
    assert document["on"] == {"push": {"tags": ["v*"]}}
    jobs = document["jobs"]
    assert [step["run"].strip() for step in jobs["test"]["steps"] if "run" in step] == [TEST_COMMAND]
    assert jobs["publish"]["needs"] == ["test", "live"]
    assert jobs["publish"]["environment"] == "release"
    assert [step["run"].split("\n")[-2].strip() for step in jobs["live"]["steps"] if "run" in step] == [
        "venv/bin/python -m pytest -v -s tests/test_live.py"
    ]
    runs = [step["run"] for step in jobs["publish"]["steps"] if "run" in step]
    assert 'scripts/build-release "$TAG"' in runs[0]
    assert runs[1].strip() == 'gh release create "$TAG" dist/* --verify-tag --title "$TAG" --generate-notes'
    for step in jobs["publish"]["steps"]:
        if "run" in step:
            assert step["env"]["TAG"] == "${{ github.ref_name }}"


def test_build_release_when_given_another_tag_than_the_version_refuses_it():
    """A tag that does not name the package's version builds nothing."""
    result = run(ROOT / "scripts" / "build-release", "v0.0.0-not-the-version")
    assert result.returncode == 1
    assert "scripts/build-release: the tag is v0.0.0-not-the-version but components/__init__.py says" in result.stderr
    assert not (ROOT / "dist").exists() or not list((ROOT / "dist").glob("*0.0.0-not*"))
