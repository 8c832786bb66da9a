"""Executions as Jupyter notebooks (nbformat 4), so a scientist can open what
ran, and what the reviewer was shown before it ran, in Jupyter as is."""
import nbformat
from nbformat import v4

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def source_notebook(code, title, analysis=None):
    """The notebook a reviewer is shown before execution: a heading cell
    that says what this is and what the analysis found, then the code."""
    lines = [f"# {title}", "", "Not executed yet: this is the code as submitted for review."]
    if analysis:
        lines += ["", "Analysis findings:", ""] + [f"- {finding}" for finding in analysis]
    notebook = v4.new_notebook(
        cells=[v4.new_markdown_cell("\n".join(lines)), v4.new_code_cell(code)],
        metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
    )
    return notebook


def to_bytes(notebook):
    return nbformat.writes(notebook, version=4).encode("utf-8")
