"""The plain HTML pages of the served app: the login form, the refusal page, the error page.

Every value placed in a page is HTML-escaped (user names, project paths, messages, the ``next`` URL),
so a name such as ``<img src=x onerror=...>`` is shown as text. The pages load no script at all.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

__all__ = ["error_page", "login_page", "refusal_page", "safe_next"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f5f6f8; margin: 0; }
main { max-width: 420px; margin: 10vh auto; background: #fff; border: 1px solid #dde1e6; border-radius: 8px;
       padding: 28px 32px; box-shadow: 0 2px 8px rgba(0,0,0,.05); }
h1 { font-size: 1.3em; margin: 0 0 4px; }
.sub { color: #5f6b7a; margin: 0 0 20px; word-break: break-all; }
label { display: block; margin: 12px 0 4px; font-weight: 600; }
input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: 8px; font-size: 1em;
       border: 1px solid #c4cad2; border-radius: 4px; }
button { margin-top: 18px; width: 100%; padding: 9px; font-size: 1em; background: #1f6feb; color: #fff;
         border: 0; border-radius: 4px; cursor: pointer; }
.msg { padding: 8px 10px; border-radius: 4px; margin: 0 0 12px; }
.error { background: #fdecea; color: #8a1c13; }
.info { background: #e8f1fd; color: #0b4a99; }
a { color: #1f6feb; }
ul { padding-left: 20px; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this server (``/...``), else ``default``: a login never redirects elsewhere.

    Examples
    --------
    >>> safe_next("/adjudication?x=1"), safe_next("//evil.example"), safe_next("https://evil.example")
    ('/adjudication?x=1', '/', '/')
    """
    if not isinstance(target, str) or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(c in target for c in "\\\r\n\t") or len(target) > 2000:
        return default
    return target


def login_page(*, project: str, next_url: str, nonce: str, username: str = "", error: str | None = None,
               info: str | None = None) -> str:
    """The login form (POSTs ``username``, ``password``, ``next`` and the form's ``nonce`` to ``/login``)."""
    notes = ""
    if error:
        notes += f"<p class='msg error' role='alert' id='wb-login-error'>{_e(error)}</p>"
    if info:
        notes += f"<p class='msg info' id='wb-login-info'>{_e(info)}</p>"
    body = (
        "<h1>Labeling workbench</h1>"
        f"<p class='sub'>Log in to review <b>{_e(project)}</b></p>{notes}"
        "<form method='post' action='/login' autocomplete='on'>"
        f"<input type='hidden' name='next' value='{_e(safe_next(next_url))}'>"
        f"<input type='hidden' name='nonce' value='{_e(nonce)}'>"
        "<label for='username'>User name</label>"
        f"<input type='text' id='username' name='username' value='{_e(username)}' required autofocus "
        "autocomplete='username' maxlength='64'>"
        "<label for='password'>Password</label>"
        "<input type='password' id='password' name='password' required autocomplete='current-password' "
        "maxlength='1024'>"
        "<button type='submit'>Log in</button></form>"
    )
    return _page("Log in - labeling workbench", body)


def refusal_page(*, username: str, role: str, view: str, allowed: Sequence[str]) -> str:
    """The 403 page: who is logged in, what was refused, and the pages this role may open."""
    links = "".join(f"<li><a href='/{_e(v)}'>{_e(v)}</a></li>" for v in allowed)
    body = (
        "<h1 id='wb-refused'>Not allowed</h1>"
        f"<p class='msg error'>{_e(username)} (role {_e(role)}) may not open the {_e(view)!s} page.</p>"
        + (f"<p>Pages you may open:</p><ul>{links}</ul>" if links else "")
        + "<p><a href='/logout'>Log out</a> to use another account.</p>"
    )
    return _page("Not allowed - labeling workbench", body)


def error_page(title: str, message: str, *, hint: str | None = None) -> str:
    """A page naming what went wrong (used instead of a blank page)."""
    body = f"<h1>{_e(title)}</h1><p class='msg error' id='wb-error'>{_e(message)}</p>"
    if hint:
        body += f"<p>{_e(hint)}</p>"
    return _page(f"{title} - labeling workbench", body)
