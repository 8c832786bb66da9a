"""Old and new values of the configuration admins change: approval policies
(with their review rules), execution limits and PV write limits."""
from django.db import models

SKIPPED = {"id", "updated_at", "policy"}


def snapshot(obj):
    """The object's settings as plain JSON values; foreign keys by name."""
    values = {}
    for field in obj._meta.concrete_fields:
        if field.name in SKIPPED:
            continue
        if isinstance(field, models.ForeignKey):
            related = getattr(obj, field.name)
            values[field.name] = str(related) if related is not None else None
        else:
            values[field.name] = field.value_from_object(obj)
    if obj._meta.label_lower == "approvals.approvalpolicy" and obj.pk:
        values["review_rules"] = {rule.kind: snapshot(rule) for rule in obj.review_rules.order_by("kind")}
    return values


def changes(old, new):
    """{field: {"old": ..., "new": ...}} for every value that differs."""
    old, new = old or {}, new or {}
    return {
        name: {"old": old.get(name), "new": new.get(name)}
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    }
