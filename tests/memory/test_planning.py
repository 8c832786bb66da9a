"""The direct planner turns 'remember that ...' into one memory step."""
import pytest

from approvals import planning


@pytest.mark.parametrize(
    "text, note",
    [
        ("remember that the RF cavity 3 tuner sticks above 40 °C", "the RF cavity 3 tuner sticks above 40 °C"),
        ("Remember: IG-07-2 reads high after bakeout", "IG-07-2 reads high after bakeout"),
        ("remember that\nline one\nline two", "line one\nline two"),
    ],
)
def test_remember_becomes_one_memory_step(text, note):
    [step] = planning.plan_directly(text)
    assert (step.capability, step.inputs) == ("memory", {"content": note})


def test_remember_with_nothing_to_remember_is_refused():
    with pytest.raises(planning.PlanningError, match="Say what to remember"):
        planning.plan_directly("remember that   ")


def test_a_plan_may_hold_memory_steps_and_they_need_content():
    steps = planning.validate_steps([{"capability": "memory", "objective": "note", "inputs": {"content": "BPM 12 noisy"}}])
    assert steps[0].inputs == {"content": "BPM 12 noisy"}
    with pytest.raises(planning.PlanningError, match="needs a non-empty 'content'"):
        planning.validate_steps([{"capability": "memory", "objective": "note", "inputs": {}}])


def test_words_that_merely_start_with_remember_are_not_notes():
    with pytest.raises(planning.PlanningError):
        planning.plan_directly("remembering is hard")
