"""The write path for runs and approvals. Views, commands, tasks and graph
nodes call these; nothing else changes a run's state."""
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from approvals import planning, push
from approvals.models import ApprovalDecision, ApprovalPolicy, ApprovalRequest, Plan, PlanStep, Run
from audit import services as audit

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
        audit.record_event(user, "run.submitted", run, {"request": run.request_text, "planning_mode": planning_mode})
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
    with transaction.atomic():
        changed = Run.objects.filter(pk=run.pk).exclude(status__in=Run.TERMINAL).update(**fields)
        if changed and status in Run.TERMINAL:
            audit.record_event(None, "run.ended", run, {"status": status, "message": fields.get("message", run.message)}, outcome=status)
    run.refresh_from_db()
    if changed:
        transaction.on_commit(lambda: push.run_updated(run))
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
            audit.record_event(None, "plan.made", plan, {"planner": planner, "steps": len(steps), "plan_digest": audit.digest([s.as_dict() for s in steps])})
    return plan


def record_context(run, context):
    Run.objects.filter(pk=run.pk).update(context=context)
    run.context = context


def mark_step(step, status):
    PlanStep.objects.filter(pk=step.pk).update(status=status)
    step.status = status
    run = step.plan.run
    if status == PlanStep.Status.RUNNING:
        set_run_status(run, Run.Status.RUNNING)
    transaction.on_commit(lambda: push.run_updated(run))


# --- Approvals -----------------------------------------------------------------


def request_approval(run, interrupt_key, kind, context, reason, step=None):
    """Open (or find again) the approval request for one approval point, with
    the governance the active policy's rule sets for its kind."""
    with transaction.atomic():
        approval = ApprovalRequest.objects.filter(run=run, interrupt_key=interrupt_key).first()
        created = approval is None
        if created:
            approval = ApprovalRequest(
                run=run, interrupt_key=interrupt_key, kind=kind, requester=run.user, context=context, reason=reason
            )
            _apply_rule(approval, ApprovalPolicy.current())
            approval.save()
        if approval.is_pending:
            set_run_status(run, Run.Status.WAITING)
            if step is not None:
                mark_step(step, PlanStep.Status.WAITING)
        if created:
            audit.record_event(None, "approval.requested", approval, audit.approval_payload(approval))
            transaction.on_commit(lambda: push.approval_requested(approval))
    return approval


def _apply_rule(approval, policy):
    rule = policy.rule_for(approval.kind) if policy else None
    if rule is None:
        return
    approval.reviewer_group = rule.reviewer_group
    approval.quorum = max(1, rule.quorum)
    if rule.expiry_minutes:
        now = timezone.now()
        approval.expires_at = now + timedelta(minutes=rule.expiry_minutes)
        if rule.escalation_group:
            approval.escalation_group = rule.escalation_group
            approval.escalate_at = approval.expires_at - timedelta(minutes=rule.escalate_before_minutes)


def reviewer_group_name(approval):
    return approval.reviewer_group.name if approval.reviewer_group else REVIEWERS_GROUP


def eligible_reviewers(approval):
    """Everyone who may still vote on this request."""
    User = get_user_model()
    users = User.objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(groups__name=reviewer_group_name(approval))
    )
    voted = approval.decisions.values("reviewer_id")
    return users.exclude(pk=approval.requester_id).exclude(pk__in=voted).distinct()


def can_decide(user, approval):
    """Who may decide: an active member of the request's reviewer group (or a
    superuser), never the requester, and only once."""
    if not user.is_active:
        return False, f"{user} is not an active user."
    if approval.requester_id == user.pk:
        return False, "You asked for this run; someone else must review it."
    group = reviewer_group_name(approval)
    if not (user.is_superuser or user.groups.filter(name=group).exists()):
        return False, f"{user} is not a reviewer for this request (not in the '{group}' group)."
    if approval.decisions.filter(reviewer=user).exists():
        return False, f"{user} has already voted on this request; another reviewer must add theirs."
    return True, ""


def decide(approval, user, approve, comment="", edited=None):
    """Record one reviewer's vote and, when it settles the request, decide it.

    A rejection settles at once; approvals settle when the quorum of distinct
    reviewers agrees. The vote and the status change happen in one
    transaction with the request row locked, so of two concurrent decisions
    exactly one settles the request and the other gets a DecisionError.
    `edited` (code text, or a list of plan steps) approves a changed version;
    the original stays in the request's context.
    """
    comment = (comment or "").strip()
    if not approve and not comment:
        raise DecisionError("Say why you reject it: a comment is required, so the operator knows.")
    if edited is not None and not approve:
        raise DecisionError("An edit can only be approved.")
    with transaction.atomic():
        locked = ApprovalRequest.objects.select_for_update().get(pk=approval.pk)
        if not locked.is_pending:
            who = f" by {locked.decided_by}" if locked.decided_by else ""
            raise DecisionError(f"Approval #{locked.pk} was already {locked.get_status_display().lower()}{who}.")
        allowed, why = can_decide(user, locked)
        if not allowed:
            raise DecisionError(why)
        if edited is not None:
            edited = _validated_edit(locked, edited)
        ApprovalDecision.objects.create(
            approval=locked,
            reviewer=user,
            verdict=ApprovalDecision.Verdict.APPROVE if approve else ApprovalDecision.Verdict.REJECT,
            comment=comment,
            edited_content=edited,
        )
        if edited is not None:
            ApprovalRequest.objects.filter(pk=locked.pk).update(approved_content=edited)
            locked.approved_content = edited
        if approve and locked.approvals_given < locked.quorum:
            audit.record_event(user, "approval.voted", locked, audit.vote_payload(locked, approve, comment, edited))
            transaction.on_commit(lambda: push.approval_voted(locked))
            locked.refresh_from_db()
            return locked
        status = ApprovalRequest.Status.APPROVED if approve else ApprovalRequest.Status.REJECTED
        ApprovalRequest.objects.filter(pk=locked.pk, status=ApprovalRequest.Status.PENDING).update(
            status=status, decided_by=user, decided_at=timezone.now(), comment=comment
        )
        if approve and locked.approved_content is not None:
            _apply_edit(locked)
        audit.record_event(user, "approval.decided", locked, audit.vote_payload(locked, approve, comment, edited), outcome=status)
        transaction.on_commit(lambda: _settled(locked.pk))
    approval.refresh_from_db()
    return approval


def _validated_edit(approval, edited):
    if approval.kind == ApprovalRequest.Kind.CODE:
        if not isinstance(edited, str) or not edited.strip():
            raise DecisionError("The edited code is empty.")
        return edited
    if approval.kind == ApprovalRequest.Kind.PLAN:
        try:
            return [step.as_dict() for step in planning.validate_steps(edited)]
        except planning.PlanningError as exc:
            raise DecisionError(f"The edited plan is not valid: {exc}") from None
    raise DecisionError(f"{approval.get_kind_display()} requests cannot be edited.")


def _apply_edit(approval):
    """Make the approved version the one that runs."""
    plan = approval.run.plan
    if approval.kind == ApprovalRequest.Kind.CODE:
        order = int(approval.interrupt_key.split("-")[1])
        step = plan.steps.get(order=order)
        step.inputs = {**step.inputs, "code": approval.approved_content}
        step.save(update_fields=["inputs"])
    elif approval.kind == ApprovalRequest.Kind.PLAN:
        plan.steps.all().delete()
        PlanStep.objects.bulk_create(
            PlanStep(plan=plan, order=i, capability=s["capability"], objective=s["objective"], inputs=s["inputs"])
            for i, s in enumerate(approval.approved_content)
        )


def expire(approval):
    """Fail secure: an undecided request past its time is rejected and nothing runs."""
    with transaction.atomic():
        expired = ApprovalRequest.objects.filter(pk=approval.pk, status=ApprovalRequest.Status.PENDING).update(
            status=ApprovalRequest.Status.EXPIRED,
            decided_at=timezone.now(),
            comment="Expired: nobody decided in time, so nothing runs.",
        )
        if expired:
            audit.record_event(None, "approval.expired", approval, audit.approval_payload(approval), outcome="expired")
            transaction.on_commit(lambda: _settled(approval.pk))
    return bool(expired)


def expire_overdue(now=None):
    """Expire every overdue request and escalate those about to expire. Run on a schedule."""
    now = now or timezone.now()
    pending = ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING)
    expired = sum(expire(a) for a in pending.filter(expires_at__lte=now))
    for approval in pending.filter(escalate_at__lte=now, escalated_at__isnull=True):
        escalate(approval)
    return expired


def escalate(approval):
    with transaction.atomic():
        if ApprovalRequest.objects.filter(pk=approval.pk, escalated_at__isnull=True).update(escalated_at=timezone.now()):
            audit.record_event(None, "approval.escalated", approval, audit.approval_payload(approval, escalation_group=str(approval.escalation_group)))
            transaction.on_commit(lambda: push.approval_escalated(approval))


def _settled(approval_id):
    approval = ApprovalRequest.objects.select_related("run", "decided_by").get(pk=approval_id)
    push.approval_settled(approval)
    _enqueue("approvals.tasks.resume_run", approval_id)


def claim_resume(approval):
    """Hand a decision to the graph at most once."""
    return bool(
        ApprovalRequest.objects.filter(pk=approval.pk, resumed_at__isnull=True)
        .exclude(status=ApprovalRequest.Status.PENDING)
        .update(resumed_at=timezone.now())
    )


def redeliver_lost_tasks(now=None):
    """The database is the truth and the queue only a hint: a task lost with
    the broker (a Redis restart, a worker killed after taking it) is queued
    again once it is overdue. Claims (claim_run_start, claim_resume) make a
    duplicate harmless, so nothing runs twice. Run on a schedule. Returns
    (runs started again, decisions handed over again)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.ABF_REDELIVER_AFTER_SECONDS)
    runs = list(Run.objects.filter(status=Run.Status.QUEUED, created_at__lte=cutoff).values_list("pk", flat=True))
    decisions = list(
        ApprovalRequest.objects.exclude(status=ApprovalRequest.Status.PENDING)
        .filter(resumed_at__isnull=True, decided_at__lte=cutoff)
        .values_list("pk", flat=True)
    )
    for run_id in runs:
        log.warning("run %s was still queued; queueing it again", run_id)
        _enqueue("approvals.tasks.start_run", run_id)
    for approval_id in decisions:
        log.warning("decision %s was not handed to its run; queueing it again", approval_id)
        _enqueue("approvals.tasks.resume_run", approval_id)
    return len(runs), len(decisions)


def _enqueue(task, *args):
    from django_q.tasks import async_task

    async_task(task, *args, task_name=f"{task.rsplit('.', 1)[-1]}:{args[0]}")
