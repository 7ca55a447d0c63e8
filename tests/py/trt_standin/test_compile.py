"""The upstream compile pipeline on the stand-in: x + y followed by a custom op with a hand-written
plugin and converter, static and dynamic shapes, save and load."""

# No "from __future__ import annotations": QDP inspects real annotation objects.

import subprocess
import sys
import textwrap

import pytest
import torch
from support.handwritten import define_scale_add_jit


@pytest.fixture
def scale_add(fresh_qdp_namespace, device):
    registered = define_scale_add_jit(fresh_qdp_namespace, device)
    yield registered
    registered.undo()


def _skip_without_python_save():
    import torch_tensorrt

    if tuple(int(p) for p in torch_tensorrt.__version__.split(".")[:2]) < (2, 13):
        pytest.skip(
            f"python-only Torch-TensorRT {torch_tensorrt.__version__} cannot save an exported program "
            "(it needs the C++ runtime's torch.ops.tensorrt.execute_engine)"
        )


def _model(op):
    class AddThenScaleAdd(torch.nn.Module):
        def forward(self, x, y):
            return op(x + y, y, 3.0)

    return AddThenScaleAdd().eval()


def _engine_layers(compiled):
    """Kinds of the layers of every TensorRT engine in a compiled module (stand-in only)."""
    kinds = []
    for _, sub in compiled.named_modules():
        engine = getattr(sub, "engine", None)
        cuda_engine = getattr(engine, "cuda_engine", None) or getattr(
            sub, "engine", None
        )
        ir = getattr(cuda_engine, "_ir", None)
        if ir is not None:
            kinds.extend(layer.kind for layer in ir.layers)
    return kinds


def test_static_shapes_match_eager(scale_add, device, trt_backend):
    import torch_tensorrt

    model = _model(scale_add.op)
    x, y = torch.randn(4, 8, device=device), torch.randn(4, 8, device=device)
    compiled = torch_tensorrt.compile(
        model, ir="dynamo", inputs=[x, y], min_block_size=1
    )
    torch.testing.assert_close(compiled(x, y), model(x, y))
    if trt_backend == "standin":
        # One engine holding both the add and the plugin: no graph break.
        assert _engine_layers(compiled) == ["ELEMENTWISE", "PLUGIN_V3"]


def test_dynamic_shapes_match_eager(scale_add, device):
    import torch_tensorrt

    model = _model(scale_add.op)
    inputs = [
        torch_tensorrt.Input(
            min_shape=(1, 8), opt_shape=(4, 8), max_shape=(32, 8), dtype=torch.float32
        )
        for _ in range(2)
    ]
    compiled = torch_tensorrt.compile(
        model, ir="dynamo", inputs=inputs, min_block_size=1
    )
    for rows in (1, 5, 32):
        x, y = torch.randn(rows, 8, device=device), torch.randn(rows, 8, device=device)
        torch.testing.assert_close(compiled(x, y), model(x, y))


def test_save_and_load(scale_add, device, tmp_path):
    import torch_tensorrt

    _skip_without_python_save()
    model = _model(scale_add.op)
    inputs = [
        torch_tensorrt.Input(
            min_shape=(1, 8), opt_shape=(4, 8), max_shape=(16, 8), dtype=torch.float32
        )
        for _ in range(2)
    ]
    compiled = torch_tensorrt.compile(
        model, ir="dynamo", inputs=inputs, min_block_size=1
    )
    path = str(tmp_path / "scale_add.ep")
    torch_tensorrt.save(compiled, path, arg_inputs=inputs, retrace=False)
    loaded = torch_tensorrt.load(path).module()
    x, y = torch.randn(7, 8, device=device), torch.randn(7, 8, device=device)
    torch.testing.assert_close(loaded(x, y), model(x, y))


@pytest.mark.standin
def test_engine_with_a_jit_plugin_needs_its_python_code(scale_add, device, tmp_path):
    """Loading in a fresh process that never registered the plugin fails, as with real TensorRT."""
    import torch_tensorrt

    _skip_without_python_save()
    model = _model(scale_add.op)
    x, y = torch.randn(2, 8, device=device), torch.randn(2, 8, device=device)
    compiled = torch_tensorrt.compile(
        model, ir="dynamo", inputs=[x, y], min_block_size=1
    )
    path = tmp_path / "engine.ep"
    torch_tensorrt.save(compiled, str(path), arg_inputs=[x, y], retrace=False)
    script = textwrap.dedent(f"""
        import os, torch
        os.environ.setdefault("TRITON_INTERPRET", "1")
        if not torch.cuda.is_available():
            from trt_standin import cpu_torch; cpu_torch.apply()
        import torch_tensorrt
        # The torch op exists (so the graph loads), the QDP plugin does not.
        @torch.library.custom_op("{scale_add.namespace}::scale_add", mutates_args=())
        def f(x: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
            return x * alpha + y
        @torch.library.register_fake("{scale_add.namespace}::scale_add")
        def _(x, y, alpha):
            return torch.empty_like(x)
        try:
            m = torch_tensorrt.load({str(path)!r}).module()
            m(torch.randn(2, 8), torch.randn(2, 8))
        except Exception as e:
            print("LOAD FAILED:", type(e).__name__, e)
        else:
            print("LOADED")
        """)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert "LOAD FAILED" in result.stdout, result.stdout + result.stderr
    assert "no plugin creator is registered" in result.stdout + result.stderr


class _Constants(torch.nn.Module):
    """Scalars and a weight the converters turn into CONSTANT layers, met by the network's data."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("w", torch.linspace(-1.0, 1.0, 8))

    def forward(self, x):
        return (x * 2 + 1) * self.w - 0.5


def test_constants_meet_device_data(device, trt_backend):
    """Engine constants live with the data (device memory on a GPU): x * 2 must not mix devices."""
    import torch_tensorrt

    model = _Constants().to(device).eval()
    x = torch.randn(5, 8, device=device)
    compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[x], min_block_size=1)
    if trt_backend == "standin":
        assert "CONSTANT" in _engine_layers(compiled)
    x = torch.randn(5, 8, device=device)
    torch.testing.assert_close(compiled(x), model(x))


class _TimesTwoPlusOne(torch.nn.Module):
    def forward(self, x):
        return x * 2 + 1


def test_input_shape_outside_the_profile_raises(trt_backend, device, caplog):
    """TensorRT refuses a shape outside the engine's profile (set_input_shape returns False, the
    output shape reads -1, enqueue fails); Torch-TensorRT then raises instead of returning data.
    """
    import torch_tensorrt

    spec = torch_tensorrt.Input(
        min_shape=(2, 8), opt_shape=(4, 8), max_shape=(8, 8), dtype=torch.float32
    )
    compiled = torch_tensorrt.compile(
        _TimesTwoPlusOne().eval(), ir="dynamo", inputs=[spec], min_block_size=1
    )
    x = torch.randn(5, 8, device=device)
    torch.testing.assert_close(compiled(x), x * 2 + 1)
    with pytest.raises(Exception):
        compiled(torch.randn(9, 8, device=device))
    if trt_backend == "standin":
        assert any(
            "outside the optimization profile" in r.getMessage() for r in caplog.records
        )
    torch.testing.assert_close(
        compiled(x), x * 2 + 1
    )  # the context still works afterwards


@pytest.mark.standin
def test_engine_cache_reuse_refits_a_weight_stripped_engine(device, tmp_path):
    """Torch-TensorRT's engine cache on the stand-in: the cached engine is stored without weights
    and refitted from the new graph, so a model that differs only in constants gets its own.
    """
    import torch_tensorrt
    from support.engines import skip_without_slow_refit

    skip_without_slow_refit()

    class Scaled(torch.nn.Module):
        def __init__(self, k):
            super().__init__()
            self.k = k

        def forward(self, x):
            return x * self.k + 1

    settings = dict(
        min_block_size=1,
        immutable_weights=False,
        cache_built_engines=True,
        reuse_cached_engines=True,
        engine_cache_dir=str(tmp_path),
    )
    x = torch.randn(3, 4, device=device)
    for k in (2.0, 2.0, 7.0):
        compiled = torch_tensorrt.compile(
            Scaled(k).eval(), ir="dynamo", inputs=[x], **settings
        )
        torch.testing.assert_close(compiled(x), x * k + 1)
