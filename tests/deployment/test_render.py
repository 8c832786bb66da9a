"""Every shipped service renders, per environment, into compose files valid
under the Compose Specification schema; ports stay on loopback unless
--expose; `deploy render` masks secrets it writes for real."""
import stat
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from django.core.management import call_command

from deployment.catalog import DeploymentError
from deployment.models import DeploymentEnvironment
from deployment.rendering import compose_validator, load_deployment, validate_compose

SHIPPED = {"web", "worker", "postgres", "redis", "executor-read", "executor-write"}
# Characters YAML quotes and URLs encode must not let a secret slip through.
DB_PASSWORD, REDIS_PASSWORD = "pg'Secret@7781", "redis-Secret-4410"
SECRET_KEY = 'production-secret-key-"0123456789"-abcdef'


@pytest.fixture
def production_env(monkeypatch, settings, app_services):
    monkeypatch.setenv("DATABASE_URL", f"postgres://abf:{quote(DB_PASSWORD)}@postgres:5432/abf")
    monkeypatch.setenv("REDIS_URL", f"redis://:{REDIS_PASSWORD}@redis:6379/0")
    monkeypatch.setenv("ABF_ALLOWED_HOSTS", "abf.example.org")
    settings.SECRET_KEY = SECRET_KEY


def compose_files(deployment):
    return {g: yaml.safe_load(deployment.files[deployment.compose_path(g)]) for g in deployment.groups}


@pytest.mark.parametrize("environment", ["dev", "production", "everything"])
def test_every_shipped_service_renders_valid_compose(db, production_env, environment):
    DeploymentEnvironment.objects.create(name="everything", overlay="services:\n  observability: {enabled: true}\n")
    deployment = load_deployment(environment)
    expected = SHIPPED | ({"observability"} if environment == "everything" else set())
    assert set(deployment.definitions) == expected
    files = compose_files(deployment)
    assert set(files) == {"app", "data", "execution"} | ({"observability"} if environment == "everything" else set())
    validator = compose_validator()
    for group, document in files.items():
        assert list(validator.iter_errors(document)) == [], group
        for name, entry in document["services"].items():
            assert entry["container_name"] == f"abf-{environment}-{name}"
            assert entry["labels"]["org.abf.service"] == name
    assert files["app"]["x-abf"]["start_after_groups"] == ["data"]
    assert files["data"]["services"]["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    if environment == "everything":
        assert "job_name: prometheus" in deployment.files["observability/prometheus.yml"]
        mount = files["observability"]["services"]["observability"]["volumes"][0]
        assert mount.endswith("/everything/observability/prometheus.yml:/etc/prometheus/prometheus.yml:ro")


def test_production_wires_the_settings_into_the_services(db, production_env):
    files = compose_files(load_deployment("production"))
    web = files["app"]["services"]["web"]
    assert web["environment"]["DATABASE_URL"] == f"postgres://abf:{quote(DB_PASSWORD)}@postgres:5432/abf"
    assert web["environment"]["ABF_SECRET_KEY"] == SECRET_KEY
    assert web["environment"]["ABF_SECURE"] == "1"
    assert files["data"]["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == DB_PASSWORD
    worker = files["app"]["services"]["worker"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in worker["volumes"]
    # Its kernels join this deployment's executor services, and their
    # exchange folders are at the same path in the worker and on the host.
    assert worker["environment"]["ABF_EXECUTOR_DEPLOYMENT"] == "production"
    exchange = worker["environment"]["ABF_EXECUTOR_EXCHANGE_DIR"]
    assert f"{exchange}:{exchange}" in worker["volumes"]
    executor = files["execution"]["services"]["executor-read"]
    assert executor["read_only"] is True and executor["cap_drop"] == ["ALL"] and executor["user"] == "65534:65534"
    assert executor["network_mode"] == "none"  # like a per-execution container: no way to the database or broker
    assert "networks" not in files["execution"]


def test_ports_bind_to_loopback_unless_expose(db, production_env):
    web = compose_files(load_deployment("production"))["app"]["services"]["web"]
    assert web["ports"] == ["127.0.0.1:8000:8000"]
    exposed = compose_files(load_deployment("production", expose=True))["app"]["services"]["web"]
    assert exposed["ports"] == ["0.0.0.0:8000:8000"]


def test_on_the_host_network_nothing_is_published_and_the_process_listens_on_loopback(db, production_env):
    DeploymentEnvironment.objects.create(name="hostnet", overlay="network_mode: host\n")
    web = compose_files(load_deployment("hostnet"))["app"]["services"]["web"]
    assert "ports" not in web and web["network_mode"] == "host"
    assert "-b 127.0.0.1 -p 8000" in web["command"][-1]
    exposed = compose_files(load_deployment("hostnet", expose=True))["app"]["services"]["web"]
    assert "-b 0.0.0.0 -p 8000" in exposed["command"][-1]


def test_render_command_masks_secrets_and_writes_them_for_real(db, production_env, settings, capsys):
    call_command("deploy", "render", "--env", "production")
    shown = capsys.readouterr().out
    for secret in (DB_PASSWORD, quote(DB_PASSWORD), "pg''Secret", REDIS_PASSWORD, SECRET_KEY, "0123456789"):
        assert secret not in shown
    assert "POSTGRES_PASSWORD: '********'" in shown and "ABF_SECRET_KEY: '********'" in shown
    assert "127.0.0.1:8000:8000" in shown
    folder = Path(settings.ABF_DEPLOY_BUILD_DIR) / "production"
    data = folder / "compose-data.yml"
    assert yaml.safe_load(data.read_text())["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == DB_PASSWORD
    assert stat.S_IMODE(data.stat().st_mode) == 0o600
    execution = folder / "compose-execution.yml"
    assert stat.S_IMODE(execution.stat().st_mode) == 0o644  # nothing secret in it


def test_production_without_a_postgres_url_says_what_is_missing(db, app_services, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(DeploymentError, match=r"postgres/compose.yml.j2: line \d+: .*set DATABASE_URL=postgres://"):
        load_deployment("production")


def test_an_application_service_overrides_a_framework_one_by_name(db, app_services):
    app_services.environment("site", "groups: [data, tools]\nvalues: {database_url: 'postgres://u:pw@postgres/abf'}\n")
    app_services.service("nested/deeper/redis", """\
        name: redis
        group: data
        image: site-redis:6
        health: {tcp: 6379}
        restart: always
    """)
    app_services.service("tools/logbook", """\
        name: logbook
        group: tools
        image: logbook:1
        depends_on: [redis]
        health: {http: {port: 8080, path: /ping}}
        restart: {policy: on-failure, max_restarts: 2}
        ports: [8080]
    """)
    deployment = load_deployment("site")
    assert set(deployment.definitions) == {"redis", "postgres", "logbook"}
    assert deployment.services["redis"]["image"] == "site-redis:6"
    assert deployment.definitions["redis"].source.is_relative_to(app_services.root)
    assert deployment.select(["logbook"]) == ["redis", "logbook"]
    assert deployment.services["logbook"]["ports"] == ["127.0.0.1:8080:8080"]
    assert deployment.services["logbook"]["restart"] == "on-failure:2"


def test_an_admin_environment_is_validated(db):
    row = DeploymentEnvironment(name="staging", overlay="network_mode: bridge-of-sighs\n")
    with pytest.raises(Exception, match="network_mode"):
        row.full_clean()


def test_the_schema_rejects_what_compose_would(db):
    with pytest.raises(DeploymentError, match="not a valid compose file: at services.web"):
        validate_compose({"services": {"web": {"image": "x", "restart_policy": "always"}}}, "compose-app.yml")
    with pytest.raises(DeploymentError, match="depends on db, which is not in this file"):
        validate_compose({"services": {"web": {"image": "x", "depends_on": {"db": {"condition": "service_started"}}}}}, "f")
