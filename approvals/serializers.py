"""JSON shapes of the API (GET /api/runs/<id>/)."""
from django.urls import reverse


def _time(value):
    return value.isoformat() if value else None


def approval_json(approval):
    return {
        "id": approval.pk,
        "kind": approval.kind,
        "status": approval.status,
        "reason": approval.reason,
        "created_at": _time(approval.created_at),
        "decided_by": approval.decided_by.get_username() if approval.decided_by else None,
        "decided_at": _time(approval.decided_at),
        "comment": approval.comment,
    }


def execution_json(record):
    return {
        "id": record.pk,
        "step": record.step.order + 1,
        "state": record.state,
        "exit_code": record.exit_code,
        "stdout": record.stdout,
        "stderr": record.stderr,
        "started_at": _time(record.started_at),
        "finished_at": _time(record.finished_at),
        "duration_ms": record.duration_ms,
        "approved_by": record.approved_by.get_username() if record.approved_by else None,
        "cancel_requested": record.cancel_requested_at is not None,
        "artifacts": [artifact_json(a) for a in record.artifacts.defer("data")],
    }


def artifact_json(artifact):
    return {
        "name": artifact.name,
        "kind": artifact.kind,
        "content_type": artifact.content_type,
        "size": artifact.size,
        "url": reverse("execution-artifact", args=[artifact.execution_id, artifact.name]),
    }


def run_json(run):
    plan = getattr(run, "plan", None)
    steps = list(plan.steps.all()) if plan else []
    return {
        "id": run.pk,
        "url": run.get_absolute_url(),
        "user": run.user.get_username(),
        "request": run.request_text,
        "planning_mode": run.planning_mode,
        "status": run.status,
        "message": run.message,
        "created_at": _time(run.created_at),
        "updated_at": _time(run.updated_at),
        "finished_at": _time(run.finished_at),
        "plan": {
            "planner": plan.planner,
            "steps": [
                {
                    "order": s.order + 1,
                    "capability": s.capability,
                    "objective": s.objective,
                    "inputs": s.inputs,
                    "status": s.status,
                }
                for s in steps
            ],
        }
        if plan
        else None,
        "approvals": [approval_json(a) for a in run.approvals.order_by("created_at", "id")],
        "executions": [
            execution_json(s.execution) for s in steps if hasattr(s, "execution")
        ],
    }
