"""One contract test run over every label model."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

from workbench.exceptions import LFError, NotFittedError, WorkbenchError
from workbench.models import (
    AutoLabelModel,
    DawidSkene,
    LabelModel,
    MajorityVote,
    SnorkelLabelModel,
    WeightedMajorityVote,
)

MODELS = [
    pytest.param(lambda: MajorityVote(random_state=0), id="MajorityVote"),
    pytest.param(lambda: MajorityVote(class_prior="learned", random_state=0), id="MajorityVote-learned"),
    pytest.param(lambda: DawidSkene(random_state=0), id="DawidSkene"),
    pytest.param(lambda: DawidSkene(abstain="missing", random_state=0), id="DawidSkene-missing"),
    pytest.param(
        lambda: DawidSkene(abstain="votes_only", class_prior="uniform", random_state=0),
        id="DawidSkene-votes_only",
    ),
    pytest.param(lambda: DawidSkene(init="random", random_state=3), id="DawidSkene-random-init"),
    pytest.param(lambda: SnorkelLabelModel(n_epochs=20, random_state=0), id="SnorkelLabelModel"),
    pytest.param(lambda: WeightedMajorityVote(random_state=0), id="WeightedMajorityVote"),
    pytest.param(lambda: WeightedMajorityVote(unlabeled="ignore", random_state=0), id="WeightedMajorityVote-gold"),
    pytest.param(lambda: DawidSkene(unlabeled="ignore", random_state=0), id="DawidSkene-gold"),
    pytest.param(lambda: AutoLabelModel(random_state=0), id="AutoLabelModel"),
    pytest.param(
        lambda: AutoLabelModel(candidates=[DawidSkene(), WeightedMajorityVote()], cv=3, random_state=0),
        id="AutoLabelModel-candidates",
    ),
]


@pytest.fixture
def L_small(simulated: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return simulated[0][:400]


@pytest.fixture(params=MODELS)
def model(request: pytest.FixtureRequest) -> LabelModel:
    if "Snorkel" in request.node.callspec.id:
        pytest.importorskip("snorkel", reason="the 'snorkel' extra is not installed")
    return request.param()


def test_not_fitted_error_before_fit(model: LabelModel, L_small: np.ndarray) -> None:
    for call in (model.predict_proba, model.predict, model.predict_with_confidence):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            call(L_small)
    # also the scikit-learn exception, so sklearn-aware code catches it
    with pytest.raises(SklearnNotFittedError):
        model.predict_proba(L_small)
    with pytest.raises(NotFittedError):
        model.learned_params()


def test_fit_returns_self_and_sets_learned_attributes(model: LabelModel, L_small: np.ndarray) -> None:
    assert model.fit(L_small) is model
    assert model.cardinality_ == 2
    assert model.n_lfs_ == L_small.shape[1]
    assert model.class_prior_.shape == (2,)
    assert np.isclose(model.class_prior_.sum(), 1.0)


def test_init_stores_params_without_logic(model: LabelModel) -> None:
    params = model.get_params()
    assert params["cardinality"] is None
    twin = clone(model)
    assert twin is not model
    assert twin.to_dict()["params"] == model.to_dict()["params"]  # nested candidates are cloned, not shared
    assert not hasattr(twin, "class_prior_")
    twin.set_params(cardinality=3)
    assert twin.cardinality == 3


def test_predict_proba_shape_and_rows_sum_to_one(model: LabelModel, L_small: np.ndarray) -> None:
    model.fit(L_small)
    proba = model.predict_proba(L_small)
    assert proba.shape == (L_small.shape[0], 2)
    assert proba.dtype == np.float64
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    pred = model.predict(L_small)
    assert pred.shape == (L_small.shape[0],) and pred.dtype == np.int64
    assert set(np.unique(pred)) <= {0, 1}
    pred_c, conf = model.predict_with_confidence(L_small, tie_break="first")
    np.testing.assert_array_equal(pred_c, proba.argmax(axis=1))
    np.testing.assert_allclose(conf, proba.max(axis=1))


def test_predict_is_the_most_probable_class_of_decision_function(
    model: LabelModel, simulated: tuple[np.ndarray, np.ndarray]
) -> None:
    L, y = simulated
    gold = np.where(np.arange(len(y)) < 300, y, -1)
    model.fit(L[:1000], gold[:1000])
    scores = model.decision_function(L[1000:1400])
    assert scores.shape == (400, 2) and scores.dtype == np.float64
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-9)
    pred, conf = model.predict_with_confidence(L[1000:1400], tie_break="first")
    np.testing.assert_array_equal(pred, scores.argmax(axis=1))
    np.testing.assert_allclose(conf, model.predict_proba(L[1000:1400])[np.arange(400), pred])


def test_random_state_makes_fit_and_predict_reproducible(model: LabelModel, L_small: np.ndarray) -> None:
    a = clone(model).fit(L_small)
    b = clone(model).fit(L_small)
    np.testing.assert_allclose(a.predict_proba(L_small), b.predict_proba(L_small), atol=1e-7)
    np.testing.assert_array_equal(a.predict(L_small), b.predict(L_small))


def test_rows_without_votes(model: LabelModel, L_small: np.ndarray) -> None:
    model.fit(L_small)
    L = L_small[:5].copy()
    L[[1, 3]] = -1
    proba = model.predict_proba(L)
    np.testing.assert_allclose(proba[1], proba[3])
    pred = model.predict(L, tie_break="abstain")
    assert pred[1] == -1 and pred[3] == -1
    uncovered_is_prior = not isinstance(model, AutoLabelModel)  # it blends and calibrates
    if isinstance(model, DawidSkene) and model.abstain == "model":
        uncovered_is_prior = False  # abstaining is evidence there
    if uncovered_is_prior:
        np.testing.assert_allclose(proba[1], model.class_prior_, atol=1e-7)


def test_json_round_trip(model: LabelModel, L_small: np.ndarray) -> None:
    unfitted = json.loads(json.dumps(model.to_dict()))
    assert not hasattr(LabelModel.from_dict(unfitted), "class_prior_")
    model.fit(L_small)
    data = json.loads(json.dumps(model.to_dict()))
    assert data["model"] == type(model).__name__
    restored = type(model).from_dict(data)
    assert type(restored) is type(model)
    assert restored.to_dict()["params"] == data["params"]
    np.testing.assert_allclose(restored.predict_proba(L_small), model.predict_proba(L_small), atol=1e-12)
    assert json.dumps(model.learned_params())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_gold_cardinality_and_partial_gold(model: LabelModel, L_small: np.ndarray) -> None:
    y = np.full(L_small.shape[0], -1)
    y[:3] = [0, 1, 2]  # gold may name a class no LF voted for
    model.fit(L_small, y)
    assert model.cardinality_ == 3
    assert model.predict_proba(L_small).shape == (L_small.shape[0], 3)


def test_score_is_accuracy_on_known_gold(model: LabelModel, simulated: tuple[np.ndarray, np.ndarray]) -> None:
    L, y = simulated[0][:400], simulated[1][:400].copy()
    model.fit(L)
    y[:50] = -1
    expected = (model.predict(L, tie_break="abstain")[50:] == y[50:]).mean()
    assert model.score(L, y, tie_break="abstain") == pytest.approx(expected)


def test_from_dict_rejects_foreign_or_mismatched_data() -> None:
    from workbench.exceptions import DataError

    data = MajorityVote().fit([[0, 1], [1, 1]]).to_dict()
    with pytest.raises(DataError, match="The stored model is a MajorityVote, not a DawidSkene"):
        DawidSkene.from_dict(data)
    with pytest.raises(DataError, match="expects a dict written by LabelModel.to_dict"):
        LabelModel.from_dict({"model": "MajorityVote"})
    with pytest.raises(DataError, match="Unknown label model 'Nope'"):
        LabelModel.from_dict({**data, "model": "Nope"})
    with pytest.raises(DataError, match="Unsupported label-model format_version 99"):
        LabelModel.from_dict({**data, "format_version": 99})
    assert isinstance(LabelModel.from_dict(data), MajorityVote)


# -- input validation catalogue: (bad L, message) ---------------------------------------------
BAD_L = [
    ([0, 1, -1], r"must be 2-D .* 1 dimension\(s\).*reshape\(-1, 1\)"),
    (np.zeros((2, 2, 2), dtype=int), r"must be 2-D .* 3 dimension\(s\)"),
    (np.zeros((0, 3), dtype=int), r"is empty: got shape \(0, 3\)"),
    (np.zeros((3, 0), dtype=int), r"is empty: got shape \(3, 0\)"),
    ([[0.5, 1.0, 0.0]], r"non-integer value\(s\) such as \[0.5\]"),
    ([[np.nan, 1.0, 0.0]], r"contains NaN. Use -1 for an abstain"),
    ([[np.inf, 1.0, 0.0]], r"contains infinite values"),
    (np.array([[0, 1, None]], dtype=object), r"Got dtype object instead"),
    ([[-2, 0, 1]], r"value\(s\) below -1: \[-2\]"),
    ([[True, False, True]], r"Got a boolean array"),
    ([["a", "b", "c"]], r"Got dtype <U1 instead"),
    ([[0, 1], [1]], r"could not be read as a rectangular array"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_L)
def test_fit_rejects_bad_label_matrices(model: LabelModel, bad: object, message: str) -> None:
    with pytest.raises(LFError, match=message) as info:
        model.fit(bad)
    assert isinstance(info.value, WorkbenchError) and isinstance(info.value, ValueError)


def test_fit_rejects_votes_beyond_cardinality(model: LabelModel) -> None:
    model.set_params(cardinality=2)
    with pytest.raises(LFError, match=re.escape("has votes [2] but cardinality is 2")):
        model.fit([[0, 1, 2], [1, 1, 0]])


def test_predict_rejects_other_matrices(model: LabelModel, L_small: np.ndarray) -> None:
    model.fit(L_small)
    with pytest.raises(LFError, match=r"has 3 column\(s\) but the model was fitted on 6"):
        model.predict_proba(L_small[:, :3])
    bad = L_small.copy()
    bad[0, 0] = 5
    with pytest.raises(LFError, match=r"votes \[5\] but cardinality is 2"):
        model.predict(bad)
    with pytest.raises(ValueError, match="'tie_break' parameter must be one of"):
        model.predict(L_small, tie_break="coin")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cardinality": 1}, r"'cardinality' parameter of \w+ must be an int >= 2 .* Got 1 instead"),
        ({"cardinality": 2.5}, r"'cardinality' parameter .* Got 2.5 instead"),
        ({"class_prior": "sometimes"}, r"'class_prior' parameter of \w+ must be"),
        ({"class_prior": [0.2, 0.2]}, r"'class_prior' parameter of \w+ must be"),
    ],
)
def test_fit_rejects_bad_hyperparameters(model: LabelModel, L_small: np.ndarray, params: dict, message: str) -> None:
    if "class_prior" in params and "class_prior" not in model.get_params():
        pytest.skip(f"{type(model).__name__} has no class_prior parameter")
    model.set_params(**params)
    with pytest.raises(ValueError, match=message):
        model.fit(L_small)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.zeros((400, 1)), r"gold labels 'y' must be 1-D"),
        (np.zeros(5), r"one entry per row of L \(400\). Got 5 instead"),
        (np.full(400, -3), r"may only contain -1 \(unknown\)"),
        (np.full(400, 0.5), r"use -1 \(not NaN\)"),
    ],
)
def test_fit_rejects_bad_gold(model: LabelModel, L_small: np.ndarray, y: np.ndarray, message: str) -> None:
    from workbench.exceptions import DataError

    with pytest.raises(DataError, match=message):
        model.fit(L_small, y)
