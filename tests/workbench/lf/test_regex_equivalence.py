"""The vectorized regex path (RE2 via Arrow + Python fallback rows) equals Python's ``re`` per row."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from workbench.lf._regex import PatternSearch, TextColumnCache, _all_chars, _ascii_fold_class, translate

TRICKY = [
    *"aAbBkKsSiImMyY09_ $!?.-:/",
    "\n",
    "\t",
    "\v",
    "\x1c",
    "\r",
    "\f",
    "\xa0",  # NBSP: \s in Python, not in RE2
    "\u2003",  # EM SPACE
    "é",
    "É",
    "ß",
    "\u0130",
    "\u0131",
    "\u017f",
    "\u212a",  # fold to ASCII letters under IGNORECASE in Python
    "\u0663",  # ARABIC-INDIC DIGIT THREE: \d in Python
    "\u2460",  # CIRCLED DIGIT ONE: \w in Python (numeric)
    "\u4e00",  # CJK: \w in Python
    "\U0001f600",
    "\ufeff",
    "\u0301",
]

PATTERNS = [
    "my",
    "sub(?:scribe|4sub)",
    r"https?://",
    r"check\s+out",
    r"\bmy\b",
    r"\d+",
    r"\$\d+",
    r"\w+_\w",
    r"[A-Z]{2,}",
    r"[^a-z ]",
    r"[a-z]+$",
    r"^\s",
    r"\Aa",
    r"a\Z",
    r"!$",
    r"k.s",
    r"(?:ab|a)b*?",
    r"a{,2}b",
    r"\s{2,}",
    r"\S\s\S",
    r"\W",
    r"\D\d",
    r"[k-s]",
    r"[Z-a]",
    r"[^\d\s]",
    r"\Bk",
    "é",
    "[é-ÿ]",
    r"(?=a)a",
    r"(a)\1",
    r"(?i:K)",
    r"(?m)^a",
]


def random_texts(seed: int, n: int) -> list[str | None]:
    rng = np.random.default_rng(seed)
    out: list[str | None] = []
    for _ in range(n):
        if rng.random() < 0.03:
            out.append(None)
            continue
        k = int(rng.integers(0, 12))
        out.append("".join(rng.choice(TRICKY, size=k)))
    return out


def python_reference(pattern: str, flags: int, texts: list[str | None]) -> tuple[list[bool], list[int]]:
    rx = re.compile(pattern, flags)
    hits = [t is not None and rx.search(t) is not None for t in texts]
    counts = [0 if t is None else sum(1 for _ in rx.finditer(t)) for t in texts]
    return hits, counts


@pytest.mark.parametrize("flags", [0, re.IGNORECASE])
@pytest.mark.parametrize("n", [300, 3000])  # 3000 rows with repeats exercises the deduplicated path
def test_contains_and_count_equal_python(flags: int, n: int) -> None:
    texts = random_texts(seed=7 + n, n=n)
    if n > 1000:
        texts = texts[:400] * (n // 400) + texts[: n % 400]
    df = pd.DataFrame({"text": pd.array(texts, dtype="str")})
    cache = TextColumnCache(df)
    for pattern in PATTERNS:
        search = PatternSearch(pattern, flags)
        hits, missing = search.contains(cache, "text")
        ref_hits, ref_counts = python_reference(pattern, flags, texts)
        assert missing.tolist() == [t is None for t in texts]
        assert hits.tolist() == ref_hits, (pattern, flags)
        if re.compile(pattern, flags).search("") is None:  # counts are only used for non-empty matches
            counts, _ = search.count(cache, "text")
            assert counts.tolist() == ref_counts, (pattern, flags)


def test_object_column_with_non_strings() -> None:
    df = pd.DataFrame({"text": ["my", 12, None, float("nan"), "MY"]}, dtype=object)
    hits, missing = PatternSearch("my|12", re.IGNORECASE).contains(TextColumnCache(df), "text")
    assert hits.tolist() == [True, True, False, False, True]
    assert missing.tolist() == [False, False, True, True, False]


def test_translation_uses_re2_for_common_patterns_and_falls_back_otherwise() -> None:
    assert translate("sub(?:scribe|4sub)", re.IGNORECASE)[0] == "sub(?:scribe|4sub)"
    assert translate("A[B-C]", re.IGNORECASE)[0] == "a[B-Cb-c]"
    for unsupported in [r"(?=a)a", r"(a)\1", r"(?i:K)", r"(?m)^a", r"a{2000}"]:
        assert translate(unsupported)[0] is None
    assert translate("é", re.IGNORECASE)[0] is None  # non-ASCII literal + IGNORECASE: Python only
    assert translate("é")[0] is not None


def test_ascii_fold_class_is_exactly_what_python_folds_to_ascii() -> None:
    chars = _all_chars()
    expected = sorted(ord(c) for c in chars if ord(c) > 0x7F and re.fullmatch("[a-z]", c, re.IGNORECASE))
    got = [int(h, 16) for h in re.findall(r"\\x\{([0-9a-f]+)\}", _ascii_fold_class())]
    # the class is written as ranges: expand them
    ranges = re.findall(r"\\x\{([0-9a-f]+)\}(?:-\\x\{([0-9a-f]+)\})?", _ascii_fold_class())
    expanded = sorted(cp for lo, hi in ranges for cp in range(int(lo, 16), int(hi or lo, 16) + 1))
    assert got and expanded == expected
