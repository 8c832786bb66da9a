"""Execution write path: review code against the policy, and run an approved
step at most once."""
import datetime
import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from approvals import push
from approvals import services as approval_services
from approvals.models import ApprovalPolicy
from audit import services as audit
from audit.snapshots import changes, snapshot
from execution import notebooks, runner
from execution.analysis import analyze_code, evaluate
from execution.executors import Limits
from execution.models import EpicsWrite, ExecutionArtifact, ExecutionLimits, ExecutionRecord, PvLimit

logger = logging.getLogger(__name__)

STATE_OF_STATUS = {
    "ok": ExecutionRecord.State.SUCCEEDED,
    "error": ExecutionRecord.State.FAILED,
    "timeout": ExecutionRecord.State.TIMED_OUT,
    "limit": ExecutionRecord.State.KILLED_BY_LIMIT,
    "cancelled": ExecutionRecord.State.CANCELLED,
    "refused": ExecutionRecord.State.REFUSED,
}

STEP_STATUS_OF_STATE = {
    ExecutionRecord.State.SUCCEEDED: "done",
    ExecutionRecord.State.REFUSED: "refused",
}


def review_code(code, policy):
    """Analyse code and apply the policy: (CodeAnalysis, Decision)."""
    analysis = analyze_code(code)
    return analysis, evaluate(policy, analysis)


def execute_step(step, approved_by=None, allow_writes=False, review=None):
    """Run a python step once. The record is claimed before the code starts:
    if a claim already exists (a retry after a worker crash, a duplicate
    resume), the step is not run again; a claim left 'running' by a dead
    worker is reported as interrupted. allow_writes gives the code the EPICS
    write address and lets the write guard pass writes within the limits.
    review is review_code()'s verdict on step.code when the caller has it
    (the source notebook lists it); else it is computed."""
    try:
        with transaction.atomic():
            record = ExecutionRecord.objects.create(
                step=step, code=step.code, approved_by=approved_by,
                executor=settings.ABF_EXECUTOR, writes_allowed=allow_writes, heartbeat_at=timezone.now(),
            )
            audit.record_execution_started(record)
    except IntegrityError:
        record = ExecutionRecord.objects.get(step=step)
        if record.state == ExecutionRecord.State.RUNNING:
            ExecutionRecord.objects.filter(pk=record.pk, state=ExecutionRecord.State.RUNNING).update(
                state=ExecutionRecord.State.INTERRUPTED, finished_at=timezone.now()
            )
            record.refresh_from_db()
            audit.record_execution_finished(record)
        return record

    approval_services.mark_step(step, step.Status.RUNNING)
    cancel, finished = threading.Event(), threading.Event()
    watcher = threading.Thread(target=_watch_execution, args=(record.pk, cancel, finished), daemon=True)
    watcher.start()
    output = OutputStream(step.plan.run_id, record.pk)
    try:
        result = runner.run_python(
            step.code,
            limits=Limits.from_model(ExecutionLimits.current()),
            allow_writes=allow_writes,
            pv_limits={row.pv: row.as_dict() for row in PvLimit.objects.all()},
            cancel=cancel,
            on_output=output.write,
        )
    finally:
        finished.set()
        watcher.join()
        output.close()
    state = STATE_OF_STATUS[result.status]
    with transaction.atomic():
        ExecutionRecord.objects.filter(pk=record.pk).update(
            state=state,
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            result=result.results,
            error=result.error,
            notes="\n".join(result.notes),
            finished_at=timezone.now(),
            duration_ms=result.duration_ms,
        )
        EpicsWrite.objects.bulk_create(
            EpicsWrite(
                execution=record,
                pv=write["pv"],
                requested=write["requested"],
                before=write["before"],
                readback=write["readback"],
                outcome=write["outcome"],
                message=write["message"],
                at=datetime.datetime.fromisoformat(write["at"]),
            )
            for write in result.writes
        )
        ExecutionArtifact.objects.bulk_create(
            ExecutionArtifact(execution=record, kind=kind, name=name, content_type=content_type, data=data, size=len(data))
            for kind, name, content_type, data in _artifacts(step, result, state, review)
        )
        record.refresh_from_db()
        audit.record_execution_finished(record)
        approval_services.mark_step(step, STEP_STATUS_OF_STATE.get(state, step.Status.FAILED))
    return record


def _artifacts(step, result, state, review=None):
    """(kind, name, content type, bytes): the notebook as reviewed, the
    executed notebook, and each figure."""
    title = f"Run {step.plan.run_id}, step {step.order + 1}: {step.objective or step.capability}"
    analysis, decision = review or review_code(step.code, ApprovalPolicy.current())
    findings = notebooks.review_notes(decision.reasons, [f.to_dict() for f in analysis.findings])
    outcome = ExecutionRecord.State(state).label.lower()
    base = f"step-{step.order + 1}"
    yield (
        ExecutionArtifact.Kind.SOURCE_NOTEBOOK, f"{base}-as-reviewed.ipynb", notebooks.CONTENT_TYPE,
        notebooks.to_bytes(notebooks.source_notebook(step.code, title, findings)),
    )
    yield (
        ExecutionArtifact.Kind.NOTEBOOK, f"{base}.ipynb", notebooks.CONTENT_TYPE,
        notebooks.to_bytes(notebooks.executed_notebook(step.code, title, result.outputs, outcome)),
    )
    for name, content_type, data in notebooks.figures(result.outputs):
        yield ExecutionArtifact.Kind.FIGURE, name, content_type, data


def cancel_execution(record, user=None):
    """Ask a running execution to stop; the worker running it notices within
    a second, kills it and records it as cancelled. False if it had ended."""
    with transaction.atomic():
        asked = ExecutionRecord.objects.filter(
            pk=record.pk, state=ExecutionRecord.State.RUNNING, cancel_requested_at__isnull=True
        ).update(cancel_requested_at=timezone.now())
        if asked:
            audit.record_event(user, "execution.cancel_requested", record, {"step": record.step.order + 1})
    return bool(asked)


class OutputStream:
    """Sends a running execution's output to the run page in batches (at most
    one push per stream every `interval` seconds), so a flood of prints is a
    few messages, not millions. Each batch is first appended to the record,
    so a page that opens mid-run starts from the output so far; a push
    carries its offset in the stream, so such a page shows nothing twice."""

    def __init__(self, run_id, execution_id, interval=0.2):
        self.run_id, self.execution_id, self.interval = run_id, execution_id, interval
        # Inside a caller's transaction the record is not visible to other
        # connections yet (and, on SQLite, this thread's writes would wait
        # for that transaction): nothing to save for pages opened late.
        self.save_so_far = not connection.in_atomic_block
        self.pending = {"stdout": [], "stderr": []}
        self.sent = {"stdout": 0, "stderr": 0}
        self.lock, self.closed = threading.Lock(), threading.Event()
        self.sender = threading.Thread(target=self._send_batches, daemon=True)
        self.sender.start()

    def write(self, stream, text):
        with self.lock:
            self.pending[stream].append(text)

    def close(self):
        self.closed.set()
        self.sender.join()

    def _send_batches(self):
        try:
            while not self.closed.wait(self.interval):
                self._flush()
            self._flush()
        finally:
            connection.close()

    def _flush(self):
        with self.lock:
            batches = {stream: "".join(parts) for stream, parts in self.pending.items() if parts}
            self.pending = {"stdout": [], "stderr": []}
        for stream, text in batches.items():
            try:
                if self.save_so_far:
                    ExecutionRecord.objects.filter(pk=self.execution_id, state=ExecutionRecord.State.RUNNING).update(
                        **{stream: Concat(F(stream), Value(text))}
                    )
            except DatabaseError as exc:
                # The output so far is a convenience for pages opened late
                # (the outcome stores the whole output): pages that are open
                # still get it live.
                logger.warning("execution %s: output so far not saved: %s", self.execution_id, exc)
            push.execution_output(self.run_id, self.execution_id, stream, text, self.sent[stream])
            # Offsets count as the page's strings do: UTF-16 code units.
            self.sent[stream] += len(text.encode("utf-16-le", "surrogatepass")) // 2


def _watch_execution(record_pk, cancel, finished, interval=0.5, heartbeat_every=5):
    """In the worker, beside the running code: the database says when a
    cancel was asked for (from any process), and learns the worker is alive
    (a heartbeat; see report_interrupted)."""
    last_beat = time.monotonic()
    try:
        while not finished.wait(interval):
            if ExecutionRecord.objects.filter(pk=record_pk, cancel_requested_at__isnull=False).exists():
                cancel.set()
                return
            if time.monotonic() - last_beat >= heartbeat_every:
                ExecutionRecord.objects.filter(pk=record_pk, state=ExecutionRecord.State.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
                last_beat = time.monotonic()
    finally:
        connection.close()


def report_interrupted(now=None):
    """Executions whose worker died mid-run (SIGKILL, a crash, the machine
    lost) stop sending heartbeats. Each is recorded as interrupted and its run
    failed with a message saying so: never re-run, because what the code had
    already done to the equipment is unknown. Run on a schedule; returns the
    number reported."""
    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=settings.ABF_EXECUTION_HEARTBEAT_TIMEOUT)
    stale = ExecutionRecord.objects.filter(state=ExecutionRecord.State.RUNNING, heartbeat_at__lt=cutoff)
    reported = 0
    for record in stale.select_related("step__plan__run"):
        with transaction.atomic():
            if not ExecutionRecord.objects.filter(pk=record.pk, state=ExecutionRecord.State.RUNNING).update(
                state=ExecutionRecord.State.INTERRUPTED,
                finished_at=timezone.now(),
                notes="The worker running this stopped sending heartbeats (it crashed or was killed).",
            ):
                continue  # it finished meanwhile
            record.refresh_from_db()
            audit.record_execution_finished(record)
            step = record.step
            approval_services.mark_step(step, step.Status.FAILED)
            approval_services.fail_run(
                step.plan.run,
                f"Step {step.order + 1} was interrupted mid-run: the worker running it stopped. It was not "
                "re-run, because what it had already done is unknown; check the equipment's state before "
                "asking again.",
            )
        reported += 1
    return reported


def import_pv_limits(channels, replace=False, actor=None):
    """Load PV write limits from the reference framework's limits database:
    {"defaults": {...}, "PV:NAME": {"min_value", "max_value", "max_step",
    "writable", "verification"}, ...}; keys starting with "_" are comments.
    "verification" is a level name or {"level": ..., "tolerance_percent": ...}.
    Returns (created, updated). One audit event lists each PV's old and new values."""
    defaults = {"writable": False, "verification": "readback", **channels.get("defaults", {})}
    created = updated = 0
    with transaction.atomic():
        before = {row.pv: snapshot(row) for row in PvLimit.objects.all()}
        if replace:
            PvLimit.objects.all().delete()
        for pv, entry in channels.items():
            if pv == "defaults" or pv.startswith("_"):
                continue
            fields = {**defaults, **entry}
            verification = fields.get("verification")
            tolerance = 0.1
            if isinstance(verification, dict):
                tolerance = verification.get("tolerance_percent", tolerance)
                verification = verification.get("level", "readback")
            if verification not in PvLimit.Verification.values:
                raise ValueError(f"{pv}: unknown verification level {verification!r}")
            _, was_created = PvLimit.objects.update_or_create(
                pv=pv,
                defaults={
                    "writable": bool(fields.get("writable", False)),
                    "min_value": fields.get("min_value"),
                    "max_value": fields.get("max_value"),
                    "max_step": fields.get("max_step"),
                    "verification": verification,
                    "tolerance_percent": fields.get("tolerance_percent", tolerance),
                    "description": str(fields.get("description", ""))[:200],
                },
            )
            created += was_created
            updated += not was_created
        after = {row.pv: snapshot(row) for row in PvLimit.objects.all()}
        audit.record_event(actor, "limits.imported", None, {
            "replace": replace, "created": created, "updated": updated,
            "pvs": {pv: diff for pv in sorted(set(before) | set(after)) if (diff := changes(before.get(pv), after.get(pv)))},
        })
    return created, updated
