"""What the annotation desk hands out and reports: assignments, drafts, pre-label runs, correction summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = [
    "CORRECTION_OUTCOMES", "QUEUE_STRATEGIES", "REVIEW_TASKS", "Assignment", "CorrectionSummary", "Draft",
    "PrelabelResult",
]

#: The strategies ``project.annotation.queue`` knows.
QUEUE_STRATEGIES: tuple[str, ...] = ("random", "stratified", "disagreement", "uncertain", "adjudication", "review")

#: The review tasks whose items ``project.annotation.claim`` leases exclusively (one reviewer per item at a
#: time): the adjudication queue and the relabel queue of ``project.migrations.relabel_queue()``.
REVIEW_TASKS: tuple[str, ...] = ("adjudication", "relabel")

#: What an annotator did with a draft (see :meth:`~workbench.annotation.ProjectAnnotation.corrections`):
#: ``confirmed`` (answered the draft's value), ``corrected`` (answered another choice), ``rejected``
#: (skipped the item while the draft was shown: neither the draft nor any other choice).
CORRECTION_OUTCOMES: tuple[str, ...] = ("confirmed", "corrected", "rejected")


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
        ``"model"`` (a model's prediction: a pre-label draft, a recorded production prediction
        or a ``source="model"`` label event) or ``"label_model"`` (the label model's most
        probable class from the LF votes).
    model_version : str or None
        Which model made it (``"label_model:auto"`` for the label model), when known.

    Examples
    --------
    >>> from workbench import Draft
    >>> Draft("spam", 0.92, "label_model")
    Draft(value='spam', confidence=0.92, source='label_model', model_version=None)
    """

    value: str
    confidence: float | None
    source: str  # "model" (a model's prediction) or "label_model" (LF votes)
    model_version: str | None = None


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


@dataclass(frozen=True)
class PrelabelResult:
    """What one :meth:`~workbench.annotation.ProjectAnnotation.prelabel` run did.

    Attributes
    ----------
    run_id : str
        The run's id (``"prelabel-1"``, ...): pass it to ``revoke_prelabels`` to retract its labels.
    model_version : str
        The model that predicted (the ``annotator`` of the accepted label events).
    question : str
        The question pre-labelled.
    threshold : float, dict or None
        The auto-accept threshold (per class: choice -> threshold, ``inf`` for a class never
        accepted); None without ``auto_accept`` (everything became a draft).
    target_precision, confidence : float or None
        The guarantee of the accept rule (from the ``AutoAccept``).
    rule : str
        The accept rule in words, as written in the note of every accepted label.
    n_accepted : int
        Items auto-accepted: label events with ``source="model"``.
    n_drafts : int
        Items left as drafts for a person to confirm or correct.
    n_skipped : int
        Items not pre-labelled because they already have human answers, gold or an accepted
        pre-label.
    accepted_per_class, drafts_per_class : dict
        Choice -> count.
    created_at : str
        When the run was recorded (ISO-8601 UTC).

    Examples
    --------
    >>> result = project.annotation.prelabel(learner, auto_accept=accept)   # doctest: +SKIP
    >>> result.n_accepted, result.n_drafts, result.accepted_per_class       # doctest: +SKIP
    (412, 1188, {'ham': 190, 'spam': 222})
    """

    run_id: str
    model_version: str
    question: str
    threshold: float | dict[str, float] | None
    target_precision: float | None
    confidence: float | None
    rule: str
    n_accepted: int
    n_drafts: int
    n_skipped: int
    accepted_per_class: dict[str, int]
    drafts_per_class: dict[str, int]
    created_at: str


@dataclass(frozen=True)
class CorrectionSummary:
    """The correction log summarised (:meth:`~workbench.annotation.ProjectAnnotation.correction_summary`).

    Attributes
    ----------
    by_class : DataFrame
        Per drafted class: ``n``, ``confirmed``, ``corrected``, ``rejected`` and their rates
        (``confirm_rate`` with a 95% Wilson interval ``confirm_low``/``confirm_high``).
    by_model_version : DataFrame
        The same per model version (``"label_model:auto"`` for label-model drafts).
    throughput : DataFrame
        Per annotator: items answered with and without a draft, mean and median seconds per
        item each way, items per hour each way and ``speedup`` (seconds without / seconds with).
    lf_contradictions : DataFrame
        Per LF, on the corrected items: ``n_votes`` (it voted), ``n_contradicted`` (its vote
        differs from the human answer), ``contradiction_rate``; most contradicted first.
    confusions : DataFrame
        ``draft``, ``answer``, ``n`` and ``share`` (of the drafts of that class): the class
        pairs the model confuses, most frequent first.
    suggestions : list of str
        What to look at next, in words.

    Examples
    --------
    >>> s = project.annotation.correction_summary()      # doctest: +SKIP
    >>> s.throughput[["annotator", "items_per_hour_with_draft", "speedup"]]  # doctest: +SKIP
    """

    by_class: pd.DataFrame
    by_model_version: pd.DataFrame
    throughput: pd.DataFrame
    lf_contradictions: pd.DataFrame
    confusions: pd.DataFrame
    suggestions: list[str]
