"""The minimal python step runner: a fresh interpreter per step, in its own
temporary folder, with a wall-clock timeout and bounded output.

The execution-service issue replaces this with sandboxed and container
executors; the contract (code in, RunResult out) stays.
"""
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from django.conf import settings

# Only these variables reach the step: the control-system address settings
# and what Python needs to start. Secrets in the worker's env stay there.
PASSED_ENV_PREFIXES = ("EPICS_", "PYEPICS_")
PASSED_ENV_NAMES = ("PATH", "LANG", "LC_ALL", "HOME", "TZ")


@dataclass
class RunResult:
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    duration_ms: int


def step_environment():
    env = {k: v for k, v in os.environ.items() if k.startswith(PASSED_ENV_PREFIXES) or k in PASSED_ENV_NAMES}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_python(code, timeout=None, output_limit=None):
    timeout = settings.ABF_STEP_TIMEOUT if timeout is None else timeout
    output_limit = settings.ABF_STEP_OUTPUT_LIMIT if output_limit is None else output_limit
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="abf-step-") as workdir:
        script = os.path.join(workdir, "step.py")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(code)
        try:
            completed = subprocess.run(
                [sys.executable, "-I", script],
                cwd=workdir,
                env=step_environment(),
                capture_output=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            exit_code, out, err, timed_out = completed.returncode, completed.stdout, completed.stderr, False
        except subprocess.TimeoutExpired as expired:
            exit_code, timed_out = None, True
            out, err = expired.stdout or b"", (expired.stderr or b"")
            err += f"\n[abf] stopped after {timeout:g} s (step timeout)\n".encode()
    return RunResult(
        exit_code=exit_code,
        stdout=_truncate(out, output_limit),
        stderr=_truncate(err, output_limit),
        timed_out=timed_out,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _truncate(data, limit):
    text = data.decode("utf-8", errors="replace")
    if len(text) > limit:
        return text[:limit] + f"\n[abf] output truncated at {limit} characters\n"
    return text
