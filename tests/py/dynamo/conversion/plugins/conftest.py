"""Fixtures for the plugin-generator tests."""

import pytest
import torch


@pytest.fixture(scope="session")
def catalogue_plugins():
    """custom_op(...) for every catalogue op, once per test process."""
    from support import catalogue
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    handles = [custom_op(name) for name in catalogue.OP_NAMES]
    yield catalogue
    for h in handles:
        h.remove()


@pytest.fixture
def ops():
    """Torch ops the test defines (support.ops.DefinedOps), destroyed afterwards."""
    from support.ops import DefinedOps

    defined = DefinedOps()
    yield defined
    defined.destroy()


@pytest.fixture
def handles():
    """Registration handles of the test, removed (last first) even when the test fails."""
    made = []
    yield made
    for h in reversed(made):
        h.remove()


@pytest.fixture
def triton_compiles(monkeypatch):
    """Every ``triton.compile`` call of the test (its positional arguments), in order."""
    import triton

    calls = []
    real_compile = triton.compile

    def counting_compile(*args, **kwargs):
        calls.append(args)
        return real_compile(*args, **kwargs)

    monkeypatch.setattr(triton, "compile", counting_compile)
    return calls


@pytest.fixture
def gpu_target(monkeypatch):
    """Compile for sm_90 (the H100/H200) even on a CPU machine (structure only: nothing runs there)."""
    from torch_tensorrt.dynamo.conversion.plugins import _aot

    if not torch.cuda.is_available():
        monkeypatch.setattr(_aot, "target_capability", lambda device=None: 90)
    return 90


@pytest.fixture
def row_center(trt_backend, ops, handles, fresh_qdp_namespace):
    """``ns::row_center`` (support.kernels.row_center: a kernel with a scratch tensor and a
    ``tl.constexpr`` computed from the columns) with its plugin: (qualname, op packet).
    """
    from support import kernels
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    qualname = f"{fresh_qdp_namespace}::row_center"
    packet = ops.custom_packet(
        qualname, kernels.row_center, lambda x: torch.empty_like(x)
    )
    handles.append(custom_op(qualname))
    return qualname, packet
