"""Ahead-of-time plugins: the op's Triton launch as PTX, so the engine runs without Python.

For each call site the converter asks ``chooser(record)``: capture the op's body symbolically for
the call's identity (``_capture``, shared with the JIT runtime), prove the capture's size guards for
every shape the exported graph allows, check that the grid and extras lower to TensorRT shape
expressions, compile it to PTX in TensorRT's parameter order (``_triton_aot``) for the GPU the
engine is built on, and register the variant's AOT plugin (``"<op>-aot"``: same shape function, an
``aot_impl``, no JIT impl). Any failure keeps the call site on the JIT plugin; the reason is logged
once (INFO for the expected cases, WARNING for an unexpected error, e.g. Triton failing to compile
the kernel) and kept in the compile's report (``plugin_status(op).aot_unavailable``).

A hand-written ``@trtp.aot_impl`` attached to the op's generated plugin takes precedence over this
module (see ``_converter.choose_implementation``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import sympy
import torch
from torch.fx.node import Node

from . import _chain, _functional, _hidden, _interpreter, _qdp, _triton_aot
from ._binding import BoundCall
from ._capture import ArgSource, CapturedChain, CapturedLaunch, CaptureUnavailable
from ._chain import ChainChoice, ChainPlan
from ._identity import CallKey
from ._registry import PluginRecord
from ._schema import ChainPosition
from ._shape_program import UnsupportedExpression, compile_expr
from ._symbolic import unproven_guards
from ._triton_aot import AOTUnavailable, CompiledKernel
from ._variant import PluginVariant

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class KernelKey:
    """What one AOT kernel was compiled for: the call identity and the target GPU and driver."""

    call: CallKey
    target: int  # compute capability, e.g. 90
    driver: Optional[int]  # CUDA driver version (caps the PTX ISA version)
    tactic: int = 0  # the triton.autotune config (tactic - 1); 0 for a plain kernel
    device: int = (
        0  # the CUDA device the engine is built on (engines per GPU never share a kernel)
    )
    step: int = (
        0  # the launch (1-based) of a chain of AOT layers; 0 for a single launch
    )
    #: constexprs computed from sizes, compiled in (NOTE [Constexprs over a profile])
    constants: Tuple[Tuple[str, int], ...] = ()


@dataclass
class AOTState:
    """Per plugin family: compiled kernels (with the capture each was made from) and AOT variants."""

    #: Each with the capture it was compiled from (a CapturedLaunch, or a chain's CapturedChain).
    kernels: Dict[KernelKey, Tuple[Any, CompiledKernel]] = field(default_factory=dict)
    #: By (absent tensors, hidden outputs, tactics, constexprs compiled in).
    variants: Dict[
        Tuple[FrozenSet[str], int, int, Tuple[Tuple[str, int], ...]], PluginVariant
    ] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    compiles: int = 0  # kernels compiled or read from the disk cache (tests)
    #: Call identities whose capture's size guards the converter proved against an exported graph
    #: before giving a call site the AOT plugin; TensorRT's aot_impl sees shape expressions only,
    #: without ranges, and relies on that proof.
    proven: Dict[CallKey, Any] = field(default_factory=dict)
    #: Chains of AOT layers (NOTE [Launch chains]): plans by (call identity, compute capability),
    #: each kept with the capture it was planned from, and the layers' plugins by (absent
    #: tensors, position in the chain).
    plans: Dict[Tuple[CallKey, int], ChainPlan] = field(default_factory=dict)
    layers: Dict[Tuple[FrozenSet[str], ChainPosition], PluginVariant] = field(
        default_factory=dict
    )


def state_of(record: PluginRecord) -> AOTState:
    if record.aot is None:
        record.aot = AOTState()
    state: AOTState = record.aot
    return state


def target_capability(device: Optional[int] = None) -> Optional[int]:
    """Compute capability (e.g. 90) of the GPU an engine is built for: ``device`` (the compile's
    ``settings.device``), else the current CUDA device.

    None without a CUDA device: an AOT kernel is only chosen where the engine can run it.
    """
    if not torch.cuda.is_available():
        return None
    major, minor = torch.cuda.get_device_capability(device)
    return int(major) * 10 + int(minor)


def engine_device(ctx: Any = None) -> int:
    """The CUDA device index an engine is built on: the compile's ``settings.device``, else the
    current device (inside TensorRT's build callbacks, which run on the engine's device).
    """
    settings = getattr(ctx, "compilation_settings", None)
    gpu_id = getattr(getattr(settings, "device", None), "gpu_id", None)
    if isinstance(gpu_id, int) and gpu_id >= 0:
        return gpu_id
    return int(torch.cuda.current_device()) if torch.cuda.is_available() else 0


# NOTE: [Constexprs over a profile]
# A ``tl.constexpr`` computed from a dynamic size (``BLOCK=triton.next_power_of_2(n_cols)``) would
# need one kernel per value, but TensorRT launches one AOT kernel for every shape of the engine's
# profile. When the value is the same for every shape the exported graph allows (the columns range
# over 33..64: BLOCK is 64 throughout), it is compiled in, and the plugin's name carries it
# (``op-aot-const-BLOCK-64``): two engines whose profiles give other values get other plugins and
# other kernels. The ranges are the export's (they bound TensorRT's profile); a lower bound of 2,
# which is torch's default for a dynamic size, is widened to 1, the smallest size TensorRT's
# profile may still take. Each combination of sizes is evaluated (at most ``MAX_ENUMERATED``), so
# nothing about the expression is assumed; otherwise the site stays JIT with the reason.

MAX_ENUMERATED = 1 << 16


def constants_over_profile(
    captured: CapturedLaunch,
    exprs: Dict[Tuple[int, int], Any],
    shape_env: Any,
) -> Tuple[Tuple[str, int], ...]:
    """The size-dependent ``tl.constexpr`` arguments of ``captured`` (every autotune config's) that
    take one value for every shape the graph allows, with that value (NOTE [Constexprs over a
    profile])."""
    found: Dict[str, Optional[int]] = {}
    for launch in captured.alternatives or (captured,):
        for name, source in zip(launch.arg_names, launch.args):
            if (
                source.kind == "int"
                and name in launch.constexpr_names
                and source.expr is not None
                and source.expr.free_symbols
            ):
                value = _one_value(source.expr, launch.symbols, exprs, shape_env)
                # another config giving another value (or none) compiles nothing in
                found[name] = value if found.get(name, value) == value else None
    return tuple(sorted((n, v) for n, v in found.items() if v is not None))


def _one_value(
    expr: sympy.Expr,
    symbols: Sequence[Tuple[sympy.Symbol, Any]],
    exprs: Dict[Tuple[int, int], Any],
    shape_env: Any,
) -> Optional[int]:
    """The value ``expr`` (over a capture's symbols) takes for every shape the graph allows, or
    None when it takes several, or the ranges are unknown or too wide to evaluate."""
    import itertools

    dims = dict(symbols)
    places = [(dims[s].input_index, dims[s].dim) for s in expr.free_symbols]
    if any(p not in exprs for p in places):
        return None
    value = sympy.sympify(expr).xreplace(
        {s: sympy.sympify(exprs[p]) for s, p in zip(expr.free_symbols, places)}
    )
    free = sorted(value.free_symbols, key=str)
    ranges: List[range] = []
    for symbol in free:
        bounds = getattr(shape_env, "var_to_range", {}).get(symbol)
        if bounds is None:
            return None
        try:  # torch's int_oo (no upper bound) claims to be finite; int() of it fails
            lo, hi = int(bounds.lower), int(bounds.upper)
        except Exception:
            return None
        if hi - lo > MAX_ENUMERATED:
            return None
        ranges.append(
            range(1 if lo == 2 else lo, hi + 1)
        )  # torch's 2 may be TensorRT's 1
    if _product(len(r) for r in ranges) > MAX_ENUMERATED:
        return None
    seen = {
        value.xreplace(dict(zip(free, map(sympy.Integer, combo))))
        for combo in itertools.product(*ranges)
    }
    if len(seen) != 1:
        return None
    (only,) = seen
    return int(only) if only.is_Integer and int(only) >= 0 else None


def _product(values: Any) -> int:
    total = 1
    for v in values:
        total *= v
    return total


def specialized(
    launch: CapturedLaunch, constants: Tuple[Tuple[str, int], ...]
) -> CapturedLaunch:
    """``launch`` with each of ``constants`` as a compiled-in value instead of a size expression."""
    import dataclasses

    if not constants:
        return launch
    values = dict(constants)
    names = set(launch.arg_names)
    missing = sorted(set(values) - names)
    if missing:
        raise AOTUnavailable(
            f"the plugin compiles in {missing}, which the captured launch does not take"
        )
    args = tuple(
        ArgSource("value", value=values[name]) if name in values else source
        for name, source in zip(launch.arg_names, launch.args)
    )
    alternatives = tuple(specialized(a, constants) for a in launch.alternatives)
    return dataclasses.replace(launch, args=args, alternatives=alternatives)


def _compile(
    record: PluginRecord,
    key: CallKey,
    captured: CapturedLaunch,
    tactic: int = 0,
    device: Optional[int] = None,
    constants: Tuple[Tuple[str, int], ...] = (),
) -> CompiledKernel:
    """The kernel of ``captured`` (of its config ``tactic - 1`` when it is autotuned) for the
    engine's ``device`` (default: the current device), with ``constants`` compiled in.
    """
    if device is None:
        device = engine_device()
    target = target_capability(device)
    if target is None:
        raise AOTUnavailable(
            f"{record.display}: no CUDA device to compile the kernel for"
        )
    if captured.alternatives and not 1 <= tactic <= len(captured.alternatives):
        raise AOTUnavailable(
            f"{record.display}: tactic {tactic} is not one of the autotuner's "
            f"{len(captured.alternatives)} configs"
        )
    launch = specialized(
        captured.alternatives[tactic - 1] if captured.alternatives else captured,
        constants,
    )
    state = state_of(record)
    kernel_key = KernelKey(
        key,
        target,
        _triton_aot.current_driver_version(),
        tactic if captured.alternatives else 0,
        device,
        constants=constants,
    )
    with state.lock:
        found = state.kernels.get(kernel_key)
        if found is not None and found[0] is captured:
            return found[1]
        program = record.programs.get_or_trace(
            "generate_plugin", record.spec, record.op, key
        )
        input_dtypes = [t.dtype for t in key.tensors if t is not None]
        kernel = _triton_aot.compile_launch(
            record.display,
            launch,
            input_dtypes,
            [o.dtype for o in program.outputs],
            target=target,
            driver_version=kernel_key.driver,
        )
        state.kernels[kernel_key] = (captured, kernel)
        state.compiles += 1
        return kernel


INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _check_int32(
    record: PluginRecord,
    program: Any,
    captured: CapturedLaunch,
    exprs: Dict[Tuple[int, int], Any],
    shape_env: Any,
) -> None:
    """Every size-dependent integer the kernel takes must fit TensorRT's int32 extras.

    Triton's own launch passes an integer above int32 as int64 (and compiles the kernel for it);
    TensorRT's AOT extras are int32, so a value that can exceed it for a shape the exported graph
    allows would wrap silently. Such a call site stays JIT.
    """
    bounds = [
        (name, cond)
        for name, source in zip(captured.arg_names, captured.args)
        if source.kind == "int" and source.expr is not None and source.expr.free_symbols
        for cond in (
            sympy.Le(source.expr, INT32_MAX),
            sympy.Ge(source.expr, INT32_MIN),
        )
    ]
    if not bounds:
        return
    if not exprs:
        raise AOTUnavailable(
            f"{record.display}: the graph's shape information is not available to check that the "
            "kernel's integer arguments fit TensorRT's int32 extras"
        )
    for name, cond in bounds:
        checked = type(program)(program.outputs, captured.symbols, (cond,))
        unproven = unproven_guards(checked, exprs, shape_env)
        if unproven:
            raise AOTUnavailable(
                f"{record.display}: kernel argument '{name}' can exceed int32 for the shapes the graph "
                f"allows (not proven: {unproven[0]}); TensorRT's AOT extras are int32, so the site "
                "stays JIT, where Triton passes it as int64"
            )


def check_lowerable(op: str, captured: CapturedLaunch) -> None:
    """The grid and int32 extras must be TensorRT shape expressions (else: stays JIT, with the reason)."""
    exprs = list(captured.grid) + [
        a.expr
        for name, a in zip(captured.arg_names, captured.args)
        if a.kind == "int"
        and a.expr is not None
        and name
        not in captured.constexpr_names  # compiled in, or refused when compiling
    ]
    for expr in exprs:
        try:
            compile_expr(expr)
        except UnsupportedExpression as e:
            raise AOTUnavailable(
                f"{op}: a launch value cannot be a TensorRT shape expression: {e}"
            ) from None


def aot_variant(
    record: PluginRecord,
    variant: PluginVariant,
    hidden: int = 0,
    tactics: int = 0,
    constants: Tuple[Tuple[str, int], ...] = (),
) -> PluginVariant:
    """The AOT plugin of ``variant`` whose kernel writes ``hidden`` scratch tensors, for a
    ``triton.autotune`` kernel offers its ``tactics`` configs as TensorRT tactics, and compiles
    ``constants`` in (registered on first use; see NOTE [Scratch tensors] and NOTE [Autotuned
    kernels] in ``_capture``, NOTE [Constexprs over a profile]).
    """
    state = state_of(record)
    with state.lock:
        record.require_live("generate_plugin_converter")
        existing = state.variants.get((variant.absent, hidden, tactics, constants))
        if existing is not None:
            return existing
        aot = variant.sibling(
            aot=True, hidden_outputs=hidden, tactics=tactics, constants=constants
        )

        def kernel_for(
            descs: Sequence[Any], attributes: Tuple[Any, ...], tactic: int = 0
        ) -> Tuple[CompiledKernel, Any]:
            key = aot.call_key([_qdp.signature_of(d) for d in descs], attributes)
            program = record.programs.get_or_trace(
                "generate_plugin", record.spec, record.op, key
            )
            captured = record.captures.get(key, program)
            if captured.guards and state.proven.get(key) is not captured:
                launch_program = type(program)(
                    program.outputs, captured.symbols, captured.guards
                )
                if unproven_guards(launch_program, {}, None):
                    raise AOTUnavailable(
                        f"{aot.plugin_id}: the captured launch holds only under size guards that were not checked"
                    )
            if len(captured.scratch) != hidden:
                raise AOTUnavailable(_hidden.mismatch(aot, captured))
            if len(captured.alternatives) != tactics:
                raise AOTUnavailable(
                    f"{aot.plugin_id}: the plugin offers {tactics} tactics, but the op's body "
                    f"launches an autotuner with {len(captured.alternatives)} configs for these inputs"
                )
            return (
                _compile(record, key, captured, tactic, None, aot.constants),
                captured.symbols,
            )

        _qdp.register(
            aot,
            _qdp.make_register_function(
                aot, _hidden.outputs_fn(record, aot) if hidden else None
            ),
            None,
            _qdp.make_aot_impl_function(aot, kernel_for),
            _qdp.make_autotune_function(aot) if tactics else None,
        )
        state.variants[(variant.absent, hidden, tactics, constants)] = aot
        return aot


def remove(record: PluginRecord) -> None:
    state = record.aot
    if state is None:
        return
    for aot in list(state.variants.values()) + list(state.layers.values()):
        _qdp.unregister(aot.plugin_id)
    state.variants.clear()
    state.layers.clear()
    state.plans.clear()
    state.proven.clear()


# -- chains of AOT layers (NOTE [Launch chains]) ----------------------------------------------------
def chain_plan(
    record: PluginRecord,
    key: CallKey,
    program: Any,
    chain: CapturedChain,
    target: int,
) -> ChainPlan:
    """The layers of ``chain`` for ``key`` (planned from the kernels' TTIR once per capture)."""
    state = state_of(record)
    with state.lock:
        found = state.plans.get((key, target))
        if found is not None and found.chain is chain:
            return found
        input_dtypes = [t.dtype for t in key.tensors if t is not None]
        effects = _chain.effects_of(
            record.display, chain, input_dtypes, program, target
        )
        made = _chain.plan(
            record.display, chain, effects, len(input_dtypes), len(program.outputs)
        )
        state.plans[(key, target)] = made
        return made


def _compile_step(
    record: PluginRecord,
    key: CallKey,
    made: ChainPlan,
    k: int,
    program: Any,
    device: Optional[int] = None,
) -> CompiledKernel:
    """The kernel of layer ``k`` of ``made`` for the engine's ``device``."""
    if device is None:
        device = engine_device()
    target = target_capability(device)
    if target is None:
        raise AOTUnavailable(
            f"{record.display}: no CUDA device to compile the kernel for"
        )
    state = state_of(record)
    kernel_key = KernelKey(
        key, target, _triton_aot.current_driver_version(), 0, device, k + 1
    )
    with state.lock:
        found = state.kernels.get(kernel_key)
        if found is not None and found[0] is made.chain:
            return found[1]
        input_dtypes = [t.dtype for t in key.tensors if t is not None]
        ins, outs = _chain.step_dtypes(made, k, input_dtypes, program)
        kernel = _triton_aot.compile_launch(
            f"{record.display} (launch {k + 1} of {len(made.steps)})",
            made.steps[k].launch,
            ins,
            outs,
            target=target,
            driver_version=kernel_key.driver,
        )
        state.kernels[kernel_key] = (made.chain, kernel)
        state.compiles += 1
        return kernel


def chain_layer(
    record: PluginRecord, variant: PluginVariant, position: ChainPosition
) -> PluginVariant:
    """The AOT plugin of one layer of a chain (registered on first use)."""
    state = state_of(record)
    with state.lock:
        record.require_live("generate_plugin_converter")
        existing = state.layers.get((variant.absent, position))
        if existing is not None:
            return existing
        layer = variant.sibling(aot=True, chain=position)

        def planned(key: CallKey) -> Tuple[ChainPlan, Any]:
            program = record.programs.get_or_trace(
                "generate_plugin", record.spec, record.op, key
            )
            chain = record.chains.get(key, program)
            if chain.guards and state.proven.get(key) is not chain:
                checked = type(program)(program.outputs, chain.symbols, chain.guards)
                if unproven_guards(checked, {}, None):
                    raise AOTUnavailable(
                        f"{layer.plugin_id}: the captured launches hold only under size guards that were not checked"
                    )
            target = target_capability(engine_device())
            if target is None:
                raise AOTUnavailable(
                    f"{record.display}: no CUDA device to compile the kernels for"
                )
            return chain_plan(record, key, program, chain, target), program

        def lookup(
            descs: Sequence[Any], attributes: Any, keys: Any, fake: bool
        ) -> Tuple[ChainPlan, Any]:
            key = _chain.key_of(layer, descs, attributes, keys, fake)
            if not fake:
                return planned(key)
            # A dtype query: the plans of these dtypes and attributes whose chain has this layer;
            # they must agree on what it writes (the converter keeps a site whose plan would not
            # agree on JIT, see _choose_chain), or TensorRT would size its buffers wrongly.
            found = _plans_for_layer(record, key, position)
            if not found:
                raise AOTUnavailable(
                    f"{layer.plugin_id}: no chain was planned for these input dtypes and attributes"
                )
            outputs = {
                _layer_outputs(made, program, position) for made, program in found
            }
            if len(outputs) != 1:
                raise AOTUnavailable(
                    f"{layer.plugin_id}: call sites with these input dtypes plan this layer with "
                    f"different outputs {sorted(outputs)}"
                )
            return found[0]

        def kernel_for(
            descs: Sequence[Any], attributes: Tuple[Any, ...], tactic: int = 0
        ) -> Tuple[CompiledKernel, Any]:
            key = layer.call_key([_qdp.signature_of(d) for d in descs], attributes)
            made, program = planned(key)
            kernel = _compile_step(record, key, made, position.step - 1, program)
            return kernel, made.chain.symbols

        _qdp.register(
            layer,
            _chain.make_register_function(layer, lookup),
            None,
            _qdp.make_aot_impl_function(layer, kernel_for),
        )
        state.layers[(variant.absent, position)] = layer
        return layer


def _plans_for_layer(
    record: PluginRecord, key: CallKey, position: ChainPosition
) -> List[Tuple[ChainPlan, Any]]:
    """Current plans of ``key``'s dtypes and attributes (any sizes) that have a layer at
    ``position``, each with its shape program."""
    state = state_of(record)
    found = []
    with state.lock:
        for (planned_key, _), made in list(state.plans.items()):
            if (
                planned_key.sizeless == key.sizeless
                and made.chain.is_current()
                and len(made.steps) == position.steps
                and made.position(position.step - 1) == position
            ):
                program = record.programs.get(
                    planned_key
                ) or record.programs.get_or_trace(
                    "generate_plugin", record.spec, record.op, planned_key
                )
                found.append((made, program))
    return found


def _layer_outputs(
    made: ChainPlan, program: Any, position: ChainPosition
) -> Tuple[Tuple[str, int], ...]:
    """(dtype, rank) of each tensor layer ``position`` of ``made`` writes."""
    step = made.steps[position.step - 1]
    return tuple(
        (str(made.dtype(ref, program)), len(made.dims(ref, program)))
        for ref in step.writes
    )


def _choose_chain(
    ctx: Any,
    record: PluginRecord,
    variant: PluginVariant,
    key: CallKey,
    program: Any,
    hints: Dict[Tuple[int, int], int],
    exprs: Dict[Tuple[int, int], Any],
    shape_env: Any,
) -> ChainChoice:
    """A body of 2 to 4 launches as a chain of AOT layers, or AOTUnavailable / CaptureUnavailable."""
    chain = record.chains.get(key, program, hints)
    if chain.guards:
        if not exprs:
            raise AOTUnavailable(
                f"{record.display}: the launches hold only under size guards and the graph's "
                "shape information is not available to check them"
            )
        checked = type(program)(program.outputs, chain.symbols, chain.guards)
        unproven = unproven_guards(checked, exprs, shape_env)
        if unproven:
            raise AOTUnavailable(
                f"{record.display}: the captured launches hold only when {' and '.join(unproven)}"
            )
        with state_of(record).lock:
            state_of(record).proven[key] = chain
    device = engine_device(ctx)
    target = target_capability(device)
    if target is None:
        raise AOTUnavailable(
            f"{record.display}: no CUDA device to compile the kernels for"
        )
    made = chain_plan(record, key, program, chain, target)
    for k in range(len(made.steps)):
        position = made.position(k)
        others = {
            _layer_outputs(m, p, position)
            for m, p in _plans_for_layer(record, key, position)
            if m is not made
        }
        if others - {_layer_outputs(made, program, position)}:
            with state_of(record).lock:
                if state_of(record).plans.get((key, target)) is made:
                    del state_of(record).plans[(key, target)]
            raise AOTUnavailable(
                f"{record.display}: another call site with these input dtypes makes layer "
                f"{k + 1} of {len(made.steps)} write other tensors; TensorRT asks a layer's output "
                "dtypes without its shapes, so only one of them can be a chain"
            )
    for k, step in enumerate(made.steps):
        _check_int32(record, program, step.launch, exprs, shape_env)
        check_lowerable(record.display, step.launch)
        _compile_step(record, key, made, k, program, device)
    layers = [
        chain_layer(record, variant, made.position(k)).plugin_id
        for k in range(len(made.steps))
    ]
    return ChainChoice(tuple(layers), made)


Note = Callable[[str, str, bool], None]


def chooser(
    record: PluginRecord,
) -> Callable[[Any, PluginVariant, BoundCall, Note], Union[None, str, ChainChoice]]:
    """For the converter: the AOT plugin id to use for a call site (a ``ChainChoice`` for a body of
    several launches), or None for JIT.

    The returned function takes (ctx, variant, call, note); ``note(label, reason, unexpected)``
    records why a call site stays JIT (``unexpected``: log at WARNING, not INFO).
    """
    from ._binding import bind
    from ._converter import (
        _is_fx_constant,
        _is_fx_tensor,
        itensor_signature,
        node_shapes,
    )

    def choose(
        ctx: Any, variant: PluginVariant, call: BoundCall, note: Note
    ) -> Union[None, str, ChainChoice]:
        node: Optional[Node] = _interpreter.current_node(ctx)
        label = node.name if node is not None else variant.plugin_id
        try:
            captured_reason = record.captures.op_reason
            if captured_reason is not None:
                raise CaptureUnavailable(captured_reason, op_wide=True)
            itensors = [t for t in call.tensors if t is not None]
            signatures = [
                (
                    itensor_signature(t)
                    if hasattr(t, "shape") and not isinstance(t, torch.Tensor)
                    else None
                )
                for t in itensors
            ]
            if any(s is None for s in signatures):
                raise AOTUnavailable(
                    f"{record.display}: a tensor input is a constant, not a network tensor"
                )
            key = variant.call_key(signatures, call.attributes)  # type: ignore[arg-type]
            exprs: Dict[Tuple[int, int], Any] = {}
            hints: Dict[Tuple[int, int], int] = {}
            shape_env = None
            if node is not None:
                node_args, node_kwargs = _functional.op_arguments(record.spec, node)
                node_call = bind(
                    "generate_plugin_converter",
                    record.spec,
                    node_args,
                    node_kwargs,
                    is_tensor=_is_fx_tensor,
                    is_constant=_is_fx_constant,
                )
                shapes = node_shapes(node_call)
                exprs, hints, shape_env = shapes.exprs, shapes.hints, shapes.shape_env
            program = record.programs.get_or_trace(
                "generate_plugin", record.spec, record.op, key, hints
            )
            try:
                captured = record.captures.get(key, program, hints)
            except CaptureUnavailable as e:
                if not 2 <= e.launches <= 4:
                    raise
                return _choose_chain(
                    ctx, record, variant, key, program, hints, exprs, shape_env
                )
            if captured.guards:
                if not exprs:
                    raise AOTUnavailable(
                        f"{record.display}: the launch holds only under size guards and the graph's "
                        "shape information is not available to check them"
                    )
                launch_program = type(program)(
                    program.outputs, captured.symbols, captured.guards
                )
                unproven = unproven_guards(launch_program, exprs, shape_env)
                if unproven:
                    raise AOTUnavailable(
                        f"{record.display}: the captured launch holds only when {' and '.join(unproven)}"
                    )
                with state_of(record).lock:
                    state_of(record).proven[key] = captured
            constants = constants_over_profile(captured, exprs, shape_env)
            checked = specialized(captured, constants)
            _check_int32(record, program, checked, exprs, shape_env)
            for launch in checked.alternatives or (checked,):
                check_lowerable(record.display, launch)
            for tactic in range(1, len(captured.alternatives) + 1) or [0]:
                _compile(record, key, captured, tactic, engine_device(ctx), constants)
            return aot_variant(
                record,
                variant,
                len(captured.scratch),
                len(captured.alternatives),
                constants,
            ).plugin_id
        except (CaptureUnavailable, AOTUnavailable) as e:
            note(label, str(e), False)
            return None
        except Exception as e:  # e.g. triton.compile failed: the JIT plugin still works
            note(
                label,
                f"{record.display}: AOT compilation failed ({type(e).__name__}: {e})",
                True,
            )
            return None

    return choose
