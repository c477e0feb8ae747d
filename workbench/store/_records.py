"""Plain records kept by the project store."""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["DataVersion", "LabelEvent", "TrainingRun", "utc_now"]


def utc_now() -> str:
    """The current time as an ISO-8601 UTC string with microseconds."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class LabelEvent:
    """One append-only label event with its full provenance.

    Attributes
    ----------
    example_id : str
        The example the label is about.
    question : str
        The schema question answered.
    value : str or None
        The chosen answer; ``None`` for a retraction (``action="retract"``).
    source : str
        Who or what made it: ``human``, ``lf``, ``model``, ``consensus``, ``adjudication``,
        ``feedback`` or ``gold``.
    annotator : str
        The annotator's or producer's id (a person, an LF name, a model name ...).
    confidence : float or None
        The producer's confidence in [0, 1], when it has one.
    time_spent : float or None
        Seconds the annotator spent on the item.
    schema_version, guideline_version, data_version : str
        The versions in force when the label was made.
    is_honeypot : bool
        Whether the item was served as a hidden gold item.
    action : str
        ``"label"`` or ``"retract"``.
    created_at : str
        ISO-8601 UTC time the event was made.
    event_uid : str
        A globally unique id; writing the same uid twice stores the event once.
    supersedes : int or None
        The ``event_id`` of the earlier event this one replaces (filled in by the store).
    event_id : int or None
        The store's sequence number (filled in by the store).
    """

    example_id: str
    question: str
    value: str | None
    source: str
    annotator: str
    schema_version: str
    guideline_version: str
    data_version: str | None
    event_uid: str
    created_at: str = field(default_factory=utc_now)
    confidence: float | None = None
    time_spent: float | None = None
    is_honeypot: bool = False
    action: str = "label"
    note: str | None = None
    supersedes: int | None = None
    event_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The event as a plain dict."""
        return asdict(self)


@dataclass(frozen=True)
class DataVersion:
    """An immutable batch of examples added to a project.

    Attributes
    ----------
    version : str
        Short name, ``"d1"``, ``"d2"`` ... in the order batches were added.
    content_hash : str
        SHA-256 of the batch's ids and row contents.
    n_rows : int
        Rows newly added by this batch.
    n_existing : int
        Rows of the input that were already stored with identical content (not added again).
    columns : tuple of str
        The data columns of the batch.
    created_at, source, message : str
        When, from what input, and why the batch was added.
    file : str
        The Parquet file holding the batch, relative to the project directory.
    """

    version: str
    content_hash: str
    n_rows: int
    n_existing: int
    columns: tuple[str, ...]
    created_at: str
    source: str
    message: str
    file: str


@dataclass(frozen=True)
class TrainingRun:
    """A training run linked to the exact label events it used."""

    run_id: str
    name: str
    created_at: str
    label_version: str | None
    params: dict[str, Any]
    n_events: int
