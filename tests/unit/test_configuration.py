"""Stack configuration: defaults, every setting, and bad input refused before any resource is declared."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components import (
    MANAGED_ENV,
    ConfigurationError,
    DatabaseSettings,
    OpenWebUISettings,
    StackSettings,
    ValkeySettings,
    settings_from_mapping,
)
from components.testing import StackMocks, read_stack_file, render

HEADER = "Invalid configuration for project 'open-webui-redis' ({count}); nothing was deployed:"


def problems_of(config: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> list[str]:
    """Run the program with this configuration and return the problems it reported."""
    mocks = StackMocks()
    with pytest.raises(ConfigurationError) as raised:
        render(config, mocks=mocks, secret_keys=secret_keys)
    assert mocks.declared == [], "resources were declared before the configuration was refused"
    return raised.value.problems


class TestDefaults:
    """With no configuration at all, the settings are the tutorial's, corrected."""

    def test_settings_when_empty_match_the_tutorial(self) -> None:
        """The network, names and Valkey flags default to the tutorial's values; the images are pinned releases
        (the tutorial's Valkey 8.0.1 lacks the security fixes since, and Open WebUI's `main` moves)."""
        settings = settings_from_mapping({})
        assert settings.network.name == "openwebui-network"
        assert settings.network.external is False
        assert settings.valkey.image == "docker.io/valkey/valkey:8.0.13-alpine"
        assert settings.valkey.container_name == "redis-valkey"
        assert settings.valkey.alias == "redis"
        assert settings.valkey.database == 1
        assert settings.valkey.save == "30 1"
        assert settings.valkey.restart == "unless-stopped"
        assert settings.open_webui.image == "ghcr.io/open-webui/open-webui:v0.12.4"
        assert settings.open_webui.volume_name == "open-webui"

    def test_settings_when_empty_add_what_current_docs_require(self) -> None:
        """Auth on, long-lived client flags on, loopback-only publishing, volumes retained."""
        settings = settings_from_mapping({})
        assert settings.valkey.auth is True
        assert settings.valkey.password is None
        assert (settings.valkey.max_clients, settings.valkey.timeout) == (10000, 1800)
        assert settings.valkey.max_memory_policy == "noeviction"
        assert (settings.open_webui.bind_address, settings.open_webui.host_port) == ("127.0.0.1", 3000)
        assert settings.valkey.retain_volume
        assert settings.open_webui.retain_volume

    def test_dev_stack_file_when_loaded_is_valid(self) -> None:
        """Pulumi.dev.yaml is a working stack: it validates and deploys both services."""
        deployment = render(read_stack_file("Pulumi.dev.yaml"))
        assert set(deployment.containers()) == {"redis-valkey", "open-webui"}

    def test_settings_when_built_in_python_take_snake_case_names(self) -> None:
        """Python callers use snake_case field names; stack files use camelCase."""
        settings = StackSettings.model_validate({"open_webui": {"host_port": 8081}})
        assert settings.open_webui.host_port == 8081
        assert settings_from_mapping({"openWebui": {"hostPort": 8081}}) == settings

    def test_settings_when_env_values_are_yaml_scalars_become_strings(self) -> None:
        """`true` and `3` in YAML become the strings an environment variable holds."""
        settings = settings_from_mapping({"openWebui": {"env": {"ENABLE_SIGNUP": False, "THREAD_POOL_SIZE": 2}}})
        assert settings.open_webui.env == {"ENABLE_SIGNUP": "false", "THREAD_POOL_SIZE": "2"}


class TestBadInput:
    """Each bad value names its key path, the value and what is allowed, and nothing is declared."""

    @pytest.mark.parametrize(
        ("config", "problem"),
        [
            (
                {"openWebui": {"hostPort": 70000}},
                "openWebui.hostPort: Input should be less than or equal to 65535 (got 70000)",
            ),
            (
                {"openWebui": {"hostPort": 0}},
                "openWebui.hostPort: Input should be greater than or equal to 1 (got 0)",
            ),
            (
                {"valkey": {"database": 16}},
                "valkey.database: Input should be less than or equal to 15 (got 16)",
            ),
            (
                {"valkey": {"port": "six"}},
                "valkey.port: Input should be a valid integer, unable to parse string as an integer (got 'six')",
            ),
            (
                {"valkey": {"image": "valkey/valkey"}},
                "valkey.image: must be an image reference with a tag or digest, such as "
                "'docker.io/valkey/valkey:8.0.13-alpine' or 'ghcr.io/open-webui/open-webui@sha256:<64 hex>' "
                "(got 'valkey/valkey')",
            ),
            (
                {"openWebui": {"image": "ghcr.io/Open WebUI:main"}},
                "openWebui.image: must be an image reference with a tag or digest, such as "
                "'docker.io/valkey/valkey:8.0.13-alpine' or 'ghcr.io/open-webui/open-webui@sha256:<64 hex>' "
                "(got 'ghcr.io/Open WebUI:main')",
            ),
            (
                {"network": {"name": ""}},
                "network.name: must be a Docker object name: a letter or digit first, then letters, digits, "
                "'_', '.' or '-' (got '')",
            ),
            (
                {"network": {"external": "maybe"}},
                "network.external: Input should be a valid boolean, unable to interpret input (got 'maybe')",
            ),
            (
                {"valkey": {"restart": "sometimes"}},
                "valkey.restart: Input should be 'no', 'on-failure', 'always' or 'unless-stopped' (got 'sometimes')",
            ),
            (
                {"openWebui": {"bindAddress": "localhost"}},
                "openWebui.bindAddress: must be an IPv4 or IPv6 address, such as '127.0.0.1' or '0.0.0.0' "
                "(got 'localhost')",
            ),
            (
                {"valkey": {"save": "30"}},
                "valkey.save: must be pairs of '<seconds> <changes>' separated by spaces, such as '30 1' or "
                "'3600 1 300 100', or '' to turn snapshots off (got '30')",
            ),
            (
                {"valkey": {"maxMemoryPolicy": "allkeys-lru"}},
                "valkey.maxMemoryPolicy: Input should be 'noeviction', 'volatile-lru', 'volatile-lfu', "
                "'volatile-random' or 'volatile-ttl' (got 'allkeys-lru')",
            ),
            (
                {"valkey": "yes"},
                "valkey: must be an object of settings (a YAML mapping) (got 'yes')",
            ),
            (
                {"valkey": {"imagee": "docker.io/valkey/valkey:8"}},
                "valkey.imagee: unknown key; did you mean 'image'?",
            ),
            (
                {"openWebui": {"hostport": 3000}},
                "openWebui.hostport: unknown key; did you mean 'hostPort'?",
            ),
            (
                {"valky": {}},
                "open-webui-redis:valky: unknown key; did you mean 'valkey'?",
            ),
            (
                {"openWebui": {"env": {"REDIS_URL": "redis://elsewhere:6379/0"}}},
                "openWebui.env.REDIS_URL: is set by the stack and cannot be overridden; any variable but the "
                "managed ones may be set (docs/configuration.md: Default settings, 'Managed env'); an external "
                "server is redis.url (a secret) (got 'REDIS_URL')",
            ),
            (
                {"openWebui": {"env": {"1ST": "x"}}},
                "openWebui.env.1ST: must be an environment variable name: letters, digits and '_', "
                "not starting with a digit (got '1ST')",
            ),
            (
                {"openWebui": {"upgrade": "blue-green"}},
                "openWebui.upgrade: Input should be 'recreate' or 'rolling' (got 'blue-green')",
            ),
            (
                {"openWebui": {"env": {"REDIS_HEALTH_CHECK_INTERVAL": 1800}}},
                "openWebui.env.REDIS_HEALTH_CHECK_INTERVAL must be from 1 to 1799 seconds with valkey.timeout "
                "1800: below the timeout (Valkey closes a connection idle for `timeout` seconds, and Open WebUI "
                "checks one before use only once it has been idle this long)",
            ),
            (
                {"valkey": {"timeout": 30}, "openWebui": {"env": {"REDIS_HEALTH_CHECK_INTERVAL": "45"}}},
                "openWebui.env.REDIS_HEALTH_CHECK_INTERVAL must be from 1 to 29 seconds with valkey.timeout "
                "30: below the timeout (Valkey closes a connection idle for `timeout` seconds, and Open WebUI "
                "checks one before use only once it has been idle this long)",
            ),
            (
                {"openWebui": {"env": {"REDIS_HEALTH_CHECK_INTERVAL": "0"}}},
                "openWebui.env.REDIS_HEALTH_CHECK_INTERVAL must be from 1 to 1799 seconds with valkey.timeout "
                "1800: below the timeout (Valkey closes a connection idle for `timeout` seconds, and Open WebUI "
                "checks one before use only once it has been idle this long)",
            ),
            (
                {"openWebui": {"env": {"REDIS_HEALTH_CHECK_INTERVAL": "60s"}}},
                "openWebui.env.REDIS_HEALTH_CHECK_INTERVAL: must be a whole number of seconds written in digits, "
                "such as '60' (Open WebUI turns what it cannot read as one into no check at all)",
            ),
            (
                {"valkey": {"timeout": 1}},
                "valkey.timeout is 1: Open WebUI's REDIS_HEALTH_CHECK_INTERVAL must be a whole number of seconds "
                "below it, so use 0 (never close idle clients) or 2 or more",
            ),
            (
                {"openWebui": {"env": {"CORS_ALLOW_ORIGIN": "https://chat.example.com/"}}},
                "openWebui.env.CORS_ALLOW_ORIGIN: entry 1 of 1 never matches the Origin a browser sends: write "
                "scheme://host[:port] in lower case, with no path, '/', default port, credentials or spaces",
            ),
            (
                {"openWebui": {"env": {"CORS_ALLOW_ORIGIN": "https://a.example.com;"}}},
                "openWebui.env.CORS_ALLOW_ORIGIN: entry 2 of 2 is no origin: write http(s)://host[:port] (another "
                "scheme only if CORS_ALLOW_CUSTOM_SCHEME lists it), separated by ';' with no empty entry",
            ),
            (
                {"openWebui": {"publicUrl": "https://chat.example.com;http://x"}},
                "openWebui.publicUrl: must be an http:// or https:// URL with a host as a browser sends it (letters, "
                "digits, '-' and '.', an IDN host in its xn-- form, or an IP address) and no user or password, such as "
                "'https://chat.example.com' (got 'https://chat.example.com;http://x')",
            ),
            (
                {"openWebui": {"publicUrl": "chat.example.com"}},
                "openWebui.publicUrl: must be an http:// or https:// URL with a host as a browser sends it (letters, "
                "digits, '-' and '.', an IDN host in its xn-- form, or an IP address) and no user or password, such as "
                "'https://chat.example.com' (got 'chat.example.com')",
            ),
            (
                {"openWebui": {"publicUrl": "https://admin:hunter2@chat.example.com"}},
                "openWebui.publicUrl: must be an http:// or https:// URL with a host as a browser sends it (letters, "
                "digits, '-' and '.', an IDN host in its xn-- form, or an IP address) and no user or password, such as "
                "'https://chat.example.com' (got [secret])",
            ),
            (
                {"openWebui": {"containerName": "redis-valkey"}},
                "valkey.containerName and openWebui.containerName are both 'redis-valkey'; container names must differ",
            ),
            (
                {"valkey": {"volumeName": "shared"}, "openWebui": {"volumeName": "shared"}},
                "valkey.volumeName and openWebui.volumeName are both 'shared'; each service needs its own volume",
            ),
        ],
    )
    def test_program_when_value_is_bad_names_key_value_and_allowed(self, config: dict[str, Any], problem: str) -> None:
        """The program stops with one line naming the key, the value and what is allowed."""
        assert problems_of(config) == [problem]

    @pytest.mark.parametrize("name", [*MANAGED_ENV, "redis_url", "Database_Url"])
    def test_program_when_env_sets_a_managed_variable_refuses_it(self, name: str) -> None:
        """Every variable the stack sets, in any letter case, is refused in openWebui.env."""
        (problem,) = problems_of({"openWebui": {"env": {name: "x"}}})
        assert problem.startswith(f"openWebui.env.{name}: is set by the stack and cannot be overridden")

    @pytest.mark.parametrize(
        ("name", "hint"),
        [
            ("OAUTH_SESSION_TOKEN_ENCRYPTION_KEY", "set it as the secret openWebui.oauthSessionTokenEncryptionKey"),
            ("UVICORN_WORKERS", "scale with openWebui.replicas (one process per container)"),
        ],
    )
    def test_program_when_env_sets_a_shared_value_says_where_it_goes(self, name: str, hint: str) -> None:
        """Values that were accepted in openWebui.env before the replica lifecycle say what replaces them."""
        (problem,) = problems_of({"openWebui": {"env": {name: "2"}}})
        assert problem == (
            f"openWebui.env.{name}: is set by the stack and cannot be overridden; any variable but the managed ones "
            f"may be set (docs/configuration.md: Default settings, 'Managed env'); {hint} (got '{name}')"
        )

    def test_program_when_several_values_are_bad_reports_all_at_once(self) -> None:
        """Every problem is reported in one run, under one header, not the first alone."""
        mocks = StackMocks()
        with pytest.raises(ConfigurationError) as raised:
            render({"valkey": {"database": -1, "port": 0}, "openWebui": {"hostPort": "x"}}, mocks=mocks)
        assert str(raised.value) == "\n".join(
            [
                HEADER.format(count="3 problems"),
                "  - valkey.port: Input should be greater than or equal to 1 (got 0)",
                "  - valkey.database: Input should be greater than or equal to 0 (got -1)",
                "  - openWebui.hostPort: Input should be a valid integer, unable to parse string as an integer "
                "(got 'x')",
            ]
        )
        assert mocks.declared == []

    def test_program_when_password_is_plain_text_refuses_it(self) -> None:
        """A password set without --secret would sit unencrypted in the stack file: refused, not printed."""
        problems = problems_of({"valkey": {"password": "hunter2"}})
        assert problems == [
            "valkey.password: is stored in plain text; set it with "
            "`pulumi config set --secret --path valkey.password <value>`"
        ]

    def test_program_when_oauth_key_is_plain_text_refuses_it(self) -> None:
        """The OAuth session key is a secret like the others: refused in plain text, never printed."""
        problems = problems_of({"openWebui": {"oauthSessionTokenEncryptionKey": "hunter2"}})
        assert problems == [
            "openWebui.oauthSessionTokenEncryptionKey: is stored in plain text; set it with "
            "`pulumi config set --secret --path openWebui.oauthSessionTokenEncryptionKey <value>`"
        ]

    def test_program_when_secret_value_is_bad_never_prints_it(self) -> None:
        """A bad secret value is reported as [secret], never echoed."""
        problems = problems_of({"openWebui": {"secretKey": 12345}}, secret_keys=("openWebui",))
        assert problems == ["openWebui.secretKey: Input should be a valid string (got [secret])"]
        assert all("12345" not in problem for problem in problems)

    @pytest.mark.parametrize(
        ("config", "secret_keys", "problem"),
        [
            (
                {"database": "postgresql://admin:TopSecret99@db/owui"},
                ("database",),
                "database: must be an object of settings (a YAML mapping) (got [secret])",
            ),
            (
                {"openWebui": {"env": "OPENAI_API_KEY=sk-live-123"}},
                (),
                "openWebui.env: Input should be a valid dictionary (got [secret])",
            ),
            (
                {"valkey": {"port": "sixty", "password": "pw"}},
                ("valkey",),
                "valkey.port: Input should be a valid integer, unable to parse string as an integer (got [secret])",
            ),
        ],
    )
    def test_program_when_a_secret_block_is_bad_never_prints_it(
        self, config: dict[str, Any], secret_keys: tuple[str, ...], problem: str
    ) -> None:
        """Nothing under a key Pulumi holds as a secret, and no env value, is echoed."""
        assert problems_of(config, secret_keys=secret_keys) == [problem]

    def test_program_when_env_value_is_not_a_string_hides_the_value(self) -> None:
        """Extra env values may be API keys: a bad one is reported without its value."""
        problems = problems_of({"openWebui": {"env": {"OPENAI_API_KEY": {"sk": "abc"}}}})
        assert problems == ["openWebui.env.OPENAI_API_KEY: Input should be a valid string (got [secret])"]

    @pytest.mark.parametrize(
        ("config", "problem"),
        [
            (
                {"valkey": {"auth": False, "password": "pw"}},
                "valkey.password is set while valkey.auth is false; remove one of them",
            ),
            ({"valkey": {"password": ""}}, "valkey.password is empty; remove it to have one generated"),
            ({"openWebui": {"secretKey": ""}}, "openWebui.secretKey is empty; remove it to have one generated"),
            (
                {"openWebui": {"oauthSessionTokenEncryptionKey": ""}},
                "openWebui.oauthSessionTokenEncryptionKey is empty; remove it to have one generated",
            ),
            (
                {"openWebui": {"oauthSessionTokenEncryptionKey": "Tr0ub4dor" * 4 + "12345678"}},
                "openWebui.oauthSessionTokenEncryptionKey has 44 characters but is no Fernet key (Open WebUI would "
                "fail to start): give a Fernet key (url-safe base64 of 32 bytes) or a key of any other length",
            ),
        ],
    )
    def test_program_when_secrets_conflict_explains(self, config: dict[str, Any], problem: str) -> None:
        """Contradictory or empty secrets are refused with what to change."""
        assert problems_of(config, secret_keys=tuple(config)) == [problem]

    def test_configuration_error_when_raised_is_a_pulumi_run_error(self) -> None:
        """Pulumi prints a RunError's message without a Python traceback."""
        import pulumi

        with pytest.raises(pulumi.RunError):
            settings_from_mapping({"valkey": {"database": 99}})


class TestPythonApiErrors:
    """Settings built in Python (``ValkeySettings(...)``) raise pydantic errors: they hold no secret either."""

    SECRET = "Tr0ub4dor"  # short: pydantic shortens long values in its messages, which would hide a leak

    @pytest.mark.parametrize(
        ("build", "mentions"),
        [
            (lambda s: ValkeySettings(password=s, auth=False), "valkey.password is set while valkey.auth is false"),
            (lambda s: ValkeySettings(password=s, port=0), "port"),
            (lambda s: OpenWebUISettings(secret_key=s, replicas=0), "replicas"),
            (lambda s: OpenWebUISettings(env={"OPENAI_API_KEY": s, "WEBUI_SECRET_KEY": s}), "WEBUI_SECRET_KEY"),
            (lambda s: DatabaseSettings(url=f"postgresql://u:{s}@db/x", password=s), "database.url and"),
            (lambda s: DatabaseSettings(url=f"mysql://u:{s}@db/x"), "PostgreSQL URL"),
            (lambda s: StackSettings(valkey={"password": s, "timeout": -1}), "timeout"),
            (lambda s: OpenWebUISettings(oauth_session_token_encryption_key=s * 4 + "12345678"), "Fernet"),
            (lambda s: OpenWebUISettings(public_url=f"https://admin:{s}@chat.example.com"), "public_url"),
        ],
    )
    def test_model_when_built_with_a_bad_value_keeps_secrets_out_of_the_error(self, build, mentions) -> None:
        """The error names what is wrong and never echoes a password, key, URL or env value."""
        with pytest.raises(ValidationError) as raised:
            build(self.SECRET)
        text = str(raised.value)
        assert mentions in text
        assert self.SECRET not in text
        assert self.SECRET not in repr(raised.value.errors())
        assert self.SECRET not in raised.value.json()
