"""What runs first inside every sandboxed execution, before the agent's code.

Standard library only, no Django: it is started as `python -I harness.py`
with the job as JSON on stdin (local executor) or in the file named by its
argument (container executor), and reports on the file descriptor
("report_fd") or to the file ("report_path") the job names, one JSON object
per line:

    {"write": {...}}        one per EPICS write attempt (see guard_epics_writes)
    {"results": ...}        the `results` the code set, as JSON
    {"status": ..., "error": {...}}   how the code ended

The write guard lives in the same process as the code it watches, so code
that goes around pyepics (libca through ctypes, raw sockets) is not stopped
here: the EPICS address a run gets (read-only gateway unless writes were
approved) is what holds then. The guard makes the ordinary write paths
refuse early, with a clear error, and records every attempt.
"""
import datetime
import errno
import importlib.util
import json
import math
import os
import sys
import traceback

REFUSED_EXIT = 3
LIMIT_EXIT = 4
ERROR_EXIT = 1


class EpicsWriteRefused(PermissionError):
    """A write the run may not make; raised before anything is sent."""


class Reporter:
    def __init__(self, job):
        if "report_path" in job:
            self.stream = open(job["report_path"], "w", buffering=1, encoding="utf-8")
        else:
            self.stream = os.fdopen(job["report_fd"], "w", buffering=1, encoding="utf-8", closefd=True)

    def send(self, **message):
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


def guard_epics_writes(ca, reporter, allow_writes, limits):
    """Replace epics.ca.put, which every pyepics write path ends in
    (caput, caput_many, PV.put, Device.put, Motor moves), by a checked and
    recorded one."""
    original_put = ca.put

    def guarded_put(chid, value, wait=False, timeout=30, callback=None, callback_data=None, ftype=None):
        pv = ca.name(chid)
        attempt = {"pv": pv, "requested": plain(value), "before": None, "readback": None, "at": now()}

        def refuse(reason):
            reporter.send(write={**attempt, "outcome": "refused", "message": reason})
            raise EpicsWriteRefused(f"EPICS write to {pv} refused: {reason}")

        if not allow_writes:
            refuse("this run has no approved write permission")
        limit = limits.get(pv)
        if limit is None:
            refuse("the PV is not in the write limits table")
        if not limit["writable"]:
            refuse("the PV is marked not writable in the limits table")
        try:
            requested = float(value)
        except (TypeError, ValueError):
            refuse("only single numeric values can be checked against the limits")
        if not math.isfinite(requested):
            refuse("the value is not a finite number")
        if limit["min_value"] is not None and requested < limit["min_value"]:
            refuse(f"{requested:g} is below the minimum {limit['min_value']:g}")
        if limit["max_value"] is not None and requested > limit["max_value"]:
            refuse(f"{requested:g} is above the maximum {limit['max_value']:g}")
        before = ca.get(chid, timeout=2)
        attempt["before"] = plain(before)
        if limit["max_step"] is not None:
            if before is None:
                refuse("the current value could not be read, so the step size is unknown")
            if abs(requested - float(before)) > limit["max_step"]:
                refuse(f"a step of {abs(requested - float(before)):g} exceeds the maximum step {limit['max_step']:g}")

        verification = limit["verification"]
        try:
            status = original_put(
                chid, value, wait=wait or verification != "none", timeout=timeout,
                callback=callback, callback_data=callback_data, ftype=ftype,
            )
        except Exception as exc:
            reporter.send(write={**attempt, "outcome": "failed", "message": repr(exc)})
            raise
        if verification == "none":
            outcome, message = "unrequested", "no verification configured"
        elif status != 1:
            outcome, message = "unconfirmed", "the put did not complete in time"
        elif verification == "callback":
            outcome, message = "confirmed", "put completion callback"
        else:
            readback = ca.get(chid, timeout=2)
            attempt["readback"] = plain(readback)
            tolerance = abs(requested) * limit["tolerance_percent"] / 100 or 1e-12
            if readback is None:
                outcome, message = "unconfirmed", "the value could not be read back"
            elif abs(float(readback) - requested) <= tolerance:
                outcome, message = "confirmed", "read back within tolerance"
            else:
                outcome, message = "mismatch", f"read back {readback!r}"
        reporter.send(write={**attempt, "outcome": outcome, "message": message})
        return status

    ca.put = guarded_put


class AfterImport:
    """A meta path finder that calls hook(module) right after `name` is
    first imported, before the importer gets it, so `from epics.ca import
    put` sees the guarded put. (Not an importlib.abc subclass: importing
    that costs 20 ms per execution.)"""

    def __init__(self, name, hook):
        self.name, self.hook = name, hook

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None:
            return None
        exec_module = spec.loader.exec_module

        def exec_and_hook(module):
            exec_module(module)
            self.hook(module)

        spec.loader.exec_module = exec_and_hook
        return spec


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


def main():
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as handle:
            job = json.load(handle)
    else:
        job = json.loads(sys.stdin.read())
    reporter = Reporter(job)
    sys.stdin = open(os.devnull)
    sys.meta_path.insert(
        0,
        AfterImport(
            "epics.ca", lambda ca: guard_epics_writes(ca, reporter, job["allow_writes"], job["pv_limits"])
        ),
    )
    if job.get("allowed_hosts") is not None:
        restrict_sockets(job["allowed_hosts"])

    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    status, exit_code, error = "ok", 0, None
    try:
        exec(compile(job["code"], "<step>", "exec"), namespace)
    except SystemExit as exc:
        exit_code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
        status = "ok" if exit_code == 0 else "error"
    except BaseException as exc:
        # The traceback without the harness's own frame.
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next or exc.__traceback__))
        if isinstance(exc, SyntaxError) and exc.filename == "<step>" and exc.__traceback__.tb_next is None:
            text = "".join(traceback.format_exception_only(type(exc), exc))
        sys.stderr.write(text)
        status, exit_code = "error", ERROR_EXIT
        if isinstance(exc, EpicsWriteRefused):
            status, exit_code = "refused", REFUSED_EXIT
        elif isinstance(exc, MemoryError) or (isinstance(exc, OSError) and exc.errno == errno.EFBIG):
            status, exit_code = "limit", LIMIT_EXIT
        error = {"type": type(exc).__name__, "message": str(exc), "traceback": text}
    if "results" in namespace:
        try:
            reporter.send(results=json.loads(json.dumps(namespace["results"])))
        except (TypeError, ValueError) as exc:
            reporter.send(results_error=f"`results` is not JSON-serialisable: {exc}")
    reporter.send(status=status, error=error)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)


if __name__ == "__main__":
    main()
