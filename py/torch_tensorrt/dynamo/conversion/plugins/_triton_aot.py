"""Compile a captured Triton launch to PTX whose parameters are TensorRT's AOT launch order.

NOTE: [PTX in TensorRT's order]
TensorRT launches an AOT plugin kernel with exactly: input pointers (plugin input order), the int32
extra arguments, output pointers (plugin output order). A Triton kernel's parameters are in its own
order, constants among them, and Triton >= 3.3 appends ``global_scratch`` (and >= 3.6
``profile_scratch``) pointers. This module

1. compiles the user's kernel itself with Triton's ``ASTSource``: every argument the capture found
   constant (bool attributes, literal ints, constexprs) is specialised into the kernel as a
   constant, so only pointers, size-dependent ints and float scalars remain parameters. A float
   scalar (an attribute such as ``alpha``) stays what Triton's own launch makes it, an ``fp32``
   parameter, and TensorRT passes its bits as an int32 extra (see NOTE [Float extras]); a float
   the kernel declares ``tl.constexpr`` is specialised like the other constants;
2. rewrites the PTX ``.entry`` parameter list into TensorRT's order. PTX refers to parameters by
   name (``ld.param.b64 %rd1, [k_param_0]``), so permuting their declarations changes the calling
   convention and nothing else; an input the kernel does not read gets a declared, unused
   parameter so that the positions still line up;
3. drops Triton's trailing scratch parameters, after checking that the kernel needs no scratch
   memory (metadata sizes 0) and never loads them; a kernel that needs scratch is refused;
4. caps the PTX ISA version at what the target driver can load (Triton's bundled ptxas may be newer
   than the driver; ``ptx_version`` is a Triton compile option).

Pointer parameters keep a 16-byte divisibility hint (TensorRT's tensor buffers are 256-byte
aligned); integers get it only when their expression is a multiple of 16 for every input size.
Results are cached on disk by a content hash of everything that determines the PTX.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import re
import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import sympy
import torch

from ._capture import CapturedLaunch
from ._errors import PluginGenerationError
from ._fingerprint import code_fingerprint

_LOGGER = logging.getLogger(__name__)

#: Bumped whenever the PTX post-processing changes (part of the cache key).
POSTPROCESS_VERSION = 2  # 2: float arguments are fp32 parameters fed by extras

_TRITON_TYPE = {
    torch.float32: "fp32",
    torch.float16: "fp16",
    torch.bfloat16: "bf16",
    torch.float64: "fp64",
    torch.int8: "i8",
    torch.int16: "i16",
    torch.int32: "i32",
    torch.int64: "i64",
    torch.uint8: "u8",
    torch.bool: "i1",
    torch.float8_e4m3fn: "fp8e4nv",
    torch.float8_e5m2: "fp8e5",
}

# CUDA driver version (major*1000 + minor*10) -> newest PTX ISA it loads (from the PTX ISA release notes).
_PTX_ISA_BY_DRIVER = (
    (13000, 90),
    (12090, 88),
    (12080, 87),
    (12070, 86),
    (12060, 85),
    (12050, 85),
    (12040, 84),
    (12030, 83),
    (12020, 82),
    (12010, 81),
    (12000, 80),
    (11080, 78),
)


class AOTUnavailable(PluginGenerationError):
    """This launch cannot become an AOT kernel (the message says why)."""


# NOTE: [Float extras]
# TensorRT's AOT extras are int32 expressions. A float kernel argument is compiled as Triton's own
# launch types it (an ``fp32`` parameter: a Python float is passed as fp32), and TensorRT passes
# the argument's fp32 bit pattern as a constant int32 extra. A ``.param .f32`` and a ``.param .u32``
# are both 4 bytes with 4-byte alignment, so the kernel reads exactly the float; the PTX does not
# depend on the value, so one kernel serves every value of the attribute (a model with 128 call
# sites and 128 different ``alpha`` compiles one kernel, not 128).


def fp32_bits(value: float) -> int:
    """The IEEE fp32 bit pattern of ``value`` as a signed int32 (what an int32 extra holds).

    The value is rounded to fp32 as Triton's launcher rounds a Python float (out-of-range values
    become infinities); -0.0 and NaN keep their sign and kind.
    """
    import ctypes

    return int(struct.unpack("<i", struct.pack("<f", ctypes.c_float(value).value))[0])


@dataclass(frozen=True)
class Extra:
    """An int32 extra argument: which kernel parameter, and its value as an expression.

    ``expr`` is a size expression over the capture's symbols, or, for a float argument
    (``float_value`` set), the constant fp32 bit pattern of that value (NOTE [Float extras]).
    """

    name: str
    expr: sympy.Expr
    float_value: Optional[float] = None


@dataclass(frozen=True)
class CompiledKernel:
    """An AOT kernel ready for TensorRT."""

    name: str
    ptx: str
    num_warps: int
    shared: int
    extras: Tuple[Extra, ...]
    grid: Tuple[sympy.Expr, ...]
    target: int  # compute capability, e.g. 90
    ptx_version: int  # e.g. 87 for .version 8.7
    #: Every output TensorRT passes: the op's outputs, then the hidden scratch outputs.
    output_dtypes: Tuple[torch.dtype, ...] = ()


def _require_annotation(
    op: str, name: str, annotation: Optional[str], passed: str
) -> None:
    """A parameter annotated with a Triton type (``n: tl.int64``) is compiled with that type;
    TensorRT's extras are 32-bit, so any other type than the one passed keeps the site on JIT.
    """
    if annotation and annotation != passed:
        raise AOTUnavailable(
            f"{op}: kernel parameter '{name}' is annotated {annotation}, but TensorRT passes it as a "
            f"32-bit extra ({passed}); the site stays JIT, where Triton passes it as annotated"
        )


def max_ptx_version_for_driver(driver_version: int) -> Optional[int]:
    """Newest PTX ISA version (e.g. 87) a CUDA driver of ``driver_version`` (e.g. 12080) loads."""
    for driver, isa in _PTX_ISA_BY_DRIVER:
        if driver_version >= driver:
            return isa
    return None


def current_driver_version() -> Optional[int]:
    """The CUDA driver version of this machine, or None without a driver."""
    if not torch.cuda.is_available():
        return None
    try:
        from cuda.bindings import driver

        err, version = driver.cuDriverGetVersion()
        return int(version) if int(err) == 0 else None
    except ImportError:  # no cuda-python: ask the driver library itself
        pass
    try:
        import ctypes

        value = ctypes.c_int()
        status = ctypes.CDLL("libcuda.so.1").cuDriverGetVersion(ctypes.byref(value))
        return int(value.value) if status == 0 else None
    except OSError as e:
        _LOGGER.warning(
            "CUDA driver version unknown (%s): the PTX ISA version is not capped for it",
            e,
        )
        return None


def _int_divisible_by_16(expr: sympy.Expr) -> bool:
    return (
        bool(sympy.simplify(sympy.Mod(expr, 16)) == 0)
        if expr.free_symbols
        else int(expr) % 16 == 0
    )


def _jit_function(kernel: Any) -> Any:
    from triton.runtime.jit import JITFunction

    if isinstance(kernel, JITFunction):
        return kernel
    if (
        type(kernel).__name__ == "Autotuner"
    ):  # the kernel it tunes (NOTE [Autotuned kernels])
        return _jit_function(kernel.fn)
    # Under the Triton interpreter, @triton.jit gives an InterpretedFunction; compile its source.
    return JITFunction(kernel.fn)


def _interpreted(kernel: Any) -> bool:
    """Whether ``kernel`` was defined in Triton's interpreter mode (runs on the CPU)."""
    from triton.runtime.jit import JITFunction

    return not isinstance(kernel, JITFunction)


class CompileFailedInInterpreter(RuntimeError):
    """Triton failed to compile a kernel in a process running its interpreter."""


def _exact_repr(value: Any) -> str:
    """A cache-key text for a constant: floats by their bits (-0.0, NaN payloads stay distinct)."""
    if isinstance(value, float):
        return "float:" + struct.pack("<d", value).hex()
    return f"{type(value).__name__}:{value!r}"


def kernel_fingerprint(jit: Any) -> str:
    """Hash of everything in Python that the kernel's PTX depends on.

    The kernel's source, and transitively the source of every ``@triton.jit`` function it calls
    (by global name or as ``module.name``) and the value of every plain constant it reads from its
    module (``C = tl.constexpr(3)``, ``N = 128``): ``_fingerprint.code_fingerprint``. Editing a
    helper kernel or a module-level constant therefore changes the on-disk cache key, so a stale
    PTX is never served.
    """
    return code_fingerprint(jit.fn)


def cache_dir() -> str:
    return os.environ.get(
        "TORCH_TRT_PLUGINS_CACHE",
        os.path.join(os.path.expanduser("~"), ".cache", "torch_tensorrt_plugins"),
    )


@dataclass
class _Typed:
    """A captured launch typed for ``triton.compile``, and where TensorRT's buffers go."""

    signature: Dict[str, str]
    constexprs: Dict[str, Any]
    divisible: List[int]  # argument positions with a 16-byte / multiple-of-16 hint
    inputs_at: Dict[int, str]  # plugin input slot -> kernel parameter
    outputs_at: Dict[
        int, str
    ]  # plugin output slot (scratch after the op's) -> kernel parameter
    extras: List[Extra]
    output_dtypes: Tuple[torch.dtype, ...]  # the op's outputs, then the scratch tensors


def _typed_arguments(
    op: str,
    captured: CapturedLaunch,
    input_dtypes: Sequence[torch.dtype],
    output_dtypes: Sequence[torch.dtype],
) -> _Typed:
    """Type every kernel argument as Triton's launch would (see NOTE [PTX in TensorRT's order])."""
    jit = _jit_function(captured.kernel)
    annotated = {p.name: p.annotation_type for p in getattr(jit, "params", ())}
    n_visible = len(output_dtypes)
    # Scratch tensors are outputs after the op's own (NOTE [Scratch tensors] in _capture).
    output_dtypes = tuple(output_dtypes) + tuple(t.dtype for t in captured.scratch)
    signature: Dict[str, str] = {}
    constexprs: Dict[str, Any] = {}
    divisible: List[int] = []
    inputs_at: Dict[int, str] = {}
    outputs_at: Dict[int, str] = {}
    extras: List[Extra] = []
    for index, (name, source) in enumerate(zip(captured.arg_names, captured.args)):
        if source.kind in ("input", "output", "scratch"):
            slot = source.index + (n_visible if source.kind == "scratch" else 0)
            dtype = (input_dtypes if source.kind == "input" else output_dtypes)[slot]
            if dtype not in _TRITON_TYPE:
                raise AOTUnavailable(
                    f"{op}: tensor argument '{name}' has dtype {dtype}, which Triton AOT cannot type"
                )
            signature[name] = "*" + _TRITON_TYPE[dtype]
            divisible.append(index)
            table = inputs_at if source.kind == "input" else outputs_at
            if slot in table:
                raise AOTUnavailable(
                    f"{op}: {source.kind} {source.index} is passed to the kernel twice; TensorRT passes each buffer once"
                )
            table[slot] = name
        elif (
            source.kind == "int"
            and source.expr is not None
            and source.expr.free_symbols
        ):
            if name in captured.constexpr_names:
                raise AOTUnavailable(
                    f"{op}: the kernel's tl.constexpr '{name}' depends on input sizes and takes "
                    "more than one value over the shapes the graph allows (e.g. "
                    "triton.next_power_of_2 of a dynamic dimension whose range crosses a power of "
                    "two); one AOT kernel serves every shape of the profile, so it needs one value: "
                    "narrow that dimension's range to where the value is one (then it is compiled "
                    "in), make the dimension static (each value compiles its own kernel), or compute "
                    "the constexpr from static sizes"
                )
            _require_annotation(op, name, annotated.get(name), "i32")
            signature[name] = "i32"
            extras.append(Extra(name, source.expr))
            if _int_divisible_by_16(source.expr):
                divisible.append(index)
        elif (
            source.kind == "value"
            and isinstance(source.value, float)
            and name not in captured.constexpr_names
        ):
            _require_annotation(op, name, annotated.get(name), "fp32")
            signature[name] = "fp32"
            extras.append(
                Extra(name, sympy.Integer(fp32_bits(source.value)), source.value)
            )
        else:
            value = int(source.expr) if source.kind == "int" else source.value  # type: ignore[arg-type]
            if (
                isinstance(value, (int, float, bool))
                or value is None
                or name in captured.constexpr_names
            ):
                signature[name] = "constexpr"
                constexprs[name] = value
            else:
                raise AOTUnavailable(
                    f"{op}: kernel argument '{name}' = {value!r} cannot be compiled in"
                )
    return _Typed(
        signature, constexprs, divisible, inputs_at, outputs_at, extras, output_dtypes
    )


def launch_effects(
    op: str,
    captured: CapturedLaunch,
    input_dtypes: Sequence[torch.dtype],
    output_dtypes: Sequence[torch.dtype],
    *,
    target: int,
) -> Dict[str, Tuple[bool, bool]]:
    """For each tensor parameter of the launch's kernel: (may read it, may write it), from the
    TTIR of the kernel compiled as the launch types it (NOTE [Memory effects] in ``_effects``).
    """

    from ._effects import memory_effects

    jit = _jit_function(captured.kernel)
    typed = _typed_arguments(op, captured, input_dtypes, output_dtypes)
    src = _ast_source(jit, typed.signature, typed.constexprs, typed.divisible)
    options = {k: v for k, v in captured.options if k in ("num_warps", "num_stages")}
    compiled = _triton_compile(captured, src, target, options)
    effects = memory_effects(compiled.asm["ttir"])
    runtime = [n for n in captured.arg_names if typed.signature[n] != "constexpr"]
    tensors = {**{v: k for k, v in typed.inputs_at.items()}}
    tensors.update({v: k for k, v in typed.outputs_at.items()})
    return {
        name: (position in effects.reads, position in effects.writes)
        for position, name in enumerate(runtime)
        if name in tensors
    }


def compile_launch(
    op: str,
    captured: CapturedLaunch,
    input_dtypes: Sequence[torch.dtype],
    output_dtypes: Sequence[torch.dtype],
    *,
    target: int,
    driver_version: Optional[int] = None,
) -> CompiledKernel:
    """PTX for ``captured`` in TensorRT's parameter order (see NOTE [PTX in TensorRT's order])."""
    import triton

    jit = _jit_function(captured.kernel)
    typed = _typed_arguments(op, captured, input_dtypes, output_dtypes)
    output_dtypes = typed.output_dtypes
    signature, constexprs, divisible = (
        typed.signature,
        typed.constexprs,
        typed.divisible,
    )
    inputs_at, outputs_at, extras = typed.inputs_at, typed.outputs_at, typed.extras
    n_outputs = len(output_dtypes)
    missing_outputs = [i for i in range(n_outputs) if i not in outputs_at]
    if missing_outputs:
        raise AOTUnavailable(
            f"{op}: outputs {missing_outputs} are not written by the kernel"
        )

    options: Dict[str, Any] = dict(captured.options)
    if int(options.get("num_ctas", 1) or 1) != 1:
        raise AOTUnavailable(
            f"{op}: the kernel is launched with num_ctas={options['num_ctas']} (thread-block "
            "clusters), which TensorRT's AOT launch does not set up"
        )
    default_ptx = _default_ptx_version(target)
    ptx_version = default_ptx
    if driver_version is not None:
        cap = max_ptx_version_for_driver(driver_version)
        if cap is None:
            raise AOTUnavailable(
                f"{op}: CUDA driver {driver_version} is too old for Triton's PTX"
            )
        ptx_version = min(default_ptx, cap) if default_ptx else cap
    if ptx_version and ptx_version != default_ptx:
        options["ptx_version"] = ptx_version

    key = hashlib.sha256(
        json.dumps(
            {
                "source": kernel_fingerprint(jit),
                "name": jit.__name__,
                "signature": signature,
                "constexprs": {k: _exact_repr(v) for k, v in constexprs.items()},
                "divisible": divisible,
                "options": {k: repr(v) for k, v in sorted(options.items())},
                "target": target,
                "triton": triton.__version__,
                "order": [inputs_at, [e.name for e in extras], outputs_at],
                "postprocess": POSTPROCESS_VERSION,
            },
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()
    n_params = len(input_dtypes) + len(extras) + n_outputs
    cached = _read_cache(key)
    if (
        cached is not None
        and parameter_count_error(op, cached[0], cached[1], n_params) is not None
    ):
        _LOGGER.warning(
            "%s: ignoring the cached PTX %s: it does not match this launch",
            op,
            _cache_file(key),
        )
        cached = None
    if cached is not None:
        name, ptx, num_warps, shared, version = cached
    else:
        _LOGGER.info(
            "%s: compiling Triton kernel %s to PTX for sm_%d", op, jit.__name__, target
        )
        src = _ast_source(jit, signature, constexprs, divisible)
        compiled = _triton_compile(captured, src, target, options)
        metadata = compiled.metadata
        scratch = int(getattr(metadata, "global_scratch_size", 0) or 0)
        profile = int(getattr(metadata, "profile_scratch_size", 0) or 0)
        if scratch or profile:
            raise AOTUnavailable(
                f"{op}: kernel {metadata.name} needs {scratch} bytes of global scratch and {profile} of profile "
                "scratch memory, which TensorRT cannot provide to an AOT plugin"
            )
        order = (
            [inputs_at.get(i) for i in range(len(input_dtypes))]
            + [e.name for e in extras]
            + [outputs_at[i] for i in range(n_outputs)]
        )
        kernel_params = [n for n in captured.arg_names if signature[n] != "constexpr"]
        ptx = reorder_entry_params(
            compiled.asm["ptx"], metadata.name, kernel_params, order
        )
        name, num_warps, shared = (
            metadata.name,
            int(metadata.num_warps),
            int(metadata.shared),
        )
        version = ptx_version_of(ptx)
        mismatch = parameter_count_error(op, name, ptx, n_params)
        if mismatch is not None:
            raise AOTUnavailable(mismatch)
        _write_cache(key, name, ptx, num_warps, shared, version)
    return CompiledKernel(
        name,
        ptx,
        num_warps,
        shared,
        tuple(extras),
        captured.grid,
        target,
        version,
        output_dtypes,
    )


def _triton_compile(
    captured: CapturedLaunch, src: Any, target: int, options: Dict[str, Any]
) -> Any:
    """``triton.compile`` of ``src`` for sm_<target>; CompileFailedInInterpreter where Triton's
    interpreter mode made it fail."""
    import triton
    from triton.backends.compiler import GPUTarget

    try:
        return triton.compile(
            src, target=GPUTarget("cuda", target, 32), options=options
        )
    except Exception as e:
        if not _interpreted(captured.kernel):
            raise
        # Triton's code generator misreads some valid kernels (library calls such as
        # tl.sigmoid, @triton.jit library functions such as tl.max) while the interpreter mode is on.
        raise CompileFailedInInterpreter(
            "Triton compiled this kernel in a process that runs its interpreter, in which "
            "Triton rejects many valid kernels; a process not in interpreter mode (any GPU "
            "process, or `explain` from the command line) compiles it. Triton said: "
            f"{type(e).__name__}: {e}"
        ) from e


def _ast_source(
    jit: Any,
    signature: Dict[str, str],
    constexprs: Dict[str, Any],
    divisible: Sequence[int],
) -> Any:
    """Triton's ``ASTSource`` for the kernel, in the form the installed Triton takes.

    Triton 3.3 and later take every argument in ``signature`` (``"constexpr"`` for constants),
    ``constexprs`` by name and ``attrs`` keyed by ``(position,)``; Triton 3.2 takes only the
    non-constant arguments in ``signature``, the constants as ``constants`` and an
    ``AttrsDescriptor`` built from ``{position: 16}`` hints.
    """
    from triton.compiler import ASTSource

    if "constexprs" in inspect.signature(ASTSource.__init__).parameters:
        attrs = {(index,): [["tt.divisibility", 16]] for index in divisible}
        return ASTSource(
            fn=jit, signature=signature, constexprs=constexprs, attrs=attrs
        )
    from triton.backends.compiler import AttrsDescriptor  # Triton 3.2

    runtime_args = {
        name: kind for name, kind in signature.items() if kind != "constexpr"
    }
    hints = AttrsDescriptor.from_hints(dict.fromkeys(divisible, 16))
    return ASTSource(fn=jit, signature=runtime_args, constants=constexprs, attrs=hints)


def _default_ptx_version(target: int) -> Optional[int]:
    """The PTX ISA version Triton targets by default (from its bundled ptxas), e.g. 87."""
    try:
        from triton.backends.nvidia.compiler import (
            CUDAOptions,
            get_ptx_version_from_options,
        )

        # Triton 3.2 takes the options only; later releases also the target architecture.
        takes_arch = len(inspect.signature(get_ptx_version_from_options).parameters) > 1
        args = (CUDAOptions(), target) if takes_arch else (CUDAOptions(),)
        return int(get_ptx_version_from_options(*args))
    except Exception:  # a Triton without these helpers: let Triton choose
        return None


_ENTRY = r"(\.entry\s+{name}\s*\()([^)]*)(\))"


def entry_parameters(ptx: str, name: str) -> List[str]:
    """The declarations of ``.entry name(...)``, in order."""
    m = re.search(_ENTRY.format(name=re.escape(name)), ptx, re.S)
    if m is None:
        raise AOTUnavailable(f"the PTX has no .entry {name}")
    return [p.strip() for p in m.group(2).split(",") if p.strip()]


def parameter_count_error(op: str, name: str, ptx: str, expected: int) -> Optional[str]:
    """Why ``.entry name`` cannot take TensorRT's ``expected`` arguments (None when it can).

    TensorRT passes exactly inputs + int32 extras + outputs pointers and values, and does not check
    them against the kernel: a kernel declaring any other number reads garbage or faults.
    """
    try:
        declared = len(entry_parameters(ptx, name))
    except AOTUnavailable as e:
        return f"{op}: {e}"
    if declared != expected:
        return (
            f"{op}: kernel {name} declares {declared} parameters, but TensorRT passes {expected} "
            "(inputs, int32 extras, outputs)"
        )
    return None


def _references(ptx: str, param_name: str) -> bool:
    """Whether the PTX uses ``param_name`` anywhere but in its own declaration."""
    return (
        len(re.findall(r"(?<![\w$])" + re.escape(param_name) + r"(?![\w$])", ptx)) > 1
    )


def strip_unused_trailing_parameters(
    ptx: str, name: str, expected: int
) -> Tuple[str, List[str]]:
    """Remove ``.entry name``'s declared parameters beyond the first ``expected`` when the kernel
    never references them (see NOTE [Hand-written PTX parameters] in ``_handwritten``).

    Returns the PTX and the removed parameter names. Raises AOTUnavailable when a trailing
    parameter is referenced (the kernel would read memory TensorRT never passes).
    """
    declared = entry_parameters(ptx, name)
    if len(declared) <= expected:
        return ptx, []
    trailing = declared[expected:]
    names = [decl.split()[-1] for decl in trailing]
    used = [n for n in names if _references(ptx, n)]
    if used:
        raise AOTUnavailable(
            f"kernel {name} declares {len(declared)} parameters and reads {used} beyond the {expected} TensorRT "
            "passes (inputs, int32 extras, outputs); for Triton kernels this is scratch memory "
            "(global_scratch / profile_scratch), which an AOT plugin cannot be given"
        )
    m = re.search(_ENTRY.format(name=re.escape(name)), ptx, re.S)
    assert m is not None
    kept = declared[:expected]
    body = ",\n\t".join(kept)
    return (
        ptx[: m.start(2)] + ("\n\t" + body + "\n" if kept else "") + ptx[m.end(2) :],
        names,
    )


def ptx_version_of(ptx: str) -> int:
    m = re.search(r"^\s*\.version\s+(\d+)\.(\d+)", ptx, re.M)
    if m is None:
        raise AOTUnavailable("the PTX has no .version directive")
    return int(m.group(1)) * 10 + int(m.group(2))


def reorder_entry_params(
    ptx: str, name: str, kernel_params: Sequence[str], order: Sequence[Optional[str]]
) -> str:
    """Rewrite ``.entry name``'s parameters: ``order`` lists kernel parameter names (None: unused slot).

    ``kernel_params`` are the kernel's non-constant parameters in Triton's order; PTX declares them
    first (``<name>_param_<i>``), followed by Triton's scratch pointers, which are removed here.
    """
    declared = entry_parameters(ptx, name)
    if len(declared) < len(kernel_params):
        raise AOTUnavailable(
            f"kernel {name}: PTX declares {len(declared)} parameters, fewer than its {len(kernel_params)} arguments"
        )
    by_arg = dict(zip(kernel_params, declared))
    trailing = declared[len(kernel_params) :]
    for decl in trailing:
        param_name = decl.split()[-1]
        if _references(ptx, param_name):
            raise AOTUnavailable(
                f"kernel {name}: the kernel reads Triton's scratch parameter {param_name}"
            )
    new_params = []
    for position, arg in enumerate(order):
        if arg is None:
            new_params.append(
                f".param .u64 .ptr .global .align 1 {name}_unused_input_{position}"
            )
        else:
            new_params.append(by_arg[arg])
    m = re.search(_ENTRY.format(name=re.escape(name)), ptx, re.S)
    assert m is not None
    body = ",\n\t".join(new_params)
    return (
        ptx[: m.start(2)]
        + ("\n\t" + body + "\n" if new_params else "")
        + ptx[m.end(2) :]
    )


def _cache_file(key: str) -> str:
    return os.path.join(cache_dir(), "aot", f"{key}.json")


def _read_cache(key: str) -> Optional[Tuple[str, str, int, int, int]]:
    try:
        with open(_cache_file(key)) as f:
            data = json.load(f)
        return (
            data["name"],
            data["ptx"],
            int(data["num_warps"]),
            int(data["shared"]),
            int(data["ptx_version"]),
        )
    except (OSError, ValueError, KeyError):
        return None


def _write_cache(
    key: str, name: str, ptx: str, num_warps: int, shared: int, ptx_version: int
) -> None:
    path = _cache_file(key)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(
                {
                    "name": name,
                    "ptx": ptx,
                    "num_warps": num_warps,
                    "shared": shared,
                    "ptx_version": ptx_version,
                },
                f,
            )
        os.replace(tmp, path)
    except OSError as e:  # a read-only home must not break compilation
        _LOGGER.debug("AOT kernel cache not written (%s)", e)
