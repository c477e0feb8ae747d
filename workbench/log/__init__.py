"""The append-only label log: every label event with its provenance, and the current answers.

:class:`LabelLog` validates labels against the schema before anything is written, writes each
annotation in one transaction, and reads back history, current labels, human answers and gold.
``Project.annotate``, ``Project.history`` and the other event-log methods delegate to it.
Label flags (a schema migration's unmappable labels, labels to re-review under new guidelines)
are kept next to the events: a flagged event is never rewritten, only left out of current labels.
"""

from workbench.log._log import FLAG_COLUMNS, FLAG_RECORD, LabelLog, parse_timestamp

__all__ = ["FLAG_COLUMNS", "FLAG_RECORD", "LabelLog", "parse_timestamp"]
