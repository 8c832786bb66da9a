"""Cancelling a running execution from another process or thread."""
import threading

import pytest

from execution.models import ExecutionRecord
from execution.services import cancel_execution, execute_step
from tests.conftest import wait_for
from tests.factories import make_step

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_cancelled_execution_stops_and_says_so(operator):
    step = make_step(operator, "import time\nprint('started', flush=True)\ntime.sleep(60)")
    done = []
    worker = threading.Thread(target=lambda: done.append(execute_step(step)))
    worker.start()
    record = wait_for(lambda: ExecutionRecord.objects.filter(step=step).first(), timeout=10, message="the record")

    assert cancel_execution(record)
    worker.join(timeout=15)

    assert not worker.is_alive()
    record.refresh_from_db()
    assert record.state == ExecutionRecord.State.CANCELLED
    assert record.duration_ms < 10_000
    step.refresh_from_db()
    assert step.status == step.Status.FAILED


def test_an_ended_execution_cannot_be_cancelled(operator):
    record = execute_step(make_step(operator, "print(1)"))
    assert record.state == ExecutionRecord.State.SUCCEEDED
    assert not cancel_execution(record)


def test_admin_action_cancels(admin_client, operator):
    record = ExecutionRecord.objects.create(step=make_step(operator, "print(1)"), code="print(1)")
    admin_client.post(
        "/admin/execution/executionrecord/", {"action": "cancel", "_selected_action": [record.pk]}
    )
    record.refresh_from_db()
    assert record.cancel_requested_at is not None
