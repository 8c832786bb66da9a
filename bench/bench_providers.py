"""Benchmark: a hung data source costs the others nothing.

Five providers that each take 100 ms, and a sixth that hangs for 10 s with a
1 s timeout: all five return their data and the sixth is reported timed out,
in under 1.1 s in all. Without the hung one: under 150 ms in all.

Times retrieve_all_context, the sync entry point the graph uses, from call
to return (no database: nothing is recorded). Each scenario runs three
times; the slowest run is the figure judged. Exits 1 if a goal is missed.
"""
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abf_site.settings")

import django  # noqa: E402

django.setup()

from providers.base import DataSourceProvider, DataSourceRequest  # noqa: E402
from providers.services import retrieve_all_context  # noqa: E402

RUNS = 3


class Sleeper(DataSourceProvider):
    description = "Answers after a fixed delay"
    context_type = "bench"

    def __init__(self, name, delay, **options):
        super().__init__(**options)
        self.name = name
        self.delay = delay

    async def retrieve(self, request):
        await asyncio.sleep(self.delay)
        return self.context({"source": self.name}, summary=f"{self.name} answered")


def scenario(title, providers, limit_ms, check):
    request = DataSourceRequest(user=None, requester="bench", query="bench: status of the ring")
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        result = retrieve_all_context(request, providers, record=False)
        runs.append(((time.perf_counter() - started) * 1000, result))
    slowest_ms, slowest = max(runs, key=lambda run: run[0])
    ok = slowest_ms < limit_ms and all(check(result) for _, result in runs)
    print(f"{title}")
    print(f"  total: {', '.join(f'{ms:.1f}' for ms, _ in runs)} ms (goal < {limit_ms} ms)  {'ok' if ok else 'MISSED'}")
    for outcome in slowest.outcomes:
        print(f"  {outcome.name:8} {outcome.status:10} {outcome.elapsed_ms:7.1f} ms")
    return ok


def main():
    fast = [Sleeper(f"fast-{n}", 0.1) for n in range(1, 6)]
    hung = Sleeper("hung", 10, timeout=1)
    fast_names = [p.name for p in fast]
    goals = [
        scenario(
            "Five 100 ms providers and one hung for 10 s (timeout 1 s):",
            [*fast, hung],
            1100,
            lambda r: r.succeeded == fast_names and r.timed_out == ["hung"] and len(r.contexts) == 5,
        ),
        scenario(
            "Five 100 ms providers:",
            fast,
            150,
            lambda r: r.succeeded == fast_names and len(r.contexts) == 5,
        ),
    ]
    return 0 if all(goals) else 1


if __name__ == "__main__":
    sys.exit(main())
