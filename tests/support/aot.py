"""AOT test helpers: a captured launch to compile, entry parameter lists, Triton's own ptxas."""

import inspect
import re
import subprocess
from pathlib import Path
from typing import List, Union

from support import registry as support_registry


def entry_params(ptx: Union[bytes, str], name: str) -> List[str]:
    """The parameter declarations of ``.entry name(...)``, in order (the test's own parser)."""
    text = ptx.decode() if isinstance(ptx, bytes) else ptx
    m = re.search(r"\.entry\s+" + re.escape(name) + r"\s*\(([^)]*)\)", text, re.S)
    assert m, f"no .entry {name}"
    return [p.strip() for p in m.group(1).split(",") if p.strip()]


def tritons_ptxas(arch: int) -> str:
    """Path of the ptxas that ships with the installed Triton (its lookup differs by release)."""
    from triton.backends.nvidia import compiler

    if hasattr(compiler, "get_ptxas"):  # Triton >= 3.3; 3.4 on take the architecture
        found = (
            compiler.get_ptxas(arch)
            if inspect.signature(compiler.get_ptxas).parameters
            else compiler.get_ptxas()
        )
        return found.path if hasattr(found, "path") else found[0]
    return compiler._path_to_binary("ptxas")[0]  # Triton 3.2


def assemble(
    ptx: Union[bytes, str], workdir: Path, arch: int = 90
) -> subprocess.CompletedProcess:
    """Assemble ``ptx`` for sm_<arch>a with Triton's ptxas; the cubin lands in ``workdir``."""
    src = workdir / "k.ptx"
    src.write_bytes(ptx if isinstance(ptx, bytes) else ptx.encode())
    return subprocess.run(
        [
            tritons_ptxas(arch),
            f"-arch=sm_{arch}a",
            str(src),
            "-o",
            str(workdir / "k.cubin"),
        ],
        capture_output=True,
        text=True,
    )


def scale_mul_capture(cols: int = 19):
    """The catalogue's ``scale_mul`` launch (b=0.5, a=2), captured for fp32 inputs of shape (dynamic, cols)."""
    import torch
    from torch_tensorrt.dynamo.conversion.plugins import _capture
    from torch_tensorrt.dynamo.conversion.plugins._identity import TensorSignature

    record = support_registry.record("cat::scale_mul")
    key = record.variant().call_key(
        [TensorSignature(torch.float32, (None, cols))] * 2, (0.5, 2)
    )
    program = record.programs.get_or_trace("t", record.spec, record.op, key)
    return _capture.capture(record.spec, key, program)


def fp32_bits(value: float) -> int:
    """The tests' own reference for a float extra: numpy's fp32 rounding, bits as a signed int32."""
    import numpy as np

    with np.errstate(over="ignore"):
        return int(np.array([value], dtype=np.float32).view(np.int32)[0])


def case_float_bits(case) -> List[int]:
    """fp32 bits of the float attributes a catalogue case passes, in call order."""
    record = support_registry.record(case.op)
    from support import catalogue

    example = catalogue.inputs_for(case, case.static, "cpu")
    call = bind_case_call(case, record.spec, example)
    return [
        fp32_bits(a)
        for a in call.attributes
        if isinstance(a, float) and not isinstance(a, bool)
    ]


def bind_case_call(case, spec, example):
    """Bind the case's call (how the model calls the op) against the schema."""
    import torch
    from torch_tensorrt.dynamo.conversion.plugins import _binding

    seen = {}

    def recorder(*args, **kwargs):
        seen["args"], seen["kwargs"] = args, kwargs
        return None

    case.call(recorder, *example)
    return _binding.bind(
        "test",
        spec,
        seen["args"],
        seen["kwargs"],
        is_tensor=lambda v: isinstance(v, torch.Tensor),
        is_constant=lambda v: not isinstance(v, torch.Tensor),
    )
