"""Reading and assembling generated PTX in tests (Triton's own ptxas, entry parameter lists)."""

import inspect
import re
import subprocess
from pathlib import Path
from typing import List, Union


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
        found = compiler.get_ptxas(arch) if inspect.signature(compiler.get_ptxas).parameters else compiler.get_ptxas()
        return found.path if hasattr(found, "path") else found[0]
    return compiler._path_to_binary("ptxas")[0]  # Triton 3.2


def assemble(ptx: Union[bytes, str], workdir: Path, arch: int = 90) -> subprocess.CompletedProcess:
    """Assemble ``ptx`` for sm_<arch>a with Triton's ptxas; the cubin lands in ``workdir``."""
    src = workdir / "k.ptx"
    src.write_bytes(ptx if isinstance(ptx, bytes) else ptx.encode())
    return subprocess.run(
        [tritons_ptxas(arch), f"-arch=sm_{arch}a", str(src), "-o", str(workdir / "k.cubin")],
        capture_output=True, text=True,
    )
