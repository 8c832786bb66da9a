"""Admin: the audit trail is read-only for everyone, shows its verification
status, exports from the report page and the changelist action, and shows
the history of policy and limits changes."""
import pytest

from audit.models import AuditEvent
from audit.services import record_event, verify_chain
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(make_user("ada", is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def events(operator):
    return [record_event(operator, "memory.saved", None, {"content": f"note {i}"}) for i in range(3)]


def streamed(response):
    return b"".join(response.streaming_content)


def test_nobody_may_add_change_or_delete_events(superuser_client, events):
    event = events[0]
    assert superuser_client.get("/admin/audit/auditevent/add/").status_code == 403
    page = superuser_client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200 and b"Save" not in page.content and b"note 0" in page.content
    assert superuser_client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert superuser_client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"outcome": "x"}).status_code == 403
    assert AuditEvent.objects.count() == 4  # the three, and the admin login
    assert verify_chain().ok


def test_the_changelist_shows_the_verification_status(superuser_client, events):
    assert b"not verified yet" in superuser_client.get("/admin/audit/auditevent/").content
    response = superuser_client.post("/admin/audit/auditevent/verify/", follow=True)
    assert b"intact" in response.content and b"chain intact" in response.content

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET payload_json = '{}' WHERE seq = 2")
    response = superuser_client.post("/admin/audit/auditevent/verify/", follow=True)
    assert b"BROKEN" in response.content and b"Event #2" in response.content


def test_the_report_page_exports_each_format(superuser_client, events):
    assert b"Export" in superuser_client.get("/admin/audit/auditevent/report/").content
    for fmt, start in (("csv", b"seq,at,actor,actor_id"), ("json", b'{"report"'), ("pdf", b"%PDF")):
        response = superuser_client.post("/admin/audit/auditevent/report/", {"format": fmt, "user": "olga"})
        assert response.status_code == 200 and streamed(response).startswith(start)
        assert response["X-Audit-Events"] == "3"
        assert "attachment" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(action="audit.exported", actor_name="ada").count() == 3


def test_the_report_page_explains_bad_input(superuser_client):
    response = superuser_client.post("/admin/audit/auditevent/report/", {"format": "csv", "since": "last week"})
    assert response.status_code == 400 and b"not a date" in response.content


def test_the_export_action_exports_the_selected_events(superuser_client, events):
    response = superuser_client.post(
        "/admin/audit/auditevent/", {"action": "export_csv", "_selected_action": [events[0].pk, events[2].pk]}
    )
    lines = streamed(response).decode().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [str(events[0].seq), str(events[2].seq)]


def test_policy_and_limits_history_shows_what_changed(superuser_client):
    from execution.models import ExecutionLimits

    limits = ExecutionLimits.current()
    data = {"wall_time_seconds": 30, "cpu_seconds": 60, "memory_mb": 1024, "max_processes": 64,
            "output_bytes": 1048576, "file_size_mb": 64}
    superuser_client.post(f"/admin/execution/executionlimits/{limits.pk}/change/", data)
    page = superuser_client.get("/admin/audit/configchange/").content.decode()
    assert "limits.changed" in page and "ada" in page and "wall_time_seconds" in page and "60 → 30" in page
    assert "auth.login" not in page
    assert superuser_client.get("/admin/audit/configchange/add/").status_code == 403
