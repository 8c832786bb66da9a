"""The minimal step runner: a fresh interpreter, a timeout, bounded output."""
from execution import runner


def test_captures_stdout_stderr_and_exit_code():
    result = runner.run_python("import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)", timeout=20)
    assert (result.stdout, result.stderr.strip(), result.exit_code, result.timed_out) == ("out\n", "err", 3, False)


def test_a_step_that_hangs_is_stopped_at_the_timeout():
    result = runner.run_python("import time\nprint('started', flush=True)\ntime.sleep(60)", timeout=1)
    assert result.timed_out and result.exit_code is None
    assert "started" in result.stdout
    assert "stopped after 1 s" in result.stderr
    assert result.duration_ms < 10_000


def test_output_is_bounded():
    result = runner.run_python("print('x' * 5000)", timeout=20, output_limit=100)
    assert len(result.stdout) < 200 and "truncated" in result.stdout


def test_the_step_does_not_see_the_workers_secrets(monkeypatch):
    monkeypatch.setenv("ABF_SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("EPICS_CA_ADDR_LIST", "127.0.0.1")
    result = runner.run_python("import os\nprint(os.environ.get('ABF_SECRET_KEY'), os.environ.get('EPICS_CA_ADDR_LIST'))", timeout=20)
    assert result.stdout == "None 127.0.0.1\n"
