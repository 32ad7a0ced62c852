"""The engine-neutral core: configuration loading, the deployment's plan, the one error type, and the pure
renderers (Redis URLs, the Valkey command and password file, the Open WebUI environment, the HAProxy
configuration) that both engines use. Nothing here declares a resource.

``settings`` and ``images`` re-export ``components/settings/`` for today's imports (``components.core.settings``)."""

from . import images as images
from . import settings as settings
