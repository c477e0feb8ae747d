"""What makes AutoLabelModel's cross-validation cheap must not change what it computes.

* ``shared_one_hot``: one one-hot encoding per array object inside the block, none outside;
* Dawid-Skene's warm start (a fit started from another fit's parameters) reaches the same
  optimum as a cold fit, in fewer EM iterations;
* the binary fast path of Dawid-Skene gives the posteriors of the general k-class path.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from label_sim import simulate_label_matrix

from workbench.models import AutoLabelModel, DawidSkene, default_candidates
from workbench.models import _base as base
from workbench.models import _dawid_skene as _ds
from workbench.models._base import one_hot_blocks, shared_one_hot


def _matrix(n: int = 4000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    acc = np.array([0.9, 0.8, 0.75, 0.7, 0.65, 0.6, 0.85])
    cov = np.array([0.3, 0.5, 0.4, 0.6, 0.5, 0.7, 0.2])
    return simulate_label_matrix(n, acc, cov, seed=seed)


def test_shared_one_hot_builds_each_array_once_and_only_inside_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    L, _ = _matrix(500)
    other = L.copy()
    builds: list[int] = []
    real = base._build_one_hot

    def counting(arr: np.ndarray, k: int, rows: int, **kw):  # type: ignore[no-untyped-def]
        builds.append(id(arr))
        return real(arr, k, rows, **kw)

    monkeypatch.setattr(base, "_build_one_hot", counting)
    with shared_one_hot():
        first = [X for *_, X in one_hot_blocks(L, 2)]
        again = [X for *_, X in one_hot_blocks(L, 2)]
        with shared_one_hot():  # nested: the same cache
            list(one_hot_blocks(L, 2))
        list(one_hot_blocks(other, 2))  # equal content, another object: built
        list(one_hot_blocks(L, 3))  # another cardinality: built
    assert builds == [id(L), id(other), id(L)]
    assert all(a is b for a, b in zip(first, again, strict=True))
    list(one_hot_blocks(L, 2))  # outside the block nothing is cached
    assert len(builds) == 4


def test_shared_one_hot_is_per_thread() -> None:
    L, _ = _matrix(300)
    seen: dict[str, object] = {}

    def other_thread() -> None:
        seen["cache"] = getattr(base._SHARED, "cache", None)

    with shared_one_hot():
        list(one_hot_blocks(L, 2))
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    assert seen["cache"] is None
    assert getattr(base._SHARED, "cache", None) is None


def test_one_hot_blocks_match_a_dense_encoding_across_block_boundaries() -> None:
    rng = np.random.default_rng(1)
    for n, m, k, rows in [(10, 3, 2, 4), (1000, 7, 4, 256), (1, 1, 2, 8), (9, 4, 3, 3)]:
        L = rng.integers(-1, k, size=(n, m)).astype(np.int8)
        dense = np.zeros((n, m * k))
        for i, j in zip(*np.nonzero(L >= 0), strict=True):
            dense[i, j * k + L[i, j]] = 1.0
        got = np.vstack([X.toarray() for *_, X in one_hot_blocks(L, k, rows)])
        np.testing.assert_array_equal(got, dense)


@pytest.mark.parametrize("abstain", ["model", "votes_only", "missing"])
@pytest.mark.parametrize("with_gold", [False, True])
def test_binary_fast_path_matches_the_k_class_path(
    abstain: str, with_gold: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    L, y = _matrix(3000)
    gold = np.full(len(y), -1)
    if with_gold:
        gold[:150] = y[:150]
    prior = "uniform" if abstain == "votes_only" else "learned"
    fast = DawidSkene(abstain=abstain, class_prior=prior).fit(L, gold)
    monkeypatch.setattr(_ds, "_BINARY_FAST_PATH", False)
    general = DawidSkene(abstain=abstain, class_prior=prior).fit(L, gold)
    assert fast.n_iter_ == general.n_iter_
    np.testing.assert_allclose(fast.log_likelihood_, general.log_likelihood_, rtol=1e-12)
    np.testing.assert_allclose(fast.confusion_, general.confusion_, rtol=1e-9)
    P_general = general.predict_proba(L)
    monkeypatch.setattr(_ds, "_BINARY_FAST_PATH", True)
    np.testing.assert_allclose(fast.predict_proba(L), P_general, rtol=1e-9, atol=1e-15)


def test_binary_fast_path_keeps_tiny_probabilities() -> None:
    """P(class 0) is not computed as 1 - P(class 1), so a confident row keeps its small mass."""
    L = np.array([[1] * 40, [0] * 40, [1, 0] * 20] * 50, dtype=np.int8)
    P = DawidSkene().fit(L).predict_proba(L)
    assert 0.0 < P[0, 0] < 1e-12
    np.testing.assert_allclose(P.sum(axis=1), 1.0)


def test_auto_label_model_gives_the_same_result_without_shared_encodings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sharing one-hot encodings across candidates and folds changes no score and no probability."""
    import contextlib

    from workbench.models import _auto

    L, y = _matrix(3000, seed=5)
    gold = np.full(len(y), -1)
    gold[:300] = y[:300]
    cands = default_candidates(0, snorkel=False)  # Snorkel's torch fits would only add minutes
    shared = AutoLabelModel(candidates=cands, random_state=0).fit(L, gold)
    monkeypatch.setattr(_auto, "shared_one_hot", contextlib.nullcontext)
    plain = AutoLabelModel(candidates=cands, random_state=0).fit(L, gold)
    assert shared.chosen_ == plain.chosen_
    assert [c["cv_score"] for c in shared.report_["candidates"]] == [c["cv_score"] for c in plain.report_["candidates"]]
    np.testing.assert_allclose(shared.predict_proba(L), plain.predict_proba(L), rtol=0, atol=1e-12)
