# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Dynamic shapes: output sizes from the fake kernel, and the guards that keep them right
#
# TensorRT asks a plugin for its output shapes as formulas over the input dimensions, once per
# engine, and evaluates them for every shape in the optimisation profile. The generated plugin gets
# those formulas by tracing the op's fake kernel with one symbol per input dimension. This tutorial
# shows an op whose output size is arithmetic on its input size, and a fake kernel whose answer
# depends on a branch, where the trace's guard decides whether the op may enter the engine.

# %%
try:  # this project's test machinery (tools/trt_standin)
    from trt_standin.examples import setup
except ImportError:  # an ordinary TensorRT + GPU environment: nothing to set up
    setup = None
if setup is not None:
    setup()

# %%

import torch
import torch_tensorrt
import triton
import triton.language as tl
from torch_tensorrt.dynamo.conversion.plugins import custom_op, explain, plugin_status

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

# %% [markdown]
# ## 1. An op whose output size is a formula: pad the rows to a multiple
# Padding the row count up to a multiple of 8 (for example for tensor-core friendly shapes) gives an
# output of `ceil(rows / 8) * 8` rows. The kernel walks the output's elements: those that exist in
# the input are copied, the padding is zero. Both bounds are masked, so any size works.


# %%
@triton.jit
def pad_rows_kernel(X, Z, n_in, n_out, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    values = tl.load(X + offsets, mask=offsets < n_in, other=0.0)
    tl.store(Z + offsets, values, mask=offsets < n_out)


@torch.library.custom_op("tutorial_dyn::pad_rows", mutates_args=())
def pad_rows(x: torch.Tensor, multiple: int) -> torch.Tensor:
    rows, cols = x.shape
    out = x.new_empty(((rows + multiple - 1) // multiple * multiple, cols))
    grid = (triton.cdiv(out.numel(), 256),)
    pad_rows_kernel[grid](x, out, x.numel(), out.numel(), BLOCK=256)
    return out


@pad_rows.register_fake
def _(x: torch.Tensor, multiple: int) -> torch.Tensor:
    return x.new_empty(((x.shape[0] + multiple - 1) // multiple * multiple, x.shape[1]))


def pad_rows_reference(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """The same result from plain PyTorch, to check against."""
    padding = -x.shape[0] % multiple
    return torch.cat([x, x.new_zeros((padding, x.shape[1]))])


# %% [markdown]
# `explain` shows, before anything is compiled, the formula the trace produced for a dynamic number
# of rows (`1..100`), the direct Triton launch the JIT implementation will make, and the AOT kernel,
# to which TensorRT passes the two element counts as extra int32 values computed from the shapes.

# %%
print(explain("tutorial_dyn::pad_rows", {"x": "float32[1..100, 45]"}, {"multiple": 8}))

# %% [markdown]
# ## 2. Compile with a dynamic number of rows and check odd sizes


# %%
class Pad(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.tutorial_dyn.pad_rows(x * 2.0, 8) + 1.0


custom_op("tutorial_dyn::pad_rows")
pad_trt = torch_tensorrt.compile(
    Pad().eval(),
    ir="dynamo",
    inputs=[
        torch_tensorrt.Input(
            min_shape=(1, 45),
            opt_shape=(32, 45),
            max_shape=(100, 45),
            dtype=torch.float32,
        )
    ],
    min_block_size=1,
)
for rows in (1, 7, 8, 9, 63, 100):
    x = torch.randn(rows, 45, device=DEVICE)
    expected = pad_rows_reference(x * 2.0, 8) + 1.0
    got = pad_trt(x)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    torch.testing.assert_close(got, expected)
    print(f"rows={rows:3d} -> output {tuple(got.shape)}: matches PyTorch")
print(plugin_status("tutorial_dyn::pad_rows").implementations)

# %% [markdown]
# ## 3. A fake kernel with a branch: guards
# This fake kernel answers differently for short and long inputs. Traced with a symbolic row count,
# the branch becomes a *guard* (`rows <= 16`): the formula is right only where the guard holds.
# `explain` lists the guards and whether they hold over the ranges you give it, so the question
# "can this op take rows 1..64?" has an answer before anything is compiled.


# %%
@torch.library.custom_op("tutorial_dyn::head_or_half", mutates_args=())
def head_or_half(x: torch.Tensor) -> torch.Tensor:
    rows = x.shape[0]
    return x.clone() if rows <= 16 else x[: rows // 2].clone()


@head_or_half.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    if x.shape[0] <= 16:
        return x.new_empty(x.shape)
    return x.new_empty((x.shape[0] // 2, x.shape[1]))


for rows in ("1..64", "1..16"):
    report = explain("tutorial_dyn::head_or_half", {"x": f"float32[{rows}, 8]"})
    print(f"rows {rows}: guards {report.guards}")
    assert all(holds for _, holds in report.guards) == (rows == "1..16")


# %% [markdown]
# `torch.export` traces the same fake kernel and refuses a dynamic range that crosses the branch
# (its message suggests the range that works). Within `1..16` the op compiles into the engine, and
# the plugin's shape function is the one branch that holds there.


# %%
class Head(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.tutorial_dyn.head_or_half(x + 1.0) * 3.0


def compile_head(max_rows: int) -> torch.nn.Module:
    return torch_tensorrt.compile(
        Head().eval(),
        ir="dynamo",
        inputs=[
            torch_tensorrt.Input(
                min_shape=(1, 8),
                opt_shape=(8, 8),
                max_shape=(max_rows, 8),
                dtype=torch.float32,
            )
        ],
        min_block_size=1,
    )


custom_op("tutorial_dyn::head_or_half")
try:
    compile_head(64)
    raise AssertionError(
        "torch.export accepted a range that crosses the fake kernel's branch"
    )
except torch._dynamo.exc.UserError as refused:
    print("rows 1..64 refused by torch.export:", str(refused).splitlines()[1].strip())

head_trt = compile_head(16)
for rows in (1, 5, 16):
    x = torch.randn(rows, 8, device=DEVICE)
    torch.testing.assert_close(head_trt(x), Head()(x))
status = plugin_status("tutorial_dyn::head_or_half")
print("rows 1..16, in the engine:", status.implementations)
assert status.implementations and not status.not_converted
