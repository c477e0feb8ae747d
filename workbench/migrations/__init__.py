"""Schema and guideline migrations: plan what a change does to every label, apply it without rewriting one.

``project.migrations`` (:class:`ProjectMigrations`) turns an evolved schema
(:meth:`workbench.Schema.evolve`) into a :class:`MigrationPlan`; applying it maps labels
automatically as new events, flags the rest and queues their items for relabeling.
"""

from workbench.migrations._plan import (
    EXCLUDE_RULES,
    LABEL_OUTCOMES,
    QUEUE_SOURCES,
    MigrationPlan,
    MigrationResult,
)
from workbench.migrations._project import (
    REVIEW_SOURCES,
    ProjectMigrations,
    SchemaSwitch,
    follow_renames,
    schema_switches,
)

__all__ = [
    "EXCLUDE_RULES",
    "LABEL_OUTCOMES",
    "QUEUE_SOURCES",
    "REVIEW_SOURCES",
    "MigrationPlan",
    "MigrationResult",
    "ProjectMigrations",
    "SchemaSwitch",
    "follow_renames",
    "schema_switches",
]
