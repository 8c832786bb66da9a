"""Factories for records a test needs, made through the services where a user would."""
from approvals import services
from approvals.models import ApprovalRequest, Run


def make_waiting_run(operator, code='print("hi")'):
    """A run stopped at a code approval point, as the graph leaves it."""
    run = Run.objects.create(user=operator, request_text=code)
    approval = services.request_approval(
        run, "step-0-code", ApprovalRequest.Kind.CODE, {"request": code, "code": code}, "All code needs approval"
    )
    return run, approval
