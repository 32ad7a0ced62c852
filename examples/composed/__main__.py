"""A larger program: its own Redis server (a plain Docker container with a generated password) on its own network,
and Open WebUI from the installed ``open_webui_redis`` package, given that server's URL and that network as
Outputs. Pulumi's graph orders the stack after the server and the network; the URL stays a secret.
"""

import pulumi
import pulumi_docker as docker
import pulumi_random as random
from open_webui_redis import OpenWebUIStack, load_settings

VALKEY = "docker.io/valkey/valkey:8.0.13-alpine"
"""The server's image, pinned as the library pins its own Valkey."""

# The names of this program's own network and server (`pulumi config set prefix <name>`: two stacks side by side).
prefix = pulumi.Config().get("prefix") or "apps"

password = random.RandomPassword("cache-password", length=32, special=False)
network = docker.Network("apps", name=prefix, driver="bridge")
image = docker.RemoteImage("cache-image", name=VALKEY, keep_locally=True)
cache = docker.Container(
    "cache",
    name=f"{prefix}-cache",
    image=image.image_id,
    # The password from the environment, so that it is not in the command line `docker inspect` shows plainly.
    command=["sh", "-c", 'exec valkey-server --requirepass "$CACHE_PASSWORD" --save 30 1'],
    envs=[password.result.apply(lambda value: f"CACHE_PASSWORD={value}")],  # secret: the password is one
    networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network.name)],
    restart="unless-stopped",
)
# A secret (it holds the password, itself a secret); the stack would keep it secret even if it were not.
redis_url: pulumi.Output[str] = pulumi.Output.all(cache.name, password.result).apply(
    lambda parts: f"redis://:{parts[1]}@{parts[0]}:6379/0"
)

# Open WebUI's other settings from this stack's configuration (`open-webui-redis:openWebui`, ...), validated as
# the library's own program validates them, knowing that the Redis URL and the network come as Inputs.
settings = load_settings(inputs=("redis_url", "network"))
chat = OpenWebUIStack("chat", settings, redis_url=redis_url, network=network.name)

pulumi.export("url", chat.url)
pulumi.export("redisUrl", chat.redis_url)
