"""A hand-written JIT plugin driven through its whole lifecycle by the stand-in's plugin host."""

# No "from __future__ import annotations": QDP inspects real annotation objects.


import numpy as np
import pytest
import torch
from support.handwritten import define_scale_add_jit

pytestmark = pytest.mark.standin


@pytest.fixture
def scale_add(fresh_qdp_namespace, device):
    registered = define_scale_add_jit(fresh_qdp_namespace, device)
    yield registered
    registered.undo()


def _factory(namespace: str, itensors):
    import tensorrt.plugin as trtp

    plugin = getattr(getattr(trtp.op, namespace), "scale_add")
    return plugin(
        *itensors,
        alpha=2.5,
        repeat=1,
        negate=False,
        tag="scale-add",
        blob=b"\x01\x02",
        offset=np.zeros(3, dtype=np.float32),
    )


def _itensors(shape):
    import tensorrt as trt

    return [trt.ITensor._make(None, name, trt.float32, shape) for name in ("x", "y")]


def test_lifecycle_static_shapes(scale_add, device):
    import tensorrt as trt
    from trt_standin.host import InputSpec, PluginHost

    host = PluginHost(device=torch.device(device))
    specs = [InputSpec.static(trt.float32, (3, 5))] * 2
    built = host.build(
        _factory(scale_add.namespace, _itensors((3, 5))), specs, aot=False
    )
    assert built.kind == "jit"
    assert built.output_types == [trt.float32]
    assert built.evaluate_output_shapes([(3, 5), (3, 5)]) == [(3, 5)]
    calls = [name for name, _ in host.calls]
    # TensorRT's build order, as the stand-in assumes it (assumption build-call-order).
    assert calls.index("get_output_data_types") < calls.index("get_output_shapes")
    assert calls.index("get_output_shapes") < calls.index(
        "get_supported_format_combinations"
    )
    assert (
        calls.index("configure_plugin")
        < calls.index("enqueue")
        < calls.index("get_fields_to_serialize")
    )
    # Attributes went through the PluginField serialisation round trip.
    assert {f[0] for f in built.fields} == {
        "alpha",
        "repeat",
        "negate",
        "tag",
        "blob",
        "offset",
    }

    runtime = built.runtime()  # re-created from the fields at RUNTIME phase
    x, y = torch.randn(3, 5, device=device), torch.randn(3, 5, device=device)
    (out,) = runtime.enqueue([x, y])
    torch.testing.assert_close(out, x * 2.5 + y)


def test_lifecycle_dynamic_shapes(scale_add, device):
    import tensorrt as trt
    from trt_standin.host import InputSpec, PluginHost

    spec = InputSpec.dynamic(trt.float32, (1, 4), (6, 4), (33, 4))
    built = PluginHost(device=torch.device(device)).build(
        _factory(scale_add.namespace, _itensors((-1, 4))), [spec, spec], aot=False
    )
    # The first dimension stays symbolic: TensorRT evaluates it per execution.
    assert built.output_shape_strings()[0][0] != str(6)
    runtime = built.runtime()
    for rows in (1, 6, 17, 33):
        x, y = torch.randn(rows, 4, device=device), torch.randn(rows, 4, device=device)
        (out,) = runtime.enqueue([x, y])
        assert out.shape == (rows, 4)
        torch.testing.assert_close(out, x * 2.5 + y)


def test_runtime_rejects_shapes_outside_the_profile(scale_add, device):
    import tensorrt as trt
    from trt_standin.host import InputSpec, PluginHost, PluginHostError

    spec = InputSpec.dynamic(trt.float32, (1, 4), (2, 4), (8, 4))
    built = PluginHost(time_tactics=False).build(
        _factory(scale_add.namespace, _itensors((-1, 4))), [spec, spec], aot=False
    )
    x = torch.randn(9, 4, device=device)
    with pytest.raises(
        PluginHostError,
        match=r"input 0 dim 0 = 9 is outside the optimisation profile \[1, 8\]",
    ):
        built.runtime().enqueue([x, x])


def test_deserialising_without_the_python_plugin_fails(scale_add):
    """A JIT plugin needs its registering Python code in the loading process."""
    import tensorrt as trt
    from trt_standin.host import InputSpec, PluginHost, PluginHostError

    built = PluginHost(time_tactics=False).build(
        _factory(scale_add.namespace, _itensors((2, 2))),
        [InputSpec.static(trt.float32, (2, 2))] * 2,
        aot=False,
    )
    registry = trt.get_plugin_registry()
    creator = registry.get_creator("scale_add", "1", scale_add.namespace)
    registry.deregister_creator(creator)
    try:
        with pytest.raises(PluginHostError, match="no plugin creator is registered"):
            built.runtime()
    finally:
        registry.register_creator(creator, scale_add.namespace)


def test_plugin_errors_name_the_call(fresh_qdp_namespace):
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from trt_standin.host import InputSpec, PluginHost, PluginHostError

    @trtp.register(f"{fresh_qdp_namespace}::broken")
    def _(x: trtp.TensorDesc) -> trtp.TensorDesc:
        raise RuntimeError("shape function exploded")

    @trtp.impl(f"{fresh_qdp_namespace}::broken")
    def _(x: trtp.Tensor, outputs, stream) -> None:
        pass

    it = trt.ITensor._make(None, "x", trt.float32, (2,))
    factory = getattr(getattr(trtp.op, fresh_qdp_namespace), "broken")(it)
    with pytest.raises(
        PluginHostError,
        match=r"get_output_data_types\(\) raised RuntimeError: shape function exploded",
    ):
        PluginHost().build(factory, [InputSpec.static(trt.float32, (2,))], aot=False)
