"""One regression test per defect of upstream's generated plugin that this project fixes.

The defects are listed in shared/notes/landscape.md ("Defects in upstream's generated plugin").
Every test checks behaviour against eager PyTorch or the op's own fake kernel, never against a value
the code under test computed. Ops defined here live under their own namespace (``reg_<n>``) and are
removed with every registration made for them.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas and QDP inspects
# signatures from real annotation objects.

import ast
import contextlib
import dataclasses
import pathlib
import re
from typing import Any, Iterator, List, Optional, Sequence, Tuple

import pytest
import torch
from support import models
from support import registry as support_registry
from support import streams

PLUGINS_DIR = (
    pathlib.Path(__file__).resolve().parents[5]
    / "py"
    / "torch_tensorrt"
    / "dynamo"
    / "conversion"
    / "plugins"
)


# -- helpers --------------------------------------------------------------------------------------
def _as_tuple(value: Any) -> Tuple[Any, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _assert_same(
    got: Any, expected: Any, atol: float = 1e-5, rtol: float = 1e-5
) -> None:
    got, expected = _as_tuple(got), _as_tuple(expected)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert (g.dtype, tuple(g.shape)) == (e.dtype, tuple(e.shape))
        torch.testing.assert_close(g, e, atol=atol, rtol=rtol)


def _catalogue_packet(qualname: str) -> Any:
    ns, name = qualname.split("::")
    return getattr(getattr(torch.ops, ns), name)


def _host_build(
    plugin: Any,
    itensor_shapes: Sequence[Tuple[Any, Tuple[int, ...]]],
    specs: Sequence[Any],
    attrs: Optional[dict] = None,
) -> Any:
    """Build a generated plugin (a PluginRecord's plugin, or a PluginVariant) through the stand-in's plugin host."""
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.plugins import _attributes
    from trt_standin.host import PluginHost

    variant = plugin.variant() if hasattr(plugin, "variants") else plugin
    itensors = [
        trt.ITensor._make(None, f"in{i}", dt, shape)
        for i, (dt, shape) in enumerate(itensor_shapes)
    ]
    encoded = _attributes.encode_all(variant.attributes, attrs or {})
    factory = getattr(getattr(trtp.op, variant.spec.namespace), variant.plugin_name)(
        *itensors, **encoded
    )
    return PluginHost(time_tactics=False).build(factory, list(specs), aot=False)


@contextlib.contextmanager
def _private_plugin(op: Any, namespace: str) -> Iterator[Any]:
    """The op's generated QDP plugin, registered under ``namespace`` with a private trace cache."""
    from torch_tensorrt.dynamo.conversion.plugins import _qdp, _schema, _symbolic
    from torch_tensorrt.dynamo.conversion.plugins._variant import PluginVariant

    def no_impl(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("not executed")

    spec = dataclasses.replace(
        _schema.spec_from_op("generate_plugin", op), namespace=namespace
    )
    variant = PluginVariant(spec, op, frozenset(), _symbolic.ProgramCache())
    undo = _qdp.register(
        variant,
        _qdp.make_register_function(variant),
        _qdp.make_impl_function(variant, no_impl),
    )
    try:
        yield variant
    finally:
        undo()


# -- outputs typed like input 0 -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, call, expected_dtype",
    [
        ("argmax_last", lambda op, x: op(x), torch.int64),
        ("to_half", lambda op, x: op(x), torch.float16),
        ("cast_to", lambda op, x: op(x, torch.int32), torch.int32),
    ],
    ids=["argmax_int64", "cast_fp16", "dtype_attribute_int32"],
)
def test_output_dtype_comes_from_the_fake_kernel(
    catalogue_plugins, trt_backend, device, name, call, expected_dtype
):
    """Upstream typed every output like input 0 (float32 here)."""
    import tensorrt as trt
    from trt_standin.host import TORCH_DTYPE, InputSpec

    packet = _catalogue_packet(f"cat::{name}")
    x = torch.randn(6, 11, device=device)
    eager = call(packet.default, x)
    assert eager.dtype == expected_dtype
    compiled = models.compile_fn(lambda x: call(packet.default, x), [x])
    assert not models.runs_in_pytorch(compiled, packet), compiled.graph
    _assert_same(compiled(x), eager, atol=1e-3, rtol=1e-3)

    # The generated QDP register function itself declares the fake kernel's dtype to TensorRT
    # (built here under a private name, so the catalogue's shared record is left alone).
    attrs = {"dtype": torch.int32} if name == "cast_to" else {}
    with _private_plugin(packet.default, f"reg_1_{name}") as variant:
        built = _host_build(
            variant,
            [(trt.float32, (6, 11))],
            [InputSpec.static(trt.float32, (6, 11))],
            attrs,
        )
    assert [TORCH_DTYPE[t] for t in built.output_types] == [expected_dtype]


# -- fake inputs were always float32 ------------------------------------------------------------------
def test_fake_inputs_carry_the_real_input_dtypes(trt_backend, ops, handles, device):
    """Upstream made fake inputs with torch.randn: an integer-only fake kernel could not be traced."""
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def fn(x: torch.Tensor, k: int) -> torch.Tensor:
        return x * k + 1

    def fake(x, k):
        if x.dtype != torch.int32:
            raise TypeError(f"reg_2::int_affine takes int32, got {x.dtype}")
        return torch.empty_like(x)

    packet = ops.custom_packet("reg_2::int_affine", fn, fake)
    handles.append(custom_op("reg_2::int_affine"))
    compiled = models.compile_fn(
        lambda x: packet(x, 3), [models.dynamic((1, 5), (4, 5), (9, 5), torch.int32)]
    )
    assert not models.runs_in_pytorch(compiled, packet), support_registry.rejections(
        "reg_2::int_affine"
    )
    for rows in (1, 9):
        x = torch.randint(-50, 50, (rows, 5), dtype=torch.int32, device=device)
        _assert_same(compiled(x), x * 3 + 1)


# -- one hint for every dimension; guards ignored -----------------------------------------------------
def test_each_input_dimension_is_its_own_symbol(trt_backend, ops, handles, device):
    """Two dynamic sizes with the same example value (and hint) stay two sizes."""
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.outer(x, y)

    def fake(x, y):
        return x.new_empty((x.shape[0], y.shape[0]))

    packet = ops.custom_packet("reg_3::outer", fn, fake)
    handles.append(custom_op("reg_3::outer"))
    compiled = models.compile_fn(
        lambda x, y: packet(x, y),
        [models.dynamic((1,), (5,), (9,)), models.dynamic((1,), (5,), (9,))],
    )
    assert not models.runs_in_pytorch(compiled, packet), support_registry.rejections(
        "reg_3::outer"
    )
    for n, m in ((3, 7), (9, 1), (1, 9), (5, 5)):
        x, y = torch.randn(n, device=device), torch.randn(m, device=device)
        _assert_same(compiled(x, y), torch.outer(x, y))


def test_size_one_broadcast_guard_is_honoured(trt_backend, ops, handles, device):
    """A formula traced under "the sizes are equal" never fills a buffer for a size-1 broadcast."""
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.plugins import _identity, generate_plugin
    from trt_standin.host import InputSpec, PluginHost

    def fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y

    def fake(x, y):
        return torch.empty(
            torch.broadcast_shapes(x.shape, y.shape), dtype=x.dtype, device=x.device
        )

    ops.custom_packet("reg_4::badd", fn, fake)
    handles.append(generate_plugin("reg_4::badd"))
    record = support_registry.record("reg_4::badd")
    itensors = [trt.ITensor._make(None, n, trt.float32, (-1, 4)) for n in ("x", "y")]
    spec = InputSpec.dynamic(trt.float32, (1, 4), (6, 4), (8, 4))
    runtime = (
        PluginHost(time_tactics=False)
        .build(trtp.op.reg_4.badd(*itensors), [spec, spec], aot=False)
        .runtime()
    )
    # The layer's formula was traced with one symbol per size and keeps the fake kernel's guard.
    signature = _identity.TensorSignature(torch.float32, (None, 4))
    program = record.programs.get(record.variant().call_key([signature, signature], ()))
    assert {program.render(g) for g in program.guards} & {
        "x.size(0) == y.size(0)",
        "y.size(0) == x.size(0)",
    }

    # One row against five: eager broadcasts to (5, 4). A formula traced for equal sizes would hand
    # TensorRT a (1, 4) buffer for one of the two orders; the plugin must then refuse, never fill it.
    refused = []
    for x_rows, y_rows in ((5, 5), (1, 5), (5, 1), (1, 1), (8, 8)):
        x, y = torch.randn(x_rows, 4, device=device), torch.randn(
            y_rows, 4, device=device
        )
        try:
            (out,) = runtime.enqueue([x, y])
        except RuntimeError as e:
            assert "reg_4::badd" in str(e), str(e)
            refused.append((x_rows, y_rows))
            continue
        _assert_same(out, x + y)
    assert all(x_rows != y_rows for x_rows, y_rows in refused), refused


def test_broadcast_of_a_static_size_one_input_converts(
    trt_backend, ops, handles, device
):
    """Where the exported graph fixes the size 1, the broadcast formula is proven and converted."""
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y

    def fake(x, y):
        return torch.empty(
            torch.broadcast_shapes(x.shape, y.shape), dtype=x.dtype, device=x.device
        )

    packet = ops.custom_packet("reg_5::badd", fn, fake)
    handles.append(custom_op("reg_5::badd"))
    bias = torch.randn(1, 4, device=device)
    compiled = models.compile_fn(
        lambda x, b: packet(x, b),
        [
            models.dynamic((1, 4), (6, 4), (8, 4)),
            models.dynamic((1, 4), (1, 4), (1, 4)),
        ],
    )
    assert not models.runs_in_pytorch(compiled, packet), support_registry.rejections(
        "reg_5::badd"
    )
    for rows in (1, 3, 8):
        x = torch.randn(rows, 4, device=device)
        _assert_same(compiled(x, bias), x + bias)


def test_guards_of_one_call_site_do_not_apply_to_another(
    trt_backend, ops, handles, device
):
    """After badd(x, x) (traced with Eq(x.size(0), y.size(0))), badd(x, bias[1, 4]) still builds and runs."""
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y

    def fake(x, y):
        return torch.empty(
            torch.broadcast_shapes(x.shape, y.shape), dtype=x.dtype, device=x.device
        )

    packet = ops.custom_packet("reg_14::badd", fn, fake)
    handles.append(custom_op("reg_14::badd"))
    same = models.compile_fn(
        lambda x: packet(x, x), [models.dynamic((1, 4), (5, 4), (8, 4))]
    )
    x = torch.randn(3, 4, device=device)
    _assert_same(same(x), x + x)

    bias = torch.randn(1, 4, device=device)
    broadcast = models.compile_fn(
        lambda x, b: packet(x, b),
        [
            models.dynamic((1, 4), (5, 4), (8, 4)),
            models.dynamic((1, 4), (1, 4), (1, 4)),
        ],
    )
    assert not models.runs_in_pytorch(broadcast, packet)
    for rows in (1, 5, 8):
        x = torch.randn(rows, 4, device=device)
        _assert_same(broadcast(x, bias), x + bias)


# -- the trace redone on every TensorRT shape query -------------------------------------------------
def _first2(ops: Any, qualname: str, calls: List[Tuple[Any, ...]]) -> Any:
    def fn(x: torch.Tensor) -> torch.Tensor:
        return x[:, :2].clone()

    def fake(x):
        calls.append(tuple(x.shape))
        return x.new_empty((x.shape[0], 2))

    return ops.custom_packet(qualname, fn, fake)


def test_fake_kernel_is_traced_once(trt_backend, ops, handles):
    """Upstream re-ran the whole FakeTensor trace on every TensorRT shape query."""
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.plugins import generate_plugin
    from trt_standin.host import InputSpec, PluginHost

    calls: List[Tuple[Any, ...]] = []
    _first2(ops, "reg_6::first2", calls)
    handles.append(generate_plugin("reg_6::first2"))
    record = support_registry.record("reg_6::first2")
    itensor = trt.ITensor._make(None, "x", trt.float32, (-1, 5))
    spec = InputSpec.dynamic(trt.float32, (1, 5), (4, 5), (16, 5))

    built = PluginHost(time_tactics=False).build(
        trtp.op.reg_6.first2(itensor), [spec], aot=False
    )
    traces, fake_calls = record.programs.traces, len(calls)
    assert (
        traces == 1 and fake_calls == 1
    )  # the dtype query traced every size symbolic; shapes reuse it
    # Rebuilding the same layer and asking for its shapes again ask the cache, never the fake kernel.
    for _ in range(10):
        again = PluginHost(time_tactics=False).build(
            trtp.op.reg_6.first2(itensor), [spec], aot=False
        )
        assert again.output_shape_strings() == built.output_shape_strings()
        for rows in (1, 7, 16):
            assert again.evaluate_output_shapes([(rows, 5)]) == [(rows, 2)]
    assert (record.programs.traces, len(calls)) == (traces, fake_calls)


def test_compiled_engine_converts_with_one_trace_per_layer(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    calls: List[Tuple[Any, ...]] = []
    packet = _first2(ops, "reg_12::first2", calls)
    handles.append(custom_op("reg_12::first2"))
    record = support_registry.record("reg_12::first2")
    compiled = models.compile_fn(
        lambda x: packet(x), [models.dynamic((1, 5), (4, 5), (16, 5))]
    )
    assert not models.runs_in_pytorch(compiled, packet), support_registry.rejections(
        record
    )
    x = torch.randn(4, 5, device=device)
    _assert_same(compiled(x), x[:, :2])
    # One trace for the layer: the converter's; the dtype and shape queries and the run reuse it.
    assert record.programs.traces == 1, [
        k.describe() for k in record.programs._programs
    ]


def test_running_at_new_shapes_does_not_trace_again(trt_backend, ops, handles, device):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    calls: List[Tuple[Any, ...]] = []
    packet = _first2(ops, "reg_13::first2", calls)
    handles.append(custom_op("reg_13::first2"))
    record = support_registry.record("reg_13::first2")
    compiled = models.compile_fn(
        lambda x: packet(x), [models.dynamic((1, 5), (4, 5), (16, 5))]
    )
    x = torch.randn(4, 5, device=device)
    _assert_same(compiled(x), x[:, :2])
    traces = record.programs.traces
    for rows in range(1, 17):
        x = torch.randn(rows, 5, device=device)
        _assert_same(compiled(x), x[:, :2])
    assert record.programs.traces == traces


@pytest.mark.xfail(
    strict=True,
    reason=(
        "QDP's get_output_data_types passes dtypes and ranks only; with no program cached (a plugin "
        "layer added without the converter, which traces the layer's real sizes first) the fake kernel "
        "is traced with EVERY size symbolic, so one that requires a static size (x.shape[1] == 4) "
        "fails the build"
    ),
)
def test_plugin_build_traces_once_with_the_real_static_dims(trt_backend, ops, handles):
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.plugins import generate_plugin
    from trt_standin.host import InputSpec, PluginHost

    def fn(x: torch.Tensor) -> torch.Tensor:
        return x.sum(1)

    def fake(x):
        if x.shape[1] != 4:
            raise ValueError(f"reg_7::rowsum4 needs 4 columns, got {x.shape[1]}")
        return x.new_empty((x.shape[0],))

    ops.custom_packet("reg_7::rowsum4", fn, fake)
    handles.append(generate_plugin("reg_7::rowsum4"))
    record = support_registry.record("reg_7::rowsum4")
    itensor = trt.ITensor._make(None, "x", trt.float32, (-1, 4))
    spec = InputSpec.dynamic(trt.float32, (1, 4), (3, 4), (8, 4))
    built = PluginHost(time_tactics=False).build(
        trtp.op.reg_7.rowsum4(itensor), [spec], aot=False
    )
    assert built.evaluate_output_shapes([(5, 4)]) == [(5,)]
    assert record.programs.traces == 1


# -- allocate + copy on every call --------------------------------------------------------------------
TRITON_CASES = ("scale_mul", "bcast_add", "to_half", "clamp_kw", "axpby_bf16")


@pytest.mark.parametrize("name", TRITON_CASES)
def test_single_triton_launch_is_launched_into_the_engine_buffers(
    catalogue_plugins, trt_backend, device, name
):
    """Upstream ran the op and copied its fresh output into TensorRT's buffer on every call."""
    from support.catalogue import CASE_BY_NAME, inputs_for, model_for
    from torch_tensorrt.dynamo.conversion.plugins import _aot

    case = CASE_BY_NAME[name]
    assert case.triton
    model = model_for(case)
    runtime = support_registry.record(case.op).runtime()
    example = inputs_for(case, case.static, device)
    compiled = models.compile_fn(lambda *xs: model(*xs), example)
    assert not models.runs_in_pytorch(compiled, _catalogue_packet(case.op))
    for _ in range(2):
        inputs = inputs_for(case, case.static, device)
        _assert_same(compiled(*inputs), model(*inputs), atol=case.atol, rtol=case.rtol)
    shapes = tuple(tuple(s) for s in case.static)
    chosen = {key: how for key, how in runtime.chosen.items() if key[1] == shapes}
    if _aot.target_capability() is not None:
        # On a GPU the engine's plugin is the AOT kernel: TensorRT launches it, no Python at all.
        # (Asked of the converter's own test, not of AOT variants other tests may have registered.)
        assert chosen == {}, runtime.chosen
    else:
        assert chosen and set(chosen.values()) == {"launch"}, runtime.chosen


# -- argument kinds ---------------------------------------------------------------------------------------
ARGUMENT_KINDS = [
    ("int_list", "cat::pad_last", lambda op, x: op(x, [2, 0], value=1.5), [(3, 4)]),
    (
        "float_and_bool_lists",
        "cat::weighted_sum",
        lambda op, x: op(x, [1.0, 0.25, -2.0], [False, True, True]),
        [(5, 3)],
    ),
    (
        "optional_tensor_present",
        "cat::add_bias",
        lambda op, x, b: op(x, b, scale=-0.5),
        [(6, 5), (6, 5)],
    ),
    (
        "optional_tensor_absent",
        "cat::add_bias",
        lambda op, x: op(x, None, scale=0.25),
        [(6, 5)],
    ),
    ("scalar_type", "cat::cast_to", lambda op, x: op(x, torch.bfloat16), [(7, 3)]),
    (
        "tensors_after_scalars",
        "cat::axpby",
        lambda op, x, y: op(-1.5, x, 2, y),
        [(17, 9), (17, 9)],
    ),
]


@pytest.mark.parametrize(
    "qualname, call, shapes",
    [k[1:] for k in ARGUMENT_KINDS],
    ids=[k[0] for k in ARGUMENT_KINDS],
)
def test_argument_kinds(catalogue_plugins, trt_backend, device, qualname, call, shapes):
    """Upstream handled Tensor / float / int / bool / str only, with every tensor first."""
    packet = _catalogue_packet(qualname)
    inputs = [torch.randn(s, device=device) for s in shapes]
    compiled = models.compile_fn(lambda *xs: call(packet.default, *xs), inputs)
    assert not models.runs_in_pytorch(compiled, packet), compiled.graph
    _assert_same(compiled(*inputs), call(packet.default, *inputs), atol=1e-2, rtol=1e-2)


# -- keyword-only attributes replaced by defaults ----------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda op, x: op(x, lo=-0.1, hi=0.3),
        lambda op, x: op(x, hi=0.3, lo=-0.1),
        lambda op, x: op(x, lo=0.2),
    ],
    ids=["both", "reordered", "default_hi"],
)
def test_keyword_only_attributes_survive_conversion(
    catalogue_plugins, trt_backend, device, call
):
    packet = _catalogue_packet("cat::clamp_kw")
    x = torch.linspace(-2.0, 2.0, 41 * 3, device=device).reshape(41, 3)
    expected = call(packet.default, x)
    # The values matter: the defaults (hi=1.0) or a dropped lo would give another result.
    assert not torch.equal(expected, x.clamp(max=1.0))
    compiled = models.compile_fn(lambda x: call(packet.default, x), [x])
    assert not models.runs_in_pytorch(compiled, packet)
    _assert_same(compiled(x), expected)


# -- a defaulted attribute before a required one -------------------------------------------------------
def test_defaulted_attribute_before_a_required_one(trt_backend, ops, handles, device):
    """Upstream put defaulted attributes first in the QDP signature, which QDP rejects."""
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def fn(x: torch.Tensor, scale: float = 2.0, *, shift: int) -> torch.Tensor:
        return x * scale + shift

    def fake(x, scale=2.0, *, shift):
        return torch.empty_like(x)

    packet = ops.custom_packet("reg_8::affine", fn, fake)
    assert [a.has_default_value() for a in packet.default._schema.arguments] == [
        False,
        True,
        False,
    ]
    handles.append(custom_op("reg_8::affine"))
    x = torch.randn(4, 6, device=device)
    for call in (lambda x: packet(x, shift=3), lambda x: packet(x, -0.5, shift=-1)):
        compiled = models.compile_fn(call, [x])
        assert not models.runs_in_pytorch(
            compiled, packet
        ), support_registry.rejections("reg_8::affine")
        _assert_same(compiled(x), call(x))


# -- supports_dynamic_shapes=False by default ------------------------------------------------------------
def test_dynamic_model_converts_without_the_flag(trt_backend, ops, handles, device):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def fn(x: torch.Tensor) -> torch.Tensor:
        return x.square() - 1

    packet = ops.custom_packet("reg_9::sq", fn, lambda x: torch.empty_like(x))
    handles.append(custom_op("reg_9::sq"))  # no supports_dynamic_shapes
    compiled = models.compile_fn(
        lambda x: packet(x), [models.dynamic((1, 3), (4, 3), (32, 3))]
    )
    assert not models.runs_in_pytorch(compiled, packet), support_registry.rejections(
        "reg_9::sq"
    )
    for rows in (1, 4, 31):
        x = torch.randn(rows, 3, device=device)
        _assert_same(compiled(x), x.square() - 1)


# -- generated source ----------------------------------------------------------------------------------------
def _forbidden(tree: ast.AST) -> List[str]:
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("exec", "eval", "compile")
        ):
            found.append(f"{node.func.id}() at line {node.lineno}")
        elif isinstance(node, ast.Name) and node.id in (
            "FunctionType",
            "lambdify",
            "uuid",
            "uuid4",
        ):
            found.append(f"{node.id} at line {node.lineno}")
        elif isinstance(node, ast.Attribute) and node.attr in (
            "FunctionType",
            "lambdify",
            "uuid4",
            "CodeType",
        ):
            found.append(f".{node.attr} at line {node.lineno}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + (
                [node.module]
                if isinstance(node, ast.ImportFrom) and node.module
                else []
            )
            if any(
                n.split(".")[0] == "uuid" or n in ("FunctionType", "lambdify")
                for n in names
            ):
                found.append(f"import of {names} at line {node.lineno}")
    return found


_FORBIDDEN_TEXT = re.compile(
    r"\bexec\(|(?<![\w.])compile\(|\beval\(|FunctionType|CodeType|lambdify|uuid"
)


def _code_without_docstrings(tree: ast.AST) -> str:
    """The module's code as ast.unparse writes it: no comments, docstrings removed."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(getattr(body[0], "value", None), ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def test_no_generated_source_in_the_library():
    """Upstream built its functions by f-string + exec and named tensors with uuid4."""
    files = sorted(PLUGINS_DIR.glob("*.py"))
    assert len(files) >= 10, PLUGINS_DIR
    offenders = {}
    for path in files:
        source = path.read_text()
        found = _forbidden(ast.parse(source, filename=str(path)))
        # Text too (e.g. getattr(builtins, "exec")), in code only: comments and docstrings may
        # well explain that there is no exec.
        found += [
            f"text {m.group(0)!r}"
            for m in _FORBIDDEN_TEXT.finditer(
                _code_without_docstrings(ast.parse(source))
            )
        ]
        if found:
            offenders[path.name] = found
    assert offenders == {}


def test_the_scan_finds_what_it_forbids():
    sample = "import uuid\nimport types\nf = types.FunctionType(code, {})\nexec(src)\nx = compile(src, 'f', 'exec')\n"
    assert len(_forbidden(ast.parse(sample))) == 4
    clean = '''"""No exec( here, no uuid, no FunctionType."""\nimport re\nre.compile('x')\ntriton.compile(src)  # not exec(\n'''
    assert _forbidden(ast.parse(clean)) == []
    assert not _FORBIDDEN_TEXT.search(_code_without_docstrings(ast.parse(clean)))
    assert _FORBIDDEN_TEXT.search(
        _code_without_docstrings(ast.parse("f = getattr(builtins, 'exec(')"))
    )


# -- plugins overwriting each other (pytorch/TensorRT 4088) -----------------------------------------------
def test_two_plugins_in_one_process_do_not_overwrite_each_other(
    trt_backend, ops, handles, device
):
    import tensorrt as trt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op
    from trt_standin.host import TORCH_DTYPE, InputSpec

    def double(x: torch.Tensor, k: float) -> torch.Tensor:
        return x * k

    def col_argmin(x: torch.Tensor) -> torch.Tensor:
        return x.argmin(dim=1)

    a = ops.custom_packet("reg_10::scaled", double, lambda x, k: torch.empty_like(x))
    b = ops.custom_packet(
        "reg_10::col_argmin",
        col_argmin,
        lambda x: x.new_empty((x.shape[0],), dtype=torch.int64),
    )
    handles.append(custom_op("reg_10::scaled"))
    handles.append(custom_op("reg_10::col_argmin"))

    compiled = models.compile_fn(
        lambda x: (a(x, 3.0), b(x)), [models.dynamic((1, 6), (4, 6), (8, 6))]
    )
    assert not models.runs_in_pytorch(compiled, a) and not models.runs_in_pytorch(
        compiled, b
    )
    for rows in (2, 8):
        x = torch.randn(rows, 6, device=device)
        _assert_same(compiled(x), (x * 3.0, x.argmin(dim=1)))

    # Each generated register function still answers for its own op.
    spec = [InputSpec.static(trt.float32, (5, 6))]
    built_a = _host_build(
        support_registry.record("reg_10::scaled"),
        [(trt.float32, (5, 6))],
        spec,
        {"k": 3.0},
    )
    built_b = _host_build(
        support_registry.record("reg_10::col_argmin"), [(trt.float32, (5, 6))], spec
    )
    assert built_a.evaluate_output_shapes([(5, 6)]) == [(5, 6)]
    assert [TORCH_DTYPE[t] for t in built_a.output_types] == [torch.float32]
    assert built_b.evaluate_output_shapes([(5, 6)]) == [(5,)]
    assert [TORCH_DTYPE[t] for t in built_b.output_types] == [torch.int64]
    x = torch.randn(5, 6, device=device)
    streams.assert_written(built_a.runtime().enqueue([x])[0], x * 3.0)
    streams.assert_written(built_b.runtime().enqueue([x])[0], x.argmin(dim=1))
