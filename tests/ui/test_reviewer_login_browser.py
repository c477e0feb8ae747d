"""The login-protected reviewer app (``python -m widgets.panel.serve``) driven in Chromium and over plain HTTP.

A reviewer logs in and adjudicates by keyboard (the events land under their name); a wrong password is
refused; an annotator is refused the LF and export pages by the server (HTTP 403 for the URL itself);
user strings render as text on every page; logout ends the session on the server; failed logins are
rate-limited per user and per client.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from ui_harness import PanelServer, start_panel_server

import workbench as wb
from workbench.auth import Accounts

pytestmark = pytest.mark.timeout(240)

XSS = '<img src=x onerror="window.__wb_xss = 1"><script>window.__wb_xss = 2</script>'
PASSWORDS = {"dr_lee": "lee passphrase", "dr_kim": "kim passphrase", "alice": "alice passphrase",
             "root": "root passphrase", "victim": "victim passphrase"}
ROLES = {"dr_lee": "reviewer", "dr_kim": "reviewer", "alice": "annotator", "root": "admin", "victim": "reviewer"}
N_DISPUTED = 6
LF_FILE = f'''
import workbench as wb

def register(project):
    _, spam = project.schema.label_ids("ham", "spam")
    project.lfs.add(wb.lf.keywords({f"kw {XSS}"!r}, ["channel", "free"], label=spam))
'''


def _make_project(path: Path) -> None:
    schema = wb.Schema.single("spam", ["ham", "spam"], guidelines=f"# Rules\n\nSpam advertises. {XSS}")
    with wb.Project.create(path, schema=schema) as project:
        ids = [f"a-{i}" for i in range(1, N_DISPUTED + 1)]
        texts = [f"item {i}: my channel is free {XSS}" for i in range(1, N_DISPUTED + 1)]
        project.add_data(pd.DataFrame({"id": [*ids, "n-1"], "text": [*texts, f"unlabelled {XSS}"]}), id_column="id")
        rows = [{"id": eid, "annotator": name, "value": value}
                for eid in ids for name, value in zip(("ann", f"bob {XSS}", "cid"), ("spam", "ham", "spam"),
                                                      strict=True)]
        project.annotation.import_annotations(pd.DataFrame(rows))
        project.versions.save(project.models.soft_labels(), message=f"first {XSS}", author="root")
    accounts = Accounts(path)
    for name, password in PASSWORDS.items():
        accounts.add(name, ROLES[name], password)


@dataclass
class Served:
    server: PanelServer
    project: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("login")
    project = root / "spam-review"
    _make_project(project)
    lfs = root / "lfs.py"
    lfs.write_text(LF_FILE, encoding="utf-8")
    server = start_panel_server(project, root, args=["--lfs", str(lfs), "--refresh-seconds", "0"])
    try:
        yield Served(server, project)
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------- plain HTTP
@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str
    cookies: dict[str, str]


def _request(server: PanelServer, method: str, path: str, *, form: dict[str, str] | None = None,
             cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        sent = dict(headers or {})
        if cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=sent)
        resp = conn.getresponse()
        jar: SimpleCookie = SimpleCookie()
        for header in resp.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return Response(resp.status, resp.headers, resp.read().decode("utf-8", "replace"),
                        {k: m.value for k, m in jar.items()})
    finally:
        conn.close()


def _http_login(server: PanelServer, user: str, password: str, *, next_url: str = "/",
                headers: dict[str, str] | None = None) -> Response:
    form_page = _request(server, "GET", "/login", headers=headers)
    nonce = re.search(r"name='nonce' value='([^']+)'", form_page.body)
    assert nonce is not None and form_page.status == 200
    return _request(server, "POST", "/login", cookies=form_page.cookies, headers=headers,
                    form={"username": user, "password": password, "nonce": nonce.group(1), "next": next_url})


def test_pages_need_a_login_and_the_server_refuses_forbidden_pages(served: Served) -> None:
    server = served.server
    for path in ("/adjudication", "/lfs", "/export", "/annotate"):
        anonymous = _request(server, "GET", path)
        assert anonymous.status == 302 and anonymous.headers["Location"].startswith("./login?next=")
    forged = _request(server, "GET", "/adjudication", cookies={"wb_session": "v1.eyJ1IjoiZHJfbGVlIn0.AAAA"})
    assert forged.status == 302
    reviewer = _http_login(server, "dr_lee", PASSWORDS["dr_lee"], next_url="/overview")
    assert reviewer.status == 302 and reviewer.headers["Location"] == "/overview"
    session = {"wb_session": reviewer.cookies["wb_session"]}
    assert _request(server, "GET", "/adjudication", cookies=session).status == 200
    refused = _request(server, "GET", "/export", cookies=session)  # a reviewer may not export
    assert refused.status == 403 and "dr_lee (role reviewer) may not open the export page" in refused.body
    assert _request(server, "GET", "/export/ws", cookies=session).status == 403  # nor open its websocket
    assert _request(server, "GET", "/", cookies=session).headers["Location"] == "/adjudication"


def test_login_form_is_escaped_and_never_redirects_elsewhere(served: Served) -> None:
    server = served.server
    page = _request(server, "GET", "/login?next=" + urllib.parse.quote(f"/x'>{XSS}"))
    assert "<script>" not in page.body and "<img" not in page.body and "&lt;script&gt;" in page.body
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    away = _http_login(server, "dr_kim", PASSWORDS["dr_kim"], next_url="//evil.example/steal")
    assert away.status == 302 and away.headers["Location"] == "/adjudication"
    no_nonce = _request(server, "POST", "/login", form={"username": "dr_kim", "password": PASSWORDS["dr_kim"]})
    assert no_nonce.status == 400 and "wb_session" not in no_nonce.cookies
    wrong = _http_login(server, f"x{XSS}", "nope")
    assert wrong.status == 401 and "Wrong user name or password" in wrong.body and "<script>" not in wrong.body


def test_logout_ends_the_session_on_the_server(served: Served) -> None:
    server = served.server
    token = _http_login(server, "dr_kim", PASSWORDS["dr_kim"]).cookies["wb_session"]
    assert _request(server, "GET", "/quality", cookies={"wb_session": token}).status == 200
    out = _request(server, "GET", "/logout", cookies={"wb_session": token})
    assert out.status == 302 and out.headers["Location"] == "/login?out=1" and out.cookies["wb_session"] == ""
    replayed = _request(server, "GET", "/quality", cookies={"wb_session": token})  # a copied cookie is dead too
    assert replayed.status == 302 and "login" in replayed.headers["Location"]


def test_failed_logins_are_rate_limited_per_user_and_per_client(served: Served, tmp_path: Path) -> None:
    # behind a proxy the client address comes from X-Real-Ip, so one test can play several clients
    proxied = start_panel_server(served.project, tmp_path, args=["--behind-proxy", "--refresh-seconds", "0"])
    try:
        def client(ip: str) -> dict[str, str]:
            return {"X-Real-Ip": ip}

        for _ in range(5):
            assert _http_login(proxied, "victim", "guess", headers=client("10.1.1.1")).status == 401
        locked = _http_login(proxied, "victim", PASSWORDS["victim"], headers=client("10.2.2.2"))
        assert locked.status == 429 and int(locked.headers["Retry-After"]) > 0
        assert "Too many failed logins" in locked.body and "wb_session" not in locked.cookies
        for i in range(10):  # one client guessing many names
            _http_login(proxied, f"nobody{i}", "guess", headers=client("10.3.3.3"))
        sprayer = _http_login(proxied, "dr_kim", PASSWORDS["dr_kim"], headers=client("10.3.3.3"))
        assert sprayer.status == 429
        other = _http_login(proxied, "dr_kim", PASSWORDS["dr_kim"], headers=client("10.4.4.4"))
        assert other.status == 302 and other.cookies["wb_session"]
    finally:
        proxied.stop()


# ---------------------------------------------------------------------------------------------- Chromium
def _login(page: Any, served: Served, user: str, password: str, path: str = "/adjudication") -> None:
    page.goto(served.server.base_url + path)
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_a_wrong_password_is_refused(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    _login(page, served, "dr_lee", "not the password")
    expect(page.locator("#wb-login-error")).to_have_text("Wrong user name or password.")
    assert "/login" in page.url
    assert not [c for c in page.context.cookies() if c["name"] == "wb_session"]
    page.goto(served.server.base_url + "/adjudication")
    expect(page.locator("#password")).to_be_visible()  # still the login form


def test_a_reviewer_adjudicates_three_items_by_keyboard(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    with wb.Project.open(served.project) as project:
        before = len(project.annotation.queue("adjudication", n=None))
    assert before >= 3
    _login(page, served, "dr_lee", PASSWORDS["dr_lee"])
    expect(page.locator(".wb-count")).to_have_text(str(before))
    expect(page.locator(".wb-reviewer")).to_have_text("dr_lee")
    page.wait_for_function("document.body.dataset.wbKeys === 'ready'")  # the key listener is attached
    decided = []
    for k in range(1, 4):
        item = page.locator(".wb-item-id").inner_text()
        page.keyboard.press("2")
        expect(page.locator(".wb-chosen")).to_have_text("spam")
        page.keyboard.press("Enter")
        expect(page.locator(".wb-count")).to_have_text(str(before - k))  # the queue shrinks
        expect(page.locator(".wb-decided")).to_have_text(str(k))
        expect(page.locator(".wb-item-id")).not_to_have_text(item)  # the next item is on screen
        decided.append(item)
    assert len(set(decided)) == 3
    with wb.Project.open(served.project) as project:
        adj = project.labels(source="adjudication")
        mine = adj[adj["example_id"].isin(decided)]
        assert sorted(mine[["example_id", "annotator", "value"]].values.tolist()) == sorted(
            [eid, "dr_lee", "spam"] for eid in decided)
        events = project.events()
        assert set(events.loc[events["example_id"].isin(decided) & (events["source"] == "adjudication"),
                              "annotator"]) == {"dr_lee"}
        assert len(project.annotation.queue("adjudication", n=None)) == before - 3
    assert page.wb_page_errors == []


def test_an_annotator_cannot_reach_the_lf_or_export_views(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    _login(page, served, "alice", PASSWORDS["alice"], path="/")
    page.wait_for_url(re.compile(r"/annotate$"))
    expect(page.locator(".wb-user").first).to_have_text("alice")
    assert page.locator("a.wb-nav").count() == 0  # the menu offers nothing else ...
    for view in ("lfs", "export", "adjudication", "quality"):  # ... and the server refuses the URLs themselves
        response = page.goto(f"{served.server.base_url}/{view}")
        assert response is not None and response.status == 403, view
        expect(page.locator("#wb-refused")).to_have_text("Not allowed")
        expect(page.get_by_text(f"alice (role annotator) may not open the {view} page.")).to_be_visible()
        assert page.request.get(f"{served.server.base_url}/{view}/ws").status == 403
    response = page.goto(served.server.base_url + "/annotate")
    assert response is not None and response.status == 200
    expect(page.locator(".wb-item-text")).to_contain_text("onerror")  # the annotation page escapes too
    page.wait_for_timeout(300)
    assert page.evaluate("window.__wb_xss") is None


def test_xss_payloads_render_as_text_on_every_page(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    _login(page, served, "root", PASSWORDS["root"], path="/adjudication")
    checks = {
        "adjudication": [".wb-item-text", ".wb-answers", ".wb-lf-votes"],
        "quality": [".wb-annotator-table"],
        "lfs": [".wb-lf-summary"],
        "versions": [".wb-lineage"],
    }
    for view, selectors in checks.items():
        if view != "adjudication":
            page.goto(f"{served.server.base_url}/{view}")
        for selector in selectors:
            expect(page.locator(selector).first).to_contain_text("onerror")  # the payload is visible text
        if view == "adjudication":
            page.get_by_text("Guidelines").click()
            expect(page.get_by_text("Spam advertises.")).to_be_visible()
        page.wait_for_timeout(300)
        assert page.evaluate("window.__wb_xss") is None, view  # neither the img handler nor the script ran
    assert page.wb_page_errors == []
