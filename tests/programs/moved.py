"""The stack before and after a larger project moves it into a component of its own (``aliases``).

Configuration ``options:layout``: ``root`` (the stack at the top of the program, as deployed first),
``platform`` (the stack inside ``Platform``, with the alias that keeps its URN) or ``platform-without-alias``.
"""

import pulumi

from components import OpenWebUIStack, StackSettings


class Platform(pulumi.ComponentResource):
    """A larger project's own component that now owns the Open WebUI stack."""

    def __init__(self, name: str, *, alias: bool, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("acme:index:Platform", name, None, opts)
        # Deployed first at the top of the program: without this alias every resource would be replaced.
        aliases = [pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)] if alias else None
        self.open_webui = OpenWebUIStack(
            "open-webui", StackSettings(), opts=pulumi.ResourceOptions(parent=self, aliases=aliases)
        )
        self.register_outputs({})


layout = pulumi.Config("options").get("layout")
if layout == "platform":
    Platform("platform", alias=True)
elif layout == "platform-without-alias":
    Platform("platform", alias=False)
else:
    OpenWebUIStack("open-webui", StackSettings())
