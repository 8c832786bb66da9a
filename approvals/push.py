"""Live updates to reviewer and run pages over the channel layer.

Pushing is best-effort by design: the database is the truth, and a page that
(re)connects gets a fresh snapshot, so a lost push costs a reload at worst,
never a decision.
"""
import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)
_pusher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="abf-push")

APPROVALS_GROUP = "approvals"


def run_group(run_id):
    return f"run-{run_id}"


def user_group(user_id):
    return f"user-{user_id}"


def approval_summary(approval):
    return {
        "id": approval.pk,
        "kind": approval.kind,
        "kind_display": approval.get_kind_display(),
        "run_id": approval.run_id,
        "requester": approval.requester.get_username(),
        "reason": approval.reason,
        "created_at": approval.created_at.isoformat(),
        "expires_at": approval.expires_at.isoformat() if approval.expires_at else None,
        "quorum": approval.quorum,
        "approvals_given": approval.approvals_given,
        "url": approval.get_absolute_url(),
    }


def approval_requested(approval):
    from approvals.services import eligible_reviewers

    _send(
        APPROVALS_GROUP,
        {
            "type": "approval.requested",
            "approval": approval_summary(approval),
            # Only these reviewers' sockets show it: the socket sends a
            # reviewer only what that reviewer may decide.
            "eligible": list(eligible_reviewers(approval).values_list("pk", flat=True)),
        },
    )


def approval_voted(approval):
    """A vote that did not settle the request: the voter no longer sees it."""
    from approvals.services import eligible_reviewers

    _send(
        APPROVALS_GROUP,
        {
            "type": "approval.updated",
            "approval": approval_summary(approval),
            "eligible": list(eligible_reviewers(approval).values_list("pk", flat=True)),
        },
    )


def approval_settled(approval):
    _send(
        APPROVALS_GROUP,
        {
            "type": "approval.removed",
            "id": approval.pk,
            "status": approval.status,
            "decided_by": approval.decided_by.get_username() if approval.decided_by else None,
        },
    )
    run_updated(approval.run)


def approval_escalated(approval):
    from django.contrib.auth import get_user_model

    if not approval.escalation_group_id:
        return
    users = get_user_model().objects.filter(groups=approval.escalation_group_id, is_active=True)
    for user_id in users.values_list("pk", flat=True):
        _send(
            user_group(user_id),
            {"type": "approval.escalated", "approval": approval_summary(approval)},
        )


def run_updated(run):
    from approvals.serializers import run_json

    _send(run_group(run.pk), {"type": "run.updated", "run": run_json(run)})


def execution_output(run_id, execution_id, stream, text, offset):
    """A piece of stdout or stderr of a running execution, for the run page:
    `text` starts `offset` characters into the stream. The record has the
    output so far before this is sent, so a page that connects late gets it
    from the snapshot and skips what it already has."""
    _send(
        run_group(run_id),
        {"type": "execution.output", "execution": execution_id, "stream": stream, "text": text, "offset": offset},
    )


def _send(group, message):
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        if _in_event_loop():
            # Sync code called from a thread that runs a loop (a sync
            # Playwright script, a notebook) cannot use async_to_sync there.
            _pusher.submit(async_to_sync(layer.group_send), group, message).result(timeout=5)
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:
        log.warning("live push to %s failed; pages will resync on reconnect", group, exc_info=True)


def _in_event_loop():
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
