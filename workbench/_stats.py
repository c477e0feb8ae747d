"""Small statistics helpers shared by LF analysis, label-model evaluation and quality checks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["sha256_file", "wilson_interval"]


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, confidence: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for a binomial proportion, vectorized.

    Parameters
    ----------
    successes, trials : array-like of int
        Counts of successes and of trials; where ``trials`` is 0 both bounds are NaN.
    confidence : float, default 0.95
        Two-sided confidence level, strictly between 0 and 1.

    Returns
    -------
    (low, high) : tuple of ndarray
        Lower and upper bounds, in [0, 1].

    Examples
    --------
    >>> low, high = wilson_interval([8], [10])
    >>> round(float(low[0]), 3), round(float(high[0]), 3)
    (0.49, 0.943)
    """
    from scipy.stats import norm

    if not 0.0 < confidence < 1.0:
        raise ValueError(
            f"The 'confidence' parameter of wilson_interval must be strictly between 0 and 1. "
            f"Got {confidence!r} instead."
        )
    k = np.atleast_1d(np.asarray(successes, dtype=np.float64))
    n = np.atleast_1d(np.asarray(trials, dtype=np.float64))
    if np.any(k < 0) or np.any(n < 0) or np.any(k > n):
        raise ValueError("wilson_interval needs 0 <= successes <= trials for every entry.")
    z = float(norm.ppf(0.5 + confidence / 2.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2.0 * n)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
        low = np.clip(centre - half, 0.0, 1.0)
        high = np.clip(centre + half, 0.0, 1.0)
    low[n == 0] = np.nan
    high[n == 0] = np.nan
    return low, high
