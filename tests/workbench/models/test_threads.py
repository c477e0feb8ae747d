"""Label models on several threads compute exactly what they compute on one.

Blocks of a large label matrix and AutoLabelModel's cross-validation fits run on
``get_num_threads()`` threads; partial sums are combined in block order, so every number
must be bit-for-bit the same as a serial run. Models that are not thread-safe (Snorkel's
global torch state, user models by default) are never fitted concurrently.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from label_sim import simulate_label_matrix

from workbench.models import (
    AutoLabelModel,
    DawidSkene,
    MajorityVote,
    WeightedMajorityVote,
    default_candidates,
    get_num_threads,
    set_num_threads,
)
from workbench.models import _base as base
from workbench.models._base import BLOCK_ROWS, parallel_map


@pytest.fixture
def threads() -> Iterator[None]:
    yield
    set_num_threads(None)


def _big(k: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """More rows than two one-hot blocks, so the blocks really are split across threads."""
    acc = np.array([0.9, 0.8, 0.7, 0.65, 0.6, 0.75])
    cov = np.array([0.2, 0.5, 0.3, 0.6, 0.4, 0.1])
    prior = None if k == 2 else np.full(k, 1.0 / k)
    return simulate_label_matrix(2 * BLOCK_ROWS + 1234, acc, cov, prior=prior, seed=seed)


def _fit_both(make: Any, L: np.ndarray, y: np.ndarray | None) -> tuple[Any, Any]:
    set_num_threads(1)
    serial = make().fit(L, y)
    set_num_threads(3)
    parallel = make().fit(L, y)
    return serial, parallel


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("abstain", ["model", "missing"])
def test_dawid_skene_is_identical_on_one_and_several_threads(threads: None, k: int, abstain: str) -> None:
    L, y = _big(k)
    gold = np.where(np.arange(len(y)) % 50 == 0, y, -1)
    for init in ("majority", "random"):
        serial, parallel = _fit_both(lambda i=init: DawidSkene(abstain=abstain, init=i, random_state=1), L, gold)
        assert serial.n_iter_ == parallel.n_iter_
        assert serial.log_likelihood_ == parallel.log_likelihood_
        np.testing.assert_array_equal(serial.confusion_, parallel.confusion_)
        np.testing.assert_array_equal(serial.class_prior_, parallel.class_prior_)
        set_num_threads(1)
        P1 = parallel.predict_proba(L)
        set_num_threads(4)
        np.testing.assert_array_equal(P1, parallel.predict_proba(L))


def test_vote_based_models_are_identical_on_one_and_several_threads(threads: None) -> None:
    L, y = _big(3, seed=2)
    gold = np.where(np.arange(len(y)) % 40 == 0, y, -1)
    for make in (lambda: MajorityVote(class_prior="learned"), lambda: WeightedMajorityVote()):
        serial, parallel = _fit_both(make, L, gold)
        set_num_threads(1)
        P1 = serial.predict_proba(L)
        set_num_threads(2)
        np.testing.assert_array_equal(P1, parallel.predict_proba(L))


def test_auto_label_model_report_and_probabilities_do_not_depend_on_threads(threads: None) -> None:
    acc = np.array([0.9, 0.8, 0.75, 0.7, 0.65, 0.6, 0.85])
    cov = np.array([0.3, 0.5, 0.4, 0.6, 0.5, 0.7, 0.2])
    L, y = simulate_label_matrix(4000, acc, cov, seed=5)
    gold = np.where(np.arange(len(y)) < 300, y, -1)
    cands = default_candidates(0, snorkel=False)
    serial, parallel = _fit_both(lambda: AutoLabelModel(candidates=cands, random_state=0), L, gold)
    assert serial.chosen_ == parallel.chosen_
    for a, b in zip(serial.report_["candidates"], parallel.report_["candidates"], strict=True):
        assert a["name"] == b["name"]
        assert a["fold_scores"] == b["fold_scores"]
        assert a.get("log_loss") == b.get("log_loss")
    assert serial.report_["calibration"]["after"] == parallel.report_["calibration"]["after"]
    np.testing.assert_array_equal(serial.predict_proba(L), parallel.predict_proba(L))


class _Recording(MajorityVote):
    """A user model (not declared thread-safe) that records how many of its fits overlap."""

    active = 0
    most = 0
    lock = threading.Lock()

    def _fit(self, L: Any, cardinality: int, y: Any) -> None:
        cls = type(self)
        with cls.lock:
            cls.active += 1
            cls.most = max(cls.most, cls.active)
        time.sleep(0.01)
        try:
            super()._fit(L, cardinality, y)
        finally:
            with cls.lock:
                cls.active -= 1


def test_models_not_declared_thread_safe_are_fitted_one_at_a_time(threads: None) -> None:
    assert not _Recording._is_thread_safe() and DawidSkene._is_thread_safe()
    set_num_threads(4)
    L, y = _big()
    L = L[:3000]
    gold = np.where(np.arange(3000) < 400, y[:3000], -1)
    lm = AutoLabelModel(candidates={"mine": _Recording(), "ds": DawidSkene()}, random_state=0).fit(L, gold)
    assert _Recording.most == 1
    assert {c["name"] for c in lm.report_["candidates"] if c["status"] == "ok"} >= {"mine", "ds"}


def test_a_failing_candidate_on_a_worker_thread_is_reported_not_raised(threads: None) -> None:
    class Broken(DawidSkene):
        def _fit(self, L: Any, cardinality: int, y: Any) -> None:
            raise RuntimeError("boom")

    set_num_threads(2)
    L, y = _big()
    L, y = L[:2000], y[:2000]
    gold = np.where(np.arange(2000) < 300, y, -1)
    lm = AutoLabelModel(candidates={"broken": Broken()}, random_state=0).fit(L, gold)
    entry = next(c for c in lm.report_["candidates"] if c["name"] == "broken")
    assert entry["status"] == "failed: RuntimeError: boom"
    assert lm.chosen_ == "MajorityVote"


def test_parallel_map_keeps_order_nests_without_deadlock_and_reraises(threads: None) -> None:
    set_num_threads(2)
    assert parallel_map(lambda x: x * x, range(50)) == [x * x for x in range(50)]
    # a worker calling parallel_map again runs it serially instead of waiting on its own pool
    nested = parallel_map(lambda x: parallel_map(lambda z: (x, z), range(3)), range(4))
    assert nested == [[(x, z) for z in range(3)] for x in range(4)]

    def fail(x: int) -> int:
        if x == 7:
            raise ValueError("bad item 7")
        return x

    with pytest.raises(ValueError, match="bad item 7"):
        parallel_map(fail, range(10))


def test_thread_count_settings_and_their_errors(threads: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKBENCH_NUM_THREADS", raising=False)
    default = get_num_threads()
    assert 1 <= default <= 8
    set_num_threads(1)
    assert get_num_threads() == 1
    set_num_threads(None)
    assert get_num_threads() == default
    monkeypatch.setenv("WORKBENCH_NUM_THREADS", "3")
    assert get_num_threads() == 3
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads needs an int >= 1 or None"):
            set_num_threads(bad)  # type: ignore[arg-type]
    for raw in ("two", "0"):
        monkeypatch.setenv("WORKBENCH_NUM_THREADS", raw)
        with pytest.raises(ValueError, match="WORKBENCH_NUM_THREADS must be a positive integer"):
            get_num_threads()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_fresh_pool() -> None:
    """A child forked after the pool started must not wait on its parent's (absent) threads."""
    code = (
        "import os, numpy as np\n"
        "from workbench.models import DawidSkene, set_num_threads\n"
        "from workbench.models._base import BLOCK_ROWS\n"
        "set_num_threads(2)\n"
        "rng = np.random.default_rng(0)\n"
        "L = rng.integers(-1, 2, size=(2 * BLOCK_ROWS + 5, 4)).astype(np.int8)\n"
        "DawidSkene().fit(L)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    DawidSkene().fit(L)\n"
        "    os._exit(0)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=True)
    assert out.stdout.strip() == "0"


def test_workers_see_the_callers_shared_cache_and_leave_none_behind(threads: None) -> None:
    set_num_threads(2)
    with base.shared_one_hot():
        mine = base._SHARED.cache
        seen = parallel_map(lambda _: base._SHARED.cache, range(4))
    assert all(c is mine for c in seen)
    leftover = parallel_map(lambda _: getattr(base._SHARED, "cache", None), range(4))
    assert leftover == [None] * 4
