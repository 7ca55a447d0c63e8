"""The call identity (``_identity``), and a census of every cache in the package keyed by it.

The census walks every dict the package keeps (module level, and inside the records a compile
leaves behind) and fails for any dict it does not know: a new cache has to be added to ``KEYS``
below with a check that its keys carry the whole identity it was made for (NOTE [Call identity]).
"""

# No "from __future__ import annotations": custom_op infers schemas from real annotations.

import importlib
import pkgutil
import struct
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest
import torch
from support import kernels8
from support import registry as support_registry


# -- the identity itself ---------------------------------------------------------------------------
def _spec_key(attributes, dtype=torch.float32, dims=(None, 4)):
    from torch_tensorrt.dynamo.conversion.plugins import _identity

    record = support_registry.record("cat::scale_mul")
    return record.variant().call_key(
        [_identity.TensorSignature(dtype, dims)] * 2, attributes
    )


def _nan(payload: int) -> float:
    return struct.unpack("<d", (0x7FF8000000000000 | payload).to_bytes(8, "little"))[0]


@pytest.mark.parametrize(
    "a, b, equal",
    [
        ((0.5, 2), (0.5, 2), True),
        ((0.0, 2), (-0.0, 2), False),  # compare equal in Python, differ in bits
        (
            (float("nan"), 2),
            (float("nan"), 2),
            True,
        ),  # NaN != NaN in Python, same bits here
        ((_nan(0), 2), (_nan(1), 2), False),  # NaN payloads stay distinct
        ((0.5, 2), (0.5, 3), False),
        (
            (1.0, 2),
            (1, 2),
            True,
        ),  # the schema makes b a float: 1 and 1.0 are the same value for the op
    ],
)
def test_attribute_identity_is_exact(catalogue_plugins, a, b, equal):
    ka, kb = _spec_key(a), _spec_key(b)
    assert (ka == kb) is equal and (hash(ka) == hash(kb) or not equal)


def test_identity_covers_dtypes_sizes_and_definition(catalogue_plugins):
    base = _spec_key((0.5, 2))
    assert base != _spec_key((0.5, 2), dtype=torch.float16)
    assert base != _spec_key((0.5, 2), dims=(8, 4))
    redefined = base.with_tensors(base.tensors)
    assert redefined == base
    from torch_tensorrt.dynamo.conversion.plugins._identity import CallKey, Definition

    other_definition = Definition(
        base.definition.op, lambda *a: None, base.definition.body
    )
    assert (
        CallKey(
            base.op,
            other_definition,
            base.tensors,
            base.attribute_keys,
            base.attributes,
        )
        != base
    )


def test_bool_and_int_attributes_of_different_kinds_never_meet():
    from torch_tensorrt.dynamo.conversion.plugins._identity import AttributeKey
    from torch_tensorrt.dynamo.conversion.plugins._schema import ArgKind, ArgSpec

    def arg(kind: ArgKind) -> ArgSpec:
        return ArgSpec("v", kind, False, False, None, False, 1, "v")

    keys = {
        AttributeKey.of(arg(ArgKind.BOOL), True),
        AttributeKey.of(arg(ArgKind.INT), 1),
        AttributeKey.of(arg(ArgKind.FLOAT), 1.0),
    }
    assert len(keys) == 3


# -- the census ----------------------------------------------------------------------------------------
def _is_call_key(k: Any) -> bool:
    from torch_tensorrt.dynamo.conversion.plugins._identity import CallKey

    return isinstance(k, CallKey)


def _is_kernel_key(k: Any) -> bool:
    from torch_tensorrt.dynamo.conversion.plugins._aot import KernelKey

    return (
        isinstance(k, KernelKey) and _is_call_key(k.call) and isinstance(k.target, int)
    )


def _is_runtime_key(k: Any) -> bool:
    """JIT strategies: (attribute bytes, input shapes, input dtypes, device of TensorRT's
    buffers), one dtype per shape."""
    return (
        isinstance(k, tuple)
        and len(k) == 4
        and isinstance(k[3], torch.device)
        and all(isinstance(a, (bytes, str)) for a in k[0])
        and len(k[1]) == len(k[2])
        and all(isinstance(s, tuple) for s in k[1])
    )


def _is_index_key(k: Any) -> bool:
    """ProgramCache's index: everything of a CallKey except the sizes."""
    from torch_tensorrt.dynamo.conversion.plugins._identity import (
        AttributeKey,
        Definition,
    )

    return (
        isinstance(k, tuple)
        and len(k) == 5
        and isinstance(k[1], Definition)
        and all(isinstance(a, AttributeKey) for a in k[2])
    )


def _op_overload_key(k: Any) -> bool:
    return isinstance(k, str) and "::" in k and "." in k.split("::")[1]


def _plugin_id(k: Any) -> bool:
    return isinstance(k, str) and "::" in k and "." not in k


def _any(k: Any) -> bool:
    return True


#: (owner, attribute) -> what every key must be. Owners are class names, or "module.<name>".
KEYS: Dict[Tuple[str, str], Callable[[Any], bool]] = {
    # caches of results, by call identity
    ("ProgramCache", "_programs"): _is_call_key,
    ("ProgramCache", "_index"): _is_index_key,
    ("CaptureCache", "_entries"): _is_call_key,
    ("AOTState", "kernels"): _is_kernel_key,
    ("AOTState", "proven"): _is_call_key,
    ("AOTState", "plans"): lambda k: isinstance(k, tuple)
    and _is_call_key(k[0])
    and isinstance(k[1], int),  # (call identity, compute capability)
    ("JitRuntime", "_entries"): _is_runtime_key,
    ("JitRuntime", "chosen"): _is_runtime_key,
    ("JitRuntime", "capture_events"): _is_runtime_key,
    ("JitRuntime", "_decoded"): lambda k: all(
        isinstance(a, (bytes, str)) for a in k
    ),  # exact attribute bytes
    ("JitRuntime", "_streams"): lambda k: isinstance(k, tuple)
    and len(k) == 2,  # (device index, stream)
    ("JitRuntime", "_stream_devices"): lambda k: isinstance(k, int),  # a stream handle
    # bookkeeping (one record is one op overload and one definition)
    ("PluginRecord", "variants"): lambda k: isinstance(k, frozenset),
    ("PluginRecord", "hidden_variants"): lambda k: isinstance(k, tuple)
    and isinstance(k[0], frozenset)
    and isinstance(k[1], int)
    and isinstance(k[2], int),  # (absent tensors, hidden outputs, size tensors)
    ("AOTState", "layers"): lambda k: isinstance(k, tuple)
    and isinstance(k[0], frozenset)
    and type(k[1]).__name__
    == "ChainPosition",  # (absent tensors, position in the chain)
    ("AOTState", "variants"): lambda k: isinstance(k, tuple)
    and isinstance(k[0], frozenset)
    and isinstance(k[1], int)
    and isinstance(k[2], int)
    and isinstance(
        k[3], tuple
    ),  # (absent tensors, hidden outputs, tactics, constexprs)
    ("PluginRecord", "reports"): lambda k: isinstance(k, int),
    # a saved program's path
    ("PluginRecord", "prepared"): lambda k: isinstance(k, str),
    ("PluginRecord", "layers"): lambda k: _plugin_id(k[0])
    and all(isinstance(a, (bytes, str)) for a in k[1]),
    ("LaunchPlans", "reasons"): _plugin_id,
    ("CompileReport", "implementations"): lambda k: isinstance(k, str),
    ("CompileReport", "aot_unavailable"): lambda k: isinstance(k, str),
    ("CompileReport", "not_converted"): lambda k: isinstance(k, str),
    # module-level registries and constant tables
    ("module._registry", "PLUGINS"): _op_overload_key,
    ("module._qdp", "_TYPE_NAMES"): lambda k: isinstance(k, str),  # constant table
    ("module._generate_plugin_converter", "CONVERTERS"): _op_overload_key,
    ("module._custom_op", "_REGISTRATIONS"): _op_overload_key,
    ("module._qdp", "OWNED"): _plugin_id,
    ("module._dtypes", "TORCH_BY_TRT_NAME"): _any,
    ("module._dtypes", "TRT_NAME_BY_TORCH"): _any,
    ("module._dtypes", "_TRT_CACHE"): lambda k: isinstance(k, torch.dtype),
    ("module._buffers", "_ITEMSIZE"): lambda k: isinstance(k, torch.dtype),
    ("module._schema", "_SCALAR_TYPE_BY_CODE"): _any,
    ("module._attributes", "_CODE_BY_SCALAR_TYPE"): _any,
    ("module._attributes", "_ELEMENT"): _any,
    ("module._shape_program", "_TABLE"): _any,
    ("module._shape_program", "_RELATIONS"): _any,
    ("module._triton_aot", "_TRITON_TYPE"): _any,
    ("module._explain", "_DTYPES"): _any,  # dtype names the explain command accepts
    # a shape program's lowering closures (one program is one call identity already)
    ("ShapeProgram", "_compiled"): lambda k: k in ("outputs", "table"),
}

#: Dicts that are references to someone else's namespace, not caches (never walked).
REFERENCES = {("KernelBinding", "namespace")}


def _package_modules() -> List[Any]:
    import torch_tensorrt.dynamo.conversion.plugins as package

    return [
        importlib.import_module(f"{package.__name__}.{m.name}")
        for m in pkgutil.iter_modules(package.__path__)
    ]


def _dicts_of(
    obj: Any, owner: str, seen: set
) -> Iterator[Tuple[str, str, Dict[Any, Any]]]:
    """(owner, attribute, dict) for every dict attribute of ``obj`` and of the package objects it holds."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    for name, value in vars(obj).items():
        if (owner, name) in REFERENCES:
            continue
        if isinstance(value, dict) and not name.startswith("__"):
            yield owner, name, value
            for item in list(value.values()):
                yield from _walk(item, seen)
        else:
            yield from _walk(value, seen)


def _walk(value: Any, seen: set) -> Iterator[Tuple[str, str, Dict[Any, Any]]]:
    module = type(value).__module__ or ""
    if module.startswith("torch_tensorrt.dynamo.conversion.plugins") and hasattr(
        value, "__dict__"
    ):
        yield from _dicts_of(value, type(value).__name__, seen)
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _walk(item, seen)


def _module_dicts() -> List[Tuple[str, str, Dict[Any, Any]]]:
    """Module-level dicts of the package, each once, under a name KEYS knows where it has several
    (a table imported by another module); dicts imported from outside the package are left out.
    """
    import sys

    outside = {
        id(v)
        for name, m in list(sys.modules.items())
        if m is not None
        and not name.startswith("torch_tensorrt.dynamo.conversion.plugins")
        for v in list(getattr(m, "__dict__", {}).values())
        if isinstance(v, dict)
    }
    aliases: Dict[int, List[Tuple[str, str, Dict[Any, Any]]]] = {}
    for module in _package_modules():
        for name, value in vars(module).items():
            if (
                isinstance(value, dict)
                and not name.startswith("__")
                and id(value) not in outside
            ):
                aliases.setdefault(id(value), []).append(
                    (f"module.{module.__name__.rsplit('.', 1)[1]}", name, value)
                )
    return [
        next((a for a in found if a[:2] in KEYS), found[0])
        for found in aliases.values()
    ]


def test_every_cache_is_keyed_by_the_whole_identity(
    trt_backend, catalogue_plugins, ops, handles, device, gpu_target
):
    """After compiles that fill every cache (JIT, AOT, dynamic, two dtypes), every dict the package
    holds is known and every key it holds has the identity its table entry demands."""
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import _registry, custom_op

    def scale(x: torch.Tensor) -> torch.Tensor:
        return kernels8.scale_by_dtype(x)

    packet = ops.custom_packet("census::scale", scale, lambda x: torch.empty_like(x))
    handles.append(custom_op("census::scale"))

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(x) + 1

    for dtype in (torch.float32, torch.float16):
        x = torch.randn(4, 37, device=device).to(dtype)
        compiled = torch_tensorrt.compile(
            Model().eval(), ir="dynamo", inputs=[x], min_block_size=1
        )
        try:
            compiled(x)
        except (
            Exception
        ):  # an AOT layer cannot run on a CPU machine; its caches are filled anyway
            pass
    unknown, wrong = [], []
    seen: set = set()
    found = _module_dicts()
    for record in list(_registry.PLUGINS.values()):
        found.extend(_dicts_of(record, type(record).__name__, seen))
    assert ("JitRuntime", "_entries") in {(o, n) for o, n, _ in found}
    assert ("CaptureCache", "_entries") in {(o, n) for o, n, _ in found}
    assert ("AOTState", "kernels") in {
        (o, n) for o, n, t in found if t
    }  # the census saw a compiled kernel
    for owner, name, table in found:
        check = KEYS.get((owner, name))
        if check is None:
            unknown.append(f"{owner}.{name}")
            continue
        wrong.extend(f"{owner}.{name}: {k!r}" for k in list(table) if not check(k))
    assert (
        unknown == []
    ), f"caches the census does not know (add them to KEYS with a key check): {unknown}"
    assert wrong == [], wrong
