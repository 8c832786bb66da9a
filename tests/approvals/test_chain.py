"""The whole chain through a real django-q cluster: request -> plan ->
approval -> execution -> record."""
import datetime
import signal
import time

import pytest
from django.utils import timezone

from approvals import services
from approvals.models import ApprovalRequest, Run
from execution.models import ExecutionRecord
from tests.conftest import QCluster, set_policy, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CODE = 'print("beam current", 2 * 21)'


def wait_for_status(run, *statuses, timeout=60):
    def reached():
        run.refresh_from_db()
        return run.status in statuses

    wait_for(reached, timeout=timeout, message=f"run #{run.pk} to reach {statuses} (now {run.status})")


def pending_approval(run):
    return wait_for(lambda: run.approvals.filter(status="pending").first(), message="a pending approval")


def test_approved_code_runs_once_and_is_recorded(q_cluster, operator, reviewer):
    set_policy(python_mode="all_code")
    run = services.submit_run(operator, CODE)

    wait_for_status(run, Run.Status.WAITING)
    approval = pending_approval(run)
    assert approval.kind == ApprovalRequest.Kind.CODE
    assert approval.context["code"] == CODE
    assert approval.context["requested_by"] == operator.username

    services.decide(approval, reviewer, approve=True, comment="looks fine")
    wait_for_status(run, Run.Status.FINISHED, Run.Status.FAILED)

    assert run.status == Run.Status.FINISHED, (run.message, q_cluster.output())
    record = ExecutionRecord.objects.get(step__plan__run=run)
    assert record.stdout == "beam current 42\n"
    assert record.state == ExecutionRecord.State.SUCCEEDED
    assert record.approved_by == reviewer
    assert ExecutionRecord.objects.count() == 1


def test_rejected_code_never_runs(q_cluster, operator, reviewer):
    set_policy(python_mode="all_code")
    run = services.submit_run(operator, CODE)
    approval = pending_approval(run)

    services.decide(approval, reviewer, approve=False, comment="wrong magnet")
    wait_for_status(run, Run.Status.REJECTED, Run.Status.FAILED)

    assert run.status == Run.Status.REJECTED
    assert "wrong magnet" in run.message and reviewer.username in run.message
    assert not ExecutionRecord.objects.exists()


def test_planning_mode_waits_for_plan_approval_then_runs(q_cluster, operator, reviewer):
    run = services.submit_run(operator, "/planning\n" + CODE)
    approval = pending_approval(run)
    assert approval.kind == ApprovalRequest.Kind.PLAN
    assert approval.context["steps"][0]["inputs"]["code"] == CODE

    services.decide(approval, reviewer, approve=True)
    wait_for_status(run, Run.Status.FINISHED, Run.Status.FAILED)
    assert run.status == Run.Status.FINISHED, run.message


def test_run_survives_worker_restart_while_waiting(q_cluster, operator, reviewer, tmp_path):
    set_policy(python_mode="all_code")
    run = services.submit_run(operator, CODE)
    approval = pending_approval(run)

    # The worker dies hard while the graph waits; a new one takes over.
    q_cluster.stop(signal.SIGKILL)
    replacement = QCluster(tmp_path / "replacement.log").start()
    try:
        services.decide(approval, reviewer, approve=True)
        wait_for_status(run, Run.Status.FINISHED, Run.Status.FAILED)
    finally:
        replacement.stop()

    assert run.status == Run.Status.FINISHED, (run.message, replacement.output())
    assert ExecutionRecord.objects.get(step__plan__run=run).stdout == "beam current 42\n"


def test_abf_run_wait_prints_the_outcome(q_cluster, operator, capsys):
    from django.core.management import call_command

    set_policy(python_mode="disabled")
    call_command("abf_run", CODE, user=operator.username, wait=True, timeout=60)
    out = capsys.readouterr().out
    assert "Finished" in out and "beam current 42" in out


def test_worker_killed_while_code_runs_is_reported_interrupted_never_rerun(q_cluster, operator, reviewer, tmp_path):
    from execution.services import report_interrupted

    set_policy(python_mode="all_code")
    run = services.submit_run(operator, 'import time\nprint("started", flush=True)\ntime.sleep(60)\nprint("done")')
    services.decide(pending_approval(run), reviewer, approve=True)
    record = wait_for(
        lambda: ExecutionRecord.objects.filter(step__plan__run=run, state="running").first(), message="the execution"
    )
    q_cluster.stop(signal.SIGKILL)  # the worker and, with it, the sandbox

    assert report_interrupted() == 0, "its heartbeat is still fresh"
    later = record.heartbeat_at + datetime.timedelta(minutes=5)
    assert report_interrupted(now=later) == 1
    record.refresh_from_db()
    run.refresh_from_db()
    assert record.state == ExecutionRecord.State.INTERRUPTED
    assert run.status == Run.Status.FAILED and "interrupted mid-run" in run.message and "not re-run" in run.message

    # A new worker and the redelivery schedule change nothing: it is not run again.
    replacement = QCluster(tmp_path / "replacement.log").start()
    try:
        services.redeliver_lost_tasks(now=timezone.now() + datetime.timedelta(minutes=5))
        time.sleep(3)
    finally:
        replacement.stop()
    assert ExecutionRecord.objects.filter(step__plan__run=run).count() == 1
    assert report_interrupted(now=later) == 0
