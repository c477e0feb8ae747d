"""Build the login-protected reviewer server of one project: one Panel app per view, behind the login hook.

Each page (``/overview``, ``/adjudication``, ...) is its own Bokeh app. The login hook
(:class:`~widgets.panel._auth_module.WorkbenchAuthProvider`) refuses a page the role may not open before
Bokeh serves it; the app function checks the session and the permission again when it builds the page, and
each view checks the action's permission before every project call. Every browser session opens its own
connection to the project and closes it when the session ends.
"""

from __future__ import annotations

import hashlib
import logging
import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import panel as pn

from widgets.panel._access import SessionAccess
from widgets.panel._auth_module import SESSION_COOKIE, HomeHandler, WorkbenchAuthProvider
from widgets.panel._review_app import _esc
from widgets.panel._views import build_view, has_migrations
from workbench.auth import DEFAULT_SESSION_MINUTES, VIEWS, Accounts, PermissionDeniedError, views_for
from workbench.exceptions import LFError, WorkbenchError

if TYPE_CHECKING:
    from workbench import Project

__all__ = ["ServeConfig", "build_server", "load_lfs", "session_page"]

_log = logging.getLogger(__name__)

_TITLES = {"annotate": "Annotate", "overview": "Overview", "adjudication": "Adjudication", "quality": "Quality",
           "lfs": "Labeling functions", "versions": "Versions", "relabel": "Relabel", "export": "Export"}


@dataclass
class ServeConfig:
    """Everything ``serve`` was asked for, already validated (see :mod:`widgets.panel.serve`)."""

    project: Path
    port: int = 5006
    address: str = "127.0.0.1"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    behind_proxy: bool = False
    session_minutes: float = DEFAULT_SESSION_MINUTES
    open_browser: bool = True
    websocket_origins: list[str] = field(default_factory=list)
    method: str = "majority"
    refresh_seconds: float = 30.0
    lfs: Callable[[Project], Any] | None = None

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}/"


def load_lfs(path: Path) -> Callable[[Project], Any]:
    """Run a Python file once and return its ``register(project)`` function (called for each session)."""
    namespace = runpy.run_path(str(path), run_name="workbench_lfs")
    register = namespace.get("register")
    if not callable(register):
        raise LFError(
            f"The LF file {str(path)!r} must define a function register(project) that adds the labeling functions "
            f"(project.lfs.add(...)). It defines none."
        )
    return register  # type: ignore[no-any-return]


def _error(title: str, message: str) -> pn.Column:
    return pn.Column(pn.pane.HTML(f"<h2 id='wb-error-title'>{_esc(title)}</h2><p class='wb-error' "
                                  f"style='color:#b00020'>{_esc(message)}</p><p><a href='/login'>Log in</a> &middot; "
                                  f"<a href='/logout'>Log out</a></p>"), sizing_mode="stretch_width")


def _header(access: SessionAccess, view: str, project_label: str, relabel: bool) -> pn.pane.HTML:
    links = []
    for v in views_for(access.role):
        if v == "relabel" and not relabel:
            continue
        label = _esc(_TITLES.get(v, v))
        links.append(f"<b class='wb-nav-current'>{label}</b>" if v == view
                     else f"<a class='wb-nav' href='/{_esc(v)}'>{label}</a>")
    return pn.pane.HTML(
        "<div style='display:flex;gap:14px;align-items:baseline;flex-wrap:wrap;border-bottom:1px solid #ddd;"
        f"padding:4px 0 8px'><b>{_esc(project_label)}</b>{' '.join(links)}<span style='margin-left:auto'>"
        f"<span class='wb-user'>{_esc(access.username)}</span> ({_esc(access.role)}) &middot; "
        "<a class='wb-logout' href='/logout'>Log out</a></span></div>",
        sizing_mode="stretch_width", css_classes=["wb-header"])


def session_page(view: str, config: ServeConfig, accounts: Accounts) -> pn.Column:
    """Build one browser session's page for ``view`` (called by Panel for each new session)."""
    try:
        access = SessionAccess(accounts, pn.state.cookies.get(SESSION_COOKIE))
        access.require(f"view:{view}")
    except PermissionDeniedError as exc:
        return _error("Not allowed", str(exc))
    try:
        from workbench import Project

        project = Project.open(config.project)
    except WorkbenchError as exc:
        return _error("The project cannot be opened", str(exc))
    try:
        if config.lfs is not None:
            config.lfs(project)
        page = build_view(view, project, access, method=config.method)
    except PermissionDeniedError as exc:
        project.close()
        return _error("Not allowed", str(exc))
    except Exception as exc:  # noqa: BLE001 - a broken page must say so (and log it), never stay blank
        _log.exception("The %r page could not be built", view)
        project.close()
        return _error("This page could not be built", f"{type(exc).__name__}: {exc}")

    def _cleanup(_context: object) -> None:
        page.close()
        project.close()

    pn.state.on_session_destroyed(_cleanup)
    header = _header(access, view, config.project.name, has_migrations(project))
    layout = pn.Column(header, page.panel(), sizing_mode="stretch_width")
    if config.refresh_seconds > 0:  # decisions made in other sessions (other processes announce no event)
        callback: Any = None

        def _tick() -> None:
            # an open page stops showing project data once its session ends (expiry, logout, role change)
            if not access.can(f"view:{view}"):
                layout[:] = [_error("Your session has ended", "Log in again to continue; nothing more was shown "
                                                              "or recorded from this page.")]
                if callback is not None:
                    callback.stop()
                return
            page.refresh()

        callback = pn.state.add_periodic_callback(_tick, period=int(config.refresh_seconds * 1000))
    return layout


def build_server(config: ServeConfig, accounts: Accounts) -> Any:
    """The (not yet started) Panel/Bokeh server for ``config``; call ``.start()`` and run its IO loop."""
    secret = accounts.cookie_secret()
    provider = WorkbenchAuthProvider(accounts, project_label=config.project.name,
                                     session_minutes=config.session_minutes,
                                     secure_cookies=config.tls or config.behind_proxy)

    def page_for(view: str) -> Callable[[], pn.Column]:
        return lambda: session_page(view, config, accounts)

    apps = {view: page_for(view) for view in VIEWS}
    origins = list(dict.fromkeys([f"{config.address}:{config.port}", f"localhost:{config.port}",
                                  f"127.0.0.1:{config.port}", *config.websocket_origins]))
    kwargs: dict[str, Any] = {}
    if config.tls_cert is not None:
        kwargs.update(ssl_certfile=str(config.tls_cert), ssl_keyfile=str(config.tls_key))
    return pn.serve(
        apps,
        port=config.port,
        address=config.address,
        websocket_origin=origins,
        show=False,
        start=False,
        title={v: f"{_TITLES[v]} - {config.project.name}" for v in VIEWS},
        verbose=False,
        location=False,
        auth_provider=provider,
        cookie_secret=secret,
        sign_sessions=True,
        secret_key=hashlib.sha256(f"bokeh-session:{secret}".encode()).hexdigest().encode("ascii"),
        extra_patterns=[(r"/?", HomeHandler)],
        use_xheaders=config.behind_proxy,
        **kwargs,
    )
