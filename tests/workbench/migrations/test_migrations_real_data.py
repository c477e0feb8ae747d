"""Migrations over real crowd labels (Snow et al. 2008): every label accounted for, none rewritten."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb

pytestmark = pytest.mark.data


def _crowd(tmp_path: Path, data_dir: Path, task: str) -> tuple[wb.Project, pd.DataFrame]:
    raw = pd.read_csv(data_dir / "snow2008_rte_temporal" / f"{task}.standardized.tsv", sep="\t", dtype=str)
    raw = raw.rename(columns={"!amt_worker_ids": "annotator", "orig_id": "id", "response": "value"})
    gold = raw.drop_duplicates("id")[["id", "gold"]].rename(columns={"gold": "label"})
    p = wb.Project.create(tmp_path / task, schema=wb.Schema.single(task, sorted(raw["value"].unique())),
                          text_column=None)
    p.add_data(pd.DataFrame({"id": gold["id"], "task": task}), id_column="id")
    p.annotation.import_annotations(raw[["id", "annotator", "value"]])
    p.add_gold(gold.head(100))
    return p, raw


@pytest.mark.slow
@pytest.mark.parametrize("task", ["rte", "temp"])
def test_rename_then_split_accounts_for_every_real_label(tmp_path: Path, data_dir: Path, task: str) -> None:
    p, raw = _crowd(tmp_path, data_dir, task)
    n_labels = len(p.labels())
    assert n_labels == len(raw) + 100
    before_cons = p.quality.consensus("majority")["label"]
    n_events = len(p.events())
    # 1. a pure rename maps every label of every source automatically; consensus means the same
    names = {c: f"answer_{c}" for c in p.schema.question().choices}  # whatever the task's choices are
    rename = p.migrations.plan(p.schema.evolve(rename=names))
    assert rename.counts["mapped"] == n_labels and rename.relabel_items().empty
    result = rename.apply()
    assert len(p.events()) == n_events + n_labels  # only appended
    after_cons = p.quality.consensus("majority")["label"]
    mapped_back = before_cons.map(names)
    tie = "<tie>"
    assert after_cons.reindex(mapped_back.index).astype(object).fillna(tie).tolist() == \
        mapped_back.astype(object).fillna(tie).tolist()
    assert mapped_back.notna().sum() > 0.9 * len(mapped_back)
    assert len(result.mapped) == n_labels
    # 2. a split of the last choice: its labels are flagged, their items queued, the others untouched
    last = p.schema.question().choices[-1]
    labels = p.labels()
    yes = labels[labels["value"] == last]
    split = p.migrations.plan(p.schema.evolve(split={last: [f"{last}_sure", f"{last}_unsure"]}))
    assert split.counts["relabel"] == len(yes) and split.counts["unchanged"] == n_labels - len(yes)
    summary = split.summary().set_index(["choice", "source", "status"])
    assert summary.loc[(last, "human", "relabel"), "n_labels"] == int((yes["source"] == "human").sum())
    split.apply()
    assert set(p.migrations.relabel_ids()) == set(yes["example_id"])
    assert set(p.labels()["value"]) == set(p.schema.question().choices[:-2])
    p.verify()
    # relabeling a few items drains the queue by exactly those
    some = sorted(set(yes["example_id"]))[:5]
    for eid in some:
        p.annotate(eid, f"{last}_sure", annotator="reviewer")
    assert set(p.migrations.relabel_ids()) == set(yes["example_id"]) - set(some)
    assert np.isin(some, p.labels(annotator="reviewer")["example_id"]).all()
    p.close()


@pytest.mark.slow
@pytest.mark.parametrize("task", ["rte", "temp"])
def test_renaming_the_question_maps_every_real_label_and_versions_use_the_new_name(tmp_path: Path, data_dir: Path,
                                                                                  task: str) -> None:
    p, raw = _crowd(tmp_path, data_dir, task)
    before = p.labels()
    before_cons = p.quality.consensus("majority")["label"]
    n_events = len(p.events())
    plan = p.migrations.plan(p.schema.evolve(rename_question={task: f"{task}_judgement"}))
    assert plan.counts["mapped"] == len(before) == len(raw) + 100 and plan.relabel_items().empty
    assert any(f"{len(before)} label(s) are mapped" in line for line in plan.describe())
    result = plan.apply()
    assert len(p.events()) == n_events + len(before) and len(result.mapped) == len(before)
    after = p.labels()
    assert set(after["question"]) == {f"{task}_judgement"}
    key = ["example_id", "source", "annotator"]
    pd.testing.assert_series_equal(after.set_index(key)["value"].sort_index(),
                                   before.set_index(key)["value"].sort_index())  # the same answers, renamed
    tie = "<tie>"
    assert p.quality.consensus("majority")["label"].astype(object).fillna(tie).tolist() == \
        before_cons.astype(object).fillna(tie).tolist()
    assert len(p.gold(f"{task}_judgement")) == 100
    v = p.versions.save(p.models.soft_labels("majority_vote"), message="after the rename")
    events = p.events().set_index("event_id").loc[p.versions.event_ids(v.name)]
    assert set(events["question"]) == {f"{task}_judgement"} and set(events["schema_version"]) == {p.schema_version}
    p.verify()
    p.close()
