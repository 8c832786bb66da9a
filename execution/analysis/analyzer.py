"""Static analysis of agent-written Python: does it write to EPICS?

How it works, in three phases over one parse of the code:

1. *Collect.*  One walk over the AST builds scopes (module, function,
   lambda, class, comprehension), records every binding as an "equation"
   (``target <- expression`` evaluated in a scope), and lists the places
   that may matter later: calls, attribute loads/stores, computed subscripts,
   imports.

2. *Solve.*  The equations are evaluated until nothing changes (a worklist:
   an equation runs again only when a set it read has grown).  Each name holds a set of abstract values (see ``values.py``): the union of
   everything ever assigned to it in its scope.  Calls to functions defined
   in the code bind their parameters from the call sites, and their return
   values flow back.  This is flow-insensitive on purpose: if ``w`` is ever
   ``epics.caput``, every call ``w(...)`` may be a write.  Aliases, wrappers,
   containers, partials and lambdas therefore cannot hide a write.
   Literal strings handed to exec/eval/compile are parsed and folded in
   as more code of the same scope.  All value sets are size-bounded; code
   too intricate to solve within the limits is reported as opaque.

3. *Report.*  Every recorded place is evaluated once more against the
   solved bindings and turned into findings: EPICS writes, reads, and
   "opaque" constructs whose effect cannot be known (fail secure).
"""

from __future__ import annotations

import ast
import gc
import logging
import re
import time
from typing import NamedTuple

from . import catalog, shell
from .catalog import ArgSpec
from .result import KIND_OPAQUE, KIND_READ, KIND_WRITE, CodeAnalysis, Finding, build_analysis
from .values import (
    EMPTY,
    UNKNOWN,
    UNKNOWN_SET,
    AttrGetter,
    Bound,
    BoundUser,
    CodeObj,
    Const,
    EpicsObj,
    GlobalsDict,
    Instance,
    Mapping,
    MethodCaller,
    NamespaceDict,
    Partial,
    Ref,
    Seq,
    Text,
    UserClass,
    UserFunc,
    elements_of,
    make_mapping,
    make_seq,
    make_str,
    make_text,
    string_consts,
)

logger = logging.getLogger(__name__)

MAX_ITERATIONS = 20          # fixpoint rounds; real code settles in 2-4
MAX_SET_SIZE = 200           # beyond this a name stops collecting literals
MAX_EXEC_TREES = 64          # literal exec() strings folded in, in total
MAX_NESTED_ANALYSIS = 3      # python -c "..." inside a shell inside ...
MAX_COMBINATIONS = 16        # literal string combinations kept by + and f-strings
MAX_PARTIAL_ARGS = 8
SOLVE_SECONDS = 2.0          # past this, stop and report the code as too complex (fail secure)
POSSIBLE_WRITE = "treated as a possible EPICS write"

_CONST_TYPES = (str, int, float, bool, type(None), bytes)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_EXEC_BUILTINS = frozenset({"builtins.exec", "builtins.eval", "builtins.compile"})
# Calls that usually call a function handed to them.
_HANDOFF_CALLEES = frozenset({
    "Thread", "Process", "Timer", "submit", "map", "starmap", "imap", "imap_unordered", "apply",
    "apply_async", "run_in_executor", "to_thread", "enter", "enterabs", "call_soon", "call_later",
    "call_at", "call_soon_threadsafe", "start_new_thread", "partial", "filter", "sorted", "max", "min",
})


_ELEMENTWISE_CALLEES = frozenset({"map", "imap", "imap_unordered", "filter", "sorted", "max", "min",
                                  "starmap", "sort"})


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    if type(func) is ast.Name:
        return func.id
    if type(func) is ast.Attribute:
        return func.attr
    return None


# Expressions that can evaluate to a callable (a literal or arithmetic cannot).
_MAYBE_CALLABLE_NODES = (ast.Name, ast.Attribute, ast.Lambda, ast.Subscript, ast.Call, ast.IfExp,
                         ast.BoolOp, ast.NamedExpr, ast.Await)
# Library calls (besides EPICS, shells, opaque ones) that _library_effects reports on.
_REPORTED_LIBRARY_CALLS = frozenset({
    "builtins.exec", "builtins.eval", "builtins.compile", "builtins.__import__", "importlib.import_module",
    "importlib.__import__", "builtins.getattr", "builtins.setattr", "sys.modules.get",
})
# Builtins that can return a callable (getattr(epics, "caput")...).
_CALLABLE_RETURNING_BUILTINS = frozenset({
    "builtins.getattr", "builtins.eval", "builtins.next", "builtins.staticmethod", "builtins.classmethod",
    "builtins.__import__", "builtins.type", "builtins.super", "builtins.iter", "builtins.min", "builtins.max",
})
# Library calls whose *result* the analyzer models (beyond EPICS and builtins).
_SPECIAL_RESULTS = frozenset({"importlib.import_module", "importlib.__import__", "sys.modules.get",
                              "functools.partial", "operator.attrgetter", "operator.methodcaller"})


class Arg(NamedTuple):
    """An argument at a call: its possible values and (if any) its source."""

    values: frozenset
    node: ast.AST | None


class Scope:
    __slots__ = ("kind", "parent", "node", "bindings", "global_names", "nonlocal_names",
                 "imported", "stars", "cls_node")

    def __init__(self, kind: str, parent: "Scope | None", node: ast.AST | None):
        self.kind = kind  # "module" | "function" | "class" | "comprehension"
        self.parent = parent
        self.node = node
        self.bindings: dict[str, set] = {}
        self.global_names: set[str] = set()
        self.nonlocal_names: set[str] = set()
        self.imported: dict[str, str] = {}  # local name -> qualified name, for "imported as"
        self.stars: list[str] = []          # modules star-imported (module scope only)
        self.cls_node: ast.ClassDef | None = None  # class of a method, for super()


class FuncInfo:
    __slots__ = ("node", "scope", "positional", "param_names", "vararg", "returns", "is_generator",
                 "is_static")

    def __init__(self, node, scope):
        self.node = node
        self.scope = scope
        args = node.args
        self.positional = [a.arg for a in args.posonlyargs + args.args]
        self.param_names = set(self.positional) | {a.arg for a in args.kwonlyargs}
        self.vararg = args.vararg.arg if args.vararg else None
        self.returns: set = set()
        self.is_generator = False
        self.is_static = False


class ClassInfo:
    __slots__ = ("node", "scope", "outer")

    def __init__(self, node, scope, outer):
        self.node = node
        self.scope = scope
        self.outer = outer


# Equation opcodes.
EQ_ASSIGN, EQ_ITER, EQ_RET, EQ_CALL, EQ_MUTATE, EQ_DEFAULT, EQ_DECORATE = range(7)


def _one_line(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Analyzer:
    def __init__(self, depth: int = 0):
        self.depth = depth
        self.module = Scope("module", None, None)
        self.equations: list[tuple] = []
        self.calls: list[tuple] = []          # (call node, scope, origin)
        self.attr_loads: list[tuple] = []     # (attribute node, scope, origin)
        self.attr_stores: list[tuple] = []    # (attribute node, value node | None, scope, origin)
        self.subscripts: list[tuple] = []     # (subscript node, scope, origin)
        self.imports: list[tuple] = []        # (node, qualified name, origin)
        self.funcs: dict[ast.AST, FuncInfo] = {}
        self._eval = self._eval_node  # becomes memoised after solving
        self.solved_values: dict[int, object] = {}
        self.classes: dict[ast.AST, ClassInfo] = {}
        self.node_scope: dict[int, Scope] = {}
        self.attr_table: dict[tuple, set] = {}
        self.origin: tuple | None = None      # (exec call node, "exec") while folding exec strings
        self.call_origin: dict[int, tuple | None] = {}
        self.exec_seen: set[tuple] = set()
        self.exec_bad: dict[tuple, str] = {}
        self.exec_parsed: dict[tuple, ast.Module] = {}
        self.exec_over_limit: set[int] = set()
        self.exec_trees = 0
        self.saturated: set[int] = set()
        self.memo: dict[int, object] | None = None
        self.text_memo: dict[int, str] = {}
        self.raw: list[tuple[Finding, Scope | None]] = []
        self.user_calls: list[tuple] = []     # (call node, scope, origin, callee text, [function nodes])
        self.func_stack: list[FuncInfo] = []
        self.const_order: dict[str, int] = {}
        self.unbound_cache: dict[str, frozenset] = {}
        self.solved_callees: dict[int, object] = {}
        self.call_handler: dict[int, int] = {}  # call node -> equation that handles it
        self.stored_attrs: set[str] = set()  # attribute names ever assigned (x.attr = ...)
        self.covered_calls: set[int] = set()
        self.static_flags: dict[int, bool] = {}  # attribute node -> is a constant chain
        self.plain_quals: dict[str, bool] = {}
        self.site_holders: dict[int, dict[int, tuple]] = {}  # container site -> sets holding it
        # Bindings made only by import statements never change while solving,
        # so attribute chains on them (np.linalg.svd) are evaluated once.
        self.static_ids: set[int] = set()
        self.static_cache: dict[int, object] = {}
        self.readers: dict[object, set[int]] = {}  # set key -> equations that read it
        self.dirty: set[int] = set()
        self.current: int | None = None          # equation being solved
        self.incomplete = False                   # solving stopped early
        self.ref_attr_cache: dict[tuple[str, str], frozenset] = {}

    # ================================================================ entry
    def run(self, tree: ast.Module) -> list[Finding]:
        self._body(tree.body, self.module)
        self._solve()
        # Every value computed while solving was recomputed whenever
        # something it read changed, so the last ones are final: reuse them.
        self.memo = self.solved_values
        self._eval = self._eval_memo
        self._report()
        if self.incomplete:
            self.raw.append((Finding(KIND_OPAQUE, 1, 0,
                                     "The code is too intricate for the analyzer to follow to the end — "
                                     f"{POSSIBLE_WRITE}"), None))
        # Findings at the same place come out of sets; order them by where
        # their PV name first appears in the source, so results are stable.
        last = len(self.const_order)
        findings = [finding for finding, _scope in self.raw]
        findings.sort(key=lambda f: (f.line, f.column, self.const_order.get(f.pv, last) if f.pv else last,
                                     f.explanation))
        return findings

    # ============================================================ collection
    def _declare(self, scope: Scope, name: str, by_import: bool = False) -> set:
        owner = self._binding_scope(scope, name)
        binding = owner.bindings.get(name)
        if binding is None:
            binding = owner.bindings[name] = set()
            if by_import:
                self.static_ids.add(id(binding))
        if not by_import:
            self.static_ids.discard(id(binding))
        return binding

    def _binding_scope(self, scope: Scope, name: str) -> Scope:
        if name in scope.global_names:
            return self.module
        if name in scope.nonlocal_names:
            outer = scope.parent
            while outer is not None and outer.kind != "module":
                if outer.kind == "function" and name in outer.bindings:
                    return outer
                outer = outer.parent
            return self.module
        return scope

    def _body(self, statements, scope: Scope) -> None:
        for statement in statements:
            self._stmt(statement, scope)

    def _stmt(self, node: ast.stmt, scope: Scope) -> None:
        kind = type(node)
        if kind is ast.Expr:
            self._expr(node.value, scope)
        elif kind is ast.Assign:
            self._cover(node.value)
            self._expr(node.value, scope)
            for target in node.targets:
                self._target(target, scope, node.value)
                self.equations.append((EQ_ASSIGN, target, node.value, scope, scope))
        elif kind is ast.AugAssign or kind is ast.AnnAssign:
            if node.value is not None:
                self._cover(node.value)
                self._expr(node.value, scope)
                self._target(node.target, scope, node.value)
                self.equations.append((EQ_ASSIGN, node.target, node.value, scope, scope))
            elif type(node.target) is ast.Name:
                self._declare(scope, node.target.id)
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            self._function(node, scope)
        elif kind is ast.ClassDef:
            self._class(node, scope)
        elif kind is ast.Return:
            if node.value is not None:
                if self.func_stack:
                    self._cover(node.value)
                self._expr(node.value, scope)
            if self.func_stack:
                self.equations.append((EQ_RET, self.func_stack[-1], node.value, scope, False))
        elif kind is ast.If or kind is ast.While:
            self._expr(node.test, scope)
            self._body(node.body, scope)
            self._body(node.orelse, scope)
        elif kind is ast.For or kind is ast.AsyncFor:
            self._cover(node.iter)
            self._expr(node.iter, scope)
            self._target(node.target, scope, None)
            self.equations.append((EQ_ITER, node.target, node.iter, scope, scope))
            self._body(node.body, scope)
            self._body(node.orelse, scope)
        elif kind is ast.With or kind is ast.AsyncWith:
            for item in node.items:
                self._expr(item.context_expr, scope)
                if item.optional_vars is not None:
                    # Approximation: __enter__ returns the manager itself.
                    self._target(item.optional_vars, scope, item.context_expr)
                    self.equations.append((EQ_ASSIGN, item.optional_vars, item.context_expr, scope, scope))
            self._body(node.body, scope)
        elif kind is ast.Try or kind is getattr(ast, "TryStar", ast.Try):
            self._body(node.body, scope)
            for handler in node.handlers:
                if handler.type is not None:
                    self._expr(handler.type, scope)
                if handler.name:
                    self._declare(scope, handler.name).add(UNKNOWN)
                self._body(handler.body, scope)
            self._body(node.orelse, scope)
            self._body(node.finalbody, scope)
        elif kind is ast.Import or kind is ast.ImportFrom:
            self._import(node, scope)
        elif kind is ast.Global:
            scope.global_names.update(node.names)
            for name in node.names:
                self.module.bindings.setdefault(name, set())
        elif kind is ast.Nonlocal:
            scope.nonlocal_names.update(node.names)
        elif kind is ast.Match:
            self._expr(node.subject, scope)
            for case in node.cases:
                for sub in ast.walk(case.pattern):
                    name = getattr(sub, "name", None)
                    if isinstance(name, str):
                        self._declare(scope, name).add(UNKNOWN)
                    if type(sub) is ast.MatchValue:
                        self._expr(sub.value, scope)
                if case.guard is not None:
                    self._expr(case.guard, scope)
                self._body(case.body, scope)
        elif kind is ast.Delete:
            for target in node.targets:
                if type(target) is not ast.Name:
                    self._expr(target, scope)
        elif kind is ast.Raise:
            if node.exc is not None:
                self._expr(node.exc, scope)
            if node.cause is not None:
                self._expr(node.cause, scope)
        elif kind is ast.Assert:
            self._expr(node.test, scope)
            if node.msg is not None:
                self._expr(node.msg, scope)
        elif kind is getattr(ast, "TypeAlias", None):
            self._declare(scope, node.name.id)

    def _cover(self, value: ast.AST) -> None:
        """Calls an equation always evaluates (``x = f(a)``, ``f().g()``) are
        handled there and need no call equation of their own."""
        while True:
            kind = type(value)
            if kind is ast.Await:
                value = value.value
            elif kind is ast.Call:
                self.covered_calls.add(id(value))
                value = value.func
            elif kind is ast.Attribute:
                value = value.value
            else:
                return

    def _target(self, target: ast.AST, scope: Scope, value: ast.AST | None) -> None:
        """Declare the names a binding target creates; note attribute stores."""
        kind = type(target)
        if kind is ast.Name:
            self._declare(scope, target.id)
        elif kind is ast.Tuple or kind is ast.List:
            for element in target.elts:
                self._target(element, scope, None)
        elif kind is ast.Starred:
            self._target(target.value, scope, None)
        elif kind is ast.Attribute:
            self.attr_stores.append((target, value, scope, self.origin))
            self.stored_attrs.add(target.attr)
            self._expr(target.value, scope)
        elif kind is ast.Subscript:
            self._note_container_attr(target.value)
            if type(target.slice) is not ast.Constant:
                self.subscripts.append((target, scope, self.origin))
            self._expr(target.value, scope)
            self._expr(target.slice, scope)

    def _note_container_attr(self, container: ast.AST) -> None:
        """``obj.attr[k] = v`` / ``obj.attr.append(v)`` store into obj.attr."""
        while type(container) is ast.Subscript:
            container = container.value
        if type(container) is ast.Attribute:
            self.stored_attrs.add(container.attr)

    def _function(self, node, scope: Scope) -> None:
        for decorator in node.decorator_list:
            self._expr(decorator, scope)
        args = node.args
        for default in args.defaults:
            self._expr(default, scope)
        for default in args.kw_defaults:
            if default is not None:
                self._expr(default, scope)
        self._declare(scope, node.name).add(UserFunc(node))
        for decorator in node.decorator_list:
            self.equations.append((EQ_DECORATE, decorator, node, scope))
        info = self._new_function(node, scope)
        decorators = {d.id for d in node.decorator_list if type(d) is ast.Name}
        if scope.kind == "class":
            info.scope.cls_node = scope.node
            info.is_static = "staticmethod" in decorators
            if info.positional and not info.is_static:
                first = info.scope.bindings[info.positional[0]]
                if "classmethod" in decorators:
                    first.add(UserClass(scope.node))
                else:
                    first.add(Instance(scope.node))
        elif scope.cls_node is not None:
            info.scope.cls_node = scope.cls_node
        self.func_stack.append(info)
        self._body(node.body, info.scope)
        self.func_stack.pop()

    def _new_function(self, node, scope: Scope) -> FuncInfo:
        function_scope = Scope("function", scope, node)
        info = FuncInfo(node, function_scope)
        self.funcs[node] = info
        args = node.args
        for arg in args.posonlyargs + args.args + args.kwonlyargs:
            # Parameters may also be filled by callers the analyzer never sees.
            function_scope.bindings[arg.arg] = {UNKNOWN}
        if args.vararg:
            function_scope.bindings[args.vararg.arg] = {make_seq((UNKNOWN_SET,), False)}
        if args.kwarg:
            function_scope.bindings[args.kwarg.arg] = {make_mapping(((None, UNKNOWN_SET),))}
        positional = args.posonlyargs + args.args
        for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
            self.equations.append((EQ_DEFAULT, arg.arg, default, scope, function_scope))
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            if default is not None:
                self.equations.append((EQ_DEFAULT, arg.arg, default, scope, function_scope))
        return info

    def _lambda(self, node: ast.Lambda, scope: Scope) -> None:
        args = node.args
        for default in args.defaults:
            self._expr(default, scope)
        info = self._new_function(node, scope)
        info.scope.cls_node = scope.cls_node
        self.node_scope[id(node)] = info.scope
        self.func_stack.append(info)
        self._expr(node.body, info.scope)
        self.func_stack.pop()
        self.equations.append((EQ_RET, info, node.body, info.scope, False))

    def _class(self, node: ast.ClassDef, scope: Scope) -> None:
        for decorator in node.decorator_list:
            self._expr(decorator, scope)
        for base in node.bases:
            self._expr(base, scope)
        for keyword in node.keywords:
            self._expr(keyword.value, scope)
        self._declare(scope, node.name).add(UserClass(node))
        class_scope = Scope("class", scope, node)
        class_scope.cls_node = node
        self.classes[node] = ClassInfo(node, class_scope, scope)
        saved = self.func_stack
        self.func_stack = []  # a return in a class body is not the function's
        self._body(node.body, class_scope)
        self.func_stack = saved

    def _import(self, node, scope: Scope) -> None:
        if type(node) is ast.Import:
            for alias in node.names:
                full = alias.name
                if alias.asname:
                    local, qual = alias.asname, catalog.canonical(full)
                else:
                    local = qual = full.split(".")[0]
                self._declare(scope, local, by_import=True).add(Ref(qual))
                scope.imported[local] = catalog.canonical(full)
                self.imports.append((node, full, self.origin))
            return
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                self.module.stars.append(module)
                self.unbound_cache.clear()
                self.imports.append((node, module, self.origin))
                continue
            qual = catalog.canonical(f"{module}.{alias.name}" if module else alias.name)
            local = alias.asname or alias.name
            self._declare(scope, local, by_import=True).add(Ref(qual))
            scope.imported[local] = qual
            self.imports.append((node, qual, self.origin))

    def _expr(self, node: ast.AST, scope: Scope) -> None:
        kind = type(node)
        if kind is ast.Name:
            return
        if kind is ast.Constant:
            # Remember where each literal string first appears, so PV names
            # are listed in source order (sets have no order).
            if type(node.value) is str and node.value not in self.const_order:
                self.const_order[node.value] = len(self.const_order)
            return
        if kind is ast.Call:
            self.calls.append((node, scope, self.origin))
            if self.origin is not None:  # only calls inside exec'd strings have one
                self.call_origin[id(node)] = self.origin
            if id(node) not in self.covered_calls:
                self.equations.append((EQ_CALL, node, scope))
            func = node.func
            if type(func) is ast.Attribute:
                if func.attr in catalog.CONTAINER_MUTATORS:
                    self.equations.append((EQ_MUTATE, node, scope))
                    self._note_container_attr(func.value)
                if type(func.value) is not ast.Name:
                    self._expr(func.value, scope)
            elif type(func) is not ast.Name:
                self._expr(func, scope)
            for arg in node.args:
                if type(arg) is not ast.Name:  # (a Name records nothing)
                    self._expr(arg, scope)
            for keyword in node.keywords:
                if type(keyword.value) is not ast.Name:
                    self._expr(keyword.value, scope)
        elif kind is ast.Attribute:
            if type(node.ctx) is ast.Load:
                self.attr_loads.append((node, scope, self.origin))
            if type(node.value) is not ast.Name:
                self._expr(node.value, scope)
        elif kind is ast.Subscript:
            if type(node.slice) is not ast.Constant:
                self.subscripts.append((node, scope, self.origin))
            if type(node.value) is not ast.Name:
                self._expr(node.value, scope)
            if type(node.slice) is not ast.Name:
                self._expr(node.slice, scope)
        elif kind is ast.BinOp:
            if type(node.left) is not ast.Name:
                self._expr(node.left, scope)
            if type(node.right) is not ast.Name:
                self._expr(node.right, scope)
        elif kind is ast.Tuple or kind is ast.List or kind is ast.Set:
            for element in node.elts:
                if type(element) is not ast.Name:
                    self._expr(element, scope)
        elif kind is ast.Dict:
            for key in node.keys:
                if key is not None:
                    self._expr(key, scope)
            for value in node.values:
                self._expr(value, scope)
        elif kind is ast.Compare:
            self._expr(node.left, scope)
            for comparator in node.comparators:
                self._expr(comparator, scope)
        elif kind is ast.BoolOp:
            for value in node.values:
                self._expr(value, scope)
        elif kind is ast.UnaryOp or kind is ast.Starred or kind is ast.Await:
            self._expr(node.operand if kind is ast.UnaryOp else node.value, scope)
        elif kind is ast.JoinedStr:
            for value in node.values:
                self._expr(value, scope)
        elif kind is ast.FormattedValue:
            self._expr(node.value, scope)
            if node.format_spec is not None:
                self._expr(node.format_spec, scope)
        elif kind is ast.IfExp:
            self._expr(node.test, scope)
            self._expr(node.body, scope)
            self._expr(node.orelse, scope)
        elif kind is ast.Lambda:
            self._lambda(node, scope)
        elif kind in _COMPREHENSIONS:
            self._comprehension(node, scope)
        elif kind is ast.NamedExpr:
            self._expr(node.value, scope)
            bind_scope = scope
            while bind_scope.kind == "comprehension":
                bind_scope = bind_scope.parent
            self._declare(bind_scope, node.target.id)
            self.equations.append((EQ_ASSIGN, node.target, node.value, scope, bind_scope))
        elif kind is ast.Yield or kind is ast.YieldFrom:
            if node.value is not None:
                self._expr(node.value, scope)
                if self.func_stack:
                    self.func_stack[-1].is_generator = True
                    self.equations.append((EQ_RET, self.func_stack[-1], node.value, scope, kind is ast.YieldFrom))
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self._expr(child, scope)

    def _comprehension(self, node, scope: Scope) -> None:
        comp_scope = Scope("comprehension", scope, node)
        comp_scope.cls_node = scope.cls_node
        self.node_scope[id(node)] = comp_scope
        for position, generator in enumerate(node.generators):
            # The first iterable is evaluated in the enclosing scope.
            iter_scope = scope if position == 0 else comp_scope
            self._expr(generator.iter, iter_scope)
            for sub in ast.walk(generator.target):
                if type(sub) is ast.Name:
                    comp_scope.bindings.setdefault(sub.id, set())
            self.equations.append((EQ_ITER, generator.target, generator.iter, iter_scope, comp_scope))
            for condition in generator.ifs:
                self._expr(condition, comp_scope)
        if type(node) is ast.DictComp:
            self._expr(node.key, comp_scope)
            self._expr(node.value, comp_scope)
        else:
            self._expr(node.elt, comp_scope)

    # ================================================================ solving
    def _solve(self) -> None:
        """Worklist fixpoint: every equation runs once, then again only when
        a set it read (a name's values, an attribute table entry, a function's
        returns) has grown since."""
        # Call equations go last: most calls are evaluated (and handled) as
        # part of an assignment first, and then need no separate pass.
        self.equations.sort(key=lambda equation: equation[0] == EQ_CALL)
        self.dirty = set(range(len(self.equations)))
        budget = MAX_ITERATIONS * max(len(self.equations), 1)
        deadline = time.perf_counter() + SOLVE_SECONDS
        applied = 0
        while self.dirty:
            batch = sorted(self.dirty)
            self.dirty = set()
            for index in batch:
                self.current = index
                self._apply(self.equations[index])
                applied += 1
                if self.incomplete or applied > budget or (applied % 256 == 0 and time.perf_counter() > deadline):
                    # Results so far may be incomplete: say so (fail secure).
                    self.incomplete = True
                    self.dirty = set()
                    break
        self.current = None

    def _unstatic(self, target: set, values) -> None:
        """A name bound only by imports gets another value after all (e.g.
        ``module[k] = v``): stop treating it as constant, re-solve all."""
        if set(values) <= target:
            return
        self.static_ids.discard(id(target))
        self.static_cache.clear()
        self.dirty |= set(range(len(self.equations)))

    def _depends(self, key) -> None:
        """The equation being solved read the set known by ``key``."""
        readers = self.readers.get(key)
        if readers is None:
            self.readers[key] = {self.current}
        else:
            readers.add(self.current)

    def _add(self, target: set, values, key=None) -> None:
        if id(target) in self.static_ids:
            self._unstatic(target, values)
        before = len(target)
        if id(target) in self.saturated:
            values = [v for v in values if _worth_keeping(v)]
        target.update(values)
        if len(target) != before:
            for value in values:
                if type(value) in (Seq, Mapping) and value.site:
                    holders = self.site_holders.get(value.site)
                    if holders is None:
                        holders = self.site_holders[value.site] = {}
                    holders[id(target)] = (target, key)
            readers = self.readers.get(id(target) if key is None else key)
            if readers:
                self.dirty |= readers
            if len(target) > MAX_SET_SIZE:
                if id(target) not in self.saturated:
                    # Too many values to track: keep what can matter (EPICS
                    # objects and names, the code's functions, modules that
                    # run things) and say "unknown" for the rest.
                    self.saturated.add(id(target))
                    keep = {v for v in target if _worth_keeping(v)}
                    target.clear()
                    target.update(keep)
                    target.add(UNKNOWN)
                if len(target) > 4 * MAX_SET_SIZE:
                    # Even what matters keeps growing: give up, fail secure.
                    self.incomplete = True

    def _apply(self, equation: tuple) -> None:
        op = equation[0]
        if op == EQ_CALL:
            self._apply_call(equation[1], equation[2])
        elif op == EQ_ASSIGN:
            _op, target, value, eval_scope, bind_scope = equation
            self._bind(target, self._eval(value, eval_scope), bind_scope)
        elif op == EQ_ITER:
            _op, target, iterable, eval_scope, bind_scope = equation
            self._bind(target, elements_of(self._eval(iterable, eval_scope)), bind_scope)
        elif op == EQ_RET:
            _op, info, value, scope, is_yield_from = equation
            values = {Const(None)} if value is None else self._eval(value, scope)
            if is_yield_from:
                values = elements_of(values)
            self._add(info.returns, values)
        elif op == EQ_MUTATE:
            self._apply_mutation(equation[1], equation[2])
        elif op == EQ_DECORATE:
            # @decorator def f: the decorator is called with f, and the name
            # f may then hold whatever it returns (a wrapper, f itself...).
            _op, decorator, function, scope = equation
            argument = [Arg(frozenset((UserFunc(function),)), None)]
            binding = self._declare(scope, function.name)
            for value in self._eval(decorator, scope):
                if type(value) is UserFunc:
                    self._bind_param_values(value.node, None, argument)
                    self._add(binding, self._returns(value.node))
                elif type(value) is BoundUser:
                    self._bind_param_values(value.func.node, value.instance, argument)
                    self._add(binding, self._returns(value.func.node))
        elif op == EQ_DEFAULT:
            _op, name, default, outer, function_scope = equation
            self._add(function_scope.bindings[name], self._eval(default, outer))

    def _bind(self, target: ast.AST, values, scope: Scope) -> None:
        kind = type(target)
        if kind is ast.Name:
            owner = self._binding_scope(scope, target.id)
            binding = owner.bindings.get(target.id)
            if binding is None:
                binding = owner.bindings[target.id] = set()
            self._add(binding, values)
        elif kind is ast.Tuple or kind is ast.List:
            elements = target.elts
            has_star = any(type(e) is ast.Starred for e in elements)
            for position, element in enumerate(elements):
                parts: set = set()
                for value in values:
                    if (type(value) is Seq and value.exact and not has_star
                            and len(value.items) == len(elements)):
                        parts |= value.items[position]
                    else:
                        parts |= elements_of((value,))
                if type(element) is ast.Starred:
                    self._bind(element.value, {make_seq((frozenset(parts),), False)}, scope)
                else:
                    self._bind(element, parts or UNKNOWN_SET, scope)
        elif kind is ast.Starred:
            self._bind(target.value, values, scope)
        elif kind is ast.Attribute:
            for key in self._attr_keys(target, scope):
                table = self.attr_table.get(key)
                if table is None:
                    table = self.attr_table[key] = set()
                self._add(table, values, key)
        elif kind is ast.Subscript:
            # container[key] = value: the container now may hold value.
            key_values = self._eval(target.slice, scope)
            literal = [v.value for v in key_values if type(v) is Const]
            if len(literal) == len(key_values):
                for base in self._eval(target.value, scope):
                    if type(base) is GlobalsDict:  # globals()["w"] = caput defines w
                        self._bind_global_name(base.scope, literal, values)
            if literal and len(literal) == len(key_values):
                mapping = make_mapping(tuple((k, frozenset(values)) for k in literal))
            else:
                mapping = make_mapping(((None, frozenset(values)),))
            self._bind_container(target.value, {mapping}, scope)

    def _bind_global_name(self, scope: Scope, names, values) -> None:
        for name in names:
            if not isinstance(name, str):
                continue
            binding = scope.bindings.get(name)
            if binding is None:
                # A name no statement defines: everything that looked it up
                # (and found nothing) has to be evaluated again.
                binding = scope.bindings[name] = set()
                self.unbound_cache.clear()
                self.static_cache.clear()
                self.dirty |= set(range(len(self.equations)))
            self._add(binding, values)

    def _attr_keys(self, target: ast.Attribute, scope: Scope) -> list[tuple]:
        """Where an attribute store is remembered: per user class, and per
        variable name (so ``cfg.pv = PV(...); cfg.pv.put(1)`` is followed)."""
        keys = []
        for value in self._eval(target.value, scope):
            if type(value) is Instance:
                keys.append(("cls", value.cls, target.attr))
            elif type(value) is UserClass:
                keys.append(("cls", value.node, target.attr))
        if type(target.value) is ast.Name:
            keys.append(self._name_key(scope, target.value.id, target.attr))
        return keys

    def _name_key(self, scope: Scope, name: str, attr: str) -> tuple:
        owner = self._owner(scope, name) or self.module
        return ("name", id(owner), name, attr)

    def _apply_mutation(self, node: ast.Call, scope: Scope) -> None:
        """``fns.append(caput)`` and friends: the container may now hold it."""
        method = node.func.attr
        args = node.args
        if not args:
            return
        if method in ("append", "add", "appendleft"):
            values = self._eval(args[0], scope)
            new = make_seq((frozenset(values),), False)
        elif method == "insert" and len(args) > 1:
            new = make_seq((frozenset(self._eval(args[1], scope)),), False)
        elif method in ("extend", "extendleft"):
            new = make_seq((frozenset(elements_of(self._eval(args[0], scope))),), False)
        elif method in ("update",):
            new_values = set()
            for value in self._eval(args[0], scope):
                if type(value) is Mapping:
                    new_values.add(value)
            if not new_values:
                return
            self._bind_container(node.func.value, new_values, scope)
            return
        elif method == "setdefault" and len(args) > 1:
            keys = [v.value for v in self._eval(args[0], scope) if type(v) is Const]
            values = frozenset(self._eval(args[1], scope))
            new = make_mapping(tuple((k, values) for k in keys) or ((None, values),))
        else:
            return
        self._bind_container(node.func.value, {new}, scope)

    def _bind_container(self, container: ast.AST, values, scope: Scope) -> None:
        """Record that an existing container now may hold ``values``.
        ``x[k] = v`` / ``x.append(v)`` do not make ``x`` local: the
        container is found by normal name resolution.  Every other name
        holding the same container (``alias = x``) sees the change too."""
        for existing in tuple(self._eval(container, scope)):  # (may be the set we add to)
            if type(existing) in (Seq, Mapping) and existing.site:
                for holder, key in list(self.site_holders.get(existing.site, {}).values()):
                    self._add(holder, values, key)
        if type(container) is ast.Name:
            owner = self._owner(scope, container.id) or self.module
            binding = owner.bindings.get(container.id)
            if binding is None:
                binding = owner.bindings[container.id] = set()
            self._add(binding, values)
        elif type(container) in (ast.Attribute, ast.Subscript):
            self._bind(container, values, scope)

    def _apply_call(self, node: ast.Call, scope: Scope, callees=None) -> None:
        if callees is None:
            handler = self.call_handler.get(id(node))
            if handler is not None and handler != self.current:
                # Already handled while another equation evaluated this call;
                # that equation re-runs (and redoes it) when anything changes.
                return
            callees = self._eval(node.func, scope)
        # Kept for the report: when solving ends no equation is stale, so
        # the last value computed here is final.
        self.solved_callees[id(node)] = callees
        self.call_handler.setdefault(id(node), self.current)
        for callee in callees:
            kind = type(callee)
            if kind is UserFunc:
                self._bind_params(callee.node, None, node, scope)
            elif kind is BoundUser:
                self._bind_params(callee.func.node, callee.instance, node, scope)
            elif kind is UserClass:
                instance = Instance(callee.node)
                for init in self._class_attr(callee.node, "__init__", instance):
                    if type(init) is BoundUser:
                        self._bind_params(init.func.node, instance, node, scope)
            elif kind is Partial:
                inner = callee.func
                if type(inner) in (UserFunc, BoundUser):
                    function = inner.node if type(inner) is UserFunc else inner.func.node
                    instance = inner.instance if type(inner) is BoundUser else None
                    self._bind_params(function, instance, node, scope, prefix=callee.args)
            elif kind is Ref and callee.qual in _EXEC_BUILTINS:
                self._fold_exec(node, scope)
        # A user function handed to a library call (Thread(target=f, args=...),
        # executor.submit(f, x), map(f, xs)) gets its parameters from there.
        # Only for the usual hand-off calls: this just names PVs better (the
        # writes inside the function are found either way) and keeps solving fast.
        if _called_name(node) in _HANDOFF_CALLEES and self._may_call_arguments(callees, node):
            for position, value, _node in self._handoff_candidates(node, scope, self._handoff_user):
                args = self._handoff_args(node, scope, position)
                if type(value) is UserFunc:
                    self._bind_param_values(value.node, None, args)
                else:
                    self._bind_param_values(value.func.node, value.instance, args)

    def _bind_params(self, function: ast.AST, instance, node: ast.Call, scope: Scope, prefix=()) -> None:
        args = list(prefix)
        for arg in node.args:
            if type(arg) is ast.Starred:
                args.append(Arg(elements_of(self._eval(arg.value, scope)), None))
            else:
                args.append(Arg(self._eval(arg, scope), arg))
        self._bind_param_values(function, instance, args)
        info = self.funcs.get(function)
        if info is None:
            return
        for keyword in node.keywords:
            if keyword.arg is not None and keyword.arg in info.param_names:
                self._add(info.scope.bindings[keyword.arg], self._eval(keyword.value, scope))

    def _bind_param_values(self, function: ast.AST, instance, args: list[Arg]) -> None:
        info = self.funcs.get(function)
        if info is None:
            return
        if instance is not None and not info.is_static:
            args = [Arg(frozenset((instance,)), None)] + list(args)
        for position, arg in enumerate(args):
            if position < len(info.positional):
                self._add(info.scope.bindings[info.positional[position]], arg.values)
            elif info.vararg:
                self._add(info.scope.bindings[info.vararg], {make_seq((frozenset(arg.values),), False)})

    def _fold_exec(self, node: ast.Call, scope: Scope) -> None:
        """exec("literal code"): parse it and analyse it as code of this scope."""
        if not node.args:
            return
        for value in self._eval(node.args[0], scope):
            if type(value) is not Const or not isinstance(value.value, (str, bytes)):
                continue
            source = value.value
            if isinstance(source, bytes):
                source = source.decode("utf-8", "replace")
            key = (id(node), source)
            if key in self.exec_seen:
                continue
            self.exec_seen.add(key)
            if self.exec_trees >= MAX_EXEC_TREES:
                self.exec_over_limit.add(id(node))
                continue
            try:
                tree = ast.parse(source)
            except (SyntaxError, ValueError) as error:
                self.exec_bad[key] = getattr(error, "msg", str(error))
                continue
            self.exec_trees += 1
            self.exec_parsed[key] = tree
            outer = self.call_origin.get(id(node))
            saved_origin, saved_stack = self.origin, self.func_stack
            self.origin = outer or (node, self._callee_name(node))
            self.func_stack = [] if scope.kind != "function" else saved_stack
            self._body(tree.body, scope)
            self.origin, self.func_stack = saved_origin, saved_stack
            # New bindings may change what existing names resolve to.
            self.unbound_cache.clear()
            self.static_cache.clear()
            self.dirty |= set(range(len(self.equations)))

    @staticmethod
    def _callee_name(node: ast.Call) -> str:
        func = node.func
        if type(func) is ast.Name:
            return func.id
        if type(func) is ast.Attribute:
            return func.attr
        return "exec"

    # ============================================================= evaluation
    def _owner(self, scope: Scope, name: str) -> Scope | None:
        current = scope
        while current is not None:
            if name in current.global_names:
                return self.module if name in self.module.bindings else None
            # Class bodies are not visible from the functions inside them.
            if (current is scope or current.kind != "class") and name in current.bindings:
                return current
            current = current.parent
        return None

    def _lookup(self, scope: Scope, name: str):
        # Fast path: a local name (the common case) needs no scope walk.
        binding = scope.bindings.get(name) if not scope.global_names else None
        if binding is None:
            owner = self._owner(scope, name)
            if owner is None:
                return self._unbound_name(name)
            binding = owner.bindings[name]
        current = self.current
        if current is not None and id(binding) not in self.static_ids:
            readers = self.readers.get(id(binding))
            if readers is None:
                self.readers[id(binding)] = {current}
            else:
                readers.add(current)
        return binding

    def _is_plain_library(self, qual: str) -> bool:
        """A library name whose call result and side effects during solving
        the analyzer does not model (its effects are checked when reporting)."""
        plain = self.plain_quals.get(qual)
        if plain is None:
            plain = self.plain_quals[qual] = not (
                qual in _SPECIAL_RESULTS or qual in _EXEC_BUILTINS or qual.startswith("builtins.")
                or catalog.is_epics_name(qual) or qual.endswith((".__getattribute__", ".__getattr__"))
                or qual == "builtins")
        return plain

    def _is_static_chain(self, node: ast.Attribute, scope: Scope) -> bool:
        """``a.b.c`` where ``a`` is bound only by imports and no attribute in
        the chain is ever assigned anywhere: its value cannot change."""
        while type(node) is ast.Attribute:
            if node.attr in self.stored_attrs:
                return False
            node = node.value
        if type(node) is not ast.Name:
            return False
        owner = self._owner(scope, node.id)
        return owner is not None and id(owner.bindings[node.id]) in self.static_ids

    def _unbound_name(self, name: str):
        """A name assigned nowhere: star imports, then builtins."""
        cached = self.unbound_cache.get(name)
        if cached is None:
            cached = self.unbound_cache[name] = self._resolve_unbound(name)
        return cached

    def _resolve_unbound(self, name: str):
        for module in self.module.stars:
            if catalog.is_epics_name(module):
                if name not in catalog.BUILTIN_NAMES:
                    # Fail secure: an undefined name after "from epics import *"
                    # most likely comes from epics.
                    return frozenset((Ref(catalog.canonical(f"{module}.{name}")),))
            else:
                qual = f"{module}.{name}"
                if qual in catalog.FUNCTIONS or qual in catalog.SHELL_RUNNERS or qual in catalog.OPAQUE_FUNCTIONS:
                    return frozenset((Ref(qual),))
        if name in catalog.BUILTIN_NAMES:
            return frozenset((Ref("builtins." + name),))
        if name == "__builtins__":
            return frozenset((Ref("builtins"),))
        return UNKNOWN_SET

    def _eval_memo(self, node: ast.AST, scope: Scope):
        """Evaluation once solving is done: bindings no longer change."""
        memo = self.memo
        cached = memo.get(id(node))
        if cached is None:
            cached = memo[id(node)] = self._eval_node(node, scope)
        return cached

    def _eval_node(self, node: ast.AST, scope: Scope):
        kind = type(node)
        if kind is ast.Name:
            # Inlined fast path of _lookup for a name bound only by imports.
            binding = scope.bindings.get(node.id) if not scope.global_names else None
            if binding is not None and id(binding) in self.static_ids:
                return binding
            return self._lookup(scope, node.id)
        if kind is ast.Constant:
            return frozenset((Const(node.value),)) if isinstance(node.value, _CONST_TYPES) else UNKNOWN_SET
        if kind is ast.Attribute:
            key = id(node)
            cached = self.static_cache.get(key)
            if cached is not None:
                return cached
            static = self.static_flags.get(key)
            if static is None:
                static = self.static_flags[key] = self._is_static_chain(node, scope)
            bases = self._eval(node.value, scope)
            if len(bases) == 1:
                for base in bases:
                    out = self._attr(base, node.attr)
            else:
                out = set()
                for base in bases:
                    out |= self._attr(base, node.attr)
            if type(node.value) is ast.Name and node.attr in self.stored_attrs:
                table_key = self._name_key(scope, node.value.id, node.attr)
                if self.current is not None:
                    self._depends(table_key)
                stored = self.attr_table.get(table_key)
                if stored:
                    out = out | stored
            result = out or UNKNOWN_SET
            if static:
                self.static_cache[key] = result
            self.solved_values[key] = result
            return result
        if kind is ast.Call:
            callees = self._eval(node.func, scope)
            if len(callees) == 1 and _called_name(node) not in _HANDOFF_CALLEES:
                # Fast path for the bulk of calls (np.sqrt(x), log.info(...)):
                # an ordinary library function or something untracked needs
                # no bookkeeping and returns nothing the analyzer follows.
                for callee in callees:
                    if callee is UNKNOWN or (type(callee) is Ref and self._is_plain_library(callee.qual)):
                        node_id = id(node)
                        self.solved_callees[node_id] = callees
                        if self.current is not None:
                            self.call_handler.setdefault(node_id, self.current)
                        self.solved_values[node_id] = UNKNOWN_SET
                        return UNKNOWN_SET
            if self.current is not None:
                # Solving: do this call's bookkeeping (parameter binding...)
                # here, so its own equation need not evaluate the callee again.
                self._apply_call(node, scope, callees)
            if len(callees) == 1:
                for callee in callees:
                    result = self._call_result(callee, node, scope)
            else:
                result = set()
                for callee in callees:
                    result |= self._call_result(callee, node, scope)
            result = result or UNKNOWN_SET
            self.solved_values[id(node)] = result
            return result
        if kind is ast.Subscript:
            bases = self._eval(node.value, scope)
            if type(node.slice) is ast.Slice:
                return bases  # a slice of a container holds the same things
            keys = self._eval(node.slice, scope)
            out = set()
            for base in bases:
                out |= self._subscript(base, keys)
            return out or UNKNOWN_SET
        if kind is ast.List or kind is ast.Tuple or kind is ast.Set:
            if kind is not ast.Set and not any(type(e) is ast.Starred for e in node.elts):
                return frozenset((make_seq(tuple(frozenset(self._eval(e, scope)) for e in node.elts), True,
                                           id(node)),))
            merged: set = set()
            for element in node.elts:
                if type(element) is ast.Starred:
                    merged |= elements_of(self._eval(element.value, scope))
                else:
                    merged |= self._eval(element, scope)
            return frozenset((make_seq((frozenset(merged),), False, id(node)),))
        if kind is ast.Dict:
            items = []
            for key, value in zip(node.keys, node.values):
                if key is None:  # {**other}
                    for inner in self._eval(value, scope):
                        if type(inner) is Mapping:
                            items.extend(inner.items)
                    continue
                values = frozenset(self._eval(value, scope))
                if type(key) is ast.Constant and isinstance(key.value, (str, int, float, bool)):
                    items.append((key.value, values))
                else:
                    items.append((None, values))
            return frozenset((make_mapping(tuple(items), id(node)),))
        if kind is ast.JoinedStr:
            return self._fstring(node, scope)
        if kind is ast.BinOp:
            if type(node.op) is ast.Add:
                return self._concat(self._eval(node.left, scope), self._eval(node.right, scope))
            if type(node.op) is ast.Mod:
                return self._percent(node, scope)
            return UNKNOWN_SET
        if kind is ast.IfExp:
            return frozenset(self._eval(node.body, scope)) | frozenset(self._eval(node.orelse, scope))
        if kind is ast.BoolOp:
            out = set()
            for value in node.values:
                out |= self._eval(value, scope)
            return out
        if kind is ast.NamedExpr or kind is ast.Await or kind is ast.Starred:
            return self._eval(node.value, scope)
        if kind is ast.Lambda:
            return frozenset((UserFunc(node),))
        if kind is ast.DictComp:
            comp_scope = self.node_scope.get(id(node))
            if comp_scope is None:
                return UNKNOWN_SET
            return frozenset((make_mapping(((None, frozenset(self._eval(node.value, comp_scope))),), id(node)),))
        if kind in _COMPREHENSIONS:
            comp_scope = self.node_scope.get(id(node))
            if comp_scope is None:
                return UNKNOWN_SET
            return frozenset((make_seq((frozenset(self._eval(node.elt, comp_scope)),), False, id(node)),))
        return UNKNOWN_SET

    # ---------------------------------------------------------------- strings
    def _fstring(self, node: ast.JoinedStr, scope: Scope):
        combos = [""]
        fragments: list[str] = []
        known = True
        for part in node.values:
            if type(part) is ast.Constant:
                text = str(part.value)
                fragments.append(text)
                combos = [c + text for c in combos]
                continue
            values = self._eval(part.value, scope)
            consts = [v.value for v in values if type(v) is Const and isinstance(v.value, (str, int, float))]
            texts = [f for v in values if type(v) is Text for f in v.fragments]
            fragments.extend(str(c) for c in consts)
            fragments.extend(texts)
            if (known and part.conversion == -1 and part.format_spec is None and consts
                    and len(consts) == len(values) and len(combos) * len(consts) <= MAX_COMBINATIONS):
                combos = [c + str(x) for c in combos for x in consts]
            else:
                known = False
        if known:
            return frozenset(make_str(c) for c in combos)
        return frozenset((make_text(fragments),))

    def _concat(self, left, right):
        out: set = set()
        left_strings = string_consts(left)
        right_strings = string_consts(right)
        if (left_strings is not None and right_strings is not None
                and len(left_strings) * len(right_strings) <= MAX_COMBINATIONS):
            return frozenset(make_str(a + b) for a in left_strings for b in right_strings)
        fragments: list[str] = []
        for side in (left, right):
            for value in side:
                if type(value) is Const and isinstance(value.value, str):
                    fragments.append(value.value)
                elif type(value) is Text:
                    fragments.extend(value.fragments)
        left_seqs = [a for a in left if type(a) is Seq]
        right_seqs = [b for b in right if type(b) is Seq]
        if left_seqs and right_seqs:
            if len(left_seqs) * len(right_seqs) <= MAX_COMBINATIONS:
                for a in left_seqs:
                    for b in right_seqs:
                        out.add(make_seq(a.items + b.items, a.exact and b.exact))
            else:  # too many combinations: "a list of any of these"
                merged = elements_of(left_seqs) | elements_of(right_seqs)
                out.add(make_seq((frozenset(merged),), False))
        if fragments:
            out.add(make_text(fragments))
        return frozenset(out) if out else UNKNOWN_SET

    def _percent(self, node: ast.BinOp, scope: Scope):
        lefts = string_consts(self._eval(node.left, scope))
        if not lefts:
            return UNKNOWN_SET
        rights = self._eval(node.right, scope)
        out: set = set()
        for template in lefts[:MAX_COMBINATIONS]:
            formatted = None
            if len(rights) == 1:
                (right,) = tuple(rights)
                argument = None
                if type(right) is Const:
                    argument = right.value
                elif type(right) is Seq and right.exact:
                    parts = [_single_literal(item) for item in right.items]
                    if all(p is not _NO_LITERAL for p in parts):
                        argument = tuple(parts)
                if argument is not None:
                    try:
                        formatted = template % argument
                    except (TypeError, ValueError, KeyError):
                        formatted = None
            if formatted is not None:
                out.add(make_str(formatted))
            else:
                pieces = re.split(r"%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]", template)
                out.add(make_text(pieces))
        return frozenset(out)

    def _str_method(self, text: str, name: str, node: ast.Call, scope: Scope):
        args = node.args
        if name == "join" and args:
            out: set = set()
            for value in self._eval(args[0], scope):
                if type(value) is Seq and value.exact:
                    parts = [string_consts(item) for item in value.items]
                    if all(p is not None and len(p) == 1 for p in parts):
                        out.add(make_str(text.join(p[0] for p in parts)))
                        continue
                fragments = [text] + [v.value for v in elements_of((value,))
                                      if type(v) is Const and isinstance(v.value, str)]
                out.add(make_text(fragments))
            return out or UNKNOWN_SET
        if name == "format":
            literals = [_single_literal(self._eval(a, scope)) for a in args]
            if not node.keywords and all(v is not _NO_LITERAL for v in literals):
                try:
                    return frozenset((make_str(text.format(*literals)),))
                except (IndexError, KeyError, ValueError):
                    pass
            return frozenset((make_text(re.split(r"\{[^}]*\}", text)),))
        if name in ("split", "rsplit") and len(args) <= 1 and not node.keywords:
            separator = None
            if args:
                separators = string_consts(self._eval(args[0], scope))
                if not separators or len(separators) != 1:
                    return UNKNOWN_SET
                separator = separators[0]
            parts = text.split(separator)
            return frozenset((make_seq(tuple(frozenset((Const(p),)) for p in parts), True),))
        if name in ("strip", "lstrip", "rstrip", "lower", "upper", "title") and not args:
            return frozenset((Const(getattr(text, name)()),))
        if name == "replace" and len(args) == 2:
            old = string_consts(self._eval(args[0], scope))
            new = string_consts(self._eval(args[1], scope))
            if old and new and len(old) == 1 and len(new) == 1:
                return frozenset((make_str(text.replace(old[0], new[0])),))
        if name in ("encode", "decode"):
            return frozenset((Const(text),))
        return UNKNOWN_SET

    # ------------------------------------------------------------ attributes
    def _attr(self, value, name: str):
        kind = type(value)
        if name == "__call__" and kind is not Instance and kind is not UserClass:
            return frozenset((value,))  # f.__call__ is f
        if kind is EpicsObj and name == "__class__" and value.via:
            return frozenset((Ref(value.via),))
        if kind is Ref:
            key = (value.qual, name)
            cached = self.ref_attr_cache.get(key)
            if cached is None:
                if name == "__dict__":
                    cached = frozenset((NamespaceDict(value.qual),))
                else:
                    cached = _child_ref(value.qual, name)
                self.ref_attr_cache[key] = cached
            return cached
        if kind is EpicsObj:
            return frozenset((Bound(value, name), UNKNOWN))
        if kind is Instance:
            return self._class_attr(value.cls, name, value)
        if kind is UserClass:
            return self._class_attr(value.node, name, None)
        if kind in (Seq, Mapping, Const, NamespaceDict, GlobalsDict, Text, CodeObj) and name in _MODELLED_METHODS:
            return frozenset((Bound(value, name),))
        return UNKNOWN_SET

    def _class_attr(self, cls: ast.ClassDef, name: str, instance, seen=None):
        out: set = set()
        found = self._user_class_attr(cls, name, instance, out, seen or set())
        if not found:
            for kind in self._epics_bases(cls):
                # An EPICS class the user derived from supplies it.
                out.add(Bound(EpicsObj(kind, (), cls.name, "", True), name))
        out.add(UNKNOWN)
        return out

    def _user_class_attr(self, cls, name, instance, out: set, seen: set) -> bool:
        if cls in seen:
            return False
        seen.add(cls)
        info = self.classes.get(cls)
        if info is None:
            return False
        found = False
        defined = info.scope.bindings.get(name)
        if defined is not None and self.current is not None:
            self._depends(id(defined))
        if defined:
            found = True
            for value in defined:
                if instance is not None and type(value) is UserFunc and not self._is_static(value):
                    out.add(BoundUser(instance, value))
                else:
                    out.add(value)
        if self.current is not None:
            self._depends(("cls", cls, name))
        stored = self.attr_table.get(("cls", cls, name))
        if stored:
            found = True
            out |= stored
        for base in self._class_bases(info):
            if type(base) is UserClass:
                found = self._user_class_attr(base.node, name, instance, out, seen) or found
        return found

    def _is_static(self, func: UserFunc) -> bool:
        info = self.funcs.get(func.node)
        return info is not None and info.is_static

    def _class_bases(self, info: ClassInfo):
        out: set = set()
        for base in info.node.bases:
            out |= self._eval(base, info.outer)
        return out

    def _epics_bases(self, cls: ast.ClassDef, seen=None) -> list[str]:
        """Object kinds of EPICS classes among the (transitive) bases."""
        seen = seen or set()
        if cls in seen or cls not in self.classes:
            return []
        seen.add(cls)
        kinds = []
        for base in self._class_bases(self.classes[cls]):
            if type(base) is Ref and catalog.is_epics_name(base.qual):
                kinds.append(catalog.epics_object_kind_for_class(base.qual))
            elif type(base) is UserClass:
                kinds.extend(self._epics_bases(base.node, seen))
        return kinds

    def _subscript(self, base, keys):
        kind = type(base)
        literal = [v.value for v in keys if type(v) is Const]
        all_literal = len(literal) == len(keys)
        if kind is Seq:
            if not base.items:
                return UNKNOWN_SET
            if not base.exact:
                return base.items[0]
            if all_literal and all(type(k) is int for k in literal):
                out: set = set()
                for index in literal:
                    if -len(base.items) <= index < len(base.items):
                        out |= base.items[index]
                return out or UNKNOWN_SET
            out = set()
            for item in base.items:
                out |= item
            return out
        if kind is Mapping:
            out = set()
            for key, item in base.items:
                if key is None or not all_literal or key in literal:
                    out |= item
            return out or UNKNOWN_SET
        if kind is NamespaceDict:
            if all_literal:
                out = set()
                for key in literal:
                    if isinstance(key, str):
                        out |= _child_ref(base.qual, key)
                return out or UNKNOWN_SET
            return UNKNOWN_SET
        if kind is GlobalsDict:
            if all_literal:
                out = set()
                for key in literal:
                    if isinstance(key, str):
                        out |= self._lookup(base.scope, key)
                return out or UNKNOWN_SET
            return UNKNOWN_SET
        if kind is Ref and base.qual == "sys.modules":
            if all_literal:
                return frozenset(Ref(catalog.canonical(k)) for k in literal if isinstance(k, str))
        if kind is Ref and base.qual == "builtins":  # __builtins__["exec"]
            if all_literal:
                return frozenset(Ref(f"builtins.{k}") for k in literal if isinstance(k, str))
        return UNKNOWN_SET

    # ----------------------------------------------------------------- calls
    def _call_result(self, callee, node: ast.Call, scope: Scope):
        """What a call returns (effects are reported separately)."""
        kind = type(callee)
        if kind is Ref:
            return self._library_result(callee.qual, node, scope)
        if kind is UserFunc:
            return self._returns(callee.node)
        if kind is BoundUser:
            return self._returns(callee.func.node)
        if kind is UserClass:
            return frozenset((Instance(callee.node),))
        if kind is Bound:
            return self._bound_result(callee, node, scope)
        if kind is Partial:
            return self._call_result(callee.func, node, scope)
        if kind is AttrGetter and node.args:
            out: set = set()
            for base in self._eval(node.args[0], scope):
                for name in callee.names:
                    out |= self._attr(base, name)
            return out or UNKNOWN_SET
        return UNKNOWN_SET

    def _returns(self, function: ast.AST):
        info = self.funcs.get(function)
        if info is not None and self.current is not None:
            self._depends(id(info.returns))
        if info is None or not info.returns:
            return UNKNOWN_SET
        if info.is_generator:
            return frozenset((make_seq((frozenset(info.returns),), False),))
        return info.returns

    def _arg(self, node: ast.Call, scope: Scope, spec: ArgSpec | None) -> Arg | None:
        if spec is None:
            return None
        if spec.keyword:
            for keyword in node.keywords:
                if keyword.arg == spec.keyword:
                    return Arg(self._eval(keyword.value, scope), keyword.value)
        if spec.index is not None and spec.index < len(node.args):
            arg = node.args[spec.index]
            if type(arg) is ast.Starred:
                return Arg(elements_of(self._eval(arg.value, scope)), None)
            return Arg(self._eval(arg, scope), arg)
        return None

    def _library_result(self, qual: str, node: ast.Call, scope: Scope):
        if qual.endswith((".__getattribute__", ".__getattr__")) and node.args:
            names = string_consts(self._eval(node.args[0], scope))
            base = Ref(qual.rsplit(".", 1)[0])
            if names:
                return frozenset().union(*(self._attr(base, n) for n in names))
            return UNKNOWN_SET
        if qual not in _SPECIAL_RESULTS and not qual.startswith("builtins.") and not catalog.is_epics_name(qual):
            return UNKNOWN_SET  # an ordinary library call: numpy, math, json...
        spec = catalog.FUNCTIONS.get(qual)
        if spec is not None:
            if spec.kind == "ctor":
                names, _unknown, label = self._pv_names(self._arg(node, scope, spec.pv))
                return frozenset((EpicsObj(spec.object_kind, tuple(names), label, qual),))
            if spec.kind == "context":
                return frozenset((EpicsObj(spec.object_kind, (), None, qual),))
            return UNKNOWN_SET
        if catalog.is_epics_name(qual):
            last = qual.rsplit(".", 1)[-1]
            if last[:1].isupper() or qual.startswith("epics.devices."):
                kind = catalog.epics_object_kind_for_class(qual)
                names, _unknown, label = self._pv_names(self._arg(node, scope, ArgSpec(0, None)))
                return frozenset((EpicsObj(kind, tuple(names), label, qual),))
            return UNKNOWN_SET
        args = node.args
        if qual.startswith("builtins."):
            name = qual[9:]
            if name == "getattr" and len(args) >= 2:
                out: set = set()
                names = string_consts(self._eval(args[1], scope))
                if names is not None:
                    for base in self._eval(args[0], scope):
                        for attr in names:
                            out |= self._attr(base, attr)
                if len(args) > 2:
                    out |= self._eval(args[2], scope)
                return out or UNKNOWN_SET
            if name == "vars":
                if not args:
                    return frozenset((GlobalsDict(scope),))
                return frozenset(NamespaceDict(v.qual) if type(v) is Ref else UNKNOWN
                                 for v in self._eval(args[0], scope))
            if name == "globals":
                return frozenset((GlobalsDict(self.module),))
            if name == "locals":
                return frozenset((GlobalsDict(scope),))
            if name == "__import__" and args:
                modules = string_consts(self._eval(args[0], scope)) or []
                out = set()
                for module in modules:
                    out.add(Ref(module.split(".")[0]))
                    out.add(Ref(catalog.canonical(module)))
                return out or UNKNOWN_SET
            if name == "compile" and args:
                sources = string_consts(self._eval(args[0], scope))
                if sources:
                    return frozenset(CodeObj(s) for s in sources)
                return UNKNOWN_SET
            if name in ("list", "tuple", "sorted", "reversed", "iter", "set", "frozenset"):
                if not args:
                    return frozenset((make_seq((), True, id(node)),))
                values = self._eval(args[0], scope)
                out = {v for v in values if type(v) is Seq and name in ("list", "tuple", "iter")}
                out.add(make_seq((frozenset(elements_of(values)),), False, id(node)))
                return out
            if name == "enumerate" and args:
                pair = make_seq((UNKNOWN_SET, frozenset(elements_of(self._eval(args[0], scope)))), True)
                return frozenset((make_seq((frozenset((pair,)),), False),))
            if name == "zip" and args:
                row = make_seq(tuple(frozenset(elements_of(self._eval(a, scope))) for a in args
                                     if type(a) is not ast.Starred), True)
                return frozenset((make_seq((frozenset((row,)),), False),))
            if name == "next" and args:
                return elements_of(self._eval(args[0], scope))
            if name == "dict":
                items = [(k.arg, frozenset(self._eval(k.value, scope))) for k in node.keywords if k.arg]
                out = {make_mapping(tuple(items), id(node))}
                if args:
                    out |= {v for v in self._eval(args[0], scope) if type(v) is Mapping}
                return out
            if name == "filter" and len(args) > 1:
                return frozenset((make_seq((frozenset(elements_of(self._eval(args[1], scope))),), False),))
            if name == "super":
                return self._super(scope)
            if name in ("staticmethod", "classmethod") and args:
                return self._eval(args[0], scope)
            if name == "type" and len(args) == 1:
                out = set()
                for value in self._eval(args[0], scope):
                    if type(value) is EpicsObj and value.via:
                        out.add(Ref(value.via))
                    elif type(value) is Instance:
                        out.add(UserClass(value.cls))
                return out or UNKNOWN_SET
            if name == "eval" and args:
                return self._eval_result(node, scope)
            return UNKNOWN_SET
        if qual in ("importlib.import_module", "importlib.__import__") and args:
            modules = string_consts(self._eval(args[0], scope))
            if modules:
                return frozenset(Ref(catalog.canonical(m)) for m in modules)
            return UNKNOWN_SET
        if qual == "sys.modules.get" and args:
            return self._subscript(Ref("sys.modules"), self._eval(args[0], scope))
        if qual == "operator.attrgetter" and args:
            names = string_consts(self._eval(args[0], scope))
            return frozenset((AttrGetter(tuple(names)),)) if names else UNKNOWN_SET
        if qual == "operator.methodcaller" and args:
            names = string_consts(self._eval(args[0], scope))
            bound = tuple(Arg(frozenset(self._eval(a, scope)), a) for a in args[1:] if type(a) is not ast.Starred)
            return frozenset(MethodCaller(n, bound) for n in names) if names else UNKNOWN_SET
        if qual == "functools.partial" and args:
            # A partial bound into another partial's arguments is kept as its
            # function only, so chains built in loops stay finite.
            bound = tuple(Arg(_without_partials(self._eval(a, scope)), a)
                          for a in args[1:] if type(a) is not ast.Starred)
            keywords = tuple((k.arg, Arg(_without_partials(self._eval(k.value, scope)), k.value))
                             for k in node.keywords if k.arg)
            out = set()
            for func in self._eval(args[0], scope):
                if type(func) is Partial:  # partial(partial(f, a), b) is partial(f, a, b)
                    out.add(Partial(func.func, (func.args + bound)[:MAX_PARTIAL_ARGS],
                                    (func.kwargs + keywords)[:MAX_PARTIAL_ARGS]))
                elif type(func) is not type(UNKNOWN):
                    out.add(Partial(func, bound[:MAX_PARTIAL_ARGS], keywords[:MAX_PARTIAL_ARGS]))
            return out or UNKNOWN_SET
        return UNKNOWN_SET

    def _eval_result(self, node: ast.Call, scope: Scope):
        """Value of eval("literal expression"): the expression's value."""
        out: set = set()
        for value in self._eval(node.args[0], scope):
            if type(value) is not Const or not isinstance(value.value, (str, bytes)):
                return UNKNOWN_SET
            source = value.value.decode("utf-8", "replace") if isinstance(value.value, bytes) else value.value
            tree = self.exec_parsed.get((id(node), source))
            if tree is None or len(tree.body) != 1 or type(tree.body[0]) is not ast.Expr:
                out.add(UNKNOWN)
                continue
            out |= self._eval(tree.body[0].value, scope)
        return out or UNKNOWN_SET

    def _super(self, scope: Scope):
        cls = scope.cls_node
        if cls is None or cls not in self.classes:
            return UNKNOWN_SET
        out: set = set()
        for base in self._class_bases(self.classes[cls]):
            if type(base) is UserClass:
                out.add(Instance(base.node))
            elif type(base) is Ref and catalog.is_epics_name(base.qual):
                out.add(EpicsObj(catalog.epics_object_kind_for_class(base.qual), (), cls.name, base.qual, True))
        return out or UNKNOWN_SET

    def _bound_result(self, bound: Bound, node: ast.Call, scope: Scope):
        obj, name = bound.obj, bound.name
        kind = type(obj)
        args = node.args
        if name in ("__getattribute__", "__getattr__") and args:
            names = string_consts(self._eval(args[0], scope))
            if names:
                return frozenset().union(*(self._attr(obj, n) for n in names))
            return UNKNOWN_SET
        if kind is EpicsObj:
            if obj.kind == "caproto_ctx" and name == "get_pvs":
                if any(type(a) is ast.Starred for a in args):
                    names, _u, label = self._pv_names(Arg(elements_of(self._eval(args[0].value, scope)), None))
                    item = EpicsObj("caproto_pv", tuple(names), label, "caproto")
                    return frozenset((make_seq((frozenset((item,)),), False),))
                items = []
                for arg in args:
                    names, _u, label = self._pv_names(Arg(self._eval(arg, scope), arg))
                    items.append(frozenset((EpicsObj("caproto_pv", tuple(names), label, "caproto"),)))
                return frozenset((make_seq(tuple(items), True),))
            if obj.kind in ("device", "motor") and name in ("PV", "get_pv") and args:
                names, label = self._prefixed_names(obj, Arg(self._eval(args[0], scope), args[0]))
                return frozenset((EpicsObj("pv", tuple(names), label, "Device.PV"),))
            return UNKNOWN_SET
        if kind is Mapping or kind is NamespaceDict or kind is GlobalsDict:
            if name in ("get", "pop", "setdefault", "__getitem__") and args:
                out = set(self._subscript(obj, self._eval(args[0], scope)))
                if len(args) > 1:
                    out |= self._eval(args[1], scope)
                return out
            if kind is Mapping:
                if name == "values":
                    merged = frozenset().union(*(item for _k, item in obj.items)) if obj.items else UNKNOWN_SET
                    return frozenset((make_seq((merged,), False),))
                if name == "keys":
                    return frozenset((make_seq((frozenset(elements_of((obj,))),), False),))
                if name == "items":
                    merged = frozenset().union(*(item for _k, item in obj.items)) if obj.items else UNKNOWN_SET
                    pair = make_seq((frozenset(elements_of((obj,))), merged), True)
                    return frozenset((make_seq((frozenset((pair,)),), False),))
                if name == "copy":
                    return frozenset((obj,))
            return UNKNOWN_SET
        if kind is Seq:
            if name == "pop":
                return elements_of((obj,))
            if name == "copy":
                return frozenset((obj,))
            return UNKNOWN_SET
        if kind is Const and isinstance(obj.value, str):
            return self._str_method(obj.value, name, node, scope)
        if kind is Const and isinstance(obj.value, bytes) and name == "decode":
            return frozenset((Const(obj.value.decode("utf-8", "replace")),))
        return UNKNOWN_SET

    # ================================================================ report
    def _report(self) -> None:
        for node, qual, origin in self.imports:
            root = qual.split(".")[0]
            if root in catalog.OPAQUE_MODULES:
                self._emit(KIND_OPAQUE, node, origin,
                           f"{catalog.OPAQUE_MODULES[root]} — the analyzer cannot follow it; {POSSIBLE_WRITE}")
        for node, scope, origin in self.calls:
            self._report_call(node, scope, origin)
        for target, value, scope, origin in self.attr_stores:
            self._report_store(target, value, scope, origin)
        for node, scope, origin in self.attr_loads:
            self._report_load(node, scope, origin)
        for node, scope, origin in self.subscripts:
            self._report_subscript(node, scope, origin)
        self._report_user_function_calls()

    def _emit(self, kind: str, node: ast.AST, origin, explanation: str, pv: str | None = None,
              scope: Scope | None = None) -> None:
        if origin is not None:
            outer, label = origin
            explanation = (f"{explanation} (inside the code string run by {label}() at line "
                           f"{outer.lineno}, its line {getattr(node, 'lineno', 1)})")
            line, column = outer.lineno, outer.col_offset
        else:
            line, column = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        self.raw.append((Finding(kind, line, column, _one_line(explanation, 400), pv), scope))

    def _text(self, node: ast.AST | None) -> str | None:
        if node is None:
            return None
        cached = self.text_memo.get(id(node))
        if cached is None:
            try:
                cached = _one_line(ast.unparse(node))
            except Exception:  # pragma: no cover - unparse is total on parsed trees
                cached = "?"
            self.text_memo[id(node)] = cached
        return cached

    def _pv_names(self, arg: Arg | None) -> tuple[list[str], bool, str | None]:
        """Literal PV names an argument may hold, whether some are unknown,
        and the source text naming it (for explanations)."""
        if arg is None:
            return [], True, None
        names: list[str] = []
        unknown = False
        label = None

        def collect(values, depth=0):
            nonlocal unknown, label
            for value in values:
                kind = type(value)
                if kind is Const and isinstance(value.value, str):
                    names.append(value.value)
                elif kind is Seq and depth < 3:
                    for item in value.items:
                        collect(item, depth + 1)
                elif kind is EpicsObj:
                    if value.pvs:
                        names.extend(value.pvs)
                    else:
                        unknown = True
                        label = label or value.label
                else:
                    unknown = True

        collect(arg.values)
        if not names and arg.node is not None:
            label = self._text(arg.node)  # unparse is slow: only when needed
        unique = sorted(set(names), key=lambda n: (self.const_order.get(n, len(self.const_order)), n))
        return unique[:20], unknown, label

    @staticmethod
    def _pv_phrase(name: str | None, label: str | None, noun: str = "PV") -> str:
        if name is not None:
            return f"{noun} '{name}'"
        if label:
            return f"a {noun} named by {label}"
        return f"a {noun} the analyzer cannot name"

    @staticmethod
    def _targets(names: list[str]) -> list[str | None]:
        """One finding per literal PV name, or one unnamed finding.  When
        some names are known, an extra "unknown PV" finding for the same
        call would only repeat the line (parameters always include values
        from callers the analyzer cannot see)."""
        return list(names) if names else [None]

    def _alias_note(self, qual: str, callee_text: str | None, scope: Scope | None) -> str:
        if not callee_text or callee_text == qual or qual.endswith("." + callee_text):
            return ""
        if scope is not None and "." not in callee_text:
            owner = self._owner(scope, callee_text)
            if owner is not None and callee_text in owner.imported:
                return f" (imported as {callee_text})"
        return f" (called as {callee_text})"

    @staticmethod
    def _prune(values):
        """Drop EPICS objects whose PV name was unknown only in an early
        solving round (e.g. ``PV(name)`` before ``name`` got its value from
        the call site) when the same object is also known by name."""
        named = set()
        for value in values:
            obj = value.obj if type(value) is Bound else value
            if type(obj) is EpicsObj and obj.pvs:
                named.add((getattr(value, "name", None), obj.kind, obj.via))
        if not named:
            return values
        kept = []
        for value in values:
            obj = value.obj if type(value) is Bound else value
            if (type(obj) is EpicsObj and not obj.pvs and not obj.subclass
                    and (getattr(value, "name", None), obj.kind, obj.via) in named):
                continue
            kept.append(value)
        return kept

    def _call_args(self, node: ast.Call, scope: Scope) -> tuple[list[Arg], dict[str, Arg]]:
        args: list[Arg] = []
        for arg in node.args:
            if type(arg) is ast.Starred:
                args.append(Arg(elements_of(self._eval(arg.value, scope)), None))
            else:
                args.append(Arg(self._eval(arg, scope), arg))
        kwargs = {k.arg: Arg(self._eval(k.value, scope), k.value) for k in node.keywords if k.arg}
        return args, kwargs

    def _report_call(self, node: ast.Call, scope: Scope, origin) -> None:
        callees = self.solved_callees.get(id(node))
        if callees is None:
            callees = self._eval(node.func, scope)
        if len(callees) > 1:
            callees = self._prune(callees)
        call_args = None  # evaluated only when some callee needs them
        callee_text = None
        user_targets = []
        for callee in sorted(callees, key=_stable_key) if len(callees) > 1 else callees:
            kind = type(callee)
            if kind is UserFunc:
                user_targets.append(callee.node)
            elif kind is BoundUser:
                user_targets.append(callee.func.node)
            elif kind is UserClass:
                for init in self._class_attr(callee.node, "__init__", Instance(callee.node)):
                    if type(init) is BoundUser:
                        user_targets.append(init.func.node)
            elif kind is Partial and type(callee.func) in (UserFunc, BoundUser):
                inner = callee.func
                user_targets.append(inner.node if type(inner) is UserFunc else inner.func.node)
            elif self._has_effects(callee):
                if call_args is None:
                    call_args = self._call_args(node, scope)
                    callee_text = self._text(node.func)
                self._effects(callee, call_args[0], call_args[1], node, scope, origin, callee_text, "")
        if (node.args or node.keywords) and self._may_call_arguments(callees, node):
            for position, value, arg_node in self._handoff_candidates(node, scope, self._handoff_reportable):
                if type(value) in (UserFunc, BoundUser):
                    user_targets.append(value.node if type(value) is UserFunc else value.func.node)
                    continue
                callee_text = callee_text or self._text(node.func)
                note = f" (handed to {callee_text}, which calls it)"
                inner_args = self._handoff_args(node, scope, position)
                self._effects(value, inner_args, {}, node, scope, origin, self._text(arg_node), note)
        if user_targets:
            self.user_calls.append((node, scope, origin, callee_text or self._text(node.func), user_targets))

    def _has_effects(self, callee) -> bool:
        """Could calling this value itself have a reportable effect?"""
        kind = type(callee)
        if kind is Ref:
            qual = callee.qual
            return (qual in catalog.FUNCTIONS or qual in catalog.SHELL_RUNNERS or qual in catalog.OPAQUE_FUNCTIONS
                    or qual in _REPORTED_LIBRARY_CALLS or catalog.is_epics_name(qual))
        if kind is Bound:
            return type(callee.obj) in (EpicsObj, NamespaceDict, GlobalsDict)
        return kind is Partial or kind is MethodCaller

    def _handoff_reportable(self, value) -> bool:
        return type(value) in (UserFunc, BoundUser) or self._is_effectful(value)

    @staticmethod
    def _handoff_user(value) -> bool:
        return type(value) in (UserFunc, BoundUser)

    def _may_call_arguments(self, callees, node: ast.Call) -> bool:
        """Could this call invoke a callable passed to it (Thread, submit, map)?"""
        if type(node.func) is ast.Attribute and node.func.attr in catalog.CONTAINER_MUTATORS:
            return False
        if not node.args and not node.keywords:
            return False
        for callee in callees:
            kind = type(callee)
            if kind is Ref:
                if (callee.qual in catalog.INERT_CALLEES or callee.qual in catalog.FUNCTIONS
                        or callee.qual in catalog.SHELL_RUNNERS or callee.qual in _EXEC_BUILTINS):
                    continue
                return True
            if kind in (UserFunc, BoundUser, UserClass, Partial, Bound):
                continue
            return True
        return False

    def _handoff_candidates(self, node: ast.Call, scope: Scope, wanted):
        """Callables passed as arguments: (position or keyword, value, node)."""
        for position, arg in enumerate(node.args):
            if type(arg) in _MAYBE_CALLABLE_NODES and self._may_return_callable(arg, scope):
                for value in self._eval(arg, scope):
                    if wanted(value):
                        yield position, value, arg
        for keyword in node.keywords:
            if keyword.arg and keyword.arg not in ("args", "argument", "kwargs") \
                    and type(keyword.value) in _MAYBE_CALLABLE_NODES \
                    and self._may_return_callable(keyword.value, scope):
                for value in self._eval(keyword.value, scope):
                    if wanted(value):
                        yield keyword.arg, value, keyword.value

    def _may_return_callable(self, node: ast.AST, scope: Scope) -> bool:
        """Cheap pre-check before evaluating a call used as an argument:
        only calls of the code's own functions, partial() and the like can
        return a callable worth following (np.mean(x) cannot)."""
        if type(node) is not ast.Call:
            return True
        for callee in self._eval(node.func, scope):
            kind = type(callee)
            if kind is Ref:
                if callee.qual in _SPECIAL_RESULTS or callee.qual in _CALLABLE_RETURNING_BUILTINS \
                        or catalog.is_epics_name(callee.qual):
                    return True
            elif kind is not type(UNKNOWN):
                return True
        return False

    def _handoff_args(self, node: ast.Call, scope: Scope, position) -> list[Arg]:
        """Arguments a handed-over callable gets: args=(...) if given, else
        the positional arguments after it (submit(f, a, b), map(f, xs))."""
        for keyword in node.keywords:
            if keyword.arg in ("args", "argument"):
                return self._sequence_args(keyword.value, scope)
        called = _called_name(node)
        if called in _ELEMENTWISE_CALLEES:
            # map(f, xs, ys) calls f(x, y) with elements; sorted(xs, key=f) calls f(x).
            rest = node.args[position + 1:] if type(position) is int else node.args[:1]
            return [Arg(elements_of(self._eval(a.value if type(a) is ast.Starred else a, scope)), None)
                    for a in rest]
        if type(position) is not int:
            return []
        return [Arg(self._eval(a, scope), a) if type(a) is not ast.Starred
                else Arg(elements_of(self._eval(a.value, scope)), None)
                for a in node.args[position + 1:]]

    def _sequence_args(self, node: ast.AST, scope: Scope) -> list[Arg]:
        if type(node) in (ast.Tuple, ast.List) and not any(type(e) is ast.Starred for e in node.elts):
            return [Arg(self._eval(e, scope), e) for e in node.elts]
        values = self._eval(node, scope)
        for value in values:
            if type(value) is Seq and value.exact:
                return [Arg(item, None) for item in value.items]
        return [Arg(elements_of(values), None)]

    def _is_effectful(self, value) -> bool:
        kind = type(value)
        if kind is Ref:
            qual = value.qual
            return (qual in catalog.FUNCTIONS or qual in catalog.SHELL_RUNNERS
                    or qual in catalog.OPAQUE_FUNCTIONS or qual in _EXEC_BUILTINS
                    or catalog.is_epics_name(qual))
        if kind is Bound:
            return type(value.obj) is EpicsObj
        if kind is Partial:
            return self._is_effectful(value.func)
        return False

    # ------------------------------------------------------------ effects
    def _effects(self, callee, args: list[Arg], kwargs: dict, node, scope, origin, callee_text, note) -> None:
        kind = type(callee)
        if kind is Ref:
            self._library_effects(callee.qual, args, kwargs, node, scope, origin, callee_text, note)
        elif kind is Bound:
            obj = callee.obj
            if type(obj) is EpicsObj:
                self._method_effects(obj, callee.name, args, kwargs, node, scope, origin, note)
            elif type(obj) in (NamespaceDict, GlobalsDict) and callee.name == "get" and args:
                if string_consts(args[0].values) is None:
                    self._emit(KIND_OPAQUE, node, origin, self._computed_lookup_text(obj), scope=scope)
        elif kind is MethodCaller and args:
            for obj in args[0].values:
                for method in self._attr(obj, callee.name):
                    self._effects(method, list(callee.args), {}, node, scope, origin, None,
                                  note + " (through operator.methodcaller)")
        elif kind is Partial:
            merged = dict(callee.kwargs)
            merged.update(kwargs)
            self._effects(callee.func, list(callee.args) + list(args), merged, node, scope, origin,
                          None, note + " (through functools.partial)")

    @staticmethod
    def _pick(args: list[Arg], kwargs: dict, spec: ArgSpec | None) -> Arg | None:
        if spec is None:
            return None
        if spec.keyword and spec.keyword in kwargs:
            return kwargs[spec.keyword]
        if spec.index is not None and spec.index < len(args):
            return args[spec.index]
        return None

    def _library_effects(self, qual, args, kwargs, node, scope, origin, callee_text, note) -> None:
        spec = catalog.FUNCTIONS.get(qual)
        via = qual + self._alias_note(qual, callee_text, scope)
        if spec is not None:
            if spec.kind in ("write", "read"):
                self._access(spec.kind, spec, via, args, kwargs, node, scope, origin, note)
            elif spec.kind == "ctor":
                pv_arg = self._pick(args, kwargs, spec.pv)
                names, unknown, label = self._pv_names(pv_arg)
                monitor = kwargs.get("auto_monitor")
                verb = "Connects to"
                if monitor is not None and Const(True) in monitor.values:
                    verb = "Connects to and monitors"
                noun = catalog.KIND_LABEL.get(spec.object_kind, "PV")
                noun = "PV" if noun == "PV" else noun
                for name in self._targets(names):
                    self._emit(KIND_READ, node, origin,
                               f"{verb} {self._pv_phrase(name, label, noun)} via {via}{note}", name, scope)
            return
        if qual in catalog.SHELL_RUNNERS:
            self._shell(qual, catalog.SHELL_RUNNERS[qual], via, args, kwargs, node, scope, origin, note)
            return
        if qual in catalog.OPAQUE_FUNCTIONS:
            text = catalog.OPAQUE_FUNCTIONS[qual].format(name=via)
            self._emit(KIND_OPAQUE, node, origin, f"{text}{note} — the analyzer cannot follow it; {POSSIBLE_WRITE}",
                       scope=scope)
            return
        if qual in _EXEC_BUILTINS:
            self._exec_effects(qual[9:], args, node, scope, origin, note)
            return
        if qual in ("builtins.__import__", "importlib.import_module", "importlib.__import__"):
            if args:
                modules = string_consts(args[0].values)
                if modules is None:
                    self._emit(KIND_OPAQUE, node, origin,
                               f"Imports a module whose name is computed at run time ({via}) — it could be "
                               f"epics; {POSSIBLE_WRITE}", scope=scope)
                else:
                    for module in modules:
                        root = module.split(".")[0]
                        if root in catalog.OPAQUE_MODULES:
                            self._emit(KIND_OPAQUE, node, origin,
                                       f"{catalog.OPAQUE_MODULES[root]} — the analyzer cannot follow it; "
                                       f"{POSSIBLE_WRITE}", scope=scope)
            return
        if qual == "builtins.getattr" and len(args) >= 2:
            if string_consts(args[1].values) is None:
                sensitive = [self._describe(v) for v in args[0].values if self._is_sensitive(v)]
                if sensitive:
                    self._emit(KIND_OPAQUE, node, origin,
                               f"Looks up an attribute of {sensitive[0]} by a computed name (getattr) — it could "
                               f"be a write such as caput or put; {POSSIBLE_WRITE}", scope=scope)
            return
        if qual == "builtins.setattr" and len(args) >= 3:
            names = string_consts(args[1].values)
            for obj in args[0].values:
                if type(obj) is Ref and catalog.is_sensitive_module(obj.qual):
                    what = f"{obj.qual}.{names[0]}" if names and len(names) == 1 else f"an attribute of {obj.qual}"
                    self._emit(KIND_OPAQUE, node, origin, self._monkeypatch_text(what), scope=scope)
            for obj in self._prune(args[0].values):
                for view in self._epics_views(obj):
                    self._store_effects(view, names, args[2], node, scope, origin,
                                        "via setattr()" if names else "via setattr() with a computed name")
            return
        if qual == "sys.modules.get" and args and string_consts(args[0].values) is None:
            self._emit(KIND_OPAQUE, node, origin, self._computed_lookup_text(Ref("sys.modules")), scope=scope)
            return
        if catalog.is_epics_name(qual):
            last = qual.rsplit(".", 1)[-1]
            if last.startswith("_") and last.endswith("_"):
                return
            if last[:1].isupper() or qual.startswith("epics.devices."):
                names, unknown, label = self._pv_names(self._pick(args, kwargs, ArgSpec(0, None)))
                for name in self._targets(names):
                    self._emit(KIND_READ, node, origin,
                               f"Connects to {self._pv_phrase(name, label)} via {via}{note}", name, scope)
                return
            guessed = catalog.guess_epics_kind(last)
            names, unknown, label = self._pv_names(self._pick(args, kwargs, ArgSpec(0, None)))
            for name in self._targets(names):
                if guessed == "write":
                    text = (f"Calls {via} on {self._pv_phrase(name, label)}{note}; the analyzer does not know "
                            f"this EPICS function and its name suggests a write")
                    self._emit(KIND_WRITE, node, origin, text, name, scope)
                else:
                    self._emit(KIND_READ, node, origin,
                               f"Uses EPICS via {via} on {self._pv_phrase(name, label)}{note}", name, scope)

    def _access(self, kind, spec, via, args, kwargs, node, scope, origin, note) -> None:
        pv_arg = self._pick(args, kwargs, spec.pv)
        value_arg = self._pick(args, kwargs, spec.value)
        names, unknown, label = self._pv_names(pv_arg) if spec.pv else ([], True, None)
        value_text = self._text(value_arg.node) if value_arg is not None and value_arg.node is not None else None
        for name in self._targets(names):
            target = self._pv_phrase(name, label)
            if kind == "write":
                if spec.verb:
                    text = f"{spec.verb} via {via}{note}"
                else:
                    text = f"Writes {value_text or 'a value'} to {target} via {via}{note}"
                self._emit(KIND_WRITE, node, origin, text, name, scope)
            else:
                self._emit(KIND_READ, node, origin, f"{spec.verb or 'Reads'} {target} via {via}{note}", name, scope)

    def _object_noun(self, obj: EpicsObj) -> str:
        return {"motor": "motor", "device": "device", "ophyd_motor": "motor"}.get(obj.kind, "PV")

    def _object_targets(self, obj: EpicsObj) -> list[tuple[str | None, str]]:
        noun = self._object_noun(obj)
        if obj.subclass:
            label = f"{catalog.KIND_LABEL.get(obj.kind, 'EPICS object')} subclass {obj.label}"
            return [(None, f"a {label}")]
        if obj.pvs:
            return [(name, self._pv_phrase(name, None, noun)) for name in obj.pvs]
        return [(None, self._pv_phrase(None, obj.label, noun))]

    def _prefixed_names(self, obj: EpicsObj, attr: Arg | None) -> tuple[list[str], str | None]:
        attrs = string_consts(attr.values) if attr is not None else None
        if obj.pvs and attrs:
            return [p + a for p in obj.pvs for a in attrs], None
        prefix = obj.pvs[0] if obj.pvs else (obj.label or "?")
        suffix = attrs[0] if attrs else (self._text(attr.node) if attr is not None and attr.node else "?")
        return [], f"{prefix} + {suffix}"

    def _method_effects(self, obj: EpicsObj, name: str, args, kwargs, node, scope, origin, note) -> None:
        label = catalog.KIND_LABEL.get(obj.kind, "EPICS object")
        if name == "__setattr__" and args:
            names = string_consts(args[0].values)
            value = args[1] if len(args) > 1 else None
            self._store_effects(obj, names, value, node, scope, origin, "via __setattr__()")
            return
        if name.startswith("__"):
            return
        spec = catalog.OBJECT_METHODS.get(obj.kind, {}).get(name)
        if spec is None:
            if obj.kind == "generic":
                guessed = catalog.guess_epics_kind(name)
            elif obj.kind in catalog.UNKNOWN_METHOD_IS_WRITE:
                guessed = "write"
            else:
                guessed = "read"
            for pv, phrase in self._object_targets(obj):
                if guessed == "write":
                    self._emit(KIND_WRITE, node, origin,
                               f"Calls {label}.{name}() on {phrase}{note}; the analyzer does not know this "
                               f"method, so it is {POSSIBLE_WRITE}", pv, scope)
                else:
                    self._emit(KIND_READ, node, origin, f"Calls {label}.{name}() on {phrase}{note}", pv, scope)
            return
        if spec.kind == "inert":
            return
        if spec.pv_from == "object":
            targets = self._object_targets(obj)
        elif spec.pv_from == "arg0":
            names, unknown, text = self._pv_names(self._pick(args, kwargs, ArgSpec(0, "name")))
            targets = [(n, self._pv_phrase(n, text)) for n in self._targets(names)]
            if obj.kind == "caproto_ctx":
                names = []
                for arg in args:
                    more, _u, _t = self._pv_names(arg)
                    names.extend(more)
                targets = [(n, self._pv_phrase(n, None)) for n in names] or [(None, "PVs the analyzer cannot name")]
        else:  # prefix + attribute name, Device.put("VAL", 1)
            names, text = self._prefixed_names(obj, self._pick(args, kwargs, ArgSpec(0, "attr")))
            targets = [(n, self._pv_phrase(n, None)) for n in names] or [(None, self._pv_phrase(None, text))]
        if obj.kind == "caproto_ctx" and name == "get_pvs":
            targets = []
            for arg in args:
                more, unknown, text = self._pv_names(arg)
                targets += [(n, self._pv_phrase(n, None)) for n in more]
                if not more:
                    targets.append((None, self._pv_phrase(None, text)))
        value = self._pick(args, kwargs, spec.value)
        value_text = self._text(value.node) if value is not None and value.node is not None else "a value"
        method = f"{label}.{name}()"
        for pv, phrase in targets:
            if spec.kind == "write":
                if spec.verb == "Moves":
                    text = f"Moves {phrase} to {value_text} via {method}{note}"
                elif spec.verb:
                    text = f"{spec.verb} {phrase} via {method}{note}"
                else:
                    text = f"Writes {value_text} to {phrase} via {method}{note}"
                self._emit(KIND_WRITE, node, origin, text, pv, scope)
            else:
                self._emit(KIND_READ, node, origin, f"{spec.verb or 'Reads'} {phrase} via {method}{note}", pv, scope)

    def _epics_views(self, value) -> list[EpicsObj]:
        if type(value) is EpicsObj:
            return [value]
        if type(value) is Instance:
            return [EpicsObj(kind, (), value.cls.name, "", True) for kind in self._epics_bases(value.cls)]
        return []

    def _store_effects(self, obj: EpicsObj, names: list[str] | None, value: Arg | None, node, scope, origin,
                       how: str) -> None:
        """Setting an attribute of an EPICS object (pv.value = 3)."""
        attrs = names if names is not None else [None]
        value_text = self._text(value.node) if value is not None and value.node is not None else "a value"
        for attr in attrs:
            if attr is not None and attr.startswith("_"):
                continue
            if obj.kind in ("pv", "ophyd_signal", "generic") or obj.subclass:
                writes = attr in (None, "value")
            else:
                writes = obj.kind in ("device", "motor")
            if not writes:
                continue
            for pv, phrase in self._object_targets(obj):
                if attr is None:
                    text = f"Sets an attribute of {phrase} chosen at run time {how} — it could be .value; {POSSIBLE_WRITE}"
                elif attr == "value":
                    text = f"Sets {phrase} to {value_text} by assigning .value {how}".rstrip()
                else:
                    text = f"Sets .{attr} of {phrase} to {value_text} {how}".rstrip()
                self._emit(KIND_WRITE, node, origin, text, pv, scope)

    def _is_sensitive(self, value) -> bool:
        kind = type(value)
        if kind is Ref:
            return catalog.is_sensitive_module(value.qual)
        if kind is EpicsObj or kind is NamespaceDict or kind is GlobalsDict:
            return True
        if kind is Instance:
            return bool(self._epics_bases(value.cls))
        return False

    @staticmethod
    def _describe(value) -> str:
        kind = type(value)
        if kind is Ref:
            return f"the module {value.qual}"
        if kind is EpicsObj:
            return f"an EPICS {catalog.KIND_LABEL.get(value.kind, 'object')}"
        return "an EPICS object"

    @staticmethod
    def _monkeypatch_text(what: str) -> str:
        return (f"Replaces {what} at run time — later calls to it may do anything; the analyzer cannot "
                f"follow it; {POSSIBLE_WRITE}")

    @staticmethod
    def _computed_lookup_text(container) -> str:
        if type(container) is NamespaceDict:
            where = f"the namespace of {container.qual} (vars()/__dict__)"
        elif type(container) is GlobalsDict:
            where = "the global variables (globals()/locals())"
        elif type(container) is Ref and container.qual == "builtins":
            where = "the Python builtins"
        else:
            where = "sys.modules"
        return f"Looks up a name in {where} by a computed key — it could reach caput or exec; {POSSIBLE_WRITE}"

    def _exec_effects(self, name: str, args: list[Arg], node, scope, origin, note) -> None:
        if not args:
            return
        values = args[0].values
        computed = [v for v in values if not (type(v) is CodeObj or (type(v) is Const and isinstance(v.value, (str, bytes))))]
        if computed:
            source = self._text(args[0].node) or ""
            if re.search(r"\bopen\(|\.read\(|read_text\(|read_bytes\(", source):
                what = f"Runs Python code read from a file at run time ({name}({source}))"
            elif re.search(r"decode|b64|base64|codecs|zlib|bytes\.fromhex|unhexlify|rot13", source):
                what = f"Runs code decoded at run time ({name} of a decoded string)"
            else:
                what = f"Runs code built at run time ({name} of a computed string)"
            self._emit(KIND_OPAQUE, node, origin,
                       f"{what}{note} — the analyzer cannot see what it does; {POSSIBLE_WRITE}", scope=scope)
            return
        if id(node) in self.exec_over_limit:
            self._emit(KIND_OPAQUE, node, origin,
                       f"Runs too many nested code strings through {name} to follow; {POSSIBLE_WRITE}", scope=scope)
        for value in values:
            if type(value) is Const:
                source = value.value.decode("utf-8", "replace") if isinstance(value.value, bytes) else value.value
                error = self.exec_bad.get((id(node), source))
                if error is not None:
                    self._emit(KIND_OPAQUE, node, origin,
                               f"Runs a string through {name} that is not valid Python ({error}); {POSSIBLE_WRITE}",
                               scope=scope)

    # ---------------------------------------------------------------- shell
    def _shell(self, qual, form, via, args, kwargs, node, scope, origin, note) -> None:
        effects: list[shell.ShellEffect] = []
        if form in ("args", "string"):
            command = self._pick(args, kwargs, ArgSpec(0, "args" if qual.startswith("subprocess.") and form == "args"
                                                      else ("argv" if qual == "pty.spawn" else "command")))
            if command is None and form == "string":
                command = self._pick(args, kwargs, ArgSpec(0, "cmd"))
            if command is None:
                return
            for value in command.values:
                effects.extend(self._command_effects(value))
        else:
            positional = list(args)
            if form.startswith("spawn_"):
                positional = positional[1:]
            if not positional:
                return
            program = positional[0]
            words: list[str | None] = [self._single_word(program.values)]
            if form in ("argv_list", "spawn_list"):
                if len(positional) > 1:
                    words += self._sequence_words(positional[1].values)[1:]
            elif form == "program_star":
                words += [self._single_word(a.values) for a in positional[1:]]
            else:  # argv_star: program, argv0, argv1, ...; os.exec*e ends with an env mapping
                rest = positional[2:]
                words += [self._single_word(a.values) for a in rest
                          if not any(type(v) is Mapping for v in a.values)]
            effects.extend(shell.scan_argv(words))
        self._shell_findings(effects, via, node, scope, origin, note)

    @staticmethod
    def _single_word(values) -> str | None:
        strings = string_consts(values)
        if strings is not None and len(strings) == 1:
            return strings[0]
        return None

    def _sequence_words(self, values) -> list[str | None]:
        if len(values) == 1:
            (value,) = tuple(values)
            if type(value) is Seq and value.exact:
                return [self._single_word(item) for item in value.items]
        return [None]

    def _command_effects(self, value) -> list[shell.ShellEffect]:
        kind = type(value)
        if kind is Const and isinstance(value.value, (str, bytes)):
            text = value.value.decode("utf-8", "replace") if isinstance(value.value, bytes) else value.value
            return shell.scan_string(text)
        if kind is Seq:
            words = self._sequence_words(frozenset((value,))) if value.exact else [None]
            return shell.scan_argv(words)
        if kind is Text:
            return shell.scan_fragments(list(value.fragments))
        return [shell.ShellEffect("opaque", reason="with a computed string")]

    def _shell_findings(self, effects, via, node, scope, origin, note) -> None:
        for effect in effects:
            if effect.kind in ("write", "read"):
                target = self._pv_phrase(effect.pv, None)
                if effect.kind == "write":
                    text = f"Runs the EPICS command-line tool {effect.tool} on {target} via {via}{note} — a write"
                    self._emit(KIND_WRITE, node, origin, text, effect.pv, scope)
                else:
                    text = f"Runs the EPICS command-line tool {effect.tool} on {target} via {via}{note}"
                    self._emit(KIND_READ, node, origin, text, effect.pv, scope)
            elif effect.kind == "python":
                self._nested_python(effect.python_source, via, node, scope, origin)
            else:
                reason = effect.reason
                detail = f"{via} {reason}" if reason.startswith("with ") else f"{via}: {reason}"
                self._emit(KIND_OPAQUE, node, origin,
                           f"Runs a shell command the analyzer cannot read ({detail}){note} — {POSSIBLE_WRITE}",
                           scope=scope)

    def _nested_python(self, source: str, via, node, scope, origin) -> None:
        if self.depth >= MAX_NESTED_ANALYSIS:
            self._emit(KIND_OPAQUE, node, origin,
                       f"Runs Python code nested too deeply to follow ({via}); {POSSIBLE_WRITE}", scope=scope)
            return
        inner = _analyze(source, self.depth + 1)
        if inner.syntax_error:
            self._emit(KIND_OPAQUE, node, origin,
                       f"Runs Python code via {via} that does not parse ({inner.syntax_error}); {POSSIBLE_WRITE}",
                       scope=scope)
            return
        for finding in inner.findings:
            self._emit(finding.kind, node, origin, f"In the Python code run by {via}: {finding.explanation}",
                       finding.pv, scope)

    # ------------------------------------------------------ stores and loads
    def _report_store(self, target: ast.Attribute, value, scope, origin) -> None:
        bases = self._prune(self._eval(target.value, scope))
        value_arg = Arg(EMPTY, value) if value is not None else None
        for base in bases:
            if type(base) is Ref and catalog.is_sensitive_module(base.qual):
                self._emit(KIND_OPAQUE, target, origin, self._monkeypatch_text(f"{base.qual}.{target.attr}"),
                           scope=scope)
                continue
            for view in self._epics_views(base):
                self._store_effects(view, [target.attr], value_arg, target, scope, origin, "")

    def _report_load(self, node: ast.Attribute, scope, origin) -> None:
        for base in self._prune(self._eval(node.value, scope)):
            if type(base) is not EpicsObj:
                continue
            attr = node.attr
            if attr.startswith("_"):
                continue
            methods = catalog.OBJECT_METHODS.get(base.kind, {})
            if attr in methods:
                continue
            if base.kind in ("pv", "ophyd_signal", "ophyd_motor"):
                if attr not in catalog.PV_VALUE_ATTRIBUTES:
                    continue
            elif base.kind not in ("device", "motor"):
                continue
            label = catalog.KIND_LABEL.get(base.kind, "PV")
            for pv, phrase in self._object_targets(base):
                self._emit(KIND_READ, node, origin, f"Reads {phrase} via the {label} attribute .{attr}", pv, scope)

    def _report_subscript(self, node: ast.Subscript, scope, origin) -> None:
        if type(node.slice) is ast.Slice:
            return
        bases = self._eval(node.value, scope)
        for base in bases:
            kind = type(base)
            lookup = (kind is NamespaceDict or kind is GlobalsDict
                      or (kind is Ref and base.qual in ("sys.modules", "builtins")))
            if not lookup:
                continue
            if kind is NamespaceDict and not catalog.is_sensitive_module(base.qual):
                continue
            if string_consts(self._eval(node.slice, scope)) is None:
                self._emit(KIND_OPAQUE, node, origin, self._computed_lookup_text(base), scope=scope)
                return

    # ------------------------------------------------- user-function calls
    def _enclosing_function(self, scope: Scope | None):
        while scope is not None:
            if scope.kind == "function":
                return scope.node
            if scope.kind == "class":
                return None  # a class body runs when defined
            scope = scope.parent
        return None

    def _report_user_function_calls(self) -> None:
        """A call to a function of the code that writes is a write at the
        call site too, so the physicist sees where the write is triggered."""
        writers: dict[ast.AST, list[str]] = {}
        for finding, scope in self.raw:
            if finding.kind == KIND_WRITE:
                function = self._enclosing_function(scope)
                if function is not None:
                    writers.setdefault(function, [])
                    if finding.pv:
                        writers[function].append(finding.pv)
        done: set[tuple] = set()
        changed = True
        while changed:
            changed = False
            for node, scope, origin, callee_text, targets in self.user_calls:
                for function in targets:
                    if function not in writers or (id(node), function) in done:
                        continue
                    done.add((id(node), function))
                    pvs = list(dict.fromkeys(writers[function]))
                    name = getattr(function, "name", None) or "a lambda"
                    where = f"defined at line {function.lineno}"
                    detail = f": {', '.join(repr(p) for p in pvs[:5])}" if pvs else ""
                    self._emit(KIND_WRITE, node, origin,
                               f"Calls {callee_text}() ({name}, {where}), which writes to EPICS{detail}",
                               None, scope)
                    caller = self._enclosing_function(scope)
                    if caller is not None and caller is not function:
                        before = writers.get(caller)
                        if before is None:
                            writers[caller] = list(pvs)
                            changed = True


# Methods of literals and containers whose results the analyzer models.
_MODELLED_METHODS = frozenset({
    "join", "format", "split", "rsplit", "strip", "lstrip", "rstrip", "lower", "upper", "title", "replace",
    "encode", "decode", "get", "pop", "setdefault", "values", "keys", "items", "copy", "__getitem__",
    "append", "extend", "insert", "add", "update", "appendleft", "extendleft",
})
# Roots of library names worth keeping when a name holds too many values.
_KEEP_ROOTS = frozenset(
    {q.split(".")[0] for q in (*catalog.FUNCTIONS, *catalog.SHELL_RUNNERS, *catalog.OPAQUE_FUNCTIONS)}
    | {m.split(".")[0] for m in catalog.SENSITIVE_MODULES}
    | {"functools", "operator", "threading", "concurrent", "multiprocessing", "sched", "types", "code"}
)


def _max_ref_depth(qual: str) -> int:
    """How many dots a library name may have before the analyzer stops
    following attributes: the catalog never needs deeper names, and loops
    like ``obj = getattr(obj, part)`` would otherwise grow without end."""
    if qual.startswith("builtins"):
        return 1          # builtins.exec; builtins.str.join is not followed
    if catalog.is_epics_name(qual):
        return 6
    return 3              # importlib.util.spec_from_file_location


def _without_partials(values) -> frozenset:
    return frozenset(v.func if type(v) is Partial else v for v in values)


def _child_ref(qual: str, name: str) -> frozenset:
    """The library name ``qual.name``, unless it is deeper than followed."""
    if qual.count(".") >= _max_ref_depth(qual):
        return UNKNOWN_SET
    return frozenset((Ref(catalog.canonical(f"{qual}.{name}")),))


def _worth_keeping(value) -> bool:
    kind = type(value)
    if kind in (Const, Text, Seq, Mapping):
        return False
    if kind is Ref:
        return value.qual.split(".", 1)[0] in _KEEP_ROOTS
    if kind is Bound:
        return type(value.obj) is EpicsObj
    return True


_NO_LITERAL = object()


def _single_literal(values):
    """The one literal str/number a value set holds, else _NO_LITERAL."""
    if len(values) == 1:
        (value,) = tuple(values)
        if type(value) is Const and isinstance(value.value, (str, int, float, bool)):
            return value.value
    return _NO_LITERAL


def _stable_key(value) -> tuple:
    """Deterministic order for values iterated out of a set."""
    return (type(value).__name__, str(getattr(value, "qual", "") or getattr(value, "name", "")),
            str(getattr(value, "pvs", "")))


def _analyze(source, depth: int = 0) -> CodeAnalysis:
    if isinstance(source, bytes):
        source = source.decode("utf-8", "replace")
    if not isinstance(source, str):
        raise TypeError(f"analyze_code expects source text, got {type(source).__name__}")
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        line = error.lineno
        message = f"line {line}: {error.msg}" if line else error.msg
        finding = Finding(KIND_OPAQUE, line or 1, max((error.offset or 1) - 1, 0),
                          f"The code does not parse ({message}) — the analyzer cannot check it; {POSSIBLE_WRITE}")
        return build_analysis([finding], syntax_error=message, syntax_error_line=line)
    except (ValueError, RecursionError, MemoryError) as error:
        message = f"cannot parse: {error}"
        finding = Finding(KIND_OPAQUE, 1, 0, f"The code cannot be parsed ({error}); {POSSIBLE_WRITE}")
        return build_analysis([finding], syntax_error=message, syntax_error_line=None)
    try:
        findings = _Analyzer(depth).run(tree)
    except RecursionError:
        findings = [Finding(KIND_OPAQUE, 1, 0,
                            f"The code is nested too deeply for the analyzer to follow; {POSSIBLE_WRITE}")]
    except Exception as error:  # fail secure: never let an analyzer bug pass code
        logger.exception("code analysis failed")
        findings = [Finding(KIND_OPAQUE, 1, 0,
                            f"The analyzer failed on this code ({type(error).__name__}); {POSSIBLE_WRITE}")]
    return build_analysis(findings)


def analyze_code(source: str) -> CodeAnalysis:
    """Analyse agent-written Python for EPICS writes, reads and opaque constructs."""
    # Parsing and analysis allocate many short-lived objects and no cycles
    # worth collecting; pausing the cyclic GC saves ~10% of the time.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _analyze(source, 0)
    finally:
        if was_enabled:
            gc.enable()
