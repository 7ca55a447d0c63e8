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


def skip_without_slow_refit() -> None:
    """Skip where Torch-TensorRT refits cached engines the way the stand-in cannot follow.

    From 2.13 a cache hit refits by converting the graph again (the stand-in's Refitter serves it);
    2.11 refits from a weight-name map saved at build time whose constants the stand-in's engines
    do not reproduce ("Fast refitting failed due to incomplete mapping"), so engine-cache reuse is
    tested with 2.13 (the CPU tier) only.
    """
    import pytest
    import torch_tensorrt

    if tuple(int(p) for p in torch_tensorrt.__version__.split(".")[:2]) < (2, 13):
        pytest.skip(
            f"engine-cache reuse on the stand-in needs Torch-TensorRT >= 2.13 (this is {torch_tensorrt.__version__})"
        )
