"""Every audited action leaves exactly one event, written by the real service
functions, admin pages, commands and login views (table-driven)."""
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from approvals import services
from approvals.models import ApprovalPolicy, ApprovalRequest, Run
from audit.actions import ACTIONS
from audit.models import AuditEvent
from execution import services as execution_services
from execution.models import ExecutionLimits, ExecutionRecord, PvLimit
from memory import services as memory_services
from tests.conftest import make_user
from tests.factories import make_step, make_waiting_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return make_user("ada", is_superuser=True, is_staff=True)


def _waiting(operator, quorum=1):
    run, approval = make_waiting_run(operator)
    ApprovalRequest.objects.filter(pk=approval.pk).update(quorum=quorum)
    approval.refresh_from_db()
    return approval


def submit(ctx):
    services.submit_run(ctx.operator, "print(1)")


def plan(ctx):
    from approvals import planning

    run = Run.objects.create(user=ctx.operator, request_text="print(1)")
    services.record_plan(run, "direct", planning.plan_directly("print(1)"))


def request_approval(ctx):
    from approvals import planning

    run = Run.objects.create(user=ctx.operator, request_text="print(1)")
    step = services.record_plan(run, "direct", planning.plan_directly("print(1)")).steps.get()
    ctx.mark()
    services.request_approval(run, "step-0-code", "code", {"code": "print(1)"}, "All code", step=step)


def vote(ctx):
    approval = _waiting(ctx.operator, quorum=2)
    ctx.mark()
    services.decide(approval, ctx.reviewer, approve=True, comment="fine by me")


def approve(ctx):
    approval = _waiting(ctx.operator)
    ctx.mark()
    services.decide(approval, ctx.reviewer, approve=True)


def reject(ctx):
    approval = _waiting(ctx.operator)
    ctx.mark()
    services.decide(approval, ctx.reviewer, approve=False, comment="not during beam time")


def edit_and_approve(ctx):
    approval = _waiting(ctx.operator)
    ctx.mark()
    services.decide(approval, ctx.reviewer, approve=True, edited='print("safer")')


def expire(ctx):
    approval = _waiting(ctx.operator)
    ctx.mark()
    services.expire(approval)


def escalate(ctx):
    approval = _waiting(ctx.operator)
    ctx.mark()
    services.escalate(approval)


def end_run(ctx):
    run = Run.objects.create(user=ctx.operator, request_text="x")
    services.set_run_status(run, Run.Status.FAILED, "broke")


def cancel(ctx):
    record = ExecutionRecord.objects.create(step=make_step(ctx.operator, "print(1)"), code="print(1)")
    ctx.mark()
    execution_services.cancel_execution(record, ctx.admin)


def memory_save(ctx):
    memory_services.save_memory(ctx.operator, "RF cavity 3 tuner sticks above 40 C", source="page")


def memory_edit(ctx):
    entry = memory_services.save_memory(ctx.operator, "old note", source="page")
    ctx.mark()
    ctx.client.force_login(ctx.operator)
    ctx.mark()
    ctx.client.post(f"/memory/{entry.pk}/", {"content": "new note", "tags": ""})


def memory_delete(ctx):
    entry = memory_services.save_memory(ctx.operator, "note", source="page")
    ctx.mark()
    memory_services.delete_memory(entry, ctx.operator)


def memory_import(ctx):
    path = ctx.tmp_path / "bob.json"
    path.write_text(json.dumps({"user_id": "bob", "entries": [{"timestamp": "2025-01-02 03:04", "content": "hi"}]}))
    memory_services.import_file(path)


def policy_change(ctx):
    ctx.client.force_login(ctx.admin)
    policy = ApprovalPolicy.current()
    data = {
        "name": policy.name, "is_active": "on", "global_mode": "all_capabilities", "python_mode": policy.python_mode,
        "planning_approval": "on", "memory_approval": "on",
        "review_rules-TOTAL_FORMS": "1", "review_rules-INITIAL_FORMS": "0",
        "review_rules-0-kind": "code", "review_rules-0-quorum": "2", "review_rules-0-escalate_before_minutes": "5",
    }
    ctx.mark()
    response = ctx.client.post(f"/admin/approvals/approvalpolicy/{policy.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def policy_add(ctx):
    ctx.client.force_login(ctx.admin)
    ctx.mark()
    data = {"name": "night shift", "global_mode": "all_capabilities", "python_mode": "all_code",
            "review_rules-TOTAL_FORMS": "0", "review_rules-INITIAL_FORMS": "0"}
    response = ctx.client.post("/admin/approvals/approvalpolicy/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def policy_delete(ctx):
    policy = ApprovalPolicy.objects.create(name="old draft")
    ctx.client.force_login(ctx.admin)
    ctx.mark()
    assert ctx.client.post(f"/admin/approvals/approvalpolicy/{policy.pk}/delete/", {"post": "yes"}).status_code == 302


def limits_change(ctx):
    ctx.client.force_login(ctx.admin)
    limits = ExecutionLimits.current()
    data = {"wall_time_seconds": 30, "cpu_seconds": 60, "memory_mb": 1024, "max_processes": 64,
            "output_bytes": 1048576, "file_size_mb": 64}
    ctx.mark()
    assert ctx.client.post(f"/admin/execution/executionlimits/{limits.pk}/change/", data).status_code == 302


def pv_limit_add(ctx):
    ctx.client.force_login(ctx.admin)
    ctx.mark()
    data = {"pv": "SR:MAG:Q1", "writable": "on", "min_value": "0", "max_value": "50", "verification": "readback",
            "tolerance_percent": "0.1"}
    assert ctx.client.post("/admin/execution/pvlimit/add/", data).status_code == 302


def pv_limit_delete(ctx):
    row = PvLimit.objects.create(pv="SR:MAG:Q2", writable=True)
    ctx.client.force_login(ctx.admin)
    ctx.mark()
    assert ctx.client.post(f"/admin/execution/pvlimit/{row.pk}/delete/", {"post": "yes"}).status_code == 302


def pv_limits_import(ctx):
    path = ctx.tmp_path / "limits.json"
    path.write_text(json.dumps({"SR:MAG:Q1": {"writable": True, "min_value": 0, "max_value": 10}}))
    call_command("import_pv_limits", str(path), stdout=open("/dev/null", "w"))


def login(ctx):
    ctx.client.post("/accounts/login/", {"username": "rita", "password": "pw-rita"})


def login_failed(ctx):
    ctx.client.post("/accounts/login/", {"username": "rita", "password": "wrong"})


def logout(ctx):
    ctx.client.force_login(ctx.reviewer)
    ctx.mark()
    ctx.client.post("/accounts/logout/")


def export(ctx):
    call_command("audit", "export", "--format", "csv", "--output", str(ctx.tmp_path / "a.csv"), "--quiet")


CASES = [
    (submit, "run.submitted", "olga", "olga"),
    (plan, "plan.made", "system", "olga"),
    (request_approval, "approval.requested", "system", "olga"),
    (vote, "approval.voted", "rita", "olga"),
    (approve, "approval.decided", "rita", "olga"),
    (reject, "approval.decided", "rita", "olga"),
    (edit_and_approve, "approval.decided", "rita", "olga"),
    (expire, "approval.expired", "system", "olga"),
    (escalate, "approval.escalated", "system", "olga"),
    (end_run, "run.ended", "system", "olga"),
    (cancel, "execution.cancel_requested", "ada", "olga"),
    (memory_save, "memory.saved", "olga", "olga"),
    (memory_edit, "memory.edited", "olga", "olga"),
    (memory_delete, "memory.deleted", "olga", "olga"),
    (memory_import, "memory.imported", None, "bob"),
    (policy_change, "policy.changed", "ada", ""),
    (policy_add, "policy.created", "ada", ""),
    (policy_delete, "policy.deleted", "ada", ""),
    (limits_change, "limits.changed", "ada", ""),
    (pv_limit_add, "limits.created", "ada", ""),
    (pv_limit_delete, "limits.deleted", "ada", ""),
    (pv_limits_import, "limits.imported", None, ""),
    (login, "auth.login", "rita", "rita"),
    (login_failed, "auth.login_failed", "anonymous", "rita"),
    (logout, "auth.logout", "rita", "rita"),
    (export, "audit.exported", None, ""),
]


class Context:
    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.mark()

    def mark(self):
        """Events before this point belong to the setup, not the action."""
        self.since = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    def new_events(self):
        return list(AuditEvent.objects.filter(seq__gt=self.since).order_by("seq"))


@pytest.mark.parametrize("action, expected, actor, subject", CASES, ids=[c[0].__name__ for c in CASES])
def test_each_action_leaves_exactly_one_event(action, expected, actor, subject, operator, reviewer, admin_user, client, tmp_path):
    ctx = Context(operator=operator, reviewer=reviewer, admin=admin_user, client=client, tmp_path=tmp_path)
    action(ctx)
    events = ctx.new_events()
    assert [e.action for e in events] == [expected]
    event = events[0]
    if actor:
        assert event.actor_name == actor
    else:
        assert event.actor_name.startswith("cli")
    assert event.subject_name == subject
    assert event.at <= timezone.now()


def test_every_documented_action_is_covered():
    covered = {case[1] for case in CASES} | {"execution.started", "execution.finished", "epics.write"}
    assert covered == set(ACTIONS)


def test_a_decision_records_reviewer_comment_and_edit(operator, reviewer):
    approval = _waiting(operator)
    services.decide(approval, reviewer, approve=True, comment="tidied", edited='print("safer")')
    event = AuditEvent.objects.get(action="approval.decided")
    payload = event.payload
    assert (event.actor_name, event.outcome, event.run_id) == ("rita", "approved", approval.run_id)
    assert payload["comment"] == "tidied" and payload["edited"] == 'print("safer")'
    assert payload["edited_digest"].startswith("sha256:") and payload["edited_digest"] != payload["content_digest"]


def test_a_policy_change_keeps_old_and_new_values(operator, admin_user, client, tmp_path):
    ctx = Context(operator=operator, reviewer=None, admin=admin_user, client=client, tmp_path=tmp_path)
    policy_change(ctx)
    changed = AuditEvent.objects.get(action="policy.changed").payload["changed"]
    assert changed["global_mode"] == {"old": "selective", "new": "all_capabilities"}
    assert changed["review_rules"]["new"]["code"]["quorum"] == 2


def test_saving_unchanged_settings_records_nothing(admin_user, client):
    client.force_login(admin_user)
    limits = ExecutionLimits.current()
    before = AuditEvent.objects.count()
    data = {f: getattr(limits, f) for f in ("wall_time_seconds", "cpu_seconds", "memory_mb", "max_processes", "output_bytes", "file_size_mb")}
    assert client.post(f"/admin/execution/executionlimits/{limits.pk}/change/", data).status_code == 302
    assert AuditEvent.objects.count() == before


def test_a_rolled_back_change_leaves_no_event(operator):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        services.submit_run(operator, "print(1)")
        raise RuntimeError("the caller's transaction fails")
    assert not AuditEvent.objects.filter(action="run.submitted").exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_whole_run_with_an_epics_write_tells_its_story_once(operator, reviewer, settings, epics_ioc):
    """Through the graph and the real IOC: one event per step of the story,
    and one per EPICS write attempt, taken from the execution record."""
    import epics

    from tests.conftest import set_policy
    from tests.epics_ioc import Q1_SETPOINT
    from tests.factories import decide_and_resume, start

    pv = "TEST:MAG:Q1:SETPT"
    settings.ABF_EPICS_READ_ADDR_LIST = settings.ABF_EPICS_WRITE_ADDR_LIST = ["127.0.0.1"]
    epics.caput(pv, Q1_SETPOINT, wait=True)
    PvLimit.objects.create(pv=pv, writable=True, min_value=0, max_value=50, max_step=2)
    set_policy(writes_enabled=True)
    try:
        run = start(operator, f"from epics import caput\ncaput({pv!r}, {Q1_SETPOINT + 1}, wait=True)")
        decide_and_resume(run, reviewer)
    finally:
        epics.caput(pv, Q1_SETPOINT, wait=True)
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED, run.message
    events = list(AuditEvent.objects.filter(run_id=run.pk).order_by("seq"))
    assert [e.action for e in events] == [
        "run.submitted", "plan.made", "approval.requested", "approval.decided",
        "execution.started", "execution.finished", "epics.write", "run.ended",
    ]
    write = events[6]
    assert (write.pv, write.outcome, write.payload["requested"]) == (pv, "confirmed", Q1_SETPOINT + 1)
    assert events[5].outcome == "succeeded" and events[4].payload["approved_by"] == "rita"
    assert events[-1].outcome == "finished"
