"""Torch-TensorRT's engine cache must never serve an engine built for another definition of an op.

NOTE: [Engine cache]
Torch-TensorRT keys cached engines by a hash of the partition's node kinds and targets (not their
arguments), the input specs and the engine-invariant settings, and refits a cached engine's
weights with the new graph. Plugin attributes and the op's definition (its schema defaults, fake
kernel, body, Triton kernel) are in none of that and are not refittable weights, so a changed
``a: float = 2.0`` or fake kernel would reuse the old engine and give wrong values or dtypes.

This module keeps a ledger next to this package's kernel cache: for each engine hash that
Torch-TensorRT caches, the identity digest of every plugin layer in it (``layer_digest``: the op's
schema, a content hash of its fake kernel, body and kernels, the layer's attribute encodings,
dtypes and static sizes, and the implementation chosen). The converter

* on a build whose engine Torch-TensorRT will cache, records the layer's digest under the hash;
* on a cache hit (Torch-TensorRT re-runs the converters to refit the cached engine), compares the
  layer's digest with the ledger's and raises, naming the engine cache and the fix, when it differs
  or the ledger does not know the engine.

Both are recognised by the Torch-TensorRT interpreter on the call stack (the refit's interpreter
has no engine cache and runs under ``construct_refit_mapping``). With ``strip_engine_weights=True``
Torch-TensorRT reuses a cached engine without running any converter, so ``check_settings`` turns
reuse off for compiles that contain generated plugins (logged at WARNING).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import weakref
from typing import Any, Dict, Optional, Sequence

from . import _interpreter
from ._errors import user_error
from ._fingerprint import code_fingerprint

_LOGGER = logging.getLogger(__name__)

_LOCK = threading.Lock()
#: Interpreters whose ledger entry was started in this process (first layer resets it).
_STARTED: "weakref.WeakSet[Any]" = weakref.WeakSet()


def check_settings(settings: Any, nodes: Sequence[str]) -> None:
    """Turn engine reuse off where it could not be verified (see NOTE [Engine cache])."""
    if getattr(settings, "reuse_cached_engines", False) and getattr(settings, "strip_engine_weights", False):
        settings.reuse_cached_engines = False
        _LOGGER.warning(
            "engine cache reuse is off for this compile: with strip_engine_weights=True Torch-TensorRT reuses a "
            "cached engine without converting the graph, so nothing can check that it was built for the current "
            "definition and attribute values of the generated plugin layers %s", list(nodes),
        )


def layer_digest(record: Any, plugin_id: str, implementation: str, attributes: Any, signatures: Sequence[Any]) -> str:
    """Content digest of one plugin layer (stable across processes)."""
    definition = record.definition
    parts = {
        "schema": record.spec.schema,
        "fake": code_fingerprint(definition.fake) if definition.fake is not None else None,
        "body": code_fingerprint(definition.body) if definition.body is not None else None,
        "plugin": plugin_id,
        "implementation": implementation,
        "attributes": [bytes(v.tobytes()).hex() if hasattr(v, "tobytes") else str(v) for v in attributes],
        "inputs": [[str(s.dtype), list(s.dims)] for s in signatures],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _ledger_file(engine_hash: str) -> str:
    from ._triton_aot import cache_dir

    name = hashlib.sha256(engine_hash.encode()).hexdigest()
    return os.path.join(cache_dir(), "engine_ledger", f"{name}.json")


def _read(engine_hash: str) -> Optional[Dict[str, str]]:
    try:
        with open(_ledger_file(engine_hash)) as f:
            data = json.load(f)
        return dict(data["layers"]) if data.get("hash") == engine_hash else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(engine_hash: str, layers: Dict[str, str]) -> None:
    path = _ledger_file(engine_hash)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "w") as f:
            json.dump({"hash": engine_hash, "layers": layers}, f)
        os.replace(tmp, path)
    except OSError as e:
        _LOGGER.warning("engine-cache ledger not written (%s): a later reuse of this engine will be refused", e)


def _engine_hash(interpreter: Any) -> Optional[str]:
    try:
        from torch_tensorrt.dynamo._engine_cache import BaseEngineCache

        value: str = BaseEngineCache.get_hash(interpreter.module, interpreter.input_specs, interpreter.compilation_settings)
        return value
    except Exception as e:  # an interpreter without these attributes: nothing to key by
        _LOGGER.debug("engine hash unavailable (%s)", e)
        return None


def layer_converted(display: str, layer: str, digest: str) -> None:
    """Record (cached build) or verify (cache hit) one plugin layer; see NOTE [Engine cache]."""
    interpreter, refit = _interpreter.current()
    if interpreter is None:
        return
    settings = interpreter.compilation_settings
    if refit and getattr(interpreter, "engine_cache", None) is None:
        if not getattr(settings, "reuse_cached_engines", False):
            return
        engine_hash = _engine_hash(interpreter)
        if engine_hash is None:
            return
        recorded = (_read(engine_hash) or {}).get(layer)
        if recorded != digest:
            raise user_error(
                "torch_tensorrt.compile", display,
                "Torch-TensorRT's engine cache holds an engine for this graph that was built for "
                + ("another definition or other attribute values of this op" if recorded else
                   "an unknown definition of this op (its build was not recorded)")
                + f" (layer {layer}); its cache key does not include plugin attributes or op definitions",
                fix="Compile once with reuse_cached_engines=False (the rebuilt engine replaces the cached one), or "
                "clear the engine cache directory (engine_cache_dir, default "
                "<tmp>/torch_tensorrt_engine_cache)",
            )
        return
    if getattr(interpreter, "engine_cache", None) is None or not getattr(settings, "cache_built_engines", False):
        return
    engine_hash = _engine_hash(interpreter)
    if engine_hash is None:
        return
    with _LOCK:
        layers = {} if interpreter not in _STARTED else (_read(engine_hash) or {})
        _STARTED.add(interpreter)
        layers[layer] = digest
        _write(engine_hash, layers)
