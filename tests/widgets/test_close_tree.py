"""A closed widget leaves no live container holding a closed child (the page-reload failure)."""

from __future__ import annotations

import pandas as pd
import pytest

import workbench as wb


def _live_state_serialises() -> None:
    """What JupyterLab asks of the kernel on a page load: the state of every live widget."""
    from ipywidgets.widgets.widget import _instances

    for widget in list(_instances.values()):
        widget.get_state()  # raises AttributeError ('NoneType' ... 'comm_id') on a closed child


@pytest.mark.parametrize("kind", ["lf", "quality", "annotator"])
def test_closing_a_dashboard_closes_its_whole_tree(small_project: wb.Project, small_gold: pd.Series,
                                                   kind: str) -> None:
    from widgets import Annotator, LFDashboard, QualityDashboard
    from widgets.jupyter._tree import descendants

    small_project.lfs.add(wb.lf.keywords("sub", ["subscribe"], label=1))
    if kind == "quality":
        small_project.annotation.import_annotations(pd.DataFrame(
            {"id": list(small_gold.index[:4]) * 2, "annotator": ["a"] * 4 + ["b"] * 4,
             "value": list(small_gold.iloc[:4]) * 2}))
    first = {"lf": lambda: LFDashboard(small_project, gold=small_gold),
             "quality": lambda: QualityDashboard(small_project),
             "annotator": lambda: Annotator(small_project, "ann")}[kind]()
    second = {"lf": lambda: LFDashboard(small_project), "quality": lambda: QualityDashboard(small_project),
              "annotator": lambda: Annotator(small_project, "bob")}[kind]()
    tree = descendants(first)
    first.close()
    assert all(w.comm is None for w in tree)  # every container and leaf, not only the named parts
    _live_state_serialises()  # the second view, still open, and everything else still load
    assert second.comm is not None
    second.close()
    assert small_project.n_listeners() == 0
