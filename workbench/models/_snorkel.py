"""A thin, contract-following wrapper around Snorkel's ``LabelModel``.

Snorkel (and torch) are imported only inside :meth:`SnorkelLabelModel.fit`, so the rest of
the workbench works without the ``snorkel`` extra. Snorkel draws its default seed once at
import time and reseeds the global ``random``/``numpy``/``torch`` generators in ``fit``;
this wrapper passes an explicit seed derived from ``random_state`` and restores the global
generator states afterwards.

Prediction does not need Snorkel: the fitted parameters (``mu_``, ``class_prior_``) are
kept as numpy arrays and ``predict_proba`` applies Snorkel's formula
``P(y | votes) ∝ p_y * prod_j mu[j*k + vote_j, y]`` (abstains omitted) on sparse one-hot
blocks, so a model restored with :meth:`from_dict` predicts without torch.
"""

from __future__ import annotations

import importlib
import numbers
import random
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from workbench.exceptions import LFError, OptionalDependencyError
from workbench.models._base import LabelModel, one_hot_blocks
from workbench.models._majority import _check_prior_param

__all__ = ["SnorkelLabelModel"]

_MIN_PROB = 1e-12
#: Snorkel's tie tolerance (``snorkel.utils.probs_to_preds(tol=1e-5)``).
SNORKEL_TIE_TOLERANCE = 1e-5


def _import_snorkel_label_model() -> Any:
    try:
        module = importlib.import_module("snorkel.labeling.model")
    except ImportError as exc:
        raise OptionalDependencyError(
            "SnorkelLabelModel needs the 'snorkel' package, which is not installed. "
            "Install the extra with `pip install 'labeling-workbench[snorkel]'` (or "
            "`pip install snorkel`), or use DawidSkene, which needs no extra."
        ) from exc
    return module.LabelModel


class SnorkelLabelModel(LabelModel):
    """Snorkel's matrix-completion ``LabelModel`` behind the workbench contract.

    Parameters
    ----------
    cardinality : int, optional
        Number of classes; inferred from the votes (and gold) when None.
    n_epochs : int, default 100
    lr : float, default 0.01
    l2 : float, default 0.0
    optimizer : {"sgd", "adam", "adamax"}, default "sgd"
    prec_init : float, default 0.7
        Snorkel's initial LF precision.
    class_prior : "uniform" or array-like, default "uniform"
        Snorkel's ``class_balance``. With ``"uniform"`` and gold ``y`` given to ``fit``,
        the balance is estimated from the known gold labels (Laplace-smoothed); Snorkel
        has no other use for partial gold.
    random_state : int or None
        Seed passed to Snorkel's ``fit``; None draws one from fresh entropy.

    Attributes
    ----------
    mu_ : ndarray of shape (n_lfs * k, k)
        ``P(LF j votes c | y)`` at row ``j*k + c``, column ``y``.
    class_prior_ : ndarray of shape (k,)
    seed_ : int
        The seed Snorkel was fitted with.

    Notes
    -----
    Rows without any vote get the class prior ``class_prior_`` (uniform by default), as in
    Snorkel. Snorkel needs at least 3 labeling functions. As in Snorkel's ``predict``, class
    probabilities within 1e-5 of each other are ties (``tie_break`` decides them).
    """

    mu_: NDArray[np.float64]
    seed_: int
    #: Snorkel's ``probs_to_preds`` tolerance: class probabilities within 1e-5 are ties.
    _tie_tolerance: ClassVar[float] = SNORKEL_TIE_TOLERANCE

    def __init__(
        self,
        cardinality: int | None = None,
        n_epochs: int = 100,
        lr: float = 0.01,
        l2: float = 0.0,
        optimizer: str = "sgd",
        prec_init: float = 0.7,
        class_prior: str | ArrayLike = "uniform",
        random_state: int | None = None,
    ) -> None:
        self.cardinality = cardinality
        self.n_epochs = n_epochs
        self.lr = lr
        self.l2 = l2
        self.optimizer = optimizer
        self.prec_init = prec_init
        self.class_prior = class_prior
        self.random_state = random_state

    def _fit(self, L: NDArray[np.integer[Any]], cardinality: int, y: NDArray[np.int64] | None) -> None:
        name = type(self).__name__
        ne = self.n_epochs
        if isinstance(ne, bool) or not isinstance(ne, numbers.Integral) or ne < 1:
            raise ValueError(f"The 'n_epochs' parameter of {name} must be an int >= 1. Got {ne!r} instead.")
        if isinstance(self.class_prior, str) and self.class_prior != "uniform":
            raise ValueError(
                f"The 'class_prior' parameter of {name} must be 'uniform' or an array of "
                f"{cardinality} positive probabilities. Got {self.class_prior!r} instead."
            )
        prior = _check_prior_param(self.class_prior, name, cardinality)
        if L.shape[1] < 3:
            raise LFError(
                f"{name} needs at least 3 labeling functions (Snorkel's requirement). "
                f"Got a label matrix with {L.shape[1]} column(s); use DawidSkene or "
                "MajorityVote instead."
            )
        if isinstance(prior, np.ndarray):
            balance = prior / prior.sum()
        elif y is not None:
            counts = np.bincount(y[y >= 0], minlength=cardinality) + 1.0
            balance = counts / counts.sum()
        else:
            balance = np.full(cardinality, 1.0 / cardinality)

        SnorkelLM = _import_snorkel_label_model()
        import torch

        if self.random_state is None:
            seed = int(np.random.default_rng().integers(2**31 - 1))
        else:
            seed = int(self.random_state)
        py_state = random.getstate()
        np_state = np.random.get_state()
        torch_state = torch.get_rng_state()
        n_threads = torch.get_num_threads()
        # Snorkel's matrices are small: one thread is as fast, and several threads spinning
        # against other busy processes on a shared machine slow a fit down by 100x or more
        torch.set_num_threads(1)
        try:
            lm = SnorkelLM(cardinality=cardinality, verbose=False)
            lm.fit(
                np.asarray(L, dtype=np.int64),
                class_balance=list(map(float, balance)),
                progress_bar=False,
                n_epochs=int(self.n_epochs),
                lr=float(self.lr),
                l2=float(self.l2),
                optimizer=self.optimizer,
                prec_init=self.prec_init,
                seed=seed,
            )
        finally:
            torch.set_num_threads(n_threads)
            random.setstate(py_state)
            np.random.set_state(np_state)
            torch.set_rng_state(torch_state)
        mu = lm.mu.detach().cpu().numpy().astype(np.float64)
        self.mu_ = mu
        self.class_prior_ = np.asarray(lm.p, dtype=np.float64)
        self.seed_ = seed

    def _predict_proba(self, L: NDArray[np.integer[Any]]) -> NDArray[np.float64]:
        k = self.cardinality_
        log_mu = np.log(np.clip(self.mu_, _MIN_PROB, None)).astype(np.float32)
        log_p = np.log(self.class_prior_)
        out = np.empty((L.shape[0], k), dtype=np.float64)
        for start, stop, X in one_hot_blocks(L, k):
            S = np.asarray(X @ log_mu, dtype=np.float64)
            S += log_p
            S -= S.max(axis=1, keepdims=True)
            np.exp(S, out=S)
            S /= S.sum(axis=1, keepdims=True)
            out[start:stop] = S
        return out

    def _fitted_state(self) -> dict[str, Any]:
        return {"class_prior_": self.class_prior_, "mu_": self.mu_, "seed_": self.seed_}

    def _load_fitted_state(self, state: dict[str, Any]) -> None:
        self.class_prior_ = np.asarray(state["class_prior_"], dtype=np.float64)
        self.mu_ = np.asarray(state["mu_"], dtype=np.float64)
        self.seed_ = int(state["seed_"])
