"""Constants shared across the workbench (Snorkel's conventions)."""

from __future__ import annotations

from typing import Final

__all__ = ["ABSTAIN", "LABEL_SOURCES"]

#: The vote of a labeling function that does not label an example (Snorkel's convention).
ABSTAIN: Final[int] = -1

#: Every value allowed in a label event's ``source`` field.
LABEL_SOURCES: Final[tuple[str, ...]] = (
    "human",
    "lf",
    "model",
    "consensus",
    "adjudication",
    "feedback",
    "gold",
)
