"""Versioned labeling schemas: atomic questions, conditions and guidelines."""

from workbench.schema._registry import SchemaRegistry
from workbench.schema._schema import NO_GUIDELINES, Question, Schema, guideline_version_of

__all__ = ["NO_GUIDELINES", "Question", "Schema", "SchemaRegistry", "guideline_version_of"]
