"""The policy abf starts with: on the safe side. Plans in planning mode and
code that may write to EPICS need approval; EPICS writes are switched off."""

DEFAULT_POLICY = {
    "name": "default",
    "is_active": True,
    "global_mode": "selective",
    "python_mode": "epics_writes",
    "planning_approval": True,
    "memory_approval": True,
    "writes_enabled": False,
}
