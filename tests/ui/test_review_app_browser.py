"""The Panel ReviewApp served by ``panel serve`` and driven in Chromium: a click lands in the project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from ui_harness import REPO_ROOT

import workbench as wb

pytestmark = pytest.mark.timeout(120)

APP = REPO_ROOT / "widgets" / "panel" / "app.py"
TEXTS = {
    "q-01": "subscribe to my channel <b>now</b>",
    "q-02": "I love this song",
    "q-03": "free gift cards at http://x.example",
}
ANSWERS = {"q-01": ("spam", "spam", "ham"), "q-02": ("ham", "ham", "ham"), "q-03": ("spam", "ham", "ham")}


def _make_project(path: Path) -> list[str]:
    schema = wb.Schema.single("spam", ["ham", "spam"], guidelines="Spam advertises a channel or a link.")
    with wb.Project.create(path, schema=schema) as project:
        project.add_data(pd.DataFrame({"id": list(TEXTS), "text": list(TEXTS.values())}), id_column="id")
        rows = [{"id": eid, "annotator": name, "value": value}
                for eid, values in ANSWERS.items() for name, value in zip(("ann", "bob", "cid"), values, strict=True)]
        project.annotation.import_annotations(pd.DataFrame(rows))
        return [str(i) for i in project.annotation.queue("adjudication", n=None)["example_id"]]


def test_clicking_a_choice_adjudicates_and_shows_the_next_item(page: Any, panel_server: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    project_path = tmp_path / "review-project"
    queue = _make_project(project_path)
    assert sorted(queue) == ["q-01", "q-03"]
    first, second = queue
    server = panel_server(APP, env={"WORKBENCH_PROJECT": str(project_path), "WORKBENCH_REVIEWER": "dr_lee"})

    page.goto(server.url)
    expect(page.locator(".wb-count")).to_have_text("2")
    expect(page.locator(".wb-item-id")).to_have_text(first)
    # the text is shown as text: the <b> tag is visible, not rendered
    expect(page.locator(".wb-item-text")).to_contain_text(TEXTS[first])

    page.get_by_role("button", name="spam", exact=True).click()

    expect(page.locator(".wb-count")).to_have_text("1")
    expect(page.locator(".wb-item-id")).to_have_text(second)
    with wb.Project.open(project_path) as project:
        adj = project.labels(source="adjudication")
        assert adj[["example_id", "annotator", "value"]].values.tolist() == [[first, "dr_lee", "spam"]]
        assert project.quality.consensus().loc[first, "adjudicated"]

    page.get_by_role("button", name="Skip", exact=True).click()  # skipping the last item writes nothing
    expect(page.locator(".wb-status")).to_contain_text("only item left")
    page.get_by_role("button", name="ham", exact=True).click()
    expect(page.get_by_text("Nothing to review")).to_be_visible()
    expect(page.locator(".wb-count")).to_have_text("0")
    with wb.Project.open(project_path) as project:
        assert sorted(project.labels(source="adjudication")["example_id"]) == sorted(queue)
    assert page.wb_page_errors == []


XSS = '<img src=x onerror="window.__wb_xss = 1"> <script>window.__wb_xss = 2</script>'


def test_user_text_is_shown_as_text_and_the_url_cannot_change_the_reviewer(
    page: Any, panel_server: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    project_path = tmp_path / "xss-project"
    schema = wb.Schema.single("spam", ["ham", "spam"], guidelines=f"# Rules\n\nSpam advertises. {XSS}")
    with wb.Project.create(project_path, schema=schema) as project:
        project.add_data(pd.DataFrame({"id": ["x-1"], "text": [f"buy now {XSS}"]}), id_column="id")
        project.annotation.import_annotations(pd.DataFrame(
            {"id": ["x-1", "x-1"], "annotator": [f"ann {XSS}", "bob"], "value": ["spam", "ham"]}))
    server = panel_server(APP, env={"WORKBENCH_PROJECT": str(project_path), "WORKBENCH_REVIEWER": "dr_lee"})

    page.goto(server.url + "?reviewer=mallory")  # the identity comes from the server, not the URL
    expect(page.locator(".wb-item-id")).to_have_text("x-1")
    expect(page.locator(".wb-item-text")).to_contain_text("onerror")  # the payload is visible text
    page.get_by_text("Guidelines").click()
    expect(page.get_by_text("Spam advertises.")).to_be_visible()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__wb_xss") is None  # neither the img handler nor the script ran
    page.get_by_role("button", name="spam", exact=True).click()
    expect(page.get_by_text("Nothing to review")).to_be_visible()
    with wb.Project.open(project_path) as project:
        adj = project.labels(source="adjudication")
        assert adj["annotator"].tolist() == ["dr_lee"]
    assert page.wb_page_errors == []


def test_a_bad_project_path_is_shown_on_the_page(page: Any, panel_server: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    server = panel_server(APP, env={"WORKBENCH_PROJECT": str(tmp_path / "no-such-project"),
                                    "WORKBENCH_REVIEWER": "dr_lee"})
    page.goto(server.url)
    expect(page.locator(".wb-error")).to_contain_text("There is no project at")  # not a blank page
    assert page.wb_page_errors == []


def test_a_project_with_accounts_is_not_served_without_logins(page: Any, panel_server: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from workbench.auth import Accounts

    project_path = tmp_path / "locked-project"
    _make_project(project_path)
    Accounts(project_path).add("dr_lee", "reviewer", "a long passphrase")
    server = panel_server(APP, env={"WORKBENCH_PROJECT": str(project_path), "WORKBENCH_REVIEWER": "dr_lee"})
    page.goto(server.url)
    expect(page.locator(".wb-error")).to_contain_text("must be served with logins: run workbench serve")
    with wb.Project.open(project_path) as project:
        assert project.labels(source="adjudication").empty


def test_keys_pressed_the_moment_the_next_item_appears_decide_that_item(
    page: Any, panel_server: Any, tmp_path: Path
) -> None:
    """The item's panes and the key context reach the page in one message: a reviewer who presses
    2 and Enter as soon as an item appears decides that item and is never told the key was early."""
    from playwright.sync_api import expect

    n = 12
    schema = wb.Schema.single("spam", ["ham", "spam"])
    project_path = tmp_path / "fast-review"
    with wb.Project.create(project_path, schema=schema) as project:
        ids = [f"f-{i:02d}" for i in range(n)]
        project.add_data(pd.DataFrame({"id": ids, "text": [f"comment {i}" for i in range(n)]}), id_column="id")
        rows = [{"id": eid, "annotator": name, "value": value}
                for eid in ids for name, value in zip(("ann", "bob", "cid"), ("spam", "ham", "ham"), strict=True)]
        project.annotation.import_annotations(pd.DataFrame(rows))
    server = panel_server(APP, env={"WORKBENCH_PROJECT": str(project_path), "WORKBENCH_REVIEWER": "dr_lee"})
    page.goto(server.url)
    expect(page.locator(".wb-count")).to_have_text(str(n))
    page.wait_for_function("document.body.dataset.wbKeys === 'ready'")
    seen = []
    for k in range(n):
        item = page.locator(".wb-item-id").inner_text()
        seen.append(item)
        page.keyboard.press("2")
        page.keyboard.press("Enter")  # no wait in between, nor after the item appeared
        if k < n - 1:
            expect(page.locator(".wb-item-id")).not_to_have_text(item)
    expect(page.locator(".wb-count")).to_have_text("0")
    assert "pressed before" not in page.locator(".wb-status").inner_text()
    with wb.Project.open(project_path) as project:
        adj = project.labels(source="adjudication")
        assert sorted(adj["example_id"]) == sorted(seen) == sorted(ids)
        assert set(adj["value"]) == {"spam"}


def test_a_double_click_on_a_choice_decides_one_item(page: Any, panel_server: Any, tmp_path: Path) -> None:
    """The second click of a double click lands after the server moved on but before the page drew
    the next item: it must not decide that item."""
    from playwright.sync_api import expect

    project_path = tmp_path / "double-click"
    queue = _make_project(project_path)
    first, second = queue
    server = panel_server(APP, env={"WORKBENCH_PROJECT": str(project_path), "WORKBENCH_REVIEWER": "dr_lee"})
    page.goto(server.url)
    expect(page.locator(".wb-item-id")).to_have_text(first)
    page.wait_for_function("document.body.dataset.wbKeys === 'ready'")
    page.get_by_role("button", name="spam", exact=True).dblclick()
    expect(page.locator(".wb-item-id")).to_have_text(second)
    expect(page.locator(".wb-status")).to_contain_text("made before this item appeared")
    with wb.Project.open(project_path) as project:
        adj = project.labels(source="adjudication")
        assert adj[["example_id", "value"]].values.tolist() == [[first, "spam"]]
    page.get_by_role("button", name="ham", exact=True).click()  # once the item is drawn, a click acts
    expect(page.locator(".wb-count")).to_have_text("0")
    with wb.Project.open(project_path) as project:
        adj = project.labels(source="adjudication")
        assert sorted(adj[["example_id", "value"]].values.tolist()) == [[first, "spam"], [second, "ham"]]
