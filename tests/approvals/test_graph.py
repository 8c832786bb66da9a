"""The graph's flow, driven in-process by the same tasks a worker runs.
(The real-cluster end-to-end tests are in test_chain.py.)"""
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from approvals import graph, planning, services, tasks
from approvals.models import ApprovalPolicy, ApprovalRequest, PlanStep, Run
from execution import services as execution_services
from execution.models import ExecutionRecord
from tests.conftest import set_policy
from tests.factories import decide_and_resume, start

pytestmark = pytest.mark.django_db(transaction=True)

READ_ONLY = "from epics import caget\nprint('no IOC needed')"
WRITES = "from epics import caput as w\nif False:\n    w('SR:MAG:Q1:SETPT', 5.0)\nprint('would move a magnet')"
OPAQUE = "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))"



def test_read_only_code_runs_without_approval_in_epics_writes_mode(operator):
    run = start(operator, READ_ONLY)
    assert run.status == Run.Status.FINISHED, run.message
    assert not run.approvals.exists()
    assert ExecutionRecord.objects.get().stdout == "no IOC needed\n"


def test_writing_code_stops_for_approval_with_the_pv_named(operator, reviewer):
    set_policy(writes_enabled=True)
    run = start(operator, WRITES)
    assert run.status == Run.Status.WAITING
    approval = run.approvals.get()
    assert approval.kind == ApprovalRequest.Kind.CODE
    assert "SR:MAG:Q1:SETPT" in approval.reason
    assert approval.context["analysis"]["has_epics_writes"] is True
    assert not ExecutionRecord.objects.exists()

    decide_and_resume(run, reviewer)
    assert run.status == Run.Status.FINISHED, run.message
    assert ExecutionRecord.objects.get().approved_by == reviewer


def test_opaque_code_stops_for_approval_with_the_reason(operator):
    run = start(operator, OPAQUE)
    assert run.status == Run.Status.WAITING
    assert "exec" in run.approvals.get().reason


def test_writes_are_refused_while_the_master_switch_is_off(operator):
    run = start(operator, WRITES)
    assert run.status == Run.Status.REFUSED
    assert "master switch" in run.message
    assert not run.approvals.exists() and not ExecutionRecord.objects.exists()
    assert run.plan.steps.get().status == PlanStep.Status.REFUSED


def test_no_active_policy_means_approval_required(operator):
    ApprovalPolicy.objects.update(is_active=False)
    run = start(operator, "/planning\n" + READ_ONLY)
    assert run.status == Run.Status.WAITING
    assert "No active approval policy" in run.approvals.get().reason


def test_rejected_plan_runs_nothing(operator, reviewer):
    run = start(operator, "/planning\n" + READ_ONLY)
    decide_and_resume(run, reviewer, approve=False, comment="not today")
    assert run.status == Run.Status.REJECTED
    assert "not today" in run.message
    assert not ExecutionRecord.objects.exists()


def test_an_expired_request_ends_the_run_and_nothing_runs(operator):
    set_policy(python_mode="all_code")
    run = start(operator, READ_ONLY)
    approval = run.approvals.get()
    services.expire(approval)
    tasks.resume_run(approval.pk)
    run.refresh_from_db()
    assert run.status == Run.Status.REJECTED and "expired" in run.message
    assert not ExecutionRecord.objects.exists()


def test_an_edited_approval_runs_the_edited_code(operator, reviewer):
    set_policy(python_mode="all_code")
    run = start(operator, READ_ONLY)
    approval = run.approvals.get()
    services.decide(approval, reviewer, approve=True, edited="print('edited by the reviewer')")
    tasks.resume_run(approval.pk)
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED, run.message
    record = ExecutionRecord.objects.get()
    assert record.stdout == "edited by the reviewer\n"
    assert approval.context["code"] == READ_ONLY  # the original is kept


def test_an_edit_that_adds_writes_is_refused_before_it_runs(operator, reviewer):
    set_policy(python_mode="all_code")
    run = start(operator, READ_ONLY)
    services.decide(run.approvals.get(), reviewer, approve=True, edited=WRITES)
    tasks.resume_run(run.approvals.get().pk)
    run.refresh_from_db()
    assert run.status == Run.Status.REFUSED and "master switch" in run.message
    assert not ExecutionRecord.objects.exists()


def test_resuming_twice_runs_the_step_once(operator, reviewer):
    set_policy(python_mode="all_code")
    run = start(operator, READ_ONLY)
    approval = decide_and_resume(run, reviewer)
    assert run.status == Run.Status.FINISHED
    # A duplicate resume task, and even a direct second resume of the graph.
    tasks.resume_run(approval.pk)
    graph.advance(run, resume={"approval_id": approval.pk, "status": "approved"})
    assert ExecutionRecord.objects.count() == 1


def test_a_step_whose_worker_died_mid_run_is_reported_not_rerun(operator):
    run = services.submit_run(operator, READ_ONLY)
    plan = services.record_plan(run, "direct", planning.plan_directly(READ_ONLY))
    step = plan.steps.get()
    ExecutionRecord.objects.create(step=step, code=step.code)  # the dead worker's claim

    record = execution_services.execute_step(step)
    assert record.state == ExecutionRecord.State.INTERRUPTED
    assert record.stdout == ""


def test_llm_planned_run(operator, settings, monkeypatch):
    settings.ABF_LLM_MODEL = "fake:model"
    model = FakeListChatModel(
        responses=['[{"capability": "python", "objective": "greet", "inputs": {"code": "print(\'hello\')"}}]']
    )
    monkeypatch.setattr(planning, "get_chat_model", lambda: model)
    run = start(operator, "say hello to the control room")
    assert run.status == Run.Status.FINISHED, run.message
    assert run.plan.planner == "fake:model"
    assert ExecutionRecord.objects.get().stdout == "hello\n"


def test_llm_planning_failure_ends_the_run_with_the_reason(operator, settings, monkeypatch):
    settings.ABF_LLM_MODEL = "fake:model"
    monkeypatch.setattr(planning, "get_chat_model", lambda: FakeListChatModel(responses=["no plan"]))
    run = start(operator, "do something")
    assert run.status == Run.Status.FAILED and "not valid JSON" in run.message


def test_a_broken_graph_fails_the_run_instead_of_going_on(operator, monkeypatch):
    def broken(code, policy):
        raise RuntimeError("analyzer crashed")

    monkeypatch.setattr(execution_services, "review_code", broken)
    run = start(operator, READ_ONLY)
    assert run.status == Run.Status.FAILED and "analyzer crashed" in run.message
    assert not ExecutionRecord.objects.exists()


def test_a_failing_step_fails_the_run(operator):
    run = start(operator, "raise SystemExit(4)")
    assert run.status == Run.Status.FAILED and "Step 1 failed" in run.message
    assert ExecutionRecord.objects.get().exit_code == 4


class RecordingChatModel(FakeListChatModel):
    """A fake chat model that keeps what it was asked."""

    seen: list = []

    def _call(self, messages, *args, **kwargs):
        self.seen.append("\n".join(str(m.content) for m in messages))
        return super()._call(messages, *args, **kwargs)


@pytest.mark.slow
def test_the_planner_sees_live_epics_values(operator, settings, monkeypatch, epics_ioc):
    settings.ABF_LLM_MODEL = "fake:model"
    model = RecordingChatModel(
        responses=['[{"capability": "python", "objective": "report", "inputs": {"code": "print(\'ok\')"}}]'], seen=[]
    )
    monkeypatch.setattr(planning, "get_chat_model", lambda: model)
    run = start(operator, "why is TEST:BEAM:CURRENT low?")
    assert run.status == Run.Status.FINISHED, run.message
    assert "TEST:BEAM:CURRENT" in model.seen[0] and "epics_values" in str(run.context)
    assert "TEST:BEAM:CURRENT" in str(run.context["providers"])


def test_an_unknown_global_mode_means_approval_required(operator):
    set_policy(global_mode="selectiv")  # a typo stored in the database
    run = start(operator, "/planning\n" + READ_ONLY)
    assert run.status == Run.Status.WAITING
