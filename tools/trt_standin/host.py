"""A plugin host: drives a Quick Deployable Plugin through its lifecycle the way TensorRT does.

``PluginHost.build`` plays the builder (creation, capability interfaces, output count, data types and
shape expressions, format combinations, configure, tactics, a timing run for JIT plugins, launch
parameters and kernel for AOT plugins, serialisation); ``BuiltPlugin.runtime()`` plays
deserialisation (re-creation at RUNTIME phase from the serialised fields) and ``RuntimePlugin.enqueue``
plays execution on real tensors (CPU tensors on a CPU machine; CUDA tensors and a real stream on a
GPU). AOT kernels are launched through the CUDA driver by ``aot_launch`` with TensorRT's parameter
order. The network executor in ``core`` uses this same host for plugin layers, so there is one
implementation of "how TensorRT drives a plugin". Every choice not documented by NVIDIA is an entry
of ``trt_standin.assumptions``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from . import core
from .assumptions import assumed
from .core import _expr
from .core._dims import IDimensionExpr
from .core._native import native_entry, python_callback
from .core._network import TORCH_OF, TRT_OF

Shape = Tuple[int, ...]

# The network executor and the host share one TensorRT <-> torch dtype table.
TORCH_DTYPE: Dict[Any, torch.dtype] = TORCH_OF
TRT_DTYPE: Dict[torch.dtype, Any] = TRT_OF


class PluginHostError(RuntimeError):
    """TensorRT would reject the plugin here (the message says which call and why)."""


@dataclass(frozen=True)
class InputSpec:
    """One plugin input as the builder sees it: dtype and shape, -1 for dynamic dimensions,
    with the optimisation profile's min/opt/max (equal to the shape where it is static).
    """

    dtype: Any
    shape: Shape
    min: Shape
    opt: Shape
    max: Shape

    @staticmethod
    def static(dtype: Any, shape: Sequence[int]) -> "InputSpec":
        s = tuple(int(d) for d in shape)
        return InputSpec(dtype, s, s, s, s)

    @staticmethod
    def dynamic(
        dtype: Any, min: Sequence[int], opt: Sequence[int], max: Sequence[int]
    ) -> "InputSpec":
        lo, mid, hi = (tuple(int(d) for d in x) for x in (min, opt, max))
        if not len(lo) == len(mid) == len(hi):
            raise ValueError(f"min/opt/max ranks differ: {lo}, {mid}, {hi}")
        shape = tuple(a if a == b else -1 for a, b in zip(lo, hi))
        return InputSpec(dtype, shape, lo, mid, hi)

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass
class AOTKernel:
    """What an engine keeps of an AOT plugin (assumption aot-no-serialized-fields)."""

    name: str
    ptx: bytes
    launch: Dict[str, _expr.Node]  # grid_x .. shared_mem
    extra_args: List[Tuple[_expr.Node, Any]]  # (expression, PluginArgDataType)

    def launch_config(self, input_shapes: Sequence[Sequence[int]]) -> Dict[str, Any]:
        """Grid, block, shared memory and int extras for concrete input shapes."""
        values = {k: _expr.evaluate(v, input_shapes) for k, v in self.launch.items()}
        values["extra_args"] = [
            _expr.evaluate(n, input_shapes) for n, _ in self.extra_args
        ]
        return values


@dataclass
class BuiltPlugin:
    """The result of building one plugin layer: what TensorRT would put into the engine."""

    name: str
    namespace: str
    version: str
    kind: str  # "jit" or "aot"
    inputs: List[InputSpec]
    input_types: List[Any]
    input_formats: List[Any]
    output_types: List[Any]
    output_formats: List[Any]
    output_shapes: List[List[_expr.Node]]
    aliased_inputs: List[int]
    tactic: int
    fields: List[Tuple[str, Any, int, bytes]] = field(
        default_factory=list
    )  # name, type, size, bytes
    aot: Optional[AOTKernel] = None
    #: Device milliseconds per AOT tactic when several were timed (assumption aot-tactic-timing).
    tactic_times: Dict[int, float] = field(default_factory=dict)
    # The build-phase plugin object (not part of the engine; for inspection in tests).
    build_plugin: Any = field(default=None, compare=False, repr=False)

    @property
    def num_outputs(self) -> int:
        return len(self.output_types)

    def output_shape_strings(self) -> List[List[str]]:
        return [[_expr.to_str(n) for n in out] for out in self.output_shapes]

    def evaluate_output_shapes(
        self,
        input_shapes: Sequence[Sequence[int]],
        size_values: Optional[Dict[int, int]] = None,
    ) -> List[Shape]:
        assumed("shape-inference-runs-plugins-shape-functions")
        return [
            tuple(_expr.evaluate(n, input_shapes, size_values) for n in out)
            for out in self.output_shapes
        ]

    def upper_output_shapes(self, input_shapes: Sequence[Sequence[int]]) -> List[Shape]:
        """Output shapes with each data-dependent size at its upper bound: what TensorRT
        allocates for the plugin's outputs (assumption plugin-size-tensors)."""
        return [
            tuple(_expr.evaluate_upper(n, input_shapes) for n in out)
            for out in self.output_shapes
        ]

    def data_dependent(self) -> Dict[Tuple[int, int], int]:
        """(output, dimension) -> the output holding its size tensor, for data-dependent sizes."""
        found: Dict[Tuple[int, int], int] = {}
        for i, out in enumerate(self.output_shapes):
            for j, node in enumerate(out):
                sizes = _expr.size_outputs(node)
                if sizes:
                    found[(i, j)] = sizes[0]
        return found

    def actual_outputs(
        self,
        input_shapes: Sequence[Sequence[int]],
        outputs: Sequence[torch.Tensor],
    ) -> List[torch.Tensor]:
        """After an enqueue: each output with a data-dependent size as the plugin sized it (the
        values it wrote into its size tensors), a view of the start of the allocated buffer.
        """
        dependent = self.data_dependent()
        if not dependent:
            return list(outputs)
        assumed("plugin-size-tensors")
        if any(t.is_cuda for t in outputs):
            torch.cuda.synchronize()
        size_values = {k: int(outputs[k].item()) for k in set(dependent.values())}
        upper = self.upper_output_shapes(input_shapes)
        actual = self.evaluate_output_shapes(input_shapes, size_values)
        result = []
        for i, (out, shape, bound) in enumerate(zip(outputs, actual, upper)):
            if tuple(shape) == tuple(out.shape):
                result.append(out)
                continue
            if any(not 0 <= d <= b for d, b in zip(shape, bound)):
                raise PluginHostError(
                    f"{self.namespace}::{self.name}: output {i} is {tuple(shape)} by its size "
                    f"tensors, outside the declared upper bound {tuple(bound)}"
                )
            count = 1
            for d in shape:
                count *= int(d)
            result.append(out.reshape(-1)[:count].view(tuple(shape)))
        return result

    def runtime(self) -> "RuntimePlugin":
        """Deserialise: re-create the plugin at RUNTIME phase (JIT) or load the kernel (AOT)."""
        if self.kind == "aot":
            return RuntimePlugin(self, None)
        assumed("runtime-recreation")
        creator = core.get_plugin_registry().get_creator(
            self.name, self.version, self.namespace
        )
        if creator is None:
            raise PluginHostError(
                f"Cannot deserialize plugin {self.namespace}::{self.name} (version {self.version}): "
                "no plugin creator is registered under that name. A JIT Python plugin needs the "
                "Python code that registers it imported in the process that loads the engine."
            )
        fc = core.PluginFieldCollection_(
            core.PluginFieldCollection(
                [_field_from_engine(n, t, size, raw) for n, t, size, raw in self.fields]
            )
        )
        plugin = creator.create_plugin(
            self.name,
            self.namespace,
            fc,
            core.TensorRTPhase.RUNTIME,
            core.QuickPluginCreationRequest.STRICT_JIT,
        )
        runtime = plugin.get_capability_interface(core.PluginCapabilityType.RUNTIME)
        if runtime is None:
            raise PluginHostError(
                f"{self.namespace}::{self.name}: get_capability_interface(RUNTIME) returned None"
            )
        runtime.set_tactic(self.tactic)
        return RuntimePlugin(self, runtime)


def _field_from_engine(name: str, ftype: Any, size: int, raw: bytes) -> Any:
    """A PluginField with ``size`` elements of ``ftype`` holding ``raw`` (as TensorRT rebuilds it)."""
    import numpy as np

    from .core._plugin import _ITEMSIZE

    itemsize = _ITEMSIZE[ftype]
    storage = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}.get(
        itemsize, np.uint8
    )
    array = (
        np.frombuffer(raw, dtype=storage)
        if itemsize in (1, 2, 4, 8)
        else np.frombuffer(raw, np.uint8)
    )
    f = core.PluginField(name, array.copy(), ftype)
    f.size = size
    return f


class RuntimePlugin:
    """A plugin ready to execute: ``enqueue`` runs it on real tensors."""

    def __init__(self, built: BuiltPlugin, runtime: Any) -> None:
        self.built = built
        self._runtime = runtime

    @native_entry
    def enqueue(
        self,
        inputs: Sequence[torch.Tensor],
        outputs: Optional[Sequence[torch.Tensor]] = None,
        stream: Optional[int] = None,
    ) -> List[torch.Tensor]:
        """Run the plugin; allocates outputs from the shape expressions unless given."""
        built = self.built
        if len(inputs) != len(built.inputs):
            raise PluginHostError(
                f"{built.namespace}::{built.name} expects {len(built.inputs)} inputs, got {len(inputs)}"
            )
        for i, (t, spec) in enumerate(zip(inputs, built.inputs)):
            _check_input(built, i, t, spec)
        if torch.cuda.is_available() and not all(
            t.is_cuda for t in list(inputs) + list(outputs or [])
        ):
            raise PluginHostError(
                f"{built.namespace}::{built.name}: TensorRT's buffers are device memory; pass CUDA tensors "
                "(a plugin given host pointers would make the GPU read them as device addresses)"
            )
        shapes = [tuple(t.shape) for t in inputs]
        if outputs is None:
            device = inputs[0].device if inputs else torch.device("cpu")
            outputs = [
                torch.empty(s, dtype=TORCH_DTYPE[dt], device=device)
                for s, dt in zip(built.upper_output_shapes(shapes), built.output_types)
            ]
        contiguous_inputs = [t.contiguous() for t in inputs]
        if stream is None:
            stream = _current_stream_handle(contiguous_inputs + list(outputs))
        if built.kind == "aot":
            aot_launch(built.aot, contiguous_inputs, list(outputs), stream)
        else:
            _jit_enqueue(self._runtime, built, contiguous_inputs, list(outputs), stream)
        return built.actual_outputs(shapes, list(outputs))


def _check_input(built: BuiltPlugin, i: int, t: torch.Tensor, spec: InputSpec) -> None:
    expected = TORCH_DTYPE[built.input_types[i]]
    if t.dtype != expected:
        raise PluginHostError(
            f"{built.namespace}::{built.name} input {i}: dtype {t.dtype}, engine built for {expected}"
        )
    if t.dim() != spec.rank:
        raise PluginHostError(
            f"{built.namespace}::{built.name} input {i}: rank {t.dim()}, engine built for {spec.rank}"
        )
    for axis, (d, lo, hi) in enumerate(zip(t.shape, spec.min, spec.max)):
        if not lo <= d <= hi:
            raise PluginHostError(
                f"{built.namespace}::{built.name} input {i} dim {axis} = {d} is outside the "
                f"optimisation profile [{lo}, {hi}]"
            )


def default_device() -> torch.device:
    """Where TensorRT's buffers live here: the GPU when there is one, else host memory."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def _current_stream_handle(tensors: Sequence[torch.Tensor]) -> int:
    if any(t.is_cuda for t in tensors):
        return int(torch.cuda.current_stream().cuda_stream)
    return 0


def _desc(t: torch.Tensor, dtype: Any, fmt: Any) -> Any:
    d = core.PluginTensorDesc()
    d.dims = core.Dims(tuple(t.shape))
    d.type = dtype
    d.format = fmt
    d.scale = 1.0
    return d


def _jit_enqueue(
    runtime: Any,
    built: BuiltPlugin,
    inputs: Sequence[torch.Tensor],
    outputs: Sequence[torch.Tensor],
    stream: int,
) -> None:
    assumed("enqueue-buffers")
    in_desc = [
        _desc(t, dt, f)
        for t, dt, f in zip(inputs, built.input_types, built.input_formats)
    ]
    out_desc = [
        _desc(t, dt, f)
        for t, dt, f in zip(outputs, built.output_types, built.output_formats)
    ]
    in_ptrs, out_ptrs = [t.data_ptr() for t in inputs], [t.data_ptr() for t in outputs]
    in_strides = [core.Dims(tuple(t.stride())) for t in inputs]
    out_strides = [core.Dims(tuple(t.stride())) for t in outputs]
    with python_callback():
        runtime.enqueue(
            in_desc, out_desc, in_ptrs, out_ptrs, in_strides, out_strides, stream
        )


def _time_aot_kernels(
    kernels: Dict[int, AOTKernel], built: BuiltPlugin, rounds: int = 9
) -> Dict[int, float]:
    """Median device milliseconds of each tactic's kernel on random buffers of the opt shapes (GPU).

    The tactics are timed in turn within each round, so a GPU shared with other work (parallel
    tests) slows them alike instead of whichever happened to run during the disturbance.
    """
    from .core._network import TORCH_OF

    shapes = [tuple(spec.opt) for spec in built.inputs]
    inputs = []
    for shape, dtype in zip(shapes, built.input_types):
        torch_dtype = TORCH_OF[dtype]
        inputs.append(
            torch.randn(shape, device="cuda").to(torch_dtype)
            if torch_dtype.is_floating_point
            else torch.zeros(shape, dtype=torch_dtype, device="cuda")
        )
    outputs = [
        torch.empty(shape, dtype=TORCH_OF[dtype], device="cuda")
        for shape, dtype in zip(built.upper_output_shapes(shapes), built.output_types)
    ]
    stream = torch.cuda.current_stream().cuda_stream
    for kernel in kernels.values():
        aot_launch(kernel, inputs, outputs, stream)  # load the module, warm up
    samples: Dict[int, List[float]] = {t: [] for t in kernels}
    for _ in range(rounds):
        for tactic, kernel in kernels.items():
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            # Keep the GPU busy while Python enqueues the launches (a driver launch from Python
            # takes longer than a small kernel runs): the events then time the kernels, not the host.
            torch.cuda._sleep(2_000_000)
            start.record()
            for _ in range(10):
                aot_launch(kernel, inputs, outputs, stream)
            end.record()
            end.synchronize()
            samples[tactic].append(start.elapsed_time(end) / 10)
    return {t: sorted(v)[len(v) // 2] for t, v in samples.items()}


def aot_launch(
    kernel: Optional[AOTKernel],
    inputs: Sequence[torch.Tensor],
    outputs: Sequence[torch.Tensor],
    stream: int,
) -> None:
    """Launch an AOT plugin's PTX through the CUDA driver with TensorRT's parameter order."""
    assumed("aot-launch-order")
    if kernel is None:
        raise PluginHostError("AOT plugin without a kernel")
    if not all(t.is_cuda for t in list(inputs) + list(outputs)):
        raise PluginHostError(
            "AOT plugins execute PTX on a GPU: the stand-in can check and evaluate them on a CPU "
            "machine but not run them"
        )
    from . import cuda_launch

    expected = len(inputs) + len(kernel.extra_args) + len(outputs)
    declared = ptx_entry_param_count(kernel.ptx, kernel.name)
    if declared != expected:
        # TensorRT would launch anyway and the kernel would read past its parameter buffer
        # (seen: the process dies); the stand-in refuses with the reason instead.
        raise PluginHostError(
            f"AOT kernel {kernel.name} declares {declared} parameters, but TensorRT passes "
            f"{expected}: {len(inputs)} input pointers, {len(kernel.extra_args)} int32 extras, "
            f"{len(outputs)} output pointers"
        )
    config = kernel.launch_config([tuple(t.shape) for t in inputs])
    cuda_launch.launch_ptx(
        kernel.ptx,
        kernel.name,
        grid=(config["grid_x"], config["grid_y"], config["grid_z"]),
        block=(config["block_x"], config["block_y"], config["block_z"]),
        shared_mem=config["shared_mem"],
        pointers_before=[t.data_ptr() for t in inputs],
        int32_args=config["extra_args"],
        pointers_after=[t.data_ptr() for t in outputs],
        stream=stream,
    )


class PluginHost:
    """Builds plugins the way TensorRT's builder does (see module docstring)."""

    def __init__(
        self, *, time_tactics: bool = True, device: Optional[torch.device] = None
    ):
        self.time_tactics = time_tactics
        self.device = device
        #: Every plugin method call of the last build, in order: (method, detail).
        self.calls: List[Tuple[str, Any]] = []

    # -- creation -----------------------------------------------------------------------------
    @native_entry
    def build(
        self,
        factory: Callable[..., Any],
        inputs: Sequence[InputSpec],
        *,
        aot: Optional[bool] = None,
        prefer: Any = None,
    ) -> BuiltPlugin:
        """Build from what ``trtp.op.<ns>.<name>(*itensors, **attrs)`` returned.

        ``aot`` plays ``INetworkDefinition.add_plugin(..., aot=)``: True asks STRICT_AOT, False
        STRICT_JIT, None the network's preference ``prefer`` (a QuickPluginCreationRequest).
        """
        assumed("add-plugin-request")
        if aot is True:
            request = core.QuickPluginCreationRequest.STRICT_AOT
        elif aot is False:
            request = core.QuickPluginCreationRequest.STRICT_JIT
        else:
            request = (
                prefer
                if prefer is not None
                else core.QuickPluginCreationRequest.UNKNOWN
            )
        self.calls = [("create_plugin", request)]
        created = factory(request)
        if not (isinstance(created, tuple) and len(created) == 3):
            raise PluginHostError(
                f"plugin factory must return (input tensors, shape inputs, plugin), got {created!r}"
            )
        _, shape_inputs, plugin = created
        if shape_inputs:
            raise PluginHostError("shape inputs are not supported for quick plugins")
        return self.build_plugin(plugin, inputs)

    @native_entry
    def build_plugin(self, plugin: Any, inputs: Sequence[InputSpec]) -> BuiltPlugin:
        """Run the build-phase queries on an already created plugin object."""
        if not isinstance(plugin, core.IPluginV3):
            raise PluginHostError(
                f"create_plugin returned {type(plugin).__name__}, not an IPluginV3"
            )
        assumed("clone-before-build-queries")
        plugin = self._call(plugin, "clone")
        core_if = self._call(
            plugin, "get_capability_interface", core.PluginCapabilityType.CORE
        )
        build_if = self._call(
            plugin, "get_capability_interface", core.PluginCapabilityType.BUILD
        )
        if core_if is None or build_if is None:
            raise PluginHostError("get_capability_interface(CORE/BUILD) returned None")
        kind = "aot" if isinstance(build_if, core.IPluginV3QuickAOTBuild) else "jit"
        if kind == "jit" and not isinstance(build_if, core.IPluginV3QuickRuntime):
            raise PluginHostError(
                "a JIT quick plugin must implement IPluginV3QuickRuntime"
            )
        name = str(core_if.plugin_name)
        namespace = str(core_if.plugin_namespace)
        version = str(core_if.plugin_version)
        assumed("build-call-order")

        n_in = len(inputs)
        n_out = int(self._call(build_if, "get_num_outputs"))
        input_types = [s.dtype for s in inputs]
        output_types = list(
            self._call(
                build_if, "get_output_data_types", input_types, [s.rank for s in inputs]
            )
        )
        if len(output_types) != n_out:
            raise PluginHostError(
                f"{namespace}::{name}: get_output_data_types returned {len(output_types)} types "
                f"for {n_out} outputs"
            )
        for i, t in enumerate(output_types):
            if not isinstance(t, core.DataType):
                raise PluginHostError(
                    f"{namespace}::{name}: output {i} data type is {t!r}, not a DataType"
                )

        builder = core.IExprBuilder()
        in_exprs = [self._input_exprs(i, spec) for i, spec in enumerate(inputs)]
        out_exprs = list(
            self._call(build_if, "get_output_shapes", in_exprs, [], builder)
        )
        if len(out_exprs) != n_out:
            raise PluginHostError(
                f"{namespace}::{name}: get_output_shapes returned {len(out_exprs)} shapes for "
                f"{n_out} outputs"
            )
        output_nodes = [[e._node for e in dims] for dims in out_exprs]

        in_out = [self._dynamic_desc_input(s) for s in inputs] + [
            self._dynamic_desc_output(nodes, dtype, inputs)
            for nodes, dtype in zip(output_nodes, output_types)
        ]
        combos = list(
            self._call(build_if, "get_supported_format_combinations", in_out, n_in)
        )
        # The binding calls it a second time (getSupportedFormatCombinations) and keeps the first.
        self._call(build_if, "get_supported_format_combinations", in_out, n_in)
        n_io = n_in + n_out
        if not combos or len(combos) % n_io:
            raise PluginHostError(
                f"{namespace}::{name}: get_supported_format_combinations returned {len(combos)} "
                f"descriptors, not a positive multiple of {n_io} (inputs + outputs)"
            )
        chosen = self._choose_combination(namespace, name, combos, n_io, input_types)
        for desc, c in zip(in_out, chosen):
            desc.desc.type = c.type
            desc.desc.format = c.format
        self._call(build_if, "configure_plugin", in_out[:n_in], in_out[n_in:])
        tactics = list(self._call(build_if, "get_valid_tactics") or [])
        assumed("tactic-choice")
        tactic = int(tactics[0]) if tactics else 0

        aliased = [
            int(self._call(build_if, "get_aliased_input", i)) for i in range(n_out)
        ]
        built = BuiltPlugin(
            name=name,
            namespace=namespace,
            version=version,
            kind=kind,
            inputs=list(inputs),
            input_types=[c.type for c in chosen[:n_in]],
            input_formats=[c.format for c in chosen[:n_in]],
            output_types=[c.type for c in chosen[n_in:]],
            output_formats=[c.format for c in chosen[n_in:]],
            output_shapes=output_nodes,
            aliased_inputs=aliased,
            tactic=tactic,
            build_plugin=plugin,
        )
        if kind == "aot":
            assumed("aot-no-serialized-fields")
            if len(tactics) > 1:
                tactic = self._fastest_aot_tactic(
                    build_if, built, in_exprs, in_out, n_in, tactics
                )
                built.tactic = tactic
            self._call(build_if, "set_tactic", tactic)
            built.aot = self._aot_kernel(build_if, built, in_exprs, in_out, n_in)
        else:
            runtime_if = self._call(
                plugin, "get_capability_interface", core.PluginCapabilityType.RUNTIME
            )
            for t in tactics or [0]:
                self._call(build_if, "set_tactic", int(t))
                if self.time_tactics:
                    self._timing_run(runtime_if, built)
            self._call(build_if, "set_tactic", tactic)
            fc = self._call(build_if, "get_fields_to_serialize")
            built.fields = [(f.name, f.type, f.size, f._serialized()) for f in fc]
        return built

    # -- helpers ------------------------------------------------------------------------------
    def _call(self, obj: Any, method: str, *args: Any) -> Any:
        assumed("callback-errors")
        self.calls.append((method, args))
        try:
            with python_callback():
                return getattr(obj, method)(*args)
        except PluginHostError:
            raise
        except Exception as e:
            raise PluginHostError(
                f"plugin call {method}() raised {type(e).__name__}: {e}"
            ) from e

    @staticmethod
    def _input_exprs(index: int, spec: InputSpec) -> Any:
        assumed("static-dims-are-constants")
        exprs = core.DimsExprs(spec.rank)
        for axis, d in enumerate(spec.shape):
            node = _expr.const(d) if d >= 0 else _expr.input_dim(index, axis)
            exprs[axis] = IDimensionExpr._wrap(node)
        return exprs

    @staticmethod
    def _dynamic_desc_input(spec: InputSpec) -> Any:
        d = core.DynamicPluginTensorDesc()
        d.desc.dims = core.Dims(spec.shape)
        d.desc.type = spec.dtype
        d.desc.format = core.TensorFormat.LINEAR
        d.min, d.opt, d.max = spec.min, spec.opt, spec.max
        return d

    @staticmethod
    def _dynamic_desc_output(
        nodes: Sequence[_expr.Node], dtype: Any, inputs: Sequence[InputSpec]
    ) -> Any:
        d = core.DynamicPluginTensorDesc()
        static = [s.shape for s in inputs]
        d.desc.dims = core.Dims(
            [
                n[1] if n[0] == "const" else -1
                for n in (_expr.bind_inputs(x, static) for x in nodes)
            ]
        )
        d.desc.type = dtype
        d.desc.format = core.TensorFormat.LINEAR
        for attr in ("min", "opt", "max"):
            shapes = [getattr(s, attr) for s in inputs]
            setattr(d, attr, [_safe_eval(n, shapes) for n in nodes])
        return d

    @staticmethod
    def _choose_combination(
        namespace: str,
        name: str,
        combos: Sequence[Any],
        n_io: int,
        input_types: Sequence[Any],
    ) -> List[Any]:
        assumed("format-choice")
        n_in = len(input_types)
        for start in range(0, len(combos), n_io):
            combo = list(combos[start : start + n_io])
            if [c.type for c in combo[:n_in]] == list(input_types) and all(
                c.format == core.TensorFormat.LINEAR for c in combo
            ):
                return combo
        offered = [
            [str(c.type) for c in combos[s : s + n_io]]
            for s in range(0, len(combos), n_io)
        ]
        raise PluginHostError(
            f"{namespace}::{name}: no supported combination has the network's input types "
            f"{[str(t) for t in input_types]} in LINEAR format; offered {offered}"
        )

    def _timing_run(self, runtime_if: Any, built: BuiltPlugin) -> None:
        """Run enqueue once at the opt shapes, as the builder's tactic timing does."""
        device = self.device or default_device()
        inputs = []
        for spec, dt in zip(built.inputs, built.input_types):
            tdt = TORCH_DTYPE[dt]
            if tdt.is_floating_point:
                t = torch.randn(spec.opt, device=device).to(tdt)
            elif tdt == torch.bool:
                t = torch.rand(spec.opt, device=device) > 0.5
            else:
                t = torch.randint(0, 8, spec.opt, device=device).to(tdt)
            inputs.append(t)
        shapes = [spec.opt for spec in built.inputs]
        outputs = [
            torch.empty(s, dtype=TORCH_DTYPE[dt], device=device)
            for s, dt in zip(built.upper_output_shapes(shapes), built.output_types)
        ]
        stream = _current_stream_handle(inputs + outputs)
        self.calls.append(("enqueue", "timing"))
        try:
            _jit_enqueue(runtime_if, built, inputs, outputs, stream)
        except Exception as e:
            raise PluginHostError(
                f"{built.namespace}::{built.name}: enqueue failed during tactic timing at opt "
                f"shapes {shapes}: {type(e).__name__}: {e}"
            ) from e

    def _fastest_aot_tactic(
        self,
        build_if: Any,
        built: BuiltPlugin,
        in_exprs: Any,
        in_out: Any,
        n_in: int,
        tactics: Sequence[int],
    ) -> int:
        """Time every tactic's kernel at the opt shapes and return the fastest (GPU only)."""
        assumed("aot-tactic-timing")
        if not (self.time_tactics and torch.cuda.is_available()):
            return int(tactics[0])
        kernels: Dict[int, AOTKernel] = {}
        for t in tactics:
            self._call(build_if, "set_tactic", int(t))
            kernels[int(t)] = self._aot_kernel(build_if, built, in_exprs, in_out, n_in)
        times = _time_aot_kernels(kernels, built)
        built.tactic_times = times
        return min(times, key=lambda t: (times[t], t))

    def _aot_kernel(
        self, build_if: Any, built: BuiltPlugin, in_exprs: Any, in_out: Any, n_in: int
    ) -> AOTKernel:
        builder = core.IExprBuilder()
        params = core.KernelLaunchParams._make()
        setter = core.ISymExprs._make()
        self._call(
            build_if,
            "get_launch_params",
            in_exprs,
            in_out,
            n_in,
            params,
            setter,
            builder,
        )
        launch: Dict[str, _expr.Node] = {}
        for key in (
            "grid_x",
            "grid_y",
            "grid_z",
            "block_x",
            "block_y",
            "block_z",
            "shared_mem",
        ):
            value = params._expr(key)
            launch[key] = (
                value._node
                if value is not None
                else _expr.const(0 if key == "shared_mem" else 1)
            )
        extras = []
        for i in range(len(setter)):
            sym = setter[i]
            if sym is None:
                raise PluginHostError(f"extra argument {i} was never set")
            expr = sym._get("expr")
            if expr is None:
                raise PluginHostError(f"extra argument {i} has no expression")
            extras.append((expr._node, sym._get("dtype")))
        in_desc = [x.desc for x in in_out[:n_in]]
        out_desc = [x.desc for x in in_out[n_in:]]
        kernel_name, ptx = self._call(build_if, "get_kernel", in_desc, out_desc)
        if isinstance(kernel_name, bytes):
            kernel_name = kernel_name.decode()
        if isinstance(ptx, str):
            ptx = ptx.encode()
        return AOTKernel(kernel_name, bytes(ptx), launch, extras)


def ptx_entry_param_count(ptx: bytes, name: str) -> int:
    """Number of parameters of ``.entry name(...)`` in PTX text."""
    import re

    m = re.search(
        rb"\.entry\s+" + re.escape(name.encode()) + rb"\s*\(([^)]*)\)", ptx, re.S
    )
    if m is None:
        raise PluginHostError(f"the PTX has no .entry {name}")
    return len([p for p in m.group(1).split(b",") if p.strip()])


def _safe_eval(node: _expr.Node, shapes: Sequence[Sequence[int]]) -> int:
    try:
        return _expr.evaluate(node, shapes)
    except (ValueError, ZeroDivisionError):
        return -1


def volume(shape: Sequence[int]) -> int:
    return math.prod(shape)
