"""Labeling-function engine vs snorkel, measured in the same run.

(a) keyword/regex LFs, 100,000 rows x 10 LFs: LFEngine vs snorkel's PandasLFApplier running the
    equivalent per-row LFs (``re.search``); the label matrices must be identical.
(b) per-row Python LFs: LFEngine on 1 and on 2 processes vs PandasLFApplier (1 core).
(c) edit one keyword LF, then refresh lf_summary(gold) at 1,000,000 x 50 LFs (cache hit for
    the other 49) vs snorkel's full re-apply + LFAnalysis (snorkel's apply extrapolated from a
    subsample, said so in the output).
(d) lf_summary with gold at 1,000,000 x 50 vs snorkel's LFAnalysis(L, lfs).lf_summary(Y).
(e) memory of L: int8 vs snorkel's int64.
(f) the notebook's view of (c): edit one LF in a project with a live ``LFDashboard`` (gold, charts,
    the reliability check), from ``project.lfs.add`` returning to the dashboard redrawn, at
    100,000 x 50, vs snorkel's re-apply + LFAnalysis on the same rows (no dashboard on its side).

Text: the YouTube spam comments ($WORKBENCH_DATA_DIR/youtube_spam/*.csv, column CONTENT),
resampled with a fixed seed (or generated text when the data is absent).

Run ``python benchmarks/bench_lf.py`` (a few minutes) or ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import data_dir  # noqa: E402

from workbench.lf import (  # noqa: E402
    ABSTAIN,
    LFEngine,
    keywords,
    labeling_function,
    lf_summary,
    regex,
)

SPAM, HAM = 1, 0


def corpus(n: int, seed: int) -> pd.DataFrame:
    """n comments resampled from the YouTube spam data (or generated), with gold CLASS."""
    rng = np.random.default_rng(seed)
    root = data_dir()
    files = sorted((root / "youtube_spam").glob("*.csv")) if root is not None else []
    if files:
        base = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
        texts = base["CONTENT"].to_numpy(dtype=object)
        gold = base["CLASS"].to_numpy()
        source = f"YouTube spam comments ({len(base)} rows) resampled"
    else:
        words = np.array(
            ["check", "out", "my", "channel", "subscribe", "please", "song", "love", "great", "video", "http", "free"]
        )
        texts = np.array([" ".join(rng.choice(words, rng.integers(3, 15))) for _ in range(2000)], dtype=object)
        gold = rng.integers(0, 2, len(texts))
        source = "generated text (YouTube data absent)"
    pick = rng.integers(0, len(texts), n)
    df = pd.DataFrame(
        {"text": pd.array(texts[pick], dtype="str"), "gold": gold[pick]},
        index=pd.Index([f"r{i}" for i in range(n)], name="id"),
    )
    df.attrs["source"] = source
    return df


def timed(f: Any) -> tuple[Any, float]:
    gc.collect()
    t0 = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t0


# -- snorkel equivalents -------------------------------------------------------------------
def snorkel_regex_lf(name: str, pattern: str, flags: int, label: int) -> Any:
    from snorkel.labeling import LabelingFunction

    def f(x: Any, rx: re.Pattern[str], label: int) -> int:
        t = x.text
        return label if isinstance(t, str) and rx.search(t) else ABSTAIN

    return LabelingFunction(name, f, resources={"rx": re.compile(pattern, flags), "label": label})


KEYWORD_SPECS: list[tuple[str, list[str], int]] = [
    ("kw_my", ["my"], SPAM),
    ("kw_subscribe", ["subscribe", "sub4sub"], SPAM),
    ("kw_check", ["check out", "check my"], SPAM),
    ("kw_song", ["song"], HAM),
    ("kw_love", ["love", "like"], HAM),
    ("kw_free", ["free", "win", "giveaway"], SPAM),
    ("kw_channel", ["channel", "video"], SPAM),
]
REGEX_SPECS: list[tuple[str, str, int]] = [
    ("re_link", r"https?://", SPAM),
    ("re_money", r"\$\d+", SPAM),
    ("re_views", r"\b\d+\s*(?:views|million|billion)\b", HAM),
]


def ab_keyword_lfs() -> tuple[list[Any], list[Any]]:
    ours: list[Any] = []
    theirs: list[Any] = []
    for name, words, label in KEYWORD_SPECS:
        lf = keywords(name, words, label)
        ours.append(lf)
        theirs.append(snorkel_regex_lf(name, lf._search.pattern, lf._search.flags, label))
    for name, pattern, label in REGEX_SPECS:
        lf = regex(name, pattern, label)
        ours.append(lf)
        theirs.append(snorkel_regex_lf(name, pattern, re.IGNORECASE, label))
    return ours, theirs


def bench_a(n: int, seed: int) -> None:
    from snorkel.labeling import PandasLFApplier

    df = corpus(n, seed)
    # The same corpus with every text made unique (a random number appended): the engine then
    # cannot search distinct texts only, which shows its speed without that shortcut.
    rng = np.random.default_rng(seed + 10)
    unique = df.assign(text=df["text"] + pd.Series(rng.integers(0, 10**9, n).astype(str), index=df.index).radd(" "))
    ours, theirs = ab_keyword_lfs()
    print(f"(a) keyword/regex LFs, {n:,} rows x {len(ours)} LFs ({df.attrs['source']})")
    for label, data in [("resampled", df), ("all-unique", unique)]:
        engine = LFEngine(cache_dir=None, n_jobs=-1, progress=False)
        for lf in ours:
            engine.add(lf)
        engine.apply([("warmup", data.iloc[:1000])])
        res, t_ours = timed(lambda: engine.apply([("a", data)]))  # noqa: B023
        L_snorkel, t_snorkel = timed(lambda: PandasLFApplier(theirs).apply(data, progress_bar=False))  # noqa: B023
        assert np.array_equal(res.L, L_snorkel), "keyword/regex matrices differ from snorkel's"
        n_distinct = data["text"].nunique()
        print(f"    {label} texts ({n_distinct:,} distinct)")
        print(f"      workbench LFEngine      {t_ours:8.3f} s")
        print(f"      snorkel PandasLFApplier {t_snorkel:8.3f} s")
        print(f"      speed-up                {t_snorkel / t_ours:8.1f}x   (target >= 100x); matrices identical: True")


def row_lfs() -> list[Any]:
    @labeling_function()
    def check_out(x: Any) -> int:
        return SPAM if "check out" in x.text.lower() else ABSTAIN

    @labeling_function()
    def short_comment(x: Any) -> int:
        return HAM if len(x.text.split()) < 5 else ABSTAIN

    @labeling_function()
    def many_caps(x: Any) -> int:
        letters = [c for c in x.text if c.isalpha()]
        return SPAM if letters and sum(c.isupper() for c in letters) / len(letters) > 0.5 else ABSTAIN

    @labeling_function()
    def has_digits_and_link(x: Any) -> int:
        t = x.text
        return SPAM if any(c.isdigit() for c in t) and ("http" in t or ".com" in t) else ABSTAIN

    @labeling_function()
    def exclaims(x: Any) -> int:
        return SPAM if x.text.count("!") >= 3 else ABSTAIN

    return [check_out, short_comment, many_caps, has_digits_and_link, exclaims]


def bench_b(n: int, seed: int) -> None:
    from snorkel.labeling import LabelingFunction as SnorkelLF
    from snorkel.labeling import PandasLFApplier

    df = corpus(n, seed + 1)
    lfs = row_lfs()
    snorkel_lfs = [SnorkelLF(lf.name, lf._f) for lf in lfs]
    L_snorkel, t_snorkel = timed(lambda: PandasLFApplier(snorkel_lfs).apply(df, progress_bar=False))
    times = {}
    for jobs in (1, 2):
        engine = LFEngine(cache_dir=None, n_jobs=jobs, progress=False)
        for lf in snorkel_lfs:  # snorkel LF objects, accepted as they are
            engine.add(lf)
        res, times[jobs] = timed(lambda: engine.apply([("b", df)]))  # noqa: B023
        assert np.array_equal(res.L, L_snorkel), "per-row matrices differ from snorkel's"
    print(f"(b) per-row Python LFs, {n:,} rows x {len(lfs)} LFs (os.cpu_count()={os.cpu_count()})")
    print(f"    snorkel PandasLFApplier (1 core) {t_snorkel:8.3f} s")
    print(f"    workbench n_jobs=1               {times[1]:8.3f} s   speed-up {t_snorkel / times[1]:5.1f}x")
    print(f"    workbench n_jobs=2               {times[2]:8.3f} s   speed-up {t_snorkel / times[2]:5.1f}x")


def fifty_specs(seed: int) -> list[tuple[str, list[str], int]]:
    vocab = [
        "my",
        "subscribe",
        "check",
        "out",
        "song",
        "love",
        "like",
        "free",
        "win",
        "channel",
        "video",
        "please",
        "views",
        "music",
        "best",
        "follow",
        "money",
        "click",
        "link",
        "site",
        "youtube",
        "guys",
        "hey",
        "awesome",
        "cool",
        "great",
        "beautiful",
        "voice",
        "girl",
        "new",
        "album",
        "katy",
        "perry",
        "eminem",
        "shakira",
        "psy",
        "lmfao",
        "party",
        "rock",
        "dance",
        "gangnam",
        "style",
        "watch",
        "share",
        "comment",
        "thanks",
        "help",
        "facebook",
        "twitter",
    ]
    rng = np.random.default_rng(seed)
    specs = []
    for j in range(50):
        words = list(rng.choice(vocab, size=int(rng.integers(1, 4)), replace=False))
        specs.append((f"lf{j:02d}", words, int(rng.integers(0, 2))))
    return specs


def bench_cd(n: int, seed: int, snorkel_sample: int) -> None:
    from snorkel.labeling import LFAnalysis, PandasLFApplier

    df = corpus(n, seed + 2)
    gold = df["gold"].to_numpy()
    specs = fifty_specs(seed)
    with tempfile.TemporaryDirectory() as tmp:
        engine = LFEngine(cache_dir=Path(tmp) / "lf_cache", n_jobs=-1, progress=False)
        for name, words, label in specs:
            engine.add(keywords(name, words, label))
        _first, t_first = timed(lambda: engine.apply([("d1", df)]))
        # (c) edit one LF, re-apply (49 cache hits), refresh the summary; three different edits.
        name, words, label = specs[7]
        edit_times: list[float] = []
        for extra in ("sub4sub", "giveaway", "free money"):
            edited = keywords(name, [*words, extra], label)

            def refresh() -> tuple[Any, pd.DataFrame]:
                engine.add(edited)  # noqa: B023
                res = engine.apply([("d1", df)])
                return res, lf_summary(res.L, res.lf_names, gold=gold)

            (res, summary), t_edit = timed(refresh)
            edit_times.append(t_edit)
            recomputed = [k for k, v in res.computed.items() if v]
            assert recomputed == [name], recomputed
        t_edit = float(np.median(edit_times))
    # snorkel: re-apply all 50 LFs on a subsample, extrapolate; LFAnalysis on the full matrix.
    theirs = [snorkel_regex_lf(nm, keywords(nm, w, lab)._search.pattern, re.IGNORECASE, lab) for nm, w, lab in specs]
    theirs[7] = snorkel_regex_lf(name, edited._search.pattern, re.IGNORECASE, label)
    sub = df.iloc[:snorkel_sample]
    L_sub, t_sub = timed(lambda: PandasLFApplier(theirs).apply(sub, progress_bar=False))
    assert np.array_equal(L_sub, res.L[:snorkel_sample]), "50-LF matrices differ from snorkel's on the subsample"
    t_snorkel_apply = t_sub * n / snorkel_sample
    L64 = res.L.astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snorkel_summary, t_snorkel_summary = timed(lambda: LFAnalysis(L64, theirs).lf_summary(gold))
    t_ours_summary = min(timed(lambda: lf_summary(res.L, res.lf_names, gold=gold))[1] for _ in range(3))
    L_c = np.ascontiguousarray(res.L)  # row-major, as snorkel's appliers return it
    t_ours_summary_c = min(timed(lambda: lf_summary(L_c, res.lf_names, gold=gold))[1] for _ in range(3))
    for ours_col, their_col in [("coverage", "Coverage"), ("overlaps", "Overlaps"), ("conflicts", "Conflicts")]:
        assert np.allclose(summary[ours_col].to_numpy(), snorkel_summary[their_col].to_numpy()), ours_col
    assert np.array_equal(summary["correct"].to_numpy(), snorkel_summary["Correct"].to_numpy())
    assert np.array_equal(summary["incorrect"].to_numpy(), snorkel_summary["Incorrect"].to_numpy())
    assert np.allclose(summary["emp_acc"].to_numpy(), snorkel_summary["Emp. Acc."].to_numpy())
    t_snorkel_total = t_snorkel_apply + t_snorkel_summary
    print(f"(c) edit one keyword LF, refresh lf_summary(gold): {n:,} rows x {len(specs)} LFs")
    print(f"    workbench first apply (all 50, cold cache) {t_first:8.3f} s")
    print(
        f"    workbench edit + apply + lf_summary        {t_edit:8.3f} s   (median of 3 edits: "
        f"{', '.join(f'{t:.3f}' for t in edit_times)}; target < 1 s; re-applied: {recomputed})"
    )
    print(
        f"    snorkel re-apply 50 LFs (extrapolated from {snorkel_sample:,} rows: {t_sub:.2f} s) "
        f"{t_snorkel_apply:8.1f} s + LFAnalysis {t_snorkel_summary:.2f} s = {t_snorkel_total:.1f} s"
    )
    print(f"    speed-up                                   {t_snorkel_total / t_edit:8.1f}x")
    print(f"(d) lf_summary with gold, {n:,} x {len(specs)}")
    print(f"    workbench lf_summary         {t_ours_summary:8.3f} s   (engine's column-major L)")
    print(
        f"    workbench lf_summary         {t_ours_summary_c:8.3f} s   (row-major copy: "
        f"{t_snorkel_summary / t_ours_summary_c:.1f}x)"
    )
    print(f"    snorkel LFAnalysis.lf_summary {t_snorkel_summary:8.3f} s")
    print(
        f"    speed-up                     {t_snorkel_summary / t_ours_summary:8.1f}x   (target >= 20x); "
        "numbers equal on fully known gold: True"
    )
    print(f"(e) memory of L at {n:,} x {len(specs)}")
    print(
        f"    workbench int8 {res.L.nbytes / 1e6:8.1f} MB; snorkel int64 {L64.nbytes / 1e6:8.1f} MB; "
        f"ratio {L64.nbytes / res.L.nbytes:.0f}x (snorkel's applier returns {L_sub.dtype})"
    )


def bench_f(n: int, seed: int, snorkel_sample: int) -> None:
    from snorkel.labeling import LFAnalysis, PandasLFApplier

    import workbench as wb

    sys.path.insert(0, str(ROOT))
    from widgets.jupyter import LFDashboard

    df = corpus(n, seed + 3)
    gold = pd.Series(np.where(df["gold"].to_numpy() == SPAM, "spam", "ham"), index=df.index)
    specs = fifty_specs(seed)
    name, words, label = specs[7]
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the label models' convergence warnings
        project = wb.Project.create(Path(tmp) / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
        project.add_data(df[["text"]].reset_index(), id_column="id")
        for nm, w, lab in specs:
            project.lfs.add(keywords(nm, w, lab))
        dashboard = LFDashboard(project, gold=gold)
        _, t_open = timed(lambda: dashboard.refresh())
        walls, refreshes = [], []
        for extra in ("sub4sub", "giveaway", "free money"):
            edited = keywords(name, [*words, extra], label)
            _, t = timed(lambda: project.lfs.add(edited))  # noqa: B023 - the dashboard refreshes in the call
            result = dashboard.last_result
            assert result is not None
            recomputed = [k for k, v in result.computed.items() if v]
            assert recomputed == [name], recomputed
            walls.append(t)
            refreshes.append(dashboard.last_refresh_seconds)
        parts = dict(dashboard.timings)
        dashboard.close()
        project.close()
    theirs = [snorkel_regex_lf(nm, keywords(nm, w, lab)._search.pattern, re.IGNORECASE, lab) for nm, w, lab in specs]
    theirs[7] = snorkel_regex_lf(name, edited._search.pattern, re.IGNORECASE, label)
    sub = df.iloc[:snorkel_sample]
    L_sub, t_sub = timed(lambda: PandasLFApplier(theirs).apply(sub, progress_bar=False))
    L_full = np.tile(L_sub, (int(np.ceil(n / snorkel_sample)), 1))[:n].astype(np.int64)  # LFAnalysis input shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, t_analysis = timed(lambda: LFAnalysis(L_full, theirs).lf_summary(df["gold"].to_numpy()))
    t_snorkel = t_sub * n / snorkel_sample + t_analysis
    t_wall = float(np.median(walls))
    print(f"(f) edit one LF with a live LFDashboard (gold, charts, reliability): {n:,} rows x {len(specs)} LFs")
    print(f"    dashboard opened (first refresh, LFs applied when registered) {t_open:8.3f} s")
    print(f"    edit -> dashboard redrawn, median of 3        {t_wall:8.3f} s   "
          f"({', '.join(f'{t:.3f}' for t in walls)}; the dashboard's own refresh "
          f"{float(np.median(refreshes)):.3f} s: {', '.join(f'{k} {v:.3f}' for k, v in parts.items())})")
    print(f"    snorkel re-apply (extrapolated from {snorkel_sample:,} rows) + LFAnalysis {t_snorkel:8.1f} s")
    print(f"    speed-up                                      {t_snorkel / t_wall:8.1f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        bench_a(10_000, args.seed)
        bench_b(5_000, args.seed)
        bench_cd(50_000, args.seed, snorkel_sample=2_000)
        bench_f(10_000, args.seed, snorkel_sample=2_000)
    else:
        bench_a(100_000, args.seed)
        bench_b(50_000, args.seed)
        bench_cd(1_000_000, args.seed, snorkel_sample=10_000)
        bench_f(100_000, args.seed, snorkel_sample=10_000)


if __name__ == "__main__":
    main()
