"""A real Channel Access IOC on loopback for tests (caproto), and the
environment that points EPICS clients at it.

pyepics creates one Channel Access context per process, at its first CA
call, and reads EPICS_CA_* then; later changes are ignored. So a test
process talks to one IOC through pyepics: pytest_configure calls
isolate_channel_access(), which points every client of the process (and of
the subprocesses it starts) at ports chosen once per process on 127.0.0.1,
before any CA call; the session-wide `epics_ioc` fixture serves TestIOC on
those ports. Without the fixture, reads find nothing, and no search leaves
loopback.

A test that needs an IOC of its own (a restart, other PVs) starts one on
free ports and talks to it from a subprocess:

    with running_ioc() as ioc:
        subprocess.run([...], env={**os.environ, **ioc.client_env})

Run as `python -m tests.epics_ioc`, this module serves TestIOC in the
foreground on the ports its environment names; running_ioc() starts it so.
"""
import functools
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "TEST:"

# What TestIOC serves, for tests to compare against.
BEAM_CURRENT = 401.7
Q1_SETPOINT = 12.5
Q1_LIMITS = (0.0, 50.0)
BPM_X = [0.12, -0.07, 0.03]


def serve():
    """Serve TestIOC on the interfaces and port the environment names."""
    from caproto.server import PVGroup, pvproperty, run

    class TestIOC(PVGroup):
        beam_current = pvproperty(
            name="BEAM:CURRENT", value=BEAM_CURRENT, units="mA", precision=2, read_only=True, record="ai",
            doc="Stored beam current",
        )

        @beam_current.startup
        async def beam_current(self, instance, async_lib):
            await instance.field_inst.engineering_units.write("mA")

        q1_setpoint = pvproperty(
            name="MAG:Q1:SETPT", value=Q1_SETPOINT, units="A", precision=3, record="ao",
            lower_ctrl_limit=Q1_LIMITS[0], upper_ctrl_limit=Q1_LIMITS[1],
            lower_disp_limit=Q1_LIMITS[0], upper_disp_limit=Q1_LIMITS[1],
            doc="Quadrupole Q1 current setpoint",
        )

        @q1_setpoint.startup
        async def q1_setpoint(self, instance, async_lib):
            # The record's units, drive and operating limits, as a real ao record has.
            fields = instance.field_inst
            await fields.engineering_units.write("A")
            await fields.drive_low_limit.write(Q1_LIMITS[0])
            await fields.drive_high_limit.write(Q1_LIMITS[1])
            await fields.low_operating_range.write(Q1_LIMITS[0])
            await fields.high_operating_range.write(Q1_LIMITS[1])

        bpm_x = pvproperty(name="BPM:X", value=BPM_X, max_length=len(BPM_X), read_only=True, doc="BPM x positions (mm)")

    ioc = TestIOC(prefix=PREFIX)
    run(ioc.pvdb, interfaces=["127.0.0.1"])


def free_port():
    """A port free for both TCP and UDP on 127.0.0.1 (CA uses both)."""
    for _ in range(50):
        port = random.randint(20000, 60000)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                tcp.bind(("127.0.0.1", port))
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for a test IOC")


@dataclass(frozen=True)
class Ioc:
    port: int
    repeater_port: int
    prefix: str = PREFIX

    @property
    def client_env(self):
        """EPICS_CA_* for a client that must find this IOC, and nothing else."""
        return {
            "EPICS_CA_ADDR_LIST": "127.0.0.1",
            "EPICS_CA_AUTO_ADDR_LIST": "NO",
            "EPICS_CA_SERVER_PORT": str(self.port),
            "EPICS_CA_REPEATER_PORT": str(self.repeater_port),
        }

    @property
    def server_env(self):
        # caproto's server reads EPICS_CA_SERVER_PORT (not EPICS_CAS_SERVER_PORT).
        return {
            "EPICS_CAS_INTF_ADDR_LIST": "127.0.0.1",
            "EPICS_CAS_AUTO_BEACON_ADDR_LIST": "NO",
            "EPICS_CAS_BEACON_ADDR_LIST": "127.0.0.1",
            "EPICS_CA_SERVER_PORT": str(self.port),
            "EPICS_CA_REPEATER_PORT": str(self.repeater_port),
        }

    def answers(self, pv_name, timeout=0.2):
        """True once the IOC answers a Channel Access search for pv_name (UDP)."""
        import caproto as ca

        broadcaster = ca.Broadcaster(our_role=ca.CLIENT)
        search = broadcaster.send(
            ca.VersionRequest(0, ca.DEFAULT_PROTOCOL_VERSION), ca.SearchRequest(pv_name, 1, ca.DEFAULT_PROTOCOL_VERSION)
        )
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            sock.bind(("127.0.0.1", 0))
            sock.sendto(search, ("127.0.0.1", self.port))
            try:
                data, address = sock.recvfrom(4096)
            except (TimeoutError, ConnectionRefusedError):
                return False
        return any(isinstance(command, ca.SearchResponse) for command in broadcaster.recv(data, address))


@contextmanager
def running_ioc(ioc=None, start_timeout=15):
    """Start TestIOC (and a CA repeater) on loopback, on ioc's ports or free
    ones; yield the Ioc once it answers searches; stop both on exit."""
    ioc = ioc or Ioc(port=free_port(), repeater_port=free_port())
    env = {**os.environ, **ioc.server_env}
    with tempfile.TemporaryFile() as log:
        # The repeater is optional for CA, but without it pyepics' bundled
        # libca keeps trying to spawn a caRepeater binary that is not here.
        repeater = subprocess.Popen(
            [sys.executable, "-m", "caproto.commandline.repeater", "-q"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.epics_ioc"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            deadline = time.monotonic() + start_timeout
            while not ioc.answers(f"{PREFIX}BEAM:CURRENT"):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")
                    raise RuntimeError(f"test IOC on port {ioc.port} did not start:\n{output}")
            yield ioc
        finally:
            for process in (server, repeater):
                process.terminate()
            for process in (server, repeater):
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@functools.cache
def process_ioc():
    """The ports of this process's IOC, chosen once: pyepics fixes its CA
    environment at its first call, so every pyepics read in one process
    must go to the same place."""
    return Ioc(port=free_port(), repeater_port=free_port())


def isolate_channel_access():
    """Point every EPICS client of this test process, and of the processes
    it starts, at process_ioc() on loopback, before any CA call: no search
    leaves 127.0.0.1, and pyepics finds the epics_ioc fixture's IOC.

    Call it from pytest_configure. Idempotent.
    """
    env = process_ioc().client_env
    epics_ca = sys.modules.get("epics.ca")
    if epics_ca is not None and epics_ca.libca is not None and any(os.environ.get(k) != v for k, v in env.items()):
        raise RuntimeError(
            "pyepics made a Channel Access call in this process before isolate_channel_access(); "
            "its context cannot be re-pointed. Call isolate_channel_access() earlier (pytest_configure)."
        )
    os.environ.update(env)


@pytest.fixture(scope="session")
def epics_ioc():
    """TestIOC, serving on the ports isolate_channel_access() gave this
    process's clients (in-process pyepics and subprocesses alike)."""
    isolate_channel_access()
    with running_ioc(process_ioc()) as ioc:
        yield ioc


if __name__ == "__main__":
    serve()
