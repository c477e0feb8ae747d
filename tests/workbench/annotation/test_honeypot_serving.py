"""Honeypots are served exactly like regular items: no served field tells them apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb


def _features(a: wb.Assignment) -> dict[str, object]:
    d = a.draft
    return {
        "has_draft": d is not None,
        "draft_source": None if d is None else d.source,
        "draft_confidence": None if d is None else d.confidence,
        "fields": tuple(sorted(a.data)),
    }


@pytest.mark.parametrize("predict_gold", [True, False])
def test_no_served_field_predicts_a_honeypot(tmp_path: Path, predict_gold: bool, caplog: pytest.LogCaptureFixture,
                                             ) -> None:
    rng = np.random.default_rng(11)
    n = 600
    df = pd.DataFrame({"id": [f"i{k}" for k in range(n)], "text": [f"comment {k}" for k in range(n)]})
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(df, id_column="id")
    gold = df["id"][:150]
    p.add_gold(pd.DataFrame({"id": gold, "label": rng.choice(["ham", "spam"], size=len(gold))}))
    # a model's predictions: on every item, or (a common slip) only on the items to label
    predicted = df["id"] if predict_gold else df["id"][150:]
    p.annotate_many([{"example_id": e, "value": "spam", "annotator": "m", "source": "model", "confidence": 0.8}
                     for e in predicted])
    p.annotation.configure(honeypot_rate=0.25)
    served: list[tuple[dict[str, object], bool]] = []
    for k in range(12):
        for a in p.annotation.next_items(f"ann{k}", n=20, random_state=k):
            served.append((_features(a), a.is_honeypot))
    honey = [f for f, h in served if h]
    regular = [f for f, h in served if not h]
    if not predict_gold:  # every gold item would stand out (no draft): none is served as a honeypot
        assert honey == [] and "standing out" in caplog.text
        return
    assert len(honey) >= 20 and len(regular) >= 100
    # the best rule on any single served field does no better than always guessing "regular"
    base = len(regular) / len(served)
    for field in ("has_draft", "draft_source", "draft_confidence", "fields"):
        table = pd.crosstab(pd.Series([str(f[field]) for f, _ in served]), pd.Series([h for _, h in served]))
        best = table.max(axis=1).sum() / len(served)
        assert best <= base + 1e-9, (field, table)


def test_a_batch_is_never_empty_while_work_remains(tmp_path: Path) -> None:
    """With a high honeypot rate a batch may draw only honeypots; it must still serve something."""
    n = 30
    df = pd.DataFrame({"id": [f"i{k}" for k in range(n)], "text": [f"subscribe {k}" for k in range(n)]})
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(df, id_column="id")
    p.lfs.add(wb.lf.keywords("sub", ["subscribe"], label=1))  # every item, gold ones too, has a draft
    p.add_gold(pd.DataFrame({"id": df["id"][:10], "label": "spam"}))
    p.annotation.configure(honeypot_rate=0.9)
    served_regular = set()
    for k in range(200):
        if p.annotation.progress()["n_remaining"] == 0:
            break
        batch = p.annotation.next_items("ann", n=1, random_state=k)
        assert batch, f"empty batch at step {k} with {p.annotation.progress()['n_remaining']} items open"
        item = batch[0]
        p.annotation.submit(item.example_id, "spam", annotator="ann")
        if not item.is_honeypot:
            served_regular.add(item.example_id)
    assert len(served_regular) == n - 10
