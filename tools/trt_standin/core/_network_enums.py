"""Enumerations of the network / builder / runtime surface (values follow NvInfer.h).

Members removed in TensorRT 11 (EXPLICIT_BATCH, FP16, the cuBLAS/cuDNN tactic sources, ...) exist
only when standing in for a TensorRT 10 binding (``_version.TRT10``); the conformance test checks
every member against the mounted binding's tensorrt.so.
"""

from __future__ import annotations

from ._enums import _BindingEnum
from ._version import TRT10


class NetworkDefinitionCreationFlag(_BindingEnum):
    # Bit positions for create_network(flags); TensorRT 11 dropped EXPLICIT_BATCH and renumbered.
    if TRT10:
        EXPLICIT_BATCH = 0
        STRONGLY_TYPED = 1
        PREFER_AOT_PYTHON_PLUGINS = 2
        PREFER_JIT_PYTHON_PLUGINS = 3
    else:
        STRONGLY_TYPED = 0
        PREFER_JIT_PYTHON_PLUGINS = 1
        PREFER_AOT_PYTHON_PLUGINS = 2


class BuilderFlag(_BindingEnum):
    if TRT10:
        FP16 = 0
    INT8 = 1
    DEBUG = 2
    GPU_FALLBACK = 3
    REFIT = 4
    DISABLE_TIMING_CACHE = 5
    TF32 = 6
    SPARSE_WEIGHTS = 7
    SAFETY_SCOPE = 8
    if TRT10:
        OBEY_PRECISION_CONSTRAINTS = 9
        PREFER_PRECISION_CONSTRAINTS = 10
    DIRECT_IO = 11
    if TRT10:
        REJECT_EMPTY_ALGORITHMS = 12
    VERSION_COMPATIBLE = 13
    EXCLUDE_LEAN_RUNTIME = 14
    FP8 = 15
    ERROR_ON_TIMING_CACHE_MISS = 16
    BF16 = 17
    DISABLE_COMPILATION_CACHE = 18
    STRIP_PLAN = 19
    REFIT_IDENTICAL = 20
    WEIGHT_STREAMING = 21
    INT4 = 22
    REFIT_INDIVIDUAL = 23
    STRICT_NANS = 24
    MONITOR_MEMORY = 25
    FP4 = 26
    EDITABLE_TIMING_CACHE = 27
    DISTRIBUTIVE_INDEPENDENCE = 28


class MemoryPoolType(_BindingEnum):
    WORKSPACE = 0
    DLA_MANAGED_SRAM = 1
    DLA_LOCAL_DRAM = 2
    DLA_GLOBAL_DRAM = 3
    TACTIC_DRAM = 4
    TACTIC_SHARED_MEMORY = 5


class ProfilingVerbosity(_BindingEnum):
    LAYER_NAMES_ONLY = 0
    NONE = 1
    DETAILED = 2


class EngineCapability(_BindingEnum):
    STANDARD = 0
    SAFETY = 1
    DLA_STANDALONE = 2


class DeviceType(_BindingEnum):
    GPU = 0
    DLA = 1


class HardwareCompatibilityLevel(_BindingEnum):
    NONE = 0
    AMPERE_PLUS = 1
    SAME_COMPUTE_CAPABILITY = 2


class RuntimePlatform(_BindingEnum):
    SAME_AS_BUILD = 0
    WINDOWS_AMD64 = 1


class TilingOptimizationLevel(_BindingEnum):
    NONE = 0
    FAST = 1
    MODERATE = 2
    FULL = 3


class PreviewFeature(_BindingEnum):
    if TRT10:
        PROFILE_SHARING_0806 = 0
    ALIASED_PLUGIN_IO_10_03 = 1
    RUNTIME_ACTIVATION_RESIZE_10_10 = 2


class TacticSource(_BindingEnum):
    if TRT10:
        CUBLAS = 0
        CUBLAS_LT = 1
        CUDNN = 2
    EDGE_MASK_CONVOLUTIONS = 3
    JIT_CONVOLUTIONS = 4


class TensorIOMode(_BindingEnum):
    NONE = 0
    INPUT = 1
    OUTPUT = 2


class TensorLocation(_BindingEnum):
    DEVICE = 0
    HOST = 1


class ExecutionContextAllocationStrategy(_BindingEnum):
    STATIC = 0
    ON_PROFILE_CHANGE = 1
    USER_MANAGED = 2


class LayerType(_BindingEnum):
    CONVOLUTION = 0
    CAST = 1
    ACTIVATION = 2
    POOLING = 3
    LRN = 4
    SCALE = 5
    SOFTMAX = 6
    DECONVOLUTION = 7
    CONCATENATION = 8
    ELEMENTWISE = 9
    PLUGIN = 10
    UNARY = 11
    PADDING = 12
    SHUFFLE = 13
    REDUCE = 14
    TOPK = 15
    GATHER = 16
    MATRIX_MULTIPLY = 17
    RAGGED_SOFTMAX = 18
    CONSTANT = 19
    IDENTITY = 20
    PLUGIN_V2 = 21
    SLICE = 22
    SHAPE = 23
    PARAMETRIC_RELU = 24
    RESIZE = 25
    TRIP_LIMIT = 26
    RECURRENCE = 27
    ITERATOR = 28
    LOOP_OUTPUT = 29
    SELECT = 30
    FILL = 31
    QUANTIZE = 32
    DEQUANTIZE = 33
    CONDITION = 34
    CONDITIONAL_INPUT = 35
    CONDITIONAL_OUTPUT = 36
    SCATTER = 37
    EINSUM = 38
    ASSERTION = 39
    ONE_HOT = 40
    NON_ZERO = 41
    GRID_SAMPLE = 42
    NMS = 43
    REVERSE_SEQUENCE = 44
    NORMALIZATION = 45
    PLUGIN_V3 = 46
    SQUEEZE = 47
    UNSQUEEZE = 48
    CUMULATIVE = 49
    DYNAMIC_QUANTIZE = 50
    ATTENTION_INPUT = 51
    ATTENTION_OUTPUT = 52


class ElementWiseOperation(_BindingEnum):
    SUM = 0
    PROD = 1
    MAX = 2
    MIN = 3
    SUB = 4
    DIV = 5
    POW = 6
    FLOOR_DIV = 7
    AND = 8
    OR = 9
    XOR = 10
    EQUAL = 11
    GREATER = 12
    LESS = 13


class UnaryOperation(_BindingEnum):
    EXP = 0
    LOG = 1
    SQRT = 2
    RECIP = 3
    ABS = 4
    NEG = 5
    SIN = 6
    COS = 7
    TAN = 8
    SINH = 9
    COSH = 10
    ASIN = 11
    ACOS = 12
    ATAN = 13
    ASINH = 14
    ACOSH = 15
    ATANH = 16
    CEIL = 17
    FLOOR = 18
    ERF = 19
    NOT = 20
    SIGN = 21
    ROUND = 22
    ISINF = 23
    ISNAN = 24


class SampleMode(_BindingEnum):
    STRICT_BOUNDS = 0
    WRAP = 1
    CLAMP = 2
    FILL = 3
    REFLECT = 4


class GatherMode(_BindingEnum):
    DEFAULT = 0
    ELEMENT = 1
    ND = 2


class ReduceOperation(_BindingEnum):
    SUM = 0
    PROD = 1
    MAX = 2
    MIN = 3
    AVG = 4


class FillOperation(_BindingEnum):
    LINSPACE = 0
    RANDOM_UNIFORM = 1
    RANDOM_NORMAL = 2


class WeightsRole(_BindingEnum):
    KERNEL = 0
    BIAS = 1
    SHIFT = 2
    SCALE = 3
    CONSTANT = 4
    ANY = 5


class SerializationFlag(_BindingEnum):
    EXCLUDE_WEIGHTS = 0
    EXCLUDE_LEAN_RUNTIME = 1
    INCLUDE_REFIT = 2


class ActivationType(_BindingEnum):
    RELU = 0
    SIGMOID = 1
    TANH = 2
    LEAKY_RELU = 3
    ELU = 4
    SELU = 5
    SOFTSIGN = 6
    SOFTPLUS = 7
    CLIP = 8
    HARD_SIGMOID = 9
    SCALED_TANH = 10
    THRESHOLDED_RELU = 11
    GELU_ERF = 12
    GELU_TANH = 13


class AttentionNormalizationOp(_BindingEnum):
    NONE = 0
    SOFTMAX = 1


class CollectiveOperation(_BindingEnum):
    ALL_REDUCE = 0
    ALL_GATHER = 1
    BROADCAST = 2
    REDUCE = 3
    REDUCE_SCATTER = 4
    GATHER = 5
    SCATTER = 6
    ALL_TO_ALL = 7


class InterpolationMode(_BindingEnum):
    NEAREST = 0
    LINEAR = 1
    CUBIC = 2


class LayerInformationFormat(_BindingEnum):
    ONELINE = 0
    JSON = 1


class LoopOutput(_BindingEnum):
    LAST_VALUE = 0
    CONCATENATE = 1
    REVERSE = 2


class MatrixOperation(_BindingEnum):
    NONE = 0
    TRANSPOSE = 1
    VECTOR = 2


class PaddingMode(_BindingEnum):
    EXPLICIT_ROUND_DOWN = 0
    EXPLICIT_ROUND_UP = 1
    SAME_UPPER = 2
    SAME_LOWER = 3


class PoolingType(_BindingEnum):
    MAX = 0
    AVERAGE = 1
    MAX_AVERAGE_BLEND = 2


class ResizeCoordinateTransformation(_BindingEnum):
    ALIGN_CORNERS = 0
    ASYMMETRIC = 1
    HALF_PIXEL = 2


class ScaleMode(_BindingEnum):
    UNIFORM = 0
    CHANNEL = 1
    ELEMENTWISE = 2


class ScatterMode(_BindingEnum):
    ELEMENT = 0
    ND = 1


class TopKOperation(_BindingEnum):
    MAX = 0
    MIN = 1


class TripLimit(_BindingEnum):
    COUNT = 0
    WHILE = 1
