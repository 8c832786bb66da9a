"""What runs inside every sandboxed execution: a Jupyter kernel with abf's
guards installed before the agent's code can run.

Started as `python -I harness.py CONFIG` (CONFIG: a JSON file in the
execution's exchange folder) inside the sandbox or container; it installs
the guards, then runs ipykernel's IPKernelApp on the connection file CONFIG
names. The worker (execution/kernels.py) connects, hands over the run's
write permission and PV limits once (`__abf_configure__`, silent, before the
code; the function removes itself), sends the code as one cell, and reads
stdout, stderr, figures and the error from the kernel's messages. The
harness reports on the file CONFIG["report_path"], one JSON object a line:

    {"write": {...}}        one per EPICS write attempt (see WriteGuard)
    {"results": ...}        the `results` the code set, as JSON
    {"results_error": "..."}
    {"exit": code}          the code called sys.exit(code)
    {"output": {"stdout": n, "stderr": n}}   characters written, kept or not

Only the standard library is imported before the kernel (no Django). The
write guards live in the same process as the code they watch, so code that
goes around the client libraries (libca through ctypes, raw sockets) is not
stopped here: the EPICS address a run gets (read-only gateway unless writes
were approved) is what holds then. The guards make the ordinary write paths
of pyepics, caproto and p4p refuse early, with a clear error, and record
every attempt.
"""
import builtins
import contextlib
import datetime
import importlib.machinery
import json
import math
import os
import resource
import sys
import threading
import warnings

REFUSED_EXIT = 3
LIMIT_EXIT = 4
ERROR_EXIT = 1


class EpicsWriteRefused(PermissionError):
    """A write the run may not make; raised before anything is sent."""


class Reporter:
    def __init__(self, path):
        self.stream = open(path, "w", buffering=1, encoding="utf-8")
        self.lock = threading.Lock()

    def send(self, **message):
        with self.lock:
            self.stream.write(json.dumps(message, default=repr) + "\n")
            self.stream.flush()


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def plain(value):
    """A JSON-friendly copy of a value read from or written to EPICS."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return repr(value)


def scalar(value):
    """The one number a write carries ([13.0], array([13.0]), "13.0" and
    13.0 alike), or None."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, (bool, bytes)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class WriteGuard:
    """Checks one EPICS write against the run's permission and the PV's
    limits, makes it, verifies it as the limits ask, and records the
    attempt. Until the worker configures the run, every write is refused."""

    def __init__(self, reporter):
        self.reporter = reporter
        self.allow_writes = False
        self.limits = {}
        self.local = threading.local()

    def configure(self, allow_writes, limits):
        self.allow_writes, self.limits = bool(allow_writes), dict(limits)

    @property
    def inside(self):
        """True within a guarded write (its own low-level calls pass)."""
        return getattr(self.local, "depth", 0) > 0

    def write(self, pv, value, read, put):
        """read() -> the current value or None; put(wait) -> (completed, returned)."""
        attempt = {"pv": pv, "requested": plain(value), "before": None, "readback": None, "at": now()}

        def refuse(reason):
            self.reporter.send(write={**attempt, "outcome": "refused", "message": reason})
            raise EpicsWriteRefused(f"EPICS write to {pv} refused: {reason}")

        if not self.allow_writes:
            refuse("this run has no approved write permission")
        limit = self.limits.get(pv)
        if limit is None:
            refuse("the PV is not in the write limits table")
        if not limit["writable"]:
            refuse("the PV is marked not writable in the limits table")
        requested = scalar(value)
        if requested is None:
            refuse("only single numeric values can be checked against the limits")
        if not math.isfinite(requested):
            refuse("the value is not a finite number")
        if limit["min_value"] is not None and requested < limit["min_value"]:
            refuse(f"{requested:g} is below the minimum {limit['min_value']:g}")
        if limit["max_value"] is not None and requested > limit["max_value"]:
            refuse(f"{requested:g} is above the maximum {limit['max_value']:g}")
        self.local.depth = getattr(self.local, "depth", 0) + 1
        try:
            before = read()
            attempt["before"] = plain(before)
            if limit["max_step"] is not None:
                if scalar(before) is None:
                    refuse("the current value could not be read, so the step size is unknown")
                step = abs(requested - scalar(before))
                if step > limit["max_step"]:
                    refuse(f"a step of {step:g} exceeds the maximum step {limit['max_step']:g}")
            verification = limit["verification"]
            try:
                completed, returned = put(verification != "none")
            except Exception as exc:
                self.reporter.send(write={**attempt, "outcome": "failed", "message": repr(exc)})
                raise
            if verification == "none":
                outcome, message = "unrequested", "no verification configured"
            elif not completed:
                outcome, message = "unconfirmed", "the put did not complete in time"
            elif verification == "callback":
                outcome, message = "confirmed", "put completion callback"
            else:
                readback = read()
                attempt["readback"] = plain(readback)
                tolerance = abs(requested) * limit["tolerance_percent"] / 100 or 1e-12
                if scalar(readback) is None:
                    outcome, message = "unconfirmed", "the value could not be read back"
                elif abs(scalar(readback) - requested) <= tolerance:
                    outcome, message = "confirmed", "read back within tolerance"
                else:
                    outcome, message = "mismatch", f"read back {readback!r}"
        finally:
            self.local.depth -= 1
        self.reporter.send(write={**attempt, "outcome": outcome, "message": message})
        return returned

    def refuse_unguarded(self, pv, value, path):
        """A write through a path the guard cannot verify: refused (and recorded)."""
        if self.inside:
            return
        message = f"{path} cannot be checked against the limits; use a guarded write path"
        self.reporter.send(write={
            "pv": pv, "requested": plain(value), "before": None, "readback": None, "at": now(),
            "outcome": "refused", "message": message,
        })
        raise EpicsWriteRefused(f"EPICS write to {pv} refused: {message}")


def guard_pyepics(ca, guard):
    """Replace epics.ca.put, which every pyepics write path ends in
    (caput, caput_many, PV.put, PV.value =, Device.put, Motor moves)."""
    original_put = ca.put

    def guarded_put(chid, value, wait=False, timeout=30, callback=None, callback_data=None, ftype=None):
        def put(verify):
            status = original_put(
                chid, value, wait=wait or verify, timeout=timeout,
                callback=callback, callback_data=callback_data, ftype=ftype,
            )
            return status == 1, status

        return guard.write(ca.name(chid), value, lambda: ca.get(chid, timeout=2), put)

    ca.put = guarded_put


def guard_caproto_channel(circuit, guard):
    """caproto's sans-I/O layer, which every caproto client (sync,
    threading, asyncio, pyepics_compat, Batch) uses to build a write: a
    write that did not come through a guarded client call is refused."""
    original_write = circuit.ClientChannel.write

    def guarded_write(self, data, *args, **kwargs):
        guard.refuse_unguarded(self.name, data, "this caproto write path")
        return original_write(self, data, *args, **kwargs)

    circuit.ClientChannel.write = guarded_write


def guard_caproto_sync(client, guard):
    """caproto.sync.client: write() and read_write_read() both end in _write."""
    original_write = client._write

    def guarded(chan, data, metadata, timeout, data_type, notify):
        def read():
            try:
                return client._read(chan, 2, None, None, True, False).data
            except Exception:  # noqa: BLE001  (an unreadable value is reported as such)
                return None

        def put(verify):
            response = original_write(chan, data, metadata, timeout, data_type, notify or verify)
            return (response is not None) if (notify or verify) else True, response

        return guard.write(chan.name, data, read, put)

    client._write = guarded


def guard_caproto_threading(client, guard):
    """caproto.threading.client.PV.write (and pyepics_compat's put, which calls it)."""
    original_write = client.PV.write

    def guarded(self, data, *args, wait=True, **kwargs):
        def read():
            try:
                return self.read(timeout=2).data
            except Exception:  # noqa: BLE001
                return None

        def put(verify):
            if verify:
                kwargs["notify"] = True
            response = original_write(self, data, *args, wait=wait or verify, **kwargs)
            return (response is not None) if (wait or verify) else True, response

        return guard.write(self.name, data, read, put)

    client.PV.write = guarded


def guard_p4p(thread, guard):
    """p4p.client.thread.Context.put, one PV at a time (untested here: p4p
    is not installed on the development machines)."""
    original_put = thread.Context.put

    def guarded(self, name, values, request=None, timeout=5.0, throw=True, wait=None, get=True):
        if isinstance(name, (list, tuple)):
            return [guarded(self, n, v, request, timeout, throw, wait, get) for n, v in zip(name, values)]

        def read():
            try:
                return self.get(name, timeout=2)
            except Exception:  # noqa: BLE001
                return None

        def put(verify):
            return True, original_put(self, name, values, request=request, timeout=timeout, throw=throw,
                                      wait=wait or verify, get=get)

        return guard.write(name, values, read, put)

    thread.Context.put = guarded


class AfterImport:
    """A meta path finder that calls hook(module) right after a module is
    first imported, before the importer gets it, so `from epics.ca import
    put` sees the guarded put. (Not an importlib.abc subclass: importing
    that costs 20 ms.)"""

    def __init__(self, hooks):
        self.hooks = dict(hooks)

    def find_spec(self, fullname, path, target=None):
        hook = self.hooks.pop(fullname, None)
        if hook is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None:
            return None
        exec_module = spec.loader.exec_module

        def exec_and_hook(module):
            exec_module(module)
            hook(module)

        spec.loader.exec_module = exec_and_hook
        return spec


def install_write_guards(guard):
    sys.meta_path.insert(0, AfterImport({
        "epics.ca": lambda module: guard_pyepics(module, guard),
        "caproto._circuit": lambda module: guard_caproto_channel(module, guard),
        "caproto.sync.client": lambda module: guard_caproto_sync(module, guard),
        "caproto.threading.client": lambda module: guard_caproto_threading(module, guard),
        "p4p.client.thread": lambda module: guard_p4p(module, guard),
    }))


def restrict_sockets(allowed_hosts):
    """Python-level sockets may reach only the EPICS addresses (used when the
    sandbox shares the host network to reach EPICS)."""
    allowed = set(allowed_hosts)

    def audit(event, args):
        if event in ("socket.connect", "socket.sendto") and args[1] and isinstance(args[1], tuple):
            host = args[1][0]
            if host not in allowed:
                raise PermissionError(f"network access to {host} is not allowed in this sandbox")

    sys.addaudithook(audit)


def cap_output(stream, name, limit, written):
    """Send at most `limit` characters of a kernel output stream; count the
    rest, so a flood of prints costs neither memory nor messages."""
    original = stream.write

    def write(text):
        written[name] += len(text)
        room = limit - (written[name] - len(text))
        if room > 0:
            original(text[:room])
        return len(text)

    stream.write = write


def apply_limits(cpu_seconds, memory_mb, file_size_mb):
    """At configure time, for the code: CPU seconds and memory count from
    here, not from the kernel's start (a pre-started kernel has used some
    of both). Limits only go down: the code cannot raise them again."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(math.ceil(used.ru_utime + used.ru_stime)) + cpu_seconds
    with open("/proc/self/statm") as handle:
        memory = int(handle.read().split()[0]) * resource.getpagesize() + memory_mb * 1024 * 1024
    file_size = file_size_mb * 1024 * 1024
    for name, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, memory), (resource.RLIMIT_FSIZE, file_size)):
        hard = resource.getrlimit(name)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(name, (value, value))


def use_matplotlib_cache(folder):
    """Matplotlib needs a writable config folder and builds its font list
    there on first use (about a second): start from a prebuilt one."""
    config_dir = os.path.join(os.path.expanduser("~"), ".matplotlib")
    os.environ["MPLCONFIGDIR"] = config_dir
    if folder and os.path.isdir(folder) and not os.path.exists(config_dir):
        os.makedirs(config_dir)
        for name in os.listdir(folder):
            if name.endswith(".json"):
                with open(os.path.join(folder, name), "rb") as source, open(os.path.join(config_dir, name), "wb") as target:
                    target.write(source.read())


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        config = json.load(handle)
    reporter = Reporter(config["report_path"])
    guard = WriteGuard(reporter)
    install_write_guards(guard)
    if config.get("allowed_hosts") is not None:
        restrict_sockets(config["allowed_hosts"])
    sys.stdin = open(os.devnull)
    use_matplotlib_cache(config.get("matplotlib_cache"))
    # IPython warns on sys.exit() in a cell; the exit code is reported instead.
    warnings.filterwarnings("ignore", message="To exit: use 'exit', 'quit', or Ctrl-D.")

    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(["-f", config["connection_file"], "--IPKernelApp.parent_handle=0", "--HistoryManager.enabled=False"])
    written = {"stdout": 0, "stderr": 0}
    shell = app.shell
    # IPython 9 keeps a copy of everything a cell writes for its history,
    # without a bound (100 MB printed, 100 MB kept): not in a sandbox.
    shell._tee = lambda channel: contextlib.nullcontext()

    def configure(settings):
        del builtins.__abf_configure__  # once per kernel, before the code
        settings = json.loads(settings)
        guard.configure(settings["allow_writes"], settings["pv_limits"])
        cap_output(sys.stdout, "stdout", settings["output_bytes"], written)
        cap_output(sys.stderr, "stderr", settings["output_bytes"], written)
        apply_limits(settings["cpu_seconds"], settings["memory_mb"], settings["file_size_mb"])

    def after_cell(result):
        error = result.error_in_exec
        if isinstance(error, SystemExit):
            code = error.code
            if code is not None and not isinstance(code, int):
                sys.stderr.write(f"{code}\n")
            reporter.send(exit=code if isinstance(code, int) else (0 if code is None else ERROR_EXIT))
        if "results" in shell.user_ns:
            try:
                reporter.send(results=json.loads(json.dumps(shell.user_ns["results"])))
            except (TypeError, ValueError) as exc:
                reporter.send(results_error=f"`results` is not JSON-serialisable: {exc}")
        reporter.send(output=dict(written))

    builtins.__abf_configure__ = configure
    shell.events.register("post_run_cell", after_cell)
    app.start()


if __name__ == "__main__":
    main()
