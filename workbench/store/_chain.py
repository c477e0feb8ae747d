r"""The hash chain over label events: canonical encoding, hashing and the integrity report.

Every label event stores ``prev_hash`` (the ``event_hash`` of the event with the next lower
``event_id``; :data:`GENESIS_HASH` for the first event) and its own ``event_hash``, as a
transparency log does. An event changed in place (say with the ``sqlite3`` shell, the
append-only trigger dropped and restored) no longer matches its ``event_hash``; an event
removed from the middle breaks the link of its successor and leaves a gap in the ids; events
removed from the end leave ``sqlite_sequence`` ahead of the last id. Someone who rewrites
every later hash and ``sqlite_sequence`` as well is caught only against a head recorded
elsewhere: keep ``store.chain_head()`` somewhere safe and pass it as ``expected_head``.

Canonical encoding (algorithm ``workbench-event-chain-v1``)
-----------------------------------------------------------
``event_hash`` is the hex SHA-256 of ``b"workbench-event-chain-v1\n"`` followed by the UTF-8
JSON object (``sort_keys=True``, ``separators=(",", ":")``, ``ensure_ascii=False``) of these
fields, as stored in the ``events`` table:

=====================  =======================  ==========================================
key                    JSON type                note
=====================  =======================  ==========================================
``event_id``           integer
``event_uid``          string
``example_id``         string
``question``           string
``value``              string or null           null for a retraction
``action``             string                   ``"label"`` or ``"retract"``
``source``             string
``annotator``          string
``confidence``         number or null           a float (``1.0``, never ``1``); NaN is null
``created_at``         string                   ISO-8601 UTC
``time_spent``         number or null           a float, as ``confidence``
``schema_version``     string
``guideline_version``  string
``data_version``       string or null
``is_honeypot``        true or false
``supersedes``         integer or null
``note``               string or null
``prev_hash``          string                   64 hex digits
=====================  =======================  ==========================================

Numbers are written as Python's ``json`` writes a float (the shortest text that reads back
as the same IEEE-754 double). A check needing only the standard library::

    import hashlib, json, sqlite3
    con = sqlite3.connect("project.db")
    cols = ["event_id", "event_uid", "example_id", "question", "value", "action", "source",
            "annotator", "confidence", "created_at", "time_spent", "schema_version",
            "guideline_version", "data_version", "is_honeypot", "supersedes", "note"]
    prev = "0" * 64
    for row in con.execute(f"SELECT {', '.join(cols)}, prev_hash, event_hash FROM events ORDER BY event_id"):
        obj = dict(zip(cols, row[:-2]))
        obj["is_honeypot"] = bool(obj["is_honeypot"])
        for k in ("confidence", "time_spent"):
            obj[k] = None if obj[k] is None else float(obj[k])
        obj["prev_hash"] = prev
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(b"workbench-event-chain-v1\n" + text.encode("utf-8")).hexdigest()
        assert row[-2] == prev and row[-1] == digest, obj["event_id"]
        prev = digest
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "CHAIN_ALGORITHM",
    "CHAIN_FIELDS",
    "GENESIS_HASH",
    "StoreReport",
    "canonical_event",
    "event_hash",
    "normalise_event_fields",
]

CHAIN_ALGORITHM = "workbench-event-chain-v1"
#: ``prev_hash`` of the first event.
GENESIS_HASH = "0" * 64
#: The stored event fields covered by ``event_hash`` (plus ``prev_hash``), in table order.
CHAIN_FIELDS: tuple[str, ...] = (
    "event_id",
    "event_uid",
    "example_id",
    "question",
    "value",
    "action",
    "source",
    "annotator",
    "confidence",
    "created_at",
    "time_spent",
    "schema_version",
    "guideline_version",
    "data_version",
    "is_honeypot",
    "supersedes",
    "note",
)
_TEXT = frozenset(
    {"event_uid", "example_id", "question", "value", "action", "source", "annotator", "created_at",
     "schema_version", "guideline_version", "data_version", "note"}
)
_REAL = frozenset({"confidence", "time_spent"})
_INT = frozenset({"event_id", "supersedes"})
_PREFIX = CHAIN_ALGORITHM.encode() + b"\n"


def _real(value: Any) -> float | None:
    if value is None:
        return None
    out = float(value)
    return None if math.isnan(out) else out


def normalise_event_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`CHAIN_FIELDS` of ``fields`` with the types SQLite gives back when they are read.

    Text fields become ``str`` (or stay ``None``), ``confidence`` and ``time_spent`` ``float``
    (NaN becomes ``None``, as SQLite stores it), ids ``int`` and ``is_honeypot`` ``bool``, so
    that the hash computed when writing equals the hash recomputed from the stored row.
    """
    out: dict[str, Any] = {}
    for name in CHAIN_FIELDS:
        value = fields.get(name)
        if value is None:
            out[name] = False if name == "is_honeypot" else None
        elif name in _TEXT:
            out[name] = value if isinstance(value, str) else str(value)
        elif name in _REAL:
            out[name] = _real(value)
        elif name in _INT:
            out[name] = int(value)
        else:  # is_honeypot
            out[name] = bool(value)
    return out


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_event(fields: Mapping[str, Any], prev_hash: str, *, normalised: bool = False) -> bytes:
    """The canonical bytes hashed for one event (see the module docstring).

    ``normalised=True`` skips :func:`normalise_event_fields` for fields that went through it already.
    """
    obj = dict(fields) if normalised else normalise_event_fields(fields)
    obj["prev_hash"] = prev_hash
    return _PREFIX + _ENCODER.encode(obj).encode("utf-8")


def event_hash(fields: Mapping[str, Any], prev_hash: str, *, normalised: bool = False) -> str:
    """Hex SHA-256 chaining one event (its :data:`CHAIN_FIELDS`) to ``prev_hash``."""
    return hashlib.sha256(canonical_event(fields, prev_hash, normalised=normalised)).hexdigest()


@dataclass(frozen=True)
class StoreReport:
    """What :meth:`SQLiteStore.verify <workbench.store.SQLiteStore.verify>` found.

    Attributes
    ----------
    ok : bool
        True when no problem was found.
    problems : tuple of str
        One sentence per problem: what is wrong, what was expected, what was found, what to do.
    sqlite_check : tuple of str
        The lines of SQLite's ``PRAGMA integrity_check`` (``("ok",)`` for a sound file).
    n_events : int
        Events checked.
    chain_head : tuple of (int, str) or None
        ``(event_id, event_hash)`` of the last event, to record elsewhere as an anchor.
    broken_events : tuple of int
        Ids of the events whose content or link does not match the chain.
    missing_event_ids : tuple of int
        Event ids absent from the sequence (removed events).
    duplicate_example_ids : tuple of str
        Example ids stored more than once (in the examples table, or in two data files).
    data_files_checked : int
        Data files whose ids were compared with the examples table (0 without ``project_dir``).
    layout : int
        The store layout version of the file.
    algorithm : str
        The chain's hashing algorithm (:data:`CHAIN_ALGORITHM`).
    """

    ok: bool
    problems: tuple[str, ...] = ()
    sqlite_check: tuple[str, ...] = ("ok",)
    n_events: int = 0
    chain_head: tuple[int, str] | None = None
    broken_events: tuple[int, ...] = ()
    missing_event_ids: tuple[int, ...] = ()
    duplicate_example_ids: tuple[str, ...] = ()
    data_files_checked: int = 0
    layout: int = 0
    algorithm: str = CHAIN_ALGORITHM

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON data."""
        out = asdict(self)
        out["chain_head"] = list(self.chain_head) if self.chain_head is not None else None
        for key in ("problems", "sqlite_check", "broken_events", "missing_event_ids", "duplicate_example_ids"):
            out[key] = list(out[key])
        return out
