"""The LF dashboard in a real JupyterLab: editing an LF cell updates the dashboard of another cell.

The drill-down lists its rows a page at a time: "load more" adds the next page and the count follows.
"""

from __future__ import annotations

from typing import Any

import pytest
from ui_harness import JupyterServer, assert_no_errors, cell_outputs_text, open_notebook, run_all_cells, write_notebook

pytestmark = pytest.mark.timeout(240)

SETUP = """\
import tempfile
import pandas as pd
import workbench as wb
from workbench.lf import keywords, regex
from widgets.jupyter import LFDashboard

texts = ["I love this song", "check out my channel http://x.y", "great video", "this song <b>rocks</b>",
         "subscribe to my video please", "<script>alert(1)</script> nice video"]
project = wb.Project.create(tempfile.mkdtemp() + "/p", schema=wb.Schema.single("spam", ["ham", "spam"]))
project.add_data(pd.DataFrame({"id": [f"c-{i}" for i in range(6)], "text": texts}), id_column="id")
project.lfs.add(regex("link", r"https?://", label=1))
"""
LF_CELL = 'project.lfs.add(keywords("kw", ["song"], label=0))'
EDITED_LF_CELL = 'project.lfs.add(keywords("kw", ["song", "video"], label=0))'
DASHBOARD = "dashboard = LFDashboard(project, max_examples=2)  # drill-down pages of 2 rows\ndashboard"
SECOND_VIEW = "other = LFDashboard(project)\nother.close()  # a closed view must not break the next page load"


def _prompt(page: Any, index: int) -> str:
    return page.locator(".jp-NotebookPanel .jp-Cell").nth(index).locator(".jp-InputPrompt").inner_text().strip()


def test_editing_an_lf_cell_updates_the_dashboard_without_rerunning_it(page: Any, jupyter: JupyterServer) -> None:
    from playwright.sync_api import expect

    relpath = write_notebook(jupyter, "lf_dashboard_live.ipynb", [SETUP, LF_CELL, DASHBOARD, SECOND_VIEW])
    open_notebook(page, jupyter, relpath)
    run_all_cells(page, timeout=120)
    assert_no_errors(page)

    cells = page.locator(".jp-NotebookPanel .jp-Cell")
    dashboard = cells.nth(2).locator(".wb-lf-dashboard")
    expect(dashboard).to_be_visible()
    coverage = dashboard.locator('tr[data-lf="kw"] td.wb-col-coverage')
    expect(coverage).to_have_text("33.3%")  # "song" in 2 of 6 comments
    expect(dashboard.locator('tr[data-lf="link"] td.wb-col-coverage')).to_have_text("16.7%")
    # the charts are drawn by JupyterLab's own Vega-Lite renderer (no CDN needed)
    expect(dashboard.locator(".wb-lf-charts .jp-RenderedVegaLite canvas, .wb-lf-charts .jp-RenderedVegaLite svg")
           .first).to_be_visible()
    dashboard_prompt = _prompt(page, 2)
    lf_prompt = _prompt(page, 1)

    # Edit the LF cell in the browser's editor and run only that cell.
    editor = cells.nth(1).locator(".cm-content")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(EDITED_LF_CELL)  # no per-key events: the editor's bracket auto-closing stays out
    expect(editor).to_have_text(EDITED_LF_CELL)
    page.keyboard.press("Control+Enter")  # notebook:run-cell, the selection stays on this cell

    expect(coverage).to_have_text("83.3%")  # "song" or "video": 5 of 6
    expect(dashboard.locator(".wb-lf-status")).to_contain_text("recomputed: kw")
    expect(dashboard.locator('tr[data-lf="link"] td.wb-col-run')).to_have_text("cached")
    assert _prompt(page, 2) == dashboard_prompt  # the dashboard's cell was not run again
    assert _prompt(page, 1) != lf_prompt
    # the drill-down shows the matching texts escaped (markup is text, not elements), a page at a time
    drilldown = dashboard.locator(".wb-lf-drilldown")
    drilldown.locator("select").first.select_option("kw")  # the LF dropdown, driven from the page
    count, more, rows = drilldown.locator(".wb-drilldown-count"), drilldown.locator(".wb-drilldown-more"), \
        drilldown.locator("tr[data-id]")
    expect(count).to_have_text("2 of 5")
    expect(rows).to_have_count(2)
    expect(more).to_have_text("load 2 more")
    more.click()
    expect(count).to_have_text("4 of 5")
    more.click()
    expect(count).to_have_text("5 of 5")
    expect(rows).to_have_count(5)
    expect(more).to_be_hidden()
    expect(drilldown).to_contain_text("this song <b>rocks</b>")
    expect(drilldown).to_contain_text("<script>alert(1)</script> nice video")
    assert drilldown.locator("td b, td script").count() == 0
    assert "Error" not in cell_outputs_text(page)[1]
    assert_no_errors(page)

    # Save and reload with the kernel running: the dashboard renders again (the closed second view
    # left no live container holding a closed child).
    page.locator(".jp-NotebookPanel .jp-Cell .jp-InputPrompt").first.click()
    page.keyboard.press("ControlOrMeta+s")
    expect(page.locator(".jp-mod-current.jp-mod-dirty")).to_have_count(0, timeout=30_000)
    open_notebook(page, jupyter, relpath)
    reloaded = page.locator(".jp-NotebookPanel .jp-Cell").nth(2).locator(".wb-lf-dashboard")
    expect(reloaded.locator('tr[data-lf="kw"] td.wb-col-coverage')).to_have_text("83.3%", timeout=60_000)
    expect(page.get_by_text("Loading widget...")).to_have_count(0, timeout=30_000)
