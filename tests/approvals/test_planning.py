"""What the planners make of a request."""
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from approvals import planning
from approvals.planning import PlanningError


@pytest.mark.parametrize(
    "text",
    [
        'print("hello")',
        "from epics import caget\nprint(caget('SR:DCCT'))",
        "Please run this:\n```python\nprint('hello')\n```\nthanks",
        "```\nx = 1\nprint(x)\n```",
    ],
)
def test_code_becomes_one_python_step(text):
    (step,) = planning.plan_directly(text)
    assert step.capability == "python"
    assert "print" in step.inputs["code"]
    assert "```" not in step.inputs["code"]


def test_json_plan_is_taken_as_written():
    steps = planning.plan_directly(
        '[{"capability": "python", "objective": "read current", "inputs": {"code": "print(1)"}},'
        ' {"capability": "python", "objective": "report", "inputs": {"code": "print(2)"}}]'
    )
    assert [s.objective for s in steps] == ["read current", "report"]
    assert steps[1].inputs == {"code": "print(2)"}


def test_yaml_plan_with_steps_key():
    steps = planning.plan_directly(
        "steps:\n  - capability: python\n    objective: say hi\n    inputs:\n      code: print('hi')\n"
    )
    assert steps[0].objective == "say hi"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("please open the RF cavity tuner", "accepts"),
        ("restart", "accepts"),
        ('[{"capability": "teleport", "objective": "x", "inputs": {}}]', "unknown capability 'teleport'"),
        ('[{"capability": "python", "objective": "x", "inputs": {}}]', "needs a non-empty 'code'"),
        ("[]", "non-empty list"),
        ("```python\n\n```", "empty"),
    ],
)
def test_unreadable_requests_get_a_clear_message(text, expected):
    with pytest.raises(PlanningError, match=expected):
        planning.plan_directly(text)


def test_the_direct_planner_message_says_what_it_accepts():
    with pytest.raises(PlanningError) as error:
        planning.plan_directly("what is the beam current?")
    message = str(error.value)
    assert "ABF_LLM_MODEL" in message and "JSON/YAML plan" in message and "Python code" in message


@pytest.mark.parametrize(
    "text, mode, body",
    [("/planning print(1)", True, "print(1)"), ("print(1)", False, "print(1)"), ("/planningx", False, "/planningx")],
)
def test_planning_prefix(text, mode, body):
    assert planning.split_planning_mode(text) == (mode, body)


def test_llm_planner_reads_the_models_json_plan():
    model = FakeListChatModel(
        responses=['```json\n[{"capability": "python", "objective": "read it", "inputs": {"code": "print(3)"}}]\n```']
    )
    (step,) = planning.plan_with_llm("what is the beam current?", model)
    assert step.objective == "read it" and step.inputs["code"] == "print(3)"


def test_llm_planner_rejects_a_model_reply_that_is_not_a_plan():
    model = FakeListChatModel(responses=["I would rather not."])
    with pytest.raises(PlanningError, match="not valid JSON"):
        planning.plan_with_llm("do something", model)


def test_make_plan_uses_the_llm_when_configured(settings, monkeypatch):
    settings.ABF_LLM_MODEL = "fake:model"
    model = FakeListChatModel(responses=['[{"capability": "python", "objective": "o", "inputs": {"code": "print(1)"}}]'])
    monkeypatch.setattr(planning, "get_chat_model", lambda: model)
    planner, steps = planning.make_plan("show the beam current")
    assert planner == "fake:model" and steps[0].inputs["code"] == "print(1)"
