"""Kept for today's imports (``components.core.settings``): the settings models and their rules live in the
package ``components/settings/`` (the base model, the annotated types, other software's rules in ``formats``, one
module per configuration block, the rules across blocks in ``stack``), a floor below the core. Every public name
this module had is the same object there (``tests/unit/test_settings_package.py`` checks the list recorded before
the move); its private helpers are the package's own now."""

from __future__ import annotations

from ..settings import *  # noqa: F403  (the package's public names, the same objects)
from ..settings import __all__ as __all__
