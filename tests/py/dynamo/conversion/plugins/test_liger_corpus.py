"""Third-party kernels: liger-kernel's forward kernels as custom ops (the corpus of issue 9).

``support.liger_corpus`` wraps eleven liger-kernel forward functions (RMSNorm, LayerNorm, softmax,
ReLU², GeGLU, SwiGLU, DyT, PolyNorm, GroupNorm, fused add + RMSNorm, RoPE) as custom ops with fake
kernels; their bodies launch liger-kernel's own Triton kernels. For each op:

* ``explain`` (in a process without the Triton interpreter, no GPU) either compiles the AOT kernel
  for sm_90, with the PTX parameters in TensorRT's order (input pointers, extras: fp32 for float
  arguments, u32 for sizes, output pointers) and assembling with Triton's ptxas, or gives the reason
  that names the missing capability (written below from reading liger-kernel's source);
* the op compiles into a TensorRT engine (stand-in) with a dynamic row count and matches a float64
  PyTorch reference at row counts that no block size divides; on the CPU tier where Triton's
  interpreter can run liger-kernel's kernel, on the GPU tier always, in float32 and bfloat16.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import pytest
import torch
from support import child, liger_corpus, models
from support import registry as support_registry
from support.aot import assemble, entry_params

#: Why each op's launch cannot be an AOT kernel yet: the capability issue 9 still has to add,
#: found by reading liger-kernel 0.8.5's forward functions. Every other corpus op must go AOT.
MISSING_CAPABILITY = {
    "group_norm": "aten::zeros",  # allocates Mean / RSTD with torch.zeros
    "rope": "aten::clone",  # rotates copies in place (our wrapper clones q and k)
}


#: The scratch tensors each kernel writes (liger-kernel 0.8.5's forward functions allocate them and
#: return them for the backward pass; the ops here return only the forward result).
HIDDEN = {
    "rms_norm": ["RSTD_ptr"],
    "layer_norm": ["Mean_ptr", "RSTD_ptr"],
    "poly_norm": ["RSTD_ptr"],
    "fused_add_rms_norm": ["RSTD_ptr"],
}


@pytest.fixture(scope="module")
def corpus_plugins():
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    handles = [custom_op(case.qualname) for case in liger_corpus.CORPUS]
    yield liger_corpus
    for handle in reversed(handles):
        handle.remove()


@pytest.fixture(scope="module")
def explained():
    """``tests/support/liger_explain.py`` run once in a child process (support.child): op -> facts."""
    return child.run_json("liger_explain.py", "REPORT")


def test_the_corpus_has_ten_or_more_third_party_kernels():
    assert len(liger_corpus.CORPUS) >= 10
    import liger_kernel.ops.rms_norm as ops_module

    # The bodies launch liger-kernel's kernels, not copies: the forward functions are liger's own.
    assert liger_corpus.rms_norm_forward.__module__ == ops_module.__name__


@pytest.mark.parametrize("case", liger_corpus.CORPUS, ids=lambda c: c.name)
def test_aot_kernel_or_the_missing_capability(explained, case, tmp_path):
    facts = explained[case.name]
    assert "error" not in facts, facts
    aot = facts["aot"]
    if case.name in MISSING_CAPABILITY:
        assert "unavailable" in aot, f"{case.name} went AOT; update MISSING_CAPABILITY"
        assert MISSING_CAPABILITY[case.name] in aot["unavailable"], aot["unavailable"]
        return
    assert "unavailable" not in aot, aot.get("unavailable")
    params = entry_params(aot["ptx"], aot["kernel"])
    assert params == aot["ptx_parameters"]
    # The op's outputs, then the scratch tensors its kernel writes (RSTD, Mean) as hidden outputs.
    n_in, n_out = len(facts["inputs"]), facts["outputs"] + len(aot["hidden_outputs"])
    assert [name for name, _, _ in aot["hidden_outputs"]] == HIDDEN.get(case.name, [])
    # dyt's kernel is @triton.autotune over 18 configs (3 BLOCK_N x 2 num_stages x 3 num_warps):
    # one TensorRT tactic each.
    assert len(aot["tactics"]) == (18 if case.name == "dyt" else 0)
    extras = [name for name, _ in aot["extras"]]
    assert len(params) == n_in + len(extras) + n_out
    kinds = [p.split()[1] for p in params]
    expected_extras = [
        ".f32" if name in aot["float_extras"] else ".u32" for name in extras
    ]
    assert kinds == [".u64"] * n_in + expected_extras + [".u64"] * n_out
    result = assemble(aot["ptx"], tmp_path)
    assert result.returncode == 0, result.stderr


def _inputs(case, rows, dtype, device):
    return case.make(rows, dtype, device)


def _trt_inputs(case, dtype, device):
    import torch_tensorrt

    specs = []
    for name, example in zip(case.explain, _inputs(case, 5, dtype, device)):
        if case.explain[name].startswith("ROWS"):
            rest = tuple(example.shape[1:])
            specs.append(
                torch_tensorrt.Input(
                    min_shape=(1,) + rest,
                    opt_shape=(5,) + rest,
                    max_shape=(64,) + rest,
                    dtype=dtype,
                )
            )
        else:
            specs.append(torch_tensorrt.Input(shape=tuple(example.shape), dtype=dtype))
    return specs


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("case", liger_corpus.CORPUS, ids=lambda c: c.name)
def test_compiled_op_matches_pytorch(
    trt_backend, corpus_plugins, explained, device, case, dtype
):
    if device == "cpu" and dtype != torch.float32:
        pytest.skip(
            "the CPU tier runs float32 (Triton's interpreter emulates bf16 slowly)"
        )
    model = liger_corpus.model_for(case)
    try:  # Triton's interpreter cannot run every kernel written for the GPU
        model(*_inputs(case, 3, dtype, device))
    except Exception as e:
        if device != "cpu":
            raise
        pytest.skip(
            f"Triton's interpreter cannot run liger-kernel's {case.name} kernel: "
            f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
        )
    compiled = models.compile_model(model, _trt_inputs(case, dtype, device))
    assert not models.runs_in_pytorch(compiled, case.op())
    if device == "cuda":
        reasons = support_registry.aot_reasons(case.qualname)
        if case.name in MISSING_CAPABILITY:
            assert any(MISSING_CAPABILITY[case.name] in r for r in reasons.values())
        else:
            assert reasons == {}, reasons
    tolerance = liger_corpus.tolerance(dtype)
    for rows in (1, 5, 33, 64):
        tensors = _inputs(case, rows, dtype, device)
        got = _as_tuple(compiled(*tensors))
        expected = _as_tuple(case.reference(*liger_corpus.as_float64(tensors)))
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.dtype == dtype and g.shape == e.shape
            torch.testing.assert_close(g.double(), e, **tolerance)
