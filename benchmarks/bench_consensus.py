"""Crowd consensus on a large synthetic crowd: workbench vs crowd-kit, measured in the same run.

100,000 items, each labelled by 3 of 20 annotators whose accuracies range from near-random
(0.35) to expert (0.95), 4 classes with an unbalanced prior and biased confusions (seeded).
Both libraries start from the same long-format DataFrame, so the timings include each library's
own data handling, and both are timed the same way (the same number of repeats, best of them):

* majority vote: ``workbench.quality.majority_consensus`` vs ``crowdkit.aggregation.MajorityVote``;
* Dawid-Skene: ``workbench.quality.dawid_skene_consensus`` (``workbench.models.DawidSkene``)
  vs ``crowdkit.aggregation.DawidSkene``, twice: (1) each library's defaults (both: at most 100
  iterations, tol 1e-5), each running to its own convergence; (2) exactly the same number of EM
  iterations on both sides (tol 0, ``--iterations``, default 20), which compares the cost of one
  iteration.

Run ``python benchmarks/bench_consensus.py`` (about a minute, most of it crowd-kit's EM) or
``--quick`` (10,000 items) for a smoke run.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import machine_info, print_table, timed  # noqa: E402

from workbench.quality import dawid_skene_consensus, majority_consensus  # noqa: E402


def make_crowd(
    n_items: int, n_annotators: int = 20, per_item: int = 3, n_classes: int = 4, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """Long-format annotations, the true labels, and each annotator's accuracy."""
    rng = np.random.default_rng(seed)
    accuracy = np.linspace(0.35, 0.95, n_annotators)
    rng.shuffle(accuracy)
    prior = np.array([0.4, 0.3, 0.2, 0.1])[:n_classes]
    prior = prior / prior.sum()
    truth = rng.choice(n_classes, size=n_items, p=prior)
    who = np.argsort(rng.random((n_items, n_annotators)), axis=1)[:, :per_item]  # distinct annotators
    items = np.repeat(np.arange(n_items), per_item)
    annotators = who.ravel()
    right = rng.random(items.size) < accuracy[annotators]
    # a wrong answer is biased: class c is mistaken for c+1 twice as often as for any other class
    shift_p = np.r_[2.0, np.ones(n_classes - 2)]
    shift = rng.choice(np.arange(1, n_classes), size=items.size, p=shift_p / shift_p.sum())
    values = np.where(right, truth[items], (truth[items] + shift) % n_classes)
    ids = np.char.add("ex", np.arange(n_items).astype(str)).astype(object)
    names = np.char.add("w", np.arange(n_annotators).astype(str)).astype(object)
    ann = pd.DataFrame({"example_id": ids[items], "annotator": names[annotators], "value": values})
    gold = pd.Series(truth, index=pd.Index(ids, name="example_id"))
    return ann, gold, accuracy


def accuracy_of(labels: pd.Series, gold: pd.Series) -> float:
    pred = labels.to_numpy(dtype=object)
    return float(np.mean(pred == gold.reindex(labels.index).to_numpy(dtype=object)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 items, one repetition")
    parser.add_argument("--items", type=int, default=None, help="number of items (default 100,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=20, help="EM iterations of the equal-work comparison")
    args = parser.parse_args()
    n_items = args.items or (10_000 if args.quick else 100_000)
    repeat = 1 if args.quick else 2  # best of `repeat`, the same on both sides

    from crowdkit.aggregation import DawidSkene as CKDawidSkene
    from crowdkit.aggregation import MajorityVote as CKMajorityVote

    print(machine_info())
    ann, gold, acc = make_crowd(n_items, seed=args.seed)
    ck_data = ann.rename(columns={"example_id": "task", "annotator": "worker", "value": "label"})
    print(
        f"crowd: {n_items:,} items x 3 of 20 annotators ({len(ann):,} labels), 4 classes, "
        f"annotator accuracy {acc.min():.2f}..{acc.max():.2f}, seed {args.seed}"
    )

    mv = timed(lambda: majority_consensus(ann, tie_break="first"), repeat)
    ck_mv = timed(lambda: CKMajorityVote().fit_predict(ck_data), repeat)

    holder: dict[str, Any] = {}

    def ours(max_iter: int = 100, tol: float = 1e-5, key: str = "model") -> pd.DataFrame:
        frame, model, _ = dawid_skene_consensus(ann, random_state=0, return_model=True, max_iter=max_iter, tol=tol)
        holder[key] = model
        return frame

    def theirs(n_iter: int = 100, tol: float = 1e-5, key: str = "ck_model") -> pd.Series:
        model = CKDawidSkene(n_iter=n_iter, tol=tol)
        holder[key] = model
        return model.fit_predict(ck_data)

    k = args.iterations
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # crowd-kit's pandas deprecation warnings
        ds = timed(ours, repeat)
        ck_ds = timed(theirs, repeat)
        ds_k = timed(lambda: ours(k, 0.0, "model_k"), repeat)
        ck_k = timed(lambda: theirs(k, 0.0, "ck_model_k"), repeat)

    rows = [
        [
            "majority vote",
            f"{mv.best:.3f}",
            f"{ck_mv.best:.3f}",
            f"{ck_mv.best / mv.best:.1f}x",
            f"{accuracy_of(mv.value['label'], gold):.4f}",
            f"{accuracy_of(ck_mv.value, gold):.4f}",
            "-",
            "-",
        ],
        [
            "Dawid-Skene",
            f"{ds.best:.3f}",
            f"{ck_ds.best:.3f}",
            f"{ck_ds.best / ds.best:.1f}x",
            f"{accuracy_of(ds.value['label'], gold):.4f}",
            f"{accuracy_of(ck_ds.value, gold):.4f}",
            str(holder["model"].n_iter_),
            str(len(holder["ck_model"].loss_history_)),
        ],
        [
            f"Dawid-Skene, {k} iterations each",
            f"{ds_k.best:.3f}",
            f"{ck_k.best:.3f}",
            f"{ck_k.best / ds_k.best:.1f}x",
            f"{accuracy_of(ds_k.value['label'], gold):.4f}",
            f"{accuracy_of(ck_k.value, gold):.4f}",
            str(holder["model_k"].n_iter_),
            str(len(holder["ck_model_k"].loss_history_)),
        ],
    ]
    print_table(
        ["method", "workbench s", "crowd-kit s", "speed-up", "acc wb", "acc ck", "iter wb", "iter ck"],
        rows,
        title=f"Consensus: workbench vs crowd-kit (same data, same run, best of {repeat} on both sides)",
    )
    same = np.mean(
        ds.value["label"].to_numpy(dtype=object) == ck_ds.value.reindex(ds.value.index).to_numpy(dtype=object)
    )
    print(
        f"\nDawid-Skene labels identical to crowd-kit's on {same:.2%} of items. Majority-vote ties: "
        f"workbench takes the first label in sorted order, crowd-kit the first column of its vote table."
    )


if __name__ == "__main__":
    main()
