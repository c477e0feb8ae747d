"""Sphinx configuration for the labeling workbench's documentation (``make docs``).

The notebooks are not copied into ``docs/``: each ``docs/notebooks/NN_topic.nblink`` is a tiny JSON file
naming one notebook in ``../notebooks/`` (nbsphinx-link's format), and the ``source-read`` hook below puts
that notebook's text in its place, so myst-nb renders the committed notebook itself, without executing
it. The notebook is recorded as a dependency, so an edited notebook is re-rendered on the next build.
No network is used at build time (no intersphinx).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document the working tree even when it is not installed

import workbench  # noqa: E402

project = "labeling workbench"
author = "The labeling workbench developers"
copyright = "The labeling workbench developers"
release = workbench.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_nb",
]

root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
templates_path: list[str] = []

# -- numpy docstrings ----------------------------------------------------------------------------------------
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_preprocess_types = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True

# -- notebooks (myst-nb): render the committed notebooks, never execute them ---------------------------------
nb_execution_mode = "off"
nb_custom_formats = {".nblink": ["nbformat.reads", {"as_version": 4}]}
myst_heading_anchors = 3

# -- HTML ----------------------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"labeling workbench {release}"
html_static_path: list[str] = []
html_show_sourcelink = False


def _no_public_constructor(app: Any, what: str, name: str, obj: Any, options: Any, signature: str | None,
                           return_annotation: str | None) -> tuple[str, str] | None:
    """``Project(...)`` is not called directly (use ``create`` or ``open``): show no constructor signature."""
    if what == "class" and name == "workbench.Project":
        return "", ""
    return None


def _link_target(app: Any, docname: str) -> Path | None:
    source = Path(app.env.doc2path(docname))
    if source.suffix != ".nblink":
        return None
    link = json.loads(source.read_text(encoding="utf-8"))
    return (source.parent / link["path"]).resolve()


def _read_linked_notebook(app: Any, docname: str, content: list[str]) -> None:
    """Replace a ``.nblink`` file's text by the notebook it names, and rebuild when that notebook changes."""
    target = _link_target(app, docname)
    if target is None:
        return
    content[0] = target.read_text(encoding="utf-8")
    app.env.note_dependency(target)


def setup(app: Any) -> dict[str, Any]:
    app.connect("source-read", _read_linked_notebook)
    app.connect("autodoc-process-signature", _no_public_constructor)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
