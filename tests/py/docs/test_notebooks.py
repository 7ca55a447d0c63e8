"""The tutorial notebooks: paired with their jupytext sources, and executed as a user would.

Each ``notebooks/*.ipynb`` is executed top to bottom by nbclient in a fresh kernel running this
interpreter (on the CPU tier: stand-in and Triton interpreter, set up visibly by the first cell; on
the GPU tier: compiled Triton). The notebooks check their own results against PyTorch, so a cell
that raises fails the test. The ``.py`` files are the reviewed sources; the ``.ipynb`` files must
hold the same cells, without outputs.
"""

from __future__ import annotations

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCES = sorted((ROOT / "notebooks").glob("*.py"))

nbformat = pytest.importorskip("nbformat")
jupytext = pytest.importorskip("jupytext")


def test_every_source_has_its_notebook_and_back() -> None:
    assert NOTEBOOKS, "no tutorial notebook in notebooks/"
    assert {p.stem for p in NOTEBOOKS} == {p.stem for p in SOURCES}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_holds_the_source_cells_without_outputs(source: pathlib.Path) -> None:
    expected = jupytext.read(source)
    stored = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    assert [(c.cell_type, c.source) for c in stored.cells] == [
        (c.cell_type, c.source) for c in expected.cells
    ], (
        f"{source.with_suffix('.ipynb').name} differs from {source.name}; run "
        f".venv/bin/jupytext --to ipynb --update {source.relative_to(ROOT)}"
    )
    for cell in stored.cells:
        if cell.cell_type == "code":
            assert (
                not cell.outputs and cell.execution_count is None
            ), f"{source.with_suffix('.ipynb').name} stores outputs; store notebooks clean"


def test_first_code_cell_sets_up_through_the_public_helper() -> None:
    for notebook in NOTEBOOKS:
        cells = nbformat.read(notebook, as_version=4).cells
        first = next(c for c in cells if c.cell_type == "code")
        assert "from trt_standin.examples import setup" in first.source, notebook.name
        assert "except ImportError" in first.source, notebook.name


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(notebook: pathlib.Path, tmp_path: pathlib.Path) -> None:
    import torch
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=900,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    first = next(c for c in nb.cells if c.cell_type == "code")
    announced = "".join(o.get("text", "") for o in first.outputs)
    if torch.cuda.is_available():
        assert "GPU, compiled Triton" in announced, announced
    else:
        assert (
            "running on the TensorRT stand-in, CPU, Triton interpreter" in announced
        ), announced
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert not errors, errors
