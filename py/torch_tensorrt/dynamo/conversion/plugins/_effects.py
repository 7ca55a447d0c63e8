"""Which pointer parameters a Triton kernel may write and read, from its Triton IR (TTIR).

NOTE: [Memory effects]
A body with several launches becomes a chain of AOT layers (``_chain``) only if it is known, for
every launch, which tensors the kernel writes: a tensor written by one kernel and read by a later
one becomes a TensorRT tensor between two layers, and a write that went unnoticed would be lost.
Guessing from the order of allocation could be silently wrong, so the kernel's own TTIR decides.

Every store-like op (``tt.store``, the atomics, the descriptor stores) and load-like op has an
address operand; its definition is followed back through the ops that only move or offset a
pointer (``tt.addptr``, ``tt.splat``, ``tt.broadcast``, block pointers and descriptors, ``select``,
loop-carried values of ``scf.for`` and results of ``scf.for`` / ``scf.if``) to the kernel's pointer
parameters. Anything else on the way (a pointer loaded from memory, ``tt.int_to_ptr``, a call to a
``noinline`` function, inline assembly, ``scf.while``) makes the answer "every pointer parameter",
which can only make a chain impossible, never wrong. Parameters are identified by position among
the kernel's runtime parameters (constexprs are compiled in and do not appear).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

#: Ops whose result points into the same buffer(s) as their pointer operand(s): which operands.
_FOLLOW_FIRST = {
    "tt.addptr",
    "tt.splat",
    "tt.broadcast",
    "tt.expand_dims",
    "tt.reshape",
    "tt.trans",
    "tt.advance",
    "tt.make_tensor_ptr",
    "tt.make_tensor_descriptor",
    "tt.bitcast",
    "tt.split",
}
_FOLLOW_ALL = {"tt.join", "tt.cat"}
_STORES = {
    "tt.store",
    "tt.atomic_rmw",
    "tt.atomic_cas",
    "tt.descriptor_store",
    "tt.descriptor_scatter",
    "tt.descriptor_reduce",
}
_LOADS = {
    "tt.load",
    "tt.descriptor_load",
    "tt.descriptor_gather",
    "tt.atomic_rmw",
    "tt.atomic_cas",
}
#: Ops that may touch memory in ways the address analysis cannot see.
_OPAQUE = {"tt.call", "tt.elementwise_inline_asm", "tt.experimental_tensormap_create"}
#: Ops known to take pointers or descriptors without touching memory (or handled above). Any other
#: op whose types mention a pointer or a descriptor is treated as touching every pointer parameter
#: (an op of another Triton release, e.g. 3.3's ``tt.experimental_descriptor_store``).
_POINTER_SAFE = (
    _FOLLOW_FIRST
    | _FOLLOW_ALL
    | _STORES
    | _LOADS
    | {
        "arith.select",
        "scf.for",
        "scf.if",
        "scf.yield",
        "tt.return",
        "tt.ptr_to_int",
        "tt.int_to_ptr",
        "tt.func",
    }
)

_VALUE = r"%[\w.$-]+(?:#\d+)?"
_DEF = re.compile(r"^\s*(%[\w.$-]+)(?::(\d+))?\s*=\s*\"?([\w.]+)\"?(.*)$")
_OP = re.compile(r"^\s*\"?([\w.]+)\"?(.*)$")
_FUNC = re.compile(r"^\s*tt\.func\b[^@]*@[\w.$-]+\((.*)\)")
_ITER_ARGS = re.compile(r"iter_args\((.*?)\)\s*->")
_LOC = re.compile(r"\bloc\((?:[^()]|\([^()]*\))*\)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _without_strings(line: str) -> str:
    """``line`` with the contents of its string literals (tt.print / tt.assert messages, which may
    hold braces or ``%``) blanked; quoted op names (``"tt.reduce"``) are kept."""
    return _STRING.sub(
        lambda m: m.group() if re.fullmatch(r'"[\w.]+"', m.group()) else '""', line
    )


@dataclass(frozen=True)
class MemoryEffects:
    """What a kernel may do to the memory behind its pointer parameters (by runtime position).

    ``unresolved`` lists the ops whose address could not be traced (then every pointer parameter
    is counted as written or read by them); ``pointers`` is every pointer parameter position.
    """

    writes: FrozenSet[int]
    reads: FrozenSet[int]
    pointers: FrozenSet[int]
    unresolved: Tuple[str, ...] = ()


@dataclass
class _Region:
    """An scf.for / scf.if being read: its results, loop-carried values, inits and yields."""

    results: List[str]  # unique ids of the results
    inits: List[str]
    iter_args: List[str]
    yields: List[List[str]]
    depth: int


class _Function:
    """One ``tt.func`` with every SSA value renamed to a unique id.

    MLIR's printer scopes value names per region (both branches of an ``scf.if`` may define
    ``%p``), so each use is looked up through the regions enclosing it when it is read.
    """

    def __init__(self) -> None:
        self.params: Dict[str, Tuple[int, bool]] = {}  # id -> (position, is pointer)
        self.defs: Dict[str, Tuple[str, List[str]]] = {}  # id -> (op, operand ids)
        #: loop-carried values and region results: id -> ids it may be (inits, yields)
        self.joins: Dict[str, List[str]] = {}
        self.memory: List[Tuple[str, str, str]] = []  # (op, address id, line)
        self.opaque: List[str] = []
        self._scopes: List[Dict[str, str]] = [{}]
        self._count = 0

    def define(self, name: str) -> str:
        self._count += 1
        uid = f"{name}@{self._count}"
        self._scopes[-1][name] = uid
        return uid

    def use(self, name: str) -> str:
        base, _, index = name.partition("#")
        for scope in reversed(self._scopes):
            if base in scope:
                return scope[base] + (f"#{index}" if index else "")
        return "?" + name  # not defined where it is used: cannot be traced

    def uses(self, text: str) -> List[str]:
        return [self.use(v) for v in re.findall(_VALUE, text.split(" : ")[0])]

    def enter(self) -> None:
        self._scopes.append({})

    def leave(self) -> None:
        if len(self._scopes) > 1:
            self._scopes.pop()


def _parse(ttir: str) -> _Function:
    fn = _Function()
    functions = 0
    stack: List[_Region] = []
    for raw in ttir.splitlines():
        line = _without_strings(_LOC.sub("", raw)).rstrip()
        stripped = line.strip()
        opened = line.count("{") - line.count("}")
        if not stripped or stripped.startswith(("#", "//", "module")):
            continue
        if stripped.startswith(
            "^"
        ):  # block arguments (a reduce combiner): opaque values
            for name in re.findall(r"(%[\w.$-]+):", stripped):
                fn.define(name)
            continue
        header = _FUNC.match(line)
        if header:
            functions += 1
            fn.enter()
            for position, param in enumerate(header.group(1).split(",")):
                name, _, typ = param.strip().partition(":")
                fn.params[fn.define(name.strip())] = (position, "!tt.ptr" in typ)
            continue
        if stripped.startswith("}"):
            if stripped.startswith(
                "} else"
            ):  # the else region of the scf.if being read
                fn.leave()
                fn.enter()
                if stack:
                    stack[-1].yields.append([])
                continue
            for _ in range(-opened):
                if stack and stack[-1].depth == len(fn._scopes):
                    _close(fn, stack.pop())
                fn.leave()
            continue
        m = _DEF.match(line)
        if m:
            result, count, op, rest = (
                m.group(1),
                int(m.group(2) or 1),
                m.group(3),
                m.group(4),
            )
        else:
            om = _OP.match(line)
            if om is None:
                continue
            result, count, op, rest = "", 0, om.group(1), om.group(2)
        if op in ("scf.for", "scf.if"):
            pairs: List[Tuple[str, str]] = []
            if op == "scf.for":
                found = _ITER_ARGS.search(rest)
                for pair in found.group(1).split(",") if found else []:
                    left, _, right = pair.partition("=")
                    pairs.append((left.strip(), fn.use(right.strip())))
            uid = fn.define(result) if result else ""
            results = [uid] if count == 1 else [f"{uid}#{i}" for i in range(count)]
            region = _Region(results if uid else [], [i for _, i in pairs], [], [[]], 0)
            fn.enter()
            region.depth = len(fn._scopes)
            region.iter_args = [fn.define(name) for name, _ in pairs]
            for _ in range(opened - 1):
                fn.enter()
            stack.append(region)
            continue
        if op == "scf.yield":
            if stack and stack[-1].depth == len(fn._scopes):
                stack[-1].yields[-1] = fn.uses(rest)
            continue
        operands = fn.uses(rest)
        if result:
            uid = fn.define(result)
            names = [uid] if count <= 1 else [f"{uid}#{i}" for i in range(count)]
            for name in names:
                fn.defs[name] = (op, operands)
        if op in _STORES or op in _LOADS:
            fn.memory.append((op, operands[0] if operands else "?", stripped))
        elif op in _OPAQUE:
            fn.opaque.append(stripped)
        elif op not in _POINTER_SAFE and re.search(r"!tt\.ptr|tensordesc", rest):
            fn.opaque.append(stripped)  # an unknown op taking a pointer or a descriptor
        for _ in range(opened):
            fn.enter()
        for _ in range(-opened):
            fn.leave()
    if functions != 1:
        fn.opaque.append(f"{functions} functions in the module (a noinline call)")
    if stack or len(fn._scopes) != 1:
        fn.opaque.append("regions that do not close where they open")
    return fn


def _close(fn: _Function, region: _Region) -> None:
    """Values of a finished scf.for / scf.if: each result and loop-carried value may be its init
    or any yield at its position."""
    for position in range(max(len(region.results), len(region.iter_args))):
        sources = [region.inits[position]] if position < len(region.inits) else []
        sources += [y[position] for y in region.yields if position < len(y)]
        if position < len(region.iter_args):
            fn.joins[region.iter_args[position]] = sources
        if position < len(region.results):
            fn.joins[region.results[position]] = sources


def _resolve(fn: _Function, value: str, seen: Set[str]) -> Optional[Set[int]]:
    """Pointer parameter positions ``value`` may point into (None: cannot tell)."""
    if value in seen:
        return set()
    seen.add(value)
    if value in fn.params:
        position, is_pointer = fn.params[value]
        return {position} if is_pointer else set()
    if value in fn.joins:
        found: Set[int] = set()
        for source in fn.joins[value]:
            part = _resolve(fn, source, seen)
            if part is None:
                return None
            found |= part
        return found
    definition = fn.defs.get(value)
    if definition is None:
        return None
    op, operands = definition
    if op in _FOLLOW_FIRST and operands:
        follow = operands[:1]
    elif op in _FOLLOW_ALL:
        follow = operands
    elif op == "arith.select" and len(operands) == 3:
        follow = operands[1:]
    else:
        return None
    found = set()
    for operand in follow:
        part = _resolve(fn, operand, seen)
        if part is None:
            return None
        found |= part
    return found


def memory_effects(ttir: str) -> MemoryEffects:
    """The pointer parameters the kernel of ``ttir`` may write and read (NOTE [Memory effects])."""
    fn = _parse(ttir)
    pointers = frozenset(p for p, is_pointer in fn.params.values() if is_pointer)
    writes: Set[int] = set()
    reads: Set[int] = set()
    unresolved: List[str] = list(fn.opaque)
    if fn.opaque:
        writes |= pointers
        reads |= pointers
    for op, address, line in fn.memory:
        targets = _resolve(fn, address, set())
        if targets is None:
            unresolved.append(line)
            targets = set(pointers)
        if op in _STORES:
            writes |= targets
        if op in _LOADS:
            reads |= targets
    return MemoryEffects(
        frozenset(writes), frozenset(reads), pointers, tuple(unresolved)
    )
