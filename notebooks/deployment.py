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
# # Deployment: in-place ops, data-dependent sizes, saved programs, CUDA graphs
#
# What a model engineer meets after the first compile works: an op that writes into its input
# (`mutates_args`), an op whose output size depends on the data, a compiled program saved and
# loaded in another process, and Torch-TensorRT's CUDA-graph runtime. Each section checks its
# results against PyTorch.

# %%
try:  # this project's test machinery (tools/trt_standin)
    from trt_standin.examples import setup
except ImportError:  # an ordinary TensorRT + GPU environment: nothing to set up
    setup = None
if setup is not None:
    setup()

# %%
import os
import tempfile

import torch
import torch_tensorrt
import triton
import triton.language as tl
from torch_tensorrt.dynamo.conversion.plugins import (
    custom_op,
    plugin_status,
    prepare_load,
    saved_plugins,
)

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
COLS = 37  # not a multiple of the kernels' block: they mask
torch.manual_seed(0)

# %% [markdown]
# ## 1. An in-place op
# `scale_(x, a)` multiplies `x` by `a` where it stands. The exported graph holds it in
# functionalized form (`auto_functionalized_v2`); the generated plugin takes `x` and gives its new
# value as an output. TensorRT's input buffer is never written: the JIT plugin copies `x` into its
# output and runs the op there.


# %%
@triton.jit
def scale_inplace_kernel(X, n, a, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(X + offs, tl.load(X + offs, mask=mask) * a, mask=mask)


@torch.library.custom_op("tutorial_deploy::scale_", mutates_args=("x",))
def scale_(x: torch.Tensor, a: float) -> None:
    n = x.numel()
    scale_inplace_kernel[(triton.cdiv(n, 128),)](x, n, a, BLOCK=128)


@scale_.register_fake
def _(x, a):
    return None


custom_op("tutorial_deploy::scale_")


class Normalize(torch.nn.Module):
    def forward(self, x):
        y = x - x.mean(dim=-1, keepdim=True)
        torch.ops.tutorial_deploy.scale_(y, 0.5)
        return torch.relu(y)


model = Normalize().eval()
spec = torch_tensorrt.Input(
    min_shape=(1, COLS), opt_shape=(8, COLS), max_shape=(64, COLS)
)
compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[spec], min_block_size=1)
for rows in (1, 8, 50):
    x = torch.randn(rows, COLS, device=DEVICE)
    torch.testing.assert_close(compiled(x), model(x))
print("in-place op inside the engine; outputs equal PyTorch's")
print(plugin_status("tutorial_deploy::scale_"))

# %% [markdown]
# ## 2. An output whose size depends on the data
# `keep(x, t)` returns the values above `t`. Its fake kernel asks for a data-dependent size and
# bounds it with `torch._check`; the plugin declares a TensorRT size tensor with that bound, and the
# engine uses Torch-TensorRT's output allocator.


# %%
@torch.library.custom_op("tutorial_deploy::keep", mutates_args=())
def keep(x: torch.Tensor, t: float) -> torch.Tensor:
    return x[x > t]


@keep.register_fake
def _(x, t):
    n = torch.library.get_ctx().new_dynamic_size()
    torch._check(n <= x.shape[0])
    return x.new_empty(n)


custom_op("tutorial_deploy::keep")


class Positive(torch.nn.Module):
    def forward(self, x):
        return torch.ops.tutorial_deploy.keep(x * 2, 0.0) + 1


positive = Positive().eval()
spec_1d = torch_tensorrt.Input(min_shape=(1,), opt_shape=(64,), max_shape=(4096,))
compiled_keep = torch_tensorrt.compile(
    positive, ir="dynamo", inputs=[spec_1d], min_block_size=1
)
for n in (10, 64, 4000):
    x = torch.randn(n, device=DEVICE)
    got = compiled_keep(x)
    torch.testing.assert_close(got, positive(x))
    print(f"{n} inputs -> {got.numel()} kept, equal to PyTorch")

# %% [markdown]
# ## 3. A saved program in another process
# `torch_tensorrt.save` keeps each engine's plugin layers by name. A JIT plugin needs the op's
# Python code where the program is loaded, and every plugin variant the engines name. Here the
# plugin is removed after saving, which leaves this process like a fresh one that only imported
# the op's module: `saved_plugins` lists what the file needs, `prepare_load` registers it. Neither
# imports anything named in the file. (Saving needs Torch-TensorRT >= 2.13 when it is python-only.)


# %%
@triton.jit
def shift_kernel(X, Z, n, b, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask) + b, mask=mask)


@torch.library.custom_op("tutorial_deploy::shift", mutates_args=())
def shift(x: torch.Tensor, b: float) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    shift_kernel[(triton.cdiv(n, 128),)](x, z, n, b, BLOCK=128)
    return z


@shift.register_fake
def _(x, b):
    return torch.empty_like(x)


class Shifted(torch.nn.Module):
    def forward(self, x):
        return torch.ops.tutorial_deploy.shift(x * 2, -0.25)


version = tuple(int(p) for p in torch_tensorrt.__version__.split(".")[:2])
can_save = version >= (2, 13) or torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime
if can_save:
    handle = custom_op("tutorial_deploy::shift", use_aot_if_available=False)
    x = torch.randn(8, COLS, device=DEVICE)
    saved = torch_tensorrt.compile(
        Shifted().eval(), ir="dynamo", inputs=[x], min_block_size=1
    )
    path = os.path.join(tempfile.mkdtemp(), "shifted.ep")
    torch_tensorrt.save(saved, path, arg_inputs=[x], retrace=False)
    handle.remove()  # as in a fresh process: the op is defined, its plugin is not
    for plugin in saved_plugins(path):
        print("before:", plugin)
    prepare_load(path)
    loaded = torch_tensorrt.load(path).module()
    torch.testing.assert_close(loaded(x), Shifted()(x))
    print("loaded after prepare_load; output equals PyTorch's")
else:
    print(
        f"Torch-TensorRT {torch_tensorrt.__version__} (python-only) cannot save: section skipped"
    )

# %% [markdown]
# ## 4. CUDA graphs
# `torch_tensorrt.runtime.enable_cudagraphs` captures the engine's enqueue on the first call of a
# shape and replays it afterwards. The JIT plugin's direct Triton launch and AOT kernels are
# capturable; the in-place op above runs its body (a copy, then the kernel), which is capturable
# too. `plugin_status(op).cuda_graphs` says, per call identity, whether its strategy is known to be
# capture-safe, and after a capture which choices were made inside it. Needs a GPU.

# %%
if DEVICE == "cuda":
    with torch_tensorrt.runtime.enable_cudagraphs(compiled) as graphed:
        for rows in (8, 8, 50):
            x = torch.randn(rows, COLS, device=DEVICE)
            torch.testing.assert_close(graphed(x), model(x))
    print("CUDA graph captured and replayed; outputs equal PyTorch's")
else:
    print("no GPU: CUDA graphs need one (the stand-in runs on the CPU here)")
for identity, verdict in plugin_status("tutorial_deploy::scale_").cuda_graphs.items():
    print(identity, "->", verdict)
