"""The health monitor: a killed service is restarted; one that keeps failing
is restarted up to its limit (with backoff), then left alone with one alert
to admins. The monitor runs every minute as a django-q schedule."""
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Schedule

from deployment import engine as engines
from deployment.models import Alert, HealthRecord, Restart, Service
from deployment.services import monitor_services
from tests.deployment.conftest import HTTP_SERVICE

CRASHER = HTTP_SERVICE.replace(
    "restart: {{policy: on-failure, max_restarts: 3, window_seconds: 60, backoff_seconds: 0}}",
    "restart: {{policy: on-failure, max_restarts: 2, window_seconds: 60, backoff_seconds: 5}}",
)


def test_the_monitor_is_scheduled_every_minute(db):
    schedule = Schedule.objects.get(name="abf: monitor deployed services")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "deployment.tasks.monitor_services", Schedule.MINUTES, 1, -1
    )


def test_without_an_engine_and_nothing_deployed_the_monitor_is_quiet(db, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    from deployment.tasks import monitor_services as task

    assert task() == []


@pytest.mark.slow
@pytest.mark.django_db
def test_a_killed_service_is_restarted_by_the_monitor(demo):
    call_command("deploy", "up", demo.environment, stdout=open("/dev/null", "w"))
    backend = demo.container("backend")
    backend.kill()
    backend.wait(timeout=10)

    outcomes = dict(monitor_services(engine=demo.engine))
    assert outcomes["backend"] == "restarted" and outcomes["frontend"] == "healthy"
    backend.reload()
    assert backend.status == "running"
    restart = Restart.objects.get(service__name="backend", service__environment=demo.environment)
    assert restart.by == "monitor" and "container exited (exit code 137)" in restart.reason
    failed = HealthRecord.objects.filter(service=restart.service, healthy=False).get()
    assert failed.state == "exited"
    health, _ = engines.policies(backend)
    assert engines.probe(health, backend)[0] or _eventually_healthy(health, backend)


def _eventually_healthy(health, container):
    from deployment.services import wait_healthy

    return wait_healthy(health, container, timeout=10)[0]


@pytest.mark.slow
@pytest.mark.django_db
def test_a_service_that_keeps_failing_is_given_up_with_one_alert(demo, app_services, serve_folder, settings):
    settings.ADMINS = [("ops", "ops@example.org")]
    # It asks an upstream nobody serves, so it exits 1 every time it starts.
    app_services.service(
        "flaky/crasher", CRASHER.format(name="crasher", group="flaky", depends_on="[]", port=1),
        compose_yml_j2=f"""\
            command: [{{{{ executor_python | tojson }}}}, "/srv/serve.py", "127.0.0.1", "1", "http://127.0.0.1:1/", "0"]
            volumes: ["{serve_folder}:/srv:ro"]
        """,
    )
    with pytest.raises(CommandError, match="crasher did not become healthy"):
        call_command("deploy", "up", demo.environment, "crasher", "--timeout", "2")
    crasher = demo.container("crasher")
    start = timezone.now()

    def monitor_at(seconds):
        crasher.wait(timeout=15)  # it has exited again
        return dict(monitor_services(now=start + timedelta(seconds=seconds), engine=demo.engine))["crasher"]

    assert monitor_at(0) == "restarted"
    assert monitor_at(1).startswith("failed; next restart after backoff")  # 5 s after the first
    assert monitor_at(6) == "restarted"
    assert monitor_at(7) == "gave up; alert raised"  # 2 restarts within 60 s: its limit
    assert monitor_at(8) == "failed; restarts given up"
    service = Service.objects.get(environment=demo.environment, name="crasher")
    assert service.restarts.count() == 2 and service.given_up_at is not None
    alert = Alert.objects.get(service=service)
    assert "crasher" in alert.message and "restarted 2 times within 60 s" in alert.message
    assert [m.subject for m in mail.outbox] == ["[Django] abf service crasher stopped being restarted"]
    crasher.reload()
    assert crasher.status == "exited"
    # A restart asked for by a person lifts the given-up state.
    call_command("deploy", "restart", demo.environment, "crasher", "--timeout", "1", stdout=open("/dev/null", "w"))
    service.refresh_from_db()
    assert service.given_up_at is None and service.restarts.filter(by="deploy restart").exists()
