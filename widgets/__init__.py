"""The workbench's user interfaces: ipywidgets for JupyterLab, Panel apps for reviewers.

Every widget takes a :class:`workbench.Project` (or another core object), renders its state
and forwards each user intent to it with one call. Nothing here computes a metric.
"""

from __future__ import annotations

__all__: list[str] = []
