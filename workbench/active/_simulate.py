"""Simulated active learning: learning curves of query strategies from known labels.

Annotation is simulated: every row's label is known, a strategy chooses which rows of the pool
to "label" next, and the model is refitted and scored on a held-out test set at each budget.
Pure arrays in, a DataFrame out; nothing here touches a project.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import has_fit_parameter
from threadpoolctl import threadpool_limits

from workbench.active._strategies import STRATEGIES, Pool, QueryStrategy, _check_random_state, make_strategy
from workbench.exceptions import LabelValidationError

__all__ = ["IMBALANCE_THRESHOLD", "labels_to_reach", "learning_curve", "prior_weights", "stratified_seed"]

#: ``metric=None`` scores binary tasks whose minority class is below this share of the labels with
#: the F1 of the minority class, and everything else with accuracy (the rule WRENCH applies).
IMBALANCE_THRESHOLD = 0.45

_METRICS = ("f1", "accuracy", "macro_f1")


def _int_list(name: str, values: Any, *, minimum: int = 0) -> list[int]:
    try:
        out = list(values)
    except TypeError:
        raise LabelValidationError(f"The '{name}' parameter of learning_curve must be an iterable of integers. "
                                   f"Got {values!r} instead.") from None
    bad = [v for v in out if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum]
    if not out or bad:
        raise LabelValidationError(
            f"The '{name}' parameter of learning_curve must be a non-empty iterable of integers >= {minimum}. "
            f"Got {values!r}" + (f" (bad entries: {bad[:5]!r})" if bad else " (empty)") + "."
        )
    return [int(v) for v in out]


def stratified_seed(y: ArrayLike, size: int, random_state: int | np.random.RandomState | None = None
                    ) -> NDArray[np.intp]:
    """A seed set of ``size`` row indices with every class, in proportion to the class frequencies.

    Each class gets at least one row; the rest is shared out by largest remainder; rows are drawn
    at random within each class.

    Parameters
    ----------
    y : array of shape (n,)
        Labels of the rows to draw from.
    size : int
        Seed-set size (at least the number of classes).
    random_state : int, RandomState or None
        Seed.

    Returns
    -------
    ndarray of intp, shape (size,)

    Raises
    ------
    LabelValidationError
        When ``size`` is smaller than the number of classes or larger than ``len(y)``.
    """
    y = np.asarray(y)
    rng = random_state if isinstance(random_state, np.random.RandomState) else np.random.RandomState(random_state)
    classes, counts = np.unique(y, return_counts=True)
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or not len(classes) <= size <= len(y):
        raise LabelValidationError(
            f"The seed set must contain every class: seed_size must be an integer between the number of "
            f"classes ({len(classes)}: {classes.tolist()[:10]!r}) and the number of pool rows ({len(y)}). "
            f"Got {size!r}; raise seed_size (or merge rare classes)."
        )
    alloc = np.ones(len(classes), dtype=np.int64)
    left = int(size) - len(classes)
    while left > 0:
        room = counts - alloc
        want = np.where(room > 0, counts / counts.sum() * size - alloc, -np.inf)
        give = int(np.argmax(want))
        alloc[give] += 1
        left -= 1
    picks = [rng.choice(np.flatnonzero(y == c), size=int(a), replace=False) for c, a in zip(classes, alloc,
                                                                                              strict=True)]
    return np.asarray(rng.permutation(np.concatenate(picks)), dtype=np.intp)


def _weight_key(estimator: Any) -> str | None:
    """The fit keyword that takes sample weights (``step__sample_weight`` for a Pipeline), or None."""
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        return f"{name}__sample_weight" if last is not None and has_fit_parameter(last, "sample_weight") else None
    try:
        return "sample_weight" if has_fit_parameter(estimator, "sample_weight") else None
    except (TypeError, ValueError):
        return None


def prior_weights(y_labeled: ArrayLike, prior: Mapping[Any, float]) -> NDArray[np.float64]:
    """Per-row weights that give a labeled set the class distribution ``prior``.

    Row ``i`` of class ``c`` gets ``prior[c] / q[c]``, where ``q[c]`` is the share of class ``c``
    in ``y_labeled``: the weighted class shares equal ``prior`` and the weights average 1 (so a
    regularised model keeps its effective strength). A query strategy picks rows near the
    model's boundary, whose classes are rarely in the population's proportions; an unweighted
    refit then moves its intercept towards whatever class the last batches held (a strongly
    regularised model, such as ``LogisticRegression()`` on TF-IDF features with a few hundred
    labels, predicts that class almost everywhere). The weights undo that sampling bias. A
    random sample keeps the prior's proportions on average, so its weights stay near 1.

    Parameters
    ----------
    y_labeled : array of shape (n,)
        Labels of the labeled rows.
    prior : mapping {class: share}
        The class distribution to restore (e.g. a random seed set's shares); shares > 0, one
        for every class in ``y_labeled`` (they are normalised over those classes).

    Returns
    -------
    ndarray of float64, shape (n,)

    Raises
    ------
    LabelValidationError
        When a class of ``y_labeled`` has no share in ``prior``, or a share is not a number > 0.

    Examples
    --------
    >>> from workbench.active import prior_weights
    >>> prior_weights([0, 0, 0, 1], {0: 0.5, 1: 0.5}).tolist()
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    """
    y = np.asarray(y_labeled)
    if y.size == 0:
        return np.empty(0, dtype=np.float64)
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    missing = [c for c in classes.tolist() if c not in prior]
    if missing:
        raise LabelValidationError(
            f"The 'prior' of prior_weights has no share for class(es) {missing[:5]!r} of the labeled rows; it "
            f"holds {list(prior)[:10]!r}. Pass a share for every class (e.g. the seed set's class shares)."
        )
    shares = np.array([prior[c] for c in classes.tolist()], dtype=object)
    bad = [v for v in shares.tolist() if isinstance(v, bool) or not isinstance(v, numbers.Real)
           or not np.isfinite(float(v)) or float(v) <= 0]
    if bad:
        raise LabelValidationError(f"The 'prior' of prior_weights must hold class shares > 0. Got {bad[:5]!r}; "
                                   f"drop classes you do not expect or give them a small positive share.")
    pi = shares.astype(np.float64)
    pi = pi / pi.sum()
    q = counts / counts.sum()
    return np.asarray((pi / q)[inverse], dtype=np.float64)


def _resolve_metric(metric: str | None, y: NDArray[Any], pos_label: Any) -> tuple[str, Any]:
    classes, counts = np.unique(y, return_counts=True)
    minority = classes[np.lexsort((classes, counts))[0]] if len(classes) else None
    if metric is None:
        if len(classes) == 2 and counts.min() / counts.sum() < IMBALANCE_THRESHOLD:
            return "f1", minority if pos_label is None else pos_label
        return "accuracy", None
    if metric not in _METRICS:
        raise LabelValidationError(f"The 'metric' parameter of learning_curve must be one of {list(_METRICS)!r} or "
                                   f"None (auto). Got {metric!r} instead.")
    if metric == "f1":
        if len(classes) != 2:
            raise LabelValidationError(
                f"metric='f1' scores one positive class of a binary task, but y has {len(classes)} classes. "
                f"Use metric='macro_f1' or 'accuracy'."
            )
        if pos_label is None:
            pos_label = minority
        if pos_label not in set(classes.tolist()):
            raise LabelValidationError(f"The 'pos_label' parameter ({pos_label!r}) is not one of the classes "
                                       f"{classes.tolist()!r}.")
        return "f1", pos_label
    return metric, None


def _score(metric: str, pos_label: Any, y_true: NDArray[Any], y_pred: NDArray[Any]) -> float:
    if metric == "accuracy":
        return float(accuracy_score(y_true, y_pred))
    if metric == "macro_f1":
        return float(f1_score(y_true, y_pred, average="macro", zero_division=0))
    return float(f1_score(y_true == pos_label, y_pred == pos_label, zero_division=0))


def _strategy_names(strategies: Any) -> list[tuple[str, str | QueryStrategy]]:
    if isinstance(strategies, (str, QueryStrategy)):
        strategies = [strategies]
    if isinstance(strategies, Mapping):
        items = [(str(k), v) for k, v in strategies.items()]
    else:
        items = []
        for s in strategies:
            if isinstance(s, str):
                items.append((s, s))
            elif isinstance(s, QueryStrategy):
                name = next((k for k, cls in STRATEGIES.items() if type(s) is cls), type(s).__name__)
                items.append((name, s))
            else:
                items.append((repr(s), s))
    if not items:
        raise LabelValidationError("The 'strategies' parameter of learning_curve is empty; pass e.g. "
                                   "['random', 'margin'].")
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        raise LabelValidationError(
            f"Two strategies share a name in {names!r}; pass a dict {{name: strategy}} to tell them apart."
        )
    for _, s in items:
        make_strategy(s)  # unknown names / bad objects fail here, before any fitting
    return items


def _run_one(X: Any, y: NDArray[Any], pool_idx: NDArray[np.intp], test_idx: NDArray[np.intp], estimator: Any,
             name: str, strategy: str | QueryStrategy, seed: int, seed_size: int, budgets: list[int],
             batch_size: int, metric: str, pos_label: Any, weight_key: str | None,
             class_prior: str | None) -> list[dict[str, Any]]:
    # many small fits: BLAS/OpenMP threads only add overhead (and spin against each other under load)
    with threadpool_limits(limits=1):
        return _run_one_inner(X, y, pool_idx, test_idx, estimator, name, strategy, seed, seed_size, budgets,
                              batch_size, metric, pos_label, weight_key, class_prior)


def _run_one_inner(X: Any, y: NDArray[Any], pool_idx: NDArray[np.intp], test_idx: NDArray[np.intp], estimator: Any,
                   name: str, strategy: str | QueryStrategy, seed: int, seed_size: int, budgets: list[int],
                   batch_size: int, metric: str, pos_label: Any, weight_key: str | None,
                   class_prior: str | None) -> list[dict[str, Any]]:
    seed_local = stratified_seed(y[pool_idx], seed_size, np.random.RandomState(seed))
    labeled = pool_idx[seed_local]
    unlabeled = np.setdiff1d(pool_idx, labeled)
    X_test, y_test = X[test_idx], y[test_idx]
    strat_rng = np.random.RandomState([seed, 7])  # the same stream for every strategy
    rows: list[dict[str, Any]] = []
    seed_classes, seed_counts = np.unique(y[labeled], return_counts=True)
    shares = (seed_counts / seed_counts.sum()) if class_prior == "seed" else np.ones(len(seed_classes))
    prior = dict(zip(seed_classes.tolist(), shares.tolist(), strict=True))

    def weights() -> NDArray[np.float64] | None:
        return None if weight_key is None else prior_weights(y[labeled], prior)

    def fitted() -> Any:
        w = weights()
        kw: dict[str, Any] = {} if w is None or weight_key is None else {weight_key: w}
        return clone(estimator).fit(X[labeled], y[labeled], **kw)

    model = fitted()
    for budget in budgets:
        while len(labeled) < budget:
            n = min(batch_size, budget - len(labeled))
            strat = make_strategy(strategy, random_state=int(strat_rng.randint(2**31 - 1)))
            X_unl = X[unlabeled]
            proba = np.asarray(model.predict_proba(X_unl), dtype=np.float64) if strat.needs_proba else None
            pool = Pool(proba=proba, X=X_unl, estimator=estimator, X_train=X[labeled], y_train=y[labeled],
                        w_train=weights(), classes=np.asarray(model.classes_))
            picked = unlabeled[strat.select(pool, n)]
            labeled = np.r_[labeled, picked]
            unlabeled = np.setdiff1d(unlabeled, picked)
            model = fitted()
        rows.append({"strategy": name, "seed": seed, "n_labels": len(labeled),
                     "score": _score(metric, pos_label, y_test, np.asarray(model.predict(X_test))),
                     "metric": metric})
    return rows


def learning_curve(
    X: Any,
    y: ArrayLike,
    *,
    test: ArrayLike,
    estimator: Any,
    strategies: Sequence[str | QueryStrategy] | Mapping[str, str | QueryStrategy] | str | QueryStrategy,
    budgets: Iterable[int],
    seeds: Iterable[int],
    seed_size: int | None = None,
    batch_size: int = 25,
    metric: str | None = None,
    pos_label: Any = None,
    class_prior: str | None = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Simulate annotation with each strategy and score the model at each labeling budget.

    For every seed, a stratified seed set of ``seed_size`` pool rows (every class present; the
    same set for every strategy) is "labeled" from ``y``; then each strategy picks batches of
    ``batch_size`` from the rest of the pool, a clone of ``estimator`` is refitted on all rows
    labeled so far after every batch, and the model is scored on the ``test`` rows at each
    budget. Test rows are never queried nor trained on. Every strategy runs the same seeds, the
    same seed sets, the same budgets, the same batch schedule (the stopping rule is the last
    budget) and the same refit (``class_prior``). A strategy's randomness (ties, random share,
    bootstrap) is drawn from the seed, so a curve is reproducible.

    Parameters
    ----------
    X : array or scipy.sparse matrix of shape (n, n_features)
        Features of every row (pool and test).
    y : array of shape (n,)
        The known labels (the simulated annotator's answers).
    test : array of int row indices, or a boolean mask of shape (n,)
        The held-out rows.
    estimator : scikit-learn classifier
        Unfitted template with ``fit``, ``predict`` and ``predict_proba``.
    strategies : names, QueryStrategy objects, or a dict {name: strategy}
        E.g. ``["random", "margin", MarginSampling(diversity="kcenter")]`` (use a dict when two
        entries would share a name).
    budgets : iterable of int
        Labeled-set sizes at which to score (sorted, duplicates dropped; each between
        ``seed_size`` and the pool size).
    seeds : iterable of int
        One simulated run per seed.
    seed_size : int, optional
        Size of the initial labeled set; default: the smallest budget.
    batch_size : int, default 25
        Rows labeled between two refits.
    metric : {"f1", "accuracy", "macro_f1"} or None, default None
        ``None`` (auto): the F1 of the minority class for a binary task whose minority class is
        under :data:`IMBALANCE_THRESHOLD` (45%) of ``y``, else accuracy.
    pos_label : optional
        The positive class for ``"f1"`` (default: the minority class of ``y``).
    class_prior : {None, "seed", "balanced"}, default None
        How every refit (of every strategy, random included) weighs the labeled rows by class.
        ``None``: unweighted, the estimator as it is (what :class:`ActiveLearner` does).
        ``"seed"``: back to the class distribution of the seed set (:func:`prior_weights`; the
        seed set is drawn in the pool's proportions). A query strategy's batches are not a sample
        of the population, and an unweighted, strongly regularised refit drifts towards the
        classes the last batches held; random sampling's labeled set keeps the seed's
        distribution on average, so its weights stay near 1. It helps on balanced tasks
        (YouTube comments) and hurts where the minority class's F1 is scored (the weights undo
        the class balance that uncertainty sampling brings): see ``benchmarks/bench_active.py``.
        ``"balanced"``: every class gets the same total weight (``class_weight="balanced"``
        applied to every estimator). Both need an estimator whose ``fit`` takes ``sample_weight``.
    n_jobs : int, optional
        Runs (strategy x seed) in parallel with joblib; ``None`` or 1: one at a time.

    Returns
    -------
    DataFrame
        One row per (strategy, seed, budget): columns ``strategy``, ``seed``, ``n_labels``,
        ``score``, ``metric``. ``attrs["pos_label"]`` holds the F1's positive class and
        ``attrs["class_prior"]`` the refit used.

    Raises
    ------
    LabelValidationError
        On a malformed argument, or when the pool lacks a class or ``seed_size`` is smaller than
        the number of classes (the seed set must contain every class).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from workbench.active import learning_curve, labels_to_reach
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 5)); y = (X[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(int)
    >>> curve = learning_curve(X, y, test=np.arange(100), estimator=LogisticRegression(),
    ...                        strategies=["random", "margin"], budgets=[10, 20, 40], seeds=[0, 1],
    ...                        batch_size=10)
    >>> curve.columns.tolist(), len(curve)
    (['strategy', 'seed', 'n_labels', 'score', 'metric'], 12)
    """
    y_arr = np.asarray(y)
    if y_arr.ndim != 1:
        raise LabelValidationError(f"'y' must be one label per row, shape (n,). Got shape {y_arr.shape}.")
    n = len(y_arr)
    if pd.isna(y_arr).any():
        raise LabelValidationError(
            f"'y' holds {int(pd.isna(y_arr).sum())} missing label(s); a simulation needs the label of every "
            f"row. Drop the unlabeled rows first."
        )
    shape = getattr(X, "shape", None)
    if not sp.issparse(X):
        X = np.asarray(X)
        shape = X.shape
    if shape is None or len(shape) != 2 or shape[0] != n:
        raise LabelValidationError(f"'X' must be a 2-D array or sparse matrix with one row per label ({n}). "
                                   f"Got shape {shape!r}.")
    if sp.issparse(X):
        X = sp.csr_matrix(X)
    t = np.asarray(test)
    if t.dtype == bool:
        if t.shape != (n,):
            raise LabelValidationError(f"A boolean 'test' mask must have one entry per row ({n}). Got {t.shape}.")
        test_idx = np.flatnonzero(t)
    else:
        if t.ndim != 1 or (t.size and not np.issubdtype(t.dtype, np.integer)):
            raise LabelValidationError(f"'test' must be row indices (integers) or a boolean mask. Got dtype "
                                       f"{t.dtype}, shape {t.shape}.")
        test_idx = t.astype(np.intp)
        if test_idx.size and (test_idx.min() < 0 or test_idx.max() >= n):
            raise LabelValidationError(f"'test' holds row indices outside 0..{n - 1}.")
        if len(np.unique(test_idx)) != len(test_idx):
            raise LabelValidationError("'test' holds repeated row indices; pass each held-out row once.")
    if len(test_idx) == 0:
        raise LabelValidationError("'test' is empty: hold out some rows to score the model on (e.g. 30%).")
    pool_idx = np.setdiff1d(np.arange(n), test_idx).astype(np.intp)
    classes = np.unique(y_arr)
    missing = np.setdiff1d(classes, np.unique(y_arr[pool_idx]))
    if len(missing):
        raise LabelValidationError(
            f"Class(es) {missing.tolist()!r} occur only in the test rows, so no seed set can contain every "
            f"class. Split so that every class has pool rows (e.g. a stratified test split)."
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise LabelValidationError(f"The 'batch_size' parameter of learning_curve must be an integer >= 1. "
                                   f"Got {batch_size!r} instead.")
    budget_list = sorted(set(_int_list("budgets", budgets, minimum=1)))
    seed_list = list(dict.fromkeys(_int_list("seeds", seeds)))
    size = budget_list[0] if seed_size is None else seed_size
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise LabelValidationError(f"The 'seed_size' parameter of learning_curve must be an integer. Got {size!r}.")
    if size < len(classes):
        raise LabelValidationError(
            f"The seed set must contain every class, so seed_size must be at least the number of classes "
            f"({len(classes)}). Got seed_size={size}; raise it."
        )
    if budget_list[0] < size or budget_list[-1] > len(pool_idx):
        raise LabelValidationError(
            f"Every budget must lie between seed_size ({size}) and the pool size ({len(pool_idx)} rows outside "
            f"test). Got budgets from {budget_list[0]} to {budget_list[-1]}."
        )
    for needed in ("fit", "predict", "predict_proba"):
        if not hasattr(estimator, needed):
            raise LabelValidationError(f"The 'estimator' must be a scikit-learn classifier with fit, predict and "
                                       f"predict_proba; {type(estimator).__name__} has no {needed}.")
    if isinstance(class_prior, bool) or class_prior not in (None, "seed", "balanced"):
        raise LabelValidationError(f"The 'class_prior' parameter of learning_curve must be None, 'seed' or "
                                   f"'balanced'. Got {class_prior!r} instead.")
    weight_key = None
    if class_prior is not None:
        weight_key = _weight_key(estimator)
        if weight_key is None:
            raise LabelValidationError(
                f"class_prior={class_prior!r} weighs the labeled rows by class, but {type(estimator).__name__}.fit "
                f"takes no sample_weight. Pass class_prior=None to fit it unweighted, or use an estimator that "
                f"takes sample weights."
            )
    metric_name, pos = _resolve_metric(metric, y_arr, pos_label)
    items = _strategy_names(strategies)
    tasks = [(name, s, seed) for name, s in items for seed in seed_list]
    args = (X, y_arr, pool_idx, test_idx, estimator)
    tail = (int(size), budget_list, int(batch_size), metric_name, pos, weight_key, class_prior)
    if n_jobs is None or n_jobs == 1:
        results = [_run_one(*args, name, s, seed, *tail) for name, s, seed in tasks]
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=n_jobs)(delayed(_run_one)(*args, name, s, seed, *tail) for name, s, seed in tasks)
    frame = pd.DataFrame([r for rows in results for r in rows], columns=["strategy", "seed", "n_labels", "score",
                                                                         "metric"])
    frame.attrs["pos_label"] = pos
    frame.attrs["class_prior"] = class_prior
    return frame


def labels_to_reach(
    curve: pd.DataFrame, *, fraction: float = 0.99, reference: str = "random", confidence: float | None = None,
    n_boot: int = 2000, random_state: int | np.random.RandomState | None = 0,
) -> pd.DataFrame:
    """Labels each strategy needs to reach a fraction of the reference strategy's best score.

    The score of a strategy at a budget is its mean over seeds. The target is ``fraction`` times
    the reference's best mean score; a strategy's ``labels`` is the smallest budget at which its
    mean score reaches the target, and ``ratio = reference labels / labels`` (how many times fewer
    labels it needs than the reference).

    Parameters
    ----------
    curve : DataFrame
        The output of :func:`learning_curve` (columns ``strategy``, ``n_labels``, ``score``).
    fraction : float, default 0.99
        In (0, 1].
    reference : str, default "random"
        The strategy whose best score sets the target.
    confidence : float in (0, 1), optional
        Add a seed-bootstrap interval of the ratio at this level (e.g. ``0.9``). A ratio read
        off a few seeds moves by a whole budget step when one seed changes; the interval says how
        far. Each of ``n_boot`` replicates draws the seeds with replacement, the same draw for
        every strategy (a seed is one simulated run: the same seed set and the same test split
        for every strategy, so the comparison stays paired), recomputes the mean curves, the
        reference's target, and every ``labels`` and ``ratio``; a strategy that never reaches the
        target in a replicate counts as ratio 0 there. Needs a ``seed`` column with at least two
        seeds, each run by every strategy.
    n_boot : int, default 2000
        Bootstrap replicates (with ``confidence``).
    random_state : int, RandomState or None, default 0
        Seed of the bootstrap draws (with ``confidence``), so a table is reproducible.

    Returns
    -------
    DataFrame
        One row per strategy (the reference first): ``strategy``, ``labels`` (NaN if never
        reached within the budgets), ``ratio``, ``reached``, ``target``, ``best_score`` (the
        strategy's best mean score), ``n_seeds``; with ``confidence`` also ``ratio_low`` and
        ``ratio_high`` (the equal-tailed percentile interval of the ratio over the replicates)
        and ``p_reached`` (the share of replicates in which the strategy reaches the target).

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"strategy": ["random"] * 3 + ["margin"] * 3, "seed": 0,
    ...                       "n_labels": [10, 20, 40] * 2, "score": [0.5, 0.7, 0.8, 0.6, 0.8, 0.8]})
    >>> labels_to_reach(curve, fraction=1.0)[["strategy", "labels", "ratio"]].to_dict("records")
    [{'strategy': 'random', 'labels': 40.0, 'ratio': 1.0}, {'strategy': 'margin', 'labels': 20.0, 'ratio': 2.0}]

    With several seeds, ``confidence`` adds how far the ratio moves when other seeds are drawn:

    >>> runs = pd.DataFrame({"strategy": ["random"] * 4 + ["margin"] * 4, "seed": [0, 0, 1, 1] * 2,
    ...                      "n_labels": [10, 20] * 4, "score": [0.6, 0.8, 0.6, 0.8, 0.8, 0.8, 0.6, 0.8]})
    >>> labels_to_reach(runs, fraction=1.0, confidence=0.9)[["ratio", "ratio_low", "ratio_high"]].iloc[1].tolist()
    [1.0, 1.0, 2.0]
    """
    if not isinstance(curve, pd.DataFrame) or not {"strategy", "n_labels", "score"} <= set(curve.columns):
        raise LabelValidationError(
            "labels_to_reach needs the DataFrame from learning_curve (columns strategy, n_labels, score); got "
            + (f"columns {list(curve.columns)!r}." if isinstance(curve, pd.DataFrame) else f"{type(curve).__name__}.")
        )
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0.0 < float(fraction) <= 1.0:
        raise LabelValidationError(f"The 'fraction' parameter of labels_to_reach must be a number in (0, 1]. "
                                   f"Got {fraction!r} instead.")
    names = list(dict.fromkeys(curve["strategy"].tolist()))
    if reference not in names:
        raise LabelValidationError(f"The reference strategy {reference!r} is not in the curve; it holds "
                                   f"{names!r}. Pass reference= one of them (or run it too).")
    order = [reference] + [s for s in names if s != reference]
    mean = curve.pivot_table(index="strategy", columns="n_labels", values="score", aggfunc="mean").reindex(order)
    budgets = mean.columns.to_numpy(dtype=np.float64)
    target, labels = _reach(mean.to_numpy(dtype=np.float64)[:, None, :], budgets, float(fraction))
    seeds = curve.groupby("strategy")["seed"].nunique() if "seed" in curve.columns else None
    table = pd.DataFrame({
        "strategy": order, "labels": labels[:, 0], "ratio": labels[0, 0] / labels[:, 0],
        "reached": ~np.isnan(labels[:, 0]), "target": float(target[0]),
        "best_score": mean.max(axis=1).to_numpy(dtype=np.float64),
        "n_seeds": [int(seeds.loc[n]) for n in order] if seeds is not None else 1,
    })
    if confidence is not None:
        low, high, p_reached = _bootstrap_ratio(curve, order, float(fraction), confidence, n_boot, random_state)
        table["ratio_low"], table["ratio_high"], table["p_reached"] = low, high, p_reached
    return table


def _reach(means: NDArray[np.float64], budgets: NDArray[np.float64],
           fraction: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The stopping rule on mean curves of shape (strategy, replicate, budget), the reference strategy first.

    Per replicate the target is ``fraction`` times the reference's best mean; a strategy's labels
    are the smallest budget whose mean reaches it (NaN if none does; a NaN mean never does).
    Returns the targets (replicate,) and the labels (strategy, replicate).
    """
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a replicate whose reference curve is all NaN
        target = fraction * np.nanmax(means[0], axis=1)
        hit = means >= target[None, :, None] - 1e-12
    return target, np.where(hit.any(axis=2), budgets[np.argmax(hit, axis=2)], np.nan)


def _bootstrap_ratio(
    curve: pd.DataFrame, order: list[str], fraction: float, confidence: Any, n_boot: Any,
    random_state: int | np.random.RandomState | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Paired seed-bootstrap percentile interval of every strategy's ratio (``order[0]`` is the reference)."""
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not 0.0 < float(confidence) < 1.0:
        raise LabelValidationError(f"The 'confidence' parameter of labels_to_reach must be a number in (0, 1), "
                                   f"e.g. 0.9 for a 90% interval, or None. Got {confidence!r} instead.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or int(n_boot) < 100:
        raise LabelValidationError(f"The 'n_boot' parameter of labels_to_reach must be an integer >= 100 (bootstrap "
                                   f"replicates). Got {n_boot!r} instead.")
    if "seed" not in curve.columns:
        raise LabelValidationError("labels_to_reach(confidence=...) resamples seeds, but the curve has no 'seed' "
                                   "column. Pass the DataFrame from learning_curve, or leave confidence=None.")
    cube = curve.pivot_table(index=["strategy", "seed"], columns="n_labels", values="score", aggfunc="mean")
    seed_ids = sorted(set(curve["seed"].tolist()))
    budgets = cube.columns.to_numpy(dtype=np.float64)
    full = pd.MultiIndex.from_product([order, seed_ids], names=["strategy", "seed"])
    cube = cube.reindex(full)
    S = cube.to_numpy(dtype=np.float64).reshape(len(order), len(seed_ids), len(budgets))
    missing = [name for i, name in enumerate(order) if np.isnan(S[i]).all(axis=1).any()]
    if len(seed_ids) < 2 or missing:
        raise LabelValidationError(
            f"labels_to_reach(confidence=...) resamples seeds paired across strategies, so it needs at least two "
            f"seeds, each run by every strategy; the curve has seeds {seed_ids!r}"
            + (f" and {missing!r} lack some of them" if missing else "")
            + ". Run learning_curve with seeds=range(5) or more, or leave confidence=None."
        )
    _check_random_state("labels_to_reach", random_state)
    rng = check_random_state(random_state)
    n_boot, n_seeds = int(n_boot), len(seed_ids)
    draws = rng.randint(0, n_seeds, size=(n_boot, n_seeds))
    # how often each replicate draws each seed: its mean curve is (counts @ scores) / (counts @ present), one
    # (replicate, budget) matrix per strategy rather than every drawn curve at once
    counts = np.zeros((n_boot, n_seeds))
    np.add.at(counts, (np.arange(n_boot)[:, None], draws), 1.0)
    present = ~np.isnan(S)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a budget no drawn seed reached: NaN, never a hit
        means = np.stack([(counts @ np.where(present[i], S[i], 0.0)) / (counts @ present[i])
                          for i in range(len(order))])  # (strategy, replicate, budget)
    _, labels = _reach(means, budgets, fraction)
    reached = ~np.isnan(labels)
    ratio = np.where(reached, labels[0][None, :] / labels, 0.0)  # never reached: ratio 0
    tail = (1.0 - float(confidence)) / 2.0
    low, high = np.quantile(ratio, [tail, 1.0 - tail], axis=1)
    return low.astype(np.float64), high.astype(np.float64), reached.mean(axis=1).astype(np.float64)
