"""Operator and reviewer pages (reload-based here; live push comes later)."""
import pytest

from approvals.models import ApprovalRequest, Run
from tests.factories import make_waiting_run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/runs/", "/runs/1/", "/approvals/", "/approvals/1/"])
def test_pages_need_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_operator_submits_and_sees_the_run(client, operator):
    client.force_login(operator)
    assert "No runs yet" in client.get("/runs/").content.decode()
    response = client.post("/runs/", {"request": 'print("hi")'}, follow=True)
    run = Run.objects.get()
    assert response.redirect_chain[-1][0] == f"/runs/{run.pk}/"
    page = response.content.decode()
    assert f"Run #{run.pk}" in page and "Queued" in page


def test_unreadable_request_keeps_the_text_and_explains(client, operator):
    client.force_login(operator)
    response = client.post("/runs/", {"request": "please fix the orbit"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "please fix the orbit" in page and "direct planner" in page
    assert not Run.objects.exists()


def test_reviewer_sees_context_and_approves(client, operator, reviewer):
    run, approval = make_waiting_run(operator, code="print('<b>beam</b>')")
    client.force_login(reviewer)
    listing = client.get("/approvals/").content.decode()
    assert f"#{approval.pk}" in listing and operator.username in listing

    detail = client.get(f"/approvals/{approval.pk}/").content.decode()
    assert "&lt;b&gt;beam&lt;/b&gt;" in detail and "<b>beam</b>" not in detail  # escaped
    assert "All code needs approval" in detail

    response = client.post(f"/approvals/{approval.pk}/", {"decision": "approve", "comment": "fine"})
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.APPROVED and approval.decided_by == reviewer


def test_deciding_needs_the_csrf_token(operator, reviewer):
    from django.test import Client

    _, approval = make_waiting_run(operator)
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    assert client.post(f"/approvals/{approval.pk}/", {"decision": "approve"}).status_code == 403
    assert ApprovalRequest.objects.get(pk=approval.pk).is_pending


def test_deciding_twice_on_the_page_explains(client, operator, reviewer):
    _, approval = make_waiting_run(operator)
    client.force_login(reviewer)
    client.post(f"/approvals/{approval.pk}/", {"decision": "reject", "comment": "no"})
    response = client.post(f"/approvals/{approval.pk}/", {"decision": "approve"})
    assert response.status_code == 400
    assert "already rejected by rita" in response.content.decode()


def test_the_requester_is_told_why_they_cannot_decide(client, operator):
    _, approval = make_waiting_run(operator)
    client.force_login(operator)
    page = client.get(f"/approvals/{approval.pk}/").content.decode()
    assert "someone else must review it" in page and 'value="approve"' not in page


def test_admin_lists_every_model_with_filters(admin_client, operator):
    make_waiting_run(operator)
    for url in [
        "/admin/approvals/run/", "/admin/approvals/plan/", "/admin/approvals/planstep/",
        "/admin/approvals/approvalrequest/?status__exact=pending", "/admin/approvals/approvalpolicy/",
        "/admin/execution/executionrecord/", "/admin/approvals/run/?q=hi",
    ]:
        assert admin_client.get(url).status_code == 200, url
