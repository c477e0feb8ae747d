"""Versioned labeling schemas: atomic questions, conditions, guidelines, and how a schema evolves."""

from workbench.schema._evolve import SchemaChanges
from workbench.schema._registry import SchemaRegistry
from workbench.schema._schema import NO_GUIDELINES, Question, Schema, guideline_version_of

__all__ = ["NO_GUIDELINES", "Question", "Schema", "SchemaChanges", "SchemaRegistry", "guideline_version_of"]
