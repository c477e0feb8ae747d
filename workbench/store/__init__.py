"""The project store: append-only label events, versions and metadata behind one interface."""

from workbench.store._base import ANNOTATE_TASK, EVENT_COLUMNS, EventStore, answers_complete
from workbench.store._chain import CHAIN_ALGORITHM, StoreReport
from workbench.store._records import DataVersion, LabelEvent, TrainingRun, utc_now
from workbench.store._sqlite import SQLiteStore

__all__ = [
    "ANNOTATE_TASK",
    "CHAIN_ALGORITHM",
    "EVENT_COLUMNS",
    "DataVersion",
    "EventStore",
    "LabelEvent",
    "SQLiteStore",
    "StoreReport",
    "TrainingRun",
    "answers_complete",
    "utc_now",
]
