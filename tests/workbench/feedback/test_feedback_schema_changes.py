"""Feedback weak sources follow the project's schema: after a migration a vote is the position of the label among
the current choices, mapped feedback votes under its new choice, flagged feedback abstains."""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.feedback import FeedbackSource
from workbench.migrations import MigrationResult

KIND = "user_correction"
COLUMN = f"feedback:{KIND}"


def ingest(p: wb.Project, labels: dict[str, str], *, kind: str = KIND, question: str | None = None) -> None:
    p.feedback.ingest(pd.DataFrame({"item": list(labels), "label": list(labels.values())}), kind=kind,
                      id_column="item", label_column="label", source_name="app", question=question)


def migrate(p: wb.Project, new: wb.Schema, **apply: object) -> MigrationResult:
    with warnings.catch_warnings():
        # the migration warns about ordinary LFs whose label ids change meaning (not about feedback sources)
        warnings.simplefilter("ignore", UserWarning)
        return p.migrations.plan(new).apply(**apply)  # type: ignore[arg-type]


def column(p: wb.Project, name: str = COLUMN, question: str | None = None) -> pd.Series:
    key = None if p.schema.is_single else question
    L = p.lfs.matrix(key)
    names = [lf.name for lf in p.lfs if lf.question == key or key is None]
    return pd.Series(L[:, names.index(name)], index=p.examples().index)


def current_feedback(p: wb.Project, kind: str = KIND, question: str | None = None) -> pd.Series:
    """Each item's current feedback label of ``kind`` (what the project's labels say), latest first wins."""
    ev = p.labels(source="feedback", question=question)
    ev = ev[ev["annotator"].astype(str).str.startswith(f"{kind}:")].sort_values(["created_at", "event_id"])
    return ev.drop_duplicates("example_id", keep="last").set_index("example_id")["value"]


def assert_column_votes_current_labels(p: wb.Project, kind: str = KIND, question: str | None = None) -> None:
    """The column is the current feedback labels as positions among the current choices, ABSTAIN elsewhere."""
    q = p.schema.question(question)
    labels = current_feedback(p, kind, q.name)
    positions = {c: k for k, c in enumerate(q.choices)}
    expected = pd.Series([positions[str(labels[i])] if i in labels.index else -1 for i in p.examples().index],
                         index=p.examples().index)
    got = column(p, f"feedback:{kind}", q.name)
    pd.testing.assert_series_equal(got.astype(int), expected.astype(int), check_names=False)


def assert_label_model_input(p: wb.Project) -> None:
    """A label model fitted now has the current choices; a unanimous row of votes predicts its current label."""
    lm = p.models.fit("majority_vote")  # on p.lfs.matrix(), the label model's input
    q = p.schema.question()
    assert lm.cardinality_ == q.cardinality
    L = p.lfs.matrix()
    voted = L != -1
    unanimous = voted.any(axis=1) & np.array([len(set(row[row != -1])) == 1 for row in L])
    pred = lm.predict(L[unanimous])
    expected = np.array([row[row != -1][0] for row in L[unanimous]])
    np.testing.assert_array_equal(pred, expected)
    proba = p.models.predict_proba()
    assert proba is not None and list(proba.columns) == list(q.choices)


def test_a_renamed_choice_votes_under_its_new_name(spam_project: Callable[..., wb.Project]) -> None:
    p = spam_project("rename", prefix="p", n=12, width=3, spam_text="win cash", ham_text="nice song")
    ingest(p, {"p000": "ham", "p001": "spam", "p002": "ham", "p003": "spam"})
    ingest(p, {"p001": "spam", "p004": "ham"}, kind="flag")
    before = p.lfs[COLUMN].fingerprint
    migrate(p, p.schema.evolve(rename={"spam": "junk"}))
    assert set(current_feedback(p)) == {"ham", "junk"}  # the migration carried the feedback over
    col = column(p)
    assert col[["p000", "p001", "p002", "p003", "p005"]].tolist() == [
        p.schema.label_id("ham"), p.schema.label_id("junk"), p.schema.label_id("ham"), p.schema.label_id("junk"), -1]
    assert_column_votes_current_labels(p)
    assert_column_votes_current_labels(p, "flag")
    assert p.lfs[COLUMN].fingerprint != before
    assert_label_model_input(p)
    # new feedback under the new name counts as well
    ingest(p, {"p005": "junk"})
    assert column(p)["p005"] == p.schema.label_id("junk")


def test_merged_choices_vote_as_one(spam_project: Callable[..., wb.Project]) -> None:
    schema = wb.Schema.single("spam", ["ham", "scam", "spam", "promo"])
    p = spam_project("merge", prefix="p", n=10, width=3, spam_text="x", ham_text="y", schema=schema)
    ingest(p, {"p000": "ham", "p001": "scam", "p002": "spam", "p003": "promo"})
    assert column(p)[["p000", "p001", "p002", "p003"]].tolist() == [0, 1, 2, 3]
    migrate(p, p.schema.evolve(merge={"junk": ["scam", "promo"]}))
    junk, spam = p.schema.label_ids("junk", "spam")
    assert p.schema.question().cardinality == 3
    assert column(p)[["p000", "p001", "p002", "p003"]].tolist() == [0, junk, spam, junk]
    assert_column_votes_current_labels(p)
    assert_label_model_input(p)
    assert p.feedback.sources()["n_items"].tolist() == [4]


@pytest.mark.parametrize("exclude", ["flagged", "keep_old_version"])
def test_a_removed_choice_abstains_and_the_others_move_up(
    spam_project: Callable[..., wb.Project], exclude: str
) -> None:
    schema = wb.Schema.single("spam", ["ham", "promo", "spam"])
    p = spam_project("remove", prefix="p", n=10, width=3, spam_text="x", ham_text="y", schema=schema)
    ingest(p, {"p000": "ham", "p001": "promo", "p002": "spam", "p003": "promo"})
    labels = p.labels()
    promo_events = set(labels.loc[labels["value"] == "promo", "event_id"].astype(int))
    result = migrate(p, p.schema.evolve(remove=["promo"]), exclude=exclude)
    assert set(result.flagged) == promo_events
    flags = p.migrations.flags().set_index("event_id")
    assert set(flags.loc[list(promo_events), "rule"]) == {exclude}
    spam = p.schema.label_id("spam")
    assert spam == 1  # it was 2: every vote for it moves
    assert column(p)[["p000", "p001", "p002", "p003"]].tolist() == [0, -1, spam, -1]
    assert_column_votes_current_labels(p)
    assert_label_model_input(p)
    assert p.lfs.apply(progress=False).errors == {}


def test_a_split_choice_abstains_until_new_feedback(spam_project: Callable[..., wb.Project]) -> None:
    p = spam_project("split", prefix="p", n=8, width=3, spam_text="x", ham_text="y")
    ingest(p, {"p000": "ham", "p001": "spam"})
    migrate(p, p.schema.evolve(split={"spam": ["scam", "promo"]}))
    assert column(p)[["p000", "p001"]].tolist() == [0, -1]
    ingest(p, {"p001": "promo"})
    assert column(p)["p001"] == p.schema.label_id("promo")
    assert_column_votes_current_labels(p)


def test_a_migration_in_another_process_reaches_this_one(spam_project: Callable[..., wb.Project]) -> None:
    p = spam_project("other", prefix="p", n=8, width=3, spam_text="x", ham_text="y",
                     schema=wb.Schema.single("spam", ["ham", "promo", "spam"]))
    ingest(p, {"p000": "promo", "p001": "spam"})
    assert column(p)[["p000", "p001"]].tolist() == [1, 2]
    with wb.Project.open(p.path) as other:
        migrate(other, other.schema.evolve(remove=["promo"], rename={"spam": "junk"}))
    assert p.schema.question().choices == ("ham", "junk")
    assert column(p)[["p000", "p001"]].tolist() == [-1, 1]
    # nothing re-registered a second column, and a copy for a worker votes the current positions
    assert p.lfs.names == [COLUMN]
    source = p.lfs[COLUMN]
    assert isinstance(source, FeedbackSource)
    copy = pickle.loads(pickle.dumps(source))
    assert copy.apply_frame(p.examples()).tolist() == source.apply_frame(p.examples()).tolist()
    assert copy.choices == ("ham", "junk")


def _two_questions() -> wb.Schema:
    return wb.Schema("cars", [wb.Question("person", ["yes", "no"]),
                              wb.Question("seatbelt", ["yes", "no"], when={"person": "yes"})])


def test_a_renamed_question_keeps_its_column(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "cars", schema=_two_questions())
    p.add_data(pd.DataFrame({"id": [f"f{i}" for i in range(4)], "text": ["a"] * 4}), id_column="id")
    ingest(p, {"f0": "yes", "f1": "no"}, question="person")
    assert column(p, question="person")[["f0", "f1", "f2"]].tolist() == [0, 1, -1]
    # two migrations in a row (renamed twice, a choice renamed too) before the source reads again
    migrate(p, p.schema.evolve(rename_question={"person": "human"}))
    migrate(p, p.schema.evolve(rename_question={"human": "occupant"}).evolve(question="occupant",
                                                                            rename={"no": "nobody"}))
    assert p.lfs[COLUMN].question == "occupant"
    assert column(p, question="occupant")[["f0", "f1", "f2"]].tolist() == [0, 1, -1]
    assert_column_votes_current_labels(p, question="occupant")
    ingest(p, {"f2": "nobody"}, question="occupant")
    assert column(p, question="occupant")["f2"] == 1
    assert p.feedback.sources()[["question", "n_items"]].values.tolist() == [["occupant", 3]]
    with wb.Project.open(p.path) as other:  # a new session registers the source under the question's new name
        assert other.lfs[COLUMN].question == "occupant"
        assert column(other, question="occupant").tolist() == column(p, question="occupant").tolist()


def test_a_schema_that_gains_a_question_keeps_the_column(spam_project: Callable[..., wb.Project]) -> None:
    p = spam_project("grow", prefix="p", n=6, width=3, spam_text="x", ham_text="y")
    ingest(p, {"p000": "ham", "p001": "spam"})
    migrate(p, p.schema.evolve(add_question=wb.Question("lang", ["en", "other"])))
    assert p.lfs[COLUMN].question == "spam"  # no longer the only question: the engine's key names it
    assert column(p, question="spam")[["p000", "p001", "p002"]].tolist() == [0, 1, -1]


# ------------------------------------------------------------------------------------------ errors
def test_feedback_source_schema_errors(prod_like: wb.Project) -> None:
    store, schema = prod_like._store, prod_like._schema
    with pytest.raises(wb.LFError, match=r"'schema' parameter of FeedbackSource must be the project's "
                                         r"SchemaRegistry .* Got Schema instead"):
        FeedbackSource(store, KIND, "spam", ["ham", "spam"], schema=prod_like.schema)  # type: ignore[arg-type]
    with pytest.raises(wb.LFError, match=r"'question' parameter of FeedbackSource must be a question of the current "
                                         r"schema \['spam'\]. Got 'toxic' instead"):
        FeedbackSource(store, KIND, "toxic", ["ham", "spam"], schema=schema)
    with pytest.raises(wb.LFError, match=r"'choices' parameter of FeedbackSource must be the current choices of "
                                         r"'spam', \['ham', 'spam'\], when a schema is given. Got \['spam', 'ham'\]"):
        FeedbackSource(store, KIND, "spam", ["spam", "ham"], schema=schema)


@pytest.fixture
def prod_like(spam_project: Callable[..., wb.Project]) -> wb.Project:
    return spam_project("errors", prefix="p", n=4, width=3, spam_text="x", ham_text="y")


def test_a_migration_does_not_warn_about_feedback_sources(spam_project: Callable[..., wb.Project]) -> None:
    """Feedback sources re-read the schema, so a plan does not list them as LFs whose votes change meaning."""
    schema = wb.Schema.single("spam", ["ham", "scam", "spam", "promo"])
    p = spam_project("nowarn", prefix="p", n=8, width=3, spam_text="x", ham_text="y", schema=schema)
    ingest(p, {"p000": "ham", "p001": "scam", "p002": "spam"})
    SPAM = p.schema.label_id("spam")

    @p.lfs.labeling_function(name="xs")  # an ordinary LF; nothing says it never votes 3 ('promo', merged away)
    def xs(x: pd.Series) -> int:
        return SPAM if "x" in x.text else wb.ABSTAIN

    plan = p.migrations.plan(p.schema.evolve(merge={"junk": ["scam", "promo"]}))
    assert plan.lfs()["lf"].tolist() == ["xs"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan.apply()
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert any("xs" in m for m in messages)
    assert not any("feedback:" in m for m in messages)
    assert_column_votes_current_labels(p)
