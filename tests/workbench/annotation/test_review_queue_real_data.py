"""The adjudication queue's search and filters, and exclusive review leases, on real crowd labels (Snow et al. 2008).

Every crowd task of the dataset (RTE with its texts, Temporal and WSD without) is replayed through the Project API;
each filter must keep exactly the queued items an independent reading of the answers, the consensus and the texts
keeps, in the queue's order, and two reviewers must never be served the same item.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import workbench as wb

pytestmark = [pytest.mark.data, pytest.mark.slow]

TASKS = ("rte", "temp", "wsd")


def _replay(tmp_path: Path, data_dir: Path, task: str) -> wb.Project:
    folder = data_dir / "snow2008_rte_temporal"
    raw = pd.read_csv(folder / f"{task}.standardized.tsv", sep="\t", dtype=str)
    raw = raw.rename(columns={"!amt_worker_ids": "annotator", "orig_id": "id", "response": "value"})
    ids = list(dict.fromkeys(raw["id"]))
    items = pd.DataFrame({"id": ids})
    texts = folder / "rte1_texts.tsv"
    has_text = task == "rte" and texts.is_file()
    if has_text:
        known = pd.read_csv(texts, sep="\t", dtype=str).set_index("id")["text"]
        items["text"] = known.reindex(ids).to_numpy()
    else:
        items["task"] = task
    p = wb.Project.create(tmp_path / task, schema=wb.Schema.single(task, sorted(raw["value"].unique())),
                          text_column="text" if has_text else None)
    p.add_data(items, id_column="id")
    p.annotation.import_annotations(raw[["id", "annotator", "value"]])
    p.annotation.configure(agreement_threshold=0.95)  # anything short of near-unanimity goes to a reviewer
    return p


@pytest.mark.parametrize("task", TASKS)
def test_filters_keep_what_the_answers_say_on_real_crowd_labels(tmp_path: Path, data_dir: Path, task: str) -> None:
    p = _replay(tmp_path, data_dir, task)
    try:
        ann = p.annotation
        full = [str(e) for e in ann.queue("adjudication", n=None)["example_id"]]
        assert len(full) >= 10

        def kept(**filters: Any) -> list[str]:
            return [str(e) for e in ann.queue("adjudication", n=None, **filters)["example_id"]]

        answers = ann.answers()
        in_queue = answers[answers["example_id"].isin(full)]
        busiest = str(in_queue["annotator"].value_counts().index[0])
        theirs = set(in_queue.loc[in_queue["annotator"] == busiest, "example_id"])
        assert kept(annotator=busiest) == [e for e in full if e in theirs]
        for choice in p.schema.questions[0].choices:
            with_it = set(in_queue.loc[in_queue["value"] == choice, "example_id"])
            assert kept(label=choice) == [e for e in full if e in with_it]
        agreement = p.quality.consensus("majority")["agreement"]
        limit = float(agreement.reindex(full).median())
        low = kept(max_agreement=limit)
        assert low == [e for e in full if agreement[e] <= limit + 1e-9] and 0 < len(low) <= len(full)
        examples = p.examples()
        first = full[0]
        if p.text_column is not None:
            word = max(str(examples.loc[first, "text"]).split(), key=len).casefold()
            text = examples["text"].fillna("").astype(str)
            haystack = {e: (e + " " + text[e]).casefold() for e in full}
        else:
            word = first
            haystack = {e: f"{e} task: {task}".casefold() for e in full}
        found = kept(search=word.upper())
        assert first in found and found == [e for e in full if word in haystack[e]]
        both = kept(annotator=busiest, max_agreement=limit)
        assert both == [e for e in full if e in theirs and e in set(low)]
    finally:
        p.close()


@pytest.mark.parametrize("task", TASKS)
def test_two_reviewers_never_get_the_same_real_item(tmp_path: Path, data_dir: Path, task: str) -> None:
    p = _replay(tmp_path, data_dir, task)
    other = wb.Project.open(p.path)
    try:
        order = [str(e) for e in p.annotation.queue("adjudication", n=None)["example_id"]]
        assert len(order) >= 10
        lee = [a.example_id for a in p.annotation.next_items("dr_lee", 5, strategy="adjudication")]
        kim = [a.example_id for a in other.annotation.next_items("dr_kim", 5, strategy="adjudication")]
        assert lee == order[:5] and kim == order[5:10]
        assert other.annotation.claim(lee[0], "dr_kim") == "dr_lee"
        assert p.annotation.holders("adjudication") == {**dict.fromkeys(lee, "dr_lee"), **dict.fromkeys(kim, "dr_kim")}
    finally:
        other.close()
        p.close()
