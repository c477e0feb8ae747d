"""The WRENCH label matrices of ../shared/data, through the workbench's own loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.datasets import WRENCH_DATASETS, load_wrench

__all__ = ["WRENCH_DATASETS", "load_wrench_split"]


def load_wrench_split(data_dir: Path, split: str, name: str = "youtube") -> tuple[np.ndarray, np.ndarray]:
    """Votes (int8, -1 = abstain) and gold of ``data_dir/wrench_<name>/<split>.json``."""
    return load_wrench(name, split, path=data_dir)
