"""Cases from crowd-kit's own Dawid-Skene tests (their toy data and expected values; our code).

crowd-kit's ``tests/aggregation/test_ds_aggregation.py`` and ``tests/conftest.py``: the toy
YSDA dataset (5 tasks x 5 workers, with its ground truth and two gold tasks), the "simple"
dataset (10 tasks, good workers, a fraudster who always answers "parrot", a careless worker),
and the step-by-step confusion matrices after one EM iteration.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.models import DawidSkene
from workbench.quality import dawid_skene_consensus

TOY = [("w1", "t1", "no"), ("w1", "t2", "yes"), ("w1", "t3", "yes"), ("w1", "t4", "yes"), ("w1", "t5", "yes"),
       ("w2", "t1", "yes"), ("w2", "t2", "yes"), ("w2", "t3", "no"), ("w2", "t4", "yes"), ("w2", "t5", "no"),
       ("w3", "t2", "yes"), ("w3", "t3", "no"), ("w3", "t4", "yes"), ("w3", "t5", "no"),
       ("w4", "t1", "yes"), ("w4", "t2", "no"), ("w4", "t3", "yes"), ("w4", "t4", "yes"), ("w4", "t5", "no"),
       ("w5", "t1", "no"), ("w5", "t2", "no"), ("w5", "t3", "no"), ("w5", "t4", "yes"), ("w5", "t5", "no")]
TOY_TRUTH = {"t1": "yes", "t2": "yes", "t3": "no", "t4": "yes", "t5": "no"}

_T = "1231239876--5fac0d234ffb2f3b00893"
SIMPLE = [
    ("good1", "eec", "goose"), ("good1", "efb", "parrot"), ("good1", "f03", "goose"), ("good1", "f05", "goose"),
    ("good1", "f02", "parrot"), ("good1", "f08", "parrot"),
    ("good2", "efb", "parrot"), ("good2", "ee8", "chicken"), ("good2", "f07", "parrot"), ("good2", "efd", "chicken"),
    ("good2", "ee4", "chicken"), ("good2", "f03", "goose"),
    ("good3", "ee8", "chicken"), ("good3", "eec", "goose"), ("good3", "f05", "goose"), ("good3", "f02", "parrot"),
    ("good3", "f08", "parrot"),
    ("good4", "eec", "goose"), ("good4", "ee8", "chicken"), ("good4", "f03", "goose"), ("good4", "ee4", "chicken"),
    ("fraud", "eec", "parrot"), ("fraud", "efb", "parrot"), ("fraud", "f07", "parrot"), ("fraud", "efd", "parrot"),
    ("fraud", "ee4", "parrot"), ("fraud", "f05", "parrot"),
    ("careless", "efb", "parrot"), ("careless", "ee8", "goose"), ("careless", "f02", "parrot"),
    ("careless", "f08", "parrot"), ("careless", "f07", "parrot"), ("careless", "efd", "goose"),
]
SIMPLE_TRUTH = {"eec": "goose", "f03": "goose", "f05": "goose", "efb": "parrot", "f02": "parrot", "f08": "parrot",
                "f07": "parrot", "ee8": "chicken", "efd": "chicken", "ee4": "chicken"}


def _frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Long-format answers; the simple dataset's task ids get crowd-kit's common prefix back."""
    return pd.DataFrame([(t if t.startswith("t") else _T + t, w, v) for w, t, v in rows],
                        columns=["example_id", "annotator", "value"])


@pytest.mark.parametrize(("max_iter", "tol"), [(10, 0.0), (100_500, 1e-5)])
def test_toy_ysda_labels_equal_the_ground_truth(max_iter: int, tol: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 10 iterations with tol 0 never "converge"
        cons = dawid_skene_consensus(_frame(TOY), max_iter=max_iter, tol=tol, random_state=0)
    assert cons["label"].to_dict() == TOY_TRUTH


@pytest.mark.parametrize(("max_iter", "tol"), [(10, 0.0), (100_500, 1e-5)])
def test_simple_dataset_sees_through_the_fraudster(max_iter: int, tol: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cons = dawid_skene_consensus(_frame(SIMPLE), max_iter=max_iter, tol=tol, random_state=0)
    assert {k[len(_T):]: v for k, v in cons["label"].items()} == SIMPLE_TRUTH


def _toy_matrix() -> tuple[np.ndarray, list[str]]:
    tasks = sorted(TOY_TRUTH)
    L = np.full((5, 5), -1, dtype=np.int8)
    for w, t, v in TOY:
        L[tasks.index(t), int(w[1]) - 1] = 1 if v == "yes" else 0
    return L, tasks


def test_gold_tasks_keep_their_gold_and_the_rest_follows() -> None:
    L, tasks = _toy_matrix()
    y = np.array([1 if t in ("t1", "t2") else -1 for t in tasks])  # crowd-kit's toy gold: t1, t2 = yes
    for max_iter in (1, 2, 10):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = DawidSkene(cardinality=2, abstain="missing", max_iter=max_iter, tol=0.0).fit(L, y)
        P = ds.predict_proba(L)
        assert np.allclose(P.sum(axis=1), 1.0)
        assert ds.predict(L, tie_break="first").tolist() == [1 if TOY_TRUTH[t] == "yes" else 0 for t in tasks]


# crowd-kit's "step by step" data: the toy answers of crowd-kit's test_ds_aggregation.py (w3 silent on t1)
STEP = [("t1", "w1", "no"), ("t1", "w2", "yes"), ("t1", "w4", "yes"), ("t1", "w5", "no"),
        ("t2", "w1", "yes"), ("t2", "w2", "yes"), ("t2", "w3", "yes"), ("t2", "w4", "no"), ("t2", "w5", "no"),
        ("t3", "w1", "yes"), ("t3", "w2", "no"), ("t3", "w3", "no"), ("t3", "w4", "yes"), ("t3", "w5", "no"),
        ("t4", "w1", "yes"), ("t4", "w2", "yes"), ("t4", "w3", "yes"), ("t4", "w4", "yes"), ("t4", "w5", "yes"),
        ("t5", "w1", "yes"), ("t5", "w2", "no"), ("t5", "w3", "no"), ("t5", "w4", "no"), ("t5", "w5", "no")]
# P(worker answers "no" | true class) and P("yes" | true class) after one iteration, per worker:
# crowd-kit's errors_iter_1 (rows = the observed label, columns = the true label no / yes)
ERRORS_ITER_1 = {"w1": [[0.14, 0.25], [0.86, 0.75]], "w2": [[0.75, 0.07], [0.25, 0.93]],
                 "w3": [[0.87, 0.09], [0.13, 0.91]], "w4": [[0.50, 0.31], [0.50, 0.69]],
                 "w5": [[1.00, 0.61], [0.00, 0.39]]}


def test_one_em_iteration_gives_crowd_kits_confusion_matrices_and_prior() -> None:
    L = np.full((5, 5), -1, dtype=np.int8)
    for t, w, v in STEP:
        L[int(t[1]) - 1, int(w[1]) - 1] = 1 if v == "yes" else 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = DawidSkene(cardinality=2, abstain="missing", smoothing=0.0, max_iter=1, tol=0.0).fit(L)
    for j, w in enumerate(["w1", "w2", "w3", "w4", "w5"]):
        expected = np.array(ERRORS_ITER_1[w]).T  # ours: confusion_[j, true, observed]
        np.testing.assert_allclose(ds.confusion_[j], expected, atol=0.006)
    np.testing.assert_allclose(ds.class_prior_, [0.49, 0.51], atol=0.006)  # crowd-kit's priors_iter_1
