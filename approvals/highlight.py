"""Code shown to reviewers: highlighted with Pygments, line by line, so the
analysis findings can sit under the lines they are about."""
from django.utils.html import escape
from pygments.lexers import PythonLexer
from pygments.token import STANDARD_TYPES


def highlighted_lines(code, findings=()):
    """[(number, html, [findings on that line])] for a template to render."""
    lines, current = [], []
    for token_type, value in PythonLexer(stripnl=False, ensurenl=False).get_tokens(code):
        css = _css_class(token_type)
        parts = value.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append("".join(current))
                current = []
            if part:
                current.append(f'<span class="{css}">{escape(part)}</span>' if css else escape(part))
    lines.append("".join(current))
    if lines and lines[-1] == "" and code.endswith("\n"):
        lines.pop()
    by_line = {}
    for finding in findings:
        by_line.setdefault(finding.get("line"), []).append(finding)
    return [(n, html, by_line.get(n, [])) for n, html in enumerate(lines, start=1)]


def _css_class(token_type):
    while token_type not in STANDARD_TYPES:
        token_type = token_type.parent
    return STANDARD_TYPES[token_type]


def style_definitions():
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="default").get_style_defs(".code")
