"""A real engine runs a two-service group with a dependency: `up` starts the
dependency first and waits for health, `status` tells, find_service finds,
`down` leaves nothing."""
import urllib.request
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from deployment.models import HealthRecord, Service
from deployment.services import find_service

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def deploy(*args):
    out = StringIO()
    call_command("deploy", *args, stdout=out)
    return out.getvalue()


def test_up_starts_in_dependency_order_and_waits_for_health(demo):
    output = deploy("up", demo.environment, "demo")
    lines = output.splitlines()
    backend_healthy = next(i for i, line in enumerate(lines) if line.startswith("backend: healthy"))
    frontend_started = next(i for i, line in enumerate(lines) if line.startswith("frontend: started"))
    assert backend_healthy < frontend_started
    assert lines[-1] == f"Up: backend, frontend ({demo.environment})."
    # The frontend asked the backend before listening: it found it up.
    assert "upstream answered 200" in demo.container("frontend").logs().decode()
    for port in (demo.backend_port, demo.frontend_port):
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
    rows = Service.objects.filter(environment=demo.environment)
    assert {(r.name, r.desired_state, r.health) for r in rows} == {
        ("backend", "running", "healthy"), ("frontend", "running", "healthy")
    }
    assert HealthRecord.objects.filter(service__environment=demo.environment, healthy=True).count() == 2


def test_up_of_one_service_brings_its_dependency_and_a_second_up_keeps_them(demo):
    deploy("up", "--env", demo.environment, "frontend")
    first = {c.name: c.id for c in demo.containers()}
    assert set(first) == {f"abf-{demo.environment}-backend", f"abf-{demo.environment}-frontend"}
    assert "already running" in deploy("up", demo.environment)
    assert {c.name: c.id for c in demo.containers()} == first


def test_status_is_a_table_and_find_service_gives_the_address(demo):
    deploy("up", demo.environment)
    table = deploy("status", demo.environment).splitlines()
    assert table[0].split() == ["SERVICE", "GROUP", "STATE", "HEALTH", "RESTARTS", "UPTIME", "PORTS"]
    backend = table[1].split()
    assert backend[:5] == ["backend", "demo", "running", "healthy", "0"]
    assert f"{demo.backend_port} (host network)" in table[1]
    location = find_service("backend", environment=demo.environment)
    assert (location.container_name, location.state) == (f"abf-{demo.environment}-backend", "running")
    assert location.address() == f"127.0.0.1:{demo.backend_port}"
    assert find_service("nothing-like-it", environment=demo.environment) is None


def test_down_leaves_nothing_running(demo):
    deploy("up", demo.environment)
    output = deploy("down", demo.environment)
    assert output.splitlines()[0].startswith("frontend: stopped")  # dependants first
    assert demo.containers() == []
    assert set(Service.objects.filter(environment=demo.environment).values_list("desired_state", flat=True)) == {"stopped"}
    assert "not deployed" in deploy("status", demo.environment)


def test_a_service_that_never_gets_healthy_fails_up_with_its_logs(demo, app_services, serve_folder):
    from tests.deployment.conftest import HTTP_COMPOSE, HTTP_SERVICE

    app_services.service(
        "flaky/mute", HTTP_SERVICE.format(name="mute", group="flaky", depends_on="[]", port=1),
        compose_yml_j2=HTTP_COMPOSE.format(port=1, upstream="http://127.0.0.1:1/", delay=0, srv=serve_folder),
    )
    with pytest.raises(CommandError, match=r"(?s)mute did not become healthy: container exited \(exit code 1\).*Connection refused"):
        deploy("up", demo.environment, "mute", "--timeout", "3")


def test_down_works_even_when_the_templates_no_longer_render(demo, app_services):
    deploy("up", demo.environment)
    (app_services.root / "demo/backend/compose.yml.j2").write_text("command: [{{ values.gone }}]\n")
    output = deploy("down", demo.environment)
    assert "frontend: stopped and removed" in output.splitlines()[0]
    assert demo.containers() == []
