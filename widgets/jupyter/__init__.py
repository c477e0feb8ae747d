"""JupyterLab widgets (ipywidgets + Altair). Install them with ``pip install labeling-workbench[jupyter]``.

Examples
--------
>>> from widgets.jupyter import LFDashboard          # doctest: +SKIP
>>> LFDashboard(project, gold="label")               # doctest: +SKIP
"""

from __future__ import annotations

from workbench.exceptions import OptionalDependencyError

_missing = []
for _module in ("ipywidgets", "altair"):
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

from widgets.jupyter._lf_dashboard import DrilldownWidget, LFDashboard  # noqa: E402

__all__ = ["DrilldownWidget", "LFDashboard"]
