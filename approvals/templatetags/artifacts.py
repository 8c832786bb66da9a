"""Splitting an execution's files (artifact_json dicts) for display."""
from django import template

register = template.Library()

NOTEBOOK_LABELS = {"notebook": "Executed notebook", "source_notebook": "Notebook before execution"}


@register.filter
def figures(artifacts):
    return [a for a in artifacts if a["kind"] == "figure"]


@register.filter
def notebooks(artifacts):
    return [dict(a, label=NOTEBOOK_LABELS[a["kind"]]) for a in artifacts if a["kind"] in NOTEBOOK_LABELS]
