"""The labeling workbench: a headless engine for trustworthy training labels.

The public API is curated here; everything else lives in submodules.
"""

from workbench import datasets, lf, models, quality, versions
from workbench._constants import ABSTAIN, LABEL_SOURCES
from workbench._events import Subscription
from workbench._project_annotation import QUEUE_STRATEGIES, Assignment, Draft, QualityConfig
from workbench._version import __version__
from workbench.exceptions import (
    ConflictingContentError,
    DataError,
    DuplicateIdError,
    LabelValidationError,
    NotFittedError,
    ProjectExistsError,
    ProjectNotFoundError,
    SchemaError,
    StoreCorruptedError,
    UnknownExampleError,
    WorkbenchError,
)
from workbench.project import Project
from workbench.schema import Question, Schema
from workbench.store import DataVersion, LabelEvent, TrainingRun

__all__ = [
    "ABSTAIN",
    "LABEL_SOURCES",
    "QUEUE_STRATEGIES",
    "Assignment",
    "Draft",
    "QualityConfig",
    "Subscription",
    "ConflictingContentError",
    "DataError",
    "DataVersion",
    "DuplicateIdError",
    "LabelEvent",
    "LabelValidationError",
    "NotFittedError",
    "Project",
    "ProjectExistsError",
    "ProjectNotFoundError",
    "Question",
    "Schema",
    "SchemaError",
    "StoreCorruptedError",
    "TrainingRun",
    "UnknownExampleError",
    "WorkbenchError",
    "__version__",
    "datasets",
    "lf",
    "models",
    "quality",
    "versions",
]
