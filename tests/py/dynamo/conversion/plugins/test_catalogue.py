"""Every catalogue op compiled through torch_tensorrt.compile matches eager PyTorch."""

import pytest
import torch
from support.catalogue import CASES, inputs_for, model_for


def _outputs(value):
    return value if isinstance(value, (tuple, list)) else (value,)


def _assert_matches(compiled, model, case, shapes, device):
    inputs = inputs_for(case, shapes, device)
    expected = _outputs(model(*inputs))
    got = _outputs(compiled(*inputs))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape, (
            g.dtype,
            g.shape,
            e.dtype,
            e.shape,
        )
        torch.testing.assert_close(g, e, atol=case.atol, rtol=case.rtol)


def _op_outside_engines(compiled, case) -> bool:
    """True if the op still runs in PyTorch (a graph break) anywhere in the compiled module."""
    ns, name = case.op.split("::")
    packet = getattr(getattr(torch.ops, ns), name)
    return any(
        node.op == "call_function" and node.target in (packet.default, packet)
        for _, sub in compiled.named_modules()
        if isinstance(sub, torch.fx.GraphModule)
        for node in sub.graph.nodes
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_static_shapes(catalogue_plugins, case, device):
    import torch_tensorrt

    model = model_for(case)
    example = inputs_for(case, case.static, device)
    compiled = torch_tensorrt.compile(
        model, ir="dynamo", inputs=example, min_block_size=1
    )
    assert not _op_outside_engines(compiled, case), compiled.graph
    _assert_matches(compiled, model, case, case.static, device)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_dynamic_shapes(catalogue_plugins, case, device):
    import torch_tensorrt

    model = model_for(case)
    inputs = [
        torch_tensorrt.Input(
            min_shape=lo, opt_shape=mid, max_shape=hi, dtype=make((1,), "cpu").dtype
        )
        for (lo, mid, hi), make in zip(case.dynamic, case.makers)
    ]
    compiled = torch_tensorrt.compile(
        model, ir="dynamo", inputs=inputs, min_block_size=1
    )
    assert not _op_outside_engines(compiled, case), compiled.graph
    for shapes in case.run_shapes:
        _assert_matches(compiled, model, case, shapes, device)
