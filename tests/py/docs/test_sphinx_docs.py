"""The documentation site builds without a warning, and says what the code says.

Builds docs/ the way tools/build_docs.sh does (warnings are errors, nitpicky references), in a
subprocess with this interpreter, then reads the HTML: the API page documents every public name of
the plugins package with its docstring's summary, the prose pages exist, and the Tutorials page
lists every notebooks/*.ipynb. One build, one test (a second test could land on another xdist
worker and build again); every problem found is reported at once.
"""

from __future__ import annotations

import html.parser
import inspect
import json
import pathlib
import re
import subprocess
import sys
from typing import Any, Dict, List

import pytest

pytest.importorskip(
    "sphinx", reason="the docs tools are not installed (tools/setup_env.sh)"
)
pytest.importorskip(
    "myst_nb", reason="the docs tools are not installed (tools/setup_env.sh)"
)

ROOT = pathlib.Path(__file__).resolve().parents[3]
PACKAGE = "torch_tensorrt.dynamo.conversion.plugins"
PAGES = [
    "index",
    "how_it_works",
    "jit_vs_aot",
    "explain",
    "standin",
    "real_tensorrt",
    "tutorials",
    "api",
]


class _Text(html.parser.HTMLParser):
    """The visible text of an HTML page (scripts and styles left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: List[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


# Sphinx's smart quotes, dashes and ellipses, back to what the docstrings contain.
_TYPOGRAPHY = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "..."}
)


def _normalise(text: str) -> str:
    text = text.translate(_TYPOGRAPHY).replace("\u2013", "--").replace("\u2014", "---")
    return " ".join(text.split())


def _page_text(path: pathlib.Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return _normalise("".join(parser.parts))


def _summary(doc: str) -> str:
    """A docstring's first paragraph as it reads when rendered (RST literals unquoted)."""
    first = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return _normalise(
        re.sub(r"``([^`]+)``|`([^`]+)`", lambda m: m.group(1) or m.group(2), first)
    )


def _own_docstring(obj: Any) -> str:
    """``obj``'s own docstring; empty when it has none (not inherited, not a dataclass's default)."""
    doc = obj.__doc__ or ""
    made_by_dataclass = inspect.isclass(obj) and doc.startswith(f"{obj.__name__}(")
    return "" if made_by_dataclass else doc.strip()


def _notebook_title(path: pathlib.Path) -> str:
    """A notebook's first level-1 Markdown heading (the title its page gets) as text, or ''."""
    for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        for line in text.splitlines():
            heading = re.match(r"#\s+(.*)", line)
            if heading:
                return _normalise(re.sub(r"[`*]", "", heading.group(1)))
    return ""


def test_docs_build_without_warnings_and_document_the_public_api(tmp_path):
    import torch_tensorrt.dynamo.conversion.plugins as plugins

    # Listed before the build, which copies them.
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    out = tmp_path / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-n"]
        + [str(ROOT / "docs"), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=str(ROOT),
    )
    findings = [
        line
        for line in result.stderr.splitlines()
        if "WARNING" in line or "ERROR" in line
    ]
    report = "\n".join(findings) or result.stdout[-3000:] + result.stderr[-6000:]
    assert result.returncode == 0, (
        "sphinx-build -W -n failed (bash tools/build_docs.sh shows the same):\n"
        + report
    )

    problems: List[str] = []
    texts: Dict[str, str] = {}
    for page in PAGES:
        path = out / f"{page}.html"
        if not path.is_file():
            problems.append(f"{page}.html was not built")
            continue
        texts[page] = _page_text(path)

    api_html = (out / "api.html").read_text(encoding="utf-8")
    api = texts.get("api", "")
    for name in plugins.__all__:
        obj = getattr(plugins, name)
        if f'id="{PACKAGE}.{name}"' not in api_html:
            problems.append(f"api.html has no entry for {name} (add it to docs/api.md)")
        doc = _own_docstring(obj)
        if not doc:
            problems.append(f"{name} has no docstring of its own")
        elif _summary(doc) not in api:
            problems.append(f"api.html lacks the summary of {name}: {_summary(doc)!r}")

    how = texts.get("how_it_works", "")
    phrases = (
        "How it works",
        "parameter order",
        "shape program",
        "DYNAMO_CONVERTERS",
        "PTX",
    )
    for phrase in phrases:
        if phrase.lower() not in how.lower():
            problems.append(f"how_it_works.html does not mention {phrase!r}")
    if "H100" not in texts.get("jit_vs_aot", ""):
        problems.append("jit_vs_aot.html quotes no benchmark with its card")

    tutorials_html = (out / "tutorials.html").read_text(encoding="utf-8")
    for notebook in notebooks:
        link = f'href="notebooks/{notebook.stem}.html"'
        if link not in tutorials_html:
            problems.append(f"tutorials.html does not link {notebook.name}")
        if not (out / "notebooks" / f"{notebook.stem}.html").is_file():
            problems.append(f"{notebook.name} was not rendered")
        title = _notebook_title(notebook)
        if title and title not in texts.get("tutorials", ""):
            problems.append(
                f"tutorials.html does not list {notebook.name} by its title {title!r}"
            )
    if not notebooks and "No notebook" not in texts.get("tutorials", ""):
        problems.append("tutorials.html does not say that there is no notebook yet")

    assert not problems, "\n".join(problems)
