"""Label models through the Project: fitting, comparison with majority vote, soft labels from every source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.lf import keywords, regex


@pytest.fixture
def spam(tmp_path: Path) -> tuple[wb.Project, pd.Series]:
    rng = np.random.default_rng(0)
    n = 300
    is_spam = rng.random(n) < 0.5
    spam_words = np.array(["subscribe to my channel", "check out http://x.io", "free gift card"])
    ham_words = np.array(["love this song", "great voice", "this beat is nice"])
    texts = [
        str(rng.choice(spam_words)) if s else str(rng.choice(ham_words)) for s in is_spam
    ]
    # noise: 10% of texts swapped to the other class's words
    flip = rng.random(n) < 0.1
    texts = [str(rng.choice(ham_words if s else spam_words)) if f else t
             for t, s, f in zip(texts, is_spam, flip, strict=True)]
    ids = [f"c{i:03d}" for i in range(n)]
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ids, "text": texts}), id_column="id")
    SPAM, HAM = p.schema.label_ids("spam", "ham")
    p.lfs.add(keywords("subscribe", ["subscribe"], label=SPAM))
    p.lfs.add(regex("link", r"https?://", label=SPAM))
    p.lfs.add(keywords("gift", ["gift"], label=SPAM))
    p.lfs.add(keywords("song", ["song", "voice"], label=HAM))
    p.lfs.add(keywords("beat", ["beat", "love"], label=HAM))
    gold = pd.Series(np.where(is_spam, "spam", "ham"), index=ids)
    yield p, gold
    p.close()


def test_compare_label_models_is_honest(spam: tuple[wb.Project, pd.Series]) -> None:
    p, gold = spam
    table = p.models.compare(gold=gold, models=("majority_vote", "dawid_skene"))
    assert set(table.index) >= {"majority_vote", "dawid_skene"}
    assert {"accuracy", "macro_f1", "log_loss", "ece", "coverage", "n_ties", "n_uncovered"} <= set(table.columns)
    assert table["n_gold"].iloc[0] == 300  # every gold row counted, none dropped
    assert "majority vote" in table.attrs["verdict"]
    assert 0.85 <= table.loc["dawid_skene", "accuracy"] <= 0.95
    with pytest.raises(wb.WorkbenchError, match="No gold labels"):
        p.models.compare()


def test_soft_labels_are_distributions_with_sources(spam: tuple[wb.Project, pd.Series]) -> None:
    p, gold = spam
    soft = p.models.soft_labels()
    probs = soft[["p_ham", "p_spam"]].to_numpy()
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert set(soft["sources"]) == {"lf"}
    assert (soft["label"] == gold.reindex(soft.index)).mean() > 0.85
    assert np.allclose(soft["confidence"], probs.max(axis=1))
    assert list(soft.columns) == ["p_ham", "p_spam", "label", "confidence", "weight", "sources"]


def test_gold_overrides_and_humans_sharpen(spam: tuple[wb.Project, pd.Series]) -> None:
    p, gold = spam
    first, second, third = gold.index[:3]
    p.add_gold(pd.DataFrame({"id": [first], "label": ["ham" if gold[first] == "spam" else "spam"]}))
    for who in ("a", "b", "c"):
        p.annotate(second, gold[second], annotator=who)
    p.annotate(third, "spam", annotator="clf", source="model", confidence=0.99)
    soft = p.models.soft_labels()
    assert soft.loc[first, "sources"] == "gold+lf" and soft.loc[first, "weight"] == 1.0
    assert soft.loc[first, "label"] != gold[first]  # gold wins, even against the LFs
    assert soft.loc[first, "confidence"] == 1.0
    assert soft.loc[second, "sources"] == "human+lf" and soft.loc[second, "label"] == gold[second]
    assert "model" in soft.loc[third, "sources"]
    sharp = p.models.soft_labels(humans="sharpen")
    assert sharp.loc[second, "confidence"] >= soft.loc[second, "confidence"] - 1e-9
    with pytest.raises(wb.LabelValidationError, match="'humans' parameter"):
        p.models.soft_labels(humans="ignore")


def test_unlabeled_rows_kept_on_request(spam: tuple[wb.Project, pd.Series]) -> None:
    p, _ = spam
    p.add_data(pd.DataFrame({"id": ["quiet"], "text": ["nothing fires here"]}), id_column="id")
    assert "quiet" not in p.models.soft_labels().index
    full = p.models.soft_labels(include_unlabeled=True)
    assert full.loc["quiet", "sources"] == "" and np.isnan(full.loc["quiet", "p_ham"])


def test_multi_question_soft_labels_follow_conditions(tmp_path: Path, seatbelt_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "sb", schema=seatbelt_schema)
    p.add_data(pd.DataFrame({"id": ["f1", "f2", "f3"], "text": ["driver belted", "empty road", "driver"]}),
               id_column="id")
    p.lfs.add(keywords("driver", ["driver"], label=0, question="person"))
    p.lfs.add(keywords("empty", ["empty"], label=1, question="person"))
    p.lfs.add(keywords("belted", ["belted"], label=0, question="seatbelt"))
    soft = p.models.soft_labels(include_unlabeled=True)
    assert soft.loc["f1", "label__person"] == "yes" and soft.loc["f1", "label__seatbelt"] == "yes"
    assert soft.loc["f2", "label__person"] == "no" and pd.isna(soft.loc["f2", "label__seatbelt"])
    assert np.isnan(soft.loc["f2", "p_seatbelt__yes"])  # not asked when no person is in frame
    assert "p_person__yes" in soft.columns and "p_seatbelt__unsure" in soft.columns


def test_fit_label_model_errors(tmp_path: Path, spam_schema: wb.Schema, comments: pd.DataFrame) -> None:
    p = wb.Project.create(tmp_path / "p", schema=spam_schema)
    p.add_data(comments, id_column="id")
    with pytest.raises(wb.WorkbenchError, match="No labeling functions"):
        p.models.fit()
    p.lfs.add(keywords("sub", ["subscribe"], label=1))
    with pytest.raises(wb.LabelValidationError, match="Unknown label model 'best'"):
        p.models.fit("best")
    model = p.models.fit("majority_vote")
    assert model.predict_proba(p.lfs.matrix()).shape == (6, 2)


def test_label_versions_lineage_diff_and_training(spam: tuple[wb.Project, pd.Series]) -> None:
    p, gold = spam
    seen = []
    p.on("label_version_saved", lambda version: seen.append(version.name))
    soft = p.models.soft_labels()
    v1 = p.versions.save(soft, message="5 LFs", author="alice", gold=gold)
    assert v1.name == "v1" and seen == ["v1"]
    manifest = p.versions.manifest("v1")
    assert manifest["schema_version"] == p.schema_version
    assert manifest["guideline_version"] == p.guideline_version
    assert [lf["name"] for lf in manifest["lfs"]] == p.lfs.names
    assert all(lf["fingerprint"] for lf in manifest["lfs"])
    assert manifest["label_model"]["class"] == "AutoLabelModel" and manifest["label_model"]["learned"]
    report = manifest["label_model"]["learned"].get("report")
    rebuilt = p.versions.label_model("v1")  # from the manifest alone, no pickle
    L = p.lfs.matrix()
    assert np.allclose(rebuilt.predict_proba(L), p.models.get("auto").predict_proba(L))
    assert rebuilt.report_ == p.models.get("auto").report_ and (report is None or report == rebuilt.report_)
    assert 0.85 < manifest["metrics"]["spam"]["accuracy"] <= 1.0
    # a second version with gold that overrides three rows
    p.add_gold(pd.DataFrame({"id": gold.index[:3], "label": ["ham", "ham", "ham"]}))
    v2 = p.versions.save(p.models.soft_labels(), message="+3 gold", author="alice")
    assert v2.parent == "v1"
    table = p.versions.list()
    assert table["name"].tolist() == ["v1", "v2"]
    diff = p.versions.diff("v1", "v2")
    assert diff.attrs["n_changed"] >= 1
    loaded = p.versions.load("v1")
    pd.testing.assert_frame_equal(loaded[["p_ham", "p_spam"]], soft[["p_ham", "p_spam"]].sort_index(),
                                  check_names=False)
    # training hand-off: arrays for scikit-learn and a recorded, linked training run
    features = pd.DataFrame({"len": p.examples()["text"].str.len()}, index=p.examples().index)
    X, y, w = p.versions.training_data("v2", features, run_name="logreg")
    assert len(X) == len(y) == len(w) and set(y) <= {"ham", "spam"}
    runs = p.versions.runs()
    assert runs["label_version"].tolist() == ["v2"]
    assert p.versions.list().set_index("name").loc["v2", "used_by_runs"] == [runs["run_id"].iloc[0]]
    assert p.verify()["label_versions"] == 2
    # tampering is caught by verify and by load
    file = p.path / "labels" / "v1" / "labels.parquet"
    file.chmod(0o644)
    file.write_bytes(file.read_bytes()[:-20])
    with pytest.raises(wb.WorkbenchError, match="v1"):
        p.verify()
    with pytest.raises(wb.WorkbenchError):
        p.versions.load("v1")


def test_version_metrics_never_score_gold_on_itself(spam: tuple[wb.Project, pd.Series]) -> None:
    p, gold = spam
    dev = gold.index[:40]
    p.add_gold(pd.DataFrame({"id": dev, "label": gold[dev].to_numpy()}))
    v = p.versions.save(p.models.soft_labels(), author="t", gold="gold")
    assert p.versions.manifest(v.name)["metrics"] == {}  # only gold rows: nothing honest to score
    v2 = p.versions.save(p.models.soft_labels(), author="t", gold=gold)
    m2 = p.versions.manifest(v2.name)["metrics"]["spam"]
    assert m2["n_gold"] == 300 - 40  # the 40 gold rows are left out of their own evaluation
    assert m2["n_gold_covered"] + m2["n_gold_uncovered"] == m2["n_gold"]
    assert m2["accuracy_all"] <= m2["accuracy"]


def test_named_and_prefitted_models(spam: tuple[wb.Project, pd.Series]) -> None:
    from workbench.models import DawidSkene, MajorityVote

    p, gold = spam
    custom = DawidSkene(abstain="votes_only", class_prior="uniform", random_state=0)
    p.models.fit(custom)  # kept as "dawid_skene": soft_labels uses it
    assert p.models.get("dawid_skene") is custom
    mv = MajorityVote().fit(p.lfs.matrix())
    table = p.models.compare(gold=gold, models={"mv": mv, "ds": custom})
    assert {"mv", "ds"} <= set(table.index)
    other = p.models.fit("dawid_skene", name="ds_default")
    assert p.models.get("ds_default") is other
    assert set(p.models.fitted()["name"]) == {"dawid_skene", "ds_default"}


def test_diff_ignores_tiny_refit_noise(spam: tuple[wb.Project, pd.Series]) -> None:
    p, _ = spam
    soft = p.models.soft_labels()
    p.versions.save(soft, author="t")
    nudged = soft.copy()
    nudged["p_ham"] = (nudged["p_ham"] * 0.99999).clip(0, 1)
    nudged["p_spam"] = 1.0 - nudged["p_ham"]
    p.versions.save(nudged, author="t")
    diff = p.versions.diff("v1", "v2")
    assert diff.attrs["n_changed"] == 0
    assert p.versions.diff("v1", "v2", tol=0.0).attrs["n_changed"] > 0


def test_compare_with_two_lfs_skips_snorkel_with_a_note(spam: tuple[wb.Project, pd.Series]) -> None:
    p, gold = spam
    for name in [lf.name for lf in p.lfs][2:]:
        p.lfs.remove(name)
    out = p.models.compare(gold=gold, models=("majority_vote", "dawid_skene", "snorkel"))
    assert "snorkel" not in out.index and {"majority_vote", "dawid_skene"} <= set(out.index)
    assert any("snorkel skipped" in n and "at least 3" in n for n in out.attrs["notes"])


@pytest.mark.parametrize("name", ["majority_vote", "dawid_skene", "auto"])
def test_kept_models_follow_a_migration_that_changes_the_number_of_choices(tmp_path: Path, name: str) -> None:
    """A model kept before a migration is refitted with the new schema's cardinality, not its own."""
    rng = np.random.default_rng(1)
    n = 120
    is_spam = rng.random(n) < 0.5
    texts = ["free gift card" if s else "love this song" for s in is_spam]
    ids = [f"m{i:03d}" for i in range(n)]
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam", "unsure"]))
    try:
        p.add_data(pd.DataFrame({"id": ids, "text": texts}), id_column="id")
        SPAM, HAM = p.schema.label_ids("spam", "ham")
        p.lfs.add(keywords("gift", ["gift"], label=SPAM))
        p.lfs.add(keywords("song", ["song"], label=HAM))
        p.lfs.add(keywords("free", ["free"], label=SPAM))
        p.add_gold(pd.DataFrame({"id": ids[:40], "label": np.where(is_spam[:40], "spam", "ham")}),
                   id_column="id", label_column="label")
        assert p.models.get(name).cardinality_ == 3
        p.migrations.plan(p.schema.evolve(remove=["unsure"])).apply()
        refit = p.models.get(name)
        assert refit.cardinality_ == 2
        proba = p.models.predict_proba()
        assert proba is not None and proba.shape[1] == 2
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    finally:
        p.close()


def test_soft_labels_of_several_questions_save_as_a_version(tmp_path: Path, seatbelt_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "car", schema=seatbelt_schema)
    try:
        p.add_data(pd.DataFrame({"id": ["a", "b", "c", "d"], "text": ["a man belted", "road", "a woman", "man"]}),
                   id_column="id")
        p.lfs.add(keywords("someone", ["man", "woman"], label=p.schema.label_id("yes", question="person")),
                  question="person")
        p.lfs.add(keywords("road", ["road"], label=p.schema.label_id("no", question="person")), question="person")
        p.lfs.add(keywords("belted", ["belted"], label=p.schema.label_id("yes", question="seatbelt")),
                  question="seatbelt")
        soft = p.models.soft_labels("majority_vote")
        per_q = soft[["confidence__person", "confidence__seatbelt"]]
        np.testing.assert_allclose(soft["confidence"], per_q.min(axis=1, skipna=True))
        version = p.versions.save(soft, message="two questions")
        back = p.versions.load(version.name if hasattr(version, "name") else version)
        assert set(back.index) == set(soft.index)
        np.testing.assert_allclose(back.loc[soft.index, "confidence"], soft["confidence"])
    finally:
        p.close()


def test_fit_refuses_a_model_for_another_number_of_classes_and_a_bad_seed(spam: tuple[wb.Project, pd.Series]) -> None:
    p, _ = spam
    with pytest.raises(wb.LabelValidationError, match=r"DawidSkene\(cardinality=3\) does not fit question 'spam'"):
        p.models.fit(wb.models.DawidSkene(cardinality=3))
    for seed in ("a", -1, 1.5, True):
        with pytest.raises(wb.LabelValidationError, match="'random_state' parameter of project.models.fit"):
            p.models.fit("dawid_skene", random_state=seed)  # type: ignore[arg-type]
    assert p.models.fit(wb.models.DawidSkene(cardinality=2)).predict_proba(p.lfs.matrix()).shape[1] == 2


def test_add_gold_refuses_an_id_with_two_labels(spam: tuple[wb.Project, pd.Series]) -> None:
    p, _ = spam
    with pytest.raises(wb.LabelValidationError, match=r"1 id\(s\) come with two different labels, e.g. \['c001'\]"):
        p.add_gold(pd.DataFrame({"id": ["c001", "c001", "c002"], "label": ["spam", "ham", "ham"]}))
    assert p.gold().empty  # nothing written
    same = pd.DataFrame({"id": ["c001", "c001", "c002", "c003"], "label": ["spam", "spam", "ham", None]})
    assert p.add_gold(same) == 2  # a repeated row is one label; a blank label is left out
    assert p.gold().to_dict() == {"c001": "spam", "c002": "ham"}
