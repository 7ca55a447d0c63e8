# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A Triton kernel inside a TensorRT engine, generated from the custom op
#
# A custom op whose body launches a Triton kernel, plus its fake kernel, is all this takes:
# `custom_op("ns::op")` generates the TensorRT plugin (shape and dtype functions traced from the
# fake kernel, a JIT implementation and, on a GPU, a Python-free AOT implementation compiled from
# the Triton kernel) and registers the converter, so `torch_tensorrt.compile` keeps the op in the
# engine instead of breaking the graph.
#
# Run it as a script (`python notebooks/auto_generate_plugins.py`) or as the paired notebook
# `notebooks/auto_generate_plugins.ipynb`. The first cell finds out where it runs: with TensorRT and a
# GPU it changes nothing; on a machine without them (like this project's CI) it switches to the
# project's TensorRT stand-in and Triton's interpreter, and says so.

# %%
try:  # this project's test machinery (tools/trt_standin)
    from trt_standin.examples import setup
except ImportError:  # an ordinary TensorRT + GPU environment: nothing to set up
    setup = None
if setup is not None:
    setup()

# %%
import logging

import torch
import torch_tensorrt
import triton
import triton.language as tl

logging.basicConfig(level=logging.WARNING)
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

# %% [markdown]
# ## 1. The kernel and the op
# The kernel computes `x * y * a + b`. It is masked, so any element count works.


# %%
@triton.jit
def scale_mul_kernel(X, Y, Z, a, b, n, BLOCK_SIZE: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n
    x = tl.load(X + offsets, mask=mask)
    y = tl.load(Y + offsets, mask=mask)
    tl.store(Z + offsets, x * y * a + b, mask=mask)


@torch.library.custom_op("notebook_ex::scale_mul", mutates_args=())
def scale_mul(
    x: torch.Tensor, y: torch.Tensor, b: float = 0.2, a: int = 2
) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    scale_mul_kernel[(triton.cdiv(n, 1024),)](x, y, z, a, b, n, BLOCK_SIZE=1024)
    return z


@torch.library.register_fake("notebook_ex::scale_mul")
def _(x: torch.Tensor, y: torch.Tensor, b: float = 0.2, a: int = 2) -> torch.Tensor:
    return torch.empty_like(x)


# %% [markdown]
# ## 2. One call: plugin and converter

# %%
handle = torch_tensorrt.dynamo.conversion.plugins.custom_op("notebook_ex::scale_mul")


class Model(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.ops.notebook_ex.scale_mul(x, x + y, b=0.5)


model = Model().to(DEVICE).eval()

# %% [markdown]
# ## 3. Compile with dynamic shapes and compare with PyTorch
# The batch dimension is dynamic: the plugin's shape function was traced once from the fake kernel
# with one symbol per input dimension, and TensorRT evaluates it for every size in the profile.

# %%
inputs = [
    torch_tensorrt.Input(
        min_shape=(1, 37), opt_shape=(16, 37), max_shape=(64, 37), dtype=torch.float32
    )
    for _ in range(2)
]
compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=inputs, min_block_size=1)

for rows in (1, 13, 64):
    x = torch.randn(rows, 37, device=DEVICE)
    y = torch.randn(rows, 37, device=DEVICE)
    expected = x.double() * (x.double() + y.double()) * 2 + 0.5
    error = (compiled(x, y).double() - expected).abs().max().item()
    print(f"rows={rows:3d}: max abs error vs float64 = {error:.2e}")
    assert error < 1e-4

# %% [markdown]
# ## 4. What was generated
# `plugin_status` tells what the op became: its QDP plugins, the strategy the JIT implementation
# chose for each shape (`launch`: the Triton kernel is launched straight into TensorRT's buffers),
# and, on a GPU, whether call sites got the AOT plugin or why not.

# %%
from torch_tensorrt.dynamo.conversion.plugins import plugin_status

print(plugin_status("notebook_ex::scale_mul"))

# %% [markdown]
# ## 5. The same facts without compiling a model
# `explain` traces the fake kernel for a description of the inputs (a `min..max` range marks a
# dynamic dimension) and reports the plugin's parameters in TensorRT's order, each output's shape
# formula, the JIT strategy and the AOT kernel, compiled for sm_90 by Triton without a GPU.

# %%
from torch_tensorrt.dynamo.conversion.plugins import explain

report = explain(
    "notebook_ex::scale_mul",
    {"x": "float32[1..64, 37]", "y": "float32[1..64, 37]"},
    {"b": 0.5},
)
print(report)

# %% [markdown]
# `remove()` undoes the registration (plugin and converter), for example before redefining the op
# in a notebook; calling `custom_op` again after a redefinition also replaces what changed.

# %%
handle.remove()
