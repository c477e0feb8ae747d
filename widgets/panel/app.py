"""The adjudication page alone, for ``panel serve`` (local use, or Panel's own OAuth / basic auth).

The login-protected app with every page is ``workbench serve PROJECT`` (``python -m widgets.panel.serve``).
This script serves only the adjudication view::

    panel serve widgets/panel/app.py --address 127.0.0.1 --args <project_path> <reviewer> [method]

or with environment variables ``WORKBENCH_PROJECT``, ``WORKBENCH_REVIEWER`` (and optionally
``WORKBENCH_CONSENSUS_METHOD``, ``WORKBENCH_REFRESH_SECONDS``: how often the queue is re-read, default
30, 0 turns it off).

Who decides:

* With Panel's authentication (``panel serve --oauth-provider ...`` or ``--basic-auth``) the reviewer is
  the authenticated ``pn.state.user``. If the project has accounts, that user must have one, and its
  role (from the project's accounts) is checked before every decision.
* Without it, the reviewer is the second argument / ``WORKBENCH_REVIEWER``, from the server's command
  line, never from the URL. A project *with* accounts is refused then: serve it with ``workbench serve``.

Problems (a missing argument, a bad project path, an unknown account) are shown on the page, never
as a blank page. Each browser session opens its own connection to the project and closes it when the
session ends.
"""

from __future__ import annotations

import html
import os
import sys

import panel as pn

import workbench as wb
from widgets.panel import ReviewApp
from widgets.panel._access import LocalAccess
from workbench.auth import Accounts, AuthError

_USAGE = (
    "Give the project and the reviewer: panel serve widgets/panel/app.py --args <project_path> <reviewer>, "
    "or set WORKBENCH_PROJECT and WORKBENCH_REVIEWER."
)


class AppSetupError(wb.WorkbenchError):
    """The page cannot be built from the given arguments; the message says what to fix."""


def _settings(argv: list[str]) -> tuple[str, str, str]:
    project_path = argv[1] if len(argv) > 1 else os.environ.get("WORKBENCH_PROJECT")
    reviewer = (
        pn.state.user  # the authenticated user, when the server runs with --basic-auth or OAuth
        or (argv[2] if len(argv) > 2 else os.environ.get("WORKBENCH_REVIEWER"))
    )
    method = argv[3] if len(argv) > 3 else os.environ.get("WORKBENCH_CONSENSUS_METHOD", "majority")
    if not project_path or not reviewer:
        missing = [n for n, v in (("project path", project_path), ("reviewer", reviewer)) if not v]
        raise AppSetupError(f"Missing {' and '.join(missing)}. {_USAGE}")
    return project_path, reviewer, method


def _access(project: wb.Project, reviewer: str) -> LocalAccess:
    """The reviewer's identity and role: from Panel's authentication and the project's accounts, if any."""
    accounts = Accounts(project.path)
    if not accounts.enabled:
        return LocalAccess(reviewer, "reviewer")
    if not pn.state.user:
        raise AppSetupError(
            f"The project {str(project.path)!r} has accounts, so it must be served with logins: run "
            f"workbench serve {project.path} (or panel serve with --oauth-provider / --basic-auth)."
        )
    role = accounts.role(reviewer)
    if role is None:
        raise AppSetupError(
            f"{reviewer!r} logged in, but the project has no account of that name. An admin adds it with: "
            f"workbench users add {project.path} {reviewer} --role reviewer."
        )
    return LocalAccess(reviewer, role)


def _error_page(message: str) -> pn.Column:
    return pn.Column(pn.pane.HTML(
        f"<h2>The reviewer app cannot start</h2><p class='wb-error' style='color:#b00020'>{html.escape(message)}</p>"
    ), sizing_mode="stretch_width")


def build(argv: list[str]) -> ReviewApp:
    """Open the project named by ``argv`` / the environment and build its ReviewApp.

    Raises
    ------
    AppSetupError, WorkbenchError
        Missing arguments, a bad project path, a project with accounts but no login.
    """
    project_path, reviewer, method = _settings(argv)
    project = wb.Project.open(project_path)
    try:
        app = ReviewApp(project, method=method, access=_access(project, reviewer))
    except BaseException:
        project.close()
        raise

    def _cleanup(_context: object) -> None:
        app.close()
        project.close()

    pn.state.on_session_destroyed(_cleanup)
    seconds = float(os.environ.get("WORKBENCH_REFRESH_SECONDS", "30"))
    if seconds > 0:  # pick up decisions made in other sessions (other processes do not announce events)
        pn.state.add_periodic_callback(app.refresh, period=int(seconds * 1000))
    return app


def page(argv: list[str]) -> pn.Column:
    """The page to serve: the app, or the reason it cannot be built."""
    try:
        return build(argv).servable()
    except (wb.WorkbenchError, AuthError, ValueError) as exc:
        return _error_page(str(exc)).servable(title="Reviewer app - error")


if __name__.startswith("bokeh"):  # run by `panel serve`
    page(sys.argv)
