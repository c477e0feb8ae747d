r"""The on-disk format of a label version, its hashes, and a standalone verifier.

A label version is a folder ``<project>/labels/v<N>/`` holding three files, written once
and made read-only:

``labels.parquet``
    One row per example, sorted by ``id`` (code-point order). Columns, in this order: ``id``
    (string), the probability columns (float64; ``p_<choice>`` for a one-question schema,
    ``p_<question>__<choice>`` for several questions; missing = the question does not apply to
    the row), the label column(s) (string or missing; ``label`` for one question,
    ``label__<question>`` for several), ``confidence`` (float64), ``weight`` (float64),
    ``sources`` (string such as ``"lf+human"``; empty or missing = no signal), then any extra
    columns (string, float64, int64 or bool).
``manifest.json``
    UTF-8 JSON (sorted keys). The fields the workbench writes itself:

    - ``format`` = ``"workbench-label-version"``, ``format_version`` = 1, ``name`` (``"v3"``),
      ``parent`` (``"v2"`` or null), ``created_at`` (ISO-8601 UTC), ``author``, ``message``;
    - ``questions``: question -> list of choices (a choice's position is its integer label id),
      ``prob_columns``: question -> list of column names, ``label_columns``: question -> column;
    - ``n_rows``, ``columns`` (list of ``[name, kind]``; kind is ``string``, ``float64``,
      ``int64`` or ``bool``);
    - ``file``: ``{"name": "labels.parquet", "bytes": <size>, "sha256": <hex of the file bytes>}``;
    - ``data_hash``: ``{"algorithm": "workbench-labels-canonical-v1", "columns": [[name, kind],
      ...] (every column), "sha256": <hex>}`` and ``probabilities_hash`` (same algorithm over
      ``id`` and the probability columns only): hashes of the *content*, independent of how
      Parquet encoded it;
    - ``counts``: ``{"rows", "by_sources": {"lf+human": n, ...}, "by_source": {"lf": n, ...},
      "by_label": {question: {choice: n, "": n_missing}}}``;
    - ``software``: versions of python, workbench, pandas, pyarrow and numpy that wrote it.

    Every other key is the caller's provenance, stored as given: typically ``data_version``,
    ``schema_version``, ``guideline_version``, ``lfs`` (name, code fingerprint and source text
    of each labeling function), ``label_model`` (class, parameters, learned weights) and
    ``metrics`` (e.g. accuracy on gold). Non-finite floats are stored as ``null``.
``SHA256SUMS``
    ``sha256sum``-style lines for ``labels.parquet`` and ``manifest.json``
    (``sha256sum -c SHA256SUMS`` checks them). The project database also keeps the manifest's
    SHA-256, so an edited manifest is detected even if ``SHA256SUMS`` was edited too.

The canonical data hash, which needs only ``hashlib``, ``json``, ``struct`` and ``pyarrow``
(this is the complete check; run it in the version's folder)::

    import hashlib, json, struct, pyarrow.parquet as pq
    m = json.load(open("manifest.json", encoding="utf-8"))
    assert hashlib.sha256(open("labels.parquet", "rb").read()).hexdigest() == m["file"]["sha256"]
    t = pq.read_table("labels.parquet")
    h = hashlib.sha256(b"workbench-labels-canonical-v1\n" + struct.pack("<q", t.num_rows))
    for name, kind in m["data_hash"]["columns"]:
        vals = t.column(name).to_pylist()
        ok = [v is not None and v == v for v in vals]  # null or NaN: missing
        c = hashlib.sha256(name.encode() + b"\0" + kind.encode() + b"\0" + bytes(ok))
        if kind == "string":
            enc = [v.encode() if o else b"" for v, o in zip(vals, ok)]
            c.update(struct.pack(f"<{len(enc)}q", *map(len, enc)) + b"".join(enc))
        else:
            fmt = {"float64": "d", "int64": "q", "bool": "B"}[kind]
            c.update(struct.pack(f"<{len(vals)}{fmt}", *[v + 0 if o else 0 for v, o in zip(vals, ok)]))
        h.update(c.digest())
    assert h.hexdigest() == m["data_hash"]["sha256"]

:func:`verify_label_version` does the same (vectorised) plus the row count and checksum file.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import struct
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workbench.exceptions import DataError, IntegrityError

__all__ = [
    "CANONICAL_ALGORITHM",
    "CHECKSUM_FILE",
    "DATA_FILE",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "canonical_hash",
    "column_digest",
    "column_kind",
    "combine_digests",
    "dump_manifest",
    "read_manifest",
    "read_verified_table",
    "sha256_bytes",
    "software_versions",
    "to_json_value",
    "verify_label_version",
]

FORMAT = "workbench-label-version"
FORMAT_VERSION = 1
CANONICAL_ALGORITHM = "workbench-labels-canonical-v1"
DATA_FILE = "labels.parquet"
MANIFEST_FILE = "manifest.json"
CHECKSUM_FILE = "SHA256SUMS"

_KINDS = ("string", "float64", "int64", "bool")


def sha256_bytes(data: bytes | memoryview) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def column_kind(arrow_type: pa.DataType) -> str | None:
    """The canonical kind of an Arrow type (``string``, ``float64``, ``int64``, ``bool``), or None."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_floating(arrow_type):
        return "float64"
    if pa.types.is_integer(arrow_type):
        return "int64"
    if pa.types.is_boolean(arrow_type):
        return "bool"
    return None


def _as_array(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col


def column_digest(name: str, kind: str, col: pa.ChunkedArray | pa.Array) -> bytes:
    """SHA-256 digest of one column in the canonical encoding (see the module docstring)."""
    arr = _as_array(col)
    n = len(arr)
    if kind == "float64":
        x = arr.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        valid = ~np.isnan(x)
        values: bytes = np.where(valid, x + 0.0, 0.0).astype("<f8").tobytes()
    elif kind in ("int64", "bool"):
        valid = arr.is_valid().to_numpy(zero_copy_only=False).astype(bool)
        target = pa.int64() if kind == "int64" else pa.bool_()
        filled = pc.fill_null(arr.cast(target), 0 if kind == "int64" else False)
        raw = filled.to_numpy(zero_copy_only=False)
        values = raw.astype("<i8" if kind == "int64" else np.uint8).tobytes()
    elif kind == "string":
        valid = arr.is_valid().to_numpy(zero_copy_only=False).astype(bool)
        filled = pc.fill_null(arr.cast(pa.large_string()), "")
        filled = _as_array(filled)
        if n:
            offsets = np.frombuffer(filled.buffers()[1], dtype="<i8")[filled.offset : filled.offset + n + 1]
            lengths = np.diff(offsets).astype("<i8")
            data_buf = filled.buffers()[2]
            body = memoryview(data_buf)[int(offsets[0]) : int(offsets[-1])] if data_buf is not None else b""
            values = lengths.tobytes() + bytes(body)
        else:
            values = b""
    else:  # pragma: no cover - guarded by column_kind
        raise ValueError(f"unknown column kind {kind!r}")
    h = hashlib.sha256(name.encode("utf-8") + b"\0" + kind.encode("ascii") + b"\0" + valid.astype(np.uint8).tobytes())
    h.update(values)
    return h.digest()


def combine_digests(n_rows: int, digests: Sequence[bytes]) -> str:
    """The canonical hash from the per-column digests, in column order."""
    h = hashlib.sha256(CANONICAL_ALGORITHM.encode("ascii") + b"\n" + struct.pack("<q", n_rows))
    for d in digests:
        h.update(d)
    return h.hexdigest()


def canonical_hash(table: pa.Table, columns: Sequence[Sequence[str]]) -> str:
    """The canonical content hash of ``columns`` (``[[name, kind], ...]``) of ``table``.

    Independent of the Parquet encoding: the same ids and values give the same hash whatever
    the compression, row groups or pyarrow version. The algorithm is spelled out (in plain
    Python) in this module's docstring.
    """
    return combine_digests(table.num_rows, [column_digest(name, kind, table.column(name)) for name, kind in columns])


# ---------------------------------------------------------------------------------------------- JSON
def to_json_value(obj: Any, where: str = "manifest") -> Any:
    """``obj`` as plain JSON data: numpy scalars/arrays, tuples, sets, paths, dates and frames converted.

    Non-finite floats become ``None``. Anything else that is not JSON raises
    :class:`~workbench.exceptions.DataError` naming where it was found (nothing is ever pickled).
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return to_json_value(obj.item(), where)
    if isinstance(obj, np.ndarray):
        return to_json_value(obj.tolist(), where)
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            if isinstance(k, np.generic):
                k = k.item()
            if not isinstance(k, (str, int, float, bool)) or k is None:
                raise DataError(
                    f"The {where} must be JSON data, but it has a key {k!r} of type {type(k).__name__}; "
                    f"use string keys."
                )
            out[str(k)] = to_json_value(v, f"{where}[{k!r}]")
        return out
    if isinstance(obj, (list, tuple)):
        return [to_json_value(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, (set, frozenset)):
        return sorted((to_json_value(v, where) for v in obj), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    try:  # pandas objects, without importing pandas at module level for the verifier's sake
        import pandas as pd

        if isinstance(obj, pd.DataFrame):
            return json.loads(obj.to_json(orient="split", date_format="iso"))
        if isinstance(obj, pd.Series):
            return json.loads(obj.to_json(orient="index", date_format="iso"))
        if isinstance(obj, pd.Timestamp):
            return obj.isoformat()
    except ImportError:  # pragma: no cover
        pass
    raise DataError(
        f"The {where} must be JSON data (dict, list, str, number, bool, None, numpy arrays), but it holds "
        f"a {type(obj).__name__}. Convert it to plain data first (label versions never pickle objects)."
    )


def dump_manifest(manifest: Mapping[str, Any]) -> bytes:
    """The exact bytes written to ``manifest.json`` (sorted keys, 2-space indent, UTF-8, newline)."""
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def software_versions() -> dict[str, str]:
    """Versions of the software that writes a label version."""
    import pandas as pd

    from workbench._version import __version__

    return {
        "python": platform.python_version(),
        "workbench": __version__,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
        "numpy": np.__version__,
    }


# ---------------------------------------------------------------------------------------------- verify
def _fail(label: str, what: str) -> IntegrityError:
    return IntegrityError(f"{label}: {what}")


def read_manifest(folder: Path, label: str, expected_sha256: str | None = None) -> tuple[dict[str, Any], str]:
    """Read and parse ``manifest.json``; check it against ``expected_sha256`` when given."""
    path = folder / MANIFEST_FILE
    if not folder.is_dir():
        raise _fail(
            label,
            f"its folder {str(folder)!r} is missing. Label versions are never rewritten; restore the folder "
            f"from a backup.",
        )
    if not path.is_file():
        raise _fail(label, f"{MANIFEST_FILE} is missing from {str(folder)!r}. Restore it from a backup.")
    raw = path.read_bytes()
    digest = sha256_bytes(raw)
    if expected_sha256 is not None and digest != expected_sha256:
        raise _fail(
            label,
            f"{MANIFEST_FILE} was edited after the version was saved: its SHA-256 is {digest[:16]}... where "
            f"{expected_sha256[:16]}... was recorded. Restore the original manifest from a backup; a "
            f"version's provenance must not change.",
        )
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(label, f"{MANIFEST_FILE} is damaged: it is not valid UTF-8 JSON ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise _fail(label, f"{MANIFEST_FILE} is not a label-version manifest (format {got!r}, expected {FORMAT!r}).")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise _fail(
            label,
            f"it uses format version {manifest.get('format_version')}, newer than this workbench reads "
            f"({FORMAT_VERSION}). Upgrade the package.",
        )
    for key in ("file", "data_hash", "n_rows", "columns"):
        if key not in manifest:
            raise _fail(label, f"{MANIFEST_FILE} lacks the required field {key!r}; it was edited or damaged.")
    return manifest, digest


def read_verified_table(
    folder: Path, manifest: Mapping[str, Any], label: str, *, verify: bool = True
) -> pa.Table:
    """Read ``labels.parquet`` and (when ``verify``) check size, SHA-256, rows, columns and data hash."""
    info = manifest["file"]
    path = folder / str(info.get("name", DATA_FILE))
    if not path.is_file():
        raise _fail(label, f"its data file {path.name} is missing from {str(folder)!r}. Restore it from a backup.")
    raw = path.read_bytes()
    expected_size = int(info.get("bytes", -1))
    recorded_sha = str(info.get("sha256", ""))
    if verify and len(raw) < expected_size:
        raise _fail(
            label,
            f"{path.name} is truncated: it has {len(raw):,} bytes where {expected_size:,} were recorded. "
            f"Restore it from a backup.",
        )
    with ThreadPoolExecutor(max_workers=1) as pool:  # hashing releases the GIL: read the table meanwhile
        hashed = pool.submit(sha256_bytes, raw) if verify else None
        try:
            table = pq.read_table(pa.BufferReader(pa.py_buffer(raw)))
            error: Exception | None = None
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several unrelated types for damaged files
            error = exc
        digest = hashed.result() if hashed is not None else recorded_sha
    if error is not None:
        if digest != recorded_sha:
            raise _fail(
                label,
                f"{path.name} was modified or damaged after it was saved (SHA-256 {digest[:16]}... where "
                f"{recorded_sha[:16]}... was recorded) and cannot be read ({type(error).__name__}). Restore it "
                f"from a backup.",
            )
        raise _fail(label, f"{path.name} cannot be read ({type(error).__name__}: {error}).")
    if not verify:
        return table
    columns = [list(c) for c in manifest["data_hash"].get("columns", [])]
    missing = [c for c, _ in columns if c not in table.column_names]
    content = canonical_hash(table, columns) if not missing else None
    content_ok = content == manifest["data_hash"].get("sha256")
    if digest != recorded_sha:
        detail = (
            "its content (ids, probabilities, labels) is unchanged, so it was re-encoded by another tool"
            if content_ok
            else "its content differs from what was saved (canonical data hash mismatch)"
        )
        raise _fail(
            label,
            f"{path.name} was modified after it was saved: its SHA-256 is {digest[:16]}... where "
            f"{recorded_sha[:16]}... was recorded ({len(raw):,} bytes, {expected_size:,} recorded); {detail}. "
            f"Restore the file from a backup.",
        )
    if table.num_rows != int(manifest["n_rows"]):
        raise _fail(label, f"{path.name} holds {table.num_rows} rows where {manifest['n_rows']} were recorded.")
    if missing or not content_ok:
        raise _fail(
            label,
            f"the content of {path.name} does not match the manifest's canonical data hash"
            + (f" (missing columns {missing})" if missing else "")
            + ". The manifest or the file was altered; restore both from a backup.",
        )
    return table


def verify_label_version(path: str | os.PathLike[str], *, manifest_sha256: str | None = None) -> dict[str, Any]:
    """Verify a label-version folder on its own, without a project or database.

    Checks that ``manifest.json`` parses and (when given) has the SHA-256 ``manifest_sha256``,
    that ``SHA256SUMS`` (if present) matches both files, that ``labels.parquet`` has the recorded
    size and SHA-256 and row count, and that its content gives the recorded canonical data hash
    (the algorithm is in this module's docstring, so the check can be redone years later with
    ``hashlib``, ``json``, ``struct`` and ``pyarrow`` alone).

    Parameters
    ----------
    path : path-like
        The version's folder (``<project>/labels/v3``) or its ``manifest.json``.
    manifest_sha256 : str, optional
        The manifest's SHA-256 as recorded elsewhere (the project database keeps it).

    Returns
    -------
    dict
        The parsed manifest.

    Raises
    ------
    IntegrityError
        A file is missing, truncated, modified, or does not match the manifest.

    Examples
    --------
    >>> verify_label_version("my-project/labels/v3")["n_rows"]  # doctest: +SKIP
    1000
    """
    folder = Path(path)
    if folder.name == MANIFEST_FILE:
        folder = folder.parent
    label = f"The label version at {str(folder)!r}"
    manifest, digest = read_manifest(folder, label, manifest_sha256)
    sums = folder / CHECKSUM_FILE
    if sums.is_file():
        data_name = str(manifest["file"].get("name", DATA_FILE))
        recorded: dict[str, str] = {}
        for line in sums.read_text(encoding="utf-8").splitlines():
            parts = line.strip().split(maxsplit=1)
            if len(parts) == 2:
                recorded[parts[1].lstrip("*")] = parts[0]
        if recorded.get(MANIFEST_FILE) not in (None, digest):
            raise _fail(
                label,
                f"{MANIFEST_FILE} does not match {CHECKSUM_FILE} (SHA-256 {digest[:16]}... where "
                f"{recorded[MANIFEST_FILE][:16]}... was recorded): the manifest was edited after it was saved.",
            )
        if recorded.get(data_name) not in (None, manifest["file"].get("sha256")):
            raise _fail(label, f"{CHECKSUM_FILE} and {MANIFEST_FILE} disagree about {data_name}'s SHA-256.")
    read_verified_table(folder, manifest, label, verify=True)
    return manifest

