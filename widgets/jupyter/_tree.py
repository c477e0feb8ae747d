"""Closing a widget closes its whole tree: no live container may keep a closed child.

A container whose children were closed but which stays alive itself breaks every later page
load of the notebook: when JupyterLab reconnects it asks the kernel for the state of every
live widget, and serialising a container that references a closed child fails
(``'NoneType' object has no attribute 'comm_id'``), so every widget stays on "Loading widget...".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets

__all__ = ["close_tree", "descendants"]


def descendants(root: widgets.Widget, extra: Iterable[Any] = ()) -> list[widgets.Widget]:
    """Every widget reachable from ``root`` (and ``extra``) through ``children``, leaves first."""
    seen: set[int] = set()
    out: list[widgets.Widget] = []

    def walk(w: Any) -> None:
        if not isinstance(w, widgets.Widget) or id(w) in seen:
            return
        seen.add(id(w))
        for child in getattr(w, "children", None) or ():
            walk(child)
        out.append(w)

    for w in (root, *extra):
        walk(w)
    return out


def close_tree(root: widgets.Widget, extra: Iterable[Any] = ()) -> None:
    """Close ``root``'s descendants and the widgets in ``extra`` (leaves first), but not ``root``."""
    for w in descendants(root, extra):
        if w is not root:
            w.close()
