"""Reading tables, normalising ids and hashing example content."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import io
import json
import json.encoder
import math
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.exceptions import DataError, DuplicateIdError

_encode_str = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses

__all__ = ["DEFAULT_HASH_SCHEME", "HASH_SCHEMES", "ID_COLUMN", "SUPPORTED_SUFFIXES", "IngestedBatch", "canonical_text",
           "cell_key", "id_text", "prepare_batch", "read_table", "row_hashes"]

#: How row content is hashed; each project records its scheme once, when it is created.
#: ``"text2"`` (new projects): every cell in its canonical text form (:func:`canonical_text`),
#: with integral floats written as integers, float32 values by their shortest float32 digits
#: and timestamps (and strings that spell one in ISO 8601) in one ISO form, so that the same
#: table read back from CSV, TSV, JSON Lines, Parquet or a DataFrame hashes the same.
#: ``"text"``: the first canonical text form (floats by ``repr``, timestamps by ``str``), kept
#: by projects made with it. ``"json"``: cells as typed JSON values (the oldest projects).
HASH_SCHEMES: tuple[str, ...] = ("text2", "text", "json")
#: The scheme a new project records.
DEFAULT_HASH_SCHEME = "text2"

#: Name of the index holding example ids in every frame the project returns.
ID_COLUMN = "id"
#: Column names the project itself adds to the examples it returns.
RESERVED_COLUMNS = ("data_version",)
SUPPORTED_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson", ".json")


def _show(ids: Sequence[object], limit: int = 10) -> str:
    shown = ", ".join(repr(i) for i in list(ids)[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _likely_encoding(raw: bytes, tried: str) -> str:
    """A guess at a file's encoding when ``tried`` failed: Windows-1252 when it reads the bytes (curly quotes,
    dashes and the euro sign are 0x80-0x9f there, control characters in latin-1), else latin-1."""
    for name in ("utf-8", "cp1252"):
        if name == tried.lower().replace("_", "-"):
            continue
        try:
            raw.decode(name)
        except UnicodeDecodeError:
            continue
        return name
    return "latin-1"


def _decode_check(path: Path, encoding: str, errors: str) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode(encoding, errors=errors)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        guess = _likely_encoding(raw, encoding)
        raise DataError(
            f"{str(path)!r} is not valid {encoding}: byte {raw[exc.start]:#04x} at offset {exc.start} "
            f"(line {line}) cannot be decoded. Pass the file's real encoding, e.g. encoding='{guess}'"
            f"{' (Windows and Excel write it)' if guess == 'cp1252' else ''}, or errors='replace' to keep the "
            f"rows with U+FFFD in place of the bad bytes."
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
            table = pd.read_parquet(path)
            # a frame written with its index (e.g. project.examples().to_parquet(...)): the index is a column too
            named = [n for n in table.index.names if n is not None]
            return table.reset_index() if named else table
        text = _decode_check(path, encoding, errors)
        if suffix in (".csv", ".tsv"):
            if "\r" in text and "\n" not in text:  # old Mac line endings (CR only), as some Excel exports write
                text = text.replace("\r", "\n")
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
            # lines end at "\n" only: U+2028 and the like are text inside a JSON string (splitlines would cut there)
            for n, line in enumerate(text.split("\n"), start=1):
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
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # a long cell is a long cell, not an error
    try:
        header = next(reader, None)
        if header is None:
            return
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:
            raise DataError(f"{str(path)!r} has repeated column names {repeated} in its header; rename them before "
                            f"adding.")
        width = len(header)
        for row in reader:
            if row and len(row) != width:
                bad.append((reader.line_num, len(row)))
                if len(bad) >= 10:
                    break
    except csv.Error as exc:
        if "expected after" not in str(exc):
            raise DataError(f"{str(path)!r} line {reader.line_num} cannot be read as CSV: {exc}.") from None
        raise DataError(
            f"{str(path)!r} line {reader.line_num}: a field starts with a double quote but is not a quoted field "
            f"({exc}), so CSV quoting would drop its quotes. If the file has no quoting (common for TSV), read it "
            f"with pandas, pd.read_csv(path, sep={sep!r}, quoting=csv.QUOTE_NONE, dtype=str, "
            f"keep_default_na=False), and pass the DataFrame; otherwise quote the field and double its quotes."
        ) from None
    finally:
        csv.field_size_limit(limit)
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


_FLOAT_WRITTEN_INTEGER = r"^(-?\d+)\.0+$"  # "7.0": how a float column writes the integer 7 to text


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
        return pd.Series([str(int(v)) for v in vals], index=col.index)  # exact beyond int64 too
    # text and mixed columns: numbers by id_text, and "7.0" (a float id written to a CSV) read as "7"
    out = (pd.Series([id_text(v) for v in col], index=col.index, dtype=object) if col.dtype == object
           else col.astype(str))
    out = out.astype(str).str.replace(_FLOAT_WRITTEN_INTEGER, r"\1", regex=True)
    blank = (out.str.strip() == "").to_numpy()
    if blank.any():
        rows = np.flatnonzero(blank).tolist()
        raise DataError(f"The id column {id_column!r} is blank in row position(s) {_show(rows)}.")
    return out


def _refuse_unstable_cells(df: pd.DataFrame) -> None:
    """Refuse cells the stored file cannot give back as they are (their hash would never verify)."""
    for col in df.columns:
        if df[col].dtype != object:
            continue
        for value in df[col]:
            if isinstance(value, decimal.Decimal):
                raise DataError(
                    f"The column {col!r} holds Decimal values (e.g. {value!r}), which the stored Parquet file gives "
                    f"back with one fixed number of decimals, so they would not verify. Convert the column first: "
                    f"df[{col!r}].astype(float), or .astype(str) to keep every digit."
                )
            if isinstance(value, (set, frozenset)):
                raise DataError(
                    f"The column {col!r} holds sets (e.g. {sorted(map(str, value))[:3]!r}), which have no order "
                    f"and come back as lists. Convert them first: df[{col!r}].map(sorted)."
                )


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


def _text_v1(value: Any) -> str | None:
    """One cell's text in the first text scheme (``"text"``); kept unchanged for its projects."""
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


_F32_MAX = float(np.finfo(np.float32).max)
_INT_FLOAT_LIMIT = 1e16  # below it repr writes an integral float positionally ("3.0"), so as an integer
_F32_EXACT_LIMIT = 2.0**24  # integers up to it are float32 values whose shortest float32 digits are themselves
#: A float as Python's repr or NumPy's str spells it: "3.0", "0.5", "1e+20", "1.6777216e+07".
_FLOAT_SPELLING = re.compile(r"-?\d+(?:\.\d+(?:e[+-]\d+)?|e[+-]\d+)")
#: A date, or a date and time, in ISO 8601 (what str(), isoformat(), to_csv and to_json(date_format="iso") write).
_ISO_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?"
)


def _float_text(v: float) -> str | None:
    """A float's canonical text: integral as an integer, float32 values by their float32 digits."""
    if math.isnan(v):
        return None
    if v == 0.0:
        return "0"  # -0.0 too
    if math.isinf(v):
        return repr(v)
    if abs(v) < _INT_FLOAT_LIMIT and v.is_integer():
        return str(int(v))
    if abs(v) <= _F32_MAX:
        f32 = np.float32(v)
        if float(f32) == v:  # exactly a float32 (e.g. one upcast from a float32 column): its shortest digits
            v = float(str(f32))
            if abs(v) < _INT_FLOAT_LIMIT and v.is_integer():
                return str(int(v))
    return repr(v)


def _instant_text(year: int, month: int, day: int, hour: int, minute: int, second: int, fraction: str,
                  aware: bool) -> str:
    fraction = fraction.rstrip("0")
    return (f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
            + (f".{fraction}" if fraction else "") + ("Z" if aware else ""))


def _timestamp_text(value: dt.date | np.datetime64) -> str | None:
    """A timestamp's canonical text: ISO 8601 with a ``T``, no trailing zero digits, UTC as ``Z``.

    A date is its midnight; an aware timestamp is converted to UTC (the instant counts, not
    the zone it was written in); a naive one stays naive.
    """
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        value = pd.Timestamp(value)
    if isinstance(value, pd.Timestamp):
        if value is pd.NaT:
            return None
        aware = value.tzinfo is not None
        ts = value.tz_convert("UTC") if aware else value
        return _instant_text(ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second,
                             f"{ts.microsecond * 1000 + ts.nanosecond:09d}", aware)
    if isinstance(value, dt.datetime):
        aware = value.utcoffset() is not None
        if aware:
            try:
                value = value.astimezone(dt.UTC)
            except OverflowError:
                return value.isoformat()
        return _instant_text(value.year, value.month, value.day, value.hour, value.minute, value.second,
                             f"{value.microsecond:06d}", aware)
    return _instant_text(value.year, value.month, value.day, 0, 0, 0, "", False)


def _iso_string_text(match: re.Match[str], s: str) -> str:
    """The canonical text of a string that spells an ISO 8601 date or timestamp (itself if invalid)."""
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        when = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        if zone is not None and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            when -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    except (ValueError, OverflowError):  # not a real date ("2024-13-45"), or out of range after the offset
        return s
    return _instant_text(when.year, when.month, when.day, when.hour, when.minute, when.second, fraction or "",
                         zone is not None)


def _string_text(s: str) -> str | None:
    """A string's canonical text: a float's or a timestamp's spelling is read as that value."""
    if s == "":
        return None
    first = s[0]
    if not (first.isdigit() or first == "-"):  # the common case: ordinary text
        return s
    if _FLOAT_SPELLING.fullmatch(s):
        v = float(s)
        if repr(v) == s or (abs(v) <= _F32_MAX and str(np.float32(v)) == s):  # how Python or NumPy print it
            return _float_text(v)
        return s
    match = _ISO_TIMESTAMP.fullmatch(s)
    return _iso_string_text(match, s) if match else s


def _nested_text(value: Any) -> Any:
    """A JSON-ready form of a value inside a list or dict, by the ``"text2"`` rules."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value if value == "" else _string_text(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        text = _float_text(float(value))
        if text is None:
            return None
        number = float(text)
        return int(number) if abs(number) < _INT_FLOAT_LIMIT and number.is_integer() else number
    if isinstance(value, (dt.date, np.datetime64)):
        return _timestamp_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        return [_nested_text(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_nested_text(v) for v in value]
    if isinstance(value, dict):  # a key holding null counts as absent (a Parquet struct has every key)
        items = ((str(k), _nested_text(v)) for k, v in value.items())
        return {k: v for k, v in items if v is not None}
    return value


def _text_v2(value: Any) -> str | None:
    """One cell's text in the ``"text2"`` scheme (see :func:`canonical_text`)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return _string_text(value)
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _float_text(float(value))
    if isinstance(value, (dt.date, np.datetime64)):
        return _timestamp_text(value)
    if isinstance(value, bytes):
        return _string_text(value.decode("utf-8", errors="replace"))
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        return json.dumps(_nested_text(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                          default=str)
    return str(value)


def canonical_text(value: Any, scheme: str = DEFAULT_HASH_SCHEME) -> str | None:
    """One cell's canonical text, the form its row is hashed in, or None for a missing value.

    Two cells with the same canonical text are the same content: this is how a table re-added
    from CSV, TSV, JSON Lines, Parquet or a DataFrame is recognised as unchanged.

    Parameters
    ----------
    value : object
        One cell, as ``Series.tolist()`` gives it.
    scheme : {"text2", "text"}, default "text2"
        The hash scheme the project recorded when it was made. ``"text2"``, which new
        projects use:

        - strings are kept, except that the empty string is missing (CSV cannot tell them
          apart) and a string that is exactly how Python or NumPy print a float (``"3.0"``,
          ``"1e+20"``, ``"1.6777216e+07"``) or an ISO 8601 date or timestamp counts as that
          value;
        - integers and booleans as ``str()`` (``3``, ``True``);
        - floats: NaN is missing; integral ones below 1e16 as integers (``3.0`` -> ``3``, so an
          integer column read back as floats because of a gap is unchanged); a value that is
          exactly a float32 by its shortest float32 digits (``np.float32(0.1)`` -> ``0.1``, not
          ``0.10000000149011612``); others by ``repr`` (``0.5``, ``1e+20``);
        - dates and timestamps in ISO 8601 with a ``T``, without trailing zero digits, aware ones
          converted to UTC and marked ``Z`` (``2024-05-01T10:00:00``, ``2024-05-01T08:00:00.5Z``);
          a date is its midnight;
        - lists, dicts and arrays as compact JSON with sorted keys, their numbers and timestamps
          by the same rules, a dict key holding null as absent.

        ``"text"``, kept by projects made with it: strings as above but never read as numbers
        or timestamps, floats by ``repr`` (``3.0``), timestamps by ``str()``
        (``2024-05-01 10:00:00``).

    Returns
    -------
    str or None

    Notes
    -----
    Integers in epoch units are not timestamps: ``to_json`` without ``date_format="iso"`` writes
    timestamps as epoch milliseconds, which come back as integers and so differ from the stored
    timestamps (:class:`~workbench.exceptions.ConflictingContentError` says so). Digits a writer
    drops are a difference too: ``to_json`` keeps 10 decimal places of a float by default and
    milliseconds of a timestamp. A float32 integer above 2**24 (``123456790016``) differs from
    its CSV spelling (``1.2345679e+11``): integral floats are read as integers first.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> canonical_text(3.0), canonical_text("3.0"), canonical_text(3), canonical_text(np.float32(0.1))
    ('3', '3', '3', '0.1')
    >>> canonical_text(pd.Timestamp("2024-05-01 10:00")), canonical_text("2024-05-01T10:00:00.000")
    ('2024-05-01T10:00:00', '2024-05-01T10:00:00')
    >>> canonical_text(3.0, scheme="text"), canonical_text(float("nan")), canonical_text("")
    ('3.0', None, None)
    """
    if scheme == "text2":
        return _text_v2(value)
    if scheme == "text":
        return _text_v1(value)
    raise DataError(f"canonical_text takes scheme 'text2' or 'text'. Got {scheme!r} instead.")


def _text_column(values: list[Any]) -> list[str]:
    if all(isinstance(v, str) and v != "" for v in values):  # the common case: a full text column
        return [_encode_str(v) for v in values]
    out = []
    for v in values:
        t = _text_v1(v)
        out.append("null" if t is None else _encode_str(t))
    return out


def _text2_column(values: list[Any]) -> list[str]:
    out = []
    for v in values:
        t = _string_text(v) if type(v) is str else _text_v2(v)
        out.append("null" if t is None else _encode_str(t))
    return out


_COLUMN_ENCODERS = {"text2": _text2_column, "text": _text_column, "json": _encoded_column}


def cell_key(value: Any, scheme: str) -> str | None:
    """What one cell contributes to its row's hash under ``scheme`` (None for missing)."""
    if scheme == "json":
        canonical = _canonical(value)
        return None if canonical is None else json.dumps(
            canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return canonical_text(value, scheme)


def row_hashes(df: pd.DataFrame, scheme: str = DEFAULT_HASH_SCHEME) -> list[str]:
    """SHA-256 of each row's content, independent of column order.

    Parameters
    ----------
    df : DataFrame
        The rows' content (without their ids).
    scheme : {"text2", "text", "json"}, default "text2"
        The project's hash scheme. With ``"text2"`` (new projects) and ``"text"`` every cell is
        first turned into its canonical text (:func:`canonical_text`), so a table and its CSV,
        TSV, JSON Lines or Parquet round trip hash the same; ``"json"`` hashes typed JSON values
        (the oldest projects).

    Returns
    -------
    list of str
        One hex digest per row, in row order. The hashed text is the row as a compact JSON
        object with sorted keys (``json.dumps(row, sort_keys=True, ensure_ascii=False,
        separators=(",", ":"))``), missing values as ``null``; built column by column for speed.

    Examples
    --------
    >>> import pandas as pd
    >>> a = row_hashes(pd.DataFrame({"n": pd.array([3, None], dtype="Int64"), "t": ["x", "y"]}))
    >>> a == row_hashes(pd.DataFrame({"t": ["x", "y"], "n": [3.0, float("nan")]}))
    True
    """
    encode = _COLUMN_ENCODERS.get(scheme)
    if encode is None:
        raise DataError(f"Unknown row hash scheme {scheme!r}. Expected one of {list(HASH_SCHEMES)!r}.")
    cols = sorted(df.columns, key=str)
    if not cols:
        empty = hashlib.sha256(b"{}").hexdigest()
        return [empty] * len(df)
    keys = [_encode_str(str(c)) + ":" for c in cols]
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
    hash_scheme: str = DEFAULT_HASH_SCHEME,
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
    _refuse_unstable_cells(df)
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
            if id_column in [n for n in df.index.names if n is not None]:
                raise DataError(
                    f"The ids {id_column!r} are the DataFrame's index, not a column. Make it a column first: "
                    f"df.reset_index()."
                )
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
        named = [n for n in df.index.names if n is not None]
        if named:
            warnings.warn(
                f"The DataFrame's index {named[0]!r} is not used: without an id column the ids are derived from "
                f"content. To keep those ids, pass df.reset_index() with id_column={named[0]!r}.",
                UserWarning, stacklevel=4,
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
