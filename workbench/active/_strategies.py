"""Query strategies: which unlabeled rows a person should label next.

Every strategy follows the scikit-learn estimator contract (hyperparameters stored in
``__init__``, randomness through ``random_state``, ``get_params``/``clone`` work) and answers two
questions about a :class:`Pool` of unlabeled rows:

``scores(pool)``
    one number per row, higher = more worth labeling;
``select(pool, n)``
    ``min(n, n_pool)`` distinct row indices into the pool, best first.

Uncertainty strategies (:class:`LeastConfidence`, :class:`MarginSampling`,
:class:`EntropySampling`) and :class:`QueryByCommittee` can add a **diversity step** for batches
(``diversity="kcenter"`` or ``"cluster"``): the batch is chosen among the ``candidate_factor * n``
best-scoring rows so that it does not hold near-duplicates, a **tie tolerance** (when more rows
than that score within ``tie_tolerance`` of the best, the step looks across all of them), and a
**random share** (a fraction of the batch drawn uniformly from the rest of the pool, epsilon-greedy
exploration).

:data:`DEFAULT_STRATEGY` is ``"diverse_entropy"`` (:class:`DiverseEntropySampling`: entropy with the
k-means diversity step), chosen by measurement on every dataset of the shared data folder.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, clone
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize
from sklearn.utils import check_random_state

from workbench.exceptions import LabelValidationError

__all__ = [
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "DiverseEntropySampling",
    "EntropySampling",
    "LeastConfidence",
    "MarginSampling",
    "Pool",
    "QueryByCommittee",
    "QueryStrategy",
    "RandomSampling",
    "StratifiedSampling",
    "make_strategy",
]

_DIVERSITY = (None, "kcenter", "cluster")
#: The diversity step looks at most this far down the ranking for distinct rows (or candidate_factor * n).
_MAX_WIDENED = 20_000


def _n_rows_of(X: Any) -> int:
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) != 2:
        raise LabelValidationError(
            f"Pool features 'X' must be a 2-D numpy array or scipy.sparse matrix of shape (n_pool, n_features). "
            f"Got {type(X).__name__} with shape {shape!r}; convert it with np.asarray(X) or pass X=None."
        )
    return int(shape[0])


@dataclass(frozen=True)
class Pool:
    """The unlabeled rows a strategy chooses from, and what is known about them.

    Parameters
    ----------
    proba : array of shape (n_pool, n_classes) or None
        The current model's class probabilities on the pool rows (``predict_proba``); ``None``
        when there is no model yet (cold start: only :class:`RandomSampling` and
        :class:`QueryByCommittee` work then).
    X : array or scipy.sparse matrix of shape (n_pool, n_features), optional
        Pool features: needed by the diversity step and by :class:`QueryByCommittee`.
    estimator : scikit-learn classifier, optional
        An unfitted template, cloned and fitted by :class:`QueryByCommittee`.
    X_train, y_train, w_train : optional
        The current training set (features, labels, sample weights) for :class:`QueryByCommittee`.
    classes : array of shape (n_classes,), optional
        The class labels, in the order of ``proba``'s columns.
    n_rows : int, optional
        The pool size when neither ``proba`` nor ``X`` is given (cold-start random sampling).

    Raises
    ------
    LabelValidationError
        When ``proba`` is not a finite (n_pool, k >= 2) array of probabilities whose rows sum to 1,
        or the shapes of the fields disagree.
    """

    proba: NDArray[np.float64] | None
    X: Any = None
    estimator: Any = None
    X_train: Any = None
    y_train: NDArray[Any] | None = None
    w_train: NDArray[Any] | None = None
    classes: NDArray[Any] | None = None
    n_rows: int | None = field(default=None)

    def __post_init__(self) -> None:
        sizes: dict[str, int] = {}
        if self.proba is not None:
            P = np.asarray(self.proba, dtype=np.float64)
            if P.ndim != 2 or P.shape[1] < 2:
                raise LabelValidationError(
                    f"Pool 'proba' must be class probabilities of shape (n_pool, n_classes >= 2), e.g. "
                    f"model.predict_proba(X_pool). Got an array of shape {P.shape}."
                )
            if not np.isfinite(P).all():
                bad = int((~np.isfinite(P)).any(axis=1).sum())
                raise LabelValidationError(
                    f"Pool 'proba' holds NaN or infinite values in {bad} row(s); every probability must be "
                    f"finite. Check the model's predict_proba output (or drop those rows from the pool)."
                )
            if P.size and (P.min() < 0 or P.max() > 1 or not np.allclose(P.sum(axis=1), 1.0, atol=1e-3)):
                raise LabelValidationError(
                    f"Pool 'proba' must hold probabilities in [0, 1] whose rows sum to 1; got values in "
                    f"[{P.min():.3g}, {P.max():.3g}] and row sums in [{P.sum(axis=1).min():.3g}, "
                    f"{P.sum(axis=1).max():.3g}]. Pass predict_proba output, or normalise scores first."
                )
            object.__setattr__(self, "proba", P)
            sizes["proba"] = P.shape[0]
        if self.X is not None:
            X = self.X if sp.issparse(self.X) or hasattr(self.X, "shape") else np.asarray(self.X)
            object.__setattr__(self, "X", X)
            sizes["X"] = _n_rows_of(X)
        if self.n_rows is not None:
            if isinstance(self.n_rows, bool) or not isinstance(self.n_rows, numbers.Integral) or self.n_rows < 0:
                raise LabelValidationError(f"Pool 'n_rows' must be an integer >= 0. Got {self.n_rows!r}.")
            sizes["n_rows"] = int(self.n_rows)
        if not sizes:
            raise LabelValidationError(
                "A Pool needs 'proba', 'X' or 'n_rows' to know how many rows it has; all three are None. "
                "Pass the model's probabilities, the pool features, or n_rows=len(pool)."
            )
        if len(set(sizes.values())) > 1:
            raise LabelValidationError(
                f"The Pool's fields disagree on the number of pool rows: {sizes}. Pass proba and X for the "
                f"same rows in the same order."
            )
        object.__setattr__(self, "n_rows", next(iter(sizes.values())))
        if self.classes is not None and self.proba is not None and len(self.classes) != self.proba.shape[1]:
            raise LabelValidationError(
                f"Pool 'classes' has {len(self.classes)} entries but 'proba' has {self.proba.shape[1]} columns; "
                f"pass estimator.classes_ for the columns of predict_proba."
            )
        if self.X_train is not None or self.y_train is not None:
            if self.X_train is None or self.y_train is None:
                raise LabelValidationError(
                    "Pool 'X_train' and 'y_train' go together (the current training set); got only one of them."
                )
            n_train = _n_rows_of(self.X_train)
            y = np.asarray(self.y_train)
            object.__setattr__(self, "y_train", y)
            if y.shape != (n_train,):
                raise LabelValidationError(
                    f"Pool 'y_train' must hold one label per row of X_train ({n_train}). Got shape {y.shape}."
                )
            if self.w_train is not None:
                w = np.asarray(self.w_train, dtype=np.float64)
                object.__setattr__(self, "w_train", w)
                if w.shape != (n_train,) or not np.isfinite(w).all() or (w < 0).any():
                    raise LabelValidationError(
                        f"Pool 'w_train' must hold one finite weight >= 0 per training row ({n_train}). "
                        f"Got shape {w.shape}."
                    )

    @property
    def size(self) -> int:
        """Number of pool rows."""
        return int(self.n_rows or 0)


def _as_pool(pool: Pool | ArrayLike) -> Pool:
    if isinstance(pool, Pool):
        return pool
    if pool is None:
        raise LabelValidationError(
            "A strategy needs a Pool (or an array of class probabilities); got None. Build "
            "Pool(proba=model.predict_proba(X_pool), X=X_pool) or Pool(proba=None, n_rows=n) at cold start."
        )
    return Pool(proba=np.asarray(pool, dtype=np.float64))


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise LabelValidationError(f"The 'n' parameter of select must be an integer >= 0 (the batch size). "
                                   f"Got {n!r} instead.")
    return int(n)


def _top(scores: NDArray[np.float64], k: int, rng: np.random.RandomState) -> NDArray[np.intp]:
    """Indices of the ``k`` highest scores, best first; ties broken at random (seeded)."""
    m = len(scores)
    k = min(k, m)
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    tiebreak = rng.random_sample(m)
    if k < m:
        kth = np.partition(scores, m - k)[m - k]
        cand = np.flatnonzero(scores >= kth)  # every row tied at the boundary stays in the draw
    else:
        cand = np.arange(m)
    order = cand[np.lexsort((tiebreak[cand], -scores[cand]))]
    return order[:k].astype(np.intp)


def _check_random_state(owner: str, rs: Any) -> None:
    """Refuse a ``random_state`` that is not None, an int or a numpy RandomState (``owner`` names the caller)."""
    if not (rs is None or isinstance(rs, np.random.RandomState)
            or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool))):
        raise LabelValidationError(
            f"The 'random_state' parameter of {owner} must be None, an int or a numpy RandomState. Got {rs!r} instead."
        )


def _unit_rows(X: Any) -> Any:
    """L2-normalised rows (sparse stays sparse); all-zero rows become one shared unit vector."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
        if X.nnz and not np.isfinite(X.data).all():
            raise LabelValidationError("Pool 'X' holds NaN or infinite values; the diversity step needs finite "
                                       "features. Clean the features or pass diversity=None.")
        zero = np.asarray(X.getnnz(axis=1) == 0) | (np.asarray(abs(X).sum(axis=1)).ravel() == 0)
        X = sp.hstack([X, sp.csr_matrix(zero.astype(np.float64)[:, None])], format="csr")
    else:
        X = np.asarray(X, dtype=np.float64)
        if not np.isfinite(X).all():
            raise LabelValidationError("Pool 'X' holds NaN or infinite values; the diversity step needs finite "
                                       "features. Clean the features or pass diversity=None.")
        zero = ~np.any(X != 0, axis=1)
        X = np.hstack([X, zero.astype(np.float64)[:, None]])
    return normalize(X, norm="l2", copy=False)


def _kcenter(Xc: Any, n: int) -> NDArray[np.intp]:
    """Greedy k-center (cosine distance) over candidates given best first; the best one seeds it."""
    U = _unit_rows(Xc)
    m = U.shape[0]
    chosen = [0]
    min_dist = np.full(m, np.inf)
    for _ in range(1, n):
        last = U[chosen[-1]]
        sim = U @ last.T
        sim = np.asarray(sim.toarray() if sp.issparse(sim) else sim).ravel()
        min_dist = np.minimum(min_dist, np.clip(1.0 - sim, 0.0, 2.0))
        min_dist[chosen[-1]] = -1.0
        nxt = int(np.argmax(min_dist))  # ties: the first, i.e. the better-scoring candidate
        if min_dist[nxt] <= 1e-12:
            break  # only duplicates of chosen rows remain
        chosen.append(nxt)
    return np.asarray(chosen, dtype=np.intp)


def _cluster(Xc: Any, n: int, rng: np.random.RandomState) -> NDArray[np.intp]:
    """k-means (k-means++ start) with ``n`` clusters over candidates (given best first); the best of each cluster.

    Full-batch KMeans: the candidates are few (``candidate_factor * n``), where MiniBatchKMeans is
    an order of magnitude slower for no gain.
    """
    U = _unit_rows(Xc)
    if sp.issparse(U):  # only the columns the candidates use: k-means keeps dense centers (2**20 wide when hashed)
        U = U[:, np.unique(U.indices)]
    km = KMeans(n_clusters=n, random_state=rng.randint(2**31 - 1), n_init=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fewer distinct rows than clusters: handled below
        labels = km.fit_predict(U)
    _, first = np.unique(labels, return_index=True)  # candidates are best first: first = best per cluster
    return np.sort(first).astype(np.intp)


class QueryStrategy(BaseEstimator):  # type: ignore[misc]
    """Base class: a rule that ranks unlabeled pool rows by how much labeling them is worth.

    Subclasses implement ``_scores(pool, rng)``; :meth:`select` takes the best rows, through the
    diversity step and the random share where the strategy has them.
    """

    #: Whether the strategy reads ``Pool.proba`` (strategies that do refuse a cold-start pool).
    needs_proba: ClassVar[bool] = True

    def __init__(self, random_state: int | np.random.RandomState | None = None) -> None:
        self.random_state = random_state

    # -- subclass hooks -------------------------------------------------------------------------------
    def _scores(self, pool: Pool, rng: np.random.RandomState) -> NDArray[np.float64]:  # pragma: no cover
        raise NotImplementedError

    # -- shared checks --------------------------------------------------------------------------------
    def _proba(self, pool: Pool) -> NDArray[np.float64]:
        if pool.proba is None:
            raise LabelValidationError(
                f"{type(self).__name__} needs the model's probabilities on the pool, but Pool.proba is None "
                f"(no model yet). Fit a model on a seed set and pass Pool(proba=model.predict_proba(X_pool)), or "
                f"start with strategy='random' (RandomSampling needs no model)."
            )
        return pool.proba

    def _check_params(self) -> None:
        _check_random_state(type(self).__name__, self.random_state)
        for name in ("diversity", "candidate_factor", "random_share", "tie_tolerance", "tie_factor"):
            if name in self.get_params(deep=False):
                _check_batch_param(type(self).__name__, name, getattr(self, name))

    # -- public API -----------------------------------------------------------------------------------
    def scores(self, pool: Pool | ArrayLike) -> NDArray[np.float64]:
        """How much each pool row is worth labeling.

        Parameters
        ----------
        pool : Pool or array of shape (n_pool, n_classes)
            The pool (an array is taken as ``Pool(proba=array)``).

        Returns
        -------
        ndarray of shape (n_pool,)
            Higher = more worth labeling.
        """
        self._check_params()
        pool = _as_pool(pool)
        if pool.size == 0:
            return np.empty(0, dtype=np.float64)
        return np.asarray(self._scores(pool, check_random_state(self.random_state)), dtype=np.float64)

    def select(self, pool: Pool | ArrayLike, n: int) -> NDArray[np.intp]:
        """The next ``n`` rows to label: distinct indices into the pool, best first.

        Parameters
        ----------
        pool : Pool or array of shape (n_pool, n_classes)
            The pool (an array is taken as ``Pool(proba=array)``).
        n : int
            The batch size (>= 0); a pool with fewer rows gives all of them.

        Returns
        -------
        ndarray of intp, shape (min(n, n_pool),)
        """
        self._check_params()
        n = _check_n(n)
        pool = _as_pool(pool)
        k = min(n, pool.size)
        if k == 0:
            return np.empty(0, dtype=np.intp)
        rng = check_random_state(self.random_state)
        s = np.asarray(self._scores(pool, rng), dtype=np.float64)
        share = float(getattr(self, "random_share", 0.0) or 0.0)
        n_random = int(np.floor(share * k + rng.random_sample()))  # share * k on average, unbiased
        n_main = k - n_random
        diversity = getattr(self, "diversity", None)
        if diversity is not None and n_main > 1:
            main = self._diverse(pool, s, n_main, rng, diversity)
        else:
            main = _top(self._ranked(s)[0], n_main, rng)
        if len(main) < n_main:  # the diversity step ran out of distinct rows: fill up by score
            rest = np.setdiff1d(np.arange(pool.size), main)
            main = np.r_[main, rest[_top(s[rest], n_main - len(main), rng)]]
        if n_random:
            rest = np.setdiff1d(np.arange(pool.size), main)
            main = np.r_[main, rng.choice(rest, size=n_random, replace=False)]
        return np.asarray(main, dtype=np.intp)

    def _ranked(self, s: NDArray[np.float64]) -> tuple[NDArray[np.float64], int]:
        """The scores the ranking uses and the number of near-ties (0 when ``tie_tolerance`` is 0).

        Every row within ``tie_tolerance`` of the best score gets the best score, so the ranking
        draws among those rows at random.
        """
        tol = float(getattr(self, "tie_tolerance", 0.0) or 0.0)
        if tol == 0.0 or len(s) == 0:
            return s, 0
        best = float(s.max())
        near = s >= best - tol
        return np.where(near, best, s), int(np.count_nonzero(near))

    def _diverse(self, pool: Pool, s: NDArray[np.float64], n: int, rng: np.random.RandomState,
                 diversity: str) -> NDArray[np.intp]:
        if pool.X is None:
            raise LabelValidationError(
                f"{type(self).__name__}(diversity={diversity!r}) needs the pool features, but Pool.X is None. "
                f"Pass Pool(..., X=X_pool), or set diversity=None."
            )
        factor = int(getattr(self, "candidate_factor", 10))
        size = max(n, factor * n)
        ranked, tied = self._ranked(s)
        if tied > size:  # the best candidate_factor * n would be one corner of the near-ties: sample them all
            size = min(tied, max(size, int(getattr(self, "tie_factor", 20)) * n))
        order = _top(ranked, min(pool.size, max(size, _MAX_WIDENED)), rng)  # best first; ties drawn once
        while True:
            cand = order[:size]
            cand = cand[np.argsort(-s[cand], kind="stable")]  # best first by the score itself
            Xc = pool.X[cand]
            picked = _kcenter(Xc, n) if diversity == "kcenter" else _cluster(Xc, n, rng)
            if len(picked) >= n or size >= len(order):
                break
            # fewer than n distinct rows among the candidates (a pool of repeated feature vectors):
            # look further down the ranking rather than fill the batch with copies
            size = min(len(order), 4 * size)
        # best first by score (k-center order is a covering order, not a ranking)
        picked = picked[np.argsort(-s[cand[picked]], kind="stable")]
        return cand[picked]


#: Integer batch parameters (>= 1) and share-like ones (in [0, 1]), with what each means for the message.
_INT_PARAMS = {
    "candidate_factor": "the diversity step looks at candidate_factor * n best-scoring rows",
    "tie_factor": "the diversity step clusters at most tie_factor * n near-tied rows",
}
_SHARE_PARAMS = {
    "random_share": "the share of each batch drawn at random",
    "tie_tolerance": "scores within it of the best count as near-ties; 0 turns this off",
}


def _check_batch_param(owner: str, name: str, value: Any) -> None:
    if name == "diversity" and value not in _DIVERSITY:
        raise LabelValidationError(
            f"The 'diversity' parameter of {owner} must be 'kcenter', 'cluster' or None. Got {value!r} instead."
        )
    if name in _INT_PARAMS and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1):
        raise LabelValidationError(
            f"The '{name}' parameter of {owner} must be an integer >= 1 ({_INT_PARAMS[name]}). Got {value!r} instead."
        )
    if name in _SHARE_PARAMS and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                                  or not 0.0 <= float(value) <= 1.0):
        raise LabelValidationError(
            f"The '{name}' parameter of {owner} must be a number in [0, 1] ({_SHARE_PARAMS[name]}). "
            f"Got {value!r} instead."
        )


class RandomSampling(QueryStrategy):
    """Uniform random sampling: the baseline every other strategy is measured against.

    Needs no model (works at cold start with ``Pool(proba=None, n_rows=n)``).

    Parameters
    ----------
    random_state : int, RandomState or None
        Seed; the same seed and pool give the same selection.

    Examples
    --------
    >>> from workbench.active import Pool, RandomSampling
    >>> RandomSampling(random_state=0).select(Pool(proba=None, n_rows=10), 3).tolist()
    [8, 7, 1]
    """

    needs_proba: ClassVar[bool] = False

    def _scores(self, pool: Pool, rng: np.random.RandomState) -> NDArray[np.float64]:
        return rng.random_sample(pool.size)


class StratifiedSampling(QueryStrategy):
    """Class-balanced sampling for imbalanced data: round-robin over the predicted classes.

    Rows are grouped by their predicted class (the argmax of ``proba``); the batch takes one row
    from each class in turn, the rarest predicted class first, at random within a class, so a
    rare class gets as many rows as a common one while it has them.

    Parameters
    ----------
    random_state : int, RandomState or None
        Seed for the order within each class.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.active import StratifiedSampling
    >>> proba = np.array([[0.9, 0.1]] * 8 + [[0.2, 0.8]] * 2)
    >>> picked = StratifiedSampling(random_state=0).select(proba, 4)
    >>> np.bincount(proba[picked].argmax(axis=1)).tolist()
    [2, 2]
    """

    def _scores(self, pool: Pool, rng: np.random.RandomState) -> NDArray[np.float64]:
        P = self._proba(pool)
        pred = P.argmax(axis=1)
        counts = np.bincount(pred, minlength=P.shape[1])
        rarity = np.empty(P.shape[1], dtype=np.int64)
        rarity[np.lexsort((np.arange(P.shape[1]), counts))] = np.arange(P.shape[1])  # 0 = rarest
        perm = rng.permutation(pool.size)
        within = np.empty(pool.size, dtype=np.int64)  # a row's turn within its class
        by_class = perm[np.argsort(pred[perm], kind="stable")]
        starts = np.r_[0, np.cumsum(np.bincount(pred, minlength=P.shape[1]))[:-1]]
        within[by_class] = np.arange(pool.size) - starts[pred[by_class]]
        order = np.lexsort((rarity[pred], within))
        out = np.empty(pool.size, dtype=np.float64)
        out[order] = (pool.size - np.arange(pool.size)) / pool.size
        return out


class _UncertaintySampling(QueryStrategy):
    """Shared parameters of the uncertainty strategies (see the subclasses)."""

    def __init__(
        self, *, diversity: str | None = None, candidate_factor: int = 10, random_share: float = 0.0,
        tie_tolerance: float = 0.0, tie_factor: int = 20,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.diversity = diversity
        self.candidate_factor = candidate_factor
        self.random_share = random_share
        self.tie_tolerance = tie_tolerance
        self.tie_factor = tie_factor
        self.random_state = random_state

    def _uncertainty(self, P: NDArray[np.float64]) -> NDArray[np.float64]:  # pragma: no cover
        raise NotImplementedError

    def _scores(self, pool: Pool, rng: np.random.RandomState) -> NDArray[np.float64]:
        return self._uncertainty(self._proba(pool))


_BATCH_DOC = """
    Parameters
    ----------
    diversity : {None, "kcenter", "cluster"}, default None
        The diversity step for a batch of ``n``: among the ``candidate_factor * n`` best-scoring
        rows, ``"kcenter"`` picks greedily the row farthest (cosine distance on L2-normalised
        features, sparse or dense) from those already picked, starting with the best one;
        ``"cluster"`` runs k-means with ``n`` clusters and takes the best row of each.
        Either way exact and near duplicates do not fill a batch. Needs ``Pool.X``.
    candidate_factor : int, default 10
        How many best-scoring rows per batch slot the diversity step looks at (it never looks at
        more, so a 1,000,000-row pool costs one ``argpartition`` plus the step on
        ``candidate_factor * n`` rows).
    random_share : float, default 0.0
        Share of each batch drawn uniformly at random from the rest of the pool (exploration:
        uncertainty alone can keep querying one region while the model is wrong elsewhere).
        Random rows come last in the returned order.
    tie_tolerance : float, default 0.0
        Rows whose score is within ``tie_tolerance`` of the best score count as near-ties (every
        score here is in [0, 1]). A model that is unsure everywhere, as after a small seed set,
        gives thousands of rows nearly the best score, and the very top of that ranking is one
        corner of the pool (on YouTube comments: short comments, nearly all ham). When more rows
        than the candidate set are near-ties, the diversity step clusters up to
        ``tie_factor * n`` of them (drawn at random) instead of the ``candidate_factor * n`` best,
        and still takes the most uncertain row of each cluster; without the diversity step, ``n``
        near-ties are drawn at random. 0 turns this off.
    tie_factor : int, default 20
        How many near-tied rows per batch slot the diversity step clusters, when more rows are
        near-ties than ``candidate_factor * n``.
    random_state : int, RandomState or None
        Seed for ties, the diversity step and the random share."""


class LeastConfidence(_UncertaintySampling):
    __doc__ = (
        """Least-confidence sampling: ``1 - max_c p(c)``, the rows the model is least sure about.
"""
        + _BATCH_DOC
        + """

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.active import LeastConfidence
    >>> LeastConfidence().select(np.array([[0.9, 0.1], [0.55, 0.45], [0.7, 0.3]]), 2).tolist()
    [1, 2]
    """
    )

    def _uncertainty(self, P: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(1.0 - P.max(axis=1), dtype=np.float64)


class MarginSampling(_UncertaintySampling):
    __doc__ = (
        """Margin sampling: ``1 - (p_top1 - p_top2)``, the rows nearest a decision boundary.
"""
        + _BATCH_DOC
        + """

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.active import MarginSampling
    >>> proba = np.array([[0.5, 0.3, 0.2], [0.4, 0.35, 0.25], [0.8, 0.1, 0.1]])
    >>> MarginSampling().select(proba, 1).tolist()
    [1]
    """
    )

    def _uncertainty(self, P: NDArray[np.float64]) -> NDArray[np.float64]:
        top2 = np.partition(P, P.shape[1] - 2, axis=1)[:, -2:]
        return np.asarray(1.0 - (top2[:, 1] - top2[:, 0]), dtype=np.float64)


def _entropy(P: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(P > 0, np.log(np.where(P > 0, P, 1.0)), 0.0)
    return np.asarray(-(P * logs).sum(axis=1) / np.log(P.shape[1]) + 0.0, dtype=np.float64)


class EntropySampling(_UncertaintySampling):
    __doc__ = (
        """Entropy sampling: the predictive entropy ``-sum_c p(c) log p(c)``, scaled to [0, 1] by ``log k``.
"""
        + _BATCH_DOC
        + """

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.active import EntropySampling
    >>> EntropySampling().scores(np.array([[0.5, 0.5], [1.0, 0.0]])).round(3).tolist()
    [1.0, 0.0]
    """
    )

    def _uncertainty(self, P: NDArray[np.float64]) -> NDArray[np.float64]:
        return _entropy(P)


class DiverseEntropySampling(EntropySampling):
    """The default strategy: entropy sampling with a k-means diversity step over the best candidates.

    :class:`EntropySampling` with ``diversity="cluster"`` and ``candidate_factor=3``: the ``3 * n``
    most uncertain rows are clustered into ``n`` groups and the most uncertain row of each is
    taken, so a batch covers distinct uncertain regions instead of near-copies of one (and, in
    pools of repeated feature vectors, looks further down the ranking for distinct rows).

    **The tie tolerance** (``tie_tolerance``, off by default): when more than ``3 * n`` rows are
    within it of the highest (normalised) entropy, up to ``tie_factor * n`` of them, drawn at
    random, are clustered instead, still taking the most uncertain row of each cluster. Use
    ``tie_tolerance=0.05`` with an *unweighted*, strongly regularised end model such as
    ``LogisticRegression(max_iter=1000)`` on TF-IDF features: after a 25-label seed set it gives
    most of the pool an entropy above 0.99, the very top of that ranking is one corner of the pool
    (on the YouTube comments, short comments that are nearly all ham), and one batch of them makes
    the next unweighted model call everything ham; the tolerance lifts that loop from 2.1x to 3.0x
    fewer labels than random sampling there. With the learner's default end model
    (:func:`~workbench.active.default_estimator`, balanced class weights) there is no such
    collapse and the tolerance does not pay: over every dataset in the shared data folder it
    costs the 9-class WRENCH SemEval most of its gain (2.9x instead of 6.7x, 10 seeds) for a
    small gain on the YouTube sets, so the default leaves it off.

    Chosen by measurement over every dataset in the shared data folder
    (``benchmarks/bench_active.py``): entropy rather than margin because margin stalls on
    many-class tasks (WRENCH SemEval), the diversity step because plain uncertainty never reaches
    random sampling's best score on the WRENCH tasks whose features repeat (Yelp, IMDb), and no
    random share because it did not help on average. Taking a random row of each cluster instead
    of the most uncertain, or its most central row, was measured too and is worse. Needs
    ``Pool.proba`` and ``Pool.X``.

    Parameters
    ----------
    diversity, candidate_factor, random_share, tie_tolerance, tie_factor, random_state
        As for :class:`EntropySampling` (defaults ``"cluster"``, ``3``, ``0.0``, ``0.0``, ``20``,
        ``None``).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.active import DiverseEntropySampling, Pool
    >>> X = np.r_[np.tile([[1.0, 0.0]], (5, 1)), [[0.0, 1.0]]]     # five copies of one row, one other
    >>> proba = np.array([[0.5, 0.5]] * 5 + [[0.6, 0.4]])
    >>> sorted(DiverseEntropySampling(random_state=0).select(Pool(proba=proba, X=X), 2).tolist())[-1]
    5
    """

    def __init__(
        self, *, diversity: str | None = "cluster", candidate_factor: int = 3, random_share: float = 0.0,
        tie_tolerance: float = 0.0, tie_factor: int = 20,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        super().__init__(diversity=diversity, candidate_factor=candidate_factor, random_share=random_share,
                         tie_tolerance=tie_tolerance, tie_factor=tie_factor, random_state=random_state)


class QueryByCommittee(QueryStrategy):
    """Query-by-committee: where a bootstrap ensemble of the model disagrees most.

    ``n_members`` clones of ``Pool.estimator`` are fitted on bootstrap resamples of the current
    training set (``X_train``, ``y_train`` and ``w_train`` if given), resampled within each class
    so that every member sees every class; the score of a pool row is the committee's
    disagreement on it. Needs no ``Pool.proba`` (so it also works at cold start from a seed set).

    Parameters
    ----------
    n_members : int, default 5
        Committee size (>= 2).
    disagreement : {"kl", "vote_entropy"}, default "kl"
        ``"kl"``: the mean Kullback-Leibler divergence of each member's probabilities from the
        committee's mean (McCallum and Nigam 1998); ``"vote_entropy"``: the entropy of the
        members' hard votes (scaled to [0, 1]). Both are 0 where all members agree.
    diversity, candidate_factor, random_share
        As for :class:`MarginSampling`.
    random_state : int, RandomState or None
        Seed for the bootstrap (and the members' own ``random_state`` where they have one).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from workbench.active import Pool, QueryByCommittee
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2)); y = (X[:, 0] > 0).astype(int)
    >>> pool = Pool(proba=None, X=np.array([[0.0, 0.0], [5.0, 0.0]]), estimator=LogisticRegression(),
    ...             X_train=X, y_train=y)
    >>> QueryByCommittee(random_state=0).select(pool, 1).tolist()   # the row on the boundary
    [0]
    """

    needs_proba: ClassVar[bool] = False

    def __init__(
        self, n_members: int = 5, *, disagreement: str = "kl", diversity: str | None = None,
        candidate_factor: int = 10, random_share: float = 0.0,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.n_members = n_members
        self.disagreement = disagreement
        self.diversity = diversity
        self.candidate_factor = candidate_factor
        self.random_share = random_share
        self.random_state = random_state

    def _check_params(self) -> None:
        super()._check_params()
        if isinstance(self.n_members, bool) or not isinstance(self.n_members, numbers.Integral) or self.n_members < 2:
            raise LabelValidationError(f"The 'n_members' parameter of QueryByCommittee must be an integer >= 2. "
                                       f"Got {self.n_members!r} instead.")
        if self.disagreement not in ("kl", "vote_entropy"):
            raise LabelValidationError(f"The 'disagreement' parameter of QueryByCommittee must be 'kl' or "
                                       f"'vote_entropy'. Got {self.disagreement!r} instead.")

    def member_probas(self, pool: Pool) -> NDArray[np.float64]:
        """Each member's class probabilities on the pool: shape (n_members, n_pool, n_classes)."""
        self._check_params()
        return self._member_probas(_as_pool(pool), check_random_state(self.random_state))

    def _member_probas(self, pool: Pool, rng: np.random.RandomState) -> NDArray[np.float64]:
        missing = [name for name in ("estimator", "X", "X_train", "y_train") if getattr(pool, name) is None]
        if missing:
            raise LabelValidationError(
                f"QueryByCommittee fits a committee on the current training set, so its Pool needs 'estimator' "
                f"(an unfitted classifier), 'X' (pool features), 'X_train' and 'y_train'; missing: {missing}. "
                f"Build Pool(proba, X=X_pool, estimator=clf, X_train=X_lab, y_train=y_lab)."
            )
        y = np.asarray(pool.y_train)
        classes = np.unique(y) if pool.classes is None else np.asarray(pool.classes)
        present = np.unique(y)
        if len(present) < 2:
            raise LabelValidationError(
                f"QueryByCommittee needs training labels of at least 2 classes; y_train holds {present.tolist()!r}. "
                f"Label a seed set with every class first (or use strategy='random' until then)."
            )
        unknown = np.setdiff1d(present, classes)
        if len(unknown):
            raise LabelValidationError(f"y_train holds classes {unknown.tolist()!r} that are not in Pool.classes "
                                       f"{classes.tolist()!r}.")
        groups = [np.flatnonzero(y == c) for c in present]
        out = np.zeros((int(self.n_members), pool.size, len(classes)), dtype=np.float64)
        for m in range(int(self.n_members)):
            idx = np.concatenate([g[rng.randint(0, len(g), size=len(g))] for g in groups])
            member = clone(pool.estimator)
            if "random_state" in member.get_params(deep=False):
                member.set_params(random_state=rng.randint(2**31 - 1))
            fit_kw = {} if pool.w_train is None else {"sample_weight": np.asarray(pool.w_train)[idx]}
            member.fit(pool.X_train[idx], y[idx], **fit_kw)
            P = np.asarray(member.predict_proba(pool.X), dtype=np.float64)
            cols = np.searchsorted(classes, np.asarray(member.classes_)) if pool.classes is None else np.array(
                [int(np.flatnonzero(classes == c)[0]) for c in member.classes_])
            out[m][:, cols] = P
        return out

    def _scores(self, pool: Pool, rng: np.random.RandomState) -> NDArray[np.float64]:
        probas = self._member_probas(pool, rng)
        k = probas.shape[2]
        if self.disagreement == "vote_entropy":
            votes = probas.argmax(axis=2)  # (members, pool)
            share = np.stack([(votes == c).mean(axis=0) for c in range(k)], axis=1)
            return _entropy(share)
        mean = probas.mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(probas > 0, np.log(np.where(probas > 0, probas, 1.0) / np.where(mean > 0, mean, 1.0)),
                             0.0)
        kl = (probas * ratio).sum(axis=2).mean(axis=0)
        return np.asarray(np.maximum(kl, 0.0), dtype=np.float64)


#: The strategies by name (``make_strategy`` and ``ActiveLearner(strategy=...)`` accept these names).
STRATEGIES: dict[str, type[QueryStrategy]] = {
    "random": RandomSampling,
    "stratified": StratifiedSampling,
    "least_confidence": LeastConfidence,
    "margin": MarginSampling,
    "entropy": EntropySampling,
    "committee": QueryByCommittee,
    "diverse_entropy": DiverseEntropySampling,
}

#: The strategy used when none is named: :class:`DiverseEntropySampling` (chosen by measurement on
#: every dataset of the shared data folder; see ``benchmarks/bench_active.py``).
DEFAULT_STRATEGY: str = "diverse_entropy"


def make_strategy(strategy: str | QueryStrategy, random_state: int | np.random.RandomState | None = None
                  ) -> QueryStrategy:
    """A strategy from its name in :data:`STRATEGIES`, or a fresh copy of a strategy object.

    Parameters
    ----------
    strategy : str or QueryStrategy
        A name (``"random"``, ``"margin"`` ...) or a configured strategy (it is cloned, so the
        caller's object is never changed).
    random_state : int, RandomState or None
        Seed given to the strategy; ``None`` keeps a strategy object's own ``random_state``.

    Returns
    -------
    QueryStrategy

    Examples
    --------
    >>> from workbench.active import make_strategy
    >>> make_strategy("margin", random_state=0)
    MarginSampling(random_state=0)
    """
    if isinstance(strategy, QueryStrategy):
        out = clone(strategy)
        if random_state is not None:
            out.set_params(random_state=random_state)
        return out
    if isinstance(strategy, str) and strategy in STRATEGIES:
        return STRATEGIES[strategy](random_state=random_state)
    raise LabelValidationError(
        f"Unknown query strategy {strategy!r}. Expected one of {sorted(STRATEGIES)!r} or a QueryStrategy "
        f"object (e.g. MarginSampling(diversity='kcenter'))."
    )
