"""Admin shows services with their health history, restarts and alerts,
adds environments, and restarts a service on request."""
import pytest
from django.utils import timezone

from deployment.models import Alert, DeploymentEnvironment, HealthRecord, Restart, Service
from deployment.rendering import environments

pytestmark = pytest.mark.django_db


def make_service():
    now = timezone.now()
    service = Service.objects.create(environment="production", name="web", group="app", desired_state="running", health="unhealthy")
    HealthRecord.objects.create(service=service, checked_at=now, state="exited", healthy=False, detail="container exited (exit code 137)")
    Restart.objects.create(service=service, at=now, reason="container exited (restart 1 of 5 in 600 s)", by="monitor")
    Alert.objects.create(service=service, raised_at=now, message="web (production) keeps failing")
    return service


def test_a_service_page_shows_health_history_restarts_and_alerts(admin_client):
    service = make_service()
    listing = admin_client.get("/admin/deployment/service/").content.decode()
    assert "web" in listing and "unhealthy" in listing
    page = admin_client.get(f"/admin/deployment/service/{service.pk}/change/").content.decode()
    for text in ("container exited (exit code 137)", "restart 1 of 5 in 600 s", "web (production) keeps failing"):
        assert text in page
    assert "keeps failing" in admin_client.get("/admin/deployment/alert/").content.decode()


def test_the_restart_action_says_when_nothing_is_deployed(admin_client, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    service = make_service()
    response = admin_client.post(
        "/admin/deployment/service/", {"action": "restart", "index": "0", "_selected_action": [service.pk]}, follow=True
    )
    assert "Cannot reach the Docker engine" in response.content.decode()
    assert service.restarts.count() == 1  # nothing new recorded


def test_an_admin_adds_an_environment(admin_client):
    response = admin_client.post(
        "/admin/deployment/deploymentenvironment/add/",
        {"name": "staging", "overlay": "network_mode: ocean\n"},
    )
    assert "network_mode" in response.content.decode() and not DeploymentEnvironment.objects.exists()
    admin_client.post(
        "/admin/deployment/deploymentenvironment/add/",
        {"name": "staging", "overlay": "values:\n  web_port: 8100\n"},
    )
    assert environments()["staging"].values == {"web_port": 8100}


@pytest.mark.slow
def test_the_restart_action_restarts_the_container(admin_client, admin_user, demo):
    from django.core.management import call_command

    call_command("deploy", "up", demo.environment, "backend", stdout=open("/dev/null", "w"))
    before = demo.container("backend").attrs["State"]["StartedAt"]
    service = Service.objects.get(environment=demo.environment, name="backend")
    response = admin_client.post(
        "/admin/deployment/service/", {"action": "restart", "index": "0", "_selected_action": [service.pk]}, follow=True
    )
    assert "restarted" in response.content.decode()
    assert demo.container("backend").attrs["State"]["StartedAt"] != before
    assert service.restarts.get().by == admin_user.username
