"""Immutable soft-label versions on disk, named and indexed through the project store."""

from __future__ import annotations

import builtins
import contextlib
import datetime as _dt
import hashlib
import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.exceptions import DataError, IntegrityError
from workbench.store import EventStore, utc_now
from workbench.versions._format import (
    CANONICAL_ALGORITHM,
    CHECKSUM_FILE,
    DATA_FILE,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_FILE,
    column_digest,
    column_kind,
    combine_digests,
    dump_manifest,
    read_manifest,
    read_verified_table,
    sha256_bytes,
    software_versions,
    to_json_value,
)
from workbench.versions._ops import diff_frames, training_arrays
from workbench.versions._validate import ID_COLUMN, Layout, soft_labels_table

__all__ = ["LATEST", "LabelVersion", "LabelVersionStore", "RECORD_KIND", "USE_KIND"]

#: ``parent=LATEST`` (the default) makes the newest saved version the parent.
LATEST = "latest"
#: Kind of the store record that claims a version's name and keeps its hashes.
RECORD_KIND = "label_version"
#: Kind of the store records linking a version to the training runs that used it.
USE_KIND = "label_version_use"

#: Manifest keys the workbench writes itself; a caller's manifest may not set them.
RESERVED_KEYS = frozenset(
    {
        "format", "format_version", "name", "parent", "created_at", "author", "message", "n_rows",
        "columns", "file", "data_hash", "probabilities_hash", "counts", "software", "prob_columns",
        "label_columns",
    }
)
_NAME = re.compile(r"^v([1-9][0-9]*)$")
_COMPRESSION = "zstd"

#: Status of a version record. Records written before the crash-safe protocol have none: complete.
PENDING, COMPLETE, SKIPPED = "pending", "complete", "skipped"
#: Keys of a pending claim that the complete record does not keep.
_CLAIM_ONLY = ("status", "token", "tmp", "host", "pid")
#: Identifies this machine in claims and temporary names (a hash: no host name is written out).
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:12]
_TMP = re.compile(r"^\.tmp-([0-9a-f]{12})-([0-9]+)-([0-9a-f]{32})$")
#: Tokens of the saves running in this process (a claim of this process not listed here is dead).
_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()


def _complete_record(claim: Mapping[str, Any], name: str, manifest_sha: str) -> dict[str, Any]:
    """The record of a finished version, made from its pending claim."""
    record = {k: v for k, v in claim.items() if k not in _CLAIM_ONLY}
    record.update({"name": name, "path": name, "manifest_sha256": manifest_sha, "status": COMPLETE})
    return record


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, as another user
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _timestamp(iso: Any) -> float:
    """Unix time of an ISO-8601 string; 0 (long ago) when it cannot be read."""
    try:
        return _dt.datetime.fromisoformat(str(iso)).timestamp()
    except ValueError:
        return 0.0


def _tmp_owner(name: str) -> dict[str, Any] | None:
    """The owner (host, pid, token) encoded in a temporary's name; {} if unknown; None if not a temporary."""
    m = _TMP.match(name)
    if m:
        return {"host": m.group(1), "pid": int(m.group(2)), "token": m.group(3)}
    if name.startswith(".tmp-") or name.endswith(".tmp"):
        return {}
    return None


def _remove(path: Path) -> bool:
    """Delete a file or folder (read-only files included); False if it could not be removed."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class LabelVersion:
    """A saved, immutable soft-label version.

    Attributes
    ----------
    name : str
        ``"v1"``, ``"v2"`` ... in the order versions were saved (across processes).
    created_at : str
        ISO-8601 UTC time of saving.
    content_hash : str
        Canonical SHA-256 of the version's content (every column), independent of Parquet bytes.
    path : Path
        The version's folder (``labels.parquet``, ``manifest.json``, ``SHA256SUMS``).
    n_rows : int
        Number of examples.
    parent : str or None
        The version this one was derived from.
    author, message : str
        Who saved it and why.
    manifest : dict
        The full manifest (see :mod:`workbench.versions._format` for its fields).
    """

    name: str
    created_at: str
    content_hash: str
    path: Path
    n_rows: int
    parent: str | None = None
    author: str = ""
    message: str = ""
    manifest: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


def _number(name: str) -> int | None:
    m = _NAME.match(name)
    return int(m.group(1)) if m else None


def _fsync(path: Path, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # pragma: no cover - some platforms cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _flatten_metrics(metrics: Any, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    if not isinstance(metrics, Mapping):
        return out
    for k, v in metrics.items():
        key = f"{prefix}{k}"
        if isinstance(v, bool):
            continue
        if isinstance(v, (int, float)):
            out[key] = float(v)
        elif isinstance(v, Mapping):
            out.update(_flatten_metrics(v, key + "."))
    return out


def _label_model_name(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        for key in ("class", "name", "type"):
            if isinstance(value.get(key), str):
                return str(value[key])
        return None
    return str(value)


class LabelVersionStore:
    """Save, list, load, verify and diff immutable soft-label versions of one project.

    Each version is a folder ``root/v<N>/`` with ``labels.parquet``, ``manifest.json`` and
    ``SHA256SUMS`` (format: :mod:`workbench.versions._format`). Names are claimed atomically
    through the project's :class:`~workbench.store.EventStore` (record kind ``"label_version"``,
    which also keeps each version's hashes, including the manifest's own), so several processes
    may save at once. A version is written to a temporary folder, made read-only and renamed
    into place; nothing ever rewrites it. Loading re-hashes everything and raises
    :class:`~workbench.exceptions.IntegrityError` on any difference.

    Parameters
    ----------
    root : path-like
        The folder holding the versions, normally ``<project>/labels``.
    store : EventStore
        The project's store (``project.store``).

    Examples
    --------
    >>> import tempfile, pandas as pd, workbench as wb
    >>> from workbench.versions import LabelVersionStore
    >>> project = wb.Project.create(tempfile.mkdtemp() + "/p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    >>> versions = LabelVersionStore(project.path / "labels", project.store)
    >>> soft = pd.DataFrame({"id": ["a", "b"], "p_ham": [0.9, 0.2], "p_spam": [0.1, 0.8],
    ...                      "label": ["ham", "spam"], "confidence": [0.9, 0.8], "weight": [1.0, 1.0],
    ...                      "sources": ["lf", "lf+human"]})
    >>> v = versions.save(soft, manifest={"questions": {"spam": ["ham", "spam"]}}, author="ann", message="first")
    >>> v.name, v.n_rows
    ('v1', 2)
    >>> df, manifest = versions.load("v1")
    >>> df.loc["b", "label"]
    'spam'
    """

    def __init__(self, root: str | os.PathLike[str], store: EventStore) -> None:
        self.root = Path(root)
        self._store = store

    def __repr__(self) -> str:
        return f"LabelVersionStore({str(self.root)!r}, versions={len(self._records())})"

    # ------------------------------------------------------------------ records
    def _records(self) -> dict[str, dict[str, Any]]:
        recs = self._store.get_records(RECORD_KIND)
        named = [
            (n, k, v) for k, v in recs.items()
            if (n := _number(k)) is not None and v.get("status", COMPLETE) == COMPLETE
        ]
        return {k: v for _, k, v in sorted(named, key=lambda t: t[0])}

    def names(self) -> list[str]:
        """Names of every saved version, oldest first."""
        return list(self._records())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._records()

    def __len__(self) -> int:
        return len(self._records())

    def latest(self) -> str | None:
        """The newest version's name, or None when nothing was saved."""
        names = self.names()
        return names[-1] if names else None

    def _record(self, name: str) -> dict[str, Any]:
        if isinstance(name, int) and not isinstance(name, bool):
            name = f"v{name}"
        records = self._records()
        if not isinstance(name, str) or name not in records:
            known = list(records)
            shown = known if len(known) <= 10 else [*known[:3], "...", *known[-5:]]
            raise DataError(
                f"Unknown label version {name!r}. Saved versions: {shown!r}"
                + (". Save one with save(...)." if not known else ".")
            )
        return records[name]

    def _label(self, name: str) -> str:
        return f"Label version {name} (in {str(self.root)!r})"

    # ------------------------------------------------------------------ save
    def save(
        self,
        df: pd.DataFrame,
        *,
        manifest: Mapping[str, Any] | None = None,
        parent: str | None = LATEST,
        author: str,
        message: str = "",
    ) -> LabelVersion:
        """Validate ``df`` and write it as a new immutable version.

        Parameters
        ----------
        df : DataFrame
            Soft labels: example ids (an ``id`` column or index), probability columns
            (``p_<choice>``, or ``p_<question>__<choice>`` for several questions), ``label``
            (or ``label__<question>``), ``confidence``, ``weight`` and ``sources``; extra string,
            number or bool columns are kept. Rows are stored sorted by id.
        manifest : mapping, optional
            Provenance stored as given (JSON data; numpy arrays and frames are converted):
            ``questions`` (question -> choices; inferred from the ``p_`` columns when absent),
            ``data_version``, ``schema_version``, ``guideline_version``, ``lfs``, ``label_model``,
            ``metrics`` ... Keys the workbench writes itself (``name``, ``file``, ``data_hash`` ...)
            are refused.
        parent : str or None, default "latest"
            The version this one derives from: ``"latest"`` for the newest saved version (at the
            moment the name is claimed), a version name, or None for none.
        author : str
            Who saves it.
        message : str
            Why.

        Returns
        -------
        LabelVersion

        Raises
        ------
        DataError
            The frame or the manifest is invalid (the message names the column and rows); nothing
            is written.
        """
        if not isinstance(author, str) or not author.strip():
            raise DataError(f"The 'author' parameter of save must be a non-empty string. Got {author!r} instead.")
        if not isinstance(message, str):
            raise DataError(f"The 'message' parameter of save must be a string. Got {message!r} instead.")
        if manifest is not None and not isinstance(manifest, Mapping):
            raise DataError(
                f"The 'manifest' parameter of save must be a dict of JSON data. Got {type(manifest).__name__}."
            )
        user = to_json_value(dict(manifest or {}))
        clash = sorted(set(user) & RESERVED_KEYS)
        if clash:
            raise DataError(
                f"The manifest may not set {clash!r}: the workbench writes these itself. Rename those keys."
            )
        records = self._records()
        if parent is not None and parent != LATEST and parent not in records:
            raise DataError(
                f"The 'parent' parameter of save must be 'latest', None or a saved version {list(records)!r}. "
                f"Got {parent!r} instead."
            )
        table, layout, counts = soft_labels_table(df, user.get("questions"))
        columns = [[f.name, column_kind(f.type)] for f in table.schema]
        prob_columns = [[ID_COLUMN, "string"]] + [[c, "float64"] for c in layout.all_prob_columns()]
        stored = table.replace_schema_metadata({b"workbench": f"{FORMAT} {FORMAT_VERSION}".encode()})

        def encode() -> pa.Buffer:
            sink = pa.BufferOutputStream()
            pq.write_table(stored, sink, compression=_COMPRESSION)
            return sink.getvalue()

        with ThreadPoolExecutor(max_workers=1) as pool:  # Parquet encoding releases the GIL: hash meanwhile
            encoded = pool.submit(encode)
            digests = {name: column_digest(name, kind, table.column(name)) for name, kind in columns}
            raw = encoded.result()
        data_hash = combine_digests(table.num_rows, [digests[name] for name, _ in columns])
        prob_hash = combine_digests(table.num_rows, [digests[name] for name, _ in prob_columns])
        file_info = {"name": DATA_FILE, "bytes": raw.size, "sha256": sha256_bytes(memoryview(raw))}
        base: dict[str, Any] = {
            **user,
            **layout.to_dict(),
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "n_rows": int(table.num_rows),
            "columns": columns,
            "file": file_info,
            "data_hash": {"algorithm": CANONICAL_ALGORITHM, "columns": columns, "sha256": data_hash},
            "probabilities_hash": {"algorithm": CANONICAL_ALGORITHM, "columns": prob_columns, "sha256": prob_hash},
            "counts": counts,
            "software": software_versions(),
        }
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_stale_temporaries()
        token = uuid.uuid4().hex
        tmp = self.root / f".tmp-{_HOST}-{os.getpid()}-{token}"
        with _ACTIVE_LOCK:
            _ACTIVE.add(token)
        claim: dict[str, Any] | None = None
        name = ""
        renamed = False
        try:
            tmp.mkdir()
            with open(tmp / DATA_FILE, "wb") as fh:
                fh.write(memoryview(raw))
                fh.flush()
                os.fsync(fh.fileno())
            del raw, encoded
            for _attempt in range(10_000):
                records = self._records()
                parent_name = (list(records)[-1] if records else None) if parent == LATEST else parent
                created_at = utc_now()
                claim = {
                    "status": PENDING,
                    "token": token,
                    "tmp": tmp.name,
                    "host": _HOST,
                    "pid": os.getpid(),
                    "created_at": created_at,
                    "parent": parent_name,
                    "author": author,
                    "message": message,
                    "n_rows": int(table.num_rows),
                    "content_hash": data_hash,
                    "probabilities_hash": prob_hash,
                    "file_sha256": file_info["sha256"],
                    "summary": {
                        "data_version": user.get("data_version"),
                        "schema_version": user.get("schema_version"),
                        "guideline_version": user.get("guideline_version"),
                        "label_model": _label_model_name(user.get("label_model")),
                        "metrics": _flatten_metrics(user.get("metrics")),
                    },
                }
                # The number comes from the database (inside its write lock), never from folder names.
                _, name = self._store.claim_next_record(RECORD_KIND, "v", claim)
                target = self.root / name
                if target.exists() or target.is_symlink():  # a foreign folder: never adopt or overwrite it
                    skipped = {"status": SKIPPED, "at": utc_now(),
                               "reason": f"{name!r} already existed under {str(self.root)!r} (not a saved version)"}
                    self._store.put_record(RECORD_KIND, name, skipped, expected=claim)
                    claim = None
                    continue
                full = {**base, "name": name, "parent": parent_name, "created_at": created_at,
                        "author": author, "message": message}
                mbytes = dump_manifest(full)
                manifest_sha = sha256_bytes(mbytes)
                for fname, content in (
                    (MANIFEST_FILE, mbytes),
                    (CHECKSUM_FILE, f"{file_info['sha256']}  {DATA_FILE}\n{manifest_sha}  {MANIFEST_FILE}\n".encode()),
                ):
                    target_file = tmp / fname
                    if target_file.exists():
                        target_file.chmod(0o644)
                    with open(target_file, "wb") as fh:
                        fh.write(content)
                        fh.flush()
                        os.fsync(fh.fileno())
                for p in tmp.iterdir():
                    p.chmod(0o444)
                _fsync(tmp, directory=True)
                os.rename(tmp, target)  # atomic: the folder is complete or absent
                renamed = True
                _fsync(self.root, directory=True)
                record = _complete_record(claim, name, manifest_sha)
                if not self._store.put_record(RECORD_KIND, name, record, expected=claim):
                    raise IntegrityError(
                        f"{self._label(name)}: the claim on this name was withdrawn while the version was being "
                        f"written (a recover() elsewhere judged this save dead). Save again."
                    )
                claim = None
                return LabelVersion(
                    name=name, created_at=created_at, content_hash=data_hash, path=target,
                    n_rows=int(table.num_rows), parent=parent_name, author=author, message=message, manifest=full,
                )
            raise IntegrityError(  # pragma: no cover - needs 10,000 lost races
                f"Could not claim a label-version name under {str(self.root)!r} after many attempts."
            )
        except BaseException:
            # A failure we live to see is rolled back; a killed process is rolled forward or back by recover().
            if claim is not None:
                if renamed:
                    with contextlib.suppress(OSError):
                        os.rename(self.root / name, tmp)
                with contextlib.suppress(Exception):
                    self._store.delete_record(RECORD_KIND, name, expected=claim)
            raise
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(token)
            if tmp.exists():
                with contextlib.suppress(OSError):
                    shutil.rmtree(tmp)

    def _remove_stale_temporaries(self, max_age_s: float = 24 * 3600) -> None:
        """Remove temporary folders left by saves that were killed more than ``max_age_s`` ago.

        Folders that a pending claim names are left to :meth:`recover`, which may roll them forward.
        """
        now = time.time()
        claimed = {str(rec.get("tmp")) for rec in self._claims().values() if rec.get("status") == PENDING}
        for p in self.root.glob(".tmp-*"):
            with contextlib.suppress(OSError):
                if p.is_dir() and p.name not in claimed and now - p.stat().st_mtime > max_age_s:
                    shutil.rmtree(p)

    # ------------------------------------------------------------------ crash recovery
    def _claims(self) -> dict[str, dict[str, Any]]:
        """Every record of this kind: complete versions, pending claims and skipped numbers."""
        return self._store.get_records(RECORD_KIND)

    def _is_live(self, owner: Mapping[str, Any], age: float, grace_seconds: float) -> bool:
        """Whether the save that owns a claim or a temporary may still be running."""
        token, host, pid = owner.get("token"), owner.get("host"), owner.get("pid")
        if token is not None:
            with _ACTIVE_LOCK:
                if token in _ACTIVE:
                    return True
        if host == _HOST and isinstance(pid, int):
            if pid == os.getpid():
                return False  # this process, and not among its running saves
            return _pid_alive(pid) and age <= grace_seconds
        return age <= grace_seconds  # another machine (or no owner): wait for the grace period

    def recover(
        self, *, data_dir: str | os.PathLike[str] | None = None, grace_seconds: float = 3600.0
    ) -> dict[str, builtins.list[str]]:
        """Finish or undo saves that were interrupted, and remove orphaned temporary files.

        Call it when a project is opened. A save first writes ``labels/.tmp-*/``, claims its
        number in the database (a *pending* record), renames the folder to ``v<N>`` and then
        marks the record complete. For each pending claim whose process is gone (same machine,
        process no longer running; or older than ``grace_seconds``):

        * **forward** when ``v<N>/`` (or the claim's temporary folder) holds a complete version
          whose manifest names it and whose hashes verify against the claim: the folder is put
          in place and the record completed;
        * **back** otherwise: the temporary folder and the claim are removed (the number is free
          again). A ``v<N>`` folder that does not match the claim is never touched; it is listed
          as unknown by :meth:`check`.

        Temporary folders no claim names (``labels/.tmp-*``), ``*.tmp`` files in ``labels/`` and
        in ``data_dir`` are removed when their process is gone or, when that cannot be told,
        once older than ``grace_seconds``. Saves still running (in this or another process) are
        left alone, so calling this while others work is safe.

        Parameters
        ----------
        data_dir : path-like, optional
            The project's ``data/`` folder, for orphaned ``*.tmp`` files of interrupted ingests.
        grace_seconds : float, default 3600
            Age after which a temporary without a known live owner counts as abandoned. Pass 0
            when no other process can be writing the project.

        Returns
        -------
        dict
            ``rolled_forward`` and ``rolled_back`` (version names), ``removed`` (paths of the
            temporaries deleted) and ``in_progress`` (names claimed by saves still running).
        """
        if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, (int, float)) or grace_seconds < 0:
            raise DataError(
                f"The 'grace_seconds' parameter of recover must be a number of seconds >= 0. Got {grace_seconds!r}."
            )
        out: dict[str, builtins.list[str]] = {"rolled_forward": [], "rolled_back": [], "removed": [],
                                               "in_progress": []}
        now = time.time()
        claimed_tmp: set[str] = set()
        for name, rec in self._claims().items():
            if rec.get("status") != PENDING:
                continue
            claimed_tmp.add(str(rec.get("tmp")))
            if self._is_live(rec, now - _timestamp(rec.get("created_at")), grace_seconds):
                out["in_progress"].append(name)
                continue
            if self._roll_forward(name, rec):
                out["rolled_forward"].append(name)
            else:
                self._roll_back(name, rec)
                out["rolled_back"].append(name)
        if self.root.is_dir():
            for p in sorted(self.root.iterdir()):
                if p.name in claimed_tmp and p.exists():
                    continue
                owner = _tmp_owner(p.name)
                if owner is None:
                    continue  # not a temporary: a version, or a foreign entry check() lists
                if self._orphaned(p, owner, now, grace_seconds) and _remove(p):
                    out["removed"].append(str(p))
        if data_dir is not None:
            folder = Path(data_dir)
            for p in sorted(folder.glob("*.tmp")) if folder.is_dir() else []:
                if self._orphaned(p, {}, now, grace_seconds) and _remove(p):
                    out["removed"].append(str(p))
        return out

    def _orphaned(self, path: Path, owner: Mapping[str, Any], now: float, grace_seconds: float) -> bool:
        try:
            age = now - path.lstat().st_mtime
        except OSError:
            return False
        return not self._is_live(owner, age, grace_seconds)

    def _candidate(self, folder: Path, name: str, rec: Mapping[str, Any]) -> str | None:
        """The manifest's SHA-256 if ``folder`` holds the complete version ``rec`` claimed, else None."""
        if not (folder / MANIFEST_FILE).is_file():
            return None
        try:
            manifest, manifest_sha = read_manifest(folder, self._label(name))
            if manifest.get("name") != name or manifest.get("created_at") != rec.get("created_at"):
                return None
            if manifest["file"].get("sha256") != rec.get("file_sha256"):
                return None
            if manifest["data_hash"].get("sha256") != rec.get("content_hash"):
                return None
            read_verified_table(folder, manifest, self._label(name), verify=True)
        except (IntegrityError, DataError, KeyError, TypeError, AttributeError, OSError):
            return None
        return manifest_sha

    def _roll_forward(self, name: str, rec: dict[str, Any]) -> bool:
        target = self.root / name
        tmp = self.root / str(rec.get("tmp"))
        if target.is_dir():
            manifest_sha = self._candidate(target, name, rec)
            if manifest_sha is None:
                return False  # not this claim's folder: leave it alone (listed as unknown)
        elif tmp.is_dir() and not target.exists():
            manifest_sha = self._candidate(tmp, name, rec)
            if manifest_sha is None:
                return False
            for p in tmp.iterdir():
                p.chmod(0o444)
            _fsync(tmp, directory=True)
            os.rename(tmp, target)
            _fsync(self.root, directory=True)
        else:
            return False
        return self._store.put_record(RECORD_KIND, name, _complete_record(rec, name, manifest_sha), expected=rec)

    def _roll_back(self, name: str, rec: dict[str, Any]) -> None:
        tmp = self.root / str(rec.get("tmp"))
        if rec.get("tmp") and tmp.exists():
            _remove(tmp)
        self._store.delete_record(RECORD_KIND, name, expected=rec)

    def check(self, *, verify: bool = True) -> dict[str, Any]:
        """Everything about ``labels/`` at a glance: versions, interrupted saves, unknown entries.

        Parameters
        ----------
        verify : bool, default True
            Re-hash every version (:meth:`verify_all`); False only compares folders with records.

        Returns
        -------
        dict
            ``ok`` (every version verifies and no save is interrupted), ``versions`` (the
            :meth:`verify_all` frame, or names only without ``verify``), ``interrupted`` (claims
            whose save died: run :meth:`recover`), ``in_progress`` (saves running now),
            ``skipped`` (numbers passed over because a foreign folder had the name) and
            ``unknown`` (entries under ``labels/`` that are neither versions nor temporaries of
            running saves: never adopted, never deleted; move them away).
        """
        now = time.time()
        claims = self._claims()
        interrupted: builtins.list[str] = []
        in_progress: builtins.list[str] = []
        skipped: builtins.list[str] = []
        expected: set[str] = set()
        for name, rec in claims.items():
            status = rec.get("status", COMPLETE)
            if status == SKIPPED:
                skipped.append(name)
            elif status == PENDING:
                live = self._is_live(rec, now - _timestamp(rec.get("created_at")), 3600.0)
                (in_progress if live else interrupted).append(name)
                expected.update({name, str(rec.get("tmp"))})
            else:
                expected.add(str(rec.get("path", name)))
        unknown: builtins.list[str] = []
        if self.root.is_dir():
            for p in sorted(self.root.iterdir()):
                if p.name in expected:
                    continue
                owner = _tmp_owner(p.name)
                if owner is not None and not self._orphaned(p, owner, now, 3600.0):
                    continue  # the temporary of a save running now
                unknown.append(p.name)
        if verify:
            versions = self.verify_all()
            ok = bool(versions["ok"].astype(bool).all())
        else:
            versions = pd.DataFrame({"name": self.names()})
            ok = True
        return {"ok": ok and not interrupted, "versions": versions, "interrupted": interrupted,
                "in_progress": in_progress, "skipped": skipped, "unknown": unknown}

    # ------------------------------------------------------------------ read
    def get(self, name: str) -> LabelVersion:
        """The version ``name`` with its manifest (the manifest is checked; the data file is not read)."""
        record = self._record(name)
        name = record["name"]
        folder = self.root / record.get("path", name)
        manifest, _ = read_manifest(folder, self._label(name), record["manifest_sha256"])
        if manifest.get("name") != name:
            raise IntegrityError(
                f"{self._label(name)}: its folder holds the manifest of {manifest.get('name')!r}. The folders were "
                f"moved or swapped; put them back."
            )
        return LabelVersion(
            name=name, created_at=str(manifest["created_at"]), content_hash=str(manifest["data_hash"]["sha256"]),
            path=folder, n_rows=int(manifest["n_rows"]), parent=manifest.get("parent"),
            author=str(manifest.get("author", "")), message=str(manifest.get("message", "")), manifest=manifest,
        )

    def _table(self, name: str, verify: bool) -> tuple[LabelVersion, pa.Table]:
        version = self.get(name)
        record = self._record(version.name)
        label = self._label(version.name)
        if verify and (
            version.manifest["file"].get("sha256") != record["file_sha256"]
            or version.content_hash != record["content_hash"]
        ):
            raise IntegrityError(f"{label}: its manifest's hashes differ from those recorded in the project database.")
        table = read_verified_table(version.path, version.manifest, label, verify=verify)
        return version, table

    def load(self, name: str, verify: bool = True) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Read version ``name``: (soft labels indexed by ``id``, manifest).

        With ``verify`` (the default) the manifest's SHA-256 is checked against the project
        database, the data file's size and SHA-256 against the manifest, and the canonical data
        hash is recomputed; any difference raises :class:`~workbench.exceptions.IntegrityError`
        that says what changed. A missing folder or file raises it too.
        """
        version, table = self._table(name, verify)
        df = table.to_pandas()
        df = df.set_index(ID_COLUMN)
        return df, version.manifest

    def verify(self, name: str) -> dict[str, Any]:
        """Check version ``name`` completely; returns a short report or raises ``IntegrityError``."""
        version, table = self._table(name, verify=True)
        return {
            "name": version.name,
            "ok": True,
            "n_rows": table.num_rows,
            "content_hash": version.content_hash,
            "file_sha256": version.manifest["file"]["sha256"],
        }

    def verify_all(self) -> pd.DataFrame:
        """Check every version; one row per version with ``ok`` and the ``error`` (if any). Never raises."""
        rows = []
        for name in self.names():
            try:
                self.verify(name)
            except IntegrityError as exc:
                rows.append({"name": name, "ok": False, "error": str(exc)})
            else:
                rows.append({"name": name, "ok": True, "error": None})
        return pd.DataFrame(rows, columns=["name", "ok", "error"])

    def list(self) -> pd.DataFrame:
        """Every version, oldest first, from the project database (no file is read).

        Columns: ``name``, ``created_at``, ``parent``, ``author``, ``message``, ``n_rows``,
        ``data_version``, ``schema_version``, ``guideline_version``, ``label_model``,
        ``content_hash``, one column per numeric metric in the manifest's ``metrics`` (nested
        dicts flattened as ``"gold.accuracy"``), and ``used_by_runs`` (list of run ids).
        """
        base = ["name", "created_at", "parent", "author", "message", "n_rows", "data_version",
                "schema_version", "guideline_version", "label_model", "content_hash"]
        records = self._records()
        uses = self._uses()
        rows: list[dict[str, Any]] = []
        metric_cols: list[str] = []
        for name, rec in records.items():
            summary = rec.get("summary", {})
            row = {
                "name": name, "created_at": rec.get("created_at"), "parent": rec.get("parent"),
                "author": rec.get("author"), "message": rec.get("message"), "n_rows": rec.get("n_rows"),
                "data_version": summary.get("data_version"), "schema_version": summary.get("schema_version"),
                "guideline_version": summary.get("guideline_version"), "label_model": summary.get("label_model"),
                "content_hash": rec.get("content_hash"),
            }
            for k, v in (summary.get("metrics") or {}).items():
                col = k if k not in base and k != "used_by_runs" else f"metric.{k}"
                if col not in metric_cols:
                    metric_cols.append(col)
                row[col] = v
            row["used_by_runs"] = uses.get(name, [])
            rows.append(row)
        return pd.DataFrame(rows, columns=[*base, *metric_cols, "used_by_runs"])

    # ------------------------------------------------------------------ training-run links
    def _uses(self) -> dict[str, builtins.list[str]]:
        out: dict[str, builtins.list[str]] = {}
        for rec in self._store.get_records(USE_KIND).values():
            out.setdefault(str(rec["version"]), []).append(str(rec["run_id"]))
        for run in self._store.training_runs():
            if run.label_version:
                runs = out.setdefault(run.label_version, [])
                if run.run_id not in runs:
                    runs.append(run.run_id)
        return out

    def mark_used(self, name: str, run_id: str) -> bool:
        """Record that training run ``run_id`` used version ``name``; False if it was already recorded."""
        record = self._record(name)
        if not isinstance(run_id, str) or not run_id.strip():
            raise DataError(f"The 'run_id' parameter of mark_used must be a non-empty string. Got {run_id!r}.")
        value = {"version": record["name"], "run_id": run_id, "marked_at": utc_now()}
        return self._store.put_record(USE_KIND, f"{record['name']}/{run_id}", value)

    def used_by(self, name: str) -> builtins.list[str]:
        """Ids of the training runs that used version ``name`` (marked, or recorded with it), in order."""
        record = self._record(name)
        return self._uses().get(record["name"], [])

    # ------------------------------------------------------------------ compare and use
    def diff(self, a: str, b: str, *, question: str | None = None, verify: bool = True) -> pd.DataFrame:
        """Per-example differences from version ``a`` to version ``b``.

        Returns
        -------
        DataFrame
            Indexed by ``id`` over the union of both versions' examples, with ``in_a``,
            ``in_b``, ``label_a``, ``label_b`` (``label_a__<q>`` ... when several questions are
            compared), ``label_changed`` (in both, hard label differs), ``changed`` (added,
            removed, label or any probability differs), ``max_abs_change`` (largest absolute
            probability change) and ``tvd`` (total variation distance, ``0.5 * sum |p_a - p_b|``);
            over several questions, the largest of the per-question values. A choice one version
            lacks counts as probability 0. ``.attrs`` holds the summary (also under
            ``.attrs["summary"]``): ``n_a``, ``n_b``, ``n_common``, ``n_added``, ``n_removed``,
            ``n_label_changed``, ``n_changed``, ``mean_tvd`` and ``max_tvd`` over common examples.
        """
        df_a, man_a = self.load(a, verify=verify)
        df_b, man_b = self.load(b, verify=verify)
        return diff_frames(
            df_a, Layout.from_manifest(man_a), df_b, Layout.from_manifest(man_b), question=question,
            names=(str(man_a["name"]), str(man_b["name"])),
        )

    def training_data(
        self,
        name: str,
        features: pd.DataFrame | None = None,
        *,
        question: str | None = None,
        min_confidence: float = 0.0,
        drop_no_signal: bool = True,
        soft: bool = False,
        y_format: Literal["choice", "index"] = "choice",
    ) -> tuple[pd.DataFrame | pd.Index, np.ndarray, np.ndarray]:
        """Training arrays ``(X, y, w)`` from version ``name``, aligned by example id.

        Pure: nothing is recorded (record the run, then :meth:`mark_used`).

        Parameters
        ----------
        name : str
            The version.
        features : DataFrame, optional
            Features indexed by example id (or with an ``id`` column). X keeps the features'
            row order; labeled ids without features are left out with a warning. Without
            features, X is the index of the selected ids (sorted).
        question : str, optional
            Needed when the version has several questions.
        min_confidence : float, default 0
            Keep rows whose ``confidence`` is at least this (when > 0, missing confidence fails).
        drop_no_signal : bool, default True
            Leave out rows whose ``sources`` is empty or missing (nothing labeled them).
        soft : bool, default False
            False: ``y`` holds hard labels and rows without a ``label`` are left out. True: ``y``
            is the (n, k) probability matrix in choice order and rows where the question does not
            apply are left out.
        y_format : {"choice", "index"}, default "choice"
            Hard labels as choice strings (object array), or as int64 positions in the question's
            choice list (the schema's label ids).

        Returns
        -------
        X : DataFrame or Index
        y : ndarray
        w : ndarray of float64
            The ``weight`` column, for ``sample_weight``.
        """
        df, manifest = self.load(name)
        return training_arrays(
            df, Layout.from_manifest(manifest), features, question=question, min_confidence=min_confidence,
            drop_no_signal=drop_no_signal, soft=soft, y_format=y_format,
        )
