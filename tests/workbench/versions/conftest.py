"""Fixtures for label-version tests: a real project and a soft-labels frame."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.versions import LabelVersionStore

QUESTIONS = {"spam": ["ham", "spam"]}


def _make_soft(n: int = 20, seed: int = 0, prefix: str = "c-") -> pd.DataFrame:
    """A valid binary soft-labels frame; the last two rows have no signal."""
    rng = np.random.default_rng(seed)
    p_spam = rng.uniform(0, 1, size=n).round(6)
    label = np.where(p_spam >= 0.5, "spam", "ham").astype(object)
    sources = rng.choice(["lf", "lf+human", "human"], size=n).astype(object)
    df = pd.DataFrame(
        {
            "id": [f"{prefix}{i:03d}" for i in range(n)],
            "p_ham": 1.0 - p_spam,
            "p_spam": p_spam,
            "label": label,
            "confidence": np.maximum(p_spam, 1.0 - p_spam),
            "weight": np.ones(n),
            "sources": sources,
        }
    )
    if n >= 3:
        df.loc[n - 2 :, ["p_ham", "p_spam", "confidence"]] = np.nan
        df.loc[n - 2 :, "label"] = None
        df.loc[n - 2 :, "sources"] = ""
        df.loc[n - 2 :, "weight"] = 0.0
    return df


@pytest.fixture
def lv_project(tmp_path: Path) -> Iterator[wb.Project]:
    p = wb.Project.create(tmp_path / "proj", schema=wb.Schema.single("spam", ["ham", "spam"]))
    yield p
    p.close()


@pytest.fixture
def versions(lv_project: wb.Project) -> LabelVersionStore:
    return lv_project.versions.store


@pytest.fixture
def make_soft() -> Callable[..., pd.DataFrame]:
    """``make_soft(n=20, seed=0, prefix="c-")``: a valid binary soft-labels frame."""
    return _make_soft


@pytest.fixture
def soft() -> pd.DataFrame:
    return _make_soft()
