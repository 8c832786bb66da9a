"""A run's thread of control, as one LangGraph graph:

    gather_context -> plan -> approve_plan -> (review_step -> run_step | review_memory -> save_memory)* -> finish

Each step goes through its capability's pair of nodes: python steps through
review_step/run_step, memory steps through review_memory/save_memory.

Approval points call interrupt(); a worker resumes them with
Command(resume=...). A resumed node runs again from its first line, so every
node calls idempotent services (the approval request is found again by its
interrupt key, an execution is claimed before it starts).
"""
import contextlib
import sqlite3
from typing import TypedDict

from django.conf import settings
from django.db import close_old_connections
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from approvals import planning, services
from approvals.models import ApprovalPolicy, ApprovalRequest, PlanStep, Run
from execution import services as execution_services
from memory import services as memory_services
from providers.base import DataSourceRequest
from providers.services import retrieve_all_context


class RunState(TypedDict):
    run_id: int
    step_index: int
    outcome: str  # "" while going; else one of Run.Status's terminal values
    message: str
    context_prompt: str  # what the data sources said, as text for the planner


# --- Nodes ----------------------------------------------------------------------


def gather_context(state):
    """Ask every data source about the request, each under its own timeout:
    a slow or broken source costs the plan its data, never the run."""
    run = Run.objects.get(pk=state["run_id"])
    _, text = planning.split_planning_mode(run.request_text)
    result = retrieve_all_context(
        DataSourceRequest(user=run.user, requester="planner", query=text, metadata={"run": run.pk})
    )
    services.record_context(run, result.to_dict())
    return {"context_prompt": result.format_for_prompt()}


def plan(state):
    run = Run.objects.get(pk=state["run_id"])
    _, text = planning.split_planning_mode(run.request_text)
    try:
        planner, steps = planning.make_plan(text, context=state.get("context_prompt", ""))
    except planning.PlanningError as exc:
        return {"outcome": Run.Status.FAILED, "message": str(exc)}
    services.record_plan(run, planner, steps)
    return {"step_index": 0}


def approve_plan(state):
    run = Run.objects.get(pk=state["run_id"])
    policy = ApprovalPolicy.current()
    if not run.planning_mode or not _needs_approval(policy, "planning_approval"):
        return {}
    steps = [
        {"order": s.order + 1, "capability": s.capability, "objective": s.objective, "inputs": s.inputs}
        for s in run.plan.steps.all()
    ]
    reason = "Planning mode: plans need approval" if policy else "No active approval policy: approval required"
    approval = services.request_approval(
        run, "plan", ApprovalRequest.Kind.PLAN, _context(run, {"steps": steps}), reason
    )
    return _await_decision(approval, "plan")


def review_step(state):
    run = Run.objects.get(pk=state["run_id"])
    step = _current_step(run, state)
    analysis, decision = execution_services.review_code(step.code, ApprovalPolicy.current())
    if decision.refused:
        services.mark_step(step, PlanStep.Status.REFUSED)
        return {"outcome": Run.Status.REFUSED, "message": " ".join(decision.reasons)}
    if not decision.needs_approval:
        return {}
    context = _context(
        run,
        {
            "step": {"order": step.order + 1, "objective": step.objective},
            "code": step.code,
            "analysis": analysis.to_dict(),
            "reasons": list(decision.reasons),
        },
    )
    reason = "; ".join(decision.reasons)
    return _approve_step(run, step, ApprovalRequest.Kind.CODE, context, reason, f"step {step.order + 1}")


def run_step(state):
    run = Run.objects.get(pk=state["run_id"])
    step = _current_step(run, state)
    # The code that runs may be a reviewer's edit: the writes master switch
    # is checked again on exactly that text.
    analysis, decision = execution_services.review_code(step.code, ApprovalPolicy.current())
    if decision.refused:
        services.mark_step(step, PlanStep.Status.REFUSED)
        return {"outcome": Run.Status.REFUSED, "message": " ".join(decision.reasons)}
    approval = ApprovalRequest.objects.filter(run=run, interrupt_key=f"step-{step.order}-code").first()
    # EPICS write permission only for code a reviewer approved, and only
    # while the master switch is on; anything else runs read-only, where the
    # write guard refuses every write.
    policy = ApprovalPolicy.current()
    approved = approval is not None and approval.status == ApprovalRequest.Status.APPROVED
    allow_writes = approved and policy is not None and policy.writes_enabled
    record = execution_services.execute_step(
        step, approved_by=approval.decided_by if approval else None, allow_writes=allow_writes,
        review=(analysis, decision),
    )
    if record.state != record.State.SUCCEEDED:
        return {
            "outcome": Run.Status.REFUSED if record.state == record.State.REFUSED else Run.Status.FAILED,
            "message": f"Step {step.order + 1} {record.get_state_display().lower()}.",
        }
    return {"step_index": state["step_index"] + 1}


def review_memory(state):
    run = Run.objects.get(pk=state["run_id"])
    step = _current_step(run, state)
    policy = ApprovalPolicy.current()
    if not _needs_approval(policy, "memory_approval"):
        return {}
    context = _context(
        run,
        {
            "step": {"order": step.order + 1, "objective": step.objective},
            "content": step.inputs["content"],
            "owner": run.user.get_username(),
        },
    )
    reason = "Memory saves need approval" if policy else "No active approval policy: approval required"
    what = f"memory note (step {step.order + 1})"
    return _approve_step(run, step, ApprovalRequest.Kind.MEMORY, context, reason, what)


def save_memory(state):
    run = Run.objects.get(pk=state["run_id"])
    step = _current_step(run, state)
    approval = ApprovalRequest.objects.filter(run=run, interrupt_key=f"step-{step.order}-memory").first()
    memory_services.save_memory(
        run.user, step.inputs["content"], source_run=run, source_step=step.order,
        approved_by=approval.decided_by if approval else None,
    )
    services.mark_step(step, PlanStep.Status.DONE)
    return {"step_index": state["step_index"] + 1}


def finish(state):
    run = Run.objects.get(pk=state["run_id"])
    if state.get("outcome"):
        services.set_run_status(run, state["outcome"], state.get("message", ""))
    else:
        count = run.plan.steps.count()
        services.set_run_status(run, Run.Status.FINISHED, f"Done: {count} step{'s' if count != 1 else ''} ran.")
    return {}


# --- Helpers --------------------------------------------------------------------


def _needs_approval(policy, switch):
    """Plans and memory saves: the global mode, then the policy's own switch."""
    if policy is None or policy.global_mode not in ApprovalPolicy.GlobalMode.values:
        return True  # fail secure: no policy, or a mode we do not know
    if policy.global_mode == ApprovalPolicy.GlobalMode.DISABLED:
        return False
    return policy.global_mode == ApprovalPolicy.GlobalMode.ALL or getattr(policy, switch)


def _current_step(run, state):
    return run.plan.steps.get(order=state["step_index"])


def _context(run, extra):
    return {
        "request": run.request_text,
        "requested_by": run.user.get_username(),
        "requested_at": run.created_at.isoformat(),
        **extra,
    }


def _approve_step(run, step, kind, context, reason, what):
    """A step's approval point: open (or find again) its request, wait for
    the decision, and mark the step rejected unless it was approved."""
    approval = services.request_approval(run, f"step-{step.order}-{kind}", kind, context, reason, step=step)
    result = _await_decision(approval, what)
    if result.get("outcome"):
        services.mark_step(step, PlanStep.Status.REJECTED)
    return result


def _await_decision(approval, what):
    """Pause until a reviewer decides. The database, not the resume payload,
    says what was decided: anything but 'approved' stops the run."""
    if approval.is_pending:
        interrupt({"approval_id": approval.pk, "kind": approval.kind})
        approval.refresh_from_db()
    if approval.status == ApprovalRequest.Status.APPROVED:
        return {}
    comment = f": {approval.comment}" if approval.comment else ""
    who = f" by {approval.decided_by}" if approval.decided_by else ""
    return {
        "outcome": Run.Status.REJECTED,
        "message": f"The {what} was {approval.get_status_display().lower()}{who}{comment}",
    }


def _after(next_node):
    def route(state):
        return "finish" if state.get("outcome") else next_node

    return route


STEP_ENTRY = {"python": "review_step", "memory": "review_memory"}  # capability -> its first node


def _after_step(state):
    if state.get("outcome"):
        return "finish"
    run = Run.objects.get(pk=state["run_id"])
    step = run.plan.steps.filter(order=state["step_index"]).first()
    return STEP_ENTRY[step.capability] if step else "finish"


def build_graph():
    graph = StateGraph(RunState)
    for node in (gather_context, plan, approve_plan, review_step, run_step, review_memory, save_memory, finish):
        graph.add_node(node.__name__, _with_db(node))
    graph.add_edge(START, "gather_context")
    graph.add_edge("gather_context", "plan")
    graph.add_conditional_edges("plan", _after("approve_plan"), ["approve_plan", "finish"])
    next_step = [*STEP_ENTRY.values(), "finish"]
    graph.add_conditional_edges("approve_plan", _after_step, next_step)
    graph.add_conditional_edges("review_step", _after("run_step"), ["run_step", "finish"])
    graph.add_conditional_edges("run_step", _after_step, next_step)
    graph.add_conditional_edges("review_memory", _after("save_memory"), ["save_memory", "finish"])
    graph.add_conditional_edges("save_memory", _after_step, next_step)
    graph.add_edge("finish", END)
    return graph


def _with_db(node):
    """LangGraph may run a node in a pool thread: give it a fresh, closed-after
    Django connection so long-lived workers do not leak them."""

    def wrapped(state):
        close_old_connections()
        try:
            return node(state)
        finally:
            close_old_connections()

    wrapped.__name__ = node.__name__
    return wrapped


# --- Running it -------------------------------------------------------------------


_checkpointer_ready = False


def _set_up_once(saver):
    """Create or migrate the checkpoint tables, once per process, under a
    lock: workers starting together would otherwise race on the saver's
    migration table (a duplicate key, and a run failed for nothing)."""
    global _checkpointer_ready
    if _checkpointer_ready:
        return
    with saver.conn.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext('abf:langgraph checkpoints'))")
        try:
            saver.setup()
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext('abf:langgraph checkpoints'))")
    _checkpointer_ready = True


@contextlib.contextmanager
def checkpointer():
    """The durable checkpointer: Postgres when the database is, else SQLite."""
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        from langgraph.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(settings.DATABASE_URL) as saver:
            _set_up_once(saver)
            yield saver
    else:
        from langgraph.checkpoint.sqlite import SqliteSaver

        conn = sqlite3.connect(settings.ABF_CHECKPOINT_DB, check_same_thread=False, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            yield SqliteSaver(conn)
        finally:
            conn.close()


def advance(run, resume=None):
    """Start a run's graph, or resume it with a decision. Returns the final state."""
    config = {"configurable": {"thread_id": run.thread_id}, "recursion_limit": 10_000}
    payload = (
        Command(resume=resume)
        if resume is not None
        else {"run_id": run.pk, "step_index": 0, "outcome": "", "message": "", "context_prompt": ""}
    )
    with checkpointer() as saver:
        return build_graph().compile(checkpointer=saver).invoke(payload, config)
