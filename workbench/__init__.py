"""The labeling workbench: a headless engine for trustworthy training labels.

The public API is curated here; everything else lives in submodules.
"""

from workbench import active, annotation, datasets, feedback, lf, migrations, models, quality, versions
from workbench._constants import ABSTAIN, LABEL_SOURCES
from workbench._events import Subscription
from workbench._version import __version__
from workbench.annotation import QUEUE_STRATEGIES, Assignment, Draft
from workbench.exceptions import (
    ConflictingContentError,
    DataError,
    DuplicateIdError,
    IdempotencyError,
    IntegrityError,
    LabelValidationError,
    LFError,
    LFTimeoutError,
    NotFittedError,
    ProjectClosedError,
    ProjectExistsError,
    ProjectNotFoundError,
    SchemaError,
    StoreCorruptedError,
    StoreIntegrityError,
    UnknownExampleError,
    WorkbenchError,
)
from workbench.project import Project
from workbench.quality import QualityConfig
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
    "IdempotencyError",
    "IntegrityError",
    "LFError",
    "LFTimeoutError",
    "ProjectClosedError",
    "StoreIntegrityError",
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
    "active",
    "annotation",
    "datasets",
    "feedback",
    "lf",
    "migrations",
    "models",
    "quality",
    "versions",
]
