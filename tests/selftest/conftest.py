"""The harness's own tests: the engine and provider emulation (its scheduler, the engine's rules), the pulumi-tls
emulation, the process support. Default run."""
