"""The worker's side of a kernel execution: a Jupyter kernel in a fresh
sandbox (executors.py says which kind), used for exactly one execution.

KernelSession starts the sandbox with execution/harness.py in it, connects
a jupyter_client BlockingKernelClient over Unix sockets (transport "ipc") in
the execution's exchange folder, which the sandbox sees at the same path,
configures the run once, sends the code as one cell and turns the kernel's
messages into a RunResult: stdout and stderr (capped, streamed to
job.on_output as they arrive), notebook outputs (figures included), the
error, `results` and the EPICS write attempts from the harness's report.

KernelPool keeps pre-started, pre-configured sessions, so an execution need
not wait for a kernel to start or take its settings: one per (executor,
sandbox and kernel settings) key, refilled in the background after each
take. A pooled kernel has run no code; it is still used for one execution
only and then killed.
"""
import atexit
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from queue import Empty

import zmq
from django.conf import settings
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from execution.harness import ERROR_EXIT, LIMIT_EXIT, REFUSED_EXIT

logger = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 30
CONFIGURE_TIMEOUT_SECONDS = 10
REPORT_LIMIT = 16 * 1024 * 1024  # characters of the harness's report read back
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class KernelUnusable(Exception):
    """The kernel could not be started or configured; the code was not sent."""


class CappedText:
    """The first `limit` characters of a stream, and how much was written."""

    def __init__(self, limit):
        self.limit, self.parts, self.kept, self.total = limit, [], 0, 0

    def add(self, text):
        """Keep what fits; return the part kept."""
        self.total += len(text)
        room = self.limit - self.kept
        kept = text[:room] if room > 0 else ""
        if kept:
            self.parts.append(kept)
            self.kept += len(kept)
        return kept

    @property
    def truncated(self):
        return self.total > self.limit

    def note(self):
        return f"\n[abf] output truncated: kept {self.limit} of {self.total} bytes\n"

    def text(self):
        return "".join(self.parts) + (self.note() if self.truncated else "")


class KernelSession:
    """One kernel in one fresh sandbox. `sandbox` knows how to start, watch
    and kill the process (or container) the kernel runs in; its exchange
    folder is visible at the same path inside."""

    def __init__(self, sandbox, allowed_hosts):
        self.sandbox = sandbox
        exchange = sandbox.exchange
        self.connection_file = os.path.join(exchange, "kernel.json")
        self.report_path = os.path.join(exchange, "report.jsonl")
        write_connection_file(self.connection_file, transport="ipc", ip=os.path.join(exchange, "kernel"))
        config = {
            "connection_file": self.connection_file,
            "report_path": self.report_path,
            "allowed_hosts": allowed_hosts,
            "matplotlib_cache": sandbox.matplotlib_cache,
        }
        config_path = os.path.join(exchange, "config.json")
        Path(config_path).write_text(json.dumps(config))
        sandbox.make_readable_inside()
        self.client = None
        try:
            sandbox.start(config_path)
            self.client = BlockingKernelClient()
            self.client.load_connection_file(self.connection_file)
            self.client.start_channels(hb=False)
            self._wait_until_ready()
        except BaseException:
            self.discard()
            raise

    def _wait_until_ready(self):
        """The kernel answers on its shell channel and publishes on iopub
        (a subscription made too early misses messages: ask until one comes)."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        for channel in (self.client.shell_channel, self.client.iopub_channel):
            while True:
                if not self.sandbox.alive():
                    raise KernelUnusable(f"the kernel did not start: {self.sandbox.diagnostics()}")
                if time.monotonic() > deadline:
                    raise KernelUnusable(f"the kernel did not answer within {START_TIMEOUT_SECONDS} s")
                self.client.kernel_info()
                try:
                    channel.get_msg(timeout=0.2)
                    break
                except Empty:
                    continue
        while True:  # what the handshake left behind
            try:
                self.client.iopub_channel.get_msg(timeout=0.01)
            except Empty:
                break

    def alive(self):
        return self.sandbox.alive()

    def configure(self, kernel_settings):
        """Hand the kernel its run's settings (Job.kernel_settings(): write
        permission, PV limits, CPU/memory/output budgets), once, before any
        code; KernelUnusable if it does not take them."""
        msg_id = self.client.execute(f"__abf_configure__({kernel_settings!r})", silent=True, store_history=False)
        deadline = time.monotonic() + CONFIGURE_TIMEOUT_SECONDS
        while time.monotonic() < deadline and self.sandbox.alive():
            try:
                reply = self.client.shell_channel.get_msg(timeout=0.1)
            except Empty:
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                if reply["content"]["status"] != "ok":
                    raise KernelUnusable(f"the kernel refused its settings: {reply['content'].get('evalue')}")
                return
        raise KernelUnusable("the kernel did not take its settings")

    def run(self, job, notes, wait):
        """Execute job.code as one cell; the kernel is killed afterwards."""
        collector = Collector(job)
        msg_id = self.client.execute(job.code, store_history=True, allow_stdin=False, stop_on_error=True)
        started = time.monotonic()
        poller = zmq.Poller()
        poller.register(self.client.shell_channel.socket, zmq.POLLIN)
        poller.register(self.client.iopub_channel.socket, zmq.POLLIN)

        def until_done():
            while not collector.done:
                if not poller.poll(50):
                    if not self.sandbox.alive():
                        collector.drain(self.client, msg_id)
                        return
                    continue
                collector.drain(self.client, msg_id)

        ended = wait(until_done, self.sandbox.kill, job.limits.wall_time_seconds, job.cancel)
        self.sandbox.kill()
        exit_code, oom = self.sandbox.finish(exit_status=collector.reply is None)
        notes += self.sandbox.notes
        report = ""
        if os.path.exists(self.report_path):
            with open(self.report_path, encoding="utf-8", errors="replace") as handle:
                report = handle.read(REPORT_LIMIT)
        self.discard()
        return build_result(ended, exit_code, oom, collector, report, job.limits, notes, started)

    def discard(self, wait=False):
        """Kill the kernel and remove what it leaves; with wait, the
        clean-up the sandbox does in the background is finished too."""
        if self.client is not None:
            self.client.stop_channels()
            self.client = None
        self.sandbox.kill()
        self.sandbox.finish()
        remove_folder(self.sandbox.exchange)
        if wait:
            self.sandbox.cleaned()


class Collector:
    """Turns one execution's kernel messages into output: capped stdout and
    stderr (streamed to job.on_output), notebook outputs, the error."""

    def __init__(self, job):
        self.on_output = job.on_output
        self.stdout, self.stderr = CappedText(job.limits.output_bytes), CappedText(job.limits.output_bytes)
        self.outputs, self.reply, self.error = [], None, None
        self.idle = False

    @property
    def done(self):
        return self.reply is not None and self.idle

    def drain(self, client, msg_id):
        for channel in (client.iopub_channel, client.shell_channel):
            while True:
                try:
                    message = channel.get_msg(timeout=0)
                except Empty:
                    break
                if message["parent_header"].get("msg_id") != msg_id:
                    continue
                if channel is client.shell_channel:
                    self.reply = message["content"]
                else:
                    self.handle(message["msg_type"], message["content"])

    def handle(self, kind, content):
        if kind == "status":
            self.idle = content["execution_state"] == "idle"
        elif kind == "stream":
            self.stream(content["name"], content["text"])
        elif kind in ("display_data", "execute_result"):
            output = {"output_type": kind, "data": content["data"], "metadata": content.get("metadata", {})}
            if kind == "execute_result":
                output["execution_count"] = content["execution_count"]
            self.outputs.append(output)
        elif kind == "error":
            traceback = ANSI_ESCAPE.sub("", "\n".join(content["traceback"]))
            if content["ename"] == "SystemExit":
                return  # reported as an exit code, as a script's would be
            self.error = {"type": content["ename"], "message": content["evalue"], "traceback": traceback}
            self.outputs.append({"output_type": "error", **{k: content[k] for k in ("ename", "evalue", "traceback")}})
            self.stream("stderr", traceback + "\n", in_notebook=False)
        elif kind == "clear_output":
            self.outputs = [o for o in self.outputs if o["output_type"] == "error"]

    def stream(self, name, text, in_notebook=True):
        if name not in ("stdout", "stderr"):
            return
        kept = (self.stdout if name == "stdout" else self.stderr).add(text)
        if not kept:
            return
        if self.on_output is not None:
            self.on_output(name, kept)
        if in_notebook:
            last = self.outputs[-1] if self.outputs else None
            if last and last["output_type"] == "stream" and last["name"] == name:
                last["text"] += kept
            else:
                self.outputs.append({"output_type": "stream", "name": name, "text": kept})

    def finish(self, written):
        """The kernel's own count of what the code wrote (it sent only the
        kept part), and the truncation notes in the notebook too."""
        for name, capped in (("stdout", self.stdout), ("stderr", self.stderr)):
            capped.total = max(capped.total, written.get(name, 0))
            if capped.truncated:
                self.outputs.append({"output_type": "stream", "name": name, "text": capped.note()})


def build_result(ended, exit_code, oom, collector, report_text, limits, notes, started):
    from execution.executors import RunResult

    messages = []
    for line in report_text.splitlines():
        try:
            messages.append(json.loads(line))
        except ValueError:
            notes.append("the report channel was cut short")
    written = next((m["output"] for m in reversed(messages) if "output" in m), {})
    collector.finish(written)
    stderr_text = collector.stderr.text()
    if ended == "timeout":
        status, exit_code = "timeout", None
        stderr_text += f"\n[abf] stopped after {limits.wall_time_seconds:g} s (wall-time limit)\n"
    elif ended == "cancelled":
        status, exit_code = "cancelled", None
    else:
        status, exit_code = status_of(collector, messages, exit_code, oom, limits, notes)
    notes += [m["results_error"] for m in messages if "results_error" in m]
    if collector.stdout.truncated:
        notes.append(f"stdout truncated at {limits.output_bytes} bytes ({collector.stdout.total} written)")
    return RunResult(
        status=status,
        exit_code=exit_code,
        stdout=collector.stdout.text(),
        stderr=stderr_text,
        duration_ms=int((time.monotonic() - started) * 1000),
        results=next((m["results"] for m in messages if "results" in m), None),
        error=collector.error if status not in ("ok", "timeout", "cancelled") else None,
        writes=[m["write"] for m in messages if "write" in m],
        notes=notes,
        outputs=collector.outputs,
    )


def status_of(collector, messages, exit_code, oom, limits, notes):
    """ok, error, limit or refused, and the exit code, for an execution that
    was neither timed out nor cancelled."""
    exits = [m["exit"] for m in messages if "exit" in m]
    reply = collector.reply
    if reply is None:
        if oom or exit_code in KILLED_BY_LIMIT_CODES:
            notes.append(f"killed by a limit (CPU {limits.cpu_seconds} s or memory {limits.memory_mb} MB)")
            return "limit", exit_code
        notes.append(f"the kernel ended before the code finished (exit code {exit_code})")
        return "error", exit_code
    if exits:
        return ("ok" if exits[-1] == 0 else "error"), exits[-1]
    if reply["status"] == "ok":
        return "ok", 0
    error = collector.error or {"type": reply.get("ename", ""), "message": reply.get("evalue", "")}
    if error["type"] == "EpicsWriteRefused":
        return "refused", REFUSED_EXIT
    if error["type"] == "MemoryError" or "[Errno 27]" in error["message"]:
        notes.append(f"stopped by a limit: {error['type']}")
        return "limit", LIMIT_EXIT
    return "error", ERROR_EXIT


# A kernel the system stops for a limit (RLIMIT_CPU: SIGXCPU, then SIGKILL;
# the out-of-memory killer: SIGKILL) ends by that signal; bubblewrap and
# Docker report it as 128 + signal.
KILLED_BY_LIMIT_CODES = {-signal.SIGXCPU, -signal.SIGKILL, 128 + signal.SIGXCPU, 128 + signal.SIGKILL}


class KernelPool:
    """Pre-started kernel sessions per key, refilled in the background:
    ABF_EXECUTOR_POOL_SIZE sessions per key (0 turns the pool off). At most
    `max_keys` keys are kept (the least recently used go).

    One long-lived thread starts the pooled sandboxes: bubblewrap's
    --die-with-parent ties a sandbox to the thread that started it, so a
    short-lived one would take its kernels with it."""

    def __init__(self, max_keys=4):
        self.max_keys = max_keys
        self.sessions = OrderedDict()  # key -> list of ready sessions
        self.starters = {}  # key -> how to start a session for it
        self.wanted = threading.Condition()
        self.closed = False
        self.filler = None

    @property
    def size(self):
        return settings.ABF_EXECUTOR_POOL_SIZE

    def take(self, key, start):
        """A ready, live session for key or None. The pool refills when
        told (refill()), after the run: a kernel starting beside a running
        execution would slow it down."""
        if self.size <= 0:
            return None
        session, dropped = None, []
        with self.wanted:
            ready = self.sessions.setdefault(key, [])
            self.sessions.move_to_end(key)
            self.starters[key] = start
            while ready and session is None:
                candidate = ready.pop(0)
                if candidate.alive():
                    session = candidate
                else:
                    dropped.append(candidate)
            while len(self.sessions) > self.max_keys:
                old_key, old = self.sessions.popitem(last=False)
                self.starters.pop(old_key, None)
                dropped += old
        for old in dropped:
            old.discard()
        return session

    def refill(self):
        """Start kernels for the keys that lack them, in the background."""
        if self.size <= 0:
            return
        with self.wanted:
            if self.filler is None:
                self.filler = threading.Thread(target=self._fill, daemon=True, name="abf-kernel-pool")
                self.filler.start()
            self.wanted.notify()

    def _missing(self):
        for key, ready in reversed(self.sessions.items()):
            if len(ready) < self.size and key in self.starters:
                return key
        return None

    def _fill(self):
        while True:
            with self.wanted:
                while not self.closed and self._missing() is None:
                    self.wanted.wait()
                if self.closed:
                    return
                key = self._missing()
                start = self.starters[key]
            try:
                session = start()
            except Exception:  # noqa: BLE001  (a cold start will say what is wrong)
                logger.exception("could not pre-start a kernel")
                with self.wanted:
                    self.starters.pop(key, None)  # until the next take asks again
                continue
            with self.wanted:
                keep = not self.closed and key in self.sessions
                if keep:
                    self.sessions[key].append(session)
                    self.wanted.notify_all()
            if not keep:
                session.discard()

    def wait_until_ready(self, key, timeout=60):
        """For benchmarks and tests: block until key has a ready session."""
        deadline = time.monotonic() + timeout
        with self.wanted:
            while not self.sessions.get(key):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or key not in self.starters:
                    return False
                self.wanted.wait(remaining)
        return True

    def close(self):
        with self.wanted:
            self.closed = True
            sessions = [s for ready in self.sessions.values() for s in ready]
            self.sessions.clear()
            self.wanted.notify_all()
        for session in sessions:
            session.discard(wait=True)


_pool = None
_pool_lock = threading.Lock()


def pool():
    """This worker process's pool (sandboxes die with it: bubblewrap's
    --die-with-parent; containers are removed at exit and at the next start)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = KernelPool()
            atexit.register(_pool.close)
        return _pool


def close_pool():
    """Stop this process's pool and its kernels (a new one starts on demand)."""
    global _pool
    with _pool_lock:
        closing, _pool = _pool, None
    if closing is not None:
        closing.close()


def make_exchange_folder(owner_uid=None):
    """The folder the worker and the sandboxed kernel share: connection
    file, sockets, report. Short path (Unix socket names are limited). In
    ABF_EXECUTOR_EXCHANGE_DIR when set: a worker that runs in a container
    shares it with the Docker host at the same path."""
    parent = settings.ABF_EXECUTOR_EXCHANGE_DIR or None
    try:
        folder = tempfile.mkdtemp(prefix=f"abf-kx-{owner_tag()}-", dir=parent)
    except OSError as exc:
        raise KernelUnusable(f"no exchange folder for the kernel in {parent or tempfile.gettempdir()}: {exc}") from None
    if owner_uid is not None:
        os.chown(folder, owner_uid, owner_uid)
    return folder


def owner_tag():
    """This process and where its pid means something (machine and PID
    namespace): what a kernel leaves behind (folders, cgroups, containers)
    carries it, so a later worker can tell what a dead one left. A worker in
    a container shares its exchange folders with the host but counts pids
    of its own."""
    return f"{_where()}-{os.getpid()}"


def left_by_a_dead_worker(tag):
    """True for an owner_tag() of this machine and PID namespace whose
    process is gone."""
    where, _, pid = tag.partition("-")
    return where == _where() and pid.isdigit() and not os.path.exists(f"/proc/{pid}")


def _where():
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return hashlib.sha1(f"{socket.gethostname()} {namespace}".encode()).hexdigest()[:8]


def remove_folder(folder):
    shutil.rmtree(folder, ignore_errors=True)


class DrainedPipe(threading.Thread):
    """Reads a kernel process's own stdout/stderr to its end, keeping the
    last 64 KB for diagnostics (the code's output comes as messages)."""

    def __init__(self, stream, keep=64 * 1024):
        super().__init__(daemon=True)
        self.stream, self.keep, self.kept = stream, keep, bytearray()
        self.start()

    def run(self):
        while chunk := self.stream.read1(65536):
            self.kept = (self.kept + chunk)[-self.keep:]
        self.stream.close()

    def text(self):
        return self.kept.decode("utf-8", errors="replace")


_matplotlib_cache_lock = threading.Lock()


def matplotlib_cache():
    """A folder with matplotlib's font list built once (var/matplotlib), for
    the harness to copy into each kernel's fresh config folder; None when
    matplotlib is not installed."""
    folder = Path(settings.VAR_DIR) / "matplotlib"
    with _matplotlib_cache_lock:
        if not any(folder.glob("fontlist-*.json")):
            folder.mkdir(parents=True, exist_ok=True)
            built = subprocess.run(
                [sys.executable, "-I", "-c", "import matplotlib.font_manager"],
                env={**os.environ, "MPLCONFIGDIR": str(folder)}, capture_output=True,
            )
            if built.returncode != 0:
                return None
    return str(folder)
