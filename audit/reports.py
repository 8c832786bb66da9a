"""Audit reports: the events of a time range and filters as CSV, JSON or a
PDF a safety committee can read. Everything streams: events are read in
chunks and written as they come, never all held at once.

All three formats of one export describe the same events: the range is
pinned to the chain head when the export starts, so events appended while
it runs are left for the next report.
"""
import csv
import datetime
import io
import json
from dataclasses import asdict, dataclass

from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audit.actions import ACTIONS
from audit.models import ChainHead
from audit.services import record_event

FORMATS = ("csv", "json", "pdf")
CHUNK = 2000
CSV_COLUMNS = [
    "seq", "at", "actor", "actor_id", "action", "object_type", "object_id", "object", "run", "subject", "outcome", "pv",
    "payload", "prev_hash", "hash",
]


class ReportError(ValueError):
    """Bad report input; the message says what to fix."""


def parse_moment(text, end=False):
    """An ISO date (2025-03-01) or date-time (2025-03-01T08:00, with or
    without a UTC offset; without one it is in TIME_ZONE). A date as the end
    of a range includes that whole day."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = parse_datetime(text)
        day = None if moment else parse_date(text)
    except ValueError:
        moment = day = None
    if moment is None and day is None:
        raise ReportError(f"{text!r} is not a date or date-time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM].")
    if day is not None:
        moment = datetime.datetime.combine(day + datetime.timedelta(days=1 if end else 0), datetime.time())
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


@dataclass
class ReportFilters:
    since: datetime.datetime | None = None  # inclusive
    until: datetime.datetime | None = None  # exclusive
    user: str = ""
    kind: str = ""
    outcome: str = ""
    pv: str = ""

    def __post_init__(self):
        if self.since and self.until and self.since >= self.until:
            raise ReportError(f"The range is empty: since ({self.since:%Y-%m-%d %H:%M}) is not before until ({self.until:%Y-%m-%d %H:%M}).")
        families = {name.split(".")[0] for name in ACTIONS}
        if self.kind and self.kind not in ACTIONS and self.kind not in families:
            raise ReportError(
                f"Unknown kind {self.kind!r}: use an action ({', '.join(sorted(ACTIONS)[:3])}, ...) "
                f"or a family ({', '.join(sorted(families))})."
            )

    def apply(self, events):
        if self.since:
            events = events.filter(at__gte=self.since)
        if self.until:
            events = events.filter(at__lt=self.until)
        if self.user:
            events = events.touching_user(self.user)
        if self.kind:
            events = events.of_kind(self.kind)
        if self.outcome:
            events = events.filter(outcome=self.outcome)
        if self.pv:
            events = events.filter(pv=self.pv)
        return events

    def describe(self):
        return {k: (v.isoformat() if isinstance(v, datetime.datetime) else v) for k, v in asdict(self).items() if v}


class Export:
    """One export: the events (pinned to the chain head), their summary, and
    the audit event saying who exported what."""

    def __init__(self, events, filters=None, actor=None, fmt="csv", described=None):
        if fmt not in FORMATS:
            raise ReportError(f"Unknown format {fmt!r}: choose csv, json or pdf.")
        head = ChainHead.objects.filter(pk=1).first()
        self.up_to_seq = head.seq if head else 0
        self.filters = described if described is not None else (filters.describe() if filters else {})
        self.events = events.filter(seq__lte=self.up_to_seq).order_by("seq")
        self.format = fmt
        self.generated_at = timezone.now()
        self.summary = summarise(self.events)
        self.record = record_event(
            actor, "audit.exported", None,
            {"format": fmt, "filters": self.filters, "events": self.summary["events"], "up_to_seq": self.up_to_seq},
        )
        self.generated_by = self.record.actor_name

    @property
    def count(self):
        return self.summary["events"]

    def filename(self):
        return f"abf-audit-{self.generated_at:%Y%m%d-%H%M%S}.{self.format}"

    def content_type(self):
        return {"csv": "text/csv; charset=utf-8", "json": "application/json", "pdf": "application/pdf"}[self.format]

    def header(self):
        return {
            "generated_at": self.generated_at.isoformat(),
            "generated_by": self.generated_by,
            "filters": self.filters,
            "up_to_seq": self.up_to_seq,
        }

    def chunks(self, progress=None):
        """The report as text (csv, json) or bytes (pdf) pieces, in order."""
        if self.format == "csv":
            return iter_csv(self.events, self.count, progress)
        if self.format == "json":
            return iter_json(self, progress)
        from audit.pdf import iter_pdf

        return iter_pdf(self, progress)


def summarise(events):
    by_action = dict(events.order_by().values_list("action").annotate(n=Count("id")).order_by("action"))
    by_outcome = dict(
        events.exclude(outcome="").order_by().values_list("outcome").annotate(n=Count("id")).order_by("outcome")
    )
    return {"events": sum(by_action.values()), "by_action": by_action, "by_outcome": by_outcome}


def event_row(event):
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor_name,
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object": event.object_repr,
        "run": event.run_id,
        "subject": event.subject_name,
        "outcome": event.outcome,
        "pv": event.pv,
        "payload": event.payload_json,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _walk(events, total, progress):
    for done, event in enumerate(events.iterator(chunk_size=CHUNK), 1):
        yield event
        if progress and (done % CHUNK == 0 or done == total):
            progress(done, total, "events")


def iter_csv(events, total, progress=None):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for event in _walk(events, total, progress):
        writer.writerow(event_row(event).values())
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def iter_json(export, progress=None):
    """One JSON document: {"report", "summary", "events": [...]}; each event
    carries its payload as JSON and both hashes, so anyone can re-check the chain."""
    yield '{"report": %s,\n"summary": %s,\n"events": [' % (json.dumps(export.header()), json.dumps(export.summary))
    separator = "\n"
    parts = []
    for event in _walk(export.events, export.count, progress):
        row = event_row(event)
        row["payload"] = json.loads(row["payload"])
        parts.append(separator + json.dumps(row, ensure_ascii=False))
        separator = ",\n"
        if len(parts) >= 500:
            yield "".join(parts)
            parts = []
    parts.append("\n]}\n")
    yield "".join(parts)

