"""A choice's position is its integer label id: a schema change may not move the choices LFs vote with."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb
from workbench.lf import keywords


def _spam(tmp_path: Path) -> wb.Project:
    p = wb.Project.create(tmp_path / "spam", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a", "b", "c"], "text": ["subscribe now", "nice song", "subscribe to me"]}),
               id_column="id")
    HAM, SPAM = p.schema.label_ids("ham", "spam")
    p.lfs.add(keywords("sub", ["subscribe"], label=SPAM))
    p.lfs.add(keywords("song", ["song"], label=HAM))
    p.annotate("a", "spam", annotator="x")
    return p


def _tox(tmp_path: Path) -> wb.Project:
    p = wb.Project.create(tmp_path / "tox", schema=wb.Schema.single("tox", ["unsure", "ok", "toxic"]))
    p.add_data(pd.DataFrame({"id": ["a", "b", "c"], "text": ["idiot", "nice song", "you idiot"]}), id_column="id")
    OK, TOX = p.schema.label_ids("ok", "toxic")
    p.lfs.add(keywords("insult", ["idiot"], label=TOX))
    p.lfs.add(keywords("song", ["song"], label=OK))
    return p


def _unchanged(p: wb.Project, version: str, n_versions: int, n_events: int) -> None:
    assert p.schema_version == version
    assert len(p.schema_versions()) == n_versions
    assert len(p.events()) == n_events
    assert p.migrations.list().empty


def test_update_schema_refuses_reordering_the_choices_lfs_vote_with(tmp_path: Path) -> None:
    p = _spam(tmp_path)
    before = p.models.soft_labels()["label"].tolist()
    assert before == ["spam", "ham", "spam"]
    state = (p.schema_version, len(p.schema_versions()), len(p.events()))
    with pytest.raises(wb.SchemaError) as info:
        p.update_schema(wb.Schema.single("spam", ["spam", "ham"]))
    msg = str(info.value)
    for part in ("'spam'", "'sub'", "'song'", "'ham' 0 -> 1", "'spam' 1 -> 0", "Nothing was changed",
                 "append new ones at the end", "project.lfs.remove("):
        assert part in msg, part
    _unchanged(p, *state)
    assert p.schema.question().choices == ("ham", "spam")
    assert p.models.soft_labels()["label"].tolist() == before  # the weak labels kept their meaning
    p.close()


def test_update_schema_refuses_removing_a_choice_before_others(tmp_path: Path) -> None:
    p = _tox(tmp_path)
    state = (p.schema_version, len(p.schema_versions()), len(p.events()))
    with pytest.raises(wb.SchemaError, match=r"'ok' 1 -> 0.*'toxic' 2 -> 1"):
        p.update_schema(p.schema.evolve(remove=["unsure"]))
    _unchanged(p, *state)
    p.close()


def test_a_migration_that_moves_choices_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    p = _tox(tmp_path)
    p.annotate("b", "ok", annotator="ann")
    before = p.models.soft_labels()["label"].tolist()
    state = (p.schema_version, len(p.schema_versions()), len(p.events()))
    plan = p.migrations.plan(p.schema.evolve(remove=["unsure"]))
    described = " ".join(plan.describe())
    for part in ("'insult'", "'song'", "'ok' 1 -> 0", "'toxic' 2 -> 1", "refuse"):
        assert part in described, part
    assert "refused" in repr(plan)
    with pytest.raises(wb.SchemaError) as info:
        plan.apply()
    msg = str(info.value)
    for part in ("'tox'", "'insult'", "'song'", "'ok' 1 -> 0", "'toxic' 2 -> 1", "Nothing was changed",
                 "append new ones at the end"):
        assert part in msg, part
    _unchanged(p, *state)
    assert p.labels()["value"].tolist() == ["ok"]
    assert p.models.soft_labels()["label"].tolist() == before
    p.close()


def test_lfs_registered_after_the_plan_still_block_its_apply(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("tox", ["unsure", "ok", "toxic"]))
    p.add_data(pd.DataFrame({"id": ["a"], "text": ["idiot"]}), id_column="id")
    plan = p.migrations.plan(p.schema.evolve(remove=["unsure"]))
    p.lfs.add(keywords("insult", ["idiot"], label=p.schema.label_id("toxic")))
    version = p.schema_version
    with pytest.raises(wb.SchemaError, match="'insult'"):
        plan.apply()
    assert p.schema_version == version and p.migrations.list().empty
    p.close()


def test_appending_choices_and_renaming_in_place_keep_every_vote(tmp_path: Path) -> None:
    p = _spam(tmp_path)
    assert p.models.soft_labels()["label"].tolist() == ["spam", "ham", "spam"]
    p.update_schema(p.schema.evolve(add=["promo"]))
    assert p.schema.question().choices == ("ham", "spam", "promo")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a rename in place changes no vote: no warning either
        p.migrations.plan(p.schema.evolve(rename={"spam": "junk"})).apply()
    assert p.schema.question().choices == ("ham", "junk", "promo")
    assert p.models.soft_labels()["label"].tolist() == ["junk", "ham", "junk"]
    p.close()


def test_the_fix_the_message_gives_works(tmp_path: Path) -> None:
    p = _spam(tmp_path)
    p.lfs.remove("sub")
    p.lfs.remove("song")
    version = p.update_schema(wb.Schema.single("spam", ["spam", "ham"]))
    assert p.schema_version == version and p.schema.question().choices == ("spam", "ham")
    p.close()


def test_without_lfs_choices_may_be_reordered(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("tox", ["unsure", "ok", "toxic"]))
    p.add_data(pd.DataFrame({"id": ["a"], "text": ["hi"]}), id_column="id")
    p.annotate("a", "ok", annotator="ann")
    p.update_schema(wb.Schema.single("tox", ["toxic", "ok", "unsure"]))
    p.migrations.plan(p.schema.evolve(remove=["toxic"])).apply()
    assert p.schema.question().choices == ("ok", "unsure")
    assert p.labels()["value"].tolist() == ["ok"]
    p.close()


def test_only_the_questions_lfs_vote_on_are_held_in_place(tmp_path: Path, seatbelt_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "p", schema=seatbelt_schema)
    p.add_data(pd.DataFrame({"id": ["f0"], "text": ["a driver"]}), id_column="id")
    p.lfs.add(keywords("driver", ["driver"], label=p.schema.question("person").label_id("yes"), question="person"))
    p.update_schema(p.schema.evolve(question="seatbelt", remove=["yes"]))
    assert p.schema.question("seatbelt").choices == ("no", "unsure")
    swapped = wb.Schema("seatbelts", [wb.Question("person", ["no", "yes"]),
                                      wb.Question("seatbelt", ["no", "unsure"], when={"person": "yes"})])
    with pytest.raises(wb.SchemaError, match=r"question 'person'.*'driver'.*'yes' 0 -> 1"):
        p.update_schema(swapped)
    p.close()
