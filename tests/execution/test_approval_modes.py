"""evaluate(): the approval policy as a table (pure, no database)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from execution.analysis import GLOBAL_MODES, PYTHON_MODES, Decision, analyze_code, evaluate, normalise_python_mode

CODE = {
    "benign": "import math\nx = math.sqrt(2)\n",
    "read": "import epics\nv = epics.caget('SR:DCCT')\n",
    "write": "import epics\nepics.caput('SR:Q1:SETPT', 1.0)\n",
    "opaque": "exec(input())\n",
    "syntax": "def f(:\n    pass\n",
}
ANALYSIS = {name: analyze_code(source) for name, source in CODE.items()}


def policy(global_mode="selective", python_mode="epics_writes", writes_enabled=True):
    return SimpleNamespace(global_mode=global_mode, python_mode=python_mode, writes_enabled=writes_enabled)


def test_corpus_of_this_table_is_what_it_claims():
    assert ANALYSIS["benign"].risk == "none"
    assert ANALYSIS["read"].risk == "low"
    assert ANALYSIS["write"].has_epics_writes
    assert ANALYSIS["opaque"].opaque and not ANALYSIS["opaque"].has_epics_writes
    assert ANALYSIS["syntax"].syntax_error


# (global_mode, python_mode, code) -> needs_approval, with writes switched on.
APPROVAL_TABLE = [
    # global disabled: nothing needs approval, not even opaque code
    ("disabled", "epics_writes", "benign", False),
    ("disabled", "epics_writes", "read", False),
    ("disabled", "epics_writes", "write", False),
    ("disabled", "epics_writes", "opaque", False),
    ("disabled", "epics_writes", "syntax", False),
    ("disabled", "all_code", "benign", False),
    ("disabled", "disabled", "write", False),
    # global all_capabilities: every code step
    ("all_capabilities", "disabled", "benign", True),
    ("all_capabilities", "epics_writes", "benign", True),
    ("all_capabilities", "epics_writes", "read", True),
    ("all_capabilities", "all_code", "write", True),
    ("all_capabilities", "disabled", "opaque", True),
    ("all_capabilities", "disabled", "syntax", True),
    # selective + python disabled: no approval, even opaque
    ("selective", "disabled", "benign", False),
    ("selective", "disabled", "read", False),
    ("selective", "disabled", "write", False),
    ("selective", "disabled", "opaque", False),
    ("selective", "disabled", "syntax", False),
    # selective + epics_writes: writes and anything unknowable
    ("selective", "epics_writes", "benign", False),
    ("selective", "epics_writes", "read", False),
    ("selective", "epics_writes", "write", True),
    ("selective", "epics_writes", "opaque", True),
    ("selective", "epics_writes", "syntax", True),
    # the alias means the same
    ("selective", "control_writes", "benign", False),
    ("selective", "control_writes", "read", False),
    ("selective", "control_writes", "write", True),
    ("selective", "control_writes", "opaque", True),
    # selective + all_code: always
    ("selective", "all_code", "benign", True),
    ("selective", "all_code", "read", True),
    ("selective", "all_code", "write", True),
    ("selective", "all_code", "opaque", True),
    ("selective", "all_code", "syntax", True),
]


@pytest.mark.parametrize("global_mode,python_mode,code,needs_approval", APPROVAL_TABLE,
                         ids=[f"{g}-{p}-{c}" for g, p, c, _ in APPROVAL_TABLE])
def test_approval_table(global_mode, python_mode, code, needs_approval):
    decision = evaluate(policy(global_mode, python_mode, writes_enabled=True), ANALYSIS[code])
    assert isinstance(decision, Decision)
    assert decision.needs_approval is needs_approval, decision.reasons
    assert decision.refused is False
    if needs_approval:
        assert decision.reasons, "a decision that asks for approval must say why"
    for reason in decision.reasons:
        assert isinstance(reason, str) and "\n" not in reason


def test_every_mode_combination_is_covered():
    covered = {(g, p) for g, p, _c, _n in APPROVAL_TABLE}
    for global_mode in GLOBAL_MODES:
        for python_mode in PYTHON_MODES:
            if global_mode == "selective":
                assert (global_mode, python_mode) in covered


# Master switch: writes off refuses code that writes, in every mode.
@pytest.mark.parametrize("global_mode", GLOBAL_MODES)
@pytest.mark.parametrize("python_mode", PYTHON_MODES)
def test_writes_master_switch_refuses_writes_in_every_mode(global_mode, python_mode):
    decision = evaluate(policy(global_mode, python_mode, writes_enabled=False), ANALYSIS["write"])
    assert decision.refused is True
    switch_reasons = [r for r in decision.reasons if "writes master switch" in r]
    assert switch_reasons == [
        "EPICS writes are switched off (writes master switch); this code writes to PV 'SR:Q1:SETPT'"
    ]


@pytest.mark.parametrize("code", ["benign", "read", "opaque", "syntax"])
def test_writes_master_switch_does_not_refuse_code_without_writes(code):
    decision = evaluate(policy("selective", "epics_writes", writes_enabled=False), ANALYSIS[code])
    assert decision.refused is False
    assert decision.needs_approval is (code in ("opaque", "syntax"))


def test_opaque_code_with_writes_off_in_disabled_mode_is_neither_refused_nor_held():
    decision = evaluate(policy("disabled", "epics_writes", writes_enabled=False), ANALYSIS["opaque"])
    assert decision == Decision(needs_approval=False, refused=False, reasons=())


def test_writes_enabled_must_be_literally_true():
    decision = evaluate(policy("disabled", "disabled", writes_enabled=None), ANALYSIS["write"])
    assert decision.refused is True


def test_missing_policy_requires_approval():
    for code in CODE:
        decision = evaluate(None, ANALYSIS[code])
        assert decision.needs_approval is True
        assert decision.refused is False
        assert decision.reasons[0] == "no approval policy is configured — approval required"


@pytest.mark.parametrize("global_mode,python_mode,bad", [
    ("selectiv", "epics_writes", "selectiv"),
    (None, "epics_writes", None),
    ("SELECTIVE", "epics_writes", "SELECTIVE"),
    ("selective", "epics_write", "epics_write"),
    ("selective", None, None),
    ("disabled", "typo", "typo"),
    ("all_capabilities", "", ""),
])
def test_unknown_mode_requires_approval(global_mode, python_mode, bad):
    decision = evaluate(policy(global_mode, python_mode), ANALYSIS["benign"])
    assert decision.needs_approval is True
    assert f"unknown approval mode {bad!r} — approval required" in decision.reasons


def test_policy_object_missing_attributes_fails_secure():
    decision = evaluate(object(), ANALYSIS["write"])
    assert decision.needs_approval is True
    assert decision.refused is True  # no writes_enabled attribute means writes are off


def test_reasons_name_the_pvs_and_the_rule():
    decision = evaluate(policy("selective", "epics_writes"), ANALYSIS["write"])
    assert decision.reasons == (
        "Python approval mode 'epics_writes': this code writes to EPICS: PV 'SR:Q1:SETPT'",
    )
    decision = evaluate(policy("selective", "epics_writes"), ANALYSIS["opaque"])
    (reason,) = decision.reasons
    assert reason.startswith("the analyzer cannot tell what part of the code does — line 1: Runs code built")
    decision = evaluate(policy("selective", "epics_writes"), ANALYSIS["syntax"])
    (reason,) = decision.reasons
    assert "does not parse (line 1:" in reason


def test_one_reason_per_rule_that_fired():
    analysis = analyze_code("import epics\nepics.caput('A', 1)\nexec(input())\n")
    decision = evaluate(policy("selective", "epics_writes", writes_enabled=False), analysis)
    assert decision.refused and decision.needs_approval
    assert len(decision.reasons) == 3  # master switch, epics_writes mode, opaque


def test_unnamed_pvs_are_mentioned():
    analysis = analyze_code("import epics\nepics.caput(input(), 1)\n")
    decision = evaluate(policy("selective", "epics_writes", writes_enabled=False), analysis)
    assert "PVs the analyzer cannot name" in decision.reasons[0]


def test_decision_to_dict():
    decision = evaluate(policy("selective", "all_code"), ANALYSIS["benign"])
    assert decision.to_dict() == {
        "needs_approval": True, "refused": False,
        "reasons": ["Python approval mode 'all_code': all code needs approval"],
    }


# ------------------------------------------------------- normalise_python_mode
@pytest.mark.parametrize("name,expected", [
    ("disabled", "disabled"),
    ("epics_writes", "epics_writes"),
    ("all_code", "all_code"),
    ("control_writes", "epics_writes"),
])
def test_normalise_python_mode(name, expected):
    assert normalise_python_mode(name) == expected


@pytest.mark.parametrize("name", ["", "epics-writes", "ALL_CODE", None, 3, "selective", "all_capabilities"])
def test_normalise_python_mode_rejects_invalid_names(name):
    with pytest.raises(ValueError) as error:
        normalise_python_mode(name)
    message = str(error.value)
    assert repr(name) in message
    assert "disabled, epics_writes, all_code, control_writes" in message


def test_mode_constants():
    assert GLOBAL_MODES == ("disabled", "selective", "all_capabilities")
    assert PYTHON_MODES == ("disabled", "epics_writes", "all_code")
