"""Executors: run one piece of agent code in isolation and say how it ended.

One contract, `Executor.run(job) -> RunResult`; the deployment picks the
implementation with ABF_EXECUTOR. The code itself is started by
execution/harness.py, which captures `results`, the exception and every EPICS
write attempt and reports them on a pipe of their own, apart from stdout.
"""
import json
import logging
import os
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

logger = logging.getLogger(__name__)

HARNESS = Path(__file__).resolve().parent / "harness.py"
PIDS_CGROUP_ROOT = Path("/sys/fs/cgroup/pids")

# Only these variables reach the code: the control-system settings and what
# Python needs to start. Secrets in the worker's environment stay there.
PASSED_ENV_PREFIXES = ("EPICS_", "PYEPICS_")
PASSED_ENV_NAMES = ("PATH", "LANG", "LC_ALL", "TZ")

# A process the kernel stops for a limit (RLIMIT_CPU: SIGXCPU, then SIGKILL)
# ends by that signal; bubblewrap reports it as 128 + signal.
KILLED_BY_LIMIT_CODES = {-signal.SIGXCPU, -signal.SIGKILL, 128 + signal.SIGXCPU, 128 + signal.SIGKILL}


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

    @property
    def timed_out(self):
        return self.status == "timeout"


class Executor:
    name = ""

    def run(self, job):
        raise NotImplementedError


def epics_addresses(allow_writes):
    """The EPICS address list a run gets: the write gateway only with
    approved write permission."""
    return settings.ABF_EPICS_WRITE_ADDR_LIST if allow_writes else settings.ABF_EPICS_READ_ADDR_LIST


def code_environment(addresses):
    env = {k: v for k, v in os.environ.items() if k.startswith(PASSED_ENV_PREFIXES) or k in PASSED_ENV_NAMES}
    env.pop("EPICS_CA_ADDR_LIST", None)
    if addresses:
        env["EPICS_CA_ADDR_LIST"] = " ".join(addresses)
        env["EPICS_CA_AUTO_ADDR_LIST"] = "NO"
    env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1", HOME="/tmp", MPLBACKEND="Agg")
    return env


class CappedReader(threading.Thread):
    """Reads a pipe to its end, keeping the first `limit` bytes: a flood of
    output never fills memory and never blocks the writer."""

    def __init__(self, stream, limit, on_chunk=None):
        super().__init__(daemon=True)
        self.stream, self.limit, self.on_chunk = stream, limit, on_chunk
        self.kept, self.total = bytearray(), 0
        self.start()

    def run(self):
        while chunk := self.stream.read1(65536):
            self.total += len(chunk)
            room = self.limit - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]
                if self.on_chunk is not None:
                    self.on_chunk(chunk[:room].decode("utf-8", errors="replace"))
        self.stream.close()

    def text(self):
        text = self.kept.decode("utf-8", errors="replace")
        if self.total > self.limit:
            text += f"\n[abf] output truncated: kept {self.limit} of {self.total} bytes\n"
        return text


class LocalExecutor(Executor):
    """Each execution in a fresh process: bubblewrap (read-only view of the
    system, own work folder at /tmp, own PID/IPC/user namespaces, no network
    unless EPICS addresses are configured) plus rlimits and, when this
    process may create one, a pids cgroup. Without bubblewrap: rlimits only,
    with a warning."""

    name = "local"

    def run(self, job):
        limits = job.limits
        addresses = epics_addresses(job.allow_writes)
        notes = []
        workdir = tempfile.mkdtemp(prefix="abf-exec-")
        # The code works in workdir/work (/tmp/work in the sandbox), so the
        # mount points the sandbox may add under /tmp never show up in it.
        work = os.path.join(workdir, "work")
        os.mkdir(work)
        cgroup = make_pids_cgroup(limits.max_processes)
        report_read, report_write = os.pipe()
        command = [sys.executable, "-I", str(HARNESS)]
        bwrap = shutil.which("bwrap")
        if bwrap:
            command = bwrap_command(bwrap, workdir, network=bool(addresses)) + command
        else:
            notes.append("bubblewrap not found: no filesystem or network isolation, rlimits only")
            logger.warning("bubblewrap not found: executing code with rlimits only, without a sandbox")
        payload = {
            "code": job.code,
            "report_fd": report_write,
            "allow_writes": job.allow_writes,
            "pv_limits": job.pv_limits,
            "allowed_hosts": [a.rsplit(":", 1)[0] for a in addresses] if addresses else None,
        }
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=work,
            env=code_environment(addresses),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(report_write,),
            start_new_session=True,
            preexec_fn=lambda: confine(limits, cgroup),
        )
        os.close(report_write)
        report = CappedReader(os.fdopen(report_read, "rb"), max(limits.output_bytes, 1024 * 1024))
        stdout = CappedReader(process.stdout, limits.output_bytes, _stream_to(job.on_output, "stdout"))
        stderr = CappedReader(process.stderr, limits.output_bytes, _stream_to(job.on_output, "stderr"))
        try:
            process.stdin.write(json.dumps(payload).encode())
            process.stdin.close()
        except BrokenPipeError:
            pass
        ended = wait(
            process.wait,
            lambda: _ignore_missing(os.killpg, process.pid, signal.SIGKILL),
            limits.wall_time_seconds,
            job.cancel,
        )
        kill_all(process, cgroup)
        for reader in (stdout, stderr, report):
            reader.join(timeout=5)
        remove_cgroup(cgroup)
        shutil.rmtree(workdir, ignore_errors=True)
        return build_result(process.returncode, ended, limits, report.text(), stdout, stderr, notes, started)


def _stream_to(on_output, stream):
    return None if on_output is None else (lambda text: on_output(stream, text))


def bwrap_command(bwrap, workdir, network):
    command = [
        bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
        "--bind", workdir, "/tmp", "--chdir", "/tmp/work",
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
    path = PIDS_CGROUP_ROOT / f"abf-{uuid.uuid4().hex}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(max_processes))
    except OSError:
        return None
    return path


def confine(limits, cgroup):
    """In the child, before exec: join the cgroup, set the rlimits."""
    if cgroup is not None:
        (cgroup / "cgroup.procs").write_text(str(os.getpid()))
    memory = limits.memory_mb * 1024 * 1024
    file_size = limits.file_size_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def wait(block, kill, wall_time, cancel):
    """Call block() until the run ends, killing it with kill() at the
    wall-time limit or on cancel: 'exited', 'timeout' or 'cancelled'. The
    caller blocks (waitpid, or the engine's wait), so a quick run is not held
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
        for _ in range(50):
            pids = [int(p) for p in (cgroup / "cgroup.procs").read_text().split()]
            if not pids:
                break
            for pid in pids:
                _ignore_missing(os.kill, pid, signal.SIGKILL)
            time.sleep(0.01)
    process.wait()


def remove_cgroup(cgroup):
    if cgroup is not None:
        for _ in range(100):
            try:
                cgroup.rmdir()
                return
            except OSError:
                time.sleep(0.02)
        logger.warning("could not remove cgroup %s", cgroup)


def _ignore_missing(call, *args):
    try:
        call(*args)
    except ProcessLookupError:
        pass


def build_result(exit_code, ended, limits, report_text, stdout, stderr, notes, started, oom=False):
    messages = []
    for line in report_text.splitlines():
        try:
            messages.append(json.loads(line))
        except ValueError:
            notes.append("the report channel was cut short")
    final = next((m for m in reversed(messages) if "status" in m), None)
    results = next((m["results"] for m in messages if "results" in m), None)
    notes += [m["results_error"] for m in messages if "results_error" in m]
    writes = [m["write"] for m in messages if "write" in m]
    stderr_text = stderr.text()
    if ended == "timeout":
        status, exit_code = "timeout", None
        stderr_text += f"\n[abf] stopped after {limits.wall_time_seconds:g} s (wall-time limit)\n"
    elif ended == "cancelled":
        status, exit_code = "cancelled", None
    elif oom:
        status = "limit"
    elif final is not None:
        status = final["status"]
    elif exit_code in KILLED_BY_LIMIT_CODES:
        status = "limit"
        notes.append(f"killed by a limit (CPU {limits.cpu_seconds} s or memory {limits.memory_mb} MB)")
    else:
        status = "ok" if exit_code == 0 else "error"
    if status == "limit" and final is not None and final.get("error"):
        notes.append(f"stopped by a limit: {final['error']['type']}")
    if stdout.total > limits.output_bytes:
        notes.append(f"stdout truncated at {limits.output_bytes} bytes ({stdout.total} written)")
    return RunResult(
        status=status,
        exit_code=exit_code,
        stdout=stdout.text(),
        stderr=stderr_text,
        duration_ms=int((time.monotonic() - started) * 1000),
        results=results,
        error=final.get("error") if final else None,
        writes=writes,
        notes=notes,
    )


class ContainerExecutor(Executor):
    """Each execution in a fresh hardened container (read-only root, tmpfs
    work folder, no capabilities, no new privileges, nobody user, memory,
    CPU and process limits), on the Docker engine DOCKER_HOST names, from
    ABF_EXECUTOR_IMAGE (python manage.py build_executor_image). No network
    unless EPICS addresses are configured; then the host's (Docker here has
    no bridge), with the harness's socket restriction as in the local
    executor. The container is killed at the wall-time limit or on cancel
    and always removed."""

    name = "container"

    def __init__(self, client=None):
        import docker

        self.client = client or docker.from_env()

    def run(self, job):
        from docker.types import Ulimit

        from execution.container_image import HARNESS_IN_IMAGE, PYTHON_IN_IMAGE

        limits = job.limits
        addresses = epics_addresses(job.allow_writes)
        # The job goes in, the report comes out, through a folder of its own.
        # The container runs as nobody: the folder is nobody's (or, when we
        # may not give it away, writable by all).
        exchange = tempfile.mkdtemp(prefix="abf-job-")
        if os.geteuid() == 0:
            os.chown(exchange, 65534, 65534)
        else:
            os.chmod(exchange, 0o777)
        payload = {
            "code": job.code,
            "report_path": "/job/report.jsonl",
            "allow_writes": job.allow_writes,
            "pv_limits": job.pv_limits,
            "allowed_hosts": [a.rsplit(":", 1)[0] for a in addresses] if addresses else None,
        }
        Path(exchange, "job.json").write_text(json.dumps(payload))
        started = time.monotonic()
        container = self.client.containers.create(
            settings.ABF_EXECUTOR_IMAGE,
            [PYTHON_IN_IMAGE, "-I", HARNESS_IN_IMAGE, "/job/job.json"],
            user="65534:65534",
            environment=code_environment(addresses),
            network_mode="host" if addresses else "none",
            read_only=True,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={limits.file_size_mb}m,mode=1777"},
            volumes={exchange: {"bind": "/job", "mode": "rw"}},
            working_dir="/tmp",
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            nano_cpus=10**9,
            pids_limit=limits.max_processes,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            ulimits=[
                Ulimit(name="cpu", soft=limits.cpu_seconds, hard=limits.cpu_seconds),
                Ulimit(name="fsize", soft=limits.file_size_mb * 2**20, hard=limits.file_size_mb * 2**20),
                Ulimit(name="core", soft=0, hard=0),
            ],
        )
        try:
            container.start()
            ended = wait(container.wait, container.kill, limits.wall_time_seconds, job.cancel)
            container.reload()
            state = container.attrs["State"]
            stdout = capped_logs(container, limits.output_bytes, stdout=True, stderr=False)
            stderr = capped_logs(container, limits.output_bytes, stdout=False, stderr=True)
        finally:
            container.remove(force=True)
        report = Path(exchange, "report.jsonl")
        report_text = report.read_text(errors="replace") if report.exists() else ""
        shutil.rmtree(exchange, ignore_errors=True)
        exit_code = state["ExitCode"]
        notes = ["killed by the memory limit (out of memory)"] if state.get("OOMKilled") else []
        return build_result(
            exit_code, ended, limits, report_text, stdout, stderr, notes, started, oom=state.get("OOMKilled", False)
        )


class CappedText:
    """Output as CappedReader keeps it, for a source read in one go."""

    def __init__(self, kept, total, limit):
        self.kept, self.total, self.limit = kept, total, limit

    def text(self):
        text = self.kept.decode("utf-8", errors="replace")
        if self.total > self.limit:
            text += f"\n[abf] output truncated: kept {self.limit} of {self.total} bytes\n"
        return text


def capped_logs(container, limit, **streams):
    kept, total = bytearray(), 0
    for chunk in container.logs(stream=True, follow=False, **streams):
        total += len(chunk)
        room = limit - len(kept)
        if room > 0:
            kept += chunk[:room]
    return CappedText(kept, total, limit)


EXECUTORS = {LocalExecutor.name: LocalExecutor, ContainerExecutor.name: ContainerExecutor}


def get_executor():
    return EXECUTORS[settings.ABF_EXECUTOR]()
