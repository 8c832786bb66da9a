"""Abstract values: what the analyzer knows a name or expression may hold.

Every expression evaluates to a *set* of these.  Sets are unions over all
assignments to a name (flow-insensitive), so if a name is ever bound to
``epics.caput`` anywhere in its scope, every use of it may be ``caput``.
That errs on the safe side.  ``UNKNOWN`` in a set means "possibly something
the analyzer does not track", which matters wherever completeness matters
(a shell command is only "readable" if no UNKNOWN part is in it).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
UNKNOWN_SET: frozenset = frozenset((UNKNOWN,))
EMPTY: frozenset = frozenset()


@dataclass(frozen=True, slots=True)
class Ref:
    """A named library object: module, function or class ("epics.caput")."""

    qual: str


@dataclass(frozen=True, slots=True)
class Const:
    """A literal value (str, int, float, bool, None, bytes)."""

    value: object


@dataclass(frozen=True, slots=True)
class Text:
    """A string only partly known: the literal fragments it contains."""

    fragments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Seq:
    """A list/tuple/set.  ``exact`` means items[i] is element i; otherwise
    items holds one set standing for any element."""

    items: tuple[frozenset, ...]
    exact: bool
    depth: int = 1
    # Where a mutable container was created (id of its AST node, 0 if
    # unknown): every name holding it sees mutations made through another.
    site: int = 0


@dataclass(frozen=True, slots=True)
class Mapping:
    """A dict; a key of None stands for keys the analyzer cannot compute."""

    items: tuple[tuple[object, frozenset], ...]
    depth: int = 1
    site: int = 0


@dataclass(frozen=True, slots=True)
class EpicsObj:
    """An object bound to EPICS: a PV, Device, Motor, CA channel, client
    context.  ``pvs`` are the literal PV names it is known to stand for;
    ``label`` is the source text naming it when the name is not literal."""

    kind: str
    pvs: tuple[str, ...] = ()
    label: str | None = None
    via: str = ""
    # True for instances of a user class derived from an EPICS class: only
    # ``.value`` stores are writes (other attributes are the user's own).
    subclass: bool = False


@dataclass(frozen=True, slots=True)
class Bound:
    """A method looked up on a tracked object, e.g. ``pv.put``."""

    obj: object
    name: str


@dataclass(frozen=True, slots=True, eq=False)
class UserFunc:
    """A function or lambda defined in the analysed code (identity-compared)."""

    node: ast.AST

    def __eq__(self, other):
        return type(other) is UserFunc and other.node is self.node

    def __hash__(self):
        return id(self.node)


@dataclass(frozen=True, slots=True, eq=False)
class UserClass:
    node: ast.ClassDef

    def __eq__(self, other):
        return type(other) is UserClass and other.node is self.node

    def __hash__(self):
        return id(self.node) ^ 0x5A5A


@dataclass(frozen=True, slots=True, eq=False)
class Instance:
    """An instance of a class defined in the analysed code."""

    cls: ast.ClassDef

    def __eq__(self, other):
        return type(other) is Instance and other.cls is self.cls

    def __hash__(self):
        return id(self.cls) ^ 0x3C3C


@dataclass(frozen=True, slots=True)
class BoundUser:
    """A user method bound to an instance (its first parameter is filled)."""

    instance: object
    func: UserFunc


@dataclass(frozen=True, slots=True)
class Partial:
    """functools.partial(func, *args, **kwargs)."""

    func: object
    args: tuple  # tuple of (frozenset values, source text)
    kwargs: tuple  # tuple of (name, (frozenset values, source text))


@dataclass(frozen=True, slots=True)
class NamespaceDict:
    """``vars(module)`` or ``module.__dict__``: subscripting looks up names."""

    qual: str


@dataclass(frozen=True, slots=True, eq=False)
class GlobalsDict:
    """``globals()`` / ``locals()`` of a scope."""

    scope: object

    def __eq__(self, other):
        return type(other) is GlobalsDict and other.scope is self.scope

    def __hash__(self):
        return id(self.scope) ^ 0x7777


@dataclass(frozen=True, slots=True)
class AttrGetter:
    """operator.attrgetter("name"): calling it looks the attribute up."""

    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MethodCaller:
    """operator.methodcaller("name", *args): calling it with obj calls obj.name(*args)."""

    name: str
    args: tuple  # tuple of Arg


@dataclass(frozen=True, slots=True)
class CodeObj:
    """The result of compile() on a literal string (analysed at compile)."""

    source: str


CONTAINER_TYPES = (Seq, Mapping)
MAX_DEPTH = 4
MAX_ITEMS = 64            # longer containers are summarised as "any of these"
MAX_STRING = 4096         # longer computed strings are kept as fragments
MAX_FRAGMENTS = 12
MAX_FRAGMENT = 256


def make_text(fragments) -> Text:
    """A partly known string, with a bounded set of literal fragments (so
    ``s = f"{s}x"`` in a loop cannot grow without end)."""
    unique = []
    for fragment in fragments:
        fragment = fragment[:MAX_FRAGMENT]
        if fragment and fragment not in unique:
            unique.append(fragment)
            if len(unique) >= MAX_FRAGMENTS:
                break
    return Text(tuple(unique))


def make_str(text: str):
    """A computed string: literal if reasonably short, else fragments."""
    if len(text) <= MAX_STRING:
        return Const(text)
    return make_text((text[:MAX_FRAGMENT], text[-MAX_FRAGMENT:]))


def value_depth(values) -> int:
    depth = 0
    for value in values:
        if type(value) in CONTAINER_TYPES and value.depth > depth:
            depth = value.depth
    return depth


def leaves(values, out: set | None = None) -> set:
    """All non-container values reachable inside containers."""
    out = set() if out is None else out
    for value in values:
        if type(value) is Seq:
            for item in value.items:
                leaves(item, out)
        elif type(value) is Mapping:
            for _key, item in value.items:
                leaves(item, out)
        else:
            out.add(value)
    return out


def make_seq(items: tuple[frozenset, ...], exact: bool, site: int = 0):
    if len(items) > MAX_ITEMS:
        items, exact = (frozenset().union(*items),), False
    depth = 1 + max((value_depth(item) for item in items), default=0)
    if depth > MAX_DEPTH:
        # Self-referential growth (x = [x]): flatten so the fixpoint ends,
        # keeping every leaf so nothing dangerous is lost.
        flat = leaves(items and frozenset().union(*items) or ())
        flat.add(UNKNOWN)
        return Seq((frozenset(flat),), False, 1, site)
    return Seq(items, exact, depth, site)


def make_mapping(items: tuple[tuple[object, frozenset], ...], site: int = 0):
    if len(items) > MAX_ITEMS:
        merged: dict = {}
        for key, item in items:
            merged[key] = merged.get(key, frozenset()) | item
        items = tuple(merged.items())
        if len(items) > MAX_ITEMS:
            items = ((None, frozenset().union(*(item for _k, item in items))),)
    depth = 1 + max((value_depth(item) for _k, item in items), default=0)
    if depth > MAX_DEPTH:
        flat = leaves(frozenset().union(*(item for _k, item in items)))
        flat.add(UNKNOWN)
        return Mapping(((None, frozenset(flat)),), 1, site)
    return Mapping(items, depth, site)


def elements_of(values) -> frozenset:
    """What iterating over any of ``values`` may yield."""
    if values is UNKNOWN_SET:
        return UNKNOWN_SET
    out: set = set()
    for value in values:
        kind = type(value)
        if kind is Seq:
            for item in value.items:
                out |= item
            if not value.items:
                continue
        elif kind is Mapping:
            for key, _item in value.items:
                out.add(UNKNOWN if key is None else Const(key))
        else:
            out.add(UNKNOWN)
    return frozenset(out) if out else UNKNOWN_SET


def string_consts(values) -> list[str] | None:
    """The literal strings in ``values``, or None if any member is not one."""
    result = []
    for value in values:
        if type(value) is Const and isinstance(value.value, str):
            result.append(value.value)
        else:
            return None
    return result
