"""Bad input to the plugin generator: every message names the call, the op and the argument.

Each message follows ``{api}({op}): {problem}. Got {value}. Expected {valid}. {fix}`` (see
``_errors.py``); the tests match the text a user reads. Every test defines its ops under its own
namespace (``err_<n>``), and every registration (torch op, QDP plugin, converter) is undone.
Cases where the library's message falls short of what a user should read are strict xfails.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas and QDP inspects
# signatures from real annotation objects.

import re
from typing import Any, List, Tuple

import pytest
import torch
from support import registry as support_registry
from torch.fx.experimental.symbolic_shapes import ShapeEnv

API_PLUGIN = "generate_plugin"
API_CONVERTER = "generate_plugin_converter"


# -- fixtures -------------------------------------------------------------------------------------
def _identity_op(ops: Any, qualname: str) -> torch._ops.OpOverload:
    def fn(x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    return ops.custom(qualname, fn, lambda x: torch.empty_like(x))


def _compile_dynamic(model: torch.nn.Module, lo, opt, hi) -> Any:
    import torch_tensorrt

    inputs = [
        torch_tensorrt.Input(
            min_shape=lo, opt_shape=opt, max_shape=hi, dtype=torch.float32
        )
    ]
    return torch_tensorrt.compile(model, ir="dynamo", inputs=inputs, min_block_size=1)


def _node_calling(graph_module: Any, op: torch._ops.OpOverload) -> Any:
    nodes = [
        n
        for n in graph_module.graph.nodes
        if n.op == "call_function" and n.target is op
    ]
    assert (
        len(nodes) == 1
    ), f"expected the op to stay in PyTorch once:\n{graph_module.graph}"
    return nodes[0]


def _fake_is_tensor(value: Any) -> bool:
    return isinstance(value, torch.Tensor)


def _fake_is_constant(value: Any) -> bool:
    return not isinstance(
        value, (torch.Tensor, torch.SymInt, torch.SymFloat, torch.fx.Node)
    )


# -- names ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("api", [API_PLUGIN, API_CONVERTER])
def test_unknown_op(trt_backend, api):
    from torch_tensorrt.dynamo.conversion import plugins

    with pytest.raises(ValueError) as info:
        getattr(plugins, api)("err_1::missing")
    assert str(info.value) == (
        f"{api}(err_1::missing): no such op is registered with torch. Got err_1::missing. "
        "Expected an op defined under torch.ops.err_1. Import the module that defines the op "
        "(torch.library.custom_op) before this call."
    )


def test_unknown_overload(trt_backend, ops):
    from torch_tensorrt.dynamo.conversion.plugins import generate_plugin

    _identity_op(ops, "err_2::ident")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "generate_plugin(err_2::ident.bogus): the op has no overload 'bogus'. Got bogus. "
            "Expected one of ['default']."
        ),
    ):
        generate_plugin("err_2::ident.bogus")


@pytest.mark.parametrize("name", ["no_namespace", "err_3:single_colon", "err_3::"])
def test_malformed_name(trt_backend, name):
    from torch_tensorrt.dynamo.conversion.plugins import (
        PluginGenerationError,
        generate_plugin,
    )

    with pytest.raises(
        PluginGenerationError,
        match=re.escape(
            f"generate_plugin({name}): malformed op name. Got {name}. "
            'Expected "namespace::op_name" or "namespace::op_name.overload". '
            "Use the name given to torch.library.custom_op / Library.define."
        ),
    ):
        generate_plugin(name)


@pytest.mark.parametrize("api", [API_PLUGIN, API_CONVERTER])
def test_name_that_is_not_a_string(trt_backend, api):
    from torch_tensorrt.dynamo.conversion import plugins

    with pytest.raises(
        TypeError,
        match=re.escape(
            f"{api}(123): the op must be named by a string. Got int. "
            'Expected "namespace::op_name". Pass the name the op was defined with, e.g. "my_lib::my_op".'
        ),
    ):
        getattr(plugins, api)(123)


# -- the fake kernel ------------------------------------------------------------------------------
def test_op_without_fake_kernel(trt_backend, ops):
    from torch_tensorrt.dynamo.conversion.plugins import (
        PluginGenerationError,
        generate_plugin,
    )

    def fn(x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    ops.custom("err_4::no_fake", fn)
    with pytest.raises(PluginGenerationError) as info:
        generate_plugin("err_4::no_fake")
    assert str(info.value) == (
        "generate_plugin(err_4::no_fake): the op has no fake (meta) kernel, so its output shapes and "
        "dtypes are unknown. Expected a function registered with torch.library.register_fake. "
        'Add @torch.library.register_fake("err_4::no_fake") returning empty tensors of the output shapes.'
    )


def _raising_op(
    ops: Any, qualname: str, *, only_outside_export: bool
) -> torch._ops.OpOverload:
    def fn(x: torch.Tensor, k: int = 1) -> torch.Tensor:
        return x * k

    def fake(x, k=1):
        # Outside torch.export only: export must succeed so that the plugin's own trace fails.
        if not (only_outside_export and torch.compiler.is_exporting()):
            raise ValueError(f"fake kernel rejects k={k}")
        return torch.empty_like(x)

    return ops.custom(qualname, fn, fake)


def test_fake_kernel_that_raises(trt_backend, ops, handles):
    from torch_tensorrt.dynamo.conversion.plugins import (
        PluginGenerationError,
        _identity,
        generate_plugin,
    )

    _raising_op(ops, "err_5::bad_fake", only_outside_export=False)
    handles.append(generate_plugin("err_5::bad_fake"))
    record = support_registry.record("err_5::bad_fake")
    key = record.variant().call_key(
        [_identity.TensorSignature(torch.float32, (None, 4))], (3,)
    )
    with pytest.raises(PluginGenerationError) as info:
        record.programs.get_or_trace(API_CONVERTER, record.spec, record.op, key)
    assert str(info.value) == (
        "generate_plugin_converter(err_5::bad_fake): the fake kernel raised while tracing output "
        "shapes. Got ValueError: fake kernel rejects k=3. Expected it to accept inputs "
        "(x: float32[?, 4]), attributes (k=3). Fix the register_fake function for these inputs (it runs "
        "on FakeTensors with symbolic sizes)."
    )
    assert isinstance(info.value.__cause__, ValueError)
    assert record.programs.get(key) is None  # a failed trace is not cached


def test_fake_kernel_that_raises_keeps_node_in_pytorch(
    trt_backend, ops, handles, device, caplog
):
    import logging

    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    op = _raising_op(ops, "err_6::bad_fake", only_outside_export=True)
    handles.append(custom_op("err_6::bad_fake"))
    record = support_registry.record("err_6::bad_fake")

    class Model(torch.nn.Module):
        def forward(self, x):
            return torch.ops.err_6.bad_fake(x, 3)

    with caplog.at_level(
        logging.WARNING, logger="torch_tensorrt.dynamo.conversion.plugins"
    ):
        compiled = _compile_dynamic(Model().eval(), (1, 4), (5, 4), (8, 4))
    node = _node_calling(compiled, op)
    reason = support_registry.rejections(record)[node.name]
    # The reason is logged (WARNING) and inspectable through the public status report.
    assert f"err_6::bad_fake: node {node.name} stays in PyTorch: {reason}" in [
        r.getMessage() for r in caplog.records
    ]
    assert plugin_status("err_6::bad_fake").not_converted == {node.name: reason}
    assert reason.startswith(
        "generate_plugin_converter(err_6::bad_fake): the fake kernel raised while tracing output "
        "shapes. Got ValueError: fake kernel rejects k=3. Expected it to accept inputs (x: float32[?, 4]), "
        "attributes (k=3)."
    ), reason
    x = torch.randn(6, 4, device=device)
    torch.testing.assert_close(compiled(x), x * 3)


def test_data_dependent_output_shape(trt_backend, ops, handles):
    from torch_tensorrt.dynamo.conversion.plugins import (
        UnsupportedOpError,
        _identity,
        _symbolic,
        generate_plugin,
    )

    def fn(x: torch.Tensor) -> torch.Tensor:
        return x[x > 0]

    def fake(x):
        n = torch.library.get_ctx().new_dynamic_size()
        return x.new_empty((n,))

    ops.custom("err_7::positives", fn, fake)
    handles.append(generate_plugin("err_7::positives"))
    record = support_registry.record("err_7::positives")
    key = record.variant().call_key(
        [_identity.TensorSignature(torch.float32, (None, 4))], ()
    )
    # A data-dependent size converts when the fake kernel bounds it (test_data_dependent_shapes);
    # without a bound the message says which check to add.
    with pytest.raises(
        UnsupportedOpError,
        match=re.escape(
            "generate_plugin_converter(err_7::positives): output 0's size 0 is data-dependent "
            "(ctx.new_dynamic_size()) and has no upper bound, which TensorRT needs to allocate the "
            "output. Expected a bound in the fake kernel. Add torch._check(n <= x.numel()) (or "
            "another expression of the input sizes) right after n = ctx.new_dynamic_size(), or use "
            "ctx.new_dynamic_size(max=...)."
        ),
    ):
        _symbolic.trace(API_CONVERTER, record.spec, record.op, key)


def test_data_dependent_output_shape_keeps_node_in_pytorch(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def fn(x: torch.Tensor) -> torch.Tensor:
        return x[x > 0]

    def fake(x):
        return x.new_empty((torch.library.get_ctx().new_dynamic_size(),))

    op = ops.custom("err_8::positives", fn, fake)
    handles.append(custom_op("err_8::positives"))
    record = support_registry.record("err_8::positives")

    class Model(torch.nn.Module):
        def forward(self, x):
            return torch.ops.err_8.positives(x)

    compiled = _compile_dynamic(Model().eval(), (1, 4), (5, 4), (8, 4))
    node = _node_calling(compiled, op)
    assert (
        "generate_plugin_converter(err_8::positives): output 0's size 0 is data-dependent"
        in (support_registry.rejections(record)[node.name])
    )
    x = torch.randn(6, 4, device=device)
    torch.testing.assert_close(compiled(x), x[x > 0])


# -- schema kinds -----------------------------------------------------------------------------------
_KIND_FIX_TENSOR_LIST = (
    "Pass a fixed number of Tensor arguments instead of a Tensor[] list."
)
_KIND_FIX_OTHER = "Change the argument to one of the supported kinds."


@pytest.mark.parametrize(
    "schema, arg, got, fix",
    [
        ("f(Tensor[] xs) -> Tensor", "xs", "List[Tensor]", _KIND_FIX_TENSOR_LIST),
        (
            "f(Tensor x, Tensor?[] xs) -> Tensor",
            "xs",
            "List[Optional[Tensor]]",
            _KIND_FIX_TENSOR_LIST,
        ),
        (
            "f(Tensor x, Device d) -> Tensor",
            "d",
            "Device",
            "Remove the Device argument from the op",
        ),
        (
            "f(Tensor x, Generator? g=None) -> Tensor",
            "g",
            "Optional[Generator]",
            "Remove the Generator argument from the op",
        ),
        ("f(Tensor x, Layout layout) -> Tensor", "layout", "Layout", _KIND_FIX_OTHER),
        (
            "f(Tensor x, str? mode=None) -> Tensor",
            "mode",
            "Optional[str]",
            'A str attribute cannot be Optional: give it a default instead (str mode="").',
        ),
    ],
    ids=[
        "tensor_list",
        "optional_tensor_list",
        "device",
        "generator",
        "layout",
        "optional_str",
    ],
)
def test_unsupported_argument_kind(trt_backend, ops, schema, arg, got, fix):
    from torch_tensorrt.dynamo.conversion.plugins import (
        UnsupportedOpError,
        generate_plugin,
    )

    lib = ops.library("err_9")
    lib.define(schema)
    torch.library.register_fake("err_9::f", lambda *a, **k: torch.empty(2), lib=lib)
    with pytest.raises(UnsupportedOpError) as info:
        generate_plugin("err_9::f")
    message = str(info.value)
    assert message.startswith(
        f"generate_plugin(err_9::f): argument '{arg}' has a kind a TensorRT plugin cannot take. "
        f"Got {got}. Expected Tensor, Tensor?, int, SymInt, float, bool, str, int[]"
    ), message
    assert fix in message


def test_tensor_list_from_custom_op(trt_backend, ops):
    from torch_tensorrt.dynamo.conversion.plugins import (
        UnsupportedOpError,
        generate_plugin,
    )

    def fn(xs: List[torch.Tensor], scale: float = 1.0) -> torch.Tensor:
        return xs[0] * scale

    ops.custom("err_10::stack", fn, lambda xs, scale=1.0: torch.empty_like(xs[0]))
    with pytest.raises(
        UnsupportedOpError,
        match=re.escape(
            "generate_plugin(err_10::stack): argument 'xs' has a kind a TensorRT plugin cannot take. "
            "Got List[Tensor]."
        ),
    ) as info:
        generate_plugin("err_10::stack")
    assert str(info.value).endswith(_KIND_FIX_TENSOR_LIST)


def test_optional_str_message_is_not_contradictory(trt_backend, ops):
    from torch_tensorrt.dynamo.conversion.plugins import (
        UnsupportedOpError,
        generate_plugin,
    )

    lib = ops.library("err_11")
    lib.define("f(Tensor x, str? mode=None) -> Tensor")
    torch.library.register_fake(
        "err_11::f", lambda x, mode=None: torch.empty_like(x), lib=lib
    )
    with pytest.raises(UnsupportedOpError) as info:
        generate_plugin("err_11::f")
    message = str(info.value)
    assert "argument 'mode'" in message
    assert "Optional / defaulted forms of the non-tensor kinds" not in message
    assert 'str mode=""' in message or "a str with a default" in message


def test_mutated_argument(trt_backend, ops):
    """A mutated Tensor is a plugin input whose new value is an extra output (test_inplace_ops);
    a mutated Tensor? cannot be, and the message says so."""
    from typing import Optional

    from torch_tensorrt.dynamo.conversion.plugins import (
        UnsupportedOpError,
        generate_plugin,
    )
    from torch_tensorrt.dynamo.conversion.plugins._schema import spec_from_op

    def fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x.add_(y)
        return y.clone()

    ops.custom(
        "err_12::add_into", fn, lambda x, y: torch.empty_like(y), mutates_args=("x",)
    )
    handle = generate_plugin("err_12::add_into")
    spec = spec_from_op("t", torch.ops.err_12.add_into.default)
    assert (spec.mutated, spec.num_returns, spec.num_outputs) == (("x",), 1, 2)
    handle.remove()

    def fn_opt(x: torch.Tensor, w: Optional[torch.Tensor]) -> torch.Tensor:
        return x.clone()

    ops.custom(
        "err_12::opt_into",
        fn_opt,
        lambda x, w: torch.empty_like(x),
        mutates_args=("w",),
    )
    with pytest.raises(UnsupportedOpError) as info:
        generate_plugin("err_12::opt_into")
    assert str(info.value) == (
        "generate_plugin(err_12::opt_into): argument 'w' is mutated by the op and is not a "
        "plain Tensor. Got Optional[Tensor]. Expected mutated arguments of type Tensor (not Tensor?, "
        "not a list). Mutate a Tensor argument, or return a new tensor instead."
    )


@pytest.mark.parametrize(
    "schema, index, got",
    [
        ("f(Tensor x) -> (Tensor, int)", 1, "int"),
        ("f(Tensor x) -> Tensor[]", 0, "List[Tensor]"),
    ],
    ids=["tensor_and_int", "tensor_list"],
)
def test_return_that_is_not_a_tensor(trt_backend, ops, schema, index, got):
    from torch_tensorrt.dynamo.conversion.plugins import (
        UnsupportedOpError,
        generate_plugin,
    )

    lib = ops.library("err_13")
    lib.define(schema)
    torch.library.register_fake(
        "err_13::f", lambda x: (torch.empty_like(x), 1), lib=lib
    )
    with pytest.raises(UnsupportedOpError) as info:
        generate_plugin("err_13::f")
    assert str(info.value) == (
        f"generate_plugin(err_13::f): return {index} is not a Tensor. Got {got}. "
        "Expected every return to be a Tensor (a plugin output)."
    )


def test_op_that_returns_nothing(trt_backend, ops):
    from torch_tensorrt.dynamo.conversion.plugins import (
        UnsupportedOpError,
        generate_plugin,
    )

    lib = ops.library("err_14")
    lib.define("f(Tensor x) -> ()")
    torch.library.register_fake("err_14::f", lambda x: None, lib=lib)
    with pytest.raises(
        UnsupportedOpError,
        match=re.escape(
            "generate_plugin(err_14::f): the op returns nothing and mutates nothing. Got "
            "err_14::f(Tensor x) -> (). Expected an op that returns a Tensor or a tuple of Tensors, "
            "or mutates a Tensor argument."
        ),
    ):
        generate_plugin("err_14::f")


# -- call sites -----------------------------------------------------------------------------------
@pytest.fixture
def scale_spec(ops):
    """Spec of ``err_15::scale(Tensor x, int n, *, float s=1.0)``."""
    from torch_tensorrt.dynamo.conversion.plugins import _schema

    def fn(x: torch.Tensor, n: int, *, s: float = 1.0) -> torch.Tensor:
        return x * n * s

    op = ops.custom("err_15::scale", fn, lambda x, n, *, s=1.0: torch.empty_like(x))
    return _schema.spec_from_op(API_CONVERTER, op)


SCHEMA_15 = "err_15::scale(Tensor x, SymInt n, *, float s=1.) -> Tensor"


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (
            (2.5,),
            {},
            "argument 'n' has the wrong type. Got 2.5 (float). Expected a value of type int.",
        ),
        (
            (True,),
            {},
            "argument 'n' has the wrong type. Got True (bool). Expected a value of type int.",
        ),
        (
            (2,),
            {"s": "big"},
            "argument 's' has the wrong type. Got 'big' (str). Expected a value of type float.",
        ),
        (
            (2,),
            {"scale": 2.0},
            "unknown keyword argument 'scale'. Got scale. Expected one of ['n', 's', 'x'].",
        ),
        (
            (2, 3.0),
            {},
            f"too many positional arguments. Got 3. Expected at most 2 (x, n); schema {SCHEMA_15}.",
        ),
        ((), {}, f"missing required argument 'n'. Expected the schema {SCHEMA_15}."),
        ((2,), {"n": 3}, "argument 'n' given both by position and by keyword. Got n."),
    ],
    ids=[
        "float_for_int",
        "bool_for_int",
        "str_for_float",
        "unknown_keyword",
        "too_many",
        "missing",
        "twice",
    ],
)
def test_bad_call_site(trt_backend, scale_spec, args, kwargs, message):
    from torch_tensorrt.dynamo.conversion.plugins import _binding

    x = torch.zeros(2, 3)
    with pytest.raises(TypeError) as info:
        _binding.bind(
            API_CONVERTER,
            scale_spec,
            (x, *args),
            kwargs,
            is_tensor=_fake_is_tensor,
            is_constant=_fake_is_constant,
        )
    assert str(info.value) == f"generate_plugin_converter(err_15::scale): {message}"


def test_tensor_argument_that_is_not_a_tensor(trt_backend, scale_spec):
    from torch_tensorrt.dynamo.conversion.plugins import _binding

    with pytest.raises(
        TypeError,
        match=re.escape(
            "generate_plugin_converter(err_15::scale): argument 'x' is not a tensor. Got 2 (int). "
            "Expected a Tensor."
        ),
    ):
        _binding.bind(
            API_CONVERTER,
            scale_spec,
            (2, 2),
            {},
            is_tensor=_fake_is_tensor,
            is_constant=_fake_is_constant,
        )


def test_non_constant_attribute_symint(trt_backend, scale_spec):
    from torch_tensorrt.dynamo.conversion.plugins import PluginGenerationError, _binding

    size = ShapeEnv().create_unbacked_symint()
    with pytest.raises(PluginGenerationError) as info:
        _binding.bind(
            API_CONVERTER,
            scale_spec,
            (torch.zeros(2), size),
            {},
            is_tensor=_fake_is_tensor,
            is_constant=_fake_is_constant,
        )
    message = str(info.value)
    assert message.startswith(
        f"generate_plugin_converter(err_15::scale): attribute 'n' is not a compile-time constant. "
        f"Got {size!r}. Expected a"
    ), message
    assert message.endswith(
        "known when the engine is built (TensorRT plugin attributes are fixed). Compute the value in "
        "Python outside the model, or make it a tensor input of the op."
    )


def test_non_constant_attribute_keeps_node_in_pytorch(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    def fn(x: torch.Tensor, n: int) -> torch.Tensor:
        return x * n

    op = ops.custom("err_16::times", fn, lambda x, n: torch.empty_like(x))
    handles.append(custom_op("err_16::times"))
    record = support_registry.record("err_16::times")

    class Model(torch.nn.Module):
        def forward(self, x):
            return torch.ops.err_16.times(x, x.shape[0])

    compiled = _compile_dynamic(Model().eval(), (1, 3), (5, 3), (8, 3))
    rejected = [n for n in support_registry.rejections(record).values()]
    assert len(rejected) == 1, support_registry.rejections(record)
    reason = rejected[0]
    assert re.fullmatch(
        re.escape(
            "generate_plugin_converter(err_16::times): attribute 'n' is not a compile-time constant. Got "
        )
        + r"\w+"
        + re.escape(". Expected a")
        + ".*"
        + re.escape(
            "Compute the value in Python outside the model, or make it a tensor input of the op."
        ),
        reason,
    ), reason
    # The node stays in PyTorch, where it is right for every size.
    assert any(
        n.op == "call_function" and n.target is op
        for m in compiled.modules()
        if isinstance(m, torch.fx.GraphModule)
        for n in m.graph.nodes
    )
    for rows in (1, 7):
        x = torch.randn(rows, 3, device=device)
        torch.testing.assert_close(compiled(x), x * rows)


# -- registrations -------------------------------------------------------------------------------
def test_handwritten_plugin_already_uses_the_name(trt_backend, ops, handles):
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.plugins import (
        PluginGenerationError,
        _qdp,
        _registry,
        generate_plugin,
    )

    _identity_op(ops, "err_18::ident")

    def ident_desc(x: trtp.TensorDesc) -> Tuple[trtp.TensorDesc]:
        return x.like()

    trtp.register("err_18::ident")(ident_desc)
    try:
        with pytest.raises(PluginGenerationError) as info:
            generate_plugin("err_18::ident")
        where = f"{__file__}:{ident_desc.__code__.co_firstlineno}"
        assert str(info.value) == (
            "generate_plugin(err_18::ident): a TensorRT plugin named 'err_18::ident' is already "
            f"registered by other code. Got {ident_desc.__qualname__} at {where}. Expected no other "
            "tensorrt.plugin registration under that name. Remove the hand-written trtp.register, or "
            "use generate_plugin_converter alone to convert with it."
        )
        assert (
            _registry.lookup("tests", "err_18::ident") is None
        )  # nothing half-registered
    finally:
        _qdp.unregister("err_18::ident")


def test_converter_without_plugin(trt_backend, ops):
    from torch_tensorrt.dynamo.conversion.plugins import (
        PluginGenerationError,
        generate_plugin_converter,
    )

    _identity_op(ops, "err_19::ident")
    with pytest.raises(PluginGenerationError) as info:
        generate_plugin_converter("err_19::ident")
    assert str(info.value) == (
        "generate_plugin_converter(err_19::ident): no TensorRT plugin is registered for this op. "
        "Expected a plugin made by generate_plugin (or a hand-written tensorrt.plugin.register named 'err_19::ident'). "
        'Call generate_plugin("err_19::ident") first, or use custom_op("err_19::ident") for both.'
    )


def test_removing_custom_op_undoes_everything(
    trt_backend, ops, handles, device, gpu_target
):
    """After handle.remove(): no QDP plugin (JIT or AOT), no converter, and the op runs in PyTorch."""
    import torch_tensorrt
    from tensorrt.plugin._lib import QDP_REGISTRY
    from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS
    from torch_tensorrt.dynamo.conversion.plugins import _registry, custom_op

    op = _identity_op(ops, "err_24::ident")

    class Model(torch.nn.Module):
        def forward(self, x):
            return torch.ops.err_24.ident(x) + x

    def converted(compiled):
        return not any(
            n.op == "call_function" and n.target is op
            for m in compiled.modules()
            if isinstance(m, torch.fx.GraphModule)
            for n in m.graph.nodes
        )

    x = torch.randn(5, 3, device=device)
    handle = custom_op("err_24::ident")
    registered = [p for p in QDP_REGISTRY if p.startswith("err_24::")]
    assert registered and op in DYNAMO_CONVERTERS
    compiled = torch_tensorrt.compile(
        Model().eval(), ir="dynamo", inputs=[x], min_block_size=1
    )
    assert converted(compiled)
    registered = [
        p for p in QDP_REGISTRY if p.startswith("err_24::")
    ]  # AOT variants added by the compile
    handle.remove()
    assert [p for p in QDP_REGISTRY if p.startswith("err_24::")] == [], registered
    assert (
        op not in DYNAMO_CONVERTERS
        and _registry.lookup("tests", "err_24::ident") is None
    )
    compiled = torch_tensorrt.compile(
        Model().eval(), ir="dynamo", inputs=[x], min_block_size=1
    )
    assert not converted(
        compiled
    )  # the graph breaks around the op again, as without custom_op
    torch.testing.assert_close(compiled(x), x + x)
    handle.remove()  # removing twice is harmless


def test_custom_op_errors_name_custom_op(trt_backend, ops):
    from torch_tensorrt.dynamo.conversion.plugins import (
        PluginGenerationError,
        custom_op,
    )

    def fn(x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    ops.custom("err_21::no_fake", fn)
    with pytest.raises(PluginGenerationError) as info:
        custom_op("err_21::no_fake")
    assert str(info.value).startswith("custom_op(err_21::no_fake): ")


# -- shape guards -----------------------------------------------------------------------------------
def _specialising_op(ops: Any, qualname: str) -> torch._ops.OpOverload:
    def fn(x: torch.Tensor) -> torch.Tensor:
        return x * 2

    def fake(x):
        # Specialises on 4 rows, but not under torch.export (export would refuse the model): the
        # guard only appears when the plugin generator traces the fake kernel.
        if not torch.compiler.is_exporting() and x.shape[0] == 4:
            return x.new_empty((4, x.shape[1]))
        return torch.empty_like(x)

    return ops.custom(qualname, fn, fake)


def test_guard_that_cannot_hold_keeps_node_in_pytorch(
    trt_backend, ops, handles, device
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    op = _specialising_op(ops, "err_22::spec")
    handles.append(custom_op("err_22::spec"))
    record = support_registry.record("err_22::spec")

    class Model(torch.nn.Module):
        def forward(self, x):
            return torch.ops.err_22.spec(x)

    compiled = _compile_dynamic(Model().eval(), (1, 3), (5, 3), (8, 3))
    node = _node_calling(compiled, op)
    reason = support_registry.rejections(record)[node.name]
    assert "x.size(0)" in reason and "4" in reason, reason
    assert reason.startswith(
        f"generate_plugin_converter(err_22::spec): node {node.name} stays in PyTorch: the fake kernel's output "
        "shapes hold only when x.size(0) != 4, which the exported graph does not guarantee. "
        "Got inputs (x: float32[?, 3])."
    ), reason
    for rows in (1, 4, 8):  # the node runs in PyTorch: right for every size, 4 included
        x = torch.randn(rows, 3, device=device)
        torch.testing.assert_close(compiled(x), x * 2)


def test_guard_rejection_follows_the_message_format(trt_backend, ops, handles):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    op = _specialising_op(ops, "err_23::spec")
    handles.append(custom_op("err_23::spec"))
    record = support_registry.record("err_23::spec")

    class Model(torch.nn.Module):
        def forward(self, x):
            return torch.ops.err_23.spec(x)

    compiled = _compile_dynamic(Model().eval(), (1, 3), (5, 3), (8, 3))
    reason = support_registry.rejections(record)[_node_calling(compiled, op).name]
    assert reason.startswith("generate_plugin_converter(err_23::spec): "), reason
    assert "x.size(0) != 4" in reason, reason
    assert "Got " in reason and "Expected " in reason, reason
