"""Automatic AOT plugins: PTX in TensorRT's parameter order, launch parameters, driver launches."""

import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from support import catalogue, engines
from support import registry as support_registry
from support.aot import (
    assemble,
    bind_case_call,
    case_float_bits,
    entry_params,
    scale_mul_capture,
)

AOT_CASES = [c for c in catalogue.CASES if c.triton]


def _build_aot(case, shapes_spec):
    """Build the case's AOT plugin on the stand-in's plugin host for (min, opt, max) shapes."""
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.plugins import _aot, _attributes, _binding
    from trt_standin.host import InputSpec, PluginHost

    record = support_registry.record(case.op)
    example = catalogue.inputs_for(case, [s[1] for s in shapes_spec], "cpu")
    call = bind_case_call(case, record.spec, example)
    absent = _binding.absent_names(record.spec, call)
    variant = record.variant(absent)
    aot = _aot.aot_variant(record, variant)
    itensors = [
        trt.ITensor._make(
            None,
            f"in{i}",
            _to_trt(t.dtype),
            tuple(-1 if lo != hi else lo for lo, hi in zip(s[0], s[2])),
        )
        for i, (t, s) in enumerate(zip(example, shapes_spec))
    ]
    specs = [
        InputSpec.dynamic(_to_trt(t.dtype), *s) for t, s in zip(example, shapes_spec)
    ]
    attrs = _attributes.encode_all(
        variant.attributes,
        dict(zip([a.name for a in variant.attributes], call.attributes)),
    )
    factory = getattr(getattr(trtp.op, aot.spec.namespace), aot.plugin_name)(
        *itensors, **attrs
    )
    return PluginHost().build(factory, specs, aot=True), variant


def _to_trt(dtype):
    from torch_tensorrt.dynamo.conversion.plugins import _dtypes

    return _dtypes.to_trt(dtype)


@pytest.mark.parametrize("case", AOT_CASES, ids=[c.name for c in AOT_CASES])
def test_ptx_is_in_tensorrt_order(catalogue_plugins, gpu_target, case):
    shapes = [(lo, mid, hi) for lo, mid, hi in case.dynamic]
    built, variant = _build_aot(case, shapes)
    kernel = built.aot
    params = entry_params(kernel.ptx, kernel.name)
    n_in, n_out, n_extra = (
        len(variant.inputs),
        case.op and variant.spec.num_outputs,
        len(kernel.extra_args),
    )
    # inputs, extras (float attributes as fp32, then the element count), outputs; nothing after
    # (Triton's scratch pointers are gone)
    n_float = len(case_float_bits(case))
    assert len(params) == n_in + n_extra + n_out
    kinds = [p.split()[1] for p in params]
    assert (
        kinds
        == [".u64"] * n_in
        + [".f32"] * n_float
        + [".u32"] * (n_extra - n_float)
        + [".u64"] * n_out
    )
    ptx = kernel.ptx.decode()
    assert re.search(r"^\.target sm_90a?\b", ptx, re.M)
    assert (
        built.fields == []
    )  # an AOT engine keeps no attributes: no Python needed to recreate it


@pytest.mark.parametrize("case", AOT_CASES, ids=[c.name for c in AOT_CASES])
def test_launch_parameters_follow_the_shapes(catalogue_plugins, gpu_target, case):
    import triton

    built, variant = _build_aot(case, list(case.dynamic))
    kernel = built.aot
    for shapes in case.run_shapes + (case.static,):
        config = kernel.launch_config(shapes)
        numel = 1
        for d in shapes[0]:
            numel *= d
        assert config["grid_x"] == triton.cdiv(
            numel, catalogue.BLOCK
        )  # sizes not multiples of BLOCK too
        assert (config["grid_y"], config["grid_z"]) == (1, 1)
        assert config["extra_args"] == case_float_bits(case) + [numel]
        assert config["block_x"] % 32 == 0 and config["shared_mem"] >= 0


@pytest.mark.parametrize("case", AOT_CASES, ids=[c.name for c in AOT_CASES])
def test_ptx_assembles_with_tritons_ptxas(
    catalogue_plugins, gpu_target, tmp_path, case
):
    built, _ = _build_aot(case, list(case.dynamic))
    result = assemble(built.aot.ptx, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "k.cubin").stat().st_size > 0


def test_ptx_version_is_capped_for_the_driver(catalogue_plugins):
    """PR 4435 review point: PTX must not declare an ISA newer than the target driver loads."""
    from torch_tensorrt.dynamo.conversion.plugins import _triton_aot

    captured = scale_mul_capture()
    old_driver = _triton_aot.compile_launch(
        "t",
        captured,
        [torch.float32] * 2,
        [torch.float32],
        target=90,
        driver_version=12040,
    )
    assert old_driver.ptx_version == 84 and re.search(
        r"^\.version 8\.4$", old_driver.ptx, re.M
    )
    uncapped = _triton_aot.compile_launch(
        "t", captured, [torch.float32] * 2, [torch.float32], target=90
    )
    new_driver = _triton_aot.compile_launch(
        "t",
        captured,
        [torch.float32] * 2,
        [torch.float32],
        target=90,
        driver_version=13000,
    )
    assert (
        new_driver.ptx_version == uncapped.ptx_version
    )  # a driver newer than Triton's ptxas changes nothing
    assert re.search(
        rf"^\.version {uncapped.ptx_version // 10}\.{uncapped.ptx_version % 10}$",
        uncapped.ptx,
        re.M,
    )
    with pytest.raises(
        _triton_aot.AOTUnavailable,
        match="t: CUDA driver 11020 is too old for Triton's PTX",
    ):
        _triton_aot.compile_launch(
            "t",
            captured,
            [torch.float32] * 2,
            [torch.float32],
            target=90,
            driver_version=11020,
        )


def test_float_scalars_are_fp32_extras_and_extra_count_is_checked(
    catalogue_plugins, gpu_target
):
    """Floats reach the kernel as fp32 parameters fed by their bits (issue 9), not as constants; the
    number of extras matches the kernel (PR 4435 review point)."""
    case = catalogue.CASE_BY_NAME["clamp_kw"]  # lo=-0.25, hi=0.5
    built, variant = _build_aot(case, list(case.dynamic))
    kernel = built.aot
    assert kernel.launch_config([(5, 3)])["extra_args"] == [
        -1098907648,  # 0xBE800000: -0.25
        1056964608,  # 0x3F000000: 0.5
        15,
    ]
    assert len(entry_params(kernel.ptx, kernel.name)) == len(variant.inputs) + 3 + 1


def test_host_refuses_a_launch_whose_parameters_do_not_match(
    catalogue_plugins, gpu_target
):
    """The stand-in checks what TensorRT would not: a kernel with a different parameter count."""
    from trt_standin.host import AOTKernel, PluginHostError, aot_launch

    case = catalogue.CASE_BY_NAME["scale_mul"]
    built, _ = _build_aot(case, list(case.dynamic))
    k = built.aot
    broken = AOTKernel(k.name, k.ptx, k.launch, k.extra_args + k.extra_args)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    x = torch.randn(4, 19, device=device)
    # scale_mul's kernel takes X, Y, b (fp32 extra), n (extra), Z: 5; doubling the extras makes
    # the launch pass 2 + 4 + 1 = 7
    expected = (
        "declares 5 parameters, but TensorRT passes 7"
        if device == "cuda"
        else "execute PTX on a GPU"
    )
    with pytest.raises(PluginHostError, match=expected):
        aot_launch(broken, [x, x], [torch.empty_like(x)], 0)


@pytest.mark.gpu
@pytest.mark.parametrize("case", AOT_CASES, ids=[c.name for c in AOT_CASES])
def test_aot_kernels_run_through_the_driver(catalogue_plugins, case):
    built, variant = _build_aot(case, list(case.dynamic))
    runtime = built.runtime()
    model = catalogue.model_for(case)
    stream = torch.cuda.Stream()
    for shapes in case.run_shapes + (case.static,):
        inputs = catalogue.inputs_for(case, shapes, "cuda")
        expected = model(*inputs)
        expected = expected if isinstance(expected, tuple) else (expected,)
        outputs = [
            (
                torch.full_like(e, float("nan"))
                if e.is_floating_point()
                else torch.empty_like(e)
            )
            for e in expected
        ]
        # The inputs and the NaN-filled outputs were made on the default stream: order them
        # before the launch on the side stream (else the fill may land after the kernel).
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            runtime.enqueue(inputs, outputs, stream=stream.cuda_stream)
        stream.synchronize()
        for o, e in zip(outputs, expected):
            torch.testing.assert_close(o, e, atol=case.atol, rtol=case.rtol)


@pytest.mark.gpu
def test_call_sites_with_different_floats_share_one_aot_kernel(
    catalogue_plugins, monkeypatch, tmp_path, triton_compiles
):
    """Issue 9: 128 call sites of one op with 128 float values compile one AOT kernel (the float
    reaches it as an extra), and every site still computes with its own value."""
    import torch_tensorrt

    monkeypatch.setenv("TORCH_TRT_PLUGINS_CACHE", str(tmp_path))
    calls = triton_compiles
    values = [(i - 63) / 16 for i in range(127)] + [-0.0]

    class Sites(torch.nn.Module):
        def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return torch.stack([torch.ops.cat.scale_mul(x, y, b=b) for b in values])

    model = Sites().eval()
    x, y = torch.randn(37, 19, device="cuda"), torch.randn(37, 19, device="cuda")
    compiled = torch_tensorrt.compile(model, inputs=[x, y], min_block_size=1)
    assert len(calls) == 1, f"{len(calls)} Triton compiles for one kernel"
    assert support_registry.aot_reasons("cat::scale_mul") == {}
    assert [b.kind for b in engines.built_plugins(compiled)] == ["aot"] * len(values)
    for _ in range(3):
        x, y = torch.randn(37, 19, device="cuda"), torch.randn(37, 19, device="cuda")
        expected = torch.stack([x * y * 2 + b for b in values])
        torch.testing.assert_close(compiled(x, y), expected)


@pytest.mark.gpu
def test_seed_compiles_to_an_aot_engine_that_runs_without_python(tmp_path):
    import torch_tensorrt
    from support import seed

    seed.define("cuda")
    handle = torch_tensorrt.dynamo.conversion.plugins.custom_op(
        "torchtrt_ex::elementwise_scale_mul"
    )
    try:
        model = seed.MyModel().cuda().eval()
        m = torch.randn(64, 64, device="cuda")
        n = torch.randn(64, 64, device="cuda")
        compiled = torch_tensorrt.compile(model, inputs=[m, n], min_block_size=1)
        for _ in range(300):
            torch.testing.assert_close(compiled(m, n), model(m, n))
        assert support_registry.aot_reasons("torchtrt_ex::elementwise_scale_mul") == {}
        raw = engines.engines(compiled)
        assert raw, "no TensorRT engine in the compiled module"
        engine_bytes = engines.engine_bytes(raw[0])
        assert [b.kind for b in engines.built_plugins(compiled)] == ["aot"]
    finally:
        handle.remove()
    # A fresh process that never imports the op, the plugin or this package runs the engine.
    path = tmp_path / "engine.plan"
    path.write_bytes(engine_bytes)
    script = f"""
import torch, tensorrt as trt
engine = trt.Runtime(trt.Logger()).deserialize_cuda_engine(open({str(path)!r}, "rb").read())
ctx = engine.create_execution_context()
x = torch.randn(64, 64, device="cuda"); y = torch.randn(64, 64, device="cuda")
names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
out = torch.empty(64, 64, device="cuda")
for name, t in zip(names, [x, y, out]):
    ctx.set_tensor_address(name, t.data_ptr())
ctx.execute_async_v3(torch.cuda.current_stream().cuda_stream)
torch.cuda.synchronize()
import sys
print("MODULES", sorted(m for m in sys.modules if m.startswith(("torch_tensorrt.", "tensorrt.plugin", "tensorrt_bindings.plugin", "support")) or m == "torch_tensorrt"))
print("MAXERR", float((out - (x * (x + y) * 2 + 0.5)).abs().max()))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert "MAXERR" in result.stdout, result.stdout + result.stderr
    assert float(result.stdout.split("MAXERR")[1]) < 1e-4
    # Neither Torch-TensorRT, nor QDP's Python layer, nor the op's module was imported to run it.
    modules = result.stdout.split("MODULES")[1].split("MAXERR")[0]
    assert modules.strip() == "[]", modules


# -- Triton's trailing scratch parameters (NOTE [PTX in TensorRT's order]) -----------------------
# Triton 3.2 declares only the kernel's own parameters; 3.3 to 3.5 append a global_scratch pointer;
# 3.6 to 3.8 append global_scratch and profile_scratch. The release matrix
# (test_triton_releases.py) runs this file's real-kernel tests under each of them.
_SCRATCH_BY_RELEASE = {
    "3.2": [],
    "3.3-3.5": ["global_scratch"],
    "3.6-3.8": ["global_scratch", "profile_scratch"],
}


def _triton_like_ptx(own: int, scratch: int, read_scratch: bool = False) -> str:
    """PTX laid out as Triton emits it: ``own`` kernel parameters, then ``scratch`` trailing pointers."""
    params = [
        f".param .u64 .ptr .global .align 1 k_param_{i}" for i in range(own + scratch)
    ]
    loads = [
        f"\tld.param.b64 \t%rd{i}, [k_param_{i}];"
        for i in range(own + (scratch if read_scratch else 0))
    ]
    return "\n".join(
        [
            ".version 8.4",
            ".target sm_90a",
            ".address_size 64",
            "",
            ".visible .entry k(",
            "\t" + ",\n\t".join(params),
            ")",
            ".reqntid 128",
            "{",
            *loads,
            "\tret;",
            "}",
            "",
        ]
    )


@pytest.mark.parametrize("release", list(_SCRATCH_BY_RELEASE))
def test_trailing_scratch_parameters_are_removed_for_every_triton_release(release):
    from torch_tensorrt.dynamo.conversion.plugins import _triton_aot

    scratch = len(_SCRATCH_BY_RELEASE[release])
    ptx = _triton_like_ptx(own=4, scratch=scratch)
    # kernel order (x, n, y, out) -> TensorRT order (x, y, n, out)
    out = _triton_aot.reorder_entry_params(
        ptx, "k", ["x", "n", "y", "out"], ["x", "y", "n", "out"]
    )
    params = [p.split()[-1] for p in _triton_aot.entry_parameters(out, "k")]
    assert params == ["k_param_0", "k_param_2", "k_param_1", "k_param_3"]
    assert out.split(")", 1)[1] == ptx.split(")", 1)[1]  # the body is untouched


def test_a_kernel_that_reads_a_scratch_parameter_is_refused():
    from torch_tensorrt.dynamo.conversion.plugins import _triton_aot

    ptx = _triton_like_ptx(own=3, scratch=2, read_scratch=True)
    with pytest.raises(
        _triton_aot.AOTUnavailable,
        match=r"kernel k: the kernel reads Triton's scratch parameter k_param_3",
    ):
        _triton_aot.reorder_entry_params(ptx, "k", ["x", "y", "out"], ["x", "y", "out"])


def test_a_ptx_with_fewer_parameters_than_arguments_is_refused():
    from torch_tensorrt.dynamo.conversion.plugins import _triton_aot

    with pytest.raises(
        _triton_aot.AOTUnavailable,
        match="declares 2 parameters, fewer than its 3 arguments",
    ):
        _triton_aot.reorder_entry_params(
            _triton_like_ptx(own=2, scratch=0),
            "k",
            ["x", "y", "out"],
            ["x", "y", "out"],
        )


@pytest.mark.parametrize("field", ["global_scratch_size", "profile_scratch_size"])
def test_a_kernel_that_needs_scratch_memory_is_refused(
    catalogue_plugins, monkeypatch, tmp_path, field
):
    """TensorRT gives an AOT kernel no scratch buffer: such a kernel stays JIT, with the reason."""
    import triton
    from torch_tensorrt.dynamo.conversion.plugins import _triton_aot

    monkeypatch.setenv(
        "TORCH_TRT_PLUGINS_CACHE", str(tmp_path)
    )  # compile, do not reuse a cached kernel
    real_compile = triton.compile

    def compile_needing_scratch(*args, **kwargs):
        compiled = real_compile(*args, **kwargs)
        metadata = (
            compiled.metadata._asdict()
            if hasattr(compiled.metadata, "_asdict")
            else dict(vars(compiled.metadata))
        )
        metadata[field] = 512
        return SimpleNamespace(asm=compiled.asm, metadata=SimpleNamespace(**metadata))

    monkeypatch.setattr(triton, "compile", compile_needing_scratch)
    captured = scale_mul_capture()
    with pytest.raises(
        _triton_aot.AOTUnavailable,
        match=r"cat::scale_mul: kernel \w+ needs .*512 .*which TensorRT cannot provide",
    ):
        _triton_aot.compile_launch(
            "cat::scale_mul", captured, [torch.float32] * 2, [torch.float32], target=90
        )
