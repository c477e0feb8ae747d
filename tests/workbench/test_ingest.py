from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.data import read_table


def test_dataframe_ingest_creates_an_immutable_version(project: wb.Project, comments: pd.DataFrame) -> None:
    versions = project.data_versions()
    assert versions["version"].tolist() == ["d1"]
    ex = project.examples()
    assert ex.index.name == "id"
    assert ex.index.tolist() == comments["id"].tolist()
    assert (project.path / versions["file"].iloc[0]).is_file()
    # the input frame was not modified
    assert "id" in comments.columns


def test_empty_nan_and_long_texts_are_kept_deliberately(project: wb.Project) -> None:
    ex = project.examples()
    assert ex.loc["c-4", "text"] == ""  # empty stays empty
    assert ex.loc["c-5", "text"] is None or pd.isna(ex.loc["c-5", "text"])  # missing stays missing, not "nan"
    long_text = "x" * 2_000_000 + "\ufeff"
    project.add_data(pd.DataFrame({"id": ["long"], "text": [long_text]}), id_column="id")
    assert project.examples().loc["long", "text"] == long_text


def test_new_batch_is_a_new_version_and_repeats_are_skipped(project: wb.Project, comments: pd.DataFrame) -> None:
    more = pd.concat([comments.head(2), pd.DataFrame({"id": ["c-7"], "text": ["new"]})])
    v = project.add_data(more, id_column="id", message="tomorrow's log")
    assert (v.version, v.n_rows, v.n_existing, v.message) == ("d2", 1, 2, "tomorrow's log")
    assert len(project) == 7
    assert project.examples(data_version="d2").index.tolist() == ["c-7"]
    # identical re-ingest: nothing new, no new version
    again = project.add_data(comments, id_column="id")
    assert again.version == "d1"
    assert project.data_versions()["version"].tolist() == ["d1", "d2"]


def test_duplicate_ids_in_a_batch_are_named(project: wb.Project) -> None:
    df = pd.DataFrame({"id": ["a", "b", "a", "c", "c"], "text": ["1", "2", "3", "4", "5"]})
    with pytest.raises(wb.DuplicateIdError, match=r"2 id\(s\) occur more than once.*'a', 'c'") as info:
        project.add_data(df, id_column="id")
    assert info.value.ids == ["a", "c"]
    assert len(project) == 6  # nothing written


def test_changed_content_for_a_stored_id_is_rejected(project: wb.Project) -> None:
    before = project.events()
    df = pd.DataFrame({"id": ["c-1", "c-2", "z"], "text": ["CHANGED", "love this song", "new"]})
    with pytest.raises(wb.ConflictingContentError, match="'c-1'") as info:
        project.add_data(df, id_column="id")
    assert info.value.ids == ["c-1"]
    assert "z" not in project.examples().index  # all or nothing
    assert len(project.events()) == len(before)


def test_derived_ids_are_stable(tmp_path: Path, spam_schema: wb.Schema) -> None:
    df = pd.DataFrame({"text": ["a", "b", "c"], "n": [1, 2, 3]})
    p1 = wb.Project.create(tmp_path / "p1", schema=spam_schema)
    p1.add_data(df)
    p2 = wb.Project.create(tmp_path / "p2", schema=spam_schema)
    p2.add_data(df[["n", "text"]].iloc[::-1])  # column and row order do not matter
    assert sorted(p1.examples().index) == sorted(p2.examples().index)
    assert all(i.startswith("ex-") for i in p1.examples().index)
    with pytest.raises(wb.DuplicateIdError, match="identical content"):
        p1.add_data(pd.DataFrame({"text": ["dup", "dup"]}))


def test_integer_ids_become_strings(tmp_path: Path, spam_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "p", schema=spam_schema)
    p.add_data(pd.DataFrame({"id": [17, 18], "text": ["a", "b"]}), id_column="id")
    assert p.examples().index.tolist() == ["17", "18"]
    p.annotate("17", "spam", annotator="bob")
    with pytest.raises(wb.UnknownExampleError, match=r"Write str\(17\)"):
        p.annotate(17, "spam", annotator="bob")  # type: ignore[arg-type]


def test_csv_parquet_jsonl_inputs(tmp_path: Path, spam_schema: wb.Schema) -> None:
    df = pd.DataFrame({"id": ["a", "b", "c"], "text": ["NA", "", "héllo \ufeff"]})
    csv = tmp_path / "x.csv"
    df.to_csv(csv, index=False)
    pq = tmp_path / "x.parquet"
    df.assign(id=["d", "e", "f"]).to_parquet(pq, index=False)
    jl = tmp_path / "x.jsonl"
    jl.write_text(
        "\n".join(json.dumps({"id": i, "text": t}) for i, t in zip(["g", "h"], ["one", None], strict=True)) + "\n\n",
        encoding="utf-8",
    )
    p = wb.Project.create(tmp_path / "p", schema=spam_schema)
    assert p.add_data(csv, id_column="id").n_rows == 3
    assert p.add_data(pq, id_column="id").n_rows == 3
    assert p.add_data(str(jl), id_column="id").n_rows == 2
    ex = p.examples()
    assert ex.loc["a", "text"] == "NA"  # the string "NA" is text, not missing
    assert pd.isna(ex.loc["b", "text"])  # an empty CSV cell is missing
    assert ex.loc["c", "text"] == "héllo \ufeff"
    assert pd.isna(ex.loc["h", "text"])
    assert p.data_versions()["version"].tolist() == ["d1", "d2", "d3"]


def test_non_utf8_bytes_are_reported_or_replaced(tmp_path: Path, spam_schema: wb.Schema) -> None:
    bad = tmp_path / "latin.csv"
    bad.write_bytes(b"id,text\na,caf\xe9\nb,ok\n")
    p = wb.Project.create(tmp_path / "p", schema=spam_schema)
    with pytest.raises(wb.DataError, match=r"not valid utf-8: byte 0xe9 at offset 13 \(line 2\).*encoding='cp1252'"):
        p.add_data(bad, id_column="id")
    assert len(p) == 0
    p.add_data(bad, id_column="id", errors="replace")
    assert p.examples().loc["a", "text"] == "caf\ufffd"
    p2 = wb.Project.create(tmp_path / "p2", schema=spam_schema)
    p2.add_data(bad, id_column="id", encoding="latin-1")
    assert p2.examples().loc["a", "text"] == "café"
    excel = tmp_path / "excel.csv"  # Windows-1252: curly quotes and the euro sign are control characters in latin-1
    excel.write_bytes(b"id,text\nq,\x93Great\x94 for 5\x80\n")
    with pytest.raises(wb.DataError, match=r"encoding='cp1252' \(Windows and Excel write it\)"):
        p2.add_data(excel, id_column="id")
    p2.add_data(excel, id_column="id", encoding="cp1252")
    assert p2.examples().loc["q", "text"] == "\u201cGreat\u201d for 5\u20ac"


def test_image_path_examples(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    for n in ("a.png", "b.png"):
        (tmp_path / "img" / n).write_bytes(b"\x89PNG\r\n")
    schema = wb.Schema.single("cat", ["yes", "no"])
    p = wb.Project.create(tmp_path / "p", schema=schema, text_column=None, image_column="path")
    df = pd.DataFrame({"id": ["a", "b"], "path": ["img/a.png", "img/b.png"]})
    p.add_data(df, id_column="id", image_root=tmp_path)
    assert p.image_column == "path" and p.text_column is None
    with pytest.raises(wb.DataError, match=r"image files that do not exist.*'c'"):
        p.add_data(pd.DataFrame({"id": ["c"], "path": ["img/c.png"]}), id_column="id", image_root=tmp_path)


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (pd.DataFrame({"id": [], "text": []}), {"id_column": "id"}, "no rows"),
        (pd.DataFrame({"text": ["a"]}), {"id_column": "frame_id"}, "id column 'frame_id' is not a column"),
        (pd.DataFrame({"id": ["a", None], "text": ["a", "b"]}), {"id_column": "id"}, r"empty in 1 row.*positions 1"),
        (pd.DataFrame({"id": [1.5], "text": ["a"]}), {"id_column": "id"}, "non-integral"),
        (pd.DataFrame({"id": ["  "], "text": ["a"]}), {"id_column": "id"}, "blank"),
        (pd.DataFrame({"id": ["a"], "body": ["a"]}), {"id_column": "id"}, "reads its text from column 'text'"),
        (pd.DataFrame({"id": ["a"], "text": [3]}), {"id_column": "id"}, "non-text values"),
        (pd.DataFrame({"id": ["a"], "text": ["x"]}), {}, "has a column named 'id' but no id_column"),
        (pd.DataFrame({"id": ["a"], "text": ["x"], "data_version": ["v9"]}), {"id_column": "id"}, "reserves"),
        ("missing.csv", {}, "No such data file"),
        ("data.xlsx", {}, "unknown suffix"),
        ([1, 2], {}, "wrap it with"),
    ],
)
def test_ingest_error_catalogue(project: wb.Project, tmp_path: Path, frame, kwargs, message: str) -> None:
    if isinstance(frame, str) and frame == "data.xlsx":
        (tmp_path / "data.xlsx").write_bytes(b"PK")
        frame = tmp_path / "data.xlsx"
    elif isinstance(frame, str) and frame == "missing.csv":
        frame = tmp_path / "missing.csv"
    n = len(project)
    with pytest.raises(wb.DataError, match=message):
        project.add_data(frame, **kwargs)
    assert len(project) == n


def test_read_table_bad_jsonl(tmp_path: Path) -> None:
    f = tmp_path / "x.jsonl"
    f.write_text('{"a": 1}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(wb.DataError, match="line 2 holds a list"):
        read_table(f)
    f.write_text('{"a": 1}\n{oops\n', encoding="utf-8")
    with pytest.raises(wb.DataError, match="line 2 is not valid JSON"):
        read_table(f)


def test_verify_detects_a_modified_data_file(project: wb.Project) -> None:
    assert project.verify()["examples_checked"] == 6
    path = project.path / project.data_versions()["file"].iloc[0]
    df = pd.read_parquet(path)
    df.loc["c-1", "text"] = "tampered"
    df.to_parquet(path)
    with pytest.raises(wb.WorkbenchError, match=r"no longer match their recorded hashes, e.g. 'c-1'"):
        project.verify()


def test_many_rows_ingest_fast_enough_to_be_usable(tmp_path: Path, spam_schema: wb.Schema) -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": [f"r{i}" for i in range(20_000)], "text": rng.choice(["a b", "c", "d e f"], 20_000)})
    p = wb.Project.create(tmp_path / "p", schema=spam_schema)
    assert p.add_data(df, id_column="id").n_rows == 20_000
    assert len(p.examples()) == 20_000


def test_a_column_that_mixes_numbers_and_text_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "mixed", schema=wb.Schema.single("spam", ["ham", "spam"]))
    df = pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "meta": [1, "two"]})
    with pytest.raises(wb.DataError, match=r"the column\(s\) 'meta' \(mixed-integer\) mix value types.*astype\(str\)"):
        p.add_data(df, id_column="id")
    assert len(p.examples()) == 0 and p.data_versions().empty
    assert not [f for f in (tmp_path / "mixed" / "data").iterdir()]  # no file, no temporary left
    assert p.add_data(df.astype({"meta": str}), id_column="id").n_rows == 2
    p.verify()
    p.close()


@pytest.mark.parametrize(("suffix", "sep"), [(".tsv", "\t"), (".csv", ",")])
def test_a_stray_quote_is_refused_and_real_quoting_reads_back_exactly(tmp_path: Path, suffix: str, sep: str) -> None:
    p = wb.Project.create(tmp_path / "q", schema=wb.Schema.single("x", ["a", "b"]))
    raw = tmp_path / f"raw{suffix}"
    raw.write_text(f"id{sep}text\n1{sep}\"Hello,\" she said\n2{sep}plain\n", encoding="utf-8")
    with pytest.raises(wb.DataError, match=r"line 2: a field starts with a double quote but is not a quoted "
                                           r"field.*quoting=csv.QUOTE_NONE"):
        p.add_data(raw, id_column="id")
    assert len(p.examples()) == 0
    texts = ['"Hello," she said', 'say "hi"', "tab\there" if sep == "\t" else "comma, here", "two\nlines", "plain"]
    written = tmp_path / f"pandas{suffix}"
    pd.DataFrame({"id": range(5), "text": texts}).to_csv(written, sep=sep, index=False)  # pandas quotes as needed
    p.add_data(written, id_column="id")
    assert p.examples()["text"].tolist() == texts
    p.close()


def test_a_file_an_interrupted_ingest_left_is_never_taken_for_other_rows(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C after the batch's file is written and before the database records it, then a smaller batch first."""
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    full = pd.DataFrame({"id": [f"r{i}" for i in range(10)], "text": [f"t{i}" for i in range(10)]})

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("simulated Ctrl-C")

    with monkeypatch.context() as m:
        m.setattr(p._store, "add_data_version", interrupted)
        with pytest.raises(KeyboardInterrupt):
            p.add_data(full, id_column="id")
    p.close()
    p = wb.Project.open(tmp_path / "p")
    assert len(p) == 0
    p.add_data(full.iloc[:5], id_column="id")
    v = p.add_data(full, id_column="id")
    assert (v.n_rows, v.n_existing) == (5, 5)
    ex = p.examples()
    assert len(ex) == len(p) == 10 and not ex.index.duplicated().any()
    assert p.verify()["examples_checked"] == 10  # the left-over file is only an unknown file
    p.close()


def test_float_ids_are_the_same_ids_after_a_round_trip_through_text(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    frame = pd.DataFrame({"frame_id": [1.0, 2.0, 3.0], "text": ["a", "b", "c"]})
    p.add_data(frame, id_column="frame_id")
    frame.to_csv(tmp_path / "f.csv", index=False)  # writes 1.0, 2.0, 3.0
    v = p.add_data(tmp_path / "f.csv", id_column="frame_id")
    assert sorted(p.examples().index) == ["1", "2", "3"] and v.version == "d1" and len(p.data_versions()) == 1
    mixed = pd.DataFrame({"id": pd.Series([4.0, "x", "007"], dtype=object), "text": ["d", "e", "f"]})
    p.add_data(mixed, id_column="id")
    assert sorted(p.examples().index) == ["007", "1", "2", "3", "4", "x"]  # "007" stays text
    big = pd.DataFrame({"id": [1e19, 5.0], "text": ["g", "h"]})  # beyond int64: exact, not wrapped around
    p.add_data(big, id_column="id")
    assert {"10000000000000000000", "5"} <= set(p.examples().index)
    p.close()


def test_a_batch_stored_already_returns_the_newest_version_holding_it(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a"], "text": ["x"]}), id_column="id")
    p.add_data(pd.DataFrame({"id": ["b"], "text": ["y"]}), id_column="id")
    again = p.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"]}), id_column="id")
    assert again.version == "d2" and len(p.data_versions()) == 2
    p.close()


@pytest.mark.parametrize(("column", "match"), [
    (pd.Series([Decimal("1.10"), Decimal("2")], dtype=object), "holds Decimal values"),
    (pd.Series([{"red", "blue"}, {"green"}], dtype=object), "holds sets"),
])
def test_cells_the_stored_file_cannot_give_back_are_refused(tmp_path: Path, column: pd.Series, match: str) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    with pytest.raises(wb.DataError, match=match):
        p.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "extra": column}), id_column="id")
    assert len(p) == 0 and p.verify()["examples_checked"] == 0
    p.close()


def test_text_files_read_as_pandas_would_and_a_repeated_header_is_refused(tmp_path: Path) -> None:
    big = "x" * 200_000  # beyond the csv module's default field limit
    (tmp_path / "big.csv").write_text(f"id,text\na,{big}\nb,short\n", encoding="utf-8")
    assert read_table(tmp_path / "big.csv")["text"].str.len().tolist() == [200_000, 5]
    (tmp_path / "cr.csv").write_bytes(b"id,text\ra,one\rb,two\r")  # old Mac line endings
    assert read_table(tmp_path / "cr.csv")["id"].tolist() == ["a", "b"]
    lines = [json.dumps({"id": "a", "text": "one\u2028two"}, ensure_ascii=False),
             json.dumps({"id": "b", "text": "x\u0085y"}, ensure_ascii=False)]
    (tmp_path / "u.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_table(tmp_path / "u.jsonl")["text"].tolist() == ["one\u2028two", "x\u0085y"]
    (tmp_path / "dup.csv").write_text("id,text,text\na,x,y\n", encoding="utf-8")
    with pytest.raises(wb.DataError, match=r"repeated column names \['text'\] in its header"):
        read_table(tmp_path / "dup.csv")


def test_ids_in_the_index(tmp_path: Path) -> None:
    src = wb.Project.create(tmp_path / "src", schema=wb.Schema.single("spam", ["ham", "spam"]))
    src.add_data(pd.DataFrame({"id": ["frame-1", "frame-2"], "text": ["a", "b"]}), id_column="id")
    frame = src.examples().drop(columns=["data_version"])  # indexed by id
    dst = wb.Project.create(tmp_path / "dst", schema=wb.Schema.single("spam", ["ham", "spam"]))
    with pytest.raises(wb.DataError, match=r"The ids 'id' are the DataFrame's index, not a column.*reset_index"):
        dst.add_data(frame, id_column="id")
    with pytest.warns(UserWarning, match="index 'id' is not used"):
        dst.add_data(frame)
    frame.to_parquet(tmp_path / "f.parquet")  # the index is written too
    dst2 = wb.Project.create(tmp_path / "dst2", schema=wb.Schema.single("spam", ["ham", "spam"]))
    dst2.add_data(tmp_path / "f.parquet", id_column="id")
    assert sorted(dst2.examples().index) == ["frame-1", "frame-2"]
    for p in (src, dst, dst2):
        p.close()
