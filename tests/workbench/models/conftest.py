"""Fixtures for the label-model tests: simulated label matrices and the WRENCH datasets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from label_sim import simulate_label_matrix


@pytest.fixture
def simulated() -> tuple[np.ndarray, np.ndarray]:
    acc = np.array([0.9, 0.85, 0.8, 0.75, 0.7, 0.65])
    cov = np.array([0.5, 0.6, 0.4, 0.7, 0.5, 0.6])
    return simulate_label_matrix(3000, acc, cov, seed=7)


#: WRENCH folders (``wrench_<name>``) and the metric WRENCH reports: accuracy, or F1 of class 1.
WRENCH_DATASETS = {
    "youtube": "accuracy",
    "yelp": "accuracy",
    "imdb": "accuracy",
    "basketball": "f1",
    "commercial": "f1",
    "tennis": "f1",
    "semeval": "accuracy",
}


def load_wrench_split(data_dir: Path, split: str, name: str = "youtube") -> tuple[np.ndarray, np.ndarray]:
    """Votes (int8, -1 = abstain) and gold of ``data_dir/wrench_<name>/<split>.json``."""
    raw = json.loads((data_dir / f"wrench_{name}" / f"{split}.json").read_text(encoding="utf-8"))
    L = np.array([row["weak_labels"] for row in raw.values()], dtype=np.int8)
    y = np.array([row["label"] for row in raw.values()], dtype=np.int64)
    return L, y


@pytest.fixture(scope="session")
def wrench_youtube(data_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if not (data_dir / "wrench_youtube" / "train.json").is_file():
        pytest.skip(f"wrench_youtube not found under {data_dir}")
    return {s: load_wrench_split(data_dir, s) for s in ("train", "valid", "test")}
