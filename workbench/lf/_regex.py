"""Vectorized regular-expression search with exactly Python's ``re`` semantics.

The fast path runs RE2 through ``pyarrow.compute`` over a whole column at once. RE2 and
Python's ``re`` do not agree everywhere, so the pattern is not handed to RE2 as written:
it is parsed with Python's own parser and re-emitted in RE2 syntax, and only constructs whose
meaning is the same in both engines are allowed (literals, classes, alternation, groups,
greedy and lazy repetition, ``^``, ``$``, ``\\A``, ``\\Z``, ``\\b``, ``\\B``, ``\\d``, ``\\w``,
``\\s`` and the IGNORECASE flag). The remaining differences are about characters:

* ``\\w``, ``\\d``, ``\\b`` and case-insensitive matching are Unicode-aware in Python and
  ASCII-only in RE2, so rows holding a non-ASCII letter or number are recomputed with Python;
* ``\\s`` also matches ``\\v``, ``\\x1c``-``\\x1f``, NBSP ... in Python, so rows holding one
  of those are recomputed with Python;
* ``$`` also matches before a final newline in Python, so rows ending in ``\\n`` are
  recomputed with Python.

Anything else (look-arounds, back-references, scoped flags, MULTILINE ...) runs with Python's
``re`` on every row: slower, never different.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

try:  # Python >= 3.11
    import re._constants as _c
    import re._parser as _p
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

__all__ = ["PatternSearch", "TextColumnCache", "to_python_text", "is_missing"]

_RE2_MAX_REPEAT = 1000
_ALLOWED_FLAGS = re.IGNORECASE | re.UNICODE | re.VERBOSE


class _Unsupported(Exception):
    pass


def _esc(cp: int) -> str:
    ch = chr(cp)
    if ch.isascii() and ch.isalnum():
        return ch
    return f"\\x{{{cp:x}}}"


@dataclass
class _Features:
    words: bool = False  # \w \W \d \D \b \B
    spaces: bool = False  # \s \S
    end: bool = False  # $
    non_ascii_literal: bool = False
    assertions: bool = False  # any ^ $ \A \Z \b \B: Arrow's count restarts RE2 after each match


_CATEGORIES: dict[str, tuple[str, str]] = {
    "CATEGORY_DIGIT": ("\\d", "words"),
    "CATEGORY_NOT_DIGIT": ("\\D", "words"),
    "CATEGORY_WORD": ("\\w", "words"),
    "CATEGORY_NOT_WORD": ("\\W", "words"),
    "CATEGORY_SPACE": ("\\s", "spaces"),
    "CATEGORY_NOT_SPACE": ("\\S", "spaces"),
}
_ATS: dict[str, tuple[str, str | None]] = {
    "AT_BEGINNING": ("^", None),
    "AT_BEGINNING_STRING": ("\\A", None),
    "AT_END": ("$", "end"),
    "AT_END_STRING": ("\\z", None),
    "AT_BOUNDARY": ("\\b", "words"),
    "AT_NON_BOUNDARY": ("\\B", "words"),
}


def _emit(items: Any, feats: _Features, fold: bool = False) -> str:
    """Re-emit a parsed pattern in RE2 syntax; ``fold``: for ASCII-lowercased text (IGNORECASE)."""
    out: list[str] = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            feats.non_ascii_literal |= av > 0x7F
            out.append(_esc(_lower(av) if fold else av))
        elif name == "NOT_LITERAL":
            feats.non_ascii_literal |= av > 0x7F
            out.append("[^" + _esc(_lower(av) if fold else av) + "]")
        elif name == "ANY":
            out.append(".")
        elif name == "IN":
            parts: list[str] = []
            for iop, iav in av:
                iname = str(iop)
                if iname == "NEGATE":
                    parts.insert(0, "^")
                elif iname == "LITERAL":
                    feats.non_ascii_literal |= iav > 0x7F
                    parts.append(_esc(_lower(iav) if fold else iav))
                elif iname == "RANGE":
                    feats.non_ascii_literal |= iav[1] > 0x7F
                    parts.append(_esc(iav[0]) + "-" + _esc(iav[1]))
                    lo_up, hi_up = max(iav[0], 65), min(iav[1], 90)
                    if fold and lo_up <= hi_up:  # text is lowercased: add the lowercase of A-Z parts
                        parts.append(_esc(lo_up + 32) + "-" + _esc(hi_up + 32))
                elif iname == "CATEGORY" and str(iav) in _CATEGORIES:
                    text, feat = _CATEGORIES[str(iav)]
                    setattr(feats, feat, True)
                    parts.append(text)
                else:
                    raise _Unsupported(iname)
            out.append("[" + "".join(parts) + "]")
        elif name == "BRANCH":
            out.append("(?:" + "|".join(_emit(alt, feats, fold) for alt in av[1]) + ")")
        elif name == "SUBPATTERN":
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise _Unsupported("scoped flags")
            out.append("(?:" + _emit(sub, feats, fold) + ")")
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            lo, hi, sub = av
            if lo > _RE2_MAX_REPEAT or (hi != _c.MAXREPEAT and hi > _RE2_MAX_REPEAT):
                raise _Unsupported("repeat count")
            rng = f"{{{lo},}}" if hi == _c.MAXREPEAT else f"{{{lo},{hi}}}"
            out.append("(?:" + _emit(sub, feats, fold) + ")" + rng + ("?" if name == "MIN_REPEAT" else ""))
        elif name == "AT" and str(av) in _ATS:
            at_text, at_feat = _ATS[str(av)]
            feats.assertions = True
            if at_feat:
                setattr(feats, at_feat, True)
            out.append(at_text)
        else:
            raise _Unsupported(name)
    return "".join(out)


def _lower(cp: int) -> int:
    return cp + 32 if 65 <= cp <= 90 else cp


@functools.cache
def _all_chars() -> str:
    """Every code point except surrogates, as one string (to classify them with Python's ``re``)."""
    cps = np.concatenate([np.arange(0xD800), np.arange(0xE000, 0x110000)]).astype("<u4")
    return cps.tobytes().decode("utf-32-le")


def _class_of(cps: list[int]) -> str:
    """An RE2 character class for sorted code points, compressed into ranges."""
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(_esc(cps[i]) if i == j else _esc(cps[i]) + "-" + _esc(cps[j]))
        i = j + 1
    return "[" + "".join(parts) + "]"


@functools.cache
def _python_only_spaces_class() -> str:
    """Characters Python's ``\\s`` matches and RE2's (``[\\t\\n\\f\\r ]``) does not."""
    cps = sorted(ord(c) for c in re.findall(r"\s", _all_chars()) if c not in "\t\n\f\r ")
    return _class_of(cps)


@functools.cache
def _python_only_word_class() -> str:
    """Non-ASCII characters Python's ``\\w`` matches (RE2's ``\\w``, ``\\d``, ``\\b`` are ASCII-only)."""
    cps = sorted(ord(c) for c in re.findall(r"\w", _all_chars()) if ord(c) > 0x7F)
    return _class_of(cps)


@functools.cache
def _word_prefilter_class() -> str:
    """A small negated class matching rows that may hold a Python-``\\w`` non-ASCII character.

    It excludes ASCII and common non-word characters (NBSP, general punctuation, BOM, variation
    selectors, emoji ...), so it is cheap for RE2 and rules out most rows before the large
    :func:`_python_only_word_class` runs on the few that remain.
    """
    blocks = [(0x80, 0xFF), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2190, 0x2BFF), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF)]
    blocks += [(0x1F000, 0x1FAFF)]
    chars = "".join(chr(cp) for lo, hi in blocks for cp in range(lo, hi + 1))
    word = set(re.findall(r"\w", chars))
    safe = sorted(ord(c) for c in chars if c not in word)
    ranges = _class_of(list(range(0x80)) + safe)
    return "[^" + ranges[1:]


@functools.cache
def _ascii_fold_class() -> str:
    """Non-ASCII characters Python's IGNORECASE matches to an ASCII letter (U+0130, U+0131, U+017F,
    U+212A on CPython 3.11); the fast path lowercases ASCII only, so rows holding one are redone."""
    cps = sorted(ord(c) for c in re.findall(r"[a-z]", _all_chars(), re.IGNORECASE) if ord(c) > 0x7F)
    return _class_of(cps)


def translate(pattern: str, flags: int = 0) -> tuple[str | None, str | None, bool, bool]:
    """Translate a Python pattern to ``(re2_pattern, unsafe_rows_pattern, folded, countable)``.

    ``re2_pattern`` is None when the pattern cannot be run by RE2 with identical results;
    ``unsafe_rows_pattern`` (RE2 syntax, or None) matches the rows that must be recomputed
    with Python's ``re``. When ``folded`` (IGNORECASE patterns), ``re2_pattern`` is
    case-sensitive and must run on the ASCII-lowercased text (cheaper than RE2's ``(?i)``).
    ``countable`` is False when the pattern has assertions: Arrow counts matches by restarting
    RE2 on the rest of the text, which loses the context ``^``/``\\b`` look at, so counts of
    such patterns are taken with Python on the rows that match at all.
    """
    try:
        parsed = _p.parse(pattern, flags)
    except re.error:
        return None, None, False, False
    all_flags = parsed.state.flags
    if all_flags & ~_ALLOWED_FLAGS:
        return None, None, False, False
    feats = _Features()
    ignorecase = bool(all_flags & re.IGNORECASE)
    try:
        body = _emit(parsed, feats, fold=ignorecase)
    except (_Unsupported, RecursionError):
        return None, None, False, False
    if ignorecase and feats.non_ascii_literal:
        return None, None, False, False
    unsafe: list[str] = []
    if feats.words:
        unsafe.append(_python_only_word_class())  # also covers every case-folding difference
    elif ignorecase:
        unsafe.append(_ascii_fold_class())
    if feats.spaces:
        unsafe.append(_python_only_spaces_class())
    if feats.end:
        unsafe.append(r"\n\z")
    return body, ("|".join(unsafe) if unsafe else None), ignorecase, not feats.assertions


def is_missing(value: Any) -> bool:
    """True for None, NaN, pd.NA and NaT (the values that make a text LF abstain)."""
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def to_python_text(value: Any) -> str | None:
    """The text an LF sees: None for a missing value, ``str(value)`` for a non-string."""
    if is_missing(value):
        return None
    return value if isinstance(value, str) else str(value)


def _column_to_arrow(values: pd.Series) -> pa.Array:
    if isinstance(values.dtype, pd.StringDtype) or values.dtype == object:
        try:
            arr = pa.array(values, from_pandas=True)
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                return arr
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, UnicodeEncodeError):
            pass
    texts = [to_python_text(v) for v in values.tolist()]
    try:
        return pa.array(texts, type=pa.large_string())
    except (pa.ArrowInvalid, UnicodeEncodeError):  # lone surrogates cannot be UTF-8
        raise _Unsupported("text not representable as UTF-8") from None


#: Search the distinct texts only (then broadcast) when at most this fraction of rows is distinct.
_DEDUP_MAX_UNIQUE_FRACTION = 0.7


@dataclass
class TextColumnCache:
    """Per-apply cache of a frame's text columns as Arrow arrays and of row masks.

    When a column holds many repeated texts, searches run on its distinct values only and the
    results are broadcast back to the rows (identical by construction; much faster on
    duplicated text such as spam templates or resampled corpora).
    """

    frame: pd.DataFrame
    _space: dict[str, tuple[pa.Array, np.ndarray | None, np.ndarray] | None] = field(default_factory=dict)
    _masks: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    _python: dict[str, list[Any]] = field(default_factory=dict)
    _lowered: dict[str, pa.Array] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def _search_space(self, column: str) -> tuple[pa.Array, np.ndarray | None, np.ndarray] | None:
        with self._lock:
            if column in self._space:
                return self._space[column]
            try:
                arr = _column_to_arrow(self.frame[column])
            except _Unsupported:
                self._space[column] = None
                return None
            missing = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            inverse: np.ndarray | None = None
            if len(arr) >= 1000 and self._worth_deduplicating(arr):
                enc = pc.dictionary_encode(arr)
                if len(enc.dictionary) <= _DEDUP_MAX_UNIQUE_FRACTION * len(arr):
                    inverse = np.asarray(enc.indices.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
                    arr = enc.dictionary
            self._space[column] = (arr, inverse, missing)
            return self._space[column]

    @staticmethod
    def _worth_deduplicating(arr: pa.Array) -> bool:
        """Cheap check on an evenly spaced sample: skip hashing every row when texts look distinct."""
        step = max(1, len(arr) // 2000)
        sample = arr.slice(0, step * 2000)[::step] if step > 1 else arr
        distinct = len(pc.unique(sample))
        return distinct <= 0.95 * len(sample)

    def arrow(self, column: str) -> pa.Array | None:
        """The texts to search: the column (nulls for missing) or its distinct values."""
        space = self._search_space(column)
        return None if space is None else space[0]

    def expand(self, column: str, values: np.ndarray) -> np.ndarray:
        """Results over :meth:`arrow` broadcast to one per row."""
        space = self._search_space(column)
        assert space is not None
        return values if space[1] is None else values[space[1]]

    def missing(self, column: str) -> np.ndarray:
        space = self._search_space(column)
        if space is None:
            return np.array([v is None for v in self.python(column)], dtype=bool)
        return space[2]

    def ascii_lower(self, column: str) -> pa.Array:
        with self._lock:
            if column not in self._lowered:
                self._lowered[column] = pc.ascii_lower(self.arrow(column))
            return self._lowered[column]

    def python(self, column: str) -> list[Any]:
        with self._lock:
            if column not in self._python:
                self._python[column] = [to_python_text(v) for v in self.frame[column].tolist()]
            return self._python[column]

    def rows_matching(self, column: str, re2_pattern: str) -> np.ndarray | None:
        """Which texts of :meth:`arrow` match ``re2_pattern`` (the ones to recompute with Python)."""
        key = (column, re2_pattern)
        with self._lock:
            if key in self._masks:
                return self._masks[key]
            arr = self.arrow(column)
            if arr is None:
                return None
            mask = np.zeros(len(arr), dtype=bool)
            if re2_pattern == _python_only_word_class():  # a big class: prefilter the rows cheaply
                pre = pc.match_substring_regex(arr, _word_prefilter_class()).fill_null(False)
                candidates = np.flatnonzero(np.asarray(pre.to_numpy(zero_copy_only=False), dtype=bool))
                sub = arr.take(pa.array(candidates)) if len(candidates) < len(arr) else arr
            elif re2_pattern == _ascii_fold_class():  # only rows with a non-ASCII character can match
                candidates = np.flatnonzero(~np.asarray(pc.string_is_ascii(arr).fill_null(True), dtype=bool))
                sub = arr.take(pa.array(candidates)) if len(candidates) < len(arr) else arr
            else:
                candidates = np.arange(len(arr))
                sub = arr
            try:
                m = pc.match_substring_regex(sub, re2_pattern)
            except pa.ArrowInvalid:
                return None
            mask[candidates] = np.asarray(m.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
            self._masks[key] = mask
            return mask


@dataclass
class PatternSearch:
    """A compiled pattern with an exact vectorized ``contains`` and ``count`` over a column."""

    pattern: str
    flags: int = 0

    def __post_init__(self) -> None:
        self.compiled = re.compile(self.pattern, self.flags)
        self.re2, self.unsafe, self.folded, self.countable = translate(self.pattern, self.flags)

    # -- per value (the reference semantics) -------------------------------------------
    def search_one(self, value: Any) -> bool | None:
        text = to_python_text(value)
        if text is None:
            return None
        return self.compiled.search(text) is not None

    def count_one(self, value: Any) -> int | None:
        text = to_python_text(value)
        if text is None:
            return None
        return sum(1 for _ in self.compiled.finditer(text))

    # -- vectorized -------------------------------------------------------------------
    def _fast(self, cache: TextColumnCache, column: str, count: bool) -> tuple[np.ndarray, np.ndarray] | None:
        if self.re2 is None:
            return None
        arr = cache.arrow(column)
        if arr is None:
            return None
        target = cache.ascii_lower(column) if self.folded else arr
        try:
            if count and self.countable:
                res = pc.count_substring_regex(target, self.re2)
            else:
                res = pc.match_substring_regex(target, self.re2)
        except pa.ArrowInvalid:
            return None
        values = np.asarray(res.fill_null(False if pa.types.is_boolean(res.type) else 0).to_numpy(zero_copy_only=False))
        values = values.astype(np.int64) if count else values.astype(bool)
        redo = np.zeros(len(values), dtype=bool)
        if count and not self.countable:
            redo |= values != 0  # the rows with at least one match: count them with Python
        if self.unsafe is not None:
            for part in self.unsafe.split("|"):  # each part is one class (or \n\z), cached per column
                unsafe = cache.rows_matching(column, part)
                if unsafe is None:
                    return None
                redo |= unsafe
        if redo.any():
            idx = np.flatnonzero(redo)
            if len(idx):
                texts = arr.take(pa.array(idx)).to_pylist()
                if count:
                    values[idx] = [sum(1 for _ in self.compiled.finditer(t)) for t in texts]
                else:
                    values[idx] = [self.compiled.search(t) is not None for t in texts]
        missing = cache.missing(column)
        values = cache.expand(column, values)
        if missing.any():
            values = np.where(missing, 0, values).astype(values.dtype)
        return values, missing

    def contains(self, cache: TextColumnCache, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Boolean match per row and boolean missing-value mask."""
        fast = self._fast(cache, column, count=False)
        if fast is not None:
            return fast
        texts = cache.python(column)
        search = self.compiled.search
        missing = np.array([t is None for t in texts], dtype=bool)
        hits = np.array([t is not None and search(t) is not None for t in texts], dtype=bool)
        return hits, missing

    def count(self, cache: TextColumnCache, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Number of non-overlapping matches per row and boolean missing-value mask."""
        fast = self._fast(cache, column, count=True)
        if fast is not None:
            return fast
        texts = cache.python(column)
        finditer = self.compiled.finditer
        missing = np.array([t is None for t in texts], dtype=bool)
        counts = np.array([0 if t is None else sum(1 for _ in finditer(t)) for t in texts], dtype=np.int64)
        return counts, missing
