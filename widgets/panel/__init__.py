"""Panel apps for domain experts. Install with ``pip install labeling-workbench[panel]``.

Serve the reviewer app on an existing project::

    panel serve widgets/panel/app.py --args <project_path> <reviewer>

Examples
--------
>>> from widgets.panel import ReviewApp                     # doctest: +SKIP
>>> app = ReviewApp(project, reviewer="dr_lee")              # doctest: +SKIP
>>> app.servable()                                           # doctest: +SKIP
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

from widgets.panel._review_app import ReviewApp

__all__ = ["ReviewApp"]
