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
    before = spam.models.soft_labels(model="dawid_skene")
    spam.models.fit("dawid_skene")  # kept under the name and reused while nothing changes
    assert spam.models.get("dawid_skene") is spam.models.get("dawid_skene")

    @labeling_function(name="song")  # same name, new code: votes spam on "check out"
    def song(x: object) -> int:
        return 1 if "check out" in str(getattr(x, "text", "")) else wb.ABSTAIN

    spam.lfs.add(song)
    assert not spam.models.fitted().set_index("name").loc["dawid_skene", "current"]
    after = spam.models.soft_labels(model="dawid_skene")
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


def _votes_of_column(values: pd.Series) -> np.ndarray:
    return values.to_numpy()


class Memorizer(wb.models.LabelModel):
    """A label model that remembers the gold of every vote pattern it saw: perfect in-sample, chance out of it."""

    def __init__(self, cardinality: int | None = 2) -> None:
        self.cardinality = cardinality

    def _fit(self, L: np.ndarray, cardinality: int, y: np.ndarray | None) -> None:
        self.memory_ = {} if y is None else {L[i].tobytes(): int(y[i]) for i in np.flatnonzero(y >= 0)}
        self.class_prior_ = np.full(cardinality, 1.0 / cardinality)

    def _predict_proba(self, L: np.ndarray) -> np.ndarray:
        k = len(self.class_prior_)
        P = np.full((len(L), k), 1.0 / k)
        for i, row in enumerate(L):
            c = self.memory_.get(row.tobytes())
            if c is not None:
                P[i] = np.eye(k)[c]
        return P


def test_compare_never_scores_a_gold_fitted_model_on_its_own_gold(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    n = 300
    votes = rng.integers(-1, 2, size=(n, 12))  # unique random vote patterns: nothing to learn
    df = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": ["x"] * n,
                       "label": rng.choice(["ham", "spam"], size=n),
                       **{f"v{j}": votes[:, j] for j in range(votes.shape[1])}})
    p = wb.Project.create(tmp_path / "m", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(df, id_column="id")
    for j in range(votes.shape[1]):
        p.lfs.add(wb.lf.vectorized(f"v{j}", column=f"v{j}")(_votes_of_column))
    memo = p.models.fit(Memorizer(), gold="label", name="memo")
    L, y = p.lfs.matrix(), p.lfs.gold_labels("label")
    in_sample = (memo.predict_proba(L).argmax(axis=1) == y).mean()
    assert in_sample == 1.0
    table = p.models.compare(gold="label", models=("majority_vote", "memo"))
    assert table.loc["memo", "evaluation"].startswith("cross-fitted")
    assert table.loc["memo", "accuracy"] < 0.65  # chance, not the in-sample 1.0
    assert table.loc["majority_vote", "evaluation"] == "unsupervised (gold not used)"


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
