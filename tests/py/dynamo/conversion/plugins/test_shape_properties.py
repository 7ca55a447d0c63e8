"""Property tests: shape programs agree with the fake kernel on random shapes.

For every catalogue call site (and a few ops with richer size arithmetic) the fake kernel is traced
once over symbolic dimensions (``_symbolic.trace``), then for random concrete shapes in [1, 64]:

* ``ShapeProgram.concrete_shapes`` and the output dtypes equal what the fake kernel itself returns
  for FakeTensors of those shapes (static ``FakeTensorMode``);
* where dimensions are drawn independently, the program is never silently wrong: either the fake
  kernel agrees, or a recorded guard says the formula does not apply;
* the lowering onto TensorRT shape expressions (``_qdp.qdp_algebra`` with the stand-in's
  ``IExprBuilder``) gives the same sizes, both folded from constants and evaluated from symbolic
  input dimensions;
* the generated QDP register function, driven through the stand-in's ``PluginHost``, declares the
  same output shapes and dtypes (for static shapes, and over a dynamic profile).

The plugins built here are registered under a namespace of this module with private trace caches,
so the catalogue's session-wide records, which other tests use, are left untouched.
"""

# No "from __future__ import annotations": the ops below are torch.library.custom_op with real
# annotations.

import contextlib
import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support.catalogue import CASES
from torch._subclasses.fake_tensor import FakeTensorMode

API = "generate_plugin"
MAX_DIM = 64
PLUGIN_NAMESPACE = "shape_prop_plugins"

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

Shape = Tuple[int, ...]


# -- subjects: an op called one way, with which dimensions are dynamic ------------------------------
@dataclass(frozen=True)
class Subject:
    name: str
    qualname: str
    call: Callable[..., Any]  # (op packet, *inputs) -> outputs
    dtypes: Tuple[torch.dtype, ...]  # per model input
    lo: Tuple[
        Shape, ...
    ]  # smallest size of each dimension (== hi for static dimensions)
    opt: Tuple[Shape, ...]
    hi: Tuple[Shape, ...]
    ties: Tuple[
        Tuple[Tuple[int, int], ...], ...
    ]  # groups of (input, dim) that must be equal
    #: Shapes the op accepts, beyond the ties (e.g. a reshape's divisibility); None: all.
    valid: Optional[Callable[[Sequence[Shape]], bool]] = None

    def accepts(self, shapes: Sequence[Shape]) -> bool:
        return self.valid is None or self.valid(shapes)

    def is_dynamic(self, k: int, j: int) -> bool:
        return self.lo[k][j] != self.hi[k][j]

    def dynamic_dims(self) -> List[Tuple[int, int]]:
        return [
            (k, j)
            for k, shape in enumerate(self.lo)
            for j in range(len(shape))
            if self.is_dynamic(k, j)
        ]

    @property
    def packet(self) -> Any:
        ns, name = self.qualname.split("::")
        return getattr(getattr(torch.ops, ns), name)


def _catalogue_subject(case: Any) -> Subject:
    lo, opt, hi = (tuple(tuple(s[i]) for s in case.dynamic) for i in range(3))
    dtypes = tuple(make((1,), "cpu").dtype for make in case.makers)
    groups: Dict[Tuple[int, Shape], List[Tuple[int, int]]] = {}
    for k in range(len(lo)):
        for j in range(len(lo[k])):
            if lo[k][j] != hi[k][j]:
                # Dimensions the catalogue profiles identically are the ones the op needs equal.
                groups.setdefault((j, (lo[k][j], opt[k][j], hi[k][j])), []).append(
                    (k, j)
                )
    # Draw dynamic sizes in [1, MAX_DIM]: beyond the catalogue's own profile on purpose.
    lo = tuple(tuple(1 if a != b else a for a, b in zip(l, h)) for l, h in zip(lo, hi))
    hi = tuple(
        tuple(MAX_DIM if a != b else a for a, b in zip(l, h)) for l, h in zip(lo, hi)
    )
    return Subject(
        case.name,
        case.op,
        case.call,
        dtypes,
        lo,
        opt,
        hi,
        tuple(tuple(g) for g in groups.values()),
    )


# Ops whose output sizes use more of the lowering table than the catalogue's (floor and ceil
# division, products, sums, max, modulo). Defined by the ``arithmetic_ops`` fixture.
def _window(
    x: torch.Tensor, kernel: int, stride: int, pad: int, ceil_mode: bool
) -> torch.Tensor:
    n = x.shape[-1] + 2 * pad - kernel
    out = (n + stride - 1) // stride + 1 if ceil_mode else n // stride + 1
    return x.new_zeros((x.shape[0], out))


def _window_fake(x, kernel, stride, pad, ceil_mode):
    n = x.shape[-1] + 2 * pad - kernel
    out = (n + stride - 1) // stride + 1 if ceil_mode else n // stride + 1
    return x.new_empty((x.shape[0], out))


def _mix(x: torch.Tensor, y: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    a = x.new_zeros((x.shape[0] * y.shape[0], x.shape[1] + y.shape[1]))
    b = y.new_zeros(
        (max(x.shape[0], y.shape[0]), x.shape[0] % 3 + 1, x.shape[1] // 2 + 1)
    ).to(torch.int32)
    return a, b


def _mix_fake(x, y):
    a = x.new_empty((x.shape[0] * y.shape[0], x.shape[1] + y.shape[1]))
    b = y.new_empty(
        (
            torch.sym_max(x.shape[0], y.shape[0]),
            x.shape[0] % 3 + 1,
            x.shape[1] // 2 + 1,
        ),
        dtype=torch.int32,
    )
    return a, b


def _rows4(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1, 4).clone()


def _rows4_fake(x):
    return x.reshape(-1, 4).clone()


ARITHMETIC_OPS = (
    ("shape_prop::window", _window, _window_fake),
    ("shape_prop::mix", _mix, _mix_fake),
    ("shape_prop::rows4", _rows4, _rows4_fake),
)

F32 = torch.float32
ARITHMETIC_SUBJECTS = (
    Subject(
        "window",
        "shape_prop::window",
        lambda op, x: op(x, 5, 2, 1, False),
        (F32,),
        ((2, 3),),
        ((2, 20),),
        ((2, MAX_DIM),),
        (),
    ),
    Subject(
        "window_ceil",
        "shape_prop::window",
        lambda op, x: op(x, 4, 3, 0, True),
        (F32,),
        ((1, 4),),
        ((3, 20),),
        ((MAX_DIM, MAX_DIM),),
        (),
    ),
    Subject(
        "mix",
        "shape_prop::mix",
        lambda op, x, y: op(x, y),
        (F32, torch.float16),
        ((1, 1), (1, 2)),
        ((3, 5), (4, 2)),
        ((MAX_DIM, MAX_DIM), (MAX_DIM, 2)),
        (),
    ),
    Subject(
        "rows4",
        "shape_prop::rows4",
        lambda op, x: op(x),
        (F32,),
        ((1, 6),),
        ((4, 6),),
        ((MAX_DIM, 6),),
        (),
        valid=lambda shapes: shapes[0][0] % 2 == 0,
    ),
)

SUBJECTS: Dict[str, Subject] = {c.name: _catalogue_subject(c) for c in CASES}
SUBJECTS.update({s.name: s for s in ARITHMETIC_SUBJECTS})
MULTI_INPUT = [name for name, s in SUBJECTS.items() if len(s.dtypes) > 1]


@pytest.fixture(scope="module")
def arithmetic_ops():
    """Defines the ``shape_prop`` torch ops for this module; destroys them afterwards."""
    from torch._library.custom_ops import OPDEF_TO_LIB

    try:
        for qualname, fn, fake in ARITHMETIC_OPS:
            torch.library.custom_op(qualname, fn, mutates_args=()).register_fake(fake)
        yield
    finally:
        for cache in (_traced, _symbolic_lowering):
            cache.cache_clear()
        for qualname, _, _ in ARITHMETIC_OPS:
            lib = OPDEF_TO_LIB.pop(qualname, None)
            if lib is not None:
                lib._destroy()


@pytest.fixture(scope="module")
def plugins(trt_backend, arithmetic_ops):
    """Each subject's generated QDP plugin, registered under a namespace of this module.

    The plugins are made by the library's own functions (``_qdp.make_register_function`` over a
    ``PluginVariant`` of the op) but with a private trace cache and plugin name, so that nothing
    here touches the records other tests share (the catalogue's session-wide plugins).
    """
    from torch_tensorrt.dynamo.conversion.plugins import _qdp, _symbolic
    from torch_tensorrt.dynamo.conversion.plugins._variant import PluginVariant

    def no_impl(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("shape tests never execute the plugin")

    made: Dict[str, Any] = {}
    undos = []
    try:
        for name in sorted(SUBJECTS):
            traced = _traced(name)
            spec = dataclasses.replace(
                traced.spec,
                namespace=PLUGIN_NAMESPACE,
                name=f"{name}_{traced.spec.name}",
            )
            variant = PluginVariant(
                spec, traced.op, traced.variant.absent, _symbolic.ProgramCache()
            )
            undos.append(
                _qdp.register(
                    variant,
                    _qdp.make_register_function(variant),
                    _qdp.make_impl_function(variant, no_impl),
                )
            )
            made[name] = variant
        yield made
    finally:
        _BUILT_DYNAMIC.clear()
        for undo in reversed(undos):
            undo()


# -- tracing once per subject -------------------------------------------------------------------
class _Recorder:
    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs


@dataclass(frozen=True)
class Traced:
    subject: Subject
    op: Any
    spec: Any
    variant: Any
    attributes: Tuple[Any, ...]
    schema_index: Tuple[
        int, ...
    ]  # per model input: its tensor argument's index in the schema
    program: Any


@functools.lru_cache(maxsize=None)
def _traced(name: str) -> Traced:
    from torch_tensorrt.dynamo.conversion.plugins import (
        _binding,
        _identity,
        _schema,
        _symbolic,
    )
    from torch_tensorrt.dynamo.conversion.plugins._variant import PluginVariant

    subject = SUBJECTS[name]
    op = subject.packet.default
    example = [torch.zeros(s, dtype=d) for s, d in zip(subject.opt, subject.dtypes)]
    recorder = _Recorder()
    subject.call(recorder, *example)
    spec = _schema.spec_from_op(API, op)
    call = _binding.bind(
        API,
        spec,
        recorder.args,
        recorder.kwargs,
        is_tensor=lambda v: isinstance(v, torch.Tensor),
        is_constant=lambda v: not isinstance(v, torch.Tensor),
    )
    absent = frozenset(
        a.name for a, t in zip(spec.tensor_args, call.tensors) if t is None
    )
    schema_index = tuple(
        next(i for i, t in enumerate(call.tensors) if t is e) for e in example
    )
    assert sorted(schema_index) == [
        i for i, t in enumerate(call.tensors) if t is not None
    ]
    variant = PluginVariant(spec, op, absent, _symbolic.ProgramCache())
    signatures = []
    hints = {}
    for k in sorted(range(len(example)), key=lambda k: schema_index[k]):
        dims = tuple(
            None if subject.is_dynamic(k, j) else subject.lo[k][j]
            for j in range(len(subject.lo[k]))
        )
        signatures.append(_identity.TensorSignature(subject.dtypes[k], dims))
        hints.update(
            {
                (schema_index[k], j): subject.opt[k][j]
                for j, d in enumerate(dims)
                if d is None
            }
        )
    key = variant.call_key(signatures, call.attributes)
    program = _symbolic.trace(API, spec, op, key, hints)
    return Traced(subject, op, spec, variant, call.attributes, schema_index, program)


def _schema_shapes(traced: Traced, shapes: Sequence[Shape]) -> List[Optional[Shape]]:
    """Model-input shapes -> shapes by schema tensor index (None for absent tensors)."""
    by_schema: List[Optional[Shape]] = [None] * len(traced.spec.tensor_args)
    for k, shape in enumerate(shapes):
        by_schema[traced.schema_index[k]] = tuple(shape)
    return by_schema


def _plugin_order(traced: Traced) -> List[int]:
    """Model-input indices in plugin input order (present tensors in schema order)."""
    return sorted(range(len(traced.schema_index)), key=lambda k: traced.schema_index[k])


def _fake_kernel(
    subject: Subject, shapes: Sequence[Shape]
) -> List[Tuple[Shape, torch.dtype]]:
    """What the op's own fake kernel returns for inputs of these concrete shapes."""
    with FakeTensorMode():
        inputs = [torch.empty(s, dtype=d) for s, d in zip(shapes, subject.dtypes)]
        result = subject.call(subject.packet, *inputs)
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    return [(tuple(o.shape), o.dtype) for o in outputs]


# -- shape strategies -----------------------------------------------------------------------------
def _draw_shapes(data: Any, subject: Subject, tied: bool) -> List[Shape]:
    shapes = [list(s) for s in subject.lo]
    groups = [list(g) for g in subject.ties] if tied else []
    grouped = {d for g in groups for d in g}
    groups += [[d] for d in subject.dynamic_dims() if d not in grouped]
    for group in groups:
        low = max(subject.lo[k][j] for k, j in group)
        high = min(subject.hi[k][j] for k, j in group)
        value = data.draw(st.integers(low, high), label=f"{subject.name} dims {group}")
        for k, j in group:
            shapes[k][j] = value
    result = [tuple(s) for s in shapes]
    if tied:
        assume(subject.accepts(result))
    return result


# -- the shape program against the fake kernel ---------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SUBJECTS))
@SETTINGS
@given(data=st.data())
def test_program_matches_fake_kernel(arithmetic_ops, name, data):
    traced = _traced(name)
    shapes = _draw_shapes(data, traced.subject, tied=True)
    expected = _fake_kernel(traced.subject, shapes)
    by_schema = _schema_shapes(traced, shapes)
    assert (
        traced.program.violated_guard(by_schema) is None
    ), traced.program.violated_guard(by_schema)
    assert list(traced.program.concrete_shapes(by_schema)) == [s for s, _ in expected]
    assert [o.dtype for o in traced.program.outputs] == [d for _, d in expected]


@pytest.mark.parametrize("name", sorted(MULTI_INPUT + ["rows4"]))
@SETTINGS
@given(data=st.data())
def test_program_is_never_silently_wrong(arithmetic_ops, name, data):
    """Independent sizes: the formula is right, or one of its guards says it does not apply."""
    traced = _traced(name)
    shapes = _draw_shapes(data, traced.subject, tied=False)
    by_schema = _schema_shapes(traced, shapes)
    violated = traced.program.violated_guard(by_schema)
    try:
        expected = _fake_kernel(traced.subject, shapes)
    except Exception:
        assert (
            violated is not None
        ), f"the fake kernel rejects {shapes}, but no guard of the program does"
        return
    if violated is None:
        assert list(traced.program.concrete_shapes(by_schema)) == [
            s for s, _ in expected
        ]


# -- lowering onto TensorRT shape expressions ----------------------------------------------------------
@contextlib.contextmanager
def _shape_context(builder: Any) -> Iterator[None]:
    """What QDP's get_output_shapes does around the register function (tensorrt.plugin._plugin_class)."""
    from tensorrt.plugin._tensor import SymIntExpr

    previous = SymIntExpr._exprBuilder
    SymIntExpr._exprBuilder = builder
    try:
        yield
    finally:
        SymIntExpr._exprBuilder = previous


@pytest.mark.parametrize("name", sorted(SUBJECTS))
@SETTINGS
@given(data=st.data())
def test_lowering_of_constant_dims(arithmetic_ops, trt_backend, name, data):
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.plugins import _qdp

    traced = _traced(name)
    shapes = _draw_shapes(data, traced.subject, tied=True)
    by_schema = _schema_shapes(traced, shapes)
    builder = trt.IExprBuilder()
    with _shape_context(builder):
        dims = {
            i: [trtp.ShapeExpr(builder.constant(d)) for d in shape]
            for i, shape in enumerate(by_schema)
            if shape is not None
        }
        lowered = traced.program.lower_outputs(
            lambda d: dims[d.input_index][d.dim], _qdp.qdp_algebra()
        )
        got = [tuple(e.constant_value() for e in out) for out in lowered]
    assert got == [s for s, _ in _fake_kernel(traced.subject, shapes)]


@functools.lru_cache(maxsize=None)
def _symbolic_lowering(name: str) -> List[List[Any]]:
    """The program's outputs as stand-in expression nodes over plugin input dimensions."""
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.plugins import _qdp
    from trt_standin.core import _expr
    from trt_standin.core._dims import IDimensionExpr

    traced = _traced(name)
    subject = traced.subject
    slots = traced.variant.tensor_slots()
    builder = trt.IExprBuilder()
    with _shape_context(builder):

        def dim(d: Any) -> Any:
            k = traced.schema_index.index(d.input_index)
            if subject.is_dynamic(k, d.dim):
                return trtp.ShapeExpr(
                    IDimensionExpr._wrap(_expr.input_dim(slots[d.input_index], d.dim))
                )
            return trtp.ShapeExpr(builder.constant(subject.lo[k][d.dim]))

        lowered = traced.program.lower_outputs(dim, _qdp.qdp_algebra())
        return [[e._expr._node for e in out] for out in lowered]


@pytest.mark.parametrize("name", sorted(SUBJECTS))
@SETTINGS
@given(data=st.data())
def test_lowering_of_symbolic_dims(arithmetic_ops, trt_backend, name, data):
    from trt_standin.core import _expr

    traced = _traced(name)
    nodes = _symbolic_lowering(name)
    shapes = _draw_shapes(data, traced.subject, tied=True)
    plugin_shapes = [shapes[k] for k in _plugin_order(traced)]
    got = [tuple(_expr.evaluate(n, plugin_shapes) for n in out) for out in nodes]
    assert got == [s for s, _ in _fake_kernel(traced.subject, shapes)]


# -- the generated register function, driven as TensorRT drives it -------------------------------------
def _build(variant: Any, traced: Traced, specs: Sequence[Any]) -> Any:
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.plugins import _attributes
    from trt_standin.host import PluginHost

    itensors = [
        trt.ITensor._make(None, f"in{p}", s.dtype, s.shape) for p, s in enumerate(specs)
    ]
    values = {a.name: v for a, v in zip(variant.attributes, traced.attributes)}
    factory = getattr(getattr(trtp.op, variant.spec.namespace), variant.plugin_name)(
        *itensors, **_attributes.encode_all(variant.attributes, values)
    )
    return PluginHost(time_tactics=False).build(factory, list(specs), aot=False)


def _trt_dtype(dtype: torch.dtype) -> Any:
    from trt_standin.host import TRT_DTYPE

    return TRT_DTYPE[dtype]


@pytest.mark.parametrize("name", sorted(SUBJECTS))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_plugin_static_shapes(plugins, name, data):
    from trt_standin.host import TORCH_DTYPE, InputSpec

    traced = _traced(name)
    subject = traced.subject
    shapes = _draw_shapes(data, subject, tied=True)
    order = _plugin_order(traced)
    built = _build(
        plugins[name],
        traced,
        [InputSpec.static(_trt_dtype(subject.dtypes[k]), shapes[k]) for k in order],
    )
    expected = _fake_kernel(subject, shapes)
    assert built.evaluate_output_shapes([shapes[k] for k in order]) == [
        s for s, _ in expected
    ]
    assert [TORCH_DTYPE[t] for t in built.output_types] == [d for _, d in expected]


_BUILT_DYNAMIC: Dict[str, Any] = {}


def _built_dynamic(name: str, variant: Any) -> Any:
    """The plugin built once per subject over its whole profile (dynamic sizes 1..64)."""
    from trt_standin.host import InputSpec

    if name not in _BUILT_DYNAMIC:
        traced = _traced(name)
        s = traced.subject
        _BUILT_DYNAMIC[name] = _build(
            variant,
            traced,
            [
                InputSpec.dynamic(_trt_dtype(s.dtypes[k]), s.lo[k], s.opt[k], s.hi[k])
                for k in _plugin_order(traced)
            ],
        )
    return _BUILT_DYNAMIC[name]


@pytest.mark.parametrize("name", sorted(SUBJECTS))
@SETTINGS
@given(data=st.data())
def test_generated_plugin_dynamic_profile(plugins, name, data):
    from trt_standin.host import TORCH_DTYPE

    traced = _traced(name)
    built = _built_dynamic(name, plugins[name])
    shapes = _draw_shapes(data, traced.subject, tied=True)
    expected = _fake_kernel(traced.subject, shapes)
    assert built.evaluate_output_shapes([shapes[k] for k in _plugin_order(traced)]) == [
        s for s, _ in expected
    ]
    assert [TORCH_DTYPE[t] for t in built.output_types] == [d for _, d in expected]


def test_a_size_the_fake_kernel_fixes_lowers_to_a_constant(arithmetic_ops, trt_backend):
    from trt_standin.core import _expr

    subject = SUBJECTS["rows4"]
    assert {_fake_kernel(subject, [(rows, 6)])[0][0][1] for rows in (2, 4, 30, 64)} == {
        4
    }
    second = _symbolic_lowering("rows4")[0][1]
    assert _expr.is_constant(second) and _expr.evaluate(second, []) == 4


def test_traced_next_power_of_2_is_shown_by_name():
    """triton.next_power_of_2 on a symbolic size traces to a chain of bitwise ors thousands of
    characters long; guards and formulas show it as next_power_of_2(...) (a one-step chain, which
    is not that function, is left as it is)."""
    import sympy
    from torch.utils._sympy.functions import BitwiseFn_bitwise_or, FloorDiv
    from torch_tensorrt.dynamo.conversion.plugins._shape_program import (
        python_syntax,
        readable,
    )

    cols = sympy.Symbol("x.size(1)", integer=True, positive=True)
    n = cols - 1
    for shift in (1, 2, 4, 8, 16, 32):  # Triton's next_power_of_2, step by step
        n = BitwiseFn_bitwise_or(n, FloorDiv(n, 2**shift))
    traced = n + 1
    assert len(str(traced)) > 500
    guard = sympy.Le(traced, 65536)
    assert python_syntax(guard) == "next_power_of_2(x.size(1)) <= 65536"
    assert str(readable(3 * traced)) == "3*next_power_of_2(x.size(1))"
    one_step = BitwiseFn_bitwise_or(cols - 1, FloorDiv(cols - 1, 2)) + 1
    assert "next_power_of_2" not in str(readable(one_step))
