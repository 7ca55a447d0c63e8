"""Network definition: tensors, layers and INetworkDefinition, with static shape inference.

Each layer records its kind and parameters; ``_ops`` computes it. Output shapes are inferred when a
layer is added (and again when its parameters change) by running the layer on the meta device twice,
with every dynamic input dimension set to two different stand-in sizes: a dimension that differs
between the two runs depends on a dynamic input and is reported as -1, as TensorRT reports it.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch

from . import _ops
from ._dims import Dims, _as_dims
from ._enums import DataType, QuickPluginCreationRequest
from ._native import native_entry
from ._network_enums import (
    ActivationType,
    AttentionNormalizationOp,
    ElementWiseOperation,
    GatherMode,
    LayerType,
    MatrixOperation,
    NetworkDefinitionCreationFlag,
    ReduceOperation,
    SampleMode,
    UnaryOperation,
)
from ._version import TRT10

# Two sizes that stand for every dynamic dimension during static shape inference.
_PROBE_SIZES = (7919, 7907)

# What a layer's computation raises for an invalid configuration (kept until it is used).
_LAYER_ERRORS = (ValueError, TypeError, NotImplementedError, IndexError, RuntimeError)

TORCH_OF: Dict[DataType, torch.dtype] = {
    DataType.FLOAT: torch.float32,
    DataType.HALF: torch.float16,
    DataType.BF16: torch.bfloat16,
    DataType.INT8: torch.int8,
    DataType.INT32: torch.int32,
    DataType.INT64: torch.int64,
    DataType.BOOL: torch.bool,
    DataType.UINT8: torch.uint8,
    DataType.FP8: torch.float8_e4m3fn,
}
TRT_OF: Dict[torch.dtype, DataType] = {v: k for k, v in TORCH_OF.items()}

_NUMPY_TO_TRT = {
    np.dtype("float32"): DataType.FLOAT,
    np.dtype("float16"): DataType.HALF,
    np.dtype("int8"): DataType.INT8,
    np.dtype("int32"): DataType.INT32,
    np.dtype("int64"): DataType.INT64,
    np.dtype("bool"): DataType.BOOL,
    np.dtype("uint8"): DataType.UINT8,
}


class Weights:
    """Constant data: Weights(numpy array), Weights(DataType) (empty) or Weights(type, ptr, count)."""

    @native_entry
    def __init__(self, *args: Any) -> None:
        if not args:
            self._value = torch.empty(0, dtype=torch.float32)
        elif len(args) == 1 and isinstance(args[0], DataType):
            self._value = torch.empty(0, dtype=TORCH_OF[args[0]])
        elif len(args) == 1:
            array = np.ascontiguousarray(args[0])
            if array.dtype not in _NUMPY_TO_TRT:
                raise TypeError(f"Weights(): unsupported numpy dtype {array.dtype}")
            self._value = torch.from_numpy(array.copy()).reshape(-1)
        elif len(args) == 3:
            dtype, ptr, count = args
            tdt = TORCH_OF[dtype]
            nbytes = int(count) * torch.empty(0, dtype=tdt).element_size()
            import ctypes

            raw = (ctypes.c_uint8 * nbytes).from_address(int(ptr))
            self._value = torch.frombuffer(bytearray(raw), dtype=tdt).clone()
        else:
            raise TypeError(f"Weights(): unsupported arguments {args!r}")

    @property
    def dtype(self) -> DataType:
        return TRT_OF[self._value.dtype]

    @property
    def size(self) -> int:
        return int(self._value.numel())

    @property
    def nbytes(self) -> int:
        return int(self._value.numel() * self._value.element_size())

    def numpy(self) -> np.ndarray:
        return self._value.numpy()


class ITensor:
    """A tensor of the network (an input, or a layer output)."""

    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.ITensor: No constructor defined!")

    @classmethod
    def _make(
        cls,
        network: Optional["INetworkDefinition"],
        name: str,
        dtype: DataType,
        shape: Sequence[int],
    ) -> "ITensor":
        self = object.__new__(cls)
        self._network = network
        self._name = name
        self._dtype = dtype
        self._shape = Dims(shape)
        self._producer: Optional[Tuple["ILayer", int]] = None
        self._is_input = False
        self._is_output = False
        self.allowed_formats = 1
        self.location = None
        return self

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def dtype(self) -> DataType:
        return self._dtype

    @dtype.setter
    def dtype(self, value: DataType) -> None:
        self._dtype = value

    @property
    def shape(self) -> Dims:
        if self._producer is not None:
            self._producer[0]._check_valid()
        return Dims(tuple(self._shape))

    @shape.setter
    def shape(self, value: Any) -> None:
        if not self._is_input:
            raise ValueError("only network input shapes can be set")
        self._shape = _as_dims(value)

    @property
    def is_network_input(self) -> bool:
        return self._is_input

    @property
    def is_network_output(self) -> bool:
        return self._is_output

    @property
    def is_shape_tensor(self) -> bool:
        return False

    @property
    def is_execution_tensor(self) -> bool:
        return True

    if TRT10:

        def set_dynamic_range(self, min: float, max: float) -> bool:  # noqa: A002
            self.dynamic_range = (min, max)
            return True

    def __repr__(self) -> str:
        return f"ITensor({self._name!r}, {self._dtype}, {self._shape})"


class ILayer:
    """A layer: kind, parameters, inputs, outputs."""

    _KIND = "LAYER"

    def __init__(self, *args: Any) -> None:
        raise TypeError(f"tensorrt.{type(self).__name__}: No constructor defined!")

    @classmethod
    def _make(
        cls,
        network: "INetworkDefinition",
        inputs: Sequence[Optional[ITensor]],
        num_outputs: int,
        **params: Any,
    ) -> Any:
        self = object.__new__(cls)
        self._network = network
        self._inputs: List[Optional[ITensor]] = list(inputs)
        self._params: Dict[str, Any] = dict(params)
        self._name = f"({self._KIND.lower()}) [{len(network._layers)}]"
        self._outputs: List[ITensor] = []
        self.precision = DataType.FLOAT
        self.metadata = ""
        self._output_types: Dict[int, DataType] = {}
        for i in range(num_outputs):
            t = ITensor._make(network, f"{self._name}_output_{i}", DataType.FLOAT, ())
            t._producer = (self, i)
            self._outputs.append(t)
        self._infer()
        return self

    # -- public surface ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def type(self) -> LayerType:
        return LayerType[self._KIND]

    @property
    def num_inputs(self) -> int:
        return len(self._inputs)

    @property
    def num_outputs(self) -> int:
        return len(self._outputs)

    def get_input(self, index: int) -> Optional[ITensor]:
        return self._inputs[index]

    def get_output(self, index: int) -> ITensor:
        return self._outputs[index]

    def set_input(self, index: int, tensor: ITensor) -> None:
        while len(self._inputs) <= index:
            self._inputs.append(None)
        self._inputs[index] = tensor
        self._infer()

    def get_output_type(self, index: int) -> DataType:
        return self._outputs[index].dtype

    if TRT10:  # removed in TensorRT 11 (strongly typed networks only)

        def set_output_type(self, index: int, dtype: DataType) -> None:
            self._output_types[index] = dtype
            self._outputs[index]._dtype = dtype

        def reset_output_type(self, index: int) -> None:
            self._output_types.pop(index, None)
            self._infer()

        def output_type_is_set(self, index: int) -> bool:
            return index in self._output_types

    # -- stand-in internals -----------------------------------------------------------------
    @native_entry
    def _set(self, **params: Any) -> None:
        self._params.update(params)
        self._infer()

    def _engine_params(self) -> Dict[str, Any]:
        return dict(self._params)

    def _check_valid(self) -> None:
        """Raise the error that made the layer's configuration invalid, if it still is."""
        if getattr(self, "_invalid", None) is not None:
            self._infer()  # an input's producer may have been fixed since
        error = getattr(self, "_invalid", None)
        if error is not None:
            message = str(error)
            prefix = "" if message.startswith(f"{self._name}: ") else f"{self._name}: "
            raise type(error)(prefix + message) from error

    def _run(self, values: List[Optional[torch.Tensor]]) -> List[torch.Tensor]:
        return _ops.RUNNERS[self._KIND](self._engine_params(), values)

    def _infer(self) -> None:
        """Static shape inference (see module docstring).

        A layer whose current inputs and parameters are invalid is kept, with the error: callers
        configure a layer one attribute at a time (Torch-TensorRT's group_norm adds a normalization
        with per-group scale, then sets ``num_groups``; a matrix multiply may get its operations
        after its inputs), so an intermediate state must not fail. Reading the output's shape (or
        the shape of any output computed from it) or building the network raises the error, naming
        the layer; the layer is checked again first, in case its inputs were fixed meanwhile.
        """
        self._network._probe_cache.clear()
        runs = []
        try:
            for probe in _PROBE_SIZES:
                values = [
                    self._network._probe_value(t, probe) if t is not None else None
                    for t in self._inputs
                ]
                outs = _ops.settle(self._run(values), values)
                runs.append(outs)
        except _LAYER_ERRORS as e:
            self._invalid: Optional[Exception] = e
            self._network._probe_cache.clear()
            return
        self._invalid = None
        for i, out in enumerate(self._outputs):
            a, b = runs[0][i], runs[1][i]
            shape = [da if da == db else -1 for da, db in zip(a.shape, b.shape)]
            if len(a.shape) != len(b.shape):
                raise ValueError(
                    f"{self._name}: output rank depends on dynamic input sizes"
                )
            out._shape = Dims(shape)
            out._dtype = self._output_types.get(i, TRT_OF[a.dtype])
        self._network._probe_cache.clear()


def _param_property(
    key: str,
    convert: Callable[[Any], Any] = lambda v: v,
    expose: Callable[[Any], Any] = lambda v: v,
) -> property:
    def getter(self: ILayer) -> Any:
        return expose(self._params.get(key))

    def setter(self: ILayer, value: Any) -> None:
        self._set(**{key: convert(value)})

    return property(getter, setter)


def _dims_tuple(value: Any) -> Tuple[int, ...]:
    return tuple(int(v) for v in value)


class IElementWiseLayer(ILayer):
    _KIND = "ELEMENTWISE"
    op = _param_property("op", lambda v: v.name, lambda v: ElementWiseOperation[v])


class IUnaryLayer(ILayer):
    _KIND = "UNARY"
    op = _param_property("op", lambda v: v.name, lambda v: UnaryOperation[v])


class IIdentityLayer(ILayer):
    _KIND = "IDENTITY"

    if TRT10:

        def set_output_type(self, index: int, dtype: DataType) -> None:
            self._set(output_type=dtype.name)
            self._output_types[index] = dtype
            self._outputs[index]._dtype = dtype


class ICastLayer(ILayer):
    _KIND = "CAST"
    to_type = _param_property("to_type", lambda v: v.name, lambda v: DataType[v])


class IConstantLayer(ILayer):
    _KIND = "CONSTANT"

    @property
    def shape(self) -> Dims:
        return Dims(tuple(self._params["value"].shape))

    @shape.setter
    @native_entry
    def shape(self, value: Any) -> None:
        self._set(value=self._params["value"].reshape(_dims_tuple(value)))

    @property
    @native_entry
    def weights(self) -> Weights:
        w = Weights()
        w._value = self._params["value"].reshape(-1)
        return w

    @weights.setter
    @native_entry
    def weights(self, value: Weights) -> None:
        self._set(value=value._value.reshape(self._params["value"].shape))


class IShapeLayer(ILayer):
    _KIND = "SHAPE"


class IShuffleLayer(ILayer):
    _KIND = "SHUFFLE"
    first_transpose = _param_property(
        "first_transpose",
        _dims_tuple,
        lambda v: tuple(v) if v is not None else tuple(range(8)),
    )
    second_transpose = _param_property(
        "second_transpose",
        _dims_tuple,
        lambda v: tuple(v) if v is not None else tuple(range(8)),
    )
    reshape_dims = _param_property(
        "reshape_dims", _dims_tuple, lambda v: Dims(v) if v is not None else Dims()
    )
    zero_is_placeholder = _param_property("zero_is_placeholder", bool)


class ISliceLayer(ILayer):
    _KIND = "SLICE"
    start = _param_property("start", _dims_tuple, Dims)
    shape = _param_property("shape", _dims_tuple, Dims)
    stride = _param_property("stride", _dims_tuple, Dims)
    mode = _param_property("mode", lambda v: v.name, lambda v: SampleMode[v])


class IGatherLayer(ILayer):
    _KIND = "GATHER"
    axis = _param_property("axis", int)
    mode = _param_property("mode", lambda v: v.name, lambda v: GatherMode[v])
    num_elementwise_dims = _param_property("num_elementwise_dims", int)


class IConcatenationLayer(ILayer):
    _KIND = "CONCATENATION"
    axis = _param_property("axis", int)


class IReduceLayer(ILayer):
    _KIND = "REDUCE"
    op = _param_property("op", lambda v: v.name, lambda v: ReduceOperation[v])
    axes = _param_property("axes", int)
    keep_dims = _param_property("keep_dims", bool)


class _RefusesUnknownAttributes:
    """Setting a public attribute the stand-in does not model raises instead of being ignored.

    A plain Python object would keep ``layer.compute_precision = ...`` as an instance attribute
    that nothing reads; TensorRT would honour it. The layers added for realistic models refuse it.
    """

    _SETTABLE = frozenset({"precision", "metadata"})

    def __setattr__(self, name: str, value: Any) -> None:
        if not (
            name.startswith("_") or name in self._SETTABLE or hasattr(type(self), name)
        ):
            raise AttributeError(
                f"tensorrt.{type(self).__name__}.{name}: not modelled by the TensorRT stand-in; "
                f"setting it would be ignored, so it is refused"
            )
        object.__setattr__(self, name, value)


def _finite(attribute: str) -> Callable[[Any], float]:
    """Converter for a float attribute TensorRT requires to be finite (IActivationLayer alpha/beta)."""

    def convert(value: Any) -> float:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{attribute} must be finite, got {value!r}")
        return number

    return convert


class IActivationLayer(_RefusesUnknownAttributes, ILayer):
    """A per-element activation; ``type`` is the ActivationType here, as in the binding."""

    _KIND = "ACTIVATION"
    type = _param_property(  # type: ignore[assignment]
        "type", lambda v: v.name, lambda v: ActivationType[v]
    )
    alpha = _param_property("alpha", _finite("IActivationLayer.alpha"))
    beta = _param_property("beta", _finite("IActivationLayer.beta"))


class IMatrixMultiplyLayer(_RefusesUnknownAttributes, ILayer):
    _KIND = "MATRIX_MULTIPLY"
    op0 = _param_property("op0", lambda v: v.name, lambda v: MatrixOperation[v])
    op1 = _param_property("op1", lambda v: v.name, lambda v: MatrixOperation[v])


class ISoftMaxLayer(_RefusesUnknownAttributes, ILayer):
    _KIND = "SOFTMAX"
    axes = _param_property("axes", int)


class INormalizationLayer(_RefusesUnknownAttributes, ILayer):
    """add_normalization's layer: inputs are the data, the scale and the bias."""

    _KIND = "NORMALIZATION"
    epsilon = _param_property("epsilon", float)
    axes = _param_property("axes", int)
    num_groups = _param_property("num_groups", int)


class IScaleLayer(ILayer):
    """Declared (Torch-TensorRT 2.11 lists it among refittable layer types); never added here."""

    _KIND = "SCALE"


class IConvolutionLayer(ILayer):
    """Declared for the same reason; the stand-in has no convolution."""

    _KIND = "CONVOLUTION"


class IDeconvolutionLayer(ILayer):
    """Declared for the same reason; the stand-in has no deconvolution."""

    _KIND = "DECONVOLUTION"


class IAttentionBoundaryLayer(ILayer):
    """A layer that bounds an IAttention's scope; ``attention`` is that IAttention."""

    @property
    def attention(self) -> "IAttention":
        return self._attention  # type: ignore[no-any-return,attr-defined]


class IAttentionOutputLayer(_RefusesUnknownAttributes, IAttentionBoundaryLayer):
    """The one layer that holds a whole IAttention here (query, key, value and the optional mask).

    TensorRT brackets the attention's fused kernel with an input and an output boundary layer;
    the stand-in, which computes the attention with torch, records only the output one.
    """

    _KIND = "ATTENTION_OUTPUT"


class IAttention(_RefusesUnknownAttributes):
    """normalize(query * key^T [+ mask]) * value, as INetworkDefinition.add_attention builds it.

    Honoured: ``norm_op`` (SOFTMAX, NONE), ``causal``, ``mask`` (bool or additive), ``decomposable``
    (recorded; a single torch computation either way), ``name``, ``metadata``. Refused with an
    error: the normalization quantization (``normalization_quantize_to_type`` / ``_scale``), and
    every attribute not listed here (``causal_kind``, the packed query/key-value forms, ...).
    """

    _SETTABLE = frozenset()

    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.IAttention: No constructor defined!")

    @classmethod
    def _make(cls, layer: IAttentionOutputLayer) -> "IAttention":
        self = object.__new__(cls)
        self._layer = layer
        layer._attention = self
        return self

    @property
    def norm_op(self) -> AttentionNormalizationOp:
        return AttentionNormalizationOp[self._layer._params["norm_op"]]

    @norm_op.setter
    def norm_op(self, value: AttentionNormalizationOp) -> None:
        self._layer._set(norm_op=value.name)

    @property
    def causal(self) -> bool:
        return bool(self._layer._params["causal"])

    @causal.setter
    def causal(self, value: bool) -> None:
        self._layer._set(causal=bool(value))

    @property
    def decomposable(self) -> bool:
        return bool(self._layer._params["decomposable"])

    @decomposable.setter
    def decomposable(self, value: bool) -> None:
        self._layer._set(decomposable=bool(value))

    @property
    def mask(self) -> Optional[ITensor]:
        return self.get_input(3)

    @mask.setter
    def mask(self, value: ITensor) -> None:
        self.set_input(3, value)

    @property
    def normalization_quantize_to_type(self) -> Optional[DataType]:
        return None

    @normalization_quantize_to_type.setter
    def normalization_quantize_to_type(self, value: DataType) -> None:
        raise NotImplementedError(
            f"IAttention.normalization_quantize_to_type = {value}: the TensorRT stand-in does not "
            f"quantize the attention's normalization"
        )

    @property
    def normalization_quantize_scale(self) -> Optional[ITensor]:
        return None

    @normalization_quantize_scale.setter
    def normalization_quantize_scale(self, value: ITensor) -> None:
        raise NotImplementedError(
            "IAttention.normalization_quantize_scale: the TensorRT stand-in does not quantize the "
            "attention's normalization"
        )

    @property
    def name(self) -> str:
        return self._layer.name

    @name.setter
    def name(self, value: str) -> None:
        self._layer.name = value

    @property
    def metadata(self) -> str:
        return str(self._layer.metadata)

    @metadata.setter
    def metadata(self, value: str) -> None:
        self._layer.metadata = str(value)

    @property
    def num_inputs(self) -> int:
        return sum(t is not None for t in self._layer._inputs)

    @property
    def num_outputs(self) -> int:
        return 1

    def get_input(self, index: int) -> Optional[ITensor]:
        inputs = self._layer._inputs
        return inputs[index] if 0 <= index < len(inputs) else None

    def set_input(self, index: int, tensor: ITensor) -> bool:
        """Inputs 0-2 are query, key and value, 3 the mask (4, the quantization scale, is refused)."""
        if not 0 <= index <= 3:
            raise NotImplementedError(
                f"IAttention.set_input({index}, ...): the stand-in takes query (0), key (1), "
                f"value (2) and mask (3)"
            )
        if not isinstance(tensor, ITensor):
            raise TypeError(
                f"IAttention.set_input: expected an ITensor, got {type(tensor).__name__}"
            )
        self._layer.set_input(index, tensor)
        return True

    def get_output(self, index: int) -> ITensor:
        return self._layer.get_output(index)


class ISelectLayer(ILayer):
    _KIND = "SELECT"


class IPluginV3Layer(ILayer):
    """A plugin layer. Its outputs come from the plugin's own data-type and shape functions."""

    _KIND = "PLUGIN_V3"

    @classmethod
    def _make_plugin(
        cls,
        network: "INetworkDefinition",
        inputs: Sequence[ITensor],
        plugin: Any,
        request: Any,
    ) -> "IPluginV3Layer":
        from ..host import PluginHost

        self = object.__new__(cls)
        self._network = network
        self._inputs = list(inputs)
        self._name = f"(plugin_v3) [{len(network._layers)}]"
        self.precision = DataType.FLOAT
        self.metadata = ""
        self._output_types = {}
        self._plugin = plugin
        self._request = request
        specs = [network._input_spec(t) for t in inputs]
        host = PluginHost(time_tactics=False)
        self._preview = host.build_plugin(plugin, specs)
        self._params = {"built": None}
        self._outputs = []
        for i, dtype in enumerate(self._preview.output_types):
            t = ITensor._make(network, f"{self._name}_output_{i}", dtype, ())
            t._producer = (self, i)
            self._outputs.append(t)
        self._infer()
        return self

    def _run(self, values: List[Optional[torch.Tensor]]) -> List[torch.Tensor]:
        built = self._params.get("built") or self._preview
        if any(_ops.is_meta(v) for v in values):
            shapes = [tuple(v.shape) for v in values if v is not None]
            return [
                torch.empty(s, dtype=TORCH_OF[dt], device="meta")
                for s, dt in zip(built.upper_output_shapes(shapes), built.output_types)
            ]
        runtime = self._params.get("runtime")
        if runtime is None:
            runtime = built.runtime()
            self._params["runtime"] = runtime
        return runtime.enqueue([v for v in values if v is not None])

    def _engine_params(self) -> Dict[str, Any]:
        return {"built": self._params.get("built") or self._preview}

    def _infer(self) -> None:
        values = [self._network._probe_value(t, _PROBE_SIZES[0]) for t in self._inputs]
        meta = [v.to("meta") if v is not None else None for v in values]
        outs_a = self._run(meta)
        values_b = [
            self._network._probe_value(t, _PROBE_SIZES[1]) for t in self._inputs
        ]
        outs_b = self._run([v.to("meta") if v is not None else None for v in values_b])
        built = self._params.get("built") or self._preview
        dependent = built.data_dependent()
        for i, (out, a, b) in enumerate(zip(self._outputs, outs_a, outs_b)):
            out._shape = Dims(
                [
                    da if da == db and (i, j) not in dependent else -1
                    for j, (da, db) in enumerate(zip(a.shape, b.shape))
                ]
            )
        self._network._probe_cache.clear()


class INetworkDefinition:
    """A network under construction."""

    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.INetworkDefinition: No constructor defined!")

    @classmethod
    def _make(cls, flags: int) -> "INetworkDefinition":
        self = object.__new__(cls)
        self._flags = int(flags)
        self._layers: List[ILayer] = []
        self._inputs: List[ITensor] = []
        self._outputs: List[ITensor] = []
        self._probe_cache: Dict[Tuple[int, int], torch.Tensor] = {}
        self.name = "Unnamed Network 0"
        return self

    # -- inputs and outputs -------------------------------------------------------------------
    def add_input(self, name: str, dtype: DataType, shape: Any) -> ITensor:
        if any(t.name == name for t in self._inputs):
            raise ValueError(f"a network input named {name!r} exists already")
        t = ITensor._make(self, name, dtype, tuple(_as_dims(shape)))
        t._is_input = True
        self._inputs.append(t)
        return t

    def mark_output(self, tensor: ITensor) -> None:
        tensor._is_output = True
        if tensor not in self._outputs:
            self._outputs.append(tensor)

    def unmark_output(self, tensor: ITensor) -> None:
        tensor._is_output = False
        self._outputs = [t for t in self._outputs if t is not tensor]

    @property
    def num_inputs(self) -> int:
        return len(self._inputs)

    @property
    def num_outputs(self) -> int:
        return len(self._outputs)

    @property
    def num_layers(self) -> int:
        return len(self._layers)

    def get_input(self, index: int) -> ITensor:
        return self._inputs[index]

    def get_output(self, index: int) -> ITensor:
        return self._outputs[index]

    def get_layer(self, index: int) -> ILayer:
        return self._layers[index]

    def __len__(self) -> int:
        return len(self._layers)

    def __getitem__(self, index: int) -> ILayer:
        return self._layers[index]

    def __iter__(self) -> Iterator[ILayer]:
        return iter(list(self._layers))

    def get_flag(self, flag: NetworkDefinitionCreationFlag) -> bool:
        return bool(self._flags >> flag.value & 1)

    @property
    def flags(self) -> int:
        return self._flags

    @property
    def has_implicit_batch_dimension(self) -> bool:
        return False

    # -- layers -------------------------------------------------------------------------------
    @native_entry
    def _add(
        self,
        cls: type,
        inputs: Sequence[Optional[ITensor]],
        num_outputs: int = 1,
        **params: Any,
    ) -> Any:
        for t in inputs:
            if t is not None and not isinstance(t, ITensor):
                raise TypeError(
                    f"{cls.__name__}: expected ITensor inputs, got {type(t).__name__}"
                )
        layer = cls._make(self, inputs, num_outputs, **params)
        self._layers.append(layer)
        return layer

    def add_elementwise(
        self, input1: ITensor, input2: ITensor, op: ElementWiseOperation
    ) -> IElementWiseLayer:
        return self._add(IElementWiseLayer, [input1, input2], op=op.name)

    def add_unary(
        self, input: ITensor, op: UnaryOperation
    ) -> IUnaryLayer:  # noqa: A002
        return self._add(IUnaryLayer, [input], op=op.name)

    def add_identity(self, input: ITensor) -> IIdentityLayer:  # noqa: A002
        return self._add(IIdentityLayer, [input])

    def add_cast(self, input: ITensor, to_type: DataType) -> ICastLayer:  # noqa: A002
        return self._add(ICastLayer, [input], to_type=to_type.name)

    @native_entry
    def add_constant(self, shape: Any, weights: Any) -> IConstantLayer:
        if not isinstance(weights, Weights):
            weights = Weights(np.asarray(weights))
        dims = _dims_tuple(shape)
        value = (
            weights._value.reshape(dims)
            if weights._value.numel()
            else torch.zeros(dims, dtype=weights._value.dtype)
        )
        return self._add(IConstantLayer, [], value=value)

    def add_shape(self, input: ITensor) -> IShapeLayer:  # noqa: A002
        return self._add(IShapeLayer, [input])

    def add_shuffle(self, input: ITensor) -> IShuffleLayer:  # noqa: A002
        return self._add(
            IShuffleLayer,
            [input],
            first_transpose=None,
            second_transpose=None,
            reshape_dims=None,
            zero_is_placeholder=True,
        )

    def add_slice(
        self, input: ITensor, start: Any, shape: Any, stride: Any
    ) -> ISliceLayer:  # noqa: A002
        return self._add(
            ISliceLayer,
            [input],
            start=_dims_tuple(start),
            shape=_dims_tuple(shape),
            stride=_dims_tuple(stride),
            mode="STRICT_BOUNDS",
        )

    def add_gather(
        self, input: ITensor, indices: ITensor, axis: int
    ) -> IGatherLayer:  # noqa: A002
        return self._add(
            IGatherLayer,
            [input, indices],
            axis=int(axis),
            mode="DEFAULT",
            num_elementwise_dims=0,
        )

    def add_gather_v2(
        self, input: ITensor, indices: ITensor, mode: GatherMode
    ) -> IGatherLayer:  # noqa: A002
        return self._add(
            IGatherLayer,
            [input, indices],
            axis=0,
            mode=mode.name,
            num_elementwise_dims=0,
        )

    def add_concatenation(self, inputs: Sequence[ITensor]) -> IConcatenationLayer:
        axis = 0
        return self._add(IConcatenationLayer, list(inputs), axis=axis)

    def add_reduce(
        self, input: ITensor, op: ReduceOperation, axes: int, keep_dims: bool
    ) -> IReduceLayer:  # noqa: A002
        return self._add(
            IReduceLayer, [input], op=op.name, axes=int(axes), keep_dims=bool(keep_dims)
        )

    def add_activation(
        self, input: ITensor, type: ActivationType  # noqa: A002
    ) -> IActivationLayer:
        from ..assumptions import assumed

        assumed("activation-default-alpha-beta")
        return self._add(IActivationLayer, [input], type=type.name, alpha=0.0, beta=0.0)

    def add_matrix_multiply(
        self,
        input0: ITensor,
        op0: MatrixOperation,
        input1: ITensor,
        op1: MatrixOperation,
    ) -> IMatrixMultiplyLayer:
        return self._add(
            IMatrixMultiplyLayer, [input0, input1], op0=op0.name, op1=op1.name
        )

    def add_softmax(self, input: ITensor) -> ISoftMaxLayer:  # noqa: A002
        from ..assumptions import assumed

        assumed("softmax-default-axis")
        return self._add(ISoftMaxLayer, [input], axes=1 << max(len(input.shape) - 3, 0))

    def add_normalization(
        self,
        input: ITensor,  # noqa: A002
        scale: ITensor,
        bias: ITensor,
        axesMask: int,  # noqa: N803 - the binding's name
    ) -> INormalizationLayer:
        from ..assumptions import assumed

        assumed("normalization-groups")
        return self._add(
            INormalizationLayer,
            [input, scale, bias],
            axes=int(axesMask),
            epsilon=1e-5,
            num_groups=1,
        )

    def add_attention(
        self,
        query: ITensor,
        key: ITensor,
        value: ITensor,
        normOp: AttentionNormalizationOp,  # noqa: N803 - the binding's name
        causal: bool,
    ) -> IAttention:
        layer = self._add(
            IAttentionOutputLayer,
            [query, key, value],
            norm_op=normOp.name,
            causal=bool(causal),
            decomposable=False,
        )
        return IAttention._make(layer)

    def add_select(
        self, condition: ITensor, then_input: ITensor, else_input: ITensor
    ) -> ISelectLayer:
        return self._add(ISelectLayer, [condition, then_input, else_input])

    def add_plugin_v3(
        self, inputs: Sequence[ITensor], shape_inputs: Sequence[ITensor], plugin: Any
    ) -> IPluginV3Layer:
        if list(shape_inputs):
            raise ValueError(
                "add_plugin_v3: shape inputs are not supported by the stand-in"
            )
        layer = IPluginV3Layer._make_plugin(self, list(inputs), plugin, None)
        self._layers.append(layer)
        return layer

    def add_plugin(self, func: Any, aot: Optional[bool] = None) -> IPluginV3Layer:
        """Quick-plugin overload: ``func(request) -> (inputs, shape_inputs, plugin)``."""
        from ..assumptions import assumed

        assumed("add-plugin-request")
        prefer_aot = self.get_flag(
            NetworkDefinitionCreationFlag.PREFER_AOT_PYTHON_PLUGINS
        )
        prefer_jit = self.get_flag(
            NetworkDefinitionCreationFlag.PREFER_JIT_PYTHON_PLUGINS
        )
        if aot is True:
            request = QuickPluginCreationRequest.STRICT_AOT
        elif aot is False:
            request = QuickPluginCreationRequest.STRICT_JIT
        elif prefer_aot and prefer_jit:
            raise ValueError(
                "Both NetworkDefinitionCreationFlag.PREFER_AOT_PYTHON_PLUGINS and "
                "NetworkDefinitionCreationFlag.PREFER_JIT_PYTHON_PLUGINS cannot be specified at the same time."
            )
        elif prefer_jit:
            request = QuickPluginCreationRequest.PREFER_JIT
        elif prefer_aot:
            request = QuickPluginCreationRequest.PREFER_AOT
        else:
            request = QuickPluginCreationRequest.UNKNOWN
        if isinstance(func, tuple):
            inputs, shape_inputs, plugin = func
        else:
            inputs, shape_inputs, plugin = func(request)
        if list(shape_inputs):
            raise ValueError(
                "add_plugin: shape inputs are not supported by the stand-in"
            )
        layer = IPluginV3Layer._make_plugin(self, list(inputs), plugin, request)
        self._layers.append(layer)
        return layer

    # -- stand-in internals -------------------------------------------------------------------
    def _input_spec(self, tensor: ITensor) -> Any:
        from ..host import InputSpec

        shape = tuple(tensor.shape)
        profile = getattr(self, "_current_profile", None)
        if profile is not None and tensor.name in profile:
            lo, mid, hi = profile[tensor.name]
            return InputSpec(tensor.dtype, shape, tuple(lo), tuple(mid), tuple(hi))
        probe = tuple(d if d >= 0 else _PROBE_SIZES[0] for d in shape)
        return InputSpec(tensor.dtype, shape, probe, probe, probe)

    def _probe_value(self, tensor: ITensor, probe: int) -> torch.Tensor:
        """The value used for ``tensor`` during static shape inference with ``probe`` for -1 dims."""
        key = (id(tensor), probe)
        cached = self._probe_cache.get(key)
        if cached is not None:
            return cached
        if tensor._producer is not None:
            layer, index = tensor._producer
            layer._check_valid()
            values = [
                self._probe_value(t, probe) if t is not None else None
                for t in layer._inputs
            ]
            value = _ops.settle(layer._run(values), values)[index]
        else:
            shape = [d if d >= 0 else probe for d in tensor.shape]
            value = torch.empty(shape, dtype=TORCH_OF[tensor.dtype], device="meta")
        self._probe_cache[key] = value
        return value


class IOutputAllocator:
    """Callback interface for data-dependent output allocation (subclassed by callers)."""

    def __init__(self) -> None:
        pass


class IProfiler:
    """Per-layer timing callback interface (subclassed by callers)."""

    def __init__(self) -> None:
        pass


class Profiler(IProfiler):
    """Default profiler (prints layer times); the stand-in reports none."""


if TRT10:  # removed in TensorRT 11

    class IAlgorithmSelector:
        """Builder callback interface (subclassed by callers); the stand-in never calls it."""

        def __init__(self) -> None:
            pass


class IProgressMonitor:
    """Build progress callback interface (subclassed by callers)."""

    def __init__(self) -> None:
        pass


class IRuntimeConfig:
    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.IRuntimeConfig: No constructor defined!")


class Permutation:
    """A permutation of up to MAX_DIMS axes."""

    def __init__(self, order: Optional[Sequence[int]] = None) -> None:
        self._order = list(order or range(Dims.MAX_DIMS))

    def __getitem__(self, index: int) -> int:
        return self._order[index]

    def __len__(self) -> int:
        return len(self._order)


class Refitter:
    """Replaces the constant weights of a refittable engine in place (by weight name)."""

    def __init__(self, engine: Any, logger: Any) -> None:
        if not getattr(engine, "refittable", False):
            raise RuntimeError(
                "Refitter: the engine was not built with BuilderFlag.REFIT"
            )
        self._engine = engine
        self._logger = logger
        self._weights: Dict[str, torch.Tensor] = {}

    def get_all_weights(self) -> List[str]:
        from ._engine import weight_names

        return weight_names(self._engine._ir)

    @native_entry
    def set_named_weights(
        self, name: str, weights: "Weights", location: Any = None
    ) -> bool:
        if name not in self.get_all_weights():
            return False
        self._weights[name] = weights._value.clone()
        return True

    def get_missing_weights(self) -> List[str]:
        return [n for n in self.get_all_weights() if n not in self._weights]

    @native_entry
    def refit_cuda_engine(self) -> bool:
        from ._engine import _replace_constants

        engine = self._engine
        current = {
            f"{layer.name} CONSTANT": layer.params["value"]
            for layer in engine._ir.layers
            if layer.kind == "CONSTANT"
        }
        engine._set_ir(_replace_constants(engine._ir, {**current, **self._weights}))
        return True
