"""The WRENCH label matrices in ../shared/data: which folders, which metric, and a loader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

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
