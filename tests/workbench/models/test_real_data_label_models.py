"""Label models on real data: WRENCH youtube (LF votes) and Snow et al. 2008 RTE (crowd labels).

Figures measured with this copy of WRENCH youtube (fit on train, scored on the 250 test items,
18 of which no LF covers):

=================================================  =======  ==============  =========
model                                              "first"  "random" (exp.)  "abstain"
=================================================  =======  ==============  =========
MajorityVote                                       0.776    0.815           0.728
DawidSkene() (default)                             0.832    0.832           0.800
DawidSkene(abstain="votes_only", class_prior="uniform")  0.856  0.860      0.824
SnorkelLabelModel(n_epochs=100)                    0.836    0.840           0.804
=================================================  =======  ==============  =========

WRENCH publishes 0.840 for majority vote and 0.864 for Snorkel's model on its copy of the
data; none of the models above reaches 0.864 here (LF 7 differs between the known copies,
see the dataset's PROVENANCE.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.models import DawidSkene, MajorityVote, SnorkelLabelModel, compare_label_models

pytestmark = pytest.mark.data


def expected_random_accuracy(proba: np.ndarray, y: np.ndarray) -> float:
    """Exact expectation of accuracy under uniform random tie breaking."""
    top = proba.max(axis=1, keepdims=True)
    cand = proba >= top - 1e-9
    return float(np.mean(cand[np.arange(len(y)), y] / cand.sum(axis=1)))


def test_majority_vote_on_wrench_youtube(wrench_youtube) -> None:
    L_train, _ = wrench_youtube["train"]
    L_test, y_test = wrench_youtube["test"]
    mv = MajorityVote(random_state=0).fit(L_train)
    proba = mv.predict_proba(L_test)
    assert expected_random_accuracy(proba, y_test) == pytest.approx(0.815, abs=0.003)
    assert (mv.predict(L_test, tie_break="abstain") == y_test).mean() == pytest.approx(0.728)
    draws = [(mv.predict(L_test, random_state=s) == y_test).mean() for s in range(20)]
    assert 0.78 < min(draws) <= max(draws) < 0.86  # random tie-break varies by seed


def test_dawid_skene_on_wrench_youtube(wrench_youtube) -> None:
    L_train, _ = wrench_youtube["train"]
    L_test, y_test = wrench_youtube["test"]
    mv = MajorityVote().fit(L_train)
    mv_random = expected_random_accuracy(mv.predict_proba(L_test), y_test)
    mv_abstain = (mv.predict(L_test, tie_break="abstain") == y_test).mean()

    default = DawidSkene(random_state=0).fit(L_train)
    assert default.converged_
    for tie_break in ("first", "random"):
        acc = (default.predict(L_test, tie_break=tie_break) == y_test).mean()
        assert acc >= mv_random - 0.01  # the default is never worse than MV by > 1 point
    assert (default.predict(L_test, tie_break="abstain") == y_test).mean() >= mv_abstain

    best = DawidSkene(abstain="votes_only", class_prior="uniform", random_state=0).fit(L_train)
    proba = best.predict_proba(L_test)
    assert (proba.argmax(axis=1) == y_test).mean() >= 0.85
    assert expected_random_accuracy(proba, y_test) >= 0.855
    assert (best.predict(L_test, tie_break="abstain") == y_test).mean() >= 0.82

    # semi-supervision from the 120 gold items of the valid split does not hurt
    L_valid, y_valid = wrench_youtube["valid"]
    semi = DawidSkene(random_state=0).fit(np.vstack([L_train, L_valid]), np.r_[np.full(len(L_train), -1), y_valid])
    assert (semi.predict(L_test, tie_break="first") == y_test).mean() >= 0.832


@pytest.mark.slow
def test_compare_with_snorkel_on_wrench_youtube(wrench_youtube) -> None:
    pytest.importorskip("snorkel")
    L_train, _ = wrench_youtube["train"]
    L_test, y_test = wrench_youtube["test"]
    models = {
        "DawidSkene": DawidSkene(abstain="votes_only", class_prior="uniform").fit(L_train),
        "Snorkel": SnorkelLabelModel(random_state=0).fit(L_train),
        "MajorityVote": MajorityVote().fit(L_train),
    }
    df = compare_label_models(models, L_test, y_test, tie_break="first")
    assert df.loc["Snorkel", "accuracy"] == pytest.approx(0.836, abs=0.02)
    assert df.loc["DawidSkene", "accuracy"] >= df.loc["Snorkel", "accuracy"] + 0.01
    assert df.attrs["verdict"].startswith("DawidSkene beats majority vote by")
    assert (df["n_uncovered"] == 18).all()


def load_crowd(data_dir: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    path = data_dir / "snow2008_rte_temporal" / f"{name}.standardized.tsv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    df = pd.read_csv(path, sep="\t", dtype={"orig_id": str, "!amt_worker_ids": str})
    items, item_ids = pd.factorize(df["orig_id"])
    workers, worker_ids = pd.factorize(df["!amt_worker_ids"])
    base = min(df["response"].min(), df["gold"].min())
    L = np.full((len(item_ids), len(worker_ids)), -1, dtype=np.int8)
    L[items, workers] = df["response"].to_numpy() - base
    y = np.zeros(len(item_ids), dtype=np.int64)
    y[items] = df["gold"].to_numpy() - base
    return L, y


def test_crowd_consensus_on_snow2008_rte(data_dir: Path) -> None:
    L, y = load_crowd(data_dir, "rte")
    assert L.shape == (800, 164)
    ds = DawidSkene(abstain="missing", random_state=0).fit(L)
    assert (ds.predict(L) == y).mean() == pytest.approx(0.9275)  # crowd-kit's Dawid-Skene figure
    mv_expected = expected_random_accuracy(MajorityVote().fit(L).predict_proba(L), y)
    assert mv_expected == pytest.approx(0.897, abs=0.002)
