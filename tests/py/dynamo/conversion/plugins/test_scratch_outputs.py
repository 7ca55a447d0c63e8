"""Scratch tensors: a kernel that writes a tensor the op does not return (issue 9, item 2).

``row_center`` subtracts each row's first element; its kernel also stores those per-row values into
a tensor the body allocates and never returns (as liger-kernel's norms store RSTD for a backward
pass). The AOT plugin gives that tensor as a hidden output after the op's own (TensorRT allocates
it, the converter does not expose it); so does the JIT plugin (``row_center-hidden-1``), which then
launches the kernel directly into TensorRT's buffers instead of running the op (no allocation per
call). Before scratch support the call site stayed JIT ("a tensor the body allocates but does not
return"), and the JIT plugin ran the op and copied its result.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import pytest
import torch
import triton
import triton.language as tl
from support import engines, kernels, models
from support import registry as support_registry
from support.aot import assemble, entry_params

_reference = kernels.row_center_reference


COLS = 37  # not a power of two: the kernel masks


def test_explain_shows_the_scratch_as_a_hidden_output(row_center):
    from torch_tensorrt.dynamo.conversion.plugins import explain

    qualname, _ = row_center
    report = explain(qualname, {"x": f"float32[1..64, {COLS}]"})
    assert "unavailable" not in report.aot, report.aot
    assert report.aot["hidden_outputs"] == [("M", "float32", ["x.size(0)"])]
    assert "hidden outputs (scratch tensors" in str(
        report
    ) and "M float32[x.size(0)]" in str(report)
    # The kernel takes (X, M, Y): TensorRT passes X, then the outputs Y and the hidden M.
    names = [p.split()[-1] for p in report.aot["ptx_parameters"]]
    assert names == [f"row_center_kernel_param_{i}" for i in (0, 2, 1)]
    assert report.jit_strategy.startswith("launch row_center_kernel directly")
    assert (
        "scratch tensors M are hidden outputs of the JIT plugin" in report.jit_strategy
    )


def test_aot_plugin_builds_with_the_hidden_output(row_center, gpu_target, tmp_path):
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.plugins import _aot
    from trt_standin.host import InputSpec, PluginHost

    qualname, _ = row_center
    namespace = qualname.split("::")[0]
    record = support_registry.record(qualname)
    variant = record.variant()
    itensor = trt.ITensor._make(None, "x", trt.float32, (-1, COLS))
    spec = InputSpec.dynamic(trt.float32, (1, COLS), (5, COLS), (64, COLS))
    # What the converter does for a call site: capture, compile, then the AOT plugin for its scratch.
    from torch_tensorrt.dynamo.conversion.plugins._identity import TensorSignature

    key = variant.call_key([TensorSignature(torch.float32, (None, COLS))], ())
    program = record.programs.get_or_trace("t", record.spec, record.op, key)
    captured = record.captures.get(key, program)
    assert [(t.dtype, len(t.dims)) for t in captured.scratch] == [(torch.float32, 1)]
    aot = _aot.aot_variant(record, variant, len(captured.scratch))
    assert aot.plugin_name == "row_center-aot-hidden-1" and aot.num_outputs == 2
    built = PluginHost().build(
        getattr(getattr(trtp.op, namespace), aot.plugin_name)(itensor), [spec], aot=True
    )
    assert built.num_outputs == 2
    for rows in (1, 7, 64):
        assert built.evaluate_output_shapes([(rows, COLS)]) == [(rows, COLS), (rows,)]
    assert [str(t) for t in built.output_types] == [str(trt.float32)] * 2
    kernel = built.aot
    assert len(entry_params(kernel.ptx, kernel.name)) == 3  # X, Y, M: no extras
    assert kernel.launch_config([(7, COLS)])["grid_x"] == 7
    result = assemble(kernel.ptx, tmp_path)
    assert result.returncode == 0, result.stderr


def test_compiled_model_matches_pytorch(row_center, device):
    import torch_tensorrt

    qualname, packet = row_center

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(x) * 2

    model = Model().eval()
    compiled = models.compile_model(
        model,
        [
            torch_tensorrt.Input(
                min_shape=(1, COLS), opt_shape=(5, COLS), max_shape=(64, COLS)
            )
        ],
    )
    assert not models.runs_in_pytorch(compiled, packet)
    (built,) = engines.built_plugins(compiled)
    # The scratch is the plugin's second (hidden) output, AOT on a GPU, JIT without one.
    assert built.num_outputs == 2
    if device == "cuda":
        assert support_registry.aot_reasons(qualname) == {}
        assert built.kind == "aot"
    else:  # no GPU to compile for: the JIT plugin, which launches the kernel itself
        assert built.kind == "jit" and built.name == "row_center-hidden-1"
    for rows in (1, 5, 33, 64):
        x = torch.randn(rows, COLS, device=device)
        got = compiled(x)
        assert got.shape == (rows, COLS)
        torch.testing.assert_close(got, _reference(x) * 2)


def test_jit_plugin_launches_with_the_hidden_output(row_center, device):
    """JIT (AOT off): the kernel is launched directly with TensorRT's hidden buffer as its scratch,
    so the op's body (and its torch.empty) never runs at enqueue. Before, the JIT plugin had no
    hidden output and ran the op, allocating the scratch and the output on every call.
    """
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    qualname, packet = row_center
    handle = custom_op(qualname, use_aot_if_available=False)

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(x) + 1

    try:
        compiled = models.compile_model(
            Model().eval(),
            [
                torch_tensorrt.Input(
                    min_shape=(1, COLS), opt_shape=(5, COLS), max_shape=(64, COLS)
                )
            ],
        )
        (built,) = engines.built_plugins(compiled)
        assert built.kind == "jit" and built.num_outputs == 2
        assert built.name == "row_center-hidden-1"
        status = plugin_status(qualname)
        assert f"{qualname.split('::')[0]}::row_center-hidden-1" in status.plugins
        for rows in (1, 6, 64):
            x = torch.randn(rows, COLS, device=device)
            torch.testing.assert_close(compiled(x), _reference(x) + 1)
        # "launch": the kernel into TensorRT's buffers; "copy" would be the op run and copied.
        strategies = set(plugin_status(qualname).jit_strategies.values())
        assert strategies == {"launch"}, plugin_status(qualname).jit_strategies
        assert plugin_status(qualname).direct_launch_unavailable == {}
    finally:
        handle.remove()
