"""Bodies with 2 to 4 Triton launches become a chain of AOT layers (issue 9, item 3).

``row_shift`` launches two kernels: the first writes each row's first element into a buffer the
body allocates, the second subtracts it from the row (the shape of softmax's first two passes). ``scale_add_square`` launches three
and returns two outputs, one of which (``u``) the third launch also reads. Which kernel writes and
reads which tensor comes from each kernel's TTIR (``_effects``), never from allocation order. Before,
such call sites stayed JIT ("the body launches 2 Triton kernels; a direct launch needs exactly one"),
so the engine needed Python for them.

CPU tier: the memory effects of kernels with loops, branches and atomics; the plan of each chain;
the AOT layers built by the stand-in's plugin host (PTX parameters in TensorRT's order, assembled by
Triton's ptxas for sm_90, output shapes over the input sizes); refusals with their reasons; the JIT
plugin's results. GPU tier: every layer AOT and outputs equal to eager, static and dynamic.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

from typing import Tuple

import pytest
import torch
import triton
import triton.language as tl
from support import engines, models
from support import registry as support_registry
from support.aot import assemble, entry_params

COLS = 37  # not a power of two: the kernels mask


# The kernels avoid Triton's reductions (tl.max, tl.sum): those are @triton.jit library functions,
# which Triton cannot compile for sm_90 in a process running its interpreter (the CPU tier).
@triton.jit
def _row_first_kernel(X, M, cols):
    row = tl.program_id(0)
    tl.store(M + row, tl.load(X + row * cols))


@triton.jit
def _sub_row_kernel(X, M, Y, cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    mask = offs < cols
    x = tl.load(X + row * cols + offs, mask=mask)
    tl.store(Y + row * cols + offs, x - tl.load(M + row), mask=mask)


def _row_shift(x: torch.Tensor) -> torch.Tensor:
    rows, cols = x.shape
    m = torch.empty(rows, dtype=torch.float32, device=x.device)
    y = torch.empty_like(x)
    block = triton.next_power_of_2(cols)
    _row_first_kernel[(rows,)](x, m, cols)
    _sub_row_kernel[(rows,)](x, m, y, cols, BLOCK=block)
    return y


@triton.jit
def _axpy_kernel(X, Y, Z, n, a, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(X + offs, mask=mask)
    y = tl.load(Y + offs, mask=mask) if Y is not None else 0.0
    tl.store(Z + offs, x * a + y, mask=mask)


@triton.jit
def _square_kernel(U, W, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    u = tl.load(U + offs, mask=mask)
    tl.store(W + offs, u * u, mask=mask)


def _scale_add_square(
    x: torch.Tensor, b: torch.Tensor, a: float
) -> Tuple[torch.Tensor, torch.Tensor]:
    n = x.numel()
    t = torch.empty_like(x)
    u = torch.empty_like(x)
    w = torch.empty_like(x)
    grid = (triton.cdiv(n, 64),)
    _axpy_kernel[grid](x, None, t, n, a, BLOCK=64)  # t = a * x
    _axpy_kernel[grid](t, b, u, n, 1.0, BLOCK=64)  # u = t + b
    _square_kernel[grid](u, w, n, BLOCK=64)  # w = u * u
    return u, w


@triton.jit
def _negate_in_place_kernel(X, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(X + offs, -tl.load(X + offs, mask=mask), mask=mask)


@triton.jit
def _read_only_kernel(X, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.load(X + offs, mask=offs < n)


def _scale_add_square_reference(x, b, a):
    u = x * a + b
    return u, u * u


@pytest.fixture
def chain_ops(trt_backend, ops, handles, fresh_qdp_namespace):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    ns = fresh_qdp_namespace
    row_shift = ops.custom_packet(
        f"{ns}::row_shift", _row_shift, lambda x: torch.empty_like(x)
    )
    sas = ops.custom_packet(
        f"{ns}::scale_add_square",
        _scale_add_square,
        lambda x, b, a: (torch.empty_like(x), torch.empty_like(x)),
    )
    handles.append(custom_op(f"{ns}::row_shift"))
    handles.append(custom_op(f"{ns}::scale_add_square"))
    return ns, row_shift, sas


def _dynamic(n_inputs: int):
    import torch_tensorrt

    return [
        torch_tensorrt.Input(
            min_shape=(1, COLS), opt_shape=(6, COLS), max_shape=(64, COLS)
        )
        for _ in range(n_inputs)
    ]


# -- memory effects from the TTIR --------------------------------------------------------------------
@triton.jit
def _loop_kernel(X, Y, M, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    acc = tl.load(X + offs, mask=mask)
    p = X + offs
    for _ in range(0, 3):  # a loop-carried pointer
        p += n
        acc += tl.load(p, mask=mask)
    tl.store(Y + offs, acc, mask=mask)
    tl.atomic_add(M + offs, acc, mask=mask)  # an atomic both reads and writes M


@triton.jit
def _branch_kernel(X, Y, Z, I, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    v = tl.load(X + tl.load(I + offs))  # an index read from I
    if n > 3:  # the stored pointer comes from either branch
        p = Y + offs
    else:
        p = Z + offs
    tl.store(p, v)


def _effects(kernel, signature, constexprs):
    import triton as _triton
    from torch_tensorrt.dynamo.conversion.plugins._effects import memory_effects
    from torch_tensorrt.dynamo.conversion.plugins._triton_aot import (
        _ast_source,
        _jit_function,
    )
    from triton.backends.compiler import GPUTarget

    src = _ast_source(_jit_function(kernel), signature, constexprs, [])
    compiled = _triton.compile(src, target=GPUTarget("cuda", 90, 32))
    return memory_effects(compiled.asm["ttir"])


def test_effects_follow_loops_branches_and_atomics():
    loop = _effects(
        _loop_kernel,
        {"X": "*fp32", "Y": "*fp32", "M": "*fp32", "n": "i32", "BLOCK": "constexpr"},
        {"BLOCK": 128},
    )
    # X read through the loop-carried pointer, Y written, M read and written by the atomic
    assert (loop.reads, loop.writes, loop.unresolved) == ({0, 2}, {1, 2}, ())
    branch = _effects(
        _branch_kernel,
        {
            "X": "*fp32",
            "Y": "*fp32",
            "Z": "*fp32",
            "I": "*i32",
            "n": "i32",
            "BLOCK": "constexpr",
        },
        {"BLOCK": 128},
    )
    # both branches define values named alike in the TTIR: each must count as a possible target
    assert (branch.reads, branch.writes, branch.unresolved) == ({0, 3}, {1, 2}, ())


def test_an_address_it_cannot_trace_counts_as_every_pointer():
    from torch_tensorrt.dynamo.conversion.plugins._effects import memory_effects

    ttir = """module {
  tt.func public @k(%P: !tt.ptr<i64>, %Y: !tt.ptr<f32>) attributes {noinline = false} {
    %a = tt.load %P : !tt.ptr<i64>
    %p = tt.int_to_ptr %a : i64 -> !tt.ptr<f32>
    %v = tt.load %Y : !tt.ptr<f32>
    tt.store %p, %v : !tt.ptr<f32>
    tt.return
  }
}"""
    found = memory_effects(ttir)
    assert found.writes == {0, 1} and len(found.unresolved) == 1, found


def test_braces_in_strings_and_unknown_pointer_ops_do_not_hide_writes():
    """A tt.print message with a brace must not shift the regions (the loop's yield would be
    lost and the swapped pointer B counted as read only); an op the parser does not know that takes
    a pointer (Triton 3.3's descriptor store) counts as writing every pointer."""
    from torch_tensorrt.dynamo.conversion.plugins._effects import memory_effects

    ping_pong = """module {
  tt.func public @k(%A: !tt.ptr<f32>, %B: !tt.ptr<f32>, %n: i32) attributes {noinline = false} {
    %c0 = arith.constant 0 : i32
    %c4 = arith.constant 4 : i32
    %c1 = arith.constant 1 : i32
    %r:2 = scf.for %i = %c0 to %c4 step %c1 iter_args(%src = %A, %dst = %B) -> (!tt.ptr<f32>, !tt.ptr<f32>)  : i32 {
      tt.print "x { " {hex = false, isSigned = array<i32: 1>} : %i : i32
      %v = tt.load %src : !tt.ptr<f32>
      tt.store %dst, %v : !tt.ptr<f32>
      scf.yield %dst, %src : !tt.ptr<f32>, !tt.ptr<f32>
    }
    tt.return
  }
}"""
    found = memory_effects(ping_pong)
    assert (found.reads, found.writes) == ({0, 1}, {0, 1}), found
    unknown = """module {
  tt.func public @k(%A: !tt.ptr<i8>, %B: !tt.ptr<f32>) attributes {noinline = false} {
    %c0 = arith.constant 0 : i32
    %v = tt.load %B : !tt.ptr<f32>
    tt.experimental_descriptor_store %A[%c0], %v : !tt.ptr<i8>, f32
    tt.return
  }
}"""
    found = memory_effects(unknown)
    assert found.writes == {0, 1} and found.unresolved, found


# -- plans, layers and refusals ----------------------------------------------------------------------
def _plan_for(qualname, signatures, attributes=()):
    from torch_tensorrt.dynamo.conversion.plugins import _aot

    record = support_registry.record(qualname)
    variant = record.variant()
    key = variant.call_key(signatures, attributes)
    program = record.programs.get_or_trace("t", record.spec, record.op, key)
    chain = record.chains.get(key, program)
    return _aot.chain_plan(record, key, program, chain, 90)


def test_chain_plans_follow_the_kernels(chain_ops, gpu_target):
    from torch_tensorrt.dynamo.conversion.plugins._chain import Ref
    from torch_tensorrt.dynamo.conversion.plugins._identity import TensorSignature

    ns, _, _ = chain_ops
    sig = TensorSignature(torch.float32, (None, COLS))
    plan = _plan_for(f"{ns}::row_shift", [sig])
    first, second = plan.steps
    assert (first.reads, first.writes) == ((), (Ref("buffer", 0),))
    assert (second.reads, second.writes) == ((Ref("buffer", 0),), (Ref("output", 0),))
    plan = _plan_for(f"{ns}::scale_add_square", [sig, sig], (2.0,))
    t, u, w = Ref("buffer", 0), Ref("output", 0), Ref("output", 1)
    assert [(s.reads, s.writes) for s in plan.steps] == [
        ((), (t,)),
        ((t,), (u,)),
        ((u,), (w,)),
    ]


def test_aot_layers_build_with_ptx_in_tensorrt_order(chain_ops, gpu_target, tmp_path):
    """What a compile does for the three-launch op: three AOT layers, the later ones taking the
    op's inputs and then what earlier layers wrote; PTX whose parameters are TensorRT's.
    """
    import torch_tensorrt

    ns, _, sas = chain_ops

    class Model(torch.nn.Module):
        def forward(self, x, b):
            u, w = sas(x, b, 2.0)
            return u + 1, w

    compiled = models.compile_model(Model().eval(), _dynamic(2))
    assert not models.runs_in_pytorch(compiled, sas)
    built = engines.built_plugins(compiled)
    assert [b.name for b in built] == [
        "scale_add_square-aot-step-1-of-3-reads-0-writes-1",
        "scale_add_square-aot-step-2-of-3-reads-1-writes-1",
        "scale_add_square-aot-step-3-of-3-reads-1-writes-1",
    ]
    assert all(b.kind == "aot" for b in built)
    implementations = support_registry.implementations(f"{ns}::scale_add_square")
    assert set(implementations.values()) == {"AOT (automatic: 3 launches, 3 layers)"}
    for b in built:
        assert b.evaluate_output_shapes(
            [(9, COLS)] * (2 + int(b.name.split("-reads-")[1][0]))
        ) == [(9, COLS)]
        kernel = b.aot
        # x, b, what it reads of earlier layers, the extras (n; a float is an extra too), what it writes
        n_inputs = 2 + int(b.name.split("-reads-")[1][0])
        shapes = [(9, COLS)] * n_inputs
        assert (
            len(entry_params(kernel.ptx, kernel.name))
            == n_inputs + len(kernel.extra_args) + 1
        )
        config = kernel.launch_config(shapes)
        assert config["grid_x"] == (9 * COLS + 63) // 64
        assert config["extra_args"][0] == 9 * COLS  # n
        result = assemble(kernel.ptx, tmp_path)
        assert result.returncode == 0, result.stderr
    del torch_tensorrt


def test_explain_shows_the_layers(chain_ops):
    from torch_tensorrt.dynamo.conversion.plugins import explain

    ns, _, _ = chain_ops
    report = explain(f"{ns}::row_shift", {"x": f"float32[1..64, {COLS}]"})
    first, second = report.aot["chain"]
    assert first["writes"] == ["buffer 0 float32[x.size(0)]"] and first["reads"] == []
    assert second["reads"] == ["buffer 0 float32[x.size(0)]"]
    assert second["writes"] == ["output 0"]
    assert first["plugin"] == "row_shift-aot-step-1-of-2-reads-0-writes-1"
    text = str(report)
    assert "AOT: a chain of 2 layers, one per launch" in text
    assert "layer 2 row_shift-aot-step-2-of-2-reads-1-writes-1" in text


@pytest.mark.parametrize(
    "body, reason",
    [
        ("writes_input", "writes the op's input 0"),
        ("two_writers", "both write output 0"),
        ("reads_first", "before any launch writes it"),
        ("writes_nothing", "writes none of the tensors it is given"),
    ],
)
def test_chains_that_cannot_be_made_stay_jit_with_the_reason(
    trt_backend, ops, handles, fresh_qdp_namespace, gpu_target, device, body, reason
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    def writes_input(x: torch.Tensor) -> torch.Tensor:
        n = x.numel()
        y = torch.empty_like(x)
        _negate_in_place_kernel[(triton.cdiv(n, 64),)](x, n, BLOCK=64)  # undeclared
        _axpy_kernel[(triton.cdiv(n, 64),)](x, None, y, n, 2.0, BLOCK=64)
        return y

    def two_writers(x: torch.Tensor) -> torch.Tensor:
        n = x.numel()
        y = torch.empty_like(x)
        _axpy_kernel[(triton.cdiv(n, 64),)](x, None, y, n, 2.0, BLOCK=64)
        _axpy_kernel[(triton.cdiv(n, 64),)](x, None, y, n, 3.0, BLOCK=64)
        return y

    def reads_first(x: torch.Tensor) -> torch.Tensor:
        rows, cols = x.shape
        m = torch.empty(rows, dtype=torch.float32, device=x.device)
        y = torch.empty_like(x)
        block = triton.next_power_of_2(cols)
        _sub_row_kernel[(rows,)](x, m, y, cols, BLOCK=block)  # m is not written yet
        _row_first_kernel[(rows,)](x, m, cols)
        return y

    def writes_nothing(x: torch.Tensor) -> torch.Tensor:
        n = x.numel()
        y = torch.empty_like(x)
        _read_only_kernel[(triton.cdiv(n, 64),)](x, n, BLOCK=64)
        _axpy_kernel[(triton.cdiv(n, 64),)](x, None, y, n, 2.0, BLOCK=64)
        return y

    fn = {
        "writes_input": writes_input,
        "two_writers": two_writers,
        "writes_nothing": writes_nothing,
    }.get(body, reads_first)
    qualname = f"{fresh_qdp_namespace}::{body}"
    packet = ops.custom_packet(qualname, fn, lambda x: torch.empty_like(x))
    handles.append(custom_op(qualname))
    compiled = models.compile_fn(
        lambda t: packet(t) * 1, [torch.randn(4, COLS, device=device)]
    )
    (built,) = engines.built_plugins(compiled)
    assert built.kind == "jit"
    (why,) = plugin_status(qualname).aot_unavailable.values()
    assert reason in why, why


def _first_by_size(x: torch.Tensor) -> torch.Tensor:
    """Two launches whose buffer is float32 for narrow rows and float16 for wide ones."""
    rows, cols = x.shape
    m = torch.empty(
        rows, dtype=torch.float32 if cols <= 32 else torch.float16, device=x.device
    )
    y = torch.empty_like(x)
    _row_first_kernel[(rows,)](x, m, cols)
    _sub_row_kernel[(rows,)](x, m, y, cols, BLOCK=triton.next_power_of_2(cols))
    return y


def test_two_sites_planning_a_layer_differently_keep_one_chain(
    trt_backend, ops, handles, fresh_qdp_namespace, gpu_target, device
):
    """TensorRT asks a layer's output dtypes without its shapes; two call sites whose chains give
    the same layer other output dtypes would make it answer for the wrong one, so the second
    stays JIT with the reason."""
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    qualname = f"{fresh_qdp_namespace}::first_by_size"
    packet = ops.custom_packet(qualname, _first_by_size, lambda x: torch.empty_like(x))
    handles.append(custom_op(qualname))

    class Model(torch.nn.Module):
        def forward(self, narrow, wide):
            return packet(narrow) + 1, packet(wide) + 1

    narrow, wide = torch.randn(4, 16, device=device), torch.randn(4, 48, device=device)
    compiled = models.compile_model(Model().eval(), [narrow, wide])
    kinds = sorted(
        (b.kind, b.name.split("-")[0]) for b in engines.built_plugins(compiled)
    )
    assert kinds == [
        ("aot", "first_by_size"),
        ("aot", "first_by_size"),
        ("jit", "first_by_size"),
    ]
    (reason,) = support_registry.aot_reasons(qualname).values()
    assert (
        "another call site with these input dtypes makes layer 1 of 2" in reason
    ), reason
    if device == "cuda":
        got = compiled(narrow, wide)
        torch.testing.assert_close(got[0], narrow - narrow[:, :1] + 1)
        torch.testing.assert_close(
            got[1], wide - wide[:, :1].half().float() + 1, rtol=1e-3, atol=1e-3
        )


def test_jit_plugin_runs_the_chained_ops(chain_ops, device):
    """Without a GPU to compile for (or with AOT off), the JIT plugin runs the op: same numbers."""
    import torch_tensorrt

    ns, row_shift, sas = chain_ops

    class Model(torch.nn.Module):
        def forward(self, x, b):
            u, w = sas(x, b, -0.5)
            return row_shift(u) * 2, w

    model = Model().eval()
    compiled = models.compile_model(model, _dynamic(2))
    assert not models.runs_in_pytorch(compiled, sas)
    for rows in (1, 7, 64):
        x, b = (torch.randn(rows, COLS, device=device) for _ in range(2))
        for g, e in zip(compiled(x, b), model(x, b)):
            torch.testing.assert_close(g, e)
    del torch_tensorrt


@pytest.mark.gpu
@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_chains_run_aot_and_match_eager(chain_ops, dynamic):
    ns, row_shift, sas = chain_ops

    class Model(torch.nn.Module):
        def forward(self, x, b):
            u, w = sas(x, b, 1.5)
            return row_shift(u) - 1, w

    model = Model().eval()
    examples = [torch.randn(6, COLS, device="cuda") for _ in range(2)]
    compiled = models.compile_model(model, _dynamic(2) if dynamic else examples)
    assert not models.runs_in_pytorch(compiled, sas)
    assert not models.runs_in_pytorch(compiled, row_shift)
    built = engines.built_plugins(compiled)
    assert len(built) == 5 and all(b.kind == "aot" for b in built), [
        (b.name, b.kind) for b in built
    ]
    assert support_registry.aot_reasons(f"{ns}::row_shift") == {}
    for rows in (1, 6, 33, 64) if dynamic else (6,):
        x, b = (torch.randn(rows, COLS, device="cuda") for _ in range(2))
        got, expected = compiled(x, b), model(x, b)
        for g, e in zip(got, expected):
            torch.testing.assert_close(g, e)
        u, w = _scale_add_square_reference(x, b, 1.5)
        torch.testing.assert_close(got[1], w)
        torch.testing.assert_close(got[0], u - u[:, :1] - 1)
