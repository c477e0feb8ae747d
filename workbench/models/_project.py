"""``project.models``: label models over the project's LF votes, and soft labels from every source."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from workbench._constants import ABSTAIN
from workbench.exceptions import LabelValidationError, LFError, WorkbenchError
from workbench.models._base import LabelModel
from workbench.models._crossfit import cross_fitted_proba, crossfit_evaluation
from workbench.models._majority import MajorityVote
from workbench.models._metrics import calibration_errors, compare_label_models, reliability_table

if TYPE_CHECKING:
    from workbench.data import DataCatalog
    from workbench.lf import ProjectLFs
    from workbench.log import LabelLog
    from workbench.quality import ProjectQuality
    from workbench.schema import Question, Schema, SchemaRegistry

__all__ = ["LABEL_MODELS", "ProjectModels", "soft_label_columns"]

#: Names accepted by ``model=`` arguments, and the classes they build. ``"auto"`` is the default.
LABEL_MODELS: tuple[str, ...] = ("auto", "majority_vote", "weighted_majority_vote", "dawid_skene", "snorkel")

_DEFAULT_NAMES = {"AutoLabelModel": "auto", "DawidSkene": "dawid_skene", "MajorityVote": "majority_vote",
                  "WeightedMajorityVote": "weighted_majority_vote", "SnorkelLabelModel": "snorkel"}

class _ProjectGold:
    def __repr__(self) -> str:
        return "PROJECT_GOLD"


#: ``gold=`` default of :meth:`ProjectModels.fit`: the project's gold for models that use gold.
PROJECT_GOLD: Any = _ProjectGold()


def _cardinality_of(model: LabelModel) -> int | None:
    """The number of classes a fitted model was fitted with (None when it does not say)."""
    k = getattr(model, "cardinality_", None)
    return None if k is None else int(k)


def _for_question(model: LabelModel, q: Question) -> LabelModel:
    """An unfitted copy of ``model`` for question ``q``: a schema migration may have changed its classes."""
    est = clone(model)
    if "cardinality" in est.get_params(deep=False):
        est.set_params(cardinality=q.cardinality)
    return est


def _build(name: str, cardinality: int, random_state: int | None) -> LabelModel:
    from workbench.models._auto import AutoLabelModel
    from workbench.models._dawid_skene import DawidSkene
    from workbench.models._majority import MajorityVote
    from workbench.models._snorkel import SnorkelLabelModel
    from workbench.models._weighted import WeightedMajorityVote

    if name == "auto":
        return AutoLabelModel(cardinality=cardinality, random_state=random_state)
    if name == "majority_vote":
        return MajorityVote(cardinality=cardinality)
    if name == "weighted_majority_vote":
        return WeightedMajorityVote(cardinality=cardinality, random_state=random_state)
    if name == "dawid_skene":
        return DawidSkene(cardinality=cardinality, random_state=random_state)
    if name == "snorkel":
        return SnorkelLabelModel(cardinality=cardinality, random_state=random_state)
    raise LabelValidationError(
        f"Unknown label model {name!r}. Expected one of {list(LABEL_MODELS)!r} or a LabelModel instance."
    )


def _snake(name: str) -> str:
    out: list[str] = []
    for ch in name:
        if ch.isupper() and out:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def soft_label_columns(schema: Schema) -> dict[str, list[str]]:
    """Probability column names per question: ``p_<choice>`` (single question) or ``p_<q>__<choice>``."""
    if schema.is_single:
        q = schema.questions[0]
        return {q.name: [f"p_{c}" for c in q.choices]}
    return {q.name: [f"p_{q.name}__{c}" for c in q.choices] for q in schema.questions}


@dataclass(frozen=True)
class _Fitted:
    """A fitted label model and the fingerprint of everything it was fitted from.

    ``gold`` is the gold it was asked to use (:data:`PROJECT_GOLD` stays itself: it stands for
    whatever gold the project has at each fit); ``semi_supervised`` whether this fit had gold;
    ``serial`` tells this fit from any other kept under the same name.
    """

    model: LabelModel
    inputs: tuple[Any, ...]
    gold: Any
    semi_supervised: bool
    serial: int


class ProjectModels:
    """Label models fitted on the project's LF votes, and soft labels combining every source.

    A fitted model is kept under a name and reused only while what it was fitted from is
    unchanged: the LFs' code fingerprints and the data versions. Edit an LF, re-register it
    under the same name, or add data, and the next use refits.

    Parameters
    ----------
    schema : SchemaRegistry
        The questions and their choices.
    data : DataCatalog
        The examples (soft labels are indexed by their ids).
    log : LabelLog
        Model predictions, gold and adjudications recorded as label events.
    lfs : ProjectLFs
        The LF votes label models are fitted on.
    quality : ProjectQuality
        Human consensus, which soft labels combine with the machine sources.

    Examples
    --------
    >>> project.models.compare(gold="gold")                  # doctest: +SKIP
    >>> soft = project.models.soft_labels()                  # doctest: +SKIP
    >>> project.models.fit("snorkel", gold="gold")           # doctest: +SKIP
    """

    def __init__(
        self, schema: SchemaRegistry, data: DataCatalog, log: LabelLog, lfs: ProjectLFs, quality: ProjectQuality
    ) -> None:
        self._schema = schema
        self._data = data
        self._log = log
        self._lfs = lfs
        self._quality = quality
        self._fitted: dict[tuple[str, str], _Fitted] = {}
        self._fits = 0  # fits made so far: each kept fit's serial
        self._proba_cache: dict[tuple[Any, ...], pd.DataFrame | None] = {}

    def __repr__(self) -> str:
        names = sorted({n for _, n in self._fitted})
        return f"<project.models: fitted {names or 'none'}; fit, compare, soft_labels, predict_proba>"

    # ------------------------------------------------------------------ fitting
    def _resolve_gold(self, q: Question, gold: Any) -> Any:
        """The gold a fit on ``q`` uses now: :data:`PROJECT_GOLD` is ``"gold"`` while ``q`` has gold, else None."""
        if gold is PROJECT_GOLD:
            return "gold" if len(self._log.gold(q.name)) else None
        return gold

    def _gold_array(self, q: Question, gold: Any) -> np.ndarray | None:
        """The gold labels a fit on ``q`` with ``gold`` gets now (aligned with the examples), or None."""
        used = self._resolve_gold(q, gold)
        return None if used is None else self._log.gold_labels(used, q.name)

    def _fingerprint(self, q: Question, y: np.ndarray | None) -> tuple[Any, ...]:
        """The fingerprint of a fit on ``q`` with gold labels ``y``: LF code, data versions and the gold."""
        key = self._lfs.question_key(q.name if not self._schema.current.is_single else None)
        lf_prints = tuple(lf.fingerprint for lf in self._lfs if lf.question == key or key is None)
        versions = self._data.version_names()
        gold_key = None if y is None else hashlib.sha256(y.tobytes()).hexdigest()
        return (lf_prints, versions, gold_key)

    def _inputs(self, q: Question, gold: Any = None) -> tuple[Any, ...]:
        """The fingerprint of what a fit on ``q`` with ``gold`` depends on now (``PROJECT_GOLD`` resolved)."""
        return self._fingerprint(q, self._gold_array(q, gold))

    def _matrix(self, q: Question) -> np.ndarray:
        return self._lfs.matrix(q.name if not self._schema.current.is_single else None, progress=False)

    def _evidence(self, q: Question) -> list[str]:
        """Per column of :meth:`_matrix`: the kind of evidence of its LF (``"lf"`` or ``"feedback"``)."""
        _, names = self._lfs.apply(progress=False).for_question(self._lfs.question_key(q.name)
                                                               if not self._schema.current.is_single else None)
        kinds = {lf.name: getattr(lf, "evidence", "lf") for lf in self._lfs.engine.lfs}
        return [kinds.get(n, "lf") for n in names]

    def fit(
        self,
        model: str | LabelModel = "auto",
        *,
        question: str | None = None,
        gold: Any = PROJECT_GOLD,
        random_state: int | None = 0,
        name: str | None = None,
    ) -> LabelModel:
        """Fit a label model on the LF votes (semi-supervised with gold where there is gold) and keep it.

        The default, ``"auto"`` (:class:`~workbench.models.AutoLabelModel`), chooses among
        majority vote, weighted majority vote, Dawid-Skene variants and Snorkel's model by
        cross-validated score on the project's gold, never picks one that loses to majority
        vote there, and calibrates on gold; its ``report_`` says what it tried and why.

        The fitted model is kept under ``name`` and used by ``soft_labels(model=name)`` and
        :meth:`compare`. A model instance is kept under ``name``, by default the name of its
        class (``AutoLabelModel`` -> ``"auto"``, ``DawidSkene`` -> ``"dawid_skene"``,
        ``MajorityVote`` -> ``"majority_vote"``, ``SnorkelLabelModel`` -> ``"snorkel"``), so a
        configured ``DawidSkene(...)`` replaces the default one deliberately.

        Parameters
        ----------
        model : {"auto", "majority_vote", "weighted_majority_vote", "dawid_skene", "snorkel"} or LabelModel
            A name, or an (unfitted) estimator following the workbench contract.
        question : str, optional
            The question (default: the only one).
        gold : "gold", column name, Series or None
            Known labels for semi-supervision (rows without gold are unaffected). Default: the
            project's gold (``source="gold"`` labels) for ``"auto"`` and model instances, none
            for the other named models (they are unsupervised by design). The default follows
            the project: gold added, corrected or retracted after the fit makes the kept model
            stale, and its refit uses the gold there is then (none yet: fitted without gold).
        random_state : int, optional
            Seed for named models.
        name : str, optional
            The name the fitted model is kept under (default: see above).

        Returns
        -------
        LabelModel
            The fitted estimator (also kept under ``name``).

        Examples
        --------
        >>> lm = project.models.fit()                      # doctest: +SKIP
        >>> lm.report_["chosen"], lm.report_["why"]        # doctest: +SKIP
        """
        q = self._schema.current.question(question)
        L = self._matrix(q)
        if L.shape[1] == 0:
            raise WorkbenchError("No labeling functions are registered: add some with project.lfs.add(...) first.")
        if random_state is not None and (isinstance(random_state, bool)
                                         or not isinstance(random_state, (int, np.integer)) or random_state < 0):
            raise LabelValidationError(f"The 'random_state' parameter of project.models.fit must be a non-negative "
                                       f"integer seed or None. Got {random_state!r}.")
        if not isinstance(model, str):
            given = getattr(model, "cardinality", None)
            if given is not None and int(given) != q.cardinality:
                raise LabelValidationError(
                    f"The label model {type(model).__name__}(cardinality={given}) does not fit question {q.name!r}, "
                    f"which has {q.cardinality} choices {list(q.choices)!r}. Give cardinality={q.cardinality}."
                )
        est = _build(model, q.cardinality, random_state) if isinstance(model, str) else model
        if gold is PROJECT_GOLD and isinstance(model, str) and model != "auto":
            gold = None  # the other named models are unsupervised by design
        # PROJECT_GOLD itself is kept (not the gold it stands for now), so later gold makes this fit stale
        y = self._gold_array(q, gold)
        inputs = self._fingerprint(q, y)
        est.fit(L, y)
        if name is None:
            cls = type(est).__name__
            name = model if isinstance(model, str) else _DEFAULT_NAMES.get(cls, _snake(cls))
        self._fits += 1
        self._fitted[(q.name, name)] = _Fitted(est, inputs, gold, y is not None, self._fits)
        return est

    def get(self, name: str = "auto", question: str | None = None) -> LabelModel:
        """The model kept under ``name``, refitted first if the LFs, the data or the gold changed since its fit.

        A name never fitted is fitted now (one of :data:`LABEL_MODELS`, with its default gold).
        A model kept with the project's gold (the default of ``"auto"``) is stale once gold is
        added, corrected or retracted, and is refitted with the gold there is now.

        Parameters
        ----------
        name : str, default "auto"
            A name kept by :meth:`fit`, or one of :data:`LABEL_MODELS`.
        question : str, optional
            The question (default: the only one).

        Returns
        -------
        LabelModel
            A fitted estimator, current with the project.

        Examples
        --------
        >>> project.models.get("auto").report_["n_gold"]   # doctest: +SKIP
        """
        q = self._schema.current.question(question)
        hit = self._fitted.get((q.name, name))
        if hit is None:
            return self.fit(name, question=q.name)
        if hit.inputs != self._inputs(q, hit.gold) or _cardinality_of(hit.model) not in (None, q.cardinality):
            # stale: refit the same configuration on what is there now, with the current schema's classes
            return self.fit(_for_question(hit.model, q), question=q.name, gold=hit.gold, name=name)
        return hit.model

    def fitted(self) -> pd.DataFrame:
        """The models kept, with their class, whether they used gold and whether they are current.

        Returns
        -------
        DataFrame
            One row per kept model: ``question``, ``name``, ``model`` (its class),
            ``semi_supervised`` (its fit had gold) and ``current`` (nothing it was fitted from,
            LFs, data or gold, has changed since; :meth:`get` refits one that is not).
        """
        rows = []
        for (qname, name), hit in self._fitted.items():
            q = self._schema.current.question(qname)
            rows.append({"question": qname, "name": name, "model": type(hit.model).__name__,
                         "semi_supervised": hit.semi_supervised,
                         "current": hit.inputs == self._inputs(q, hit.gold)})
        return pd.DataFrame(rows, columns=["question", "name", "model", "semi_supervised", "current"])

    def info(self, name: str | None) -> dict[str, Any] | None:
        """The fitted model ``name`` in the JSON form a label-version manifest stores (``to_dict``).

        Stale models are refitted first (see :meth:`get`).

        Parameters
        ----------
        name : str or None
            A name kept by :meth:`fit`.

        Returns
        -------
        dict or None
            ``name``, ``class``, ``format``, ``format_version``, ``params``, ``learned`` and
            ``semi_supervised`` (whether the fit had gold); None when no model is kept under ``name``.
        """
        fitted = {qname: self.get(n, qname) for (qname, n) in list(self._fitted) if n == name}
        if not fitted:
            return None
        forms = {q: est.to_dict() for q, est in fitted.items()}
        first = next(iter(forms.values()))
        learned = first["fitted"] if self._schema.current.is_single else {q: f["fitted"] for q, f in forms.items()}
        semi = any(self._fitted[(q, str(name))].semi_supervised for q in fitted)
        return {"name": name, "class": first["model"], "format": first["format"],
                "format_version": first["format_version"], "params": first["params"], "learned": learned,
                "semi_supervised": semi}

    # ------------------------------------------------------------------ evaluating
    def compare(
        self,
        gold: Any = "gold",
        *,
        question: str | None = None,
        models: Sequence[str] | Mapping[str, LabelModel] = ("majority_vote", "dawid_skene", "snorkel", "auto"),
        folds: int = 3,
        tie_break: str = "random",
        random_state: int | None = 0,
    ) -> pd.DataFrame:
        """Accuracy, macro-F1, log loss, Brier and ECE (with 95% intervals) and coverage of each label model on gold.

        Nothing is scored in-sample: a model that learns from gold (``"auto"``, or one kept
        with gold) is cross-fitted, each gold row predicted by a copy fitted with that row's
        fold hidden (``folds`` stratified folds); an unsupervised model is fitted without gold
        and scored on it. ``evaluation`` says which, per row. Ties and rows without votes
        count (never silently dropped); ``df.attrs["verdict"]`` says whether a label model
        beats majority vote and ``df.attrs["notes"]`` lists skipped models.

        Parameters
        ----------
        gold : "gold", column name or Series
            The gold to score against.
        models : names, or a mapping of name -> LabelModel
            Names of :data:`LABEL_MODELS` or of kept models; or models you fitted yourself on
            :meth:`ProjectLFs.matrix` (scored as given, ``evaluation="as given"``).
        folds : int, default 3
            Folds of the cross-fitting.
        """
        q = self._schema.current.question(question)
        L = self._matrix(q)
        y = self._log.gold_labels(gold, q.name)
        if not (y >= 0).any():
            raise WorkbenchError(
                "No gold labels to evaluate on. Record some with project.add_gold(...) or pass gold=<data column>."
            )
        if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
            raise LabelValidationError(f"The 'folds' parameter of compare must be an integer >= 2. Got {folds!r}.")
        scored: dict[str, LabelModel | np.ndarray] = {}
        evaluation: dict[str, str] = {}
        notes: list[str] = []
        if isinstance(models, Mapping):
            scored = dict(models)
            evaluation = dict.fromkeys(scored, "as given")
            models = ()
        for name in models:
            try:
                template, fit_gold = self._template(name, q)
                if fit_gold is None:
                    est = self.get(name, q.name) if (q.name, name) in self._fitted else clone(template).fit(L)
                    scored[name] = est.predict_proba(L)  # once: scored and calibrated from the same array
                    evaluation[name] = "unsupervised (gold not used)"
                else:
                    y_fit = self._log.gold_labels(fit_gold, q.name)
                    scored[name] = cross_fitted_proba(template, L, y_fit, y, folds, random_state)
                    evaluation[name] = crossfit_evaluation(y_fit, y, folds)
            except ImportError as exc:  # the snorkel extra may be missing
                notes.append(f"{name} skipped: {exc}")
            except LFError as exc:  # a model the LFs cannot support (Snorkel needs 3 LFs): the others still compare
                if L.shape[1] >= 3:
                    raise
                notes.append(f"{name} skipped: {exc}")
        # the majority-vote entry, now that it is passed as probabilities (instances are recognised by themselves)
        kept = {n: hit.model for (qn, n), hit in self._fitted.items() if qn == q.name}
        mv = next((n for n in scored if isinstance(kept.get(n), MajorityVote) or n == "majority_vote"), None)
        out = compare_label_models(scored, L, y, tie_break=tie_break, random_state=random_state,
                                   baseline=mv if isinstance(scored.get(str(mv)), np.ndarray) else None)
        out["evaluation"] = [evaluation.get(str(n), "unsupervised (gold not used)") for n in out.index]
        # calibration with 95% bootstrap intervals (the same resamples for every model)
        for name in out.index:
            m = scored.get(str(name))
            if m is None:
                continue
            P = m if isinstance(m, np.ndarray) else m.predict_proba(L)  # models you passed in
            cal = calibration_errors(y, P, n_bootstrap=300, random_state=random_state)
            for col in ("ece_low", "ece_high", "brier_low", "brier_high"):
                out.loc[name, col] = cal[col]
        out.attrs["notes"] = notes
        return out

    def reliability(
        self, gold: Any = "gold", *, model: str = "dawid_skene", question: str | None = None, n_bins: int = 10,
        folds: int = 3, random_state: int | None = 0,
    ) -> pd.DataFrame:
        """The data of a reliability diagram of ``model`` on the gold rows, never in-sample.

        A model that learns from gold is cross-fitted (as in :meth:`compare`); an unsupervised
        one (the default, ``"dawid_skene"``: cheap enough for a live dashboard) is scored as
        fitted. Returns :func:`workbench.models.reliability_table`'s frame, with
        ``attrs["model"]`` and ``attrs["evaluation"]``.
        """
        q = self._schema.current.question(question)
        L = self._matrix(q)
        y = self._log.gold_labels(gold, q.name)
        if not (y >= 0).any():
            raise WorkbenchError("No gold labels to draw a reliability diagram on. Record some with "
                                 "project.add_gold(...) or pass gold=<data column>.")
        template, fit_gold = self._template(model, q)
        if fit_gold is None:
            P = self.get(model, q.name).predict_proba(L)
            how = "unsupervised (gold not used)"
        else:
            y_fit = self._log.gold_labels(fit_gold, q.name)
            P = cross_fitted_proba(template, L, y_fit, y, folds, random_state)
            how = crossfit_evaluation(y_fit, y, folds)
        table = reliability_table(y, P, n_bins=n_bins)
        table.attrs.update({"model": model, "evaluation": how, "n_gold": int((y >= 0).sum())})
        return table

    def _template(self, name: str, q: Question) -> tuple[LabelModel, Any]:
        """An unfitted copy of model ``name`` and the gold it is fitted with now (None: unsupervised)."""
        hit = self._fitted.get((q.name, name))
        if hit is not None:
            return _for_question(hit.model, q), self._resolve_gold(q, hit.gold)
        if name not in LABEL_MODELS:
            raise LabelValidationError(f"No model is kept under {name!r}. Kept: {sorted(n for _, n in self._fitted)}; "
                                       f"or one of {list(LABEL_MODELS)!r}.")
        return _build(name, q.cardinality, 0), self._resolve_gold(q, PROJECT_GOLD if name == "auto" else None)

    # ------------------------------------------------------------------ predicting
    def _proba_key(self, q: Question, preds: pd.DataFrame) -> tuple[Any, ...]:
        """Everything :meth:`predict_proba` of ``q`` depends on: the schema and its choices, the LFs,
        the data, the gold and the fit of the model kept as ``"auto"``, and the recorded predictions."""
        hit = self._fitted.get((q.name, "auto"))
        inputs = self._inputs(q, PROJECT_GOLD if hit is None else hit.gold)
        pred_events = hashlib.sha256(preds["event_id"].to_numpy(dtype=np.int64).tobytes()).hexdigest()
        return (q.name, self._schema.version, tuple(q.choices), inputs, None if hit is None else hit.serial,
                pred_events)

    def predict_proba(self, question: str | None = None) -> pd.DataFrame | None:
        """Class probabilities per example from the best available source, or None.

        Latest ``source="model"`` predictions win where present (their confidence goes to the
        predicted class, the rest spread evenly); elsewhere the LF votes through the default
        label model (``"auto"``). Rows no source covers are absent. Results are cached
        until the schema, the LFs, the data, the gold, the model kept as ``"auto"`` or the
        recorded predictions change.

        Parameters
        ----------
        question : str, optional
            The question (default: the first, root question).

        Returns
        -------
        DataFrame or None
            Indexed by example id, one column per choice of the question (current schema);
            None when no source covers any example.

        Examples
        --------
        >>> proba = project.models.predict_proba()   # doctest: +SKIP
        >>> proba.max(axis=1).nsmallest(10)          # the least certain examples  # doctest: +SKIP
        """
        q = self._log.root_question(question)
        preds = self._log.labels(source="model", question=q.name)
        key = self._proba_key(q, preds)
        if key in self._proba_cache:
            return self._proba_cache[key]
        ids = self._data.index()
        P = np.full((len(ids), q.cardinality), np.nan)
        if len(self._lfs):
            L = self._matrix(q)
            if L.shape[1] > 0:
                covered = (L != ABSTAIN).any(axis=1)
                if covered.any():
                    P[covered] = self.get("auto", q.name).predict_proba(L)[covered]
        if len(preds):
            rows, evidence = _prediction_rows(preds.drop_duplicates("example_id", keep="last"), ids, q)
            P[rows] = evidence
        known = ~np.isnan(P).any(axis=1)
        proba = pd.DataFrame(P[known], index=ids[known], columns=list(q.choices))
        result = proba if len(proba) else None
        self._proba_cache.clear()
        # keyed on the state after any (re)fit of "auto" above, so the next call finds it
        self._proba_cache[self._proba_key(q, preds)] = result
        return result

    def soft_labels(
        self,
        model: str = "auto",
        *,
        humans: str = "override",
        consensus_method: str = "majority",
        include_unlabeled: bool = False,
    ) -> pd.DataFrame:
        """Probabilistic labels per example, combining every source, with provenance.

        For each question: LF votes through the label model ``model``; model predictions
        (``source="model"``) and the human consensus multiply in as evidence weighted by
        their confidence; gold and adjudicated labels override. Follow-up questions get a
        distribution only where their condition holds under the final parent label.

        Parameters
        ----------
        model : str, default "auto"
            The label model for LF votes: a name kept by :meth:`fit`, or one of
            :data:`LABEL_MODELS` (``"auto"`` uses the project's gold to choose and calibrate).
        humans : {"override", "sharpen"}
            ``override``: a human consensus replaces the machine distribution;
            ``sharpen``: it multiplies into it as evidence.
        consensus_method : {"majority", "dawid_skene"}
            How several annotators' answers are combined.
        include_unlabeled : bool, default False
            Keep rows no source covers (their probabilities are NaN).

        Returns
        -------
        DataFrame
            Indexed by ``id``: probability columns (see :func:`soft_label_columns`), then per
            question ``label``/``confidence`` (``label__<q>``/``confidence__<q>`` for several
            questions, plus a row ``confidence``: the lowest over the answered questions),
            ``weight`` (the mean confidence over answered questions; 1.0 for gold) and
            ``sources`` (``"lf+human"`` ...). The frame is what ``project.versions.save`` takes.
        """
        if humans not in ("override", "sharpen"):
            raise LabelValidationError(f"The 'humans' parameter of soft_labels must be 'override' or 'sharpen'. "
                                       f"Got {humans!r} instead.")
        # the events these soft labels are built from: those up to here (project.versions.save records them)
        watermark = self._log.last_event_id()
        schema = self._schema.current
        ids = self._data.index()
        n = len(ids)
        cols = soft_label_columns(schema)
        out = pd.DataFrame(index=pd.Index(ids, name="id"))
        sources: list[set[str]] = [set() for _ in range(n)]
        weights = np.zeros(n)
        n_answered = np.zeros(n)
        final_labels: dict[str, np.ndarray] = {}
        pos = pd.Series(np.arange(n), index=ids)
        for q in schema.questions:
            k = q.cardinality
            P = np.full((n, k), np.nan)
            # 1. LF votes through the label model
            if len(self._lfs):
                L = self._matrix(q)
                if L.shape[1]:
                    covered = (L != ABSTAIN).any(axis=1)
                    if covered.any():
                        P[covered] = self.get(model, q.name).predict_proba(L[covered])
                        # each row names the kinds of evidence that voted on it: LFs, production feedback
                        evidence = np.array(self._evidence(q))
                        for kind in np.unique(evidence):
                            for i in np.flatnonzero((L[:, evidence == kind] != ABSTAIN).any(axis=1)):
                                sources[i].add(str(kind))
            # 2. model predictions and 3. human consensus as confidence-weighted evidence
            preds = self._log.labels(source="model", question=q.name).drop_duplicates("example_id", keep="last")
            _multiply(P, pos, preds["example_id"], preds["value"], preds["confidence"], q, sources, "model",
                      replace=False)
            if len(self._log.answers(q.name)):
                cons = self._quality.consensus(consensus_method, q.name)
                cons = cons[cons["label"].notna() & ~cons["adjudicated"].astype(bool)]
                _multiply(P, pos, pd.Series(cons.index), cons["label"], cons["confidence"], q, sources, "human",
                          replace=humans == "override")
            # 4. adjudication and gold override
            for src in ("adjudication", "gold"):
                lab = self._log.labels(source=src, question=q.name).drop_duplicates("example_id", keep="last")
                _multiply(P, pos, lab["example_id"], lab["value"], pd.Series(1.0, index=lab.index), q, sources,
                          src, replace=True)
            # conditions: only where the parents' final labels allow the question
            if q.condition:
                ok = np.ones(n, dtype=bool)
                for parent, accepted in q.condition.items():
                    plab = final_labels.get(parent)
                    if plab is None:
                        ok[:] = False
                        break
                    ok &= np.isin(plab, list(accepted))
                P[~ok] = np.nan
            known = ~np.isnan(P).any(axis=1)
            label = np.full(n, None, dtype=object)
            conf = np.full(n, np.nan)
            if known.any():
                label[known] = np.asarray(q.choices, dtype=object)[P[known].argmax(axis=1)]
                conf[known] = P[known].max(axis=1)
            final_labels[q.name] = label
            for j, c in enumerate(cols[q.name]):
                out[c] = P[:, j]
            suffix = "" if schema.is_single else f"__{q.name}"
            out[f"label{suffix}"] = label
            out[f"confidence{suffix}"] = conf
            weights[known] += conf[known]
            n_answered[known] += 1
        with np.errstate(invalid="ignore"):
            w = np.where(n_answered > 0, weights / np.maximum(n_answered, 1), 0.0)
        is_gold = np.array(["gold" in s for s in sources], dtype=bool)
        w[is_gold] = 1.0
        if not schema.is_single:
            # the row's confidence: that of its least certain answered question (what a version stores per row)
            per_q = out[[f"confidence__{q.name}" for q in schema.questions]].to_numpy(dtype=float)
            answered = ~np.isnan(per_q).all(axis=1)
            row_conf = np.full(n, np.nan)
            row_conf[answered] = np.nanmin(per_q[answered], axis=1)
            out["confidence"] = row_conf
        out["weight"] = w
        order = ("gold", "adjudication", "human", "model", "lf", "feedback")
        out["sources"] = ["+".join(s for s in order if s in srcs) for srcs in sources]
        if not include_unlabeled:
            out = out[out["sources"] != ""]
        from workbench.lf._project import lf_record

        out.attrs["model"] = model
        out.attrs["questions"] = {q.name: list(q.choices) for q in schema.questions}
        out.attrs["event_watermark"] = watermark
        # what produced these rows, for a version saved later (an LF may be added or the model refit meanwhile)
        out.attrs["lfs"] = [lf_record(lf) for lf in self._lfs]
        out.attrs["label_model_info"] = self.info(model) if len(self._lfs) else None
        return out


def _choice_codes(values: Any, q: Question) -> np.ndarray:
    """The position of each value among the question's choices, -1 for anything that is not one."""
    choices = pd.Index(list(q.choices), dtype=object)
    return np.asarray(choices.get_indexer(pd.Index(np.asarray(values, dtype=object), dtype=object)), dtype=np.intp)


def _prediction_rows(last: pd.DataFrame, ids: pd.Index, q: Question) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``ids`` and their class probabilities for recorded model predictions (one per example).

    The predicted class gets the confidence (1.0 when none was recorded), the others share the
    rest evenly. Predictions of examples not in ``ids`` or of values that are not choices are left out.
    """
    k = q.cardinality
    rows = ids.get_indexer(pd.Index(last["example_id"].astype(str), dtype=object))
    cls = _choice_codes(last["value"], q)
    keep = (rows >= 0) & (cls >= 0)
    conf = pd.to_numeric(last["confidence"], errors="coerce").to_numpy(dtype=float)
    conf = np.where(np.isnan(conf), 1.0, conf)[keep]
    evidence = np.repeat(((1.0 - conf) / (k - 1))[:, None], k, axis=1)
    evidence[np.arange(len(conf)), cls[keep]] = conf
    return rows[keep], evidence


def _multiply(
    P: np.ndarray,
    pos: pd.Series,
    ids: pd.Series,
    values: pd.Series,
    confidence: pd.Series,
    q: Question,
    sources: list[set[str]],
    name: str,
    *,
    replace: bool,
) -> None:
    """Multiply (or, with ``replace``, write) confidence-weighted evidence into the rows of ``P``, in place.

    Each (id, value, confidence) is evidence ``c`` for ``value`` and ``(1 - c) / (k - 1)`` for each
    other class, ``c`` clipped to ``[1/k, 1]`` (1 when missing). A row that has no distribution yet
    takes the evidence as it is; ids not in ``pos`` and values that are not choices are skipped.
    """
    k = q.cardinality
    rows = pos.reindex(pd.Index(ids.astype(object), dtype=object)).to_numpy(dtype=float)
    cls = _choice_codes(values, q)
    keep = ~np.isnan(rows) & (cls >= 0)
    rows, cls = rows[keep].astype(np.intp), cls[keep]
    conf = pd.to_numeric(pd.Series(np.asarray(confidence, dtype=object)), errors="coerce").to_numpy(dtype=float)
    conf = np.clip(np.where(np.isnan(conf), 1.0, conf)[keep], 1.0 / k, 1.0)
    evidence = np.repeat(((1.0 - conf) / (k - 1))[:, None], k, axis=1)
    evidence[np.arange(len(rows)), cls] = conf
    if len(np.unique(rows)) < len(rows):  # an example given twice: its evidence multiplies in, in order
        for r, ev in zip(rows, evidence, strict=True):
            _multiply_rows(P, np.array([r]), ev[None, :], replace=replace)
    else:
        _multiply_rows(P, rows, evidence, replace=replace)
    for r in rows.tolist():
        sources[r].add(name)


def _multiply_rows(P: np.ndarray, rows: np.ndarray, evidence: np.ndarray, *, replace: bool) -> None:
    """``P[rows] = evidence`` where replacing or where a row has no distribution, else the normalised product."""
    if replace:
        P[rows] = evidence
        return
    current = P[rows]
    fresh = np.isnan(current).any(axis=1)
    prod = current * evidence
    total = prod.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        combined = np.where((total > 0)[:, None], prod / total[:, None], evidence)
    P[rows] = np.where(fresh[:, None], evidence, combined)
