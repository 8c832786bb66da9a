"""The python step runner: code in, RunResult out, through the executor the
deployment configured (ABF_EXECUTOR). See execution/executors.py."""
from execution.executors import Job, Limits, RunResult, get_executor

__all__ = ["run_python", "RunResult"]


def run_python(code, limits=None, allow_writes=False, pv_limits=None, cancel=None, on_output=None):
    job = Job(
        code=code, limits=limits or Limits(), allow_writes=allow_writes, pv_limits=pv_limits or {},
        cancel=cancel, on_output=on_output,
    )
    return get_executor().run(job)
