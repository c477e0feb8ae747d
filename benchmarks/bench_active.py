"""Label efficiency of the query strategies: labels needed to reach 99% of random sampling's best score.

For each dataset and setup, every strategy runs the same simulated annotation
(``workbench.active.learning_curve``): the same seeds, the same stratified seed sets of 25, the same
budgets (25 to 1,000 labels in steps of 25, capped by the pool), batches of 25 with a refit after each,
the same estimator, features and refit. The score is the mean over seeds on a fixed test split;
``labels`` is the smallest budget at which a strategy's mean reaches 99% of random's best mean (the
issue's stopping rule), ``ratio`` = random's labels / the strategy's labels (higher is better; "-" =
never reached). ``interval`` is the 90% paired seed-bootstrap interval of the ratio
(``labels_to_reach(confidence=0.9)``: the seeds are redrawn with replacement, the same draw for every
strategy, and the whole rule recomputed; a replicate that never reaches counts as 0x): with a few
seeds one seed can move a ratio by a whole budget step, and the interval shows how far.

Setups (the estimator and the refit are shared by every strategy, random included):

- ``default`` (the primary row): the defaults of ``ActiveLearner(project)``: its default end model
  (``default_estimator()``, ``LogisticRegression(max_iter=1000, class_weight="balanced")``) on the
  features ``ActiveLearner(features="tfidf")`` builds (``TextFeatures("tfidf")``: word 1-2-grams,
  sublinear TF, fitted on all texts), refitted after every batch as it is (``learning_curve``'s
  default ``class_prior=None``, what ``ActiveLearner`` does).
- ``issue``: the estimator of the issue's example, ``LogisticRegression(max_iter=1000)``
  (unweighted), on the same features: the plain loop the issue measured.
- ``issue+seed-prior``: the same, every refit weighing the labeled rows by class back to the seed
  set's class distribution (``class_prior="seed"``, ``prior_weights``).
  (``class_prior="balanced"`` on the issue's estimator gives the same fits as ``default``: the
  same per-class weights, so it is not a setup of its own.)
- ``balanced-C10`` (youtube_spam only, the previous benchmark's setup): word unigram TF-IDF,
  ``LogisticRegression(C=10, class_weight="balanced", max_iter=1000)``, unweighted refit.

Datasets (all read from $WORKBENCH_DATA_DIR, default ../shared/data; absent ones are skipped):

- ``youtube_spam``: the UCI YouTube Spam Collection (1,953 comments), TF-IDF of the text, a fixed
  stratified 30% test split (``--split``, default random_state=0), F1 of "spam" (the issue's benchmark).
- ``wrench_youtube``: the same kind of comments as WRENCH packages them (pool = train, test = test),
  TF-IDF of the text.
- ``snow2008_rte``: RTE-1 pairs (800), TF-IDF of text and hypothesis side by side, stratified 30% test.
- ``wrench_<task>`` for yelp, imdb, basketball, commercial, tennis, semeval: WRENCH ships only the
  labeling functions' votes for these (no text), so the features are the one-hot votes (pool = train,
  test = test); a different kind of feature space, a check that the default does not depend on text.

The metric is ``learning_curve``'s automatic rule (F1 of the minority class for binary tasks whose
minority is under 45%, accuracy otherwise) except for youtube_spam (F1 of spam, as the issue asks).

Usage::

    python benchmarks/bench_active.py                 # every dataset, the three default setups
    python benchmarks/bench_active.py --quick         # youtube_spam and wrench_youtube, 3 seeds
    python benchmarks/bench_active.py --datasets youtube_spam --split 2 --strategies random,default
    python benchmarks/bench_active.py --strategies all    # every candidate strategy (slow)
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
    DiverseEntropySampling,
    EntropySampling,
    LeastConfidence,
    MarginSampling,
    QueryByCommittee,
    QueryStrategy,
    TextFeatures,
    default_estimator,
    labels_to_reach,
    learning_curve,
    make_strategy,
)
from workbench.datasets import load_wrench, load_youtube_spam  # noqa: E402
from workbench.models._base import one_hot_block  # noqa: E402

Dataset = dict[str, Any]


#: Text features per setup: what ActiveLearner(features="tfidf") builds, or the old benchmark's word TF-IDF.
TEXT_FEATURES = ("learner", "words")


def _tfidf(kind: str = "learner") -> Any:
    return TextFeatures("tfidf") if kind == "learner" else TfidfVectorizer(sublinear_tf=True)


def _youtube_spam(root: Path, features: str = "learner", split: int = 0) -> Dataset:
    df = load_youtube_spam(root)
    y = (df["label"] == "spam").to_numpy().astype(int)
    X = _tfidf(features).fit_transform(df["text"].fillna(""))
    _, test = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=split)
    return {"X": X, "y": y, "test": np.sort(test), "metric": "f1", "pos_label": 1,
            "conditions": f"TF-IDF ({features}); stratified 30% test (seed {split}); F1 of spam"}


def _wrench_json(root: Path, name: str, split: str) -> list[dict[str, Any]]:
    raw = json.loads((root / f"wrench_{name}" / f"{split}.json").read_text(encoding="utf-8"))
    return list(raw.values())


def _wrench_youtube(root: Path, features: str = "learner", split: int = 0) -> Dataset:
    train, test = _wrench_json(root, "youtube", "train"), _wrench_json(root, "youtube", "test")
    texts = [r["data"]["text"] for r in train + test]
    y = np.array([r["label"] for r in train + test])
    X = _tfidf(features).fit_transform(texts)
    return {"X": X, "y": y, "test": np.arange(len(train), len(y)), "metric": None, "pos_label": None,
            "conditions": f"TF-IDF ({features}); WRENCH train pool / test split"}


def _rte(root: Path, features: str = "learner", split: int = 0) -> Dataset:
    df = pd.read_csv(root / "snow2008_rte_temporal" / "rte1_texts.tsv", sep="\t", dtype=str, keep_default_na=False)
    y = (df["value"] == "TRUE").to_numpy().astype(int)
    X = sp.hstack([_tfidf(features).fit_transform(df["text"]), _tfidf(features).fit_transform(df["hypothesis"])],
                  format="csr")
    _, test = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=split)
    return {"X": X, "y": y, "test": np.sort(test), "metric": None, "pos_label": None,
            "conditions": f"TF-IDF ({features}) text | hypothesis; stratified 30% test (seed {split})"}


def _wrench_votes(name: str) -> Callable[..., Dataset]:
    def load(root: Path, features: str = "learner", split: int = 0) -> Dataset:
        L_tr, y_tr = load_wrench(name, "train", path=root)
        L_te, y_te = load_wrench(name, "test", path=root)
        L = np.r_[L_tr, L_te]
        y = np.r_[y_tr, y_te]
        # one column per (LF, class) with a 1 where the LF voted that class; abstain is the all-zero reference
        X = one_hot_block(L, int(max(y.max(), L.max())) + 1, 0, len(L))
        return {"X": X, "y": y, "test": np.arange(len(y_tr), len(y)), "metric": None, "pos_label": None,
                "conditions": f"one-hot votes of {L.shape[1]} LFs (no text in WRENCH's {name}); WRENCH train/test"}

    return load


DATASETS: dict[str, Callable[..., Dataset]] = {
    "youtube_spam": _youtube_spam,
    "wrench_youtube": _wrench_youtube,
    "snow2008_rte": _rte,
    **{f"wrench_{n}": _wrench_votes(n) for n in ("yelp", "imdb", "basketball", "commercial", "tennis", "semeval")},
}


#: Setups: (text features, estimator, learning_curve's class_prior); see the module docstring.
SETUPS: dict[str, tuple[str, Callable[[], Any], str | None]] = {
    "default": ("learner", default_estimator, None),
    "issue": ("learner", lambda: LogisticRegression(max_iter=1000), None),
    "issue+seed-prior": ("learner", lambda: LogisticRegression(max_iter=1000), "seed"),
    "balanced-C10": ("words", lambda: LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000), None),
}
#: Setups run by default on every dataset, and the extra ones run on youtube_spam only.
DEFAULT_SETUPS = ("default", "issue", "issue+seed-prior")
YOUTUBE_EXTRA_SETUPS = ("balanced-C10",)
#: A task where random sampling's best mean score stays below this carries no signal for these features and
#: this model (WRENCH basketball: minority-class F1 0.02, one seed's single hit): any strategy "reaches" 99% of
#: it by chance, so it is reported but left out of the summary, like a saturated task.
NO_SIGNAL = 0.1
#: Level of the paired seed-bootstrap interval of each ratio (``labels_to_reach(confidence=...)``).
CONFIDENCE = 0.9
#: Strategies of a default run (``--strategies all`` runs every candidate).
DEFAULT_STRATEGIES = ("random", "default", "default+ties", "margin", "entropy")


def candidate_strategies() -> dict[str, str | QueryStrategy]:
    """Everything compared; ``default`` is what ``make_strategy(DEFAULT_STRATEGY)`` gives."""
    return {
        "random": "random",
        "default": make_strategy(DEFAULT_STRATEGY),
        "default+ties": DiverseEntropySampling(tie_tolerance=0.05),
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
        n_jobs: int, setup: str = "default") -> tuple[pd.DataFrame, pd.DataFrame, float]:
    pool_size = len(data["y"]) - len(data["test"])
    budgets = list(range(25, min(max_budget, pool_size) + 1, 25))
    _, make_estimator, class_prior = SETUPS[setup]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curve = learning_curve(data["X"], data["y"], test=data["test"], estimator=make_estimator(),
                               strategies=strategies, budgets=budgets, seeds=range(seeds), batch_size=25,
                               metric=data["metric"], pos_label=data["pos_label"], class_prior=class_prior,
                               n_jobs=n_jobs)
    seconds = time.perf_counter() - t0
    table = labels_to_reach(curve, fraction=0.99, reference="random", confidence=CONFIDENCE if seeds > 1 else None)
    return curve, table, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="youtube_spam and wrench_youtube, 3 seeds, random/default/margin")
    parser.add_argument("--datasets", default=None, help=f"comma-separated, from {list(DATASETS)}")
    parser.add_argument("--strategies", default=None,
                        help=f"comma-separated names of candidate_strategies(), or 'all' "
                             f"(default {DEFAULT_STRATEGIES})")
    parser.add_argument("--setups", default=None,
                        help=f"comma-separated, from {list(SETUPS)} (default {DEFAULT_SETUPS}, plus "
                             f"{YOUTUBE_EXTRA_SETUPS} on youtube_spam)")
    parser.add_argument("--split", type=int, default=0, help="random_state of the stratified test split "
                        "(youtube_spam, snow2008_rte)")
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
    chosen = (list(every) if args.strategies == "all" else args.strategies.split(",") if args.strategies
              else ["random", "default", "margin"] if args.quick else list(DEFAULT_STRATEGIES))
    setups = args.setups.split(",") if args.setups else None
    unknown = [s for s in chosen if s not in every] + [n for n in names if n not in DATASETS] + [
        u for u in setups or [] if u not in SETUPS]
    if unknown:
        parser.error(f"unknown names {unknown}; strategies: {list(every)}, datasets: {list(DATASETS)}, "
                     f"setups: {list(SETUPS)}")
    if "random" not in chosen:
        chosen = ["random", *chosen]
    strategies = {s: every[s] for s in chosen}
    print(machine_info())
    print(f"default strategy: {DEFAULT_STRATEGY!r} = {make_strategy(DEFAULT_STRATEGY)!r}; {seeds} seeds; budgets 25.."
          f"{args.max_budget} step 25; batch 25; seed sets of 25 (stratified)")
    for u in SETUPS:
        print(f"setup {u!r}: features {SETUPS[u][0]}, {SETUPS[u][1]()!r}, class_prior={SETUPS[u][2]!r}")
    rows, curves, tables = [], [], []
    total = 0.0
    for name in names:
        todo = setups or [*DEFAULT_SETUPS, *(YOUTUBE_EXTRA_SETUPS if name == "youtube_spam" else ())]
        for setup in todo:
            try:
                data = DATASETS[name](root, features=SETUPS[setup][0], split=args.split)
            except (OSError, ValueError) as exc:
                print(f"{name}: skipped ({exc})")
                break
            curve, table, seconds = run(name, data, strategies, seeds, args.max_budget, args.n_jobs, setup)
            total += seconds
            metric = curve["metric"].iloc[0]
            ref = float(table["labels"].iloc[0])
            best_random = float(table["best_score"].iloc[0])
            note = ("saturated: random reaches the target with the seed set alone" if ref <= curve["n_labels"].min()
                    else f"no signal: random's best is {best_random:.3f} (< {NO_SIGNAL})" if best_random < NO_SIGNAL
                    else "")
            for r in table.to_dict("records"):
                interval = (f"{r['ratio_low']:.1f}-{r['ratio_high']:.1f}x" if "ratio_low" in r else "-")
                rows.append([name, setup, r["strategy"], int(r["labels"]) if r["reached"] else "-",
                             f"{r['ratio']:.2f}x" if r["reached"] else "-", interval, f"{r['best_score']:.3f}",
                             f"{r['target']:.3f}", metric, note])
            print(f"{name} [{setup}]: {len(data['y']) - len(data['test'])} pool / {len(data['test'])} test rows, "
                  f"{data['conditions']}; {seconds:.0f} s", flush=True)
            print_table(["strategy", "labels", "ratio", f"{CONFIDENCE:.0%} interval", "best mean"],
                        [r[2:7] for r in rows[-len(table):]])
            curve.insert(0, "setup", setup)
            curve.insert(0, "dataset", name)
            table.insert(0, "setup", setup)
            table.insert(0, "dataset", name)
            curves.append(curve)
            tables.append(table)
            if args.save:
                pd.concat(curves).to_csv(f"{args.save}_curves.csv", index=False)
                pd.concat(tables).to_csv(f"{args.save}_table.csv", index=False)
    print_table(["dataset", "setup", "strategy", "labels to 99% of random's best", "ratio vs random",
                 f"{CONFIDENCE:.0%} interval (seed bootstrap)", "best mean", "target", "metric", "note"], rows,
                title="Label efficiency (mean over seeds; higher ratio is better; primary setup: default)")
    if tables:
        allt = pd.concat(tables)
        saturated = {(r[0], r[1]) for r in rows if r[9]}  # saturated or no signal
        keep = [(d, u) not in saturated for d, u in zip(allt["dataset"], allt["setup"], strict=True)]
        allt = allt[keep]
        summary = []
        for setup in dict.fromkeys(allt["setup"]):
            for s in strategies:
                ratios = allt.loc[(allt["strategy"] == s) & (allt["setup"] == setup), "ratio"].to_numpy(dtype=float)
                ok = ratios[~np.isnan(ratios)]
                lows = allt.loc[(allt["strategy"] == s) & (allt["setup"] == setup)].get("ratio_low")
                sure = int((lows.to_numpy(dtype=float) >= 4.0).sum()) if lows is not None else "-"
                geo = float(np.exp(np.log(ok).mean())) if len(ok) else float("nan")
                summary.append([setup, s, f"{geo:.2f}x", f"{ok.min():.2f}x" if len(ok) else "-",
                                int(np.isnan(ratios).sum()), int((ok >= 4.0).sum()), sure, len(ratios)])
        print_table(["setup", "strategy", "geometric mean ratio", "worst ratio", "never reached", ">= 4x",
                     f">= 4x at the {CONFIDENCE:.0%} interval's low end", "datasets"],
                    summary, title="Across datasets (saturated and no-signal ones left out; a ratio is random's labels "
                                   "/ the strategy's)")
    print(f"\nwall time of the simulations: {total:.0f} s ({args.n_jobs} worker(s))")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
