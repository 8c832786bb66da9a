"""Factories for records a test needs, made through the services where a user would."""
from approvals import planning, services, tasks
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


def start(user, text):
    """Submit a request and run its graph in this process, as a worker would."""
    run = services.submit_run(user, text)
    tasks.start_run(run.pk)
    run.refresh_from_db()
    return run


def decide_and_resume(run, reviewer, approve=True, comment="ok"):
    """Decide the run's pending request and resume the graph in this process."""
    approval = run.approvals.get(status="pending")
    services.decide(approval, reviewer, approve=approve, comment=comment)
    tasks.resume_run(approval.pk)
    run.refresh_from_db()
    return approval
