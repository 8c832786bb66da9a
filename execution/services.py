"""Execution write path: review code against the policy, and run an approved
step at most once."""
from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals import services as approval_services
from execution import runner
from execution.analysis import analyze_code, evaluate
from execution.models import ExecutionRecord


def review_code(code, policy):
    """Analyse code and apply the policy: (CodeAnalysis, Decision)."""
    analysis = analyze_code(code)
    return analysis, evaluate(policy, analysis)


def execute_step(step, approved_by=None):
    """Run a python step once. The record is claimed before the code starts:
    if a claim already exists (a retry after a worker crash, a duplicate
    resume), the step is not run again; a claim left 'running' by a dead
    worker is reported as interrupted."""
    try:
        with transaction.atomic():
            record = ExecutionRecord.objects.create(step=step, code=step.code, approved_by=approved_by)
    except IntegrityError:
        record = ExecutionRecord.objects.get(step=step)
        if record.state == ExecutionRecord.State.RUNNING:
            ExecutionRecord.objects.filter(pk=record.pk, state=ExecutionRecord.State.RUNNING).update(
                state=ExecutionRecord.State.INTERRUPTED, finished_at=timezone.now()
            )
            record.refresh_from_db()
        return record

    approval_services.mark_step(step, step.Status.RUNNING)
    result = runner.run_python(step.code)
    if result.timed_out:
        state = ExecutionRecord.State.TIMED_OUT
    elif result.exit_code == 0:
        state = ExecutionRecord.State.SUCCEEDED
    else:
        state = ExecutionRecord.State.FAILED
    with transaction.atomic():
        ExecutionRecord.objects.filter(pk=record.pk).update(
            state=state,
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            finished_at=timezone.now(),
            duration_ms=result.duration_ms,
        )
        record.refresh_from_db()
        approval_services.mark_step(
            step, step.Status.DONE if state == ExecutionRecord.State.SUCCEEDED else step.Status.FAILED
        )
    return record
