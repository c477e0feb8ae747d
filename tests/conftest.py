"""Shared fixtures: real-data location, fresh projects."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb

REPO = Path(__file__).resolve().parents[1]


def _data_dir() -> Path | None:
    env = os.environ.get("WORKBENCH_DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real datasets (../shared/data or $WORKBENCH_DATA_DIR); skips when absent, fails in CI."""
    found = _data_dir()
    if found is None:
        if os.environ.get("WORKBENCH_REQUIRE_DATA"):
            pytest.fail("WORKBENCH_REQUIRE_DATA is set but no dataset directory was found.")
        pytest.skip("real datasets not found: set WORKBENCH_DATA_DIR to the shared/data folder")
    return found


@pytest.fixture
def spam_schema() -> wb.Schema:
    return wb.Schema.single("spam", choices=["ham", "spam"], guidelines="Spam advertises; ham does not.")


@pytest.fixture
def seatbelt_schema() -> wb.Schema:
    return wb.Schema(
        "seatbelts",
        questions=[
            wb.Question("person", choices=["yes", "no"]),
            wb.Question("seatbelt", choices=["yes", "no", "unsure"], when={"person": "yes"}),
        ],
        guidelines="Is a person in frame? If so, do they wear a seatbelt?",
    )


@pytest.fixture
def comments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"c-{i}" for i in range(1, 7)],
            "text": [
                "check out my channel",
                "love this song",
                "subscribe please http://x.y",
                "",
                None,
                "great video",
            ],
        }
    )


@pytest.fixture
def project(tmp_path: Path, spam_schema: wb.Schema, comments: pd.DataFrame) -> wb.Project:
    p = wb.Project.create(tmp_path / "spam", schema=spam_schema)
    p.add_data(comments, id_column="id")
    yield p
    p.close()
