"""Serve the expert reviewer app on an existing project.

Usage::

    panel serve widgets/panel/app.py --address 127.0.0.1 --args <project_path> <reviewer> [method]

or with environment variables ``WORKBENCH_PROJECT``, ``WORKBENCH_REVIEWER`` (and optionally
``WORKBENCH_CONSENSUS_METHOD``, ``WORKBENCH_REFRESH_SECONDS``: how often the queue is re-read, default
30, 0 turns it off). The reviewer recorded with each decision is the authenticated user
(``panel serve --basic-auth ...`` or OAuth) or else the second argument / ``WORKBENCH_REVIEWER``: it
comes from the server's command line, never from the URL, which anyone can edit. Serve on
127.0.0.1 (Bokeh listens on every interface unless ``--address`` says otherwise) until the project
has accounts. Each browser session opens its own connection to the project and closes it when the
session ends.
"""

from __future__ import annotations

import os
import sys

import panel as pn

import workbench as wb
from widgets.panel import ReviewApp

_USAGE = (
    "Give the project and the reviewer: panel serve widgets/panel/app.py --args <project_path> <reviewer>, "
    "or set WORKBENCH_PROJECT and WORKBENCH_REVIEWER."
)


def _settings(argv: list[str]) -> tuple[str, str, str]:
    project_path = argv[1] if len(argv) > 1 else os.environ.get("WORKBENCH_PROJECT")
    reviewer = (
        pn.state.user  # the authenticated user, when the server runs with --basic-auth or OAuth
        or (argv[2] if len(argv) > 2 else os.environ.get("WORKBENCH_REVIEWER"))
    )
    method = argv[3] if len(argv) > 3 else os.environ.get("WORKBENCH_CONSENSUS_METHOD", "majority")
    if not project_path or not reviewer:
        missing = [n for n, v in (("project path", project_path), ("reviewer", reviewer)) if not v]
        raise SystemExit(f"Missing {' and '.join(missing)}. {_USAGE}")
    return project_path, reviewer, method


def build(argv: list[str]) -> ReviewApp:
    """Open the project named by ``argv`` / the environment and build its ReviewApp."""
    project_path, reviewer, method = _settings(argv)
    project = wb.Project.open(project_path)
    try:
        app = ReviewApp(project, reviewer=reviewer, method=method)
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


if __name__.startswith("bokeh"):  # run by `panel serve`
    build(sys.argv).servable()
