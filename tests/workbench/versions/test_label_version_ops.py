"""Diffs between versions, training arrays for scikit-learn, and multi-question versions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import DataError
from workbench.versions import LabelVersionStore

Q = {"spam": ["ham", "spam"]}


def _frame(rows: list[tuple[str, float | None, str | None, str]], weight: float = 1.0) -> pd.DataFrame:
    """rows of (id, p_spam or None, label or None, sources)."""
    return pd.DataFrame(
        {
            "id": [r[0] for r in rows],
            "p_ham": [np.nan if r[1] is None else 1.0 - r[1] for r in rows],
            "p_spam": [np.nan if r[1] is None else r[1] for r in rows],
            "label": [r[2] for r in rows],
            "confidence": [np.nan if r[1] is None else max(r[1], 1.0 - r[1]) for r in rows],
            "weight": weight,
            "sources": [r[3] for r in rows],
        }
    )


def test_diff_is_correct(versions: LabelVersionStore) -> None:
    a = _frame([("x", 0.9, "spam", "lf"), ("y", 0.6, "spam", "lf"), ("z", 0.2, "ham", "lf"), ("u", None, None, "")])
    b = _frame([("y", 0.4, "ham", "lf+human"), ("z", 0.2, "ham", "lf"), ("w", 0.7, "spam", "lf"),
                ("u", 0.5, None, "lf")])
    versions.save(a, manifest={"questions": Q}, author="ann")
    versions.save(b, manifest={"questions": Q}, author="ann")
    d = versions.diff("v1", "v2")
    assert d.index.tolist() == ["u", "w", "x", "y", "z"]
    assert d["in_a"].tolist() == [True, False, True, True, True]
    assert d["in_b"].tolist() == [True, True, False, True, True]
    assert d.loc["y", "label_a"] == "spam" and d.loc["y", "label_b"] == "ham"
    assert d.loc["x", "label_b"] is None and d.loc["w", "label_a"] is None
    assert d["label_changed"].tolist() == [False, False, False, True, False]
    assert d["changed"].tolist() == [True, True, True, True, False]  # u: the question now applies
    assert d.loc["y", "max_abs_change"] == pytest.approx(0.2)
    assert d.loc["y", "tvd"] == pytest.approx(0.2)  # 0.5 * (0.2 + 0.2)
    assert d.loc["z", "tvd"] == 0.0
    assert np.isnan(d.loc["x", "tvd"]) and np.isnan(d.loc["u", "tvd"])
    s = d.attrs["summary"]
    assert (s["n_a"], s["n_b"], s["n_common"], s["n_added"], s["n_removed"]) == (4, 4, 3, 1, 1)
    assert s["n_label_changed"] == 1 and s["n_changed"] == 4
    assert s["mean_tvd"] == pytest.approx(0.1)  # mean over y and z (u has no probabilities in a)
    assert d.attrs["n_added"] == 1 and s["a"] == "v1" and s["b"] == "v2"
    same = versions.diff("v1", "v1")
    assert not same["changed"].any() and same.attrs["mean_tvd"] == 0.0


def test_diff_with_a_new_choice(versions: LabelVersionStore) -> None:
    a = _frame([("x", 0.9, "spam", "lf")])
    b = pd.DataFrame({"id": ["x"], "p_ham": [0.1], "p_spam": [0.6], "p_maybe": [0.3], "label": ["spam"],
                      "confidence": [0.6], "weight": [1.0], "sources": ["lf"]})
    versions.save(a, manifest={"questions": Q}, author="ann")
    versions.save(b, manifest={"questions": {"spam": ["ham", "spam", "maybe"]}}, author="ann")
    d = versions.diff("v1", "v2")
    assert d.loc["x", "max_abs_change"] == pytest.approx(0.3)
    assert d.loc["x", "tvd"] == pytest.approx(0.3)  # 0.5 * (0 + 0.3 + 0.3)


def test_training_data_filters_and_aligns(versions: LabelVersionStore) -> None:
    df = _frame(
        [
            ("a", 0.9, "spam", "lf"),
            ("b", 0.2, "ham", "lf+human"),
            ("c", 0.55, "spam", "lf"),
            ("d", 0.5, None, "lf"),  # no hard label (a tie)
            ("e", None, None, ""),  # nothing labeled it
            ("f", 0.1, "ham", ""),  # a label but no recorded source
        ]
    )
    df["weight"] = [1.0, 2.0, 0.5, 1.0, 0.0, 1.0]
    versions.save(df, manifest={"questions": Q}, author="ann")

    X, y, w = versions.training_data("v1")
    assert X.tolist() == ["a", "b", "c"]
    assert y.tolist() == ["spam", "ham", "spam"] and y.dtype == object
    assert w.tolist() == [1.0, 2.0, 0.5]

    _, y_idx, _ = versions.training_data("v1", y_format="index")
    assert y_idx.tolist() == [1, 0, 1] and y_idx.dtype == np.int64

    X, _, _ = versions.training_data("v1", drop_no_signal=False)
    assert X.tolist() == ["a", "b", "c", "f"]

    X, _, _ = versions.training_data("v1", min_confidence=0.7)
    assert X.tolist() == ["a", "b"]

    X, P, w = versions.training_data("v1", soft=True)
    assert X.tolist() == ["a", "b", "c", "d"]  # d has probabilities though no hard label
    assert P.shape == (4, 2) and np.allclose(P.sum(axis=1), 1.0) and P[0].tolist() == pytest.approx([0.1, 0.9])

    features = pd.DataFrame({"n_chars": [30, 10, 20, 40]}, index=pd.Index(["c", "a", "zz", "b"], name="id"))
    with pytest.warns(UserWarning, match=r"1 labeled example\(s\) have no row in the features .* \['c'\]"):
        without_c = versions.training_data("v1", features.drop(index="c"))
    assert without_c[0].index.tolist() == ["a", "b"]
    X, y, w = versions.training_data("v1", features)
    assert X.index.tolist() == ["c", "a", "b"]  # the features' order
    assert X["n_chars"].tolist() == [30, 10, 40]
    assert y.tolist() == ["spam", "spam", "ham"] and w.tolist() == [0.5, 1.0, 2.0]
    X, y, w = versions.training_data("v1", features.reset_index())  # an 'id' column works too
    assert X.index.tolist() == ["c", "a", "b"]


def test_training_data_fits_a_classifier(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    from sklearn.linear_model import LogisticRegression

    versions.save(soft, manifest={"questions": Q}, author="ann")
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"f": rng.normal(size=len(soft))}, index=pd.Index(soft["id"], name="id"))
    X, y, w = versions.training_data("v1", features)
    clf = LogisticRegression().fit(X, y, sample_weight=w)
    assert set(clf.classes_) <= {"ham", "spam"} and len(X) == len(soft) - 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_confidence": 1.5}, r"'min_confidence' parameter of LabelVersionStore.training_data must be a number in "
         r"\[0, 1\]. Got 1.5 instead"),
        ({"y_format": "int"}, r"'y_format' parameter .* must be 'choice' or 'index'. Got 'int'"),
        ({"soft": "yes"}, r"'soft' parameter .* must be a bool"),
        ({"question": "nope"}, r"Unknown question 'nope'; this label version has questions \['spam'\]"),
        ({"features": [[1, 2]]}, r"'features' parameter .* must be a DataFrame indexed by example id"),
        ({"features": pd.DataFrame({"f": [1, 2]}, index=[0, 1])}, r"None of the \d+ labeled ids appear in the "
         r"features index"),
        ({"features": pd.DataFrame({"f": [1, 2]}, index=["c-000", "c-000"])}, r"features index has duplicate ids"),
    ],
)
def test_training_data_errors(
    versions: LabelVersionStore, soft: pd.DataFrame, kwargs: dict[str, object], message: str
) -> None:
    versions.save(soft, manifest={"questions": Q}, author="ann")
    with pytest.raises(DataError, match=message):
        versions.training_data("v1", **kwargs)  # type: ignore[arg-type]


def test_training_data_refuses_rows_without_weight(versions: LabelVersionStore) -> None:
    df = _frame([("a", 0.9, "spam", "lf"), ("b", 0.2, "ham", "lf")])
    df["weight"] = [1.0, np.nan]
    versions.save(df, manifest={"questions": Q}, author="ann")
    with pytest.raises(DataError, match=r"1 selected row\(s\) have no weight, e.g. \['b'\]"):
        versions.training_data("v1")


def _seatbelt_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["i1", "i2", "i3"],
            "p_person__yes": [0.9, 0.1, 0.8],
            "p_person__no": [0.1, 0.9, 0.2],
            "p_seatbelt__yes": [0.7, np.nan, 0.2],
            "p_seatbelt__no": [0.2, np.nan, 0.3],
            "p_seatbelt__unsure": [0.1, np.nan, 0.5],
            "label__person": ["yes", "no", "yes"],
            "label__seatbelt": ["yes", None, "unsure"],
            "confidence": [0.9, 0.9, 0.5],
            "weight": [1.0, 1.0, 1.0],
            "sources": ["lf", "human", "lf"],
        }
    )


SEATBELT = {"person": ["yes", "no"], "seatbelt": ["yes", "no", "unsure"]}


def test_multi_question_version(versions: LabelVersionStore) -> None:
    v = versions.save(_seatbelt_frame(), manifest={"questions": SEATBELT}, author="ann")
    assert v.manifest["label_columns"] == {"person": "label__person", "seatbelt": "label__seatbelt"}
    assert v.manifest["counts"]["by_label"]["seatbelt"] == {"": 1, "unsure": 1, "yes": 1}
    df, _ = versions.load("v1")
    assert np.isnan(df.loc["i2", "p_seatbelt__yes"])
    X, y, _ = versions.training_data("v1", question="seatbelt")
    assert X.tolist() == ["i1", "i3"] and y.tolist() == ["yes", "unsure"]
    X, P, _ = versions.training_data("v1", question="seatbelt", soft=True)
    assert P.shape == (2, 3)
    with pytest.raises(DataError, match=r"several questions \['person', 'seatbelt'\]; pass question="):
        versions.training_data("v1")
    inferred = versions.save(_seatbelt_frame(), author="ann")
    assert inferred.manifest["questions"] == SEATBELT

    changed = _seatbelt_frame()
    changed.loc[2, ["p_seatbelt__yes", "p_seatbelt__no", "p_seatbelt__unsure", "label__seatbelt"]] = [
        0.6, 0.2, 0.2, "yes"
    ]
    versions.save(changed, manifest={"questions": SEATBELT}, author="ann")
    d = versions.diff("v1", "v3")
    assert d["label_changed"].tolist() == [False, False, True]
    assert d.loc["i3", "label_a__seatbelt"] == "unsure" and d.loc["i3", "label_b__seatbelt"] == "yes"
    assert d.loc["i3", "tvd"] == pytest.approx(0.4)
    only = versions.diff("v1", "v3", question="person")
    assert not only["changed"].any() and "label_a" in only.columns


def test_multi_question_missing_label_column(versions: LabelVersionStore) -> None:
    with pytest.raises(DataError, match=r"lack the column 'label__seatbelt'"):
        versions.save(_seatbelt_frame().drop(columns="label__seatbelt"), manifest={"questions": SEATBELT},
                      author="ann")
    with pytest.raises(DataError, match=r"question 'seatbelt' are missing in some but not all of \['p_seatbelt__yes'"):
        bad = _seatbelt_frame()
        bad.loc[0, "p_seatbelt__yes"] = np.nan
        versions.save(bad, manifest={"questions": SEATBELT}, author="ann")
