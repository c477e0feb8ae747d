"""A small project with every part a report shows: LFs (cached votes), gold, annotators, versions, runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.lf import keywords, regex


def build_rich_project(path: Path, *, n: int = 160, seed: int = 0) -> Path:
    """Demo comments with 4 LFs, 40 gold, 3 annotators on 30 items, two label versions and two training runs."""
    data = wb.datasets.load_demo(n, random_state=seed)
    truth = data.set_index("id")["label"]
    project = wb.Project.create(path, schema=wb.Schema.single("spam", ["ham", "spam"], guidelines="Spam advertises."))
    project.add_data(data.iloc[: n // 2][["id", "text"]], id_column="id", message="first half")
    project.add_data(data.iloc[n // 2:][["id", "text"]], id_column="id", message="second half")
    ham, spam = project.schema.label_ids("ham", "spam")
    project.lfs.add(keywords("channel", ["channel"], label=spam))
    project.lfs.add(regex("link", r"http", label=spam))
    project.lfs.add(keywords("song", ["song", "music"], label=ham))
    project.lfs.add(keywords("love", ["love", "amazing"], label=ham))
    ids = list(truth.index)
    project.add_gold(truth.loc[ids[:40]].rename_axis("id").reset_index(), annotator="expert")
    rng = np.random.default_rng(seed)
    rows = []
    for eid in ids[40:70]:
        for name, reliability in (("ann", 0.95), ("bea", 0.85), ("cal", 0.7)):
            right = truth[eid]
            wrong = "ham" if right == "spam" else "spam"
            rows.append({"example_id": eid, "annotator": name, "value": right if rng.random() < reliability else wrong,
                         "source": "human"})
    project.annotate_many(pd.DataFrame(rows))
    project.versions.save(project.models.soft_labels("majority_vote"), message="majority vote", gold="gold")
    project.lfs.add(keywords("subscribe", ["subscribe", "sub4sub"], label=spam))
    project.versions.save(project.models.soft_labels("dawid_skene"), message="dawid-skene + subscribe", gold="gold")
    for k, (n_labels, score) in enumerate([(40, 0.71), (70, 0.83)]):
        project.versions.record_run(f"round-{k}", params={"n_human": n_labels - 40, "n_gold": 40,
                                                           "cv": {"accuracy": score, "macro_f1": score - 0.02}})
    project.close()
    return path


@pytest.fixture(scope="session")
def build_rich() -> Callable[..., Path]:
    """The builder itself, for tests that change the project."""
    return build_rich_project


@pytest.fixture(scope="session")
def rich_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per session; tests must not write to it."""
    return build_rich_project(tmp_path_factory.mktemp("rich") / "spam")
