"""Majority vote on hand-made matrices, ties included."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.models import MajorityVote

L_HAND = np.array(
    [
        [0, 0, 1],  # 2 x class 0
        [1, -1, 1],  # 2 x class 1
        [0, 1, -1],  # tie 0/1
        [-1, -1, -1],  # no votes
        [2, 2, 0],  # class 2
        [2, 1, 0],  # three-way tie
    ],
    dtype=np.int8,
)


def test_proba_is_the_vote_share() -> None:
    mv = MajorityVote(cardinality=3).fit(L_HAND)
    expected = np.array(
        [
            [2 / 3, 1 / 3, 0],
            [0, 1, 0],
            [0.5, 0.5, 0],
            [1 / 3, 1 / 3, 1 / 3],
            [1 / 3, 0, 2 / 3],
            [1 / 3, 1 / 3, 1 / 3],
        ]
    )
    np.testing.assert_allclose(mv.predict_proba(L_HAND), expected)


def test_tie_break_policies() -> None:
    mv = MajorityVote(cardinality=3).fit(L_HAND)
    assert mv.predict(L_HAND, tie_break="abstain").tolist() == [0, 1, -1, -1, 2, -1]
    assert mv.predict(L_HAND, tie_break="first").tolist() == [0, 1, 0, 0, 2, 0]
    draws = np.array([mv.predict(L_HAND, random_state=s) for s in range(300)])
    assert (draws[:, [0, 1, 4]] == [0, 1, 2]).all()
    assert set(draws[:, 2]) == {0, 1}  # a 0/1 tie never becomes 2
    assert set(draws[:, 5]) == {0, 1, 2}
    assert set(draws[:, 3]) == {0, 1, 2}
    assert abs((draws[:, 2] == 0).mean() - 0.5) < 0.1
    # the same seed gives the same draws; the model's random_state is the default seed
    seeded = MajorityVote(cardinality=3, random_state=4).fit(L_HAND)
    np.testing.assert_array_equal(seeded.predict(L_HAND), seeded.predict(L_HAND))
    np.testing.assert_array_equal(seeded.predict(L_HAND), mv.predict(L_HAND, random_state=4))


def test_cardinality_is_inferred_and_at_least_two() -> None:
    assert MajorityVote().fit(L_HAND).cardinality_ == 3
    assert MajorityVote().fit([[0, 0], [-1, 0]]).cardinality_ == 2
    assert MajorityVote().fit([[-1, -1]]).cardinality_ == 2
    assert MajorityVote(cardinality=5).fit(L_HAND).predict_proba(L_HAND).shape == (6, 5)


def test_class_prior_for_rows_without_votes() -> None:
    L = np.array([[0, 0], [0, -1], [1, 1], [-1, -1]])
    assert np.allclose(MajorityVote().fit(L).class_prior_, [0.5, 0.5])
    learned = MajorityVote(class_prior="learned").fit(L)
    np.testing.assert_allclose(learned.class_prior_, np.array([2 + 1, 1 + 1]) / 5)  # Laplace-smoothed
    np.testing.assert_allclose(learned.predict_proba([[-1, -1]])[0], learned.class_prior_)
    with_gold = MajorityVote(class_prior="learned").fit(L, [1, -1, -1, 1])
    np.testing.assert_allclose(with_gold.class_prior_, np.array([1 + 1, 3 + 1]) / 6)
    fixed = MajorityVote(class_prior=[0.2, 0.8]).fit(L)
    assert fixed.predict([[-1, -1]], tie_break="first").tolist() == [1]
    assert fixed.predict([[-1, -1]], tie_break="abstain").tolist() == [-1]


def test_vectorized_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(0)
    L = rng.integers(-1, 4, size=(500, 7)).astype(np.int8)
    proba = MajorityVote(cardinality=4).fit(L).predict_proba(L)
    for i in range(0, 500, 37):
        votes = L[i][L[i] >= 0]
        counts = np.bincount(votes, minlength=4)
        expected = counts / counts.sum() if counts.sum() else np.full(4, 0.25)
        np.testing.assert_allclose(proba[i], expected)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int64, np.float64])
def test_accepts_integral_dtypes(dtype: type) -> None:
    L = L_HAND.astype(dtype)
    assert MajorityVote(cardinality=3).fit(L).predict(L, tie_break="first").tolist() == [0, 1, 0, 0, 2, 0]
