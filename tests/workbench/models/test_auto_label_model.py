"""AutoLabelModel: cross-validated choice on gold, the majority-vote guard, calibration, the report."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from label_sim import simulate_label_matrix
from numpy.typing import NDArray

from workbench.models import (
    AutoLabelModel,
    DawidSkene,
    LabelModel,
    MajorityVote,
    WeightedMajorityVote,
    calibration_errors,
    expected_score,
)


class InvertedVote(LabelModel):
    """A deliberately bad model: majority vote with the classes swapped (binary)."""

    def __init__(self, cardinality: int | None = None) -> None:
        self.cardinality = cardinality

    def _fit(self, L: Any, cardinality: int, y: Any) -> None:
        self.class_prior_ = np.full(cardinality, 1.0 / cardinality)

    def _predict_proba(self, L: Any) -> NDArray[np.float64]:
        P = MajorityVote(cardinality=self.cardinality_).fit(L).predict_proba(L)
        return np.asarray(P[:, ::-1], dtype=np.float64)

    def _fitted_state(self) -> dict[str, Any]:
        return {"class_prior_": self.class_prior_}

    def _load_fitted_state(self, state: dict[str, Any]) -> None:
        self.class_prior_ = np.asarray(state["class_prior_"])


class GoldMemorizer(LabelModel):
    """Looks up the gold label of rows it was fitted with (by vote pattern): perfect only if gold leaks."""

    def __init__(self, cardinality: int | None = None) -> None:
        self.cardinality = cardinality

    def _fit(self, L: Any, cardinality: int, y: Any) -> None:
        self.class_prior_ = np.full(cardinality, 1.0 / cardinality)
        self.memory_ = {} if y is None else {L[i].tobytes(): int(y[i]) for i in np.flatnonzero(y >= 0)}

    def _predict_proba(self, L: Any) -> NDArray[np.float64]:
        P = np.full((L.shape[0], self.cardinality_), 1.0 / self.cardinality_)
        for i, row in enumerate(L):
            if row.tobytes() in self.memory_:
                P[i] = np.eye(self.cardinality_)[self.memory_[row.tobytes()]]
        return P

    def _fitted_state(self) -> dict[str, Any]:
        return {"class_prior_": self.class_prior_}

    def _load_fitted_state(self, state: dict[str, Any]) -> None:
        self.class_prior_ = np.asarray(state["class_prior_"])
        self.memory_ = {}


def _partial_gold(y: np.ndarray, n_gold: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.full(y.shape[0], -1)
    idx = rng.choice(y.shape[0], size=n_gold, replace=False)
    out[idx] = y[idx]
    return out


@pytest.fixture
def skewed() -> tuple[np.ndarray, np.ndarray]:
    """Two good LFs and four near-random ones: weighting beats a plain majority vote."""
    acc = np.array([0.95, 0.9, 0.55, 0.55, 0.52, 0.52])
    cov = np.array([0.8, 0.8, 0.9, 0.9, 0.9, 0.9])
    return simulate_label_matrix(3000, acc, cov, seed=11)


def test_picks_a_better_model_than_majority_vote_by_cross_validation(skewed) -> None:
    L, y = skewed
    gold = _partial_gold(y, 400, seed=0)
    lm = AutoLabelModel(candidates=[DawidSkene(), WeightedMajorityVote()], random_state=0).fit(L, gold)
    report = lm.report_
    assert report["metric"] == "accuracy"
    names = [c["name"] for c in report["candidates"]]
    assert "MajorityVote" in names  # the guard is always scored
    assert lm.chosen_ != "MajorityVote"
    assert report["chosen_score"] > report["baseline_score"]
    for cand in report["candidates"]:
        assert len(cand["fold_scores"]) == 5
        assert cand["cv_score"] == pytest.approx(np.mean(cand["fold_scores"]))
    unknown = gold < 0
    ours = expected_score(y[unknown], lm.predict_proba(L[unknown]))
    mv = expected_score(y[unknown], MajorityVote().fit(L).predict_proba(L[unknown]))
    assert ours > mv + 0.03


def test_guard_keeps_majority_vote_when_every_candidate_loses(skewed) -> None:
    L, y = skewed
    lm = AutoLabelModel(candidates={"inverted": InvertedVote()}, random_state=0).fit(L, _partial_gold(y, 300, 1))
    assert lm.chosen_ == "MajorityVote"
    assert "guard keeps majority vote" in lm.report_["reason"]
    inverted = next(c for c in lm.report_["candidates"] if c["name"] == "inverted")
    assert inverted["cv_score"] < 0.5 < lm.report_["baseline_score"]


def test_each_fold_is_scored_by_a_model_that_never_saw_its_gold() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 600)
    L = rng.integers(0, 2, (600, 12)).astype(np.int8)  # random votes: unique rows, no signal
    lm = AutoLabelModel(candidates={"memorizer": GoldMemorizer()}, random_state=0).fit(L, y)
    memo = next(c for c in lm.report_["candidates"] if c["name"] == "memorizer")
    assert memo["cv_score"] < 0.6  # a leak would score ~1.0
    assert lm.chosen_ != "memorizer" or memo["cv_score"] > lm.report_["baseline_score"]


def test_metric_follows_the_class_balance_of_the_gold() -> None:
    rng = np.random.default_rng(2)
    acc = np.array([0.85, 0.8, 0.75, 0.7])
    cov = np.full(4, 0.7)
    L, y = simulate_label_matrix(2000, acc, cov, prior=np.array([0.85, 0.15]), seed=3)
    lm = AutoLabelModel(candidates=[DawidSkene()], random_state=0).fit(L, _partial_gold(y, 500, 0))
    assert lm.report_["metric"] == "f1" and lm.report_["positive_class"] == 1
    L3, y3 = simulate_label_matrix(2000, acc, cov, prior=np.array([0.7, 0.2, 0.1]), seed=4)
    lm3 = AutoLabelModel(candidates=[DawidSkene()], random_state=0).fit(L3, _partial_gold(y3, 500, 0))
    assert lm3.report_["metric"] == "macro_f1"
    forced = AutoLabelModel(candidates=[DawidSkene()], metric="accuracy", random_state=0)
    assert forced.fit(L3, _partial_gold(y3, 500, 0)).report_["metric"] == "accuracy"
    assert rng is not None


def test_calibration_lowers_the_ece_of_an_overconfident_model() -> None:
    # the same three LFs copied four times each: DawidSkene assumes independence and is overconfident
    base_acc = np.array([0.95, 0.6, 0.55])
    L0, y = simulate_label_matrix(6000, base_acc, np.full(3, 0.8), seed=8)
    L = np.hstack([L0, L0, L0, L0])
    train, test = slice(0, 3000), slice(3000, None)
    gold = _partial_gold(y[train], 600, 0)
    raw = AutoLabelModel(candidates=[DawidSkene()], calibration="none", random_state=0).fit(L[train], gold)
    lm = AutoLabelModel(candidates=[DawidSkene()], calibration="temperature", random_state=0).fit(L[train], gold)
    assert lm.chosen_ == raw.chosen_ == "DawidSkene"
    assert lm.calibrator_["method"] == "temperature" and lm.calibrator_["temperature"] > 1.5  # it softens
    ece_raw = calibration_errors(y[test], raw.predict_proba(L[test]), n_bootstrap=0)["ece"]
    ece_cal = calibration_errors(y[test], lm.predict_proba(L[test]), n_bootstrap=0)["ece"]
    assert ece_cal < ece_raw / 2
    after = lm.report_["calibration"]["after"]
    assert after["ece_low"] <= after["ece"] <= after["ece_high"]
    assert after["ece"] < lm.report_["calibration"]["before"]["ece"]


def test_isotonic_calibration_is_monotone_and_round_trips(skewed) -> None:
    L, y = skewed
    lm = AutoLabelModel(candidates=[DawidSkene()], calibration="isotonic", random_state=0).fit(
        L, _partial_gold(y, 1500, 0)
    )
    assert lm.calibrator_["method"] == "isotonic"
    member = lm.members_[0].predict_proba(L)[:, 1] if len(lm.members_) == 1 else None
    if member is not None:
        order = np.argsort(member, kind="stable")
        assert np.all(np.diff(lm.predict_proba(L)[order, 1]) >= -1e-12)
    restored = LabelModel.from_dict(json.loads(json.dumps(lm.to_dict())))
    np.testing.assert_array_equal(restored.predict_proba(L), lm.predict_proba(L))


def test_report_and_model_survive_to_dict(skewed) -> None:
    L, y = skewed
    lm = AutoLabelModel(random_state=0).fit(L, _partial_gold(y, 300, 2))
    data = json.loads(json.dumps(lm.to_dict()))
    restored = AutoLabelModel.from_dict(data)
    assert restored.report_ == lm.report_
    assert restored.chosen_ == lm.chosen_
    np.testing.assert_array_equal(restored.predict_proba(L), lm.predict_proba(L))
    np.testing.assert_array_equal(restored.predict(L), lm.predict(L))
    tried = {c["name"] for c in lm.report_["candidates"]}
    assert {"MajorityVote", "DawidSkene", "WeightedMajorityVote(gold rows)"} <= tried
    assert lm.report_["reason"]


def test_user_candidates_round_trip_through_to_dict(skewed) -> None:
    _L, _y = skewed
    lm = AutoLabelModel(candidates={"ds": DawidSkene(smoothing=0.1)}, cv=3, random_state=0)
    params = json.loads(json.dumps(lm.to_dict()))["params"]
    assert params["candidates"]["ds"]["params"]["smoothing"] == 0.1
    twin = LabelModel.from_dict(lm.to_dict())
    assert isinstance(twin.candidates["ds"], DawidSkene) and twin.candidates["ds"].smoothing == 0.1


def test_without_enough_gold_falls_back_to_majority_vote_with_learned_tie_breaks(skewed) -> None:
    L, y = skewed
    lm = AutoLabelModel(random_state=0).fit(L)
    assert lm.chosen_ == "MajorityVote, ties by DawidSkene where priors agree"
    assert lm.calibrator_ == {"method": "none"}
    P = lm.predict_proba(L)
    mv = MajorityVote().fit(L).predict_proba(L)
    untied = np.abs(mv[:, 0] - mv[:, 1]) > 1e-9
    np.testing.assert_array_equal(P[untied].argmax(axis=1), mv[untied].argmax(axis=1))
    assert expected_score(y, P) >= expected_score(y, mv)
    few = AutoLabelModel(random_state=0).fit(L, _partial_gold(y, 10, 0))
    assert "min_gold=30" in few.report_["reason"]


def test_fallback_breaks_a_tie_only_where_both_priors_pick_the_same_class(skewed) -> None:
    L, _y = skewed
    lm = AutoLabelModel(random_state=0).fit(L)
    P = lm.predict_proba(L)
    mv, learned, uniform = (m.predict_proba(L) for m in lm.members_)
    assert [type(m).__name__ for m in lm.members_] == ["MajorityVote", "DawidSkene", "DawidSkene"]
    assert lm.members_[2].class_prior == "uniform"
    tied = np.abs(mv[:, 0] - mv[:, 1]) < 1e-9
    agree = learned.argmax(axis=1) == uniform.argmax(axis=1)
    assert (tied & agree).any() and (tied & ~agree).any(), "the fixture must have both kinds of ties"
    np.testing.assert_array_equal(P[tied & agree].argmax(axis=1), learned[tied & agree].argmax(axis=1))
    np.testing.assert_allclose(P[tied & ~agree], 0.5)  # left a tie: scored in expectation over tie-breaks
    np.testing.assert_allclose(P.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cv": 1}, r"'cv' parameter of AutoLabelModel must be an int >= 2\. Got 1 instead"),
        ({"metric": "auc"}, r"'metric' parameter of AutoLabelModel must be one of"),
        ({"calibration": "platt"}, r"'calibration' parameter of AutoLabelModel must be one of"),
        ({"candidates": "DawidSkene"}, r"'candidates' parameter of AutoLabelModel must be a dict"),
        ({"candidates": [object()]}, r"must be a workbench LabelModel other than AutoLabelModel. Got object"),
        ({"min_gold": 0}, r"'min_gold' parameter .* must be an int >= 2"),
        ({"max_cv_rows": 5}, r"'max_cv_rows' parameter .* must be an int >= 100 or None"),
    ],
)
def test_bad_parameters_are_clear_errors(params: dict, message: str, skewed) -> None:
    L, y = skewed
    with pytest.raises(ValueError, match=message):
        AutoLabelModel(**params).fit(L, _partial_gold(y, 100, 0))


def test_f1_metric_needs_a_binary_task() -> None:
    L, y = simulate_label_matrix(500, np.array([0.8, 0.7, 0.7]), np.full(3, 0.9), prior=np.ones(3) / 3, seed=1)
    with pytest.raises(ValueError, match="metric='f1' .* needs a binary task; got 3 classes"):
        AutoLabelModel(metric="f1").fit(L, y)


def test_cross_validation_subsamples_large_inputs(skewed) -> None:
    L, y = skewed
    lm = AutoLabelModel(candidates=[DawidSkene()], max_cv_rows=1000, cv=3, random_state=0).fit(
        L, _partial_gold(y, 200, 0)
    )
    assert lm.report_["cv"]["rows_per_fit"] == 1000 and lm.report_["cv"]["subsampled"]
