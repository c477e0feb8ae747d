"""What ``project.feedback`` records and reports: the kinds of production signal and the results of a call."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FEEDBACK_KINDS", "FeedbackBatch", "PredictionBatch"]

#: The production signals :meth:`~workbench.feedback.ProjectFeedback.ingest` takes, each a label for an item:
#:
#: - ``user_correction``: a user replaced the model's output with this label;
#: - ``user_confirmation``: a user accepted the model's output (the label is the output they accepted);
#: - ``moderator_override``: a moderator decided the label (the most trusted; ``as_gold=True`` makes it gold);
#: - ``flag``: a user reported the item (map the flag to the class it signals with ``label_map``).
FEEDBACK_KINDS: tuple[str, ...] = ("user_correction", "user_confirmation", "moderator_override", "flag")


@dataclass(frozen=True)
class FeedbackBatch:
    """What one :meth:`~workbench.feedback.ProjectFeedback.ingest` call did.

    Attributes
    ----------
    ingest_id : str
        The ingest's record (``"feedback-1"``, ...), with its provenance (:meth:`ingests`).
    kind : str
        One of :data:`FEEDBACK_KINDS`.
    source_name : str
        Where the signals came from (a file's name, or what you passed).
    annotator : str
        The ``annotator`` of the events: ``"<kind>:<source_name>"``.
    n_rows : int
        Rows read.
    n_new : int
        Events written (``source="feedback"``).
    n_duplicates : int
        Rows already ingested (the same signal: kind, source, item, label, time) or repeated in
        the input: nothing written for them.
    n_ignored : int
        Rows without a label (empty, or mapped to None by ``label_map``).
    n_new_examples : int
        Items that were not in the project, added as a new data version.
    new_data_version : str or None
        That data version (None when every item was known).
    weak_source : str or None
        The name of the label-matrix column that votes this kind's labels (``"feedback:<kind>"``).
    n_gold : int
        Gold labels written (``as_gold=True``).

    Examples
    --------
    >>> batch = project.feedback.ingest(log, kind="user_correction", id_column="item_id",
    ...                                 label_column="label")          # doctest: +SKIP
    >>> batch.n_new, batch.n_duplicates, batch.weak_source              # doctest: +SKIP
    (120, 0, 'feedback:user_correction')
    """

    ingest_id: str
    kind: str
    source_name: str
    annotator: str
    n_rows: int
    n_new: int
    n_duplicates: int
    n_ignored: int
    n_new_examples: int
    new_data_version: str | None
    weak_source: str | None
    n_gold: int


@dataclass(frozen=True)
class PredictionBatch:
    """What one :meth:`~workbench.feedback.ProjectFeedback.predictions` call recorded.

    Attributes
    ----------
    run_id : str
        The run (``"predictions-1"``, ...); a second call with the same predictions returns the
        first run (``already_recorded=True``) and records nothing.
    model_version : str
        The production model.
    question : str
        The question predicted.
    n_predictions : int
        Items predicted (one row per item: the last row of an item wins).
    n_review : int
        Of those, the low-confidence ones sent to the review queue (``queue("review")``).
    threshold : float or dict
        The confidence below which a prediction is reviewed (per class for a per-class
        ``AutoAccept``).
    rule : str
        That rule in words.
    n_new_examples : int
        Items that were not in the project, added as a new data version.
    new_data_version : str or None
        That data version (None when every item was known).
    already_recorded : bool
        True when these exact predictions were recorded before.

    Examples
    --------
    >>> run = project.feedback.predictions(prod, model="prod-2026-11")    # doctest: +SKIP
    >>> run.n_review, project.annotation.queue("review", n=3)             # doctest: +SKIP
    """

    run_id: str
    model_version: str
    question: str
    n_predictions: int
    n_review: int
    threshold: float | dict[str, float]
    rule: str
    n_new_examples: int
    new_data_version: str | None
    already_recorded: bool
