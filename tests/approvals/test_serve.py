"""`manage.py abf_serve` (what `make run` starts): web and worker up, and
Ctrl-C stops both, leaving nothing behind."""
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import ROOT, QCluster, free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def children_of(pid):
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def test_ctrl_c_stops_web_and_worker(tmp_path):
    port = free_port()
    env = QCluster(tmp_path / "unused.log").env()
    serve = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "abf_serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        def healthy():
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).status == 200
            except OSError:
                return False

        wait_for(healthy, timeout=60, message="abf_serve's web process")
        children = wait_for(lambda: len(children_of(serve.pid)) == 2 and children_of(serve.pid), message="web and worker")
        os.killpg(serve.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
        output, _ = serve.communicate(timeout=30)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
    assert "Stopped." in output
    for group in children:  # each child leads its own group: none of it is left
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)
    assert not healthy()
