"""Auto-accepting confident model drafts with a precision guarantee, chosen on gold."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import beta
from sklearn.base import BaseEstimator

from workbench.exceptions import LabelValidationError, NotFittedError, WorkbenchError

__all__ = ["AutoAccept", "clopper_pearson_lower"]


def clopper_pearson_lower(k: ArrayLike, n: ArrayLike, confidence: float) -> Any:
    """One-sided lower Clopper-Pearson bound on a success rate: ``P(p >= bound) >= confidence``.

    ``k`` successes out of ``n`` trials (arrays broadcast); 0 where ``k == 0`` or ``n == 0``.
    """
    k_arr, n_arr = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore"):
        out = beta.ppf(1.0 - confidence, k_arr, n_arr - k_arr + 1.0)
    return np.where((k_arr > 0) & (n_arr > 0), np.nan_to_num(out, nan=0.0), 0.0)


class AutoAccept(BaseEstimator):  # type: ignore[misc]
    """The lowest confidence threshold whose precision on gold is guaranteed at a target.

    Drafts whose top-class probability is at least ``threshold_`` can be accepted without a
    person: with probability ``confidence`` (over the draw of the gold set), their precision
    is at least ``target_precision``. The threshold is chosen on gold by **fixed-sequence
    testing** (Learn-then-Test): candidate thresholds, a grid fixed by the confidences alone,
    are visited from the one where the test is expected to be most powerful (the largest
    bound the confidences themselves predict) down to lower thresholds; at each, the
    hypothesis "precision above it is below the target" is rejected when the one-sided
    Clopper-Pearson lower bound of the gold precision above it reaches the target; the walk
    stops at the first threshold it cannot reject. Because the tests are
    made in a fixed order and the walk stops at the first failure, the family-wise error is
    ``1 - confidence`` without any correction for the number of thresholds looked at.

    The guarantee needs gold the model did not learn from: fit on held-out gold, or on
    out-of-fold probabilities (``ActiveLearner.cross_fitted_proba``). A model's confidences
    on its own training gold are too good; on the YouTube comments a threshold chosen on them
    gave precision 0.82 on new items for a 0.97 target, against 0.99 when cross-fitted.

    Parameters
    ----------
    target_precision : float, default 0.97
        The precision the accepted drafts must reach, in (0, 1).
    confidence : float, default 0.95
        The probability that the guarantee holds, in (0, 1).
    per_class : bool, default False
        One threshold per predicted class (each with the guarantee for that class's drafts).
    min_accepted : int, default 1
        Thresholds accepting fewer gold items than this are not considered.
    max_steps : int, default 50
        How many thresholds the sequence may test (an even grid over the accepted counts, from
        the most confident one that can reach the target down); fewer steps stop less often
        on a noisy dip, more steps get closer to the best threshold.

    Attributes
    ----------
    threshold_ : float or dict
        The chosen threshold (``per_class``: class index -> threshold; ``inf`` for a class
        whose gold cannot support the target).
    precision_lower_ : float or dict
        The Clopper-Pearson lower bound of the precision at the threshold.
    precision_ : float or dict
        The gold precision above the threshold.
    coverage_ : float
        Share of the gold rows that would be auto-accepted.
    n_gold_ : int
        Gold rows used.
    report_ : dict
        The thresholds tried, in order, with their counts and bounds.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> conf = rng.uniform(0.5, 1.0, 2000)
    >>> y = (rng.random(2000) < conf).astype(int)          # calibrated: right with probability conf
    >>> proba = np.c_[1 - conf, conf]
    >>> accept = AutoAccept(target_precision=0.9, confidence=0.95).fit(proba, y)
    >>> bool(accept.precision_lower_ >= 0.9), round(accept.threshold_, 2), round(accept.coverage_, 2)
    (True, 0.84, 0.33)
    """

    def __init__(
        self, target_precision: float = 0.97, confidence: float = 0.95, *, per_class: bool = False,
        min_accepted: int = 1, max_steps: int = 50,
    ) -> None:
        self.target_precision = target_precision
        self.confidence = confidence
        self.per_class = per_class
        self.min_accepted = min_accepted
        self.max_steps = max_steps

    def _check_params(self) -> None:
        for name in ("target_precision", "confidence"):
            value = getattr(self, name)
            if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
                    or not 0.0 < float(value) < 1.0):
                raise LabelValidationError(
                    f"The '{name}' parameter of AutoAccept must be a number strictly between 0 and 1. "
                    f"Got {value!r} instead."
                )
        if not isinstance(self.per_class, bool):
            raise LabelValidationError(f"The 'per_class' parameter of AutoAccept must be True or False. "
                                       f"Got {self.per_class!r}.")
        for name in ("min_accepted", "max_steps"):
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
                raise LabelValidationError(f"The '{name}' parameter of AutoAccept must be an integer >= 1. "
                                           f"Got {value!r}.")

    @staticmethod
    def _inputs(proba: ArrayLike, y: ArrayLike | None = None) -> tuple[NDArray[np.float64], NDArray[np.int64] | None]:
        P = np.asarray(proba, dtype=float)
        if P.ndim != 2 or P.shape[1] < 2 or not np.isfinite(P).all():
            raise LabelValidationError(
                f"AutoAccept needs class probabilities of shape (n_items, n_classes >= 2) with finite values "
                f"(e.g. model.predict_proba(X)). Got an array of shape {P.shape}."
            )
        if P.size and (P.min() < 0.0 or P.max() > 1.0 or not np.allclose(P.sum(axis=1), 1.0, atol=1e-3)):
            raise LabelValidationError(
                f"AutoAccept needs class probabilities in [0, 1] whose rows sum to 1 (predict_proba output); got "
                f"values in [{P.min():.3g}, {P.max():.3g}] and row sums in [{P.sum(axis=1).min():.3g}, "
                f"{P.sum(axis=1).max():.3g}]. Pass probabilities, not scores or logits (softmax them first)."
            )
        if y is None:
            return P, None
        Y = np.asarray(y)
        if Y.shape != (P.shape[0],) or not np.issubdtype(Y.dtype, np.integer):
            raise LabelValidationError(
                f"The gold labels for AutoAccept must be integer class indices, one per row of proba "
                f"({P.shape[0]}); -1 marks rows without gold. Got shape {Y.shape}, dtype {Y.dtype}."
            )
        if ((Y < -1) | (P.shape[1] <= Y)).any():
            raise LabelValidationError(f"The gold labels hold values outside -1..{P.shape[1] - 1}.")
        return P, Y.astype(np.int64)

    def _walk(self, conf: NDArray[np.float64], correct: NDArray[np.bool_]) -> tuple[float, float, float, list[Any]]:
        """Fixed-sequence test down the distinct confidences; returns (threshold, lower, precision, trace)."""
        order = np.argsort(-conf, kind="stable")
        c, ok = conf[order], correct[order]
        n_acc = np.arange(1, len(c) + 1)
        n_ok = np.cumsum(ok)
        last = np.r_[c[1:] != c[:-1], True]  # a threshold accepts every item at least as confident
        # The test order depends on the confidences only, never on which gold rows are right, so
        # the guarantee holds. It starts where the test has the most power if the model is
        # calibrated (the largest bound expected from the confidences themselves), among the
        # thresholds accepting enough rows to possibly reach the target (a perfect model needs
        # `needed` of them), and steps down a grid of lower thresholds from there.
        needed = int(np.ceil(np.log(1.0 - self.confidence) / np.log(self.target_precision)))
        cand = np.flatnonzero(last & (n_acc >= max(self.min_accepted, needed)))
        if len(cand):
            expected = clopper_pearson_lower(np.floor(np.cumsum(c)[cand]), n_acc[cand], float(self.confidence))
            cand = cand[int(np.argmax(expected)):]
        if len(cand) > self.max_steps:
            cand = cand[np.unique(np.linspace(0, len(cand) - 1, self.max_steps).round().astype(int))]
        lower = clopper_pearson_lower(n_ok[cand], n_acc[cand], float(self.confidence))
        trace: list[Any] = []
        chosen: tuple[float, float, float] = (np.inf, 0.0, float("nan"))
        for i, lb in zip(cand, lower, strict=True):
            trace.append({"threshold": float(c[i]), "n_accepted": int(n_acc[i]), "n_correct": int(n_ok[i]),
                          "lower_bound": float(lb)})
            if lb < self.target_precision:
                break  # the first hypothesis not rejected ends the sequence
            chosen = (float(c[i]), float(lb), float(n_ok[i] / n_acc[i]))
        return (*chosen, trace)

    def fit(self, proba: ArrayLike, y: ArrayLike) -> AutoAccept:
        """Choose the threshold on gold: ``proba`` (n, k) class probabilities, ``y`` gold (``-1`` unknown)."""
        self._check_params()
        P, Y = self._inputs(proba, y)
        assert Y is not None
        known = Y >= 0
        if not known.any():
            raise WorkbenchError("AutoAccept needs gold rows to choose a threshold; y holds none (all -1).")
        P, Y = P[known], Y[known]
        pred, conf = P.argmax(axis=1), P.max(axis=1)
        correct = pred == Y
        self.n_gold_ = len(Y)
        # with every accepted gold row correct, the bound is (1 - confidence) ** (1 / n)
        needed = int(np.ceil(np.log(1.0 - self.confidence) / np.log(self.target_precision)))
        trace: Any
        if self.per_class:
            thresholds: dict[int, float] = {}
            lowers: dict[int, float] = {}
            precisions: dict[int, float] = {}
            trace = {}
            for cls in range(P.shape[1]):
                mask = pred == cls
                t, lb, prec, tr = self._walk(conf[mask], correct[mask]) if mask.any() else (np.inf, 0.0, np.nan, [])
                thresholds[cls], lowers[cls], precisions[cls], trace[cls] = t, lb, prec, tr
            if all(np.isinf(t) for t in thresholds.values()):
                raise WorkbenchError(self._refusal(needed))
            self.threshold_: Any = thresholds
            self.precision_lower_: Any = lowers
            self.precision_: Any = precisions
            limits = np.array([thresholds[c] for c in range(P.shape[1])])
            accepted = conf >= limits[pred]
        else:
            t, lb, prec, trace = self._walk(conf, correct)
            if np.isinf(t):
                raise WorkbenchError(self._refusal(needed))
            self.threshold_, self.precision_lower_, self.precision_ = t, lb, prec
            accepted = conf >= t
        self.coverage_ = float(accepted.mean())
        self.n_classes_ = int(P.shape[1])
        self.report_ = {"target_precision": float(self.target_precision), "confidence": float(self.confidence),
                        "n_gold": self.n_gold_, "procedure": "fixed-sequence Clopper-Pearson (Learn-then-Test)",
                        "tried": trace}
        return self

    def _refusal(self, needed: int) -> str:
        return (
            f"The gold cannot support a precision of {self.target_precision:g} at confidence "
            f"{self.confidence:g}: no threshold's lower Clopper-Pearson bound reaches it on these {self.n_gold_} "
            f"gold rows. Even a perfect model needs at least {needed} accepted gold rows, all correct. Label more "
            f"gold, lower target_precision or confidence, or improve the model."
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError("This AutoAccept is not fitted yet: call fit(proba_gold, y_gold) first.")

    def accept(self, proba: ArrayLike) -> NDArray[np.bool_]:
        """Which rows of ``proba`` are auto-accepted (top-class probability at or above the threshold)."""
        self._check_fitted()
        P, _ = self._inputs(proba)
        if P.shape[1] != self.n_classes_:
            raise LabelValidationError(
                f"This AutoAccept was fitted on {self.n_classes_} classes, but proba has {P.shape[1]} columns. Pass "
                f"the same model's probabilities in the same class order, or fit the rule again on gold scored by "
                f"this model (e.g. after a schema change added a choice)."
            )
        pred, conf = P.argmax(axis=1), P.max(axis=1)
        if self.per_class:
            limits = np.array([self.threshold_.get(c, np.inf) for c in range(P.shape[1])])
            return np.asarray(conf >= limits[pred], dtype=bool)
        return np.asarray(conf >= self.threshold_, dtype=bool)

    def predict(self, proba: ArrayLike) -> NDArray[np.int64]:
        """The accepted class per row, ``-1`` where the draft goes to a person."""
        P, _ = self._inputs(proba)
        return np.where(self.accept(P), P.argmax(axis=1), -1).astype(np.int64)
