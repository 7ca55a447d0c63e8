"""How the JIT plugin's enqueue gets the op's result into TensorRT's buffers: out= overload or copy.

(The direct Triton launch, the first choice, is covered by test_seed.py, test_launch.py and the
catalogue.) Ops here are defined with ``torch.library.Library`` so that they can have an ``out``
overload, as ATen-style ops do.
"""

import logging

import pytest
import torch
from support import registry as support_registry
from support import streams


def _define_scale(ops, namespace, out_schema, calls, out_factor=0.0):
    """``ns::scale(Tensor x, float a) -> Tensor`` with an ``out`` overload of ``out_schema``
    (which computes ``x * (a + out_factor)``: a nonzero ``out_factor`` plays a buggy overload).
    """
    lib = ops.library(namespace)
    lib.define("scale(Tensor x, float a) -> Tensor")
    lib.define(out_schema)

    def scale(x, a):
        calls.append("default")
        return x * a

    def scale_out(x, a, *, out):
        calls.append("out")
        torch.mul(x, a + out_factor, out=out)
        return out

    lib.impl("scale", scale, "CompositeExplicitAutograd")
    lib.impl("scale.out", scale_out, "CompositeExplicitAutograd")
    torch.library.register_fake(
        f"{namespace}::scale", lambda x, a: torch.empty_like(x), lib=lib
    )
    return getattr(torch.ops, namespace).scale


def _build(namespace, rows_range, a):
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.plugins import _attributes
    from trt_standin.host import InputSpec, PluginHost

    variant = support_registry.record(f"{namespace}::scale").variant()
    itensor = trt.ITensor._make(None, "x", trt.float32, (-1, 7))
    attrs = _attributes.encode_all(variant.attributes, {"a": a})
    factory = getattr(getattr(trtp.op, namespace), "scale")(itensor, **attrs)
    lo, opt, hi = rows_range
    spec = InputSpec.dynamic(trt.float32, (lo, 7), (opt, 7), (hi, 7))
    return PluginHost(time_tactics=False).build(factory, [spec], aot=False).runtime()


def test_out_overload_writes_into_tensorrt_buffer(trt_backend, ops, handles, device):
    """An op with a matching out= overload fills TensorRT's buffer itself: no result tensor, no copy."""
    from torch_tensorrt.dynamo.conversion.plugins import generate_plugin

    calls = []
    _define_scale(
        ops,
        "rt_out1",
        "scale.out(Tensor x, float a, *, Tensor(a!) out) -> Tensor(a!)",
        calls,
    )
    handles.append(generate_plugin("rt_out1::scale"))
    runtime = _build("rt_out1", (1, 8, 40), 1.5)
    for rows in (33, 1, 40, 33):
        x = torch.randn(rows, 7, device=device)
        out = torch.full((rows, 7), float("nan"), device=device)
        (got,) = runtime.enqueue([x], [out])
        assert got is out  # the host hands back the buffer it passed in
        streams.assert_written(out, x * 1.5)
    assert calls == ["out"] * 4  # the default overload (allocate + copy) never ran
    chosen = support_registry.record("rt_out1::scale").runtime().chosen
    assert (
        set(chosen.values()) == {"out"} and len(chosen) == 3
    )  # one choice per input shape


@pytest.mark.parametrize(
    "schema",
    [
        "scale.out(Tensor x, *, Tensor(a!) out) -> Tensor(a!)",  # drops an argument
        "scale.out(Tensor x, float a, Tensor(a!) out) -> Tensor(a!)",  # out is not keyword-only
        "scale.out(Tensor x, float a, *, Tensor out) -> Tensor",  # out is not written to
        "scale.out(Tensor x, int a, *, Tensor(a!) out) -> Tensor(a!)",  # another argument type
    ],
    ids=["missing-arg", "positional-out", "not-mutable", "other-type"],
)
def test_an_out_overload_that_does_not_fit_is_not_used(
    trt_backend, ops, handles, device, caplog, schema
):
    """A mismatched out overload would be called with the wrong arguments: copy instead, and say why."""
    from torch_tensorrt.dynamo.conversion.plugins import generate_plugin

    calls = []
    _define_scale(ops, "rt_out2", schema, calls)
    with caplog.at_level(
        logging.DEBUG, logger="torch_tensorrt.dynamo.conversion.plugins"
    ):
        handles.append(generate_plugin("rt_out2::scale"))
        runtime = _build("rt_out2", (1, 8, 40), -2.0)
        x = torch.randn(19, 7, device=device)
        (got,) = runtime.enqueue([x])
    streams.assert_written(got, x * -2.0)
    assert calls == ["default"]
    assert set(support_registry.record("rt_out2::scale").runtime().chosen.values()) == {
        "copy"
    }
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith("rt_out2::scale: ignoring rt_out2::scale.out(") for m in messages
    ), [m for m in messages if "ignoring" in m]
    # The copy fallback is announced once per op, at INFO.
    copy_lines = [r for r in caplog.records if "copies its outputs" in r.getMessage()]
    assert len(copy_lines) == 1 and copy_lines[0].levelno == logging.INFO


def test_copy_fallback_handles_bf16_buffers(trt_backend, ops, handles, device):
    """No out= overload, no Triton launch: the op's result is copied into a bf16 TensorRT buffer."""
    from torch_tensorrt.dynamo.conversion.plugins import generate_plugin

    def mix(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (x.float() * 3 - y.float()).to(torch.bfloat16)

    def fake(x, y):
        return torch.empty_like(x)

    ops.custom("rt_bf16::mix", mix, fake)
    handles.append(generate_plugin("rt_bf16::mix"))
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from trt_standin.host import InputSpec, PluginHost

    itensors = [trt.ITensor._make(None, n, trt.bfloat16, (-1, 5)) for n in "xy"]
    spec = InputSpec.dynamic(trt.bfloat16, (1, 5), (9, 5), (33, 5))
    runtime = (
        PluginHost(time_tactics=False)
        .build(trtp.op.rt_bf16.mix(*itensors), [spec, spec], aot=False)
        .runtime()
    )
    for rows in (9, 33, 1):
        x = torch.randn(rows, 5, device=device, dtype=torch.bfloat16)
        y = torch.randn(rows, 5, device=device, dtype=torch.bfloat16)
        (got,) = runtime.enqueue([x, y])
        assert got.dtype == torch.bfloat16
        streams.assert_written(got, mix(x, y))
    assert set(support_registry.record("rt_bf16::mix").runtime().chosen.values()) == {
        "copy"
    }


def _define_buggy_out(ops, namespace, calls):
    """``ns::scale`` whose ``out`` overload computes something else than the op (a bug in the op)."""
    schema = "scale.out(Tensor x, float a, *, Tensor(a!) out) -> Tensor(a!)"
    return _define_scale(ops, namespace, schema, calls, out_factor=1.0)


@pytest.mark.parametrize("how", ["keyword", "environment"])
def test_verification_compares_the_first_enqueue_with_the_op(
    trt_backend, ops, handles, device, monkeypatch, how
):
    """verify=True (or TORCH_TRT_PLUGINS_VERIFY=1) runs the op next to the first enqueue of every
    identity and fails loudly on a difference: here the op's out= overload disagrees with it.
    """
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import PluginRuntimeError, custom_op

    calls = []
    packet = _define_buggy_out(ops, f"rt_verify_{how}", calls)
    if how == "environment":
        monkeypatch.setenv("TORCH_TRT_PLUGINS_VERIFY", "1")
        handles.append(custom_op(f"rt_verify_{how}::scale"))
    else:
        handles.append(custom_op(f"rt_verify_{how}::scale", verify=True))

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(x, 2.0) + 0

    x = torch.randn(3, 7, device=device)
    with pytest.raises(Exception) as info:
        compiled = torch_tensorrt.compile(
            Model().eval(), ir="dynamo", inputs=[x], min_block_size=1
        )
        compiled(x)
    error = info.value
    while error is not None and not isinstance(error, PluginRuntimeError):
        error = error.__cause__
    assert error is not None, repr(info.value)
    assert str(error).startswith(
        f"rt_verify_{how}::scale: verification failed for inputs (x: float32[3, 7]), attributes (a=2.0): "
        "output 0 of the 'out' enqueue strategy differs from running the op: Tensor-likes are not close!"
    ), str(error)


def test_without_verification_the_out_overload_is_trusted(
    trt_backend, ops, handles, device
):
    """(The counterpart of the verification test: the same op, unverified, returns what out= writes.)"""
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    calls = []
    packet = _define_buggy_out(ops, "rt_verify_off", calls)
    handles.append(custom_op("rt_verify_off::scale"))

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(x, 2.0) + 0

    x = torch.randn(3, 7, device=device)
    compiled = torch_tensorrt.compile(
        Model().eval(), ir="dynamo", inputs=[x], min_block_size=1
    )
    torch.testing.assert_close(compiled(x), x * 3.0)
    assert "out" in calls
