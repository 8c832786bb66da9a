"""The recent-executions provider: the same user's latest results, newest first."""
import pytest

from approvals.models import Plan, PlanStep, Run
from execution.models import ExecutionRecord
from providers.data_sources import RecentExecutionsProvider
from providers.services import retrieve_all_context
from tests.conftest import make_user
from tests.providers.fakes import ask

# The provider reads in a thread of its own, on a connection of its own: it
# sees committed rows only, so these tests commit theirs.
pytestmark = pytest.mark.django_db(transaction=True)


def execute(user, code, state="succeeded", stdout=""):
    run = Run.objects.create(user=user, request_text=code)
    step = PlanStep.objects.create(plan=Plan.objects.create(run=run, planner="direct"), order=0, capability="python",
                                   objective="run it", inputs={"code": code})
    return ExecutionRecord.objects.create(step=step, code=code, state=state, exit_code=0, stdout=stdout)


def test_the_users_latest_executions_newest_first(operator):
    other = make_user("oscar")
    for n in range(4):
        execute(operator, f"print({n})", stdout=f"{n}\n" + "x" * 1000)
    execute(other, "print('not yours')")
    execute(operator, "raise SystemExit(3)", state="failed")

    provider = RecentExecutionsProvider(limit=3, output_chars=10)
    result = retrieve_all_context(ask("what happened?", operator), [provider], record=False)
    (context,) = result.contexts
    assert [e["request"] for e in context.data] == ["raise SystemExit(3)", "print(3)", "print(2)"]
    assert context.data[0]["state"] == "failed"
    assert context.data[1]["stdout"] == "x" * 10
    assert context.summary == "3 most recent executions"


def test_nothing_without_a_user_or_executions(operator):
    provider = RecentExecutionsProvider()
    assert retrieve_all_context(ask("x"), [provider], record=False).skipped == ["recent_executions"]
    result = retrieve_all_context(ask("x", operator), [provider], record=False)
    assert result.succeeded == ["recent_executions"] and result.contexts == []
