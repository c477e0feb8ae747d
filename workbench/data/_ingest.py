"""Reading tables, normalising ids and hashing example content."""

from __future__ import annotations

import hashlib
import io
import json
import json.encoder
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.exceptions import DataError, DuplicateIdError

_encode_str = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses

__all__ = ["HASH_SCHEMES", "ID_COLUMN", "SUPPORTED_SUFFIXES", "IngestedBatch", "prepare_batch", "read_table",
           "row_hashes"]

#: How row content is hashed. ``"text"`` (new projects): every cell in its canonical text form,
#: so that the same table read back from CSV, TSV, JSON Lines, Parquet or a DataFrame hashes
#: the same. ``"json"``: cells as typed JSON values (projects made before the text scheme).
HASH_SCHEMES: tuple[str, ...] = ("text", "json")

#: Name of the index holding example ids in every frame the project returns.
ID_COLUMN = "id"
#: Column names the project itself adds to the examples it returns.
RESERVED_COLUMNS = ("data_version",)
SUPPORTED_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson", ".json")


def _show(ids: Sequence[object], limit: int = 10) -> str:
    shown = ", ".join(repr(i) for i in list(ids)[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _decode_check(path: Path, encoding: str, errors: str) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode(encoding, errors=errors)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{str(path)!r} is not valid {encoding}: byte {raw[exc.start]:#04x} at offset {exc.start} "
            f"(line {line}) cannot be decoded. Pass the file's real encoding, e.g. encoding='latin-1', "
            f"or errors='replace' to keep the rows with U+FFFD in place of the bad bytes."
        ) from None
    except LookupError:
        raise DataError(f"Unknown text encoding {encoding!r}. Use a Python codec name such as 'utf-8'.") from None


def read_table(
    source: pd.DataFrame | str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
) -> pd.DataFrame:
    """Read examples from a DataFrame, CSV/TSV, Parquet or JSON Lines file.

    Parameters
    ----------
    source : DataFrame or path-like
        The data. Files are recognised by suffix: ``.csv``, ``.tsv``, ``.parquet``/``.pq``,
        ``.jsonl``/``.ndjson`` (one JSON object per line) and ``.json`` (a list of records).
    encoding : str, default "utf-8"
        Text encoding of CSV/TSV/JSON files.
    errors : {"strict", "replace"}, default "strict"
        What to do with bytes that are not valid in ``encoding``: ``"strict"`` raises a
        :class:`~workbench.exceptions.DataError` naming the offset and line; ``"replace"``
        keeps the row with U+FFFD in place of each bad byte.

    Returns
    -------
    DataFrame
        A copy; the input is never modified.
    """
    if errors not in ("strict", "replace"):
        raise DataError(f"The 'errors' parameter must be 'strict' or 'replace'. Got {errors!r} instead.")
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if isinstance(source, (pd.Series, np.ndarray, list, dict)):
        raise DataError(
            f"add_data takes a pandas DataFrame or a file path. Got a {type(source).__name__}; wrap it with "
            f"pd.DataFrame(...) first."
        )
    if not isinstance(source, (str, os.PathLike)):
        raise DataError(f"add_data takes a pandas DataFrame or a file path. Got {type(source).__name__}.")
    path = Path(source)
    if not path.is_file():
        raise DataError(f"No such data file: {str(path)!r}.")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DataError(
            f"Cannot read {str(path)!r}: unknown suffix {suffix!r}. Supported: {', '.join(SUPPORTED_SUFFIXES)}; "
            f"or read it with pandas and pass the DataFrame."
        )
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        text = _decode_check(path, encoding, errors)
        if suffix in (".csv", ".tsv"):
            _check_ragged(path, text, "\t" if suffix == ".tsv" else ",")
            # keep_default_na=False then explicit na: an empty cell is missing, the string "NA" is text.
            return pd.read_csv(
                io.StringIO(text),
                sep="\t" if suffix == ".tsv" else ",",
                dtype=str,
                keep_default_na=False,
                na_values=[""],
            )
        if suffix in (".jsonl", ".ndjson"):
            rows = []
            for n, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{str(path)!r} line {n} is not valid JSON: {exc.msg}.") from None
                if not isinstance(obj, dict):
                    raise DataError(
                        f"{str(path)!r} line {n} holds a {type(obj).__name__}; JSON Lines input needs one "
                        f"object per line."
                    )
                rows.append(obj)
            return pd.DataFrame(rows)
        obj = json.loads(text)
        if not isinstance(obj, list):
            raise DataError(f"{str(path)!r} must hold a JSON list of objects (or use .jsonl).")
        return pd.DataFrame(obj)
    except DataError:
        raise
    except (ValueError, OSError) as exc:
        raise DataError(f"Cannot read {str(path)!r}: {exc}") from None


def _check_ragged(path: Path, text: str, sep: str) -> None:
    """Refuse a CSV/TSV whose rows do not all have the header's number of fields (pandas would pad
    short rows with missing values silently)."""
    import csv

    # strict: a field that starts with a double quote but is not a quoted field ('"Hello," she said')
    # is an error; pandas would silently drop its quotes and join the pieces
    reader = csv.reader(io.StringIO(text), delimiter=sep, strict=True)
    bad: list[tuple[int, int]] = []
    try:
        header = next(reader, None)
        if header is None:
            return
        width = len(header)
        for row in reader:
            if row and len(row) != width:
                bad.append((reader.line_num, len(row)))
                if len(bad) >= 10:
                    break
    except csv.Error as exc:
        raise DataError(
            f"{str(path)!r} line {reader.line_num}: a field starts with a double quote but is not a quoted field "
            f"({exc}), so CSV quoting would drop its quotes. If the file has no quoting (common for TSV), read it "
            f"with pandas, pd.read_csv(path, sep={sep!r}, quoting=csv.QUOTE_NONE, dtype=str, "
            f"keep_default_na=False), and pass the DataFrame; otherwise quote the field and double its quotes."
        ) from None
    if bad:
        shown = ", ".join(f"line {line} has {n}" for line, n in bad[:5])
        raise DataError(
            f"{str(path)!r} has rows with a different number of fields than its header ({width}): {shown}"
            f"{' ...' if len(bad) > 5 else ''}. Fix those lines (an unquoted separator inside a value?), or "
            f"read the file with pandas yourself and pass the DataFrame."
        )


def id_text(value: Any) -> str:
    """An id or label value as the project stores it: text, integral numbers as integers.

    ``7``, ``7.0`` (an integer column with a gap reads as floats) and ``"7"`` are all ``"7"``;
    other values are ``str(value)`` (``"007"`` stays ``"007"``). The same rule as ``add_data``
    applies to an id column.

    Examples
    --------
    >>> id_text(7.0), id_text("007"), id_text(2.5)
    ('7', '007', '2.5')
    """
    if isinstance(value, (float, np.floating)) and math.isfinite(float(value)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def _normalise_ids(col: pd.Series, id_column: str) -> pd.Series:
    missing = col.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing).tolist()
        raise DataError(
            f"The id column {id_column!r} is empty in {len(rows)} row(s) (row positions {_show(rows)}). Every "
            f"example needs an id: fill them in, or omit id_column to derive ids from content."
        )
    if pd.api.types.is_float_dtype(col):
        vals = col.to_numpy(dtype=float)
        if not np.all(np.mod(vals, 1) == 0):
            raise DataError(
                f"The id column {id_column!r} holds non-integral numbers (e.g. {vals[np.mod(vals, 1) != 0][0]}); "
                f"ids must be strings or integers."
            )
        return pd.Series(vals.astype(np.int64).astype(str), index=col.index)
    out = col.astype(str)
    blank = (out.str.strip() == "").to_numpy()
    if blank.any():
        rows = np.flatnonzero(blank).tolist()
        raise DataError(f"The id column {id_column!r} is blank in row position(s) {_show(rows)}.")
    return out


def _canonical(value: Any) -> Any:
    """A JSON-stable form of one cell for hashing (NaN/None -> None, numpy -> python)."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (np.floating,)):
        v = float(value)
        return None if math.isnan(v) else v
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.ndarray):
        return [_canonical(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    return value


def _encoded_column(values: list[Any]) -> list[str]:
    """Each cell as the JSON text ``json.dumps`` would give it inside a row object."""
    if all(v is None or isinstance(v, str) for v in values):  # the common case: a text column
        return ["null" if v is None else _encode_str(v) for v in values]
    return [
        json.dumps(_canonical(v), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        for v in values
    ]


def canonical_text(value: Any) -> str | None:
    """One cell's canonical text (the ``"text"`` hash scheme), or None for a missing value.

    Strings are kept (the empty string counts as missing: CSV cannot tell them apart); integers
    and booleans as ``str()`` (``3``, ``True``); floats by ``repr`` (``0.5``, ``3.0``, ``1e+20``),
    NaN as missing; timestamps as ``str()`` (``2024-05-01 10:00:00``, what ``to_csv`` writes);
    lists, dicts and arrays as compact JSON with sorted keys.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) else repr(v)
    if isinstance(value, pd.Timestamp):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    canonical = _canonical(value)
    if isinstance(canonical, (list, dict)):
        return json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(canonical)


def _text_column(values: list[Any]) -> list[str]:
    if all(isinstance(v, str) and v != "" for v in values):  # the common case: a full text column
        return [_encode_str(v) for v in values]
    out = []
    for v in values:
        t = canonical_text(v)
        out.append("null" if t is None else _encode_str(t))
    return out


def row_hashes(df: pd.DataFrame, scheme: str = "text") -> list[str]:
    """SHA-256 of each row's content, independent of column order.

    The hashed text is the row as a compact JSON object with sorted keys (``json.dumps(row,
    sort_keys=True, ensure_ascii=False, separators=(",", ":"))``), missing values as ``null``;
    built column by column for speed. With ``scheme="text"`` every cell is first turned into
    its canonical text (:func:`canonical_text`), so a table and its CSV, TSV, JSON Lines or
    Parquet round trip hash the same; ``scheme="json"`` hashes typed JSON values (older projects).
    """
    if scheme not in HASH_SCHEMES:
        raise DataError(f"Unknown row hash scheme {scheme!r}. Expected one of {list(HASH_SCHEMES)!r}.")
    cols = sorted(df.columns, key=str)
    if not cols:
        empty = hashlib.sha256(b"{}").hexdigest()
        return [empty] * len(df)
    keys = [_encode_str(str(c)) + ":" for c in cols]
    encode = _text_column if scheme == "text" else _encoded_column
    encoded = [encode(df[c].tolist()) for c in cols]
    sha = hashlib.sha256
    if len(cols) == 1:
        k0 = "{" + keys[0]
        return [sha((k0 + v + "}").encode("utf-8")).hexdigest() for v in encoded[0]]
    return [
        sha(("{" + ",".join(k + v for k, v in zip(keys, row, strict=True)) + "}").encode("utf-8")).hexdigest()
        for row in zip(*encoded, strict=True)
    ]


@dataclass
class IngestedBatch:
    """A validated batch ready to be stored: ids as the index, content hashes per row."""

    frame: pd.DataFrame
    ids: list[str]
    hashes: list[str]
    content_hash: str


def prepare_batch(
    df: pd.DataFrame,
    id_column: str | None,
    *,
    text_column: str | None = None,
    image_column: str | None = None,
    image_root: Path | None = None,
    hash_scheme: str = "text",
) -> IngestedBatch:
    """Validate a frame and give it string ids, row hashes and a batch content hash.

    Raises
    ------
    DataError
        Empty input, an unknown column, missing ids, missing image files.
    DuplicateIdError
        The same id twice within the batch (names the ids).
    """
    if len(df) == 0:
        raise DataError("The data has no rows; nothing was added.")
    df = df.copy()
    df.columns = [str(c) for c in df.columns]
    reserved = [c for c in df.columns if c in RESERVED_COLUMNS and c != id_column]
    if reserved:
        raise DataError(
            f"The data has column(s) {reserved} whose names the workbench reserves (examples() adds "
            f"'data_version'). Rename them, e.g. df.rename(columns={{{reserved[0]!r}: 'source_{reserved[0]}'}})."
        )
    dup_cols = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dup_cols:
        raise DataError(f"The data has repeated column names {dup_cols}; rename them before adding.")
    for name, col in (("text_column", text_column), ("image_column", image_column)):
        if col is not None and col not in df.columns:
            raise DataError(
                f"The {name} {col!r} is not a column of the data. Columns: {list(df.columns)!r}."
            )
    if text_column is not None:
        values = df[text_column]
        bad = [
            i for i, v in enumerate(values.tolist())
            if not (v is None or isinstance(v, str) or (isinstance(v, float) and math.isnan(v)))
        ]
        if bad:
            raise DataError(
                f"The text column {text_column!r} holds non-text values in row position(s) {_show(bad)} "
                f"(e.g. {values.iloc[bad[0]]!r}). Convert them with df[{text_column!r}].astype(str) first."
            )
        # Missing text is kept as missing (None), never turned into the string "nan".
        df[text_column] = values.astype(object).where(values.notna(), None)
    if id_column is not None:
        if id_column not in df.columns:
            raise DataError(
                f"The id column {id_column!r} is not a column of the data. Columns: {list(df.columns)!r}. "
                f"Pass id_column=None to derive ids from content."
            )
        ids = _normalise_ids(df[id_column], id_column)
        content = df.drop(columns=[id_column])
    else:
        if ID_COLUMN in df.columns:
            raise DataError(
                f"The data has a column named {ID_COLUMN!r} but no id_column was given. Pass "
                f"id_column={ID_COLUMN!r} to use it, or rename it."
            )
        content = df
        ids = None
    hashes = row_hashes(content, hash_scheme)
    if ids is None:
        ids = pd.Series(["ex-" + h[:16] for h in hashes], index=df.index)
    id_list = ids.tolist()
    dup_mask = ids.duplicated(keep=False).to_numpy()
    if dup_mask.any():
        dups = list(dict.fromkeys(np.asarray(id_list, dtype=object)[dup_mask].tolist()))
        how = (
            "Each example needs a unique id: fix or drop the repeated rows (df.drop_duplicates())."
            if id_column is not None
            else "These rows have identical content, so their derived ids collide: drop the repeats "
            "(df.drop_duplicates()) or give an id column."
        )
        raise DuplicateIdError(f"{len(dups)} id(s) occur more than once in this batch: {_show(dups)}. {how}", dups)
    if image_column is not None:
        root = image_root or Path.cwd()
        paths = content[image_column]
        missing = [
            i for i, p in zip(id_list, paths.tolist(), strict=True)
            if not isinstance(p, str) or not (root / p).is_file()
        ]
        if missing:
            raise DataError(
                f"{len(missing)} example(s) point to image files that do not exist under {str(root)!r}: "
                f"{_show(missing)}. Fix the paths, or pass image_root= the folder they are relative to."
            )
    frame = content.copy()
    frame.index = pd.Index(id_list, name=ID_COLUMN, dtype=object)
    order = sorted(range(len(id_list)), key=lambda k: id_list[k])
    digest = hashlib.sha256()
    for k in order:
        digest.update(id_list[k].encode("utf-8"))
        digest.update(b"\0")
        digest.update(hashes[k].encode("ascii"))
        digest.update(b"\n")
    return IngestedBatch(frame=frame, ids=id_list, hashes=hashes, content_hash=digest.hexdigest())
