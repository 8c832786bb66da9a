"""Governance an admin sets per policy: reviewer groups, quorum, expiry, escalation."""
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from approvals import services
from approvals.models import ApprovalPolicy, ApprovalRequest, ReviewRule
from tests.conftest import make_user
from tests.factories import make_waiting_run

pytestmark = pytest.mark.django_db


def rule(**fields):
    return ReviewRule.objects.create(policy=ApprovalPolicy.current(), kind="code", **fields)


def test_only_the_rules_group_may_decide(operator, reviewer):
    rule(reviewer_group=Group.objects.create(name="rf-experts"))
    expert = make_user("erin", "rf-experts")
    _, approval = make_waiting_run(operator)
    with pytest.raises(services.DecisionError, match="not in the 'rf-experts' group"):
        services.decide(approval, reviewer, approve=True)
    services.decide(approval, expert, approve=True)
    assert ApprovalRequest.objects.get().status == "approved"


def test_quorum_of_two_needs_two_different_people(operator, reviewer, second_reviewer):
    rule(quorum=2)
    _, approval = make_waiting_run(operator)
    services.decide(approval, reviewer, approve=True)
    assert ApprovalRequest.objects.get().is_pending
    with pytest.raises(services.DecisionError, match="already voted"):
        services.decide(approval, reviewer, approve=True)
    services.decide(approval, second_reviewer, approve=True)
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.decided_by == second_reviewer
    assert approval.decisions.count() == 2


def test_one_rejection_settles_a_quorum_request(operator, reviewer, second_reviewer):
    rule(quorum=2)
    _, approval = make_waiting_run(operator)
    services.decide(approval, reviewer, approve=True)
    services.decide(approval, second_reviewer, approve=False, comment="field too high")
    assert ApprovalRequest.objects.get().status == "rejected"


def test_an_edit_restarts_the_quorum(operator, reviewer, second_reviewer):
    rule(quorum=2)
    third = make_user("rob", services.REVIEWERS_GROUP)
    _, approval = make_waiting_run(operator, code="print(1)")
    services.decide(approval, reviewer, approve=True)
    services.decide(approval, second_reviewer, approve=True, edited="print(2)")
    approval.refresh_from_db()
    assert approval.is_pending and approval.approved_content == "print(2)"
    services.decide(approval, third, approve=True)
    assert ApprovalRequest.objects.get().status == "approved"


def test_expiry_rejects_and_nothing_runs(operator, reviewer, django_capture_on_commit_callbacks):
    rule(expiry_minutes=10)
    run, approval = make_waiting_run(operator)
    assert approval.expires_at is not None
    assert services.expire_overdue(now=timezone.now() + timedelta(minutes=5)) == 0
    with django_capture_on_commit_callbacks(execute=False):
        assert services.expire_overdue(now=timezone.now() + timedelta(minutes=11)) == 1
    approval.refresh_from_db()
    assert approval.status == "expired"
    with pytest.raises(services.DecisionError, match="already expired"):
        services.decide(approval, reviewer, approve=True)


def test_escalation_group_is_warned_once_before_expiry(operator):
    rule(expiry_minutes=30, escalation_group=Group.objects.create(name="shift-leaders"), escalate_before_minutes=10)
    _, approval = make_waiting_run(operator)
    assert services.expire_overdue(now=timezone.now() + timedelta(minutes=21)) == 0
    approval.refresh_from_db()
    assert approval.escalated_at is not None and approval.is_pending
    first = approval.escalated_at
    services.expire_overdue(now=timezone.now() + timedelta(minutes=22))
    approval.refresh_from_db()
    assert approval.escalated_at == first


def test_superuser_may_review_but_not_their_own(operator):
    admin = make_user("ada", is_superuser=True, is_staff=True)
    _, approval = make_waiting_run(operator)
    assert services.can_decide(admin, approval) == (True, "")
    _, own = make_waiting_run(admin)
    assert not services.can_decide(admin, own)[0]



def test_control_writes_is_stored_as_epics_writes():
    policy = ApprovalPolicy.current()
    policy.python_mode = "control_writes"
    policy.full_clean()
    policy.save()
    assert ApprovalPolicy.current().python_mode == "epics_writes"


def test_an_invalid_mode_name_is_refused_when_saved_in_admin():
    from django.core.exceptions import ValidationError

    policy = ApprovalPolicy.current()
    policy.python_mode = "sometimes"
    with pytest.raises(ValidationError, match="python_mode"):
        policy.full_clean()
