"""Executors: run one piece of agent code in isolation and say how it ended.

One contract, `Executor.run(job) -> RunResult`; the deployment picks the
implementation with ABF_EXECUTOR. Both run the code as one cell in a Jupyter
kernel (execution/harness.py starts it, with the guards) inside a fresh
sandbox: a bubblewrap process tree (local) or a hardened container
(container). execution/kernels.py talks to the kernel and keeps a pool of
pre-started ones; this module makes, watches and kills the sandboxes.
"""
import hashlib
import json
import logging
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from execution import kernels

logger = logging.getLogger(__name__)

HARNESS = Path(__file__).resolve().parent / "harness.py"
PIDS_CGROUP_ROOT = Path("/sys/fs/cgroup/pids")

# Only these variables reach the code: the control-system settings and what
# Python needs to start. Secrets in the worker's environment stay there.
PASSED_ENV_PREFIXES = ("EPICS_", "PYEPICS_")
PASSED_ENV_NAMES = ("PATH", "LANG", "LC_ALL", "TZ")

# CPU seconds a kernel may use before its run's own limits apply (the
# harness lowers the limits when the run configures it); a pre-started
# kernel waits for its run with these.
STARTUP_CPU_SECONDS = 60
# Processes over the run's limit that the kernel itself needs (its threads count).
KERNEL_THREADS = 16


@dataclass(frozen=True)
class Limits:
    wall_time_seconds: float = 60
    cpu_seconds: int = 60
    memory_mb: int = 1024
    max_processes: int = 64
    output_bytes: int = 1024 * 1024
    file_size_mb: int = 64

    @classmethod
    def from_model(cls, row):
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


@dataclass
class Job:
    code: str
    limits: Limits = field(default_factory=Limits)
    allow_writes: bool = False
    pv_limits: dict = field(default_factory=dict)  # PV name -> PvLimit.as_dict()
    cancel: threading.Event | None = None
    # Called with ("stdout" | "stderr", text) as output arrives, within the
    # kept part of the output; the run page shows it live.
    on_output: object = None

    def kernel_settings(self):
        """What the kernel takes before the code (harness.py's
        __abf_configure__): write permission, PV limits, CPU, memory, file
        and output budgets, as JSON."""
        return json.dumps({
            "allow_writes": self.allow_writes,
            "pv_limits": self.pv_limits,
            "cpu_seconds": self.limits.cpu_seconds,
            "memory_mb": self.limits.memory_mb,
            "file_size_mb": self.limits.file_size_mb,
            "output_bytes": self.limits.output_bytes,
        }, sort_keys=True)


@dataclass
class RunResult:
    status: str  # ok, error, timeout, limit, cancelled or refused
    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: int
    results: object = None
    error: dict | None = None
    writes: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    outputs: list = field(default_factory=list)  # the cell's outputs, as nbformat 4 output dicts

    @property
    def timed_out(self):
        return self.status == "timeout"


class Executor:
    name = ""

    def run(self, job):
        """Run job in a pooled kernel made for exactly its settings, or a
        freshly started one. A pooled kernel that died is dropped before the
        code is sent; the code is sent to exactly one kernel, once; if no
        kernel can be had (the engine, the kernel's service, the sandbox or
        the kernel failed), it is not run. The pool refills afterwards."""
        started = time.monotonic()
        remove_leftovers()
        pool = kernels.pool()
        try:
            try:
                key, start = self.kernel_for(job)
                session = pool.take(key, start) or start()
            except Exception as exc:  # noqa: BLE001  (see above: not run)
                logger.exception("no kernel for this execution")
                return RunResult(
                    status="error", exit_code=None, stdout="", stderr=f"[abf] the code was not run: {exc}\n",
                    duration_ms=int((time.monotonic() - started) * 1000), notes=[f"no kernel for the code: {exc}"],
                )
            return session.run(job, [], wait)
        finally:
            pool.refill()

    def kernel_for(self, job):
        """(pool key, start): start() gives a kernel ready for job, its
        sandbox started and its settings taken. A pooled kernel takes them
        when the pool fills, so a warm run waits for neither; the key holds
        the settings' digest, so a kernel only ever runs a job with exactly
        the settings it took (a changed PV limit or budget is another key)."""
        sandbox_key, start_sandbox = self.sandbox_for(job)
        kernel_settings = job.kernel_settings()

        def start():
            session = start_sandbox()
            try:
                session.configure(kernel_settings)
            except BaseException:
                session.discard()
                raise
            return session

        return sandbox_key + (hashlib.sha256(kernel_settings.encode()).hexdigest(),), start

    def sandbox_for(self, job):
        """(pool key, start): the key names everything fixed when a sandbox
        starts; start() starts a KernelSession in such a sandbox."""
        raise NotImplementedError


def epics_addresses(allow_writes):
    """The EPICS address list a run gets: the write gateway only with
    approved write permission."""
    return settings.ABF_EPICS_WRITE_ADDR_LIST if allow_writes else settings.ABF_EPICS_READ_ADDR_LIST


def code_environment(addresses, source=os.environ):
    """The code's environment: from `source` (the worker's, or a kernel
    service's), only the passed variables, with the run's EPICS addresses."""
    env = {k: v for k, v in source.items() if k.startswith(PASSED_ENV_PREFIXES) or k in PASSED_ENV_NAMES}
    env.pop("EPICS_CA_ADDR_LIST", None)
    if addresses:
        env["EPICS_CA_ADDR_LIST"] = " ".join(addresses)
        env["EPICS_CA_AUTO_ADDR_LIST"] = "NO"
    env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1", HOME="/tmp")
    return env


def allowed_hosts(addresses):
    return [a.rsplit(":", 1)[0] for a in addresses] if addresses else None


LEFTOVER = re.compile(r"^abf-(?:exec-|kx-)?(?P<owner>[0-9a-f]{8}-\d+)-")
_leftovers_removed = False


def remove_leftovers():
    """Once per worker process: remove the work and exchange folders and the
    pids cgroups that workers of this machine left when they died (kill -9,
    a crash; their sandboxes died with them)."""
    global _leftovers_removed
    if _leftovers_removed:
        return
    _leftovers_removed = True
    places = {tempfile.gettempdir(), settings.ABF_EXECUTOR_EXCHANGE_DIR or tempfile.gettempdir()}
    for folder in places:
        for path in _left_by_the_dead(Path(folder)):
            shutil.rmtree(path, ignore_errors=True)
    if PIDS_CGROUP_ROOT.is_dir():
        for path in _left_by_the_dead(PIDS_CGROUP_ROOT):
            remove_cgroup(path, attempts=1)  # only an empty one goes


def _left_by_the_dead(folder):
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    return [
        path for path in entries
        if (match := LEFTOVER.match(path.name)) and kernels.left_by_a_dead_worker(match["owner"]) and path.is_dir()
    ]


class LocalExecutor(Executor):
    """Each execution in a fresh kernel process tree: bubblewrap (read-only
    view of the system, own work folder at /tmp, own PID/IPC/user
    namespaces, no network unless EPICS addresses are configured) plus
    rlimits and, when this process may create one, a pids cgroup. Without
    bubblewrap: rlimits only, with a warning."""

    name = "local"

    def sandbox_for(self, job):
        addresses = epics_addresses(job.allow_writes)
        max_processes = job.limits.max_processes
        bwrap = shutil.which("bwrap")
        key = (self.name, bwrap, job.allow_writes, tuple(addresses), max_processes)

        def start():
            return kernels.KernelSession(LocalSandbox(bwrap, max_processes, addresses), allowed_hosts(addresses))

        return key, start


class LocalSandbox:
    """A kernel's process tree under bubblewrap; see LocalExecutor."""

    def __init__(self, bwrap, max_processes, addresses):
        self.bwrap, self.max_processes, self.addresses = bwrap, max_processes, addresses
        self.notes, self.process, self.cgroup, self.output, self.finished = [], None, None, None, None
        self.cleaner = None
        self.workdir = tempfile.mkdtemp(prefix=f"abf-exec-{kernels.owner_tag()}-")
        # The code works in workdir/work (/tmp/work in the sandbox), so the
        # mount points the sandbox adds under /tmp never show up in it.
        os.mkdir(os.path.join(self.workdir, "work"))
        self.exchange = kernels.make_exchange_folder()
        self.matplotlib_cache = kernels.matplotlib_cache()

    def make_readable_inside(self):
        """Same user inside: nothing to do."""

    def start(self, config_path):
        self.cgroup = make_pids_cgroup(self.max_processes + KERNEL_THREADS)
        command = [sys.executable, "-I", str(HARNESS), config_path]
        if self.bwrap:
            command = bwrap_command(self.bwrap, self.workdir, self.exchange, network=bool(self.addresses)) + command
        else:
            self.notes.append("bubblewrap not found: no filesystem or network isolation, rlimits only")
            logger.warning("bubblewrap not found: executing code with rlimits only, without a sandbox")
        self.process = subprocess.Popen(
            command,
            cwd=os.path.join(self.workdir, "work"),
            env=code_environment(self.addresses),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: confine(self.max_processes + KERNEL_THREADS, self.cgroup),
        )
        self.output = kernels.DrainedPipe(self.process.stdout)

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        """Everything the sandbox started, even what left its session."""
        if self.finished is not None:
            return
        if self.process is not None:
            _ignore_missing(os.killpg, self.process.pid, signal.SIGKILL)
        if self.cgroup is not None:
            try:
                pids = (self.cgroup / "cgroup.procs").read_text().split()
            except OSError:
                pids = []
            for pid in pids:
                _ignore_missing(os.kill, int(pid), signal.SIGKILL)

    def diagnostics(self):
        """What the kernel process printed (after it ended)."""
        if self.process is None:
            return ""
        self.process.wait()
        self.output.join(timeout=2)
        return self.output.text()

    def finish(self, exit_status=True):
        """Kill and wait for the kernel process: (exit code, killed for
        memory: never known here). What it started is killed now and its
        cgroup and folders removed in the background."""
        if self.finished is None:
            self.kill()
            if self.process is not None:
                # Dead before the report is read: nothing can add to it then.
                kill_all(self.process, self.cgroup)
            self.finished = (self.process.returncode if self.process is not None else None, False)
            self.cleaner = threading.Thread(target=self._clean_up, daemon=True)
            self.cleaner.start()
        return self.finished

    def cleaned(self, timeout=30):
        if self.cleaner is not None:
            self.cleaner.join(timeout)

    def _clean_up(self):
        if self.output is not None:
            self.output.join(timeout=5)
        remove_cgroup(self.cgroup)
        shutil.rmtree(self.workdir, ignore_errors=True)


def bwrap_command(bwrap, workdir, exchange, network):
    command = [
        bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
        "--bind", workdir, "/tmp", "--chdir", "/tmp/work",
        # The kernel's sockets, connection file and report, where the worker sees them.
        "--bind", exchange, exchange, "--unsetenv", "JPY_PARENT_PID",
        "--unshare-user-try", "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent", "--new-session",
    ]
    # The work folder hides the host's /tmp; a checkout or interpreter that
    # lives there (a CI clone, a scratch venv) must stay visible, read-only.
    for path in sorted(_paths_the_harness_needs()):
        if path == "/tmp" or path.startswith("/tmp/"):
            command += ["--ro-bind", path, path]
    if not network:
        command.append("--unshare-net")
    return command + ["--"]


def _paths_the_harness_needs():
    """The interpreter and the checkout (the harness, and the same read-only
    view of the project the sandbox has anywhere else)."""
    checkout = HARNESS.parent.parent
    return {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, checkout)} | {
        os.path.abspath(p) for p in (sys.prefix, checkout)
    }


def make_pids_cgroup(max_processes):
    """A pids cgroup capped at max_processes, where we may make one. RLIMIT_NPROC
    does not bind a process of the root user, a cgroup does."""
    if not os.access(PIDS_CGROUP_ROOT, os.W_OK):
        return None
    path = PIDS_CGROUP_ROOT / f"abf-{kernels.owner_tag()}-{uuid.uuid4().hex}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(max_processes))
    except OSError:
        return None
    return path


def confine(max_processes, cgroup):
    """In the child, before exec: join the cgroup, set the rlimits the
    kernel starts with (the harness lowers CPU, memory and file size to the
    run's own limits before the code runs)."""
    if cgroup is not None:
        (cgroup / "cgroup.procs").write_text(str(os.getpid()))
    resource.setrlimit(resource.RLIMIT_CPU, (STARTUP_CPU_SECONDS, resource.RLIM_INFINITY))
    resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def wait(block, kill, wall_time, cancel):
    """Call block() until the run ends, killing it with kill() at the
    wall-time limit or on cancel: 'exited', 'timeout' or 'cancelled'. The
    caller blocks (on the kernel's messages), so a quick run is not held
    up by polling; a watcher thread does the killing."""
    stopped = []
    finished = threading.Event()

    def watch():
        deadline = time.monotonic() + wall_time
        while not finished.wait(0.05):
            if cancel is not None and cancel.is_set():
                stopped.append("cancelled")
            elif time.monotonic() > deadline:
                stopped.append("timeout")
            else:
                continue
            kill()
            return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    block()
    finished.set()
    watcher.join()
    return stopped[0] if stopped else "exited"


def kill_all(process, cgroup):
    """Stop everything the execution started, even what left its session."""
    _ignore_missing(os.killpg, process.pid, signal.SIGKILL)
    if cgroup is not None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pids = [int(p) for p in (cgroup / "cgroup.procs").read_text().split()]
            if not pids:
                break
            for pid in pids:
                _ignore_missing(os.kill, pid, signal.SIGKILL)
            time.sleep(0.001)
    process.wait()


def remove_cgroup(cgroup, attempts=100):
    if cgroup is not None:
        for _ in range(attempts):
            try:
                cgroup.rmdir()
                return
            except OSError:
                time.sleep(0.02)
        logger.warning("could not remove cgroup %s", cgroup)


def wait_until_gone(pid, timeout=10):
    """Until the process has ended (gone, or a zombie that runs no more)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                if handle.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X"):
                    return
        except (OSError, IndexError):
            return
        time.sleep(0.001)


def _ignore_missing(call, *args):
    try:
        call(*args)
    except ProcessLookupError:
        pass




class ContainerExecutor(Executor):
    """Each execution in a fresh kernel in a fresh hardened container
    (read-only root, tmpfs work folder, no capabilities, no new privileges,
    nobody user, memory, CPU and process limits), on the Docker engine
    DOCKER_HOST names. The engine must run on this machine: the kernel's
    sockets are in an exchange folder bind-mounted at the same path. The
    container is killed at the wall-time limit, on cancel and after the run,
    and always removed.

    Where the kernel container gets its image, network and EPICS settings:

    - standalone (ABF_EXECUTOR_DEPLOYMENT empty): ABF_EXECUTOR_IMAGE
      (python manage.py build_executor_image); no network unless EPICS
      addresses are configured, then the host's, with the harness's socket
      restriction as in the local executor;
    - deployed (ABF_EXECUTOR_DEPLOYMENT names an environment): the kernel
      service of that deployment, found by name with find_service():
      executor-write for runs with approved writes, executor-read for the
      rest. The kernel container runs the service's image, joins the
      service container's network namespace (whatever network the
      deployment gave that variant, and nothing else) and takes its EPICS
      variables; Python sockets may reach only its EPICS addresses. If the
      service is not running, the code is not run."""

    name = "container"
    SERVICES = {True: "executor-write", False: "executor-read"}

    def __init__(self, client=None):
        import docker

        self.client = client or docker.from_env()

    def sandbox_for(self, job):
        host = self.kernel_host(job.allow_writes)
        limits = job.limits
        fixed_at_start = (limits.memory_mb, limits.max_processes, limits.file_size_mb)
        key = (self.name, self.client.api.base_url, host.identity, job.allow_writes, fixed_at_start)
        remove_stale_containers(self.client)

        def start():
            return kernels.KernelSession(ContainerSandbox(self.client, limits, host), host.allowed_hosts)

        return key, start

    def kernel_host(self, allow_writes):
        deployment = settings.ABF_EXECUTOR_DEPLOYMENT
        if not deployment:
            addresses = epics_addresses(allow_writes)
            return KernelHost(
                image=settings.ABF_EXECUTOR_IMAGE, network_mode="host" if addresses else "none",
                environment=code_environment(addresses), allowed_hosts=allowed_hosts(addresses),
                identity=("standalone", settings.ABF_EXECUTOR_IMAGE, tuple(addresses)),
            )
        from deployment.services import find_service

        name = self.SERVICES[bool(allow_writes)]
        location = find_service(name, deployment, self.client)
        if location is None or location.state != "running":
            state = "not deployed" if location is None else location.state
            raise KernelServiceUnavailable(
                f"the {name} service of deployment {deployment!r} is {state} "
                f"(python manage.py deploy up {name} --env {deployment})"
            )
        addresses = location.variables.get("EPICS_CA_ADDR_LIST", "").split()
        return KernelHost(
            image=location.image, network_mode=f"container:{location.container_id}",
            environment=code_environment(addresses, source=location.variables),
            # The service's network is the deployment's choice: Python-level
            # sockets are restricted to the EPICS addresses even when it has none.
            allowed_hosts=allowed_hosts(addresses) or [],
            identity=("service", location.container_id, location.started_at, location.image),
        )


class KernelServiceUnavailable(Exception):
    """The deployed kernel service a run needs is not running."""


@dataclass(frozen=True)
class KernelHost:
    """What a kernel container is made from: its image, its network mode,
    its environment and the hosts Python may reach; `identity` names all of
    it in the pool key."""

    image: str
    network_mode: str
    environment: dict
    allowed_hosts: list | None
    identity: tuple


CONTAINER_LABEL = "abf.executor-worker"
_stale_removed = set()


def remove_stale_containers(client):
    """Once per engine and worker process: remove kernel containers that
    workers of this machine left behind when they died (kill -9, a crash)."""
    if client.api.base_url in _stale_removed:
        return
    _stale_removed.add(client.api.base_url)
    for container in client.containers.list(all=True, sparse=True, filters={"label": CONTAINER_LABEL}):
        if kernels.left_by_a_dead_worker((container.attrs.get("Labels") or {}).get(CONTAINER_LABEL, "")):
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001  (removed meanwhile)
                pass


class ContainerSandbox:
    """A kernel in a hardened container; see ContainerExecutor."""

    def __init__(self, client, limits, host):
        from execution.container_image import MATPLOTLIB_CACHE_IN_IMAGE

        self.client, self.limits, self.host = client, limits, host
        self.notes, self.container, self.pid, self.finished, self.cleaner = [], None, None, None, None
        self.ended = threading.Event()
        # The container runs as nobody: the exchange folder is nobody's (or,
        # when we may not give it away, writable by all).
        self.owner = 65534 if os.geteuid() == 0 else None
        self.exchange = kernels.make_exchange_folder(self.owner)
        if self.owner is None:
            os.chmod(self.exchange, 0o777)
        self.matplotlib_cache = MATPLOTLIB_CACHE_IN_IMAGE

    def make_readable_inside(self):
        for name in os.listdir(self.exchange):
            path = os.path.join(self.exchange, name)
            if self.owner is not None:
                os.chown(path, self.owner, self.owner)
            else:
                os.chmod(path, 0o644)

    def start(self, config_path):
        from docker.types import Ulimit

        from execution.container_image import HARNESS_IN_IMAGE, PYTHON_IN_IMAGE

        limits = self.limits
        container = self.client.containers.create(
            self.host.image,
            [PYTHON_IN_IMAGE, "-I", HARNESS_IN_IMAGE, config_path],
            labels={CONTAINER_LABEL: kernels.owner_tag()},
            user="65534:65534",
            environment=self.host.environment,
            network_mode=self.host.network_mode,
            read_only=True,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={limits.file_size_mb}m,mode=1777"},
            volumes={self.exchange: {"bind": self.exchange, "mode": "rw"}},
            working_dir="/tmp",
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            nano_cpus=10**9,
            pids_limit=limits.max_processes + KERNEL_THREADS,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            ulimits=[
                Ulimit(name="cpu", soft=STARTUP_CPU_SECONDS, hard=10**7),
                Ulimit(name="core", soft=0, hard=0),
            ],
        )
        try:
            container.start()
        except Exception:
            # E.g. the kernel service whose network it joins is restarting:
            # nothing of it may stay behind.
            container.remove(force=True)
            raise
        self.container = container
        self.container.reload()
        self.pid = self.container.attrs["State"].get("Pid") or None
        threading.Thread(target=self._wait, daemon=True).start()

    def _wait(self):
        try:
            self.container.wait()
        except Exception:  # noqa: BLE001  (the engine went away: treat it as ended)
            pass
        self.ended.set()

    def alive(self):
        return self.container is not None and not self.ended.is_set()

    def kill(self):
        """Kill the container's first process, which takes every other one
        with it (its PID namespace ends): directly when we are root, which
        is immediate; else through the engine."""
        if self.container is None or self.ended.is_set():
            return
        if self.pid and os.geteuid() == 0:
            _ignore_missing(os.kill, self.pid, signal.SIGKILL)
        else:
            try:
                self.container.kill()
            except Exception:  # noqa: BLE001  (it ended meanwhile)
                pass

    def diagnostics(self):
        if self.container is None:
            return ""
        self.ended.wait(5)
        try:
            return self.container.logs().decode(errors="replace")[-2000:]
        except Exception as exc:  # noqa: BLE001
            return repr(exc)

    def finish(self, exit_status=True):
        """(exit code, killed for memory). The container is killed now and
        removed in the background; without exit_status (the kernel answered,
        so how it ended is known) the result does not wait for the engine
        to notice the end either."""
        if self.finished is None:
            self.finished = (None, False)
            if self.container is None:
                return self.finished
            self.kill()
            if self.pid and os.geteuid() == 0:
                wait_until_gone(self.pid)  # dead before the report is read
            else:
                self.ended.wait(30)
            if exit_status:
                self.ended.wait(30)
                try:
                    self.container.reload()
                    state = self.container.attrs["State"]
                    self.finished = (state.get("ExitCode"), bool(state.get("OOMKilled")))
                except Exception:  # noqa: BLE001  (the engine went away)
                    pass
                if self.finished[1]:
                    self.notes.append("killed by the memory limit (out of memory)")
            self.cleaner = threading.Thread(target=self._remove, daemon=True)
            self.cleaner.start()
        return self.finished

    def cleaned(self, timeout=30):
        if self.cleaner is not None:
            self.cleaner.join(timeout)

    def _remove(self):
        self.ended.wait(30)
        try:
            self.container.remove(force=True)
        except Exception:  # noqa: BLE001
            logger.warning("could not remove container %s", self.container.id)


EXECUTORS = {LocalExecutor.name: LocalExecutor, ContainerExecutor.name: ContainerExecutor}


def get_executor():
    return EXECUTORS[settings.ABF_EXECUTOR]()
