"""The real-Docker applier's pure parts (no daemon): Go's duration forms, the Go client's capabilities, the diff."""

from __future__ import annotations

import pytest

from tests.harness.docker_applier import (
    create_request,
    diff_container,
    duration_string,
    normalize_capabilities,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("5m", "5m0s"),
        ("60s", "1m0s"),
        ("90s", "1m30s"),
        ("1h", "1h0m0s"),
        ("1500ms", "1.5s"),
        ("0s", "0s"),
        ("1s", "1s"),
    ],
)
def test_duration_when_parsed_and_printed_is_what_go_reads_back(text: str, printed: str) -> None:
    """time.ParseDuration then Duration.String(): what the provider stores for a healthcheck duration."""
    assert duration_string(parse_duration(text)) == printed


def test_capabilities_when_sent_are_upper_case_prefixed_and_sorted() -> None:
    """moby's client (v28) sends CAP_-prefixed, sorted names; ALL stays ALL."""
    assert normalize_capabilities(["setuid", "SETGID", "CAP_DAC_OVERRIDE"]) == [
        "CAP_DAC_OVERRIDE",
        "CAP_SETGID",
        "CAP_SETUID",
    ]
    assert normalize_capabilities(["all"]) == ["ALL"]


def test_create_request_when_built_sends_memory_in_bytes_and_binds_volumes() -> None:
    """memory and memory_swap are MiB in the inputs and bytes on the wire; volumes are binds, not mounts."""
    config, host = create_request(
        {
            "image": "sha256:x",
            "memory": 1024,
            "memorySwap": 1024,
            "volumes": [{"volumeName": "data", "containerPath": "/data"}],
            "healthcheck": {"tests": ["CMD", "true"], "interval": "5s", "startPeriod": "5m0s"},
        }
    )
    assert host["Memory"] == host["MemorySwap"] == 1024 * 1024 * 1024
    assert host["Binds"] == ["data:/data:rw"]
    assert config["Healthcheck"]["Interval"] == 5 * 10**9
    assert config["Healthcheck"]["StartInterval"] == 0


def test_diff_when_an_undeclared_computed_field_is_read_back_is_empty() -> None:
    """Optional+Computed fields keep what was read (the image's command, the log driver); defaults are compared."""
    state = {"command": ["valkey-server"], "logDriver": "json-file", "restart": "no", "privileged": False}
    assert diff_container({"restart": "no"}, state) == []
    changes = diff_container({"restart": "always"}, state)
    assert [(c.key, c.action) for c in changes] == [("restart", "update")]


def test_diff_when_a_healthcheck_differs_replaces_only_with_replace_on_changes() -> None:
    """A healthcheck difference is an update in the provider; replace_on_changes makes it a replacement."""
    state = {"healthcheck": {"tests": ["CMD", "true"], "interval": "5s", "timeout": "0s", "startPeriod": "5m0s",
                             "startInterval": "0s", "retries": 0}}  # fmt: skip
    declared = {"healthcheck": {"tests": ["CMD", "true"], "interval": "5s", "startPeriod": "5m"}}
    assert [c.action for c in diff_container(declared, state)] == ["update"]
    assert [c.action for c in diff_container(declared, state, ["healthcheck"])] == ["replace"]
