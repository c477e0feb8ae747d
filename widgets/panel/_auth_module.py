"""The Bokeh/Tornado login hook of the served app: who may reach which page, checked on every request.

:class:`WorkbenchAuthProvider` is a Bokeh ``AuthProvider`` (passed to ``pn.serve(auth_provider=...)``).
Bokeh asks its ``get_user`` before it serves an app page, its websocket, its autoload script or its
metadata. ``get_user`` reads the signed session cookie, looks the session up in the project's accounts
(expired, logged-out or forged sessions count as nobody, so the browser is sent to ``/login``) and
refuses, with an HTTP 403 page, a page the user's role may not open, e.g. ``/lfs`` for an annotator:
the refusal happens on the server whatever URL the browser asks for.

``/login`` shows a plain HTML form (every value escaped, no script) and checks the password with
:meth:`workbench.auth.Accounts.authenticate`, rate-limited per user and per client IP; success sets an
HttpOnly, SameSite=Lax cookie (Secure with TLS or behind a proxy) holding the signed session token.
``/logout`` ends the session in the accounts and clears the cookie. ``/`` sends each user to their home page.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from bokeh.server.auth_provider import AuthProvider
from tornado.web import Finish, RequestHandler

from widgets.panel._login import login_page, refusal_page, safe_next
from workbench.auth import (
    DEFAULT_SESSION_MINUTES,
    VIEWS,
    Accounts,
    RateLimitedError,
    can,
    home_view,
    views_for,
)

__all__ = ["NONCE_COOKIE", "SESSION_COOKIE", "HomeHandler", "LoginHandler", "LogoutHandler", "WorkbenchAuthProvider",
           "view_of"]

#: The cookie holding the signed session token.
SESSION_COOKIE = "wb_session"
#: The cookie pairing a login form with the browser that asked for it (a login-CSRF guard).
NONCE_COOKIE = "wb_login_nonce"


def view_of(path: str) -> str | None:
    """The app page a request path belongs to (``/lfs``, ``/lfs/ws``, ``/lfs/autoload.js`` -> ``"lfs"``)."""
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in VIEWS else None


class WorkbenchAuthProvider(AuthProvider):
    """Login, sessions and per-page role checks for one project's served app.

    Parameters
    ----------
    accounts : workbench.auth.Accounts
        The project's accounts.
    project_label : str
        How the login page names the project.
    session_minutes : float
        How long a login lasts.
    secure_cookies : bool
        Mark cookies ``Secure`` (the server speaks TLS, or a TLS proxy fronts it).
    """

    def __init__(self, accounts: Accounts, *, project_label: str, session_minutes: float = DEFAULT_SESSION_MINUTES,
                 secure_cookies: bool = False) -> None:
        self.accounts = accounts
        self.project_label = project_label
        self.session_minutes = float(session_minutes)
        self.secure_cookies = bool(secure_cookies)
        super().__init__()

    # -- the AuthProvider hooks Bokeh reads
    @property
    def get_user(self) -> Any:
        return self._get_user

    @property
    def login_url(self) -> str:
        return "/login"

    @property
    def login_handler(self) -> type[RequestHandler]:
        return LoginHandler

    @property
    def logout_url(self) -> str:
        return "/logout"

    @property
    def logout_handler(self) -> type[RequestHandler]:
        return LogoutHandler

    def _get_user(self, handler: RequestHandler) -> str | None:
        session = self.accounts.session(handler.get_cookie(SESSION_COOKIE))
        if session is None:
            return None  # Bokeh redirects to /login (and refuses the websocket)
        view = view_of(handler.request.path)
        if view is not None and not can(session.role, f"view:{view}"):
            handler.set_status(403)
            handler.set_header("Content-Type", "text/html; charset=utf-8")
            handler.set_header("Cache-Control", "no-store")
            raise Finish(refusal_page(username=session.username, role=session.role, view=view,
                                      allowed=views_for(session.role)))
        return session.username

    def set_session_cookie(self, handler: RequestHandler, token: str) -> None:
        """Put a session token in the browser (HttpOnly, SameSite=Lax, Secure when configured)."""
        handler.set_cookie(SESSION_COOKIE, token, path="/", httponly=True, samesite="Lax",
                           secure=self.secure_cookies, expires_days=self.session_minutes / (24 * 60))


def _provider(handler: RequestHandler) -> WorkbenchAuthProvider:
    provider = handler.application.auth_provider  # type: ignore[attr-defined]
    assert isinstance(provider, WorkbenchAuthProvider)
    return provider


class _PageHandler(RequestHandler):
    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                                   "frame-ancestors 'none'")

    def _html(self, status: int, page: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page)


class LoginHandler(_PageHandler):
    """``GET /login``: the form; ``POST /login``: check the password, open a session, go to ``next``."""

    def _form(self, status: int, *, next_url: str, username: str = "", error: str | None = None,
              info: str | None = None) -> None:
        provider = _provider(self)
        nonce = secrets.token_urlsafe(24)
        self.set_cookie(NONCE_COOKIE, nonce, path="/login", httponly=True, samesite="Strict",
                        secure=provider.secure_cookies)
        self._html(status, login_page(project=provider.project_label, next_url=next_url, nonce=nonce,
                                      username=username, error=error, info=info))

    def _landing(self, role: str, next_url: str) -> str:
        target = safe_next(next_url, "")
        view = view_of(target.split("?", 1)[0]) if target else None
        if target and (view is None or can(role, f"view:{view}")) and target.split("?", 1)[0] not in ("/login",
                                                                                                        "/logout"):
            return target
        home = home_view(role)
        return f"/{home}" if home else "/"

    def get(self) -> None:
        provider = _provider(self)
        next_url = self.get_argument("next", "/")
        session = provider.accounts.session(self.get_cookie(SESSION_COOKIE))
        if session is not None:
            self.redirect(self._landing(session.role, next_url))
            return
        info = "You are logged out." if self.get_argument("out", None) else None
        self._form(200, next_url=next_url, info=info)

    def post(self) -> None:
        provider = _provider(self)
        next_url = self.get_body_argument("next", "/")
        username = self.get_body_argument("username", "")
        password = self.get_body_argument("password", "")
        sent, expected = self.get_body_argument("nonce", ""), self.get_cookie(NONCE_COOKIE) or ""
        if not sent or not expected or not hmac.compare_digest(sent, expected):
            self._form(400, next_url=next_url, username=username,
                       error="This login form has expired or came from elsewhere; please log in again.")
            return
        self.clear_cookie(NONCE_COOKIE, path="/login")
        client = self.request.remote_ip or "unknown"
        try:
            found = provider.accounts.authenticate(username, password, client=client)
        except RateLimitedError as exc:
            self.set_header("Retry-After", str(exc.retry_after))
            self._form(429, next_url=next_url, username=username,
                       error=f"Too many failed logins. Wait {exc.retry_after} seconds, then try again.")
            return
        if found is None:
            self._form(401, next_url=next_url, username=username, error="Wrong user name or password.")
            return
        name, role = found
        token = provider.accounts.start_session(name, minutes=provider.session_minutes, client=client)
        provider.set_session_cookie(self, token)
        self.redirect(self._landing(role, next_url))


class LogoutHandler(_PageHandler):
    """``/logout`` (GET or POST): end the session in the accounts, clear the cookie, show the login form."""

    def _logout(self) -> None:
        provider = _provider(self)
        provider.accounts.end_session(self.get_cookie(SESSION_COOKIE))
        self.clear_cookie(SESSION_COOKIE, path="/")
        self.redirect("/login?out=1")

    def get(self) -> None:
        self._logout()

    def post(self) -> None:
        self._logout()


class HomeHandler(_PageHandler):
    """``/``: the logged-in user's home page (``/adjudication`` for reviewers, ``/annotate`` for annotators)."""

    def get(self) -> None:
        provider = _provider(self)
        session = provider.accounts.session(self.get_cookie(SESSION_COOKIE))
        if session is None:
            self.redirect("/login")
            return
        home = home_view(session.role)
        self.redirect(f"/{home}" if home else "/logout")
