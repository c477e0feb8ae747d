"""Simulated label matrices for the label-model tests (a uniquely named module, not conftest)."""

from __future__ import annotations

import numpy as np


def simulate_label_matrix(
    n: int,
    accuracies: np.ndarray,
    coverages: np.ndarray,
    *,
    prior: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Conditionally independent LFs: LF j fires with prob. coverages[j] and, when it fires,
    votes the true class with prob. accuracies[j], else a uniformly drawn wrong class."""
    rng = np.random.default_rng(seed)
    k = 2 if prior is None else len(prior)
    prior = np.full(k, 1.0 / k) if prior is None else np.asarray(prior)
    y = rng.choice(k, size=n, p=prior)
    m = len(accuracies)
    L = np.full((n, m), -1, dtype=np.int8)
    for j in range(m):
        fire = rng.random(n) < coverages[j]
        correct = rng.random(n) < accuracies[j]
        wrong = (y + rng.integers(1, k, size=n)) % k
        vote = np.where(correct, y, wrong)
        L[fire, j] = vote[fire]
    return L, y
