"""What the undo tests compare: an annotator's current human answers."""

from __future__ import annotations

import workbench as wb


def current(p: wb.Project, annotator: str = "ann") -> dict[tuple[str, str], str]:
    """``{(example id, question): value}`` of ``annotator``'s current human answers."""
    lab = p.labels(source="human", annotator=annotator)
    return {(e, q): v for e, q, v in zip(lab["example_id"], lab["question"], lab["value"], strict=True)}
