"""Enumerations of the stand-in core, shaped like pybind11 enums.

pybind11 enums are not Python ints: members compare equal only to members of the same enum, expose
``name`` / ``value`` / ``__members__``, convert with ``int()``, and print as ``DataType.FLOAT``.
Numeric values follow TensorRT's C++ headers (NvInferRuntimeBase.h, NvInferRuntimePlugin.h,
NvInfer.h) so that values written into engines read back the same.
"""

from __future__ import annotations

import enum
from typing import Any


class _BindingEnum(enum.Enum):
    """Common behaviour of pybind11-style enums."""

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return int(self.value)

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self.name}: {self.value}>"

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.value))

    def __reduce_ex__(self, proto: Any) -> Any:
        return (type(self), (self.value,))


class DataType(_BindingEnum):
    FLOAT = 0
    HALF = 1
    INT8 = 2
    INT32 = 3
    BOOL = 4
    UINT8 = 5
    FP8 = 6
    BF16 = 7
    INT64 = 8
    INT4 = 9
    FP4 = 10
    E8M0 = 11


class TensorFormat(_BindingEnum):
    LINEAR = 0
    CHW2 = 1
    HWC8 = 2
    CHW4 = 3
    CHW16 = 4
    CHW32 = 5
    DHWC8 = 6
    CDHW32 = 7
    HWC = 8
    DLA_LINEAR = 9
    DLA_HWC4 = 10
    HWC16 = 11
    DHWC = 12


class DimensionOperation(_BindingEnum):
    SUM = 0
    PROD = 1
    MAX = 2
    MIN = 3
    SUB = 4
    EQUAL = 5
    LESS = 6
    FLOOR_DIV = 7
    CEIL_DIV = 8


class PluginFieldType(_BindingEnum):
    FLOAT16 = 0
    FLOAT32 = 1
    FLOAT64 = 2
    INT8 = 3
    INT16 = 4
    INT32 = 5
    CHAR = 6
    DIMS = 7
    UNKNOWN = 8
    BF16 = 9
    INT64 = 10
    FP8 = 11
    INT4 = 12
    FP4 = 13


class TensorRTPhase(_BindingEnum):
    BUILD = 0
    RUNTIME = 1


class PluginCapabilityType(_BindingEnum):
    CORE = 0
    BUILD = 1
    RUNTIME = 2


class QuickPluginCreationRequest(_BindingEnum):
    UNKNOWN = 0
    PREFER_JIT = 1
    PREFER_AOT = 2
    STRICT_JIT = 3
    STRICT_AOT = 4


class PluginArgType(_BindingEnum):
    INT = 0


class PluginArgDataType(_BindingEnum):
    INT8 = 0
    INT16 = 1
    INT32 = 2


class _Severity(_BindingEnum):
    INTERNAL_ERROR = 0
    ERROR = 1
    WARNING = 2
    INFO = 3
    VERBOSE = 4


_Severity.__name__ = "Severity"
_Severity.__qualname__ = "ILogger.Severity"
