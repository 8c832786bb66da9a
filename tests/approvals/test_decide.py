"""Deciding an approval request: who may, and exactly once."""
import threading

import pytest
from django.db import close_old_connections
from django_q.models import OrmQ

from approvals import services
from approvals.models import ApprovalRequest, Run
from tests.conftest import make_user
from tests.factories import make_waiting_run

pytestmark = pytest.mark.django_db


def test_approve_records_who_and_when(operator, reviewer, django_capture_on_commit_callbacks):
    run, approval = make_waiting_run(operator)
    assert run.status == Run.Status.WAITING
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.decide(approval, reviewer, approve=True, comment="ok")
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by, approval.comment) == ("approved", reviewer, "ok")
    assert approval.decided_at is not None
    assert len(callbacks) == 1  # the resume task is queued once, after commit


def test_second_decision_gets_a_clear_error(operator, reviewer, second_reviewer):
    _, approval = make_waiting_run(operator)
    services.decide(approval, reviewer, approve=True)
    with pytest.raises(services.DecisionError, match=r"already approved by rita"):
        services.decide(approval, second_reviewer, approve=False, comment="no")
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.decided_by == reviewer


def test_requester_cannot_approve_their_own_request(reviewer):
    _, approval = make_waiting_run(reviewer)
    with pytest.raises(services.DecisionError, match="someone else must review"):
        services.decide(approval, reviewer, approve=True)
    assert ApprovalRequest.objects.get(pk=approval.pk).is_pending


def test_only_reviewers_decide(operator):
    other_operator = make_user("otto", services.OPERATORS_GROUP)
    _, approval = make_waiting_run(operator)
    with pytest.raises(services.DecisionError, match="not a reviewer"):
        services.decide(approval, other_operator, approve=True)


def test_rejecting_needs_a_reason(operator, reviewer):
    _, approval = make_waiting_run(operator)
    with pytest.raises(services.DecisionError, match="Say why"):
        services.decide(approval, reviewer, approve=False, comment="  ")
    assert ApprovalRequest.objects.get(pk=approval.pk).is_pending


def test_a_decision_is_handed_to_the_graph_once(operator, reviewer):
    _, approval = make_waiting_run(operator)
    assert not services.claim_resume(approval)  # nothing decided yet
    services.decide(approval, reviewer, approve=True)
    assert services.claim_resume(approval)
    assert not services.claim_resume(approval)


def test_reopening_an_approval_point_finds_the_same_request(operator):
    run, approval = make_waiting_run(operator)
    again = services.request_approval(run, "step-0-code", ApprovalRequest.Kind.CODE, {}, "")
    assert again.pk == approval.pk
    assert ApprovalRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_one_wins(operator, reviewer, second_reviewer):
    _, approval = make_waiting_run(operator)
    outcomes, barrier = [], threading.Barrier(2)

    def decide(user, approve):
        barrier.wait()
        try:
            services.decide(ApprovalRequest.objects.get(pk=approval.pk), user, approve=approve, comment="c")
            outcomes.append("won")
        except services.DecisionError:
            outcomes.append("lost")
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=decide, args=(reviewer, True)),
        threading.Thread(target=decide, args=(second_reviewer, False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lost", "won"]
    assert ApprovalRequest.objects.get(pk=approval.pk).decisions.count() == 1
    assert OrmQ.objects.count() == 1  # one resume queued for the worker
