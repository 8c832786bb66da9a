"""The write path for runs and approvals. Views, commands, tasks and graph
nodes call these; nothing else changes a run's state."""
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from approvals import planning
from approvals.models import ApprovalRequest, Plan, PlanStep, Run

log = logging.getLogger(__name__)

REVIEWERS_GROUP = "reviewers"
OPERATORS_GROUP = "operators"


class DecisionError(Exception):
    """A decision that cannot be applied; the message says why, for a person."""


def resolve_user(user_or_name):
    if isinstance(user_or_name, get_user_model()):
        return user_or_name
    try:
        return get_user_model().objects.get(username=user_or_name)
    except get_user_model().DoesNotExist:
        raise ValueError(f"No user named {user_or_name!r}.") from None


# --- Runs ----------------------------------------------------------------------


def submit_run(user, text):
    """Record an operator's request and queue it for a worker.

    The direct planner is cheap and deterministic, so its verdict is given
    now: an unreadable request is refused with the reason and nothing is saved.
    """
    if not isinstance(text, str) or not text.strip():
        raise planning.PlanningError("The request is empty: type what you want abf to do.")
    planning_mode, body = planning.split_planning_mode(text)
    if not body:
        raise planning.PlanningError("The request is empty after /planning: say what you want planned.")
    if not settings.ABF_LLM_MODEL:
        planning.plan_directly(body)
    with transaction.atomic():
        run = Run.objects.create(user=user, request_text=text.strip(), planning_mode=planning_mode)
        transaction.on_commit(lambda: _enqueue("approvals.tasks.start_run", run.pk))
    return run


def claim_run_start(run):
    """queued -> planning, once. False if another worker already started it."""
    return bool(Run.objects.filter(pk=run.pk, status=Run.Status.QUEUED).update(status=Run.Status.PLANNING))


def set_run_status(run, status, message=None):
    fields = {"status": status, "updated_at": timezone.now()}
    if message is not None:
        fields["message"] = message
    if status in Run.TERMINAL:
        fields["finished_at"] = timezone.now()
    # A finished run stays finished: late or duplicate updates are ignored.
    Run.objects.filter(pk=run.pk).exclude(status__in=Run.TERMINAL).update(**fields)
    run.refresh_from_db()
    return run


def fail_run(run, message):
    log.warning("run %s failed: %s", run.pk, message)
    return set_run_status(run, Run.Status.FAILED, message)


def record_plan(run, planner, steps):
    """Save the plan once; a re-run planning node gets the saved one back."""
    with transaction.atomic():
        plan, created = Plan.objects.get_or_create(run=run, defaults={"planner": planner})
        if created:
            PlanStep.objects.bulk_create(
                PlanStep(plan=plan, order=i, capability=s.capability, objective=s.objective, inputs=s.inputs)
                for i, s in enumerate(steps)
            )
    return plan


def mark_step(step, status):
    PlanStep.objects.filter(pk=step.pk).update(status=status)
    step.status = status
    if status == PlanStep.Status.RUNNING:
        set_run_status(step.plan.run, Run.Status.RUNNING)


# --- Approvals -----------------------------------------------------------------


def request_approval(run, interrupt_key, kind, context, reason, step=None):
    """Open (or find again) the approval request for one approval point."""
    with transaction.atomic():
        approval, _ = ApprovalRequest.objects.get_or_create(
            run=run,
            interrupt_key=interrupt_key,
            defaults={"kind": kind, "requester": run.user, "context": context, "reason": reason},
        )
        if approval.is_pending:
            set_run_status(run, Run.Status.WAITING)
            if step is not None:
                mark_step(step, PlanStep.Status.WAITING)
    return approval


def can_decide(user, approval):
    """Who may decide: an active reviewer or superuser, never the requester."""
    if not user.is_active:
        return False, f"{user} is not an active user."
    if approval.requester_id == user.pk:
        return False, "You asked for this run; someone else must review it."
    if not (user.is_superuser or user.groups.filter(name=REVIEWERS_GROUP).exists()):
        return False, f"{user} is not a reviewer (not in the '{REVIEWERS_GROUP}' group)."
    return True, ""


def decide(approval, user, approve, comment=""):
    """Approve or reject a pending request, atomically: of two concurrent
    decisions exactly one wins; the other gets a DecisionError."""
    allowed, why = can_decide(user, approval)
    if not allowed:
        raise DecisionError(why)
    if not approve and not (comment or "").strip():
        raise DecisionError("Say why you reject it: a comment is required, so the operator knows.")
    status = ApprovalRequest.Status.APPROVED if approve else ApprovalRequest.Status.REJECTED
    with transaction.atomic():
        won = ApprovalRequest.objects.filter(pk=approval.pk, status=ApprovalRequest.Status.PENDING).update(
            status=status, decided_by=user, decided_at=timezone.now(), comment=(comment or "").strip()
        )
        if not won:
            current = ApprovalRequest.objects.get(pk=approval.pk)
            who = f" by {current.decided_by}" if current.decided_by else ""
            raise DecisionError(f"Approval #{approval.pk} was already {current.get_status_display().lower()}{who}.")
        transaction.on_commit(lambda: _enqueue("approvals.tasks.resume_run", approval.pk))
    approval.refresh_from_db()
    return approval


def claim_resume(approval):
    """Hand a decision to the graph at most once."""
    return bool(
        ApprovalRequest.objects.filter(pk=approval.pk, resumed_at__isnull=True)
        .exclude(status=ApprovalRequest.Status.PENDING)
        .update(resumed_at=timezone.now())
    )


def _enqueue(task, *args):
    from django_q.tasks import async_task

    async_task(task, *args, task_name=f"{task.rsplit('.', 1)[-1]}:{args[0]}")
