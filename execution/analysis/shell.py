"""Reading shell commands for EPICS command-line tools (caput, pvput, ...).

A command is either a list of words (``subprocess.run(["caput", pv, "1"])``)
or a shell string (``os.system("caput X 1")``).  Words the analyzer cannot
compute are passed as ``None``.  The result is a list of ``ShellEffect``;
the caller turns them into findings.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass

from . import catalog

_SHELL_SEPARATORS = frozenset({";", "&&", "||", "|", "&", ";;", "|&", "(", ")", "\n", "<", ">", ">>", "<<", ">&", "<&"})
_ANY_TOOL_WORD = re.compile(
    r"(?<![\w.:-])(" + "|".join(sorted(map(re.escape, catalog.SHELL_WRITE_TOOLS | catalog.SHELL_READ_TOOLS), key=len, reverse=True)) + r")(?![\w.:-])"
)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_MAX_DEPTH = 4


@dataclass(frozen=True)
class ShellEffect:
    kind: str  # "write" | "read" | "opaque" | "python"
    tool: str | None = None
    pv: str | None = None
    reason: str = ""
    python_source: str | None = None  # for kind "python": code given to python -c


def _program_name(word: str) -> str:
    return os.path.basename(word)


def _is_python(program: str) -> bool:
    return program.startswith(catalog.PYTHON_INTERPRETERS_PREFIX)


def _looks_like_pv(word: str) -> bool:
    # A PV name has a letter; "1.0" or "-5" is a value.
    return any(ch.isalpha() for ch in word)


def _tool_effects(tool: str, args: list[str | None]) -> list[ShellEffect]:
    kind = "write" if tool in catalog.SHELL_WRITE_TOOLS else "read"
    pvs: list[str | None] = []
    skip_next = False
    for word in args:
        if skip_next:
            skip_next = False
            continue
        if word is None:
            pvs.append(None)
        elif word.startswith("-"):
            if word in catalog.SHELL_TOOL_OPTIONS_WITH_VALUE:
                skip_next = True
            continue
        elif _looks_like_pv(word) and not any(ch in word for ch in "$`"):
            pvs.append(word)
        elif any(ch in word for ch in "$`"):
            pvs.append(None)
        else:
            continue
        if kind == "write":
            break  # caput PV VALUE: only the first operand is a PV
    if not pvs:
        pvs = [None]
    return [ShellEffect(kind, tool, pv) for pv in pvs]


def scan_argv(words: list[str | None], depth: int = 0) -> list[ShellEffect]:
    """Effects of running ``words`` as a program with arguments (no shell)."""
    # Leading VAR=value assignments and wrappers (sudo, env, nohup...) run
    # the rest of the line as the real command.
    index = 0
    while index < len(words):
        word = words[index]
        if word is not None and (_ASSIGNMENT.match(word) or _program_name(word) in catalog.SHELL_WRAPPERS):
            index += 1
            while index < len(words) and words[index] is not None and words[index].startswith("-"):
                index += 1
            continue
        break
    words = words[index:]
    if not words:
        return []
    program_word = words[0]
    if program_word is None:
        return [ShellEffect("opaque", reason="the program to run is computed at run time")]
    program = _program_name(program_word)
    rest = words[1:]
    effects: list[ShellEffect] = []

    if program in catalog.SHELL_WRITE_TOOLS or program in catalog.SHELL_READ_TOOLS:
        return _tool_effects(program, rest)

    if program in catalog.SHELL_INTERPRETERS:
        if "-c" in rest:
            position = rest.index("-c") + 1
            script = rest[position] if position < len(rest) else None
            if script is None:
                return [ShellEffect("opaque", reason=f"{program} -c is given a computed command")]
            return scan_string(script, depth + 1)
        return [ShellEffect("opaque", reason=f"{program} runs a script the analyzer cannot see")]

    if _is_python(program):
        if "-c" in rest:
            position = rest.index("-c") + 1
            source = rest[position] if position < len(rest) else None
            if source is None:
                return [ShellEffect("opaque", reason=f"{program} -c is given computed code")]
            return [ShellEffect("python", python_source=source)]
        return [ShellEffect("opaque", reason=f"{program} runs a Python program the analyzer cannot see")]

    if program.endswith((".sh", ".py", ".bash")):
        return [ShellEffect("opaque", reason=f"runs the script {program_word}, which the analyzer cannot see")]

    if program in catalog.SHELL_DATA_PROGRAMS:
        return []

    # Any other program: still look for EPICS tools among its words
    # (ssh host caput X 1, or a quoted command handed on to something else).
    for position, word in enumerate(rest):
        if word is None:
            continue
        name = _program_name(word)
        if name in catalog.SHELL_WRITE_TOOLS or name in catalog.SHELL_READ_TOOLS:
            effects.extend(_tool_effects(name, rest[position + 1:]))
        elif depth < _MAX_DEPTH and any(ch.isspace() for ch in word) and _ANY_TOOL_WORD.search(word):
            effects.extend(scan_string(word, depth + 1))
    return effects


def _split_words(command: str) -> list[str] | None:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes
        return None


def scan_string(command: str, depth: int = 0) -> list[ShellEffect]:
    """Effects of running a fully known shell command line."""
    if depth > _MAX_DEPTH:
        return [ShellEffect("opaque", reason="the command nests shells too deeply to follow")]
    words = _split_words(command)
    effects: list[ShellEffect] = []
    if words is None:
        words = command.split()
    simple: list[str | None] = []
    for word in words + [";"]:
        if word in _SHELL_SEPARATORS or word in ("$", "`"):
            if simple:
                effects.extend(scan_argv(simple, depth))
            simple = []
        else:
            # `caput x 1` inside backticks arrives as "`caput"; strip them.
            simple.append(word.strip("`"))
    # Safety net: in text the word-by-word reading cannot follow (command
    # substitution, here-documents, eval), a write tool named anywhere counts.
    hidden = any(marker in command for marker in ("$(", "`", "<<", "eval", "source ", ". /"))
    if hidden and not any(effect.kind == "write" for effect in effects):
        for match in _ANY_TOOL_WORD.finditer(command):
            if match.group(1) in catalog.SHELL_WRITE_TOOLS:
                effects.append(ShellEffect("write", match.group(1), None))
    return effects


def scan_fragments(fragments: list[str]) -> list[ShellEffect]:
    """A shell string only partly known: its computed pieces could hold any
    command, so the result is opaque unless the known text already shows a
    write (then it is a write)."""
    effects = []
    tools = []
    for fragment in fragments:
        tools.extend(match.group(1) for match in _ANY_TOOL_WORD.finditer(fragment))
    writes = [tool for tool in tools if tool in catalog.SHELL_WRITE_TOOLS]
    if writes:
        effects.extend(ShellEffect("write", tool, None) for tool in dict.fromkeys(writes))
        return effects
    mentioned = f"; its fixed parts mention {', '.join(dict.fromkeys(tools))}" if tools else ""
    return [ShellEffect("opaque", reason=f"the command line is built at run time{mentioned}")]
