"""Ingest is atomic across processes, round trips are no-ops, and bad inputs are refused before writing."""

from __future__ import annotations

import math
import multiprocessing as mp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb


def _frame(lo: int, hi: int) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"e{i}" for i in range(lo, hi)], "text": [f"text {i}" for i in range(lo, hi)]})


def _add(path: str, lo: int, hi: int, start: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    with wb.Project.open(path) as p:
        p.add_data(_frame(lo, hi), id_column="id")


@pytest.mark.slow
def test_concurrent_overlapping_ingest_stores_each_id_once(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    for round_ in range(3):
        path = tmp_path / f"p{round_}"
        wb.Project.create(path, schema=wb.Schema.single("spam", ["ham", "spam"])).close()
        start = ctx.Event()
        procs = [ctx.Process(target=_add, args=(str(path), 0, 4000, start)),
                 ctx.Process(target=_add, args=(str(path), 2000, 6000, start))]
        for proc in procs:
            proc.start()
        start.set()
        for proc in procs:
            proc.join(120)
            assert proc.exitcode == 0
        with wb.Project.open(path) as p:
            ex = p.examples()
            assert len(ex) == 6000 and ex.index.is_unique
            assert p.data_versions()["n_rows"].sum() == 6000
            assert p.verify()["examples_checked"] == 6000
            p.annotate("e3000", "spam", annotator="ann")  # the overlap is usable, not corrupted
            assert p.example("e3000")["text"] == "text 3000"


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".jsonl", ".json"])
def test_round_trips_are_recognised_as_unchanged(tmp_path: Path, suffix: str) -> None:
    df = pd.DataFrame({
        "id": [1, 2, 3, 4],
        "text": ["a, with comma", "b \"quoted\"", None, "ünïcode"],
        "likes": [3, 0, 7, -2],
        "score": [0.5, np.nan, 1e20, 3.0],
        "ok": [True, False, True, False],
    })
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    first = p.add_data(df, id_column="id")
    f = tmp_path / f"again{suffix}"
    if suffix in (".csv", ".tsv"):
        df.to_csv(f, index=False, sep="\t" if suffix == ".tsv" else ",")
    elif suffix == ".parquet":
        df.to_parquet(f, index=False)
    else:
        df.to_json(f, orient="records", lines=suffix == ".jsonl")
    again = p.add_data(f, id_column="id")
    assert again.version == first.version
    assert len(p.data_versions()) == 1
    # a real change is still a conflict
    df.loc[0, "likes"] = 4
    with pytest.raises(wb.ConflictingContentError):
        p.add_data(df, id_column="id")


def test_older_projects_keep_their_hash_scheme(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p._store.set_meta("row_hash_scheme", None)  # what a project made before the text scheme holds
    p.add_data(pd.DataFrame({"id": ["a"], "text": ["x"], "n": [1]}), id_column="id")
    assert p.verify()["examples_checked"] == 1


@pytest.fixture
def spam(tmp_path: Path) -> wb.Project:
    p = wb.Project.create(tmp_path / "s", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"]}), id_column="id")
    return p


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"created_at": "05/01/2024 10:00"}, "not an ISO-8601 time"),
        ({"created_at": 17}, "ISO-8601 string or a datetime"),
        ({"time_spent": math.inf}, "finite number of seconds"),
        ({"time_spent": -1.0}, "finite number of seconds"),
        ({"note": 42}, "'note' parameter .* must be a string"),
        ({"confidence": 1.5}, r"number in \[0, 1\]"),
        ({"event_uid": 7}, "'event_uid' parameter"),
    ],
)
def test_bad_inputs_are_refused_before_anything_is_written(spam: wb.Project, record: dict, message: str) -> None:
    rows = [{"example_id": "a", "value": "spam", "annotator": "ann"},
            {"example_id": "b", "value": "ham", "annotator": "ann", **record}]
    with pytest.raises(wb.LabelValidationError, match=message):
        spam.annotate_many(rows)
    assert spam.events().empty
    # every downstream reader keeps working
    assert spam.quality.consensus().empty


def test_timestamps_are_stored_in_utc(spam: wb.Project) -> None:
    spam.annotation.import_annotations(pd.DataFrame({
        "id": ["a", "b"], "annotator": ["x", "y"], "value": ["spam", "ham"],
        "created_at": ["2024-05-01T12:00:00+02:00", pd.Timestamp("2024-05-01 10:00")],
    }))
    stamps = spam.events()["created_at"].tolist()
    assert stamps == ["2024-05-01T10:00:00.000000+00:00", "2024-05-01T10:00:00.000000+00:00"]
    assert len(spam.quality.annotator_report()) == 2


def test_non_finite_time_spent_through_annotate(spam: wb.Project) -> None:
    with pytest.raises(wb.LabelValidationError, match="finite"):
        spam.annotate("a", "spam", annotator="ann", time_spent=float("nan"))
    with pytest.raises(wb.LabelValidationError, match="must be a string"):
        spam.annotate("a", "spam", annotator="ann", note={"why": "x"})  # type: ignore[arg-type]
    assert spam.events().empty


@pytest.mark.parametrize(("content", "lines"), [
    ("id,text,likes\na,one,1\nb,two\nc,three,3\n", "line 3 has 2"),
    ("id,text\na,one\nb,two,extra\n", "line 3 has 3"),
])
def test_ragged_csv_rows_are_refused_with_their_line_numbers(tmp_path: Path, content: str, lines: str) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    f = tmp_path / "ragged.csv"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(wb.DataError, match=lines):
        p.add_data(f, id_column="id")
    assert p.data_versions().empty
    # a quoted separator is not a ragged row
    f.write_text('id,text\na,"one, two"\n', encoding="utf-8")
    assert p.add_data(f, id_column="id").n_rows == 1
