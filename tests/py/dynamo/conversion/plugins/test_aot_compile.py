"""AOT compilation details: why a call site stays JIT, the on-disk kernel cache, hints, the seed's PTX.

Ops defined here live under their own namespaces (``aotc_<n>``) and are removed after each test.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import importlib.util
import json
import logging
import sys
import textwrap
from typing import Any, List

import pytest
import torch
import triton
import triton.language as tl
from support import catalogue
from support import registry as support_registry
from support.aot import (
    assemble,
    bind_case_call,
    entry_params,
    fp32_bits,
    scale_mul_capture,
)


@triton.jit
def _add_kernel(X, Y, Z, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(
        Z + offs, tl.load(X + offs, mask=mask) + tl.load(Y + offs, mask=mask), mask=mask
    )


def _launch_add(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> None:
    n = x.numel()
    _add_kernel[(triton.cdiv(n, 64),)](x, y, z, n, BLOCK=64)


def _two_launches(x: torch.Tensor) -> torch.Tensor:
    z = torch.empty_like(x)
    _launch_add(x, x, z)
    w = torch.empty_like(x)
    _launch_add(z, x, w)
    return w


def _five_launches(x: torch.Tensor) -> torch.Tensor:
    total = torch.empty_like(x)
    _launch_add(x, x, total)
    for _ in range(4):
        following = torch.empty_like(x)
        _launch_add(total, x, following)
        total = following
    return total


def _torch_op_then_launch(x: torch.Tensor) -> torch.Tensor:
    doubled = x * 2
    z = torch.empty_like(x)
    _launch_add(doubled, x, z)
    return z


def _branch_on_data(x: torch.Tensor) -> torch.Tensor:
    z = torch.empty_like(x)
    if bool((x > 0).any()):
        _launch_add(x, x, z)
    else:
        _launch_add(x, -x, z)
    return z


def _zeroed_scratch_argument(x: torch.Tensor) -> torch.Tensor:
    # A scratch tensor whose initial value matters (zeros): an uninitialised hidden output would
    # lose it, so this stays JIT (NOTE [Scratch tensors]).
    scratch = torch.zeros_like(x)
    z = torch.empty_like(x)
    _launch_add(x, scratch, z)
    return z


# Each op's eager result on finite inputs, to check the JIT fallback still computes the op.
_FALLBACKS = [
    (
        "aotc_1::two",
        _two_launches,
        lambda x: 3 * x,
        # two launches are a chain of AOT layers, but TensorRT passes each buffer once
        "input 0 is passed to the kernel twice",
    ),
    (
        "aotc_5::five",
        _five_launches,
        lambda x: 6 * x,
        "the body launches 5 Triton kernels; a direct launch needs exactly one",
    ),
    (
        "aotc_2::torch_op",
        _torch_op_then_launch,
        lambda x: 3 * x,
        "the body runs torch ops besides allocating outputs: ['aten::mul.Tensor']",
    ),
    (
        "aotc_3::branch",
        _branch_on_data,
        None,
        "running the op's body on FakeTensors failed",
    ),
    (
        "aotc_4::zeroed_scratch",
        _zeroed_scratch_argument,
        lambda x: x,
        "the body runs torch ops besides allocating outputs",
    ),
]


@pytest.mark.parametrize(
    "qualname, body, reference, reason",
    _FALLBACKS,
    ids=[q.split("::")[0] for q, *_ in _FALLBACKS],
)
def test_call_site_stays_jit_with_an_inspectable_reason(
    trt_backend,
    ops,
    handles,
    gpu_target,
    device,
    caplog,
    qualname,
    body,
    reference,
    reason,
):
    """Several launches, torch ops, data-dependent control flow, an unsupported argument: JIT, with why."""
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    def fake(x):
        return torch.empty_like(x)

    packet = ops.custom_packet(qualname, body, fake)
    handles.append(custom_op(qualname))

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(x)

    with caplog.at_level(
        logging.INFO, logger="torch_tensorrt.dynamo.conversion.plugins"
    ):
        compiled = torch_tensorrt.compile(
            Model().eval(),
            ir="dynamo",
            inputs=[torch.randn(37, 3, device=device)],
            min_block_size=1,
        )
    status = plugin_status(qualname)
    assert (
        status.not_converted == {}
    ), status.not_converted  # the node is inside the engine...
    ((node, why),) = (
        status.aot_unavailable.items()
    )  # ...on the JIT plugin, for this reason
    assert why.startswith(f"{qualname}: ") and reason in why, why
    logged = [r.getMessage() for r in caplog.records if "stays JIT" in r.getMessage()]
    assert logged == [f"{qualname}: {node} stays JIT: {why}"], logged
    x = torch.randn(37, 3, device=device)
    if reference is not None:
        torch.testing.assert_close(compiled(x), reference(x))
    elif body is _branch_on_data:
        torch.testing.assert_close(compiled(x), _branch_on_data(x))


def test_unexpected_compile_failure_stays_jit_with_a_warning(
    trt_backend, catalogue_plugins, gpu_target, monkeypatch, tmp_path, device, caplog
):
    """A Triton failure while compiling the PTX must not break conversion: JIT, and a WARNING."""
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import _aot, plugin_status

    monkeypatch.setenv("TORCH_TRT_PLUGINS_CACHE", str(tmp_path))

    def broken_compile(*args, **kwargs):
        raise RuntimeError("ptxas fatal: simulated")

    monkeypatch.setattr(triton, "compile", broken_compile)
    case = catalogue.CASE_BY_NAME["clamp_kw"]
    record = support_registry.record(case.op)
    _aot.state_of(
        record
    ).kernels.clear()  # compile, do not reuse a kernel of an earlier test
    model = catalogue.model_for(case)
    with caplog.at_level(
        logging.WARNING, logger="torch_tensorrt.dynamo.conversion.plugins"
    ):
        compiled = torch_tensorrt.compile(
            model,
            ir="dynamo",
            inputs=catalogue.inputs_for(case, case.static, device),
            min_block_size=1,
        )
    (reason,) = plugin_status(case.op).aot_unavailable.values()
    if device == "cuda":
        assert (
            reason
            == f"{case.op}: AOT compilation failed (RuntimeError: ptxas fatal: simulated)"
        )
    else:  # the kernel is interpreted here: the reason also says where it would compile
        assert reason.startswith(
            f"{case.op}: AOT compilation failed (CompileFailedInInterpreter: "
        ), reason
        assert reason.endswith("Triton said: RuntimeError: ptxas fatal: simulated)")
        assert "a process not in interpreter mode" in reason
    assert any(
        "ptxas fatal: simulated" in r.getMessage() and r.levelno == logging.WARNING
        for r in caplog.records
    )
    (x,) = catalogue.inputs_for(case, case.static, device)
    torch.testing.assert_close(compiled(x), model(x))


# -- the on-disk kernel cache ---------------------------------------------------------------------
def _compile(captured, **kwargs):
    from torch_tensorrt.dynamo.conversion.plugins import _triton_aot

    return _triton_aot.compile_launch(
        "cat::scale_mul",
        captured,
        [torch.float32] * 2,
        [torch.float32],
        target=90,
        **kwargs,
    )


def test_cache_hit_miss_and_damaged_entries(
    catalogue_plugins, monkeypatch, tmp_path, caplog, triton_compiles
):
    monkeypatch.setenv("TORCH_TRT_PLUGINS_CACHE", str(tmp_path))
    captured = scale_mul_capture()
    calls = triton_compiles
    first = _compile(captured)
    (entry,) = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(calls) == 1
    # A hit: the same launch is served from disk, Triton is not asked again.
    assert _compile(captured) == first and len(calls) == 1
    # A damaged file is a miss: recompiled and rewritten.
    entry.write_text("{ not json")
    assert _compile(captured) == first and len(calls) == 2
    assert json.loads(entry.read_text())["ptx"] == first.ptx
    # A cached PTX whose entry takes another number of parameters is never handed to TensorRT.
    data = json.loads(entry.read_text())
    data["ptx"] = data["ptx"].replace(
        f".entry {first.name}(", f".entry {first.name}(\n\t.param .u32 bogus,", 1
    )
    entry.write_text(json.dumps(data))
    with caplog.at_level(logging.WARNING):
        again = _compile(captured)
    assert again == first and len(calls) == 3
    assert any("does not match this launch" in r.getMessage() for r in caplog.records)


def test_one_kernel_serves_every_float_value(
    catalogue_plugins, monkeypatch, tmp_path, triton_compiles
):
    """Issue 9: a float argument is an fp32 parameter fed by an int32 extra, not a PTX constant.

    128 values of ``b`` (plus -0.0, NaNs and a value beyond fp32's range) compile one kernel; each
    launch carries its own value's fp32 bits, so -0.0 and 0.0 still reach the kernel as different
    floats.
    """
    import dataclasses
    import struct

    from torch_tensorrt.dynamo.conversion.plugins import _capture

    monkeypatch.setenv("TORCH_TRT_PLUGINS_CACHE", str(tmp_path))
    calls = triton_compiles
    captured = scale_mul_capture()
    b = captured.arg_names.index("b")

    def with_b(value: float) -> Any:
        args = list(captured.args)
        args[b] = _capture.ArgSource("value", value=value)
        return dataclasses.replace(captured, args=tuple(args))

    nan_a = struct.unpack("<d", bytes.fromhex("000000000000f87f"))[0]
    nan_b = struct.unpack("<d", bytes.fromhex("000000000000f8ff"))[0]  # sign bit set
    values = [i / 7 - 9.0 for i in range(128)] + [0.0, -0.0, nan_a, nan_b, 1e300]
    kernels = [_compile(with_b(v)) for v in values]
    assert len(calls) == 1
    assert len([p for p in tmp_path.rglob("*.json") if p.is_file()]) == 1
    assert len({k.ptx for k in kernels}) == 1
    for value, kernel in zip(values, kernels):
        by_name = {e.name: e for e in kernel.extras}
        assert [e.name for e in kernel.extras] == ["b", "n"]
        assert int(by_name["b"].expr) == fp32_bits(value), value
    assert int(kernels[128].extras[0].expr) != int(kernels[129].extras[0].expr)
    # The kernel declares b as an fp32 parameter in the extras' slot (X, Y, b, n, Z).
    params = entry_params(kernels[0].ptx, kernels[0].name)
    assert [p.split()[1] for p in params] == [".u64", ".u64", ".f32", ".u32", ".u64"]


def test_a_float_the_kernel_takes_as_constexpr_stays_compiled_in(
    catalogue_plugins, monkeypatch, tmp_path
):
    """A ``tl.constexpr`` float is part of the kernel: each value (by its bits) is its own PTX."""
    import dataclasses

    from torch_tensorrt.dynamo.conversion.plugins import _capture

    monkeypatch.setenv("TORCH_TRT_PLUGINS_CACHE", str(tmp_path))
    captured = scale_mul_capture()
    captured = dataclasses.replace(
        captured, constexpr_names=captured.constexpr_names + ("b",)
    )
    b = captured.arg_names.index("b")

    def with_b(value: float) -> Any:
        args = list(captured.args)
        args[b] = _capture.ArgSource("value", value=value)
        return dataclasses.replace(captured, args=tuple(args))

    kernels = [_compile(with_b(v)) for v in (0.0, -0.0, 0.25, 0.0)]
    assert len([p for p in tmp_path.rglob("*.json") if p.is_file()]) == 3
    assert all([e.name for e in k.extras] == ["n"] for k in kernels)
    assert kernels[0].ptx == kernels[3].ptx and kernels[0].ptx != kernels[2].ptx


def test_a_kernel_whose_ptx_takes_other_parameters_is_refused(
    catalogue_plugins, monkeypatch, tmp_path
):
    """PR 4435 review point: the extra-argument count is checked against the kernel's PTX."""
    from torch_tensorrt.dynamo.conversion.plugins import _triton_aot

    monkeypatch.setenv("TORCH_TRT_PLUGINS_CACHE", str(tmp_path))
    real = _triton_aot.reorder_entry_params

    def one_more(ptx, name, kernel_params, order):
        out = real(ptx, name, kernel_params, order)
        return out.replace(
            f".entry {name}(", f".entry {name}(\n\t.param .u32 {name}_extra,", 1
        )

    monkeypatch.setattr(_triton_aot, "reorder_entry_params", one_more)
    with pytest.raises(
        _triton_aot.AOTUnavailable,
        match=r"cat::scale_mul: kernel \w+ declares 6 parameters, but TensorRT passes 5",
    ):
        _compile(scale_mul_capture())
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # nothing cached


_KERNEL_MODULE = """
import triton
import triton.language as tl

OFFSET = tl.constexpr({offset})
SCALE = {scale}


@triton.jit
def helper(x):
    return x * {factor}


@triton.jit
def kernel(X, Z, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(Z + offs, helper(tl.load(X + offs, mask=mask)) * SCALE + OFFSET, mask=mask)
"""


def _fingerprint(tmp_path, name, **values):
    from torch_tensorrt.dynamo.conversion.plugins import _triton_aot

    path = tmp_path / f"{name}.py"
    path.write_text(
        textwrap.dedent(
            _KERNEL_MODULE.format(**{"offset": 1, "scale": 2.0, "factor": 3, **values})
        )
    )
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # triton.jit reads the source through the module
    try:
        spec.loader.exec_module(module)
        return _triton_aot.kernel_fingerprint(_triton_aot._jit_function(module.kernel))
    finally:
        del sys.modules[name]


def test_cache_key_covers_called_kernels_and_module_constants(tmp_path):
    """Editing a helper @triton.jit function or a module constant must not serve a stale PTX."""
    base = _fingerprint(tmp_path, "aotc_k0")
    assert (
        _fingerprint(tmp_path, "aotc_k1") == base
    )  # same text in another module: same key
    assert _fingerprint(tmp_path, "aotc_k2", factor=4) != base  # the helper changed
    assert (
        _fingerprint(tmp_path, "aotc_k3", offset=2) != base
    )  # a tl.constexpr global changed
    assert (
        _fingerprint(tmp_path, "aotc_k4", scale=2.5) != base
    )  # a plain global changed


# -- divisibility hints -----------------------------------------------------------------------------
@pytest.mark.parametrize("cols, hinted", [(16, True), (19, False), (24, False)])
def test_integer_hint_only_when_a_multiple_of_16_for_every_size(
    catalogue_plugins, monkeypatch, tmp_path, cols, hinted
):
    """``n = rows * cols`` gets Triton's divisibility-by-16 hint only when cols makes it one for any rows."""
    from torch_tensorrt.dynamo.conversion.plugins import _triton_aot

    monkeypatch.setenv("TORCH_TRT_PLUGINS_CACHE", str(tmp_path))
    seen = {}
    real = _triton_aot._ast_source

    def recording(jit, signature, constexprs, divisible):
        seen["signature"], seen["divisible"] = dict(signature), list(divisible)
        return real(jit, signature, constexprs, divisible)

    monkeypatch.setattr(_triton_aot, "_ast_source", recording)
    _compile(scale_mul_capture(cols))
    names = list(seen["signature"])  # scale_mul_kernel(X, Y, Z, a, b, n, BLOCK_SIZE)
    hinted_names = {names[i] for i in seen["divisible"]}
    assert {
        "X",
        "Y",
        "Z",
    } <= hinted_names  # TensorRT's buffers: 16-byte aligned pointers
    assert ("n" in hinted_names) is hinted, (cols, hinted_names)
    assert not hinted_names & {"a", "b", "BLOCK_SIZE"}


# -- the seed's own kernel (unmasked, grid from a meta lambda) ---------------------------------------
def test_seed_kernel_compiles_to_tensorrt_order(
    trt_backend, device, tmp_path, monkeypatch
):
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from support import seed
    from torch_tensorrt.dynamo.conversion.plugins import (
        _aot,
        _attributes,
        generate_plugin,
    )
    from trt_standin.host import InputSpec, PluginHost

    monkeypatch.setenv("TORCH_TRT_PLUGINS_CACHE", str(tmp_path))
    if not torch.cuda.is_available():
        monkeypatch.setattr(_aot, "target_capability", lambda device=None: 90)
    seed.define(device)
    qualname = "torchtrt_ex::elementwise_scale_mul"
    handle = generate_plugin(qualname)
    try:
        record = support_registry.record(qualname)
        variant = record.variant()
        aot = _aot.aot_variant(record, variant)
        # Static 64x64, as the seed compiles it: the unmasked kernel is right only for whole blocks.
        itensors = [
            trt.ITensor._make(None, n, trt.float32, (64, 64)) for n in ("x", "y")
        ]
        attrs = _attributes.encode_all(variant.attributes, {"b": 0.5, "a": 2})
        spec = InputSpec.static(trt.float32, (64, 64))
        factory = getattr(trtp.op.torchtrt_ex, aot.plugin_name)(*itensors, **attrs)
        kernel = PluginHost().build(factory, [spec, spec], aot=True).aot
    finally:
        _aot.remove(record)
        handle.remove()
    params = entry_params(kernel.ptx, kernel.name)
    # X, Y, the float b as an fp32 parameter fed by an extra, then Z; no scratch
    assert [p.split()[1] for p in params] == [".u64", ".u64", ".f32", ".u64"]
    assert kernel.name == "elementwise_scale_mul_kernel"
    assert b".target sm_90" in kernel.ptx
    result = assemble(kernel.ptx, tmp_path)
    assert result.returncode == 0, result.stderr
    # grid = numel // BLOCK_SIZE (the seed's lambda), block = 32 * num_warps
    config = kernel.launch_config([(64, 64), (64, 64)])
    assert config["grid_x"] == 64 * 64 // 1024 and (
        config["grid_y"],
        config["grid_z"],
    ) == (1, 1)
    assert config["extra_args"] == [fp32_bits(0.5)] and config["block_x"] % 32 == 0


# -- exact parameter order and the refusals of compile_launch ---------------------------------------
# Triton numbers a kernel's non-constant parameters in declaration order (<kernel>_param_<i>). The
# expected TensorRT order below is written out by hand from each kernel's signature and call.
_EXPECTED_ORDER = {
    # scale_mul_kernel(X, Y, Z, a, b, n): the int a compiled in, the float b an extra;
    # X=0 Y=1 Z=2 b=3 n=4 -> inputs, b, n, output
    "scale_mul": [0, 1, 3, 4, 2],
    # row_broadcast_add_kernel(X, B, Z, n, cols): cols = 7 is static, compiled in; X=0 B=1 Z=2 n=3
    "bcast_add": [0, 1, 3, 2],
    # axpby_kernel(X, Y, Z, alpha, beta, n) called as axpby(alpha, x, beta, y): the float alpha is
    # an extra, the int beta compiled in; X=0 Y=1 Z=2 alpha=3 n=4
    "axpby_bf16": [0, 1, 3, 4, 2],
    # clamp_kernel(X, Z, lo, hi, n): X=0 Z=1 lo=2 hi=3 n=4 -> X, lo, hi, n, Z
    "clamp_kw": [0, 2, 3, 4, 1],
}


@pytest.mark.parametrize("name", sorted(_EXPECTED_ORDER))
def test_ptx_parameters_are_permuted_exactly(
    trt_backend, catalogue_plugins, gpu_target, name
):
    from torch_tensorrt.dynamo.conversion.plugins import _binding
    from torch_tensorrt.dynamo.conversion.plugins._identity import TensorSignature

    case = catalogue.CASE_BY_NAME[name]
    record = support_registry.record(case.op)
    example = catalogue.inputs_for(case, case.static, "cpu")
    call = bind_case_call(case, record.spec, example)
    variant = record.variant(_binding.absent_names(record.spec, call))
    dims = [
        tuple(None if lo != hi else lo for lo, hi in zip(s[0], s[2]))
        for s in case.dynamic
    ]  # the dynamic profile
    key = variant.call_key(
        [TensorSignature(t.dtype, d) for t, d in zip(example, dims)], call.attributes
    )
    program = record.programs.get_or_trace("t", record.spec, record.op, key)
    from torch_tensorrt.dynamo.conversion.plugins import _capture, _triton_aot

    captured = _capture.capture(record.spec, key, program)
    kernel = _triton_aot.compile_launch(
        case.op,
        captured,
        [t.dtype for t in example],
        [o.dtype for o in program.outputs],
        target=90,
    )
    names = [p.split()[-1] for p in entry_params(kernel.ptx, kernel.name)]
    assert names == [f"{kernel.name}_param_{i}" for i in _EXPECTED_ORDER[name]]


def _with_args(captured, **changes):
    import dataclasses

    args = list(captured.args)
    for arg_name, source in changes.items():
        args[captured.arg_names.index(arg_name)] = source
    return dataclasses.replace(captured, args=tuple(args))


def test_compile_launch_refusals(catalogue_plugins, monkeypatch, tmp_path):
    from torch_tensorrt.dynamo.conversion.plugins import _triton_aot
    from torch_tensorrt.dynamo.conversion.plugins._capture import ArgSource

    monkeypatch.setenv("TORCH_TRT_PLUGINS_CACHE", str(tmp_path))
    captured = scale_mul_capture()
    f32 = [torch.float32] * 2
    with pytest.raises(
        _triton_aot.AOTUnavailable,
        match="cat::scale_mul: input 0 is passed to the kernel twice",
    ):
        _triton_aot.compile_launch(
            "cat::scale_mul",
            _with_args(captured, Y=ArgSource("input", 0)),
            f32,
            [torch.float32],
            target=90,
        )
    with pytest.raises(
        _triton_aot.AOTUnavailable,
        match=r"cat::scale_mul: outputs \[1\] are not written by the kernel",
    ):
        _triton_aot.compile_launch(
            "cat::scale_mul", captured, f32, [torch.float32] * 2, target=90
        )
    with pytest.raises(
        _triton_aot.AOTUnavailable,
        match="tensor argument 'X' has dtype torch.complex64, which Triton AOT cannot type",
    ):
        _triton_aot.compile_launch(
            "cat::scale_mul",
            captured,
            [torch.complex64, torch.float32],
            [torch.float32],
            target=90,
        )


def test_a_launch_with_thread_block_clusters_is_refused(
    catalogue_plugins, monkeypatch, tmp_path
):
    """num_ctas > 1 (an autotune config may set it) needs a cluster launch, which TensorRT's AOT
    launch does not make: refused before compiling."""
    import dataclasses

    from torch_tensorrt.dynamo.conversion.plugins import _triton_aot

    monkeypatch.setenv("TORCH_TRT_PLUGINS_CACHE", str(tmp_path))
    captured = scale_mul_capture()
    clustered = dataclasses.replace(
        captured, options=tuple(dict(captured.options, num_ctas=2).items())
    )
    with pytest.raises(_triton_aot.AOTUnavailable, match="num_ctas=2"):
        _compile(clustered)
    single = dataclasses.replace(
        captured, options=tuple(dict(captured.options, num_ctas=1).items())
    )
    assert _compile(single).name == "scale_mul_kernel"


def test_an_input_the_kernel_does_not_take_keeps_its_slot(tmp_path):
    """TensorRT passes every input: one the kernel ignores gets a declared, unused parameter."""
    from torch_tensorrt.dynamo.conversion.plugins import _triton_aot

    # kernel k(X, Z, n) for a plugin with inputs (x, unused) -> TensorRT passes x, unused, n, out
    ptx = _triton_like()
    out = _triton_aot.reorder_entry_params(
        ptx, "k", ["X", "Z", "n"], ["X", None, "n", "Z"]
    )
    params = [p.split()[-1] for p in _triton_aot.entry_parameters(out, "k")]
    assert params == ["k_param_0", "k_unused_input_1", "k_param_2", "k_param_1"]
    result = assemble(out, tmp_path)
    assert result.returncode == 0, result.stderr


def _triton_like() -> str:
    """A minimal sm_90 kernel k(X, Z, n) that reads every parameter, as Triton lays it out."""
    return "\n".join(
        [
            ".version 8.4",
            ".target sm_90a",
            ".address_size 64",
            "",
            ".visible .entry k(",
            "\t.param .u64 .ptr .global .align 1 k_param_0,",
            "\t.param .u64 .ptr .global .align 1 k_param_1,",
            "\t.param .u32 k_param_2",
            ")",
            ".reqntid 128",
            "{",
            "\t.reg .b64 %rd<3>;",
            "\t.reg .b32 %r<2>;",
            "\tld.param.u64 \t%rd1, [k_param_0];",
            "\tld.param.u64 \t%rd2, [k_param_1];",
            "\tld.param.u32 \t%r1, [k_param_2];",
            "\tret;",
            "}",
            "",
        ]
    )


def test_an_extra_that_can_exceed_int32_keeps_the_site_jit(
    trt_backend, catalogue_plugins, gpu_target, device
):
    """Issue 9, item 4: scale_mul passes n = rows * 19 as an extra. TensorRT's extras are int32;
    with up to 2**27 rows n can reach 2**27 * 19 > 2**31 - 1 and would wrap, so the site stays JIT
    (where Triton passes n as int64); with up to 2**26 rows (n < 2**31) the site goes AOT.
    """
    import torch_tensorrt
    from support import models
    from torch_tensorrt.dynamo.conversion.plugins import plugin_status

    model = catalogue.model_for(catalogue.CASE_BY_NAME["scale_mul"])

    def rows_up_to(limit):
        return torch_tensorrt.Input(
            min_shape=(1, 19), opt_shape=(4, 19), max_shape=(limit, 19)
        )

    # Two Input objects: Torch-TensorRT traces one Input given twice with one example tensor, and
    # the exported graph then reads that tensor for both arguments.
    compiled = models.compile_model(model, [rows_up_to(2**27), rows_up_to(2**27)])
    ((node, why),) = plugin_status("cat::scale_mul").aot_unavailable.items()
    assert "kernel argument 'n' can exceed int32" in why, why
    assert "stays JIT, where Triton passes it as int64" in why
    x, y = torch.randn(5, 19, device=device), torch.randn(5, 19, device=device)
    torch.testing.assert_close(compiled(x, y), model(x, y))

    models.compile_model(model, [rows_up_to(2**26), rows_up_to(2**26)])
    assert plugin_status("cat::scale_mul").aot_unavailable == {}


@triton.jit
def _row_copy_kernel(X, Z, cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    mask = offs < cols
    tl.store(
        Z + row * cols + offs, tl.load(X + row * cols + offs, mask=mask), mask=mask
    )


def _row_copy(x: torch.Tensor) -> torch.Tensor:
    z = torch.empty_like(x)
    rows, cols = x.shape
    _row_copy_kernel[(rows,)](x, z, cols, BLOCK=triton.next_power_of_2(cols))
    return z


def test_a_constexpr_computed_from_a_dynamic_size_is_refused_with_the_reason(
    trt_backend, ops, handles
):
    """Issue 9, item 4: BLOCK = next_power_of_2(cols) is a tl.constexpr; with a dynamic cols no
    single AOT kernel fits every shape, and the reason says so (before: Triton's compile error
    "arange's arguments must be of type tl.constexpr"). With a static cols it compiles in.
    """
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, explain

    qualname = "aotc_pow2::row_copy"
    ops.custom_packet(qualname, _row_copy, lambda x: torch.empty_like(x))
    handles.append(custom_op(qualname))
    dynamic = explain(qualname, {"x": "float32[1..64, 1..300]"})
    reason = dynamic.aot["unavailable"]
    assert "the kernel's tl.constexpr 'BLOCK' depends on input sizes" in reason, reason
    static = explain(qualname, {"x": "float32[1..64, 300]"})
    assert "unavailable" not in static.aot, static.aot
    assert [
        n for n, _ in static.aot["extras"]
    ] == []  # cols = 300 and BLOCK = 512 compiled in


@triton.jit
def _fp64_scale_kernel(X, Z, alpha: tl.float64, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask) * alpha, mask=mask)


@triton.jit
def _i64_count_kernel(X, Z, n: tl.int64, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask), mask=mask)


def _fp64_scale(x: torch.Tensor, alpha: float = 0.1) -> torch.Tensor:
    z = torch.empty_like(x)
    _fp64_scale_kernel[(triton.cdiv(x.numel(), 64),)](x, z, alpha, x.numel(), BLOCK=64)
    return z


def _i64_count(x: torch.Tensor) -> torch.Tensor:
    z = torch.empty_like(x)
    _i64_count_kernel[(triton.cdiv(x.numel(), 64),)](x, z, x.numel(), BLOCK=64)
    return z


@pytest.mark.parametrize(
    "body, annotation",
    [(_fp64_scale, "fp64"), (_i64_count, "i64")],
    ids=["float64", "int64"],
)
def test_an_annotated_wider_parameter_is_refused(
    trt_backend, ops, handles, body, annotation
):
    """Review finding: Triton compiles `alpha: tl.float64` / `n: tl.int64` with those types; a
    32-bit extra would round alpha or compute n's products in int32, so the site stays JIT.
    """
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, explain

    qualname = f"aotc_annot_{annotation}::op"
    ops.custom_packet(qualname, body, lambda x, *a: torch.empty_like(x))
    handles.append(custom_op(qualname))
    aot = explain(qualname, {"x": "float32[1..64, 19]"}).aot
    from triton.runtime.jit import JITFunction

    kernel = _fp64_scale_kernel if annotation == "fp64" else _i64_count_kernel
    if not isinstance(
        kernel, JITFunction
    ):  # interpreted: Triton's view of the same source
        kernel = JITFunction(kernel.fn)
    typed_by_triton = {p.annotation_type for p in kernel.params} - {""}
    if annotation not in typed_by_triton:
        # Triton 3.2 / 3.3 type only integer annotations; a tl.float64 is passed as fp32 there,
        # by Triton's own launch too, so the 32-bit extra is what Triton would do.
        assert "unavailable" not in aot, aot
        return
    reason = aot["unavailable"]
    assert (
        f"is annotated {annotation}, but TensorRT passes it as a 32-bit extra" in reason
    )
