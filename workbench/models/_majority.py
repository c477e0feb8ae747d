"""Majority vote: the baseline every other label model must beat."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from workbench.models._base import BLOCK_ROWS, LabelModel, parallel_map

__all__ = ["MajorityVote", "vote_counts"]


def vote_counts(L: NDArray[np.integer[Any]], cardinality: int) -> NDArray[np.float64]:
    """Votes per class and row, shape ``(n_items, cardinality)``; one vectorized pass per class."""
    counts = np.empty((L.shape[0], cardinality), dtype=np.float64)

    def block(start: int) -> None:
        # a block of rows at a time: its comparisons stay in cache, and blocks run on several threads
        part = L[start : start + BLOCK_ROWS]
        for c in range(cardinality):
            counts[start : start + part.shape[0], c] = np.add.reduce(part == c, axis=1, dtype=np.int64)

    parallel_map(block, range(0, L.shape[0], BLOCK_ROWS))
    return counts


def _check_prior_param(value: Any, owner: str, cardinality: int) -> NDArray[np.float64] | str:
    if isinstance(value, str):
        if value not in ("learned", "uniform"):
            raise ValueError(
                f"The 'class_prior' parameter of {owner} must be 'learned', 'uniform' or an "
                f"array of {cardinality} positive probabilities. Got {value!r} instead."
            )
        return value
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (cardinality,) or not np.isfinite(arr).all() or (arr <= 0).any() or abs(arr.sum() - 1.0) > 1e-6:
        raise ValueError(
            f"The 'class_prior' parameter of {owner} must be 'learned', 'uniform' or an "
            f"array of {cardinality} positive probabilities summing to 1. Got {value!r} instead."
        )
    return arr


class MajorityVote(LabelModel):
    """Majority vote over the non-abstaining labeling functions.

    ``predict_proba`` gives each class its share of the votes cast on the row. Rows without
    any vote get ``class_prior_``: uniform by default (the usual majority-vote baseline,
    so ``tie_break="random"`` guesses for them), or learned at fit time with
    ``class_prior="learned"``.

    Parameters
    ----------
    cardinality : int, optional
        Number of classes; inferred from the votes (and gold) when None.
    class_prior : {"uniform", "learned"} or array-like, default "uniform"
        Distribution returned for rows without votes. ``"learned"`` averages the vote
        shares of the covered rows, using the known gold labels where ``y`` is given.
    random_state : int or None
        Seed used by ``predict(..., tie_break="random")``.

    Attributes
    ----------
    class_prior_ : ndarray of shape (k,)
    cardinality_ : int
    n_lfs_ : int

    Examples
    --------
    >>> mv = MajorityVote().fit([[0, 0, 1], [1, -1, 1], [-1, -1, -1]])
    >>> mv.predict([[0, 0, 1], [1, -1, 1], [-1, -1, -1]], tie_break="abstain").tolist()
    [0, 1, -1]
    """

    _thread_safe = True

    def __init__(
        self,
        cardinality: int | None = None,
        class_prior: str | ArrayLike = "uniform",
        random_state: int | None = None,
    ) -> None:
        self.cardinality = cardinality
        self.class_prior = class_prior
        self.random_state = random_state

    def _fit(self, L: NDArray[np.integer[Any]], cardinality: int, y: NDArray[np.int64] | None) -> None:
        prior = _check_prior_param(self.class_prior, type(self).__name__, cardinality)
        if isinstance(prior, np.ndarray):
            self.class_prior_ = prior / prior.sum()
            return
        if prior == "uniform":
            self.class_prior_ = np.full(cardinality, 1.0 / cardinality)
            return
        counts = vote_counts(L, cardinality)
        total = counts.sum(axis=1, keepdims=True)
        covered = total[:, 0] > 0
        shares = counts[covered] / total[covered]
        if y is not None:
            known = y[covered] >= 0
            shares[known] = np.eye(cardinality)[y[covered][known]]
            extra = y[~covered]
            extra = extra[extra >= 0]
            mass = shares.sum(axis=0) + np.bincount(extra, minlength=cardinality)
        else:
            mass = shares.sum(axis=0)
        mass = mass + 1.0  # Laplace smoothing: no class gets probability 0
        self.class_prior_ = mass / mass.sum()

    def _predict_proba(self, L: NDArray[np.integer[Any]]) -> NDArray[np.float64]:
        counts = vote_counts(L, self.cardinality_)
        total = counts.sum(axis=1, keepdims=True)
        empty = total[:, 0] == 0
        total[empty] = 1.0
        proba = counts / total
        proba[empty] = self.class_prior_
        return proba

    def _fitted_state(self) -> dict[str, Any]:
        return {"class_prior_": self.class_prior_}

    def _load_fitted_state(self, state: dict[str, Any]) -> None:
        self.class_prior_ = np.asarray(state["class_prior_"], dtype=np.float64)
