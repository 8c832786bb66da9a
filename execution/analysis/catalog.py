"""What the analyzer knows about libraries: which names touch EPICS, run
programs, or hide what code does.

Everything is keyed by a fully-qualified dotted name ("epics.caput",
"subprocess.run"), which is what name resolution in ``analyzer.py`` produces
whatever alias the agent's code used.  Keeping the knowledge here, as plain
tables, means adding a library is a data change, not a logic change.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

# Packages whose every public name is treated as "talks to EPICS".  A name
# under one of these roots that is not listed below is classified by
# ``guess_epics_kind`` (fail secure: anything that sounds like a write is one).
EPICS_ROOTS = ("epics", "caproto", "p4p", "ophyd", "cothread.catools", "pyepics")


_EPICS_NAME_CACHE: dict[str, bool] = {}


def is_epics_name(qual: str) -> bool:
    known = _EPICS_NAME_CACHE.get(qual)
    if known is None:
        known = any(qual == root or qual.startswith(root + ".") for root in EPICS_ROOTS)
        if len(_EPICS_NAME_CACHE) < 100_000:
            _EPICS_NAME_CACHE[qual] = known
    return known


_WRITE_WORDS = ("put", "write", "set", "move", "tweak", "restore", "stop", "home", "poke", "store")


def guess_epics_kind(name: str) -> str:
    """Classify an EPICS name nobody listed: 'write' if it sounds like one."""
    lowered = name.lower()
    return "write" if any(word in lowered for word in _WRITE_WORDS) else "read"


@dataclass(frozen=True)
class ArgSpec:
    """Where a parameter sits: positional index and keyword name."""

    index: int | None
    keyword: str | None


@dataclass(frozen=True)
class FuncSpec:
    """A library function the analyzer recognises.

    kind: "write" / "read" (EPICS access), "ctor" (builds an EPICS object of
    ``object_kind``), "context" (builds a client context with no PV yet),
    "opaque" (effect cannot be known), "shell" (runs a program).
    """

    kind: str
    pv: ArgSpec | None = None
    value: ArgSpec | None = None
    object_kind: str | None = None
    verb: str = ""
    # For "shell": how the command is passed; see SHELL_RUNNERS.
    shell_form: str | None = None
    explanation: str = ""


def _write(pv_kw: str, value_kw: str, pv_index: int = 0, value_index: int = 1) -> FuncSpec:
    return FuncSpec("write", ArgSpec(pv_index, pv_kw), ArgSpec(value_index, value_kw))


def _read(pv_kw: str = "pvname", verb: str = "Reads") -> FuncSpec:
    return FuncSpec("read", ArgSpec(0, pv_kw), verb=verb)


def _ctor(object_kind: str, pv_kw: str | None) -> FuncSpec:
    return FuncSpec("ctor", ArgSpec(0, pv_kw) if pv_kw else None, object_kind=object_kind)


FUNCTIONS: dict[str, FuncSpec] = {
    # --- pyepics ---------------------------------------------------------
    "epics.caput": _write("pvname", "value"),
    "epics.caput_many": _write("pvlist", "values"),
    "epics.ca.put": _write("chid", "value"),
    "epics.ca.sg_put": _write("chid", "value", 1, 2),
    "epics.autosave.restore_pvs": FuncSpec("write", None, None, verb="Restores saved values to PVs"),
    "epics.caget": _read(),
    "epics.caget_many": _read("pvlist"),
    "epics.cainfo": _read(),
    "epics.camonitor": _read(verb="Monitors"),
    "epics.camonitor_clear": _read(verb="Stops monitoring"),
    "epics.ca.get": _read("chid"),
    "epics.ca.get_complete": _read("chid"),
    "epics.ca.get_with_metadata": _read("chid"),
    "epics.ca.get_complete_with_metadata": _read("chid"),
    "epics.ca.get_ctrlvars": _read("chid"),
    "epics.ca.get_timevars": _read("chid"),
    "epics.ca.get_precision": _read("chid"),
    "epics.ca.get_enum_strings": _read("chid"),
    "epics.ca.get_severity": _read("chid"),
    "epics.ca.get_timestamp": _read("chid"),
    "epics.ca.create_subscription": _read("chid", verb="Monitors"),
    "epics.ca.sg_get": _read("chid"),
    "epics.PV": _ctor("pv", "pvname"),
    "epics.get_pv": _ctor("pv", "pvname"),
    "epics.Device": _ctor("device", "prefix"),
    "epics.Motor": _ctor("motor", "name"),
    "epics.Alarm": _ctor("pv", "pvname"),
    "epics.ca.create_channel": _ctor("channel", "pvname"),
    # Harmless housekeeping that needs no finding at all.
    "epics.poll": FuncSpec("inert"),
    "epics.ca.poll": FuncSpec("inert"),
    "epics.ca.pend_io": FuncSpec("inert"),
    "epics.ca.pend_event": FuncSpec("inert"),
    "epics.ca.initialize_libca": FuncSpec("inert"),
    "epics.ca.finalize_libca": FuncSpec("inert"),
    # --- caproto ---------------------------------------------------------
    "caproto.sync.client.write": _write("pv_name", "data"),
    "caproto.sync.client.read": _read("pv_name"),
    "caproto.sync.client.subscribe": _read("pv_name", verb="Monitors"),
    "caproto.threading.client.Context": FuncSpec("context", object_kind="caproto_ctx"),
    "caproto.asyncio.client.Context": FuncSpec("context", object_kind="caproto_ctx"),
    "caproto.threading.pyepics_compat.caput": _write("pvname", "value"),
    "caproto.threading.pyepics_compat.caget": _read(),
    "caproto.threading.pyepics_compat.cainfo": _read(),
    "caproto.threading.pyepics_compat.camonitor": _read(verb="Monitors"),
    "caproto.threading.pyepics_compat.PV": _ctor("pv", "pvname"),
    "caproto.threading.pyepics_compat.get_pv": _ctor("pv", "pvname"),
    # --- p4p (PV Access) -------------------------------------------------
    "p4p.client.thread.Context": FuncSpec("context", object_kind="p4p_ctx"),
    "p4p.client.asyncio.Context": FuncSpec("context", object_kind="p4p_ctx"),
    "p4p.client.cothread.Context": FuncSpec("context", object_kind="p4p_ctx"),
    # --- cothread --------------------------------------------------------
    "cothread.catools.caput": _write("pvs", "values"),
    "cothread.catools.caget": _read("pvs"),
    "cothread.catools.camonitor": _read("pvs", verb="Monitors"),
    "cothread.catools.connect": _read("pvs", verb="Connects to"),
    "cothread.catools.cainfo": _read("pvs"),
    # --- ophyd -----------------------------------------------------------
    "ophyd.EpicsSignal": _ctor("ophyd_signal", "read_pv"),
    "ophyd.EpicsSignalRO": _ctor("ophyd_signal", "read_pv"),
    "ophyd.EpicsSignalWithRBV": _ctor("ophyd_signal", "prefix"),
    "ophyd.EpicsMotor": _ctor("ophyd_motor", "prefix"),
}

# Re-exports: the same object reachable under a second dotted name.
ALIASES: dict[str, str] = {
    "epics.pv.PV": "epics.PV",
    "epics.pv.get_pv": "epics.get_pv",
    "epics.pv.caput": "epics.caput",
    "epics.pv.caget": "epics.caget",
    "epics.device.Device": "epics.Device",
    "epics.motor.Motor": "epics.Motor",
    "epics.alarm.Alarm": "epics.Alarm",
    "epics.ca.caput": "epics.caput",
    "epics.ca.caget": "epics.caget",
    "ophyd.signal.EpicsSignal": "ophyd.EpicsSignal",
    "ophyd.signal.EpicsSignalRO": "ophyd.EpicsSignalRO",
    "ophyd.epics_motor.EpicsMotor": "ophyd.EpicsMotor",
}


def canonical(qual: str) -> str:
    return ALIASES.get(qual, qual)


# Subpackages reachable by a star import of an EPICS package.
STAR_SUBMODULES = {
    "epics": ("ca", "dbr", "pv", "device", "motor", "devices", "alarm", "autosave", "utils"),
}


def epics_object_kind_for_class(qual: str) -> str:
    """Kind of object produced by an EPICS class used as a base class."""
    spec = FUNCTIONS.get(qual)
    if spec and spec.object_kind:
        return spec.object_kind
    if qual.startswith("epics.devices."):
        return "device"
    return "generic"


# ---------------------------------------------------------------- objects
@dataclass(frozen=True)
class MethodSpec:
    kind: str  # "write" | "read" | "inert" | "connect"
    value: ArgSpec | None = None
    # Where the PV name comes from: the object itself, or an argument.
    pv_from: str = "object"  # "object" | "arg0" | "prefix+arg0"
    verb: str = ""


_PV_READ_METHODS = (
    "get", "get_ctrlvars", "get_timevars", "get_with_metadata", "add_callback", "remove_callback",
    "clear_callbacks", "run_callbacks", "run_callback", "connect", "reconnect", "disconnect",
    "wait_for_connection", "poll", "clear_auto_monitor", "force_connect", "force_read_access_rights",
)

_DEVICE_READ_METHODS = (
    "get", "get_all", "add_callback", "remove_callbacks", "add_pv", "PV", "pv_property",
    "read_state", "save_state", "write_state", "get_info", "show_info", "show_all", "get_position",
    "check_limits", "within_limits", "refresh", "get_pv", "set_callback", "clear_callback",
    "make_step_list",
)


def _reads(names, verb: str = "Reads") -> dict[str, MethodSpec]:
    return {name: MethodSpec("read", verb=verb) for name in names}


OBJECT_METHODS: dict[str, dict[str, MethodSpec]] = {
    "pv": {
        **_reads(_PV_READ_METHODS),
        "put": MethodSpec("write", ArgSpec(0, "value")),
    },
    "device": {
        **_reads(_DEVICE_READ_METHODS),
        "put": MethodSpec("write", ArgSpec(1, "value"), pv_from="prefix+arg0"),
        "restore_state": MethodSpec("write", None, verb="Restores saved values"),
    },
    "motor": {
        **_reads(_DEVICE_READ_METHODS),
        "put": MethodSpec("write", ArgSpec(1, "value"), pv_from="prefix+arg0"),
        "move": MethodSpec("write", ArgSpec(0, "val"), verb="Moves"),
        "tweak": MethodSpec("write", ArgSpec(0, "direction"), verb="Moves"),
        "set_position": MethodSpec("write", ArgSpec(0, "position")),
        "stop": MethodSpec("write", None, verb="Stops"),
        "restore_state": MethodSpec("write", None, verb="Restores saved values"),
    },
    "channel": {},
    "caproto_ctx": {
        "get_pvs": MethodSpec("connect", verb="Connects to"),
        "disconnect": MethodSpec("inert"),
    },
    "caproto_pv": {
        "write": MethodSpec("write", ArgSpec(0, "data")),
        **_reads(("read", "subscribe", "wait_for_connection", "go_idle", "unsubscribe_all")),
    },
    "p4p_ctx": {
        "put": MethodSpec("write", ArgSpec(1, "values"), pv_from="arg0"),
        "get": MethodSpec("read", pv_from="arg0"),
        "monitor": MethodSpec("read", pv_from="arg0", verb="Monitors"),
        "close": MethodSpec("inert"),
        "disconnect": MethodSpec("inert"),
    },
    "ophyd_signal": {
        "put": MethodSpec("write", ArgSpec(0, "value")),
        "set": MethodSpec("write", ArgSpec(0, "value")),
        **_reads(("get", "read", "describe", "subscribe", "clear_sub", "wait_for_connection",
                  "read_configuration", "describe_configuration", "trigger")),
    },
    "ophyd_motor": {
        "move": MethodSpec("write", ArgSpec(0, "position"), verb="Moves"),
        "set": MethodSpec("write", ArgSpec(0, "new_position"), verb="Moves"),
        "put": MethodSpec("write", ArgSpec(0, "value")),
        **_reads(("get", "read", "describe", "subscribe", "clear_sub", "wait_for_connection",
                  "read_configuration", "describe_configuration", "trigger")),
    },
}

# Kinds whose unknown methods are treated as writes (fail secure).  A
# client context has no write methods of its own, so unknown ones are reads.
UNKNOWN_METHOD_IS_WRITE = {"pv", "device", "motor", "caproto_pv", "p4p_ctx", "ophyd_signal", "ophyd_motor"}

# Human names of the object kinds, used in explanations.
KIND_LABEL = {
    "pv": "PV", "device": "Device", "motor": "Motor", "channel": "channel",
    "caproto_ctx": "caproto Context", "caproto_pv": "caproto PV", "p4p_ctx": "p4p Context",
    "ophyd_signal": "ophyd signal", "ophyd_motor": "ophyd motor", "generic": "EPICS object",
}

# Attribute reads that fetch a PV's value (not just local bookkeeping).
PV_VALUE_ATTRIBUTES = frozenset((
    "value", "char_value", "timestamp", "posixseconds", "nanoseconds", "severity", "status",
    "char_severity", "char_status", "units", "precision", "enum_strs", "lower_ctrl_limit",
    "upper_ctrl_limit", "lower_disp_limit", "upper_disp_limit", "lower_alarm_limit",
    "upper_alarm_limit", "lower_warning_limit", "upper_warning_limit", "info", "position",
    "readback", "setpoint", "user_readback", "user_setpoint",
))

# ------------------------------------------------------------------ shells
# How each runner takes its command:
#   "args"     first argument (or args=) is a list of words or a shell string
#   "string"   first argument is a shell string
#   "argv_star"  program, then each word as its own argument (os.execl)
#   "argv_list"  program, then a list of words (os.execv)
#   "spawn_star" / "spawn_list": like the argv forms after a leading mode
#   "program_star": program, then each word (asyncio.create_subprocess_exec)
SHELL_RUNNERS: dict[str, str] = {
    "subprocess.run": "args", "subprocess.call": "args", "subprocess.check_call": "args",
    "subprocess.check_output": "args", "subprocess.Popen": "args",
    "subprocess.getoutput": "string", "subprocess.getstatusoutput": "string",
    "os.system": "string", "os.popen": "string", "commands.getoutput": "string",
    "os.execl": "argv_star", "os.execle": "argv_star", "os.execlp": "argv_star", "os.execlpe": "argv_star",
    "os.execv": "argv_list", "os.execve": "argv_list", "os.execvp": "argv_list", "os.execvpe": "argv_list",
    "os.spawnl": "spawn_star", "os.spawnle": "spawn_star", "os.spawnlp": "spawn_star", "os.spawnlpe": "spawn_star",
    "os.spawnv": "spawn_list", "os.spawnve": "spawn_list", "os.spawnvp": "spawn_list", "os.spawnvpe": "spawn_list",
    "os.posix_spawn": "argv_list", "os.posix_spawnp": "argv_list",
    "pty.spawn": "args",
    "asyncio.create_subprocess_exec": "program_star",
    "asyncio.create_subprocess_shell": "string",
}

# ------------------------------------------------------------------ opaque
_UNPICKLE = "Unpickles data ({name}), which can run arbitrary code"
_RUNS_FILE = "Runs another Python file or module ({name}) that the analyzer cannot see"
_SOCKET = "Opens a raw network socket ({name}), which could speak Channel Access directly"
_LOADER = "Loads Python code from a file ({name}) that the analyzer cannot see"
_CODE = "Builds a function or code object at run time ({name})"
_CONSOLE = "Starts an interactive Python interpreter ({name})"

OPAQUE_FUNCTIONS: dict[str, str] = {
    "runpy.run_path": _RUNS_FILE, "runpy.run_module": _RUNS_FILE,
    "pickle.load": _UNPICKLE, "pickle.loads": _UNPICKLE, "_pickle.load": _UNPICKLE,
    "_pickle.loads": _UNPICKLE, "cPickle.loads": _UNPICKLE, "cPickle.load": _UNPICKLE,
    "dill.load": _UNPICKLE, "dill.loads": _UNPICKLE, "cloudpickle.load": _UNPICKLE,
    "cloudpickle.loads": _UNPICKLE, "marshal.load": _UNPICKLE, "marshal.loads": _UNPICKLE,
    "shelve.open": _UNPICKLE, "jsonpickle.decode": _UNPICKLE, "yaml.unsafe_load": _UNPICKLE,
    "joblib.load": _UNPICKLE,
    "socket.socket": _SOCKET, "socket.create_connection": _SOCKET, "socket.create_server": _SOCKET,
    "socket.socketpair": _SOCKET, "socket.fromfd": _SOCKET,
    "asyncio.open_connection": _SOCKET,
    "importlib.util.spec_from_file_location": _LOADER, "importlib.util.module_from_spec": _LOADER,
    "importlib.machinery.SourceFileLoader": _LOADER, "imp.load_source": _LOADER,
    "zipimport.zipimporter": _LOADER,
    "types.FunctionType": _CODE, "types.CodeType": _CODE,
    "code.interact": _CONSOLE, "code.InteractiveConsole": _CONSOLE,
    "code.InteractiveInterpreter": _CONSOLE,
}

# Importing these at all hands control to native code the analyzer cannot follow.
OPAQUE_MODULES: dict[str, str] = {
    "ctypes": "Uses ctypes, which can call C libraries such as libca directly",
    "_ctypes": "Uses ctypes, which can call C libraries such as libca directly",
    "cffi": "Uses cffi, which can call C libraries such as libca directly",
}

# Modules where looking up an attribute by a computed name could reach
# something dangerous (caput, system, exec, ...).
SENSITIVE_MODULES = (
    *EPICS_ROOTS, "os", "subprocess", "builtins", "sys", "importlib", "pty", "ctypes", "socket",
    "runpy", "pickle", "marshal", "shutil", "asyncio", "posix", "cffi",
)


def is_sensitive_module(qual: str) -> bool:
    if qual.startswith("builtins."):
        return False  # builtins.str, builtins.object: types, not a way to exec
    return any(qual == root or qual.startswith(root + ".") for root in SENSITIVE_MODULES)


BUILTIN_NAMES = frozenset(dir(builtins))

# Calls that store or inspect a callable without calling it, so passing
# caput to them is not a write (the later call through the container is).
INERT_CALLEES = frozenset({
    "builtins.print", "builtins.repr", "builtins.str", "builtins.id", "builtins.type",
    "builtins.isinstance", "builtins.issubclass", "builtins.callable", "builtins.hasattr",
    "builtins.len", "builtins.getattr", "builtins.setattr", "builtins.delattr", "builtins.vars",
    "builtins.dir", "builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset",
    "builtins.dict", "builtins.hash", "builtins.format", "builtins.bool", "builtins.iter",
    "builtins.enumerate", "builtins.zip", "builtins.reversed", "builtins.staticmethod",
    "builtins.classmethod", "builtins.property", "functools.partial", "functools.wraps",
    "functools.update_wrapper", "inspect.signature", "inspect.getsource", "logging.info",
    "logging.debug", "logging.warning", "logging.error",
})
CONTAINER_MUTATORS = frozenset({
    "append", "extend", "insert", "add", "update", "setdefault", "remove", "discard", "index",
    "count", "__setitem__", "appendleft", "extendleft",
})

# ------------------------------------------------------- command-line tools
SHELL_WRITE_TOOLS = frozenset({"caput", "pvput", "pvcall", "caproto-put", "pvxput", "pvxcall"})
SHELL_READ_TOOLS = frozenset({
    "caget", "camonitor", "cainfo", "pvget", "pvmonitor", "pvinfo", "pvlist", "caproto-get",
    "caproto-monitor", "pvxget", "pvxmonitor", "pvxinfo",
})
# Options of the EPICS tools that take a value (so the next word is not a PV).
SHELL_TOOL_OPTIONS_WITH_VALUE = frozenset({"-w", "-e", "-f", "-g", "-#", "-p", "-r", "-M", "-d", "-F"})
SHELL_INTERPRETERS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "csh", "tcsh", "fish"})
PYTHON_INTERPRETERS_PREFIX = ("python", "ipython", "pypy")
# Programs whose arguments are only data (grep caput log.txt mentions the
# word but runs nothing), so their words are not searched for EPICS tools.
SHELL_DATA_PROGRAMS = frozenset({
    "echo", "printf", "grep", "egrep", "fgrep", "rg", "cat", "ls", "find", "sed", "awk", "head", "tail",
    "less", "more", "wc", "sort", "uniq", "cut", "tr", "which", "whereis", "type", "man", "file",
    "stat", "du", "df", "date", "git", "diff", "tee", "touch", "mkdir", "cp", "mv", "rm", "ln",
    "chmod", "pwd", "hostname", "uname", "whoami", "id", "ps", "top", "free", "ping", "true", "false",
})
# Words that run the rest of the line as a command.
SHELL_WRAPPERS = frozenset({"sudo", "env", "nohup", "time", "exec", "nice", "stdbuf", "xargs", "watch", "timeout", "command", "builtin", "ionice", "setsid"})
