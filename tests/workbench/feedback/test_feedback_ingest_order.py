"""Feedback ingest across calls: a backfilled older signal, label maps read from any file type, a refused batch
that writes nothing (no data version either), and honest gold counts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb

KW = {"kind": "user_correction", "id_column": "item", "label_column": "label", "timestamp_column": "ts",
      "source_name": "app"}


@pytest.fixture
def prod(spam_project: Callable[..., wb.Project]) -> wb.Project:
    return spam_project("prod", prefix="p", n=20, width=3, spam_text="win cash now", ham_text="great track")


def signals(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item", "label", "ts"])


def test_a_backfilled_older_signal_does_not_replace_the_latest_one(prod: wb.Project) -> None:
    prod.feedback.ingest(signals(("p001", "spam", "2024-06-01T00:00:00Z"), ("p002", "ham", "2024-06-01T00:00:00Z")),
                         **KW)
    back = prod.feedback.ingest(signals(("p001", "ham", "2024-05-01T00:00:00Z"),     # older: history only
                                        ("p002", "spam", "2024-07-01T00:00:00Z")),   # newer: the new label
                                **KW)
    assert back.n_new == 2
    current = prod.labels(source="feedback").set_index("example_id")
    assert current["value"].to_dict() == {"p001": "spam", "p002": "spam"}
    assert current.loc["p001", "created_at"].startswith("2024-06-01")
    history = prod.history("p001")
    assert history["value"].tolist() == ["spam", "ham", "spam"]  # append-only: the backfill, then the restatement
    assert prod.lfs["feedback:user_correction"].refresh().to_dict() == {"p001": 1, "p002": 1}
    n = len(prod.events())
    again = prod.feedback.ingest(signals(("p001", "ham", "2024-05-01T00:00:00Z")), **KW)  # the same backfill
    assert again.n_new == 0 and len(prod.events()) == n
    assert prod.labels(source="feedback").set_index("example_id")["value"].to_dict() == {"p001": "spam",
                                                                                         "p002": "spam"}


def test_a_signal_that_is_newer_in_a_later_call_still_wins(prod: wb.Project) -> None:
    prod.feedback.ingest(signals(("p001", "spam", "2024-05-01T00:00:00Z")), **KW)
    prod.feedback.ingest(signals(("p001", "ham", "2024-06-01T00:00:00Z")), **KW)
    assert prod.labels(source="feedback")["value"].tolist() == ["ham"]
    assert len(prod.history("p001")) == 2  # nothing restated


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl", "float"])
def test_an_integer_label_map_matches_the_values_of_every_file_type(prod: wb.Project, tmp_path: Path,
                                                                     fmt: str) -> None:
    flags = pd.DataFrame({"item": ["p001", "p002", "p003"], "reported": [0, 1, None]})
    path = tmp_path / f"flags.{fmt}"
    if fmt == "csv":
        flags.to_csv(path, index=False)  # read back as text: "0", "1"
    elif fmt == "parquet":
        flags.to_parquet(path, index=False)  # a float column with a missing value: 0.0, 1.0
    elif fmt == "jsonl":
        flags.to_json(path, orient="records", lines=True)
    data = flags if fmt == "float" else path
    batch = prod.feedback.ingest(data, kind="flag", id_column="item", label_column="reported",
                                 label_map={0: "ham", 1: "spam"})
    assert (batch.n_new, batch.n_ignored) == (2, 1)
    assert prod.labels(source="feedback").set_index("example_id")["value"].to_dict() == {"p001": "ham",
                                                                                         "p002": "spam"}


def test_a_label_map_that_maps_nothing_is_refused_and_so_is_an_ambiguous_one(prod: wb.Project) -> None:
    flags = pd.DataFrame({"item": ["p001", "p002"], "reported": ["yes", "no"]})
    with pytest.raises(wb.LabelValidationError, match=r"None of the values in the label column 'reported'.*'no', "
                                                      r"'yes'.*keys are '0', '1'"):
        prod.feedback.ingest(flags, kind="flag", id_column="item", label_column="reported",
                             label_map={0: "ham", 1: "spam"})
    with pytest.raises(wb.LabelValidationError, match=r"maps '1' twice, to 'spam' and to 'ham'"):
        prod.feedback.ingest(flags, kind="flag", id_column="item", label_column="reported",
                             label_map={1: "spam", "1": "ham"})
    assert prod.events().empty


def test_a_corrected_label_map_relabels_the_same_signals(prod: wb.Project) -> None:
    flags = pd.DataFrame({"item": ["p001"], "reported": ["bad"]})
    prod.feedback.ingest(flags, kind="flag", id_column="item", label_column="reported", label_map={"bad": "ham"})
    batch = prod.feedback.ingest(flags, kind="flag", id_column="item", label_column="reported",
                                 label_map={"bad": "spam"})  # the mapping was wrong: fixed
    assert batch.n_new == 1 and prod.labels(source="feedback")["value"].tolist() == ["spam"]
    assert prod.feedback.ingest(flags, kind="flag", id_column="item", label_column="reported",
                                label_map={"bad": "spam"}).n_new == 0  # and it stays idempotent


def test_a_refused_ingest_adds_no_data_version(tmp_path: Path, seatbelt_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "belts", schema=seatbelt_schema)
    p.add_data(pd.DataFrame({"id": ["f1", "f2"], "text": ["driver", "empty"]}), id_column="id")
    log = pd.DataFrame({"item": ["f1", "f9"], "label": ["yes", "no"], "body": ["driver", "a new frame"]})
    with pytest.raises(wb.LabelValidationError, match=r"item 'f1'.*Nothing was written"):
        p.feedback.ingest(log, kind="user_correction", id_column="item", label_column="label", text_column="body",
                          question="seatbelt")  # a follow-up question: its condition is not met
    assert p.data_versions()["version"].tolist() == ["d1"] and p.events().empty
    assert "f9" not in p.examples().index
    p.close()


def test_gold_counts_only_what_was_written(prod: wb.Project) -> None:
    log = pd.DataFrame({"id": ["p005", "p006"], "decision": ["spam", "ham"]})
    kw = {"kind": "moderator_override", "id_column": "id", "label_column": "decision", "source_name": "mods",
          "as_gold": True}
    assert prod.feedback.ingest(log, **kw).n_gold == 2
    again = prod.feedback.ingest(log, **kw)
    assert (again.n_new, again.n_gold) == (0, 0)
    assert prod.feedback.ingests()["n_gold"].tolist() == [2, 0] and len(prod.gold()) == 2
