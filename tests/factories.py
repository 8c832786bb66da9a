"""Factories for records a test needs, made through the services where a user would."""
from approvals import planning, services
from approvals.models import ApprovalRequest, Run


def make_waiting_run(operator, code='print("hi")'):
    """A run stopped at its first step's code approval point, as the graph leaves it."""
    run = Run.objects.create(user=operator, request_text=code)
    plan = services.record_plan(run, "direct", planning.plan_directly(code))
    approval = services.request_approval(
        run, "step-0-code", ApprovalRequest.Kind.CODE, {"request": code, "code": code}, "All code needs approval",
        step=plan.steps.get(),
    )
    return run, approval


def make_step(operator, code):
    """A run with a one-step plan running `code`, before anything ran."""
    run = Run.objects.create(user=operator, request_text=code)
    return services.record_plan(run, "direct", planning.plan_directly(code)).steps.get()
