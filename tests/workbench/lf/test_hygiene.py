"""LFs get data they cannot change, run under a time limit, and the cache can be cleared and verified."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import LFError
from workbench.lf import ABSTAIN, LFEngine, keywords, labeling_function, regex, vectorized

SPAM, HAM = 1, 0


def make_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = np.array(["buy", "free", "song", "love", "check", "out", "great"], dtype=object)
    texts = [" ".join(rng.choice(words, size=int(rng.integers(1, 5)))) for _ in range(n)]
    return pd.DataFrame(
        {"text": pd.array(texts, dtype="str"), "n": rng.integers(0, 10, n), "tags": [["a"] for _ in range(n)]},
        index=pd.Index([f"r{i}" for i in range(n)], name="id"),
    )


def engine(tmp_path: Path | None = None, **kw: Any) -> LFEngine:
    kw.setdefault("n_jobs", 1)
    return LFEngine(cache_dir=None if tmp_path is None else tmp_path / "lf_cache", progress=False, **kw)


@labeling_function()
def buy(x: Any) -> int:
    return SPAM if "buy" in x.text else ABSTAIN


# --------------------------------------------------------------------------------------
# Read-only input
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("timeout", [None, 30.0], ids=["in-process", "forked-worker"])
def test_vectorized_lf_that_mutates_its_frame_raises_and_poisons_nothing(tmp_path: Path, timeout: Any) -> None:
    df = make_frame(40, seed=1)
    original = df.copy()

    @vectorized()
    def shouts(frame: pd.DataFrame) -> Any:
        frame["text"] = frame["text"].str.upper()  # writes into its input
        return np.full(len(frame), ABSTAIN)

    @vectorized(column="text")
    def edits_series(texts: pd.Series) -> Any:
        texts.iloc[0] = "buy buy buy"
        return np.full(len(texts), ABSTAIN)

    for bad in (shouts, edits_series):
        e = engine(tmp_path, timeout=timeout)
        e.add(buy)
        e.add(bad)
        with pytest.raises(LFError, match=rf"{bad.name!r} modified the (DataFrame|Series) it was given"):
            e.apply([("d1", df)])
        pd.testing.assert_frame_equal(df, original)
        assert not (tmp_path / "lf_cache").exists() or not list((tmp_path / "lf_cache").iterdir())
    clean = engine(tmp_path, timeout=timeout)
    clean.add(buy)
    assert clean.apply([("d1", df)]).L[:, 0].tolist() == [SPAM if "buy" in t else ABSTAIN for t in df["text"]]


def test_vectorized_lf_reading_its_input_is_not_flagged() -> None:
    @vectorized()
    def reads(frame: pd.DataFrame) -> Any:
        lowered = frame["text"].str.lower()  # a new Series: fine
        copy = frame.copy()
        copy["text"] = "x"  # a copy: fine
        return np.where(lowered.str.contains("love") & (copy["n"] >= 0), HAM, ABSTAIN)

    df = make_frame(30, seed=2)
    e = engine(timeout=None)
    e.add(reads)
    assert e.apply([("d1", df)]).L[:, 0].tolist() == [HAM if "love" in t else ABSTAIN for t in df["text"]]


@pytest.mark.parametrize("timeout", [None, 30.0], ids=["in-process", "forked-worker"])
def test_per_row_lfs_get_rows_that_do_not_leak(timeout: Any) -> None:
    df = make_frame(30, seed=3)
    original = df.copy()

    @labeling_function()
    def vandal(x: Any) -> int:
        x.text = "buy"  # reassign a field
        x.tags.append("mutated")  # change a mutable cell in place
        x.name = "renamed"
        return ABSTAIN

    @labeling_function()
    def observer(x: Any) -> int:
        return SPAM if x.text == "buy" or "mutated" in x.tags or x.name == "renamed" else ABSTAIN

    e = engine(timeout=timeout)
    e.add(vandal)
    e.add(observer)
    L = e.apply([("d1", df)]).L
    assert (L == ABSTAIN).all(), "one LF saw what another wrote into its row"
    pd.testing.assert_frame_equal(df, original)


# --------------------------------------------------------------------------------------
# Time limit
# --------------------------------------------------------------------------------------
def test_lfs_that_never_return_are_stopped_and_named(tmp_path: Path) -> None:
    @labeling_function()
    def spins(x: Any) -> int:
        while True:
            pass

    @vectorized()
    def stubborn(frame: pd.DataFrame) -> Any:
        while True:  # swallows every exception, and sleeps in C
            with contextlib.suppress(BaseException):
                time.sleep(10)

    @labeling_function()
    def after(x: Any) -> int:
        return HAM if "love" in x.text else ABSTAIN

    df = make_frame(50, seed=4)
    e = engine(tmp_path, timeout=1.0)
    for lf in (buy, spins, stubborn, after, regex("re_song", r"song", label=HAM)):
        e.add(lf)
    t0 = time.monotonic()
    result = e.apply([("d1", df)])
    assert time.monotonic() - t0 < 15, "apply() was not bounded by the time limit"
    assert sorted(result.timed_out) == ["spins", "stubborn"]
    err = result.errors["spins"]
    assert err.kind == "timeout" and err.count == 50
    assert "'spins' did not finish within the time limit of 1 s" in err.exception
    assert "LFEngine(timeout=...)" in err.exception
    L = result.to_frame()
    assert (L["spins"] == ABSTAIN).all() and (L["stubborn"] == ABSTAIN).all()
    assert L["buy"].tolist() == [SPAM if "buy" in t else ABSTAIN for t in df["text"]]
    assert L["after"].tolist() == [HAM if "love" in t else ABSTAIN for t in df["text"]]
    assert L["re_song"].tolist() == [HAM if "song" in t else ABSTAIN for t in df["text"]]
    cached = {json.loads(p.read_text())["lf"] for p in (tmp_path / "lf_cache").glob("*.json")}
    assert cached == {"buy", "after", "re_song"}, "a timed-out LF was cached"


def test_a_crashing_worker_is_reported_and_the_rest_returned() -> None:
    @labeling_function()
    def exits(x: Any) -> int:
        os._exit(3)

    df = make_frame(10, seed=5)
    e = engine(timeout=30.0)
    e.add(exits)
    e.add(buy)
    result = e.apply([("d1", df)])
    assert result.errors["exits"].kind == "crash" and "exit code 3" in result.errors["exits"].exception
    assert "exits" not in result.timed_out
    assert result.L[:, 1].tolist() == [SPAM if "buy" in t else ABSTAIN for t in df["text"]]


def test_forked_worker_and_in_process_agree_with_errors_and_multiple_versions() -> None:
    @labeling_function()
    def fragile(x: Any) -> int:
        if x.n == 3:
            raise ZeroDivisionError("three")
        return SPAM if x.n > 5 else ABSTAIN

    @vectorized(column="n")
    def big(n: pd.Series) -> Any:
        return np.where(n > 7, HAM, ABSTAIN)

    batches = [("d1", make_frame(60, seed=6)), ("d2", make_frame(25, seed=7).rename(index=lambda i: "b" + i))]
    results = []
    for timeout in (None, 60.0):
        e = engine(timeout=timeout)
        for lf in (fragile, big, keywords("kw", ["free"], label=SPAM)):
            e.add(lf)
        results.append(e.apply(batches))
    a, b = results
    assert np.array_equal(a.L, b.L)
    assert a.errors["fragile"].count == b.errors["fragile"].count > 0
    assert a.errors["fragile"].row_ids == b.errors["fragile"].row_ids


@pytest.mark.parametrize("bad", [0, -1, "10", True])
def test_timeout_parameter_is_validated(bad: Any) -> None:
    with pytest.raises(ValueError, match="'timeout' parameter of LFEngine must be a number of seconds > 0 or None"):
        LFEngine(timeout=bad)


# --------------------------------------------------------------------------------------
# clear_cache and verify_cache
# --------------------------------------------------------------------------------------
def test_clear_cache_for_named_lfs_and_for_all(tmp_path: Path) -> None:
    df = make_frame(20, seed=8)
    e = engine(tmp_path, timeout=None)
    e.add(keywords("kw", ["buy"], label=SPAM))
    e.add(keywords("other", ["song"], label=HAM))
    e.apply([("d1", df)])
    e.add(keywords("kw", ["buy", "free"], label=SPAM))  # a second version of kw's code
    e.apply([("d1", df)])
    assert e.clear_cache("kw") == 4  # both versions: .npy + .json each
    left = {json.loads(p.read_text())["lf"] for p in (tmp_path / "lf_cache").glob("*.json")}
    assert left == {"other"}
    result = e.apply([("d1", df)])
    assert result.computed["kw"] == ["d1"] and result.cache_hits == ["other"]  # memory was cleared too
    with pytest.raises(KeyError, match="no labeling function named 'nope'"):
        e.clear_cache(["nope"])
    assert e.clear_cache() == 4
    assert not list((tmp_path / "lf_cache").iterdir())
    assert e.apply([("d1", df)]).cache_hits == []


def test_verify_cache_lists_bad_and_unknown_files_and_repairs(tmp_path: Path) -> None:
    df = make_frame(20, seed=9)
    e = engine(tmp_path, timeout=None)
    for word in ("buy", "free", "song", "love", "check"):
        e.add(keywords(f"kw_{word}", [word], label=SPAM))
    e.apply([("d1", df)])
    cache = tmp_path / "lf_cache"
    report = e.verify_cache({"d1": 20})
    assert report.ok and report.checked == 5 and report.unregistered == []
    fps = [e.get(f"kw_{w}").fingerprint for w in ("buy", "free", "song", "love", "check")]
    (cache / f"{fps[0]}-d1.npy").write_bytes(b"not a numpy file")
    np.save(cache / f"{fps[1]}-d1.npy", np.zeros(7, dtype=np.int8))  # wrong length
    np.save(cache / f"{fps[2]}-d1.npy", np.zeros(20, dtype=np.int64))  # wrong dtype
    (cache / f"{fps[3]}-d1.json").unlink()  # orphan .npy
    np.save(cache / f"{fps[4]}-d1.npy", np.full(20, 5, dtype=np.int8))  # votes outside the labels
    (cache / "notes.txt").write_text("hello")
    e.remove("kw_check")
    report = e.verify_cache({"d1": 20})
    problems = {Path(p.path).name: p.problem for p in report.problems}
    assert problems[f"{fps[0]}-d1.npy"].startswith("unreadable votes")
    assert "7 rows; data version 'd1' has 20" in problems[f"{fps[1]}-d1.npy"]
    assert "dtype int64" in problems[f"{fps[2]}-d1.npy"]
    assert problems[f"{fps[3]}-d1.npy"].startswith("orphan")
    # kw_check was removed: its labels are unknown, but its votes were rewritten after they were cached, which
    # their recorded hash shows: a bad file, not merely an unregistered one
    assert report.unregistered == []
    assert "do not match the hash recorded" in problems[f"{fps[4]}-d1.npy"]
    assert problems["notes.txt"].startswith("unknown file")
    assert not report.ok and report.to_frame().shape == (len(report.problems), 2)
    repaired = e.verify_cache({"d1": 20}, repair=True)
    assert len(repaired.removed) >= 5 and not (cache / "notes.txt").exists()
    assert e.verify_cache({"d1": 20}).ok
    assert e.apply([("d1", df)]).cache_hits == []  # the bad entries are recomputed


def test_verify_cache_checks_labels_of_registered_lfs(tmp_path: Path) -> None:
    e = engine(tmp_path, timeout=None)
    lf = keywords("kw", ["buy"], label=SPAM)
    e.add(lf)
    e.apply([("d1", make_frame(10, seed=10))])
    np.save(tmp_path / "lf_cache" / f"{lf.fingerprint}-d1.npy", np.full(10, 4, dtype=np.int8))
    (problem,) = e.verify_cache().problems
    assert "votes range over 4..4; expected ABSTAIN (-1) or a label in 0..1" in problem.problem


def test_an_empty_cache_file_is_reported_and_recomputed(tmp_path: Path) -> None:
    df = make_frame(20, seed=11)
    e = engine(tmp_path, timeout=None)
    lf = keywords("kw", ["buy"], label=SPAM)
    e.add(lf)
    want = e.apply([("d1", df)]).L.copy()
    (tmp_path / "lf_cache" / f"{lf.fingerprint}-d1.npy").write_bytes(b"")  # e.g. a full disk
    (problem,) = e.verify_cache({"d1": 20}).problems
    assert problem.problem.startswith("unreadable votes")
    fresh = engine(tmp_path, timeout=None)  # a new session: nothing in memory
    fresh.add(lf)
    with pytest.warns(RuntimeWarning, match="unreadable LF cache file"):
        result = fresh.apply([("d1", df)])
    assert result.computed["kw"] == ["d1"] and np.array_equal(result.L, want)


def test_project_lfs_add_refuses_an_lf_that_runs_past_the_time_limit(tmp_path: Path) -> None:
    import workbench as wb
    from workbench.exceptions import LFTimeoutError

    @labeling_function()
    def hangs(x: Any) -> int:
        while True:
            pass

    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(make_frame(5, seed=12).rename_axis("id").reset_index(), id_column="id")
    p.lfs.add(buy)
    p.lfs.timeout = 1.0
    with pytest.raises(LFTimeoutError, match=r"'hangs' did not finish within the time limit of 1 s .* every later "
                                             r"apply would wait for it again"):
        p.lfs.add(hangs)
    assert p.lfs.names == ["buy"]  # nothing registered: later applies do not wait
    p.close()


def test_cached_votes_changed_on_disk_are_found_and_recomputed(tmp_path: Path) -> None:
    df = make_frame(30, seed=13)
    e = engine(tmp_path, timeout=None)
    lf = keywords("kw", ["buy"], label=SPAM)
    e.add(lf)
    want = e.apply([("d1", df)]).L.copy()
    np.save(tmp_path / "lf_cache" / f"{lf.fingerprint}-d1.npy", np.full(30, SPAM, dtype=np.int8))  # same shape
    (problem,) = e.verify_cache({"d1": 30}).problems
    assert "do not match the hash recorded" in problem.problem
    fresh = engine(tmp_path, timeout=None)
    fresh.add(lf)
    with pytest.warns(RuntimeWarning, match="do not match the hash"):
        result = fresh.apply([("d1", df)])
    assert result.computed["kw"] == ["d1"] and np.array_equal(result.L, want)
    assert fresh.verify_cache({"d1": 30}).ok  # recomputed, and cached again with its hash
