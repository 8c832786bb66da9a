"""The EPICS code analyzer, table-driven over tests/execution/analysis_corpus.

Each corpus file starts with a header line::

    # expect: write pvs=SR:MAG:Q1:SETPT
    # expect: read pvs=A,B
    # expect: none
    # expect: opaque

``write``: has_epics_writes (and pvs_written equals the list when given).
``read``: reads only — no writes, nothing opaque (pvs_read when given).
``none``: no EPICS access and nothing opaque.
``opaque``: the analyzer says it cannot know (is_opaque), so approval is needed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from execution.analysis import CodeAnalysis, Finding, analyze_code

CORPUS = Path(__file__).parent / "analysis_corpus"
VERDICTS = ("write", "read", "none", "opaque")


def _parse_header(path: Path) -> tuple[str, dict[str, list[str]]]:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect:"), f"{path.name}: first line must be '# expect: ...'"
    words = first[len("# expect:"):].split()
    verdict, options = words[0], {}
    assert verdict in VERDICTS, f"{path.name}: unknown verdict {verdict!r}"
    for word in words[1:]:
        key, _, value = word.partition("=")
        options[key] = [v for v in value.split(",") if v]
    return verdict, options


CASES = sorted(CORPUS.glob("*/*.py"))


def test_corpus_is_big_enough():
    verdicts = [_parse_header(path)[0] for path in CASES]
    assert verdicts.count("write") >= 50
    assert verdicts.count("write") + verdicts.count("opaque") >= 60
    assert verdicts.count("read") + verdicts.count("none") >= 30


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_corpus_case(path: Path):
    verdict, options = _parse_header(path)
    analysis = analyze_code(path.read_text())
    described = "\n".join(f"  {f.kind} line {f.line}: {f.explanation}" for f in analysis.findings)
    context = f"{path.name} -> findings:\n{described or '  (none)'}"
    if verdict == "write":
        assert analysis.has_epics_writes, context
        assert analysis.risk == "high", context
        assert analysis.syntax_error is None, context
        if "pvs" in options:
            assert list(analysis.pvs_written) == options["pvs"], context
    elif verdict == "read":
        assert not analysis.has_epics_writes, context
        assert analysis.has_epics_reads, context
        assert not analysis.is_opaque, context
        assert analysis.risk == "low", context
        if "pvs" in options:
            assert list(analysis.pvs_read) == options["pvs"], context
    elif verdict == "none":
        assert not analysis.has_epics_writes, context
        assert not analysis.has_epics_reads, context
        assert not analysis.is_opaque, context
        assert analysis.risk == "none", context
        assert analysis.findings == (), context
    else:
        assert analysis.is_opaque, context
        assert analysis.risk == "high", context
    # Every finding's explanation is one line.
    for finding in analysis.findings:
        assert "\n" not in finding.explanation
    json.dumps(analysis.to_dict())


# ------------------------------------------------------------ focused tests
def test_alias_write_explanation_line_and_column():
    source = "import math\nfrom epics import caput as _w\n\nx = 1\n    \nif x:\n    _w('SR:MAG:Q1:SETPT', 5.0)\n"
    analysis = analyze_code(source)
    (finding,) = analysis.findings
    assert finding == Finding(
        kind="epics_write",
        line=7,
        column=4,
        explanation="Writes 5.0 to PV 'SR:MAG:Q1:SETPT' via epics.caput (imported as _w)",
        pv="SR:MAG:Q1:SETPT",
    )
    assert analysis.pvs_written == ("SR:MAG:Q1:SETPT",)


def test_read_explanation_names_pv():
    analysis = analyze_code("import epics\nv = epics.caget('SR:DCCT')\n")
    (finding,) = analysis.findings
    assert finding.kind == "epics_read"
    assert finding.line == 2
    assert finding.explanation == "Reads PV 'SR:DCCT' via epics.caget"
    assert analysis.risk == "low"


def test_syntax_error_is_opaque_and_high_risk():
    analysis = analyze_code("from epics import caput\n\ndef f(:\n    pass\n")
    assert analysis.syntax_error is not None
    assert analysis.syntax_error.startswith("line 3:")
    assert analysis.syntax_error_line == 3
    assert analysis.has_epics_writes is False
    assert analysis.is_opaque
    assert analysis.risk == "high"
    assert analysis.to_dict()["syntax_error_line"] == 3


def test_shell_command_computed_is_opaque_with_explanation():
    analysis = analyze_code("import os\ncmd = input()\nos.system(cmd)\n")
    (finding,) = analysis.opaque
    assert finding.line == 3
    assert finding.explanation == (
        "Runs a shell command the analyzer cannot read (os.system with a computed string) "
        "— treated as a possible EPICS write"
    )
    assert not analysis.has_epics_writes


def test_exec_literal_is_analysed_and_located_at_exec_call():
    source = "x = 1\nexec(\"from epics import caput\\ncaput('SR:X', 1)\")\n"
    analysis = analyze_code(source)
    (finding,) = analysis.writes
    assert finding.line == 2
    assert finding.pv == "SR:X"
    assert "exec() at line 2, its line 2" in finding.explanation


def test_wrapper_call_site_is_reported():
    source = (
        "from epics import caput\n"
        "def set_quad(name, value):\n"
        "    caput(name, value)\n"
        "set_quad('SR:Q1', 1.0)\n"
    )
    analysis = analyze_code(source)
    lines = {f.line for f in analysis.writes}
    assert lines == {3, 4}
    call_site = [f for f in analysis.writes if f.line == 4][0]
    assert "set_quad" in call_site.explanation and "'SR:Q1'" in call_site.explanation


def test_pvs_are_deduplicated_in_order_of_appearance():
    source = (
        "from epics import caput, caget\n"
        "caput('B', 1)\n"
        "caput('A', 1)\n"
        "caput('B', 2)\n"
        "caget('C'); caget('C')\n"
    )
    analysis = analyze_code(source)
    assert analysis.pvs_written == ("B", "A")
    assert analysis.pvs_read == ("C",)


def test_to_dict_shape():
    data = analyze_code("import epics\nepics.caput('X', 1)\n").to_dict()
    assert set(data) >= {
        "has_epics_writes", "has_epics_reads", "findings", "opaque", "syntax_error",
        "syntax_error_line", "risk", "pvs_written", "pvs_read",
    }
    assert data["findings"][0] == {
        "kind": "epics_write", "line": 2, "column": 0, "pv": "X",
        "explanation": "Writes 1 to PV 'X' via epics.caput",
    }
    json.dumps(data)


def test_empty_code():
    analysis = analyze_code("")
    assert isinstance(analysis, CodeAnalysis)
    assert analysis.risk == "none" and not analysis.is_opaque


def test_frozen_dataclasses():
    analysis = analyze_code("x = 1\n")
    with pytest.raises(Exception):
        analysis.risk = "high"  # type: ignore[misc]


def test_deeply_nested_code_fails_secure():
    source = "x = " + "(" * 300 + "1" + ")" * 300 + "\n"
    analysis = analyze_code(source)
    # Either parsed fine (no findings) or flagged: never an exception.
    assert analysis.risk in ("none", "high")


def test_analysis_is_fast_enough_for_a_large_script():
    block = (
        "def f{i}(x):\n"
        "    y = [v * 2 for v in range(x)]\n"
        "    return sum(y) / max(len(y), 1)\n"
        "value{i} = f{i}({i})\n"
    )
    source = "import epics\nput = epics.caput\n" + "".join(block.format(i=i) for i in range(500))
    source += "put('SR:LAST', value1)\n"
    start = time.perf_counter()
    analysis = analyze_code(source)
    elapsed = time.perf_counter() - start
    assert analysis.pvs_written == ("SR:LAST",)
    assert elapsed < 1.0  # generous here; bench/bench_analysis.py holds the real goal
