"""Two Open WebUI instances on one Docker host sharing one Valkey.

The components are used directly: one ``Network``, one ``Valkey``, and one ``OpenWebUI`` per team, each with
its own Valkey database (``Valkey.url_for_database``), generated secret key, host port, container and volume.
"""

import sys
from pathlib import Path

# Use the components of this checkout (two levels up): they are not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pulumi

from components import (
    Network,
    NetworkSettings,
    OpenWebUI,
    OpenWebUISettings,
    Valkey,
    ValkeySettings,
)

TEAMS = {
    # name: (Valkey database, host port)
    "team-a": (1, 3001),
    "team-b": (2, 3002),
}

network = Network("shared", NetworkSettings(name="openwebui-shared"))
valkey = Valkey(
    "valkey",
    ValkeySettings(container_name="shared-valkey", volume_name="shared-valkey-data"),
    network_name=network.network_name,
)

urls = {}
for team, (database, port) in TEAMS.items():
    instance = OpenWebUI(
        team,
        OpenWebUISettings(
            container_name=f"open-webui-{team}",
            volume_name=f"open-webui-{team}",
            host_port=port,
        ),
        network_name=network.network_name,
        redis_url=valkey.url_for_database(database),
    )
    urls[team] = instance.url

pulumi.export("urls", urls)
pulumi.export("valkeyContainerName", valkey.container_name)
