"""The stack with the resource options a larger project passes: an explicit provider, protect, transforms.

Configuration (namespace ``options``): ``provider`` = ``providers`` | ``provider`` (how the docker provider is
passed), ``protect`` (bool), ``transform`` (bool).
"""

from typing import Any

import pulumi
import pulumi_docker as docker

from components import OpenWebUIStack, StackSettings

DOCKER_HOST = "ssh://deploy@docker-host"
LABEL = docker.ContainerLabelArgs(label="com.example.owner", value="platform-team")

options = pulumi.Config("options")


def label_containers(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Label every container: the kind of transform a platform team applies to a component it imports."""
    if args.type_ != "docker:index/container:Container":
        return None
    props: dict[str, Any] = dict(args.props)
    props["labels"] = [*(props.get("labels") or []), LABEL]
    return pulumi.ResourceTransformResult(props=props, opts=args.opts)


opts = pulumi.ResourceOptions(protect=options.get_bool("protect"))
match options.get("provider"):
    case "providers":
        opts.providers = [docker.Provider("remote-docker", host=DOCKER_HOST)]
    case "provider":
        opts.provider = docker.Provider("remote-docker", host=DOCKER_HOST)
if options.get_bool("transform"):
    opts.transforms = [label_containers]

stack = OpenWebUIStack("open-webui", StackSettings(), opts=opts)
for output_name, value in stack.outputs().items():
    pulumi.export(output_name, value)
