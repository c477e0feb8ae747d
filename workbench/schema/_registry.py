"""The project's schema and guideline versions: which ones are current, and their history."""

from __future__ import annotations

import os
import warnings

import pandas as pd

from workbench._events import EventEmitter
from workbench.exceptions import SchemaError, StoreCorruptedError
from workbench.schema._schema import Schema
from workbench.store import EventStore, utc_now

__all__ = ["SchemaRegistry"]


class SchemaRegistry:
    """Every schema and guideline version of a project, and which ones new labels use.

    Parameters
    ----------
    store : EventStore
        Where the versions and the current pointers are kept.
    emitter : EventEmitter
        Announces ``schema_changed`` and ``guidelines_changed``.
    """

    def __init__(self, store: EventStore, emitter: EventEmitter) -> None:
        self._store = store
        self._emitter = emitter
        self._cache: tuple[str, str, Schema] | None = None

    @property
    def version(self) -> str:
        """The schema version new labels are recorded under."""
        return str(self._store.get_meta("schema_version"))

    @property
    def guideline_version(self) -> str:
        """The guideline version new labels are recorded under."""
        return str(self._store.get_meta("guideline_version"))

    @property
    def current(self) -> Schema:
        """The current schema, with the current guidelines."""
        sv, gv = self.version, self.guideline_version
        if self._cache is not None and self._cache[:2] == (sv, gv):
            return self._cache[2]
        versions = self._store.schema_versions()
        row = versions[versions["version"] == sv]
        gl = self._store.guideline_versions()
        grow = gl[gl["version"] == gv]
        if row.empty or grow.empty:
            raise StoreCorruptedError(
                f"The project names schema {sv!r} / guidelines {gv!r}, but their records are missing from the "
                f"database. Restore project.db from a backup."
            )
        text = grow["text"].iloc[0]
        schema = Schema.from_dict(row["schema"].iloc[0], guidelines=text if isinstance(text, str) else None)
        if schema.version != sv:
            raise StoreCorruptedError(f"The stored schema record {sv!r} no longer matches its hash.")
        self._cache = (sv, gv, schema)
        return schema

    def record_initial(self, schema: Schema) -> None:
        """Store the first schema and guidelines of a new project."""
        now = utc_now()
        self._store.add_schema_version(schema.version, schema.to_dict(), now)
        self._store.add_guideline_version(schema.guideline_version, schema.guidelines, now)
        self._store.set_meta("schema_version", schema.version)
        self._store.set_meta("guideline_version", schema.guideline_version)

    def update(self, schema: Schema) -> str:
        """Make ``schema`` current (and its guidelines, if it has any); returns its version."""
        if not isinstance(schema, Schema):
            raise SchemaError(
                f"update_schema takes a wb.Schema. Got {type(schema).__name__} instead; build one with "
                f"wb.Schema(...) or wb.Schema.single(name, choices)."
            )
        self._store.add_schema_version(schema.version, schema.to_dict(), utc_now())
        changed = schema.version != self.version
        self._store.set_meta("schema_version", schema.version)
        if schema.guidelines is not None and schema.guideline_version != self.guideline_version:
            earlier = set(self._store.guideline_versions()["version"].astype(str))
            if schema.guideline_version in earlier:  # a copy made before newer guidelines (e.g. by evolve)
                warnings.warn(
                    f"The schema carries the earlier guidelines {schema.guideline_version}; the current guidelines "
                    f"{self.guideline_version} stay. To go back to the earlier ones, call "
                    f"project.update_guidelines(text) with their text.", UserWarning, stacklevel=3,
                )
            else:
                self.update_guidelines(schema.guidelines)
        if changed:
            self._emitter.emit("schema_changed", version=schema.version)
        return schema.version

    def update_guidelines(self, guidelines: str | os.PathLike[str]) -> str:
        """Record new guidelines (text or a file path) and make them current; returns their version."""
        if not isinstance(guidelines, (str, os.PathLike)):
            raise SchemaError(f"The 'guidelines' parameter of update_guidelines must be the guideline text or the "
                              f"path of a file holding it. Got {type(guidelines).__name__}.")
        if isinstance(guidelines, str) and not guidelines.strip():
            raise SchemaError("The new guidelines are empty. Give their text or the path of a file holding them; "
                              "the current guidelines stay as they are.")
        schema = self.current.with_guidelines(guidelines)
        if not (schema.guidelines or "").strip():
            raise SchemaError(f"The guidelines file {str(guidelines)!r} is empty; the current guidelines stay as "
                              f"they are.")
        gv = schema.guideline_version
        self._store.add_guideline_version(gv, schema.guidelines, utc_now())
        changed = gv != self.guideline_version
        self._store.set_meta("guideline_version", gv)
        if changed:
            self._emitter.emit("guidelines_changed", version=gv)
        return gv

    def versions(self) -> pd.DataFrame:
        """Every schema version, oldest first."""
        return self._store.schema_versions()

    def guideline_versions(self) -> pd.DataFrame:
        """Every guideline version with its full text, oldest first."""
        return self._store.guideline_versions()
