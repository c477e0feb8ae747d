"""A schema change may not remove a choice whose label id registered LFs vote: they would stop working."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb
from workbench.lf import keywords

TEXTS = ["you idiot", "nice song", "buy now", "buy cheap pills"]


def _project(tmp_path: Path) -> wb.Project:
    """Choices ok, toxic, spam (ids 0, 1, 2); one human label of each; no LF yet."""
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("tox", ["ok", "toxic", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a", "b", "c", "d"], "text": TEXTS}), id_column="id")
    for eid, value in (("a", "toxic"), ("b", "ok"), ("c", "spam")):
        p.annotate(eid, value, annotator="ann")
    return p


def _state(p: wb.Project) -> tuple[object, ...]:
    labels = p.labels()[["example_id", "value"]].to_dict("records")
    return (p.schema_version, len(p.schema_versions()), len(p.events()), labels, p.lfs.names,
            p.schema.question().choices, len(p.migrations.list()), len(p.migrations.flags()))


def _add_buy_lf(p: wb.Project, kind: str) -> None:
    """Register 'buy', voting 2 ('spam') on 'c' and 'd': a builder, or a function whose votes show it."""
    SPAM = p.schema.label_id("spam")
    if kind == "builder":
        p.lfs.add(keywords("buy", ["buy"], label=SPAM))
        return

    @p.lfs.labeling_function(name="buy")
    def buy(x: pd.Series) -> int:
        return SPAM if "buy" in x.text else wb.ABSTAIN

    if kind == "function, applied":
        p.lfs.apply(progress=False)  # its votes are cached now (before, only the check at add time saw them)


LF_KINDS = ["builder", "function", "function, applied"]


@pytest.mark.parametrize("kind", LF_KINDS)
def test_update_schema_refuses_removing_the_last_choice_an_lf_votes_for(tmp_path: Path, kind: str) -> None:
    p = _project(tmp_path)
    p.lfs.add(keywords("insult", ["idiot"], label=p.schema.label_id("toxic")))
    _add_buy_lf(p, kind)
    before = _state(p)
    unlabeled = wb.Schema.single("tox", ["ok", "toxic"])  # by hand, as a plain update would be tried
    with pytest.raises(wb.SchemaError) as info:
        p.update_schema(unlabeled)
    msg = str(info.value)
    for part in ("update_schema", "'buy'", "'spam'", "2", "'tox'", "Nothing was changed",
                 "project.lfs.remove('buy')", "migration"):
        assert part in msg, part
    assert "'insult'" not in msg  # it votes 'toxic', which stays where it is
    assert _state(p) == before
    assert p.lfs.matrix().tolist() == [[1, -1], [-1, -1], [-1, 2], [-1, 2]]  # still registered, still working
    p.close()


@pytest.mark.parametrize("kind", LF_KINDS)
def test_a_migration_removing_the_last_choice_an_lf_votes_for_is_refused(tmp_path: Path, kind: str) -> None:
    p = _project(tmp_path)
    _add_buy_lf(p, kind)
    before = _state(p)
    plan = p.migrations.plan(p.schema.evolve(remove=["spam"]))
    described = " ".join(plan.describe())
    assert "refuse" in described and "'buy'" in described and "'spam'" in described
    assert "refused" in repr(plan)
    with pytest.raises(wb.SchemaError) as info:
        plan.apply()
    msg = str(info.value)
    for part in (plan.migration_id, "'buy'", "'spam'", "2", "Nothing was changed", "project.lfs.remove('buy')"):
        assert part in msg, part
    assert _state(p) == before
    assert p.labels()["value"].tolist() == ["toxic", "ok", "spam"]  # the human label of 'spam' is intact
    assert p.migrations.relabel_ids() == []
    assert p.lfs.matrix().tolist() == [[-1], [-1], [2], [2]]
    p.close()


def test_merging_the_last_choice_into_another_is_refused_while_an_lf_votes_it(tmp_path: Path) -> None:
    p = _project(tmp_path)
    _add_buy_lf(p, "builder")
    before = _state(p)
    with pytest.raises(wb.SchemaError, match=r"'buy'.*'spam'"):
        p.migrations.plan(p.schema.evolve(merge={"toxic": ["toxic", "spam"]})).apply()
    assert _state(p) == before
    p.close()


def test_after_removing_the_lf_the_same_change_succeeds(tmp_path: Path) -> None:
    p = _project(tmp_path)
    _add_buy_lf(p, "function")
    p.lfs.remove("buy")
    plan = p.migrations.plan(p.schema.evolve(remove=["spam"]))
    assert "refused" not in repr(plan)
    plan.apply()
    assert p.schema.question().choices == ("ok", "toxic")
    assert p.labels()["value"].tolist() == ["toxic", "ok"]  # the 'spam' label is flagged, its item queued
    assert p.migrations.relabel_ids() == ["c"]
    p.close()


def test_update_schema_succeeds_after_removing_the_lf(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("tox", ["ok", "toxic", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a", "b", "c", "d"], "text": TEXTS}), id_column="id")
    _add_buy_lf(p, "builder")
    new = p.schema.evolve(remove=["spam"])
    with pytest.raises(wb.SchemaError, match="'buy'"):
        p.update_schema(new)
    p.lfs.remove("buy")
    version = p.update_schema(new)
    assert p.schema_version == version and p.schema.question().choices == ("ok", "toxic")
    p.close()


@pytest.mark.parametrize("kind", ["builder", "function"])
def test_removing_a_choice_no_lf_votes_for_still_works(tmp_path: Path, kind: str) -> None:
    p = _project(tmp_path)
    TOXIC = p.schema.label_id("toxic")
    if kind == "builder":
        p.lfs.add(keywords("insult", ["idiot"], label=TOXIC))
    else:
        @p.lfs.labeling_function(name="insult")
        def insult(x: pd.Series) -> int:
            return TOXIC if "idiot" in x.text else wb.ABSTAIN
    plan = p.migrations.plan(p.schema.evolve(remove=["spam"]))
    assert "refused" not in repr(plan)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan.apply()
        matrix = p.lfs.matrix().tolist()
    assert not any("unregistered" in str(w.message) for w in caught)
    assert p.schema.question().choices == ("ok", "toxic")
    assert p.labels()["value"].tolist() == ["toxic", "ok"]  # as before: the label of 'spam' is flagged and queued
    assert p.migrations.relabel_ids() == ["c"]
    assert p.lfs.names == ["insult"] and matrix == [[1], [-1], [-1], [-1]]
    p.close()


def test_update_schema_removes_an_unused_choice_no_lf_votes_for(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("tox", ["ok", "toxic", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a", "b", "c", "d"], "text": TEXTS}), id_column="id")
    p.lfs.add(keywords("insult", ["idiot"], label=p.schema.label_id("toxic")))
    p.update_schema(p.schema.evolve(remove=["spam"]))
    assert p.schema.question().choices == ("ok", "toxic") and p.lfs.names == ["insult"]
    p.close()


def test_the_message_names_every_lf_and_choice_in_a_multi_question_schema(
    tmp_path: Path, seatbelt_schema: wb.Schema
) -> None:
    p = wb.Project.create(tmp_path / "p", schema=seatbelt_schema)
    p.add_data(pd.DataFrame({"id": ["f0"], "text": ["a driver, belted, unsure"]}), id_column="id")
    seatbelt = p.schema.question("seatbelt")
    last = seatbelt.choices[-1]
    p.lfs.add(keywords("doubt", ["unsure"], label=seatbelt.label_id(last), question="seatbelt"))
    p.lfs.add(keywords("driver", ["driver"], label=p.schema.question("person").label_id("yes"), question="person"))
    before = _state_multi(p)
    with pytest.raises(wb.SchemaError) as info:
        p.update_schema(p.schema.evolve(question="seatbelt", remove=[last]))
    msg = str(info.value)
    assert "'doubt'" in msg and repr(last) in msg and "'seatbelt'" in msg and "'driver'" not in msg
    assert _state_multi(p) == before
    p.close()


def _state_multi(p: wb.Project) -> tuple[object, ...]:
    return (p.schema_version, len(p.schema_versions()), len(p.events()), p.lfs.names)


@pytest.mark.parametrize("kind", LF_KINDS)
def test_known_votes_are_what_a_builder_declares_or_what_a_function_cast(tmp_path: Path, kind: str) -> None:
    p = _project(tmp_path)
    _add_buy_lf(p, kind)
    assert p.lfs.known_votes("buy") == frozenset({2})
    with pytest.raises(wb.LFError, match=r"No labeling function named 'sell'\. Registered: \['buy'\]"):
        p.lfs.known_votes("sell")
    p.close()


def test_a_function_that_never_voted_a_choice_does_not_hold_its_removal(tmp_path: Path) -> None:
    p = _project(tmp_path)

    @p.lfs.labeling_function(name="never")
    def never(x: pd.Series) -> int:
        return wb.ABSTAIN

    assert p.lfs.known_votes("never") == frozenset()
    plan = p.migrations.plan(p.schema.evolve(remove=["spam"]))
    assert plan.lf_lost == () and "refused" not in repr(plan)
    p.close()
