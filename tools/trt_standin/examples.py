"""Let an example (notebook or script) run here or on real TensorRT, and say which.

The first cell of every tutorial notebook calls :func:`setup`::

    try:
        from trt_standin.examples import setup  # this project's test machinery
    except ImportError:  # an ordinary TensorRT + GPU environment: nothing to set up
        setup = None
    if setup is not None:
        setup()

With real TensorRT and a CUDA torch, :func:`setup` changes nothing. Without them it switches to what
the test suite uses: the TensorRT stand-in, and on a CPU-only torch the Triton interpreter and the
CPU adjustments of released Torch-TensorRT (:mod:`trt_standin.cpu_torch`). Either way it prints one
line saying where the example runs.

Call it before any ``@triton.jit`` kernel is defined: Triton decides at definition time whether a
kernel is interpreted.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class ExampleEnvironment:
    """Where an example runs."""

    tensorrt: str  # "real" or "standin"
    device: str  # "cuda" or "cpu"
    triton: str  # "compiled", "interpreter" or "compile-only" (kernels are compiled, never run)

    def describe(self) -> str:
        if self.tensorrt == "real":
            where = "real TensorRT"
        else:
            where = "the TensorRT stand-in"
        device = "GPU" if self.device == "cuda" else "CPU"
        triton = {
            "interpreter": "Triton interpreter",
            "compiled": "compiled Triton",
            "compile-only": "Triton compiles kernels but runs none",
        }[self.triton]
        return f"running on {where}, {device}, {triton}"


def setup(announce: bool = True, interpreter: bool = True) -> ExampleEnvironment:
    """Detect TensorRT and a GPU; without them set up the stand-in; print and return where.

    Args:
        announce: Print the one-line description.
        interpreter: Without a GPU, run kernels in Triton's interpreter. ``False`` suits tools that
            only compile kernels (``explain``): Triton's code generator is reliable only outside
            interpreter mode.
    """
    import torch
    import trt_standin

    cuda = torch.cuda.is_available()
    if not cuda:
        already_defined = _triton_kernels_defined()
        if (
            interpreter
            and already_defined
            and os.environ.get("TRITON_INTERPRET") != "1"
        ):
            raise RuntimeError(
                "trt_standin.examples.setup() must run before any @triton.jit kernel is defined "
                f"(already defined: {', '.join(already_defined[:3])}): without a GPU the kernels "
                "need the Triton interpreter, which Triton chooses at definition time. Restart "
                "the kernel (or interpreter) and call setup() first."
            )
        if interpreter:
            os.environ["TRITON_INTERPRET"] = "1"
        from trt_standin import cpu_torch

        cpu_torch.apply()
    from trt_standin import upstream_compat

    upstream_compat.reenable_qdp_on_standin()
    environment = ExampleEnvironment(
        tensorrt="real" if trt_standin.backend() == "real" else "standin",
        device="cuda" if cuda else "cpu",
        triton=(
            "compiled" if cuda else ("interpreter" if interpreter else "compile-only")
        ),
    )
    if announce:
        sys.stdout.write(environment.describe() + "\n")
        sys.stdout.flush()
    return environment


def _triton_kernels_defined() -> list[str]:
    """Names of compiled-mode Triton kernels that exist already (interpreted ones are fine)."""
    jit = sys.modules.get("triton.runtime.jit")
    if jit is None:
        return []
    import gc

    kernel_type = getattr(jit, "JITFunction", None)
    if kernel_type is None:
        return []
    return sorted(
        getattr(obj, "__name__", repr(obj))
        for obj in gc.get_objects()
        if type(obj) is kernel_type
    )
