"""Benchmark: per-execution overhead of a trivial cell (`results = {"x": 1}`)
through each executor, against a bare `python -c "pass"` in the same run.

Run from the repository root:

    .venv/bin/python bench/bench_execution.py [--runs N]

Prints the median and p95 wall time per execution and the ratio to bare
Python, for:

- local, cold: a kernel started for the execution (ABF_EXECUTOR_POOL_SIZE=0);
- local, warm: a pre-started kernel from the pool (the pool is given time
  to refill between runs, untimed: that is what a warm execution costs);
- container, warm: the same with the container executor;
- with --deployment ENV, also the container executor warm through the
  kernel services of that deployment (ABF_EXECUTOR_DEPLOYMENT: a read-only
  run joins executor-read, found by name for each run; deploy them first
  with `python manage.py deploy up execution --env ENV`).

Goals (issue 6): warm local <= 1.5x bare python, cold local < 1 s, container
(warm pool) < 2x bare python. The container executor needs a Docker engine on
this machine (DOCKER_HOST); the image is built if it is missing. Without an
engine it is reported as skipped, with the reason.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abf_site.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from execution import kernels  # noqa: E402
from execution.executors import ContainerExecutor, Job, LocalExecutor  # noqa: E402

CELL = 'results = {"x": 1}'
GOALS = {
    "local, cold": ("ms", 1000), "local, warm": ("ratio", 1.5),
    "container, warm": ("ratio", 2.0), "container, service, warm": ("ratio", 2.0),
}


def timed(call, runs, before=None):
    call()  # warm the page cache
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)]


def run_cell(executor):
    result = executor.run(Job(code=CELL))
    if result.status != "ok" or result.results != {"x": 1}:
        raise RuntimeError(f"{executor.name}: {result.status} {result.stderr} {result.notes}")


def report(name, median, p95, bare):
    ratio = median / bare
    line = f"{name:<25} median {median:7.1f} ms   p95 {p95:7.1f} ms   ratio {ratio:5.1f}"
    kind, goal = GOALS.get(name, (None, None))
    if kind == "ms":
        line += f"   goal < {goal} ms: {'met' if median < goal else 'NOT met'}"
    elif kind == "ratio":
        line += f"   goal <= {goal}x: {'met' if ratio <= goal else 'NOT met'}"
    print(line)


def warm(executor, runs, bare):
    settings.ABF_EXECUTOR_POOL_SIZE = 1
    key, _ = executor.kernel_for(Job(code=CELL))
    run_cell(executor)  # the pool now refills this key

    def until_ready():
        if not kernels.pool().wait_until_ready(key, timeout=120):
            raise RuntimeError("the pool did not refill within 120 s")

    return timed(lambda: run_cell(executor), runs, before=until_ready)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed executions per figure (default 30)")
    parser.add_argument(
        "--deployment", metavar="ENV", default="",
        help="also measure the container executor through the kernel services of deployment ENV",
    )
    arguments = parser.parse_args()
    runs = arguments.runs

    bare, bare_p95 = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), runs)
    report("bare python -c pass", bare, bare_p95, bare)

    local = LocalExecutor()
    settings.ABF_EXECUTOR_POOL_SIZE = 0
    report("local, cold", *timed(lambda: run_cell(local), max(runs // 3, 5)), bare)
    report("local, warm", *warm(local, runs, bare), bare)

    try:
        container = ContainerExecutor()
        container.client.ping()
        if not container.client.images.list(name=settings.ABF_EXECUTOR_IMAGE):
            from execution.container_image import build_image

            print(f"building {settings.ABF_EXECUTOR_IMAGE} ...")
            build_image(container.client, settings.ABF_EXECUTOR_IMAGE)
    except Exception as exc:  # noqa: BLE001  (any reason it cannot run here is reported)
        print(f"{'container':<25} skipped: {exc}")
    else:
        settings.ABF_EXECUTOR_POOL_SIZE = 0
        report("container, cold", *timed(lambda: run_cell(container), 5), bare)
        report("container, warm", *warm(container, runs, bare), bare)
        if arguments.deployment:
            settings.ABF_EXECUTOR_DEPLOYMENT = arguments.deployment
            report("container, service, warm", *warm(container, runs, bare), bare)
    kernels.close_pool()


if __name__ == "__main__":
    main()
