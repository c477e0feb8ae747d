"""Tests of the real-browser harness itself: JupyterLab + ipywidgets round-trip, failure detection, Panel."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from ui_harness import (
    REPO_ROOT,
    JupyterServer,
    assert_no_errors,
    cell_outputs_text,
    copy_notebook,
    notebook_errors,
    open_notebook,
    run_all_cells,
    write_notebook,
)

# A hung browser or server must fail the test, not the CI job (pytest-timeout is a dev dependency).
pytestmark = pytest.mark.timeout(180)


def test_ipywidget_button_round_trips_in_jupyterlab(page: Any, jupyter: JupyterServer) -> None:
    from playwright.sync_api import expect

    relpath = write_notebook(
        jupyter,
        "widgets_roundtrip.ipynb",
        [
            "import ipywidgets as w\n"
            "b = w.Button(description='Go')\n"
            "out = w.Label('0')\n"
            "b.on_click(lambda _: setattr(out, 'value', str(int(out.value) + 1)))\n"
            "w.VBox([b, out])",
        ],
    )
    open_notebook(page, jupyter, relpath)
    run_all_cells(page)
    assert_no_errors(page)

    output = page.locator(".jp-NotebookPanel .jp-OutputArea-output").first
    button = output.get_by_role("button", name="Go")
    expect(button).to_be_visible()
    label = output.locator(".widget-label")
    expect(label).to_have_text("0")

    button.click()
    expect(label).to_have_text("1")  # the click went to the kernel and the new value came back
    button.click()
    expect(label).to_have_text("2")
    assert_no_errors(page)


def test_assert_no_errors_fails_on_a_raising_cell(page: Any, jupyter: JupyterServer) -> None:
    relpath = write_notebook(
        jupyter,
        "raises.ipynb",
        [
            "x = 40 + 2\nprint('before', x)",
            "import sys\nsys.stderr.write('just a warning\\n')\nsys.stderr.flush()",
            "raise ValueError('boom from the harness test')",
            "print('never runs')",
        ],
    )
    open_notebook(page, jupyter, relpath)
    run_all_cells(page)

    texts = cell_outputs_text(page)
    assert "before 42" in texts[0]
    assert "just a warning" in texts[1]
    assert texts[3] == ""  # run-all stops at the first error

    # stderr is not an error by default (warnings land there) ...
    assert [(e["cell"], e["kind"]) for e in notebook_errors(page)] == [(2, "error")]
    with pytest.raises(AssertionError, match=r"cell 2 \(error\):\nValueError: boom from the harness test") as info:
        assert_no_errors(page)
    assert "just a warning" not in str(info.value)
    # ... but is when asked.
    assert [(e["cell"], e["kind"]) for e in notebook_errors(page, include_stderr=True)] == [
        (1, "stderr"),
        (2, "error"),
    ]
    with pytest.raises(AssertionError, match="just a warning"):
        assert_no_errors(page, include_stderr=True)


@pytest.mark.skipif(
    not (REPO_ROOT / "workbench").is_dir(),
    reason="the workbench package directory does not exist yet",
)
def test_kernel_imports_workbench_from_this_checkout(page: Any, jupyter: JupyterServer) -> None:
    relpath = write_notebook(
        jupyter,
        "imports.ipynb",
        [
            "import sys, pathlib, workbench\n"
            "print('prefix=' + str(pathlib.Path(sys.prefix).resolve()))\n"
            "print('checkout=' + str(pathlib.Path(workbench.__file__).resolve().parent.parent))",
        ],
    )
    open_notebook(page, jupyter, relpath)
    run_all_cells(page)
    assert_no_errors(page)
    lines = cell_outputs_text(page)[0].splitlines()
    assert f"prefix={Path(sys.prefix).resolve()}" in lines  # the kernel runs in this environment
    assert f"checkout={REPO_ROOT}" in lines  # and imports this checkout, via PYTHONPATH


_COUNTER_APP = textwrap.dedent(
    """
    import panel as pn

    count = pn.pane.Markdown("clicks=0")
    button = pn.widgets.Button(name="Increment")


    def increment(event):
        count.object = f"clicks={int(count.object.split('=')[1]) + 1}"


    button.on_click(increment)
    pn.Column(button, count).servable()
    """
)


def test_panel_server_counter_app(page: Any, panel_server: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    app = tmp_path / "counter_app.py"
    app.write_text(_COUNTER_APP)
    server = panel_server(app)

    page.goto(server.url)
    expect(page.get_by_text("clicks=0")).to_be_visible()
    page.get_by_role("button", name="Increment").click()
    expect(page.get_by_text("clicks=1")).to_be_visible()
    page.get_by_role("button", name="Increment").click()
    expect(page.get_by_text("clicks=2")).to_be_visible()


def test_start_panel_server_says_what_it_can_serve(tmp_path: Path) -> None:
    from ui_harness import start_panel_server

    (tmp_path / "not_a_project").mkdir()
    for target in (tmp_path / "missing.py", tmp_path / "not_a_project"):
        with pytest.raises(FileNotFoundError, match=r"Nothing to serve at .*: expected a Panel app script \(\.py\) "
                                                    r"or a workbench project directory \(with a workbench\.json\)"):
            start_panel_server(target, tmp_path)


def test_copy_notebook_strips_outputs_and_sets_the_kernel(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "some-other-env", "display_name": "Other", "language": "python"}
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)]
    nb.cells.append(cell)
    src = tmp_path / "src" / "original.ipynb"
    src.parent.mkdir()
    nbformat.write(nb, str(src))

    root = tmp_path / "root"
    assert copy_notebook(root, src) == "original.ipynb"
    assert copy_notebook(root, src, "sub/renamed.ipynb") == "sub/renamed.ipynb"
    for relpath in ("original.ipynb", "sub/renamed.ipynb"):
        copied = nbformat.read(str(root / relpath), as_version=4)
        assert copied.metadata["kernelspec"]["name"] == "python3"
        assert copied.cells[0].outputs == []
        assert copied.cells[0].execution_count is None
        assert copied.cells[0].source == "1 + 1"
