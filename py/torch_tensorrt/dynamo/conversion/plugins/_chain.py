"""A body with 2 to 4 Triton launches as a chain of AOT layers (NOTE [Launch chains] in ``_capture``).

From the chain's capture and each kernel's memory effects (``_effects``, read from its TTIR) this
module plans one AOT plugin layer per launch:

* a layer takes the op's inputs (so its output shapes can be written over them), then the tensors
  of earlier layers its kernel reads (``chain_in0``, ...), and gives every tensor its kernel writes;
* a tensor written by one layer and read by a later one is a TensorRT tensor between them; the
  op's outputs are taken from the layers that write them; what no later layer reads and the op
  does not return is an output nobody uses (TensorRT still allocates it: a scratch tensor).

The plan is refused, and the call site stays JIT with the reason, when a kernel writes one of the
op's inputs, two kernels write the same tensor, a kernel reads a tensor no earlier kernel wrote, a
kernel writes nothing, or an output of the op is written by no kernel. Each refusal is about the program, so the JIT plugin
(which runs the op) is still right.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Sequence, Tuple

import torch

from . import _attributes, _dtypes, _qdp, _triton_aot
from ._capture import ArgSource, CapturedChain, CapturedLaunch
from ._identity import AttributeKey, CallKey, TensorSignature
from ._modes import callback_context
from ._schema import ChainPosition
from ._shape_program import ShapeProgram, lower
from ._triton_aot import AOTUnavailable
from ._variant import PluginVariant


@dataclass(frozen=True)
class Ref:
    """A tensor of the chain that is not an op input: an op output, or a buffer the body allocates."""

    kind: str  # "output" | "buffer"
    index: int

    def describe(self, chain: CapturedChain) -> str:
        if self.kind == "output":
            return f"output {self.index}"
        spec = chain.buffers[self.index]
        return f"the tensor the body allocates as {str(spec.dtype).replace('torch.', '')}{list(spec.dims)}"


@dataclass(frozen=True)
class ChainStep:
    """One AOT layer: its launch over the layer's own inputs and outputs, and where they come from."""

    launch: (
        CapturedLaunch  # "input" i: op inputs then ``reads``; "output" j: ``writes``
    )
    reads: Tuple[Ref, ...]
    writes: Tuple[Ref, ...]


@dataclass(frozen=True)
class ChainPlan:
    chain: CapturedChain
    steps: Tuple[ChainStep, ...]

    def dtype(self, ref: Ref, program: ShapeProgram) -> torch.dtype:
        if ref.kind == "output":
            return program.outputs[ref.index].dtype
        return self.chain.buffers[ref.index].dtype

    def dims(self, ref: Ref, program: ShapeProgram) -> Tuple[Any, ...]:
        """Size formulas of ``ref`` over the op's input dimensions."""
        if ref.kind == "output":
            return tuple(program.outputs[ref.index].dims)
        return tuple(self.chain.buffers[ref.index].dims)

    def position(self, k: int) -> ChainPosition:
        step = self.steps[k]
        return ChainPosition(k + 1, len(self.steps), len(step.reads), len(step.writes))


Effects = Dict[str, Tuple[bool, bool]]  # kernel parameter -> (reads, writes)


def plan(
    op: str,
    chain: CapturedChain,
    effects: Sequence[Effects],
    n_inputs: int,
    n_outputs: int,
) -> ChainPlan:
    """The layers of ``chain`` given each kernel's memory effects; AOTUnavailable if it cannot be
    chained (the reasons are in the module docstring)."""
    writer: Dict[Ref, int] = {}
    steps: List[ChainStep] = []
    n = len(chain.steps)
    for k, (launch, used) in enumerate(zip(chain.steps, effects)):
        where = (
            f"launch {k + 1} of {n} ({getattr(launch.kernel, '__name__', 'kernel')})"
        )
        reads: List[Ref] = []
        writes: List[Ref] = []
        sources: List[ArgSource] = []
        for name, source in zip(launch.arg_names, launch.args):
            if source.kind not in ("input", "output", "scratch"):
                sources.append(source)
                continue
            write = used.get(name, (True, True))[1]
            if source.kind == "input":
                if write:
                    raise AOTUnavailable(
                        f"{op}: {where} writes the op's input {source.index} (kernel argument "
                        f"'{name}'); a chain of AOT layers cannot write TensorRT's input buffers"
                    )
                sources.append(ArgSource("input", source.index))
                continue
            ref = Ref("output" if source.kind == "output" else "buffer", source.index)
            if write:
                if ref in writer and writer[ref] != k:
                    raise AOTUnavailable(
                        f"{op}: launches {writer[ref] + 1} and {k + 1} of {n} both write "
                        f"{ref.describe(chain)}; a chain of AOT layers needs one writer per tensor"
                    )
                writer[ref] = k
                if ref not in writes:
                    writes.append(ref)
                sources.append(ArgSource("output", writes.index(ref)))
                continue
            # Read, or passed and never touched (still a parameter: it must exist already).
            if ref not in writer or writer[ref] > k:
                raise AOTUnavailable(
                    f"{op}: {where} reads {ref.describe(chain)} (kernel argument '{name}') before "
                    "any launch writes it"
                )
            if ref not in reads:
                reads.append(ref)
            sources.append(ArgSource("input", n_inputs + reads.index(ref)))
        if (
            not writes
        ):  # a TensorRT layer needs an output, and TensorRT may drop an unused one
            raise AOTUnavailable(
                f"{op}: {where} writes none of the tensors it is given; a chain of AOT layers "
                "needs every launch to write a tensor"
            )
        rewritten = dataclasses.replace(launch, args=tuple(sources), scratch=())
        steps.append(ChainStep(rewritten, tuple(reads), tuple(writes)))
    missing = [j for j in range(n_outputs) if Ref("output", j) not in writer]
    if missing:
        raise AOTUnavailable(
            f"{op}: the op's outputs {missing} are written by none of its {n} launches"
        )
    return ChainPlan(chain, tuple(steps))


def effects_of(
    op: str,
    chain: CapturedChain,
    input_dtypes: Sequence[torch.dtype],
    program: ShapeProgram,
    target: int,
) -> List[Effects]:
    """Each launch's memory effects, from its kernel's TTIR (NOTE [Memory effects])."""
    outputs = [o.dtype for o in program.outputs]
    return [
        _triton_aot.launch_effects(op, step, input_dtypes, outputs, target=target)
        for step in chain.steps
    ]


# -- the QDP plugins of the layers ------------------------------------------------------------------
#: (input descs, attributes, attribute keys, fake) -> the layer's plan step and the op's program
StepLookup = Callable[
    [Sequence[Any], Tuple[Any, ...], Tuple[AttributeKey, ...], bool],
    Tuple[ChainPlan, ShapeProgram],
]


def make_register_function(
    layer: PluginVariant, lookup: StepLookup
) -> Callable[..., Any]:
    """QDP ``register`` function of a chain layer: dtypes and shapes of what its kernel writes,
    over the op's input dimensions (the layer's first inputs)."""
    trtp = _qdp._trtp()
    position = layer.chain
    if position is None:
        raise ValueError(f"{layer.plugin_id} is not a layer of a chain")
    k = position.step - 1
    signature = inspect.Signature(
        _qdp._parameters(layer, trtp.TensorDesc),
        return_annotation=typing.Tuple[(trtp.TensorDesc,) * layer.num_outputs],
    )

    def register_function(*args: Any, **kwargs: Any) -> Tuple[Any, ...]:
        with callback_context():
            descs, raw_attrs, _ = _qdp._split(layer, signature, args, kwargs, 0)
            attributes = _attributes.decode_all(layer.attributes, raw_attrs)
            keys = tuple(
                AttributeKey.from_encoded(a, r)
                for a, r in zip(layer.attributes, raw_attrs)
            )
            fake = any(e.is_fake for d in descs for e in d.shape_expr)
            chain_plan, program = lookup(descs, attributes, keys, fake)
            step = chain_plan.steps[k]
            if len(step.reads) != position.reads or len(step.writes) != position.writes:
                raise AOTUnavailable(
                    f"{layer.plugin_id}: the layer was made for a kernel reading {position.reads} "
                    f"and writing {position.writes} tensors, but for these inputs it reads "
                    f"{len(step.reads)} and writes {len(step.writes)}"
                )
            if fake:
                return tuple(
                    trtp.from_shape_expr(
                        tuple(trtp.ShapeExpr() for _ in chain_plan.dims(ref, program)),
                        _dtypes.to_trt(chain_plan.dtype(ref, program)),
                    )
                    for ref in step.writes
                )
            algebra = _qdp.qdp_algebra()
            slots = layer.tensor_slots()
            outputs = program.lower_outputs(
                lambda d: descs[slots[d.input_index]].shape_expr[d.dim], algebra  # type: ignore[index]
            )
            leaf = _qdp.input_dims(layer, descs, chain_plan.chain.symbols)
            descs_out = []
            for ref in step.writes:
                if ref.kind == "output":
                    dims = list(outputs[ref.index])
                else:
                    dims = [
                        lower(d, leaf, algebra)
                        for d in chain_plan.chain.buffers[ref.index].dims
                    ]
                descs_out.append(
                    trtp.from_shape_expr(
                        tuple(dims), _dtypes.to_trt(chain_plan.dtype(ref, program))
                    )
                )
            return tuple(descs_out)

    return _qdp._with_signature(
        register_function, f"{layer.plugin_name}_shapes", signature
    )


def step_dtypes(
    chain_plan: ChainPlan,
    k: int,
    input_dtypes: Sequence[torch.dtype],
    program: ShapeProgram,
) -> Tuple[List[torch.dtype], List[torch.dtype]]:
    """(input dtypes, output dtypes) of layer ``k``: the op's inputs and what it reads, what it writes."""
    step = chain_plan.steps[k]
    return (
        list(input_dtypes) + [chain_plan.dtype(r, program) for r in step.reads],
        [chain_plan.dtype(r, program) for r in step.writes],
    )


@dataclass(frozen=True)
class ChainChoice:
    """The converter's answer for a call site made of a chain: one AOT plugin per layer."""

    plugin_ids: Tuple[str, ...]
    plan: ChainPlan


def key_of(
    layer: PluginVariant, descs: Sequence[Any], attributes: Any, keys: Any, fake: bool
) -> CallKey:
    """The op's call identity from a layer's input descriptors (its first inputs are the op's)."""
    if fake:
        signatures = [
            TensorSignature(_dtypes.to_torch(d.dtype), (None,) * len(d.shape_expr))
            for d in descs
        ]
    else:
        signatures = [_qdp.signature_of(d) for d in descs]
    return layer.call_key(signatures, attributes, attribute_keys=keys)
