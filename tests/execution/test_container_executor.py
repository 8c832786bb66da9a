"""Real code through the container executor, on a Docker engine the test
starts in its own folders (no bridge, no iptables: containers get no network
or the host's loopback), from the image build_executor_image builds."""
import os

import pytest
from django.core.management import call_command

from execution.executors import ContainerExecutor, Job, Limits
from execution.runner import run_python

pytestmark = pytest.mark.slow

SMALL = Limits(wall_time_seconds=10, cpu_seconds=5, memory_mb=256, max_processes=32, output_bytes=64 * 1024, file_size_mb=8)


@pytest.fixture(scope="module")
def docker_host(docker_engine):
    """The suite's Docker engine, with the executor image built."""
    os.environ["DOCKER_HOST"] = docker_engine
    try:
        call_command("build_executor_image")
    finally:
        del os.environ["DOCKER_HOST"]
    return docker_engine


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
    assert 'File "<step>", line 2, in f' in result.stderr


def test_timeout_kills_and_removes_the_container(executor):
    before = len(executor.client.containers.list(all=True))
    result = run(executor, "import time\ntime.sleep(60)", Limits(wall_time_seconds=2))
    assert result.status == "timeout" and result.duration_ms < 15_000
    assert len(executor.client.containers.list(all=True)) == before


def test_memory_limit(executor):
    result = run(executor, "hog = bytearray(1024 ** 3)\nhog[::4096] = b'x' * len(hog[::4096])")
    assert result.status == "limit"


def test_fork_bomb_is_contained(executor):
    result = run(executor, "import os\nwhile True:\n    os.fork()")
    assert result.status in ("error", "limit") and result.duration_ms < 15_000


def test_no_network(executor):
    result = run(executor, "import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=2)")
    assert result.status == "error" and result.error["type"] in ("ConnectionRefusedError", "OSError")


def test_root_filesystem_is_read_only(executor):
    result = run(executor, "open('/tmp/ok', 'w').write('x')\nopen('/opt/abf/harness.py', 'w')")
    assert result.status == "error" and "Read-only file system" in result.error["message"]
