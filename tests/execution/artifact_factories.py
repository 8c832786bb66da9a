"""Executions with files, as the executor stores them (for page and download tests)."""
import base64

from execution import notebooks
from execution.models import ExecutionArtifact, ExecutionRecord
from tests.factories import make_step

# A real 1x1 PNG, so a browser can decode it.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
    b'<rect width="40" height="40" fill="teal"/>'
    b"<script>document.title = 'svg script ran'; fetch('/runs/?svg-script-ran');</script></svg>"
)


def make_execution(operator, state=ExecutionRecord.State.SUCCEEDED, code='print("hi")', **fields):
    step = make_step(operator, code)
    return ExecutionRecord.objects.create(step=step, code=code, state=state, **fields)


def add_artifact(record, name, kind, content_type, data):
    return ExecutionArtifact.objects.create(
        execution=record, name=name, kind=kind, content_type=content_type, data=data, size=len(data)
    )


def add_usual_artifacts(record):
    """What an execution that drew one figure leaves: both notebooks and a PNG."""
    notebook = notebooks.to_bytes(notebooks.source_notebook(record.code, f"Execution #{record.pk}"))
    Kind = ExecutionArtifact.Kind
    return {
        "source": add_artifact(record, f"execution-{record.pk}-source.ipynb", Kind.SOURCE_NOTEBOOK, "application/x-ipynb+json", notebook),
        "notebook": add_artifact(record, f"execution-{record.pk}.ipynb", Kind.NOTEBOOK, "application/x-ipynb+json", notebook),
        "figure": add_artifact(record, "figure-1.png", Kind.FIGURE, "image/png", PNG),
    }
