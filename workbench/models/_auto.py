"""AutoLabelModel: pick (or blend) a label model by cross-validated score on the gold rows.

The gold rows are split into stratified folds. Every candidate is fitted once per fold on
all the votes with that fold's gold hidden (``-1``), and scored on that fold, so no
candidate is scored on gold it was fitted with. Blends of candidates are scored on the same
out-of-fold probabilities. The winner must beat majority vote's cross-validated score, or
majority vote is kept. Its out-of-fold probabilities then fit a calibration map (cross-fitted
again to report honest ECE and Brier scores with bootstrap intervals), and the winner is
refitted on every row with every gold label.

Probabilities and predictions may take different maps: the probabilities the map with the
lowest cross-fitted Brier score (the class base rate among them), the predictions the most
probable class of the best map that keeps the cross-fitted selection score. A metric such
as the F1 of a rare class is best served by predicting that class well below 50 %
probability, which no calibrated argmax does; one map for both had to choose between the
metric and probabilities worse than a constant.
"""

from __future__ import annotations

import importlib.util
import numbers
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar
from scipy.special import expit
from sklearn.base import clone

from workbench.models._base import LabelModel, _json_safe, one_hot_list, parallel_map, shared_one_hot
from workbench.models._crossfit import gold_folds
from workbench.models._dawid_skene import DawidSkene
from workbench.models._majority import MajorityVote
from workbench.models._metrics import METRICS, _score_from_confusion, calibration_errors, expected_confusion
from workbench.models._snorkel import SnorkelLabelModel
from workbench.models._weighted import WeightedMajorityVote

__all__ = ["AutoLabelModel"]

_CALIBRATIONS = ("auto", "temperature", "affine", "isotonic", "prior", "none")
#: Probabilities are floored here before temperature scaling, so a [1, 0] vote share can soften.
_CAL_EPS = 1e-4
#: Calibrations that can change which class is most probable: predictions follow them only when
#: they keep the cross-fitted selection score (``"prior"`` gives every row the gold class shares).
_MAY_REORDER = ("affine", "isotonic", "prior")
#: Weight of the tie-breaking model in the "majority vote, ties broken by ..." blend.
_TIE_WEIGHT = 1e-3
#: Isotonic calibration is tried from this many gold rows on (binary tasks only).
ISOTONIC_MIN_GOLD = 1000
#: Snorkel is a default candidate only while n_lfs * cardinality stays below this (its cost
#: grows with the square of it: 164 LFs x 9 classes take ~40 s per fit).
SNORKEL_MAX_WIDTH = 200
#: ... and while the label matrix has at most this many rows: its 500-epoch fits, one per fold,
#: would dominate the cross-validation (at 1M x 50 they take as long as everything else 10 times).
SNORKEL_MAX_ROWS = 200_000
#: Gold classes are "imbalanced" when the smallest has fewer than this share of the largest's rows.
IMBALANCE_RATIO = 0.5
BASELINE = "MajorityVote"
#: The no-gold default: majority vote, a tie broken only where Dawid-Skene with a learned class
#: prior and with a uniform one pick the same class (the decision then does not hinge on the
#: prior, which EM estimates worst without gold); other ties stay ties.
FALLBACK = "MajorityVote, ties by DawidSkene where priors agree"
#: The cross-validated blend: majority vote with every tie broken by Dawid-Skene.
TIE_BLEND = "MajorityVote, ties by DawidSkene"


def _snorkel_installed() -> bool:
    return importlib.util.find_spec("snorkel") is not None and importlib.util.find_spec("torch") is not None


def default_candidates(random_state: int | None = None, *, snorkel: bool | None = None) -> dict[str, LabelModel]:
    """The candidates :class:`AutoLabelModel` tries when ``candidates=None``.

    Majority vote (the baseline), weighted majority vote and Dawid-Skene variants, each
    fitted semi-supervised (every row, gold clamped) or on the gold rows only, and Snorkel's
    LabelModel when ``snorkel`` is installed (``snorkel=None``: when importable).
    """
    rs = random_state
    out: dict[str, LabelModel] = {
        BASELINE: MajorityVote(random_state=rs),
        "WeightedMajorityVote(gold rows)": WeightedMajorityVote(unlabeled="ignore", random_state=rs),
        "WeightedMajorityVote(1 step)": WeightedMajorityVote(max_iter=1, random_state=rs),
        "DawidSkene": DawidSkene(random_state=rs),
        "DawidSkene(gold rows)": DawidSkene(unlabeled="ignore", random_state=rs),
        "DawidSkene(votes_only)": DawidSkene(abstain="votes_only", class_prior="uniform", random_state=rs),
        "DawidSkene(votes_only, gold rows)": DawidSkene(abstain="votes_only", unlabeled="ignore", random_state=rs),
        "DawidSkene(missing)": DawidSkene(abstain="missing", random_state=rs),
        "DawidSkene(missing, gold rows)": DawidSkene(abstain="missing", unlabeled="ignore", random_state=rs),
    }
    if snorkel if snorkel is not None else _snorkel_installed():
        out["SnorkelLabelModel"] = SnorkelLabelModel(n_epochs=500, random_state=0 if rs is None else rs)
    return out


# -- calibration maps ------------------------------------------------------------------------------


def _binary_map(P: NDArray[np.float64], T: float, bias: float) -> NDArray[np.float64]:
    """Two classes: ``softmax(log P / T + [0, bias])`` on the log-odds, two contiguous passes."""
    # two row-sized buffers, reused in place (fresh memory is the main cost at millions of rows)
    logit = np.clip(P[:, 1], _CAL_EPS, None)
    np.log(logit, out=logit)
    other = np.clip(P[:, 0], _CAL_EPS, None)
    np.log(other, out=other)
    logit -= other
    logit /= T
    logit += bias
    out = np.empty_like(P)
    expit(logit, out=other)
    out[:, 1] = other
    np.negative(logit, out=logit)
    expit(logit, out=logit)
    out[:, 0] = logit
    return out


def _temperature_apply(P: NDArray[np.float64], T: float) -> NDArray[np.float64]:
    if P.shape[1] == 2:
        return _binary_map(P, T, 0.0)
    S = np.log(np.clip(P, _CAL_EPS, None)) / T
    S -= S.max(axis=1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=1, keepdims=True)
    return S


def _temperature_fit(P: NDArray[np.float64], y: NDArray[np.int64]) -> float:
    logP = np.log(np.clip(P, _CAL_EPS, None))
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        S = logP / np.exp(log_t)
        top = S.max(axis=1, keepdims=True)
        lse = np.log(np.exp(S - top).sum(axis=1)) + top[:, 0]
        return float(np.mean(lse - S[rows, y]))

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(50.0)), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(res.x))


def _affine_apply(P: NDArray[np.float64], T: float, bias: Sequence[float]) -> NDArray[np.float64]:
    if P.shape[1] == 2:
        return _binary_map(P, T, float(bias[0]))
    S = np.log(np.clip(P, _CAL_EPS, None)) / T
    S[:, 1:] += np.asarray(bias, dtype=np.float64)
    S -= S.max(axis=1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=1, keepdims=True)
    return S


def _affine_fit(P: NDArray[np.float64], y: NDArray[np.int64]) -> tuple[float, list[float]]:
    """Temperature plus a per-class bias (Platt scaling of the log-odds for binary tasks), by NLL.

    A weak L2 penalty on the biases keeps them finite when a class is absent from ``y``.
    """
    from scipy.optimize import minimize

    logP = np.log(np.clip(P, _CAL_EPS, None))
    k = P.shape[1]
    rows = np.arange(len(y))

    def nll(theta: NDArray[np.float64]) -> float:
        S = logP / np.exp(theta[0])
        S[:, 1:] += theta[1:]
        top = S.max(axis=1, keepdims=True)
        lse = np.log(np.exp(S - top).sum(axis=1)) + top[:, 0]
        return float(np.mean(lse - S[rows, y]) + 1e-3 * np.sum(theta[1:] ** 2))

    t0 = np.log(_temperature_fit(P, y))
    res = minimize(nll, np.r_[t0, np.zeros(k - 1)], method="L-BFGS-B",
                   bounds=[(np.log(0.05), np.log(50.0))] + [(-10.0, 10.0)] * (k - 1))
    return float(np.exp(res.x[0])), [float(b) for b in res.x[1:]]


def _isotonic_fit(P: NDArray[np.float64], y: NDArray[np.int64]) -> tuple[list[float], list[float]]:
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=_CAL_EPS, y_max=1 - _CAL_EPS, out_of_bounds="clip")
    iso.fit(P[:, 1], (y == 1).astype(np.float64))
    return [float(v) for v in iso.X_thresholds_], [float(v) for v in iso.y_thresholds_]


def _isotonic_apply(P: NDArray[np.float64], x: Sequence[float], yv: Sequence[float]) -> NDArray[np.float64]:
    p1 = np.interp(P[:, 1], np.asarray(x), np.asarray(yv))
    return np.column_stack([1.0 - p1, p1])


def _prior_fit(y: NDArray[np.int64], k: int) -> list[float]:
    """Laplace-smoothed class shares of ``y``: the base-rate predictor every calibration must beat."""
    counts = np.bincount(y, minlength=k) + 1.0
    return [float(v) for v in counts / counts.sum()]


def _calibrate(P: NDArray[np.float64], cal: Mapping[str, Any]) -> NDArray[np.float64]:
    method = cal.get("method", "none")
    if method == "prior":
        return np.tile(np.asarray(cal["prior"], dtype=np.float64), (P.shape[0], 1))
    if method == "temperature":
        return _temperature_apply(P, float(cal["temperature"]))
    if method == "affine":
        return _affine_apply(P, float(cal["temperature"]), cal["bias"])
    if method == "isotonic":
        return _isotonic_apply(P, cal["x"], cal["y"])
    return P


def _fit_calibrator(method: str, P: NDArray[np.float64], y: NDArray[np.int64]) -> dict[str, Any]:
    if method == "temperature":
        return {"method": "temperature", "temperature": _temperature_fit(P, y)}
    if method == "affine":
        T, bias = _affine_fit(P, y)
        return {"method": "affine", "temperature": T, "bias": bias}
    if method == "isotonic":
        x, yv = _isotonic_fit(P, y)
        return {"method": "isotonic", "x": x, "y": yv}
    if method == "prior":
        return {"method": "prior", "prior": _prior_fit(y, P.shape[1])}
    return {"method": "none"}


class AutoLabelModel(LabelModel):
    """Choose (or blend) a label model by its cross-validated score on the gold rows.

    With enough gold (``min_gold`` rows, two classes or more), each candidate is fitted
    ``cv`` times, each time on every row's votes with one fold's gold hidden, and scored on
    that fold. Two blends are scored too: the mean probabilities of the three best
    candidates, and majority vote with its ties broken by Dawid-Skene. The best
    cross-validated score wins, unless it does not beat majority vote's, in which case
    majority vote is kept (the guard). The winner's out-of-fold probabilities fit the
    calibration (see ``calibration``), and the winner is refitted on every row with every
    gold label.

    :meth:`predict_proba` gives the calibrated probabilities; :meth:`predict` the most
    probable class of :meth:`decision_function`, which is the same array unless the
    best-calibrated probabilities would change the cross-validated score the model was
    chosen by. Then predictions keep the chosen decision (say, the rare class of an
    imbalanced binary task predicted as often as its F1 rewards) while the probabilities
    say how likely each class is (there, well below 50 %), as scikit-learn's
    ``TunedThresholdClassifierCV`` separates a decision threshold from ``predict_proba``.

    Without enough gold the model is the documented default: majority vote, each tie broken
    by :class:`DawidSkene` where its fits with a learned and with a uniform class prior pick
    the same class, other ties left as ties. It never overrules a majority, and breaks a tie
    only when the decision does not hinge on the class prior, which EM estimates worst
    without gold (a learned prior alone pulls ties to the majority class and costs the
    minority class's F1; a uniform one alone over-predicts rare classes). Fitted
    semi-supervised on whatever gold there is, uncalibrated; on every WRENCH task in
    ``benchmarks/bench_label_models.py`` it is at least majority vote minus 0.3 points.

    Parameters
    ----------
    cardinality : int, optional
        Number of classes; inferred from the votes (and gold) when None.
    candidates : dict of name -> LabelModel, list of LabelModel, or None
        The models to try (unfitted; they are cloned). ``None``: the defaults of
        :func:`default_candidates` (Snorkel's LabelModel among them when installed, with at most
        ``SNORKEL_MAX_WIDTH`` LF x class columns and ``SNORKEL_MAX_ROWS`` rows). Majority vote
        is added as the baseline when missing.
    cv : int, default 5
        Folds of the gold rows.
    metric : {"auto", "accuracy", "macro_f1", "f1"}, default "auto"
        Score to select by, in expectation over random tie breaks. ``"auto"``: accuracy
        unless the gold classes are imbalanced (the smallest has fewer than half the rows
        of the largest); then the F1 of the minority class for binary tasks (WRENCH's metric
        for them) and macro-F1 otherwise. ``"f1"`` is the F1 of class 1.
    calibration : {"auto", "temperature", "affine", "isotonic", "prior", "none"}, default "auto"
        ``"auto"`` picks, by cross-fitted Brier score, among no calibration, temperature
        scaling, ``"affine"`` (a temperature plus a bias per class: Platt scaling of the
        log-odds for binary tasks), ``"prior"`` (every row gets the gold's Laplace-smoothed
        class shares: the base rate, so the soft labels are never worse than a constant
        out of fold) and (binary, >= ``ISOTONIC_MIN_GOLD`` gold rows) isotonic regression.
        Affine, prior and isotonic maps can change the most probable class: predictions
        follow the lowest-Brier map that keeps the cross-fitted selection score (within
        0.005), which is the probabilities' own map unless that one would lower it
        (``decision_``). A given method is used for both.
    min_gold : int, default 30
        Fewest gold rows for cross-validation; below it the default model is fitted.
    max_cv_rows : int or None, default 50000
        Rows each cross-validation fit sees: every gold row plus a seeded sample of the
        others. Bounds the cost at millions of rows; the final refit uses every row.
    n_bootstrap : int, default 500
        Bootstrap resamples of the reported ECE and Brier intervals.
    random_state : int or None
        Seeds the folds, the row sample, the bootstrap and the default candidates.

    Attributes
    ----------
    members_ : list of LabelModel
        The fitted models whose probabilities are blended (one unless a blend won).
    weights_ : ndarray of shape (n_members,)
    calibrator_ : dict
        The map of :meth:`predict_proba`: ``{"method": "none" | "temperature" | "affine" |
        "isotonic" | "prior", ...parameters}``.
    decision_ : dict
        The map of :meth:`decision_function`, whose most probable class :meth:`predict`
        returns: ``calibrator_`` unless that would change the cross-fitted selection score.
    chosen_ : str
        Name of the chosen candidate or blend.
    report_ : dict
        JSON-able account of the fit: metric and why, each candidate's fold scores, mean
        and standard deviation, the choice and why, and the calibration tried, with
        cross-fitted ECE and Brier (bootstrap intervals) before and after it, and the map
        the predictions follow (``report_["calibration"]["decision"]``) and why.
    class_prior_ : ndarray of shape (k,)
        Class balance: Laplace-smoothed gold shares when there is gold, else the members'.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300)
    >>> L = np.where(rng.random((300, 5)) < 0.8, y[:, None], 1 - y[:, None]).astype(np.int8)
    >>> gold = np.where(np.arange(300) < 100, y, -1)
    >>> lm = AutoLabelModel(random_state=0).fit(L, gold)
    >>> lm.report_["chosen"] == lm.chosen_, lm.predict_proba(L).shape
    (True, (300, 2))
    """

    members_: list[LabelModel]
    weights_: NDArray[np.float64]
    calibrator_: dict[str, Any]
    decision_: dict[str, Any]
    chosen_: str
    report_: dict[str, Any]

    def __init__(
        self,
        cardinality: int | None = None,
        candidates: Mapping[str, LabelModel] | Sequence[LabelModel] | None = None,
        cv: int = 5,
        metric: str = "auto",
        calibration: str = "auto",
        min_gold: int = 30,
        max_cv_rows: int | None = 50_000,
        n_bootstrap: int = 500,
        random_state: int | None = None,
    ) -> None:
        self.cardinality = cardinality
        self.candidates = candidates
        self.cv = cv
        self.metric = metric
        self.calibration = calibration
        self.min_gold = min_gold
        self.max_cv_rows = max_cv_rows
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state

    # -- parameters ---------------------------------------------------------------------------------
    def _check_int(self, name: str, low: int, allow_none: bool = False) -> None:
        val = getattr(self, name)
        if allow_none and val is None:
            return
        if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < low:
            extra = " or None" if allow_none else ""
            raise ValueError(
                f"The '{name}' parameter of {type(self).__name__} must be an int >= {low}{extra}. Got {val!r} instead."
            )

    def _candidate_models(self, k: int, m: int, n: int = 0) -> dict[str, LabelModel]:
        name = type(self).__name__
        if self.candidates is None:
            cands = default_candidates(self.random_state)
            if "SnorkelLabelModel" in cands and (m < 3 or m * k > SNORKEL_MAX_WIDTH or n > SNORKEL_MAX_ROWS):
                del cands["SnorkelLabelModel"]
        elif isinstance(self.candidates, Mapping):
            cands = dict(self.candidates)
        elif isinstance(self.candidates, Sequence) and not isinstance(self.candidates, str):
            cands = {}
            for model in self.candidates:
                label = type(model).__name__
                i = 2
                while label in cands:
                    label = f"{type(model).__name__}#{i}"
                    i += 1
                cands[label] = model
        else:
            raise ValueError(
                f"The 'candidates' parameter of {name} must be a dict of name -> LabelModel, a list "
                f"of LabelModel or None (the defaults). Got {type(self.candidates).__name__} instead."
            )
        for label, model in cands.items():
            if not isinstance(model, LabelModel) or isinstance(model, AutoLabelModel):
                raise ValueError(
                    f"Every candidate of {name} must be a workbench LabelModel other than "
                    f"AutoLabelModel. Got {type(model).__name__} for {label!r}; wrap other models "
                    "in a LabelModel subclass."
                )
        out: dict[str, LabelModel] = {}
        if not any(type(m_) is MajorityVote for m_ in cands.values()):
            out[BASELINE] = MajorityVote(random_state=self.random_state)
        for label, model in cands.items():
            twin = clone(model)
            if "cardinality" in twin.get_params(deep=False):
                twin.set_params(cardinality=k)
            out[str(label)] = twin
        return out

    def _params_to_json(self) -> dict[str, Any]:
        raw = self.get_params(deep=False)
        cands = raw.pop("candidates")
        out: dict[str, Any] = _json_safe(raw)
        if cands is None:
            out["candidates"] = None
        elif isinstance(cands, Mapping):
            out["candidates"] = {str(n): _unfitted_dict(mod) for n, mod in cands.items()}
        else:
            out["candidates"] = [_unfitted_dict(mod) for mod in cands]
        return out

    @classmethod
    def _params_from_json(cls, params: dict[str, Any]) -> dict[str, Any]:
        params = dict(params)
        cands = params.get("candidates")
        if isinstance(cands, Mapping):
            params["candidates"] = {n: LabelModel.from_dict(d) for n, d in cands.items()}
        elif isinstance(cands, list):
            params["candidates"] = [LabelModel.from_dict(d) for d in cands]
        return params

    # -- fit --------------------------------------------------------------------------------------
    def _fit(self, L: NDArray[np.integer[Any]], cardinality: int, y: NDArray[np.int64] | None) -> None:
        name = type(self).__name__
        k = cardinality
        n, m = L.shape
        self._check_int("cv", 2)
        self._check_int("min_gold", 2)
        self._check_int("max_cv_rows", 100, allow_none=True)
        self._check_int("n_bootstrap", 0)
        if self.metric != "auto" and self.metric not in METRICS:
            raise ValueError(
                f"The 'metric' parameter of {name} must be one of {['auto', *METRICS]}. Got {self.metric!r} instead."
            )
        if self.metric == "f1" and k != 2:
            raise ValueError(f"metric='f1' (F1 of class 1) needs a binary task; got {k} classes. Use 'macro_f1'.")
        if self.calibration not in _CALIBRATIONS:
            raise ValueError(
                f"The 'calibration' parameter of {name} must be one of {list(_CALIBRATIONS)}. "
                f"Got {self.calibration!r} instead."
            )
        cands = self._candidate_models(k, m, n)
        known = np.zeros(n, dtype=bool) if y is None else y >= 0
        n_gold = int(known.sum())
        gold_counts = np.bincount(y[known], minlength=k) if y is not None else np.zeros(k, dtype=np.int64)
        report: dict[str, Any] = {
            "n_items": int(n),
            "n_lfs": int(m),
            "cardinality": int(k),
            "n_gold": n_gold,
            "gold_class_counts": gold_counts.tolist(),
        }
        if y is not None:
            counts = gold_counts + 1.0
            self.class_prior_ = counts / counts.sum()
        if n_gold < self.min_gold or int((gold_counts > 0).sum()) < 2:
            self._fit_default(L, y, k, report, n_gold)
            return
        metric, positive, why = self._choose_metric(gold_counts)
        report["metric"] = metric
        if metric == "f1":
            report["positive_class"] = positive
        report["metric_reason"] = why
        self._fit_cv(L, y, k, cands, metric, positive, report)  # type: ignore[arg-type]

    def _choose_metric(self, gold_counts: NDArray[np.int64]) -> tuple[str, int, str]:
        """Return (metric, positive class, reason)."""
        if self.metric != "auto":
            return str(self.metric), 1, f"metric={self.metric!r} was given"
        present = gold_counts[gold_counts > 0]
        ratio = float(present.min() / present.max())
        if ratio >= IMBALANCE_RATIO:
            return (
                "accuracy",
                1,
                f"gold classes are balanced enough (smallest/largest = {ratio:.2f} >= {IMBALANCE_RATIO})",
            )
        if gold_counts.shape[0] == 2:
            minority = int(np.argmin(gold_counts))
            return (
                "f1",
                minority,
                (
                    f"binary task with imbalanced gold classes (smallest/largest = {ratio:.2f} < {IMBALANCE_RATIO}), "
                    f"so the F1 of the minority class {minority} (as WRENCH scores such tasks)"
                ),
            )
        return (
            "macro_f1",
            1,
            (f"gold classes are imbalanced (smallest/largest = {ratio:.2f} < {IMBALANCE_RATIO}), so macro-F1"),
        )

    def _fit_default(
        self, L: NDArray[np.integer[Any]], y: NDArray[np.int64] | None, k: int, report: dict[str, Any], n_gold: int
    ) -> None:
        rs = self.random_state
        members: list[LabelModel] = [
            MajorityVote(cardinality=k, random_state=rs),
            DawidSkene(cardinality=k, random_state=rs),
            DawidSkene(cardinality=k, class_prior="uniform", random_state=rs),
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for model in members:
                model.fit(L, y)
        self.members_ = members
        self.weights_ = np.array([1.0 - _TIE_WEIGHT, _TIE_WEIGHT / 2, _TIE_WEIGHT / 2])
        self.calibrator_ = {"method": "none"}
        self.decision_ = self.calibrator_
        self.chosen_ = FALLBACK
        if y is None:
            self.class_prior_ = self._blend_prior()
        report.update(
            chosen=FALLBACK,
            members=[type(m_).__name__ for m_ in members],
            weights=self.weights_.tolist(),
            reason=(
                f"only {n_gold} gold row(s) of {int(np.count_nonzero(report['gold_class_counts']))} "
                f"class(es); cross-validation needs min_gold={self.min_gold} rows of at least 2 classes, so the "
                "default was fitted: majority vote, its ties broken by DawidSkene where the learned-prior and "
                "uniform-prior fits agree (semi-supervised on the gold given), uncalibrated"
            ),
            candidates=[],
            calibration={
                "method": "none",
                "reason": "no cross-validation, so nothing to calibrate on",
                "decision": {"method": "none", "reason": "the same map"},
            },
        )
        self.report_ = report

    def _blend_prior(self) -> NDArray[np.float64]:
        prior = sum(w * mod.class_prior_ for w, mod in zip(self.weights_, self.members_, strict=True))
        prior = np.asarray(prior, dtype=np.float64)
        return prior / prior.sum()

    def _folds(self, y_gold: NDArray[np.int64]) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
        return gold_folds(y_gold, int(self.cv), self.random_state)

    def _fit_cv(
        self,
        L: NDArray[np.integer[Any]],
        y: NDArray[np.int64],
        k: int,
        cands: dict[str, LabelModel],
        metric: str,
        positive: int,
        report: dict[str, Any],
    ) -> None:
        n = L.shape[0]
        gold_idx = np.flatnonzero(y >= 0)
        other_idx = np.flatnonzero(y < 0)
        rng = np.random.default_rng(self.random_state)
        subsampled = False
        if self.max_cv_rows is not None and n > self.max_cv_rows:
            keep = max(0, int(self.max_cv_rows) - gold_idx.size)
            other_idx = np.sort(rng.choice(other_idx, size=min(keep, other_idx.size), replace=False))
            subsampled = True
        rows = np.concatenate([gold_idx, other_idx])
        L_cv = L[rows]
        y_cv = np.full(rows.size, -1, dtype=np.int64)
        y_cv[: gold_idx.size] = y[gold_idx]
        y_gold = y[gold_idx]
        folds = self._folds(y_gold)
        report["cv"] = {
            "n_splits": len(folds),
            "rows_per_fit": int(rows.size),
            "subsampled": subsampled,
            "scheme": "each fold's gold hidden (-1) while fitting on every other row; scored on that fold",
        }

        def score(P: NDArray[np.float64], yy: NDArray[np.int64]) -> float:
            return _score_from_confusion(expected_confusion(yy, P), metric, positive)

        oof: dict[str, NDArray[np.float64]] = {}
        entries: list[dict[str, Any]] = []

        def fit_fold(task: tuple[str, int]) -> tuple[NDArray[np.float64] | None, Exception | None, float]:
            label, i = task
            test = folds[i][1]
            t0 = time.perf_counter()
            y_fit = y_cv.copy()
            y_fit[test] = -1
            try:
                fitted = clone(cands[label]).fit(L_cv, y_fit)
                out = fitted.predict_proba(L_cv[test])
            except Exception as exc:  # noqa: BLE001 - a user model failing must not sink the others
                return None, exc, time.perf_counter() - t0
            return out, None, time.perf_counter() - t0

        # every (candidate, fold) fit is independent: the thread-safe ones run on several threads
        # (their sparse products release the GIL), the others (Snorkel's torch state, user models) serially
        tasks = [(label, i) for label in cands for i in range(len(folds))]
        safe = [t for t in tasks if cands[t[0]]._is_thread_safe()]
        with shared_one_hot(), warnings.catch_warnings():  # the candidates and folds share L_cv's one-hot blocks
            warnings.simplefilter("ignore")
            one_hot_list(L_cv, k)
            results = dict(zip(safe, parallel_map(fit_fold, safe), strict=True))
            results.update({task: fit_fold(task) for task in tasks if task not in results})
        for label, model in cands.items():
            entry: dict[str, Any] = {
                "name": label,
                "model": type(model).__name__,
                "params": _unfitted_dict(model)["params"],
                "fit_on": "gold rows only" if model._gold_rows_only() else "every row, gold clamped",
            }
            P_oof = np.zeros((gold_idx.size, k))
            error = None
            for i, (_, test) in enumerate(folds):
                P_fold, exc, _ = results[(label, i)]
                if exc is not None:
                    error = exc
                    break
                P_oof[test] = P_fold
            if error is not None:
                entry.update(status=f"failed: {type(error).__name__}: {error}", cv_score=None, fold_scores=[])
                entries.append(entry)
                continue
            oof[label] = P_oof
            fold_scores = [score(P_oof[test], y_gold[test]) for _, test in folds]
            entry.update(status="ok", kind="model", members=[label], weights=[1.0])
            entry["cv_seconds"] = round(sum(results[(label, i)][2] for i in range(len(folds))), 3)
            entry.update(_summary(P_oof, y_gold, fold_scores, score))
            entries.append(entry)
        ok = [e for e in entries if e["status"] == "ok"]
        if BASELINE not in oof:
            raise RuntimeError("the majority-vote baseline failed to fit")  # pragma: no cover
        # blends scored on the same out-of-fold probabilities
        blends: list[tuple[str, list[str], list[float]]] = []
        ranked = sorted(ok, key=lambda e: -e["cv_score"])
        top = [e["name"] for e in ranked[:3]]
        if len(top) == 3:
            blends.append((f"mean of {', '.join(top)}", top, [1 / 3] * 3))
        if "DawidSkene" in oof:
            blends.append((TIE_BLEND, [BASELINE, "DawidSkene"], [1.0 - _TIE_WEIGHT, _TIE_WEIGHT]))
        for label, names, weights in blends:
            P_oof = np.zeros((gold_idx.size, k))
            for nm, w in zip(names, weights, strict=True):
                P_oof += w * oof[nm]
            fold_scores = [score(P_oof[test], y_gold[test]) for _, test in folds]
            entry = {
                "name": label,
                "model": "blend",
                "fit_on": "its members'",
                "status": "ok",
                "kind": "blend",
                "members": names,
                "weights": weights,
            }
            entry.update(_summary(P_oof, y_gold, fold_scores, score))
            entries.append(entry)
            oof[label] = P_oof
        ok = [e for e in entries if e["status"] == "ok"]
        base = next(e for e in ok if e["name"] == BASELINE)
        best = max(ok, key=lambda e: (e["cv_score"], -e["log_loss"]))
        if best["cv_score"] > base["cv_score"]:
            chosen = best
            reason = (
                f"highest cross-validated {metric} ({best['cv_score']:.4f}, sd {best['cv_std']:.4f} over "
                f"{len(folds)} folds), above majority vote's {base['cv_score']:.4f}"
            )
        else:
            chosen = base
            reason = (
                f"no candidate beat majority vote's cross-validated {metric} ({base['cv_score']:.4f}; best other: "
                f"{best['name']} {best['cv_score']:.4f}), so the guard keeps majority vote"
            )
        # calibration on the chosen one's out-of-fold probabilities, cross-fitted for the report
        P_oof = oof[chosen["name"]]
        cal_report = self._choose_calibration(P_oof, y_gold, folds, k, score)
        # refit the members on every row with every gold label
        members = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for nm in chosen["members"]:
                members.append(clone(cands[nm]).fit(L, y))
        self.members_ = members
        self.weights_ = np.asarray(chosen["weights"], dtype=np.float64)
        self.calibrator_ = cal_report.pop("calibrator")
        self.decision_ = cal_report.pop("decision_calibrator")
        self.chosen_ = str(chosen["name"])
        report.update(
            candidates=entries,
            baseline=BASELINE,
            baseline_score=base["cv_score"],
            chosen=self.chosen_,
            chosen_score=chosen["cv_score"],
            members=list(chosen["members"]),
            weights=self.weights_.tolist(),
            reason=reason,
            calibration=cal_report,
            class_prior="Laplace-smoothed class shares of the gold rows",
        )
        self.report_ = report

    def _choose_calibration(
        self,
        P: NDArray[np.float64],
        y: NDArray[np.int64],
        folds: list[tuple[NDArray[np.intp], NDArray[np.intp]]],
        k: int,
        score: Any,
    ) -> dict[str, Any]:
        """Calibrate out-of-fold probabilities ``P``: one map for the probabilities, one for the decisions.

        Every map is cross-fitted on the same folds (each fold mapped by a fit on the others).
        The probabilities take the map with the lowest cross-fitted Brier score. The
        predictions take the most probable class of the lowest-Brier map that keeps the
        cross-fitted selection score (within 0.005): an argmax the metric chose (say a
        rare class predicted often, as the F1 of that class rewards) stays, while its
        probabilities may move to where the gold puts them, down to the class base rate.
        """
        if self.calibration == "auto":
            methods = ["none", "temperature", "affine", "prior"]
            if k == 2 and len(y) >= ISOTONIC_MIN_GOLD:
                methods.append("isotonic")
        else:
            methods = [str(self.calibration)]
            if self.calibration == "isotonic" and k != 2:
                raise ValueError("calibration='isotonic' is for binary tasks; use 'temperature' for more classes.")
        tried: dict[str, Any] = {}
        crossfit: dict[str, NDArray[np.float64]] = {}
        for method in methods:
            P_cf = np.zeros_like(P)
            for train, test in folds:
                cal = _fit_calibrator(method, P[train], y[train])
                P_cf[test] = _calibrate(P[test], cal)
            crossfit[method] = P_cf
            errs = calibration_errors(y, P_cf, n_bootstrap=0)
            tried[method] = {"brier": errs["brier"], "ece": errs["ece"], "score": score(P_cf, y)}
        raw_score = score(P, y)
        keeps_score = [
            mth for mth in methods
            if mth not in _MAY_REORDER or tried[mth]["score"] >= raw_score - 0.005 or len(methods) == 1
        ]
        method = min(methods, key=lambda mth: tried[mth]["brier"])
        decision = min(keeps_score, key=lambda mth: tried[mth]["brier"])
        seed = self.random_state
        if self.calibration != "auto":
            reason = f"calibration={self.calibration!r} was given"
            why_decision = "the same map"
        else:
            reason = f"lowest cross-fitted Brier score among {methods}"
            why_decision = (
                "the same map: it keeps the cross-fitted selection score"
                if decision == method
                else (
                    f"{method!r} would change the cross-fitted selection score from {raw_score:.4f} to "
                    f"{tried[method]['score']:.4f}, so predictions take the most probable class under "
                    f"{decision!r}, the lowest-Brier map among those that keep it ({keeps_score})"
                )
            )
        out: dict[str, Any] = {
            "method": method,
            "tried": tried,
            "reason": reason,
            "decision": {"method": decision, "reason": why_decision},
            "before": calibration_errors(y, P, n_bootstrap=int(self.n_bootstrap), random_state=seed),
            "after": calibration_errors(y, crossfit[method], n_bootstrap=int(self.n_bootstrap), random_state=seed),
            "note": "out-of-fold probabilities; 'after' is cross-fitted (each fold calibrated on the others)",
        }
        out["calibrator"] = _fit_calibrator(method, P, y)
        out["decision_calibrator"] = out["calibrator"] if decision == method else _fit_calibrator(decision, P, y)
        return out

    # -- predict / state --------------------------------------------------------------------------
    def _member_proba(self, L: NDArray[np.integer[Any]]) -> NDArray[np.float64]:
        """The chosen model's (or blend's) probabilities, before calibration."""
        if len(self.members_) == 1:
            return self.members_[0].predict_proba(L)
        P = np.zeros((L.shape[0], self.cardinality_), dtype=np.float64)
        for w, model in zip(self.weights_, self.members_, strict=True):
            P += w * model.predict_proba(L)
        P /= P.sum(axis=1, keepdims=True)
        return P

    def _predict_proba(self, L: NDArray[np.integer[Any]]) -> NDArray[np.float64]:
        return self._proba_and_decision(L)[0]

    def _proba_and_decision(
        self, L: NDArray[np.integer[Any]]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if self.chosen_ == FALLBACK:
            P = _agreed_ties(*(model.predict_proba(L) for model in self.members_))
            return P, P
        raw = self._member_proba(L)
        proba = _calibrate(raw, self.calibrator_)
        if self.decision_ == self.calibrator_:
            return proba, proba
        return proba, _calibrate(raw, self.decision_)

    def _fitted_state(self) -> dict[str, Any]:
        return {
            "class_prior_": self.class_prior_,
            "members_": [mod.to_dict() for mod in self.members_],
            "weights_": self.weights_,
            "calibrator_": self.calibrator_,
            "decision_": self.decision_,
            "chosen_": self.chosen_,
            "report_": self.report_,
        }

    def _load_fitted_state(self, state: dict[str, Any]) -> None:
        self.class_prior_ = np.asarray(state["class_prior_"], dtype=np.float64)
        self.members_ = [LabelModel.from_dict(d) for d in state["members_"]]
        self.weights_ = np.asarray(state["weights_"], dtype=np.float64)
        self.calibrator_ = dict(state["calibrator_"])
        # models saved before decisions had their own map predicted from the calibrated probabilities
        self.decision_ = dict(state.get("decision_", self.calibrator_))
        self.chosen_ = str(state["chosen_"])
        self.report_ = dict(state["report_"])


def _agreed_ties(
    P_vote: NDArray[np.float64], P_learned: NDArray[np.float64], P_uniform: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Vote shares, nudged by ``_TIE_WEIGHT`` towards the class both Dawid-Skene fits pick where they agree."""
    k = P_vote.shape[1]
    a, b = P_learned.argmax(axis=1), P_uniform.argmax(axis=1)
    P = P_vote * (1.0 - _TIE_WEIGHT)
    agree = a == b
    P[np.flatnonzero(agree), a[agree]] += _TIE_WEIGHT
    P[~agree] += _TIE_WEIGHT / k
    return P


def _unfitted_dict(model: LabelModel) -> dict[str, Any]:
    data = model.to_dict()
    data["fitted"] = None
    return data


def _summary(P: NDArray[np.float64], y: NDArray[np.int64], fold_scores: list[float], score: Any) -> dict[str, Any]:
    p_true = np.clip(P[np.arange(len(y)), y], 1e-15, 1.0)
    return {
        "cv_score": float(np.mean(fold_scores)),
        "cv_std": float(np.std(fold_scores)),
        "fold_scores": [float(s) for s in fold_scores],
        "pooled_score": float(score(P, y)),
        "log_loss": float(-np.mean(np.log(p_true))),
    }
