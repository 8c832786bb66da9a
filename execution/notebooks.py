"""Executions as Jupyter notebooks (nbformat 4), so a scientist can open what
ran, and what the reviewer was shown before it ran, in Jupyter as is; and
the figures the code showed, as files."""
import base64

import nbformat
from nbformat import v4

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
CONTENT_TYPE = "application/x-ipynb+json"
FIGURE_TYPES = {"image/png": "png", "image/svg+xml": "svg"}


def source_notebook(code, title, analysis=None):
    """The notebook a reviewer is shown before execution: a heading cell
    that says what this is and what the analysis found, then the code."""
    lines = [f"# {title}", "", "Not executed yet: this is the code as submitted for review."]
    if analysis:
        lines += ["", "Analysis findings:", ""] + [f"- {finding}" for finding in analysis]
    return _notebook(lines, code)


def review_notes(reasons, findings):
    """What the source notebook lists under the code's heading: the
    policy's reasons, then each analysis finding ({"line", "explanation"})."""
    return [*reasons, *(f"line {f['line']}: {f['explanation']}" for f in findings)]


def executed_notebook(code, title, outputs, outcome):
    """The notebook of an execution: the code cell with the outputs the
    kernel produced (stdout/stderr, figures, rich results, the error)."""
    notebook = _notebook([f"# {title}", "", f"Executed by abf: {outcome}."], code)
    cell = notebook.cells[1]
    cell.execution_count = 1
    cell.outputs = [v4.new_output(**output) for output in outputs]
    return notebook


def _notebook(heading_lines, code):
    return v4.new_notebook(
        cells=[v4.new_markdown_cell("\n".join(heading_lines)), v4.new_code_cell(code)],
        metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
    )


def to_bytes(notebook, validate=False):
    """The notebook as .ipynb bytes. nbformat.writes validates (about 30 ms);
    the notebooks built here are valid by construction, and tests check it."""
    if validate:
        return nbformat.writes(notebook, version=4).encode("utf-8")
    return (nbformat.v4.writes(notebook) + "\n").encode("utf-8")


def figures(outputs):
    """(name, content type, bytes) for each figure among the outputs:
    figure-1.png, figure-2.svg, ... (a figure offered as both is kept as PNG)."""
    found = []
    for output in outputs:
        data = output.get("data", {})
        for content_type, extension in FIGURE_TYPES.items():
            if content_type in data:
                value = data[content_type]
                body = base64.b64decode(value) if extension == "png" else "".join(value).encode("utf-8")
                found.append((f"figure-{len(found) + 1}.{extension}", content_type, body))
                break
    return found
