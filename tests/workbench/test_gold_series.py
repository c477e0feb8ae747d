"""A gold Series passed to the LF summary or the label-model comparison: ids read as the project stores them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.lf import keywords


@pytest.fixture
def numbered(tmp_path: Path) -> tuple[wb.Project, pd.DataFrame]:
    n = 60
    df = pd.DataFrame({"id": np.arange(n), "text": ["buy now" if i % 2 else "nice song" for i in range(n)],
                       "label": ["spam" if i % 2 else "ham" for i in range(n)]})
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", choices=["ham", "spam"]))
    p.add_data(df[["id", "text"]], id_column="id")  # stored as "0", "1", ...
    p.lfs.add(keywords("buy", ["buy"], label=1))
    p.lfs.add(keywords("song", ["song"], label=0))
    yield p, df
    p.close()


@pytest.mark.parametrize("index", ["int", "float", "str"])
def test_a_gold_series_indexed_like_the_input_frame_is_used(numbered: tuple[wb.Project, pd.DataFrame],
                                                           index: str) -> None:
    p, df = numbered
    ids = {"int": df["id"], "float": df["id"].astype(float), "str": df["id"].astype(str)}[index]
    gold = pd.Series(df["label"].to_numpy(), index=ids)
    summary = p.lfs.summary(gold=gold)
    assert summary["n_gold"].tolist() == [30, 30] and summary["emp_acc"].tolist() == [1.0, 1.0]
    assert (p.models.compare(gold=gold)["n_gold"] == 60).all()


def test_gold_for_unknown_examples_is_refused_or_reported(numbered: tuple[wb.Project, pd.DataFrame]) -> None:
    p, df = numbered
    with pytest.raises(wb.DataError, match=r"None of the 60 ids of the gold Series is an example.*df.set_index"):
        p.lfs.summary(gold=pd.Series(df["label"].to_numpy(), index=[f"x{i}" for i in range(60)]))
    partly = pd.Series(["spam", "ham"], index=[1, 999])
    with pytest.warns(UserWarning, match=r"1 of the 2 gold labels name examples this project does not have.*'999'"):
        summary = p.lfs.summary(gold=partly)
    assert summary["n_gold"].sum() == 1
    with pytest.raises(wb.DataError, match="names some examples twice"):
        p.lfs.summary(gold=pd.Series(["spam", "ham"], index=[1, 1.0]))


def test_float_ids_and_labels_from_a_column_with_gaps_read_as_integers(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "rte", schema=wb.Schema.single("rte", ["0", "1"]), text_column=None)
    p.add_data(pd.DataFrame({"id": [1, 2, 3, 4], "x": ["a", "b", "c", "d"]}), id_column="id")
    assert p.add_gold(pd.DataFrame({"id": [1, 2, 3, 4], "label": [0, 1, np.nan, 1]})) == 3  # a float column
    assert p.add_gold(pd.DataFrame({"id": [1.0, 2.0], "label": ["0", "1"]})) == 2  # the same labels again
    assert p.gold().to_dict() == {"1": "0", "2": "1", "4": "1"}
    p.annotate_many(pd.DataFrame({"example_id": [3.0, 4.0], "annotator": ["a", "a"], "value": ["0", "1"]}))
    assert sorted(p.labels(source="human")["example_id"]) == ["3", "4"]
    with pytest.raises(wb.UnknownExampleError):
        p.annotate_many(pd.DataFrame({"example_id": [5.0], "annotator": ["a"], "value": ["0"]}))
    p.close()
