"""Names that left the core in issue 21 (Swarm-only code moved to ``components/swarm/``): importing one from its
old module still works, with a ``DeprecationWarning`` that names where it is now. Nothing in the library imports
them from here; the core imports no engine (the target is imported only when an old name is asked for)."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable

_SECRET_FILES = "swarm._secret_files"
MOVED: dict[str, dict[str, tuple[str, str]]] = {
    "core.valkey": {
        "SWARM_AUTH_CONFIG": (_SECRET_FILES, "VALKEY_AUTH_CONFIG"),
        "SWARM_PASSWORD_FILE": (_SECRET_FILES, "VALKEY_PASSWORD_FILE"),
        "swarm_server_command": (_SECRET_FILES, "valkey_server_command"),
        "swarm_healthcheck_test": (_SECRET_FILES, "valkey_healthcheck_test"),
    },
    "core.postgres": {
        "SWARM_PASSWORD_FILE": (_SECRET_FILES, "POSTGRES_PASSWORD_FILE"),
        "swarm_healthcheck_test": (_SECRET_FILES, "postgres_healthcheck_test"),
    },
    "core.open_webui": {
        **{
            name: (_SECRET_FILES, name)
            for name in (
                "SECRETS_DIR",
                "SECRET_ENV",
                "ENTRYPOINT_PATH",
                "ENTRYPOINT_SCRIPT",
                "STACK_ENV_PATH",
                "EXTRA_ENV_PATH",
                "START_COMMAND",
                "env_file",
                "split_secret_env",
            )
        },
        "s3_env": ("swarm.open_webui", "s3_env"),
    },
    "core.docker_forms": {"short_duration": ("swarm._swarm", "short_duration")},
}
"""Old module -> old name -> (module, name) where it is now; modules within the package (``components`` in this
repository, ``open_webui_redis`` installed)."""


def moved_names(module: str) -> Callable[[str], object]:
    """The module ``__getattr__`` of ``module``: a moved name from where it is now, with a warning; any other
    unknown name an ``AttributeError`` as usual."""
    package, _, within = module.partition(".")
    names = MOVED[within]

    def resolve(name: str) -> object:
        if name not in names:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        where, new = f"{package}.{names[name][0]}", names[name][1]
        warnings.warn(f"{module}.{name} moved to {where}.{new}; import it from there", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(where), new)

    return resolve
