"""A ``tl.constexpr`` computed from a dynamic size is compiled in when it has one value over the
engine's profile (issue 9, item 4).

``row_center`` launches with ``BLOCK=triton.next_power_of_2(cols)``. With ``cols`` static every
value compiled its own kernel already; with ``cols`` dynamic the site stayed JIT ("depends on input
sizes"). Now, when every ``cols`` the graph allows gives one ``BLOCK`` (33..64: 64), the AOT plugin
``row_center-aot-const-BLOCK-64-hidden-1`` compiles it in; two engines whose ranges give other
values get their own plugins and kernels; a range that crosses a power of two stays JIT with the
reason. The value is checked for every size in the range, nothing is assumed of the expression.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import pytest
import torch
import triton
from support import engines, kernels, models
from support import registry as support_registry
from support.aot import assemble

_reference = kernels.row_center_reference


def _compile(packet, cols_range):
    import torch_tensorrt

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(x) * 2

    lo, hi = cols_range
    spec = torch_tensorrt.Input(
        min_shape=(1, lo), opt_shape=(4, hi), max_shape=(16, hi)
    )
    return models.compile_model(Model().eval(), [spec])


def test_one_value_over_the_range_is_compiled_in(row_center, gpu_target, tmp_path):
    qualname, packet = row_center
    compiled = _compile(packet, (33, 64))
    (built,) = engines.built_plugins(compiled)
    assert (
        built.kind == "aot" and built.name == "row_center-aot-const-BLOCK-64-hidden-1"
    )
    assert support_registry.aot_reasons(qualname) == {}
    # BLOCK is compiled in: the kernel takes x, cols (an extra), y and the scratch, nothing more
    assert len(built.aot.extra_args) == 1
    assert built.aot.launch_config([(5, 40)])["extra_args"] == [40]
    assert assemble(built.aot.ptx, tmp_path).returncode == 0


def test_two_profiles_with_other_values_get_their_own_plugins(row_center, gpu_target):
    from torch_tensorrt.dynamo.conversion.plugins import _aot

    qualname, packet = row_center
    names = []
    for cols_range in ((33, 64), (65, 128), (40, 50)):
        (built,) = engines.built_plugins(_compile(packet, cols_range))
        names.append(built.name)
    assert names == [
        "row_center-aot-const-BLOCK-64-hidden-1",
        "row_center-aot-const-BLOCK-128-hidden-1",
        "row_center-aot-const-BLOCK-64-hidden-1",
    ]
    kernels = _aot.state_of(support_registry.record(qualname)).kernels
    assert sorted({dict(k.constants)["BLOCK"] for k in kernels}) == [64, 128]


@pytest.mark.parametrize("cols_range", [(1, 64), (60, 70)])
def test_a_range_with_several_values_stays_jit_with_the_reason(
    row_center, gpu_target, device, cols_range
):
    qualname, packet = row_center
    compiled = _compile(packet, cols_range)
    (built,) = engines.built_plugins(compiled)
    assert built.kind == "jit"
    (reason,) = support_registry.aot_reasons(qualname).values()
    assert "takes more than one value over the shapes the graph allows" in reason
    lo, hi = cols_range
    for cols in (lo, hi):
        x = torch.randn(3, cols, device=device)
        torch.testing.assert_close(compiled(x), _reference(x) * 2)


def test_explain_agrees_with_the_compile(row_center):
    from torch_tensorrt.dynamo.conversion.plugins import explain

    qualname, _ = row_center
    one = explain(qualname, {"x": "float32[1..16, 33..64]"})
    assert one.aot["constants"] == {"BLOCK": 64}, one.aot
    assert "BLOCK = 64" in str(one)
    several = explain(qualname, {"x": "float32[1..16, 60..70]"})
    assert "takes more than one value" in several.aot["unavailable"]


def test_an_unbounded_dimension_gives_no_value():
    """torch's int_oo (a dimension with no upper bound) claims to be finite; evaluating over it must
    give up (the site stays JIT with the constexpr reason), not raise."""
    import sympy
    from torch.utils._sympy.numbers import int_oo
    from torch.utils._sympy.value_ranges import ValueRanges
    from torch_tensorrt.dynamo.conversion.plugins import _aot
    from torch_tensorrt.dynamo.conversion.plugins._shape_program import DimSymbol

    s, g = sympy.Symbol("s"), sympy.Symbol("g", integer=True, positive=True)
    symbols = [(s, DimSymbol(0, 1, "x.size(1)"))]
    env = type("Env", (), {})()
    env.var_to_range = {g: ValueRanges(2, int_oo)}
    assert _aot._one_value(s // 64, symbols, {(0, 1): g}, env) is None
    env.var_to_range = {g: ValueRanges(65, 128)}
    assert _aot._one_value((s + 63) // 64, symbols, {(0, 1): g}, env) == 2


def test_names_with_constants_parse_back():
    from torch_tensorrt.dynamo.conversion.plugins import _saved
    from torch_tensorrt.dynamo.conversion.plugins._schema import variant_name

    name = variant_name(
        "op_x", "default", ("b",), True, 1, constants=(("BLOCK", 64), ("W", 8))
    )
    assert name == "op_x-aot-const-BLOCK-64-const-W-8-hidden-1-without-b"
    parsed = _saved.parse_plugin_name("ns", name)
    assert parsed is not None and parsed.constants == (("BLOCK", 64), ("W", 8))
    assert parsed.hidden == 1 and parsed.absent == ("b",)


@pytest.mark.gpu
@pytest.mark.parametrize("cols_range", [(33, 64), (65, 128)])
def test_compiled_in_constexpr_runs_and_matches_eager(row_center, cols_range):
    qualname, packet = row_center
    compiled = _compile(packet, cols_range)
    (built,) = engines.built_plugins(compiled)
    assert built.kind == "aot"
    lo, hi = cols_range
    for rows, cols in ((1, lo), (7, (lo + hi) // 2), (16, hi)):
        x = torch.randn(rows, cols, device="cuda")
        torch.testing.assert_close(compiled(x), _reference(x) * 2)
