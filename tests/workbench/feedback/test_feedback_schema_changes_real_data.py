"""Feedback from real datasets keeps its meaning through a chain of migrations: every vote moves with its choice."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench import datasets

pytestmark = pytest.mark.data

KINDS = ("user_correction", "flag")


def _youtube(data_dir: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Comments and, as signals, the published class of a seeded half (corrections) and third (flags)."""
    df = datasets.load_youtube_spam(data_dir)
    rng = np.random.default_rng(0)
    first = df[rng.random(len(df)) < 0.5]
    second = df[rng.random(len(df)) < 0.3]
    return df[["id", "text"]], {kind: part[["id", "label"]].rename(columns={"id": "item"})
                                for kind, part in zip(KINDS, (first, second), strict=True)}


def _crowd(data_dir: Path, task: str) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Snow et al. items and, as signals, each item's first worker answer (corrections) and second (flags)."""
    raw = pd.read_csv(data_dir / "snow2008_rte_temporal" / f"{task}.standardized.tsv", sep="\t", dtype=str)
    raw = raw.rename(columns={"orig_id": "item", "response": "label"})
    nth = raw.groupby("item").cumcount()
    items = pd.DataFrame({"id": raw["item"].unique(), "text": task})
    return items, {kind: raw.loc[nth == k, ["item", "label"]] for k, kind in enumerate(KINDS)}


def _migrate(p: wb.Project, new: wb.Schema) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the migration's LF warning (the feedback sources follow)
        p.migrations.plan(new).apply()


def _columns(p: wb.Project) -> pd.DataFrame:
    return pd.DataFrame(p.lfs.matrix(), index=p.examples().index, columns=p.lfs.names)


def _moved(votes: pd.DataFrame, old: Sequence[str], new: Sequence[str], becomes: dict[str, str | None]) -> pd.DataFrame:
    """Where each vote must be after a change: old choice -> its new name (``becomes``, default itself) -> position."""
    pos = {-1: -1}
    for k, c in enumerate(old):
        target = becomes.get(c, c)
        pos[k] = list(new).index(target) if target is not None else -1
    return votes.apply(lambda col: col.map(pos)).astype(votes.dtypes.iloc[0])


@pytest.mark.parametrize("dataset", ["youtube_spam", "rte", "temp", "wsd"])
def test_votes_follow_a_rename_a_merge_and_a_removal(tmp_path: Path, data_dir: Path, dataset: str) -> None:
    if dataset == "youtube_spam":
        items, signals = _youtube(data_dir)
    else:
        items, signals = _crowd(data_dir, dataset)
    choices = sorted(set().union(*(set(s["label"]) for s in signals.values())))
    p = wb.Project.create(tmp_path / dataset, schema=wb.Schema.single("label", choices))
    p.add_data(items, id_column="id")
    for kind, frame in signals.items():
        p.feedback.ingest(frame, kind=kind, id_column="item", label_column="label", source_name=dataset)
    start = _columns(p)
    for kind, frame in signals.items():  # every signal votes its choice's position
        last = frame.drop_duplicates("item", keep="last").set_index("item")["label"]
        assert start.loc[last.index, f"feedback:{kind}"].tolist() == [choices.index(v) for v in last]
    # 1. every choice renamed, two added: no vote moves
    renamed = {c: f"{c}_v2" for c in choices}
    _migrate(p, p.schema.evolve(rename=renamed, add=["other", "unsure"]))
    after_rename = _columns(p)
    pd.testing.assert_frame_equal(after_rename, start)
    # 2. the last choice merged with a new one
    old = p.schema.question().choices
    last_choice = renamed[choices[-1]]
    _migrate(p, p.schema.evolve(merge={"merged": [last_choice, "unsure"]}))
    after_merge = _columns(p)
    pd.testing.assert_frame_equal(after_merge, _moved(after_rename, old, p.schema.question().choices,
                                                      {last_choice: "merged", "unsure": "merged"}))
    # 3. the first choice removed: its votes abstain, every vote after it moves up one position
    old = p.schema.question().choices
    first_choice = old[0]
    _migrate(p, p.schema.evolve(remove=[first_choice]))
    after_remove = _columns(p)
    pd.testing.assert_frame_equal(after_remove, _moved(after_merge, old, p.schema.question().choices,
                                                       {first_choice: None}))
    assert (after_remove != -1).to_numpy().sum() > 0.2 * len(after_remove)  # plenty of feedback left voting
    for kind in KINDS:  # the label model's input is the project's current feedback labels
        cur = p.labels(source="feedback")
        cur = cur[cur["annotator"].astype(str).str.startswith(f"{kind}:")]
        latest = cur.sort_values(["created_at", "event_id"]).drop_duplicates("example_id", keep="last")
        voted = after_remove[f"feedback:{kind}"]
        assert set(voted[voted != -1].index) == set(latest["example_id"])
    lm = p.models.fit("majority_vote")
    assert lm.cardinality_ == len(p.schema.question().choices)
    p.close()
