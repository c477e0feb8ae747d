"""LFEngine: caching per (fingerprint, data version), parallel and Dask paths, fault isolation."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import workbench.lf._engine as engine_mod
from workbench.exceptions import LFError
from workbench.lf import (
    ABSTAIN,
    LFEngine,
    keywords,
    labeling_function,
    regex,
    vectorized,
)

SPAM, HAM = 1, 0
WORDS = ["check", "out", "my", "channel", "love", "this", "song", "subscribe", "great", "video", None]


def make_frame(n: int, seed: int, prefix: str = "r") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(n):
        k = int(rng.integers(1, 6))
        words = [w for w in rng.choice(np.array(WORDS, dtype=object), size=k) if w is not None]
        texts.append(" ".join(words) if words or rng.random() < 0.5 else None)
    return pd.DataFrame(
        {"text": texts, "n_words": [len(t.split()) if t else 0 for t in texts]},
        index=pd.Index([f"{prefix}{i}" for i in range(n)], name="id"),
    )


@labeling_function()
def lf_check_out(x: Any) -> int:
    return SPAM if isinstance(x.text, str) and "check out" in x.text else ABSTAIN


@labeling_function()
def lf_short(x: Any) -> int:
    return HAM if x.n_words <= 2 else ABSTAIN


def standard_lfs() -> list[Any]:
    return [
        keywords("kw_subscribe", ["subscribe"], label=SPAM),
        regex("re_love", r"\blove\b", label=HAM),
        lf_check_out,
        lf_short,
    ]


def new_engine(tmp_path: Path | None, **kw: Any) -> LFEngine:
    kw.setdefault("n_jobs", 1)
    kw.setdefault("progress", False)
    engine = LFEngine(cache_dir=None if tmp_path is None else tmp_path / "lf_cache", **kw)
    for lf in standard_lfs():
        engine.add(lf)
    return engine


def test_apply_shapes_ids_and_dtype(tmp_path: Path) -> None:
    df = make_frame(50, seed=1)
    result = new_engine(tmp_path).apply([("d1", df)])
    assert result.L.shape == (50, 4) and result.L.dtype == np.int8
    assert result.L.flags.f_contiguous  # one contiguous column per LF
    assert result.lf_names == ["kw_subscribe", "re_love", "lf_check_out", "lf_short"]
    assert list(result.row_ids) == list(df.index)
    frame = result.to_frame()
    assert frame.loc["r0"].tolist() == result.L[0].tolist()


def test_second_apply_is_all_cache_hits_and_persists_across_engines(tmp_path: Path) -> None:
    df = make_frame(80, seed=2)
    first = new_engine(tmp_path).apply([("d1", df)])
    assert all(first.computed[n] == ["d1"] for n in first.lf_names)
    again = new_engine(tmp_path).apply([("d1", df)])  # a fresh engine reads the files
    assert again.cache_hits == again.lf_names
    assert np.array_equal(first.L, again.L)
    files = sorted(p.suffix for p in (tmp_path / "lf_cache").iterdir())
    assert files == [".json"] * 4 + [".npy"] * 4
    arr = np.load(next((tmp_path / "lf_cache").glob("*.npy")), allow_pickle=False)
    assert arr.dtype == np.int8


def test_editing_one_lf_reapplies_only_it(tmp_path: Path) -> None:
    df = make_frame(60, seed=3)
    engine = new_engine(tmp_path)
    engine.apply([("d1", df)])
    assert engine.add(keywords("kw_subscribe", ["subscribe"], label=SPAM)) is False  # same code
    assert engine.add(keywords("kw_subscribe", ["subscribe", "channel"], label=SPAM)) is True
    result = engine.apply([("d1", df)])
    assert {n for n, v in result.computed.items() if v} == {"kw_subscribe"}
    expected = np.where(df["text"].fillna("").str.contains("subscribe|channel"), SPAM, ABSTAIN)
    assert result.L[:, 0].tolist() == expected.tolist()


def test_editing_a_decorated_function_changes_its_fingerprint() -> None:
    ns1: dict[str, Any] = {"labeling_function": labeling_function, "ABSTAIN": ABSTAIN}
    ns2: dict[str, Any] = dict(ns1)
    exec("@labeling_function()\ndef f(x):\n    return 1 if 'a' in x.text else ABSTAIN\n", ns1)
    exec("@labeling_function()\ndef f(x):\n    return 1 if 'b' in x.text else ABSTAIN\n", ns2)
    assert ns1["f"].fingerprint != ns2["f"].fingerprint
    exec("@labeling_function()\ndef g(x):\n    return 1 if 'a' in x.text else ABSTAIN\n", ns2)
    exec("@labeling_function()\ndef g(x):\n    return 1 if 'a' in x.text else ABSTAIN\n", ns1)
    assert ns1["g"].fingerprint == ns2["g"].fingerprint  # same code, same fingerprint


@pytest.mark.slow
def test_fingerprints_are_stable_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    import subprocess
    import sys

    module = tmp_path / "my_lfs.py"
    module.write_text(
        "from workbench.lf import labeling_function, keywords\n"
        "WORDS = {'spam', 'eggs', 'ham', 'subscribe'}\n"
        "@labeling_function(resources={'extra': frozenset({'x', 'y', 'z'})})\n"
        "def f(x, extra):\n"
        "    return 1 if x.text in {'a', 'b', 'c'} or x.text in WORDS or x.text in extra else -1\n"
        "kw = keywords('kw', ['b', 'a'], label=1)\n"
    )
    code = "import my_lfs; print(my_lfs.f.fingerprint, my_lfs.kw.fingerprint)"
    repo = Path(__file__).resolve().parents[3]
    outs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": f"{tmp_path}{os.pathsep}{repo}"}
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        outs.add(run.stdout.strip())
    assert len(outs) == 1, outs


def test_fingerprint_follows_globals_resources_and_closures() -> None:
    ns: dict[str, Any] = {"labeling_function": labeling_function, "ABSTAIN": ABSTAIN, "WORDS": ["a"]}
    exec("@labeling_function()\ndef f(x):\n    return 1 if any(w in x.text for w in WORDS) else ABSTAIN\n", ns)
    before = ns["f"].fingerprint
    ns["WORDS"].append("b")  # editing a global the LF reads changes what it computes
    assert ns["f"].fingerprint != before

    def make(word: str) -> Any:
        @labeling_function(name="closure")
        def f(x: Any) -> int:
            return SPAM if word in x.text else ABSTAIN

        return f

    assert make("a").fingerprint != make("b").fingerprint

    @labeling_function(resources={"w": "a"})
    def res1(x: Any, w: str) -> int:
        return SPAM if w in x.text else ABSTAIN

    fp = res1.fingerprint
    res1._resources["w"] = "b"
    assert res1.fingerprint != fp


def test_refitting_a_model_changes_the_model_lf_fingerprint() -> None:
    from sklearn.linear_model import LogisticRegression

    from workbench.lf import from_model

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    model = LogisticRegression(random_state=0).fit(X, [0, 0, 1, 1])
    lf = from_model("m", model, label_if={1: 0.7})
    before = lf.fingerprint
    assert from_model("m", model, label_if={1: 0.7}).fingerprint == before
    model.fit(X, [0, 1, 1, 1])  # retrained in place: same object, new coefficients
    assert lf.fingerprint != before
    assert from_model("m", model, label_if={1: 0.8}).fingerprint != lf.fingerprint


def test_new_feedback_changes_the_feedback_lf_fingerprint() -> None:
    from workbench.lf import from_feedback

    fb = pd.DataFrame({"flag": ["spam"]}, index=["a"])
    lf = from_feedback("fb", fb, column="flag", labels={"spam": 1})
    before = lf.fingerprint
    fb.loc["b"] = ["spam"]  # feedback tables grow in place
    assert lf.fingerprint != before


def test_new_data_version_applies_only_to_its_rows(tmp_path: Path) -> None:
    d1, d2 = make_frame(40, seed=4, prefix="a"), make_frame(30, seed=5, prefix="b")
    engine = new_engine(tmp_path)
    engine.apply([("d1", d1)])
    result = engine.apply([("d1", d1), ("d2", d2)])
    assert all(result.computed[n] == ["d2"] for n in result.lf_names)
    assert list(result.row_ids) == list(d1.index) + list(d2.index)
    full = new_engine(None).apply([("all", pd.concat([d1, d2]))])
    assert np.array_equal(result.L, full.L)


def test_removed_lf_leaves_matrix_and_prune_deletes_its_files(tmp_path: Path) -> None:
    df = make_frame(20, seed=6)
    engine = new_engine(tmp_path)
    engine.apply([("d1", df)])
    engine.remove("lf_short")
    assert engine.apply([("d1", df)]).lf_names == ["kw_subscribe", "re_love", "lf_check_out"]
    assert engine.prune_cache() == 2
    with pytest.raises(KeyError, match="No labeling function named 'nope'"):
        engine.remove("nope")
    engine.clear_cache()
    assert not list((tmp_path / "lf_cache").iterdir())


def test_stale_cache_with_wrong_length_is_recomputed(tmp_path: Path) -> None:
    df = make_frame(20, seed=7)
    new_engine(tmp_path).apply([("d1", df)])
    engine = new_engine(tmp_path)
    with pytest.warns(RuntimeWarning, match="Data versions must be immutable"):
        result = engine.apply([("d1", df.iloc[:10])])
    assert result.L.shape == (10, 4)


def test_fault_isolation_records_errors_and_abstains(tmp_path: Path) -> None:
    @labeling_function()
    def fragile(x: Any) -> int:
        if x.n_words == 3:
            raise ZeroDivisionError("three words")
        return SPAM

    @vectorized()
    def broken(df: pd.DataFrame) -> Any:
        raise KeyError("no_such_column")

    df = make_frame(60, seed=8)
    engine = new_engine(tmp_path)
    engine.add(fragile)
    engine.add(broken)
    result = engine.apply([("d1", df)])
    three = (df["n_words"] == 3).to_numpy()
    col = result.L[:, result.lf_names.index("fragile")]
    assert (col[three] == ABSTAIN).all() and (col[~three] == SPAM).all()
    err = result.errors["fragile"]
    assert err.count == int(three.sum())
    assert err.exception == "ZeroDivisionError('three words')" and "Traceback" in err.traceback
    assert err.row_ids == list(df.index[three][:10])
    assert result.errors["broken"].count == 60
    assert (result.L[:, result.lf_names.index("broken")] == ABSTAIN).all()
    assert set(result.errors) == {"fragile", "broken"}  # the other LFs ran normally
    # errors survive the cache (kept in the JSON sidecar)
    cached = new_engine(tmp_path)
    cached.add(fragile)
    cached.add(broken)
    again = cached.apply([("d1", df)])
    assert again.cache_hits == again.lf_names and again.errors["fragile"].count == err.count
    sidecars = [json.loads(p.read_text()) for p in (tmp_path / "lf_cache").glob("*.json")]
    assert any(s["error"] and s["lf"] == "fragile" for s in sidecars)


def _row_lf(ret: Any) -> Any:
    @labeling_function(name="bad")
    def bad(x: Any) -> Any:
        return ret if x.name == "r3" else ABSTAIN

    return bad


@pytest.mark.parametrize(
    ("lf", "message"),
    [
        (_row_lf(2), r"'bad' returned 2 for row 'r3'; expected a label in 0\.\.1 or ABSTAIN"),
        (_row_lf(-5), r"'bad' returned -5 for row 'r3'"),
        (_row_lf(None), r"'bad' returned None \(NoneType\) for row 'r3'.*forget to return ABSTAIN"),
        (_row_lf("spam"), r"'bad' returned 'spam' \(str\) for row 'r3'"),
        (_row_lf(1.0), r"'bad' returned 1\.0 \(float\) for row 'r3'"),
        (_row_lf(True), r"'bad' returned True \(bool\) for row 'r3'"),
        (vectorized(name="bad")(lambda df: np.zeros(len(df) - 1)), r"returned \(5,\) values for a batch of 6 rows"),
        (vectorized(name="bad")(lambda df: np.full(len(df), 0.5)), r"'bad' returned 0\.5 .* for row 'r0'"),
        (vectorized(name="bad")(lambda df: ["x"] * len(df)), r"'bad' returned 'x' \(str\) for row 'r0'"),
        (vectorized(name="bad")(lambda df: np.arange(len(df))), r"'bad' returned 2 for row 'r2'"),
    ],
)
def test_bad_output_catalogue(lf: Any, message: str) -> None:
    engine = LFEngine(n_jobs=1, progress=False)
    engine.add(lf)
    with pytest.raises(LFError, match=message):
        engine.apply([("d1", make_frame(6, seed=9))])


def test_vectorized_accepts_numpy_ints_and_nan_as_abstain() -> None:
    engine = LFEngine(n_jobs=1, progress=False)
    engine.add(vectorized(name="v")(lambda df: np.where(df["n_words"] > 2, 1.0, np.nan)))
    df = make_frame(10, seed=10)
    L = engine.apply([("d1", df)]).L
    assert L[:, 0].tolist() == np.where(df["n_words"] > 2, 1, -1).tolist()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "spark"}, "must be 'local' or 'dask'"),
        ({"n_jobs": 0}, "must be -1 or an int >= 1"),
        ({"cardinality": 1}, "must be an int in 2..127"),
    ],
)
def test_engine_parameter_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LFEngine(**kwargs)


def test_apply_rejects_malformed_batches() -> None:
    engine = LFEngine(n_jobs=1, progress=False)
    with pytest.raises(ValueError, match=r"list of \(data_version, DataFrame\) pairs"):
        engine.apply([make_frame(3, seed=0)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="non-empty str"):
        engine.apply([("", make_frame(3, seed=0))])


def test_multiprocessing_path_matches_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_mod, "_PARALLEL_MIN_CALLS", 0)
    monkeypatch.setattr(engine_mod, "_MIN_CHUNK", 10)
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()

    @labeling_function()
    def records_pid(x: Any) -> int:
        (pid_dir / str(os.getpid())).touch()
        return SPAM if x.n_words > 3 else ABSTAIN

    @labeling_function()
    def sometimes_fails(x: Any) -> int:
        if x.n_words == 1:
            raise ValueError("one word")
        return HAM

    df = make_frame(400, seed=11)
    serial = new_engine(None, n_jobs=1)
    parallel = new_engine(None, n_jobs=2)
    for e in (serial, parallel):
        e.add(records_pid)
        e.add(sometimes_fails)
    a, b = serial.apply([("d1", df)]), parallel.apply([("d1", df)])
    assert np.array_equal(a.L, b.L)
    assert {p.name for p in pid_dir.iterdir()} - {str(os.getpid())}, "no worker process ran an LF"
    assert b.errors["sometimes_fails"].count == a.errors["sometimes_fails"].count
    assert b.errors["sometimes_fails"].row_ids == a.errors["sometimes_fails"].row_ids


@pytest.mark.slow
def test_spawn_path_uses_cloudpickle_for_notebook_functions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_mod, "_PARALLEL_MIN_CALLS", 0)
    monkeypatch.setattr(engine_mod, "_MIN_CHUNK", 10)
    # A function "defined in a notebook" (module __main__): plain pickle cannot ship it by reference.
    ns: dict[str, Any] = {"__name__": "__main__", "labeling_function": labeling_function}
    src = (
        "import os\n"
        "@labeling_function(resources={'pid_dir': PID_DIR})\n"
        "def nb_lf(x, pid_dir):\n"
        "    open(os.path.join(pid_dir, str(os.getpid())), 'w').close()\n"
        "    return 1 if isinstance(x.text, str) and 'love' in x.text else -1\n"
    )
    ns["PID_DIR"] = str(tmp_path)
    exec(src, ns)
    df = make_frame(200, seed=12)
    engine = LFEngine(n_jobs=2, progress=False)
    engine._mp_start_method = "spawn"
    engine.add(ns["nb_lf"])
    L = engine.apply([("d1", df)]).L
    expected = [1 if isinstance(t, str) and "love" in t else -1 for t in df["text"]]
    assert L[:, 0].tolist() == expected
    assert {p.name for p in tmp_path.iterdir()} - {str(os.getpid())}, "no spawned worker ran the LF"


def test_unpicklable_lfs_fall_back_to_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_mod, "_PARALLEL_MIN_CALLS", 0)
    monkeypatch.setattr(engine_mod, "_MIN_CHUNK", 10)
    import threading

    lock = threading.Lock()  # cannot be pickled, even by cloudpickle

    @labeling_function(resources={"lock": lock})
    def with_lock(x: Any, lock: Any) -> int:
        with lock:
            return SPAM

    engine = LFEngine(n_jobs=2, progress=False)
    engine._mp_start_method = "spawn"
    engine.add(with_lock)
    assert (engine.apply([("d1", make_frame(100, seed=13))]).L == SPAM).all()


def test_progress_bar_can_be_forced_and_disabled(capsys: pytest.CaptureFixture[str]) -> None:
    df = make_frame(30, seed=14)
    new_engine(None, progress=True).apply([("d1", df)])
    assert "LFs on d1" in capsys.readouterr().err
    new_engine(None, progress=False).apply([("d2", df)])
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_dask_local_cluster_equals_local_engine() -> None:
    distributed = pytest.importorskip("distributed")

    @labeling_function()
    def fails_on_one_word(x: Any) -> int:
        if x.n_words == 1:
            raise RuntimeError("one word")
        return HAM if x.n_words == 2 else ABSTAIN

    df = make_frame(3000, seed=15)
    local = new_engine(None)
    local.add(fails_on_one_word)
    expected = local.apply([("d1", df)])
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        dask_engine = new_engine(None, backend="dask", client=client)
        dask_engine.add(fails_on_one_word)
        got = dask_engine.apply([("d1", df)])
    assert np.array_equal(got.L, expected.L)
    assert list(got.row_ids) == list(expected.row_ids)
    err, ref = got.errors["fails_on_one_word"], expected.errors["fails_on_one_word"]
    assert err.count == ref.count and err.row_ids == ref.row_ids
    assert err.exception == "RuntimeError('one word')"
