"""triton.autotune kernels: every config is one TensorRT tactic of the AOT plugin (issue 9, item 1).

``scale`` launches a kernel autotuned over four configs (block size and warps). The capture records
one launch per config (NOTE [Autotuned kernels]); the AOT plugin advertises tactics 1..4 and its
``aot_impl`` compiles the config of the tactic it is given; the stand-in's plugin host times the
tactics on the GPU (assumption ``aot-tactic-timing``) and keeps the fastest. The JIT plugin runs the
op, where Triton's own autotuner picks. Before, such a site stayed JIT ("launches its kernel
through a triton.runtime.autotuner.Autotuner").
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import pytest
import torch
import triton
import triton.language as tl
from support import autotuned, child, engines, models
from support import registry as support_registry
from support.aot import assemble, entry_params

CONFIGS = autotuned.CONFIGS  # (BLOCK, num_warps): tactic i + 1 is CONFIGS[i]


@triton.autotune(
    configs=[triton.Config({"BLOCK": b}, num_warps=w) for b, w in CONFIGS],
    key=["n"],
    reset_to_zero=["Z"],
)
@triton.jit
def _accumulate_kernel(X, Z, alpha, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(
        Z + offs,
        tl.load(Z + offs, mask=mask) + tl.load(X + offs, mask=mask) * alpha,
        mask=mask,
    )


def _accumulate(x: torch.Tensor, alpha: float = 1.5) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    _accumulate_kernel[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, z, alpha, n)
    return z


COLS = 19


@pytest.fixture
def scale_op(trt_backend, handles):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    handles.append(custom_op(autotuned.QUALNAME))
    return autotuned.QUALNAME, torch.ops.autotuned.scale


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    """``tests/support/autotuned_facts.py`` run once in a child process (support.child): capture,
    one kernel per config, the plugin host's build of the AOT plugin, and ``explain``.
    """
    out = tmp_path_factory.mktemp("autotuned")
    return child.run_json(
        "autotuned_facts.py",
        "FACTS",
        [str(out)],
        env={"TORCH_TRT_PLUGINS_CACHE": str(out / "cache")},
    )


def test_aot_plugin_offers_every_config_as_a_tactic(facts, tmp_path):
    from pathlib import Path

    from support import autotuned

    assert facts["alternatives"] == len(autotuned.CONFIGS)
    assert facts["plugin_name"] == "scale-aot-tactics-4"
    assert facts["valid_tactics"] == [1, 2, 3, 4]
    # Each tactic's kernel: its config's warps, PTX with X, alpha, n, Z that assembles.
    for kernel, (_, warps) in zip(facts["kernels"], autotuned.CONFIGS):
        assert kernel["num_warps"] == warps
        ptx = Path(kernel["ptx"]).read_text()
        assert len(entry_params(ptx, kernel["name"])) == 4
        result = assemble(ptx, tmp_path)
        assert result.returncode == 0, result.stderr
    # Without a GPU no tactic is timed and the first is kept (assumption aot-tactic-timing); its
    # launch uses its own block size and warps.
    assert facts["kind"] == "aot" and facts["tactic"] in facts["valid_tactics"]
    block, warps = autotuned.CONFIGS[facts["tactic"] - 1]
    assert facts["launch_7_rows"]["grid_x"] == -(-7 * COLS // block)
    assert facts["launch_7_rows"]["block_x"] == 32 * warps


def test_autotuner_with_reset_to_zero_stays_jit_with_the_reason(
    trt_backend, ops, handles, fresh_qdp_namespace
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, explain

    qualname = f"{fresh_qdp_namespace}::accumulate"
    ops.custom_packet(qualname, _accumulate, lambda x, alpha=1.5: torch.empty_like(x))
    handles.append(custom_op(qualname))
    report = explain(qualname, {"x": f"float32[1..64, {COLS}]"})
    reason = report.aot["unavailable"]
    assert (
        "reset_to_zero=['Z']" in reason and "TensorRT tactics cannot honour" in reason
    )


def _compile_scale_model(packet):
    """``packet(x, alpha=0.25) - 1`` compiled for 1..300 rows (opt 40)."""
    import torch_tensorrt

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(x, alpha=0.25) - 1

    return models.compile_model(
        Model().eval(),
        [
            torch_tensorrt.Input(
                min_shape=(1, COLS), opt_shape=(40, COLS), max_shape=(300, COLS)
            )
        ],
    )


def test_jit_launches_the_config_tritons_autotuner_picks(scale_op, device, monkeypatch):
    """JIT (AOT off): the first enqueue of a shape goes through Triton's autotuner, which picks (and
    tunes, in its own cache, if the shape is new to it); every later enqueue launches the picked
    config directly, without the autotuner and without running the op. Before, the JIT plugin ran
    the op on every call ("copy": the body's torch.empty plus a copy into TensorRT's buffer).
    """
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    qualname, packet = scale_op
    handle = custom_op(qualname, use_aot_if_available=False)
    tuner = autotuned.scale_kernel
    calls = []
    tuner_run = tuner.run

    def counting_run(*args, **kwargs):
        calls.append(kwargs.get("n"))
        return tuner_run(*args, **kwargs)

    monkeypatch.setattr(tuner, "run", counting_run)

    try:
        compiled = _compile_scale_model(packet)
        (built,) = engines.built_plugins(compiled)
        assert built.kind == "jit" and built.name == "scale"
        for rows in (1, 77, 77, 77, 300, 77, 300):
            x = torch.randn(rows, COLS, device=device)
            torch.testing.assert_close(compiled(x), x * 0.25 - 1)
        # Through the autotuner once per shape (n = rows * COLS; the first is the plugin host's
        # enqueue at the opt shape while building), then directly.
        assert calls == [40 * COLS, COLS, 77 * COLS, 300 * COLS], calls
        status = plugin_status(qualname)
        assert set(status.jit_strategies.values()) == {"launch"}, status.jit_strategies
        record = support_registry.record(qualname)
        runtime = record.runtime()
        picked = {entry.run.stats.get("config") for entry in runtime._entries.values()}
        assert picked <= set(range(len(CONFIGS))) and None not in picked
    finally:
        handle.remove()


def test_a_changed_config_list_is_captured_again(scale_op, device, monkeypatch):
    """The autotuner's config list replaced after the capture (a library narrowing it at run
    time): the captured launches and their grids are stale, and the JIT plugin captures again.
    Before, a new config's block size was launched with an old config's grid (half the
    elements left unwritten), found by an adversarial review."""
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    qualname, packet = scale_op
    handle = custom_op(qualname, use_aot_if_available=False)

    try:
        compiled = _compile_scale_model(packet)
        x = torch.randn(77, COLS, device=device)
        torch.testing.assert_close(compiled(x), x * 0.25 - 1)
        monkeypatch.setattr(
            autotuned.scale_kernel,
            "configs",
            [triton.Config({"BLOCK": 32}, num_warps=1)],
        )
        for rows in (77, 100, 100, 200):
            x = torch.randn(rows, COLS, device=device)
            torch.testing.assert_close(compiled(x), x * 0.25 - 1)
    finally:
        handle.remove()


@pytest.mark.gpu
def test_tactic_timing_picks_a_config_as_fast_as_tritons_pick(scale_op):
    import torch_tensorrt
    from triton.testing import do_bench

    qualname, packet = scale_op
    rows = 1 << 17  # 2.5M elements: long enough for the configs to differ

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(x, alpha=0.5)

    model = Model().eval()
    compiled = models.compile_model(
        model,
        [
            torch_tensorrt.Input(
                min_shape=(1, COLS), opt_shape=(rows, COLS), max_shape=(2 * rows, COLS)
            )
        ],
    )
    (built,) = engines.built_plugins(compiled)
    assert support_registry.aot_reasons(qualname) == {}
    assert built.kind == "aot" and sorted(built.tactic_times) == [1, 2, 3, 4]
    assert built.tactic == min(built.tactic_times, key=built.tactic_times.get)
    for n_rows in (1, 77, rows):
        x = torch.randn(n_rows, COLS, device="cuda")
        torch.testing.assert_close(compiled(x), x * 0.5)

    # Triton's autotuner at the same shape, and both picks timed by Triton's own benchmark.
    x = torch.randn(rows, COLS, device="cuda")
    autotuned.scale(x, 0.5)
    triton_pick = autotuned.scale_kernel.best_config
    z = torch.empty_like(x)

    def launch(config):
        inner = autotuned.scale_kernel.fn
        return lambda: inner[(triton.cdiv(x.numel(), config.kwargs["BLOCK"]),)](
            x, z, 0.5, x.numel(), **config.all_kwargs()
        )

    ours = autotuned.scale_kernel.configs[built.tactic - 1]
    if ours.all_kwargs() == triton_pick.all_kwargs():
        return  # the same config: timing it twice would only measure noise
    # Interleaved rounds, medians: other tests may share the GPU.
    rounds = [
        (do_bench(launch(triton_pick), rep=50), do_bench(launch(ours), rep=50))
        for _ in range(7)
    ]
    t_triton = sorted(r[0] for r in rounds)[3]
    t_ours = sorted(r[1] for r in rounds)[3]
    assert t_ours <= 1.05 * t_triton, (str(ours), t_ours, str(triton_pick), t_triton)


@triton.autotune(
    configs=[triton.Config({"BLOCK": 64}), triton.Config({"BLOCK": 1024})],
    key=["n"],
)
@triton.jit
def _copy_kernel(X, Z, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask), mask=mask)


def _branchy_copy(x: torch.Tensor) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()

    def grid(meta):
        blocks = triton.cdiv(n, meta["BLOCK"])
        return (
            blocks if blocks > 1 else 1,
        )  # a size branch that depends on the config

    _copy_kernel[grid](x, z, n)
    return z


def _positional_block(x: torch.Tensor) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    _copy_kernel[(triton.cdiv(n, 64),)](
        x, z, n, 64
    )  # BLOCK given, and set by every config
    return z


def _capture_of(qualname):
    from torch_tensorrt.dynamo.conversion.plugins._identity import TensorSignature

    record = support_registry.record(qualname)
    key = record.variant().call_key([TensorSignature(torch.float32, (None, COLS))], ())
    program = record.programs.get_or_trace("t", record.spec, record.op, key)
    return record.captures.get(key, program)


def test_every_configs_size_guards_hold_for_the_capture(
    trt_backend, ops, handles, fresh_qdp_namespace
):
    """Review finding: the grid of the BLOCK=1024 config branches on a size (one block or more);
    its guard must be part of what the converter proves, not only the first config's."""
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    qualname = f"{fresh_qdp_namespace}::branchy"
    ops.custom_packet(qualname, _branchy_copy, lambda x: torch.empty_like(x))
    handles.append(custom_op(qualname))
    captured = _capture_of(qualname)
    assert len(captured.alternatives) == 2
    texts = [str(g) for g in captured.guards]
    assert any("1023" in t for t in texts), texts  # from the second config's grid
    assert any("63" in t for t in texts), texts  # from the first config's grid
    assert all(a.guards == captured.guards for a in captured.alternatives)


def test_a_config_value_for_a_positional_argument_is_refused(
    trt_backend, ops, handles, fresh_qdp_namespace
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op
    from torch_tensorrt.dynamo.conversion.plugins._capture import CaptureUnavailable

    qualname = f"{fresh_qdp_namespace}::positional"
    ops.custom_packet(qualname, _positional_block, lambda x: torch.empty_like(x))
    handles.append(custom_op(qualname))
    with pytest.raises(
        CaptureUnavailable, match=r"sets \['BLOCK'\], which the autotuner"
    ):
        _capture_of(qualname)
