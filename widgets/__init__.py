"""The workbench's user interfaces: ipywidgets/anywidget for JupyterLab, Panel apps, Altair charts.

Every widget takes a :class:`workbench.Project` and renders its state, forwarding each user
intent to it with one call; nothing here computes a metric. The UI stacks are optional: the
names below are imported lazily, and a missing stack raises an ImportError naming the extra
to install (``pip install labeling-workbench[jupyter]``).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Annotator",
    "DrilldownWidget",
    "LFDashboard",
    "QualityDashboard",
    "ReviewApp",
    "accuracy_chart",
    "conflict_heatmap",
    "coverage_chart",
    "label_model_chart",
    "lf_overview_chart",
    "reliability_chart",
]

_WHERE = {
    "Annotator": "widgets.jupyter",
    "DrilldownWidget": "widgets.jupyter",
    "LFDashboard": "widgets.jupyter",
    "QualityDashboard": "widgets.jupyter",
    "ReviewApp": "widgets.panel",
    "accuracy_chart": "widgets.charts",
    "conflict_heatmap": "widgets.charts",
    "coverage_chart": "widgets.charts",
    "lf_overview_chart": "widgets.charts",
    "label_model_chart": "widgets._model_charts",
    "reliability_chart": "widgets._model_charts",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
