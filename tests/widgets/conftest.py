"""Fixtures for the headless widget tests: a small synthetic project with awkward texts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb

pytest.importorskip("ipywidgets", reason="the Jupyter widgets need ipywidgets: pip install labeling-workbench[jupyter]")
pytest.importorskip("altair", reason="the Jupyter widgets need altair: pip install labeling-workbench[jupyter]")

HAM, SPAM = 0, 1  # label ids of the fixtures' ["ham", "spam"] schema

TEXTS = [
    ("t-01", "check out my channel http://spam.example", "spam"),
    ("t-02", "I love this song", "ham"),
    ("t-03", "subscribe to my channel please", "spam"),
    ("t-04", "<script>alert('pwned')</script> check out my page", "spam"),
    ("t-05", "my favourite song of all time", "ham"),
    ("t-06", None, "ham"),
    ("t-07", "free gift cards at http://x.example", "spam"),
    ("t-08", "this song reminds me of my childhood", "ham"),
    ("t-09", "please subscribe & like <b>now</b>", "spam"),
    ("t-10", "great video", "ham"),
]


@pytest.fixture
def small_data() -> pd.DataFrame:
    return pd.DataFrame(TEXTS, columns=["id", "text", "label"])


@pytest.fixture
def small_project(tmp_path: Path, small_data: pd.DataFrame) -> Iterator[wb.Project]:
    """Ten comments (one None, one with a <script> tag); gold stays out of the data."""
    project = wb.Project.create(tmp_path / "small", schema=wb.Schema.single("spam", ["ham", "spam"]))
    project.add_data(small_data[["id", "text"]], id_column="id")
    yield project
    project.close()


@pytest.fixture
def small_gold(small_data: pd.DataFrame) -> pd.Series:
    return small_data.set_index("id")["label"]
