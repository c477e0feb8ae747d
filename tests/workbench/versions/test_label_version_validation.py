"""The catalogue of invalid soft labels and manifests: each raises a clear error and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import DataError
from workbench.versions import LabelVersionStore

Q = {"spam": ["ham", "spam"]}


def _set(col: str, row: int, value: Any) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def f(df: pd.DataFrame) -> pd.DataFrame:
        df = df.astype({col: object}) if not isinstance(value, float) else df
        df.loc[row, col] = value
        return df

    return f


def _probs(row: int, ham: float, spam: float) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def f(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[row, ["p_ham", "p_spam"]] = [ham, spam]
        return df

    return f


FRAME_CASES: list[tuple[str, Callable[[pd.DataFrame], Any], str]] = [
    ("not-a-frame", lambda df: df.to_dict(), r"must be a pandas DataFrame. Got dict"),
    ("no-id", lambda df: df.drop(columns="id"), r"need example ids in an 'id' column or an index named 'id'"),
    ("id-twice", lambda df: df.set_index("id", drop=False), r"both an index named 'id' and an 'id' column"),
    ("duplicate-ids", _set("id", 3, "c-001"), r"ids must be unique; 1 occur more than once: 'c-001'"),
    ("int-id", _set("id", 2, 7), r"ids must be non-empty strings; 1 are not, e.g. row 2: 7 \(int\)"),
    ("empty-id", _set("id", 2, ""), r"ids must be non-empty strings"),
    ("missing-prob-column", lambda df: df.drop(columns="p_spam"), r"lack probability column\(s\) \['p_spam'\]"),
    ("missing-label", lambda df: df.drop(columns="label"), r"lack the 'label' column"),
    ("missing-confidence", lambda df: df.drop(columns="confidence"), r"lack the column\(s\) \['confidence'\]"),
    ("missing-weight-sources", lambda df: df.drop(columns=["weight", "sources"]),
     r"lack the column\(s\) \['weight', 'sources'\]"),
    ("prob-above-one", _probs(4, -0.5, 1.5), r"Column 'p_ham' must hold probabilities in \[0, 1\]; 1 row\(s\), "
     r"e.g. id 'c-004' are outside \(first: -0.5\)"),
    ("prob-inf", _probs(4, np.inf, 0.0), r"Column 'p_ham' must hold probabilities in \[0, 1\]"),
    ("not-summing", _probs(5, 0.5, 0.6), r"must sum to 1 per row \(tolerance 1e-06\); 1 row\(s\), e.g. id 'c-005' do "
     r"not \(first sums to 1.1"),
    ("partial-nan", _probs(6, np.nan, 1.0), r"missing in some but not all of \['p_ham', 'p_spam'\] for 1 row\(s\), "
     r"e.g. id 'c-006'"),
    ("prob-text", lambda df: df.assign(p_ham=df["p_ham"].astype(str)), r"Column 'p_ham' must hold numbers"),
    ("label-not-a-choice", _set("label", 1, "eggs"), r"Column 'label' must hold a choice of question 'spam' "
     r"\(\['ham', 'spam'\]\) or a missing value; 1 row\(s\), e.g. id 'c-001' hold 'eggs'"),
    ("label-not-a-string", _set("label", 1, 3), r"Column 'label' must hold strings or missing values"),
    ("confidence-range", _set("confidence", 0, 1.5), r"Column 'confidence' must hold numbers in \[0, 1\]"),
    ("weight-negative", _set("weight", 0, -1.0), r"Column 'weight' must hold finite numbers >= 0"),
    ("weight-inf", _set("weight", 0, np.inf), r"Column 'weight' must hold finite numbers >= 0"),
    ("sources-not-text", _set("sources", 0, 5), r"Column 'sources' must hold strings or missing values"),
    ("stray-prob-column", lambda df: df.assign(p_maybe=0.0), r"\['p_maybe'\] look like probabilities but match no "
     r"choice"),
    ("extra-column-of-lists", lambda df: df.assign(tags=[[1]] * len(df)), r"Extra column 'tags' .*strings, numbers "
     r"or booleans only"),
]


@pytest.mark.parametrize(("case", "mutate", "message"), FRAME_CASES, ids=[c[0] for c in FRAME_CASES])
def test_invalid_frames(
    versions: LabelVersionStore, soft: pd.DataFrame, case: str, mutate: Callable[[pd.DataFrame], Any], message: str
) -> None:
    bad = mutate(soft.copy())
    with pytest.raises(DataError, match=message):
        versions.save(bad, manifest={"questions": Q}, author="ann")
    assert versions.names() == []
    assert not versions.root.exists() or list(versions.root.iterdir()) == []


class _Opaque:
    pass


CALL_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("reserved-key", {"manifest": {"questions": Q, "name": "v99"}}, r"manifest may not set \['name'\]"),
    ("reserved-keys", {"manifest": {"file": 1, "data_hash": 2}}, r"may not set \['data_hash', 'file'\]"),
    ("object-in-manifest", {"manifest": {"model": _Opaque()}}, r"must be JSON data .* holds a _Opaque.*never pickle"),
    ("tuple-key", {"manifest": {"weights": {(1, 2): 3}}}, r"has a key \(1, 2\) of type tuple"),
    ("manifest-not-mapping", {"manifest": [1, 2]}, r"'manifest' parameter of save must be a dict"),
    ("questions-not-mapping", {"manifest": {"questions": ["ham", "spam"]}}, r"'questions' entry of the manifest must "
     r"be a non-empty mapping"),
    ("questions-bad-choices", {"manifest": {"questions": {"spam": "ham"}}}, r"choices of question 'spam' must be a "
     r"non-empty list"),
    ("questions-duplicate-choices", {"manifest": {"questions": {"spam": ["ham", "ham"]}}}, r"must be distinct"),
    ("wrong-choices", {"manifest": {"questions": {"spam": ["no", "yes"]}}}, r"lack probability column\(s\) "
     r"\['p_no', 'p_yes'\] for question 'spam'"),
    ("multi-needs-nested", {"manifest": {"questions": {"a": ["ham", "spam"], "b": ["x"]}}},
     r"lack probability column\(s\) \['p_a__ham', 'p_a__spam'\]"),
    ("empty-author", {"author": " "}, r"'author' parameter of save must be a non-empty string"),
    ("message-not-str", {"message": 3}, r"'message' parameter of save must be a string"),
]


@pytest.mark.parametrize(("case", "kwargs", "message"), CALL_CASES, ids=[c[0] for c in CALL_CASES])
def test_invalid_calls(
    versions: LabelVersionStore, soft: pd.DataFrame, case: str, kwargs: dict[str, Any], message: str
) -> None:
    call = {"author": "ann", "message": "", **kwargs}
    with pytest.raises(DataError, match=message):
        versions.save(soft, **call)
    assert versions.names() == []


def test_accepted_edge_cases(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    df = soft.copy()
    df.loc[0, ["p_ham", "p_spam"]] = [0.3 + 5e-7, 0.7]  # within the 1e-6 tolerance
    df.loc[1, ["p_ham", "p_spam"]] = [1.0, 0.0]
    df["sources"] = df["sources"].astype(object)
    df.loc[2, "sources"] = None  # missing sources = no signal
    df["extra_flag"] = True
    df["extra_text"] = "note"
    df["extra_none"] = None
    v = versions.save(df.set_index("id"), manifest={"questions": Q}, author="ann")
    loaded, manifest = versions.load(v.name)
    assert loaded.loc["c-001", "p_spam"] == 0.0
    assert pd.isna(loaded.loc["c-002", "sources"])
    assert loaded["extra_flag"].all()
    assert dict(manifest["columns"])["extra_none"] == "string"


def test_numpy_and_pandas_values_in_manifests_become_json(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    import datetime as dt
    from pathlib import Path

    summary = pd.DataFrame({"lf": ["a", "b"], "coverage": [0.5, np.nan]})
    manifest = {
        "questions": Q,
        "array": np.arange(3, dtype=np.int8),
        "scalar": np.float32(0.5),
        "nan": float("nan"),
        "set": {"b", "a"},
        "path": Path("/x/y"),
        "when": dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        "lf_summary": summary,
        "series": pd.Series({"a": 1, "b": 2}),
    }
    v = versions.save(soft, manifest=manifest, author="ann")
    _, m = versions.load(v.name)
    assert m["array"] == [0, 1, 2] and m["scalar"] == 0.5 and m["nan"] is None
    assert m["set"] == ["a", "b"] and m["path"] == "/x/y" and m["when"].startswith("2026-01-02T00:00:00")
    assert m["lf_summary"]["columns"] == ["lf", "coverage"] and m["lf_summary"]["data"][1] == ["b", None]
    assert m["series"] == {"a": 1, "b": 2}
