"""The flat program plus four empty ComponentResources: the SDK's cost of the component tree alone."""

import runpy
from pathlib import Path

import pulumi


class Empty(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("benchmark:index:Empty", name, None, opts)
        self.register_outputs({})


root = Empty("stack")
for part in ("network", "valkey", "open-webui"):
    Empty(part, pulumi.ResourceOptions(parent=root))
runpy.run_path(str(Path(__file__).with_name("flat_program.py")))
