"""Turn an operator's request into a plan: a list of steps.

Two planners share one validator. The direct planner (the embedded default,
no model needed) takes Python code or a JSON/YAML plan as written. With
ABF_LLM_MODEL set, a LangChain chat model writes the plan as JSON.
"""
import ast
import json
import re
from dataclasses import dataclass, field

import yaml
from django.conf import settings

PLANNING_PREFIX = "/planning"

# What each capability needs in its inputs. The graph has one node per capability.
CAPABILITIES = {
    "python": {"required": ["code"], "description": "Run Python code (may read or write EPICS PVs)."},
    "memory": {"required": ["content"], "description": "Save a note to the operator's own memory for later requests."},
}

DIRECT_PLANNER_HELP = (
    "The direct planner (used because no LLM is configured: ABF_LLM_MODEL is unset) accepts "
    "Python code, raw or in a ```python fenced block, 'remember that ...' (a note for your memory), "
    "or a JSON/YAML plan: a list of steps, each with 'capability' (one of: {caps}), 'objective' and "
    '\'inputs\' (for python: {{"code": "..."}}, for memory: {{"content": "..."}}). '
    "Set ABF_LLM_MODEL to plan from plain language."
)


class PlanningError(ValueError):
    """The request cannot be turned into a plan; the message says why, for a person."""


@dataclass
class StepSpec:
    capability: str
    objective: str
    inputs: dict = field(default_factory=dict)

    def as_dict(self):
        return {"capability": self.capability, "objective": self.objective, "inputs": self.inputs}


def split_planning_mode(text):
    """'/planning do X' -> (True, 'do X'); anything else -> (False, text)."""
    stripped = (text or "").strip()
    if stripped == PLANNING_PREFIX or stripped.startswith(PLANNING_PREFIX + " ") or stripped.startswith(PLANNING_PREFIX + "\n"):
        return True, stripped[len(PLANNING_PREFIX):].strip()
    return False, stripped


def make_plan(text, context=""):
    """Plan a request (without its /planning prefix). Returns (planner_name, [StepSpec]).
    `context` is what the data sources said, for the LLM planner."""
    if not text or not text.strip():
        raise PlanningError("The request is empty: type what you want abf to do.")
    if settings.ABF_LLM_MODEL:
        return settings.ABF_LLM_MODEL, plan_with_llm(text, get_chat_model(), context)
    return "direct", plan_directly(text)


def plan_directly(text):
    note = _memory_note(text)
    if note is not None:
        return [StepSpec("memory", "Save a note to the operator's memory", {"content": note})]
    code = _fenced_code(text)
    if code is not None:
        return [_python_step(code)]
    structured = _structured_plan(text)
    if structured is not None:
        return validate_steps(structured)
    if _looks_like_python(text):
        return [_python_step(text)]
    raise PlanningError(
        "abf could not read this request as code or a plan. "
        + DIRECT_PLANNER_HELP.format(caps=", ".join(CAPABILITIES))
    )


def validate_steps(raw):
    """Check a plan written by a person or a model; return StepSpecs or raise PlanningError."""
    if isinstance(raw, dict) and "steps" in raw:
        raw = raw["steps"]
    if not isinstance(raw, list) or not raw:
        raise PlanningError("A plan must be a non-empty list of steps.")
    steps = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise PlanningError(f"Step {number} must be an object with capability, objective and inputs.")
        capability = item.get("capability")
        if capability not in CAPABILITIES:
            raise PlanningError(
                f"Step {number}: unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}."
            )
        inputs = item.get("inputs", {})
        if not isinstance(inputs, dict):
            raise PlanningError(f"Step {number}: 'inputs' must be an object.")
        for name in CAPABILITIES[capability]["required"]:
            if not isinstance(inputs.get(name), str) or not inputs[name].strip():
                raise PlanningError(f"Step {number} ({capability}) needs a non-empty '{name}' input.")
        objective = item.get("objective", "")
        if not isinstance(objective, str):
            raise PlanningError(f"Step {number}: 'objective' must be text.")
        steps.append(StepSpec(capability, objective.strip(), inputs))
    return steps


def _python_step(code):
    code = code.strip("\n")
    if not code.strip():
        raise PlanningError("The code block is empty.")
    return StepSpec("python", "Run the submitted Python code", {"code": code})


_REMEMBER = re.compile(r"^\s*remember(?:\s+that\b|\s*:)\s*(.*)$", re.DOTALL | re.IGNORECASE)


def _memory_note(text):
    """'remember that X' or 'remember: X' -> 'X'; anything else -> None."""
    match = _REMEMBER.match(text)
    if match is None:
        return None
    if not match.group(1).strip():
        raise PlanningError("Say what to remember: 'remember that ...'.")
    return match.group(1).strip()


_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def _fenced_code(text):
    match = _FENCE.search(text)
    return match.group(1) if match else None


def _structured_plan(text):
    """A JSON or YAML list of steps (or {"steps": [...]}), else None."""
    for load in (json.loads, yaml.safe_load):
        try:
            data = load(text)
        except (ValueError, yaml.YAMLError):
            continue
        if isinstance(data, list) or (isinstance(data, dict) and "steps" in data):
            return data
    return None


def _looks_like_python(text):
    """Valid Python that does something. A lone word parses as Python too
    ('restart'), so require a call, an assignment, an import or a block."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    for node in tree.body:
        if not isinstance(node, (ast.Expr, ast.Pass)):
            return True
        if isinstance(node.value if isinstance(node, ast.Expr) else None, (ast.Call, ast.Await)):
            return True
    return False


# --- LLM planner -----------------------------------------------------------------

LLM_SYSTEM_PROMPT = """You plan tasks for operators of a particle accelerator.
Answer with JSON only: a list of steps. Each step is an object with
"capability" (one of: {caps}), "objective" (one sentence) and "inputs".
For "python" steps, inputs is {{"code": "<complete Python script>"}}; use pyepics
(`from epics import caget, caput`) for control-system reads and writes and print results.
For "memory" steps, inputs is {{"content": "<the note, self-contained>"}}."""


def get_chat_model():
    from langchain.chat_models import init_chat_model

    return init_chat_model(settings.ABF_LLM_MODEL)


def plan_with_llm(text, model, context=""):
    caps = ", ".join(f"{name} ({spec['description']})" for name, spec in CAPABILITIES.items())
    system = LLM_SYSTEM_PROMPT.format(caps=caps)
    if context:
        system += "\n\nWhat abf's data sources know about this request:\n" + context
    messages = [("system", system), ("human", text)]
    reply = model.invoke(messages)
    content = reply.content if isinstance(reply.content, str) else str(reply.content)
    raw = _fenced_json(content)
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise PlanningError(f"The model's plan is not valid JSON ({exc}).") from exc
    return validate_steps(data)


def _fenced_json(content):
    match = re.search(r"```(?:json)?\s*\n(.*?)```", content, re.DOTALL)
    return match.group(1) if match else content.strip()
