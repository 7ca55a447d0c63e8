"""The stand-in engines inside a compiled module: their layers and the plugins built into them."""

from typing import Any, List


def cuda_engine(engine: Any) -> Any:
    """The stand-in ICudaEngine behind a runtime module's engine (2.13: TRTEngine; 2.11: itself)."""
    if hasattr(engine, "_ir"):
        return engine
    return getattr(engine, "cuda_engine", None) or getattr(engine, "engine", None)


def ir(engine: Any) -> Any:
    return cuda_engine(engine)._ir


def engine_bytes(engine: Any) -> bytes:
    return bytes(cuda_engine(engine).serialize())


def engines(compiled: Any) -> List[Any]:
    """Every TensorRT engine of a compiled module."""
    found = [getattr(sub, "engine", None) for _, sub in compiled.named_modules()]
    return [e for e in found if e is not None]


def built_plugins(compiled: Any) -> List[Any]:
    """The BuiltPlugin of every plugin layer in every engine of a compiled module."""
    return [
        layer.params["built"]
        for engine in engines(compiled)
        for layer in ir(engine).layers
        if layer.kind == "PLUGIN_V3"
    ]
