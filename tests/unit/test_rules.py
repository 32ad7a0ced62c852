"""components/rules.py: each rule, its exact message, and the one error type that refuses it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pulumi
import pytest

from components import ArgumentError, ConfigurationError, rules
from components.core.settings import OpenWebUISettings, ValkeySettings
from components.host.valkey import Valkey
from components.hosted import InvalidArgumentsError
from components.swarm.open_webui import REPLICA_SLOTS
from components.swarm.valkey import SwarmValkey
from components.testing import StackMocks, run

RULES = Path(rules.__file__)


def test_rules_when_imported_need_only_the_standard_library_and_pydantic() -> None:
    """The lowest floor: anything (the settings too) may call a rule without an import circle."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(RULES.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "rules.py imports nothing of the package"
            imported.add((node.module or "").split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"pydantic", "__future__"}, imported


class TestPasswordWithoutAuth:
    def test_when_auth_is_off_names_both_keys(self) -> None:
        assert rules.password_without_auth(True, False) == (
            "valkey.password is set while valkey.auth is false; remove one of them"
        )

    def test_when_named_by_the_caller_uses_its_names(self) -> None:
        assert rules.password_without_auth(True, False, key="valkeyPassword") == (
            "valkeyPassword is set while valkey.auth is false; remove one of them"
        )
        assert rules.password_without_auth(True, False, key="password", auth_key="auth") == (
            "password is set while auth is false; remove one of them"
        )

    @pytest.mark.parametrize(("given", "auth"), [(False, False), (True, True), (False, True)])
    def test_when_auth_is_on_or_no_password_finds_nothing(self, given: bool, auth: bool) -> None:
        assert rules.password_without_auth(given, auth) is None

    @pytest.mark.parametrize("component", [Valkey, SwarmValkey])
    def test_valkey_components_when_given_a_password_with_auth_off_refuse_it(self, component: type) -> None:
        mocks = StackMocks()
        with pytest.raises(ConfigurationError) as refused:
            run(lambda: component("v", ValkeySettings(auth=False), "net", password="pw"), mocks=mocks)
        assert refused.value.problems == ["password is set while settings.auth is false; remove one of them"]
        assert mocks.declared == []


class TestGivenTwice:
    def test_when_both_given_names_the_argument_and_the_setting(self) -> None:
        assert rules.given_twice(True, True, argument="secret_key", setting="settings.secret_key") == (
            "secret_key is given both as an argument and in settings.secret_key; give one"
        )

    @pytest.mark.parametrize(("argument", "setting"), [(True, False), (False, True), (False, False)])
    def test_when_given_once_finds_nothing(self, argument: bool, setting: bool) -> None:
        assert rules.given_twice(argument, setting, argument="password", setting="settings.password") is None

    @pytest.mark.parametrize("component", [Valkey, SwarmValkey])
    def test_valkey_components_when_the_password_is_given_twice_refuse_it(self, component: type) -> None:
        settings = ValkeySettings.model_validate({"password": "one"})
        with pytest.raises(ConfigurationError) as refused:
            run(lambda: component("v", settings, "net", password="two"))
        assert refused.value.problems == ["password is given both as an argument and in settings.password; give one"]


def test_password_with_external_server_when_valkey_is_not_managed_refuses_the_password() -> None:
    assert rules.password_with_external_server(True, False) == (
        "valkey_password is given with an external server (redis.url or redis_url); remove one"
    )
    assert rules.password_with_external_server(True, True) is None
    assert rules.password_with_external_server(False, False) is None


class TestReplicasAndDatabase:
    @pytest.mark.parametrize(
        ("replicas", "database", "expected"), [(1, False, False), (1, True, True), (2, False, True), (3, True, True)]
    )
    def test_load_balanced_when_on_postgresql_or_several_replicas(
        self, replicas: int, database: bool, expected: bool
    ) -> None:
        assert rules.load_balanced(replicas, database) is expected

    def test_replicas_need_database_when_several_without_one_names_the_key(self) -> None:
        assert rules.replicas_need_database(2, False) == (
            "2 replicas need a shared PostgreSQL database_url (SQLite cannot be shared)"
        )
        assert rules.replicas_need_database(3, False, database="databaseUrl") == (
            "3 replicas need a shared PostgreSQL databaseUrl (SQLite cannot be shared)"
        )

    @pytest.mark.parametrize(("replicas", "database"), [(1, False), (2, True), (1, True)])
    def test_replicas_need_database_when_one_or_shared_finds_nothing(self, replicas: int, database: bool) -> None:
        assert rules.replicas_need_database(replicas, database) is None

    def test_replica_slots_when_read_from_the_model_follow_its_bound(self) -> None:
        """REPLICA_SLOTS is the replicas field's upper bound, not a second literal."""
        bounds = [getattr(bound, "le", None) for bound in OpenWebUISettings.model_fields["replicas"].metadata]
        assert REPLICA_SLOTS in bounds
        with pytest.raises(ValueError, match=f"less than or equal to {REPLICA_SLOTS}"):
            OpenWebUISettings(replicas=REPLICA_SLOTS + 1)


def test_chroma_with_replicas_when_several_share_it_asks_for_pgvector() -> None:
    assert rules.chroma_with_replicas(2, "chroma") == (
        "database.vectorStore is 'chroma' with openWebui.replicas 2; several replicas cannot share Chroma's files: "
        "use 'pgvector'"
    )
    assert rules.chroma_with_replicas(3, "chroma", key="vectorStore", replicas_key="replicas") == (
        "vectorStore is 'chroma' with replicas 3; several replicas cannot share Chroma's files: use 'pgvector'"
    )
    assert rules.chroma_with_replicas(1, "chroma") is None
    assert rules.chroma_with_replicas(2, "pgvector") is None


class TestHealthCheckInterval:
    @pytest.mark.parametrize(
        ("interval", "timeout", "fits"),
        [
            (None, 0, True),
            ("600", 0, True),
            (None, 1800, True),
            ("1799", 1800, True),
            ("1800", 1800, False),
            ("0", 1800, False),
            (None, 1, False),
            (None, 2, True),
            ("soon", 30, True),
        ],
    )
    def test_fits_when_from_1_to_below_the_timeout(self, interval: str | None, timeout: int, fits: bool) -> None:
        assert rules.health_check_interval_fits(interval, timeout) is fits

    def test_problem_when_the_default_does_not_fit_says_which_timeouts_do(self) -> None:
        assert rules.health_check_interval_problem(None, 1) == (
            "valkey.timeout is 1: Open WebUI's REDIS_HEALTH_CHECK_INTERVAL must be a whole number of seconds below "
            "it, so use 0 (never close idle clients) or 2 or more"
        )

    def test_problem_when_the_interval_set_does_not_fit_gives_the_range(self) -> None:
        assert rules.health_check_interval_problem("30", 30) == (
            "openWebui.env.REDIS_HEALTH_CHECK_INTERVAL must be from 1 to 29 seconds with valkey.timeout 30: below "
            "the timeout (Valkey closes a connection idle for `timeout` seconds, and Open WebUI checks one before use "
            "only once it has been idle this long)"
        )

    def test_problem_when_named_by_the_caller_uses_its_keys(self) -> None:
        problem = rules.health_check_interval_problem(
            "45", 30, env="env.REDIS_HEALTH_CHECK_INTERVAL", timeout_key="redisIdleTimeout"
        )
        assert problem is not None
        assert problem.startswith(
            "env.REDIS_HEALTH_CHECK_INTERVAL must be from 1 to 29 seconds with redisIdleTimeout 30: below the timeout"
        )
        assert rules.health_check_interval_problem("29", 30) is None

    def test_default_when_the_timeout_is_short_is_half_of_it(self) -> None:
        assert rules.default_health_check_interval(0) == rules.HEALTH_CHECK_INTERVAL == 60
        assert rules.default_health_check_interval(30) == 15
        assert rules.default_health_check_interval(1800, silent_seconds=20) == 10


class TestOneErrorType:
    def test_configuration_error_when_raised_is_a_run_error_and_not_a_value_error(self) -> None:
        """Pulumi prints a RunError without a traceback; inside an Output its serializer would wrap a ValueError."""
        error = ConfigurationError(["a problem"])
        assert isinstance(error, pulumi.RunError)
        assert not isinstance(error, ValueError)
        assert str(error) == (
            "Invalid configuration for project 'open-webui-redis' (1 problem); nothing was deployed:\n  - a problem"
        )

    def test_argument_error_when_raised_is_a_configuration_error_and_a_value_error(self) -> None:
        """Arguments refused as a component is built: callers that caught ValueError before still catch it."""
        error = ArgumentError(["a problem"])
        assert isinstance(error, ConfigurationError)
        assert isinstance(error, ValueError)

    def test_invalid_arguments_error_when_raised_keeps_its_message_and_is_a_configuration_error(self) -> None:
        error = InvalidArgumentsError("Valkey", "v", ["one", "two"])
        assert isinstance(error, ConfigurationError)
        assert isinstance(error, ValueError)
        assert error.problems == ["one", "two"]
        assert str(error) == (
            "Invalid arguments for open-webui-redis:index:Valkey 'v' (2 problems); nothing was created:\n"
            "  - one\n  - two"
        )
