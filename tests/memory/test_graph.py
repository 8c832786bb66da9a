"""Memory steps through the graph, driven in-process by the tasks a worker runs."""
import io

import pytest
from django.core.management import call_command
from django.test import Client

from approvals.models import ApprovalRequest, PlanStep, Run
from memory import services as memory_services
from memory.models import MemoryEntry
from tests.conftest import set_policy
from tests.factories import decide_and_resume, start

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = "remember that the RF cavity 3 tuner sticks above 40 °C"



def test_save_waits_for_approval_showing_text_and_owner(operator, reviewer):
    run = start(operator, NOTE)
    assert run.status == Run.Status.WAITING
    approval = run.approvals.get()
    assert approval.kind == ApprovalRequest.Kind.MEMORY
    assert approval.context["content"] == "the RF cavity 3 tuner sticks above 40 °C"
    assert approval.context["owner"] == "olga"
    assert not MemoryEntry.objects.exists()

    client = Client()
    client.force_login(reviewer)
    page = client.get(approval.get_absolute_url()).content.decode()
    assert "the RF cavity 3 tuner sticks above 40 °C" in page and "olga" in page
    assert "Memory" in client.get("/approvals/").content.decode()
    out = io.StringIO()
    call_command("approvals", "show", str(approval.pk), stdout=out)
    assert "Note for olga's memory (exactly this text is saved):\nthe RF cavity 3 tuner sticks above 40 °C" in out.getvalue()

    decide_and_resume(run, reviewer)
    assert run.status == Run.Status.FINISHED, run.message
    entry = MemoryEntry.objects.get()
    assert (entry.owner, entry.content, entry.approved_by) == (operator, approval.context["content"], reviewer)
    assert (entry.source, entry.source_run, entry.source_step) == (MemoryEntry.Source.RUN, run, 0)
    assert run.plan.steps.get().status == PlanStep.Status.DONE


def test_rejection_stores_nothing(operator, reviewer):
    run = start(operator, NOTE)
    decide_and_resume(run, reviewer, approve=False, comment="not a fact")
    assert run.status == Run.Status.REJECTED
    assert "not a fact" in run.message
    assert not MemoryEntry.objects.exists()
    assert run.plan.steps.get().status == PlanStep.Status.REJECTED


def test_save_without_approval_when_the_policy_says_so(operator):
    set_policy(memory_approval=False)
    run = start(operator, "remember: IG-07-2 reads high after a bakeout")
    assert run.status == Run.Status.FINISHED, run.message
    assert not run.approvals.exists()
    entry = MemoryEntry.objects.get()
    assert entry.content == "IG-07-2 reads high after a bakeout" and entry.approved_by is None


def test_a_later_run_gets_the_note_back_as_context(operator):
    set_policy(memory_approval=False)
    start(operator, NOTE)
    later = start(operator, "print('why does the third RF cell tuning motor jam when hot?')")
    memory = next(p for p in later.context["providers"] if p["name"] == "user_memory")
    assert "cavity 3 tuner" in memory["context"]["data"][0]["content"], later.context


def test_memory_and_python_steps_in_one_plan(operator):
    set_policy(memory_approval=False)
    plan = (
        '[{"capability": "memory", "objective": "note", "inputs": {"content": "BPM 12 is noisy"}},'
        ' {"capability": "python", "objective": "say hi", "inputs": {"code": "print(1)"}}]'
    )
    run = start(operator, plan)
    assert run.status == Run.Status.FINISHED, run.message
    assert memory_services.get_user_context(operator)[0].content == "BPM 12 is noisy"


def test_the_run_page_shows_the_memory_step(operator, reviewer):
    run = start(operator, NOTE)
    client = Client()
    client.force_login(operator)
    page = client.get(run.get_absolute_url()).content.decode()
    assert "memory" in page and "Save a note to the operator" in page
