"""Real code through the local executor: results, errors and every limit."""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.core import checks

from execution.executors import Limits
from execution.runner import run_python

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (apt bubblewrap) is not installed")
SMALL = Limits(wall_time_seconds=10, cpu_seconds=5, memory_mb=512, max_processes=32, output_bytes=64 * 1024, file_size_mb=8)


def test_results_are_captured_as_json():
    result = run_python('results = {"x": 1, "values": [1.5, "a", None]}\nprint("done")', limits=SMALL)
    assert result.status == "ok" and result.exit_code == 0
    assert result.results == {"x": 1, "values": [1.5, "a", None]}
    assert result.stdout == "done\n"


def test_results_that_are_not_json_are_reported_not_lost():
    result = run_python("results = {'when': object()}", limits=SMALL)
    assert result.status == "ok" and result.results is None
    assert any("not JSON-serialisable" in note for note in result.notes)


def test_syntax_error():
    result = run_python("def broken(:\n    pass", limits=SMALL)
    assert result.status == "error"
    assert result.error["type"] == "SyntaxError"
    assert "Cell In[1], line 1" in result.stderr


def test_exception_with_traceback():
    result = run_python("def f():\n    return 1 / 0\nf()", limits=SMALL)
    assert result.status == "error" and result.exit_code == 1
    assert result.error["type"] == "ZeroDivisionError"
    assert "Cell In[1], line 2, in f" in result.error["traceback"]
    assert "----> 2     return 1 / 0" in result.error["traceback"]
    assert "harness.py" not in result.error["traceback"] and "\x1b[" not in result.error["traceback"]


def test_exit_code_is_kept():
    result = run_python("import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)", limits=SMALL)
    assert (result.status, result.exit_code, result.stdout, result.stderr.strip()) == ("error", 3, "out\n", "err")


def test_wall_time_limit_stops_the_code():
    limits = Limits(wall_time_seconds=1, cpu_seconds=30)
    result = run_python("import time\nprint('started', flush=True)\ntime.sleep(60)", limits=limits)
    assert result.status == "timeout" and result.exit_code is None
    assert "started" in result.stdout and "stopped after 1 s" in result.stderr
    assert result.duration_ms < 5_000


def test_cpu_limit_kills_a_busy_loop():
    result = run_python("while True:\n    pass", limits=Limits(wall_time_seconds=30, cpu_seconds=1))
    assert result.status == "limit"
    assert result.duration_ms < 10_000


def test_memory_limit():
    result = run_python("hog = bytearray(2 * 1024 ** 3)", limits=SMALL)
    assert result.status == "limit"
    assert result.error["type"] == "MemoryError"


@needs_bwrap
def test_fork_bomb_is_contained():
    code = "import os\nwhile True:\n    os.fork()"
    started = time.monotonic()
    result = run_python(code, limits=SMALL)
    assert result.status in ("error", "limit")
    assert "Resource temporarily unavailable" in result.stderr
    assert time.monotonic() - started < 10


def test_a_hundred_megabytes_of_stdout_is_truncated_with_a_note():
    code = "import sys\nline = 'x' * 99 + '\\n'\nfor _ in range(1_000_000):\n    sys.stdout.write(line)\nresults = 'finished'"
    result = run_python(code, limits=SMALL)
    assert result.status == "ok" and result.results == "finished"
    assert len(result.stdout) < 70 * 1024
    assert "output truncated: kept 65536 of 100000000 bytes" in result.stdout


def test_file_size_limit():
    result = run_python("open('big', 'wb').write(b'x' * 20 * 1024 * 1024)", limits=SMALL)
    assert result.status == "limit"
    assert "File too large" in result.error["message"]


@needs_bwrap
def test_no_network_without_epics_addresses(settings):
    settings.ABF_EPICS_READ_ADDR_LIST = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"
        result = run_python(code, limits=SMALL)
    assert result.status == "error"
    assert result.error["type"] in ("ConnectionRefusedError", "OSError")


@needs_bwrap
def test_with_epics_addresses_only_those_are_reachable(settings):
    settings.ABF_EPICS_READ_ADDR_LIST = ["127.0.0.2"]
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        result = run_python(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)", limits=SMALL)
    assert result.status == "error"
    assert "network access to 127.0.0.1 is not allowed" in result.error["message"]


@needs_bwrap
def test_writes_outside_the_work_folder_fail(settings):
    # A folder the worker itself may write to (the sandbox's /tmp is its work folder).
    outside = Path(tempfile.mkdtemp(dir=settings.VAR_DIR))
    try:
        target = outside / "escaped"
        code = (
            "open('inside.txt', 'w').write('ok')\n"
            f"open({str(target)!r}, 'w').write('escaped')"
        )
        result = run_python(code, limits=SMALL)
        assert result.status == "error"
        assert "Read-only file system" in result.error["message"]
        assert not target.exists()
    finally:
        shutil.rmtree(outside)


@needs_bwrap
def test_each_execution_gets_a_fresh_work_folder():
    first = run_python("import os\nopen('left-behind', 'w').write('x')\nresults = os.listdir('.')", limits=SMALL)
    second = run_python("import os\nresults = os.listdir('.')", limits=SMALL)
    assert first.results == ["left-behind"] and second.results == []


def test_exchange_folders_are_made_where_the_setting_says(settings, tmp_path):
    settings.ABF_EXECUTOR_EXCHANGE_DIR = str(tmp_path)
    settings.ABF_EXECUTOR_POOL_SIZE = 0
    result = run_python("results = 'ran'", limits=SMALL)
    assert result.results == "ran"
    assert os.listdir(tmp_path) == []  # made there and removed after the run


def test_without_a_usable_exchange_folder_the_code_is_not_run(settings, tmp_path):
    settings.ABF_EXECUTOR_EXCHANGE_DIR = str(tmp_path / "missing")
    settings.ABF_EXECUTOR_POOL_SIZE = 0
    result = run_python("results = 'ran'", limits=SMALL)
    assert (result.status, result.results) == ("error", None)
    assert f"no exchange folder for the kernel in {tmp_path / 'missing'}" in result.stderr
    errors = checks.run_checks()
    assert [e.id for e in errors if e.id == "execution.E001"] == ["execution.E001"]
    assert f"install -d -m 1777 {tmp_path / 'missing'}" in next(e.hint for e in errors if e.id == "execution.E001")


def test_a_worker_removes_what_dead_workers_of_this_machine_left(monkeypatch, settings, tmp_path):
    from execution import executors, kernels

    settings.ABF_EXECUTOR_EXCHANGE_DIR = str(tmp_path)
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = kernels.owner_tag().split("-")[0]
    left = [tmp_path / f"abf-kx-{host}-{dead.pid}-a1", Path(tempfile.gettempdir()) / f"abf-exec-{host}-{dead.pid}-b2"]
    kept = [tmp_path / f"abf-kx-{host}-{os.getpid()}-c3", tmp_path / f"abf-kx-0badc0de-{dead.pid}-d4"]
    for folder in left + kept:
        (folder / "work").mkdir(parents=True)
    cgroup = executors.make_pids_cgroup(8)  # where this machine allows one
    if cgroup is not None:
        cgroup = cgroup.rename(cgroup.with_name(f"abf-{host}-{dead.pid}-e5"))
    monkeypatch.setattr(executors, "_leftovers_removed", False)
    assert run_python("results = 'ran'", limits=SMALL).results == "ran"
    assert [folder.exists() for folder in left + kept] == [False, False, True, True]
    assert cgroup is None or not cgroup.exists()
    for folder in kept:
        shutil.rmtree(folder)


def test_the_code_does_not_see_the_workers_secrets(monkeypatch):
    monkeypatch.setenv("ABF_SECRET_KEY", "do-not-leak")
    result = run_python("import os\nresults = os.environ.get('ABF_SECRET_KEY')", limits=SMALL)
    assert result.status == "ok" and result.results is None


def test_cancel_stops_the_code():
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    result = run_python("import time\ntime.sleep(60)", limits=SMALL, cancel=cancel)
    assert result.status == "cancelled"
    assert result.duration_ms < 5_000


@needs_bwrap
def test_nothing_is_left_running_after_a_timeout():
    marker = f"abf-left-running-{os.getpid()}-{time.monotonic_ns()}"
    code = f"import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(120)  # {marker}\ntime.sleep(120)"
    result = run_python(code, limits=Limits(wall_time_seconds=1))
    assert result.status == "timeout"
    time.sleep(0.2)
    survivors = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline_has(p, marker)]
    assert survivors == []


def _cmdline_has(pid, text):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return text.encode() in handle.read()
    except OSError:
        return False


def test_without_bubblewrap_it_warns_and_still_applies_the_rlimits(monkeypatch, caplog):
    monkeypatch.setattr("execution.executors.shutil.which", lambda name: None)
    result = run_python("hog = bytearray(2 * 1024 ** 3)", limits=SMALL)
    assert result.status == "limit"
    assert any("bubblewrap not found" in note for note in result.notes)
    assert "bubblewrap not found" in caplog.text
