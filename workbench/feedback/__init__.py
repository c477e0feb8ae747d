"""Production signals: user corrections, moderator overrides, flags and prediction logs.

``project.feedback`` (:class:`ProjectFeedback`) turns them into ``source="feedback"`` label
events, into weak sources of the label matrix whose reliability the label model learns
(:class:`FeedbackSource`), into new data versions for items the project has not seen, and
into review-queue items for low-confidence production predictions.
"""

from workbench.feedback._project import ProjectFeedback
from workbench.feedback._source import FeedbackSource
from workbench.feedback._types import FEEDBACK_KINDS, FeedbackBatch, PredictionBatch

__all__ = ["FEEDBACK_KINDS", "FeedbackBatch", "FeedbackSource", "PredictionBatch", "ProjectFeedback"]
