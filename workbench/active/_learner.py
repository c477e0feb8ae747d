"""The :class:`ActiveLearner`: an end model on a project, the next batch to label, background retraining."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import multiprocessing
import numbers
import pickle
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from workbench._events import Subscription
from workbench.active._features import FeatureCache, FeatureMatrix
from workbench.active._simulate import _weight_key
from workbench.active._strategies import (
    DEFAULT_STRATEGY,
    STRATEGIES,
    Pool,
    QueryByCommittee,
    QueryStrategy,
    make_strategy,
)
from workbench.exceptions import LabelValidationError, NotFittedError, UnknownExampleError, WorkbenchError

__all__ = ["ActiveLearner", "HUMAN_SOURCES", "default_estimator"]

_log = logging.getLogger(__name__)

#: Label sources that count as a person's label: they override weak labels (weight 1), leave the
#: pool, and count towards ``start_background(every=N)``.
HUMAN_SOURCES: tuple[str, ...] = ("human", "adjudication", "gold")

_CV_MIN_PER_CLASS = 2
_DEFAULT_FIT: dict[str, Any] = {"labels": None, "gold": True, "soft": False, "cv": 5, "require_all_classes": True}


def default_estimator() -> LogisticRegression:
    """The end model :class:`ActiveLearner` fits when it is given none (a new, unfitted one per call).

    ``LogisticRegression(max_iter=1000, class_weight="balanced")``: every class carries the same
    total weight in each fit. The loop's labeled set is not a random sample: the query strategy
    picks rows near the model's boundary, whose classes are seldom in the pool's proportions. An
    unweighted, strongly regularised fit (tiny weights on TF-IDF features after a few dozen
    labels) lets its intercept follow the class shares of the last batches and predicts one
    class almost everywhere. With balanced weights the default strategy needs 4.6-6.4x fewer
    labels than random sampling on the YouTube spam comments (four test splits), against 2.1x
    unweighted (``benchmarks/bench_active.py``, setups ``default`` and ``issue``). On a
    multi-class task with rare classes scored by accuracy (WRENCH SemEval) the same weights cost
    random sampling accuracy (best .67 against .78 unweighted), not the default strategy (.85
    against .84).

    Returns
    -------
    LogisticRegression

    Examples
    --------
    >>> from workbench.active import default_estimator
    >>> default_estimator().get_params()["class_weight"]
    'balanced'
    """
    return LogisticRegression(max_iter=1000, class_weight="balanced")


def _clone(estimator: Any) -> Any:
    try:
        return clone(estimator)
    except TypeError:  # not a scikit-learn estimator (no get_params): an independent copy will do
        return copy.deepcopy(estimator)


def _check_id_list(example_ids: Any, method: str) -> None:
    """Refuse one id given as a bare string (its characters would be read as ids) and non-sequences."""
    if isinstance(example_ids, str) or not isinstance(example_ids, (Sequence, pd.Index, np.ndarray, pd.Series)):
        raise LabelValidationError(
            f"The 'example_ids' parameter of {method} must be a list of example ids or None. Got "
            f"{type(example_ids).__name__} instead" + (": wrap one id in a list." if isinstance(
                example_ids, str) else ".")
        )


def _json_safe(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _blas_for(X: Any) -> contextlib.AbstractContextManager[Any]:
    """One BLAS thread while a model works on sparse features.

    With sparse features the BLAS calls of a linear model are vector operations on the
    coefficients (memory-bound: more threads do not help), and OpenBLAS threads that spin-wait
    for a busy core make each of them orders of magnitude slower on a loaded machine.
    Dense features keep the BLAS threads.
    """
    if not sp.issparse(X):
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _new_estimator(template: Any, random_state: int | None) -> Any:
    """A fresh copy of ``template``, seeded with ``random_state`` if it takes one and has none."""
    est = _clone(template)
    if random_state is not None and hasattr(est, "get_params"):
        params = est.get_params(deep=False)
        if "random_state" in params and params["random_state"] is None:
            est.set_params(random_state=random_state)
    return est


def _fit_estimator(template: Any, X: Any, y: np.ndarray, w: np.ndarray, random_state: int | None) -> Any:
    est = _new_estimator(template, random_state)
    key = _weight_key(est)
    with _blas_for(X):
        est.fit(X, y, **({key: w} if key else {}))
    return est


def _cross_validate(template: Any, X: Any, y: np.ndarray, w: np.ndarray, human: np.ndarray, cv: int | None,
                    random_state: int | None) -> dict[str, Any]:
    """Out-of-fold scores on the people's rows; weak rows stay in every training fold."""
    if not cv:
        return {"skipped": "cv=None"}
    rows_h = np.flatnonzero(human)
    yh = y[rows_h]
    classes, freq = np.unique(yh, return_counts=True) if len(yh) else (np.array([]), np.array([]))
    if len(classes) < 2:
        return {"skipped": f"the people's labels hold {len(classes)} class(es); cross-validation needs 2"}
    n_splits = int(min(cv, freq.min()))
    if n_splits < _CV_MIN_PER_CLASS:
        return {"skipped": f"a class has only {int(freq.min())} human/gold label(s); cross-validation needs "
                           f"{_CV_MIN_PER_CLASS} per class"}
    weak = np.flatnonzero(~human)
    pred = np.empty(len(rows_h), dtype=object)
    all_classes = [str(c) for c in np.unique(y)]
    oof = np.zeros((len(rows_h), len(all_classes)))
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state or 0)
    for train_h, test_h in folds.split(np.zeros(len(yh)), yh):
        tr = np.r_[weak, rows_h[train_h]]
        if len(np.unique(y[tr])) < 2:
            return {"skipped": "a training fold holds one class only"}
        est = _fit_estimator(template, X[tr], y[tr], w[tr], random_state)
        with _blas_for(X):
            pred[test_h] = est.predict(X[rows_h[test_h]])
            if hasattr(est, "predict_proba"):
                cols = [all_classes.index(str(c)) for c in est.classes_]
                oof[np.ix_(test_h, cols)] = est.predict_proba(X[rows_h[test_h]])
    return {
        "n_rows": len(rows_h), "n_splits": n_splits,
        "accuracy": float(accuracy_score(yh, pred)),
        "macro_f1": float(f1_score(yh, pred, labels=list(classes), average="macro", zero_division=0)),
        # popped before the run is recorded: training-row positions and their out-of-fold probabilities
        "_oof": (rows_h, all_classes, oof),
    }


def _fit_model(template: Any, X: Any, y: np.ndarray, w: np.ndarray, human: np.ndarray, cv: int | None,
               random_state: int | None) -> tuple[Any, dict[str, Any]]:
    """Cross-validate, then fit on every training row: pure, so it can run in a worker process."""
    cv_result = _cross_validate(template, X, y, w, human, cv, random_state)
    return _fit_estimator(template, X, y, w, random_state), cv_result


def _fit_model_remote(payload: bytes) -> tuple[str, Any]:
    """The worker process's side of :func:`_fit_model`: ``("ok", result)``, or ``("unpickle", why)`` when the
    arguments cannot be rebuilt there (an estimator class defined in a notebook, say)."""
    try:
        args = pickle.loads(payload)  # our own payload, from the parent process, in memory only
    except Exception as exc:  # noqa: BLE001 - any failure to rebuild means: fit in the parent instead
        return "unpickle", f"{type(exc).__name__}: {exc}"
    return "ok", _fit_model(*args)


def _worker_ready() -> bool:
    """Run once when the worker process starts, so that it imports scikit-learn before the first retrain."""
    return True


@dataclass(frozen=True)
class _TrainingSet:
    ids: np.ndarray            # example id per training row (an id repeats with soft targets)
    rows: np.ndarray           # feature row per training row
    y: np.ndarray              # choice per training row
    w: np.ndarray              # weight per training row
    human: np.ndarray          # bool: the row is a person's label (human answer consensus or gold)
    event_ids: list[int]
    counts: dict[str, int]


@dataclass(frozen=True)
class _Model:
    estimator: Any
    features: FeatureMatrix
    classes: tuple[str, ...]   # estimator.classes_ as choice names (matched to the current choices by name)
    training: _TrainingSet
    run_id: str
    model_version: str
    cv: dict[str, Any]
    generation: int
    params: dict[str, Any] = field(default_factory=dict)
    oof: pd.DataFrame | None = None  # the people's rows' out-of-fold probabilities (None: no cross-validation)


class ActiveLearner:
    """An end model trained on a project's labels that says what to label next.

    The training set is a label version's soft labels (confidence-weighted hard labels, or
    soft targets) plus the people's labels: the consensus of human answers and the project's
    gold, which override weak labels for the same example and get weight 1. Features of the
    project's examples are computed once per (data versions, feature spec) and reused by every
    fit and re-score. Each fit is recorded as a training run linked to exactly the label events
    it used.

    Parameters
    ----------
    project : Project
        The project whose examples are the pool.
    estimator : scikit-learn classifier, optional
        Any classifier with ``fit`` and ``predict_proba`` (cloned for each fit). Default:
        :func:`default_estimator`, ``LogisticRegression(max_iter=1000, class_weight="balanced")``.
    features : str, TextFeatures, transformer, callable or DataFrame, default "tfidf"
        ``"tfidf"``, ``"hashing"`` or ``"auto"`` (hashing above 200,000 examples), a
        :class:`~workbench.active._features.TextFeatures`, a fitted transformer of texts, a
        callable ``texts -> matrix``, or a DataFrame of precomputed features (embeddings ...)
        indexed by example id. See :class:`~workbench.active._features.FeatureCache`.
    strategy : str or QueryStrategy, default DEFAULT_STRATEGY
        How :meth:`next_batch` chooses (a name of ``STRATEGIES`` or a strategy object).
    batch_size : int, default 25
        Items per :meth:`next_batch`.
    question : str, optional
        The question the model predicts (default: the root question).
    retrain_every : int, optional
        If given, the first :meth:`fit` also starts :meth:`start_background` with this ``every``.
    random_state : int, optional
        Seed for the strategy, the cross-validation split and estimators that take one.
    feature_cache : {"memory", "disk"}, default "memory"
        ``"disk"`` also keeps the features under ``<project>/cache/features/`` so that a new
        kernel reads them instead of recomputing.
    publish_top : int or None, default 10_000
        How many of the best-scoring pool items :meth:`next_batch` publishes to
        ``project.annotation.prioritize`` (None: the whole pool). The queue serves the rest in
        its own order; a pool of up to this size is published whole.

    Attributes
    ----------
    model_version : str
        ``"ActiveLearner-<Estimator>-<run id>"``; a new value on every fit.
    run_id : str
        The training run of the current model.
    cv_scores_ : dict
        Cross-validated scores of the current model on the people's labels (``accuracy``,
        ``macro_f1``, ``n_rows``, ``n_splits``), or ``{"skipped": reason}``.
    last_error : Exception or None
        Why the latest background retrain failed (None after a successful one).

    Examples
    --------
    >>> learner = ActiveLearner(project, strategy="margin", random_state=0)  # doctest: +SKIP
    >>> learner.fit(labels="v3")                                             # doctest: +SKIP
    >>> batch = learner.next_batch()                                         # doctest: +SKIP
    >>> learner.start_background(every=10)   # retrain every 10 new human labels  # doctest: +SKIP
    """

    def __init__(
        self,
        project: Any,
        estimator: Any = None,
        *,
        features: Any = "tfidf",
        strategy: str | QueryStrategy = DEFAULT_STRATEGY,
        batch_size: int = 25,
        question: str | None = None,
        retrain_every: int | None = None,
        random_state: int | None = None,
        feature_cache: str = "memory",
        publish_top: int | None = 10_000,
    ) -> None:
        from workbench.project import Project

        if not isinstance(project, Project):
            raise LabelValidationError(
                f"The 'project' parameter of ActiveLearner must be a wb.Project (wb.Project.open(path)). Got "
                f"{type(project).__name__} instead."
            )
        if estimator is None:
            estimator = default_estimator()
        if not (callable(getattr(estimator, "fit", None)) and hasattr(estimator, "predict_proba")):
            raise LabelValidationError(
                f"The 'estimator' parameter of ActiveLearner must be a classifier with fit and predict_proba. Got "
                f"{type(estimator).__name__} instead; wrap a model without probabilities in "
                f"sklearn.calibration.CalibratedClassifierCV."
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise LabelValidationError(f"The 'batch_size' parameter of ActiveLearner must be a positive integer. "
                                       f"Got {batch_size!r} instead.")
        if retrain_every is not None and (isinstance(retrain_every, bool) or not isinstance(
                retrain_every, numbers.Integral) or retrain_every < 1):
            raise LabelValidationError(f"The 'retrain_every' parameter of ActiveLearner must be a positive integer "
                                       f"(labels between retrains) or None. Got {retrain_every!r} instead.")
        if random_state is not None and (isinstance(random_state, bool)
                                         or not isinstance(random_state, numbers.Integral)):
            raise LabelValidationError(f"The 'random_state' parameter of ActiveLearner must be an int or None. Got "
                                       f"{random_state!r} instead.")
        if publish_top is not None and (isinstance(publish_top, bool) or not isinstance(publish_top, numbers.Integral)
                                        or publish_top < 1):
            raise LabelValidationError(f"The 'publish_top' parameter of ActiveLearner must be a positive integer or "
                                       f"None (the whole pool). Got {publish_top!r} instead.")
        if feature_cache not in ("memory", "disk"):
            raise LabelValidationError(f"The 'feature_cache' parameter of ActiveLearner must be 'memory' or 'disk'. "
                                       f"Got {feature_cache!r} instead.")
        names = project.schema.question_names
        if question is not None and question not in names:
            raise LabelValidationError(f"The 'question' parameter of ActiveLearner must be one of {list(names)!r}. "
                                       f"Got {question!r} instead.")
        self.project: Any = project
        self.estimator: Any = estimator
        self.features: Any = features
        self.strategy: QueryStrategy = make_strategy(strategy, random_state)
        self.batch_size: int = int(batch_size)
        self.question: str | None = question
        self.retrain_every: int | None = retrain_every
        self.random_state: int | None = random_state
        self.feature_cache: str = feature_cache
        self.publish_top: int | None = publish_top
        self._cache: FeatureCache = FeatureCache(project, features, disk=feature_cache == "disk")
        self._lock: threading.Lock = threading.Lock()
        self._model: _Model | None = None
        self._generation: int = 0
        self._fit_kwargs: dict[str, Any] = {}
        self._weak: dict[tuple[str, str, bool], tuple[pd.DataFrame, pd.DataFrame]] = {}
        # background retraining
        self._subscription: Subscription | None = None
        self._every: int = 0
        self._since: int = 0
        self._worker: threading.Thread | None = None
        self._pending: bool = False
        self._busy: bool = False
        self._stopping: bool = False
        self._pool_executor: ProcessPoolExecutor | None = None
        self.last_error: BaseException | None = None
        self.n_retrains: int = 0
        self.last_batch_: list[str] = []

    def __repr__(self) -> str:
        state = self._model.model_version if self._model is not None else "not fitted"
        bg = f", retraining every {self._every} labels" if self._subscription is not None else ""
        return (f"ActiveLearner({type(self.estimator).__name__}, features={self._cache.spec()[0]['kind']}, "
                f"strategy={type(self.strategy).__name__}, {state}{bg})")

    @property
    def target_question(self) -> str:
        """The question this learner predicts (the schema's first when ``question`` was not given);
        ``project.annotation.prelabel`` pre-labels it and refuses another."""
        return str(self._q.name)

    # ------------------------------------------------------------------ helpers
    @property
    def _q(self) -> Any:
        schema = self.project.schema
        return schema.questions[0] if self.question is None else schema.question(self.question)

    def _fitted(self) -> _Model:
        model = self._model
        if model is None:
            raise NotFittedError(
                "This ActiveLearner is not fitted yet: call learner.fit() (on human labels or gold) or "
                "learner.fit(labels='v1') (on a label version's soft labels) first."
            )
        return model

    @property
    def model_version(self) -> str:
        """The current model's version string; changes on every fit."""
        return self._fitted().model_version

    @property
    def run_id(self) -> str:
        """The training run recorded for the current model."""
        return self._fitted().run_id

    @property
    def cv_scores_(self) -> dict[str, Any]:
        """Cross-validated scores on the people's labels, or ``{"skipped": reason}``."""
        return dict(self._fitted().cv)

    def cross_fitted_proba(self, example_ids: Sequence[str] | pd.Index | None = None) -> pd.DataFrame:
        """Out-of-fold probabilities of the people's labeled examples (human answers and gold).

        Each row comes from a model of the last :meth:`fit`'s cross-validation that never saw
        that example's label (the weak labels stay in every training fold). Fit
        :class:`~workbench.active.AutoAccept` on these, not on :meth:`predict_frame` of the
        gold: the final model has learned the gold, so its confidences there are too good and
        a threshold chosen on them does not keep its precision on new items.

        Parameters
        ----------
        example_ids : sequence of str, optional
            Which of them (default: all). Every id must be a human-labeled or gold example.

        Returns
        -------
        DataFrame
            Indexed by ``example_id``, one column per choice, rows summing to 1.
        """
        model = self._fitted()
        self._columns(model)  # the same schema check as predict_frame
        oof = model.oof
        if oof is not None:  # columns by name over the current choices (a choice added since: probability 0)
            oof = oof.reindex(columns=list(self._q.choices), fill_value=0.0)
        if oof is None or oof.empty:
            reason = model.cv.get("skipped", "no cross-validation ran")
            raise NotFittedError(
                f"No cross-fitted probabilities: the last fit did not cross-validate ({reason}). Fit with cv=5 "
                "(the default) and at least 2 human or gold labels per class."
            )
        if example_ids is None:
            return oof.copy()
        _check_id_list(example_ids, "cross_fitted_proba")
        ids = pd.Index([str(e) for e in example_ids], name="example_id")
        missing = ids.difference(oof.index)
        if len(missing):
            raise UnknownExampleError(
                f"{len(missing)} example id(s) have no human or gold label in the last fit, e.g. "
                f"{missing[:5].tolist()!r}: cross-fitted probabilities exist only for the people's labels."
            )
        return oof.loc[ids].copy()

    @property
    def estimator_(self) -> Any:
        """The fitted estimator of the current model."""
        return self._fitted().estimator

    @property
    def training_frame_(self) -> pd.DataFrame:
        """What the current model was trained on: ``example_id``, ``label``, ``weight``, ``human`` (a row per
        training row: with soft targets an example has one row per class)."""
        ts = self._fitted().training
        return pd.DataFrame({"example_id": ts.ids, "label": ts.y, "weight": ts.w, "human": ts.human})

    @property
    def classes_(self) -> np.ndarray:
        """The question's choices: the columns of :meth:`predict_frame`."""
        return np.asarray(self._q.choices, dtype=object)

    def feature_matrix(self) -> FeatureMatrix:
        """The features of every example (cached per data versions and feature spec)."""
        return self._cache.get()

    def _not_in_pool(self) -> set[str]:
        """Examples nobody should be asked to label for this question: the settled ones
        (``project.annotation.settled``: answered, gold, adjudicated or auto-accepted) and, for a
        follow-up question, examples whose parent's known label (gold, adjudication, the
        people's majority or a current auto-accepted pre-label, in that precedence) means the
        question is not asked."""
        q = self._q
        out = self.project.annotation.settled(q.name)
        for parent, allowed in q.condition.items():
            accepted = self.project.annotation.auto_accepted(parent)
            known: dict[str, str] = dict(zip(accepted["example_id"].astype(str), accepted["value"].astype(str),
                                             strict=True))
            if len(self.project.annotation.answers(parent)):
                cons = self.project.quality.consensus("majority", parent)
                cons = cons[cons["label"].notna()]
                known.update(zip(cons.index.astype(str), cons["label"].astype(str), strict=True))
            for src in ("adjudication", "gold"):
                lab = self.project.labels(source=src, question=parent)
                known.update(zip(lab["example_id"].astype(str), lab["value"].astype(str), strict=True))
            out |= {i for i, v in known.items() if v not in allowed}
        return out

    # ------------------------------------------------------------------ the training set
    def _weak_labels(self, version: str, question: str, soft: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
        """A label version's rows as a long frame (example_id, y, w), and its label events (cached: immutable)."""
        key = (version, question, soft)
        hit = self._weak.get(key)
        if hit is not None:
            return hit
        versions = self.project.versions
        if version not in versions.store:
            known = versions.store.names()
            raise LabelValidationError(
                f"Unknown label version {version!r} (the 'labels' parameter of ActiveLearner.fit). Saved versions: "
                f"{known!r}" + (". Save one with project.versions.save(project.models.soft_labels())." if not known
                                else ".")
            )
        manifest = versions.manifest(version)
        vq = manifest.get("questions", {})
        if question not in vq:
            raise LabelValidationError(
                f"Label version {version!r} has no question {question!r} (it has {sorted(vq)!r}). Pass "
                f"ActiveLearner(question=...) for one of those, or save a version for this question."
            )
        choices = list(self._q.choices)
        unknown = [c for c in vq[question] if c not in choices]
        if unknown:
            raise LabelValidationError(
                f"Label version {version!r} has choices {unknown!r} for {question!r} that the current schema does "
                f"not ({choices!r}). Save a new version under the current schema."
            )
        ids, y, w = versions.store.training_data(version, None, question=question, soft=soft)
        ids = np.asarray(pd.Index(ids).astype(str), dtype=object)
        if soft:
            P = np.asarray(y, dtype=np.float64)
            vchoices = np.asarray(vq[question], dtype=object)
            r, c = np.nonzero(P > 1e-9)
            frame = pd.DataFrame({"example_id": ids[r], "y": vchoices[c], "w": P[r, c]})
        else:
            frame = pd.DataFrame({"example_id": ids, "y": np.asarray(y, dtype=object), "w": np.asarray(w, float)})
        frame = frame[frame["w"] > 0].reset_index(drop=True)
        events = versions.events_of(version)  # a fit links only those of the rows it trains on
        self._weak[key] = (frame, events)
        return frame, events

    def _training_set(self, labels: str | None, gold: bool, soft: bool, fm: FeatureMatrix) -> _TrainingSet:
        q = self._q
        parts: list[pd.DataFrame] = []
        events: list[int] = []
        counts = {"n_weak": 0, "n_human": 0, "n_gold": 0}
        people: set[str] = set()
        if gold:
            g = self.project.gold(q.name)
            g = g[g.isin(q.choices)]
            if len(g):
                parts.append(pd.DataFrame({"example_id": g.index.astype(str), "y": g.to_numpy(dtype=object),
                                           "w": 1.0, "human": True}))
                gl = self.project.labels(source="gold", question=q.name)
                events += [int(e) for e in gl.loc[gl["example_id"].isin(g.index), "event_id"]]
                people |= set(g.index.astype(str))
                counts["n_gold"] = len(g)
        adj = self.project.labels(source="adjudication", question=q.name)
        adj = adj[adj["value"].isin(q.choices) & ~adj["example_id"].astype(str).isin(people)]
        if len(adj):  # an adjudicator's decision is the item's label, with or without annotator answers
            parts.append(pd.DataFrame({"example_id": adj["example_id"].astype(str),
                                       "y": adj["value"].to_numpy(dtype=object), "w": 1.0, "human": True}))
            events += [int(e) for e in adj["event_id"]]
            people |= set(adj["example_id"].astype(str))
            counts["n_human"] += int(adj["example_id"].nunique())
        answers = self.project.annotation.answers(q.name)
        if len(answers):
            cons = self.project.quality.consensus("majority", q.name)
            cons = cons[cons["label"].notna() & cons["label"].isin(q.choices)]
            cons = cons[~cons.index.astype(str).isin(people)]
            if len(cons):
                parts.append(pd.DataFrame({"example_id": cons.index.astype(str),
                                           "y": cons["label"].to_numpy(dtype=object), "w": 1.0, "human": True}))
                events += [int(e) for e in answers.loc[answers["example_id"].isin(cons.index), "event_id"]]
                people |= set(cons.index.astype(str))
                counts["n_human"] += len(cons)
        if labels is not None:
            weak, weak_events = self._weak_labels(labels, q.name, soft)
            weak = weak[~weak["example_id"].isin(people)]
            if len(weak):
                parts.append(weak.assign(human=False))
                counts["n_weak"] = int(weak["example_id"].nunique())
            # the version's events behind the rows trained on (not those of examples people labelled since)
            events += [int(e) for e in weak_events.loc[~weak_events["example_id"].isin(people), "event_id"]]
        if not parts:
            saved = self.project.versions.store.names()
            raise LabelValidationError(
                f"ActiveLearner.fit found nothing to train on for {q.name!r}: no human answers, no gold"
                + (" (gold=False)" if not gold else "") + (f", and label version {labels!r} labels no example"
                                                           if labels is not None else ", and no label version "
                                                           "(labels=None)")
                + ". Label a seed set with every class (project.annotation.submit or project.annotate), add gold "
                f"(project.add_gold), or pass labels=<a label version> (saved: {saved!r}; save one with "
                f"project.versions.save(project.models.soft_labels()))."
            )
        frame = pd.concat(parts, ignore_index=True)
        rows = fm.rows(pd.Index(frame["example_id"]))
        if (rows < 0).any():  # labels of examples that have no features (cannot happen with current data)
            frame, rows = frame[rows >= 0], rows[rows >= 0]
        return _TrainingSet(
            ids=frame["example_id"].to_numpy(dtype=object), rows=np.asarray(rows, dtype=np.intp),
            y=frame["y"].to_numpy(dtype=object), w=frame["w"].to_numpy(dtype=np.float64),
            human=frame["human"].to_numpy(dtype=bool), event_ids=sorted(set(events)), counts=counts,
        )

    def _check_classes(self, ts: _TrainingSet, labels: str | None, require_all_classes: bool) -> None:
        q = self._q
        present = set(ts.y.tolist())
        missing = [c for c in q.choices if c not in present]
        if len(present) >= 2 and (not missing or not require_all_classes):
            return
        how = ("label some examples of " + ", ".join(repr(c) for c in missing)
               + " (project.annotation.submit / project.annotate, or project.add_gold)")
        how += ", or train on a label version whose soft labels cover them (fit(labels='v1'))" if labels is None \
            else f", or save a label version whose LFs cover them (version {labels!r} does not)"
        if len(present) < 2:
            raise LabelValidationError(
                f"ActiveLearner.fit needs at least two classes of {q.name!r} in the training set; it holds only "
                f"{sorted(present)!r} ({len(ts.y)} rows). Missing: {missing!r}. To fix: {how}."
            )
        raise LabelValidationError(
            f"The training set for {q.name!r} has no example of class(es) {missing!r} (it has {sorted(present)!r}, "
            f"{len(ts.y)} rows). To fix: {how}; or pass require_all_classes=False to train without them (their "
            f"probability is then 0)."
        )

    def _new_estimator(self) -> Any:
        return _new_estimator(self.estimator, self.random_state)

    def _train(self, labels: str | None, gold: bool, soft: bool, cv: int | None,
               require_all_classes: bool, *, in_worker: bool = False) -> _Model:
        """Build, fit and record a new model (touches no state of the learner but its caches).

        ``in_worker``: the fits (cross-validation and the final one) run in the background
        worker process when there is one, so that they never hold this interpreter's GIL.
        """
        with self._lock:
            self._generation += 1
            generation = self._generation
        fm = self._cache.get()
        ts = self._training_set(labels, gold, soft, fm)
        self._check_classes(ts, labels, require_all_classes)
        args = (self.estimator, fm.X[ts.rows], ts.y, ts.w, ts.human, cv, self.random_state)
        est, cv_result = self._fit_elsewhere(args) if in_worker else _fit_model(*args)
        choices = list(self._q.choices)
        cv_result = dict(cv_result)
        oof_frame = self._oof_frame(ts, cv_result.pop("_oof", None), choices)
        est_classes = [str(c) for c in getattr(est, "classes_", [])]
        if not est_classes or any(c not in choices for c in est_classes):
            raise WorkbenchError(
                f"The fitted estimator's classes_ {est_classes!r} are not choices of {self._q.name!r} "
                f"({choices!r}); the estimator must predict the labels it was trained on."
            )
        name = type(est).__name__
        params = {
            "estimator": name,
            "estimator_params": {k: _json_safe(v) for k, v in est.get_params(deep=False).items()}
            if hasattr(est, "get_params") else {},
            "features": fm.spec, "features_key": fm.key, "n_features": int(fm.X.shape[1]),
            "strategy": type(self.strategy).__name__, "question": self._q.name,
            "label_version": labels, "gold": gold, "soft": soft,
            "n_rows": len(ts.y), "n_examples": len(set(ts.ids.tolist())), **ts.counts,
            "sample_weight": _weight_key(est) is not None, "cv": cv_result,
        }
        versions = self.project.versions
        run = versions.record_run(f"ActiveLearner-{name}", ts.event_ids, label_version=labels, params=params)
        if labels is not None:
            versions.store.mark_used(labels, run.run_id)
        return _Model(estimator=est, features=fm, classes=tuple(est_classes), training=ts, run_id=run.run_id,
                      model_version=f"ActiveLearner-{name}-{run.run_id}", cv=cv_result, generation=generation,
                      params=params, oof=oof_frame)

    @staticmethod
    def _oof_frame(ts: _TrainingSet, oof: Any, choices: list[str]) -> pd.DataFrame:
        """The people's rows' out-of-fold probabilities, indexed by example id, one column per choice."""
        if oof is None:
            return pd.DataFrame(columns=choices, index=pd.Index([], name="example_id"), dtype=float)
        rows_h, classes, proba = oof
        frame = pd.DataFrame(0.0, index=pd.Index(ts.ids[rows_h].astype(str), name="example_id"), columns=choices)
        for j, c in enumerate(classes):
            frame[c] = proba[:, j]
        return frame

    def _fit_elsewhere(self, args: tuple[Any, ...]) -> tuple[Any, dict[str, Any]]:
        """Fit in the worker process if there is one (falling back to this thread if it cannot be used)."""
        pool = self._pool_executor
        if pool is not None:
            try:
                payload = pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)
                status, result = pool.submit(_fit_model_remote, payload).result()
            except (pickle.PicklingError, TypeError, AttributeError, BrokenProcessPool, RuntimeError) as exc:
                status, result = "unpickle", f"{type(exc).__name__}: {exc}"
            if status == "ok":
                return result  # type: ignore[no-any-return]
            _log.warning("The background worker process cannot fit this estimator (%s); retraining in a thread "
                         "of this process instead.", result)
            self._close_pool()
        return _fit_model(*args)

    def _close_pool(self) -> None:
        pool, self._pool_executor = self._pool_executor, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    @property
    def background_process(self) -> bool:
        """Whether background retrains fit in a worker process (else in the background thread)."""
        return self._pool_executor is not None

    def _swap(self, model: _Model) -> bool:
        """Make ``model`` current unless a newer one already is (atomic)."""
        with self._lock:
            if self._model is not None and self._model.generation > model.generation:
                return False
            self._model = model
            return True

    # ------------------------------------------------------------------ public API
    def fit(
        self,
        labels: str | None = None,
        *,
        gold: bool = True,
        soft: bool = False,
        cv: int | None = 5,
        require_all_classes: bool = True,
    ) -> ActiveLearner:
        """Train the end model and record the training run.

        Parameters
        ----------
        labels : str, optional
            A label version (``"v3"``): its soft labels give the breadth (cold start from the
            label model). Rows are its hard labels weighted by their confidence (``weight``),
            or with ``soft=True`` one row per class weighted by its probability.
        gold : bool, default True
            Train on the project's gold too.
        soft : bool, default False
            Soft targets from the label version instead of confidence-weighted hard labels.
        cv : int or None, default 5
            Folds of the cross-validation on the people's labels (human consensus and gold;
            weak rows stay in every training fold). Skipped, with the reason in
            ``cv_scores_``, when a class has fewer than 2 such labels.
        require_all_classes : bool, default True
            Refuse a training set that lacks a class of the question (False: train anyway;
            the missing classes get probability 0).

        Returns
        -------
        ActiveLearner
            ``self``.

        Raises
        ------
        LabelValidationError
            Nothing to train on; a missing class; an unknown label version.
        """
        if labels is not None and not isinstance(labels, str):
            raise LabelValidationError(f"The 'labels' parameter of ActiveLearner.fit must be a label version name "
                                       f"(e.g. 'v3') or None. Got {labels!r} instead.")
        for name, value in (("gold", gold), ("soft", soft), ("require_all_classes", require_all_classes)):
            if not isinstance(value, bool):
                raise LabelValidationError(f"The {name!r} parameter of ActiveLearner.fit must be a bool. Got "
                                           f"{value!r} instead.")
        if cv is not None and (isinstance(cv, bool) or not isinstance(cv, numbers.Integral) or cv < 2):
            raise LabelValidationError(f"The 'cv' parameter of ActiveLearner.fit must be an integer >= 2 or None. "
                                       f"Got {cv!r} instead.")
        if labels is not None and _weight_key(_new_estimator(self.estimator, None)) is None:
            name = type(self.estimator).__name__
            if soft:
                raise LabelValidationError(
                    f"fit(soft=True) trains one row per class weighted by its probability, but {name}.fit takes "
                    f"no sample_weight: every weak row would count fully for every class. Use soft=False, or an "
                    f"estimator whose fit takes sample_weight (e.g. LogisticRegression)."
                )
            warnings.warn(
                f"{name}.fit takes no sample_weight, so the soft labels of {labels!r} train as plain hard labels "
                f"(their confidences are not used). An estimator whose fit takes sample_weight uses them.",
                UserWarning, stacklevel=2,
            )
        kwargs: dict[str, Any] = {"labels": labels, "gold": gold, "soft": soft, "cv": cv,
                                  "require_all_classes": require_all_classes}
        model = self._train(**kwargs)
        self._fit_kwargs = kwargs
        self._swap(model)
        if self.retrain_every is not None and self._subscription is None:
            self.start_background(self.retrain_every)
        return self

    def _columns(self, model: _Model) -> np.ndarray:
        """For each of the model's classes, its position among the question's current choices.

        Matched by name, so a schema update that adds or reorders choices keeps every probability
        under its own choice; a class that is no longer a choice (renamed or removed) is refused.
        """
        choices = list(self._q.choices)
        gone = [c for c in model.classes if c not in choices]
        if gone:
            raise NotFittedError(
                f"The schema changed since this model was fit: its class(es) {gone!r} are no longer choices of "
                f"{self._q.name!r} (now {choices!r}), so its probabilities cannot be laid over the new choices. "
                f"Call learner.fit() again to train on the migrated labels."
            )
        return np.array([choices.index(c) for c in model.classes], dtype=np.intp)

    def _proba(self, model: _Model, X: Any) -> np.ndarray:
        """The model's probabilities on feature rows ``X``, one column per choice (0 for unseen classes)."""
        n = int(X.shape[0])
        columns = self._columns(model)
        out = np.zeros((n, len(self._q.choices)), dtype=np.float64)
        if n:
            with _blas_for(X):
                out[:, columns] = np.asarray(model.estimator.predict_proba(X), dtype=np.float64)
        return out

    def predict_frame(self, example_ids: Sequence[str] | pd.Index | None = None) -> pd.DataFrame:
        """Class probabilities of the current model.

        Parameters
        ----------
        example_ids : sequence of str, optional
            Which examples (default: every example the model has features for).

        Returns
        -------
        DataFrame
            Indexed by ``example_id``, one column per choice of the question (rows sum to 1;
            a class the estimator never saw gets 0). ``attrs["model_version"]`` names the model.
        """
        model = self._fitted()
        fm = model.features
        if example_ids is None:
            ids = fm.ids
            rows = np.arange(len(ids), dtype=np.intp)
        else:
            _check_id_list(example_ids, "predict_frame")
            ids = pd.Index([str(e) for e in example_ids], name="example_id")
            rows = fm.rows(ids)
            if (rows < 0).any():
                bad = ids[rows < 0][:5].tolist()
                known = set(self.project.examples().index.astype(str))
                added = [b for b in bad if b in known]
                raise UnknownExampleError(
                    f"{int((rows < 0).sum())} example id(s) have no features in the current model, e.g. {bad!r}: "
                    + ("they were added after the model was fit; call learner.fit() again." if added else
                       "they are not examples of this project.")
                )
        X = fm.X if example_ids is None else fm.X[rows]
        frame = pd.DataFrame(self._proba(model, X), index=pd.Index(ids, name="example_id"),
                             columns=list(self._q.choices))
        frame.attrs["model_version"] = model.model_version
        return frame

    def _needs_features(self) -> bool:
        """Whether the strategy reads ``Pool.X`` (built-in strategies without a diversity step do not)."""
        s = self.strategy
        if isinstance(s, QueryByCommittee):
            return True
        if type(s) in STRATEGIES.values():
            return s.get_params(deep=False).get("diversity") is not None
        return True  # a strategy of the user's own: give it everything

    def _pool(self, model: _Model | None, fm: FeatureMatrix) -> tuple[pd.Index, Pool]:
        q = self._q
        done = self._not_in_pool()
        mask = ~np.asarray(fm.ids.isin(list(done)), dtype=bool)
        everything = bool(mask.all())  # nobody labeled anything yet: the pool is every row
        rows = np.flatnonzero(mask).astype(np.intp)
        ids = fm.ids if everything else fm.ids[rows]
        X = None
        if self._needs_features():
            X = fm.X if everything else fm.X[rows]
        classes = np.asarray(q.choices, dtype=object)
        if model is None:
            return ids, Pool(proba=None, X=X, classes=classes, n_rows=len(ids))
        # the model scores the whole matrix (no copy of the pool rows), then the pool's rows are taken
        proba = self._proba(model, fm.X)
        proba = proba if everything else proba[rows]
        kw: dict[str, Any] = {}
        if isinstance(self.strategy, QueryByCommittee):
            ts = model.training
            kw = {"estimator": self._new_estimator(), "X_train": fm.X[ts.rows], "y_train": ts.y,
                  "w_train": ts.w if _weight_key(self.estimator) else None}
        return ids, Pool(proba=proba, X=X, classes=classes, **kw)

    def next_batch(self, n: int | None = None) -> list[str]:
        """The next examples to label, best first, chosen by the strategy on the current model.

        The pool is every example nobody needs to label: no current human answer, no gold, no
        adjudication, no current auto-accepted pre-label (``prelabel(auto_accept=...)``; revoked ones
        come back), and, for a follow-up question, not an example whose parent's known label means
        the question is not asked. When the project has ``project.annotation.prioritize``, the scores of the whole
        pool are published to it (the batch lifted to the top, in batch order), so the
        Annotator's ``"uncertain"`` queue serves them.

        Parameters
        ----------
        n : int, optional
            Batch size (default: ``batch_size``).

        Returns
        -------
        list of str
            Example ids.
        """
        if n is None:
            n = self.batch_size
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise LabelValidationError(f"The 'n' parameter of next_batch must be a positive integer or None. Got "
                                       f"{n!r} instead.")
        model = self._model
        if model is None and (self.strategy.needs_proba or isinstance(self.strategy, QueryByCommittee)):
            self._fitted()  # raises NotFittedError with the fix (a committee needs a training set too)
        if model is not None:
            current = self._cache.key()
            if current != model.features.key:
                raise WorkbenchError(
                    "The project's data changed since this model was fit (a new data version): the model has no "
                    "features for the new examples. Call learner.fit() again (the features are recomputed once)."
                )
            fm = model.features
        else:
            fm = self._cache.get()
        ids, pool = self._pool(model, fm)
        if pool.size == 0:
            self.last_batch_ = []
            return []
        picked = self.strategy.select(pool, int(n))
        batch = [str(i) for i in ids[picked]]
        self.last_batch_ = batch
        self._publish(ids, pool, picked, model)
        return batch

    def _publish(self, ids: pd.Index, pool: Pool, picked: np.ndarray, model: _Model | None) -> None:
        prioritize = getattr(self.project.annotation, "prioritize", None)
        if prioritize is None:
            return
        scores = np.asarray(self.strategy.scores(pool), dtype=np.float64)
        top = float(scores.max()) if len(scores) else 0.0
        scores[picked] = top + 1.0 + np.arange(len(picked), 0, -1, dtype=np.float64)
        keep: Any = slice(None)
        if self.publish_top is not None and len(scores) > self.publish_top:
            keep = np.argpartition(-scores, self.publish_top - 1)[: self.publish_top]
        source = model.model_version if model is not None else f"ActiveLearner-{type(self.strategy).__name__}"
        prioritize(pd.Series(scores[keep], index=pd.Index(ids[keep], name="example_id"), name="score"),
                   source=source, question=self._q.name)

    def learning_curve(
        self,
        *,
        gold: str | pd.Series = "label",
        test: Sequence[str] | pd.Index,
        strategies: Sequence[str | QueryStrategy] | Mapping[str, str | QueryStrategy] | str | QueryStrategy = (
            "random", DEFAULT_STRATEGY),
        budgets: Iterable[int],
        seeds: Iterable[int] = (0,),
        seed_size: int | None = None,
        batch_size: int | None = None,
        metric: str | None = None,
        n_jobs: int | None = None,
    ) -> pd.DataFrame:
        """Simulated learning curves of query strategies on the project's features.

        Annotation is simulated from known labels (see
        :func:`workbench.active._simulate.learning_curve`); the estimator is this learner's.

        Parameters
        ----------
        gold : str or Series, default "label"
            The known labels: a data column of the examples (``"label"``), ``"gold"`` (the
            project's gold), or a Series of choices indexed by example id. Examples without
            one are left out.
        test : sequence of str
            Example ids held out (never queried nor trained on); each needs a known label.
        strategies, budgets, seeds, seed_size, metric, n_jobs
            As for :func:`~workbench.active._simulate.learning_curve`.
        batch_size : int, optional
            Rows labeled between refits (default: ``batch_size``).

        Returns
        -------
        DataFrame
            Columns ``strategy``, ``seed``, ``n_labels``, ``score``, ``metric``.
        """
        from workbench.active._simulate import learning_curve

        q = self._q
        fm = self._cache.get()
        if isinstance(gold, pd.Series):
            y_all = gold.copy()
            y_all.index = y_all.index.astype(str)
            y_all = y_all[~y_all.index.duplicated(keep="last")].reindex(fm.ids)
        elif gold == "gold":
            y_all = self.project.gold(q.name).reindex(fm.ids)
        elif isinstance(gold, str):
            examples = self.project.examples()
            if gold not in examples.columns:
                raise LabelValidationError(
                    f"The 'gold' parameter of learning_curve names the column {gold!r}, which the examples do not "
                    f"have (columns: {[c for c in examples.columns if c != 'data_version']!r}). Pass a column, "
                    f"'gold' for the project's gold, or a Series of labels indexed by example id."
                )
            y_all = examples[gold]
            y_all.index = y_all.index.astype(str)
            y_all = y_all.reindex(fm.ids)
        else:
            raise LabelValidationError(f"The 'gold' parameter of learning_curve must be a column name, 'gold' or a "
                                       f"pandas Series. Got {type(gold).__name__} instead.")
        known = y_all.notna().to_numpy()
        y_known = y_all[known].astype(str)
        bad = sorted(set(y_known) - set(q.choices))
        if bad:
            raise LabelValidationError(
                f"The gold labels hold values that are not choices of {q.name!r}: {bad[:5]!r}. Expected "
                f"{list(q.choices)!r}; map them first (e.g. series.map({{0: 'ham', 1: 'spam'}}))."
            )
        if isinstance(test, str) or not isinstance(test, (Sequence, pd.Index, np.ndarray, pd.Series)):
            raise LabelValidationError(f"The 'test' parameter of learning_curve must be a list of example ids. Got "
                                       f"{type(test).__name__} instead.")
        test_ids = pd.Index([str(t) for t in test])
        pos = pd.Index(y_known.index).get_indexer(test_ids)
        if (pos < 0).any():
            missing = test_ids[pos < 0][:5].tolist()
            raise LabelValidationError(
                f"{int((pos < 0).sum())} test id(s) have no known label (or are not examples), e.g. {missing!r}; "
                f"every test example needs a gold label."
            )
        rows = np.flatnonzero(known)
        return learning_curve(
            fm.X[rows], y_known.to_numpy(dtype=object), test=np.unique(pos), estimator=self._new_estimator(),
            strategies=strategies, budgets=budgets, seeds=seeds, seed_size=seed_size,
            batch_size=self.batch_size if batch_size is None else batch_size, metric=metric, n_jobs=n_jobs,
        )

    # ------------------------------------------------------------------ background retraining
    @property
    def retraining(self) -> bool:
        """Whether a background retrain is running now."""
        return self._busy

    @property
    def background(self) -> bool:
        """Whether background retraining is on (:meth:`start_background`)."""
        return self._subscription is not None

    def start_background(self, every: int, *, process: bool = False) -> None:
        """Retrain in a background thread every ``every`` new labels by people.

        Subscribes to the project's ``labels_added`` event and counts the examples that get a
        label from a person (sources :data:`HUMAN_SOURCES`). Every ``every`` of them, a copy
        of the estimator is refitted in a thread, with the arguments of the latest :meth:`fit`
        (the defaults if there was none); when it is done the new model replaces the current
        one atomically and the priorities are published again (see :meth:`next_batch`). The
        caller is never blocked: the event handler only counts; at most one retrain runs at a
        time, and labels arriving meanwhile start one more when it ends (coalesced). A failed
        retrain keeps the current model and sets :attr:`last_error`.

        With ``process=True`` the fits (cross-validation and the final fit) run in one worker
        process, so that a slow estimator never holds the kernel's interpreter lock while the
        annotator's keypresses are handled; reading the labels, recording the run and re-scoring
        the pool stay in the thread. An estimator the worker cannot rebuild (a class defined in a
        notebook) is then fitted in the thread instead, with a warning. The worker is started
        with ``spawn``: a plain script (not a notebook) needs the ``if __name__ == "__main__":``
        guard, as with any multiprocessing.

        Parameters
        ----------
        every : int
            New labels between retrains (>= 1).
        process : bool, default False
            Fit in a worker process (started now, in the background) instead of the thread.
        """
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise LabelValidationError(f"The 'every' parameter of start_background must be a positive integer (new "
                                       f"labels between retrains). Got {every!r} instead.")
        if not isinstance(process, bool):
            raise LabelValidationError(f"The 'process' parameter of start_background must be a bool. Got "
                                       f"{process!r} instead.")
        if process and self._pool_executor is None:
            self._pool_executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            self._pool_executor.submit(_worker_ready)  # start it now, not at the first retrain
        elif not process:
            self._close_pool()
        with self._lock:
            self._every = int(every)
            self._since = 0
            self._stopping = False
        if self._subscription is None:
            self._subscription = self.project.on("labels_added", self._on_labels_added)

    def _on_labels_added(self, events: Sequence[Any] = (), **_: Any) -> None:
        n = len({e.example_id for e in events if e.source in HUMAN_SOURCES and e.action == "label"})
        if not n:
            return
        with self._lock:
            self._since += n
            if self._since < self._every or self._stopping:
                return
            self._since = 0
        self.retrain_async()

    def retrain_async(self) -> bool:
        """Start a background retrain now (or mark one pending if one runs); True if a thread was started."""
        with self._lock:
            if self._stopping:
                return False
            if self._busy:  # set and cleared under this lock by the worker: no lost request
                self._pending = True
                return False
            self._pending = False
            self._busy = True
            self._worker = threading.Thread(target=self._work, name="ActiveLearner-retrain", daemon=True)
            self._worker.start()
            return True

    def _work(self) -> None:
        from threadpoolctl import threadpool_limits

        while True:
            try:
                # one BLAS thread: the retrain leaves the other cores to the annotator's kernel
                with threadpool_limits(limits=1, user_api="blas"):
                    model = self._train(**(self._fit_kwargs or _DEFAULT_FIT), in_worker=True)
                    if self._swap(model):
                        self.n_retrains += 1
                        self.last_error = None
                        if getattr(self.project.annotation, "prioritize", None) is not None and not self._stopping:
                            self.next_batch()
            except Exception as exc:  # noqa: BLE001 - a failed retrain must never break the annotator
                self.last_error = exc
                _log.warning("Background retrain of %r failed; the previous model stays: %s", self, exc)
            with self._lock:
                if self._pending and not self._stopping:
                    self._pending = False
                    continue
                self._busy = False
                return

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no background retrain runs or is pending; False if ``timeout`` (s) passed first."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
            return not worker.is_alive()
        return True

    def stop_background(self, timeout: float | None = None) -> None:
        """Unsubscribe from ``labels_added``, drop pending retrains and wait for a running one to end."""
        if self._subscription is not None:
            self._subscription.disconnect()
            self._subscription = None
        with self._lock:
            self._stopping = True
            self._pending = False
        self.wait(timeout)
        self._close_pool()

