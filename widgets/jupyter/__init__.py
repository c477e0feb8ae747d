"""JupyterLab widgets (ipywidgets, anywidget and Altair). Install with ``pip install labeling-workbench[jupyter]``.

Examples
--------
>>> from widgets.jupyter import LFDashboard, Annotator, QualityDashboard   # doctest: +SKIP
>>> LFDashboard(project, gold="label")                                    # doctest: +SKIP
>>> Annotator(project, annotator="alice", queue="uncertain", batch=50)    # doctest: +SKIP
"""

from __future__ import annotations

from workbench.exceptions import OptionalDependencyError

_missing = []
for _module in ("ipywidgets", "altair", "anywidget"):
    try:
        __import__(_module)
    except ImportError:
        _missing.append(_module)
if _missing:
    raise OptionalDependencyError(
        f"The Jupyter widgets need {' and '.join(_missing)}, which {'is' if len(_missing) == 1 else 'are'} not "
        f"installed. Install the extra: pip install labeling-workbench[jupyter]"
    )
del _missing

from widgets.jupyter._annotator import Annotator  # noqa: E402
from widgets.jupyter._lf_dashboard import DrilldownWidget, LFDashboard  # noqa: E402
from widgets.jupyter._quality_dashboard import QualityDashboard  # noqa: E402

__all__ = ["Annotator", "DrilldownWidget", "LFDashboard", "QualityDashboard"]
