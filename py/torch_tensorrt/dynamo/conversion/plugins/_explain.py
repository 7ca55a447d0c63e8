"""explain: what would be generated for an op, without compiling a model, a GPU or TensorRT's builder.

For an op and a description of its inputs (dtype and shape per tensor argument, each dimension a size
or a dynamic range) and attribute values, ``explain`` reports the plugin ids and parameters (in the
schema-to-plugin order), each output's dtype and shape formula, the fake kernel's guards and whether
they hold over the given ranges, the JIT enqueue strategy, and the AOT kernel (name, grid formula,
extras, PTX parameter list, compiled for sm_90 by Triton without a GPU), or the reason for each
fallback. It traces and captures exactly as a compile does (the same modules), on FakeTensors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple, Union

import sympy
import torch

from . import _attributes
from ._errors import user_error
from ._identity import TensorSignature, definition_of
from ._schema import OpSpec, resolve_op, spec_from_op
from ._shape_program import (
    ShapeProgram,
    UnsupportedExpression,
    python_syntax,
    readable,
)

API = "explain"

Dim = Union[int, Tuple[int, int]]  # a size, or a dynamic (min, max) range

_DTYPES = {
    "float32": torch.float32,
    "float": torch.float32,
    "fp32": torch.float32,
    "float16": torch.float16,
    "half": torch.float16,
    "fp16": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "int32": torch.int32,
    "int64": torch.int64,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}


@dataclass(frozen=True)
class InputDesc:
    """One tensor argument: dtype and dims (an int, or a (min, max) range for a dynamic dimension)."""

    dtype: torch.dtype
    dims: Tuple[Dim, ...]

    @staticmethod
    def parse(text: str) -> "InputDesc":
        """``"float16[8, 1..64]"``: dtype, then each dimension as a size or ``min..max``."""
        m = re.fullmatch(r"\s*(\w+)\s*\[([^\]]*)\]\s*", text)
        if m is None or m.group(1) not in _DTYPES:
            raise ValueError(
                f"explain: cannot read the input {text!r}. Expected dtype[dims] such as float32[8, 1..64], dtype one of "
                f"{sorted(_DTYPES)}, each dimension a size or min..max"
            )
        dims: List[Dim] = []
        for part in (p.strip() for p in m.group(2).split(",") if p.strip()):
            if ".." in part:
                lo, hi = (int(v) for v in part.split("..", 1))
                dims.append((lo, hi))
            else:
                dims.append(int(part))
        return InputDesc(_DTYPES[m.group(1)], tuple(dims))


@dataclass(frozen=True)
class Parameter:
    """One parameter of the plugin, in TensorRT's order (an entry of ``Explanation.parameters``).

    Attributes:
        plugin_name: The QDP parameter name (the argument's name, unless QDP cannot take it).
        argument: The schema argument it stands for.
        kind: ``"input"`` (a tensor) or ``"attribute"`` (any other argument).
        schema_index: The argument's position in the op's schema.
        type_str: The argument's kind as the schema writes it (``"Tensor"``, ``"float"``, ``"int[]"``, ...).
    """

    plugin_name: str  # the QDP parameter name
    argument: str  # the schema argument it stands for
    kind: str  # "input" | "attribute"
    schema_index: int
    type_str: str


@dataclass(frozen=True)
class OutputFormula:
    """One output of the plugin (an entry of ``Explanation.outputs``).

    Attributes:
        dtype: The output's dtype, as the fake kernel returns it.
        dims: Each dimension as a sympy expression over the symbols of ``Explanation.symbols``.
        text: Each dimension in Python syntax, input dimensions by name (``"x.size(0)"``).
    """

    dtype: torch.dtype
    dims: Tuple[sympy.Expr, ...]  # over the symbols of ``Explanation.symbols``
    text: Tuple[str, ...]  # each dimension in Python syntax, input dimensions by name


@dataclass(frozen=True)
class Explanation:
    """What ``explain`` found; ``str()`` gives the report the CLI prints.

    Attributes:
        op: The op, ``"ns::name"`` (``"ns::name.overload"`` for a named overload).
        schema: The op's schema, as torch prints it.
        jit_plugin: The QDP id of the JIT plugin for these inputs.
        aot_plugin: The QDP id the AOT plugin for these inputs would have.
        parameters: The plugin's parameters in TensorRT's order: tensors, then attributes.
        symbols: Each symbol of the shape formulas and the input dimension it stands for
            (``"x.size(0)"``).
        outputs: Each output's dtype and shape formula.
        guards: Each condition the fake kernel's trace holds under, and whether it holds over
            the given ranges.
        jit_strategy: How the JIT implementation would run the op at enqueue, and why.
        aot: The AOT kernel (``kernel``, ``target``, ``grid``, ``block``, ``shared``, ``extras``,
            ``float_extras``: the float arguments passed as their fp32 bits, by name,
            ``ptx_parameters``, ``ptx``: the whole PTX, ``hidden_outputs``: each scratch tensor
            as (kernel parameter, dtype, size formulas)), or ``{"unavailable": reason}``.
    """

    op: str
    schema: str
    jit_plugin: str
    aot_plugin: str
    parameters: Tuple[Parameter, ...]
    symbols: Tuple[Tuple[sympy.Symbol, str], ...]  # symbol -> "x.size(0)"
    outputs: Tuple[OutputFormula, ...]
    guards: Tuple[Tuple[str, bool], ...]  # (guard, holds over the given ranges)
    jit_strategy: str
    aot: Dict[
        str, Any
    ]  # kernel, grid, block, extras, ptx_parameters; or {"unavailable": reason}

    def output_shapes(self, sizes: Mapping[str, int]) -> List[Tuple[int, ...]]:
        """Each output's shape for concrete input dimensions, e.g. ``{"x.size(0)": 5}``."""
        values = {s: sizes[label] for s, label in self.symbols}
        return [
            tuple(int(sympy.sympify(d).xreplace(values)) for d in o.dims)
            for o in self.outputs
        ]

    def _extra_text(self, name: str, formula: str) -> str:
        value = self.aot.get("float_extras", {}).get(name)
        if value is None:
            return f"{name} = {formula}"
        return f"{name} = {formula} (the fp32 bits of {value!r})"

    def __str__(self) -> str:
        lines = [
            f"{self.op}: {self.schema}",
            f"  JIT plugin: {self.jit_plugin}",
            f"  AOT plugin: {self.aot_plugin}",
            "  plugin parameters (TensorRT order; schema index in brackets):",
        ]
        lines += [
            f"    {p.plugin_name}: {p.kind} {p.type_str} (argument {p.argument} [{p.schema_index}])"
            for p in self.parameters
        ]
        lines.append("  outputs:")
        lines += [
            f"    {i}: {str(o.dtype).replace('torch.', '')}[{', '.join(o.text)}]"
            for i, o in enumerate(self.outputs)
        ]
        if self.guards:
            lines.append("  fake-kernel guards:")
            lines += [
                f"    {g}: {'holds over the given ranges' if ok else 'NOT proven for the given ranges (the node stays in PyTorch)'}"
                for g, ok in self.guards
            ]
        lines.append(f"  JIT enqueue: {self.jit_strategy}")
        if "unavailable" in self.aot:
            lines.append(f"  AOT: not available: {self.aot['unavailable']}")
        elif "chain" in self.aot:
            lines.append(
                f"  AOT: a chain of {len(self.aot['chain'])} layers, one per launch (sm_{self.aot['target']}):"
            )
            for k, layer in enumerate(self.aot["chain"]):
                lines.append(
                    f"    layer {k + 1} {layer['plugin']}: kernel {layer['kernel']}, grid "
                    f"({', '.join(layer['grid'])}), reads {', '.join(layer['reads']) or 'only the op inputs'}, "
                    f"writes {', '.join(layer['writes'])}"
                )
        else:
            lines += [
                f"  AOT kernel {self.aot['kernel']} (sm_{self.aot['target']}): grid ({', '.join(self.aot['grid'])}), "
                f"block {self.aot['block']}, shared memory {self.aot['shared']} bytes",
                f"    int32 extras: {', '.join(self._extra_text(n, e) for n, e in self.aot['extras']) or 'none'}",
                "    constexprs computed from sizes, one value over the given ranges (compiled in): "
                + (
                    ", ".join(
                        f"{n} = {v}" for n, v in self.aot.get("constants", {}).items()
                    )
                    or "none"
                ),
                "    hidden outputs (scratch tensors the kernel writes, after the op's outputs): "
                + (
                    ", ".join(
                        f"{n} {dt}[{', '.join(dims)}]"
                        for n, dt, dims in self.aot.get("hidden_outputs", [])
                    )
                    or "none"
                ),
                "    PTX parameters (TensorRT passes inputs, extras, outputs in this order):",
            ]
            lines += [f"      {p}" for p in self.aot["ptx_parameters"]]
            for t in self.aot.get("tactics", []):
                lines.append(
                    f"    tactic {t['tactic']}: {t['config']}, grid ({', '.join(t['grid'])}), block {t['block']}"
                )
        return "\n".join(lines)


def _parameters(spec: OpSpec, absent: Sequence[str]) -> Tuple[Parameter, ...]:
    tensors = [a for a in spec.tensor_args if a.name not in absent]
    return tuple(
        [
            Parameter(a.param_name, a.name, "input", a.schema_index, a.type_str)
            for a in tensors
        ]
        + [
            Parameter(a.param_name, a.name, "attribute", a.schema_index, a.type_str)
            for a in spec.attribute_args
        ]
    )


def _guard_holds(
    guard: sympy.Basic, symbols: Mapping[sympy.Symbol, Tuple[int, int]]
) -> bool:
    """Whether ``guard`` holds at every corner of the ranges (exact for the linear conditions that
    size guards are; ranges of one value are a single point)."""
    import itertools

    names = list(symbols)
    for corner in itertools.product(*(sorted({lo, hi}) for lo, hi in symbols.values())):
        if not bool(guard.xreplace(dict(zip(names, corner)))):
            return False
    return True


def explain(
    op_name: str,
    inputs: Mapping[str, Union[str, InputDesc]],
    attributes: Optional[Mapping[str, Any]] = None,
    *,
    target: int = 90,
) -> Explanation:
    """What the plugin for ``op_name`` would be for these inputs, without compiling a model.

    Args:
        op_name: ``"ns::op"`` or ``"ns::op.overload"``; the module defining it must be imported.
        inputs: Per tensor argument name, its description: an ``InputDesc`` or text such as
            ``"float32[8, 1..64]"`` (a size, or ``min..max`` for a dynamic dimension). Optional
            tensors left out are absent.
        attributes: Attribute values by argument name (defaults apply to the ones left out).
        target: Compute capability to compile the AOT kernel for (no GPU is used).

    Returns:
        An Explanation; ``print()`` it for the report.

    Raises:
        ValueError: Unknown op, a required tensor or attribute missing, an unknown name, or a fake
            kernel that cannot be traced (the message says which and how to fix it).

    Example:
        >>> from torch_tensorrt.dynamo.conversion.plugins import explain  # doctest: +SKIP
        >>> print(explain("my_lib::scale", {"x": "float32[1..64, 128]"}, {"k": 3.0}))  # doctest: +SKIP
    """
    from . import _capture, _runtime, _symbolic, _triton_aot
    from ._variant import PluginVariant

    op = resolve_op(API, op_name)
    spec = spec_from_op(API, op)
    descs = {
        name: InputDesc.parse(d) if isinstance(d, str) else d
        for name, d in inputs.items()
    }
    unknown = sorted(set(descs) - {a.name for a in spec.tensor_args})
    if unknown:
        raise user_error(
            API,
            spec.display,
            f"unknown tensor arguments {unknown}",
            expected=f"some of {[a.name for a in spec.tensor_args]}",
            cls=ValueError,
        )
    missing = [
        a.name for a in spec.tensor_args if a.name not in descs and not a.optional
    ]
    if missing:
        raise user_error(
            API,
            spec.display,
            f"no description for the tensor arguments {missing}",
            expected="dtype[dims] per tensor, e.g. --input x=float32[8,1..64]",
            fix="Describe every non-optional tensor argument",
            cls=ValueError,
        )
    values = dict(attributes or {})
    unknown_attrs = sorted(set(values) - {a.name for a in spec.attribute_args})
    if unknown_attrs:
        raise user_error(
            API,
            spec.display,
            f"unknown attributes {unknown_attrs}",
            expected=f"some of {[a.name for a in spec.attribute_args]}",
            cls=ValueError,
        )
    canonical = []
    for arg in spec.attribute_args:
        if arg.name in values:
            canonical.append(
                _attributes.canonical(API, spec.display, arg, values[arg.name])
            )
        elif arg.has_default:
            canonical.append(_attributes.canonical(API, spec.display, arg, arg.default))
        else:
            raise user_error(
                API,
                spec.display,
                f"no value for the attribute '{arg.name}'",
                fix=f"Pass --attr {arg.name}=<{arg.type_str}>",
                cls=ValueError,
            )
    absent = frozenset(a.name for a in spec.tensor_args if a.name not in descs)
    variant = PluginVariant(spec, op, absent, _symbolic.ProgramCache())
    present = [a for a in spec.tensor_args if a.name not in absent]
    signatures = [
        TensorSignature(
            descs[a.name].dtype,
            tuple(d if isinstance(d, int) else None for d in descs[a.name].dims),
        )
        for a in present
    ]
    hints = {}
    ranges: Dict[Tuple[int, int], Tuple[int, int]] = {}
    for i, arg in enumerate(spec.tensor_args):
        if arg.name in absent:
            continue
        for j, d in enumerate(descs[arg.name].dims):
            if not isinstance(d, int):
                hints[(i, j)] = max(2, (d[0] + d[1]) // 2)
                ranges[(i, j)] = d
    key = variant.call_key(signatures, canonical, definition_of(op))
    program: ShapeProgram = variant.programs.get_or_trace(API, spec, op, key, hints)
    labels = {s: d.label for s, d in program.symbols}
    size_at = {(o, a): k for o, a, k in program.data_dependent}
    several = len(program.sizes) > 1

    def dim_text(i: int, j: int, d: Any) -> str:
        if (i, j) not in size_at:
            return program.render(d)
        name = f"n{size_at[(i, j)]}" if several else "n"
        return f"{name} <= {program.render(d)} (data-dependent)"

    outputs = tuple(
        OutputFormula(
            o.dtype, o.dims, tuple(dim_text(i, j, d) for j, d in enumerate(o.dims))
        )
        for i, o in enumerate(program.outputs)
    )
    lowering = ""
    try:
        program.check_lowerable()
    except UnsupportedExpression as e:
        lowering = f"none: an output size is not a TensorRT shape expression ({e}), so the node stays in PyTorch"
    symbol_ranges = {
        s: ranges[(d.input_index, d.dim)]
        for s, d in program.symbols
        if (d.input_index, d.dim) in ranges
    }
    guards = tuple(
        (program.render(g), _guard_holds(g, symbol_ranges)) for g in program.guards
    )

    jit, aot = _strategies(
        spec,
        variant,
        key,
        program,
        hints,
        target,
        _capture,
        _runtime,
        _triton_aot,
        ranges,
    )
    return Explanation(
        op=spec.display,
        schema=spec.schema,
        jit_plugin=spec.plugin_id(absent, sizes=len(program.sizes)),
        aot_plugin=spec.plugin_id(absent, aot=True),
        parameters=_parameters(spec, sorted(absent)),
        symbols=tuple(labels.items()),
        outputs=outputs,
        guards=guards,
        jit_strategy=lowering or jit,
        aot=aot,
    )


def _range_env(
    key: Any, ranges: Mapping[Tuple[int, int], Tuple[int, int]]
) -> Tuple[Dict[Tuple[int, int], Any], Any]:
    """The given sizes as a compile sees the exported graph's: each dimension an int or a symbol,
    and the symbols' ranges (for ``_aot.constants_over_profile``)."""
    from types import SimpleNamespace

    from torch.utils._sympy.value_ranges import ValueRanges

    exprs: Dict[Tuple[int, int], Any] = {}
    bounds: Dict[Any, Any] = {}
    for i, t in enumerate(key.tensors):
        if t is None:
            continue
        for j, d in enumerate(t.dims):
            if d is not None:
                exprs[(i, j)] = int(d)
            elif (i, j) in ranges:
                symbol = sympy.Symbol(f"r{i}_{j}", integer=True, positive=True)
                exprs[(i, j)] = symbol
                bounds[symbol] = ValueRanges(*ranges[(i, j)])
    return exprs, SimpleNamespace(var_to_range=bounds)


def _chain_report(
    spec: OpSpec,
    key: Any,
    program: ShapeProgram,
    hints: Mapping[Tuple[int, int], int],
    target: int,
    absent: FrozenSet[str],
) -> Dict[str, Any]:
    """The AOT layers a body of several launches becomes (NOTE [Launch chains]), or the reason."""
    from . import _aot, _capture, _chain, _triton_aot

    try:
        chain = _capture.capture(spec, key, program, hints, several=True)
        input_dtypes = [t.dtype for t in key.tensors if t is not None]
        effects = _chain.effects_of(spec.display, chain, input_dtypes, program, target)
        made = _chain.plan(
            spec.display, chain, effects, len(input_dtypes), len(program.outputs)
        )
        labels = {s: sympy.Symbol(d.label) for s, d in chain.symbols}

        def name(ref: Any) -> str:
            if ref.kind == "output":
                return f"output {ref.index}"
            buffer = chain.buffers[ref.index]
            dims = ", ".join(_text(d, labels) for d in buffer.dims)
            return (
                f"buffer {ref.index} {str(buffer.dtype).replace('torch.', '')}[{dims}]"
            )

        layers = []
        for k, step in enumerate(made.steps):
            _aot.check_lowerable(spec.display, step.launch)  # as the converter checks
            ins, outs = _chain.step_dtypes(made, k, input_dtypes, program)
            kernel = _triton_aot.compile_launch(
                spec.display, step.launch, ins, outs, target=target
            )
            layers.append(
                {
                    "kernel": kernel.name,
                    "reads": [name(r) for r in step.reads],
                    "writes": [name(r) for r in step.writes],
                    "grid": [_text(g, labels) for g in kernel.grid],
                    "plugin": spec.plugin_name(absent, True, chain=made.position(k)),
                }
            )
    except (
        Exception
    ) as e:  # AOTUnavailable, CaptureUnavailable, or Triton refusing to compile
        return {"unavailable": str(e)}
    return {"chain": layers, "target": target}


def _strategies(
    spec: OpSpec,
    variant: Any,
    key: Any,
    program: ShapeProgram,
    hints: Mapping[Tuple[int, int], int],
    target: int,
    _capture: Any,
    _runtime: Any,
    _triton_aot: Any,
    ranges: Mapping[Tuple[int, int], Tuple[int, int]],
) -> Tuple[str, Dict[str, Any]]:
    try:
        captured = _capture.capture(spec, key, program, hints)
    except _capture.CaptureUnavailable as e:
        reason = str(e)
        fallback = (
            "the op's out= overload into TensorRT's buffer"
            if _runtime.out_overload_for(variant) is not None
            else ("run the op and copy its outputs into TensorRT's buffers")
        )
        jit_text = f"{fallback} (no direct Triton launch: {reason})"
        if 2 <= e.launches <= 4:
            return jit_text, _chain_report(
                spec, key, program, hints, target, variant.absent
            )
        return jit_text, {"unavailable": f"no capturable launch: {reason}"}
    labels = {s: sympy.Symbol(d.label) for s, d in captured.symbols}
    jit = (
        f"launch {getattr(captured.kernel, '__name__', captured.kernel)} directly into TensorRT's buffers, grid "
        f"({', '.join(_text(g, labels) for g in captured.grid)})"
    )
    if captured.alternatives:
        name = getattr(captured.kernel.base_fn, "__name__", captured.kernel)
        jit = (
            f"launch {name} directly into TensorRT's buffers with the config Triton's autotuner "
            f"picks among {len(captured.alternatives)} (tuned once per shape, in its own cache)"
        )
    if captured.scratch:
        names = [
            n for n, a in zip(captured.arg_names, captured.args) if a.kind == "scratch"
        ]
        jit += (
            f"; scratch tensors {', '.join(names)} are hidden outputs of the JIT plugin"
        )
    if captured.guards:
        jit += f" (holds when {' and '.join(python_syntax(g.xreplace(labels)) for g in captured.guards)})"
    try:
        from . import _aot

        constants = _aot.constants_over_profile(captured, *_range_env(key, ranges))
        compiled_in = _aot.specialized(captured, constants)
        input_dtypes = [t.dtype for t in key.tensors if t is not None]
        kernels = [
            _triton_aot.compile_launch(
                spec.display,
                alternative,
                input_dtypes,
                [o.dtype for o in program.outputs],
                target=target,
            )
            for alternative in (compiled_in.alternatives or (compiled_in,))
        ]
        kernel = kernels[0]
    except Exception as e:  # AOTUnavailable, or Triton refusing to compile
        return jit, {"unavailable": str(e)}
    return jit, {
        "kernel": kernel.name,
        "target": target,
        "grid": [_text(g, labels) for g in kernel.grid],
        "block": kernel.num_warps * 32,
        "shared": kernel.shared,
        "extras": [(e.name, _text(e.expr, labels)) for e in kernel.extras],
        "float_extras": {
            e.name: e.float_value for e in kernel.extras if e.float_value is not None
        },
        "ptx_parameters": _triton_aot.entry_parameters(kernel.ptx, kernel.name),
        # tl.constexprs computed from sizes with one value over the given ranges: compiled in
        "constants": dict(constants),
        "ptx": kernel.ptx,
        # One TensorRT tactic per triton.autotune config (tactic i is config i - 1); [] otherwise.
        "tactics": [
            {
                "tactic": i + 1,
                "config": dict(alternative.options) | dict(_constexprs(alternative)),
                "grid": [_text(g, labels) for g in k.grid],
                "block": k.num_warps * 32,
            }
            for i, (alternative, k) in enumerate(zip(captured.alternatives, kernels))
        ],
        "hidden_outputs": [
            (
                name,
                str(t.dtype).replace("torch.", ""),
                [_text(d, labels) for d in t.dims],
            )
            for name, t in _scratch_names(captured)
        ],
    }


def _text(expr: Any, labels: Mapping[Any, Any]) -> str:
    """A size formula over the input dimensions' labels, next_power_of_2 shown as such."""
    return str(readable(sympy.sympify(expr).xreplace(labels)))


def _constexprs(captured: Any) -> List[Tuple[str, Any]]:
    return [
        (name, source.value)
        for name, source in zip(captured.arg_names, captured.args)
        if name in captured.constexpr_names and source.kind == "value"
    ]


def _scratch_names(captured: Any) -> List[Tuple[str, Any]]:
    """Each scratch tensor with the first kernel parameter it is passed as."""
    first: Dict[int, str] = {}
    for name, source in zip(captured.arg_names, captured.args):
        if source.kind == "scratch":
            first.setdefault(source.index, name)
    return [(first[i], t) for i, t in enumerate(captured.scratch)]
