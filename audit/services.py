"""The one way into the audit trail (record_event) and the check of it
(verify_chain).

Callers record inside the transaction of the change they describe, so an
event exists exactly when its change was committed. Appends are serialised
on the chain head row: select_for_update on PostgreSQL; on SQLite every
transaction already holds the write lock from its start (IMMEDIATE mode,
see settings), so two writers can never both extend the same event.
"""
import datetime
import decimal
import getpass
import hashlib
import json
import math
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from audit.actions import ACTIONS
from audit.models import GENESIS_HASH, AuditEvent, ChainHead, Verification

SYSTEM = "system"  # actor_name of what abf does by itself (planner, worker, schedule)
# The columns the hash covers, in the canonical record (with prev_hash).
HASHED_FIELDS = (
    "seq", "at", "actor_id", "actor_name", "action", "object_type", "object_id", "object_repr",
    "run_id", "subject_name", "outcome", "pv", "payload_json", "prev_hash",
)


def record_event(actor, action, obj=None, payload=None, *, run_id=None, subject=None, outcome="", pv=""):
    """Append one event to the chain and return it.

    actor: a user, a name ("cli:root"), or None for abf itself. obj: the
    model instance acted on (its run and whose it is are worked out from it
    unless run_id/subject are given). payload: anything JSON can say (dates,
    decimals and sets are converted).
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}: add it to audit/actions.py first.")
    actor_id, actor_name = _actor(actor)
    derived_run, derived_subject = _run_and_subject(obj)
    event = AuditEvent(
        at=timezone.now(),
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        run_id=run_id if run_id is not None else derived_run,
        subject_name=subject if subject is not None else (derived_subject or ""),
        outcome=str(outcome or "")[:30],
        pv=str(pv or "")[:200],
        payload_json=canonical_json(payload or {}),
    )
    with transaction.atomic():
        head = ChainHead.objects.select_for_update().filter(pk=1).first() or _create_head()
        event.seq, event.prev_hash = head.seq + 1, head.hash
        event.hash = event_hash(event)
        event.save()
        ChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


def cli_actor():
    """Who runs a management command: 'cli:<os user>'."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _create_head():
    """The first append ever (or after a test flush): start where the table ends."""
    last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
    ChainHead.objects.get_or_create(pk=1, defaults={"seq": last.seq if last else 0, "hash": last.hash if last else GENESIS_HASH})
    return ChainHead.objects.select_for_update().get(pk=1)


def _actor(actor):
    if actor is None:
        return None, SYSTEM
    if isinstance(actor, str):
        return None, actor[:150]
    if not getattr(actor, "is_authenticated", False):
        return None, "anonymous"
    return actor.pk, actor.get_username()


def _run_and_subject(obj):
    """(run id, username whose run or note it is) for the objects abf audits."""
    if obj is None:
        return None, ""
    label = obj._meta.label_lower
    if label == "approvals.run":
        return obj.pk, obj.user.get_username()
    if label in {"approvals.plan", "approvals.approvalrequest"}:
        return obj.run_id, obj.run.user.get_username()
    if label == "execution.executionrecord":
        run = obj.step.plan.run
        return run.pk, run.user.get_username()
    if label == "memory.memoryentry":
        return obj.source_run_id, obj.owner.get_username()
    return None, ""


# --- Canonical form and hashes ---------------------------------------------------


def _jsonable(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if hasattr(value, "_meta") and hasattr(value, "pk"):
        return f"{value._meta.label_lower}#{value.pk}"
    return str(value)


def _finite(value):
    """NaN and infinities are not JSON: keep them as their names."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def canonical_json(value):
    return json.dumps(
        _finite(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_jsonable
    )


def event_hash(event):
    """sha256 of the canonical JSON of every column (the previous hash included)."""
    record = {name: getattr(event, name) for name in HASHED_FIELDS}
    record["at"] = event.at.astimezone(datetime.timezone.utc).isoformat()
    return hashlib.sha256(canonical_json(record).encode()).hexdigest()


def digest(value):
    """'sha256:<hex>' of code text (its UTF-8 bytes, so anyone can recompute
    it with sha256sum) or of anything else as canonical JSON."""
    data = value if isinstance(value, str) else canonical_json(value)
    return "sha256:" + hashlib.sha256(data.encode()).hexdigest()


# --- Payloads the services share -----------------------------------------------------


def approval_payload(approval, **extra):
    """What an approval request was about: enough to tell later exactly what was approved."""
    context = approval.context if isinstance(approval.context, dict) else {}
    content = context.get("code") or context.get("steps") or context.get("content") or context.get("request")
    payload = {
        "approval": approval.pk,
        "kind": approval.kind,
        "interrupt_key": approval.interrupt_key,
        "requester": approval.requester.get_username(),
        "reason": approval.reason,
        "quorum": approval.quorum,
        "reviewer_group": approval.reviewer_group.name if approval.reviewer_group_id else "reviewers",
        "expires_at": approval.expires_at,
        "content_digest": digest(content) if content is not None else None,
    }
    return {**payload, **extra}


def vote_payload(approval, approve, comment, edited):
    return approval_payload(
        approval,
        verdict="approve" if approve else "reject",
        comment=comment,
        edited=edited,
        edited_digest=digest(edited) if edited is not None else None,
        approvals_given=approval.approvals_given,
    )


def record_execution_started(record):
    return record_event(
        None, "execution.started", record,
        {
            "step": record.step.order + 1,
            "executor": record.executor,
            "writes_allowed": record.writes_allowed,
            "approved_by": record.approved_by.get_username() if record.approved_by_id else None,
            "code_digest": digest(record.code),
        },
    )


def record_execution_finished(record):
    """The exit state, then every EPICS write attempt the record holds, one event each."""
    writes = list(record.epics_writes.order_by("at", "id"))
    record_event(
        None, "execution.finished", record,
        {
            "step": record.step.order + 1,
            "state": record.state,
            "exit_code": record.exit_code,
            "duration_ms": record.duration_ms,
            "error": (record.error or {}).get("type") if isinstance(record.error, dict) else None,
            "epics_writes": len(writes),
        },
        outcome=record.state,
    )
    for write in writes:
        record_event(
            None, "epics.write", record,
            {
                "write": write.pk,
                "execution": record.pk,
                "pv": write.pv,
                "requested": write.requested,
                "before": write.before,
                "readback": write.readback,
                "outcome": write.outcome,
                "message": write.message,
                "at": write.at,
            },
            outcome=write.outcome, pv=write.pv,
        )


# --- Verification ---------------------------------------------------------------------


@dataclass
class ChainReport:
    ok: bool
    events_checked: int
    broken_seq: int | None
    message: str
    head_seq: int
    head_hash: str


def verify_chain(save=True, chunk_size=2000):
    """Walk the whole chain in order and name the first broken link: a row
    whose contents no longer match its hash (changed), a missing number
    (deleted), a row that does not follow its predecessor (reordered or
    replaced), or newest rows missing (the head says more were written)."""
    head = ChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    broken, message = None, ""
    # Up to the head read above: events appended while we walk are not ours to judge.
    events = AuditEvent.objects.filter(seq__lte=head_seq).order_by("seq")
    for event in events.iterator(chunk_size=chunk_size):
        if event.seq != expected_seq:
            broken = expected_seq
            message = (
                f"Event #{expected_seq} is missing (deleted): the next event in the table is #{event.seq}."
                if event.seq > expected_seq
                else f"Event #{event.seq} appears twice or out of order (expected #{expected_seq})."
            )
            break
        if event.prev_hash != prev_hash:
            broken = event.seq
            message = (
                f"Event #{event.seq} ({event.action}, {event.at:%Y-%m-%d %H:%M:%S}) does not follow event "
                f"#{event.seq - 1}: its previous-hash field does not match, so it or its predecessor was replaced."
            )
            break
        if event_hash(event) != event.hash:
            broken = event.seq
            message = (
                f"Event #{event.seq} ({event.action}, {event.at:%Y-%m-%d %H:%M:%S}) was changed after it was "
                f"written: its contents no longer match its hash."
            )
            break
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    else:
        last_seq = expected_seq - 1
        if last_seq < head_seq:
            broken = last_seq + 1
            message = f"Events #{last_seq + 1} to #{head_seq} are missing (deleted): the chain head says {head_seq} were written."
        elif prev_hash != head_hash:
            broken = last_seq
            message = f"Event #{last_seq} is not the one the chain head recorded: the newest events were replaced."
    ok = broken is None
    if ok:
        message = f"OK: {checked} events, chain intact. Head #{head_seq} {head_hash}"
    report = ChainReport(ok, checked, broken, message, head_seq, head_hash)
    if save:
        Verification.objects.create(
            ok=ok, events_checked=checked, broken_seq=broken, message=message, head_hash=head_hash
        )
    return report
