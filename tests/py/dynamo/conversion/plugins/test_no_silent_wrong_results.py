"""Regression tests for the ways the module returned wrong numbers without a word (issue 8).

One test (or a few) per symptom, numbered as in the issue. Every test compares with eager PyTorch
on fresh random inputs, or checks that the failure is loud and names what to fix. Ops live in their
own namespaces (``nswr<n>``) and are removed after each test.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import logging
import math
import re
import warnings
from typing import Any, Callable, List, Optional, Tuple

import pytest
import torch
from support import aot_impls, kernels8, models
from support import registry as support_registry

LOGGER = "torch_tensorrt.dynamo.conversion.plugins"


# -- helpers ----------------------------------------------------------------------------------------
def _qdp_ids(namespace: str) -> List[str]:
    from tensorrt.plugin._lib import QDP_REGISTRY

    return sorted(p for p in QDP_REGISTRY if p.startswith(namespace + "::"))


# -- 1. one op, two dtypes, one process ------------------------------------------------------------------
def test_01_same_op_compiled_for_fp32_and_fp16_in_one_process(
    trt_backend, ops, handles, device
):
    """The body picks its constant from x.dtype: each engine must launch with its own dtype's values."""
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    packet = ops.custom_packet(
        "nswr1::scale", _typed(kernels8.scale_by_dtype), lambda x: torch.empty_like(x)
    )
    handles.append(custom_op("nswr1::scale"))
    for dtype in (torch.float32, torch.float16, torch.float32):
        x = torch.randn(5, 37, device=device).to(dtype)
        compiled = models.compile_fn(lambda t: packet(t) + 1, [x])
        assert not models.runs_in_pytorch(compiled, packet)
        expected = x * (2.0 if dtype == torch.float32 else 3.0) + 1
        torch.testing.assert_close(compiled(x), expected)
        fresh = torch.randn(5, 37, device=device).to(dtype)
        torch.testing.assert_close(compiled(fresh), packet(fresh) + 1)


def _typed(
    fn: Callable[[torch.Tensor], torch.Tensor],
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``fn`` with a real annotation (custom_op infers the schema from it), as its own function."""

    def body(x: torch.Tensor) -> torch.Tensor:
        return fn(x)

    body.__name__ = fn.__name__
    return body


# -- 2. overloads ------------------------------------------------------------------------------------------
def _define_overloads(ops: Any, namespace: str) -> Any:
    lib = ops.library(namespace)
    lib.define("f(Tensor x) -> Tensor")
    lib.define("f.neg(Tensor x) -> Tensor")
    lib.impl("f", lambda x: x + 1, "CompositeExplicitAutograd")
    lib.impl("f.neg", lambda x: -x, "CompositeExplicitAutograd")
    for name in ("f", "f.neg"):
        torch.library.register_fake(
            f"{namespace}::{name}", lambda x: torch.empty_like(x), lib=lib
        )
    return getattr(torch.ops, namespace).f


def test_02_each_overload_is_its_own_plugin(trt_backend, ops, handles, device):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    packet = _define_overloads(ops, "nswr2")
    handles.append(custom_op("nswr2::f"))
    handles.append(
        custom_op("nswr2::f.neg")
    )  # a different overload: not "already generated"
    assert _qdp_ids("nswr2") == ["nswr2::f", "nswr2::f-overload-neg"]
    x = torch.randn(4, 6, device=device)
    compiled = models.compile_fn(lambda t: packet.default(t) * packet.neg(t), [x])
    assert not models.runs_in_pytorch(compiled, packet)
    torch.testing.assert_close(compiled(x), (x + 1) * -x)
    assert plugin_status("nswr2::f.neg").op == "nswr2::f.neg"
    assert plugin_status("nswr2::f").plugins == ("nswr2::f",)


def test_02_a_converter_for_an_overload_without_its_plugin_is_refused(
    trt_backend, ops, handles
):
    from torch_tensorrt.dynamo.conversion.plugins import (
        PluginGenerationError,
        custom_op,
        generate_plugin_converter,
    )

    _define_overloads(ops, "nswr2b")
    handles.append(custom_op("nswr2b::f"))
    with pytest.raises(
        PluginGenerationError,
        match=re.escape(
            "generate_plugin_converter(nswr2b::f.neg): no TensorRT plugin is registered for this op"
        ),
    ):
        generate_plugin_converter("nswr2b::f.neg")


# -- 3. attribute values that compare equal but differ ------------------------------------------------
def test_03_negative_zero_attribute_is_not_positive_zero(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def signed(x: torch.Tensor, s: float) -> torch.Tensor:
        return torch.copysign(x.abs(), torch.full_like(x, s))

    packet = ops.custom_packet(
        "nswr3::signed", signed, lambda x, s: torch.empty_like(x)
    )
    handles.append(custom_op("nswr3::signed"))
    x = torch.randn(3, 5, device=device)
    positive = models.compile_fn(lambda t: packet(t, 0.0) + 0, [x])
    negative = models.compile_fn(lambda t: packet(t, -0.0) + 0, [x])
    torch.testing.assert_close(positive(x), x.abs())
    torch.testing.assert_close(negative(x), -x.abs())
    both = models.compile_fn(
        lambda t: packet(t, 0.0) - packet(t, -0.0), [x]
    )  # two call sites, one engine
    torch.testing.assert_close(both(x), 2 * x.abs())


def test_03_nan_attribute_hits_the_trace_cache(trt_backend, ops, handles, device):
    """A NaN attribute from a fresh float object finds the program traced for it (NaN != NaN)."""
    from torch_tensorrt.dynamo.conversion.plugins import _identity, generate_plugin

    def fill(x: torch.Tensor, v: float) -> torch.Tensor:
        return torch.full_like(x, v)

    packet = ops.custom_packet("nswr3b::fill", fill, lambda x, v: torch.empty_like(x))
    handles.append(generate_plugin("nswr3b::fill"))
    record = support_registry.record("nswr3b::fill")
    signature = _identity.TensorSignature(torch.float32, (None, 4))
    first = record.variant().call_key([signature], (float("nan"),))
    program = record.programs.get_or_trace("tests", record.spec, record.op, first)
    again = record.variant().call_key(
        [signature], (float("nan"),)
    )  # another NaN object
    assert record.programs.get(again) is program and record.programs.traces == 1
    x = torch.randn(6, 4, device=device)
    compiled = models.compile_fn(lambda t: packet(t, float("nan")) + t, [x])
    assert torch.isnan(compiled(x)).all()


# -- 4. Python state read by the op body -----------------------------------------------------------------
def test_04_body_reading_python_state_is_run_every_call(
    trt_backend, ops, handles, device
):
    """The body passes a fresh counter value to its kernel on every call; no captured launch may
    freeze the first one."""
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    packet = ops.custom_packet(
        "nswr4::count", _typed(kernels8.add_next_count), lambda x: torch.empty_like(x)
    )
    handles.append(custom_op("nswr4::count"))
    x = torch.zeros(3, 37, device=device)
    compiled = models.compile_fn(lambda t: packet(t) * 1, [x])
    first, second = compiled(x), compiled(x)
    assert torch.unique(first).numel() == 1 and torch.unique(second).numel() == 1
    assert float(second[0, 0]) == float(first[0, 0]) + 1  # as eager: one count per call
    reasons = plugin_status("nswr4::count").direct_launch_unavailable
    assert any(
        "changes from call to call" in r and "'seed'" in r for r in reasons.values()
    ), reasons
    assert set(support_registry.implementations("nswr4::count").values()) == {"JIT"}


# -- 5. real kernel disagreeing with its fake kernel -------------------------------------------------
@pytest.mark.parametrize(
    "real, problem",
    [
        (
            lambda x: x[:1].clone(),
            "output 0 is float32[1, 6] where the fake kernel says float32[4, 6]",
        ),
        (
            lambda x: x.double(),
            "output 0 is float64[4, 6] where the fake kernel says float32[4, 6]",
        ),
    ],
    ids=["shape", "dtype"],
)
def test_05_real_kernel_disagreeing_with_fake_kernel_fails_loudly(
    trt_backend, ops, handles, device, real, problem
):
    from torch_tensorrt.dynamo.conversion.plugins import PluginRuntimeError, custom_op

    def body(x: torch.Tensor) -> torch.Tensor:
        return real(x)

    namespace = f"nswr5_{len(problem) % 7}{'s' if 'float64' not in problem else 'd'}"
    packet = ops.custom_packet(f"{namespace}::bad", body, lambda x: torch.empty_like(x))
    handles.append(custom_op(f"{namespace}::bad"))
    x = torch.randn(4, 6, device=device)
    with pytest.raises(Exception) as info:
        compiled = models.compile_fn(lambda t: packet(t) + 1, [x])
        compiled(x)
    error = info.value
    while error is not None and not isinstance(error, PluginRuntimeError):
        error = error.__cause__
    assert error is not None, repr(info.value)
    assert str(error) == (
        f"{namespace}::bad: the op's real kernel disagrees with its fake kernel: {problem}. TensorRT built its "
        "buffers from the fake kernel (register_fake), so nothing was copied. Make the fake kernel return what "
        "the op returns (shape and dtype) for these inputs."
    )


# -- 6. the capture never touches the device; a hand-written aot_impl wins ------------------------------
def test_06_capture_stops_a_body_that_launches_by_data_pointer(
    trt_backend, ops, handles, device
):
    """A body that hands raw addresses to a launcher (cuda.core, cuda-python) is stopped at
    ``data_ptr()`` while it runs on FakeTensors: the launcher never sees a fake address.
    """
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    seen: List[int] = []

    def by_pointer(x: torch.Tensor) -> torch.Tensor:
        y = torch.empty_like(x)
        kernels8.pointer_launch(x.data_ptr(), y.data_ptr(), x.numel(), seen)
        y.copy_(x * 2)  # what the raw-pointer kernel computes
        return y

    packet = ops.custom_packet(
        "nswr6::by_pointer", by_pointer, lambda x: torch.empty_like(x)
    )
    handles.append(custom_op("nswr6::by_pointer"))
    x = torch.randn(4, 9, device=device)
    compiled = models.compile_fn(lambda t: packet(t) + 1, [x])
    seen_at_compile = list(seen)
    torch.testing.assert_close(compiled(x), x * 2 + 1)
    assert (
        seen_at_compile == [] or 0 not in seen_at_compile
    ), seen_at_compile  # never a fake address
    assert 0 not in seen and all(p != 0 for p in seen)
    reasons = plugin_status("nswr6::by_pointer").direct_launch_unavailable
    assert any(
        "takes a tensor's data pointer" in r and "nothing ran on the device" in r
        for r in reasons.values()
    ), reasons


def test_06_device_synchronisation_in_a_captured_body_is_refused(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    def syncing(x: torch.Tensor) -> torch.Tensor:
        torch.cuda.synchronize()
        return kernels8.launch_current_kernel(x)

    packet = ops.custom_packet(
        "nswr6b::syncing", syncing, lambda x: torch.empty_like(x)
    )
    handles.append(custom_op("nswr6b::syncing"))
    x = torch.randn(3, 7, device=device)
    with _kernel(kernels8.times_two_kernel):
        compiled = models.compile_fn(lambda t: packet(t) - t, [x])
        torch.testing.assert_close(compiled(x), x)
    reasons = plugin_status("nswr6b::syncing").direct_launch_unavailable
    assert any(
        "synchronises the device (torch.cuda.synchronize)" in r
        for r in reasons.values()
    ), reasons


def test_06_handwritten_aot_impl_takes_precedence_over_automatic_aot(
    trt_backend, ops, handles, gpu_target, device, caplog
):
    """generate_plugin, then a hand-written aot_impl, then generate_plugin_converter (upstream's
    NVRTC tutorial flow): the engine's layer is the hand-written kernel, not ours and not JIT.
    """
    from torch_tensorrt.dynamo.conversion.plugins import (
        generate_plugin,
        generate_plugin_converter,
    )
    from trt_standin.host import ptx_entry_param_count

    packet = ops.custom_packet(
        "nswr6c::add_one", _typed(kernels8.add_one), lambda x: torch.empty_like(x)
    )
    handles.append(generate_plugin("nswr6c::add_one"))
    aot_impls.attach_aot_impl("nswr6c::add_one", kernels8.add_one_ptx)
    handles.append(
        generate_plugin_converter("nswr6c::add_one", supports_dynamic_shapes=True)
    )
    x = torch.randn(4, 40, device=device)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        compiled = models.compile_fn(lambda t: packet(t) * 2, [x])
    (built,) = _built(compiled)
    assert (built.name, built.kind) == (
        "add_one",
        "aot",
    )  # the generated plugin itself, not "add_one-aot"
    assert support_registry.implementations("nswr6c::add_one") == {
        "add_one": "AOT (hand-written)"
    }
    # 7. Triton's two trailing scratch parameters were removed: TensorRT passes input, extra, output.
    assert ptx_entry_param_count(built.aot.ptx, built.aot.name) == 3
    assert any(
        "removed the unused trailing PTX parameters" in r.getMessage()
        for r in caplog.records
    )
    if device == "cuda":
        torch.testing.assert_close(compiled(x), (x + 1) * 2)


def _built(compiled: Any) -> List[Any]:
    from support import engines

    return engines.built_plugins(compiled)


# -- 7. hand-written trtp.register + aot_impl with Triton's scratch parameters ----------------------------
def test_07_handwritten_triton_ptx_with_scratch_parameters_fits_tensorrt(
    trt_backend, ops, fresh_qdp_namespace, handles, device, caplog
):
    """Upstream's aot_plugin tutorial: hand-written register + aot_impl returning triton.compile PTX,
    then generate_plugin_converter. The PTX's unused trailing parameters are removed (INFO).
    """
    from torch_tensorrt.dynamo.conversion.plugins import generate_plugin_converter
    from trt_standin.host import ptx_entry_param_count

    namespace = fresh_qdp_namespace
    packet = ops.custom_packet(
        f"{namespace}::add_one", _typed(kernels8.add_one), lambda x: torch.empty_like(x)
    )
    aot_impls.handwritten_add_one(namespace, jit=False, ptx_of=kernels8.add_one_ptx)
    assert (
        len(_entry(kernels8.add_one_ptx())) == 5
    )  # Triton's own PTX: 3 + global/profile scratch
    handles.append(
        generate_plugin_converter(f"{namespace}::add_one", use_aot_if_available=True)
    )
    x = torch.randn(3, 50, device=device)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        compiled = models.compile_fn(lambda t: packet(t) - 1, [x])
    assert not models.runs_in_pytorch(compiled, packet)
    (built,) = _built(compiled)
    assert (
        built.kind == "aot"
        and ptx_entry_param_count(built.aot.ptx, built.aot.name) == 3
    )
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith(
            f"{namespace}::add_one: removed the unused trailing PTX parameters ['add_one_kernel_param_3', "
            f"'add_one_kernel_param_4'] of {namespace}::add_one's kernel add_one_kernel"
        )
        for m in messages
    ), messages
    if device == "cuda":
        torch.testing.assert_close(compiled(x), x)


def _entry(compiled: Any) -> List[str]:
    from support.aot import entry_params

    return entry_params(compiled.asm["ptx"], compiled.metadata.name)


class _ReadsScratch:
    """A compiled kernel whose PTX reads its trailing scratch parameter."""

    def __init__(self) -> None:
        real = kernels8.add_one_ptx()
        self.metadata = real.metadata
        name = real.metadata.name
        ptx = real.asm["ptx"]
        scratch = _entry(real)[3].split()[-1]
        body_start = ptx.index("{", ptx.index(f".entry {name}"))
        ptx = (
            ptx[: body_start + 1]
            + f"\n\t.reg .b64 %rd_scratch;\n\tld.param.u64 %rd_scratch, [{scratch}];"
            + ptx[body_start + 1 :]
        )
        self.asm = {"ptx": ptx}


@pytest.mark.parametrize("jit", [True, False], ids=["with_jit_impl", "aot_only"])
def test_07_handwritten_ptx_that_reads_scratch_is_not_launched(
    trt_backend, ops, fresh_qdp_namespace, handles, device, jit
):
    """A hand-written kernel that reads a parameter TensorRT never passes: JIT when the plugin has a
    JIT implementation, else the node stays in PyTorch; never an engine that reads garbage.
    """
    from torch_tensorrt.dynamo.conversion.plugins import generate_plugin_converter

    namespace = fresh_qdp_namespace
    packet = ops.custom_packet(
        f"{namespace}::add_one", _typed(kernels8.add_one), lambda x: torch.empty_like(x)
    )
    aot_impls.handwritten_add_one(namespace, jit=jit, ptx_of=_ReadsScratch)
    handles.append(
        generate_plugin_converter(f"{namespace}::add_one", use_aot_if_available=True)
    )
    x = torch.randn(2, 20, device=device)
    compiled = models.compile_fn(lambda t: packet(t) * 3, [x])
    if jit:
        assert not models.runs_in_pytorch(compiled, packet)
        assert [b.kind for b in _built(compiled)] == ["jit"]
    else:
        assert models.runs_in_pytorch(compiled, packet)
    torch.testing.assert_close(compiled(x), (x + 1) * 3)


class _kernel:
    """Context: ``kernels8.KERNEL`` is ``kernel`` inside (a notebook cell that defines it)."""

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel

    def __enter__(self) -> None:
        self.saved = kernels8.KERNEL
        kernels8.KERNEL = self.kernel

    def __exit__(self, *exc: Any) -> None:
        kernels8.KERNEL = self.saved


# -- 8. output sizes that are not plain TensorRT shape expressions ---------------------------------------
def test_08_ceil_of_a_division_in_the_fake_kernel_is_lowered_exactly(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def pairs(x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        padded = torch.nn.functional.pad(x, (0, 0, 0, n % 2))
        return padded.reshape(-1, 2, x.shape[1]).sum(1)

    def fake(x):
        return x.new_empty((math.ceil(x.shape[0] / 2), x.shape[1]))

    packet = ops.custom_packet("nswr8::pairs", pairs, fake)
    handles.append(custom_op("nswr8::pairs"))
    compiled = models.compile_fn(
        lambda t: packet(t) + 0, [models.dynamic((3, 3), (5, 3), (11, 3))]
    )
    assert not models.runs_in_pytorch(compiled, packet)
    for rows in (3, 4, 5, 11):
        x = torch.randn(rows, 3, device=device)
        torch.testing.assert_close(compiled(x), pairs(x))


def test_08_a_size_with_no_tensorrt_expression_keeps_the_node_in_pytorch(
    trt_backend, ops, handles, device, caplog
):
    """round() of a division has no exact TensorRT expression: the node stays in PyTorch, with the
    reason; the compile is never aborted."""
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    def halves(x: torch.Tensor) -> torch.Tensor:
        return x[: round(x.shape[0] / 2)].clone()

    def fake(x):
        return x.new_empty((round(x.shape[0] / 2), x.shape[1]))

    packet = ops.custom_packet("nswr8b::halves", halves, fake)
    handles.append(custom_op("nswr8b::halves"))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        compiled = models.compile_fn(
            lambda t: packet(t) * 2, [models.dynamic((3, 3), (6, 3), (12, 3))]
        )
    assert models.runs_in_pytorch(compiled, packet)
    (reason,) = plugin_status("nswr8b::halves").not_converted.values()
    assert (
        "an output size is not a TensorRT shape expression" in reason
        and "RoundToInt" in reason
    ), reason
    for rows in (3, 7, 12):
        x = torch.randn(rows, 3, device=device)
        torch.testing.assert_close(compiled(x), halves(x) * 2)


# -- 9. argument names QDP cannot take -------------------------------------------------------------------
def test_09_tensor_arguments_named_like_qdp_parameters(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def mix(outputs: torch.Tensor, stream: torch.Tensor, tactic: float) -> torch.Tensor:
        return outputs * tactic + stream

    packet = ops.custom_packet(
        "nswr9::mix", mix, lambda outputs, stream, tactic: torch.empty_like(outputs)
    )
    handles.append(custom_op("nswr9::mix"))
    x, y = torch.randn(3, 4, device=device), torch.randn(3, 4, device=device)
    compiled = models.compile_fn(lambda a, b: packet(a, b, 0.5) + 1, [x, y])
    assert not models.runs_in_pytorch(compiled, packet)
    torch.testing.assert_close(compiled(x, y), x * 0.5 + y + 1)


def test_09_python_keyword_argument_names(trt_backend, ops, handles, device):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    lib = ops.library("nswr9b")
    lib.define("decay(Tensor x, float lambda=0.5, *, int power=2) -> Tensor")
    lib.impl(
        "decay",
        lambda x, *args, **kwargs: x
        * _arg(args, kwargs, 0, "lambda") ** kwargs.get("power", 2),
        "CompositeExplicitAutograd",
    )
    torch.library.register_fake(
        "nswr9b::decay", lambda x, *args, **kwargs: torch.empty_like(x), lib=lib
    )
    handles.append(custom_op("nswr9b::decay"))
    packet = torch.ops.nswr9b.decay
    x = torch.randn(2, 5, device=device)
    compiled = models.compile_fn(lambda t: packet(t, 0.25, power=3) - t, [x])
    assert not models.runs_in_pytorch(compiled, packet)
    torch.testing.assert_close(compiled(x), x * 0.25**3 - x)


def _arg(args: Tuple[Any, ...], kwargs: Any, index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs[name]


# -- 10. lifecycle: removal, and names of variants ---------------------------------------------------------
def test_10_removing_the_plugin_removes_its_converter(
    trt_backend, ops, handles, device
):
    """plugin_handle.remove() while the converter handle is kept: nothing re-registers the plugin."""
    from torch_tensorrt.dynamo.conversion.plugins import (
        PluginGenerationError,
        generate_plugin,
        generate_plugin_converter,
        plugin_status,
    )

    def neg(x: torch.Tensor) -> torch.Tensor:
        return -x

    packet = ops.custom_packet("nswr10::neg", neg, lambda x: torch.empty_like(x))
    plugin = generate_plugin("nswr10::neg")
    converter = generate_plugin_converter("nswr10::neg")
    handles.append(converter)
    plugin.remove()
    assert not converter.active
    x = torch.randn(3, 3, device=device)
    compiled = models.compile_fn(lambda t: packet(t) + 1, [x])
    assert models.runs_in_pytorch(compiled, packet) and _qdp_ids("nswr10") == []
    torch.testing.assert_close(compiled(x), 1 - x)
    with pytest.raises(
        PluginGenerationError, match="no plugin was generated for this op"
    ):
        plugin_status("nswr10::neg")


def test_10_user_op_named_like_a_variant_does_not_collide(
    trt_backend, ops, handles, device, caplog
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def f(x: torch.Tensor, b: Optional[torch.Tensor] = None) -> torch.Tensor:
        return x * 2 if b is None else x * 2 + b

    def f_without_b(x: torch.Tensor) -> torch.Tensor:
        return x - 7

    f_packet = ops.custom_packet("nswr10b::f", f, lambda x, b=None: torch.empty_like(x))
    g_packet = ops.custom_packet(
        "nswr10b::f__without_b", f_without_b, lambda x: torch.empty_like(x)
    )
    handles.append(custom_op("nswr10b::f__without_b"))
    handles.append(custom_op("nswr10b::f"))
    x = torch.randn(4, 4, device=device)
    compiled = models.compile_fn(lambda t: f_packet(t, None) + g_packet(t), [x])
    assert not models.runs_in_pytorch(
        compiled, f_packet
    ) and not models.runs_in_pytorch(compiled, g_packet)
    torch.testing.assert_close(compiled(x), x * 2 + x - 7)
    assert "nswr10b::f-without-b" in _qdp_ids(
        "nswr10b"
    ) and "nswr10b::f__without_b" in _qdp_ids("nswr10b")
    assert not any("hand-written" in r.getMessage() for r in caplog.records)


# -- 11-14. notebook cells run again --------------------------------------------------------------------
@pytest.mark.parametrize("aot", [False, True], ids=["jit", "aot"])
def test_11_redefined_triton_kernel_is_used_by_recompiles_and_running_engines(
    trt_backend, ops, handles, device, aot
):
    """Re-running the cell that defines the kernel: eager and every recompiled model use the new
    kernel. A JIT engine built before follows it at shapes seen before and new ones alike; an engine
    whose plugin is AOT holds the kernel it was built with, at every shape (a compiled artifact).
    """
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    if aot and device != "cuda":
        pytest.skip("AOT kernels run on a GPU")
    packet = ops.custom_packet(
        "nswr11::k",
        _typed(kernels8.launch_current_kernel),
        lambda x: torch.empty_like(x),
    )
    handles.append(custom_op("nswr11::k", use_aot_if_available=aot))
    with _kernel(kernels8.times_two_kernel):
        dynamic = models.compile_fn(
            lambda t: packet(t) + 0, [models.dynamic((2, 8), (4, 8), (16, 8))]
        )
        x4 = torch.randn(4, 8, device=device)
        torch.testing.assert_close(dynamic(x4), x4 * 2)
        static = models.compile_fn(lambda t: packet(t) + 0, [x4])
        torch.testing.assert_close(static(x4), x4 * 2)
    assert set(support_registry.implementations("nswr11::k").values()) == {
        "AOT (automatic)" if aot else "JIT"
    }
    with _kernel(kernels8.times_three_kernel):  # the cell defining the kernel ran again
        x9 = torch.randn(9, 8, device=device)
        torch.testing.assert_close(packet(x4), x4 * 3)  # eager
        built_with = 2 if aot else 3
        torch.testing.assert_close(
            dynamic(x4), x4 * built_with
        )  # a shape this engine ran before
        torch.testing.assert_close(
            dynamic(x9), x9 * built_with
        )  # a new shape: the same kernel
        recompiled = models.compile_fn(lambda t: packet(t) + 0, [x4])
        torch.testing.assert_close(recompiled(x4), x4 * 3)


def test_12_reregistered_fake_kernel_is_used_by_recompiles(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def halve(x: torch.Tensor) -> torch.Tensor:
        return x[:, : x.shape[1] // 2].clone()

    packet = ops.custom_packet(
        "nswr12::halve", halve, lambda x: x.new_empty((x.shape[0], x.shape[1]))
    )  # wrong
    handles.append(custom_op("nswr12::halve"))
    x = torch.randn(3, 8, device=device)
    with pytest.raises(Exception, match="disagrees with its fake kernel"):
        models.compile_fn(lambda t: packet(t) * 2, [x])(x)
    torch.library.register_fake("nswr12::halve")(
        lambda x: x.new_empty((x.shape[0], x.shape[1] // 2))
    )  # fixed
    compiled = models.compile_fn(lambda t: packet(t) * 2, [x])
    assert not models.runs_in_pytorch(compiled, packet)
    out = compiled(x)
    assert out.shape == (3, 4)
    torch.testing.assert_close(out, x[:, :4] * 2)


def test_13_redefined_op_is_reported_until_custom_op_runs_again(
    trt_backend, ops, handles, device, caplog
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    def times(x: torch.Tensor) -> torch.Tensor:
        return x * 2

    ops.custom_packet("nswr13::times", times, lambda x: torch.empty_like(x))
    handles.append(custom_op("nswr13::times"))

    def times_again(
        x: torch.Tensor,
    ) -> torch.Tensor:  # the op's cell, edited and run again
        return x * 3

    from torch._library.custom_ops import OPDEFS

    OPDEFS.pop("nswr13::times", None)
    packet = ops.custom_packet(
        "nswr13::times", times_again, lambda x: torch.empty_like(x)
    )
    x = torch.randn(2, 5, device=device)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        compiled = models.compile_fn(lambda t: packet(t) + 1, [x])
    torch.testing.assert_close(compiled(x), x * 3 + 1)
    status = plugin_status("nswr13::times")
    assert status.stale is not None and "redefined" in status.stale
    (reason,) = status.not_converted.values()
    assert 'Call custom_op("nswr13::times")' in reason, reason
    assert any(
        "stay in PyTorch" in r.getMessage() and "redefined" in r.getMessage()
        for r in caplog.records
    )
    handles.append(custom_op("nswr13::times"))  # the user runs the custom_op cell again
    compiled = models.compile_fn(lambda t: packet(t) + 1, [x])
    assert not models.runs_in_pytorch(compiled, packet)
    torch.testing.assert_close(compiled(x), x * 3 + 1)
    assert plugin_status("nswr13::times").stale is None


def test_14_custom_op_cell_run_again_returns_the_live_registration(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def times(x: torch.Tensor) -> torch.Tensor:
        return x * 5

    packet = ops.custom_packet("nswr14::times", times, lambda x: torch.empty_like(x))
    custom_op("nswr14::times")  # handle dropped, as a notebook cell's result is
    again = custom_op("nswr14::times")
    handles.append(again)
    assert again is custom_op("nswr14::times") and again.active
    x = torch.randn(3, 2, device=device)
    compiled = models.compile_fn(lambda t: packet(t) + 1, [x])
    assert not models.runs_in_pytorch(compiled, packet)
    torch.testing.assert_close(compiled(x), x * 5 + 1)


def test_14_removed_plugin_leaves_nothing_in_qdp_and_custom_op_works_again(
    trt_backend, ops, handles, device, caplog
):
    from torch_tensorrt.dynamo.conversion.plugins import (
        custom_op,
        generate_plugin,
        generate_plugin_converter,
    )

    def times(x: torch.Tensor) -> torch.Tensor:
        return x * 4

    packet = ops.custom_packet("nswr14b::times", times, lambda x: torch.empty_like(x))
    plugin = generate_plugin("nswr14b::times")
    handles.append(generate_plugin_converter("nswr14b::times"))
    plugin.remove()
    x = torch.randn(2, 3, device=device)
    compiled = models.compile_fn(lambda t: packet(t) - 1, [x])
    torch.testing.assert_close(compiled(x), x * 4 - 1)
    assert _qdp_ids("nswr14b") == []  # nothing was put back into QDP's registry
    with caplog.at_level(logging.INFO, logger=LOGGER):
        handles.append(custom_op("nswr14b::times"))
    assert not any("hand-written" in r.getMessage() for r in caplog.records)
    compiled = models.compile_fn(lambda t: packet(t) - 1, [x])
    assert not models.runs_in_pytorch(compiled, packet)
    torch.testing.assert_close(compiled(x), x * 4 - 1)


# -- 15. status per compile --------------------------------------------------------------------------------
def test_15_not_converted_reports_each_compile_separately(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    def scale(x: torch.Tensor, k: int) -> torch.Tensor:
        return x * k

    def fake(x, k):
        if (
            k == 3 and not torch.compiler.is_exporting()
        ):  # export succeeds; the plugin's trace fails
            raise ValueError("k=3 is not supported")
        return torch.empty_like(x)

    packet = ops.custom_packet("nswr15::scale", scale, fake)
    handles.append(custom_op("nswr15::scale"))
    x = torch.randn(5, 3, device=device)
    a = models.compile_fn(
        lambda t: packet(t, 3) + packet(t * 2, 3), [x]
    )  # model A: both nodes stay in PyTorch
    status_a = plugin_status("nswr15::scale")
    assert (
        len(status_a.not_converted) == 2 and status_a.compile is not None
    ), status_a.not_converted
    b = models.compile_fn(
        lambda t: packet(t, 1) + packet(t, 2), [x]
    )  # model B: same node names, both converted
    status_b = plugin_status("nswr15::scale")
    assert status_b.not_converted == {} and status_b.compile > status_a.compile
    assert set(status_b.implementations) == set(
        status_a.not_converted
    )  # the same node names...
    assert (
        status_b.history[-2].not_converted == status_a.not_converted
    )  # ...reported per compile
    torch.testing.assert_close(a(x), x * 3 + x * 6)
    torch.testing.assert_close(b(x), x * 3)


# -- 16. errors raised by the op's body at run time -------------------------------------------------------
def test_16_body_error_names_op_layer_and_shapes(trt_backend, ops, handles, device):
    from torch_tensorrt.dynamo.conversion.plugins import PluginRuntimeError, custom_op

    def picky(x: torch.Tensor) -> torch.Tensor:
        if bool((x == 123.0).any()):
            raise ValueError("123 is not allowed")
        return x + 1

    packet = ops.custom_packet("nswr16::picky", picky, lambda x: torch.empty_like(x))
    handles.append(custom_op("nswr16::picky"))
    x = torch.randn(2, 3, device=device)
    compiled = models.compile_fn(lambda t: packet(t) * 2, [x])
    torch.testing.assert_close(compiled(x), (x + 1) * 2)
    bad = x.clone()
    bad[1, 2] = 123.0
    with pytest.raises(PluginRuntimeError) as info:
        compiled(bad)
    assert str(info.value) == (
        "nswr16::picky: the op failed in TensorRT's enqueue of layer nswr16::picky/picky (plugin nswr16::picky) "
        "for input shapes [(2, 3)] and dtypes ['float32']: ValueError: 123 is not allowed"
    )
    assert isinstance(info.value.__cause__, ValueError)


# -- 17. Torch-TensorRT's engine cache ---------------------------------------------------------------------
_CACHE = dict(
    immutable_weights=False, cache_built_engines=True, reuse_cached_engines=True
)


def _reuse_refused(caplog: Any) -> bool:
    found = any(
        "engine cache reuse is off for this compile" in r.getMessage()
        for r in caplog.records
    )
    caplog.clear()
    return found


def test_17_engine_cache_never_serves_an_engine_built_for_other_attribute_values(
    trt_backend, ops, handles, device, tmp_path, monkeypatch, caplog
):
    """Two models that differ only in an attribute value have the same engine-cache hash: the
    second must not get the first one's engine; it is rebuilt (and replaces it), with a warning.
    """
    from support.engines import skip_without_slow_refit
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    skip_without_slow_refit()
    monkeypatch.setenv("TORCH_TRT_PLUGINS_CACHE", str(tmp_path / "plugins"))

    def scale(x: torch.Tensor, a: float) -> torch.Tensor:
        return x * a

    packet = ops.custom_packet("nswr17::scale", scale, lambda x, a: torch.empty_like(x))
    handles.append(custom_op("nswr17::scale"))
    x = torch.randn(3, 4, device=device)
    settings = dict(_CACHE, engine_cache_dir=str(tmp_path / "engines"))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for a, rebuilt in (
            (2.0, False),
            (2.0, False),
            (3.0, True),
            (3.0, False),
            (2.0, True),
        ):
            compiled = models.compile_fn(lambda t: packet(t, a) * 1, [x], **settings)
            torch.testing.assert_close(compiled(x), x * a)
            fresh = torch.randn(3, 4, device=device)
            torch.testing.assert_close(compiled(fresh), fresh * a)
            assert _reuse_refused(caplog) is rebuilt, (a, rebuilt)


@pytest.mark.parametrize(
    "changed", ["default5", "fake_half"], ids=["schema_default", "fake_kernel_dtype"]
)
def test_17_engine_cache_in_a_new_process_after_the_op_changed(
    trt_backend, tmp_path, changed
):
    """A schema default or a fake kernel changed between two processes sharing an engine cache:
    the second process rebuilds (right values and dtype), and the third reuses the rebuilt engine.
    """
    import json
    import os
    import pathlib
    import subprocess
    import sys

    from support.engines import skip_without_slow_refit

    skip_without_slow_refit()
    tests = pathlib.Path(__file__).resolve().parents[4]
    env = dict(
        os.environ,
        PYTHONPATH=str(tests),
        TORCH_TRT_PLUGINS_CACHE=str(tmp_path / "plugins"),
    )

    def child(definition: str) -> dict:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "support.engine_cache_child",
                definition,
                str(tmp_path / "engines"),
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
            cwd=str(tests),
        )
        assert result.stdout.strip(), result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    def right(result: dict) -> bool:
        return (
            "error" not in result
            and result["dtype"] == result["expected_dtype"]
            and result["max_error"] == 0.0
        )

    built = child("default2")
    assert right(built) and not built["rebuilt"], built
    changed_op = child(changed)
    assert right(changed_op) and changed_op["rebuilt"], changed_op
    again = child(changed)
    assert right(again) and not again["rebuilt"], again


def test_17_running_engine_checks_output_dtypes_against_the_fake_kernel(
    trt_backend, ops, handles, device
):
    """An engine built before the fake kernel changed its output dtype: the run-time check compares
    dtypes (and counts), not only shapes, and says that the fake kernel changed."""
    from torch_tensorrt.dynamo.conversion.plugins import PluginRuntimeError, custom_op

    def double(x: torch.Tensor) -> torch.Tensor:
        return x * 2

    packet = ops.custom_packet("nswr17c::double", double, lambda x: torch.empty_like(x))
    handles.append(custom_op("nswr17c::double"))
    compiled = models.compile_fn(
        lambda t: packet(t) + 1, [models.dynamic((1, 4), (3, 4), (8, 4))]
    )
    x = torch.randn(3, 4, device=device)
    torch.testing.assert_close(compiled(x), x * 2 + 1)
    torch.library.register_fake("nswr17c::double")(
        lambda x: torch.empty_like(x, dtype=torch.float16)
    )
    with pytest.raises(
        PluginRuntimeError,
        match=re.escape(
            "TensorRT's output buffers are (float32[5, 4]) for input shapes [(5, 4)], but the fake kernel gives "
            "(float16[5, 4]) for them"
        ),
    ) as info:
        compiled(torch.randn(5, 4, device=device))
    assert (
        "the fake kernel was registered again after the engine was built (rebuild the engine)"
        in str(info.value)
    )


# -- 18. torch_compile: engines built inside Torch-TensorRT's fake mode ---------------------------------
@pytest.mark.parametrize("body", ["triton_launch", "torch_copy"])
def test_18_plugins_built_inside_torch_tensorrts_fake_mode(
    trt_backend, ops, handles, device, body
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    if body == "triton_launch":
        fn = _typed(kernels8.launch_current_kernel)
    else:

        def fn(x: torch.Tensor) -> torch.Tensor:
            return x * 2

    qualname = f"nswr18_{body}::twice"
    packet = ops.custom_packet(qualname, fn, lambda x: torch.empty_like(x))
    handles.append(custom_op(qualname))
    x = torch.randn(4, 9, device=device)
    with _kernel(kernels8.times_two_kernel):
        compiled = models.compile_fn(lambda t: packet(t) + 1, [x], ir="torch_compile")
        for _ in range(2):
            fresh = torch.randn(4, 9, device=device)
            torch.testing.assert_close(compiled(fresh), fresh * 2 + 1)
    aot = (
        body == "triton_launch" and device == "cuda"
    )  # a single Triton launch on a GPU becomes AOT
    assert set(support_registry.implementations(qualname).values()) == {
        "AOT (automatic)" if aot else "JIT"
    }
    if not aot:
        expected = {"launch"} if body == "triton_launch" else {"copy"}
        assert (
            set(support_registry.record(qualname).runtime().chosen.values()) == expected
        )


# -- 19. truncate_double, and no deprecated torch API ------------------------------------------------------
def test_19_truncate_double_converts_the_op_in_float32(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def cube(x: torch.Tensor) -> torch.Tensor:
        return x * x * x

    packet = ops.custom_packet("nswr19::cube", cube, lambda x: torch.empty_like(x))
    handles.append(custom_op("nswr19::cube"))
    x = torch.randn(3, 5, device=device, dtype=torch.float64)
    compiled = models.compile_fn(lambda t: packet(t) + 1, [x], truncate_double=True)
    assert not models.runs_in_pytorch(compiled, packet)
    assert set(support_registry.implementations("nswr19::cube").values()) == {"JIT"}
    fresh = torch.randn(3, 5, device=device, dtype=torch.float64)
    torch.testing.assert_close(
        compiled(fresh).double(), fresh**3 + 1, rtol=1e-5, atol=1e-5
    )


def test_19_dynamic_compile_uses_no_deprecated_shape_env_api(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def cube(x: torch.Tensor) -> torch.Tensor:
        return x * x * x

    packet = ops.custom_packet("nswr19b::cube", cube, lambda x: torch.empty_like(x))
    handles.append(custom_op("nswr19b::cube"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = models.compile_fn(
            lambda t: packet(t) - 1, [models.dynamic((1, 3), (4, 3), (9, 3))]
        )
    ours = [
        w
        for w in caught
        if "size_hint" in str(w.message) or "plugins" in (w.filename or "")
    ]
    assert ours == [], [f"{w.filename}:{w.lineno}: {w.message}" for w in ours]
    x = torch.randn(7, 3, device=device)
    torch.testing.assert_close(compiled(x), x**3 - 1)


# -- 20. Torch-TensorRT 2.11's name rule for boolean outputs --------------------------------------------
# TRTInterpreter.output (2.11) marks an output BOOL when a "_"-separated word of its tensor name is one
# of these, before it reads the graph's output dtypes.
_BOOL_NAME_WORDS = {
    "eq",
    "gt",
    "lt",
    "or",
    "xor",
    "and",
    "not",
    "ne",
    "isinf",
    "isnan",
    "any",
}


def test_20_op_named_with_comparison_words_keeps_its_float_output(
    trt_backend, ops, handles, device
):
    """On the GPU tier (Torch-TensorRT 2.11) an op in a namespace containing ``_and_`` returned from
    the engine came back as a bool tensor of all True; plugin output names stay clear of that rule.
    """
    from support import engines
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def mask_or_scale(x: torch.Tensor) -> torch.Tensor:
        return torch.where(x > 0, x * 2, x)

    qualname = "nswr20_and_not::mask_or_scale_any"
    packet = ops.custom_packet(qualname, mask_or_scale, lambda x: torch.empty_like(x))
    handles.append(custom_op(qualname))
    compiled = models.compile_fn(
        lambda t: (packet(t), packet(t * 2) + 1), [torch.randn(4, 37, device=device)]
    )
    assert not models.runs_in_pytorch(compiled, packet)
    names = [
        ir.tensors[i][0]
        for e in engines.engines(compiled)
        for ir in [engines.ir(e)]
        for layer in ir.layers
        if layer.kind == "PLUGIN_V3"
        for i in layer.outputs
    ]
    assert len(names) == 2
    assert all(not (set(n.split("_")) & _BOOL_NAME_WORDS) for n in names), names
    x = torch.randn(9, 37, device=device)[:4]
    got, expected = compiled(x), (mask_or_scale(x), mask_or_scale(x * 2) + 1)
    for g, e in zip(got, expected):
        assert g.dtype == torch.float32
        torch.testing.assert_close(g, e)
