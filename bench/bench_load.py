"""Load: many runs through approval and execution, many reviewer sockets.

For each configuration, side by side:
  embedded    SQLite, django-q's ORM broker, the relay channel layer,
              one web process and one worker process (what `make run` starts);
  production  PostgreSQL, Redis (channel layer and broker), started on
              loopback from Debian's packages, one web process (the sockets'),
              a second web process (the API) and three worker processes.

R runs (default 200) are submitted at once through the API while S reviewer
sockets (default 500) are connected to ONE web process. Every socket must
receive every run's "requested" and "removed" push: lost = expected -
received, and must be 0. A reviewer approves each run once its push has reached the sockets (as on
the page: a request decided before its push arrives is, rightly, not shown); each
run executes its code in the sandbox.

Reported: runs/s (first submit to last finish), submit -> pushed to the
sockets (p50/p95, first socket to see it), decision -> run finished
(p50/p95), pushes received and lost.

Run: .venv/bin/python bench/bench_load.py [--runs 200] [--sockets 500] [--only embedded|production]
"""
import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import percentile  # noqa: E402
from tests.production.servers import free_port  # noqa: E402  (standard library only)


def spawn(command, env, log):
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_healthy(url, timeout=60):
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def logged_in(url, username, password):
    import requests

    session = requests.Session()
    session.get(url + "/accounts/login/", timeout=10)
    answer = session.post(
        url + "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": url + "/accounts/login/"},
        timeout=10,
    )
    if not answer.url.endswith("/runs/"):
        raise RuntimeError(f"could not log in as {username}")
    return session


class Sockets:
    """S reviewer sockets on one web process, counting what each receives."""

    def __init__(self, url, cookie, count):
        self.uri = url.replace("http://", "ws://") + "/ws/approvals/"
        self.origin, self.cookie, self.count = url, cookie, count
        self.received = [0] * count
        self.first_seen = {}  # approval id -> time the first socket had it
        self.ready = threading.Event()
        self.tasks = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)
        self.thread.start()
        if not self.ready.wait(120):
            raise RuntimeError("the sockets did not all connect")

    async def _main(self):
        import websockets

        async def one(index):
            async with websockets.connect(
                self.uri, additional_headers={"Cookie": self.cookie, "Origin": self.origin}, max_queue=None,
                open_timeout=60,
            ) as socket:
                await socket.recv()  # snapshot
                connected.append(index)
                if len(connected) == self.count:
                    self.ready.set()
                async for text in socket:
                    # Cheap on the client's side: only "requested" is parsed.
                    if '"event": "removed"' in text:
                        self.received[index] += 1
                    elif '"event": "requested"' in text:
                        self.received[index] += 1
                        approval_id = json.loads(text)["approval"]["id"]
                        self.first_seen.setdefault(approval_id, time.monotonic())

        connected = []
        tasks = []
        for index in range(self.count):  # connect in waves, as pages open
            tasks.append(asyncio.ensure_future(one(index)))
            if index % 50 == 49:
                await asyncio.sleep(0.2)
        self.tasks = tasks
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self):
        for task in self.tasks:
            self.loop.call_soon_threadsafe(task.cancel)
        self.thread.join(30)


def drive(args, env, webs, workers, scratch):
    """Everything a configuration does once its servers and database exist."""
    import django

    os.environ.update(env)
    django.setup()
    from django.core.management import call_command

    from approvals import services
    from approvals.models import ApprovalPolicy, ApprovalRequest, Run

    call_command("migrate", verbosity=0)
    call_command("abf_setup", verbosity=0)
    ApprovalPolicy.objects.filter(is_active=True).update(python_mode="all_code")
    credentials = dict(line.split(":", 1) for line in (scratch / "demo-credentials.txt").read_text().split())

    processes, logs = [], []
    ports = [free_port() for _ in range(webs)]
    for index, port in enumerate(ports):
        log = open(scratch / f"web{index}.log", "ab")
        logs.append(log)
        processes.append(spawn([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                "abf_site.asgi:application"], os.environ.copy(), log))
    for index in range(workers):
        log = open(scratch / f"worker{index}.log", "ab")
        logs.append(log)
        processes.append(spawn([sys.executable, "manage.py", "qcluster"], os.environ.copy(), log))
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            wait_healthy(url)
        reviewer = logged_in(urls[0], "reviewer", credentials["reviewer"])
        from django.contrib.auth import get_user_model

        reviewer_user = get_user_model().objects.get(username="reviewer")
        cookie = "; ".join(f"{k}={v}" for k, v in reviewer.cookies.items())
        started = time.monotonic()
        sockets = Sockets(urls[0], cookie, args.sockets)
        connect_time = time.monotonic() - started

        api_url = urls[-1]
        operator = logged_in(api_url, "operator", credentials["operator"])
        token = operator.cookies["csrftoken"]
        submitted = {}

        def submit(index):
            at = time.monotonic()
            answer = operator.post(
                api_url + "/api/runs/", json={"request": f"print('load {index}')"},
                headers={"X-CSRFToken": token, "Referer": api_url + "/"}, timeout=120,
            )
            answer.raise_for_status()
            submitted[answer.json()["id"]] = at

        first_submit = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(submit, range(args.runs)))

        decided, finished = {}, {}
        deadline = time.monotonic() + args.timeout

        def decide(approval):
            services.decide(approval, reviewer_user, approve=True)
            decided[approval.run_id] = time.monotonic()

        with ThreadPoolExecutor(8) as pool:
            while len(finished) < args.runs and time.monotonic() < deadline:
                # The reviewer decides what the page showed them: a request
                # is decided once its push reached the sockets.
                pending = ApprovalRequest.objects.filter(
                    status="pending", run_id__in=submitted, pk__in=list(sockets.first_seen)
                ).exclude(run_id__in=list(decided))
                list(pool.map(decide, list(pending)))
                now = time.monotonic()
                for run_id in Run.objects.filter(pk__in=submitted, status__in=Run.TERMINAL).exclude(
                        pk__in=list(finished)).values_list("pk", flat=True):
                    finished[run_id] = now
                time.sleep(0.1)
        last_finish = max(finished.values()) if finished else time.monotonic()
        ok = Run.objects.filter(pk__in=submitted, status=Run.Status.FINISHED).count()

        # Late is not lost: wait (up to 5 minutes) for pushes still queued
        # for the sockets of a busy web process, then count.
        settle = time.monotonic() + 300
        expected = args.sockets * args.runs * 2
        while sum(sockets.received) < expected and time.monotonic() < settle:
            time.sleep(0.2)
        drained = time.monotonic() - last_finish
        sockets.close()
        received = sum(sockets.received)
        approval_of_run = dict(ApprovalRequest.objects.filter(run_id__in=submitted).values_list("pk", "run_id"))
        push_latency = [
            (seen - submitted[approval_of_run[approval_id]]) * 1000
            for approval_id, seen in sockets.first_seen.items() if approval_id in approval_of_run
        ]
        finish_latency = [(finished[r] - decided[r]) * 1000 for r in finished if r in decided]
        return {
            "runs": args.runs, "finished ok": ok, "sockets": args.sockets,
            "sockets connected in s": round(connect_time, 1),
            "runs/s": round(len(finished) / (last_finish - first_submit), 2),
            "submit->pushed p50 ms": round(percentile(push_latency, 50)),
            "submit->pushed p95 ms": round(percentile(push_latency, 95)),
            "decided->finished p50 ms": round(percentile(finish_latency, 50)),
            "decided->finished p95 ms": round(percentile(finish_latency, 95)),
            "last push after last finish s": round(drained, 1),
            "pushes expected": expected, "pushes received": received, "lost": expected - received,
        }
    finally:
        for process in processes:
            stop(process)
        for log in logs:
            log.close()


def child(args):
    """One configuration, in a process of its own (settings are per process)."""
    # Stopped from outside: still stop the servers it started (finally).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    scratch = Path(tempfile.mkdtemp(prefix=f"abf-load-{args.child}-"))
    env = {"ABF_VAR_DIR": str(scratch), "DJANGO_SETTINGS_MODULE": "abf_site.settings", "ABF_LOG_LEVEL": "WARNING",
           "DJANGO_ALLOW_ASYNC_UNSAFE": "true"}
    try:
        if args.child == "embedded":
            env.update(DATABASE_URL=f"sqlite:///{scratch / 'abf.sqlite3'}",
                       ABF_CHANNEL_RELAY_SOCKET=str(scratch / "relay.sock"), ABF_WORKERS="2")
            figures = drive(args, env, webs=1, workers=1, scratch=scratch)
        else:
            from tests.production.servers import Stack

            with Stack() as stack:
                env.update(stack.env, ABF_WORKERS="1")
                figures = drive(args, env, webs=2, workers=3, scratch=scratch)
        print(json.dumps(figures))
    except BaseException:
        print(f"logs kept in {scratch}", file=sys.stderr)
        raise
    else:
        if figures["lost"] or figures["finished ok"] < figures["runs"]:
            print(f"logs kept in {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="Runs submitted at once (default 200).")
    parser.add_argument("--sockets", type=int, default=500, help="Reviewer sockets on one web process (default 500).")
    parser.add_argument("--timeout", type=int, default=600, help="Give up on unfinished runs after this (s).")
    parser.add_argument("--only", choices=("embedded", "production"), help="Measure one configuration.")
    parser.add_argument("--child", choices=("embedded", "production"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    results = {}
    for config in [args.only] if args.only else ["embedded", "production"]:
        print(f"measuring {config}: {args.runs} runs, {args.sockets} sockets ...", flush=True)
        out = subprocess.run(
            [sys.executable, __file__, "--child", config, "--runs", str(args.runs), "--sockets", str(args.sockets),
             "--timeout", str(args.timeout)],
            capture_output=True, text=True,
        )
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if "logs kept in" in out.stderr:
            print(out.stderr.strip().splitlines()[-1])
        if out.returncode != 0 or not lines:
            print(out.stdout[-2000:], out.stderr[-4000:])
            raise SystemExit(f"{config} failed")
        results[config] = json.loads(lines[-1])
    keys = list(next(iter(results.values())))
    width = max(map(len, keys))
    print(f"{'':{width}}  " + "  ".join(f"{c:>12}" for c in results))
    for key in keys:
        print(f"{key:{width}}  " + "  ".join(f"{results[c][key]:>12}" for c in results))
    if any(r["lost"] for r in results.values()):
        raise SystemExit("pushes were lost")


if __name__ == "__main__":
    main()
