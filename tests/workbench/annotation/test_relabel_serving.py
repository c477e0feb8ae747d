"""Labels a migration (or a guideline review) flagged for relabeling are no current answers when items are served.

The flagged label stays in the history, but the item goes back to the annotator who made it, and the label does not
count toward the overlap; an answer under the new schema takes the item out of the relabel queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb


@pytest.fixture
def project(tmp_path: Path) -> Iterator[wb.Project]:
    p = wb.Project.create(tmp_path / "tox", schema=wb.Schema.single("toxicity", ["ok", "toxic"]))
    p.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["hello there", "you idiot"]}), id_column="id")
    yield p
    p.close()


def _serve(p: wb.Project, who: str, n: int = 5) -> list[str]:
    return [a.example_id for a in p.annotation.next_items(who, n)]


def _answer_all(p: wb.Project, who: str, values: dict[str, str]) -> None:
    for eid in _serve(p, who):
        p.annotation.submit(eid, values[eid], annotator=who)


def _migrate(p: wb.Project) -> None:
    new = p.schema.evolve(split={"toxic": ["harassment", "hate", "other"]}, rename={"ok": "fine"})
    p.migrations.plan(new).apply(relabel_queue=True)


def test_a_relabel_item_goes_back_to_its_annotator(project: wb.Project) -> None:
    project.annotation.configure(overlap=1)
    _answer_all(project, "ann", {"a": "ok", "b": "toxic"})
    assert _serve(project, "ann") == [] and _serve(project, "bob") == []  # both items are done
    _migrate(project)
    assert project.migrations.relabel_ids() == ["b"]
    assert "b" in set(project.annotation.queue("random", n=None)["example_id"])
    assert _serve(project, "ann") == ["b"]  # "a" was mapped (ok -> fine) and stays answered
    flagged = project.migrations.flags()
    assert flagged[["example_id", "annotator", "value"]].values.tolist() == [["b", "ann", "toxic"]]
    n_events = len(project.events())
    project.annotation.submit("b", "hate", annotator="ann")
    assert project.migrations.relabel_ids() == []
    assert len(project.events()) == n_events + 1  # the old label is kept: one new event, nothing rewritten
    assert project.labels(source="human").set_index("example_id")["value"].to_dict() == {"a": "fine", "b": "hate"}
    assert _serve(project, "ann") == [] and _serve(project, "bob") == []  # done again (overlap 1)


def test_a_flagged_label_does_not_count_toward_the_overlap(project: wb.Project) -> None:
    project.annotation.configure(overlap=2)
    _answer_all(project, "ann", {"a": "ok", "b": "toxic"})
    _answer_all(project, "bob", {"a": "ok", "b": "toxic"})
    assert _serve(project, "cid") == []
    _migrate(project)
    assert _serve(project, "cid") == ["b"]  # both old answers to "b" are flagged: two places are open
    assert _serve(project, "ann") == ["b"]
    assert _serve(project, "bob") == []  # cid and ann hold the two places
    project.annotation.submit("b", "other", annotator="cid")
    assert project.migrations.relabel_ids() == []  # any current answer under the new schema counts


def test_labels_flagged_for_review_under_new_guidelines_are_served_again(project: wb.Project) -> None:
    project.annotation.configure(overlap=1)
    _answer_all(project, "ann", {"a": "ok", "b": "toxic"})
    project.update_guidelines("Toxic now includes mild insults.")
    flagged = project.migrations.flag_for_review()
    assert sorted(flagged["example_id"]) == ["a", "b"]
    assert sorted(_serve(project, "ann")) == ["a", "b"]


def test_a_review_flag_that_does_not_exclude_keeps_the_answer_current(project: wb.Project) -> None:
    project.annotation.configure(overlap=1)
    _answer_all(project, "ann", {"a": "ok", "b": "toxic"})
    project.update_guidelines("Toxic now includes mild insults.")
    project.migrations.flag_for_review(exclude=False)  # queued only: the labels still count everywhere
    assert sorted(project.migrations.relabel_ids()) == ["a", "b"]
    assert _serve(project, "ann") == [] and _serve(project, "bob") == []
