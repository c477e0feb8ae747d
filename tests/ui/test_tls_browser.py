"""``workbench serve --tls-cert/--tls-key`` end to end: a real HTTPS session, in Python and in Chromium.

A self-signed certificate for 127.0.0.1 is made with ``openssl``; the server speaks TLS only (a
plain-HTTP request to its port fails, a client that does not trust the certificate is refused); a
reviewer logs in over HTTPS, decides an item with the keyboard through the ``wss://`` connection, and
the event lands in the store under that reviewer; every cookie the app sets is ``Secure`` and
``HttpOnly``.
"""

from __future__ import annotations

import http.client
import re
import ssl
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from ui_harness import PanelServer, make_disputed_project, make_self_signed_cert, openssl_executable, start_panel_server

import workbench as wb
from workbench.auth import Accounts

pytestmark = pytest.mark.timeout(120)

PASSWORD = "lee passphrase"
N_DISPUTED = 3


@dataclass
class Served:
    server: PanelServer
    project: Path


def _make_project(path: Path) -> None:
    make_disputed_project(path, prefix="t", n=N_DISPUTED)
    Accounts(path).add("dr_lee", "reviewer", PASSWORD)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if openssl_executable() is None:
        pytest.skip("The 'openssl' command is not installed (apt-get install openssl): it makes the test certificate")
    root = tmp_path_factory.mktemp("tls")
    cert, key = make_self_signed_cert(root / "tls")
    project = root / "tls-project"
    _make_project(project)
    server = start_panel_server(project, root, args=["--tls-cert", str(cert), "--tls-key", str(key),
                                                     "--refresh-seconds", "0"])
    try:
        yield Served(server, project)
    finally:
        server.stop()


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    """Like the conftest ``page``, in a context accepting the test's self-signed certificate."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, ignore_https_errors=True)
    context.set_default_timeout(30_000)
    new_page = context.new_page()
    page_errors: list[str] = []
    new_page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    new_page.wb_page_errors = page_errors
    try:
        yield new_page
    finally:
        context.close()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str
    set_cookies: list[str]


def _https(server: PanelServer, method: str, path: str, *, form: dict[str, str] | None = None,
           cookies: dict[str, str] | None = None) -> Response:
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.ssl_context, timeout=30)
    try:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read().decode("utf-8", "replace"),
                        resp.headers.get_all("Set-Cookie") or [])
    finally:
        conn.close()


def _cookie(set_cookies: list[str], name: str) -> Any:
    for header in set_cookies:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar[name]
    raise AssertionError(f"No Set-Cookie for {name!r} among {set_cookies!r}")


def test_https_serves_the_login_page_and_sets_only_secure_cookies(served: Served) -> None:
    server = served.server
    assert server.base_url.startswith("https://")
    form_page = _https(server, "GET", "/login")
    assert form_page.status == 200 and "name='password'" in form_page.body
    nonce_cookie = _cookie(form_page.set_cookies, "wb_login_nonce")
    assert nonce_cookie["secure"] and nonce_cookie["httponly"]
    nonce = re.search(r"name='nonce' value='([^']+)'", form_page.body)
    assert nonce is not None
    login = _https(server, "POST", "/login", cookies={"wb_login_nonce": nonce_cookie.value},
                   form={"username": "dr_lee", "password": PASSWORD, "nonce": nonce.group(1), "next": "/adjudication"})
    assert login.status == 302 and login.headers["Location"] == "/adjudication"
    session = _cookie(login.set_cookies, "wb_session")
    assert session.value and session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert _https(server, "GET", "/adjudication", cookies={"wb_session": session.value}).status == 200


def test_the_port_speaks_tls_only_and_checks_the_certificate(served: Served) -> None:
    port = served.server.port
    plain = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        with pytest.raises((ConnectionError, http.client.HTTPException)):  # no cleartext answer, not even a 400
            plain.request("GET", "/login")
            plain.getresponse()
    finally:
        plain.close()
    untrusting = http.client.HTTPSConnection("127.0.0.1", port, context=ssl.create_default_context(), timeout=10)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):  # the certificate served is the test's self-signed one
            untrusting.request("GET", "/login")
    finally:
        untrusting.close()


def test_a_reviewer_decides_by_keyboard_over_https(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    with wb.Project.open(served.project) as project:
        before = len(project.annotation.queue("adjudication", n=None))
    assert before >= 1
    page.goto(served.server.base_url + "/adjudication")
    assert page.url.startswith(served.server.base_url + "/login")  # nothing before the login, over TLS too
    page.fill("#username", "dr_lee")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^https://127\.0\.0\.1:\d+/adjudication$"))
    expect(page.locator(".wb-reviewer")).to_have_text("dr_lee")
    expect(page.locator(".wb-count")).to_have_text(str(before))
    page.wait_for_function("document.body.dataset.wbKeys === 'ready'")
    item = page.locator(".wb-item-id").inner_text()
    page.keyboard.press("2")
    expect(page.locator(".wb-chosen")).to_have_text("spam")
    page.keyboard.press("Enter")
    expect(page.locator(".wb-count")).to_have_text(str(before - 1))  # the decision went through wss://
    with wb.Project.open(served.project) as project:
        events = project.events()
        mine = events[(events["example_id"] == item) & (events["source"] == "adjudication")]
        assert mine[["annotator", "value"]].values.tolist() == [["dr_lee", "spam"]]
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["wb_session"]
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Lax"
    assert all(c["secure"] for c in cookies.values()), cookies  # no cookie of the app travels in cleartext
    assert page.wb_page_errors == []


def test_making_a_certificate_without_openssl_says_what_to_install(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH holding no openssl
    assert openssl_executable() is None
    with pytest.raises(FileNotFoundError, match=r"'openssl' command is not installed \(apt-get install openssl\)"):
        make_self_signed_cert(tmp_path / "tls")
    assert not (tmp_path / "tls").exists()
