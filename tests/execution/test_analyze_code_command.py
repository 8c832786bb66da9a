"""`manage.py analyze_code`, as a CI pipeline calls it."""
import json
import subprocess
import sys

from tests.conftest import ROOT

WRITES = "from epics import caput as _w\n_w('SR:MAG:Q1:SETPT', 5.0)\n"
READS = "from epics import caget\nprint(caget('SR:DCCT:CURRENT'))\n"


def analyze(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "manage.py", "analyze_code", *args], cwd=ROOT, input=stdin,
        capture_output=True, text=True, timeout=120,
    )


def test_json_is_one_object_per_line_per_input(tmp_path):
    writer, reader = tmp_path / "writer.py", tmp_path / "reader.py"
    writer.write_text(WRITES)
    reader.write_text(READS)
    result = analyze("--mode", "epics_writes", "--json", str(writer), str(reader), "-", stdin="print(1)\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["path"] for line in lines] == [str(writer), str(reader), "-"]
    w, r, s = lines
    assert w["has_epics_writes"] and w["refused"] and "SR:MAG:Q1:SETPT" in w["pvs_written"]
    assert w["findings"][0]["line"] == 2
    assert r["has_epics_reads"] and not r["needs_approval"] and not r["refused"]
    assert not s["needs_approval"] and not s["has_epics_reads"]
    for line in lines:
        assert {"path", "needs_approval", "refused", "has_epics_writes", "has_epics_reads", "reasons", "findings"} <= set(line)


def test_writes_need_approval_when_the_switch_is_on(tmp_path):
    writer = tmp_path / "writer.py"
    writer.write_text(WRITES)
    line = json.loads(analyze("--mode", "epics_writes", "--json", "--writes-enabled", str(writer)).stdout)
    assert line["needs_approval"] and not line["refused"]


def test_unreadable_file_gets_its_own_line_and_needs_approval(tmp_path):
    result = analyze("--mode", "disabled", "--json", str(tmp_path / "missing.py"))
    assert result.returncode == 0
    line = json.loads(result.stdout)
    assert line["needs_approval"] is True and "cannot read" in line["error"]


def test_readable_report_has_line_numbers(tmp_path):
    writer = tmp_path / "writer.py"
    writer.write_text(WRITES)
    out = analyze("--mode", "epics_writes", str(writer)).stdout
    assert f"{writer}:2:" in out and "REFUSED" in out


def test_usage_errors_exit_2():
    assert analyze("--mode", "sometimes", "x.py").returncode == 2
    assert analyze("--json", "x.py").returncode == 2
