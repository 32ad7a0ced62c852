"""The program under Pulumi's mocks, with the package as installed (``python -m unittest`` in this folder, in the
virtualenv that has the wheel): Open WebUI is given this program's server and network, after them, as a secret,
and the stack declares no Valkey and no network of its own."""

import unittest
from pathlib import Path

import open_webui_redis
from open_webui_redis.testing import render

HERE = Path(__file__).resolve().parent


class Composed(unittest.TestCase):
    def setUp(self) -> None:
        self.deployment = render({}, program=HERE / "__main__.py")

    def test_package_when_imported_is_the_installed_wheel(self) -> None:
        assert "site-packages" in open_webui_redis.__file__
        assert open_webui_redis.__version__.count(".") == 2

    def test_open_webui_when_composed_uses_the_programs_server_and_network(self) -> None:
        names = [resource.name for resource in self.deployment.resources]
        assert not [name for name in names if "valkey" in name], "the stack declared a Valkey of its own"
        networks = [r for r in self.deployment.resources if r.type == "docker:index/network:Network"]
        assert [network.name for network in networks] == ["apps"]
        container = self.deployment.container("open-webui")
        assert container.env["REDIS_URL"].startswith("redis://:")
        assert container.env["REDIS_URL"].endswith("@apps-cache:6379/0")
        assert container.resource.inputs["networksAdvanced"] == [{"name": "apps"}]
        assert container.resource.is_secret("envs")
        assert "redisUrl" in self.deployment.secret_outputs
        for producer in ("cache", "cache-password", "apps"):
            assert self.deployment.orders_after(container.resource, producer), producer


if __name__ == "__main__":
    unittest.main()
