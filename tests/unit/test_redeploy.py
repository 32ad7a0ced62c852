"""A stack deployed again onto what an earlier one kept (`pulumi destroy` keeps the volumes): what `pulumi up`
says about what cannot carry over, under Pulumi's mocks. The real-Docker and real-Swarm tiers redeploy for real."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.core.postgres import PASSWORD_SET, START_SCRIPT
from components.testing import StackMocks, render

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
SWARM = {"engine": "swarm", "swarm": {"pinImages": False}, "openWebui": {"publicUrl": "http://chat.example.com:3000"}}


def preview_warnings(monkeypatch: pytest.MonkeyPatch, config: dict[str, Any], *, new_state: bool) -> list[str]:
    """The warnings of the preview `pulumi up` starts with; ``new_state``: the generated secrets do not exist yet
    (a new stack, or one whose state `pulumi destroy` removed)."""
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    mocks = StackMocks(creating=[RANDOM_PASSWORD] if new_state else [])
    configured = "secretKey" in config.get("openWebui", {})
    render(config, preview=True, mocks=mocks, secret_keys=("openWebui",) if configured else ())
    return warnings


@pytest.mark.parametrize("config", [{}, {"openWebui": {"replicas": 3}}, SWARM], ids=["dev", "replicas", "swarm"])
def test_preview_when_a_new_secret_key_is_generated_warns_that_users_sign_in_again(
    monkeypatch: pytest.MonkeyPatch, config: dict[str, Any]
) -> None:
    """New state generates a new WEBUI_SECRET_KEY: every user signed in on a kept volume signs in again."""
    (warning,) = preview_warnings(monkeypatch, config, new_state=True)
    assert warning.startswith("a new WEBUI_SECRET_KEY is generated for this stack: if its Open WebUI data volume")
    assert "every user is signed out and signs in again" in warning
    assert "pulumi config set --secret --path openWebui.secretKey <key>" in warning


def test_preview_when_the_secret_key_exists_or_is_set_warns_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stack that keeps its state, or whose key is configured, keeps its users signed in: no warning."""
    assert preview_warnings(monkeypatch, {}, new_state=False) == []
    configured = {"openWebui": {"secretKey": "k" * 48}}
    assert preview_warnings(monkeypatch, configured, new_state=True) == []


def test_postgres_start_script_when_read_sets_the_password_through_psql_variables() -> None:
    """The password reaches PostgreSQL as a psql variable (quoted by psql) read from the environment, never on a
    command line (which every user of the host can read) nor in the server's log of a failed statement; the
    healthcheck's marker is removed at every start and made only after the password is set."""
    assert """ALTER ROLE :\\"owr_user\\" WITH PASSWORD :'owr_password';""" in START_SCRIPT
    assert "'\\getenv owr_password OWR_PASSWORD'" in START_SCRIPT
    assert "SET log_min_error_statement = panic;" in START_SCRIPT
    (psql,) = [line for line in START_SCRIPT.splitlines() if line.strip().startswith("psql ")]
    assert "PASSWORD" not in psql
    assert "owr_password=" not in START_SCRIPT
    assert START_SCRIPT.index(f"rm -f {PASSWORD_SET}") < START_SCRIPT.index("docker-entrypoint.sh")
    assert START_SCRIPT.index("ALTER ROLE") < START_SCRIPT.index(f": >{PASSWORD_SET}")
