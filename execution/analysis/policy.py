"""Approval policy: does this analysed code need a human's approval?

A pure function of the policy settings and the analysis, so it can be
tested as a table.  Resolution is fail secure: a missing policy, an unknown
mode, opaque code or a syntax error all lead to "approval required" unless
the operator has explicitly switched approval off; the writes master switch
refuses EPICS writes whatever the mode.
"""

from __future__ import annotations

from dataclasses import dataclass

GLOBAL_MODES = ("disabled", "selective", "all_capabilities")
PYTHON_MODES = ("disabled", "epics_writes", "all_code")
PYTHON_MODE_ALIASES = {"control_writes": "epics_writes"}


def normalise_python_mode(name) -> str:
    """Canonical Python approval mode; ``control_writes`` means ``epics_writes``."""
    if isinstance(name, str):
        name = PYTHON_MODE_ALIASES.get(name, name)
        if name in PYTHON_MODES:
            return name
    accepted = ", ".join(PYTHON_MODES + tuple(PYTHON_MODE_ALIASES))
    raise ValueError(f"unknown Python approval mode {name!r}; expected one of: {accepted}")


@dataclass(frozen=True)
class Decision:
    needs_approval: bool
    refused: bool
    reasons: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"needs_approval": self.needs_approval, "refused": self.refused, "reasons": list(self.reasons)}


def _pv_list(pvs, has_unnamed: bool) -> str:
    named = ", ".join(f"'{pv}'" for pv in pvs[:8])
    if len(pvs) > 8:
        named += f" and {len(pvs) - 8} more"
    if named and has_unnamed:
        return f"PV {named} and PVs the analyzer cannot name"
    if named:
        return f"PV {named}"
    return "PVs the analyzer cannot name"


def _writes_phrase(analysis) -> str:
    unnamed = any(f.kind == "epics_write" and not f.pv for f in analysis.findings)
    return _pv_list(list(analysis.pvs_written), unnamed)


def _opaque_reason(analysis) -> str:
    if analysis.syntax_error:
        return f"the code does not parse ({analysis.syntax_error}), so it cannot be checked — approval required"
    first = analysis.opaque[0]
    more = f" (and {len(analysis.opaque) - 1} more)" if len(analysis.opaque) > 1 else ""
    return f"the analyzer cannot tell what part of the code does — line {first.line}: {first.explanation}{more}"


def evaluate(policy, analysis) -> Decision:
    """Decide approval for one code step.

    ``policy`` has ``global_mode``, ``python_mode`` and ``writes_enabled``
    (a Django model instance in production); ``None`` means no policy.
    """
    reasons: list[str] = []
    needs_approval = False
    refused = False
    has_writes = bool(analysis.has_epics_writes)
    is_opaque = bool(analysis.opaque) or analysis.syntax_error is not None

    if policy is None:
        reasons.append("no approval policy is configured — approval required")
        if has_writes:
            reasons.append(f"this code writes to EPICS: {_writes_phrase(analysis)}")
        if is_opaque:
            reasons.append(_opaque_reason(analysis))
        return Decision(True, False, tuple(reasons))

    # Master switch: EPICS writes off means refuse, whatever the mode.
    # Only a literal True switches writes on (a corrupt value stays off).
    writes_enabled = getattr(policy, "writes_enabled", False) is True
    if has_writes and not writes_enabled:
        refused = True
        reasons.append(f"EPICS writes are switched off (writes master switch); this code writes to "
                       f"{_writes_phrase(analysis)}")

    global_mode = getattr(policy, "global_mode", None)
    raw_python_mode = getattr(policy, "python_mode", None)
    try:
        python_mode = normalise_python_mode(raw_python_mode)
    except ValueError:
        python_mode = None

    if global_mode not in GLOBAL_MODES:
        needs_approval = True
        reasons.append(f"unknown approval mode {global_mode!r} — approval required")
        effective = None
    elif global_mode == "disabled":
        effective = "disabled"
    elif global_mode == "all_capabilities":
        needs_approval = True
        reasons.append("approval mode 'all_capabilities': every code step needs approval")
        effective = "all_capabilities"
    else:  # selective: the Python mode decides
        effective = python_mode

    # A corrupt Python mode is suspicious even when the global mode would not
    # consult it: require approval rather than guess.
    if python_mode is None:
        needs_approval = True
        reasons.append(f"unknown approval mode {raw_python_mode!r} — approval required")
    elif global_mode == "selective":
        if python_mode == "all_code":
            needs_approval = True
            reasons.append("Python approval mode 'all_code': all code needs approval")
        elif python_mode == "epics_writes" and has_writes:
            needs_approval = True
            reasons.append(f"Python approval mode 'epics_writes': this code writes to EPICS: "
                           f"{_writes_phrase(analysis)}")

    if is_opaque and effective != "disabled":
        needs_approval = True
        reasons.append(_opaque_reason(analysis))

    return Decision(needs_approval, refused, tuple(reasons))
