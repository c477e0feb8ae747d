"""Shared fixtures of the active-learning tests: a fresh feature cache per test, the YouTube comments."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench.active._features import clear_feature_cache
from workbench.datasets import load_youtube_spam


@pytest.fixture(autouse=True)
def _fresh_feature_cache() -> None:
    """Every test starts with an empty in-memory feature cache (a new kernel)."""
    clear_feature_cache()


@pytest.fixture(scope="module")
def youtube_comments(data_dir: Path) -> pd.DataFrame:
    """The YouTube spam comments: id, text, label."""
    return load_youtube_spam(data_dir)[["id", "text", "label"]]
