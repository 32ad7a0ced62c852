"""Open WebUI with Valkey-backed websockets on Docker: the stack program."""

import pulumi

from components import OpenWebUIStack, load_settings

settings = load_settings()  # raises before any resource is declared when the configuration is wrong
stack = OpenWebUIStack("open-webui", settings)
for output_name, value in stack.outputs().items():
    pulumi.export(output_name, value)
