"""``panel serve widgets/panel/app.py`` behind Panel's own login: the generic OAuth2 provider and ``--basic-auth``.

A tiny OAuth2 authorization server runs in the test (a ``http.server`` thread on 127.0.0.1 with
``/authorize``, ``/token`` and ``/userinfo``): ``/authorize`` sends the browser straight back with a
one-time code for the user the test configured; Panel's real ``GenericLoginHandler`` swaps the code
for an access token (with the client secret), reads the user from ``/userinfo`` and sets its signed
``user`` cookie. The app then takes the reviewer from ``pn.state.user`` and checks it against the
project's accounts: a reviewer with an account adjudicates by keyboard and the event is recorded
under their name; an OAuth user without an account sees the error page (not the queue); nothing is
reachable before the login.
"""

from __future__ import annotations

import base64
import http.client
import importlib.util
import json
import re
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ui_harness import REPO_ROOT, PanelServer, make_disputed_project, start_panel_server

import workbench as wb
from workbench.auth import Accounts

pytestmark = pytest.mark.timeout(120)

APP = REPO_ROOT / "widgets" / "panel" / "app.py"
CLIENT_ID = "workbench-test-client"
ACCOUNTS = {"dr_lee": "reviewer", "alice": "annotator"}  # OAuth users who also have a project account
N_DISPUTED = 3


# ---------------------------------------------------------------------------------------------- the provider
@dataclass
class OAuthProvider:
    """An OAuth2 authorization-code server on 127.0.0.1 that logs in ``login_as`` without asking."""

    client_id: str
    client_secret: str
    login_as: str | None = None
    server: ThreadingHTTPServer | None = field(default=None, repr=False)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (user, redirect_uri)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> user
    log: list[str] = field(default_factory=list)  # "GET /authorize", "POST /token 200", ...
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def panel_env(self) -> dict[str, str]:
        """The generic provider's endpoints, as Panel's ``GenericLoginHandler`` reads them."""
        return {"PANEL_OAUTH_AUTHORIZE_URL": f"{self.url}/authorize", "PANEL_OAUTH_TOKEN_URL": f"{self.url}/token",
                "PANEL_OAUTH_USER_URL": f"{self.url}/userinfo"}


def _handler(provider: OAuthProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            with provider.lock:
                provider.log.append(f"{self.command} {urllib.parse.urlsplit(self.path).path} {status}")

        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            if parts.path == "/authorize":
                redirect = query.get("redirect_uri", "")
                if (query.get("client_id") != provider.client_id or query.get("response_type") != "code"
                        or not redirect.startswith("http://127.0.0.1:") or provider.login_as is None):
                    self._json(400, {"error": "invalid_request", "error_description": f"bad authorize: {query}"})
                    return
                code = secrets.token_urlsafe(16)
                with provider.lock:
                    provider.codes[code] = (provider.login_as, redirect)
                    provider.log.append("GET /authorize 302")
                sep = "&" if "?" in redirect else "?"
                self.send_response(302)
                self.send_header("Location", redirect + sep + urllib.parse.urlencode(
                    {"code": code, "state": query.get("state", "")}))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif parts.path == "/userinfo":
                auth = self.headers.get("Authorization", "")
                user = provider.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
                if user is None:
                    self._json(401, {"error": "invalid_token"})
                    return
                self._json(200, {"sub": f"id-{user}", "preferred_username": user, "email": f"{user}@example.org"})
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            if urllib.parse.urlsplit(self.path).path != "/token":
                self._json(404, {"error": "not_found"})
                return
            if form.get("client_id") != provider.client_id or form.get("client_secret") != provider.client_secret:
                self._json(401, {"error": "invalid_client"})
                return
            with provider.lock:
                found = provider.codes.pop(form.get("code", ""), None)  # a code works once
            if form.get("grant_type") != "authorization_code" or found is None or found[1] != form.get("redirect_uri"):
                self._json(400, {"error": "invalid_grant"})
                return
            token = secrets.token_urlsafe(24)
            with provider.lock:
                provider.tokens[token] = found[0]
            self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    return Handler


@pytest.fixture(scope="module")
def oauth_provider() -> Iterator[OAuthProvider]:
    provider = OAuthProvider(CLIENT_ID, secrets.token_urlsafe(24))
    provider.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    thread = threading.Thread(target=provider.server.serve_forever, name="oauth-provider", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        provider.server.shutdown()
        provider.server.server_close()
        thread.join(timeout=10)


# ---------------------------------------------------------------------------------------------- the app
def _make_project(path: Path) -> None:
    make_disputed_project(path, prefix="o", n=N_DISPUTED)
    accounts = Accounts(path)
    for name, role in ACCOUNTS.items():
        accounts.add(name, role, secrets.token_urlsafe(16))  # a password nobody uses: the login is OAuth's


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "oauth-project"
    _make_project(path)
    return path


def _encryption_args() -> list[str]:
    """``--oauth-encryption-key`` when Panel can use one (it needs the ``cryptography`` package)."""
    if importlib.util.find_spec("cryptography") is None:
        return []
    return ["--oauth-encryption-key=" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")]


@pytest.fixture
def oauth_app(panel_server: Any, oauth_provider: OAuthProvider, project: Path) -> PanelServer:
    # "--flag=value": a random secret may start with "-", which argparse would take for a flag
    args = ["--oauth-provider", "generic", f"--oauth-key={oauth_provider.client_id}",
            f"--oauth-secret={oauth_provider.client_secret}", f"--cookie-secret={secrets.token_urlsafe(32)}",
            "--oauth-jwt-user", "preferred_username", *_encryption_args(), "--liveness"]
    env = {"WORKBENCH_PROJECT": str(project), "WORKBENCH_REFRESH_SECONDS": "0", **oauth_provider.panel_env()}
    server: PanelServer = panel_server(APP, args=args, env=env, ready_path="/liveness")
    return server


def _get(server: PanelServer, path: str, cookies: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, dict(resp.headers), resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------- tests
def test_nothing_is_reachable_before_the_oauth_login(oauth_app: PanelServer, oauth_provider: OAuthProvider) -> None:
    status, headers, body = _get(oauth_app, "/app")
    assert status == 302 and "login" in headers["Location"], (status, headers)
    assert "wb-count" not in body and "o-1" not in body
    status, headers, _ = _get(oauth_app, "/login?next=%2Fapp")  # the login page hands over to the provider
    assert status == 302 and headers["Location"].startswith(f"{oauth_provider.url}/authorize?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["Location"]).query))
    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code" and query["state"]
    status, _, _ = _get(oauth_app, "/app/ws")  # no websocket, so no document and no decision
    assert status == 403
    for path in ("/app/autoload.js?bokeh-autoload-element=x&bokeh-absolute-url=/app", "/app/metadata"):
        status, headers, body = _get(oauth_app, path)
        assert status == 302 and headers["Location"].startswith("/login?next="), (path, status)
        assert "o-1" not in body
    forged = _get(oauth_app, "/app", cookies={"user": "dr_lee"})  # an unsigned user cookie counts as nobody
    assert forged[0] == 302


def test_an_oauth_reviewer_with_an_account_decides_by_keyboard(
    page: Any, oauth_app: PanelServer, oauth_provider: OAuthProvider, project: Path
) -> None:
    from playwright.sync_api import expect

    oauth_provider.login_as = "dr_lee"
    with wb.Project.open(project) as opened:
        before = len(opened.annotation.queue("adjudication", n=None))
    page.goto(oauth_app.url)
    page.wait_for_url(re.compile(rf"^{re.escape(oauth_app.base_url)}/app"))
    expect(page.locator(".wb-reviewer")).to_have_text("dr_lee")
    expect(page.locator(".wb-count")).to_have_text(str(before))
    assert "POST /token 200" in oauth_provider.log and "GET /userinfo 200" in oauth_provider.log
    page.wait_for_function("document.body.dataset.wbKeys === 'ready'")
    item = page.locator(".wb-item-id").inner_text()
    page.keyboard.press("2")
    expect(page.locator(".wb-chosen")).to_have_text("spam")
    page.keyboard.press("Enter")
    expect(page.locator(".wb-count")).to_have_text(str(before - 1))
    with wb.Project.open(project) as opened:
        events = opened.events()
        mine = events[(events["example_id"] == item) & (events["source"] == "adjudication")]
        assert mine[["annotator", "value"]].values.tolist() == [["dr_lee", "spam"]]
    assert page.wb_page_errors == []
    page.goto(oauth_app.base_url + "/logout")  # Panel's logout clears its cookies ...
    assert "user" not in {c["name"] for c in page.context.cookies()}
    oauth_provider.login_as = None  # ... so the app sends the browser to the provider again, which now refuses
    page.goto(oauth_app.url)
    assert page.url.startswith(f"{oauth_provider.url}/authorize?")
    assert page.locator(".wb-count").count() == 0


def test_an_oauth_user_without_an_account_sees_the_error_page(
    page: Any, oauth_app: PanelServer, oauth_provider: OAuthProvider, project: Path
) -> None:
    from playwright.sync_api import expect

    oauth_provider.login_as = "mallory"
    page.goto(oauth_app.url)
    page.wait_for_url(re.compile(rf"^{re.escape(oauth_app.base_url)}/app"))
    expect(page.locator(".wb-error")).to_contain_text("'mallory' logged in, but the project has no account")
    expect(page.locator(".wb-error")).to_contain_text(f"workbench users add {project} mallory --role reviewer")
    assert page.locator(".wb-count").count() == 0 and page.locator(".wb-item-id").count() == 0  # no queue
    with wb.Project.open(project) as opened:
        assert opened.labels(source="adjudication").empty


def test_an_oauth_annotator_cannot_adjudicate(
    page: Any, oauth_app: PanelServer, oauth_provider: OAuthProvider, project: Path
) -> None:
    from playwright.sync_api import expect

    oauth_provider.login_as = "alice"  # has an account, but as an annotator
    page.goto(oauth_app.url)
    page.wait_for_url(re.compile(rf"^{re.escape(oauth_app.base_url)}/app"))
    expect(page.locator(".wb-error")).to_contain_text("alice (role 'annotator') may not open the 'adjudication' view")
    assert page.locator(".wb-count").count() == 0 and page.locator(".wb-item-id").count() == 0


def test_basic_auth_user_is_the_reviewer(page: Any, panel_server: Any, project: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps({"dr_lee": "lee basic pass", "mallory": "mallory pass"}), encoding="utf-8")
    server = panel_server(APP, args=["--basic-auth", str(credentials), f"--cookie-secret={secrets.token_urlsafe(32)}",
                                     "--liveness"],
                          env={"WORKBENCH_PROJECT": str(project), "WORKBENCH_REFRESH_SECONDS": "0"},
                          ready_path="/liveness")
    status, headers, _ = _get(server, "/app")
    assert status == 302 and "login" in headers["Location"]

    page.goto(server.url)
    page.fill("input[name=username]", "dr_lee")
    page.fill("input[name=password]", "wrong")
    page.click("[type=submit]")
    expect(page.get_by_text("Invalid username or password")).to_be_visible()
    page.fill("input[name=username]", "dr_lee")
    page.fill("input[name=password]", "lee basic pass")
    page.click("[type=submit]")
    expect(page.locator(".wb-reviewer")).to_have_text("dr_lee")
    page.wait_for_function("document.body.dataset.wbKeys === 'ready'")
    item = page.locator(".wb-item-id").inner_text()
    page.keyboard.press("1")
    expect(page.locator(".wb-chosen")).to_have_text("ham")
    page.keyboard.press("Enter")
    expect(page.locator(".wb-count")).to_have_text(str(N_DISPUTED - 1))
    with wb.Project.open(project) as opened:
        adj = opened.labels(source="adjudication")
        assert adj[["example_id", "annotator", "value"]].values.tolist() == [[item, "dr_lee", "ham"]]


def test_the_harness_refuses_a_ready_path_that_is_not_a_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'ready_path' parameter must be a path starting with '/'\. Got 'liveness'"):
        start_panel_server(APP, tmp_path, ready_path="liveness")
    assert not list(tmp_path.glob("*.log"))  # refused before any server was started
