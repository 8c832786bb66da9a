"""What the Jupyter kernel gives an execution: figures, rich outputs, the
notebooks saved with the record, output streamed as it comes, and a kernel
(pooled or not) used for one execution only."""
import json
import threading
import time

import nbformat
import pytest

from execution import kernels
from execution.executors import Job, Limits, LocalExecutor
from execution.models import ExecutionArtifact, ExecutionRecord
from execution.runner import run_python
from execution.services import execute_step
from tests.conftest import wait_for
from tests.factories import make_step

SMALL = Limits(wall_time_seconds=20, cpu_seconds=10, memory_mb=1024, max_processes=32, output_bytes=64 * 1024, file_size_mb=8)

PLOTS = """\
import matplotlib.pyplot as plt
from IPython.display import SVG, display
print("plotting")
plt.plot([1, 2, 3], [4, 1, 9])
plt.title("orbit")
plt.show()
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="4" cx="5" cy="5"/></svg>'))
results = {"points": 3}
"""


def test_figures_and_results_are_captured():
    result = run_python(PLOTS, limits=SMALL)
    assert result.status == "ok", result.stderr
    assert result.results == {"points": 3} and result.stdout == "plotting\n"
    kinds = [output["output_type"] for output in result.outputs]
    assert kinds == ["stream", "display_data", "display_data"]
    assert result.outputs[1]["data"]["image/png"]


@pytest.mark.django_db
def test_the_notebooks_and_figures_are_stored_with_the_record(operator):
    record = execute_step(make_step(operator, PLOTS))

    assert record.state == ExecutionRecord.State.SUCCEEDED, record.stderr
    artifacts = {a.name: a for a in record.artifacts.all()}
    assert set(artifacts) == {"step-1-as-reviewed.ipynb", "step-1.ipynb", "figure-1.png", "figure-2.svg"}
    png, svg = artifacts["figure-1.png"], artifacts["figure-2.svg"]
    assert bytes(png.data).startswith(b"\x89PNG") and png.content_type == "image/png" and png.size == len(png.data)
    assert b"<circle" in bytes(svg.data) and svg.content_type == "image/svg+xml"

    # Both notebooks are valid nbformat 4 and open as they are.
    before = nbformat.reads(bytes(artifacts["step-1-as-reviewed.ipynb"].data).decode(), as_version=4)
    after = nbformat.reads(bytes(artifacts["step-1.ipynb"].data).decode(), as_version=4)
    nbformat.validate(before)
    nbformat.validate(after)
    assert before.cells[1].source == record.code and before.cells[1].outputs == []
    assert "Not executed yet" in before.cells[0].source
    code_cell = after.cells[1]
    assert code_cell.source == record.code and code_cell.execution_count == 1
    assert [o.output_type for o in code_cell.outputs] == ["stream", "display_data", "display_data"]
    assert code_cell.outputs[0].text == "plotting\n"
    assert artifacts["step-1.ipynb"].kind == ExecutionArtifact.Kind.NOTEBOOK
    assert artifacts["step-1-as-reviewed.ipynb"].kind == ExecutionArtifact.Kind.SOURCE_NOTEBOOK


@pytest.mark.django_db
def test_a_failed_execution_keeps_its_error_in_the_notebook(operator):
    record = execute_step(make_step(operator, "print('before')\nraise ValueError('bad value')"))

    assert record.state == ExecutionRecord.State.FAILED
    notebook = nbformat.reads(bytes(record.artifacts.get(kind="notebook").data).decode(), as_version=4)
    nbformat.validate(notebook)
    outputs = notebook.cells[1].outputs
    assert [o.output_type for o in outputs] == ["stream", "error"]
    assert (outputs[1].ename, outputs[1].evalue) == ("ValueError", "bad value")
    assert "failed" in notebook.cells[0].source.lower()


def test_rich_results_are_kept_like_jupyter_shows_them():
    result = run_python("import fractions\nfractions.Fraction(1, 3)", limits=SMALL)
    assert result.status == "ok"
    assert result.outputs == [
        {"output_type": "execute_result", "data": {"text/plain": "Fraction(1, 3)"}, "metadata": {}, "execution_count": 1}
    ]


def test_output_streams_while_the_code_runs():
    arrived = []
    code = "import sys, time\nprint('first', flush=True)\ntime.sleep(1.5)\nprint('second', file=sys.stderr)"
    started = time.monotonic()
    result = run_python(code, limits=SMALL, on_output=lambda stream, text: arrived.append((time.monotonic() - started, stream, text)))
    assert result.status == "ok"
    assert [(stream, text) for _, stream, text in arrived] == [("stdout", "first\n"), ("stderr", "second\n")]
    assert arrived[1][0] - arrived[0][0] > 1  # the first line came before the sleep ended


def test_streamed_output_stops_at_the_cap():
    arrived = []
    code = "for i in range(100_000):\n    print('y' * 99)"
    result = run_python(code, limits=SMALL, on_output=lambda stream, text: arrived.append(text))
    assert result.status == "ok"
    assert sum(len(text) for text in arrived) == SMALL.output_bytes
    assert "kept 65536 of 10000000 bytes" in result.stdout


def test_a_kernel_serves_one_execution_and_the_settings_hand_over_happens_once():
    first = run_python("leftover = 1\nresults = 'ran'", limits=SMALL)
    second = run_python(
        "results = ['leftover' in globals()]\n"
        "try:\n    __abf_configure__('{}')\nexcept NameError:\n    results.append('no second configure')",
        limits=SMALL,
    )
    assert first.results == "ran"
    assert second.results == [False, "no second configure"]


def test_exit_codes_of_sys_exit():
    assert run_python("import sys\nsys.exit(0)", limits=SMALL).status == "ok"
    failed = run_python("import sys\nsys.exit('giving up')", limits=SMALL)
    assert (failed.status, failed.exit_code, failed.stderr) == ("error", 1, "giving up\n")


def test_a_dead_pooled_kernel_is_replaced_before_the_code_is_sent(settings):
    run_python("pass", limits=SMALL)  # the pool now holds a kernel for these settings
    pool = kernels.pool()
    key, _ = LocalExecutor().kernel_for(Job(code="", limits=SMALL))
    assert pool.wait_until_ready(key, timeout=30)
    pooled = list(pool.sessions[key])
    for session in pooled:
        session.sandbox.kill()
    # Dead, as a kernel that crashed while it waited would be (a kernel that
    # dies after it was given the code is reported, never re-run: see below).
    wait_for(lambda: not any(session.alive() for session in pooled), timeout=10, message="the kernels to die")
    result = run_python("results = 'ran once'", limits=SMALL)
    assert (result.status, result.results) == ("ok", "ran once")


def test_a_pooled_kernel_runs_only_a_job_with_the_settings_it_took():
    tight = Limits(wall_time_seconds=20, max_processes=32, output_bytes=100)
    run_python("pass", limits=tight)
    pool = kernels.pool()
    tight_key, _ = LocalExecutor().kernel_for(Job(code="", limits=tight))
    assert pool.wait_until_ready(tight_key, timeout=30)  # a kernel capped at 100 bytes waits
    roomy = Limits(wall_time_seconds=20, max_processes=32, output_bytes=1000)
    result = run_python("print('z' * 500)", limits=roomy)
    assert result.stdout == "z" * 500 + "\n"
    capped = run_python("print('z' * 500)", limits=tight)
    assert capped.stdout.startswith("z" * 100 + "\n[abf] output truncated")


def test_the_cpu_limit_counts_from_the_code_not_the_kernel_start():
    # A kernel's start costs CPU; a busy loop of 1.5 s still fits in 2 s.
    code = "import time\nend = time.process_time() + 1.5\nwhile time.process_time() < end:\n    pass\nresults = 'done'"
    result = run_python(code, limits=Limits(wall_time_seconds=20, cpu_seconds=2, max_processes=32))
    assert (result.status, result.results) == ("ok", "done")


def test_results_survive_an_exception_after_they_were_set():
    result = run_python("results = {'partial': True}\n1 / 0", limits=SMALL)
    assert result.status == "error" and result.results == {"partial": True}


def test_concurrent_executions_each_get_their_own_kernel():
    found = {}

    def run(name):
        found[name] = run_python(f"import os\nresults = [os.getpid(), {name!r}]", limits=SMALL)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {r.results[1] for r in found.values()} == {"a", "b"}
    assert all(r.status == "ok" for r in found.values()), json.dumps({k: v.stderr for k, v in found.items()})


def test_a_kernel_that_dies_under_the_code_is_reported():
    result = run_python("import os\nprint('bye', flush=True)\nos._exit(7)", limits=SMALL)
    assert result.status == "error" and result.results is None
    assert any("the kernel ended before the code finished" in note for note in result.notes)
