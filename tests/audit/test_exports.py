"""Reports: the three formats of one range agree on the counts, the PDF
renders, and the CLI and admin export with clear errors on bad input."""
import csv
import json
import os
import shutil
from collections import Counter

import pypdfium2
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from approvals import services
from audit import services as audit
from audit.models import AuditEvent
from execution.models import EpicsWrite, ExecutionRecord
from tests.factories import make_waiting_run

pytestmark = pytest.mark.django_db


def executed(run, reviewer, pv="SR:MAG:Q1:SETPT", outcome="confirmed"):
    """An executed step with one EPICS write, recorded as execute_step does."""
    step = run.plan.steps.get()
    record = ExecutionRecord.objects.create(step=step, code=step.code, approved_by=reviewer, writes_allowed=True)
    audit.record_execution_started(record)
    EpicsWrite.objects.create(execution=record, pv=pv, requested=12.5, before=12.0, readback=12.5, outcome=outcome, at=timezone.now())
    ExecutionRecord.objects.filter(pk=record.pk).update(state="succeeded", exit_code=0, finished_at=timezone.now(), duration_ms=40)
    record.refresh_from_db()
    audit.record_execution_finished(record)


@pytest.fixture
def history(operator, reviewer):
    """Three runs: approved with a write, rejected, and one still pending."""
    run, approval = make_waiting_run(operator, 'from epics import caput\ncaput("SR:MAG:Q1:SETPT", 12.5)')
    services.decide(approval, reviewer, approve=True, comment="within limits")
    executed(run, reviewer)
    services.set_run_status(run, "finished", "Done")
    run2, approval2 = make_waiting_run(operator, "print(2)")
    services.decide(approval2, reviewer, approve=False, comment="not during beam time")
    make_waiting_run(operator, "print(3)")
    return AuditEvent.objects.count()


def export(tmp_path, fmt, *args):
    path = tmp_path / f"out.{fmt}"
    call_command("audit", "export", "--format", fmt, "--output", str(path), "--quiet", *args)
    return path


def csv_counts(path):
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    return len(rows), Counter(r["action"] for r in rows)


def pdf_text(path):
    pdf = pypdfium2.PdfDocument(str(path))
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def test_csv_json_and_pdf_agree_on_the_counts(history, tmp_path):
    count, by_action = csv_counts(export(tmp_path, "csv"))
    data = json.loads(export(tmp_path, "json").read_text())
    text = pdf_text(export(tmp_path, "pdf"))
    # Each export records itself after pinning its range: the later ones are
    # one event longer than the first, and say so in their own counts.
    assert count == history
    assert data["summary"]["events"] == len(data["events"]) == history + 1
    assert data["summary"]["by_action"] == {**by_action, "audit.exported": 1}
    assert f"Events in this report: {history + 2}" in text
    for action, n in by_action.items():
        assert f"{action}" in text


def test_the_same_range_gives_the_same_counts_in_every_format(history, tmp_path):
    until = timezone.now().isoformat()
    count, _ = csv_counts(export(tmp_path, "csv", "--until", until))
    data = json.loads(export(tmp_path, "json", "--until", until).read_text())
    assert count == data["summary"]["events"] == len(data["events"]) == history
    assert f"Events in this report: {history}" in pdf_text(export(tmp_path, "pdf", "--until", until))


def test_the_pdf_renders_a_readable_first_page(history, tmp_path):
    path = export(tmp_path, "pdf")
    if os.environ.get("ABF_KEEP_REPORT"):
        shutil.copy(path, os.environ["ABF_KEEP_REPORT"])
    page = pypdfium2.PdfDocument(str(path))[0].render(scale=1).to_pil().convert("L")
    dark = sum(page.histogram()[:200])
    assert dark > 0.01 * page.width * page.height  # text and tables, not a blank page
    text = pdf_text(path)
    assert "abf audit report" in text and "Summary" in text
    assert "APPROVED by rita" in text and "REJECTED by rita" in text and "still pending" in text
    assert "SR:MAG:Q1:SETPT" in text and "confirmed" in text and "sha256:" in text


def test_filters_narrow_every_format(history, tmp_path):
    count, by_action = csv_counts(export(tmp_path, "csv", "--pv", "SR:MAG:Q1:SETPT"))
    assert (count, dict(by_action)) == (1, {"epics.write": 1})
    count, by_action = csv_counts(export(tmp_path, "csv", "--kind", "approval", "--outcome", "rejected"))
    assert (count, dict(by_action)) == (1, {"approval.decided": 1})
    data = json.loads(export(tmp_path, "json", "--user", "rita", "--kind", "approval.decided").read_text())
    assert [e["outcome"] for e in data["events"]] == ["approved", "rejected"]
    assert data["report"]["filters"] == {"user": "rita", "kind": "approval.decided"}


def test_a_range_in_the_past_is_empty_but_valid(history, tmp_path):
    data = json.loads(export(tmp_path, "json", "--since", "2001-01-01", "--until", "2001-01-31").read_text())
    assert data["events"] == [] and data["summary"]["events"] == 0
    assert "No run has events" in pdf_text(export(tmp_path, "pdf", "--until", "2001-01-31"))


@pytest.mark.parametrize("args, message", [
    (["--since", "yesterday"], "not a date"),
    (["--since", "2025-02-30"], "not a date"),
    (["--since", "2025-03-02", "--until", "2025-03-01"], "range is empty"),
    (["--kind", "launch"], "Unknown kind"),
])
def test_bad_input_gets_a_clear_error_and_writes_nothing(tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        export(tmp_path, "csv", *args)
    assert not (tmp_path / "out.csv").exists()
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_export_to_stdout_with_progress_on_stderr(history, capsys):
    call_command("audit", "export", "--format", "csv", "--output", "-")
    captured = capsys.readouterr()
    assert captured.out.startswith("seq,at,actor,actor_id,action")
    assert f"exported {history} of {history} events" in captured.err


def test_the_json_export_lets_anyone_recheck_the_chain(history, tmp_path):
    import hashlib

    events = json.loads(export(tmp_path, "json").read_text())["events"]
    for before, after in zip(events, events[1:]):
        assert after["prev_hash"] == before["hash"]
    first = events[0]
    record = {
        "seq": first["seq"], "at": first["at"], "actor_name": first["actor"], "action": first["action"],
        "object_type": first["object_type"], "object_id": first["object_id"], "object_repr": first["object"],
        "run_id": first["run"], "subject_name": first["subject"], "outcome": first["outcome"], "pv": first["pv"],
        "payload_json": audit.canonical_json(first["payload"]), "prev_hash": first["prev_hash"],
        "actor_id": first["actor_id"],
    }
    assert hashlib.sha256(audit.canonical_json(record).encode()).hexdigest() == first["hash"]
