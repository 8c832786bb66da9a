"""Faults in the production configuration. Each asserts that nothing is
lost (the run finishes, the decision stands) and nothing runs twice (one
execution record, one vote)."""
import datetime
import signal
import subprocess
import sys
import threading

import pytest
from django.db import connection
from django.utils import timezone

from approvals import services
from approvals.models import ApprovalDecision, Run
from execution.models import ExecutionRecord
from tests.approvals.test_chain import pending_approval, wait_for_status
from tests.conftest import ROOT, subprocess_database_url, wait_for
from tests.production.conftest import Worker, browser_session, decide_on_page

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def waiting_run(operator, code='print("once")'):
    run = services.submit_run(operator, code)
    approval = pending_approval(run)
    wait_for_status(run, Run.Status.WAITING)
    return run, approval


def assert_ran_once(run, deployment, stdout="once\n"):
    wait_for_status(run, Run.Status.FINISHED, Run.Status.FAILED, Run.Status.REJECTED)
    assert run.status == Run.Status.FINISHED, (run.message, deployment.logs())
    record = ExecutionRecord.objects.get(step__plan__run=run)
    assert record.stdout == stdout


def test_all_workers_killed_while_waiting_for_approval(deployment, operator, reviewer, tmp_path):
    run, approval = waiting_run(operator)
    for worker in deployment.workers:
        worker.stop(signal.SIGKILL)
    services.decide(approval, reviewer, approve=True)  # queued in Redis, no worker alive
    deployment.workers = [Worker(tmp_path / f"new-worker{i}.log").start() for i in range(3)]
    assert_ran_once(run, deployment)


def test_redis_restarted_with_a_decision_queued(deployment, stack, operator, reviewer, tmp_path):
    run, approval = waiting_run(operator)
    for worker in deployment.workers:
        worker.stop()
    services.decide(approval, reviewer, approve=True)
    stack.redis.restart()  # no persistence: the queued resume task is gone
    deployment.workers = [Worker(tmp_path / f"new-worker{i}.log").start() for i in range(3)]
    # The schedule's next tick (called directly: it runs every minute).
    assert services.redeliver_lost_tasks(now=timezone.now() + datetime.timedelta(minutes=5)) == (0, 1)
    assert_ran_once(run, deployment)
    # Pages and workers carry on on the restarted Redis.
    second, approval = waiting_run(operator, 'print("twice")')
    services.decide(approval, reviewer, approve=True)
    assert_ran_once(second, deployment, stdout="twice\n")


def test_database_briefly_unavailable(deployment, stack, operator, reviewer):
    run, approval = waiting_run(operator)
    web = deployment.webs[0]
    session = browser_session(web, reviewer)
    stack.postgres.stop()
    try:
        down = session.get(f"{web.url}/approvals/{approval.pk}/", timeout=10)
        assert down.status_code == 503 and "database" in down.text.lower()
    finally:
        stack.postgres.start()
    connection.close()  # this test's own connection died with the server
    answer = decide_on_page(session, web, approval.pk)
    assert answer.status_code == 200
    assert_ran_once(run, deployment)


def test_two_reviewers_decide_at_the_same_instant(deployment, operator, reviewer, second_reviewer):
    run, approval = waiting_run(operator)
    sessions = [(browser_session(web, user), web) for web, user in zip(deployment.webs, (reviewer, second_reviewer))]
    barrier = threading.Barrier(2)
    answers = []

    def decide(session, web):
        barrier.wait()
        answers.append(decide_on_page(session, web, approval.pk))

    threads = [threading.Thread(target=decide, args=pair) for pair in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One decides; the other is told it was already decided, with who did.
    assert sorted(a.status_code for a in answers) == [200, 400]
    loser = next(a for a in answers if a.status_code == 400)
    assert "was already approved by" in loser.text
    assert ApprovalDecision.objects.filter(approval=approval).count() == 1
    assert_ran_once(run, deployment)


def test_page_and_cli_decide_the_same_request_at_once(deployment, operator, reviewer, second_reviewer):
    run, approval = waiting_run(operator)
    web = deployment.webs[1]
    session = browser_session(web, reviewer)
    env = {**deployment.workers[0].env()}
    cli = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "approvals", "decide", str(approval.pk), "--approve",
         "--as", second_reviewer.username],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    page = decide_on_page(session, web, approval.pk)
    output, _ = cli.communicate(timeout=60)
    assert ApprovalDecision.objects.filter(approval=approval).count() == 1
    # Exactly one of the two won; the other was told it was already decided.
    if page.status_code == 200:
        assert cli.returncode != 0 and "was already approved by" in output, output
    else:
        assert page.status_code == 400 and "was already approved by" in page.text
        assert cli.returncode == 0, output
    assert_ran_once(run, deployment)
    assert subprocess_database_url().startswith("postgres://")


def test_workers_killed_while_code_runs(deployment, operator, reviewer, tmp_path):
    from execution.services import report_interrupted

    run, approval = waiting_run(operator, 'import time\nprint("started", flush=True)\ntime.sleep(60)')
    services.decide(approval, reviewer, approve=True)
    record = wait_for(
        lambda: ExecutionRecord.objects.filter(step__plan__run=run, state="running").first(), message="the execution"
    )
    for worker in deployment.workers:
        worker.stop(signal.SIGKILL)
    deployment.workers = [Worker(tmp_path / f"new-worker{i}.log").start() for i in range(3)]

    later = record.heartbeat_at + datetime.timedelta(minutes=5)
    assert report_interrupted(now=later) == 1
    services.redeliver_lost_tasks(now=later)
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED and "interrupted mid-run" in run.message
    assert ExecutionRecord.objects.get(step__plan__run=run).state == ExecutionRecord.State.INTERRUPTED
