"""The graph gives code EPICS write permission only when a reviewer approved
that code and the writes master switch is on."""
import epics
import pytest

from approvals import services, tasks
from approvals.models import Run
from execution.models import EpicsWrite, ExecutionRecord, PvLimit
from tests.conftest import set_policy
from tests.epics_ioc import Q1_SETPOINT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

Q1 = "TEST:MAG:Q1:SETPT"
WRITE = f"from epics import caput\ncaput({Q1!r}, {Q1_SETPOINT + 1}, wait=True)"
HIDDEN_WRITE = f"import importlib\ngetattr(importlib.import_module('ep' + 'ics'), 'ca' + 'put')({Q1!r}, 13.0)"


@pytest.fixture(autouse=True)
def q1(settings, epics_ioc):
    settings.ABF_EPICS_READ_ADDR_LIST = ["127.0.0.1"]
    settings.ABF_EPICS_WRITE_ADDR_LIST = ["127.0.0.1"]
    epics.caput(Q1, Q1_SETPOINT, wait=True)
    PvLimit.objects.create(pv=Q1, writable=True, min_value=0, max_value=50, max_step=2)
    yield
    epics.caput(Q1, Q1_SETPOINT, wait=True)


def start(user, text):
    run = services.submit_run(user, text)
    tasks.start_run(run.pk)
    run.refresh_from_db()
    return run


def test_approved_code_gets_write_permission(operator, reviewer):
    set_policy(writes_enabled=True)
    run = start(operator, WRITE)
    assert run.status == Run.Status.WAITING

    approval = run.approvals.get()
    services.decide(approval, reviewer, approve=True, comment="ok")
    tasks.resume_run(approval.pk)
    run.refresh_from_db()

    assert run.status == Run.Status.FINISHED, run.message
    record = ExecutionRecord.objects.get()
    assert record.writes_allowed and record.approved_by == reviewer
    assert record.epics_writes.get().outcome == EpicsWrite.Outcome.CONFIRMED
    assert epics.caget(Q1, use_monitor=False) == pytest.approx(Q1_SETPOINT + 1)


def test_code_that_ran_without_approval_is_read_only(operator):
    # No approval needed at all: the hidden write still meets the guard.
    set_policy(global_mode="disabled", writes_enabled=True)
    run = start(operator, HIDDEN_WRITE)

    assert run.status == Run.Status.REFUSED, run.message
    record = ExecutionRecord.objects.get()
    assert not record.writes_allowed
    assert record.state == ExecutionRecord.State.REFUSED
    assert record.epics_writes.get().outcome == EpicsWrite.Outcome.REFUSED
    assert epics.caget(Q1, use_monitor=False) == pytest.approx(Q1_SETPOINT)


def test_switching_writes_off_after_approval_refuses_the_step(operator, reviewer):
    set_policy(writes_enabled=True)
    run = start(operator, WRITE)
    approval = run.approvals.get()
    services.decide(approval, reviewer, approve=True, comment="ok")
    set_policy(writes_enabled=False)
    tasks.resume_run(approval.pk)
    run.refresh_from_db()

    assert run.status == Run.Status.REFUSED
    assert not ExecutionRecord.objects.exists()
    assert epics.caget(Q1, use_monitor=False) == pytest.approx(Q1_SETPOINT)
