"""The README's main job: JupyterLab opens the quickstart, and every cell runs in a real browser."""

from __future__ import annotations

from typing import Any

import pytest
from ui_harness import (
    REPO_ROOT,
    JupyterServer,
    assert_no_errors,
    cell_outputs_text,
    copy_notebook,
    open_notebook,
    run_all_cells,
)

pytestmark = pytest.mark.timeout(240)


def test_quickstart_runs_in_jupyterlab(page: Any, jupyter: JupyterServer) -> None:
    relpath = copy_notebook(jupyter, REPO_ROOT / "notebooks" / "01_quickstart.ipynb")
    open_notebook(page, jupyter, relpath)
    run_all_cells(page, timeout=180)
    assert_no_errors(page)
    text = "\n".join(cell_outputs_text(page))
    assert "quickstart OK" in text
    # the history table rendered as HTML in the page, with the provenance columns
    history = page.locator(".jp-RenderedHTMLCommon table").filter(has_text="guideline_version").first
    assert history.is_visible()
    assert "superseded_by" in history.inner_text()
