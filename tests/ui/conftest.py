"""Fixtures for the real-browser tests: Chromium via Playwright, a JupyterLab server, Panel servers.

Every test under ``tests/ui`` is marked ``ui`` (deselect with ``-m "not ui"``). When Chromium or
Playwright is missing the tests skip, unless ``WORKBENCH_REQUIRE_UI=1`` (set it in CI) turns that into
a failure. On a failing test the page is screenshotted into ``$WORKBENCH_UI_ARTIFACTS`` (default: a
``ui-artifacts`` folder in pytest's base temp dir) and the path is printed with the failure.

Fixtures
--------
browser         session: a headless Chromium (``/usr/bin/chromium`` or ``$WORKBENCH_CHROMIUM``).
page            function: a fresh browser context and page, closed after the test.
jupyter_server  session: a real JupyterLab server (``ui_harness.JupyterServer``).
jupyter         function: the same server; every kernel the test started is shut down afterwards.
panel_server    function: factory ``panel_server(target, *, args=(), env=None, ready_path=None) -> PanelServer``
                serving a Panel app script or a project (``workbench serve``); every server it started is
                stopped after the test.
ui_artifacts    session: the folder for screenshots and logs.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ui_harness import (
    CHROMIUM_ARGS,
    JupyterServer,
    PanelServer,
    chromium_executable,
    start_jupyter_server,
    start_panel_server,
)

_UI_DIR = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ui: real-browser test (Chromium + JupyterLab/Panel servers)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _UI_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.ui)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.when == "call" and report.failed:
        # Right at the failure, before fixture teardown shuts kernels or servers down.
        lines = _failure_artifacts(item)
        if lines:
            report.sections.append(("ui artifacts", "\n".join(lines)))
    return report


def _failure_artifacts(item: pytest.Item) -> list[str]:
    """Screenshot the test's page and list the server logs; return lines for the failure report."""
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    lines: list[str] = []
    page = funcargs.get("page")
    artifacts = funcargs.get("ui_artifacts")
    if page is not None and isinstance(artifacts, Path):
        from playwright.sync_api import Error as PlaywrightError

        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-150:]
        shot = artifacts / f"{name}.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            lines.append(f"screenshot of the failing page: {shot}")
        except PlaywrightError as exc:  # the page may be gone; the failure itself is what matters
            lines.append(f"could not take a screenshot: {exc!r}")
        page_errors = getattr(page, "wb_page_errors", [])
        if page_errors:
            lines.append("uncaught page errors:\n  " + "\n  ".join(page_errors))
    server = funcargs.get("jupyter") or funcargs.get("jupyter_server")
    if isinstance(server, JupyterServer):
        lines.append(f"JupyterLab log: {server.log_path}")
    factory = funcargs.get("panel_server")
    for panel in getattr(factory, "started", []):
        lines.append(f"Panel log: {panel.log_path}")
    return lines


def _unavailable(reason: str) -> None:
    if os.environ.get("WORKBENCH_REQUIRE_UI", "") not in ("", "0"):
        pytest.fail(f"{reason} (WORKBENCH_REQUIRE_UI is set, so this is an error rather than a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def ui_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("WORKBENCH_UI_ARTIFACTS")
    path = Path(configured) if configured else tmp_path_factory.getbasetemp() / "ui-artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_executable()
    if executable is None:
        _unavailable("Chromium not found at /usr/bin/chromium (or $WORKBENCH_CHROMIUM): apt-get install chromium")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("The 'playwright' Python package is not installed: pip install playwright")
    # expect() waits 5 s by default: too short for a kernel round-trip on a loaded 2-core CI runner.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(executable), headless=True, args=list(CHROMIUM_ARGS))
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, ui_artifacts: Path) -> Iterator[Any]:
    """A fresh browser context and page (1400x900), closed after the test; screenshotted if it fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    new_page = context.new_page()
    page_errors: list[str] = []
    new_page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    new_page.wb_page_errors = page_errors  # uncaught JS exceptions, for tests that want to assert on them
    try:
        yield new_page
    finally:
        context.close()


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = start_jupyter_server(tmp_path_factory.mktemp("jupyter"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def jupyter(jupyter_server: JupyterServer) -> Iterator[JupyterServer]:
    """The session's JupyterLab server; kernels the test started are shut down after it."""
    try:
        yield jupyter_server
    finally:
        jupyter_server.shutdown_all_kernels()


class PanelServerFactory:
    """``panel_server(target, *, args=(), env=None, ready_path=None) -> PanelServer``; ``.started`` lists them all.

    ``target`` is a Panel app script or a workbench project directory (see ``ui_harness.start_panel_server``).
    """

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[PanelServer] = []

    def __call__(
        self,
        target: str | Path,
        *,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        ready_path: str | None = None,
    ) -> PanelServer:
        server = start_panel_server(target, self.log_dir, args=args, env=env, ready_path=ready_path)
        self.started.append(server)
        return server

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture
def panel_server(ui_artifacts: Path) -> Iterator[PanelServerFactory]:
    """Factory starting a Panel app or a project's reviewer app on 127.0.0.1; every server is stopped after the test."""
    factory = PanelServerFactory(ui_artifacts)
    try:
        yield factory
    finally:
        factory.stop_all()
