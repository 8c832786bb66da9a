import sys
import time

from django.core.management.base import BaseCommand, CommandError

from approvals import services
from approvals.models import Run
from approvals.planning import PlanningError


class Command(BaseCommand):
    help = (
        'Submit a request as an operator, e.g. abf_run "print(1)" --user operator --wait. '
        "Use - to read the request from stdin. Start it with /planning to approve the plan first."
    )

    def add_arguments(self, parser):
        parser.add_argument("request", help="The request text (code, a JSON/YAML plan, or - for stdin).")
        parser.add_argument("--user", default="operator", help="Who asks (default: operator).")
        parser.add_argument("--wait", action="store_true", help="Wait until the run finishes and print its outcome.")
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait with --wait (default 3600).")

    def handle(self, *args, request, user, wait, timeout, **options):
        text = sys.stdin.read() if request == "-" else request
        try:
            run = services.submit_run(services.resolve_user(user), text)
        except (PlanningError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Run #{run.pk} queued.")
        if not wait:
            return
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status != last:
                last = run.status
                pending = run.approvals.filter(status="pending").first()
                extra = f" (approval #{pending.pk}: python manage.py approvals show {pending.pk})" if pending else ""
                self.stdout.write(f"  {run.get_status_display()}{extra}")
            if run.is_finished:
                break
            time.sleep(0.25)
        else:
            raise CommandError(f"Run #{run.pk} still {run.get_status_display().lower()} after {timeout:g} s.")
        if run.message:
            self.stdout.write(run.message)
        for step in run.plan.steps.all() if hasattr(run, "plan") else []:
            record = getattr(step, "execution", None)
            if record:
                self.stdout.write(f"--- step {step.order + 1}: {record.get_state_display()}")
                self.stdout.write(record.stdout, ending="")
                if record.stderr:
                    self.stderr.write(record.stderr, ending="")
        if run.status != Run.Status.FINISHED:
            raise CommandError(f"Run #{run.pk} ended {run.get_status_display().lower()}.")
