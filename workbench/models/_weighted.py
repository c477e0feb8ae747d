"""Weighted majority vote: one accuracy per source (the "one-coin" model), fitted by EM.

Each source ``j`` votes the true class with probability ``accuracy_[j]`` and any other class
with probability ``(1 - accuracy_[j]) / (k - 1)``; abstains carry no information. The
posterior is then a weighted vote,

``log P(y | votes) = log p_y + sum_j w_j [vote_j == y] + const``, with
``w_j = log(accuracy_j * (k - 1) / (1 - accuracy_j))``,

so a source that only ever votes one class (common for labeling functions, which fire on a
pattern) still carries evidence -- unlike a full confusion matrix fitted without gold.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from workbench.models._base import LabelModel, one_hot_blocks
from workbench.models._majority import _check_prior_param, vote_counts

__all__ = ["WeightedMajorityVote"]

_ACC_CLIP = (1e-4, 1.0 - 1e-4)
#: Accuracies stay this far above chance (1/k): a source is assumed better than a coin. Without the bound,
#: "every covered row is one class and the sources of the other class are always wrong" explains one-class
#: (unipolar) labeling functions perfectly, and EM falls into it.
_CHANCE_MARGIN = 0.01
_PRIORS = ("gold", "uniform", "learned")


def _weighted_scores(
    L: NDArray[np.integer[Any]], weights: NDArray[np.float64], log_prior: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``S[i, y] = log_prior[y] + sum_j weights[j] * [L[i, j] == y]`` on sparse one-hot blocks."""
    k = log_prior.shape[0]
    W = np.kron(weights[:, None], np.eye(k))  # row j*k + c, column y: weights[j] if c == y
    S = np.empty((L.shape[0], k), dtype=np.float64)
    for start, stop, X in one_hot_blocks(L, k):
        S[start:stop] = X @ W
    S += log_prior
    return S


def _correct_mass(L: NDArray[np.integer[Any]], T: NDArray[np.float64]) -> NDArray[np.float64]:
    """``sum_i T[i, L[i, j]]`` over the rows where source ``j`` voted, for every ``j``."""
    m = L.shape[1]
    k = T.shape[1]
    total = np.zeros(m * k, dtype=np.float64)
    for start, stop, X in one_hot_blocks(L, k):
        # (X.T @ T)[j*k + c, c] summed over c: the posterior mass of the class each vote names
        total += np.asarray((X.T @ T[start:stop]), dtype=np.float64)[np.arange(m * k), np.tile(np.arange(k), m)]
    return total.reshape(m, k).sum(axis=1)


def _softmax(S: NDArray[np.float64]) -> NDArray[np.float64]:
    S = S - S.max(axis=1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=1, keepdims=True)
    return S


class WeightedMajorityVote(LabelModel):
    """Majority vote weighted by each source's estimated accuracy (one-coin Dawid-Skene).

    Accuracies are estimated by EM from the agreement between sources, starting from
    majority vote; rows with known gold (``y != -1``) are clamped to their class in every
    E-step, so with enough gold the accuracies are, in effect, measured on it. A Beta prior
    (``smoothing`` pseudo-votes at ``prior_accuracy``) keeps a rarely firing source near
    ``prior_accuracy`` instead of at 0 or 1.

    Parameters
    ----------
    cardinality : int, optional
        Number of classes; inferred from the votes (and gold) when None.
    max_iter : int, default 50
        EM iterations (``1`` gives accuracies measured against majority vote and gold).
    tol : float, default 1e-6
        Stop when no accuracy moves by more than this.
    smoothing : float, default 2.0
        Pseudo-votes of the Beta prior on every accuracy.
    prior_accuracy : float, default 0.7
        Where the Beta prior puts a source's accuracy before seeing its votes.
    class_prior : {"gold", "uniform", "learned"} or array-like, default "gold"
        ``"gold"``: the Laplace-smoothed class shares of the known gold labels, uniform when
        there is no gold; ``"uniform"``; ``"learned"``: estimated by EM; or fixed probabilities.
    unlabeled : {"use", "ignore"}, default "use"
        ``"use"``: fit on every row, the rows with known gold clamped to it (semi-supervised).
        ``"ignore"``: when ``fit`` gets any gold, fit on the gold rows only (a supervised
        estimate, often better when the gold set has a few hundred rows or more); without
        gold, fit on every row as with ``"use"``.
    random_state : int or None
        Seed used by ``predict(..., tie_break="random")``.

    Attributes
    ----------
    accuracy_ : ndarray of shape (n_lfs,)
        Estimated probability that each source votes the true class when it votes, kept
        above chance (at least ``1/k + 0.01``: a source is assumed better than a coin, so EM
        cannot turn one-class sources against their class).
    weights_ : ndarray of shape (n_lfs,)
        The log-odds weight of each source's vote.
    class_prior_ : ndarray of shape (k,)
    n_iter_ : int

    Examples
    --------
    >>> L = [[0, 0, 1], [1, 1, 0], [0, 0, -1], [1, 1, 1], [0, -1, 1]]
    >>> WeightedMajorityVote(class_prior="uniform").fit(L).predict(L).tolist()
    [0, 1, 0, 1, 0]
    """

    _thread_safe = True

    accuracy_: NDArray[np.float64]
    weights_: NDArray[np.float64]
    n_iter_: int

    def __init__(
        self,
        cardinality: int | None = None,
        max_iter: int = 50,
        tol: float = 1e-6,
        smoothing: float = 2.0,
        prior_accuracy: float = 0.7,
        class_prior: str | ArrayLike = "gold",
        unlabeled: str = "use",
        random_state: int | None = None,
    ) -> None:
        self.cardinality = cardinality
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.prior_accuracy = prior_accuracy
        self.class_prior = class_prior
        self.unlabeled = unlabeled
        self.random_state = random_state

    def _check_params(self, k: int) -> NDArray[np.float64] | str:
        name = type(self).__name__
        mi = self.max_iter
        if isinstance(mi, bool) or not isinstance(mi, numbers.Integral) or mi < 1:
            raise ValueError(f"The 'max_iter' parameter of {name} must be an int >= 1. Got {mi!r} instead.")
        for pname in ("tol", "smoothing"):
            val = getattr(self, pname)
            if isinstance(val, bool) or not isinstance(val, numbers.Real) or not np.isfinite(val) or val < 0:
                raise ValueError(f"The '{pname}' parameter of {name} must be a float >= 0. Got {val!r} instead.")
        pa = self.prior_accuracy
        if isinstance(pa, bool) or not isinstance(pa, numbers.Real) or not 0.0 < pa < 1.0:
            raise ValueError(f"The 'prior_accuracy' parameter of {name} must be a float in (0, 1). Got {pa!r} instead.")
        if isinstance(self.class_prior, str) and self.class_prior in _PRIORS:
            return self.class_prior
        if isinstance(self.class_prior, str):
            raise ValueError(
                f"The 'class_prior' parameter of {name} must be one of {list(_PRIORS)} or an array of "
                f"{k} positive probabilities summing to 1. Got {self.class_prior!r} instead."
            )
        return _check_prior_param(self.class_prior, name, k)

    def _fit(self, L: NDArray[np.integer[Any]], cardinality: int, y: NDArray[np.int64] | None) -> None:
        k = cardinality
        prior_param = self._check_params(k)
        m = L.shape[1]
        eye = np.eye(k)
        known = None if y is None else y >= 0
        if isinstance(prior_param, np.ndarray):
            prior = prior_param / prior_param.sum()
        elif prior_param == "gold" and known is not None:
            counts = np.bincount(y[known], minlength=k) + 1.0  # type: ignore[index]
            prior = counts / counts.sum()
        else:
            prior = np.full(k, 1.0 / k)
        learn_prior = prior_param == "learned"
        n_votes = np.count_nonzero(L >= 0, axis=0).astype(np.float64)
        a = float(self.smoothing)
        a0 = float(self.prior_accuracy)

        counts = vote_counts(L, k)
        tot = counts.sum(axis=1, keepdims=True)
        T = np.where(tot > 0, counts / np.where(tot > 0, tot, 1.0), prior)
        if known is not None:
            T[known] = eye[y[known]]  # type: ignore[index]
        acc = np.full(m, a0)
        n_iter = 0
        for n_iter in range(1, int(self.max_iter) + 1):  # noqa: B007
            correct = _correct_mass(L, T)
            floor = max(_ACC_CLIP[0], 1.0 / k + _CHANCE_MARGIN)
            new_acc = np.clip((correct + a * a0) / (n_votes + a), floor, _ACC_CLIP[1])
            if learn_prior:
                mass = T.sum(axis=0) + 1.0
                prior = mass / mass.sum()
            change = float(np.max(np.abs(new_acc - acc)))
            acc = new_acc
            weights = np.log(acc * (k - 1) / (1.0 - acc))
            T = _softmax(_weighted_scores(L, weights, np.log(prior)))
            if known is not None:
                T[known] = eye[y[known]]  # type: ignore[index]
            if change < self.tol:
                break
        self.accuracy_ = acc
        self.weights_ = np.log(acc * (k - 1) / (1.0 - acc))
        self.class_prior_ = np.asarray(prior, dtype=np.float64)
        self.n_iter_ = n_iter

    def _predict_proba(self, L: NDArray[np.integer[Any]]) -> NDArray[np.float64]:
        return _softmax(_weighted_scores(L, self.weights_, np.log(self.class_prior_)))

    def _fitted_state(self) -> dict[str, Any]:
        return {
            "accuracy_": self.accuracy_,
            "weights_": self.weights_,
            "class_prior_": self.class_prior_,
            "n_iter_": int(self.n_iter_),
        }

    def _load_fitted_state(self, state: dict[str, Any]) -> None:
        self.accuracy_ = np.asarray(state["accuracy_"], dtype=np.float64)
        self.weights_ = np.asarray(state["weights_"], dtype=np.float64)
        self.class_prior_ = np.asarray(state["class_prior_"], dtype=np.float64)
        self.n_iter_ = int(state["n_iter_"])
