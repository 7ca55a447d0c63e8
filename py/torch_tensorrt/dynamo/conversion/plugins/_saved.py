"""Saved programs: which plugins a ``torch_tensorrt.save`` file needs, and making them loadable.

A TensorRT engine names each plugin layer's creator (namespace, name, version). Deserialising it
looks each creator up in TensorRT's plugin registry, so a JIT plugin (Python) must be registered in
the loading process, while an AOT plugin's kernel is in the engine (NOTE [Plugin names] in
``_schema``: AOT plugins end in ``-aot...``). This package registers an op's plugin variants
lazily, at conversion (``-without-x``, ``-hidden-N``), so a fresh process that imported the op's
module has the op's plain plugin at most.

Reading a saved file runs nothing from it: the archive's members are read as bytes, pickles are
walked opcode by opcode (``pickletools``; never unpickled), TensorRT engines are recognised by
their ``ftrt`` magic (base64 or raw), and plugin names are found in an engine's bytes as strings
of this package's naming scheme whose op is defined in this process. No module named in the file
is ever imported; an op whose module is not imported stays unknown and is reported by TensorRT's
own deserialisation error, which ``prepare_load`` passes on.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import pickletools
import re
import zipfile
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

import torch

from ._errors import format_message, user_error
from ._schema import ChainPosition, variant_name

API = "prepare_load"
ENGINE_MAGIC = b"ftrt"


@dataclass(frozen=True)
class PluginName:
    """A plugin name of this package's scheme, split (see ``OpSpec.plugin_name``)."""

    namespace: str
    op: str
    overload: str
    aot: bool
    hidden: int
    tactics: int
    absent: Tuple[str, ...]
    sizes: int = 0
    chain: Optional[ChainPosition] = None  # a layer of a chain of AOT layers
    constants: Tuple[Tuple[str, int], ...] = ()  # constexprs compiled in (AOT)

    @property
    def plugin_id(self) -> str:
        name = variant_name(
            self.op,
            self.overload,
            self.absent,
            self.aot,
            self.hidden,
            self.tactics,
            self.sizes,
            self.chain,
            self.constants,
        )
        return f"{self.namespace}::{name}"

    @property
    def qualname(self) -> str:
        return f"{self.namespace}::{self.op}.{self.overload}"


def parse_plugin_name(namespace: str, name: str) -> Optional[PluginName]:
    """``name`` split by the naming scheme, or None when it does not follow it exactly."""
    tokens = name.split("-")
    op, rest = tokens[0], tokens[1:]
    if not op.isidentifier():
        return None
    overload, aot, hidden, tactics = "default", False, 0, 0
    absent: List[str] = []
    i = 0
    if rest[i : i + 1] == ["overload"] and len(rest) > i + 1:
        overload, i = rest[i + 1], i + 2
    if rest[i : i + 1] == ["aot"]:
        aot, i = True, i + 1
    chain: Optional[ChainPosition] = None
    words = rest[i : i + 2 * len(ChainPosition.WORDS)]
    if words[::2] == list(ChainPosition.WORDS) and all(
        w.isdigit() for w in words[1::2]
    ):
        chain = ChainPosition(*(int(w) for w in words[1::2]))
        i += len(words)
    constants: List[Tuple[str, int]] = []
    while rest[i : i + 1] == ["const"] and len(rest) > i + 2 and rest[i + 2].isdigit():
        if not rest[i + 1].isidentifier():
            return None
        constants.append((rest[i + 1], int(rest[i + 2])))
        i += 3
    counts = {"hidden": 0, "tactics": 0, "sizes": 0}
    for word in counts:
        if rest[i : i + 1] == [word] and len(rest) > i + 1 and rest[i + 1].isdigit():
            counts[word] = int(rest[i + 1])
            i += 2
    hidden, tactics, sizes = counts["hidden"], counts["tactics"], counts["sizes"]
    if rest[i : i + 1] == ["without"] and len(rest) > i + 1:
        absent, i = rest[i + 1 :], len(rest)
    if i != len(rest) or not all(
        t.isidentifier() for t in [overload, *absent]
    ):  # anything left over: not one of ours
        return None
    if absent != sorted(absent) or ((tactics or chain or constants) and not aot):
        return None
    parsed = PluginName(
        namespace,
        op,
        overload,
        aot,
        hidden,
        tactics,
        tuple(absent),
        sizes,
        chain,
        tuple(constants),
    )
    return parsed if parsed.plugin_id == f"{namespace}::{name}" else None


# -- reading a saved file -------------------------------------------------------------------------
Source = Union[str, "os.PathLike[str]", bytes]


def engines_in(source: Source) -> List[bytes]:
    """The serialized TensorRT engines in a ``torch_tensorrt.save`` archive (path), or ``source``
    itself when it is a serialized engine (bytes)."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        if data.startswith(ENGINE_MAGIC):
            return [data]
        return _engines_in_blob(data)
    path = os.fspath(source)
    if not os.path.exists(path):
        raise user_error(
            API,
            path,
            "no such file",
            fix="Pass the path given to torch_tensorrt.save",
            cls=FileNotFoundError,
        )
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            return _engines_in_blob(f.read())
    found: List[bytes] = []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            found.extend(_engines_in_blob(archive.read(info)))
    return found


def _engines_in_blob(data: bytes) -> List[bytes]:
    if data.startswith(ENGINE_MAGIC):
        return [data]
    found = []
    for value in _pickled_strings(data):
        engine = _as_engine(value)
        if engine is not None:
            found.append(engine)
    return found


def _pickled_strings(data: bytes) -> Iterator[Union[str, bytes]]:
    """The str and bytes constants of a pickle, read opcode by opcode (nothing is executed)."""
    if not data[:1] == b"\x80":  # pickle protocol 2+ starts with PROTO
        return
    try:
        for _, arg, _ in pickletools.genops(io.BytesIO(data)):
            if isinstance(arg, (str, bytes)):
                yield arg
    except (
        Exception
    ):  # not a pickle after all, or truncated: what was read is all there is
        return


def _as_engine(value: Union[str, bytes]) -> Optional[bytes]:
    raw = value if isinstance(value, bytes) else None
    if raw is not None and raw.startswith(ENGINE_MAGIC):
        return raw
    text = value if isinstance(value, str) else None
    if text is None or len(text) < 16 or not text.startswith("ZnRyd"):  # b64("ftrt")
        return None
    try:
        decoded = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    return decoded if decoded.startswith(ENGINE_MAGIC) else None


_RUN = re.compile(rb"[\x20-\x7e]+")


def plugin_names_in(engine: bytes, ops: Dict[str, Set[str]]) -> List[PluginName]:
    """Plugin names of this package's scheme in ``engine`` whose op is one of ``ops`` (op name ->
    namespaces defining it) and whose namespace is a string of the engine too.

    An engine stores a plugin's name and namespace as strings of their own; a candidate is a
    whole run of printable bytes (also without its first byte, which may be a printable length),
    so a layer name such as ``ns::op/node`` does not count as the plugin ``op``.
    """
    strings: Set[str] = set()
    for match in _RUN.finditer(engine):
        run = match.group().decode("ascii")
        strings.update((run, run[1:]))
    found: Dict[str, PluginName] = {}
    for candidate in strings:
        op = candidate.split("-", 1)[0]
        for namespace in ops.get(op, ()):
            if namespace not in strings:
                continue
            parsed = parse_plugin_name(namespace, candidate)
            if parsed is not None:
                found[parsed.plugin_id] = parsed
    return [found[k] for k in sorted(found)]


def defined_ops() -> Dict[str, Set[str]]:
    """Op name -> namespaces of the ops defined in this process (what the user's imports defined)."""
    ops: Dict[str, Set[str]] = {}
    for qualname in torch._C._dispatch_get_all_op_names():
        namespace, _, rest = qualname.partition("::")
        if namespace in ("aten", "prim", "prims", "_c10d_functional", "c10d"):
            continue
        ops.setdefault(rest.split(".", 1)[0], set()).add(namespace)
    return ops


# -- status ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SavedPlugin:
    """One plugin a saved program's engines name, and whether this process can load it."""

    plugin_id: str
    op: str  # "ns::op.overload"
    kind: (
        str  # "aot" (the kernel is in the engine) | "jit" (needs the op's Python code)
    )
    registered: bool  # whether TensorRT's plugin registry has its creator now
    loadable: bool  # AOT, registered, or registrable by prepare_load in this process
    note: str

    def __str__(self) -> str:
        state = "ok" if self.loadable else "MISSING"
        return f"{self.plugin_id} [{self.kind}] {state}: {self.note}"


def status_of(name: PluginName) -> SavedPlugin:
    from . import _registry

    plugin_id = name.plugin_id
    registered = _creator_registered(name.namespace, plugin_id.split("::", 1)[1])
    if name.aot:
        return SavedPlugin(
            plugin_id,
            name.qualname,
            "aot",
            registered,
            True,
            "its kernel is in the engine: loading needs neither this package nor the op",
        )
    record = _registry.lookup(API, name.qualname)
    if registered:
        note = "registered in this process"
    elif record is not None:
        note = "its op's plugin is generated here: prepare_load registers this variant"
    else:
        note = (
            f"its op {name.qualname} is defined here: prepare_load generates its plugin"
            if _op_defined(name)
            else f"the op {name.qualname} is not defined in this process: import the module "
            "that defines it (and calls custom_op), then call prepare_load"
        )
    return SavedPlugin(
        plugin_id,
        name.qualname,
        "jit",
        registered,
        registered or record is not None or _op_defined(name),
        note,
    )


def _creator_registered(namespace: str, name: str) -> bool:
    import tensorrt as trt

    return trt.get_plugin_registry().get_creator(name, "1", namespace) is not None


def _op_defined(name: PluginName) -> bool:
    packet = getattr(getattr(torch.ops, name.namespace), name.op, None)
    return packet is not None and name.overload in packet.overloads()


def _names(source: Source) -> Tuple[List[bytes], Dict[str, PluginName]]:
    """The engines of ``source`` and the plugin names found in them, by plugin id."""
    engines = engines_in(source)
    ops = defined_ops()
    names: Dict[str, PluginName] = {}
    for engine in engines:
        for name in plugin_names_in(engine, ops):
            names[name.plugin_id] = name
    return engines, names


def required(source: Source) -> Tuple[SavedPlugin, ...]:
    _, names = _names(source)
    return tuple(status_of(names[k]) for k in sorted(names))


def register(
    saved: Sequence[SavedPlugin], names: Dict[str, PluginName], label: str = ""
) -> None:
    """Register every JIT variant in ``saved`` whose op is defined in this process (noted in the
    op's ``plugin_status().prepared`` under ``label``)."""
    from ._generate_plugin import _generate_plugin
    from ._registry import lookup

    for plugin in saved:
        name = names[plugin.plugin_id]
        if plugin.kind != "jit" or plugin.registered or not plugin.loadable:
            continue
        record = lookup(API, name.qualname) or _generate_plugin(name.qualname, api=API)
        absent = frozenset(name.absent)
        if name.hidden or name.sizes:
            record.hidden_variant(absent, name.hidden, name.sizes)
        else:
            record.variant(absent)
        done = record.prepared.setdefault(label, [])
        if plugin.plugin_id not in done:
            done.append(plugin.plugin_id)


# -- public API -----------------------------------------------------------------------------------
class MissingPluginsError(RuntimeError):
    """A saved program needs plugins this process cannot provide (the message lists them)."""


def saved_plugins(path: Source) -> Tuple[SavedPlugin, ...]:
    """The plugins a saved program's TensorRT engines need, and which of them this process lacks.

    Reads the file without running anything from it (see the module docstring). Plugins of ops
    this process does not define cannot be named from the engine alone; ``prepare_load`` reports
    them through TensorRT's own deserialisation error.

    Args:
        path: A file written by ``torch_tensorrt.save`` (or the bytes of one serialized engine).

    Returns:
        One ``SavedPlugin`` per plugin found: its id, op, kind (``"aot"``: the kernel is in the
        engine, nothing is needed to load it; ``"jit"``: the op's Python code is), whether
        TensorRT's registry has it now and whether it is loadable here.

    Example:
        >>> from torch_tensorrt.dynamo.conversion.plugins import saved_plugins
        >>> for p in saved_plugins("model.ep"):  # doctest: +SKIP
        ...     print(p)
    """
    return required(path)


def prepare_load(path: Source) -> Tuple[SavedPlugin, ...]:
    """Make a saved program loadable in this process; call it before ``torch_tensorrt.load``.

    Import the modules that define your ops first (this function never imports anything named in
    the file: that would run code chosen by the file). For every JIT plugin the file's engines
    need whose op is defined here, the op's plugin is generated (as ``generate_plugin`` does) and
    the variant registered; AOT plugins need nothing. Then every engine is deserialised once with
    TensorRT as a check.

    Args:
        path: A file written by ``torch_tensorrt.save`` (or the bytes of one serialized engine).

    Returns:
        The plugins found, as ``saved_plugins`` gives them after registration.

    Raises:
        MissingPluginsError: An engine still cannot be deserialised (a plugin of an op this process
            does not define, or another TensorRT error); the message lists the plugins and
            TensorRT's own errors, and says what to import.

    Example:
        >>> import my_ops  # doctest: +SKIP  (defines my_lib::my_op)
        >>> from torch_tensorrt.dynamo.conversion.plugins import prepare_load
        >>> prepare_load("model.ep")  # doctest: +SKIP
        >>> model = torch_tensorrt.load("model.ep").module()  # doctest: +SKIP
    """
    engines, names = _names(path)
    label = (
        "<engine bytes>"
        if isinstance(path, (bytes, bytearray))
        else str(os.fspath(path))
    )
    register([status_of(names[k]) for k in sorted(names)], names, label)
    found = tuple(status_of(names[k]) for k in sorted(names))
    errors = [e for engine in engines for e in _deserialisation_errors(engine)]
    if errors:
        missing = [str(p) for p in found if not p.loadable]
        raise MissingPluginsError(
            format_message(
                API,
                label,
                "TensorRT cannot deserialise an engine of this saved program in this process",
                got="; ".join(errors[:5]),
                expected="every plugin the engines name registered, or AOT",
                fix=(
                    ("Plugins of ops not defined here: " + "; ".join(missing) + ". ")
                    if missing
                    else ""
                )
                + "Import the module that defines each op named in TensorRT's error (and calls "
                "custom_op or generate_plugin for it), then call prepare_load again",
            )
        )
    return found


def _deserialisation_errors(engine: bytes) -> List[str]:
    import tensorrt as trt

    class _Collect(trt.ILogger):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)
            self.errors: List[str] = []

        def log(self, severity: Any, msg: str) -> None:
            if severity in (
                trt.ILogger.Severity.ERROR,
                trt.ILogger.Severity.INTERNAL_ERROR,
            ):
                self.errors.append(str(msg))

    logger = _Collect()
    runtime = trt.Runtime(logger)
    deserialised = runtime.deserialize_cuda_engine(engine)
    if deserialised is not None:
        return []
    return logger.errors or ["deserialize_cuda_engine returned None"]
