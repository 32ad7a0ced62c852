"""Open WebUI with Valkey-backed websockets on Docker: the stack program."""

import pulumi

from components import build_stack, load_settings

settings = load_settings()  # raises before any resource is declared when the configuration is wrong
stack = build_stack("open-webui", settings)  # engine: docker (one host) or swarm
for output_name, value in stack.outputs().items():
    pulumi.export(output_name, value)
