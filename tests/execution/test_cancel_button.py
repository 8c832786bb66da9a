"""The run page's Cancel button (POST /executions/<id>/cancel/): who may press it, and what it says."""
import pytest
from django.test import Client

from approvals import services
from audit.models import AuditEvent
from execution.models import ExecutionRecord
from tests.conftest import make_user
from tests.execution.artifact_factories import make_execution

pytestmark = pytest.mark.django_db


def cancel(client, record):
    return client.post(f"/executions/{record.pk}/cancel/", follow=True)


def requested(record):
    record.refresh_from_db()
    return record.cancel_requested_at is not None


@pytest.fixture
def running(operator):
    return make_execution(operator, state=ExecutionRecord.State.RUNNING)


def test_the_owner_cancels_a_running_execution(client, operator, running):
    client.force_login(operator)
    response = cancel(client, running)
    assert response.redirect_chain[-1][0] == f"/runs/{running.run.pk}/"
    assert "Cancelling step 1" in response.content.decode()
    assert requested(running)
    # The audit trail says who pressed it.
    assert AuditEvent.objects.get(action="execution.cancel_requested").actor_name == operator.username
    # Until the worker records it, the page says so instead of offering the button again.
    page = client.get(f"/runs/{running.run.pk}/").content.decode()
    assert "cancel requested, stopping" in page and 'class="cancel"' not in page


def test_staff_may_cancel(client, running):
    client.force_login(make_user("stan", is_staff=True))
    cancel(client, running)
    assert requested(running)


@pytest.mark.parametrize("who", ["another operator", "a reviewer"])
def test_others_are_refused(client, running, reviewer, who):
    user = reviewer if who == "a reviewer" else make_user("otto", services.OPERATORS_GROUP)
    client.force_login(user)
    response = client.post(f"/executions/{running.pk}/cancel/")
    assert response.status_code == 403
    assert "Only the person who started this run" in response.content.decode()
    assert not requested(running)


def test_anonymous_is_sent_to_login(client, running):
    response = client.post(f"/executions/{running.pk}/cancel/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not requested(running)


def test_an_execution_that_already_ended_is_explained(client, operator):
    record = make_execution(operator, state=ExecutionRecord.State.SUCCEEDED)
    client.force_login(operator)
    page = cancel(client, record).content.decode()
    assert "Step 1 had already ended (succeeded): nothing to cancel." in page
    assert not requested(record)


def test_pressing_twice_says_it_is_already_being_cancelled(client, operator, running):
    client.force_login(operator)
    cancel(client, running)
    assert "already being cancelled" in cancel(client, running).content.decode()


def test_cancelling_needs_the_csrf_token_and_a_post(operator, running):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.post(f"/executions/{running.pk}/cancel/").status_code == 403
    assert client.get(f"/executions/{running.pk}/cancel/").status_code == 405
    assert not requested(running)
