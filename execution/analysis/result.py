"""The analyzer's answer: findings and the overall verdict."""

from __future__ import annotations

from dataclasses import dataclass

KIND_WRITE = "epics_write"
KIND_READ = "epics_read"
KIND_OPAQUE = "opaque"


@dataclass(frozen=True)
class Finding:
    """One thing the code does that matters for approval.

    ``line`` is 1-based; ``column`` is 0-based (Python ``ast`` convention).
    For code run through exec() of a literal string, line/column point at
    the exec call in the submitted code and the explanation says so.
    """

    kind: str
    line: int
    column: int
    explanation: str
    pv: str | None = None

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "line": self.line,
            "column": self.column,
            "explanation": self.explanation,
            "pv": self.pv,
        }


@dataclass(frozen=True)
class CodeAnalysis:
    """Verdict on one piece of agent-written Python.

    ``findings`` holds every finding (writes, reads and opaque constructs) in
    source order; ``opaque`` is the subset whose effect cannot be known.
    """

    has_epics_writes: bool
    has_epics_reads: bool
    findings: tuple[Finding, ...] = ()
    opaque: tuple[Finding, ...] = ()
    syntax_error: str | None = None
    syntax_error_line: int | None = None
    risk: str = "none"
    pvs_written: tuple[str, ...] = ()
    pvs_read: tuple[str, ...] = ()

    @property
    def is_opaque(self) -> bool:
        return bool(self.opaque) or self.syntax_error is not None

    @property
    def writes(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind == KIND_WRITE)

    @property
    def reads(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind == KIND_READ)

    def to_dict(self) -> dict:
        return {
            "has_epics_writes": self.has_epics_writes,
            "has_epics_reads": self.has_epics_reads,
            "findings": [f.to_dict() for f in self.findings],
            "opaque": [f.to_dict() for f in self.opaque],
            "syntax_error": self.syntax_error,
            "syntax_error_line": self.syntax_error_line,
            "risk": self.risk,
            "pvs_written": list(self.pvs_written),
            "pvs_read": list(self.pvs_read),
            "is_opaque": self.is_opaque,
        }


def build_analysis(findings, syntax_error: str | None = None, syntax_error_line: int | None = None) -> CodeAnalysis:
    """Sort, de-duplicate and summarise raw findings into a CodeAnalysis."""
    unique: dict[tuple, Finding] = {}
    for finding in findings:
        key = (finding.kind, finding.line, finding.column, finding.explanation, finding.pv)
        unique.setdefault(key, finding)
    ordered = tuple(sorted(unique.values(), key=lambda f: (f.line, f.column)))
    writes = [f for f in ordered if f.kind == KIND_WRITE]
    reads = [f for f in ordered if f.kind == KIND_READ]
    opaque = tuple(f for f in ordered if f.kind == KIND_OPAQUE)
    pvs_written = tuple(dict.fromkeys(f.pv for f in writes if f.pv))
    pvs_read = tuple(dict.fromkeys(f.pv for f in reads if f.pv))
    if writes or opaque or syntax_error is not None:
        risk = "high"
    elif reads:
        risk = "low"
    else:
        risk = "none"
    return CodeAnalysis(
        has_epics_writes=bool(writes),
        has_epics_reads=bool(reads),
        findings=ordered,
        opaque=opaque,
        syntax_error=syntax_error,
        syntax_error_line=syntax_error_line,
        risk=risk,
        pvs_written=pvs_written,
        pvs_read=pvs_read,
    )
