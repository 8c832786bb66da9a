"""Reviewer latency on the embedded default (SQLite, ORM broker, relay layer).

  interrupt -> browser: from the moment the worker opens an approval request
      to the moment a reviewer's Chromium page receives it over the WebSocket
      (goal: < 100 ms), over N requests;
  approve -> execution start: from a decision to the worker starting the step.

Starts its own web server (daphne) and django-q cluster on a scratch database.
Run: .venv/bin/python bench/bench_review_latency.py [--requests 200] [--approvals 50]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = Path(tempfile.mkdtemp(prefix="abf-bench-"))
os.environ.update(
    ABF_VAR_DIR=str(SCRATCH),
    DATABASE_URL=f"sqlite:///{SCRATCH / 'abf.sqlite3'}",
    ABF_CHANNEL_RELAY_SOCKET=str(SCRATCH / "relay.sock"),
    DJANGO_SETTINGS_MODULE="abf_site.settings",
    DJANGO_ALLOW_ASYNC_UNSAFE="true",
    ABF_LOG_LEVEL="WARNING",
)
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench.figures import percentile  # noqa: E402


def report(name, values_ms, goal=None):
    line = f"{name}: n={len(values_ms)} p50={statistics.median(values_ms):.1f} ms p95={percentile(values_ms, 95):.1f} ms max={max(values_ms):.1f} ms"
    if goal:
        line += f"  (goal p95 < {goal} ms: {'met' if percentile(values_ms, 95) < goal else 'MISSED'})"
    print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--approvals", type=int, default=50)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import Group

    from approvals import services
    from approvals.models import ApprovalPolicy, ApprovalRequest
    from django.contrib.auth import get_user_model
    from execution.models import ExecutionRecord

    User = get_user_model()
    operator = User.objects.create_user("operator", password="pw-operator")
    reviewer = User.objects.create_user("reviewer", password="pw-reviewer")
    reviewer.groups.add(Group.objects.get_or_create(name=services.REVIEWERS_GROUP)[0])
    ApprovalPolicy.objects.filter(is_active=True).update(python_mode="all_code")

    port = 8765
    env = dict(os.environ)
    procs = [
        subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "abf_site.asgi:application"],
                         cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            url = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    page.goto(url + "/accounts/login/")
                    break
                except Exception:
                    time.sleep(0.2)
            page.fill("#id_username", "reviewer")
            page.fill("#id_password", "pw-reviewer")
            page.click("button[type=submit]")
            page.goto(url + "/approvals/")
            page.wait_for_selector("#live-status:text('live')")
            # Record when each pushed request reaches the page (wall clock).
            page.evaluate("""() => { window.arrivals = {};
                new MutationObserver(() => { for (const tr of document.querySelectorAll('#pending tr[data-id]'))
                  if (!(tr.dataset.id in window.arrivals)) window.arrivals[tr.dataset.id] = performance.timeOrigin + performance.now(); })
                .observe(document.querySelector('#pending tbody'), {childList: true}); }""")

            started = time.monotonic()
            runs = [services.submit_run(operator, f'print("bench {i}")') for i in range(args.requests)]
            deadline = time.monotonic() + 600
            while ApprovalRequest.objects.count() < args.requests and time.monotonic() < deadline:
                time.sleep(0.2)
            while len(page.evaluate("Object.keys(window.arrivals)")) < args.requests and time.monotonic() < deadline:
                time.sleep(0.2)
            arrivals = page.evaluate("window.arrivals")
            elapsed = time.monotonic() - started
            push = [arrivals[str(a.pk)] - a.created_at.timestamp() * 1000 for a in ApprovalRequest.objects.all() if str(a.pk) in arrivals]
            print(f"{len(runs)} runs reached approval in {elapsed:.1f} s; {len(push)} pushes received, {args.requests - len(push)} lost")
            report("interrupt -> browser", push, goal=100)

            to_start = []
            for approval in list(ApprovalRequest.objects.order_by("pk"))[: args.approvals]:
                approval = services.decide(approval, reviewer, approve=True)
                while not ExecutionRecord.objects.filter(step__plan__run=approval.run_id).exists():
                    time.sleep(0.005)
                record = ExecutionRecord.objects.get(step__plan__run=approval.run_id)
                to_start.append((record.started_at - approval.decided_at).total_seconds() * 1000)
            report("approve -> execution start", to_start)
            browser.close()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        shutil.rmtree(SCRATCH, ignore_errors=True)


if __name__ == "__main__":
    main()
