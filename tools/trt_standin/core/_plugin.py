"""Plugin-side surface of the stand-in core: fields, plugin base classes, creators, the registry."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from ._dims import IDimensionExpr
from ._enums import PluginArgDataType, PluginArgType, PluginFieldType

# How PluginField.data reads the raw bytes back, per field type.
_FIELD_DTYPE: Dict[PluginFieldType, Any] = {
    PluginFieldType.FLOAT16: np.float16,
    PluginFieldType.FLOAT32: np.float32,
    PluginFieldType.FLOAT64: np.float64,
    PluginFieldType.INT8: np.int8,
    PluginFieldType.INT16: np.int16,
    PluginFieldType.INT32: np.int32,
    PluginFieldType.INT64: np.int64,
    PluginFieldType.CHAR: np.int8,
    PluginFieldType.UNKNOWN: np.uint8,
    PluginFieldType.BF16: np.uint16,
    PluginFieldType.FP8: np.uint8,
    PluginFieldType.INT4: np.uint8,
    PluginFieldType.FP4: np.uint8,
    PluginFieldType.DIMS: np.int64,
}


class PluginField:
    """A named, typed byte buffer: how plugin attributes travel to creators and into engines."""

    def __init__(
        self,
        name: str = "",
        data: Any = None,
        type: PluginFieldType = PluginFieldType.UNKNOWN,
    ) -> None:
        if not isinstance(type, PluginFieldType):
            raise TypeError(f"PluginField(): type must be a PluginFieldType, got {type!r}")
        self.name = str(name)
        self.type = type
        if data is None:
            raw = b""
        elif isinstance(data, (bytes, bytearray, memoryview)):
            raw = bytes(data)
        elif isinstance(data, np.ndarray):
            # The binding keeps the array's buffer and reinterprets it by `type` on read.
            raw = np.ascontiguousarray(data).tobytes()
        else:
            raise TypeError(
                f"PluginField(): data must be a buffer (numpy array or bytes), got {data!r}"
            )
        self._raw = raw

    @property
    def data(self) -> np.ndarray:
        dtype = np.dtype(_FIELD_DTYPE[self.type])
        usable = len(self._raw) - len(self._raw) % dtype.itemsize
        return np.frombuffer(self._raw[:usable], dtype=dtype).copy()

    @property
    def size(self) -> int:
        """Number of elements of the field's type."""
        return len(self._raw) // np.dtype(_FIELD_DTYPE[self.type]).itemsize

    @property
    def length(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"PluginField(name={self.name!r}, type={self.type}, bytes={len(self._raw)})"


class PluginFieldCollection:
    """A sequence of PluginField."""

    def __init__(self, fields: Optional[Sequence[PluginField]] = None) -> None:
        self._fields: List[PluginField] = list(fields or [])
        for f in self._fields:
            if not isinstance(f, PluginField):
                raise TypeError(f"PluginFieldCollection(): expected PluginField, got {f!r}")

    def __len__(self) -> int:
        return len(self._fields)

    def __getitem__(self, index: int) -> PluginField:
        return self._fields[index]

    def __iter__(self) -> Iterator[PluginField]:
        return iter(list(self._fields))

    def __repr__(self) -> str:
        return f"PluginFieldCollection({self._fields!r})"


class IPluginCapability:
    """Base of the capability interfaces."""


class IPluginV3:
    """Base class of V3 plugins: capability interfaces come from get_capability_interface."""

    def __init__(self) -> None:
        pass


class IPluginV3QuickCore(IPluginCapability):
    def __init__(self) -> None:
        pass


class IPluginV3QuickBuild(IPluginCapability):
    def __init__(self) -> None:
        pass


class IPluginV3QuickAOTBuild(IPluginV3QuickBuild):
    def __init__(self) -> None:
        pass


class IPluginV3QuickRuntime(IPluginCapability):
    def __init__(self) -> None:
        pass


class IPluginCreatorInterface:
    """Base of plugin creators."""


class IPluginCreatorV3Quick(IPluginCreatorInterface):
    """Creator of quick plugins: create_plugin(name, namespace, fields, phase[, request])."""

    def __init__(self) -> None:
        pass


class ISymExpr:
    """A scalar argument of an AOT kernel: an IDimensionExpr with an argument type and width."""

    def __init__(self) -> None:
        self.type = PluginArgType.INT
        self.dtype = PluginArgDataType.INT32
        self.expr: Optional[IDimensionExpr] = None


class ISymExprs:
    """Receiver of an AOT plugin's extra scalar arguments (get_launch_params' symExprSetter)."""

    def __init__(self) -> None:
        self._exprs: List[Optional[ISymExpr]] = []

    @property
    def nbSymExprs(self) -> int:  # noqa: N802 - binding name
        return len(self._exprs)

    @nbSymExprs.setter
    def nbSymExprs(self, value: int) -> None:  # noqa: N802 - binding name
        self._exprs = [None] * int(value)

    def __len__(self) -> int:
        return len(self._exprs)

    def __getitem__(self, index: int) -> ISymExpr:
        expr = self._exprs[index]
        if expr is None:
            raise ValueError(f"extra argument {index} was never set")
        return expr

    def __setitem__(self, index: int, value: ISymExpr) -> None:
        if not 0 <= index < len(self._exprs):
            raise IndexError(
                f"extra argument index {index} out of range (nbSymExprs = {len(self._exprs)})"
            )
        if not isinstance(value, ISymExpr):
            raise TypeError(f"expected tensorrt.ISymExpr, got {type(value).__name__}")
        self._exprs[index] = value


_LAUNCH_FIELDS = ("grid_x", "grid_y", "grid_z", "block_x", "block_y", "block_z", "shared_mem")


class KernelLaunchParams:
    """Receiver of an AOT plugin's launch configuration (symbolic grid, block, shared memory)."""

    def __init__(self) -> None:
        for name in _LAUNCH_FIELDS:
            object.__setattr__(self, name, None)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _LAUNCH_FIELDS:
            raise AttributeError(f"KernelLaunchParams has no attribute {name!r}")
        if isinstance(value, ISymExpr):
            value = value.expr
        if isinstance(value, int) and not isinstance(value, bool):
            value = IDimensionExpr._wrap(("const", value))
        if not isinstance(value, IDimensionExpr):
            raise TypeError(
                f"KernelLaunchParams.{name}: expected an ISymExpr or IDimensionExpr, got {value!r}"
            )
        object.__setattr__(self, name, value)


class IPluginRegistry:
    """Process-wide registry of plugin creators, keyed by (name, version, namespace)."""

    def __init__(self) -> None:
        self._creators: Dict[Tuple[str, str, str], Any] = {}

    def register_creator(self, creator: Any, plugin_namespace: str = "") -> bool:
        key = (str(creator.name), str(creator.plugin_version), str(plugin_namespace))
        if key in self._creators:
            return False
        self._creators[key] = creator
        return True

    def deregister_creator(self, creator: Any) -> bool:
        for key, value in list(self._creators.items()):
            if value is creator:
                del self._creators[key]
                return True
        return False

    def get_creator(self, name: str, version: str, plugin_namespace: str = "") -> Any:
        return self._creators.get((str(name), str(version), str(plugin_namespace)))

    @property
    def all_creators(self) -> List[Any]:
        return list(self._creators.values())


_REGISTRY = IPluginRegistry()


def get_plugin_registry() -> IPluginRegistry:
    return _REGISTRY


Buffer = Union[bytes, np.ndarray]
