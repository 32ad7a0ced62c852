"""The dev stack's resources declared flat: no components, no validation. The benchmark's baseline."""

from urllib.parse import quote

import pulumi
import pulumi_docker as docker
import pulumi_random as random

network = docker.Network("network", name="openwebui-network", driver="bridge")
password = random.RandomPassword(
    "password", length=32, special=True, override_special="!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)
secret_key = random.RandomPassword("secret-key", length=48, special=False)
valkey_image = docker.RemoteImage("valkey-image", name="docker.io/valkey/valkey:8.0.13-alpine", keep_locally=True)
owui_image = docker.RemoteImage("owui-image", name="ghcr.io/open-webui/open-webui:v0.12.4", keep_locally=True)
valkey_data = docker.Volume("valkey-data", name="redis-data", opts=pulumi.ResourceOptions(retain_on_delete=True))
owui_data = docker.Volume("owui-data", name="open-webui", opts=pulumi.ResourceOptions(retain_on_delete=True))


def auth_conf(pw: str) -> str:
    return 'requirepass "' + pw.replace("\\", "\\\\").replace('"', '\\"') + '"\n'


valkey = docker.Container(
    "valkey",
    name="redis-valkey",
    image=valkey_image.image_id,
    command=[
        "valkey-server",
        "/usr/local/etc/valkey/auth.conf",
        "--port",
        "6379",
        "--save",
        "30",
        "1",
        "--appendonly",
        "no",
        "--maxclients",
        "10000",
        "--timeout",
        "1800",
        "--maxmemory-policy",
        "noeviction",
    ],
    envs=pulumi.Output.secret(password.result.apply(lambda pw: [f"REDISCLI_AUTH={pw}"])),
    uploads=[
        docker.ContainerUploadArgs(
            file="/usr/local/etc/valkey/auth.conf",
            content=pulumi.Output.secret(password.result.apply(auth_conf)),
            permissions="0644",
        )
    ],
    volumes=[docker.ContainerVolumeArgs(volume_name=valkey_data.name, container_path="/data")],
    networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network.name, aliases=["redis"])],
    healthcheck=docker.ContainerHealthcheckArgs(
        tests=["CMD-SHELL", '[ "$(valkey-cli -p 6379 ping)" = PONG ]'],
        start_period="5s",
        interval="1s",
        timeout="3s",
        retries=5,
    ),
    restart="unless-stopped",
    capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"], adds=["CAP_DAC_OVERRIDE", "CAP_SETGID", "CAP_SETUID"]),
    log_driver="json-file",
    log_opts={"max-size": "1m", "max-file": "1"},
    wait=True,
    wait_timeout=60,
    opts=pulumi.ResourceOptions(replace_on_changes=["healthcheck"], delete_before_replace=True),
)
url = pulumi.Output.secret(
    pulumi.Output.all(valkey.id, password.result).apply(
        lambda a: f"redis://default:{quote(a[1], safe='')}@redis:6379/1"
    )
)
owui = docker.Container(
    "open-webui",
    name="open-webui",
    image=owui_image.image_id,
    envs=pulumi.Output.secret(
        pulumi.Output.all(url, secret_key.result).apply(
            lambda a: sorted(
                [
                    "ENABLE_WEBSOCKET_SUPPORT=true",
                    "WEBSOCKET_MANAGER=redis",
                    f"WEBSOCKET_REDIS_URL={a[0]}",
                    f"REDIS_URL={a[0]}",
                    f"WEBUI_SECRET_KEY={a[1]}",
                ]
            )
        )
    ),
    ports=[docker.ContainerPortArgs(internal=8080, external=3000, ip="127.0.0.1")],
    volumes=[docker.ContainerVolumeArgs(volume_name=owui_data.name, container_path="/app/backend/data")],
    networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network.name)],
    healthcheck=docker.ContainerHealthcheckArgs(
        tests=["CMD-SHELL", "curl --silent --fail --max-time 3 http://localhost:${PORT:-8080}/health || exit 1"],
        start_period="5m0s",
        interval="5s",
        timeout="5s",
        retries=3,
    ),
    restart="unless-stopped",
    wait=True,
    wait_timeout=300,
    opts=pulumi.ResourceOptions(replace_on_changes=["healthcheck"], delete_before_replace=True),
)
pulumi.export("url", owui.id.apply(lambda _: "http://127.0.0.1:3000"))
pulumi.export("redisUrl", url)
