"""The engine-neutral core: settings models and their validation, and the pure renderers (Redis URLs, the
Valkey command and password file, the Open WebUI environment, the HAProxy configuration) that both engines use.

Nothing here declares a resource."""
