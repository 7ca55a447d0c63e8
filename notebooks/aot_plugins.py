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
# # Ahead of time: the Triton kernel compiled into the engine, no Python at run time
#
# The JIT implementation of a generated plugin is Python: at every enqueue TensorRT calls back into
# the interpreter, which launches the Triton kernel. The AOT implementation is the same kernel
# compiled to PTX when the engine is built; TensorRT launches it itself, so the engine runs from
# C++ (or `trtexec`) with no Python, and each launch costs what a native plugin's launch costs.
#
# `custom_op` builds both and uses AOT wherever the op allows it (`use_aot_if_available=True`, the
# default): the op's body must be one Triton launch whose arguments come from the op's inputs,
# outputs, attributes and sizes. When that is not the case, the node keeps the JIT implementation
# and `plugin_status` says why.

# %%
try:  # this project's test machinery (tools/trt_standin)
    from trt_standin.examples import setup
except ImportError:  # an ordinary TensorRT + GPU environment: nothing to set up
    setup = None
if setup is not None:
    setup()

# %%
import time

import torch
import torch_tensorrt
import triton
import triton.language as tl
from torch_tensorrt.dynamo.conversion.plugins import custom_op, explain, plugin_status

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

# %% [markdown]
# ## 1. A kernel: scaled SiLU
# `y = x * sigmoid(x) * scale`, computed in float32 and stored in the input's dtype, masked so that
# any element count works.


# %%
@triton.jit
def silu_scale_kernel(X, Y, scale, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    x = tl.load(X + offsets, mask=mask).to(tl.float32)
    y = x / (1.0 + tl.exp(-x)) * scale
    tl.store(Y + offsets, y.to(Y.dtype.element_ty), mask=mask)


@torch.library.custom_op("tutorial_aot::silu_scale", mutates_args=())
def silu_scale(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    y = torch.empty_like(x)
    n = x.numel()
    silu_scale_kernel[(triton.cdiv(n, 1024),)](x, y, scale, n, BLOCK=1024)
    return y


@silu_scale.register_fake
def _(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    return torch.empty_like(x)


# %% [markdown]
# The sigmoid is written out (`1 / (1 + exp(-x))`) rather than `tl.sigmoid`: on a machine without a
# GPU the kernels run in Triton's interpreter, and in such a process Triton cannot compile kernels
# that call its library functions, so `explain` below would only report that. A GPU process has no
# such limit, and neither has `explain` from the command line (it runs no kernel).
#
# ## 2. What the AOT implementation is
# `explain` compiles the kernel for sm_90 (Triton needs no GPU for that) and shows what TensorRT
# will launch: the grid as a formula of the input sizes, the block size, and the PTX parameters in
# the order TensorRT passes them (inputs, then int32 extras computed from the shapes, then outputs).
# `scale` is an attribute of the plugin. The kernel takes it as an `fp32` parameter, as Triton's
# own launch would, and TensorRT passes its bits as a constant int32 extra: the PTX does not depend
# on the value, so one kernel serves every call site, whatever its `scale`.

# %%
report = explain(
    "tutorial_aot::silu_scale", {"x": "float32[1..4096, 300]"}, {"scale": 1.5}
)
print(report)

# %% [markdown]
# ## 3. The same model, AOT and JIT
# Registering the op a second time with `use_aot_if_available=False` replaces the registration;
# the JIT model compiled in between keeps what it was built with.


# %%
class Block(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.tutorial_aot.silu_scale(x * 0.5, 1.5) + x


def compile_block(use_aot: bool) -> torch.nn.Module:
    custom_op("tutorial_aot::silu_scale", use_aot_if_available=use_aot)
    model = torch_tensorrt.compile(
        Block().eval(),
        ir="dynamo",
        inputs=[
            torch_tensorrt.Input(
                min_shape=(1, 300),
                opt_shape=(64, 300),
                max_shape=(4096, 300),
                dtype=torch.float32,
            )
        ],
        min_block_size=1,
    )
    return model


jit_model = compile_block(use_aot=False)
jit_status = plugin_status("tutorial_aot::silu_scale")
aot_model = compile_block(use_aot=True)
aot_status = plugin_status("tutorial_aot::silu_scale")
print("JIT model:", jit_status.implementations)
print("AOT model:", aot_status.implementations, aot_status.aot_unavailable)
if DEVICE == "cuda":
    assert set(aot_status.implementations.values()) == {"AOT (automatic)"}
else:  # without a GPU the AOT kernel cannot run: the node stays JIT and says why
    assert set(aot_status.implementations.values()) == {"JIT"}
    assert "no CUDA device" in " ".join(aot_status.aot_unavailable.values())

for rows in (1, 3, 64, 1000):
    x = torch.randn(rows, 300, device=DEVICE)
    expected = Block()(x)
    torch.testing.assert_close(jit_model(x), expected)
    torch.testing.assert_close(aot_model(x), expected)
print("JIT and AOT models match PyTorch")

# %% [markdown]
# ## 4. What AOT changes at run time (GPU only)
# Two pictures, measured here when a GPU is present: the host time per call of the two models on a
# small input (where the per-launch cost shows), and the AOT kernel's bandwidth over sizes against a
# device-to-device copy of the same bytes (the limit for a kernel that reads and writes each element
# once). On the TensorRT stand-in the model call also includes the stand-in's Python executor, the
# same for both models; with real TensorRT it is the engine's own cost. `BENCHMARKS.md` has the
# project's recorded measurements, each with its card.

# %%
if DEVICE != "cuda":
    print(
        "No GPU here: the measurements and charts of this section run on a GPU machine."
    )
else:
    import matplotlib.pyplot as plt

    def host_us_per_call(
        model: torch.nn.Module, x: torch.Tensor, calls: int = 200
    ) -> float:
        model(x)
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(calls):
            model(x)
        torch.cuda.synchronize()
        return (time.perf_counter() - start) / calls * 1e6

    small = torch.randn(8, 300, device=DEVICE)
    host = {
        "JIT": host_us_per_call(jit_model, small),
        "AOT": host_us_per_call(aot_model, small),
    }

    def device_ms(fn, x: torch.Tensor, repeats: int = 20) -> float:
        fn(x)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(
            enable_timing=True
        )
        start.record()
        for _ in range(repeats):
            fn(x)
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / repeats

    class Only(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.ops.tutorial_aot.silu_scale(x, 1.5)

    only_aot = torch_tensorrt.compile(
        Only().eval(),
        ir="dynamo",
        inputs=[
            torch_tensorrt.Input(
                min_shape=(1,),
                opt_shape=(1 << 20,),
                max_shape=(1 << 26,),
                dtype=torch.float32,
            )
        ],
        min_block_size=1,
    )
    assert set(plugin_status("tutorial_aot::silu_scale").implementations.values()) == {
        "AOT (automatic)"
    }
    sizes, kernel_gbs, copy_gbs = [], [], []
    for exponent in (20, 22, 24, 26):  # 1M to 64M float32 elements
        x = torch.randn(1 << exponent, device=DEVICE)
        torch.testing.assert_close(only_aot(x), Only()(x))
        sizes.append(x.numel())
        # Both read and write each element once: 2 * x.nbytes per call.
        kernel_gbs.append(2 * x.nbytes / device_ms(only_aot, x) / 1e6)
        copy_gbs.append(2 * x.nbytes / device_ms(torch.clone, x) / 1e6)

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.bar(list(host), list(host.values()), color=["tab:orange", "tab:blue"])
    left.set_ylabel("host time per call (µs)")
    left.set_title(f"{torch.cuda.get_device_name()}: 8x300 input")
    right.plot(sizes, kernel_gbs, "o-", label="AOT silu_scale in the engine")
    right.plot(sizes, copy_gbs, "s--", label="device-to-device copy")
    right.set_xscale("log")
    right.set_xlabel("elements")
    right.set_ylabel("GB/s")
    right.legend()
    figure.tight_layout()
    plt.show()
    print({k: f"{v:.1f} us" for k, v in host.items()})

# %% [markdown]
# ## 5. Kernels that do more than one plain launch
# Kernels written for training often store something for the backward pass that the forward op
# does not return: an RMSNorm stores each row's reciprocal RMS. The body allocates that tensor
# with `torch.empty` and passes it to the kernel; the AOT plugin then gets it as a *hidden output*
# after the op's own (TensorRT allocates it, the converter does not expose it). Kernels under
# `@triton.autotune` go AOT as well: each config becomes one TensorRT tactic, and TensorRT's builder
# keeps the fastest (`explain` lists them). Here, a row-centring op that stores each row's first
# element on the side:


# %%
@triton.jit
def center_kernel(X, FIRST, Y, cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offsets = tl.arange(0, BLOCK)
    mask = offsets < cols
    x = tl.load(X + row * cols + offsets, mask=mask)
    first = tl.load(X + row * cols)
    tl.store(FIRST + row, first)
    tl.store(Y + row * cols + offsets, x - first, mask=mask)


@torch.library.custom_op("tutorial_aot::center", mutates_args=())
def center(x: torch.Tensor) -> torch.Tensor:
    rows, cols = x.shape
    y = torch.empty_like(x)
    firsts = torch.empty(rows, dtype=torch.float32, device=x.device)  # not returned
    center_kernel[(rows,)](x, firsts, y, cols, BLOCK=triton.next_power_of_2(cols))
    return y


@center.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(x)


center_report = explain("tutorial_aot::center", {"x": "float32[1..4096, 300]"})
print(center_report)
assert center_report.aot["hidden_outputs"] == [("FIRST", "float32", ["x.size(0)"])]
