"""Quality settings and calls a careful user gets wrong: each is refused or counted right."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import workbench as wb


@pytest.fixture
def p(tmp_path: Path) -> wb.Project:
    project = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    project.add_data(pd.DataFrame({"id": [f"i{k:02d}" for k in range(4)], "text": list("abcd")}), id_column="id")
    return project


def test_progress_never_counts_more_done_than_there_is(p: wb.Project) -> None:
    p.annotation.configure(overlap=1)
    for k in range(4):
        p.annotation.submit(f"i{k:02d}", "spam", annotator="ann")
    p.add_gold(pd.DataFrame({"id": ["i00", "i01"], "label": ["spam", "ham"]}))  # answered items become gold
    progress = p.annotation.progress()
    assert (progress["n_items"], progress["n_complete"], progress["n_remaining"]) == (2, 2, 0)


@pytest.mark.parametrize("who", [None, "", 5])
def test_skip_refuses_a_bad_annotator(p: wb.Project, who: object) -> None:
    with pytest.raises(wb.LabelValidationError, match="'annotator' parameter of skip"):
        p.annotation.skip("i00", annotator=who)  # type: ignore[arg-type]


def test_agreement_advice_fits_the_overlap(p: wb.Project) -> None:
    p.annotation.configure(overlap=3)
    p.annotation.submit("i00", "spam", annotator="ann")
    with pytest.raises(wb.WorkbenchError, match="The overlap is 3: let a second annotator answer") as err:
        p.quality.agreement()
    assert "overlap=2" not in str(err.value)


def test_an_infinite_lease_and_a_non_boolean_exclusion_are_refused(p: wb.Project) -> None:
    with pytest.raises(wb.LabelValidationError, match="positive, finite number of seconds"):
        p.annotation.configure(lease_seconds=float("inf"))
    with pytest.raises(wb.LabelValidationError, match="'exclude_flagged' parameter of consensus"):
        p.quality.consensus(exclude_flagged="no")  # type: ignore[arg-type]
