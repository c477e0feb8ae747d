"""Production signals as they arrive from real exports: float columns (a gap in an integer column), numeric
choices, several questions of one kind, backfills in the summary, times as text, a new review rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.lf import from_feedback


@pytest.fixture
def spam(tmp_path: Path) -> wb.Project:
    p = wb.Project.create(tmp_path / "spam", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["c1", "c2", "c3", "c4"], "text": ["a", "b", "c", "d"]}), id_column="id")
    return p


def test_a_float_label_column_is_the_same_signal_on_re_ingest(spam: wb.Project) -> None:
    kw = {"kind": "flag", "id_column": "item", "label_column": "reported", "source_name": "app",
          "label_map": {0: None, 1: "spam"}}
    first = spam.feedback.ingest(pd.DataFrame({"item": ["c1", "c2"], "reported": [1, 1]}), **kw)
    # the next export repeats them, plus a row without a value: pandas reads the column as floats
    again = spam.feedback.ingest(pd.DataFrame({"item": ["c1", "c2", "c3"], "reported": [1.0, 1.0, np.nan]}), **kw)
    assert (first.n_new, again.n_new, again.n_duplicates) == (2, 0, 2)
    assert len(spam.history("c2")) == 1


def test_numeric_choices_read_from_a_column_with_a_gap(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "rte", schema=wb.Schema.single("entail", ["0", "1"]))
    p.add_data(pd.DataFrame({"id": ["c1", "c2", "c3"], "text": ["a", "b", "c"]}), id_column="id")
    path = tmp_path / "log.jsonl"
    pd.DataFrame({"item": ["c1", "c2", "c3"], "label": [0, 1, None]}).to_json(path, orient="records", lines=True)
    batch = p.feedback.ingest(path, kind="user_correction", id_column="item", label_column="label")
    assert (batch.n_new, batch.n_ignored) == (2, 1)
    assert p.labels(source="feedback").set_index("example_id")["value"].to_dict() == {"c1": "0", "c2": "1"}
    preds = pd.DataFrame({"example_id": ["c1", "c2"], "label": [1.0, 0.0], "confidence": [0.9, 0.6]})
    run = p.feedback.predictions(preds, model="prod-1", label_column="label", confidence_column="confidence")
    assert run.n_review == 1 and p.annotation.queue("review")["example_id"].tolist() == ["c2"]


def test_one_kind_on_two_questions_is_two_weak_sources(tmp_path: Path) -> None:
    schema = wb.Schema(name="car", questions=[wb.Question("person", choices=["yes", "no"]),
                                              wb.Question("seatbelt", choices=["yes", "no", "unsure"],
                                                          when={"person": "yes"})])
    p = wb.Project.create(tmp_path / "car", schema=schema)
    p.add_data(pd.DataFrame({"id": ["f1", "f2", "f3"], "text": ["a", "b", "c"]}), id_column="id")
    kw = {"kind": "user_correction", "id_column": "item", "label_column": "label", "source_name": "app"}
    a = p.feedback.ingest(pd.DataFrame({"item": ["f1", "f2"], "label": ["yes", "yes"]}), question="person", **kw)
    b = p.feedback.ingest(pd.DataFrame({"item": ["f1", "f2"], "label": ["no", "unsure"]}), question="seatbelt", **kw)
    assert a.weak_source == "feedback:user_correction" and b.weak_source == "feedback:user_correction:seatbelt"
    belt = p.lfs.matrix(question="seatbelt")
    assert belt.shape == (3, 1)
    assert belt[:2, 0].tolist() == [p.schema.question("seatbelt").choices.index(c) for c in ("no", "unsure")]
    assert p.feedback.sources()["column"].tolist() == ["feedback:user_correction", "feedback:user_correction:seatbelt"]
    again = wb.Project.open(p.path)  # another session registers both again
    assert {"feedback:user_correction", "feedback:user_correction:seatbelt"} <= set(again.lfs.names)
    assert again.lfs.matrix(question="seatbelt").shape == (3, 1)


def test_a_backfill_is_one_signal_in_the_summary(spam: wb.Project) -> None:
    kw = {"kind": "user_correction", "id_column": "item", "label_column": "label", "timestamp_column": "ts",
          "source_name": "app"}
    spam.feedback.ingest(pd.DataFrame({"item": ["c1"], "label": ["spam"], "ts": ["2024-06-01T00:00:00Z"]}), **kw)
    spam.feedback.ingest(pd.DataFrame({"item": ["c1"], "label": ["ham"], "ts": ["2024-05-01T00:00:00Z"]}), **kw)
    row = spam.feedback.summary().loc["user_correction"]
    assert row["n_signals"] == 2 and row["n_items"] == 1


def test_from_feedback_reads_float_ids_text_keys_and_times_as_text(spam: wb.Project, tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "ints", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": [1, 2, 3, 4], "text": ["a", "b", "c", "d"]}), id_column="id")
    flags = pd.DataFrame({"id": [1, 2, 3, None], "flag": ["reported", "reported", "ok", "reported"]})
    p.lfs.add(from_feedback("flags", flags, column="flag", labels={"reported": 1}, id_column="id"))
    assert p.lfs.matrix().ravel().tolist() == [1, 1, -1, -1]
    coded = pd.DataFrame({"id": ["3", "4"], "code": ["1", "0"]})  # a CSV's text against int keys
    p.lfs.add(from_feedback("codes", coded, column="code", labels={1: 1, 0: 0}, id_column="id"))
    assert p.lfs.matrix()[:, p.lfs.names.index("codes")].tolist() == [-1, -1, 1, 0]
    # "10:00+02:00" is 08:00 UTC, before "09:00Z": the later signal is the one at 09:00
    timed = pd.DataFrame({"id": [1, 1], "v": ["spam", "ham"], "at": ["2024-01-01T09:00:00Z",
                                                                     "2024-01-01T10:00:00+02:00"]})
    p.lfs.add(from_feedback("latest", timed, column="v", labels={"spam": 1, "ham": 0}, id_column="id",
                            order_by="at", aggregate="last"))
    assert p.lfs.matrix()[0, p.lfs.names.index("latest")] == 1


def test_the_same_predictions_under_a_new_threshold_are_a_new_run(spam: wb.Project) -> None:
    preds = pd.DataFrame({"example_id": ["c1", "c2", "c3"], "ham": [0.1, 0.2, 0.4], "spam": [0.9, 0.8, 0.6]})
    first = spam.feedback.predictions(preds, model="prod-1")
    assert first.n_review == 1 and spam.feedback.predictions(preds, model="prod-1").already_recorded
    strict = spam.feedback.predictions(preds, model="prod-1", threshold=0.95)
    assert not strict.already_recorded and strict.n_review == 3
    assert set(spam.annotation.queue("review")["example_id"]) == {"c1", "c2", "c3"}
    assert spam.feedback.predictions(preds, model="prod-1", threshold=0.95).already_recorded


def test_recording_an_earlier_run_again_after_a_later_one_is_the_newest_call(spam: wb.Project) -> None:
    """A rollback: prod-1, then prod-2, then prod-1's predictions again; the last call decides draft and review."""
    low = pd.DataFrame({"example_id": ["c1"], "ham": [0.55], "spam": [0.45]})
    high = pd.DataFrame({"example_id": ["c1"], "ham": [0.99], "spam": [0.01]})
    review = lambda: spam.annotation.queue("review", n=None)["example_id"].tolist()  # noqa: E731
    first = spam.feedback.predictions(low, model="prod-1")
    assert review() == ["c1"]
    spam.feedback.predictions(high, model="prod-2")
    assert review() == []
    back = spam.feedback.predictions(low, model="prod-1")
    assert not back.already_recorded and back.run_id != first.run_id and back.n_review == 1
    assert review() == ["c1"]
    draft = spam.annotation.draft("c1")
    assert draft is not None and (draft.model_version, draft.value) == ("prod-1", "ham")
    again = spam.feedback.predictions(low, model="prod-1")  # a retry of the rollback: nothing new
    assert again.already_recorded and again.run_id == back.run_id
    # a later run about other items does not make a retry a new run
    spam.feedback.predictions(pd.DataFrame({"example_id": ["c2"], "ham": [0.9], "spam": [0.1]}), model="prod-3")
    assert spam.feedback.predictions(low, model="prod-1").already_recorded
