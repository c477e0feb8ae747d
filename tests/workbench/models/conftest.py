"""Fixtures for the label-model tests: simulated label matrices and the WRENCH datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from label_sim import simulate_label_matrix

from workbench.datasets import load_wrench


@pytest.fixture
def simulated() -> tuple[np.ndarray, np.ndarray]:
    acc = np.array([0.9, 0.85, 0.8, 0.75, 0.7, 0.65])
    cov = np.array([0.5, 0.6, 0.4, 0.7, 0.5, 0.6])
    return simulate_label_matrix(3000, acc, cov, seed=7)


@pytest.fixture(scope="session")
def wrench_youtube(data_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if not (data_dir / "wrench_youtube" / "train.json").is_file():
        pytest.skip(f"wrench_youtube not found under {data_dir}")
    return {s: load_wrench("youtube", s, path=data_dir) for s in ("train", "valid", "test")}
