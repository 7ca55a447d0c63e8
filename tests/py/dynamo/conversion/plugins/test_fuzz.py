"""Differential fuzzing: generated custom ops, compiled with their generated plugins, against eager.

``test_differential`` draws ops from ``support.fuzz_ops`` (argument kinds and orders, defaults,
keyword-only, Optional tensors, every attribute kind with values such as -0.0, NaN, inf and huge
ints; bodies that are one Triton launch, torch code, or a launch fed by Python state; fake kernels
with broadcasting, size arithmetic, guards, or deliberately wrong), compiles each twice in one
process (two dtypes, static or dynamic profiles, a named overload in the same model), and checks:
the compiled output equals eager in shape, dtype and value (NaN where eager has NaN), or the node
stayed in PyTorch with a reason in ``plugin_status``, or, for an op whose fake kernel is wrong, a
``PluginRuntimeError`` says so. Nothing else is acceptable.

``test_lifecycle`` is a rule-based state machine over what notebook users do: redefine the kernel,
the fake kernel or the op, run ``custom_op`` again, remove handles, compile, run, ask for status.

The CI budget is fixed and derandomized (``PLUGINS_FUZZ_EXAMPLES``, default 30; the state machine
``PLUGINS_FUZZ_STEPS``, default 12 runs). A longer run is one command::

    PLUGINS_FUZZ_EXAMPLES=500 PLUGINS_FUZZ_STEPS=200 .venv/bin/python -m pytest tests/py/dynamo/conversion/plugins/test_fuzz.py

``PLUGINS_FUZZ_MUTATION`` applies one of ``support.fuzz_mutations`` (each reverts one fix of issue 8)
to show that the generator finds that defect (``tools/fuzz_mutations.sh`` runs them all).
"""

# No "from __future__ import annotations": torch.library reads real annotations.

import itertools
import os
from typing import Any, List, Optional

import pytest
import torch

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import (  # noqa: E402
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)
from support import fuzz_mutations, fuzz_ops  # noqa: E402
from support.fuzz_ops import Attr, OpCase  # noqa: E402

EXAMPLES = int(os.environ.get("PLUGINS_FUZZ_EXAMPLES", "30"))
STEPS = int(os.environ.get("PLUGINS_FUZZ_STEPS", "12"))
_NAMESPACES = itertools.count()


# -- the generator --------------------------------------------------------------------------------------
FLOATS = st.sampled_from(
    [0.0, -0.0, float("nan"), float("inf"), float("-inf"), 1.5, -2.25, 1e-40]
)
INTS = st.sampled_from([0, 3, -5, 2**40, -(2**62), 7])
VALUES = {
    "float": FLOATS,
    "int": INTS,
    "bool": st.booleans(),
    "str": st.sampled_from(["add", "sub"]),
    "int[]": st.lists(st.sampled_from([0, 1, -2, 2**33]), max_size=3).map(tuple),
    "float[]": st.lists(
        st.sampled_from([0.5, -0.0, float("nan"), 2.0]), max_size=3
    ).map(tuple),
    "ScalarType": st.sampled_from(
        [torch.float32, torch.float16, torch.int32, torch.int64]
    ),
}
#: Schema defaults must be literals the schema parser accepts: finite numbers.
DEFAULTS = dict(
    VALUES,
    **{
        "float": st.sampled_from([0.0, -0.0, 1.5, -2.25]),
        "float[]": st.lists(st.sampled_from([0.5, -0.0, 2.0]), max_size=3).map(tuple),
    },
)
NAMES = {
    "float": "alpha",
    "int": "k",
    "bool": "flag",
    "str": "mode",
    "int[]": "sizes",
    "float[]": "weights",
    "ScalarType": "to",
}


@st.composite
def attributes(draw: Any, kinds: List[str]) -> tuple:
    attrs = []
    for kind in kinds:
        value = draw(VALUES[kind])
        has_default = draw(st.booleans())
        default = draw(DEFAULTS[kind]) if has_default else None
        # The second model passes the same value, another one, or (floats) the negation: 0.0 / -0.0.
        choices = [st.just(value), VALUES[kind]] + (
            [st.just(-value)] if kind == "float" else []
        )
        attrs.append(
            Attr(
                NAMES[kind],
                kind,
                value,
                default,
                has_default,
                kwarg_only=draw(st.booleans()),
                omit=has_default and draw(st.booleans()),
                value2=draw(st.one_of(*choices)),
            )
        )
    positional = [a for a in attrs if not a.kwarg_only]
    positional.sort(
        key=lambda a: a.has_default
    )  # schema defaults come last among positionals
    return tuple(positional + [a for a in attrs if a.kwarg_only])


#: What makes an example dangerous; each is drawn as often as the rest together would be rare.
#: "two_dtypes": one op compiled for two input dtypes whose body picks a constant by dtype;
#: "signed_zero": the second model passes -f (0.0 and -0.0, NaN payload signs);
#: "python_state": the body reads a counter; "wrong_fake": the fake kernel disagrees with the body;
#: "overload": two overloads of one op in one model; "any": nothing forced.
TWISTS = [
    "two_dtypes",
    "signed_zero",
    "python_state",
    "wrong_fake",
    "overload",
    "any",
    "any",
]


@st.composite
def op_cases(draw: Any) -> OpCase:
    twist = draw(st.sampled_from(TWISTS))
    if twist in ("two_dtypes", "signed_zero"):
        body = "triton"
    elif twist == "python_state":
        body = "stateful"
    elif twist == "overload":
        body = "torch"
    else:
        body = draw(st.sampled_from(["triton", "torch", "stateful"]))
    triton_body = body != "torch"
    kinds = draw(st.lists(st.sampled_from(sorted(VALUES)), unique=True, max_size=4))
    if triton_body:
        kinds = [k for k in kinds if k not in ("bool", "ScalarType")]
    if twist == "signed_zero" and "float" not in kinds:
        kinds.append("float")
    attrs = draw(attributes(kinds))
    if twist == "signed_zero":
        zero = draw(st.sampled_from([0.0, -0.0, float("nan")]))
        attrs = tuple(
            (
                a
                if a.kind != "float"
                else Attr(
                    a.name,
                    a.kind,
                    zero,
                    a.default,
                    a.has_default,
                    a.kwarg_only,
                    False,
                    -zero,
                )
            )
            for a in attrs
        )
    elif twist in ("two_dtypes", "python_state"):  # the same values in both models
        attrs = tuple(
            Attr(
                a.name, a.kind, a.value, a.default, a.has_default, a.kwarg_only, a.omit
            )
            for a in attrs
        )
    if body == "stateful":  # finite values keep the per-call step observable
        finite = {"float": (1.5, 0.5), "float[]": ((0.5,), (2.0,))}
        attrs = tuple(
            (
                a
                if a.kind not in finite
                else Attr(
                    a.name,
                    a.kind,
                    finite[a.kind][0],
                    finite[a.kind][1] if a.has_default else None,
                    a.has_default,
                    a.kwarg_only,
                    a.omit,
                )
            )
            for a in attrs
        )
    with_y = draw(st.booleans())
    y_optional = with_y and draw(st.booleans())
    y_passed = with_y and (not y_optional or draw(st.booleans()))
    if triton_body:
        shape = "elementwise"
        if twist == "two_dtypes":
            x_dtype, second = draw(
                st.sampled_from(
                    [
                        (torch.float32, torch.float16),
                        (torch.float16, torch.float32),
                        (torch.bfloat16, torch.float16),
                        (torch.float16, torch.bfloat16),
                    ]
                )
            )
        elif twist == "signed_zero":
            x_dtype = second = draw(st.sampled_from(fuzz_ops.FLOAT_DTYPES))
        else:
            dtypes = st.sampled_from(fuzz_ops.FLOAT_DTYPES)
            x_dtype, second = draw(dtypes), draw(dtypes)
    else:
        shape = draw(
            st.sampled_from(
                ["elementwise", "broadcast", "concat", "rows", "guarded"]
                if y_passed
                else ["elementwise", "rows", "guarded"]
            )
        )
        family = draw(st.sampled_from([fuzz_ops.FLOAT_DTYPES, fuzz_ops.OTHER_DTYPES]))
        x_dtype, second = draw(st.sampled_from(family)), draw(st.sampled_from(family))
    if twist == "wrong_fake":
        fake = draw(st.sampled_from(["wrong_shape", "wrong_dtype"]))
    elif twist == "any":
        fake = draw(st.sampled_from(["right"] * 8 + ["wrong_shape", "wrong_dtype"]))
    else:
        fake = "right"
    case = OpCase(
        namespace=f"fz{next(_NAMESPACES)}_{draw(st.integers(0, 10**6))}",
        attrs=attrs,
        body=body,
        shape=shape,
        x_dtype=x_dtype,
        second_dtype=second,
        with_y=with_y,
        y_optional=y_optional,
        y_passed=y_passed,
        fake=fake,
        overload=twist == "overload"
        or (not triton_body and twist == "any" and draw(st.booleans())),
        dynamic=draw(st.booleans()),
        rows=draw(st.sampled_from([1, 3, 5, 37])),
        cols=draw(st.sampled_from([1, 4, 67])),
        # y after the attributes only where no defaulted attribute comes before it (schema rule)
        tensor_first=draw(st.booleans())
        or (with_y and any(a.has_default and not a.kwarg_only for a in attrs)),
    )
    assert not triton_body or fuzz_ops.triton_compatible(case), case
    return case


# -- one example ------------------------------------------------------------------------------------------
class _Model(torch.nn.Module):
    def __init__(self, case: OpCase, packet: Any, second: bool) -> None:
        super().__init__()
        self.case = case
        self.packet = packet
        self.second = second

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> Any:
        out = fuzz_ops.call(self.case, self.packet.default, x, y, self.second)
        if self.case.overload:
            return out, fuzz_ops.call(self.case, self.packet.alt, x, y, self.second)
        return out


def _inputs(
    case: OpCase, dtype: torch.dtype, rows: int, device: str
) -> List[torch.Tensor]:
    def make(shape: tuple) -> torch.Tensor:
        if dtype == torch.bool:
            return torch.rand(shape, device=device) > 0.5
        if dtype.is_floating_point:
            return torch.randn(shape, device=device).to(dtype)
        return torch.randint(-50, 50, shape, device=device).to(dtype)

    x = make((rows, case.cols))
    y = make((1, case.cols) if case.shape == "broadcast" else (rows, case.cols))
    return [x, y]


def _specs(case: OpCase, example: List[torch.Tensor]) -> List[Any]:
    import torch_tensorrt

    if not case.dynamic:
        return example
    x, y = example
    lo, hi = 1, max(example[0].shape[0], 3) + 6
    specs = [
        torch_tensorrt.Input(
            min_shape=(lo, case.cols),
            opt_shape=tuple(x.shape),
            max_shape=(hi, case.cols),
            dtype=x.dtype,
        )
    ]
    if case.shape == "broadcast":
        specs.append(torch_tensorrt.Input(shape=tuple(y.shape), dtype=y.dtype))
    else:
        specs.append(
            torch_tensorrt.Input(
                min_shape=(lo, case.cols),
                opt_shape=tuple(y.shape),
                max_shape=(hi, case.cols),
                dtype=y.dtype,
            )
        )
    return specs


def _same(got: Any, expected: Any, atol: Optional[float] = None) -> None:
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert (g.shape, g.dtype) == (
            e.shape,
            e.dtype,
        ), f"{g.shape} {g.dtype} vs eager {e.shape} {e.dtype}"
        tolerance = (
            {"atol": 1e-2, "rtol": 1e-2}
            if e.dtype in (torch.float16, torch.bfloat16)
            else {}
        )
        if atol is not None:
            tolerance = {"atol": atol, "rtol": 0.0}
        if e.dtype.is_floating_point:
            assert torch.equal(
                torch.isnan(g), torch.isnan(e)
            ), "NaN where eager has none (or the reverse)"
            assert torch.equal(
                torch.signbit(g[g == 0]), torch.signbit(e[g == 0])
            ), "sign of zero differs"
        torch.testing.assert_close(g, e, equal_nan=True, **tolerance)


def _fake_error(error: BaseException) -> bool:
    from torch_tensorrt.dynamo.conversion.plugins import PluginRuntimeError

    while error is not None:
        if isinstance(error, PluginRuntimeError) and "fake kernel" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def check_case(case: OpCase, device: str) -> None:
    """Compile the op's model for two dtypes and compare with eager (see the module docstring)."""
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    defined = fuzz_ops.define(case)
    handles = []
    try:
        handles.append(custom_op(case.qualname))
        if case.overload:
            handles.append(custom_op(case.qualname + ".alt"))
        for second, dtype in ((False, case.x_dtype), (True, case.second_dtype)):
            model = _Model(case, defined.packet, second).eval()
            example = _inputs(case, dtype, max(case.rows, 3), device)
            try:
                compiled = torch_tensorrt.compile(
                    model, ir="dynamo", inputs=_specs(case, example), min_block_size=1
                )
                runs = [example] + (
                    [_inputs(case, dtype, case.rows, device)] if case.dynamic else []
                )
                for inputs in runs:
                    if case.body == "stateful":
                        c1, c2 = compiled(*inputs), compiled(*inputs)
                        e1, e2 = model(*inputs), model(*inputs)
                        # One step per call, as eager: compare the steps, to the outputs' rounding.
                        atol = (
                            4
                            * torch.finfo(e1.dtype).eps
                            * max(1.0, float(e2.float().abs().max()))
                        )
                        _same(
                            c2.float() - c1.float(), e2.float() - e1.float(), atol=atol
                        )
                        continue
                    _same(compiled(*inputs), model(*inputs))
            except Exception as e:
                if case.inconsistent and _fake_error(e):
                    continue
                raise
            in_pytorch = any(
                n.op == "call_function"
                and getattr(n.target, "_schema", None) is not None
                and n.target._schema.name == f"{case.namespace}::op"
                for m in compiled.modules()
                if isinstance(m, torch.fx.GraphModule)
                for n in m.graph.nodes
            )
            if in_pytorch:
                reasons = dict(plugin_status(case.qualname).not_converted)
                if case.overload:
                    reasons.update(plugin_status(case.qualname + ".alt").not_converted)
                assert (
                    reasons
                ), "a node stayed in PyTorch without a reason in plugin_status"
            elif case.inconsistent:
                raise AssertionError(
                    "an op whose real kernel disagrees with its fake kernel was converted without an error"
                )
    finally:
        for h in reversed(handles):
            h.remove()
        defined.destroy()


@pytest.fixture(scope="module")
def mutation():
    """The mutation named by PLUGINS_FUZZ_MUTATION (a reverted fix), applied for this module."""
    with fuzz_mutations.applied(os.environ.get("PLUGINS_FUZZ_MUTATION", "")) as name:
        yield name


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(case=op_cases())
def test_differential(trt_backend, device, mutation, case):
    check_case(case, device)


# -- the lifecycle state machine ----------------------------------------------------------------------
class Lifecycle(RuleBasedStateMachine):
    """Notebook cells run in any order: the registry, QDP and every compile stay truthful."""

    def __init__(self) -> None:
        super().__init__()
        from support import kernels8

        self.kernels8 = kernels8
        self.namespace = f"lc{next(_NAMESPACES)}"
        self.qualname = f"{self.namespace}::op"
        self.saved_kernel = kernels8.KERNEL
        self.kernel_factor = 2
        self.fake_right = True
        self.op_version = 0
        self.defined = False
        self.registered_version: Optional[int] = (
            None  # op version custom_op last ran for
        )
        self.handles: List[Any] = []
        self.library = None

    # -- cells -----------------------------------------------------------------------------------
    @rule(factor=st.sampled_from([2, 3]))
    def define_kernel(self, factor: int) -> None:
        k = self.kernels8
        k.KERNEL = k.times_two_kernel if factor == 2 else k.times_three_kernel
        self.kernel_factor = factor

    @rule()
    def define_op(self) -> None:
        from torch._library.custom_ops import OPDEF_TO_LIB, OPDEFS

        lib = OPDEF_TO_LIB.pop(self.qualname, None)
        if lib is not None:
            lib._destroy()
        OPDEFS.pop(self.qualname, None)
        k = self.kernels8

        def op(x: torch.Tensor) -> torch.Tensor:
            return k.launch_current_kernel(x)

        torch.library.custom_op(self.qualname, op, mutates_args=())
        self.op_version += 1
        self.defined = True
        self._register_fake()

    @precondition(lambda self: self.defined)
    @rule(right=st.booleans())
    def define_fake(self, right: bool) -> None:
        self.fake_right = right
        self._register_fake()

    def _register_fake(self) -> None:
        right = self.fake_right
        torch.library.register_fake(self.qualname)(
            lambda x: (
                torch.empty_like(x)
                if right
                else x.new_empty((x.shape[0] + 1, x.shape[1]))
            )
        )

    @precondition(lambda self: self.defined)
    @rule()
    def run_custom_op(self) -> None:
        from torch_tensorrt.dynamo.conversion.plugins import custom_op

        self.handles.append(custom_op(self.qualname))
        self.registered_version = self.op_version

    @precondition(lambda self: bool(self.handles))
    @rule()
    def remove_handle(self) -> None:
        self.handles.pop().remove()
        if not any(h.active for h in self.handles):
            self.registered_version = None

    @precondition(lambda self: self.defined)
    @rule(rows=st.sampled_from([3, 37]))
    def compile_and_run(self, rows: int) -> None:
        import torch_tensorrt

        packet = getattr(getattr(torch.ops, self.namespace), "op")

        class Model(torch.nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return packet(x) + 1

        device = "cuda" if torch.cuda.is_available() else "cpu"
        x = torch.randn(rows, 5, device=device)
        plugin_expected = self.registered_version == self.op_version
        try:
            compiled = torch_tensorrt.compile(
                Model().eval(), ir="dynamo", inputs=[x], min_block_size=1
            )
            out = compiled(x)
        except Exception as e:
            # A wrong fake kernel: ours must say so; without a live plugin the op runs in PyTorch and
            # Torch-TensorRT fails as it does for any op whose fake kernel lies.
            assert not self.fake_right and (
                _fake_error(e) or not plugin_expected
            ), repr(e)
            return
        assert self.fake_right or not self._converted(
            compiled, packet
        ), "a wrong fake kernel went unnoticed"
        torch.testing.assert_close(out, x * self.kernel_factor + 1)

    @staticmethod
    def _converted(compiled: Any, packet: Any) -> bool:
        return not any(
            n.op == "call_function" and n.target is packet.default
            for m in compiled.modules()
            if isinstance(m, torch.fx.GraphModule)
            for n in m.graph.nodes
        )

    # -- what must always hold ---------------------------------------------------------------------
    @invariant()
    def status_tells_the_truth(self) -> None:
        from torch_tensorrt.dynamo.conversion.plugins import (
            PluginGenerationError,
            _qdp,
            plugin_status,
        )

        try:
            status = plugin_status(self.qualname)
        except PluginGenerationError:
            assert self.registered_version is None
        else:
            assert self.registered_version is not None
            redefined = status.stale is not None and "redefined" in status.stale
            assert redefined == (self.registered_version != self.op_version), (
                status.stale,
                self.registered_version,
                self.op_version,
            )
        from tensorrt.plugin._lib import QDP_REGISTRY

        in_qdp = {p for p in QDP_REGISTRY if p.startswith(self.namespace + "::")}
        ours = {p for p in _qdp.OWNED if p.startswith(self.namespace + "::")}
        assert in_qdp == ours, (in_qdp, ours)  # bookkeeping and QDP never disagree

    def teardown(self) -> None:
        from torch._library.custom_ops import OPDEF_TO_LIB, OPDEFS

        for h in reversed(self.handles):
            h.remove()
        lib = OPDEF_TO_LIB.pop(self.qualname, None)
        if lib is not None:
            lib._destroy()
        OPDEFS.pop(self.qualname, None)
        self.kernels8.KERNEL = self.saved_kernel


def test_lifecycle(trt_backend, mutation):
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=STEPS,
            stateful_step_count=8,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# -- the generator finds every defect it is meant to find -------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(fuzz_mutations.MUTATIONS))
def test_the_fuzzer_finds_each_reverted_fix(trt_backend, name):
    """With one fix of issue 8 reverted (``support.fuzz_mutations``), the CI-budget fuzz run fails.

    Runs in a child process so that the mutation and the op registrations it leaves die with it.
    """
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[5]
    env = dict(os.environ, PLUGINS_FUZZ_MUTATION=name)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            f"{pathlib.Path(__file__).relative_to(root)}::test_differential",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
        cwd=str(root),
    )
    assert (
        result.returncode != 0
    ), f"the fuzzer did not find the reverted fix {name!r}:\n{result.stdout[-2000:]}"
    assert (
        "Falsifying example" in result.stdout
        or "Failing test case" in result.stdout
        or "sub-exception" in result.stdout
    ), result.stdout[-3000:]
