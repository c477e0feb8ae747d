"""project.quality.adjudicate: a decision made on a stale view of the answers is refused."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import workbench as wb
from workbench.exceptions import LabelValidationError, SchemaError, StaleDecisionError


def _split(tmp_path: Path, schema: wb.Schema | None = None) -> wb.Project:
    p = wb.Project.create(tmp_path / "p", schema=schema or wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["check my channel", "nice"]}), id_column="id")
    p.annotation.import_annotations(pd.DataFrame({"id": ["a", "a", "a"], "annotator": ["ann", "bob", "cid"],
                                                  "value": ["spam", "spam", "ham"]}))
    return p


def _adjudications(p: wb.Project) -> list[list[str]]:
    return p.labels(source="adjudication")[["example_id", "value"]].values.tolist()


def test_a_decision_on_the_answers_as_they_are_is_written(tmp_path: Path) -> None:
    p = _split(tmp_path)
    p.quality.adjudicate("a", "ham", annotator="lee", seen={"ann": "spam", "bob": "spam", "cid": "ham"})
    assert _adjudications(p) == [["a", "ham"]]
    assert p.quality.consensus().loc["a", "label"] == "ham"
    p.close()


@pytest.mark.parametrize(("change", "phrase"), [
    (lambda p: p.annotate("a", "spam", annotator="cid"), "cid now answers 'spam' (was 'ham')"),
    (lambda p: p.annotate("a", "ham", annotator="dan"), "dan now answers 'ham' (new)"),
    (lambda p: p.retract("a", annotator="bob"), "bob withdrew 'spam'"),
    (lambda p: p.quality.adjudicate("a", "spam", annotator="kim"), "kim adjudicated it as 'spam'"),
])
def test_a_decision_on_changed_answers_is_refused_and_writes_nothing(tmp_path: Path, change: object,
                                                                    phrase: str) -> None:
    p = _split(tmp_path)
    seen = {"ann": "spam", "bob": "spam", "cid": "ham"}
    other = wb.Project.open(p.path)  # another session
    change(other)  # type: ignore[operator]
    other.close()
    before = _adjudications(p)
    with pytest.raises(StaleDecisionError, match="changed since it was shown") as err:
        p.quality.adjudicate("a", "ham", annotator="lee", seen=seen)
    assert phrase in err.value.changes and err.value.example_id == "a"
    assert _adjudications(p) == before
    p.close()


def test_without_seen_a_decision_is_written_as_before(tmp_path: Path) -> None:
    p = _split(tmp_path)
    p.annotate("a", "spam", annotator="cid")
    p.quality.adjudicate("a", "ham", annotator="lee")  # deliberate: an expert overrides a unanimous answer
    p.quality.adjudicate("b", "ham", annotator="lee", seen={})  # nobody answered b, and nobody has since
    assert sorted(_adjudications(p)) == [["a", "ham"], ["b", "ham"]]
    p.close()


def test_seen_with_a_multi_question_schema(tmp_path: Path) -> None:
    schema = wb.Schema(name="two", questions=[wb.Question("spam", choices=["ham", "spam"]),
                                            wb.Question("tone", choices=["calm", "rude"])])
    p = wb.Project.create(tmp_path / "p", schema=schema)
    p.add_data(pd.DataFrame({"id": ["a"], "text": ["x"]}), id_column="id")
    p.annotate("a", {"spam": "spam", "tone": "calm"}, annotator="ann")
    p.annotate("a", {"spam": "ham", "tone": "calm"}, annotator="bob")
    p.quality.adjudicate("a", {"tone": "rude"}, annotator="lee", seen={"ann": "calm", "bob": "calm"})
    with pytest.raises(StaleDecisionError, match="ann now answers 'spam'"):
        p.quality.adjudicate("a", {"spam": "ham"}, annotator="lee", seen={"ann": "ham", "bob": "ham"})
    with pytest.raises(LabelValidationError, match="one question at a time"):
        p.quality.adjudicate("a", {"spam": "ham", "tone": "calm"}, annotator="lee", seen={})
    with pytest.raises(SchemaError):
        p.quality.adjudicate("a", {"colour": "red"}, annotator="lee", seen={})
    with pytest.raises(LabelValidationError, match="must map each annotator"):
        p.quality.adjudicate("a", {"spam": "ham"}, annotator="lee", seen=["ann"])  # type: ignore[arg-type]
    p.close()
