"""What the annotation desk hands out: assignments with an optional draft."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["QUEUE_STRATEGIES", "Assignment", "Draft"]

#: The strategies ``project.annotation.queue`` knows.
QUEUE_STRATEGIES: tuple[str, ...] = ("random", "stratified", "disagreement", "uncertain", "adjudication")


@dataclass(frozen=True)
class Draft:
    """A suggested answer shown to an annotator to confirm or correct.

    Attributes
    ----------
    value : str
        The suggested choice.
    confidence : float or None
        How sure the source is, in [0, 1], when it says.
    source : str
        ``"model"`` (the latest prediction event of a model) or ``"label_model"`` (the label
        model's most probable class from the LF votes).

    Examples
    --------
    >>> from workbench import Draft
    >>> Draft("spam", 0.92, "label_model")
    Draft(value='spam', confidence=0.92, source='label_model')
    """

    value: str
    confidence: float | None
    source: str  # "model" (a model's prediction event) or "label_model" (LF votes)


@dataclass(frozen=True)
class Assignment:
    """An item served to one annotator: what to show, and whether it is a honeypot (hidden from the UI).

    ``project.annotation.next_items(annotator, n=...)`` returns these; answer one with
    ``project.annotation.submit(item.example_id, value, annotator=...)``.

    Attributes
    ----------
    example_id : str
        The example to label.
    annotator : str
        Who the item is leased to.
    expires_at : float
        When the lease ends (Unix time, seconds); after that the item may be served to someone else.
    is_honeypot : bool
        Whether the item is a hidden gold item; a UI must not show this.
    draft : Draft or None
        A suggested answer to confirm or correct, if a model or the LF votes give one.
    data : dict
        The example's data columns (text, image path ...), as stored.

    Examples
    --------
    >>> from workbench import Assignment, Draft
    >>> item = Assignment("c-1", "alice", expires_at=1.7e9, is_honeypot=False,
    ...                   draft=Draft("spam", 0.9, "model"), data={"text": "sub4sub!"})
    >>> item.example_id, item.draft.value, item.data["text"]
    ('c-1', 'spam', 'sub4sub!')
    """

    example_id: str
    annotator: str
    expires_at: float
    is_honeypot: bool
    draft: Draft | None = None
    data: dict[str, Any] = field(default_factory=dict)
