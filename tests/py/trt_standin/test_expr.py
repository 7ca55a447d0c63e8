"""Dimension expressions: folding, evaluation and the IExprBuilder surface."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from trt_standin.core import _expr

pytestmark = pytest.mark.standin

OPS = {
    _expr.SUM: lambda a, b: a + b,
    _expr.PROD: lambda a, b: a * b,
    _expr.MAX: max,
    _expr.MIN: min,
    _expr.SUB: lambda a, b: a - b,
    _expr.EQUAL: lambda a, b: int(a == b),
    _expr.LESS: lambda a, b: int(a < b),
    _expr.FLOOR_DIV: lambda a, b: a // b,
    _expr.CEIL_DIV: lambda a, b: -((-a) // b),
}


@given(st.sampled_from(sorted(OPS)), st.integers(0, 10_000), st.integers(1, 500))
def test_constants_fold_and_symbols_evaluate(op: int, a: int, b: int) -> None:
    folded = _expr.operation(op, _expr.const(a), _expr.const(b))
    assert folded == ("const", OPS[op](a, b))
    symbolic = _expr.operation(op, _expr.input_dim(0, 1), _expr.const(b))
    assert not _expr.is_constant(symbolic)
    assert _expr.evaluate(symbolic, [(99, a)]) == OPS[op](a, b)
    assert _expr.bind_inputs(symbolic, [(None, a)]) == folded


def test_builder_surface() -> None:
    import tensorrt as trt
    from trt_standin.core._dims import IDimensionExpr

    builder = trt.IExprBuilder()
    four = builder.constant(4)
    assert four.is_constant() and four.get_constant_value() == 4
    dim = IDimensionExpr._wrap(_expr.input_dim(0, 0))
    q = builder.operation(trt.DimensionOperation.CEIL_DIV, dim, four)
    assert not q.is_constant()
    assert q.get_constant_value() == -(
        2**63
    )  # NvInferRuntime.h: INT64_MIN for non-constants
    assert _expr.evaluate(q._node, [(10,)]) == 3
    with pytest.raises(TypeError):
        builder.operation(
            trt.DimensionOperation.SUM, dim, 4
        )  # ints are not expressions
    with pytest.raises(TypeError):
        trt.Dims(0)  # the binding rejects an int (QDP's Shape() relies on it)
