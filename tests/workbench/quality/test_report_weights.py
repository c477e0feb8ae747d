"""Recommended vote weights: they shrink with the evidence, survive a flag, and never hurt consensus."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import DataError
from workbench.quality import annotator_report, majority_consensus

START = pd.Timestamp("2026-01-05 09:00", tz="UTC")
N_LABELS = 3


def campaign(
    seed: int, accuracy: np.ndarray, honeypots_per_week: int = 15, items_per_week: int = 100, overlap: int = 3
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """A seeded labeling campaign on a 3-class question.

    ``accuracy[a, w]`` is annotator a's true accuracy in week w; a wrong answer is one of the
    other two labels at random. Each week every annotator answers ``honeypots_per_week`` gold
    items, and ``items_per_week`` new items each go to ``overlap`` different annotators.
    Returns (annotations, honeypot gold, truth of the regular items).
    """
    rng = np.random.default_rng(seed)
    n_ann, n_weeks = accuracy.shape
    rows: list[tuple[str, str, int, pd.Timestamp]] = []
    gold: dict[str, int] = {}
    truth: dict[str, int] = {}

    def answer(a: int, w: int, true: int) -> int:
        return true if rng.random() < accuracy[a, w] else int((true + rng.integers(1, N_LABELS)) % N_LABELS)

    for w in range(n_weeks):
        t0 = START + pd.Timedelta(days=7 * w)
        for a in range(n_ann):
            for j in range(honeypots_per_week):
                eid = f"g{a}-{w}-{j}"
                gold[eid] = int(rng.integers(N_LABELS))
                rows.append((eid, f"w{a:02d}", answer(a, w, gold[eid]), t0 + pd.Timedelta(hours=j)))
        for i in range(items_per_week):
            eid = f"x{w}-{i}"
            truth[eid] = int(rng.integers(N_LABELS))
            for a in rng.choice(n_ann, size=overlap, replace=False):
                rows.append((eid, f"w{a:02d}", answer(int(a), w, truth[eid]), t0 + pd.Timedelta(hours=i % 48)))
    ann = pd.DataFrame(rows, columns=["example_id", "annotator", "value", "created_at"])
    return ann, pd.Series(gold), pd.Series(truth)


def consensus_accuracy(ann: pd.DataFrame, truth: pd.Series, weights: pd.Series | None) -> float:
    regular = ann.loc[ann["example_id"].isin(truth.index)]
    cons = majority_consensus(regular, tie_break="random", random_state=0, weights=weights, labels=[0, 1, 2])
    return float((cons["label"].to_numpy() == truth.loc[cons.index].to_numpy()).mean())


@pytest.mark.parametrize("with_drifter", [False, True])
def test_weighted_consensus_is_never_worse_for_steady_good_annotators(with_drifter: bool) -> None:
    """10 steady annotators with accuracies 0.75-0.95 (3 labels), 8 weeks, 30 honeypots each a week;
    optionally one more who falls from 0.90 to 0.60 in week 5 and gets flagged for drift."""
    plain, weighted, drifted = [], [], 0
    for seed in range(5):
        acc = np.repeat(np.linspace(0.75, 0.95, 10)[:, None], 8, axis=1)
        if with_drifter:
            acc = np.vstack([acc, np.r_[[0.9] * 4, [0.6] * 4][None, :]])
        ann, gold, truth = campaign(seed, acc, honeypots_per_week=30, items_per_week=60)
        report = annotator_report(ann, gold)
        steady = report.index[:10]
        assert not report.loc[steady, "flagged"].any()
        assert (report.loc[steady, "recommended_weight"] > 0.5).all()
        if with_drifter and report.loc["w10", "drifted"]:
            drifted += 1
            drifter = report.loc["w10"]
            assert drifter["flagged"] and drifter["weight_basis"].startswith("honeypots since")
            # weight of the recent accuracy (0.60 on 3 labels: log(2 * 0.6 / 0.4) ~ 1.1), not 0
            assert 0.4 < drifter["recommended_weight"] < report.loc[steady, "recommended_weight"].max()
            assert 0.45 < drifter["weight_accuracy"] < 0.75
        w = report["recommended_weight"]
        plain.append(consensus_accuracy(ann, truth, None))
        weighted.append(consensus_accuracy(ann, truth, w))
        assert weighted[-1] >= plain[-1] - 0.015  # a few of 480 items: tie-breaks and noise
    assert np.mean(weighted) >= np.mean(plain)
    assert drifted >= (4 if with_drifter else 0)


def test_weights_shrink_towards_the_crowd_with_thin_evidence() -> None:
    acc = np.repeat(np.array([[0.95], [0.55], [0.8], [0.8]]), 4, axis=1)
    ann, gold, _ = campaign(3, acc, honeypots_per_week=20, items_per_week=10)
    # a newcomer with only 3 honeypots, all right
    newcomer = pd.DataFrame(
        {"example_id": list(gold.index[:3]), "annotator": "new", "value": gold.iloc[:3].to_numpy(),
         "created_at": START}
    )
    report = annotator_report(pd.concat([ann, newcomer], ignore_index=True), gold)
    pooled = report.loc[report.index != "new", "weight_accuracy"].mean()
    assert report.loc["new", "weight_evidence"] == 3 and report.loc["new", "weight_basis"] == "honeypots"
    # 3/3 right is not 100 %: the posterior sits between the crowd and 1
    assert pooled < report.loc["new", "weight_accuracy"] < 0.95
    assert report.loc["w00", "recommended_weight"] > report.loc["new", "recommended_weight"]
    # a stronger prior pulls harder
    strong = annotator_report(pd.concat([ann, newcomer], ignore_index=True), gold, prior_strength=30)
    assert strong.loc["new", "weight_accuracy"] < report.loc["new", "weight_accuracy"]
    # the weak annotator (0.55 on 3 labels) is above chance: low weight, not 0
    assert 0 < report.loc["w01", "recommended_weight"] < report.loc["w02", "recommended_weight"]


def test_no_evidence_means_equal_weights_and_bad_prior_strength_raises() -> None:
    ann = pd.DataFrame({"example_id": ["1", "1", "2"], "annotator": ["a", "b", "a"], "value": [0, 1, 1]})
    report = annotator_report(ann)
    assert report["recommended_weight"].tolist() == [1.0, 1.0]
    assert report["weight_basis"].tolist() == ["prior", "prior"] and report["weight_accuracy"].isna().all()
    with pytest.raises(DataError, match="'prior_strength' parameter of annotator_report must be a positive"):
        annotator_report(ann, prior_strength=0)
