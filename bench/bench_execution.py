"""Benchmark: per-execution overhead of a trivial cell (`results = {"x": 1}`)
through each executor, against a bare `python -c "pass"`.

Run from the repository root:

    .venv/bin/python bench/bench_execution.py

Prints the median and p95 wall time per execution and the ratio to bare
Python. The container executor needs a Docker engine (DOCKER_HOST) with the
image built (python manage.py build_executor_image); without one it is
reported as skipped with the reason.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abf_site.settings")

import django  # noqa: E402

django.setup()

from execution.executors import EXECUTORS, Job  # noqa: E402

RUNS = 30
CELL = 'results = {"x": 1}'


def timed(call, runs=RUNS):
    call()  # warm the page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def run_cell(executor):
    result = executor.run(Job(code=CELL))
    if result.status != "ok" or result.results != {"x": 1}:
        raise RuntimeError(f"{executor.name}: {result.status} {result.stderr}")


def main():
    bare_median, bare_p95 = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
    print(f"{'bare python -c pass':<28} median {bare_median:7.1f} ms   p95 {bare_p95:7.1f} ms   ratio  1.0")
    for name, executor_class in EXECUTORS.items():
        try:
            executor = executor_class()
            run_cell(executor)
        except Exception as exc:  # noqa: BLE001  (any reason it cannot run here is reported)
            print(f"{name + ' executor':<28} skipped: {exc}")
            continue
        if name == "local" and shutil.which("bwrap") is None:
            print(f"{name:<28} (no bubblewrap: rlimits only)")
        median, p95 = timed(lambda: run_cell(executor))
        print(f"{name + ' executor':<28} median {median:7.1f} ms   p95 {p95:7.1f} ms   ratio {median / bare_median:4.1f}")


if __name__ == "__main__":
    main()
