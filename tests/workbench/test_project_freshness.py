"""Derived results follow what is there now: refits after LF edits, exact training provenance, no in-sample scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.lf import keywords, labeling_function


@pytest.fixture
def spam(tmp_path: Path) -> wb.Project:
    rng = np.random.default_rng(3)
    words = ["subscribe", "check out", "great song", "love this", "my channel", "free"]
    texts = [" ".join(rng.choice(words, size=2)) for _ in range(200)]
    df = pd.DataFrame({"id": [f"c{i}" for i in range(200)], "text": texts})
    df["label"] = np.where(df["text"].str.contains("subscribe|channel|free"), "spam", "ham")
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(df, id_column="id")
    p.lfs.add(keywords("sub", ["subscribe"], label=1))
    p.lfs.add(keywords("song", ["song", "love"], label=0))
    p.lfs.add(keywords("free", ["free"], label=1))
    return p


def test_reregistering_an_lf_refits_the_label_model(spam: wb.Project) -> None:
    before = spam.models.soft_labels()
    spam.models.fit("dawid_skene")  # kept under the name and reused while nothing changes
    assert spam.models.get("dawid_skene") is spam.models.get("dawid_skene")

    @labeling_function(name="song")  # same name, new code: votes spam on "check out"
    def song(x: object) -> int:
        return 1 if "check out" in str(getattr(x, "text", "")) else wb.ABSTAIN

    spam.lfs.add(song)
    assert not spam.models.fitted().set_index("name").loc["dawid_skene", "current"]
    after = spam.models.soft_labels()
    fresh = wb.models.DawidSkene(cardinality=2, random_state=0).fit(spam.lfs.matrix())
    L = spam.lfs.matrix()
    covered = (L != wb.ABSTAIN).any(axis=1)
    expected = pd.DataFrame(fresh.predict_proba(L[covered]), index=spam.examples().index[covered])
    np.testing.assert_allclose(after[["p_ham", "p_spam"]].to_numpy(), expected.loc[after.index].to_numpy())
    assert not before.index.equals(after.index) or not np.allclose(before["p_spam"], after["p_spam"])
    # the version records the LF that made the labels, and the labels come from it
    v = spam.versions.save(after, author="t")
    recorded = {lf["name"]: lf["fingerprint"] for lf in spam.versions.manifest(v.name)["lfs"]}
    assert recorded["song"] == spam.lfs["song"].fingerprint


def test_new_data_refits_too(spam: wb.Project) -> None:
    first = spam.models.get("dawid_skene")
    spam.add_data(pd.DataFrame({"id": ["n1", "n2"], "text": ["subscribe free", "great song"],
                                "label": ["spam", "ham"]}), id_column="id")
    assert spam.models.get("dawid_skene") is not first
    assert {"n1", "n2"} <= set(spam.models.soft_labels().index)


def test_compare_says_in_sample_for_a_gold_fitted_model(spam: wb.Project) -> None:
    spam.models.fit("dawid_skene", gold="label")
    table = spam.models.compare(gold="label", models=("majority_vote", "dawid_skene"))
    assert bool(table.loc["dawid_skene", "in_sample"]) is True
    assert any("in-sample" in note for note in table.attrs["notes"])
    spam.models.fit("dawid_skene")  # refit without gold: an honest comparison again
    table = spam.models.compare(gold="label", models=("majority_vote", "dawid_skene"))
    assert not table["in_sample"].any()


def test_a_training_run_links_exactly_the_events_of_its_version(spam: wb.Project) -> None:
    spam.annotate("c1", "spam", annotator="ann")
    spam.annotate("c2", "ham", annotator="ann")
    v1 = spam.versions.save(spam.models.soft_labels(), author="t")
    used = set(spam.versions.event_ids(v1.name))
    assert used == set(spam.labels()["event_id"])
    # labels made after v1 was saved, and a correction, must not be linked to a run on v1
    spam.annotate("c3", "spam", annotator="ann")
    spam.annotate("c1", "ham", annotator="ann")
    spam.versions.training_data(v1.name, run_name="run-on-v1")
    run = spam.versions.runs().iloc[-1]
    assert run["n_events"] == len(used)
    linked = {int(e) for eid in ("c1", "c2", "c3") for e, runs in
              zip(spam.history(eid)["event_id"], spam.history(eid)["training_runs"], strict=True) if runs}
    assert linked == used
    assert all(spam.history("c3")["training_runs"].map(len) == 0)


def test_an_empty_soft_label_frame_is_refused(spam: wb.Project) -> None:
    soft = spam.models.soft_labels()
    with pytest.raises(wb.LabelValidationError, match="no rows"):
        spam.versions.save(soft.iloc[:0], author="t")
    assert spam.versions.list().empty
