"""A migration's relabel queue worked through in the served, login-protected app (``workbench serve``) in Chromium.

A schema change splits ``spam`` into ``promo`` and ``scam``: every ``spam`` label is flagged and its item queued for
relabeling. Two reviewers log in; each has a different item on screen (review leases are exclusive); one relabels
by keyboard until only the other's item is left, the queue shrinking at each step, then the other relabels hers.
The store holds each decision under the name of the reviewer who made it, and the relabel queue is empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from ui_harness import PanelServer, start_panel_server

import workbench as wb
from workbench.auth import Accounts

pytestmark = pytest.mark.timeout(240)

PASSWORDS = {"dr_lee": "lee passphrase", "dr_kim": "kim passphrase"}
TEXTS = {
    "s-1": "subscribe to my channel",
    "s-2": "win a free phone, send your bank details",
    "s-3": "check out my playlist",
    "s-4": "cheap followers at http://x.example",
    "h-1": "I love this song",
}


def _make_project(path: Path) -> list[str]:
    with wb.Project.create(path, schema=wb.Schema.single("spam", ["ham", "spam"])) as project:
        project.add_data(pd.DataFrame({"id": list(TEXTS), "text": list(TEXTS.values())}), id_column="id")
        rows = [{"id": eid, "annotator": "ann", "value": "ham" if eid.startswith("h") else "spam"} for eid in TEXTS]
        project.annotation.import_annotations(pd.DataFrame(rows))
        new = project.schema.evolve(split={"spam": ["promo", "scam"]})
        project.migrations.plan(new).apply(relabel_queue=True)
        queued = project.migrations.relabel_ids()
    accounts = Accounts(path)
    for name, password in PASSWORDS.items():
        accounts.add(name, "reviewer", password)
    return queued


@dataclass
class Served:
    server: PanelServer
    project: Path
    queued: list[str]


@pytest.fixture
def served(tmp_path: Path, ui_artifacts: Path) -> Iterator[Served]:
    project = tmp_path / "spam-relabel"
    queued = _make_project(project)
    server = start_panel_server(project, ui_artifacts, args=["--refresh-seconds", "0"])
    try:
        yield Served(server, project, queued)
    finally:
        server.stop()


def _login(page: Any, served: Served, user: str) -> None:
    page.goto(served.server.base_url + "/relabel")  # redirected to the login form, then back here
    page.fill("#username", user)
    page.fill("#password", PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_url("**/relabel")
    page.wait_for_function("document.body.dataset.wbKeys === 'ready'")  # the key listener is attached


def test_reviewers_work_through_a_migrations_relabel_queue_by_keyboard(browser: Any, page: Any,
                                                                      served: Served) -> None:
    from playwright.sync_api import expect

    queued = served.queued
    assert sorted(queued) == ["s-1", "s-2", "s-3", "s-4"]
    n = len(queued)
    kim_context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        kim = kim_context.new_page()
        kim_errors: list[str] = []
        kim.on("pageerror", lambda exc: kim_errors.append(str(exc)))
        _login(kim, served, "dr_kim")
        expect(kim.locator(".wb-count")).to_have_text(str(n))
        kims_item = kim.locator(".wb-item-id").inner_text()

        _login(page, served, "dr_lee")
        expect(page.locator(".wb-user").first).to_have_text("dr_lee")
        expect(page.locator(".wb-count")).to_have_text(str(n))  # the whole queue is counted ...
        expect(page.locator(".wb-item-id")).not_to_have_text(kims_item)  # ... but dr_kim's item is not served
        expect(page.locator(".wb-item-context")).to_contain_text("Old label(s): spam")
        lee_decided = []
        for k in range(1, n):
            if lee_decided:  # the count and the item are separate updates: wait for the next item to be shown
                expect(page.locator(".wb-item-id")).not_to_have_text(lee_decided[-1])
            item = page.locator(".wb-item-id").inner_text()
            assert item != kims_item and item in queued
            page.keyboard.press("3")
            expect(page.locator(".wb-chosen")).to_have_text("scam")
            page.keyboard.press("Enter")
            expect(page.locator(".wb-count")).to_have_text(str(n - k))  # the queue shrinks
            lee_decided.append(item)
        expect(page.locator(".wb-empty")).to_contain_text("on other reviewers' screens")  # only dr_kim's is left
        assert sorted([*lee_decided, kims_item]) == sorted(queued)

        kim.keyboard.press("2")
        expect(kim.locator(".wb-chosen")).to_have_text("promo")
        kim.keyboard.press("Enter")
        expect(kim.locator(".wb-count")).to_have_text("0")
        expect(kim.get_by_text("Nothing to relabel")).to_be_visible()
        assert kim_errors == []
    finally:
        kim_context.close()

    with wb.Project.open(served.project) as project:
        assert project.migrations.relabel_ids() == []
        events = project.events()
        mine = events[(events["source"] == "adjudication") & (events["action"] == "label")]
        assert sorted(mine[["example_id", "annotator", "value", "note"]].values.tolist()) == sorted(
            [[eid, "dr_lee", "scam", "relabel"] for eid in lee_decided] + [[kims_item, "dr_kim", "promo", "relabel"]])
        labels = project.labels(source="adjudication").set_index("example_id")["value"].to_dict()
        assert labels == {**{eid: "scam" for eid in lee_decided}, kims_item: "promo"}
        assert project.annotation.holders("relabel") == {}  # each decision gave its lease back
    assert page.wb_page_errors == []
