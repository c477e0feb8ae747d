"""Label models against their peers, measured in the same run.

(a) Every WRENCH dataset in the data directory (youtube, yelp, imdb, basketball, commercial,
    tennis, semeval): the default -- AutoLabelModel fitted on train + valid votes with the valid
    gold -- against majority vote, Dawid-Skene, Snorkel's LabelModel (tutorial settings, and a
    small grid chosen on valid as WRENCH does), the hyper label model (``hyperlm``, without
    and with the valid gold) and the class base rate (valid gold shares for every row), scored
    on test with WRENCH's metric (of the hard labels: ``decision_function``, which is
    ``predict_proba`` for every model but AutoLabelModel), ECE and Brier score (of
    ``predict_proba``, the soft labels).
(b) Simulated 1,000,000 x 50 binary LFs (coverage 0.1-0.3, accuracy 0.55-0.9, seeded):
    fit + predict_proba wall time and peak memory of our DawidSkene vs Snorkel's
    LabelModel(n_epochs=100), each in its own subprocess so that peak RSS is its own, and
    accuracy against the simulated truth.
(c) Crowd consensus on Snow et al. 2008 RTE (800 items x 164 workers): our DawidSkene
    (abstain="missing") vs crowd-kit's DawidSkene, if crowd-kit is installed.

Usage::

    python benchmarks/bench_label_models.py            # 1,000,000 rows
    python benchmarks/bench_label_models.py --quick    # 100,000 rows, no Snorkel grid, no HyperLM semi

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

from workbench.datasets import WRENCH_DATASETS, load_wrench  # noqa: E402


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


# -- (a) every WRENCH dataset ----------------------------------------------------------------


def expected_random_accuracy(proba: np.ndarray, y: np.ndarray) -> float:
    top = proba.max(axis=1, keepdims=True)
    cand = proba >= top - 1e-9
    return float(np.mean(cand[np.arange(len(y)), y] / cand.sum(axis=1)))


SNORKEL_GRID = [{"lr": lr, "l2": l2, "n_epochs": ep} for lr in (0.01, 0.001) for l2 in (0.0, 0.01) for ep in (100, 500)]


def _hyperlm_safe_globals() -> Any:
    """torch.load(weights_only=True) of HyperLM's checkpoint needs numpy's scalar allow-listed
    (the checkpoint predates torch 2.6); no pickle code runs beyond these two types."""
    import torch
    from numpy._core.multiarray import scalar  # type: ignore[attr-defined]

    return torch.serialization.safe_globals(
        [(scalar, "numpy.core.multiarray.scalar"), np.dtype, type(np.dtype("float64"))]
    )


def _hyperlm() -> Any:
    try:
        from hyperlm import HyperLabelModel
    except ImportError:
        return None
    with _hyperlm_safe_globals():
        return HyperLabelModel(device="cpu")


Cell = tuple[float, float, float]


def bench_wrench(skip_snorkel: bool, quick: bool, only: list[str] | None) -> dict[str, dict[str, Cell]]:
    """Every WRENCH folder: fit on train votes (+ valid votes with valid gold where a model uses gold),
    score on test with WRENCH's metric (expected over random tie breaks), ECE and Brier score."""
    from workbench.models import (
        AutoLabelModel,
        DawidSkene,
        MajorityVote,
        SnorkelLabelModel,
        calibration_errors,
        expected_score,
    )

    root = data_dir()
    names = [n for n in WRENCH_DATASETS if only is None or n in only]
    names = [n for n in names if root is not None and (root / f"wrench_{n}" / "train.json").is_file()]
    if not names:
        print("(a) skipped: no wrench_* folder found (set WORKBENCH_DATA_DIR)\n")
        return {}
    hlm = _hyperlm()
    if hlm is None:
        print("(a) hyperlm is not installed: its columns are skipped (pip install --no-deps hyperlm==0.0.5)")
    results: dict[str, dict[str, Cell]] = {}
    seconds: dict[str, dict[str, float]] = {}
    for name in names:
        metric = WRENCH_DATASETS[name]
        L_tr, _ = load_wrench(name, "train", path=root)
        L_va, y_va = load_wrench(name, "valid", path=root)
        L_te, y_te = load_wrench(name, "test", path=root)
        k = int(max(L_tr.max(), L_va.max(), L_te.max(), y_va.max(), y_te.max())) + 1
        L_fit = np.vstack([L_tr, L_va])
        y_fit = np.r_[np.full(len(L_tr), -1), y_va]
        row: dict[str, Cell] = {}
        secs: dict[str, float] = {}

        def record(
            label: str,
            proba: np.ndarray,
            t0: float,
            decision: np.ndarray | None = None,
            row: dict[str, Cell] = row,
            secs: dict[str, float] = secs,
            y_te: np.ndarray = y_te,
            metric: str = metric,
        ) -> None:
            """Score the hard labels (``decision``'s most probable class; ``proba``'s when None),
            ECE and Brier of the soft labels ``proba``."""
            secs[label] = time.perf_counter() - t0
            score = expected_score(y_te, proba if decision is None else decision, metric)
            errs = calibration_errors(y_te, proba, n_bootstrap=0)
            row[label] = (score, errs["ece"], errs["brier"])

        counts = np.bincount(y_va, minlength=k) + 1.0
        record(BASE_RATE, np.tile(counts / counts.sum(), (len(y_te), 1)), time.perf_counter())
        t0 = time.perf_counter()
        record("MajorityVote", MajorityVote(cardinality=k).fit(L_tr).predict_proba(L_te), t0)
        t0 = time.perf_counter()
        record("DawidSkene (no gold)", DawidSkene(cardinality=k, random_state=0).fit(L_tr).predict_proba(L_te), t0)
        if not skip_snorkel:
            t0 = time.perf_counter()
            tut = SnorkelLabelModel(cardinality=k, n_epochs=500, random_state=123).fit(L_tr)
            record("Snorkel (tutorial)", tut.predict_proba(L_te), t0)
            if not quick:
                t0 = time.perf_counter()
                grid = SNORKEL_GRID if L_tr.shape[1] * k <= 200 else [g for g in SNORKEL_GRID if g["n_epochs"] == 100]
                best, best_score = None, -1.0
                for params in grid:
                    cand = SnorkelLabelModel(cardinality=k, random_state=123, **params).fit(L_tr)
                    sc = expected_score(y_va, cand.predict_proba(L_va), metric)
                    if sc > best_score:
                        best, best_score = cand, sc
                assert best is not None
                record("Snorkel (grid on valid)", best.predict_proba(L_te), t0)
        if hlm is not None:
            L_all = np.vstack([L_tr, L_va, L_te]).astype(np.int64)
            te = slice(len(L_tr) + len(L_va), None)
            t0 = time.perf_counter()
            with _hyperlm_safe_globals():
                P = hlm.infer(L_all, return_probs=True)
            record("HyperLM (no gold)", _pad(P, k)[te], t0)
            if not quick:
                idx = np.arange(len(L_tr), len(L_tr) + len(L_va))
                t0 = time.perf_counter()
                with _hyperlm_safe_globals():
                    P = hlm.infer(L_all, y_indices=idx, y_vals=y_va, return_probs=True)
                record("HyperLM (valid gold)", _pad(P, k)[te], t0)
        t0 = time.perf_counter()
        record("Auto (no gold)", AutoLabelModel(cardinality=k, random_state=0).fit(L_tr).predict_proba(L_te), t0)
        t0 = time.perf_counter()
        auto = AutoLabelModel(cardinality=k, random_state=0).fit(L_fit, y_fit)
        record(DEFAULT, auto.predict_proba(L_te), t0, auto.decision_function(L_te))
        cal = auto.calibrator_["method"]
        if auto.decision_ != auto.calibrator_:
            cal += f"; decisions: {auto.decision_['method']}"
        secs["chosen: " + auto.chosen_ + " / " + cal] = 0.0
        results[name] = row
        seconds[name] = secs
        print(f"  {name}: {auto.chosen_} ({cal}), {secs[DEFAULT]:.1f} s", flush=True)
    _print_wrench(results, seconds)
    return results


DEFAULT = "AutoLabelModel (valid gold)"
BASE_RATE = "class base rate (valid gold shares)"


def _pad(P: np.ndarray, k: int) -> np.ndarray:
    """HyperLM infers k from the votes; give it the task's k columns."""
    P = np.asarray(P, dtype=np.float64)
    if P.shape[1] < k:
        P = np.hstack([P, np.zeros((P.shape[0], k - P.shape[1]))])
    P = np.clip(P, 0.0, None)
    total = P.sum(axis=1, keepdims=True)
    return np.where(total > 0, P / np.where(total > 0, total, 1.0), 1.0 / k)


def _print_wrench(results: dict[str, dict[str, Cell]], seconds: dict[str, dict[str, float]]) -> None:
    names = list(results)
    models = list(dict.fromkeys(m for r in results.values() for m in r))
    print(
        "\n(a) WRENCH: fit on train votes (+ valid votes with valid gold where a model uses gold), scored on test.\n"
        "Score = WRENCH's metric (accuracy, or F1 of class 1 for basketball/commercial/tennis), in expectation\n"
        "over uniformly random tie breaks) of the hard labels; ECE with 10 bins and Brier score (summed over\n"
        "classes) of the soft labels. Cells: score / ECE / Brier."
    )
    rows = []
    for m in models:
        cells = [f"{results[n][m][0]:.4f} / {results[n][m][1]:.3f} / {results[n][m][2]:.3f}" if m in results[n]
                 else "-" for n in names]
        have = [results[n][m][0] for n in names if m in results[n]]
        avg = f"{np.mean(have):.4f}" if len(have) == len(names) else "-"
        rows.append([m, *cells, avg])
    print(table(rows, ["model", *[f"{n} ({WRENCH_DATASETS[n]})" for n in names], "mean score"]))
    print("\nDefault minus each peer, points of the score (+ = the default is better); ECE, Brier default vs peer:")
    rows = []
    for m in models:
        if m == DEFAULT:
            continue
        diffs = []
        for n in names:
            if m not in results[n]:
                diffs.append("-")
                continue
            (d_score, d_ece, d_brier), (p_score, p_ece, p_brier) = results[n][DEFAULT], results[n][m]
            diffs.append(
                f"{(d_score - p_score) * 100:+.1f} ({'<=' if d_ece <= p_ece else '>'}, "
                f"{'<=' if d_brier <= p_brier else '>'})"
            )
        have = [results[n][DEFAULT][0] - results[n][m][0] for n in names if m in results[n]]
        worst = f"{min(have) * 100:+.1f}" if have else "-"
        mean = f"{np.mean(have) * 100:+.1f}" if len(have) == len(names) else "-"
        rows.append([m, *diffs, worst, mean])
    print(table(rows, ["peer", *names, "worst", "mean"]))
    chosen = {n: next((k for k in seconds[n] if k.startswith("chosen: ")), "")[8:] for n in names}
    print("\nAutoLabelModel's choice (calibration) and fit seconds:")
    print(table([[n, chosen[n], f"{seconds[n][DEFAULT]:.1f}"] for n in names], ["dataset", "chosen", "fit s"]))
    print()


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


#: Gold rows AutoLabelModel gets in part (b) (a random sample, seed 0).
AUTO_GOLD = 500


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
    elif model_name == "auto":
        from workbench.models import AutoLabelModel

        gold = np.full(L.shape[0], -1, dtype=np.int64)
        idx = np.random.default_rng(0).choice(L.shape[0], size=AUTO_GOLD, replace=False)
        gold[idx] = y[idx]
        model = AutoLabelModel(random_state=0).fit(L, gold)
        fit_s = time.perf_counter() - start
        proba = model.predict_proba(L)
        extra = {"n_iter": model.chosen_}
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
        names = ["majority_vote", "dawid_skene", "auto"] + ([] if skip_snorkel else ["snorkel"])
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
            [
                "model",
                "fit s",
                "fit+proba s",
                "peak RSS MB",
                "peak - RSS before fit MB",
                "accuracy",
                "EM iters / choice",
            ],
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
        au = results["auto"]
        print(
            f"AutoLabelModel ({AUTO_GOLD} gold rows, cross-validation included; chose {au.get('n_iter')}) vs Snorkel: "
            f"{sn['total_s'] / au['total_s']:.1f}x faster, peak RSS {au['peak_rss_mb'] / sn['peak_rss_mb']:.2f}x "
            f"of Snorkel's, accuracy {au['accuracy']:.5f}"
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
    parser.add_argument("--datasets", default=None, help="comma-separated WRENCH names (default: all)")
    parser.add_argument("--skip-scale", action="store_true", help="skip part (b)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, Path(args.data))
        return
    n = args.rows or (100_000 if args.quick else 1_000_000)
    bench_wrench(args.skip_snorkel, args.quick, args.datasets.split(",") if args.datasets else None)
    if not args.skip_scale:
        bench_scale(n, args.lfs, args.seed, args.skip_snorkel)
    bench_crowd()


if __name__ == "__main__":
    main()
