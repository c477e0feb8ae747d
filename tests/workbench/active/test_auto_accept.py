"""AutoAccept: the precision guarantee holds on held-out data, with useful coverage, or it refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import workbench as wb
from workbench.active import AutoAccept, clopper_pearson_lower


def _calibrated(n: int, rng: np.random.Generator, k: int = 2, a: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities whose top class is right with exactly its stated probability (``a``: how confident)."""
    top = rng.beta(a, 1, size=n) * (1 - 1 / k) + 1 / k
    pred = rng.integers(0, k, size=n)
    right = rng.random(n) < top
    y = np.where(right, pred, (pred + rng.integers(1, k, size=n)) % k)
    P = np.full((n, k), 0.0)
    P[np.arange(n), pred] = top
    rest = (1 - top) / (k - 1)
    for c in range(k):
        P[:, c] = np.where(pred == c, top, rest)
    return P, y


def test_clopper_pearson_lower_bound() -> None:
    assert clopper_pearson_lower(0, 10, 0.95) == 0.0
    # all n correct: the bound solves p ** n = 1 - confidence
    assert float(clopper_pearson_lower(59, 59, 0.95)) == pytest.approx(0.05 ** (1 / 59))
    assert float(clopper_pearson_lower(90, 100, 0.95)) < 0.9 < 90 / 100 + 1e-9


@pytest.mark.parametrize(("target", "a"), [(0.9, 5.0), (0.97, 30.0)])
def test_the_guarantee_holds_on_held_out_data_in_95_percent_of_splits(target: float, a: float) -> None:
    rng = np.random.default_rng(7)
    held, failures, coverages = 0, 0, []
    for _ in range(200):
        P_gold, y_gold = _calibrated(500, rng, a=a)
        P_test, y_test = _calibrated(4000, rng, a=a)
        try:
            accept = AutoAccept(target_precision=target, confidence=0.95).fit(P_gold, y_gold)
        except wb.WorkbenchError:
            continue
        mask = accept.accept(P_test)
        if mask.sum() == 0:
            continue
        held += 1
        precision = float((P_test[mask].argmax(axis=1) == y_test[mask]).mean())
        failures += precision < target
        coverages.append(mask.mean())
    assert held >= 170  # a split whose gold cannot support the target is refused, not guessed
    assert failures / held <= 0.05, (failures, held)
    assert np.mean(coverages) > 0.2  # the guarantee is not bought by accepting almost nothing


def test_per_class_thresholds_guarantee_each_class() -> None:
    rng = np.random.default_rng(3)
    P, y = _calibrated(3000, rng, k=3)
    accept = AutoAccept(target_precision=0.9, per_class=True).fit(P, y)
    assert set(accept.threshold_) == {0, 1, 2}
    pred = accept.predict(P)
    assert set(np.unique(pred)) <= {-1, 0, 1, 2}
    for c in range(3):
        assert accept.precision_lower_[c] >= 0.9 or np.isinf(accept.threshold_[c])


def test_it_refuses_when_the_gold_cannot_support_the_target() -> None:
    rng = np.random.default_rng(0)
    P, y = _calibrated(40, rng)
    with pytest.raises(wb.WorkbenchError, match="at least 99 accepted gold rows"):
        AutoAccept(target_precision=0.97, confidence=0.95).fit(P, y)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"target_precision": 1.0}, "strictly between 0 and 1"),
    ({"confidence": 0}, "strictly between 0 and 1"),
    ({"max_steps": 0}, "integer >= 1"),
])
def test_bad_parameters(kwargs: dict, message: str) -> None:
    with pytest.raises(wb.LabelValidationError, match=message):
        AutoAccept(**kwargs).fit(np.array([[0.2, 0.8]]), np.array([1]))


def test_bad_inputs_and_not_fitted() -> None:
    with pytest.raises(wb.NotFittedError):
        AutoAccept().accept(np.array([[0.2, 0.8]]))
    with pytest.raises(wb.LabelValidationError, match="shape"):
        AutoAccept().fit(np.array([0.2, 0.8]), np.array([1]))
    with pytest.raises(wb.LabelValidationError, match="integer class indices"):
        AutoAccept().fit(np.array([[0.2, 0.8]]), np.array([0.5]))
    with pytest.raises(wb.WorkbenchError, match="holds none"):
        AutoAccept().fit(np.array([[0.2, 0.8]]), np.array([-1]))


def test_scores_that_are_not_probabilities_and_a_wrong_number_of_classes_are_refused() -> None:
    rng = np.random.default_rng(0)
    P, y = _calibrated(3000, rng)
    with pytest.raises(wb.LabelValidationError, match=r"rows sum to 1.*row sums in \[3, 3\].*softmax"):
        AutoAccept(target_precision=0.9).fit(3 * P, y)  # would choose a "threshold" of 2.3
    with pytest.raises(wb.LabelValidationError, match=r"values in \[-1"):
        AutoAccept(target_precision=0.9).fit(np.c_[-P[:, :1], 1 + P[:, :1]], y)
    rule = AutoAccept(target_precision=0.9).fit(P, y)
    three = np.c_[P * 0.9, np.full(len(P), 0.1)]
    with pytest.raises(wb.LabelValidationError, match="fitted on 2 classes, but proba has 3 columns"):
        rule.accept(three)
    with pytest.raises(wb.LabelValidationError, match="fitted on 2 classes"):
        rule.predict(three)


@pytest.mark.data
def test_youtube_spam_coverage_at_097_with_500_gold(data_dir: Path) -> None:
    """A TF-IDF + logistic regression spam model, 500 gold comments, held-out comments."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    df = wb.datasets.load_youtube_spam(path=data_dir / "youtube_spam")
    coverage, held = [], 0
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(len(df))
        train, gold, test = order[:800], order[800:1300], order[1300:]
        y = (df["label"].to_numpy() == "spam").astype(int)
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit(df["text"].iloc[train])
        model = LogisticRegression(C=10.0, max_iter=2000).fit(vec.transform(df["text"].iloc[train]), y[train])
        P_gold = model.predict_proba(vec.transform(df["text"].iloc[gold]))
        P_test = model.predict_proba(vec.transform(df["text"].iloc[test]))
        accept = AutoAccept(target_precision=0.97, confidence=0.95).fit(P_gold, y[gold])
        mask = accept.accept(P_test)
        coverage.append(mask.mean())
        held += (P_test[mask].argmax(axis=1) == y[test][mask]).mean() >= 0.97
    assert np.mean(coverage) >= 0.65, coverage  # the plain fixed-sequence search: about 65%
    assert held >= 4


def test_docstring_examples_run() -> None:
    import doctest

    import workbench.active._auto_accept as module

    assert doctest.testmod(module).failed == 0
