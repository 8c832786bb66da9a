"""Benchmark: audit trail appends and exports at 100,000 events.

1. Appends: 100,000 events through audit.services.record_event (the real
   hash-chained, serialised append), shaped like real runs: per run a
   submission, plan, approval request and decision, execution start and end,
   two EPICS writes and the end of the run, plus some logins.
2. Exports: `manage.py audit export` of the whole range as CSV, JSON and
   PDF, each in its own process, with its wall time, events per second and
   peak resident memory (ru_maxrss); and the same for the first 10,000
   events, so the two figures show whether memory grows with the range.
3. `manage.py audit verify` over the 100,000 events.

Runs on a fresh SQLite database in a temporary directory.
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EVENTS = 100_000
SMALL = 10_000


def setup_django(workdir):
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abf_site.settings")
    os.environ.setdefault("ABF_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def seed(count):
    """Append `count` events shaped like real runs; returns the moment after the first SMALL."""
    from django.db import transaction
    from django.utils import timezone

    from audit.services import digest, record_event

    small_until = None
    written, run = 0, 0
    started = time.perf_counter()
    while written < count:
        with transaction.atomic():
            for _ in range(100):
                run += 1
                code = f"from epics import caput\ncaput('SR:MAG:Q{run % 40}:SETPT', {run % 50})"
                story = [
                    ("operator", "run.submitted", "", "", {"request": code, "planning_mode": False}),
                    ("system", "plan.made", "", "", {"planner": "direct", "steps": 1, "plan_digest": digest([code])}),
                    ("system", "approval.requested", "", "", {"approval": run, "kind": "code", "interrupt_key": "step-0-code",
                                                              "requester": "operator", "reason": "Code may write to EPICS",
                                                              "content_digest": digest(code)}),
                    ("reviewer", "approval.decided", "approved", "", {"approval": run, "verdict": "approve", "comment": "ok",
                                                                      "content_digest": digest(code), "edited": None}),
                    ("system", "execution.started", "", "", {"step": 1, "executor": "local", "writes_allowed": True,
                                                             "approved_by": "reviewer", "code_digest": digest(code)}),
                    ("system", "execution.finished", "succeeded", "", {"step": 1, "state": "succeeded", "exit_code": 0,
                                                                       "duration_ms": 812, "epics_writes": 2}),
                    ("system", "epics.write", "confirmed", f"SR:MAG:Q{run % 40}:SETPT",
                     {"execution": run, "pv": f"SR:MAG:Q{run % 40}:SETPT", "requested": run % 50, "before": 1.5,
                      "readback": run % 50, "outcome": "confirmed", "message": ""}),
                    ("system", "epics.write", "refused", "SR:RF:CAV3:VOLT",
                     {"execution": run, "pv": "SR:RF:CAV3:VOLT", "requested": 9e9, "before": 1.0, "readback": None,
                      "outcome": "refused", "message": "above max_value"}),
                    ("system", "run.ended", "finished", "", {"status": "finished", "message": "Done: 1 step ran."}),
                    ("reviewer", "auth.login", "", "", {"path": "/accounts/login/", "ip": "127.0.0.1"}),
                ]
                for actor, action, outcome, pv, payload in story:
                    if written == count:
                        break
                    record_event(actor, action, None, payload, run_id=None if action.startswith("auth") else run,
                                 subject="operator", outcome=outcome, pv=pv)
                    written += 1
                    if written == SMALL:
                        small_until = timezone.now()
    elapsed = time.perf_counter() - started
    return small_until, elapsed


def export_in_child(workdir, fmt, until=None):
    """One export in a fresh process: (seconds, events, peak RSS MiB, baseline RSS MiB, output MiB)."""
    out = workdir / f"export.{fmt}"
    args = [sys.executable, __file__, "--child", str(workdir), fmt, str(out)] + ([until] if until else [])
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def child(workdir, fmt, out, until=None):
    setup_django(Path(workdir))
    from django.core.management import call_command

    from audit.models import AuditEvent  # noqa: F401  (load models before the baseline)

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    args = ["export", "--format", fmt, "--output", out, "--quiet"] + (["--until", until] if until else [])
    started = time.perf_counter()
    call_command("audit", *args)
    seconds = time.perf_counter() - started
    from audit.models import AuditEvent as Event

    events = Event.objects.filter(action="audit.exported").order_by("-seq").first().payload["events"]
    print(json.dumps({
        "seconds": seconds, "events": events, "baseline_mib": baseline,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "output_mib": os.path.getsize(out) / 2**20,
    }))


def main():
    workdir = Path(tempfile.mkdtemp(prefix="abf-bench-audit-"))
    try:
        setup_django(workdir)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        small_until, seconds = seed(EVENTS)
        print(f"appends: {EVENTS} events in {seconds:.1f} s ({EVENTS / seconds:,.0f} events/s, hash chain + head lock)")
        print(f"{'format':6} {'range':>8} {'seconds':>8} {'events/s':>10} {'peak RSS':>9} {'baseline':>9} {'output':>9}")
        for fmt in ("csv", "json", "pdf"):
            for label, until in ((f"{SMALL // 1000}k", small_until.isoformat()), (f"{EVENTS // 1000}k", None)):
                r = export_in_child(workdir, fmt, until)
                print(f"{fmt:6} {label:>8} {r['seconds']:8.1f} {r['events'] / r['seconds']:10,.0f} "
                      f"{r['peak_mib']:7.0f} MiB {r['baseline_mib']:5.0f} MiB {r['output_mib']:6.1f} MiB")
        started = time.perf_counter()
        call_command("audit", "verify", stdout=open(os.devnull, "w"))
        seconds = time.perf_counter() - started
        print(f"verify: {EVENTS + 6} events in {seconds:.1f} s ({(EVENTS + 6) / seconds:,.0f} events/s)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
