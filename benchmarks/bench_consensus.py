"""Consensus on a large synthetic crowd: workbench vs crowd-kit, measured in the same run.

100,000 items, each labelled by 3 of 20 annotators whose accuracies range from near-random
to expert (seeded), 4 classes with an unbalanced prior. Both libraries start from the same
long-format DataFrame and use the same stopping rule (at most 100 EM iterations, tol 1e-5),
so the timings include each library's own data handling.

    python benchmarks/bench_consensus.py            # full run (a minute or two)
    python benchmarks/bench_consensus.py --quick    # 10,000 items, smoke run
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from workbench.quality import dawid_skene_consensus, majority_consensus


def make_crowd(
    n_items: int, n_annotators: int = 20, per_item: int = 3, n_classes: int = 4, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    rng = np.random.default_rng(seed)
    accuracy = np.linspace(0.35, 0.95, n_annotators)
    rng.shuffle(accuracy)
    prior = np.array([0.4, 0.3, 0.2, 0.1])[:n_classes]
    prior = prior / prior.sum()
    truth = rng.choice(n_classes, size=n_items, p=prior)
    # per_item distinct annotators per item, uniformly at random
    who = np.argsort(rng.random((n_items, n_annotators)), axis=1)[:, :per_item]
    items = np.repeat(np.arange(n_items), per_item)
    annotators = who.ravel()
    right = rng.random(items.size) < accuracy[annotators]
    # a wrong answer is biased: annotators confuse class c with c+1 twice as often
    shift = rng.choice(np.arange(1, n_classes), size=items.size, p=np.r_[2.0, np.ones(n_classes - 2)] / (n_classes))
    values = np.where(right, truth[items], (truth[items] + shift) % n_classes)
    ids = np.char.add("ex", np.arange(n_items).astype(str)).astype(object)
    names = np.char.add("w", np.arange(n_annotators).astype(str)).astype(object)
    ann = pd.DataFrame({"example_id": ids[items], "annotator": names[annotators], "value": values})
    gold = pd.Series(truth, index=pd.Index(ids, name="example_id"))
    return ann, gold, accuracy


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def accuracy_of(labels: pd.Series, gold: pd.Series) -> float:
    return float(np.mean(labels.to_numpy(dtype=object) == gold.reindex(labels.index).to_numpy(dtype=object)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 items, one repetition")
    parser.add_argument("--items", type=int, default=None, help="number of items (default 100,000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n_items = args.items or (10_000 if args.quick else 100_000)
    repeat = 1 if args.quick else 3  # best of `repeat` for the fast runs

    from crowdkit.aggregation import DawidSkene as CKDawidSkene
    from crowdkit.aggregation import MajorityVote as CKMajorityVote

    ann, gold, acc = make_crowd(n_items, seed=args.seed)
    ck_data = ann.rename(columns={"example_id": "task", "annotator": "worker", "value": "label"})
    print(
        f"crowd: {n_items:,} items x 3 of 20 annotators ({len(ann):,} labels), 4 classes, "
        f"annotator accuracy {acc.min():.2f}..{acc.max():.2f}, seed {args.seed}"
    )

    t_mv, mv = timed(lambda: majority_consensus(ann, tie_break="first"), repeat)
    t_ck_mv, ck_mv = timed(lambda: CKMajorityVote().fit_predict(ck_data), repeat)

    holder: dict[str, Any] = {}

    def ours() -> pd.DataFrame:
        frame, model, _ = dawid_skene_consensus(ann, random_state=0, return_model=True)
        holder["model"] = model
        return frame

    def theirs() -> pd.Series:
        model = CKDawidSkene(n_iter=100, tol=1e-5)
        holder["ck_model"] = model
        return model.fit_predict(ck_data)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # crowd-kit's pandas deprecation warnings
        t_ds, ds = timed(ours, repeat)
        t_ck_ds, ck_ds = timed(theirs, 1)  # crowd-kit's EM takes ~100 s at full size

    rows = [
        ("majority vote", t_mv, t_ck_mv, accuracy_of(mv["label"], gold), accuracy_of(ck_mv, gold), "", ""),
        (
            "Dawid-Skene",
            t_ds,
            t_ck_ds,
            accuracy_of(ds["label"], gold),
            accuracy_of(ck_ds, gold),
            holder["model"].n_iter_,
            len(holder["ck_model"].loss_history_),
        ),
    ]
    print(
        f"{'method':<14} {'workbench s':>11} {'crowd-kit s':>11} {'speed-up':>9} "
        f"{'acc wb':>7} {'acc ck':>7} {'iter wb':>7} {'iter ck':>7}"
    )
    for name, t_wb, t_ck, a_wb, a_ck, it_wb, it_ck in rows:
        print(
            f"{name:<14} {t_wb:>11.3f} {t_ck:>11.3f} {t_ck / t_wb:>8.1f}x "
            f"{a_wb:>7.4f} {a_ck:>7.4f} {it_wb!s:>7} {it_ck!s:>7}"
        )
    same = float(np.mean(ds["label"].to_numpy(dtype=object) == ck_ds.reindex(ds.index).to_numpy(dtype=object)))
    print(
        f"Dawid-Skene labels identical to crowd-kit's on {same:.2%} of items; "
        f"time ratio crowd-kit/workbench = {t_ck_ds / t_ds:.1f}"
    )


if __name__ == "__main__":
    main()
