"""Shared fixtures for the quality tests: real Snow et al. (2008) crowd data and synthetic crowds."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    return Path(os.environ.get("WORKBENCH_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


def load_snow(task: str) -> tuple[pd.DataFrame, pd.Series]:
    """Snow et al. 2008 crowd labels as (annotations, gold); ids read as strings."""
    path = data_dir() / "snow2008_rte_temporal" / f"{task}.standardized.tsv"
    if not path.exists():
        pytest.skip(f"real crowd data not found at {path}; set WORKBENCH_DATA_DIR")
    df = pd.read_csv(path, sep="\t", dtype={"orig_id": str, "!amt_worker_ids": str})
    ann = df.rename(columns={"orig_id": "example_id", "!amt_worker_ids": "annotator", "response": "value"})[
        ["example_id", "annotator", "value"]
    ]
    gold = df.groupby("orig_id")["gold"].first()
    gold.index.name = "example_id"
    return ann, gold


@pytest.fixture(scope="session")
def rte() -> tuple[pd.DataFrame, pd.Series]:
    return load_snow("rte")


@pytest.fixture(scope="session")
def temporal() -> tuple[pd.DataFrame, pd.Series]:
    return load_snow("temp")


def synthetic_crowd(
    seed: int,
    n_items: int = 300,
    n_annotators: int = 8,
    per_item: int = 3,
    n_labels: int = 3,
    accuracies: list[float] | None = None,
) -> tuple[pd.DataFrame, pd.Series, dict[str, float]]:
    """A seeded crowd: each annotator is right with their accuracy, else picks a wrong label."""
    rng = np.random.default_rng(seed)
    if accuracies is None:
        accuracies = list(rng.uniform(0.55, 0.95, size=n_annotators))
    names = [f"w{i:02d}" for i in range(n_annotators)]
    truth = rng.integers(0, n_labels, size=n_items)
    rows = []
    for i in range(n_items):
        for a in rng.choice(n_annotators, size=per_item, replace=False):
            if rng.random() < accuracies[a]:
                v = truth[i]
            else:
                v = (truth[i] + rng.integers(1, n_labels)) % n_labels
            rows.append((f"ex{i:05d}", names[a], int(v)))
    ann = pd.DataFrame(rows, columns=["example_id", "annotator", "value"])
    gold = pd.Series(truth, index=pd.Index([f"ex{i:05d}" for i in range(n_items)], name="example_id"))
    return ann, gold, dict(zip(names, accuracies, strict=True))


@pytest.fixture(scope="session")
def make_crowd():  # type: ignore[no-untyped-def]
    """The :func:`synthetic_crowd` factory, as a fixture (robust to pytest's import modes)."""
    return synthetic_crowd


@pytest.fixture(scope="session")
def snow():  # type: ignore[no-untyped-def]
    """The :func:`load_snow` loader, as a fixture."""
    return load_snow


TIMELINE_START = pd.Timestamp("2026-01-05 09:00", tz="UTC")
WEEK = pd.Timedelta(days=7)


def honeypot_timeline(
    seed: int, accuracy: np.ndarray, per_window: int, window: pd.Timedelta = WEEK
) -> tuple[pd.DataFrame, pd.Series]:
    """Seeded honeypot answers: annotator ``a`` answers ``per_window`` gold items in window ``w``.

    ``accuracy[a, w]`` is the true probability that the answer is right (binary labels,
    gold always "yes"). Annotators are named ``w00``, ``w01`` ...; answers are spread over
    the first hours of each window, which starts at :data:`TIMELINE_START` + w * window.
    """
    rng = np.random.default_rng(seed)
    n_ann, n_win = accuracy.shape
    a = np.repeat(np.arange(n_ann), n_win * per_window)
    w = np.tile(np.repeat(np.arange(n_win), per_window), n_ann)
    j = np.tile(np.arange(per_window), n_ann * n_win)
    right = rng.random(len(a)) < accuracy[a, w]
    names = np.array([f"w{i:02d}" for i in range(n_ann)], dtype=object)
    ids = np.array([f"{names[x]}-{y}-{z}" for x, y, z in zip(a, w, j, strict=True)], dtype=object)
    ann = pd.DataFrame(
        {
            "example_id": ids,
            "annotator": names[a],
            "value": np.where(right, "yes", "no").astype(object),
            "created_at": TIMELINE_START + pd.to_timedelta(w * window.value + (j % 48) * 3_600_000_000_000, unit="ns"),
        }
    )
    return ann, pd.Series("yes", index=pd.Index(ids, name="example_id"))


@pytest.fixture(scope="session")
def make_timeline():  # type: ignore[no-untyped-def]
    """The :func:`honeypot_timeline` factory, as a fixture."""
    return honeypot_timeline
