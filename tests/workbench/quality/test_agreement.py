from __future__ import annotations

import itertools

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from workbench.exceptions import DataError
from workbench.quality import (
    AgreementReport,
    agreement,
    cohen_kappa_pairwise,
    fleiss_kappa,
    krippendorff_alpha,
)


def random_ann(
    seed: int, n_items: int = 60, n_annotators: int = 5, n_labels: int = 3, p_missing: float = 0.3
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_labels, n_items)
    rows = []
    for i in range(n_items):
        for a in range(n_annotators):
            if rng.random() < p_missing:
                continue
            v = truth[i] if rng.random() < 0.7 else rng.integers(0, n_labels)
            rows.append((str(i), f"a{a}", int(v)))
    return pd.DataFrame(rows, columns=["example_id", "annotator", "value"])


def ann_from_counts(counts: list[list[int]], categories: list[int] | None = None) -> pd.DataFrame:
    """Expand an (items x categories) count table into annotations (rater ids are arbitrary)."""
    rows = []
    for i, row in enumerate(counts):
        r = 0
        for j, c in enumerate(row):
            for _ in range(c):
                rows.append((f"item{i}", f"r{r}", (categories or list(range(len(row))))[j]))
                r += 1
    return pd.DataFrame(rows, columns=["example_id", "annotator", "value"])


# Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cohen_matches_sklearn_on_shared_items(seed: int) -> None:
    ann = random_ann(seed)
    out = cohen_kappa_pairwise(ann, min_items=1)
    wide = ann.pivot(index="example_id", columns="annotator", values="value")
    assert len(out) == len(list(itertools.combinations(wide.columns, 2)))
    for row in out.itertuples():
        both = wide[[row.annotator_a, row.annotator_b]].dropna()
        assert row.n_items == len(both)
        expected = cohen_kappa_score(both.iloc[:, 0], both.iloc[:, 1])
        assert row.kappa == pytest.approx(expected, abs=1e-12)
        assert row.agreement == pytest.approx((both.iloc[:, 0] == both.iloc[:, 1]).mean())


def test_cohen_string_labels_and_min_items() -> None:
    ann = random_ann(3, n_items=30).assign(value=lambda d: d["value"].map({0: "x", 1: "y", 2: "z"}))
    out = cohen_kappa_pairwise(ann, min_items=25)
    assert out["kappa"].isna().equals(out["n_items"] < 25)
    assert (out["annotator_a"] < out["annotator_b"]).all()


def test_cohen_all_agree_is_nan_like_sklearn() -> None:
    ann = pd.DataFrame({"example_id": ["1", "2", "1", "2"], "annotator": ["a", "a", "b", "b"], "value": [1, 1, 1, 1]})
    out = cohen_kappa_pairwise(ann, min_items=1)
    assert np.isnan(out["kappa"].iloc[0])
    with pytest.warns(Warning):
        assert np.isnan(cohen_kappa_score([1, 1], [1, 1]))
    assert out["agreement"].iloc[0] == 1.0


def test_cohen_pairs_without_shared_items_are_not_listed() -> None:
    ann = pd.DataFrame({"example_id": ["1", "1", "2"], "annotator": ["a", "b", "c"], "value": [0, 1, 0]})
    out = cohen_kappa_pairwise(ann, min_items=1)
    assert out[["annotator_a", "annotator_b"]].values.tolist() == [["a", "b"]]


def test_cohen_single_annotator_and_empty() -> None:
    one = pd.DataFrame({"example_id": ["1", "2"], "annotator": ["a", "a"], "value": [0, 1]})
    assert cohen_kappa_pairwise(one).empty
    empty = one.iloc[:0]
    assert list(cohen_kappa_pairwise(empty).columns) == ["annotator_a", "annotator_b", "n_items", "agreement", "kappa"]


def test_fleiss_wikipedia_example() -> None:
    ann = ann_from_counts(WIKIPEDIA_FLEISS)
    # P-bar = 0.378, P_e = 0.213, kappa = 0.210 (Wikipedia); exact value from the table:
    p_i = [(sum(c * c for c in row) - 14) / (14 * 13) for row in WIKIPEDIA_FLEISS]
    p_j = np.array(WIKIPEDIA_FLEISS).sum(axis=0) / 140
    exact = (np.mean(p_i) - (p_j**2).sum()) / (1 - (p_j**2).sum())
    assert fleiss_kappa(ann) == pytest.approx(exact, abs=1e-12)
    assert round(fleiss_kappa(ann), 3) == 0.210


def test_fleiss_against_statsmodels_if_installed() -> None:
    irr = pytest.importorskip("statsmodels.stats.inter_rater")
    assert fleiss_kappa(ann_from_counts(WIKIPEDIA_FLEISS)) == pytest.approx(
        irr.fleiss_kappa(np.array(WIKIPEDIA_FLEISS), method="fleiss")
    )


def test_fleiss_unequal_ratings_hand_computed() -> None:
    # item0: 3 x A; item1: A, B; item2: A, A, B, B; item3: a single rating (excluded)
    counts = [[3, 0], [1, 1], [2, 2], [0, 1]]
    ann = ann_from_counts(counts, categories=["A", "B"])
    p_i = [1.0, 0.0, (2 + 2) / 12]
    p_bar = sum(p_i) / 3
    p_a, p_b = 6 / 9, 3 / 9  # pooled over the 9 ratings of the items kept
    p_e = p_a**2 + p_b**2
    assert fleiss_kappa(ann) == pytest.approx((p_bar - p_e) / (1 - p_e), abs=1e-12)
    without_single = ann_from_counts(counts[:3], categories=["A", "B"])
    assert fleiss_kappa(ann) == pytest.approx(fleiss_kappa(without_single))


def test_fleiss_two_raters_equals_scotts_pi() -> None:
    ann = random_ann(5, n_annotators=2, p_missing=0.0)
    wide = ann.pivot(index="example_id", columns="annotator", values="value")
    p_o = (wide["a0"] == wide["a1"]).mean()
    pooled = pd.concat([wide["a0"], wide["a1"]]).value_counts(normalize=True)
    p_e = (pooled**2).sum()
    assert fleiss_kappa(ann) == pytest.approx((p_o - p_e) / (1 - p_e), abs=1e-12)


def test_fleiss_undefined_cases_are_nan() -> None:
    all_same = ann_from_counts([[3, 0], [2, 0]])
    assert np.isnan(fleiss_kappa(all_same))
    single = pd.DataFrame({"example_id": ["1", "2"], "annotator": ["a", "a"], "value": [0, 1]})
    assert np.isnan(fleiss_kappa(single))


def _reliability(ann: pd.DataFrame) -> np.ndarray:
    return ann.pivot(index="annotator", columns="example_id", values="value").to_numpy(float)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("seed", [0, 7])
def test_alpha_matches_krippendorff_package(level: str, seed: int) -> None:
    ann = random_ann(seed, n_labels=4).assign(value=lambda d: d["value"] + 1)  # ratio needs > 0
    expected = krippendorff.alpha(_reliability(ann), level_of_measurement=level)
    assert krippendorff_alpha(ann, level=level) == pytest.approx(expected, abs=1e-10)


def test_alpha_string_labels_nominal() -> None:
    ann = random_ann(4)
    as_text = ann.assign(value=ann["value"].map({0: "neg", 1: "neu", 2: "pos"}))
    assert krippendorff_alpha(as_text) == pytest.approx(krippendorff_alpha(ann))
    with pytest.raises(DataError, match="numeric values"):
        krippendorff_alpha(as_text, level="interval")


def test_alpha_undefined_cases_are_nan() -> None:
    all_same = ann_from_counts([[3, 0], [2, 0]])
    with pytest.raises(ValueError):
        krippendorff.alpha(_reliability(all_same), level_of_measurement="nominal")
    assert np.isnan(krippendorff_alpha(all_same))
    single = pd.DataFrame({"example_id": ["1", "2"], "annotator": ["a", "a"], "value": [0, 1]})
    assert np.isnan(krippendorff_alpha(single))


def test_missing_values_are_ignored() -> None:
    ann = random_ann(8)
    with_missing = pd.concat(
        [ann, pd.DataFrame({"example_id": ["0", "1"], "annotator": ["zz", "zz"], "value": [None, np.nan]})]
    )
    assert krippendorff_alpha(with_missing) == pytest.approx(krippendorff_alpha(ann))
    assert fleiss_kappa(with_missing) == pytest.approx(fleiss_kappa(ann))
    pd.testing.assert_frame_equal(cohen_kappa_pairwise(with_missing), cohen_kappa_pairwise(ann))


@pytest.mark.data
def test_agreement_report_on_real_rte(rte: tuple[pd.DataFrame, pd.Series]) -> None:
    ann, _ = rte
    report = agreement(ann)
    assert isinstance(report, AgreementReport)
    assert (report.n_items, report.n_annotators, report.n_ratings) == (800, 164, 8000)
    expected_alpha = krippendorff.alpha(_reliability(ann), level_of_measurement="nominal")
    assert report.krippendorff_alpha == pytest.approx(expected_alpha, abs=1e-10)
    # 10 ratings on every item: Fleiss and alpha differ only by the finite-sample correction
    assert report.fleiss_kappa == pytest.approx(report.krippendorff_alpha, abs=1e-3)
    assert 0.2 < report.fleiss_kappa < 0.3
    counts = ann.groupby(["example_id", "value"]).size().unstack(fill_value=0)
    pairs_agree = (counts * (counts - 1)).to_numpy().sum()
    assert report.percent_agreement == pytest.approx(pairs_agree / (800 * 10 * 9))
    assert report.pairwise["kappa"].notna().all()  # every sharing pair shares >= 20 items
    assert set(report.summary()) >= {"fleiss_kappa", "krippendorff_alpha", "mean_pairwise_kappa"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: agreement(pd.DataFrame({"item": ["1"], "annotator": ["a"], "value": [1]})), "must have the columns"),
        (lambda: agreement([1, 2]), "must be a pandas DataFrame"),  # type: ignore[arg-type]
        (
            lambda: agreement(pd.DataFrame({"example_id": ["1", "1"], "annotator": ["a", "a"], "value": [1, 0]})),
            "one row per",
        ),
        (
            lambda: krippendorff_alpha(random_ann(0), level="nominl"),  # type: ignore[arg-type]
            "must be one of",
        ),
        (lambda: cohen_kappa_pairwise(random_ann(0), min_items=0), "positive int"),
    ],
)
def test_errors_explain_themselves(call: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        call()  # type: ignore[operator]


LIKERT = ["very low", "low", "mid", "high", "very high"]  # alphabetical order would be wrong


def likert_ann(seed: int) -> pd.DataFrame:
    ann = random_ann(seed, n_labels=5)
    return ann.assign(value=ann["value"].map(dict(enumerate(LIKERT))))


def _text_reliability(ann: pd.DataFrame) -> np.ndarray:
    wide = ann.pivot(index="annotator", columns="example_id", values="value")
    return wide.fillna("nan").to_numpy(dtype=str)  # the krippendorff package's missing marker for text


@pytest.mark.parametrize("seed", [1, 5, 9])
def test_ordinal_alpha_uses_the_given_order_like_krippendorff_value_domain(seed: int) -> None:
    ann = likert_ann(seed)
    expected = krippendorff.alpha(_text_reliability(ann), level_of_measurement="ordinal", value_domain=LIKERT)
    assert krippendorff_alpha(ann, "ordinal", levels=LIKERT) == pytest.approx(expected, abs=1e-10)
    # an ordered Categorical carries the same order
    ordered = ann.assign(value=pd.Categorical(ann["value"], categories=LIKERT, ordered=True))
    assert krippendorff_alpha(ordered, "ordinal") == pytest.approx(expected, abs=1e-10)
    # without an order, strings are sorted alphabetically, which is another (wrong) scale
    alphabetical = krippendorff.alpha(
        _text_reliability(ann), level_of_measurement="ordinal", value_domain=sorted(LIKERT)
    )
    assert krippendorff_alpha(ann, "ordinal") == pytest.approx(alphabetical, abs=1e-10)
    assert abs(expected - alphabetical) > 1e-3
    # the same through agreement()
    assert agreement(ann, level="ordinal", levels=LIKERT).krippendorff_alpha == pytest.approx(expected, abs=1e-10)


def test_unused_levels_and_numeric_value_domains() -> None:
    ann = likert_ann(3)
    used = ann.loc[ann["value"] != "high"]  # a level nobody used, inside the scale
    expected = krippendorff.alpha(_text_reliability(used), level_of_measurement="ordinal", value_domain=LIKERT)
    assert krippendorff_alpha(used, "ordinal", levels=LIKERT) == pytest.approx(expected, abs=1e-10)
    numeric = random_ann(3, n_labels=4).assign(value=lambda d: d["value"] * 2 + 1)  # values 1, 3, 5, 7
    domain = [1, 2, 3, 4, 5, 6, 7]
    for level in ("ordinal", "interval"):
        expected = krippendorff.alpha(_reliability(numeric), level_of_measurement=level, value_domain=domain)
        assert krippendorff_alpha(numeric, level, levels=domain) == pytest.approx(expected, abs=1e-10)  # type: ignore[arg-type]


def test_interval_alpha_on_ordered_text_uses_equally_spaced_levels() -> None:
    ann = likert_ann(6)
    positions = ann.assign(value=ann["value"].map({v: i for i, v in enumerate(LIKERT)}))
    expected = krippendorff.alpha(_reliability(positions), level_of_measurement="interval")
    assert krippendorff_alpha(ann, "interval", levels=LIKERT) == pytest.approx(expected, abs=1e-10)
    with pytest.raises(DataError, match=r"needs numeric values.*Pass levels=\[\.\.\.\]"):
        krippendorff_alpha(ann, "interval")
    with pytest.raises(DataError, match="needs numeric values"):
        krippendorff_alpha(ann, "ratio", levels=LIKERT)


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        (["very low", "low", "mid", "high"], r"values that are not in 'levels' .*got \['very high'\] instead"),
        ("low,mid,high", "must be a list of every possible value in order"),
        ([], "Got an empty list instead"),
        (["low", "low", "mid"], r"Got repeated values \['low'\] instead"),
        ([0, 1, 2, 3, 4], r"not in 'levels'.*3 and '3' differ"),
    ],
)
def test_bad_levels_explain_themselves(levels: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        krippendorff_alpha(likert_ann(2), "ordinal", levels=levels)  # type: ignore[arg-type]


def test_agreement_check_passes_levels() -> None:
    from workbench.quality import run_checks

    ann = likert_ann(4)
    result = run_checks(ann, checks=["agreement"], params={"agreement": {"level": "ordinal", "levels": LIKERT}})
    assert result["agreement"].summary["krippendorff_alpha"] == pytest.approx(
        krippendorff_alpha(ann, "ordinal", levels=LIKERT)
    )
