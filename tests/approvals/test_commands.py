"""The CLI: abf_run and approvals list|show|decide."""
import pytest
from django.core.management import CommandError, call_command

from approvals.models import ApprovalRequest, Run
from tests.factories import make_waiting_run

pytestmark = pytest.mark.django_db


def test_abf_run_queues_a_run(operator, capsys):
    call_command("abf_run", "print(1)", user=operator.username)
    assert Run.objects.get().user == operator
    assert "queued" in capsys.readouterr().out


@pytest.mark.parametrize(
    "request_text, user, message",
    [("", "olga", "empty"), ("fix the orbit", "olga", "direct planner"), ("print(1)", "nobody", "No user named")],
)
def test_abf_run_bad_input(operator, request_text, user, message):
    with pytest.raises(CommandError, match=message):
        call_command("abf_run", request_text, user=user)
    assert not Run.objects.exists()


def test_list_show_decide(operator, reviewer, capsys):
    _, approval = make_waiting_run(operator, code="print('x')")
    call_command("approvals", "list")
    assert f"{approval.pk}" in capsys.readouterr().out

    call_command("approvals", "show", str(approval.pk))
    shown = capsys.readouterr().out
    assert "print('x')" in shown and "All code needs approval" in shown

    call_command("approvals", "decide", str(approval.pk), "--approve", "--as", reviewer.username, "--comment", "ok")
    assert "approved by rita" in capsys.readouterr().out
    assert ApprovalRequest.objects.get().status == "approved"

    with pytest.raises(CommandError, match="already approved"):
        call_command("approvals", "decide", str(approval.pk), "--reject", "--as", reviewer.username, "--comment", "x")


def test_decide_unknown_request(reviewer):
    with pytest.raises(CommandError, match="No approval request #999"):
        call_command("approvals", "decide", "999", "--approve", "--as", reviewer.username)


def test_empty_list_says_so(db, capsys):
    call_command("approvals", "list")
    assert "No pending approval requests" in capsys.readouterr().out
