"""Label efficiency of the query strategies: labels needed to reach 99% of random sampling's best score.

For each dataset, every strategy runs the same simulated annotation (``workbench.active.learning_curve``):
the same seeds, the same stratified seed sets, the same budgets (25 to 1,000 labels in steps of 25,
capped by the pool), batches of 25 with a refit after each, and the same estimator (logistic
regression, ``class_weight="balanced"``). The score is the mean over seeds on a fixed test split;
``labels`` is the smallest budget at which a strategy's mean reaches 99% of random's best mean,
``ratio`` = random's labels / the strategy's labels (higher is better; "-" = never reached).

Datasets (all read from $WORKBENCH_DATA_DIR, default ../shared/data; absent ones are skipped):

- ``youtube_spam``: the UCI YouTube Spam Collection (1,953 comments), TF-IDF of the text, a fixed
  stratified 30% test split (random_state=0), F1 of "spam" (the issue's benchmark).
- ``wrench_youtube``: the same kind of comments as WRENCH packages them (pool = train, test = test),
  TF-IDF of the text.
- ``snow2008_rte``: RTE-1 pairs (800), TF-IDF of text and hypothesis side by side, stratified 30% test.
- ``wrench_<task>`` for yelp, imdb, basketball, commercial, tennis, semeval: WRENCH ships only the
  labeling functions' votes for these (no text), so the features are the one-hot votes (pool = train,
  test = test); a different kind of feature space, a check that the default does not depend on text.

The metric is ``learning_curve``'s automatic rule (F1 of the minority class for binary tasks whose
minority is under 45%, accuracy otherwise) except for youtube_spam (F1 of spam, as the issue asks).

Usage::

    python benchmarks/bench_active.py                 # every dataset, every strategy, 5 seeds
    python benchmarks/bench_active.py --quick         # youtube_spam and wrench_youtube, 3 seeds, 4 strategies
    python benchmarks/bench_active.py --datasets youtube_spam --seeds 5 --strategies random,default
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import data_dir, machine_info, print_table  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from workbench.active import (  # noqa: E402
    DEFAULT_STRATEGY,
    EntropySampling,
    LeastConfidence,
    MarginSampling,
    QueryByCommittee,
    QueryStrategy,
    labels_to_reach,
    learning_curve,
    make_strategy,
)
from workbench.datasets import load_wrench, load_youtube_spam  # noqa: E402

Dataset = dict[str, Any]


def _tfidf() -> TfidfVectorizer:
    return TfidfVectorizer(sublinear_tf=True)


def _youtube_spam(root: Path) -> Dataset:
    df = load_youtube_spam(root)
    y = (df["label"] == "spam").to_numpy().astype(int)
    X = _tfidf().fit_transform(df["text"].fillna(""))
    _, test = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=0)
    return {"X": X, "y": y, "test": np.sort(test), "metric": "f1", "pos_label": 1,
            "conditions": "TF-IDF words; stratified 30% test (seed 0); F1 of spam"}


def _wrench_json(root: Path, name: str, split: str) -> list[dict[str, Any]]:
    raw = json.loads((root / f"wrench_{name}" / f"{split}.json").read_text(encoding="utf-8"))
    return list(raw.values())


def _wrench_youtube(root: Path) -> Dataset:
    train, test = _wrench_json(root, "youtube", "train"), _wrench_json(root, "youtube", "test")
    texts = [r["data"]["text"] for r in train + test]
    y = np.array([r["label"] for r in train + test])
    X = _tfidf().fit_transform(texts)
    return {"X": X, "y": y, "test": np.arange(len(train), len(y)), "metric": None, "pos_label": None,
            "conditions": "TF-IDF words; WRENCH train pool / test split"}


def _rte(root: Path) -> Dataset:
    df = pd.read_csv(root / "snow2008_rte_temporal" / "rte1_texts.tsv", sep="\t", dtype=str, keep_default_na=False)
    y = (df["value"] == "TRUE").to_numpy().astype(int)
    X = sp.hstack([_tfidf().fit_transform(df["text"]), _tfidf().fit_transform(df["hypothesis"])], format="csr")
    _, test = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=0)
    return {"X": X, "y": y, "test": np.sort(test), "metric": None, "pos_label": None,
            "conditions": "TF-IDF text | hypothesis; stratified 30% test (seed 0)"}


def _one_hot_votes(L: np.ndarray, n_values: int) -> sp.csr_matrix:
    """One column per (LF, class) with a 1 where the LF voted that class; abstain is the all-zero reference."""
    rows, lfs = np.nonzero(L >= 0)
    cols = lfs * n_values + L[rows, lfs].astype(np.int64)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(L.shape[0], L.shape[1] * n_values))


def _wrench_votes(name: str) -> Callable[[Path], Dataset]:
    def load(root: Path) -> Dataset:
        L_tr, y_tr = load_wrench(name, "train", path=root)
        L_te, y_te = load_wrench(name, "test", path=root)
        L = np.r_[L_tr, L_te]
        y = np.r_[y_tr, y_te]
        X = _one_hot_votes(L, int(max(y.max(), L.max())) + 1)
        return {"X": X, "y": y, "test": np.arange(len(y_tr), len(y)), "metric": None, "pos_label": None,
                "conditions": f"one-hot votes of {L.shape[1]} LFs (no text in WRENCH's {name}); WRENCH train/test"}

    return load


DATASETS: dict[str, Callable[[Path], Dataset]] = {
    "youtube_spam": _youtube_spam,
    "wrench_youtube": _wrench_youtube,
    "snow2008_rte": _rte,
    **{f"wrench_{n}": _wrench_votes(n) for n in ("yelp", "imdb", "basketball", "commercial", "tennis", "semeval")},
}


def candidate_strategies() -> dict[str, str | QueryStrategy]:
    """Everything compared; ``default`` is what ``make_strategy(DEFAULT_STRATEGY)`` gives."""
    return {
        "random": "random",
        "default": make_strategy(DEFAULT_STRATEGY),
        "stratified": "stratified",
        "least_confidence": LeastConfidence(),
        "entropy": EntropySampling(),
        "margin": MarginSampling(),
        "entropy+kcenter": EntropySampling(diversity="kcenter", candidate_factor=3),
        "entropy+kcenter+random10%": EntropySampling(diversity="kcenter", candidate_factor=3, random_share=0.1),
        "entropy+cluster+random10%": EntropySampling(diversity="cluster", candidate_factor=3, random_share=0.1),
        "entropy+random10%": EntropySampling(random_share=0.1),
        "margin+cluster": MarginSampling(diversity="cluster", candidate_factor=3),
        "committee": QueryByCommittee(),
        "committee+vote": QueryByCommittee(disagreement="vote_entropy"),
    }


def run(name: str, data: Dataset, strategies: dict[str, Any], seeds: int, max_budget: int,
        n_jobs: int) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    pool_size = len(data["y"]) - len(data["test"])
    budgets = list(range(25, min(max_budget, pool_size) + 1, 25))
    estimator = LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curve = learning_curve(data["X"], data["y"], test=data["test"], estimator=estimator, strategies=strategies,
                               budgets=budgets, seeds=range(seeds), batch_size=25, metric=data["metric"],
                               pos_label=data["pos_label"], n_jobs=n_jobs)
    seconds = time.perf_counter() - t0
    return curve, labels_to_reach(curve, fraction=0.99, reference="random"), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="youtube_spam and wrench_youtube, 3 seeds, random/default/entropy")
    parser.add_argument("--datasets", default=None, help=f"comma-separated, from {list(DATASETS)}")
    parser.add_argument("--strategies", default=None, help="comma-separated names of candidate_strategies()")
    parser.add_argument("--seeds", type=int, default=None, help="simulated runs per strategy (default 5; quick 3)")
    parser.add_argument("--max-budget", type=int, default=1000)
    parser.add_argument("--n-jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--save", default=None, help="write the curves (CSV) and the table (CSV) with this prefix")
    args = parser.parse_args(argv)

    root = data_dir()
    if root is None:
        print("No data directory (set WORKBENCH_DATA_DIR); nothing to measure.")
        return 0
    names = args.datasets.split(",") if args.datasets else (
        ["youtube_spam", "wrench_youtube"] if args.quick else list(DATASETS))
    seeds = args.seeds or (3 if args.quick else 5)
    every = candidate_strategies()
    chosen = args.strategies.split(",") if args.strategies else (
        ["random", "default", "entropy"] if args.quick else list(every))
    unknown = [s for s in chosen + names if s not in every and s not in DATASETS]
    if unknown:
        parser.error(f"unknown names {unknown}; strategies: {list(every)}, datasets: {list(DATASETS)}")
    if "random" not in chosen:
        chosen = ["random", *chosen]
    strategies = {s: every[s] for s in chosen}
    print(machine_info())
    print(f"default strategy: {DEFAULT_STRATEGY!r} = {make_strategy(DEFAULT_STRATEGY)!r}; {seeds} seeds; budgets 25.."
          f"{args.max_budget} step 25; batch 25; LogisticRegression(C=10, class_weight='balanced')")
    rows, curves, tables = [], [], []
    total = 0.0
    for name in names:
        try:
            data = DATASETS[name](root)
        except (OSError, ValueError) as exc:
            print(f"{name}: skipped ({exc})")
            continue
        curve, table, seconds = run(name, data, strategies, seeds, args.max_budget, args.n_jobs)
        total += seconds
        metric = curve["metric"].iloc[0]
        ref = float(table["labels"].iloc[0])
        note = ("saturated: random reaches the target with the seed set alone" if ref <= curve["n_labels"].min()
                else "")
        for r in table.to_dict("records"):
            rows.append([name, r["strategy"], int(r["labels"]) if r["reached"] else "-",
                         f"{r['ratio']:.2f}x" if r["reached"] else "-", f"{r['best_score']:.3f}",
                         f"{r['target']:.3f}", metric, note])
        print(f"{name}: {len(data['y']) - len(data['test'])} pool / {len(data['test'])} test rows, "
              f"{data['conditions']}; {seconds:.0f} s")
        print_table(["strategy", "labels", "ratio", "best mean"], [r[1:5] for r in rows[-len(table):]])
        curve.insert(0, "dataset", name)
        table.insert(0, "dataset", name)
        curves.append(curve)
        tables.append(table)
        if args.save:
            pd.concat(curves).to_csv(f"{args.save}_curves.csv", index=False)
            pd.concat(tables).to_csv(f"{args.save}_table.csv", index=False)
    print_table(["dataset", "strategy", "labels to 99% of random's best", "ratio vs random", "best mean",
                 "target", "metric", "note"], rows, title="Label efficiency (mean over seeds; higher ratio is better)")
    if tables:
        allt = pd.concat(tables)
        saturated = {r[0] for r in rows if r[7]}
        allt = allt[~allt["dataset"].isin(saturated)]
        summary = []
        for s in strategies:
            ratios = allt.loc[allt["strategy"] == s, "ratio"].to_numpy(dtype=float)
            ok = ratios[~np.isnan(ratios)]
            geo = float(np.exp(np.log(ok).mean())) if len(ok) else float("nan")
            summary.append([s, f"{geo:.2f}x", f"{ok.min():.2f}x" if len(ok) else "-", int(np.isnan(ratios).sum()),
                            len(ratios)])
        print_table(["strategy", "geometric mean ratio", "worst ratio", "never reached", "datasets"], summary,
                    title="Across datasets (saturated ones left out; a ratio is random's labels / the strategy's)")
    print(f"\nwall time of the simulations: {total:.0f} s ({args.n_jobs} worker(s))")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
