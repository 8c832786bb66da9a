"""Every action the audit trail records: stable dotted names (reports,
filters and outside tools rely on them; add, never rename)."""

ACTIONS = {
    "run.submitted": "An operator's request was recorded (request text, planning mode).",
    "run.ended": "A run reached its final status (outcome: finished, rejected, refused, failed).",
    "plan.made": "The plan of a run was saved (planner, steps, plan digest).",
    "approval.requested": "An approval request opened (kind, policy reason, quorum, reviewer group, expiry, content digest).",
    "approval.voted": "A reviewer approved, but the quorum is not reached yet (comment, edit if any).",
    "approval.decided": "The vote that settled a request (outcome approved or rejected; reviewer, comment, edit if any).",
    "approval.expired": "Nobody decided in time: the request expired (rejected, nothing runs).",
    "approval.escalated": "The escalation group was warned that a request is about to expire.",
    "execution.started": "A step's code started (executor, EPICS write permission, code digest, who approved it).",
    "execution.finished": "A step's code ended (outcome: its exit state; exit code, duration, EPICS write count).",
    "execution.cancel_requested": "Someone asked a running execution to stop.",
    "epics.write": "One EPICS write attempt by executed code (PV, values requested/before/read back; outcome).",
    "memory.saved": "A memory note was stored (owner, text, who approved it).",
    "memory.edited": "A memory note was changed (old and new text and tags).",
    "memory.deleted": "A memory note was deleted (soft: kept, never retrieved).",
    "memory.imported": "Notes were imported from a reference memory file (how many, their digests).",
    "policy.created": "An approval policy was added in admin (its values and review rules).",
    "policy.changed": "An approval policy or its review rules changed in admin (old and new values).",
    "policy.deleted": "An approval policy was deleted in admin (its last values).",
    "limits.created": "Execution limits or a PV write limit were added in admin.",
    "limits.changed": "Execution limits or a PV write limit changed in admin (old and new values).",
    "limits.deleted": "A PV write limit was deleted in admin (its last values).",
    "limits.imported": "PV write limits were loaded by import_pv_limits (old and new values of each PV).",
    "auth.login": "A user logged in (reviewer pages, admin).",
    "auth.login_failed": "A login or HTTP Basic authentication failed (the username tried).",
    "auth.logout": "A user logged out.",
    "audit.exported": "An audit report was exported (format, range, filters, event count).",
}

FAMILIES = sorted({name.split(".")[0] for name in ACTIONS})
