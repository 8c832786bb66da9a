"""Benchmark: memory retrieval at scale, and import throughput.

1. get_user_context(user, query) with 100,000 entries across 100 users
   (1,000 each, spread over 60 days, so the 30-day window holds about half):
   p50/p95 over 300 queries, each including its query embedding.
   Goal: p95 < 50 ms.
   Seeding embeds 5,000 distinct notes once and gives each entry the vector
   of its note (entries differ by a serial suffix the vector ignores):
   embedding 100,000 texts would take minutes and retrieval costs the same
   whatever the vectors hold.
2. `memory import` throughput: 20 reference files of 100 entries each, read,
   validated, embedded and stored (entries per second), then the same files
   again (all skipped).

Runs on a fresh SQLite database in a temporary directory. Exits 1 if the
latency goal is missed.
"""
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
WORKDIR = Path(tempfile.mkdtemp(prefix="abf-bench-memory-"))
os.environ["DATABASE_URL"] = f"sqlite:///{WORKDIR / 'bench.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abf_site.settings")
os.environ.setdefault("ABF_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from memory import embeddings, services  # noqa: E402
from memory.models import MemoryEntry  # noqa: E402
from tests.memory.relevance_set import DEVICES, STATES, TARGETS  # noqa: E402

USERS = 100
PER_USER = 1_000
DISTINCT_NOTES = 5_000
QUERIES = 300
GOAL_P95_MS = 50.0


def distinct_notes(rng):
    notes = [note for note, _, _ in TARGETS]
    while len(notes) < DISTINCT_NOTES:
        device = rng.choice(DEVICES).format(n=rng.randint(1, 99))
        state = rng.choice(STATES).format(n=rng.randint(1, 9))
        notes.append(f"{device} {state}")
    return notes


def seed(rng):
    notes = distinct_notes(rng)
    started = time.perf_counter()
    vectors = embeddings.embed_many(notes, batch_size=64)
    print(f"  embedded {len(notes)} distinct notes in {time.perf_counter() - started:.1f} s")
    now = timezone.now()
    started = time.perf_counter()
    for u in range(USERS):
        user = get_user_model().objects.create(username=f"op{u:03d}")
        rows = []
        for i in range(PER_USER):
            k = rng.randrange(len(notes))
            rows.append(MemoryEntry(
                owner=user, content=f"{notes[k]} (#{u}-{i})", source=MemoryEntry.Source.IMPORT,
                created_at=now - timedelta(minutes=rng.randrange(60 * 24 * 60)),
                embedding=embeddings.to_bytes(vectors[k]), embedding_model=embeddings.MODEL_NAME,
            ))
        MemoryEntry.objects.bulk_create(rows, batch_size=1000)
    print(f"  stored {USERS * PER_USER} entries for {USERS} users in {time.perf_counter() - started:.1f} s")


def bench_retrieval(rng):
    questions = [question for _, question, _ in TARGETS]
    services.get_user_context("op000", "warm up")
    timings = []
    for _ in range(QUERIES):
        user = f"op{rng.randrange(USERS):03d}"
        started = time.perf_counter()
        found = services.get_user_context(user, rng.choice(questions))
        timings.append((time.perf_counter() - started) * 1000)
        assert found and all(e.owner.username == user for e in found)
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    ok = p95 < GOAL_P95_MS
    print(f"get_user_context, {USERS * PER_USER} entries / {USERS} users, {QUERIES} queries incl. query embedding:")
    print(f"  p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms (goal p95 < {GOAL_P95_MS:.0f} ms)  "
          f"{'ok' if ok else 'MISSED'}")
    return ok


def bench_import(rng):
    folder = WORKDIR / "import"
    folder.mkdir()
    files, per_file = 20, 100
    notes = [f"{rng.choice(DEVICES).format(n=rng.randint(1, 99))} {rng.choice(STATES).format(n=rng.randint(1, 9))}"
             for _ in range(files * per_file)]
    for f in range(files):
        entries = [{"timestamp": f"2026-11-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}", "content": f"{notes[f * per_file + i]} #{i}"}
                   for i in range(per_file)]
        data = {"user_id": f"imported{f:02d}", "last_updated": "2026-11-28 23:59", "entries": entries}
        (folder / f"imported{f:02d}.json").write_text(json.dumps(data))
    total = files * per_file
    for label in ("first import", "second import (all already there)"):
        started = time.perf_counter()
        call_command("memory", "import", str(folder), stdout=open(os.devnull, "w"))
        elapsed = time.perf_counter() - started
        print(f"memory import, {label}: {total} entries in {elapsed:.2f} s = {total / elapsed:.0f} entries/s")
    assert MemoryEntry.objects.filter(owner__username__startswith="imported").count() == total


def main():
    try:
        call_command("migrate", verbosity=0)
        if not embeddings.available():
            print("the embedding model package is not installed: cannot benchmark")
            return 1
        rng = random.Random(7)
        print("seeding:")
        seed(rng)
        ok = bench_retrieval(rng)
        bench_import(rng)
        return 0 if ok else 1
    finally:
        shutil.rmtree(WORKDIR, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
