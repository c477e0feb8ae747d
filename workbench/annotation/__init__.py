"""Human annotation: queues, leases with overlap, hidden honeypots, drafts, skip, undo and imports.

``project.annotation`` (:class:`ProjectAnnotation`) serves items to annotators across
processes and records their answers; :mod:`workbench.quality` judges those answers.
"""

from workbench.annotation._project import ProjectAnnotation
from workbench.annotation._types import QUEUE_STRATEGIES, Assignment, Draft

__all__ = ["QUEUE_STRATEGIES", "Assignment", "Draft", "ProjectAnnotation"]
