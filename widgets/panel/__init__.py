"""Panel apps for domain experts. Install with ``pip install labeling-workbench[panel]``.

Serve every page of a project behind a login (accounts: ``workbench users add``)::

    workbench serve <project_path>                 # or: python -m widgets.panel.serve <project_path>

Each page is also a class usable in a notebook, with the same permission checks: the person running
the kernel is a :class:`LocalAccess` (a name and a role).

Examples
--------
>>> from widgets.panel import ReviewApp, QualityView, LocalAccess     # doctest: +SKIP
>>> app = ReviewApp(project, reviewer="dr_lee")                       # doctest: +SKIP
>>> QualityView(project, LocalAccess("dr_lee", "reviewer"))           # doctest: +SKIP
"""

from __future__ import annotations

from workbench.exceptions import OptionalDependencyError

try:
    import panel as _panel  # noqa: F401
except ImportError as _exc:
    raise OptionalDependencyError(
        "The Panel apps need panel, which is not installed. "
        "Install the extra: pip install labeling-workbench[panel]"
    ) from _exc

from widgets.panel._access import Access, LocalAccess, SessionAccess
from widgets.panel._keys import KeyboardShortcuts
from widgets.panel._review_app import ReviewApp
from widgets.panel._views import (
    AnnotateView,
    ExportView,
    LFView,
    OverviewView,
    QualityView,
    RelabelView,
    VersionsView,
    build_view,
)

__all__ = [
    "Access",
    "AnnotateView",
    "ExportView",
    "KeyboardShortcuts",
    "LFView",
    "LocalAccess",
    "OverviewView",
    "QualityView",
    "RelabelView",
    "ReviewApp",
    "SessionAccess",
    "VersionsView",
    "build_view",
]
