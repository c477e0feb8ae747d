"""The loop as careful users drive it: estimators without sample weights, models of another question,
follow-ups under auto-accepted parents, numpy numbers, one id as a string, ids given as int and as text."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import KNeighborsClassifier

import workbench as wb
from workbench.active import ActiveLearner, AutoAccept
from workbench.exceptions import DataError, LabelValidationError

SPAM, HAM = 1, 0


def _two_questions(tmp_path: Path, youtube_comments: pd.DataFrame, follow_up: bool) -> wb.Project:
    second = (wb.Question("kind", choices=["link", "other"], when={"spam": "spam"}) if follow_up
              else wb.Question("psy", choices=["ham", "spam"]))
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema(name="two", questions=[
        wb.Question("spam", choices=["ham", "spam"]), second]))
    p.add_data(youtube_comments[["id", "text"]], id_column="id")
    p.add_gold(youtube_comments.iloc[:300][["id", "label"]], id_column="id", label_column="label", question="spam")
    return p


def test_soft_targets_need_an_estimator_that_takes_sample_weights(tmp_path: Path, youtube_comments: pd.DataFrame,
                                                                   spam_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "p", schema=spam_schema)
    p.add_data(youtube_comments, id_column="id")
    p.add_gold(youtube_comments.iloc[:60][["id", "label"]], id_column="id", label_column="label")
    p.lfs.add(wb.lf.keywords("check_out", ["check out", "subscribe", "http"], label=SPAM))
    p.lfs.add(wb.lf.keywords("song", ["song", "love"], label=HAM))
    version = p.versions.save(p.models.soft_labels("majority_vote"), message="two LFs").name
    runs = len(p.versions.runs())
    learner = ActiveLearner(p, KNeighborsClassifier(n_neighbors=2), random_state=0)
    with pytest.raises(LabelValidationError, match="soft=True.* KNeighborsClassifier.fit takes no sample_weight"):
        learner.fit(labels=version, soft=True)
    assert len(p.versions.runs()) == runs  # nothing recorded
    with pytest.warns(UserWarning, match="train as plain hard labels"):
        learner.fit(labels=version)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ActiveLearner(p, random_state=0).fit(labels=version, soft=True)  # LogisticRegression takes them


def test_prelabel_pre_labels_the_question_the_model_predicts(tmp_path: Path, youtube_comments: pd.DataFrame) -> None:
    p = _two_questions(tmp_path, youtube_comments, follow_up=False)
    p.add_gold(youtube_comments.iloc[:300][["id", "label"]], id_column="id", label_column="label", question="psy")
    learner = ActiveLearner(p, question="psy", random_state=0).fit()
    gold = youtube_comments.iloc[:300]
    accept = AutoAccept(0.95).fit(learner.cross_fitted_proba(gold["id"].tolist()).to_numpy(),
                                  gold["label"].map({"ham": 0, "spam": 1}).to_numpy())
    assert learner.target_question == "psy"
    n = len(p.events())
    with pytest.raises(LabelValidationError, match="pre-label 'spam' with a model of 'psy'"):
        p.annotation.prelabel(learner, auto_accept=accept, question="spam")
    assert len(p.events()) == n
    run = p.annotation.prelabel(learner, auto_accept=accept)  # the default: the learner's question, not the root
    assert run.question == "psy" and run.n_accepted > 0
    assert p.annotation.auto_accepted("spam").empty and len(p.annotation.auto_accepted("psy")) == run.n_accepted


def test_a_follow_ups_pool_leaves_out_items_whose_parent_was_auto_accepted_against_it(
        tmp_path: Path, youtube_comments: pd.DataFrame) -> None:
    p = _two_questions(tmp_path, youtube_comments, follow_up=True)
    spam_gold = youtube_comments.iloc[:300]
    kinds = np.where(spam_gold["text"].str.contains("http", case=False), "link", "other")
    p.add_gold(pd.DataFrame({"id": spam_gold["id"], "kind": kinds})[spam_gold["label"].to_numpy() == "spam"],
               id_column="id", label_column="kind", question="kind")
    root = ActiveLearner(p, question="spam", random_state=0).fit()
    accept = AutoAccept(0.95).fit(root.cross_fitted_proba(spam_gold["id"].tolist()).to_numpy(),
                                  spam_gold["label"].map({"ham": 0, "spam": 1}).to_numpy())
    p.annotation.prelabel(root, auto_accept=accept)
    accepted = p.annotation.auto_accepted("spam")
    ham = set(accepted.loc[accepted["value"] == "ham", "example_id"])
    assert ham
    batch = ActiveLearner(p, question="kind", random_state=0).fit().next_batch(200)
    assert not set(batch) & ham


def test_numpy_numbers_one_id_as_text_and_ids_as_int_and_text(tmp_path: Path, youtube_comments: pd.DataFrame,
                                                              spam_schema: wb.Schema) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    P = np.c_[1 - y * 0.8 - 0.1, y * 0.8 + 0.1]
    plain = AutoAccept(0.9, min_accepted=38, max_steps=20).fit(P, y)
    numpy = AutoAccept(np.float32(0.9), min_accepted=np.int64(38), max_steps=np.int64(20)).fit(P, y)
    assert numpy.threshold_ == pytest.approx(plain.threshold_)
    p = wb.Project.create(tmp_path / "p", schema=spam_schema)
    p.add_data(youtube_comments.iloc[:200], id_column="id")
    p.add_gold(youtube_comments.iloc[:60][["id", "label"]], id_column="id", label_column="label")
    learner = ActiveLearner(p, random_state=0).fit()
    one = str(youtube_comments["id"].iloc[0])
    with pytest.raises(LabelValidationError, match="cross_fitted_proba must be a list .* wrap one id in a list"):
        learner.cross_fitted_proba(one)
    assert len(learner.cross_fitted_proba([one])) == 1
    q = wb.Project.create(tmp_path / "ints", schema=spam_schema)
    q.add_data(pd.DataFrame({"id": [1, 2, 3], "text": ["a", "b", "c"]}), id_column="id")
    features = pd.DataFrame({"f": [0.1, 0.2, 0.3, 0.4]}, index=pd.Index([1, 2, 3, "1"], dtype=object))
    with pytest.raises(DataError, match="duplicate example ids, e.g. \\['1'\\]"):
        ActiveLearner(q, features=features, random_state=0).fit()


def test_a_run_links_only_the_version_events_behind_the_rows_it_trained_on(tmp_path: Path,
                                                                           spam_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "p", schema=spam_schema)
    texts = [f"great song number {i}" for i in range(20)] + [f"subscribe to my channel {i}" for i in range(20)]
    p.add_data(pd.DataFrame({"id": [f"x{i}" for i in range(40)], "text": texts}), id_column="id")
    for i in range(40):
        p.annotate(f"x{i}", "ham" if i < 20 else "spam", annotator="alice")
    version = p.versions.save(p.models.soft_labels()).name
    old = int(p.history("x0").iloc[-1]["event_id"])
    p.annotate("x0", "spam", annotator="alice")  # alice corrects herself after the version
    learner = ActiveLearner(p, random_state=0).fit(labels=version, cv=None)
    history = p.history("x0").set_index("event_id")
    assert learner.run_id not in (history.loc[old, "training_runs"] or [])
    assert learner.run_id in history.iloc[-1]["training_runs"]
