"""Engines: building the engine description, serialisation, deserialisation and execution.

The engine is a plain description (layers with parameters, tensor names and types, profiles, and
for plugin layers what TensorRT keeps of them: ``host.BuiltPlugin``), pickled behind the
``b"ftrt"`` magic. Execution walks the layers with torch (``_ops``) on the device of the bound
buffers, on the stream passed to ``execute_async_v3``; plugin layers go through the plugin host.
"""

from __future__ import annotations

import ctypes
import pickle
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import torch

from ..assumptions import assumed
from . import _ops
from ._builder import (
    ENGINE_FORMAT_VERSION,
    ENGINE_MAGIC,
    IBuilderConfig,
    IHostMemory,
    ILogger,
)
from ._dims import Dims, _as_dims
from ._enums import DataType, TensorFormat, _Severity
from ._native import native_entry
from ._network import TORCH_OF, INetworkDefinition, IPluginV3Layer, ITensor
from ._network_enums import (
    BuilderFlag,
    ExecutionContextAllocationStrategy,
    SerializationFlag,
    TensorIOMode,
    TensorLocation,
)
from ._version import TRT10


@dataclass
class LayerIR:
    kind: str
    name: str
    params: Dict[str, Any]
    inputs: List[Optional[int]]
    outputs: List[int]


@dataclass
class EngineIR:
    name: str
    tensors: Dict[int, Tuple[str, str]]  # id -> (name, DataType name)
    inputs: List[Tuple[str, str, Tuple[int, ...]]]  # (name, dtype name, shape with -1)
    outputs: List[Tuple[str, str, Tuple[int, ...]]]
    input_ids: Dict[str, int]
    output_ids: Dict[str, int]
    layers: List[LayerIR]
    profiles: List[Dict[str, Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]]]]
    flags: int = 0
    device_type: str = "cpu"
    layer_info: List[str] = field(default_factory=list)
    refittable: bool = (
        False  # built with BuilderFlag.REFIT / REFIT_IDENTICAL / REFIT_INDIVIDUAL
    )


_REFIT_FLAGS = tuple(
    getattr(BuilderFlag, n, None)
    for n in ("REFIT", "REFIT_IDENTICAL", "REFIT_INDIVIDUAL")
)


def _log(logger: Optional[ILogger], severity: Any, msg: str) -> None:
    if logger is not None:
        logger.log(severity, msg)


def compile_network(
    network: INetworkDefinition, config: IBuilderConfig, logger: Optional[ILogger]
) -> EngineIR:
    """Build phase: check the network, build plugin layers against the profile, describe the engine."""
    from ..host import InputSpec, PluginHost

    ids: Dict[int, int] = {}

    def tid(t: Optional[ITensor]) -> Optional[int]:
        if t is None:
            return None
        if id(t) not in ids:
            ids[id(t)] = len(ids)
            tensors[ids[id(t)]] = (t.name, t.dtype.name)
        return ids[id(t)]

    tensors: Dict[int, Tuple[str, str]] = {}
    if not network._outputs:
        raise RuntimeError("Network must have at least one output")
    for layer in network._layers:
        layer._check_valid()
    dynamic_inputs = [t for t in network._inputs if any(d < 0 for d in t.shape)]
    profiles: List[Dict[str, Tuple[Tuple[int, ...], ...]]] = []
    for p in config._profiles:
        profiles.append(
            {
                name: tuple(tuple(d) for d in shapes)
                for name, shapes in p._shapes.items()
            }
        )
    if dynamic_inputs and not profiles:
        raise RuntimeError(
            f"Network has dynamic or shape inputs, but no optimization profile has been defined "
            f"(inputs {[t.name for t in dynamic_inputs]})"
        )
    for t in network._inputs:
        for prof in profiles:
            if t.name not in prof:
                if any(d < 0 for d in t.shape):
                    raise RuntimeError(
                        f"optimization profile is missing values for input {t.name!r}"
                    )
                prof[t.name] = (tuple(t.shape),) * 3
    if not profiles:
        profiles = [{t.name: (tuple(t.shape),) * 3 for t in network._inputs}]

    # Shapes of every tensor at the profile's min / opt / max (for plugin inputs).
    profile = profiles[0]
    shapes_at = {
        which: _infer_all(network, {n: s[k] for n, s in profile.items()})
        for k, which in enumerate(("min", "opt", "max"))
    }

    from ..host import default_device

    device = default_device()
    host = PluginHost(time_tactics=True, device=device)
    layers: List[LayerIR] = []
    for layer in execution_order(network):
        params = layer._engine_params()
        if isinstance(layer, IPluginV3Layer):
            specs = []
            for t in layer._inputs:
                lo, mid, hi = (shapes_at[w][id(t)] for w in ("min", "opt", "max"))
                specs.append(InputSpec(t.dtype, tuple(t.shape), lo, mid, hi))
            built = host.build_plugin(layer._plugin, specs)
            built.build_plugin = None
            params = {"built": built}
            _log(
                logger,
                _Severity.VERBOSE,
                f"built plugin layer {layer.name} ({built.kind})",
            )
        layers.append(
            LayerIR(
                layer._KIND,
                layer.name,
                params,
                [tid(t) for t in layer._inputs],
                [tid(t) for t in layer._outputs],
            )
        )
    return EngineIR(
        name=network.name,
        tensors=tensors,
        inputs=[(t.name, t.dtype.name, tuple(t.shape)) for t in network._inputs],
        outputs=[(t.name, t.dtype.name, tuple(t.shape)) for t in network._outputs],
        input_ids={t.name: tid(t) for t in network._inputs},  # type: ignore[misc]
        output_ids={t.name: tid(t) for t in network._outputs},  # type: ignore[misc]
        layers=layers,
        profiles=[
            {n: tuple(tuple(x) for x in s) for n, s in p.items()} for p in profiles
        ],
        flags=network._flags,
        device_type=device.type,
        layer_info=[layer.name for layer in execution_order(network)],
        refittable=any(config.get_flag(f) for f in _REFIT_FLAGS if f is not None),
    )


def execution_order(network: INetworkDefinition) -> List[Any]:
    """The network's layers with every layer after the layers that produce its inputs.

    Layers keep the order they were added in wherever that allows. A layer may consume a later
    layer's output: Torch-TensorRT adds a shuffle and then the concatenation that computes its
    reshape dimensions (``set_input(1, ...)``), which TensorRT orders by data flow.
    """
    producer = {id(t): layer for layer in network._layers for t in layer._outputs}
    order: List[Any] = []
    done: set = set()
    for root in network._layers:
        # Iterative depth-first walk over producers (long chains must not hit the recursion limit).
        stack: List[Tuple[Any, bool]] = [(root, False)]
        on_path: set = set()
        while stack:
            layer, expanded = stack.pop()
            if id(layer) in done:
                continue
            if expanded:
                on_path.discard(id(layer))
                done.add(id(layer))
                order.append(layer)
                continue
            if id(layer) in on_path:
                raise RuntimeError(
                    f"the network has a cycle through layer {layer.name!r}"
                )
            on_path.add(id(layer))
            stack.append((layer, True))
            for t in reversed(layer._inputs):
                source = producer.get(id(t)) if t is not None else None
                if source is not None and id(source) not in done:
                    stack.append((source, False))
    return order


def _infer_all(
    network: INetworkDefinition, input_shapes: Dict[str, Sequence[int]]
) -> Dict[int, Tuple[int, ...]]:
    """Shape of every tensor for concrete network input shapes (meta-device run)."""
    values: Dict[int, torch.Tensor] = {}
    for t in network._inputs:
        values[id(t)] = torch.empty(
            tuple(input_shapes[t.name]), dtype=TORCH_OF[t.dtype], device="meta"
        )
    for layer in execution_order(network):
        ins = [values[id(t)] if t is not None else None for t in layer._inputs]
        outs = _ops.settle(layer._run(ins), ins)
        for t, v in zip(layer._outputs, outs):
            values[id(t)] = v
    return {k: tuple(v.shape) for k, v in values.items()}


class Runtime:
    """Deserialises engines."""

    def __init__(self, logger: ILogger) -> None:
        self.logger = logger
        self.max_threads = 1
        self.engine_host_code_allowed = False

    @native_entry
    def deserialize_cuda_engine(
        self, serialized_engine: Any
    ) -> Optional["ICudaEngine"]:
        data = bytes(serialized_engine)
        try:
            engine = ICudaEngine._from_bytes(data)
            engine._logger = self.logger
            return engine
        except Exception as e:  # TensorRT logs and returns None
            _log(
                self.logger,
                _Severity.ERROR,
                f"Error Code 1: deserialize_cuda_engine failed: {e}",
            )
            return None


class ICudaEngine:
    """A deserialised engine."""

    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.ICudaEngine: No constructor defined!")

    @classmethod
    @native_entry
    def _from_bytes(cls, data: bytes) -> "ICudaEngine":
        from ..assumptions import assumed

        assumed("engine-bytes")
        if not data.startswith(ENGINE_MAGIC):
            raise ValueError("not a serialized engine (magic mismatch)")
        version = int.from_bytes(data[4:8], "little")
        if version != ENGINE_FORMAT_VERSION:
            raise ValueError(f"engine format {version} is not {ENGINE_FORMAT_VERSION}")
        ir: EngineIR = pickle.loads(data[8:])
        self = object.__new__(cls)
        self._bytes = data
        self._ir = ir
        # Plugin layers are re-created now: a JIT plugin whose creator is missing fails here.
        self._runtimes: Dict[int, Any] = {}
        for i, layer in enumerate(ir.layers):
            if layer.kind == "PLUGIN_V3":
                self._runtimes[i] = layer.params["built"].runtime()
        self._io = [(n, TensorIOMode.INPUT, dt, s) for n, dt, s in ir.inputs] + [
            (n, TensorIOMode.OUTPUT, dt, s) for n, dt, s in ir.outputs
        ]
        return self

    # -- I/O description ----------------------------------------------------------------------
    @property
    def num_io_tensors(self) -> int:
        return len(self._io)

    def get_tensor_name(self, index: int) -> str:
        return self._io[index][0]

    def _io_entry(self, name: str) -> Tuple[str, Any, str, Tuple[int, ...]]:
        for entry in self._io:
            if entry[0] == name:
                return entry
        raise KeyError(f"no I/O tensor named {name!r}")

    def get_tensor_mode(self, name: str) -> TensorIOMode:
        for entry in self._io:
            if entry[0] == name:
                return entry[1]
        return TensorIOMode.NONE

    def get_tensor_dtype(self, name: str) -> DataType:
        return DataType[self._io_entry(name)[2]]

    def get_tensor_shape(self, name: str) -> Dims:
        return Dims(self._io_entry(name)[3])

    def get_tensor_location(self, name: str) -> TensorLocation:
        return TensorLocation.DEVICE

    def get_tensor_format(self, name: str, profile_index: int = 0) -> TensorFormat:
        return TensorFormat.LINEAR

    def is_shape_inference_io(self, name: str) -> bool:
        return False

    def get_tensor_profile_shape(self, name: str, profile_index: int) -> List[Dims]:
        shapes = self._ir.profiles[profile_index].get(name)
        if shapes is None:
            return []
        return [Dims(s) for s in shapes]

    @property
    def num_optimization_profiles(self) -> int:
        return len(self._ir.profiles)

    @property
    def num_layers(self) -> int:
        return len(self._ir.layers)

    @property
    def name(self) -> str:
        return self._ir.name

    if TRT10:  # removed in TensorRT 11

        @property
        def device_memory_size(self) -> int:
            return 0

        def create_execution_context_without_device_memory(self) -> "IExecutionContext":
            return IExecutionContext._make(self)

    @property
    def device_memory_size_v2(self) -> int:
        return 0

    @property
    def streamable_weights_size(self) -> int:
        return 0

    @property
    def weight_streaming_budget_v2(self) -> int:
        return 0

    @weight_streaming_budget_v2.setter
    def weight_streaming_budget_v2(self, value: int) -> None:
        pass

    @property
    def refittable(self) -> bool:
        return bool(getattr(self._ir, "refittable", False))

    def create_serialization_config(self) -> "ISerializationConfig":
        return ISerializationConfig._make()

    def serialize_with_config(self, config: "ISerializationConfig") -> IHostMemory:
        """The engine's bytes; with EXCLUDE_WEIGHTS (refittable engines only) every constant is zeroed."""
        assumed("weight-stripped-serialization")
        if not config.get_flag(SerializationFlag.EXCLUDE_WEIGHTS):
            return self.serialize()
        if not self.refittable:
            raise RuntimeError(
                "serialize_with_config: EXCLUDE_WEIGHTS needs an engine built with BuilderFlag.REFIT"
            )
        return IHostMemory._make(_engine_bytes(_replace_constants(self._ir, {})))

    def _set_ir(self, ir: EngineIR) -> None:
        """Replace the engine's description (a refit): later serialisations write the new one."""
        self._ir = ir
        self._bytes = _engine_bytes(ir)

    @property
    def hardware_compatibility_level(self) -> Any:
        return None

    def serialize(self) -> IHostMemory:
        return IHostMemory._make(self._bytes)

    @native_entry
    def create_execution_context(
        self, strategy: Any = ExecutionContextAllocationStrategy.STATIC
    ) -> "IExecutionContext":
        return IExecutionContext._make(self)

    def create_engine_inspector(self) -> "EngineInspector":
        return EngineInspector._make(self)


class ISerializationConfig:
    """Flags for ICudaEngine.serialize_with_config."""

    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.ISerializationConfig: No constructor defined!")

    @classmethod
    def _make(cls) -> "ISerializationConfig":
        self = object.__new__(cls)
        self._flags: set = set()
        return self

    def set_flag(self, flag: Any) -> bool:
        self._flags.add(flag)
        return True

    def clear_flag(self, flag: Any) -> bool:
        self._flags.discard(flag)
        return True

    def get_flag(self, flag: Any) -> bool:
        return flag in self._flags

    @property
    def flags(self) -> int:
        return sum(1 << int(f.value) for f in self._flags)


def _engine_bytes(ir: EngineIR) -> bytes:
    return (
        ENGINE_MAGIC
        + ENGINE_FORMAT_VERSION.to_bytes(4, "little")
        + pickle.dumps(ir, protocol=4)
    )


def weight_names(ir: EngineIR) -> List[str]:
    """Refittable weights, named as TensorRT names a constant layer's weights: "<layer> CONSTANT"."""
    assumed("refit-weight-names")
    return [f"{layer.name} CONSTANT" for layer in ir.layers if layer.kind == "CONSTANT"]


def _replace_constants(ir: EngineIR, values: Dict[str, torch.Tensor]) -> EngineIR:
    """A copy of ``ir`` whose constants are ``values`` by weight name (zeros where absent)."""
    import copy

    new = copy.copy(ir)
    new.layers = []
    for layer in ir.layers:
        if layer.kind == "CONSTANT":
            old = layer.params["value"]
            value = values.get(f"{layer.name} CONSTANT")
            value = (
                torch.zeros_like(old)
                if value is None
                else value.reshape(old.shape).to(old.dtype).cpu().clone()
            )
            layer = LayerIR(
                layer.kind,
                layer.name,
                {**layer.params, "value": value},
                layer.inputs,
                layer.outputs,
            )
        new.layers.append(layer)
    return new


class EngineInspector:
    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.EngineInspector: No constructor defined!")

    @classmethod
    def _make(cls, engine: ICudaEngine) -> "EngineInspector":
        self = object.__new__(cls)
        self._engine = engine
        self.execution_context = None
        return self

    def get_engine_information(self, format: Any) -> str:  # noqa: A002
        import json

        return json.dumps({"Layers": [layer.name for layer in self._engine._ir.layers]})

    def get_layer_information(self, layer_index: int, format: Any) -> str:  # noqa: A002
        import json

        layer = self._engine._ir.layers[layer_index]
        return json.dumps({"Name": layer.name, "LayerType": layer.kind})


_ELEMENT_SIZE = {
    name: torch.empty(0, dtype=dt).element_size()
    for name, dt in _ops.TORCH_DTYPE_BY_NAME.items()
}


def tensor_at(
    address: int, shape: Sequence[int], dtype_name: str, device: torch.device
) -> torch.Tensor:
    """A torch tensor viewing ``numel * itemsize`` bytes at ``address`` on ``device`` (no copy)."""
    dtype = _ops.TORCH_DTYPE_BY_NAME[dtype_name]
    numel = 1
    for d in shape:
        numel *= int(d)
    nbytes = numel * _ELEMENT_SIZE[dtype_name]
    if nbytes == 0:
        return torch.empty(tuple(shape), dtype=dtype, device=device)
    if device.type == "cuda":
        raw = torch.as_tensor(_CudaBytes(address, nbytes), device=device)
    else:
        buf = (ctypes.c_uint8 * nbytes).from_address(address)
        raw = torch.frombuffer(buf, dtype=torch.uint8)
    return raw.view(dtype).reshape(tuple(shape))


class _CudaBytes:
    """__cuda_array_interface__ of raw device bytes (uint8), viewed as any dtype afterwards."""

    def __init__(self, address: int, nbytes: int) -> None:
        self.__cuda_array_interface__ = {
            "shape": (nbytes,),
            "typestr": "|u1",
            "data": (address, False),
            "version": 3,
            "strides": None,
        }


class IExecutionContext:
    """Binds buffers, infers shapes and executes an engine."""

    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.IExecutionContext: No constructor defined!")

    @classmethod
    def _make(cls, engine: ICudaEngine) -> "IExecutionContext":
        self = object.__new__(cls)
        self.engine = engine
        self._shapes: Dict[str, Tuple[int, ...]] = {
            n: tuple(s) for n, dt, s in engine._ir.inputs if all(d >= 0 for d in s)
        }
        self._addresses: Dict[str, int] = {}
        self._inferred: Optional[Dict[int, Tuple[int, ...]]] = None
        self.active_optimization_profile = 0
        self.debug_sync = False
        self.name = ""
        self.nvtx_verbosity = None
        self.profiler = None
        self.enqueue_emits_profile = True
        self._output_allocators: Dict[str, Any] = {}
        self._device = torch.device("cpu")
        #: Layer index -> (host value, its device copy): constants in device memory.
        self._device_constants: Dict[int, Tuple[torch.Tensor, torch.Tensor]] = {}
        if torch.cuda.is_available():
            self._upload_constants(torch.device("cuda", torch.cuda.current_device()))
        return self

    def _upload_constants(self, device: torch.device) -> None:
        """Copy constant layers' values to ``device`` (outside any CUDA-graph capture)."""
        assumed("constants-in-device-memory")
        for index, layer in enumerate(self.engine._ir.layers):
            if layer.kind == "CONSTANT":
                value = layer.params["value"]
                held = self._device_constants.get(index)
                if held is None or held[1].device != device:
                    self._device_constants[index] = (value, value.to(device))
                elif (
                    held[0] is not value
                ):  # a refit: in place, as TensorRT refits its weights
                    if held[1].shape == value.shape and held[1].dtype == value.dtype:
                        held[1].copy_(value)
                        self._device_constants[index] = (value, held[1])
                    else:
                        self._device_constants[index] = (value, value.to(device))

    def _constant_on(
        self, index: int, layer: Any, device: torch.device
    ) -> torch.Tensor:
        held = self._device_constants.get(index)
        if (
            held is None
            or held[0] is not layer.params["value"]
            or held[1].device != device
        ):
            if torch.cuda.is_current_stream_capturing():
                raise RuntimeError(
                    f"constant layer {layer.name}: its value changed (refit) or the device did, "
                    "and a CUDA graph is being captured: run once outside capture first"
                )
            self._upload_constants(device)
            held = self._device_constants[index]
        return held[1].clone()

    def set_optimization_profile_async(
        self, profile_index: int, stream_handle: int
    ) -> bool:
        self.active_optimization_profile = int(profile_index)
        return True

    @native_entry
    def set_input_shape(self, name: str, shape: Any) -> bool:
        shape = tuple(_as_dims(shape))
        prof = self.engine._ir.profiles[self.active_optimization_profile].get(name)
        if prof is not None:
            lo, _, hi = prof
            if len(shape) != len(lo) or not all(
                a <= d <= b for a, d, b in zip(lo, shape, hi)
            ):
                assumed("input-shape-outside-profile")
                _log(
                    getattr(self.engine, "_logger", None),
                    _Severity.ERROR,
                    f"IExecutionContext::setInputShape: Error Code 3: API Usage Error (Supplied shape {list(shape)} "
                    f"for input {name!r} is outside the optimization profile's range {list(lo)} to {list(hi)}.)",
                )
                self._shapes.pop(
                    name, None
                )  # the input's shape is now unknown, not the previous one
                self._inferred = None
                return False
        self._shapes[name] = shape
        self._inferred = None
        return True

    def get_tensor_shape(self, name: str) -> Dims:
        if name in self._shapes:
            return Dims(self._shapes[name])
        ir = self.engine._ir
        if name in ir.output_ids:
            if not self.all_binding_shapes_specified:
                rank = next(len(s) for n, _, s in ir.outputs if n == name)
                return Dims([-1] * rank)
            inferred = self._infer()
            shape = inferred[ir.output_ids[name]]
            if ir.output_ids[name] in self._data_dependent():
                return Dims([-1] * len(shape))  # known after enqueue (IOutputAllocator)
            return Dims(shape)
        return Dims()

    def get_tensor_strides(self, name: str) -> Dims:
        shape = list(self.get_tensor_shape(name))
        strides, acc = [], 1
        for d in reversed(shape):
            strides.append(acc)
            acc *= d
        return Dims(list(reversed(strides)))

    @property
    def all_binding_shapes_specified(self) -> bool:
        return all(n in self._shapes for n, _, _ in self.engine._ir.inputs)

    def infer_shapes(self) -> List[str]:
        missing = [n for n, _, _ in self.engine._ir.inputs if n not in self._shapes]
        if missing:
            return missing
        self._infer()
        return []

    def set_tensor_address(self, name: str, memory: int) -> bool:
        self._addresses[name] = int(memory)
        return True

    def get_tensor_address(self, name: str) -> int:
        return self._addresses.get(name, 0)

    def set_output_allocator(self, name: str, output_allocator: Any) -> bool:
        self._output_allocators[name] = output_allocator
        return True

    def get_output_allocator(self, name: str) -> Any:
        return self._output_allocators.get(name)

    def set_all_tensors_debug_state(self, flag: bool) -> bool:
        return True

    def set_tensor_debug_state(self, name: str, flag: bool) -> bool:
        return True

    def _infer(self) -> Dict[int, Tuple[int, ...]]:
        if self._inferred is None:
            ir = self.engine._ir
            values: Dict[int, Optional[torch.Tensor]] = {}
            for name, dt, _ in ir.inputs:
                if name not in self._shapes:
                    raise RuntimeError(f"input {name!r} has no shape (set_input_shape)")
                values[ir.input_ids[name]] = torch.empty(
                    self._shapes[name],
                    dtype=_ops.TORCH_DTYPE_BY_NAME[dt],
                    device="meta",
                )
            self._run_layers(values, infer_only=True)
            self._inferred = {
                k: tuple(v.shape) for k, v in values.items() if v is not None
            }
        return self._inferred

    def _data_dependent(self) -> Set[int]:
        """Tensors whose shape depends on data: a plugin output sized by a size tensor, and
        everything computed from one (assumption output-allocator)."""
        found: Set[int] = set()
        for layer in self.engine._ir.layers:
            if layer.kind == "PLUGIN_V3":
                dependent = layer.params["built"].data_dependent()
                found.update(layer.outputs[i] for i, _ in dependent)
            if any(i in found for i in layer.inputs if i is not None):
                found.update(layer.outputs)
        return found

    def _run_layers(
        self, values: Dict[int, Optional[torch.Tensor]], infer_only: bool
    ) -> None:
        from ..host import PluginHostError

        for index, layer in enumerate(self.engine._ir.layers):
            ins = [values[i] if i is not None else None for i in layer.inputs]
            if layer.kind == "PLUGIN_V3":
                built = layer.params["built"]
                if infer_only:
                    shapes = [tuple(v.shape) for v in ins if v is not None]
                    outs = [
                        torch.empty(s, dtype=TORCH_OF[dt], device="meta")
                        for s, dt in zip(
                            built.upper_output_shapes(shapes), built.output_types
                        )
                    ]
                else:
                    try:
                        outs = self.engine._runtimes[index].enqueue(
                            [v for v in ins if v is not None]
                        )
                    except PluginHostError as e:
                        raise RuntimeError(f"plugin layer {layer.name}: {e}") from e
            elif (
                layer.kind == "CONSTANT"
                and not infer_only
                and self._device.type == "cuda"
            ):
                outs = [self._constant_on(index, layer, self._device)]
            else:
                if not infer_only:
                    ins = _ops.on_one_device(ins)
                outs = _ops.RUNNERS[layer.kind](layer.params, ins)
                if infer_only:
                    outs = _ops.settle(outs, ins)
            for i, v in zip(layer.outputs, outs):
                values[i] = v

    @native_entry
    def execute_async_v3(self, stream_handle: int) -> bool:
        ir = self.engine._ir
        missing = [
            n
            for n, _, _ in ir.inputs + ir.outputs
            if n not in self._addresses and n not in self._output_allocators
        ]
        if missing:
            raise RuntimeError(f"execute_async_v3: no address set for {missing}")
        if not self.all_binding_shapes_specified:
            assumed("input-shape-outside-profile")
            _log(
                getattr(self.engine, "_logger", None),
                _Severity.ERROR,
                "IExecutionContext::enqueueV3: Error Code 3: API Usage Error (not all input shapes are specified or valid.)",
            )
            return False
        device = _device_of(self._addresses[ir.inputs[0][0]] if ir.inputs else 0)
        self._device = device
        shapes = self._infer()
        values: Dict[int, Optional[torch.Tensor]] = {}
        for name, dt, _ in ir.inputs:
            values[ir.input_ids[name]] = tensor_at(
                self._addresses[name], self._shapes[name], dt, device
            )
        with _on_stream(device, stream_handle):
            self._run_layers(values, infer_only=False)
            dependent = self._data_dependent()
            for name, dt, _ in ir.outputs:
                tid = ir.output_ids[name]
                result = values[tid]
                assert result is not None
                allocator = self._output_allocators.get(name)
                if allocator is not None:
                    address = self._allocate_output(
                        allocator, name, result, stream_handle
                    )
                    out = tensor_at(address, tuple(result.shape), dt, device)
                    out.copy_(result.to(out.dtype))
                    allocator.notify_shape(name, Dims(tuple(result.shape)))
                    continue
                if tid in dependent:
                    raise RuntimeError(
                        f"execute_async_v3: output {name!r} has a data-dependent shape; "
                        "set an IOutputAllocator for it (set_output_allocator)"
                    )
                out = tensor_at(self._addresses[name], shapes[tid], dt, device)
                out.copy_(result.to(out.dtype))
        return True

    @staticmethod
    def _allocate_output(
        allocator: Any, name: str, result: torch.Tensor, stream_handle: int
    ) -> int:
        """Ask the IOutputAllocator for the output's memory, in bytes (assumption output-allocator)."""
        assumed("output-allocator")
        size = max(1, result.numel() * result.element_size())
        address = allocator.reallocate_output_async(name, 0, size, 256, stream_handle)
        if not address:
            raise RuntimeError(
                f"execute_async_v3: the output allocator returned no memory for {name!r}"
            )
        return int(address)

    def execute_v2(self, bindings: Sequence[int]) -> bool:
        ir = self.engine._ir
        names = [n for n, _, _ in ir.inputs] + [n for n, _, _ in ir.outputs]
        for name, address in zip(names, bindings):
            self.set_tensor_address(name, address)
        return self.execute_async_v3(0)


def _device_of(address: int) -> torch.device:
    if torch.cuda.is_available():
        try:
            from cuda.bindings import driver  # type: ignore[import-not-found]

            err, mem_type = driver.cuPointerGetAttribute(
                driver.CUpointer_attribute.CU_POINTER_ATTRIBUTE_MEMORY_TYPE, address
            )
            if err == driver.CUresult.CUDA_SUCCESS and int(mem_type) == int(
                driver.CUmemorytype.CU_MEMORYTYPE_DEVICE
            ):
                return torch.device("cuda", torch.cuda.current_device())
            if err == driver.CUresult.CUDA_SUCCESS:
                return torch.device("cpu")
        except ImportError:
            pass
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


class _on_stream:
    """Run torch work of the execution on TensorRT's stream (CUDA) or inline (CPU)."""

    def __init__(self, device: torch.device, handle: int) -> None:
        self._ctx: Any = None
        if device.type == "cuda":
            stream = (
                torch.cuda.ExternalStream(int(handle))
                if handle
                else torch.cuda.default_stream()
            )
            self._ctx = torch.cuda.stream(stream)

    def __enter__(self) -> None:
        if self._ctx is not None:
            self._ctx.__enter__()

    def __exit__(self, *exc: Any) -> None:
        if self._ctx is not None:
            self._ctx.__exit__(*exc)
