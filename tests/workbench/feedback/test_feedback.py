"""Production signals: feedback events (idempotent), weak sources with learned reliability, new production rows,
production predictions and their review queue, and the summary."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.active import AutoAccept
from workbench.feedback import FEEDBACK_KINDS, FeedbackSource
from workbench.lf import keywords

CHOICES = ["ham", "spam"]


@pytest.fixture
def prod(spam_project: Callable[..., wb.Project]) -> wb.Project:
    return spam_project("prod", prefix="p", n=40, width=3, spam_text="win cash now", ham_text="great track")


def corrections_log() -> pd.DataFrame:
    return pd.DataFrame({
        "item_id": ["p001", "p002", "p003", "p001"],
        "label": ["spam", "ham", "ham", "ham"],
        "ts": ["2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", "2026-01-02T09:00:00Z", "2025-12-31T08:00:00Z"],
        "user": ["u1", "u2", "u3", "u4"],
    })


def test_ingest_records_feedback_events_with_provenance(prod: wb.Project) -> None:
    batch = prod.feedback.ingest(corrections_log(), kind="user_correction", id_column="item_id", label_column="label",
                                 timestamp_column="ts", source_name="app")
    assert (batch.n_rows, batch.n_new, batch.n_duplicates, batch.n_ignored) == (4, 4, 0, 0)
    assert batch.annotator == "user_correction:app" and batch.weak_source == "feedback:user_correction"
    ev = prod.events()
    assert set(ev["source"]) == {"feedback"} and set(ev["annotator"]) == {"user_correction:app"}
    # recorded in time order: the later correction of p001 ("spam" on Jan 1st) is the current one
    cur = prod.labels(source="feedback").set_index("example_id")["value"]
    assert cur.to_dict() == {"p001": "spam", "p002": "ham", "p003": "ham"}
    first = prod.history("p001").iloc[0]
    assert first["created_at"].startswith("2025-12-31T08:00:00") and first["value"] == "ham"
    assert json.loads(first["note"]) == {"feedback": "user_correction", "source": "app", "signal": "ham",
                                         "at": first["created_at"]}
    info = prod.feedback.ingests().iloc[0]
    assert (info["ingest_id"], info["kind"], info["input"], info["n_new"]) == ("feedback-1", "user_correction",
                                                                              "DataFrame", 4)


def test_reingesting_the_same_rows_writes_nothing_in_any_format(prod: wb.Project, tmp_path: Path) -> None:
    log = corrections_log()
    kwargs = {"kind": "user_correction", "id_column": "item_id", "label_column": "label", "timestamp_column": "ts",
              "source_name": "app"}
    assert prod.feedback.ingest(log, **kwargs).n_new == 4
    n = len(prod.events())
    log.to_csv(tmp_path / "log.csv", index=False)
    log.to_parquet(tmp_path / "log.parquet")
    log.to_json(tmp_path / "log.jsonl", orient="records", lines=True)
    for path in ("log.csv", "log.parquet", "log.jsonl"):
        again = prod.feedback.ingest(tmp_path / path, **kwargs)
        assert (again.n_new, again.n_duplicates) == (0, 4), path
    assert len(prod.events()) == n
    grown = pd.concat([log, pd.DataFrame({"item_id": ["p004"], "label": ["spam"], "ts": ["2026-02-01T00:00:00Z"],
                                          "user": ["u5"]})])
    assert prod.feedback.ingest(grown, **kwargs).n_new == 1  # an overlapping export adds only the new signal
    doubled = prod.feedback.ingest(pd.concat([log, log]), **{**kwargs, "source_name": "other"})
    assert (doubled.n_new, doubled.n_duplicates) == (4, 4)  # repeated rows inside one input count once


def test_a_file_names_its_source_and_a_flag_is_mapped(prod: wb.Project, tmp_path: Path) -> None:
    pd.DataFrame({"id": ["p001", "p002", "p004"], "flag": ["reported_spam", "ok", None]}).to_csv(
        tmp_path / "flags-2026-01.csv", index=False)
    batch = prod.feedback.ingest(tmp_path / "flags-2026-01.csv", kind="flag", id_column="id", label_column="flag",
                                 label_map={"reported_spam": "spam", "ok": None})
    assert batch.source_name == "flags-2026-01" and (batch.n_new, batch.n_ignored) == (1, 2)
    assert prod.labels(source="feedback")[["example_id", "value", "annotator"]].values.tolist() == [
        ["p001", "spam", "flag:flags-2026-01"]]


def test_unknown_items_become_a_new_data_version_that_lfs_label_incrementally(prod: wb.Project) -> None:
    prod.lfs.add(keywords("cash", ["cash"], label=1))
    prod.lfs.apply(progress=False)
    log = pd.DataFrame({"item": ["p001", "new-1", "new-2"], "label": ["spam", "spam", "ham"],
                        "body": ["ignored: p001 is known", "free cash prize", "nice song"]})
    with pytest.raises(wb.DataError, match=r"2 item id\(s\) are not in this project: 'new-1', 'new-2'.*text_column="):
        prod.feedback.ingest(log, kind="user_correction", id_column="item", label_column="label")
    assert prod.events().empty  # nothing written
    batch = prod.feedback.ingest(log, kind="user_correction", id_column="item", label_column="label",
                                 text_column="body")
    assert batch.n_new_examples == 2 and batch.new_data_version == "d2" and batch.n_new == 3
    assert prod.example("new-1")["text"] == "free cash prize" and prod.example("p001")["text"].startswith("win")
    assert prod.data_versions()["message"].iloc[-1].startswith("production rows from user_correction feedback")
    result = prod.lfs.apply(progress=False)
    assert result.computed["cash"] == ["d2"]  # only the new rows were labelled
    L = pd.DataFrame(prod.lfs.matrix(), index=prod.examples().index, columns=prod.lfs.names)
    assert L.loc["new-1", "cash"] == 1 and L.loc["new-2", "cash"] == -1


def test_each_kind_is_a_label_matrix_column_refreshed_by_new_feedback(prod: wb.Project) -> None:
    prod.feedback.ingest(corrections_log(), kind="user_correction", id_column="item_id", label_column="label",
                         timestamp_column="ts")
    assert prod.lfs.names == ["feedback:user_correction"]
    col = pd.Series(prod.lfs.matrix()[:, 0], index=prod.examples().index)
    assert col[["p001", "p002", "p003", "p004"]].tolist() == [1, 0, 0, -1]
    before = prod.lfs["feedback:user_correction"].fingerprint
    other = wb.Project.open(prod.path)  # another kernel: the source is registered there too
    assert other.lfs.names == ["feedback:user_correction"]
    later = pd.DataFrame({"i": ["p004", "p001"], "l": ["spam", "ham"], "t": ["2027-01-01", "2027-01-01"]})
    other.feedback.ingest(later, kind="user_correction", id_column="i", label_column="l", timestamp_column="t")
    assert prod.lfs["feedback:user_correction"].fingerprint != before  # the new feedback reaches this process
    result = prod.lfs.apply(progress=False)
    assert result.computed["feedback:user_correction"] == ["d1"]  # the cache refreshed, for this column only
    col = pd.Series(prod.lfs.matrix()[:, 0], index=prod.examples().index)
    assert col[["p001", "p004"]].tolist() == [0, 1]
    assert prod.lfs.apply(progress=False).computed["feedback:user_correction"] == []  # cached until new feedback
    prod.feedback.ingest(pd.DataFrame({"i": ["p009"], "l": ["spam"]}), kind="flag", id_column="i", label_column="l",
                         weak_source=False)
    assert prod.lfs.names == ["feedback:user_correction"]
    sources = prod.feedback.sources()
    assert sources[["kind", "column", "n_items"]].values.tolist() == [["user_correction", "feedback:user_correction",
                                                                       4]]


def test_the_label_model_learns_which_feedback_is_reliable(tmp_path: Path, spam_schema: wb.Schema) -> None:
    rng = np.random.default_rng(0)
    n = 300
    ids = [f"i{k:03d}" for k in range(n)]
    y = rng.integers(0, 2, n)
    texts = [("cheap " if (t == 1) == (rng.random() < 0.85) else "song ")
             + ("pills" if (t == 1) == (rng.random() < 0.8) else "tune") for t in y]
    p = wb.Project.create(tmp_path / "rel", schema=spam_schema)
    p.add_data(pd.DataFrame({"id": ids, "text": texts}), id_column="id")
    for word, label in (("cheap", 1), ("song", 0), ("pills", 1), ("tune", 0)):
        p.lfs.add(keywords(word, [word], label=label))

    def signals(accuracy: float, seed: int) -> pd.DataFrame:
        r = np.random.default_rng(seed)
        shown = r.random(n) < 0.5
        lab = np.where(r.random(n) < accuracy, y, 1 - y)
        return pd.DataFrame({"item": np.array(ids)[shown], "label": np.array(CHOICES)[lab[shown]]})

    p.feedback.ingest(signals(0.95, 1), kind="user_correction", id_column="item", label_column="label")
    p.feedback.ingest(signals(0.60, 2), kind="flag", id_column="item", label_column="label")
    lm = p.models.fit("dawid_skene")
    acc = dict(zip(p.lfs.names, lm.learned_params()["lf_accuracy_"], strict=True))
    assert acc["feedback:user_correction"] > 0.75 > 0.55 > acc["feedback:flag"]


def test_moderator_overrides_can_be_gold(prod: wb.Project) -> None:
    log = pd.DataFrame({"id": ["p005", "p006"], "decision": ["spam", "ham"]})
    batch = prod.feedback.ingest(log, kind="moderator_override", id_column="id", label_column="decision",
                                 source_name="mods", as_gold=True)
    assert batch.n_gold == 2 and prod.gold().to_dict() == {"p005": "spam", "p006": "ham"}
    assert set(prod.labels(source="gold")["annotator"]) == {"feedback:moderator_override:mods"}
    assert {"p005", "p006"}.isdisjoint(prod.annotation.queue("random", n=None)["example_id"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kind": "complaint"}, wb.LabelValidationError, "'kind' parameter of project.feedback.ingest must be one of"),
        ({"label_column": "nope"}, wb.DataError, r"column\(s\) \['nope'\] are missing"),
        ({"source_name": "a:b"}, wb.LabelValidationError, "'source_name' parameter .* without ':'"),
        ({"label_map": ["spam"]}, wb.LabelValidationError, "'label_map' parameter .* must be a mapping"),
        ({"label_map": {"spam": "SPAM"}}, wb.LabelValidationError, r"maps to \['SPAM'\], which are not choices"),
        ({"timestamp_column": "when"}, wb.DataError, r"timestamp column 'when' .* empty in 1 row"),
        ({"timestamp_column": "bad_when"}, wb.LabelValidationError, "'bad_when' value 'yesterday' is not an ISO-8601"),
    ],
)
def test_ingest_errors(prod: wb.Project, kwargs: dict[str, object], error: type, match: str) -> None:
    log = pd.DataFrame({"id": ["p001", "p002"], "label": ["spam", "ham"], "when": ["2026-01-01", None],
                        "bad_when": ["2026-01-01", "yesterday"]})
    args: dict[str, object] = {"kind": "user_correction", "id_column": "id", "label_column": "label", **kwargs}
    with pytest.raises(error, match=match):
        prod.feedback.ingest(log, **args)  # type: ignore[arg-type]
    assert prod.events().empty


def test_ingest_names_labels_that_are_not_choices(prod: wb.Project) -> None:
    log = pd.DataFrame({"id": ["p001", "p002", None], "label": ["spam", "Spam!", "ham"]})
    with pytest.raises(wb.DataError, match=r"id column 'id' given to project.feedback.ingest is empty in 1 row"):
        prod.feedback.ingest(log, kind="flag", id_column="id", label_column="label")
    with pytest.raises(wb.LabelValidationError, match=r"not choices of 'spam': 'Spam!'.*label_map=\{'Spam!'"):
        prod.feedback.ingest(log.iloc[:2], kind="flag", id_column="id", label_column="label")
    assert list(FEEDBACK_KINDS) == ["user_correction", "user_confirmation", "moderator_override", "flag"]


# ------------------------------------------------------------------------------------------ predictions
def predictions_frame() -> pd.DataFrame:
    spam = [0.97, 0.55, 0.30, 0.62, 0.05]
    return pd.DataFrame({"example_id": ["p001", "p002", "p003", "p004", "p005"], "ham": [1 - s for s in spam],
                         "spam": spam})


def test_low_confidence_predictions_enter_the_review_queue(prod: wb.Project) -> None:
    run = prod.feedback.predictions(predictions_frame(), model="prod-2026-11")
    assert run.threshold == 0.75 and "halfway between chance" in run.rule  # the default for two classes
    assert (run.n_predictions, run.n_review) == (5, 3)
    q = prod.annotation.queue("review", n=None)
    assert q["example_id"].tolist() == ["p002", "p004", "p003"]  # least confident first
    assert q["reason"].iloc[0] == "low confidence 0.550 < 0.750 from production model 'prod-2026-11'"
    items = prod.annotation.next_items("rev", 2, strategy="review")
    assert [i.example_id for i in items] == ["p002", "p004"]
    assert items[0].draft == wb.Draft("spam", pytest.approx(0.55), "model", "prod-2026-11")  # a draft, not a label
    assert prod.labels().empty
    prod.annotation.submit("p002", "ham", annotator="rev", draft=items[0].draft)
    assert prod.annotation.queue("review", n=None)["example_id"].tolist() == ["p004", "p003"]
    log = prod.annotation.corrections()
    assert log[["model_version", "outcome"]].values.tolist() == [["prod-2026-11", "corrected"]]
    # a later, confident prediction of an item takes it out of review
    prod.feedback.predictions(pd.DataFrame({"example_id": ["p004"], "ham": [0.01], "spam": [0.99]}),
                              model="prod-2026-12")
    assert prod.annotation.queue("review", n=None)["example_id"].tolist() == ["p003"]
    assert prod.annotation.draft("p004").model_version == "prod-2026-12"


def test_the_same_predictions_are_recorded_once(prod: wb.Project) -> None:
    first = prod.feedback.predictions(predictions_frame(), model="prod-1")
    again = prod.feedback.predictions(predictions_frame(), model="prod-1")
    assert (again.run_id, again.already_recorded, first.already_recorded) == (first.run_id, True, False)


def test_predictions_as_label_and_confidence_with_a_threshold_or_an_auto_accept(prod: wb.Project) -> None:
    frame = pd.DataFrame({"id": ["p001", "p002", "p003"], "pred": ["spam", "ham", "spam"], "conf": [0.9, 0.8, 0.6]})
    run = prod.feedback.predictions(frame, model="m", id_column="id", label_column="pred", confidence_column="conf",
                                    threshold=0.85)
    assert run.n_review == 2 and run.threshold == 0.85
    assert prod.annotation.draft("p002") == wb.Draft("ham", pytest.approx(0.8), "model", "m")
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.5, 1.0, 2000)
    accept = AutoAccept(0.9, 0.95).fit(np.c_[1 - conf, conf], (rng.random(2000) < conf).astype(int))
    probs = pd.DataFrame({"example_id": ["p010", "p011"], "p_ham": [0.5, 0.01], "p_spam": [0.5, 0.99]})
    run2 = prod.feedback.predictions(probs, model="m2", threshold=accept)
    assert run2.n_review == int((~accept.accept(probs[["p_ham", "p_spam"]].to_numpy())).sum()) == 1
    assert run2.threshold == pytest.approx(accept.threshold_) and "not auto-acceptable" in run2.rule


def test_predictions_of_new_items_add_a_data_version(prod: wb.Project) -> None:
    frame = predictions_frame().assign(example_id=["q1", "q2", "p003", "p004", "p005"],
                                       text=["a", "b", "c", "d", "e"])
    with pytest.raises(wb.DataError, match=r"2 item id\(s\) are not in this project: 'q1', 'q2'"):
        prod.feedback.predictions(frame, model="m")
    run = prod.feedback.predictions(frame, model="m", text_column="text")
    assert run.n_new_examples == 2 and prod.example("q1")["text"] == "a"


@pytest.mark.parametrize(
    ("kwargs", "frame", "error", "match"),
    [
        ({"model": ""}, None, wb.LabelValidationError, "'model' parameter of project.feedback.predictions must name"),
        ({"id_column": "item"}, None, wb.DataError, "id column 'item' is missing"),
        ({}, pd.DataFrame({"example_id": ["p001"], "score": [0.3]}), wb.LabelValidationError,
         r"found no predictions in the columns.*\['ham', 'spam'\]"),
        ({"label_column": "pred"}, pd.DataFrame({"example_id": ["p001"], "pred": ["spam"]}), wb.LabelValidationError,
         "no confidence_column"),
        ({"label_column": "pred", "confidence_column": "c"},
         pd.DataFrame({"example_id": ["p001"], "pred": ["spam"], "c": [0.2]}), wb.LabelValidationError,
         "between 1/2 and 1"),
        ({"label_column": "pred", "confidence_column": "c"},
         pd.DataFrame({"example_id": ["p001"], "pred": ["eggs"], "c": [0.9]}), wb.LabelValidationError,
         r"not choices of 'spam': 'eggs'"),
        ({"proba_columns": ["ham"]}, None, wb.LabelValidationError, "must list one column per choice"),
        ({}, pd.DataFrame({"example_id": ["p001"], "ham": [0.5], "spam": [0.7]}), wb.LabelValidationError,
         "must sum to 1"),
        ({"threshold": 1.5}, None, wb.LabelValidationError, r"'threshold' parameter .* confidence in \(0, 1\]"),
        ({"threshold": AutoAccept()}, None, wb.NotFittedError, "AutoAccept given to .* is not fitted"),
        ({"threshold": "low"}, None, wb.LabelValidationError, "must be a number in \\(0, 1\\], a fitted"),
    ],
)
def test_predictions_errors(
    prod: wb.Project, kwargs: dict[str, object], frame: pd.DataFrame | None, error: type, match: str
) -> None:
    args: dict[str, object] = {"model": "m", **kwargs}
    with pytest.raises(error, match=match):
        prod.feedback.predictions(predictions_frame() if frame is None else frame, **args)  # type: ignore[arg-type]
    assert prod.annotation.queue("review", n=None).empty


# ------------------------------------------------------------------------------------------ summary
def test_summary_counts_and_agreement_with_gold_and_people(
    prod: wb.Project, parity_truth: Callable[[str], str]
) -> None:
    gold_ids = [f"p{i:03d}" for i in range(10)]
    prod.add_gold(pd.DataFrame({"id": gold_ids, "label": [parity_truth(i) for i in gold_ids]}))
    wrong = {"p000", "p001"}
    items = [*gold_ids, "p020", "p021"]
    log = pd.DataFrame({"id": items, "label": [("ham" if parity_truth(i) == "spam" else "spam") if i in wrong
                                               else parity_truth(i) for i in items]})
    prod.feedback.ingest(log, kind="user_correction", id_column="id", label_column="label", source_name="app")
    for who in ("a", "b"):
        prod.annotation.submit("p020", parity_truth("p020"), annotator=who)
    prod.annotation.submit("p021", "ham", annotator="a")  # p021 is spam: the person disagrees with the feedback
    prod.feedback.predictions(predictions_frame(), model="prod-1")
    s = prod.feedback.summary()
    row = s.loc["user_correction"]
    assert (row["n_signals"], row["n_items"], row["sources"]) == (12, 12, ["app"])
    assert (row["n_gold"], row["agree_gold"]) == (10, 0.8)
    assert row["agree_gold_low"] < 0.8 < row["agree_gold_high"]
    assert (row["n_human"], row["agree_human"]) == (2, 0.5)
    pred = s.loc["prediction:prod-1"]
    assert (pred["n_items"], pred["n_review"], pred["n_gold"]) == (5, 3, 5)
    top = np.where(predictions_frame()["spam"] > 0.5, "spam", "ham")
    expected = np.mean([t == parity_truth(e) for e, t in zip(predictions_frame()["example_id"], top, strict=True)])
    assert pred["agree_gold"] == pytest.approx(expected)


def test_the_feedback_source_votes_what_it_was_made_with_in_a_copy(prod: wb.Project) -> None:
    import pickle

    prod.feedback.ingest(corrections_log(), kind="user_correction", id_column="item_id", label_column="label",
                         timestamp_column="ts")
    lf = prod.lfs["feedback:user_correction"]
    assert isinstance(lf, FeedbackSource)
    copy = pickle.loads(pickle.dumps(lf))  # e.g. shipped to a Dask worker: no database handle travels
    frame = prod.examples()
    assert copy.apply_frame(frame).tolist() == lf.apply_frame(frame).tolist()
    assert copy.fingerprint == lf.fingerprint


# ------------------------------------------------------------------------------------------ migrations
def _votes(p: wb.Project) -> dict[str, int]:
    source = p.lfs["feedback:user_correction"]
    assert isinstance(source, FeedbackSource)
    return {str(k): int(v) for k, v in source.refresh().items()}


def test_events_a_migration_flags_stop_voting(prod: wb.Project) -> None:
    prod.feedback.ingest(corrections_log(), kind="user_correction", id_column="item_id", label_column="label",
                         timestamp_column="ts", source_name="app")
    lf = prod.lfs["feedback:user_correction"]
    assert _votes(prod) == {"p001": 1, "p002": 0, "p003": 0}
    before = lf.fingerprint
    prod.lfs.apply(progress=False)
    current = prod.labels(source="feedback")
    spam_event = int(current.loc[current["example_id"] == "p001", "event_id"].iloc[0])
    # "spam" is split into two choices: the spam correction cannot be mapped and is flagged (kept, excluded)
    result = prod.migrations.plan(prod.schema.evolve(split={"spam": ["scam", "promo"]})).apply()
    assert result.flagged == [spam_event] and spam_event in set(prod.events()["event_id"])  # kept in the log
    assert _votes(prod) == {"p002": 0, "p003": 0}  # the flagged event is gone; no other event of that kind is read
    assert lf.fingerprint != before  # so its cached votes and the label models fitted on them are refreshed
    assert set(prod.labels(source="feedback")["example_id"]) == {"p002", "p003"}  # the same as the project's labels
    col = pd.Series(prod.lfs.matrix()[:, 0], index=prod.examples().index)
    assert col[["p001", "p002", "p003"]].tolist() == [-1, 0, 0]


def test_flags_written_by_another_connection_reach_the_source(prod: wb.Project) -> None:
    prod.update_guidelines("Spam advertises; a link alone is not spam.")
    prod.feedback.ingest(corrections_log(), kind="user_correction", id_column="item_id", label_column="label",
                         timestamp_column="ts", source_name="app")
    assert _votes(prod) == {"p001": 1, "p002": 0, "p003": 0}
    with wb.Project.open(prod.path) as other:  # another kernel flags the corrections of p002 for re-review
        other.update_guidelines("Spam advertises; a link alone is not spam. Promotions are spam.")
        flagged = other.migrations.flag_for_review(sources=["feedback"])
        assert sorted(flagged["example_id"]) == ["p001", "p002", "p003"]
    assert _votes(prod) == {}  # no new event was written, yet the flags are read again


def test_the_feedback_source_refuses_an_exclusion_that_is_not_a_function(prod: wb.Project) -> None:
    with pytest.raises(wb.LFError, match=r"'excluded_event_ids' parameter of FeedbackSource must be a function "
                                         r"returning event ids \(e.g. LabelLog.excluded_event_ids\) or None. Got "
                                         r"frozenset instead"):
        FeedbackSource(prod._store, "user_correction", "spam", CHOICES,
                       excluded_event_ids=frozenset({1}))  # type: ignore[arg-type]


def test_soft_labels_name_production_feedback_as_its_own_source(tmp_path: Path, spam_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "src", schema=spam_schema)
    p.add_data(pd.DataFrame({"id": ["a", "b", "c", "d"], "text": ["win cash", "win big", "nice song", "hello"]}),
               id_column="id")
    p.lfs.add(keywords("win", ["win"], label=1))
    p.lfs.add(keywords("song", ["song"], label=0))
    p.lfs.add(keywords("cash", ["cash"], label=1))
    p.feedback.ingest(pd.DataFrame({"item": ["a", "d"], "label": ["spam", "ham"]}), kind="user_correction",
                      id_column="item", label_column="label")
    p.annotate("c", "ham", annotator="ann")
    soft = p.models.soft_labels(model="majority_vote")
    assert soft["sources"].to_dict() == {"a": "lf+feedback", "b": "lf", "c": "human+lf", "d": "feedback"}
    v = p.versions.save(soft)
    assert p.versions.manifest(v.name)["counts"]["by_source"]["feedback"] == 2
    p.close()
