"""Saved programs in a fresh process (issue 10, item 3).

A program compiled with this package's JIT plugins and saved with ``torch_tensorrt.save`` needs,
when loaded, every plugin variant its engines name: ``saved::scale``, but also
``saved::affine-without-bias`` (an absent optional tensor) and ``saved::row_center-hidden-1`` (a
kernel with a scratch tensor), which this package registers only while converting. A fresh
process that imported the op's module has none of them. ``saved_plugins(path)`` lists them and
which are missing; ``prepare_load(path)`` registers those of ops defined in the process; nothing
named in the file is ever imported. Each load runs in a new interpreter (support.saved_child).
"""

import pytest
import torch
from support import child, models, saved_ops
from torch_tensorrt.dynamo.conversion.plugins import _saved
from torch_tensorrt.dynamo.conversion.plugins._schema import variant_name


def _skip_without_python_save():
    import torch_tensorrt

    if tuple(int(p) for p in torch_tensorrt.__version__.split(".")[:2]) < (2, 13):
        pytest.skip(
            f"python-only Torch-TensorRT {torch_tensorrt.__version__} cannot save an exported "
            "program (it needs the C++ runtime's torch.ops.tensorrt.execute_engine)"
        )


@pytest.mark.parametrize("absent", [(), ("bias",)])
def test_chain_layer_names_parse_back(absent):
    from torch_tensorrt.dynamo.conversion.plugins._schema import ChainPosition

    position = ChainPosition(2, 3, 1, 2)
    name = variant_name("op_x", "default", absent, True, chain=position)
    assert "-aot-step-2-of-3-reads-1-writes-2" in name
    parsed = _saved.parse_plugin_name("ns", name)
    assert parsed is not None and parsed.chain == position and parsed.aot
    assert parsed.plugin_id == f"ns::{name}" and parsed.absent == absent
    # a JIT plugin is never a chain layer
    assert _saved.parse_plugin_name("ns", name.replace("-aot", "")) is None


@pytest.mark.parametrize(
    "overload, absent, aot, hidden, tactics",
    [
        ("default", (), False, 0, 0),
        ("neg", (), False, 0, 0),
        ("default", ("bias",), False, 0, 0),
        ("default", (), True, 2, 0),
        ("default", (), True, 0, 18),
        ("out", ("b", "a"), True, 1, 4),
        ("default", (), False, 3, 0),
    ],
)
def test_plugin_names_parse_back(overload, absent, aot, hidden, tactics):
    sizes = 0 if aot else 2  # data-dependent sizes: JIT plugins only
    name = variant_name("op_x", overload, absent, aot, hidden, tactics, sizes)
    assert ("sizes-2" in name) == (not aot)
    parsed = _saved.parse_plugin_name("ns", name)
    assert parsed is not None and parsed.plugin_id == f"ns::{name}"
    assert (parsed.op, parsed.overload, parsed.aot) == ("op_x", overload, aot)
    assert (parsed.hidden, parsed.tactics, parsed.sizes) == (hidden, tactics, sizes)
    assert parsed.absent == tuple(sorted(absent))


@pytest.mark.parametrize(
    "name",
    [
        "op-x",
        "op-tactics-2",
        "op-without-b-a",
        "op-aot-hidden",
        "op-hidden-1-aot",
        "op/0",
    ],
)
def test_other_names_are_not_ours(name):
    assert _saved.parse_plugin_name("ns", name) is None


@pytest.fixture(scope="module")
def saved_path(tmp_path_factory):
    """The model compiled (JIT plugins) and saved, in this process."""
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    _skip_without_python_save()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    handles = [
        custom_op(name, use_aot_if_available=False) for name in saved_ops.OP_NAMES
    ]
    try:
        x = torch.randn(5, saved_ops.COLS, device=device)
        spec = torch_tensorrt.Input(
            min_shape=(1, saved_ops.COLS),
            opt_shape=(5, saved_ops.COLS),
            max_shape=(64, saved_ops.COLS),
        )
        compiled = models.compile_model(saved_ops.Model().eval(), [spec])
        torch.testing.assert_close(compiled(x), saved_ops.reference(x))
        path = tmp_path_factory.mktemp("saved") / "model.ep"
        torch_tensorrt.save(compiled, str(path), arg_inputs=[x], retrace=False)
        yield str(path)
    finally:
        for h in handles:
            h.remove()


def test_saved_plugins_lists_every_variant(trt_backend, saved_path):
    # In this process the ops are defined (support.saved_ops) and their plugins were removed.
    found = {p.plugin_id: p for p in _saved.required(saved_path)}
    assert sorted(found) == sorted(saved_ops.PLUGIN_IDS)
    assert all(p.kind == "jit" and p.loadable for p in found.values())


def test_plain_load_in_a_fresh_process_fails(trt_backend, saved_path):
    """Without prepare_load the variants are missing and upstream's load fails."""
    facts = child.run_json("saved_child.py", "SAVED", ["plain", saved_path])
    assert "load_error" in facts, facts
    before = {p[0]: p[1:] for p in facts["before"]}
    assert sorted(before) == sorted(saved_ops.PLUGIN_IDS)
    # kind, registered, loadable: none registered, all loadable once prepared.
    assert all(v == ["jit", False, True] for v in before.values()), before


def test_prepare_load_makes_it_loadable(trt_backend, saved_path):
    facts = child.run_json("saved_child.py", "SAVED", ["prepare", saved_path])
    assert facts.get("matches") is True, facts
    assert sorted(p[0] for p in facts["prepared"]) == sorted(saved_ops.PLUGIN_IDS)
    assert all(registered for _, registered in facts["prepared"])
    # plugin_status says what prepare_load registered for each op, and for which file.
    assert facts["status"] == {
        "saved::scale": ["saved::scale"],
        "saved::affine": ["saved::affine-without-bias"],
        "saved::row_center": ["saved::row_center-hidden-1"],
    }


def test_prepare_load_without_the_ops_module_names_what_is_missing(
    trt_backend, saved_path
):
    """Nothing named in the file is imported; TensorRT's error names the plugin, and the
    message says what to import."""
    facts = child.run_json("saved_child.py", "SAVED", ["no_ops", saved_path])
    assert facts["ops_module_imported"] is False
    error = facts.get("error", "")
    assert "cannot deserialise an engine" in error, facts
    assert "saved::" in error and "Import the module that defines each op" in error


def test_aot_engine_loads_without_this_package_or_the_op(
    trt_backend, gpu_target, tmp_path
):
    """An engine whose plugins are all AOT deserialises with TensorRT alone: the loading process
    imports neither torch_tensorrt (so not this package) nor the op's module. On the GPU tier it
    also runs and matches eager; on a CPU only the deserialisation is shown. Where Torch-TensorRT
    can save (>= 2.13) the engine is read back from the saved file; python-only 2.11 cannot save, so
    there the engine's own serialization is what the new process loads."""
    import torch_tensorrt
    from support import engines
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    can_save = tuple(int(p) for p in torch_tensorrt.__version__.split(".")[:2]) >= (
        2,
        13,
    )
    handle = custom_op("saved::scale")

    class Scale(torch.nn.Module):
        def forward(self, x):
            return torch.ops.saved.scale(x, 3.0)

    try:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        x = torch.randn(5, saved_ops.COLS, device=device)
        compiled = models.compile_model(Scale().eval(), [x])
        (built,) = engines.built_plugins(compiled)
        assert built.kind == "aot" and built.name == "scale-aot"
        path = tmp_path / "scale.ep"
        if can_save:
            torch_tensorrt.save(compiled, str(path), arg_inputs=[x], retrace=False)
        else:
            (serialized,) = [engines.engine_bytes(e) for e in engines.engines(compiled)]
    finally:
        handle.remove()
    if can_save:
        (engine,) = _saved.engines_in(str(path))
        found = {p.plugin_id: p for p in _saved.required(str(path))}
        assert list(found) == ["saved::scale-aot"]
        assert found["saved::scale-aot"].kind == "aot"
        assert found["saved::scale-aot"].loadable
    else:
        engine = serialized
    engine_file = tmp_path / "scale.engine"
    engine_file.write_bytes(engine)
    facts = child.run_json(
        "aot_engine_child.py",
        "ENGINE",
        [str(engine_file), "5", str(saved_ops.COLS), "3.0"],
    )
    assert facts["deserialised"] is True, facts
    assert facts["imported"] == [], facts
    if torch.cuda.is_available():
        assert facts["executed"] is True and facts["matches"] is True, facts
