"""explain: facts about what would be generated, checked against the op itself (never a frozen report)."""

# No "from __future__ import annotations": custom_op infers schemas from real annotations.

import pathlib
import subprocess
import sys

import pytest
import torch
from support import catalogue

ROOT = pathlib.Path(__file__).resolve().parents[5]


def test_parameters_follow_the_schema_in_plugin_order(trt_backend):
    """Tensors first, then attributes, each named after its schema argument."""
    from torch_tensorrt.dynamo.conversion.plugins import explain

    report = explain("cat::clamp_kw", {"x": "float32[1..40, 3]"}, {"lo": -0.5})
    schema = torch.ops.cat.clamp_kw.default._schema
    expected = [a.name for a in schema.arguments if str(a.type) == "Tensor"] + [
        a.name for a in schema.arguments if str(a.type) != "Tensor"
    ]
    assert [p.argument for p in report.parameters] == expected
    assert [p.schema_index for p in report.parameters] == [
        [a.name for a in schema.arguments].index(n) for n in expected
    ]
    assert (
        report.jit_plugin == "cat::clamp_kw"
        and report.aot_plugin == "cat::clamp_kw-aot"
    )


@pytest.mark.parametrize(
    "op, inputs, attrs, call",
    [
        (
            "cat::concat2",
            {"x": "float32[1..30, 5]", "y": "float32[1..30, 5]"},
            {"dim": 0},
            lambda op, x, y: op(x, y, 0),
        ),
        (
            "cat::flatten_from",
            {"x": "float32[2, 1..9, 4]"},
            {"start_dim": 1},
            lambda op, x: op(x, 1),
        ),
        (
            "cat::reduce_sum",
            {"x": "float32[1..12, 7]"},
            {"dim": 1, "keepdim": True},
            lambda op, x: op(x, 1, True),
        ),
    ],
    ids=["concat", "flatten", "reduce"],
)
def test_output_formulas_give_eager_shapes(trt_backend, op, inputs, attrs, call):
    """Each formula, evaluated at sample sizes, is the shape eager PyTorch returns."""
    from torch_tensorrt.dynamo.conversion.plugins import explain

    report = explain(op, inputs, attrs)
    namespace, name = op.split("::")
    packet = getattr(getattr(torch.ops, namespace), name)
    names = list(inputs)
    for sample in (1, 3, 7):
        shapes = []
        sizes = {}
        for arg in names:
            dims = [
                d.strip()
                for d in inputs[arg][inputs[arg].index("[") + 1 : -1].split(",")
            ]
            shape = [sample if ".." in d else int(d) for d in dims]
            sizes.update({f"{arg}.size({j})": s for j, s in enumerate(shape)})
            shapes.append(shape)
        tensors = [torch.randn(*s) for s in shapes]
        expected = call(packet, *tensors)
        assert report.output_shapes(sizes) == [tuple(expected.shape)]
        assert report.outputs[0].dtype == expected.dtype


def test_aot_parameters_are_inputs_extras_outputs(trt_backend):
    """scale_mul_kernel(X, Y, Z, a, b, n): the int a is compiled in, the float b is an fp32
    parameter fed by an extra, so TensorRT passes X, Y, then the extras b and n, then Z; the PTX
    declares Triton's parameters X=0, Y=1, Z=2, b=3, n=4 in that order.
    """
    from torch_tensorrt.dynamo.conversion.plugins import explain

    report = explain(
        "cat::scale_mul",
        {"x": "float32[1..64, 19]", "y": "float32[1..64, 19]"},
        {"b": 0.5},
    )
    assert "unavailable" not in report.aot, report.aot
    names = [p.split()[-1] for p in report.aot["ptx_parameters"]]
    assert names == [f"scale_mul_kernel_param_{i}" for i in (0, 1, 3, 4, 2)]
    (b_extra, b_bits), (extra, formula) = report.aot["extras"]
    assert b_extra == "b" and int(b_bits) == 0x3F000000  # 0.5 in IEEE fp32
    assert report.aot["float_extras"] == {"b": 0.5}
    assert "b = 1056964608 (the fp32 bits of 0.5)" in str(report)
    assert extra == "n"
    for rows in (
        1,
        5,
        64,
    ):  # n is the element count, the grid covers it in blocks of BLOCK
        assert eval(formula, {}, {"x": _Sizes(rows, 19)}) == rows * 19
        assert eval(report.aot["grid"][0], {}, {"x": _Sizes(rows, 19)}) == -(
            -rows * 19 // catalogue.BLOCK
        )


class _Sizes:
    def __init__(self, *dims: int) -> None:
        self.dims = dims

    def size(self, i: int) -> int:
        return self.dims[i]


def test_guards_are_checked_over_the_given_ranges(trt_backend, ops):
    from torch_tensorrt.dynamo.conversion.plugins import explain

    def first_four(x: torch.Tensor) -> torch.Tensor:
        return x[:4].clone()

    def fake(x):
        torch._check(x.shape[0] >= 4)
        return x.new_empty((4, x.shape[1]))

    ops.custom("explain_g::first_four", first_four, fake)
    wide = explain("explain_g::first_four", {"x": "float32[1..16, 3]"})
    narrow = explain("explain_g::first_four", {"x": "float32[4..16, 3]"})
    assert [ok for _, ok in wide.guards] == [False] and "x.size(0)" in wide.guards[0][0]
    assert [ok for _, ok in narrow.guards] == [True]
    assert "NOT proven" in str(wide) and "NOT proven" not in str(narrow)


def _cli(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT / "tests"), "PATH": "/usr/bin:/bin", **extra_env}
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "run_example.py"),
            "-m",
            "torch_tensorrt.dynamo.conversion.plugins",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=str(ROOT),
    )


def test_command_line(trt_backend):
    ok = _cli(
        "explain",
        "cat::scale_mul",
        "--import",
        "support.catalogue",
        "--input",
        "x=float32[1..64,19]",
        "--input",
        "y=float32[1..64,19]",
        "--attr",
        "b=0.5",
    )
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert (
        "JIT plugin: cat::scale_mul" in ok.stdout
        and "AOT kernel scale_mul_kernel (sm_90)" in ok.stdout
    )
    missing_module = _cli(
        "explain", "cat::scale_mul", "--import", "no_such_module_here"
    )
    assert missing_module.returncode == 2
    assert "explain: cannot import 'no_such_module_here'" in missing_module.stderr
    assert "Pass the module that defines the op with --import" in missing_module.stderr
    missing_op = _cli("explain", "cat::no_such_op", "--import", "support.catalogue")
    assert missing_op.returncode == 2
    assert (
        "explain(cat::no_such_op): no such op is registered with torch"
        in missing_op.stderr
    )


@pytest.mark.skipif(
    torch.cuda.is_available(),
    reason="kernels are interpreted only on the CPU tier (defined with TRITON_INTERPRET=1)",
)
def test_aot_compile_failure_in_the_interpreter_says_what_to_do(
    trt_backend, tmp_path, monkeypatch
):
    """Under the Triton interpreter, Triton's code generator rejects some valid kernels (seen with
    Triton 3.6 on the tutorial's window_mean, depending on how the source is laid out): the reason
    then says so and what to do.
    """
    import support.windowed  # noqa: F401  (defines win::window_mean)
    import triton
    from torch_tensorrt.dynamo.conversion.plugins import explain

    # Fresh PTX caches: a kernel compiled earlier elsewhere would hide the compile here.
    monkeypatch.setenv("TORCH_TRT_PLUGINS_CACHE", str(tmp_path / "in_process"))
    monkeypatch.setenv("TRITON_INTERPRET", "1")

    def rejecting_compile(*args, **kwargs):
        raise AttributeError(
            "'triton._C.libtriton.ir.value' object has no attribute 'dtype'"
        )

    monkeypatch.setattr(triton, "compile", rejecting_compile)
    report = explain("win::window_mean", {"x": "float32[1..100, 45]"}, {"window": 3})
    reason = report.aot["unavailable"]
    assert "in a process that runs its interpreter" in reason, reason
    assert (
        "`explain` from the command line" in reason
        and "has no attribute 'dtype'" in reason
    )


def test_command_line_compiles_outside_the_interpreter(trt_backend, tmp_path):
    """The command line runs explain without the interpreter and compiles the tutorial's kernel
    with the PTX parameters in TensorRT's order (X, extra n_rows, Z)."""
    cli = _cli(
        "explain",
        "win::window_mean",
        "--import",
        "support.windowed",
        "--input",
        "x=float32[1..100,45]",
        "--attr",
        "window=3",
        TORCH_TRT_PLUGINS_CACHE=str(tmp_path / "command_line"),
    )
    assert cli.returncode == 0, cli.stderr[-3000:]
    announced = (
        "GPU, compiled Triton"
        if torch.cuda.is_available()
        else "Triton compiles kernels but runs none"
    )
    assert announced in cli.stdout, cli.stdout
    assert "AOT kernel window_mean_kernel (sm_90)" in cli.stdout, cli.stdout
    params = [line.split()[-1] for line in cli.stdout.splitlines() if ".param" in line]
    assert params == [f"window_mean_kernel_param_{i}" for i in (0, 2, 1)], params
    assert "int32 extras: n_rows = x.size(0)" in cli.stdout
