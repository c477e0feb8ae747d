"""The append-only label log: every label event with its provenance, and the current answers.

:class:`LabelLog` validates labels against the schema before anything is written, writes each
annotation in one transaction, and reads back history, current labels, human answers and gold.
``Project.annotate``, ``Project.history`` and the other event-log methods delegate to it.
"""

from workbench.log._log import LabelLog, parse_timestamp

__all__ = ["LabelLog", "parse_timestamp"]
