"""Real code through the container executor, on a Docker engine the test
starts in its own folders (no bridge, no iptables: containers get no network
or the host's loopback), from the image build_executor_image builds."""
import os
import subprocess
import threading

import pytest
from django.conf import settings
from django.core.management import call_command

from execution import kernels
from execution.executors import ContainerExecutor, Job, Limits
from execution.runner import run_python
from tests.conftest import wait_for

pytestmark = pytest.mark.slow

SMALL = Limits(wall_time_seconds=10, cpu_seconds=5, memory_mb=256, max_processes=32, output_bytes=64 * 1024, file_size_mb=8)


@pytest.fixture(scope="module")
def docker_host(docker_engine):
    """The suite's Docker engine, with the executor image built; the kernel
    containers pooled for these tests are removed at the end."""
    import docker

    os.environ["DOCKER_HOST"] = docker_engine
    try:
        call_command("build_executor_image")
    finally:
        del os.environ["DOCKER_HOST"]
    yield docker_engine
    kernels.close_pool()
    client = docker.DockerClient(base_url=docker_engine)
    wait_for(lambda: not client.containers.list(all=True, sparse=True), timeout=30, message="the kernel containers to go")


@pytest.fixture
def executor(docker_host):
    import docker

    return ContainerExecutor(docker.DockerClient(base_url=docker_host))


def run(executor, code, limits=SMALL):
    return executor.run(Job(code=code, limits=limits))


def test_results_are_captured(executor):
    result = run(executor, 'results = {"x": 1}\nprint("done")')
    assert (result.status, result.results, result.stdout) == ("ok", {"x": 1}, "done\n")


def test_the_deployment_setting_selects_it(docker_host, settings, monkeypatch):
    settings.ABF_EXECUTOR = "container"
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    result = run_python("import os\nresults = [os.getuid(), os.getcwd()]", limits=SMALL)
    assert result.status == "ok" and result.results == [65534, "/tmp"]


def test_exception_with_traceback(executor):
    result = run(executor, "def f():\n    return 1 / 0\nf()")
    assert result.status == "error" and result.error["type"] == "ZeroDivisionError"
    assert "Cell In[1], line 2, in f" in result.stderr


def test_timeout_kills_and_removes_the_container(executor, settings):
    settings.ABF_EXECUTOR_POOL_SIZE = 0  # only the container of this run
    kernels.close_pool()  # and none being pre-started meanwhile
    before = {c.id for c in executor.client.containers.list(all=True, sparse=True)}
    result = run(executor, "import time\ntime.sleep(60)", Limits(wall_time_seconds=2))
    assert result.status == "timeout" and result.duration_ms < 15_000
    wait_for(lambda: {c.id for c in executor.client.containers.list(all=True, sparse=True)} <= before, timeout=15, message="removal")


def test_memory_limit(executor):
    result = run(executor, "hog = bytearray(1024 ** 3)\nhog[::4096] = b'x' * len(hog[::4096])")
    assert result.status == "limit"


def test_kernel_containers_of_dead_workers_are_removed(executor, monkeypatch):
    from execution import executors
    from execution.container_image import PYTHON_IN_IMAGE

    dead = subprocess.Popen(["true"])
    dead.wait()
    dead_tag = kernels.owner_tag().rsplit("-", 1)[0] + f"-{dead.pid}"

    def left_by(tag):
        return executor.client.containers.create(
            settings.ABF_EXECUTOR_IMAGE, [PYTHON_IN_IMAGE, "-c", "pass"], labels={executors.CONTAINER_LABEL: tag}
        )

    orphan, live = left_by(dead_tag), left_by(kernels.owner_tag())
    monkeypatch.setattr(executors, "_stale_removed", set())
    assert run(executor, "results = 1").results == 1
    remaining = {c.id for c in executor.client.containers.list(all=True, sparse=True)}
    assert orphan.id not in remaining and live.id in remaining
    live.remove(force=True)


def test_fork_bomb_is_contained(executor):
    result = run(executor, "import os\nwhile True:\n    os.fork()")
    assert result.status in ("error", "limit") and result.duration_ms < 15_000


def test_no_network(executor):
    result = run(executor, "import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=2)")
    assert result.status == "error" and result.error["type"] in ("ConnectionRefusedError", "OSError")


def test_root_filesystem_is_read_only(executor):
    result = run(executor, "open('/tmp/ok', 'w').write('x')\nopen('/opt/abf/harness.py', 'w')")
    assert result.status == "error" and "Read-only file system" in result.error["message"]


def test_syntax_error(executor):
    result = run(executor, "def broken(:\n    pass")
    assert result.status == "error" and result.error["type"] == "SyntaxError"


def test_a_figure_is_captured(executor):
    result = run(executor, "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\nresults = 'plotted'")
    assert (result.status, result.results) == ("ok", "plotted"), result.stderr
    assert [o["output_type"] for o in result.outputs] == ["display_data"]
    assert result.outputs[0]["data"]["image/png"]


def test_a_hundred_megabytes_of_stdout_is_truncated_with_a_note(executor):
    code = "import sys\nline = 'x' * 99 + '\\n'\nfor _ in range(1_000_000):\n    sys.stdout.write(line)\nresults = 'finished'"
    result = run(executor, code)
    assert result.status == "ok" and result.results == "finished"
    assert "output truncated: kept 65536 of 100000000 bytes" in result.stdout


def test_cancel(executor):
    cancel = threading.Event()
    threading.Timer(1, cancel.set).start()
    result = executor.run(Job(code="import time\ntime.sleep(60)", limits=SMALL, cancel=cancel))
    assert result.status == "cancelled" and result.duration_ms < 10_000


@pytest.mark.django_db
def test_epics_writes_are_guarded_in_the_container(executor, settings, epics_ioc):
    import epics

    from tests.epics_ioc import Q1_SETPOINT

    q1 = "TEST:MAG:Q1:SETPT"
    settings.ABF_EPICS_READ_ADDR_LIST = settings.ABF_EPICS_WRITE_ADDR_LIST = ["127.0.0.1"]
    limits = {q1: {"writable": True, "min_value": 0, "max_value": 50, "max_step": 2,
                   "verification": "readback", "tolerance_percent": 0.1}}
    code = f"import epics\nepics.caput({q1!r}, 13.0, wait=True)"
    try:
        refused = executor.run(Job(code=code, limits=SMALL, allow_writes=False, pv_limits=limits))
        assert refused.status == "refused" and [w["outcome"] for w in refused.writes] == ["refused"]
        assert epics.caget(q1, use_monitor=False, timeout=5) == pytest.approx(Q1_SETPOINT)

        done = executor.run(Job(code=code, limits=SMALL, allow_writes=True, pv_limits=limits))
        assert done.status == "ok", done.stderr
        assert [(w["outcome"], w["readback"]) for w in done.writes] == [("confirmed", 13.0)]
        assert epics.caget(q1, use_monitor=False, timeout=5) == pytest.approx(13.0)
    finally:
        epics.caput(q1, Q1_SETPOINT, wait=True)
