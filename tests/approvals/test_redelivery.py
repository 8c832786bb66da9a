"""A task lost with the broker is queued again: the run still happens, once."""
import datetime

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from approvals import services
from approvals.models import Run
from execution.models import ExecutionRecord
from tests.approvals.test_chain import pending_approval, wait_for_status
from tests.conftest import QCluster, set_policy

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LATER = datetime.timedelta(minutes=5)


def test_lost_start_and_lost_resume_are_redelivered_and_run_once(operator, reviewer, tmp_path):
    set_policy(python_mode="all_code")
    run = services.submit_run(operator, 'print("once")')
    OrmQ.objects.all().delete()  # the start task is lost
    assert services.redeliver_lost_tasks() == (0, 0), "nothing is overdue yet"
    assert services.redeliver_lost_tasks(now=timezone.now() + LATER) == (1, 0)

    cluster = QCluster(tmp_path / "q1.log").start()
    try:
        approval = pending_approval(run)
        wait_for_status(run, Run.Status.WAITING)
    finally:
        cluster.stop()

    services.decide(approval, reviewer, approve=True)
    OrmQ.objects.all().delete()  # the resume task is lost
    assert services.redeliver_lost_tasks(now=timezone.now() + LATER) == (0, 1)
    # Redelivered twice (two schedule ticks): the claim keeps it to one run.
    services.redeliver_lost_tasks(now=timezone.now() + LATER)

    cluster = QCluster(tmp_path / "q2.log").start()
    try:
        wait_for_status(run, Run.Status.FINISHED, Run.Status.FAILED)
    finally:
        cluster.stop()
    assert run.status == Run.Status.FINISHED, run.message
    assert ExecutionRecord.objects.get(step__plan__run=run).stdout == "once\n"
    assert services.redeliver_lost_tasks(now=timezone.now() + LATER) == (0, 0)
