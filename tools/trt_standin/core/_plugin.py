"""Plugin-side surface of the stand-in core: fields, plugin base classes, creators, the registry."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ._dims import IDimensionExpr
from ._enums import PluginArgDataType, PluginArgType, PluginFieldType

# How PluginField.data reads the field back, per type (pyPlugin.cpp: CHAR and UNKNOWN as C char,
# i.e. int8; types without a numpy equivalent raise).
_FIELD_DTYPE: Dict[PluginFieldType, Any] = {
    PluginFieldType.FLOAT32: np.float32,
    PluginFieldType.FLOAT64: np.float64,
    PluginFieldType.INT8: np.int8,
    PluginFieldType.INT16: np.int16,
    PluginFieldType.INT32: np.int32,
    PluginFieldType.INT64: np.int64,
    PluginFieldType.CHAR: np.int8,
    PluginFieldType.UNKNOWN: np.int8,
}
# Bytes per element of each type (what an engine stores: length * itemsize).
_ITEMSIZE: Dict[PluginFieldType, int] = {
    PluginFieldType.FLOAT16: 2,
    PluginFieldType.FLOAT32: 4,
    PluginFieldType.FLOAT64: 8,
    PluginFieldType.INT8: 1,
    PluginFieldType.INT16: 2,
    PluginFieldType.INT32: 4,
    PluginFieldType.CHAR: 1,
    PluginFieldType.DIMS: 72,
    PluginFieldType.UNKNOWN: 1,
    PluginFieldType.BF16: 2,
    PluginFieldType.INT64: 8,
    PluginFieldType.FP8: 1,
    PluginFieldType.INT4: 1,
    PluginFieldType.FP4: 1,
}


def _buffer_bytes_and_count(data: Any) -> Tuple[bytes, int]:
    if isinstance(data, np.ndarray):
        # The binding keeps a raw pointer and reads it contiguously, ignoring strides.
        flat = (
            np.ascontiguousarray(data).reshape(-1) if data.flags.c_contiguous else data
        )
        raw = (
            np.lib.stride_tricks.as_strided(flat, (flat.size,), (flat.itemsize,))
            if not data.flags.c_contiguous
            else flat
        )
        return np.ascontiguousarray(raw).tobytes(), int(data.size)
    view = memoryview(data)
    return view.tobytes(), int(view.nbytes // max(view.itemsize, 1))


class PluginField:
    """A named, typed buffer: how plugin attributes travel to creators and into engines.

    As in the binding, ``size`` is the element count of the buffer it was made from (not its byte
    count) and ``data`` reads ``size`` elements of ``type`` from those bytes, so the buffer's own
    dtype is ignored (QDP sends fp16 arrays as ``tobytes()`` for that reason).
    """

    def __init__(
        self,
        name: str = "",
        data: Any = None,
        type: PluginFieldType = PluginFieldType.UNKNOWN,
    ) -> None:
        if not isinstance(type, PluginFieldType):
            raise TypeError(
                f"PluginField(): type must be a PluginFieldType, got {type!r}"
            )
        if data is not None and not isinstance(
            data, (bytes, bytearray, memoryview, np.ndarray)
        ):
            raise TypeError(
                "__init__(): incompatible constructor arguments: data must support the buffer "
                f"protocol, got {type(data).__name__ if False else data.__class__.__name__}"
            )
        self.name = str(name)
        self.type = type
        raw, count = _buffer_bytes_and_count(data) if data is not None else (b"", 0)
        self._raw = raw
        self.size = count

    @property
    def data(self) -> np.ndarray:
        dtype = _FIELD_DTYPE.get(self.type)
        if dtype is None:
            raise AttributeError(
                "No known conversion for returning data from PluginField"
            )
        nbytes = self.size * np.dtype(dtype).itemsize
        # Reading past the buffer is undefined in the binding; the stand-in reads zeros there.
        raw = self._raw[:nbytes].ljust(nbytes, b"\0")
        return np.frombuffer(raw, dtype=dtype).copy()

    def _serialized(self) -> bytes:
        """The bytes an engine keeps for this field: size elements of its type."""
        nbytes = self.size * _ITEMSIZE[self.type]
        return self._raw[:nbytes].ljust(nbytes, b"\0")


class PluginFieldCollection(list):  # type: ignore[type-arg]
    """List-like collection of PluginField (the binding's bind_vector type)."""

    def __init__(self, fields: Optional[Sequence[PluginField]] = None) -> None:
        super().__init__(fields or [])
        for f in self:
            if not isinstance(f, PluginField):
                raise TypeError(
                    f"PluginFieldCollection(): expected PluginField, got {f!r}"
                )


class PluginFieldCollection_:  # noqa: N801 - the binding's name
    """What TensorRT passes to create_plugin: indexable, no __iter__ (iteration uses __getitem__)."""

    def __init__(self, fields: PluginFieldCollection) -> None:
        if not isinstance(fields, PluginFieldCollection):
            raise TypeError(
                "__init__(): incompatible constructor arguments (expects PluginFieldCollection)"
            )
        self._fields = list(fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __getitem__(self, index: int) -> PluginField:
        if index >= len(self._fields):
            raise IndexError("Out of bounds")
        return self._fields[index]


class IPluginCapability:
    """Base of the capability interfaces."""


class IPluginV2:
    """Legacy plugin interface (only named here: Torch-TensorRT 2.11 uses it as an annotation)."""

    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.IPluginV2: No constructor defined!")


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
    """A scalar argument of an AOT kernel; its properties are write-only, as in the binding."""

    def __init__(self) -> None:
        object.__setattr__(self, "_values", {})

    def _set(self, key: str, value: Any) -> None:
        self._values[key] = value

    def _get(self, key: str) -> Any:
        if key not in self._values:
            raise RuntimeError(f"{key} not initialized")
        return self._values[key]

    def _write_only(key: str, check: Any) -> property:  # type: ignore[misc]
        def getter(self: "ISymExpr") -> Any:
            raise AttributeError("property of 'ISymExpr' object has no getter")

        def setter(self: "ISymExpr", value: Any) -> None:
            if not check(value):
                raise TypeError(f"ISymExpr.{key}: incompatible value {value!r}")
            self._set(key, value)

        return property(getter, setter)

    type = _write_only("type", lambda v: isinstance(v, PluginArgType))
    dtype = _write_only("dtype", lambda v: isinstance(v, PluginArgDataType))
    expr = _write_only("expr", lambda v: v is None or isinstance(v, IDimensionExpr))
    del _write_only


class ISymExprs:
    """Receiver of an AOT plugin's extra scalar arguments (get_launch_params' symExprSetter)."""

    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.ISymExprs: No constructor defined!")

    @classmethod
    def _make(cls) -> "ISymExprs":
        self = object.__new__(cls)
        self._exprs: List[Optional[ISymExpr]] = []
        return self

    @property
    def nbSymExprs(self) -> int:  # noqa: N802 - binding name
        return len(self._exprs)

    @nbSymExprs.setter
    def nbSymExprs(self, value: int) -> None:  # noqa: N802 - binding name
        self._exprs = [None] * int(value)

    def __len__(self) -> int:
        return len(self._exprs)

    def __getitem__(self, index: int) -> Optional[ISymExpr]:
        if not 0 <= index < len(self._exprs):
            return None
        return self._exprs[index]

    def __setitem__(self, index: int, value: ISymExpr) -> bool:
        if not isinstance(value, ISymExpr):
            raise TypeError(f"expected tensorrt.ISymExpr, got {type(value).__name__}")
        if not 0 <= index < len(self._exprs):
            return False
        self._exprs[index] = value
        return True


_LAUNCH_FIELDS = (
    "grid_x",
    "grid_y",
    "grid_z",
    "block_x",
    "block_y",
    "block_z",
    "shared_mem",
)


class KernelLaunchParams:
    """Receiver of an AOT plugin's launch configuration: every field is an ISymExpr."""

    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.KernelLaunchParams: No constructor defined!")

    @classmethod
    def _make(cls) -> "KernelLaunchParams":
        self = object.__new__(cls)
        object.__setattr__(self, "_fields", {})
        return self

    def __getattr__(self, name: str) -> Any:
        if name in _LAUNCH_FIELDS:
            return self._fields.get(name)
        raise AttributeError(f"KernelLaunchParams has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _LAUNCH_FIELDS:
            raise AttributeError(f"KernelLaunchParams has no attribute {name!r}")
        if not isinstance(value, ISymExpr):
            raise TypeError(
                f"KernelLaunchParams.{name}: expected an ISymExpr, got {value!r}"
            )
        self._fields[name] = value

    def _expr(self, name: str) -> Optional[IDimensionExpr]:
        value = self._fields.get(name)
        return None if value is None else value._get("expr")


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
