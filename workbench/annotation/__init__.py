"""Human annotation: queues, leases (shared with overlap, or exclusive for reviewers), hidden honeypots, drafts,
skip, undo and imports.

``project.annotation`` (:class:`ProjectAnnotation`) serves items to annotators across
processes and records their answers, and keeps reviewers of the adjudication and relabel queues
off each other's items (``claim``, ``release``, ``holders``); it also takes a model's help: an active learner's order
(``prioritize``), pre-labels auto-accepted at a guaranteed precision and drafts for the rest
(``prelabel``), and the log of every confirmed, corrected or rejected draft (``corrections``).
:mod:`workbench.quality` judges the answers.
"""

from workbench.annotation._project import ProjectAnnotation
from workbench.annotation._types import (
    CORRECTION_OUTCOMES,
    QUEUE_STRATEGIES,
    REVIEW_TASKS,
    Assignment,
    CorrectionSummary,
    Draft,
    PrelabelResult,
)

__all__ = [
    "CORRECTION_OUTCOMES",
    "QUEUE_STRATEGIES",
    "REVIEW_TASKS",
    "Assignment",
    "CorrectionSummary",
    "Draft",
    "PrelabelResult",
    "ProjectAnnotation",
]
