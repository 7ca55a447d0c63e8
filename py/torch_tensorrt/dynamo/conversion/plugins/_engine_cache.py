"""Torch-TensorRT's engine cache must never serve an engine built for another definition of an op.

NOTE: [Engine cache]
Torch-TensorRT keys cached engines by a hash of the partition's node kinds and targets (not their
arguments), the input specs and the engine-invariant settings, and refits a cached engine's
weights from the new graph (2.11 from a saved weight-name map, without converting anything).
Plugin attributes and the op's definition (its schema defaults, fake kernel, body, Triton kernel)
are in none of that and are not refittable weights, so a changed ``a: float = 2.0`` or fake
kernel would reuse the old engine and give wrong values or dtypes.

This module keeps a ledger next to this package's kernel cache, in two parts:

* per engine hash that Torch-TensorRT caches with plugin layers in it: the graph that built it
  (``graph_key``: a hash of the whole lowered graph's node kinds and targets, its inputs' shapes
  and dtypes and the engine-invariant settings) and the identity digests of that graph's plugin
  nodes (``node_digests``: the op's schema, a content hash of its fake kernel, body and kernels,
  the node's attribute encodings and input signatures), written by the converter during a build;
* per graph key: the engine hashes it built.

Before partitioning, the lowering pass computes the graph key and digests of the graph being
compiled and lets Torch-TensorRT reuse cached engines only when every engine that graph built is
still recorded as built by it with exactly these digests; otherwise it turns reuse off for this
compile (logged at WARNING when something changed), the engines are rebuilt and replace the cached
ones, and the ledger records them. This works the same whichever refit path Torch-TensorRT takes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import torch

from . import _interpreter
from ._fingerprint import code_fingerprint

_LOGGER = logging.getLogger(__name__)

_LOCK = threading.Lock()
_CURRENT = (
    threading.local()
)  # the compile in progress on this thread: its GraphIdentity


@dataclass(frozen=True)
class GraphIdentity:
    """What the lowering pass learned about the graph being compiled."""

    key: str
    digests: Dict[str, str]  # plugin node name -> identity digest


# -- identities ----------------------------------------------------------------------------------------
def _settings_text(settings: Any) -> str:
    try:
        from torch_tensorrt.dynamo._settings import _SETTINGS_TO_BE_ENGINE_INVARIANT

        fields = sorted(_SETTINGS_TO_BE_ENGINE_INVARIANT)
    except ImportError:  # pragma: no cover
        fields = []
    return json.dumps([str(getattr(settings, f, None)) for f in fields])


def graph_key(gm: torch.fx.GraphModule, settings: Any) -> str:
    """A hash of the whole lowered graph as Torch-TensorRT's cache key sees each partition of it,
    plus its inputs' shapes and dtypes and the engine-invariant settings."""
    parts = []
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            val = node.meta.get("val")
            parts.append(
                f"placeholder {getattr(val, 'dtype', None)} {tuple(getattr(val, 'shape', ()))}"
            )
        else:
            parts.append(f"{node.op} {node.target}")
    return hashlib.sha256(
        ("\n".join(parts) + "\n" + _settings_text(settings)).encode()
    ).hexdigest()


def node_digest(
    record: Any, attributes: Sequence[Any], signatures: Sequence[Any]
) -> str:
    """Content digest of one plugin node (stable across processes): see NOTE [Engine cache]."""
    from . import _attributes

    definition = record.definition
    encoded = [
        _attributes.encode(a, v) for a, v in zip(record.spec.attribute_args, attributes)
    ]
    parts = {
        "schema": record.spec.schema,
        "fake": (
            code_fingerprint(definition.fake) if definition.fake is not None else None
        ),
        "body": (
            code_fingerprint(definition.body) if definition.body is not None else None
        ),
        "attributes": [
            e if isinstance(e, str) else bytes(e.tobytes()).hex() for e in encoded
        ],
        "inputs": [[str(s.dtype), list(s.dims)] for s in signatures],
    }
    return hashlib.sha256(
        json.dumps(parts, sort_keys=True, default=str).encode()
    ).hexdigest()


# -- the ledger ----------------------------------------------------------------------------------------
def _path(kind: str, name: str) -> str:
    from ._triton_aot import cache_dir

    return os.path.join(
        cache_dir(),
        "engine_ledger",
        kind,
        hashlib.sha256(name.encode()).hexdigest() + ".json",
    )


def _read(kind: str, name: str) -> Optional[Dict[str, Any]]:
    try:
        with open(_path(kind, name)) as f:
            data: Dict[str, Any] = json.load(f)
        return data if data.get("name") == name else None
    except (OSError, ValueError, TypeError):
        return None


def _write(kind: str, name: str, data: Dict[str, Any]) -> None:
    path = _path(kind, name)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "w") as f:
            json.dump({**data, "name": name}, f)
        os.replace(tmp, path)
    except OSError as e:
        _LOGGER.warning(
            "engine-cache ledger not written (%s): cached engines with plugins will be rebuilt",
            e,
        )


# -- before partitioning: may cached engines be reused? ----------------------------------------------------
def check_graph(
    gm: torch.fx.GraphModule, settings: Any, digests: Dict[str, str]
) -> None:
    """Record the compile's graph identity, and turn engine reuse off unless the ledger proves every
    engine this graph built was built for exactly these plugin nodes (see NOTE [Engine cache]).
    """
    identity = GraphIdentity(graph_key(gm, settings), dict(digests))
    _CURRENT.identity = identity
    if not getattr(settings, "reuse_cached_engines", False):
        return
    index = _read("graphs", identity.key)
    hashes: List[str] = list(index.get("hashes", [])) if index else []
    changed: List[str] = []
    for engine_hash in hashes:
        entry = _read("engines", engine_hash)
        if entry is None or entry.get("graph") != identity.key:
            changed.append("an engine it built was replaced by another graph's")
            continue
        old: Dict[str, str] = entry.get("digests", {})
        changed.extend(
            n for n in sorted(set(old) | set(digests)) if old.get(n) != digests.get(n)
        )
    if hashes and not changed:
        return
    settings.reuse_cached_engines = False
    if not hashes:
        _LOGGER.debug(
            "engine cache reuse off for this compile: no record of engines built for this graph's plugins"
        )
        return
    _LOGGER.warning(
        "engine cache reuse is off for this compile: generated plugin nodes %s differ from the engines cached for "
        "this graph (op definition or attribute values changed; Torch-TensorRT's cache key cannot see either); "
        "the engines are rebuilt and replace the cached ones",
        sorted(set(changed)),
    )


def forget_graph() -> None:
    """A compile without generated plugin nodes: nothing of it goes into the ledger."""
    _CURRENT.identity = None


# -- during a build: record what the cached engine holds ------------------------------------------------
def _engine_hash(interpreter: Any) -> Optional[str]:
    try:
        from torch_tensorrt.dynamo._engine_cache import BaseEngineCache

        value: str = BaseEngineCache.get_hash(
            interpreter.module,
            interpreter.input_specs,
            interpreter.compilation_settings,
        )
        return value
    except Exception as e:  # an interpreter without these attributes: nothing to key by
        _LOGGER.debug("engine hash unavailable (%s)", e)
        return None


def layer_converted() -> None:
    """Called by the converter for every plugin layer: if Torch-TensorRT will cache the engine being
    built, record it in the ledger as built by the current graph with its plugin digests.
    """
    identity: Optional[GraphIdentity] = getattr(_CURRENT, "identity", None)
    interpreter, refit = _interpreter.current()
    if identity is None or interpreter is None or refit:
        return
    settings = interpreter.compilation_settings
    if getattr(interpreter, "engine_cache", None) is None or not getattr(
        settings, "cache_built_engines", False
    ):
        return
    engine_hash = _engine_hash(interpreter)
    if engine_hash is None:
        return
    with _LOCK:
        previous = _read("engines", engine_hash)
        if previous is not None and previous.get("graph") not in (None, identity.key):
            other = _read("graphs", previous["graph"]) or {}
            _write(
                "graphs",
                previous["graph"],
                {"hashes": [h for h in other.get("hashes", []) if h != engine_hash]},
            )
        _write(
            "engines", engine_hash, {"graph": identity.key, "digests": identity.digests}
        )
        index = _read("graphs", identity.key) or {}
        hashes = list(index.get("hashes", []))
        if engine_hash not in hashes:
            hashes.append(engine_hash)
        _write("graphs", identity.key, {"hashes": hashes})
