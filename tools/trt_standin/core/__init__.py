"""Pure-Python stand-in for TensorRT's native module ``tensorrt_bindings.tensorrt``.

Served under that name by ``trt_standin._finder`` when the real extension cannot load. Every public
name here (``__all__``, and the public attributes of each class and enum) must exist in the real
binding: ``tests/py/trt_standin/test_conformance.py`` checks them against the strings of the
installed ``tensorrt.so``. Helpers are private (leading underscore).
"""

from __future__ import annotations

from typing import Any

from ._builder import (
    Builder,
    IBuilderConfig,
    IHostMemory,
    ILogger,
    IOptimizationProfile,
    ITimingCache,
    Logger,
)
from ._dims import (
    Dims,
    Dims2,
    Dims3,
    Dims4,
    DimsExprs,
    DimsHW,
    DynamicPluginTensorDesc,
    IDimensionExpr,
    IExprBuilder,
    PluginTensorDesc,
)
from ._engine import (
    EngineInspector,
    ICudaEngine,
    IExecutionContext,
    ISerializationConfig,
    Runtime,
)
from ._enums import (
    DataType,
    DimensionOperation,
    PluginArgDataType,
    PluginArgType,
    PluginCapabilityType,
    PluginFieldType,
    QuickPluginCreationRequest,
    TensorFormat,
    TensorRTPhase,
)
from ._network import (
    IActivationLayer,
    IAttention,
    IAttentionBoundaryLayer,
    IAttentionOutputLayer,
    ICastLayer,
    IConcatenationLayer,
    IConstantLayer,
    IConvolutionLayer,
    IDeconvolutionLayer,
    IElementWiseLayer,
    IGatherLayer,
    IIdentityLayer,
    ILayer,
    IMatrixMultiplyLayer,
    INetworkDefinition,
    INormalizationLayer,
    IOutputAllocator,
    IPluginV3Layer,
    IProfiler,
    IProgressMonitor,
    IReduceLayer,
    IRuntimeConfig,
    IScaleLayer,
    ISelectLayer,
    IShapeLayer,
    IShuffleLayer,
    ISliceLayer,
    ISoftMaxLayer,
    ITensor,
    IUnaryLayer,
    Permutation,
    Profiler,
    Refitter,
    Weights,
)
from ._network_enums import (
    ActivationType,
    AttentionNormalizationOp,
    BuilderFlag,
    CollectiveOperation,
    DeviceType,
    ElementWiseOperation,
    EngineCapability,
    ExecutionContextAllocationStrategy,
    FillOperation,
    GatherMode,
    HardwareCompatibilityLevel,
    InterpolationMode,
    LayerInformationFormat,
    LayerType,
    LoopOutput,
    MatrixOperation,
    MemoryPoolType,
    NetworkDefinitionCreationFlag,
    PaddingMode,
    PoolingType,
    PreviewFeature,
    ProfilingVerbosity,
    ReduceOperation,
    ResizeCoordinateTransformation,
    RuntimePlatform,
    SampleMode,
    ScaleMode,
    ScatterMode,
    SerializationFlag,
    TacticSource,
    TensorIOMode,
    TensorLocation,
    TilingOptimizationLevel,
    TopKOperation,
    TripLimit,
    UnaryOperation,
    WeightsRole,
)
from ._plugin import (
    IPluginCapability,
    IPluginCreatorInterface,
    IPluginCreatorV3Quick,
    IPluginRegistry,
    IPluginV2,
    IPluginV3,
    IPluginV3QuickAOTBuild,
    IPluginV3QuickBuild,
    IPluginV3QuickCore,
    IPluginV3QuickRuntime,
    ISymExpr,
    ISymExprs,
    KernelLaunchParams,
    PluginField,
    PluginFieldCollection,
    PluginFieldCollection_,
    get_plugin_registry,
)
from ._version import TRT10

if TRT10:  # added in TensorRT 10.16 / 11
    del CollectiveOperation
    from ._network import IAlgorithmSelector  # noqa: F401  (removed in TensorRT 11)

# DataType aliases the binding exports at module level.
float32 = DataType.FLOAT
float16 = DataType.HALF
bfloat16 = DataType.BF16
int8 = DataType.INT8
int32 = DataType.INT32
int64 = DataType.INT64
bool = DataType.BOOL  # noqa: A001 - the binding's own name
uint8 = DataType.UINT8
fp8 = DataType.FP8
int4 = DataType.INT4
fp4 = DataType.FP4
e8m0 = DataType.E8M0


class OnnxParser:
    """The ONNX parser is not part of the stand-in."""

    def __init__(self, network: Any, logger: Any) -> None:
        raise NotImplementedError("the TensorRT stand-in has no ONNX parser")


def init_libnvinfer_plugins(logger: Any, namespace: str) -> Any:  # noqa: ARG001
    """The stand-in has no built-in plugin library; registering it succeeds with nothing in it."""
    return True


def get_builder_plugin_registry(capability: Any) -> IPluginRegistry:  # noqa: ARG001
    return get_plugin_registry()


__all__ = [
    name
    for name in dir()
    if not name.startswith("_") and name not in {"annotations", "Any", "TRT10"}
]
