"""Static analysis of agent-written Python for EPICS access, and the
approval policy built on it.  Pure standard library: no Django imports.

    from execution.analysis import analyze_code, evaluate
    analysis = analyze_code(source)
    decision = evaluate(policy, analysis)
"""

from .analyzer import analyze_code
from .policy import GLOBAL_MODES, PYTHON_MODES, Decision, evaluate, normalise_python_mode
from .result import CodeAnalysis, Finding

__all__ = [
    "analyze_code",
    "CodeAnalysis",
    "Finding",
    "evaluate",
    "Decision",
    "GLOBAL_MODES",
    "PYTHON_MODES",
    "normalise_python_mode",
]
