"""Sphinx configuration for the plugins package's documentation (``bash tools/build_docs.sh``).

Two things happen here before Sphinx reads a page:

* ``torch_tensorrt`` is made importable for autodoc the way ``tools/run_example.py`` does it: on a
  machine whose torch has no CUDA, Triton's interpreter is switched on and the CPU adjustments of
  released Torch-TensorRT (``trt_standin.cpu_torch``, test machinery) are applied before anything
  imports ``torch_tensorrt``; where the TensorRT stand-in is in use, Torch-TensorRT's QDP switch is
  turned back on. Where CUDA and real TensorRT are present nothing is changed.
* the tutorials: every ``notebooks/*.ipynb`` of the checkout is copied into ``docs/notebooks/``
  (git-ignored; Sphinx only reads sources under its source folder), and the "Tutorials" page gets a
  toctree listing them. Notebooks are rendered as stored (without outputs): nothing is executed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import sys
from typing import Any, List, Optional, Tuple

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent

# -- Make torch_tensorrt importable (as tools/run_example.py does) ---------------------------------
# tools/ holds trt_standin (also put on sys.path by .venv's trt_standin.pth, which a bare environment
# with real TensorRT does not have).
sys.path.insert(0, str(ROOT / "tools"))

import torch  # noqa: E402

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
    from trt_standin import cpu_torch

    cpu_torch.apply()
try:
    from trt_standin import upstream_compat
except ImportError:  # real TensorRT and CUDA, no stand-in installed: nothing to adjust
    pass
else:
    upstream_compat.reenable_qdp_on_standin()

import torch_tensorrt.dynamo.conversion.plugins as plugins  # noqa: E402

# -- Tutorials: notebooks/*.ipynb -> docs/notebooks/ ----------------------------------------------
NOTEBOOKS = ROOT / "notebooks"
TUTORIALS = DOCS / "notebooks"  # git-ignored (docs/.gitignore)


def notebook_for_docs(source: pathlib.Path) -> bytes:
    """The bytes of ``source`` as the docs read it.

    A notebook whose metadata names no language (jupytext writes none unless asked to) gets
    ``language_info.name = "python"``: myst-nb would otherwise warn on every code cell and leave the
    code without highlighting. Every other notebook is copied byte for byte.
    """
    data = source.read_bytes()
    notebook = json.loads(data)
    metadata = notebook.setdefault("metadata", {})
    language = metadata.get("language_info") or {}
    if (
        language.get("pygments_lexer")
        or language.get("name")
        or (metadata.get("kernelspec") or {}).get("language")
    ):
        return data
    metadata["language_info"] = dict(language, name="python")
    return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode()


def copy_notebooks() -> List[str]:
    """Mirror ``notebooks/*.ipynb`` into ``docs/notebooks/``; return the copies' docnames, sorted.

    Deterministic: a copy is rewritten only when its content differs (so Sphinx, which compares
    mtimes, reads again exactly the notebooks that changed), and copies whose notebook is gone are
    removed.
    """
    sources = sorted(NOTEBOOKS.glob("*.ipynb"))
    TUTORIALS.mkdir(exist_ok=True)
    wanted = {s.name for s in sources}
    for stale in TUTORIALS.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink(missing_ok=True)
    for source in sources:
        target = TUTORIALS / source.name
        content = notebook_for_docs(source)
        if not target.exists() or target.read_bytes() != content:
            target.write_bytes(content)
    return [f"notebooks/{s.stem}" for s in sources]


TUTORIAL_DOCNAMES = copy_notebooks()

#: The line of tutorials.md that source_read() replaces with the list of notebooks.
TUTORIALS_MARKER = "% TUTORIALS: filled in by conf.py"


def tutorials_toctree() -> str:
    if not TUTORIAL_DOCNAMES:
        # A toctree without entries (or a glob matching nothing) is a warning: say it in words.
        return "No notebook is in `notebooks/` yet.\n"
    entries = "\n".join(TUTORIAL_DOCNAMES)
    return f"```{{toctree}}\n:maxdepth: 1\n\n{entries}\n```\n"


def source_read(app: Any, docname: str, source: List[str]) -> None:
    if docname == "tutorials":
        source[0] = source[0].replace(TUTORIALS_MARKER, tutorials_toctree())


def tutorials_outdated(
    app: Any, env: Any, added: Any, changed: Any, removed: Any
) -> List[str]:
    """Read tutorials.md on every build: its toctree depends on notebooks/, not on its own text."""
    return ["tutorials"]


def dataclass_factories(
    app: Any,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: Optional[str],
    return_annotation: Optional[str],
) -> Tuple[Optional[str], Optional[str]]:
    """Show a dataclass field's ``default_factory`` as a call (``dict()``), not as ``<factory>``.

    ``<factory>`` (the repr dataclasses give such defaults) is not Python, so Sphinx cannot parse the
    signature and would split its annotations at every comma.
    """
    if signature and "<factory>" in signature and dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            if f.init and f.default_factory is not dataclasses.MISSING:
                call = f"{getattr(f.default_factory, '__qualname__', 'factory')}()"
                signature = signature.replace("<factory>", call, 1)
    return signature, return_annotation


def setup(app: Any) -> None:
    app.connect("source-read", source_read)
    app.connect("env-get-outdated", tutorials_outdated)
    app.connect("autodoc-process-signature", dataclass_factories)


# -- Project -----------------------------------------------------------------------------------------
project = "Torch-TensorRT automatic plugins"
author = "the project's contributors"
copyright = "the project's contributors"
release = version = plugins.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the package's docstrings are Google style (Args / Returns / Raises)
    "myst_nb",  # MyST markdown pages and the .ipynb tutorials
]
exclude_patterns = ["**/.ipynb_checkpoints"]
root_doc = "index"

# -- MyST / myst-nb ------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# Notebooks are stored without outputs and executed by the test suite, never by this build.
nb_execution_mode = "off"

# -- autodoc / napoleon ------------------------------------------------------------------------------
autodoc_member_order = "bysource"
add_module_names = False  # every public name is in one package, named in the page text
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# -- Nitpicky references ----------------------------------------------------------------------------
# -n is on (tools/build_docs.sh, the test). No intersphinx: builds must work offline, so types of
# other libraries that appear in signatures cannot be resolved; each is listed here by exact name.
nitpick_ignore = [
    # torch: annotations of capability_validator (Callable[[Node, CompilationSettings], bool]) and of
    # dtype fields.
    ("py:class", "torch.fx.node.Node"),
    ("py:class", "torch.dtype"),
    # Torch-TensorRT outside this package (its own docs are not built here).
    ("py:class", "torch_tensorrt.dynamo._settings.CompilationSettings"),
    (
        "py:class",
        "torch_tensorrt.dynamo.conversion._ConverterRegistry.ConverterPriority",
    ),
    # sympy: Explanation.symbols and OutputFormula.dims hold sympy objects.
    ("py:class", "sympy.core.symbol.Symbol"),
    ("py:class", "sympy.core.expr.Expr"),
    # the standard library: saved_plugins / prepare_load take a path or an os.PathLike.
    ("py:class", "os.PathLike"),
]

# -- HTML --------------------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"{project} {release}"
html_static_path: List[str] = []
