"""Logger, Builder, builder config, optimisation profiles, timing cache and serialised memory."""

from __future__ import annotations

import pickle
from typing import Any, Dict, List, Optional, Tuple

from ._dims import Dims, _as_dims
from ._enums import _Severity
from ._native import native_entry
from ._network import INetworkDefinition
from ._network_enums import (
    BuilderFlag,
    DeviceType,
    EngineCapability,
    MemoryPoolType,
    ProfilingVerbosity,
)
from ._version import TRT10

ENGINE_MAGIC = b"ftrt"
ENGINE_FORMAT_VERSION = 1


class ILogger:
    """Logger interface; subclasses override log(severity, msg)."""

    Severity = _Severity

    def __init__(self) -> None:
        pass

    def log(self, severity: Any, msg: str) -> None:
        pass


class Logger(ILogger):
    """A logger that prints messages at or above min_severity."""

    def __init__(self, min_severity: Any = _Severity.WARNING) -> None:
        super().__init__()
        self.min_severity = min_severity

    def log(self, severity: Any, msg: str) -> None:
        if int(severity) <= int(self.min_severity):
            import sys

            print(f"[TRT] [{severity.name[0]}] {msg}", file=sys.stderr)


class IHostMemory(bytes):
    """Serialised bytes owned by TensorRT; supports the buffer protocol (here: it is bytes)."""

    def __new__(cls, *args: Any) -> "IHostMemory":
        raise TypeError("tensorrt.IHostMemory: No constructor defined!")

    @classmethod
    def _make(cls, data: bytes) -> "IHostMemory":
        return bytes.__new__(cls, data)

    @property
    def nbytes(self) -> int:
        return len(self)

    @property
    def dtype(self) -> Any:
        from ._enums import DataType

        return DataType.UINT8


class ITimingCache:
    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.ITimingCache: No constructor defined!")

    @classmethod
    def _make(cls, data: bytes) -> "ITimingCache":
        self = object.__new__(cls)
        self._data = bytes(data) or b"standin-timing-cache"
        return self

    def serialize(self) -> IHostMemory:
        return IHostMemory._make(self._data)

    def combine(self, input_cache: "ITimingCache", ignore_mismatch: bool) -> bool:
        return True

    def reset(self) -> bool:
        return True


class IOptimizationProfile:
    """min / opt / max shapes of the network inputs."""

    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.IOptimizationProfile: No constructor defined!")

    @classmethod
    def _make(cls) -> "IOptimizationProfile":
        self = object.__new__(cls)
        self._shapes: Dict[str, Tuple[Dims, Dims, Dims]] = {}
        self.extra_memory_target = 1.0
        return self

    def set_shape(self, input: str, min: Any, opt: Any, max: Any) -> None:  # noqa: A002
        lo, mid, hi = _as_dims(min), _as_dims(opt), _as_dims(max)
        if not len(lo) == len(mid) == len(hi):
            raise ValueError(f"set_shape({input!r}): min/opt/max ranks differ")
        for a, b, c in zip(lo, mid, hi):
            if not 0 <= a <= b <= c:
                raise ValueError(
                    f"set_shape({input!r}): need 0 <= min <= opt <= max, got {lo}, {mid}, {hi}"
                )
        self._shapes[input] = (lo, mid, hi)

    def get_shape(self, input: str) -> List[Dims]:  # noqa: A002
        if input not in self._shapes:
            return []
        return list(self._shapes[input])

    def set_shape_input(
        self, input: str, min: Any, opt: Any, max: Any
    ) -> None:  # noqa: A002
        raise NotImplementedError(
            "shape-tensor inputs are not supported by the TensorRT stand-in"
        )

    def __bool__(self) -> bool:
        return True


class IBuilderConfig:
    """Builder configuration: flags, memory pools, profiles, and attributes set by callers."""

    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.IBuilderConfig: No constructor defined!")

    @classmethod
    def _make(cls) -> "IBuilderConfig":
        self = object.__new__(cls)
        self._flags = set()
        self._pools: Dict[Any, int] = {}
        self._profiles: List[IOptimizationProfile] = []
        self._timing_cache: Optional[ITimingCache] = None
        self._preview: Dict[Any, bool] = {}
        self.profiling_verbosity = ProfilingVerbosity.LAYER_NAMES_ONLY
        self.engine_capability = EngineCapability.STANDARD
        self.default_device_type = DeviceType.GPU
        self.DLA_core = -1
        self.avg_timing_iterations = 1
        self.builder_optimization_level = 3
        self.max_aux_streams = -1
        self.hardware_compatibility_level = None
        self.runtime_platform = None
        self.progress_monitor = None
        self.tiling_optimization_level = None
        self.l2_limit_for_tiling = -1
        self.algorithm_selector = None
        return self

    def set_flag(self, flag: BuilderFlag) -> None:
        self._flags.add(flag)

    def clear_flag(self, flag: BuilderFlag) -> None:
        self._flags.discard(flag)

    def get_flag(self, flag: BuilderFlag) -> bool:
        return flag in self._flags

    @property
    def flags(self) -> int:
        return sum(1 << f.value for f in self._flags)

    @flags.setter
    def flags(self, value: int) -> None:
        self._flags = {f for f in BuilderFlag if value >> f.value & 1}

    def set_memory_pool_limit(self, pool: MemoryPoolType, pool_size: int) -> None:
        self._pools[pool] = int(pool_size)

    def get_memory_pool_limit(self, pool: MemoryPoolType) -> int:
        return self._pools.get(pool, 1 << 40)

    def add_optimization_profile(self, profile: IOptimizationProfile) -> int:
        self._profiles.append(profile)
        return len(self._profiles) - 1

    @property
    def num_optimization_profiles(self) -> int:
        return len(self._profiles)

    def create_timing_cache(self, serialized_timing_cache: bytes) -> ITimingCache:
        return ITimingCache._make(bytes(serialized_timing_cache))

    def set_timing_cache(self, cache: ITimingCache, ignore_mismatch: bool) -> bool:
        self._timing_cache = cache
        return True

    def get_timing_cache(self) -> Optional[ITimingCache]:
        return self._timing_cache

    def set_preview_feature(self, feature: Any, enable: bool) -> None:
        self._preview[feature] = bool(enable)

    def get_preview_feature(self, feature: Any) -> bool:
        return self._preview.get(feature, False)

    def set_tactic_sources(self, tactic_sources: int) -> bool:
        return True

    def get_tactic_sources(self) -> int:
        return 0


class Builder:
    """Builds serialised engines from network definitions."""

    def __init__(self, logger: ILogger) -> None:
        self.logger = logger
        self.max_threads = 1

    def create_network(self, flags: int = 0) -> INetworkDefinition:
        return INetworkDefinition._make(int(flags))

    def create_builder_config(self) -> IBuilderConfig:
        return IBuilderConfig._make()

    def create_optimization_profile(self) -> IOptimizationProfile:
        return IOptimizationProfile._make()

    if TRT10:  # removed in TensorRT 11

        @property
        def platform_has_tf32(self) -> bool:
            return True

        @property
        def platform_has_fast_fp16(self) -> bool:
            return True

        @property
        def platform_has_fast_int8(self) -> bool:
            return True

    @property
    def num_DLA_cores(self) -> int:  # noqa: N802 - binding name
        return 0

    def is_network_supported(
        self, network: INetworkDefinition, config: IBuilderConfig
    ) -> bool:
        return True

    @native_entry
    def build_serialized_network(
        self, network: INetworkDefinition, config: IBuilderConfig
    ) -> Optional[IHostMemory]:
        from ._engine import compile_network

        ir = compile_network(network, config, self.logger)
        payload = pickle.dumps(ir, protocol=4)
        return IHostMemory._make(
            ENGINE_MAGIC + ENGINE_FORMAT_VERSION.to_bytes(4, "little") + payload
        )

    def build_engine_with_config(
        self, network: INetworkDefinition, config: IBuilderConfig
    ) -> Any:
        from ._engine import ICudaEngine

        memory = self.build_serialized_network(network, config)
        return ICudaEngine._from_bytes(bytes(memory))
