"""django-q tasks: a worker starts a run's graph and resumes it after a
decision. Web requests never run the graph."""
import logging

from approvals import graph, services
from approvals.models import ApprovalRequest, Run

log = logging.getLogger(__name__)


def start_run(run_id):
    run = Run.objects.get(pk=run_id)
    if not services.claim_run_start(run):
        log.info("run %s already started; not starting twice", run_id)
        return
    _advance(run)


def resume_run(approval_id):
    approval = ApprovalRequest.objects.select_related("run").get(pk=approval_id)
    if not services.claim_resume(approval):
        log.info("approval %s already handed to its run; not resuming twice", approval_id)
        return
    _advance(approval.run, resume={"approval_id": approval.pk, "status": approval.status})


def _advance(run, resume=None):
    try:
        graph.advance(run, resume)
    except Exception as exc:  # fail secure: a broken run stops, it does not go on
        log.exception("run %s broke", run.pk)
        services.fail_run(run, f"abf hit an internal error and stopped this run: {exc}")


def expire_overdue():
    """Scheduled every minute: expire overdue requests, warn escalation groups."""
    return services.expire_overdue()


def redeliver_lost_tasks():
    """Scheduled every minute: queue again what a lost task left undone."""
    return services.redeliver_lost_tasks()
