"""Fixtures for the label-model tests: simulated label matrices and the WRENCH youtube data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


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


@pytest.fixture
def simulated() -> tuple[np.ndarray, np.ndarray]:
    acc = np.array([0.9, 0.85, 0.8, 0.75, 0.7, 0.65])
    cov = np.array([0.5, 0.6, 0.4, 0.7, 0.5, 0.6])
    return simulate_label_matrix(3000, acc, cov, seed=7)


def load_wrench_split(data_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    raw = json.loads((data_dir / "wrench_youtube" / f"{split}.json").read_text(encoding="utf-8"))
    L = np.array([row["weak_labels"] for row in raw.values()], dtype=np.int8)
    y = np.array([row["label"] for row in raw.values()], dtype=np.int64)
    return L, y


@pytest.fixture(scope="session")
def wrench_youtube(data_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if not (data_dir / "wrench_youtube" / "train.json").is_file():
        pytest.skip(f"wrench_youtube not found under {data_dir}")
    return {s: load_wrench_split(data_dir, s) for s in ("train", "valid", "test")}
