"""LFs whose question a migration removes or renames leave the session with a warning; the rest keep working."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import workbench as wb
from workbench.lf import keywords


@pytest.fixture
def car(tmp_path: Path, seatbelt_schema: wb.Schema) -> wb.Project:
    p = wb.Project.create(tmp_path / "car", schema=seatbelt_schema)
    p.add_data(pd.DataFrame({"id": ["a", "b", "c"], "text": ["a man belted", "empty road", "a woman"]}),
               id_column="id")
    p.lfs.add(keywords("someone", ["man", "woman"], label=p.schema.label_id("yes", question="person")),
              question="person")
    p.lfs.add(keywords("belted", ["belted"], label=p.schema.label_id("yes", question="seatbelt")),
              question="seatbelt")
    yield p
    p.close()


def test_removing_a_question_unregisters_its_lfs_with_a_warning(car: wb.Project) -> None:
    assert car.lfs.names == ["someone", "belted"]
    car.migrations.plan(car.schema.evolve(remove_question="seatbelt")).apply()
    with pytest.warns(UserWarning, match=r"'belted' \(question 'seatbelt'\)"):
        names = car.lfs.names
    assert names == ["someone"]
    assert car.lfs.matrix().tolist() == [[0], [-1], [0]]  # the LF that is left still votes
    car.lfs.remove("someone")  # and the namespace works as before
    assert len(car.lfs) == 0


def test_renaming_a_question_asks_for_its_lfs_again(car: wb.Project) -> None:
    car.migrations.plan(car.schema.evolve(rename_question={"seatbelt": "belt"})).apply()
    with pytest.warns(UserWarning, match="register them again with project.lfs.add"):
        assert car.lfs.names == ["someone"]
    car.lfs.add(keywords("belted", ["belted"], label=car.schema.label_id("yes", question="belt")), question="belt")
    assert car.lfs.matrix("belt").tolist() == [[0], [-1], [-1]]


def test_in_a_single_question_schema_naming_the_question_changes_nothing(tmp_path: Path) -> None:
    """An LF registered with question=<the only question> votes in the matrix like one that names none."""
    p = wb.Project.create(tmp_path / "one", schema=wb.Schema.single("spam", ["ham", "spam"]))
    try:
        p.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["free", "song"]}), id_column="id")
        p.lfs.add(keywords("free", ["free"], label=1), question="spam")
        p.lfs.add(keywords("song", ["song"], label=0))
        assert p.lfs.matrix().tolist() == [[1, -1], [-1, 0]]
        assert p.lfs.matrix("spam").tolist() == [[1, -1], [-1, 0]]
        assert p.lfs.summary()["coverage"].tolist() == [0.5, 0.5]
    finally:
        p.close()
