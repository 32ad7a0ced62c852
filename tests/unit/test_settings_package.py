"""The settings package (issue 21): ``components/settings/`` is a floor below the core, today's import paths
(``components.core.settings``, ``components.core.images``) give the same objects, the secret keys are read from
the annotations, and inputs are hidden from the errors of a model built in Python without pydantic's private
modules."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated

import pydantic
import pytest
from pydantic import AfterValidator, BaseModel, SecretStr, ValidationError

import components.settings as settings
from components.core import config
from components.core import images as core_images
from components.core import settings as core_settings
from components.settings import HIDDEN_INPUT, StackSettings, ValkeySettings, secret_paths
from components.settings import images as settings_images
from components.settings._model import _Settings
from tests.harness.paths import ROOT, TESTS

PACKAGE = ROOT / "components" / "settings"
NAMES_BEFORE = json.loads((TESTS / "data" / "core-settings-names-before-issue-21.json").read_text())[
    "components.core.settings"
]
"""The public names ``components.core.settings`` had before it became a re-export (besides what it imported from
typing, pydantic and the standard library)."""
SECRET_PATHS_BEFORE = (
    ("valkey", "password"),
    ("openWebui", "secretKey"),
    ("openWebui", "oauthSessionTokenEncryptionKey"),
    ("database", "password"),
    ("database", "url"),
    ("swarm", "s3", "secretAccessKey"),
    ("redis", "url"),
    ("redis", "websocketUrl"),
    ("redis", "tls", "caCert"),
    ("redis", "tls", "clientCert"),
    ("redis", "tls", "clientKey"),
)
"""``core/config.py``'s hand-written list before the paths were read from the annotations."""
SKIPPED_FOLDERS = {"venv", "node_modules", "build", "dist", "__pycache__"}
"""Not the project's modules: virtualenvs and build output."""
_IMPORT = re.compile(r"^\s*(?:from\s+(\.*[\w.]*)\s+import|import\s+([\w.]+))", re.MULTILINE)


@pytest.mark.parametrize("name", NAMES_BEFORE)
def test_core_settings_when_a_public_name_of_before_is_imported_gives_the_package_object(name: str) -> None:
    assert getattr(core_settings, name) is getattr(settings, name)


def test_core_images_when_imported_gives_the_package_objects() -> None:
    for name in core_images.__all__:
        assert getattr(core_images, name) is getattr(settings_images, name), name


def test_settings_package_when_imported_needs_nothing_else_of_the_library() -> None:
    """A floor below the core: its modules import only each other (one dot), the rules (``components/rules.py``, the
    floor below it), pydantic and the standard library."""
    for path in sorted(PACKAGE.glob("*.py")):
        for relative, absolute in _IMPORT.findall(path.read_text()):
            module = relative or absolute
            assert not module.startswith("..") or module in ("..", "..rules"), f"{path.name} imports {module}"
            assert not module.startswith(("components", "open_webui_redis", "pulumi")), f"{path.name} imports {module}"
        assert not re.search(r"^from \.\. import (?!rules$)", path.read_text(), re.MULTILINE), path.name


def test_settings_package_when_initialised_only_re_exports() -> None:
    source = (PACKAGE / "__init__.py").read_text()
    assert not re.search(r"^(?:def|class) ", source, re.MULTILINE)
    assert sorted(settings.__all__) == sorted(set(settings.__all__))
    for name in settings.__all__:
        assert getattr(settings, name) is not None


def test_project_when_scanned_imports_no_private_pydantic_module() -> None:
    """No module of the project imports ``pydantic._internal`` (``components/settings/_model.py`` says why none is
    needed)."""
    sources: list[Path] = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name not in SKIPPED_FOLDERS]
        sources += [Path(folder) / name for name in files if name.endswith(".py")]
    assert Path(__file__) in sources
    for path in sources:
        for relative, absolute in _IMPORT.findall(path.read_text(encoding="utf-8", errors="replace")):
            module = relative or absolute
            assert not module.startswith("pydantic._internal"), f"{path.relative_to(ROOT)} imports {module}"


def test_secret_paths_when_read_from_the_annotations_are_the_hand_list_of_before() -> None:
    assert sorted(secret_paths()) == sorted(SECRET_PATHS_BEFORE)
    assert len(secret_paths()) == len(SECRET_PATHS_BEFORE)
    assert secret_paths(StackSettings) == config.SECRET_PATHS
    assert frozenset(path[-1] for path in SECRET_PATHS_BEFORE) == config.SECRET_FIELDS


def test_secret_paths_when_a_new_secret_field_is_added_find_it() -> None:
    """A ``SecretStr`` alone, optional, or inside ``Annotated`` in a union, in a new block or at the top."""

    class Extra(_Settings):
        token: Annotated[SecretStr, AfterValidator(lambda value: value)] | None = None
        api_key: SecretStr = SecretStr("x")
        plain: str = "x"

    class Grown(StackSettings):
        extra: Extra | None = None
        signing_key: SecretStr | None = None

    found = secret_paths(Grown)
    assert set(found) - set(SECRET_PATHS_BEFORE) == {("extra", "token"), ("extra", "apiKey"), ("signingKey",)}
    assert ("extra", "api_key") in secret_paths(Grown, by_alias=False)


def test_secret_paths_when_named_in_python_spelling_cover_the_hosted_settings_secrets() -> None:
    """The hosted components leave out of their settings arguments the fields they listed by hand before, read from
    the annotations (and S3's access key id, whose secret half has no input)."""
    from components._hosted_schema import SETTINGS_SECRET_FIELDS

    listed_before = {"password", "secret_key", "url", "websocket_url", "oauth_session_token_encryption_key"}
    listed_before |= {"ca_cert", "client_cert", "client_key", "secret_access_key", "access_key_id"}
    assert listed_before == SETTINGS_SECRET_FIELDS


class TestHiddenInputs:
    """Built in Python a model's errors carry no input; validated as configuration they do (``got 99``)."""

    def test_pydantic_when_installed_is_the_pinned_version(self) -> None:
        """``_model.py`` relies on pydantic honouring ``__pydantic_base_init__``; it is checked on this version."""
        pinned = re.search(r"^pydantic==([^\s]+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
        assert pinned is not None
        assert pinned[1] == pydantic.VERSION, (
            f"pydantic {pydantic.VERSION} is installed, requirements.txt pins {pinned[1]}: run this module on the "
            "pinned version (components/settings/_model.py depends on how pydantic calls __init__)"
        )

    @pytest.mark.parametrize(
        "model", [StackSettings, *[getattr(settings, n) for n in settings.__all__ if n.endswith("Settings")]]
    )
    def test_models_when_built_keep_pydantic_own_validation_path(self, model: type[BaseModel]) -> None:
        assert issubclass(model, _Settings)
        assert model.__pydantic_custom_init__ is False, (
            "pydantic no longer honours __pydantic_base_init__ on _Settings.__init__ (components/settings/_model.py): "
            "model_validate and nested blocks would now run through the constructor and hide every input"
        )

    def test_constructor_when_refused_hides_the_input(self) -> None:
        with pytest.raises(ValidationError) as raised:
            ValkeySettings(port=0, password=SecretStr("hunter2"), auth=False)
        errors = raised.value.errors()
        assert errors
        assert all(item["input"] == HIDDEN_INPUT for item in errors)
        assert "hunter2" not in raised.value.json()
        assert "hunter2" not in str(raised.value)

    def test_constructor_when_a_nested_block_is_refused_hides_its_input(self) -> None:
        with pytest.raises(ValidationError) as raised:
            StackSettings(valkey={"port": 0})
        (item,) = raised.value.errors()
        assert item["loc"] == ("valkey", "port")
        assert item["input"] == HIDDEN_INPUT

    def test_model_validate_when_refused_keeps_the_input(self) -> None:
        with pytest.raises(ValidationError) as raised:
            StackSettings.model_validate({"valkey": {"port": 0}})
        (item,) = raised.value.errors()
        assert item["loc"] == ("valkey", "port")
        assert item["input"] == 0
