"""Label models against their peers, measured in the same run.

(a) WRENCH youtube: test accuracy of majority vote, our Dawid-Skene (defaults and the
    Snorkel-like setting) and Snorkel's LabelModel, all fitted on the train split's votes.
(b) Simulated 1,000,000 x 50 binary LFs (coverage 0.1-0.3, accuracy 0.55-0.9, seeded):
    fit + predict_proba wall time and peak memory of our DawidSkene vs Snorkel's
    LabelModel(n_epochs=100), each in its own subprocess so that peak RSS is its own, and
    accuracy against the simulated truth.
(c) Crowd consensus on Snow et al. 2008 RTE (800 items x 164 workers): our DawidSkene
    (abstain="missing") vs crowd-kit's DawidSkene, if crowd-kit is installed.

Usage::

    python benchmarks/bench_label_models.py            # 1,000,000 rows
    python benchmarks/bench_label_models.py --quick    # 100,000 rows, smoke run

Real data is read from $WORKBENCH_DATA_DIR (default: ../shared/data from the repo root);
parts that need it are skipped with a message when it is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import data_dir  # noqa: E402


def rss_mb() -> float:
    """Current resident set size of this process, MB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """Peak resident set size of this process, MB.

    Read from VmHWM, which belongs to this process image: ``ru_maxrss`` would carry over the
    parent's resident size at fork time across ``exec``.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KB on Linux


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, sep, *body])


# -- (a) WRENCH youtube ---------------------------------------------------------------------


def load_wrench(split: str, root: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = json.loads((root / "wrench_youtube" / f"{split}.json").read_text(encoding="utf-8"))
    L = np.array([r["weak_labels"] for r in raw.values()], dtype=np.int8)
    y = np.array([r["label"] for r in raw.values()], dtype=np.int64)
    return L, y


def expected_random_accuracy(proba: np.ndarray, y: np.ndarray) -> float:
    top = proba.max(axis=1, keepdims=True)
    cand = proba >= top - 1e-9
    return float(np.mean(cand[np.arange(len(y)), y] / cand.sum(axis=1)))


def bench_wrench(skip_snorkel: bool) -> None:
    from workbench.models import DawidSkene, MajorityVote, SnorkelLabelModel, evaluate

    root = data_dir()
    if root is None or not (root / "wrench_youtube").is_dir():
        print("(a) skipped: wrench_youtube not found (set WORKBENCH_DATA_DIR)\n")
        return
    L_train, _ = load_wrench("train", root)
    L_test, y_test = load_wrench("test", root)
    models: dict[str, Any] = {
        "MajorityVote": MajorityVote(),
        "DawidSkene() default": DawidSkene(),
        "DawidSkene(votes_only, uniform)": DawidSkene(abstain="votes_only", class_prior="uniform"),
    }
    if not skip_snorkel:
        models["Snorkel LabelModel (100 ep)"] = SnorkelLabelModel(n_epochs=100, random_state=0)
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(L_train)
        fit_s = time.perf_counter() - start
        proba = model.predict_proba(L_test)
        first = evaluate(y_test, proba, L=L_test, tie_break="first")
        abst = evaluate(y_test, proba, L=L_test, tie_break="abstain")
        rows.append(
            [
                name,
                f"{first['accuracy']:.3f}",
                f"{expected_random_accuracy(proba, y_test):.4f}",
                f"{abst['accuracy']:.3f}",
                f"{abst['coverage']:.3f}",
                f"{first['macro_f1']:.3f}",
                f"{first['log_loss']:.3f}",
                f"{first['ece']:.3f}",
                f"{fit_s:.2f}",
            ]
        )
    print("(a) WRENCH youtube, fit on train votes (1,586 items), scored on test (250 gold items, 18 uncovered)")
    print(
        table(
            rows,
            [
                "model",
                "acc first",
                "acc random(E)",
                "acc abstain",
                "coverage",
                "macro-F1",
                "log loss",
                "ECE",
                "fit s",
            ],
        )
    )
    print(
        "acc random(E) is the exact expectation under uniform random tie breaking; 'abstain' counts\n"
        "ties and rows without votes as wrong. Published (WRENCH, other copy of LF 7): MV 0.840, Snorkel 0.864.\n"
    )


# -- (b) simulated scale --------------------------------------------------------------------


def simulate(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n).astype(np.int8)
    coverage = rng.uniform(0.1, 0.3, size=m)
    accuracy = rng.uniform(0.55, 0.9, size=m)
    L = np.full((n, m), -1, dtype=np.int8)
    for j in range(m):
        fire = rng.random(n) < coverage[j]
        correct = rng.random(n) < accuracy[j]
        L[:, j] = np.where(fire, np.where(correct, y, 1 - y), -1)
    return L, y, coverage, accuracy


def worker(model_name: str, folder: Path) -> None:
    """Runs in a subprocess: load the data, fit, predict_proba, report time and memory."""
    from workbench.models import DawidSkene, MajorityVote, break_ties

    if model_name == "snorkel":
        from snorkel.labeling.model import LabelModel

    L = np.load(folder / "L.npy")
    y = np.load(folder / "y.npy")
    before = rss_mb()
    start = time.perf_counter()
    if model_name == "snorkel":
        lm = LabelModel(cardinality=2, verbose=False)
        lm.fit(L, n_epochs=100, seed=0, progress_bar=False)
        fit_s = time.perf_counter() - start
        proba = lm.predict_proba(L)
        extra: dict[str, Any] = {}
    else:
        model = DawidSkene(random_state=0) if model_name == "dawid_skene" else MajorityVote()
        model.fit(L)
        fit_s = time.perf_counter() - start
        proba = model.predict_proba(L)
        extra = {"n_iter": int(getattr(model, "n_iter_", 0))}
    total_s = time.perf_counter() - start
    pred = break_ties(proba, "random", random_state=0)
    out = {
        "model": model_name,
        "fit_s": fit_s,
        "total_s": total_s,
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
        "accuracy": float((pred == y).mean()),
        **extra,
    }
    print(json.dumps(out))


def run_worker(model_name: str, folder: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", model_name, "--data", str(folder)]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {model_name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_scale(n: int, m: int, seed: int, skip_snorkel: bool) -> None:
    L, y, _, _ = simulate(n, m, seed)
    nnz = int((L >= 0).sum())
    with tempfile.TemporaryDirectory(prefix="bench_label_models_") as tmp:
        folder = Path(tmp)
        np.save(folder / "L.npy", L)
        np.save(folder / "y.npy", y)
        del L
        names = ["majority_vote", "dawid_skene"] + ([] if skip_snorkel else ["snorkel"])
        results = {name: run_worker(name, folder) for name in names}
    print(
        f"(b) simulated {n:,} items x {m} binary LFs (seed {seed}; coverage 0.1-0.3, accuracy 0.55-0.9; "
        f"{nnz:,} votes), fit + predict_proba, each model in its own subprocess"
    )
    rows = []
    for name, r in results.items():
        rows.append(
            [
                name,
                f"{r['fit_s']:.2f}",
                f"{r['total_s']:.2f}",
                f"{r['peak_rss_mb']:.0f}",
                f"{r['peak_rss_mb'] - r['rss_before_mb']:.0f}",
                f"{r['accuracy']:.4f}",
                str(r.get("n_iter", "")),
            ]
        )
    print(
        table(
            rows,
            ["model", "fit s", "fit+proba s", "peak RSS MB", "peak - RSS before fit MB", "accuracy", "EM iters"],
        )
    )
    if "snorkel" in results:
        ds, sn = results["dawid_skene"], results["snorkel"]
        speed = sn["total_s"] / ds["total_s"]
        mem_total = sn["peak_rss_mb"] / ds["peak_rss_mb"]
        mem_delta = (sn["peak_rss_mb"] - sn["rss_before_mb"]) / max(ds["peak_rss_mb"] - ds["rss_before_mb"], 1.0)
        print(
            f"DawidSkene vs Snorkel: {speed:.1f}x faster (target >= 5x), "
            f"peak RSS {1 / mem_total:.2f}x of Snorkel's (target <= 0.25; {mem_total:.1f}x less), "
            f"memory above the loaded data {1 / mem_delta:.2f}x of Snorkel's ({mem_delta:.1f}x less), "
            f"accuracy {ds['accuracy']:.5f} vs {sn['accuracy']:.5f} "
            f"({'>=' if ds['accuracy'] >= sn['accuracy'] else '<'} Snorkel's)"
        )
    print()


# -- (c) crowd consensus ----------------------------------------------------------------------


def bench_crowd() -> None:
    import pandas as pd

    from workbench.models import DawidSkene, MajorityVote

    root = data_dir()
    path = None if root is None else root / "snow2008_rte_temporal" / "rte.standardized.tsv"
    if path is None or not path.is_file():
        print("(c) skipped: snow2008_rte_temporal not found\n")
        return
    df = pd.read_csv(path, sep="\t", dtype={"orig_id": str, "!amt_worker_ids": str})
    items, item_ids = pd.factorize(df["orig_id"])
    workers, worker_ids = pd.factorize(df["!amt_worker_ids"])
    L = np.full((len(item_ids), len(worker_ids)), -1, dtype=np.int8)
    L[items, workers] = df["response"].to_numpy()
    y = np.zeros(len(item_ids), dtype=np.int64)
    y[items] = df["gold"].to_numpy()
    rows = []
    start = time.perf_counter()
    ds = DawidSkene(abstain="missing").fit(L)
    pred = ds.predict(L, tie_break="first")
    rows.append(
        ["workbench DawidSkene(abstain='missing')", f"{(pred == y).mean():.4f}", f"{time.perf_counter() - start:.3f}"]
    )
    mv = MajorityVote().fit(L)
    rows.append(
        ["workbench MajorityVote (E random ties)", f"{expected_random_accuracy(mv.predict_proba(L), y):.4f}", ""]
    )
    ck_time = None
    try:
        from crowdkit.aggregation import DawidSkene as CKDawidSkene
    except ImportError:
        rows.append(["crowd-kit DawidSkene", "not installed", ""])
    else:
        long = pd.DataFrame({"task": df["orig_id"], "worker": df["!amt_worker_ids"], "label": df["response"]})
        start = time.perf_counter()
        ck = CKDawidSkene(n_iter=100).fit_predict(long)
        ck_time = time.perf_counter() - start
        gold = pd.Series(y, index=item_ids)
        rows.append(
            ["crowd-kit DawidSkene(n_iter=100)", f"{(ck.reindex(gold.index) == gold).mean():.4f}", f"{ck_time:.3f}"]
        )
    print(f"(c) crowd consensus, Snow et al. 2008 RTE ({L.shape[0]} items x {L.shape[1]} workers, 10 labels/item)")
    print(table(rows, ["aggregator", "accuracy", "seconds"]))
    if ck_time is not None:
        ours = float(rows[0][2])
        print(f"workbench DawidSkene is {ck_time / ours:.1f}x faster than crowd-kit's here")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100,000 simulated rows instead of 1,000,000")
    parser.add_argument("--rows", type=int, default=None, help="simulated rows (overrides --quick)")
    parser.add_argument("--lfs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-snorkel", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, Path(args.data))
        return
    n = args.rows or (100_000 if args.quick else 1_000_000)
    bench_wrench(args.skip_snorkel)
    bench_scale(n, args.lfs, args.seed, args.skip_snorkel)
    bench_crowd()


if __name__ == "__main__":
    main()
