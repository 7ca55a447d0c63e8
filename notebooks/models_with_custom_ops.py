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
# # A custom op inside a real model: one engine, no graph break
#
# A custom op rarely stands alone: it sits between linear layers, activations, attention and
# normalisation that Torch-TensorRT converts itself. Without a converter for the op, the graph
# breaks around it into two engines with PyTorch in between. This tutorial puts a Triton op inside
# a feed-forward block and an attention block and checks that each compiles into a single engine.

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
from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0)

# %% [markdown]
# ## 1. The op: a gated activation in one Triton kernel
# `gated_silu(x)` splits the last dimension in two halves `a | b` and returns `silu(a) * b`, the
# gate of SwiGLU feed-forward blocks. The fake kernel says the output has half the features.


# %%
@triton.jit
def gated_silu_kernel(X, Y, n_rows, half, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = (cols < half) & (row < n_rows)
    a = tl.load(X + row * 2 * half + cols, mask=mask).to(tl.float32)
    b = tl.load(X + row * 2 * half + half + cols, mask=mask).to(tl.float32)
    y = a / (1.0 + tl.exp(-a)) * b
    tl.store(Y + row * half + cols, y.to(Y.dtype.element_ty), mask=mask)


@torch.library.custom_op("tutorial_models::gated_silu", mutates_args=())
def gated_silu(x: torch.Tensor) -> torch.Tensor:
    x = x.contiguous()
    half = x.shape[-1] // 2
    y = x.new_empty((*x.shape[:-1], half))
    rows = x.numel() // x.shape[-1]
    gated_silu_kernel[(rows, triton.cdiv(half, 64))](x, y, rows, half, BLOCK=64)
    return y


@gated_silu.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    torch._check(x.shape[-1] % 2 == 0)
    return x.new_empty((*x.shape[:-1], x.shape[-1] // 2))


def gated_silu_reference(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=-1)
    return torch.nn.functional.silu(a) * b


custom_op("tutorial_models::gated_silu")

# %% [markdown]
# ## 2. A feed-forward block and an attention block around it


# %%
class FeedForward(torch.nn.Module):
    def __init__(self, dim: int = 24, hidden: int = 40) -> None:
        super().__init__()
        self.up = torch.nn.Linear(dim, 2 * hidden)
        self.down = torch.nn.Linear(hidden, dim)
        self.norm = torch.nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(
            x + self.down(torch.ops.tutorial_models.gated_silu(self.up(x)))
        )


class Attention(torch.nn.Module):
    def __init__(self, dim: int = 24, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.out = torch.nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, seq, dim = x.shape
        q, k, v = (
            t.view(batch, seq, self.heads, dim // self.heads).transpose(1, 2)
            for t in self.qkv(x).chunk(3, dim=-1)
        )
        # Attention written out: Torch-TensorRT 2.11 cannot convert the aten._safe_softmax that
        # scaled_dot_product_attention lowers to there, and would break the graph in two engines.
        scores = q @ k.transpose(-2, -1) / (dim // self.heads) ** 0.5
        attended = torch.softmax(scores, dim=-1) @ v
        return x + self.out(attended.transpose(1, 2).reshape(batch, seq, dim))


class Layer(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention = Attention()
        self.feed_forward = FeedForward()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feed_forward(torch.relu(self.attention(x)))


model = Layer().to(DEVICE).eval()

# %% [markdown]
# ## 3. Compile with a dynamic batch and compare with PyTorch

# %%
compiled = torch_tensorrt.compile(
    model,
    ir="dynamo",
    inputs=[
        torch_tensorrt.Input(
            min_shape=(1, 7, 24),
            opt_shape=(4, 7, 24),
            max_shape=(8, 7, 24),
            dtype=torch.float32,
        )
    ],
    min_block_size=1,
)
with torch.no_grad():
    for batch in (1, 3, 8):
        x = torch.randn(batch, 7, 24, device=DEVICE)
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-4)
print("matches PyTorch for batch 1, 3 and 8")

# %% [markdown]
# ## 4. One engine: nothing of the model runs in PyTorch
# The compiled module's top-level graph calls TensorRT engine submodules; PyTorch submodules
# (`_run_on_gpu_*`) would hold whatever could not be converted. Here there is one engine and no
# PyTorch part, and the op's node is a plugin in it.

# %%
engines = [
    name for name, _ in compiled.named_children() if name.startswith("_run_on_acc")
]
in_pytorch = [
    name for name, _ in compiled.named_children() if name.startswith("_run_on_gpu")
]
print("TensorRT engines:", engines, "| PyTorch parts:", in_pytorch)
assert len(engines) == 1 and not in_pytorch
print(plugin_status("tutorial_models::gated_silu").implementations)

# %% [markdown]
# Finally, the op alone against its plain-PyTorch reference, on a shape no block size divides.

# %%
x = torch.randn(5, 80, device=DEVICE)
torch.testing.assert_close(gated_silu(x), gated_silu_reference(x))
