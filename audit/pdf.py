"""The PDF audit report, for a safety committee: who asked, who approved
what (with the digest of exactly what they saw), what ran and which EPICS
writes it made, and how many events of each kind the range holds.

Memory stays bounded: the story is produced run by run as ReportLab asks for
it (LazyStory), runs are read in batches, each finished page is compressed
at once (CompressingCanvas; ReportLab would keep it as text until the end),
and the file is spooled to disk. What ReportLab still keeps per page until
it saves is small, and the PDF details at most MAX_RUNS runs (the summary
always counts every event), so memory has a fixed ceiling whatever the
range; the CSV and JSON exports of the same range have everything.
"""
import tempfile
import textwrap
import zlib
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfdoc import PDFStream
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from audit.actions import ACTIONS
from audit.models import AuditEvent, Verification

MAX_RUNS = 5000
RUN_BATCH = 200
STORY_ACTIONS = [
    "run.submitted", "run.ended", "plan.made", "approval.requested", "approval.voted", "approval.decided",
    "approval.expired", "approval.escalated", "execution.started", "execution.finished", "epics.write",
]

STYLES = getSampleStyleSheet()
BODY = STYLES["BodyText"].clone("AuditBody", fontSize=8.5, leading=10.5)
CELL = STYLES["BodyText"].clone("AuditCell", fontSize=7.5, leading=9)
H1, H2, H3 = STYLES["Title"], STYLES["Heading2"], STYLES["Heading4"].clone("AuditRun", spaceBefore=8, spaceAfter=2)
GRID = TableStyle([
    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf2")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("FONTSIZE", (0, 0), (-1, -1), 7.5),
    ("LEADING", (0, 0), (-1, -1), 9),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
])


class LazyStory(list):
    """A story list that refills itself from a generator of flowable lists
    whenever ReportLab has consumed what it holds."""

    def __init__(self, chunks):
        super().__init__()
        self._chunks = iter(chunks)

    def __len__(self):
        while not super().__len__():
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self.extend(chunk)
        return super().__len__()


class _AlreadyCompressed:
    """Declares FlateDecode for content compressed beforehand."""

    pdfname = "FlateDecode"

    def encode(self, content):
        return content


class CompressingCanvas(Canvas):
    """Compresses each page's content stream as soon as the page ends."""

    def showPage(self):
        super().showPage()
        page = self._doc.Pages.pages[-1]
        if page.stream and not page.Contents:
            page.Contents = PDFStream(content=zlib.compress(page.stream.encode("utf8")), filters=[_AlreadyCompressed()])
            page.Contents.__Comment__ = "page stream"
            page.stream = None


def iter_pdf(export, progress=None):
    with tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024) as out:
        write_pdf(export, out, progress)
        out.seek(0)
        while chunk := out.read(256 * 1024):
            yield chunk


def write_pdf(export, out, progress=None):
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
        title="abf audit report", author=export.generated_by, subject=f"Audit events up to #{export.up_to_seq}",
    )

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(15 * mm, 8 * mm, f"abf audit report · generated {export.generated_at:%Y-%m-%d %H:%M} UTC "
                          f"by {export.generated_by} · events up to #{export.up_to_seq}")
        canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, f"page {document.page}")
        canvas.restoreState()

    doc.build(LazyStory(_story(export, progress)), onFirstPage=footer, onLaterPages=footer, canvasmaker=CompressingCanvas)


def _p(text, style=CELL):
    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def _fit(text, width):
    """Plain text wrapped to a column (Helvetica 7.5 pt needs up to 1.6 mm a
    character, digits included). Plain cells draw far faster than Paragraphs, which matters
    for reports with thousands of tables."""
    chars = max(8, int(width / mm / 1.6))
    lines = []
    for line in str(text if text is not None else "").splitlines() or [""]:
        lines.extend(textwrap.wrap(line, chars, break_long_words=True) or [""])
    return "\n".join(lines)


def _table(header, rows, widths):
    data = [[_fit(c, w) for c, w in zip(row, widths)] for row in [header, *rows]]
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(GRID)
    return table


def _when(moment):
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "—"


def _story(export, progress):
    yield _summary(export)
    runs = export.events.exclude(run_id=None).order_by().values("run_id").distinct().count()
    yield [Paragraph("Approvals and what they led to", H2), _p(
        f"{runs} run{'s' if runs != 1 else ''} have events in this report. For each: the request, the plan, every "
        "approval request with its votes and decision and the digest of exactly what was approved, every "
        "execution with its exit state, and every EPICS write attempt. Digests are sha256 of the code text "
        "(or of the plan as canonical JSON), as in the CSV and JSON exports." +
        (f" Only the first {MAX_RUNS} runs are detailed here; the CSV and JSON exports of this range list all events."
         if runs > MAX_RUNS else ""), BODY)]
    if not runs:
        yield [_p("No run has events in this range and filter.", BODY)]
        return
    done, last = 0, 0
    while done < min(runs, MAX_RUNS):
        batch = list(
            export.events.filter(run_id__gt=last).order_by("run_id").values_list("run_id", flat=True)
            .distinct()[:min(RUN_BATCH, MAX_RUNS - done)]
        )
        if not batch:
            break
        stories = {run_id: RunStory(run_id) for run_id in batch}
        related = AuditEvent.objects.filter(
            run_id__in=batch, seq__lte=export.up_to_seq, action__in=STORY_ACTIONS
        ).order_by("run_id", "seq")
        for event in related.iterator(chunk_size=2000):
            stories[event.run_id].add(event)
        chunk = []
        for run_id in batch:
            chunk.extend(stories[run_id].flowables())
        yield chunk
        done, last = done + len(batch), batch[-1]
        if progress:
            progress(done, min(runs, MAX_RUNS), "runs")


def _summary(export):
    verification = Verification.objects.first()
    chain = (
        f"{'Intact' if verification.ok else 'BROKEN'} at the last check ({verification.checked_at:%Y-%m-%d %H:%M} UTC): "
        f"{verification.message}" if verification else "Not verified yet: run python manage.py audit verify."
    )
    filters = ", ".join(f"{k}: {v}" for k, v in export.filters.items()) or "none (every event)"
    summary = export.summary
    flowables = [
        Paragraph("abf audit report", H1),
        _p(f"Generated {export.generated_at:%Y-%m-%d %H:%M:%S} UTC by {export.generated_by}.", BODY),
        _p(f"Range and filters: {filters}. Events up to #{export.up_to_seq} of the audit chain.", BODY),
        _p(f"Hash chain: {chain}", BODY),
        Spacer(1, 4 * mm),
        Paragraph("Summary", H2),
        _p(f"Events in this report: {summary['events']}", BODY),
        Spacer(1, 2 * mm),
    ]
    rows = [(action, ACTIONS.get(action, ""), count) for action, count in summary["by_action"].items()]
    flowables.append(_table(["Action", "What it records", "Events"], rows or [("—", "No events", 0)], [38 * mm, 120 * mm, 20 * mm]))
    if summary["by_outcome"]:
        flowables += [Spacer(1, 3 * mm), _table(["Outcome", "Events"], list(summary["by_outcome"].items()), [60 * mm, 20 * mm])]
    return flowables


@dataclass
class RunStory:
    """Everything the audit trail says about one run, from its events."""

    run_id: int
    submitted: AuditEvent | None = None
    plan: AuditEvent | None = None
    ended: AuditEvent | None = None
    approvals: dict = field(default_factory=dict)  # approval id -> {"requested": event, "votes": [...], "end": event}
    executions: dict = field(default_factory=dict)  # execution id -> {"started", "finished", "writes": [...]}

    def add(self, event):
        action = event.action
        if action == "run.submitted":
            self.submitted = event
        elif action == "run.ended":
            self.ended = event
        elif action == "plan.made":
            self.plan = event
        elif action.startswith("approval."):
            entry = self.approvals.setdefault(event.object_id, {"requested": None, "votes": [], "end": None})
            if action == "approval.requested":
                entry["requested"] = event
            elif action in ("approval.voted", "approval.decided"):
                entry["votes"].append(event)
                if action == "approval.decided":
                    entry["end"] = event
            elif action == "approval.expired":
                entry["end"] = event
        else:
            entry = self.executions.setdefault(event.object_id, {"started": None, "finished": None, "writes": []})
            if action == "execution.started":
                entry["started"] = event
            elif action == "execution.finished":
                entry["finished"] = event
            else:
                entry["writes"].append(event)

    def heading(self):
        parts = [f"Run #{self.run_id}"]
        if self.submitted:
            parts.append(f"requested by {self.submitted.actor_name} at {_when(self.submitted.at)}")
        parts.append(f"outcome: {self.ended.outcome}" if self.ended else "not ended in this report")
        return " · ".join(parts)

    def flowables(self):
        out = [Paragraph(escape(self.heading()), H3)]
        if self.submitted:
            request = self.submitted.payload.get("request", "")
            out.append(_p(f"Request: {request[:500]}{'…' if len(request) > 500 else ''}", BODY))
        if self.plan:
            plan = self.plan.payload
            out.append(_p(f"Plan by {plan.get('planner')}: {plan.get('steps')} step(s), digest {plan.get('plan_digest')}", BODY))
        if self.approvals:
            out.append(_table(
                ["Approval", "Requested", "Requester / reason", "Votes", "Decision", "Digest of what was approved"],
                [self._approval_row(key, entry) for key, entry in self.approvals.items()],
                [16 * mm, 22 * mm, 34 * mm, 44 * mm, 30 * mm, 34 * mm],
            ))
        if self.executions:
            out.append(Spacer(1, 1.5 * mm))
            out.append(_table(
                ["Execution", "Step", "Approved by", "Started", "Finished", "Exit state", "Code digest"],
                [self._execution_row(key, entry) for key, entry in self.executions.items()],
                [18 * mm, 10 * mm, 24 * mm, 26 * mm, 26 * mm, 22 * mm, 54 * mm],
            ))
            writes = [w for entry in self.executions.values() for w in entry["writes"]]
            if writes:
                out.append(Spacer(1, 1.5 * mm))
                out.append(_table(
                    ["EPICS write", "Step", "PV", "Requested", "Before", "Read back", "Outcome"],
                    [self._write_row(w) for w in writes],
                    [26 * mm, 10 * mm, 46 * mm, 22 * mm, 22 * mm, 22 * mm, 32 * mm],
                ))
        if not (self.approvals or self.executions):
            out.append(_p("No approval requests or executions recorded for this run.", BODY))
        return [KeepTogether(out[:3]), *out[3:]]

    @staticmethod
    def _approval_row(key, entry):
        requested, end = entry["requested"], entry["end"]
        info = requested.payload if requested else {}
        key_parts = str(info.get("interrupt_key", "")).split("-")
        step = f"(step {int(key_parts[1]) + 1})" if len(key_parts) == 3 and key_parts[1].isdigit() else ""
        votes = "\n".join(
            f"{v.actor_name}: {v.payload.get('verdict')} at {_when(v.at)}"
            + (f" — “{v.payload.get('comment')}”" if v.payload.get("comment") else "")
            + (" (edited)" if v.payload.get("edited") is not None else "")
            for v in entry["votes"]
        ) or "none"
        if end is None:
            decision = "still pending at the end of this report"
        elif end.action == "approval.expired":
            decision = f"EXPIRED at {_when(end.at)} (nothing ran)"
        else:
            decision = f"{end.outcome.upper()} by {end.actor_name} at {_when(end.at)}"
        edited = [v.payload.get("edited_digest") for v in entry["votes"] if v.payload.get("edited_digest")]
        digest = info.get("content_digest") or "—"
        if edited:
            digest = f"edited: {edited[-1]}\n(original {digest})"
        return [
            f"#{key} {info.get('kind', '')} {step}",
            _when(requested.at) if requested else "—",
            f"{info.get('requester', '')}: {info.get('reason', '')}",
            votes, decision, digest,
        ]

    def _execution_row(self, key, entry):
        started, finished = entry["started"], entry["finished"]
        info = started.payload if started else {}
        return [
            f"#{key}",
            info.get("step", finished.payload.get("step") if finished else ""),
            info.get("approved_by") or "no approval needed",
            _when(started.at) if started else "—",
            _when(finished.at) if finished else "—",
            finished.outcome if finished else "no end recorded",
            info.get("code_digest", "—"),
        ]

    def _write_row(self, write):
        info = write.payload
        execution = self.executions.get(str(info.get("execution")), {})
        started = execution.get("started")
        return [
            (info.get("at") or "")[:19].replace("T", " "), started.payload.get("step") if started else "", info.get("pv"),
            info.get("requested"), info.get("before"), info.get("readback"),
            info.get("outcome") + (f": {info['message']}" if info.get("message") else ""),
        ]
