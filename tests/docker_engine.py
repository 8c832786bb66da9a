"""A real Docker engine for tests: a dockerd of the suite's own, in its own
folders (no bridge, no iptables: containers get no network or the host's
network), started once per test session by the `docker_engine` fixture,
which yields its DOCKER_HOST address. Where no engine can start, the tests
that need one skip and the reason (the end of dockerd's log) says why."""
import shutil
import signal
import subprocess
import time

import pytest


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory):
    if shutil.which("dockerd") is None:
        pytest.skip("no dockerd here (apt-get install docker.io iptables)")
    import docker

    folder = tmp_path_factory.mktemp("dockerd")
    host = f"unix://{folder}/docker.sock"
    log = open(folder / "dockerd.log", "wb")
    process = subprocess.Popen(
        [
            "dockerd", "--data-root", str(folder / "data"), "--exec-root", str(folder / "exec"),
            "--pidfile", str(folder / "docker.pid"), "-H", host,
            "--iptables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none",
        ],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                docker.DockerClient(base_url=host).ping()
                break
            except docker.errors.DockerException:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(f"dockerd did not start here: {(folder / 'dockerd.log').read_text()[-500:]}")
                time.sleep(0.2)
        yield host
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        # dockerd leaves its network namespace mounted; unmount it so the
        # test folders can be removed.
        for mount in (folder / "exec" / "netns").glob("*"):
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)
