"""`openWebui.replicas`: several Open WebUI containers behind HAProxy, sharing PostgreSQL, Valkey and files."""

from __future__ import annotations

from typing import Any

import pytest

from components import ConfigurationError
from components.testing import Deployment, StackMocks, render

CONTAINER = "docker:index/container:Container"
CONFIG_PATH = "/usr/local/etc/haproxy/haproxy.cfg"


def replicas(count: int, **blocks: Any) -> Deployment:
    config: dict[str, Any] = {"openWebui": {"replicas": count, **blocks.pop("openWebui", {})}, **blocks}
    return render(config)


class TestOneReplica:
    """The default stays the single-container stack, with no new resources."""

    def test_replicas_when_one_declares_no_database_or_load_balancer(self) -> None:
        """replicas: 1 is exactly the default deployment."""
        default, one = render({}), replicas(1)
        assert sorted((r.type, r.name) for r in one.resources) == sorted((r.type, r.name) for r in default.resources)
        assert one.outputs == default.outputs
        assert set(one.containers()) == {"redis-valkey", "open-webui"}
        env = one.container("open-webui").env
        assert not {"DATABASE_URL", "VECTOR_DB", "ENABLE_DB_MIGRATIONS"} & set(env)

    def test_replicas_when_one_with_database_enabled_keeps_postgres_and_the_load_balancer(self) -> None:
        """database.enabled keeps one replica on PostgreSQL behind HAProxy, as with several (scaling 2 -> 1)."""
        deployment = render({"database": {"enabled": True}})
        env = deployment.container("open-webui-1").env
        assert env["DATABASE_URL"] == deployment.outputs["databaseUrl"]
        assert env["DATABASE_URL"].endswith("@postgres:5432/openwebui")
        assert env["VECTOR_DB"] == "pgvector"
        assert "ENABLE_DB_MIGRATIONS" not in env
        assert set(deployment.containers()) == {"redis-valkey", "open-webui-postgres", "open-webui-1", "open-webui-lb"}
        assert deployment.container("open-webui-1").ports == []
        assert deployment.container("open-webui-lb").ports == [{"internal": 8080, "external": 3000, "ip": "127.0.0.1"}]

    def test_replicas_when_scaled_between_one_and_two_on_postgres_keep_the_port_on_the_load_balancer(self) -> None:
        """From 2 to 1 (and back) on PostgreSQL only replica 2 goes: the port never moves between containers.

        A move would fail: the new owner binds the port while the load balancer, deleted only at the end of the
        update, still holds it."""
        two = render({"openWebui": {"replicas": 2}})
        one = render({"openWebui": {"replicas": 1}, "database": {"enabled": True}})
        for deployment in (one, two):
            assert {name for name, c in deployment.containers().items() if c.ports} == {"open-webui-lb"}
        assert one.container("open-webui-1").resource.inputs == two.container("open-webui-1").resource.inputs
        assert set(two.containers()) - set(one.containers()) == {"open-webui-2"}

    def test_replicas_when_one_with_external_database_uses_it(self) -> None:
        """A single replica can use an external PostgreSQL; the URL is put in psycopg 3 form."""
        deployment = render(
            {"database": {"url": "postgresql://app:pw@db.example:5432/webui"}}, secret_keys=["database"]
        )
        env = deployment.container("open-webui-1").env
        assert env["DATABASE_URL"] == "postgresql+psycopg://app:pw@db.example:5432/webui"
        assert env["VECTOR_DB"] == "pgvector"
        assert "open-webui-postgres" not in deployment.containers()
        assert "databaseUrl" in deployment.secret_outputs


class TestTwoReplicas:
    """replicas: 2 adds PostgreSQL and HAProxy; only HAProxy publishes a port."""

    @pytest.fixture(scope="class")
    @classmethod
    def deployment(cls) -> Deployment:
        return replicas(2, openWebui={"memoryMb": 1536})

    def test_replicas_when_two_declare_postgres_two_open_webuis_and_haproxy(self, deployment: Deployment) -> None:
        """Five containers, each with its own stable name."""
        assert sorted(deployment.containers()) == [
            "open-webui-1",
            "open-webui-2",
            "open-webui-lb",
            "open-webui-postgres",
            "redis-valkey",
        ]

    def test_replicas_when_two_share_database_secret_key_and_redis(self, deployment: Deployment) -> None:
        """Same DATABASE_URL, WEBUI_SECRET_KEY and both Redis URLs on every replica; pgvector for vectors."""
        first, second = deployment.container("open-webui-1").env, deployment.container("open-webui-2").env
        for key in ("DATABASE_URL", "WEBUI_SECRET_KEY", "REDIS_URL", "WEBSOCKET_REDIS_URL", "VECTOR_DB"):
            assert first[key] == second[key], key
        assert first["DATABASE_URL"].startswith("postgresql+psycopg://openwebui:")
        assert first["DATABASE_URL"].endswith("@postgres:5432/openwebui")
        assert first["VECTOR_DB"] == "pgvector"
        assert first["WEBSOCKET_MANAGER"] == second["WEBSOCKET_MANAGER"] == "redis"

    def test_replicas_when_two_migrate_on_the_first_only(self, deployment: Deployment) -> None:
        """ENABLE_DB_MIGRATIONS=false on every replica but the first."""
        assert "ENABLE_DB_MIGRATIONS" not in deployment.container("open-webui-1").env
        assert deployment.container("open-webui-2").env["ENABLE_DB_MIGRATIONS"] == "false"

    def test_replicas_when_two_share_one_data_volume(self, deployment: Deployment) -> None:
        """Uploaded files live on one named volume that every replica mounts."""
        assert deployment.container("open-webui-1").volumes == {"/app/backend/data": "open-webui"}
        assert deployment.container("open-webui-2").volumes == {"/app/backend/data": "open-webui"}
        assert (
            len([v for v in deployment.of_type("docker:index/volume:Volume") if v.inputs["name"] == "open-webui"]) == 1
        )

    def test_replicas_when_two_publish_only_the_load_balancer(self, deployment: Deployment) -> None:
        """Replicas, PostgreSQL and Valkey publish nothing; HAProxy publishes 127.0.0.1:3000."""
        published = {name: c.ports for name, c in deployment.containers().items() if c.ports}
        assert published == {"open-webui-lb": [{"internal": 8080, "external": 3000, "ip": "127.0.0.1"}]}
        assert deployment.outputs["url"] == "http://127.0.0.1:3000"

    def test_replicas_memory_when_set_limits_each_replica(self, deployment: Deployment) -> None:
        """memoryMb becomes each replica's memory limit."""
        assert deployment.container("open-webui-1").resource.inputs["memory"] == 1536
        assert deployment.container("open-webui-2").resource.inputs["memory"] == 1536

    def test_postgres_when_managed_is_pinned_healthchecked_retained_and_secret(self, deployment: Deployment) -> None:
        """Official pgvector image started through the password script, a healthcheck that waits for it, retained
        volume, generated secret password."""
        postgres = deployment.container("open-webui-postgres")
        assert postgres.image == "docker.io/pgvector/pgvector:0.8.6-pg17"
        assert postgres.healthcheck["tests"] == [
            "CMD-SHELL",
            'test -f /tmp/open-webui-redis-password-set && PGPASSWORD="$POSTGRES_PASSWORD" psql --no-psqlrc '
            "-h 127.0.0.1 -p 5432 -U openwebui -d openwebui -tAc 'SELECT 1' >/dev/null",
        ]
        inputs = postgres.resource.inputs
        assert inputs["entrypoints"] == ["/bin/sh", "/usr/local/bin/open-webui-redis-postgres-start"]
        assert inputs["command"] == ["postgres"]
        (upload,) = inputs["uploads"]
        assert upload["file"] == "/usr/local/bin/open-webui-redis-postgres-start"
        assert 'docker-entrypoint.sh "$@" &' in upload["content"]
        assert "ALTER ROLE" in upload["content"]
        assert postgres.resource.inputs["wait"] is True
        assert postgres.resource.inputs["destroyGraceSeconds"] == 60
        assert postgres.ports == []
        assert postgres.volumes == {"/var/lib/postgresql/data": "open-webui-postgres"}
        assert postgres.networks == {"openwebui-network": ["postgres"]}
        assert postgres.resource.is_secret("envs")
        password = postgres.env["POSTGRES_PASSWORD"]
        assert len(password) == 32
        assert password.isalnum()
        assert postgres.env["POSTGRES_USER"] == postgres.env["POSTGRES_DB"] == "openwebui"
        assert deployment.container("open-webui-1").env["DATABASE_URL"] == (
            f"postgresql+psycopg://openwebui:{password}@postgres:5432/openwebui"
        )
        (volume,) = [v for v in deployment.of_type("docker:index/volume:Volume") if v.name.endswith("postgres-data")]
        assert volume.retain_on_delete is True
        assert {"databaseUrl"} <= deployment.secret_outputs

    def test_load_balancer_config_when_two_lists_both_replicas_with_health_checks(self, deployment: Deployment) -> None:
        """HAProxy round-robins over both replicas, checks /health, re-resolves through Docker's DNS."""
        config = deployment.container("open-webui-lb").uploads[CONFIG_PATH]
        assert "    server open-webui-1 open-webui-1:8080\n" in config
        assert "    server open-webui-2 open-webui-2:8080\n" in config
        assert "    balance roundrobin\n" in config
        assert "    http-check send meth GET uri /health\n" in config
        assert "    nameserver docker 127.0.0.11:53\n" in config
        assert "resolvers docker check inter 2s downinter 1s fall 2 rise 1" in config
        assert "    timeout tunnel 1h\n" in config
        assert "cookie" not in config

    def test_load_balancer_when_two_sizes_its_open_files_to_its_connections(self, deployment: Deployment) -> None:
        """maxconn 4096 and a nofile limit that fits it, whatever the Docker daemon's default."""
        lb = deployment.container("open-webui-lb")
        assert "    maxconn 4096\n" in lb.uploads[CONFIG_PATH]
        assert lb.resource.inputs["ulimits"] == [{"name": "nofile", "soft": 9216, "hard": 9216}]

    def test_graph_when_two_orders_postgres_then_first_replica_then_others_then_lb(
        self, deployment: Deployment
    ) -> None:
        """PostgreSQL and Valkey before replica 1, replica 1 before replica 2, both before HAProxy."""
        postgres = deployment.container("open-webui-postgres").resource
        valkey = deployment.container("redis-valkey").resource
        first = deployment.container("open-webui-1").resource
        second = deployment.container("open-webui-2").resource
        lb = deployment.container("open-webui-lb").resource
        assert first.depends_on(postgres)
        assert first.depends_on(valkey)
        assert second.depends_on(first)
        assert lb.depends_on(first)
        assert lb.depends_on(second)
        assert not first.depends_on(second)

    def test_replacements_when_rolling_and_the_image_changes_go_one_replica_at_a_time(self) -> None:
        """With `upgrade: rolling` replica 2 depends on replica 1 only through depends_on, never a property.

        The engine replaces a resource's dependents along with it only for property dependencies; a plain
        dependency makes it wait. So replica 1 is replaced (delete, create, healthy) before replica 2 starts,
        and HAProxy, whose inputs hold nothing of the replicas, is not replaced at all.
        """
        deployment = replicas(2, openWebui={"upgrade": "rolling"})
        first = deployment.container("open-webui-1").resource
        second = deployment.container("open-webui-2").resource
        lb = deployment.container("open-webui-lb").resource
        assert first.urn in second.dependencies
        assert all(first.urn not in urns for urns in second.property_dependencies.values())
        assert all(first.urn not in urns and second.urn not in urns for urns in lb.property_dependencies.values())
        assert first.delete_before_replace is True
        assert second.delete_before_replace is True


class TestReplicaSettings:
    """Settings of the database and the load balancer."""

    def test_load_balancer_when_sticky_sets_a_cookie_per_replica(self) -> None:
        """Sticky sessions pin a browser to a replica with an HAProxy cookie."""
        config = replicas(3, loadBalancer={"stickySessions": True}).container("open-webui-lb").uploads[CONFIG_PATH]
        assert "    cookie OWUI_REPLICA insert indirect nocache httponly\n" in config
        for index in (1, 2, 3):
            assert f"    server open-webui-{index} open-webui-{index}:8080 cookie open-webui-{index}\n" in config

    def test_load_balancer_when_max_connections_set_sizes_config_and_limits(self) -> None:
        """loadBalancer.maxConnections sets HAProxy's maxconn and the container's open-files limit."""
        lb = replicas(2, loadBalancer={"maxConnections": 20000}).container("open-webui-lb")
        assert "    maxconn 20000\n" in lb.uploads[CONFIG_PATH]
        assert lb.resource.inputs["ulimits"] == [{"name": "nofile", "soft": 41024, "hard": 41024}]

    def test_replicas_when_three_roll_chain_each_after_the_one_before(self) -> None:
        """With `upgrade: rolling` replica n waits for replica n-1, so upgrades go one replica at a time."""
        deployment = replicas(3, openWebui={"upgrade": "rolling"})
        chain = [deployment.container(f"open-webui-{n}").resource for n in (1, 2, 3)]
        assert chain[1].depends_on(chain[0])
        assert chain[2].depends_on(chain[1])
        assert not chain[2].depends_on(chain[0])
        assert deployment.outputs["openWebuiContainerNames"] == ["open-webui-1", "open-webui-2", "open-webui-3"]

    def test_replicas_when_external_database_given_declare_no_postgres(self) -> None:
        """With database.url, the replicas use it and no PostgreSQL container is declared."""
        deployment = render(
            {"openWebui": {"replicas": 2}, "database": {"url": "postgres://u:p@pg.internal/owui"}},
            secret_keys=["database"],
        )
        assert "open-webui-postgres" not in deployment.containers()
        assert deployment.container("open-webui-2").env["DATABASE_URL"] == "postgresql+psycopg://u:p@pg.internal/owui"
        assert "postgresContainerName" not in deployment.outputs

    def test_replicas_when_password_given_for_database_uses_it(self) -> None:
        """database.password set as a secret becomes POSTGRES_PASSWORD and part of DATABASE_URL, encoded."""
        deployment = render(
            {"openWebui": {"replicas": 2}, "database": {"password": "p@ss word"}}, secret_keys=["database"]
        )
        assert deployment.container("open-webui-postgres").env["POSTGRES_PASSWORD"] == "p@ss word"
        assert deployment.container("open-webui-1").env["DATABASE_URL"] == (
            "postgresql+psycopg://openwebui:p%40ss%20word@postgres:5432/openwebui"
        )

    def test_replicas_when_bound_elsewhere_publish_the_lb_there(self) -> None:
        """bindAddress and hostPort move to the load balancer."""
        deployment = replicas(2, openWebui={"bindAddress": "0.0.0.0", "hostPort": 80})
        assert deployment.container("open-webui-lb").ports == [{"internal": 8080, "external": 80, "ip": "0.0.0.0"}]
        assert deployment.outputs["url"] == "http://localhost:80"

    def test_replicas_secrets_when_declared_stay_in_secret_inputs(self) -> None:
        """The database password appears only in secret inputs."""
        deployment = replicas(2)
        password = deployment.container("open-webui-postgres").env["POSTGRES_PASSWORD"]
        for resource in deployment.of_type(CONTAINER):
            for key, value in resource.inputs.items():
                if password in str(value):
                    assert resource.is_secret(key), f"{resource.urn}: {key}"


class TestReplicaBadInput:
    """Bad replica settings stop the program before anything is declared."""

    @pytest.mark.parametrize(
        ("config", "secret", "problem"),
        [
            (
                {"openWebui": {"replicas": 0}},
                [],
                "openWebui.replicas: Input should be greater than or equal to 1 (got 0)",
            ),
            (
                {"openWebui": {"replicas": 17}},
                [],
                "openWebui.replicas: Input should be less than or equal to 16 (got 17)",
            ),
            (
                {"database": {"url": "mysql://u:p@db/owui"}},
                ["database"],
                "database.url: must be a PostgreSQL URL such as 'postgresql://user:password@host:5432/database' "
                "(schemes: postgresql, postgres, postgresql+psycopg) (got [secret])",
            ),
            (
                {"openWebui": {"replicas": 2}, "database": {"vectorStore": "chroma"}},
                [],
                "database.vectorStore is 'chroma' with openWebui.replicas 2; several replicas cannot share "
                "Chroma's files: use 'pgvector'",
            ),
            (
                {"database": {"url": "postgresql://u:p@db/owui"}},
                [],
                "database.url: is stored in plain text; set it with "
                "`pulumi config set --secret --path database.url <value>`",
            ),
            (
                {"database": {"url": "postgres+psycopg2://u:p@db/owui"}},
                ["database"],
                "database.url: must be a PostgreSQL URL such as 'postgresql://user:password@host:5432/database' "
                "(schemes: postgresql, postgres, postgresql+psycopg) (got [secret])",
            ),
            (
                {"openWebui": {"replicas": 2}, "database": {"volumeName": "redis-data"}},
                [],
                "valkey.volumeName and database.volumeName are both 'redis-data'; each service needs its own volume",
            ),
            (
                {"openWebui": {"replicas": 2}, "loadBalancer": {"containerName": "open-webui-2"}},
                [],
                "openWebui.containerName (replica 2) and loadBalancer.containerName are both 'open-webui-2'; "
                "container names must differ",
            ),
            (
                {"openWebui": {"replicas": 2}, "database": {"alias": "redis"}},
                [],
                "valkey.alias and database.alias are both 'redis'; host names on the network (container names and "
                "aliases) must differ",
            ),
            (
                {"valkey": {"alias": "open-webui"}},
                [],
                "openWebui.containerName and valkey.alias are both 'open-webui'; host names on the network "
                "(container names and aliases) must differ",
            ),
            (
                {"openWebui": {"memoryMb": 100}},
                [],
                "openWebui.memoryMb: Input should be greater than or equal to 1024 (got 100)",
            ),
        ],
    )
    def test_replicas_when_settings_bad_refuse_with_the_reason(
        self, config: dict[str, Any], secret: list[str], problem: str
    ) -> None:
        """Each bad value names its key, the value (or [secret]) and what is allowed."""
        mocks = StackMocks()
        with pytest.raises(ConfigurationError) as raised:
            render(config, secret_keys=secret, mocks=mocks)
        assert raised.value.problems == [problem]
        assert mocks.declared == []
