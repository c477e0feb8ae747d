"""The label log's cached current labels are always what a fresh read of the store gives.

``LabelLog.labels`` keeps the current labels per filter and brings them up to date from the
events appended since (events are never changed; an event only supersedes one of its own
example, question, source and annotator); flags (``flag_for_review``) force a full read. These
tests drive random programs of writes through one handle and compare every read, through that
handle and through a second one on the same project, with a handle that has no cache yet.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workbench as wb
from workbench.exceptions import WorkbenchError

IDS = ["a", "b", "c", "d"]
WHO = ["ann", "bea"]
SOURCES = ["human", "gold", "model"]
FILTERS = [{}, {"source": "gold"}, {"source": "human"}, {"source": "model"}, {"annotator": "ann"},
           {"source": "human", "annotator": "bea"}, {"include_flagged": True}]
COLUMNS = ["event_id", "example_id", "question", "value", "source", "annotator", "action"]

op = st.one_of(
    st.tuples(st.just("annotate"), st.sampled_from(IDS), st.sampled_from(["ham", "spam"]), st.sampled_from(WHO),
              st.sampled_from(SOURCES)),
    st.tuples(st.just("retract"), st.sampled_from(IDS), st.sampled_from(WHO), st.sampled_from(SOURCES)),
    st.tuples(st.just("guidelines")),
    st.tuples(st.just("read")),
)


def _project(root: Path) -> wb.Project:
    p = wb.Project.create(root, schema=wb.Schema.single("spam", ["ham", "spam"], guidelines="v1"))
    p.add_data(pd.DataFrame({"id": IDS, "text": ["w", "x", "y", "z"]}), id_column="id")
    return p


def _view(p: wb.Project, f: dict[str, object]) -> list[dict[str, object]]:
    return p._log.labels(**f)[COLUMNS].to_dict("records")  # type: ignore[arg-type]


def _apply(p: wb.Project, step: tuple[object, ...], n_guidelines: list[int]) -> None:
    kind = step[0]
    try:
        if kind == "annotate":
            _, eid, value, who, src = step
            p.annotate(str(eid), str(value), annotator=str(who), source=str(src))
        elif kind == "retract":
            _, eid, who, src = step
            p.retract(str(eid), annotator=str(who), source=str(src))
        elif kind == "guidelines":
            n_guidelines[0] += 1
            p.update_guidelines(f"v{n_guidelines[0] + 1}")
            p.migrations.flag_for_review(sources=["human", "gold"], exclude=True)
    except WorkbenchError:
        pass  # e.g. nothing to retract: refused, nothing written


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(program=st.lists(op, min_size=1, max_size=25))
def test_cached_labels_equal_a_fresh_read(tmp_path_factory: pytest.TempPathFactory,
                                          program: list[tuple[object, ...]]) -> None:
    root = tmp_path_factory.mktemp("cache") / "p"
    p = _project(root)
    other = wb.Project.open(root)  # a second handle: it caches too, and never writes
    n_guidelines = [0]
    try:
        for step in program:
            for f in FILTERS:  # fill the caches before the write, so the next read must update them
                _view(p, f), _view(other, f)
            _apply(p, step, n_guidelines)
            fresh = wb.Project.open(root)
            try:
                for f in FILTERS:
                    truth = _view(fresh, f)
                    assert _view(p, f) == truth, (step, f)
                    assert _view(other, f) == truth, (step, f)
                assert p._log.gold().to_dict() == fresh._log.gold().to_dict()
                assert p._log.gold_labels("gold").tolist() == fresh._log.gold_labels("gold").tolist()
            finally:
                fresh.close()
    finally:
        other.close()
        p.close()


def test_a_caller_changing_the_frame_does_not_change_the_cache(tmp_path: Path) -> None:
    p = _project(tmp_path / "p")
    p.annotate("a", "spam", annotator="ann")
    first = p.labels()
    first.loc[:, "value"] = "ham"
    gold = p._log.gold()
    gold.loc["x"] = "spam"
    assert p.labels()["value"].tolist() == ["spam"]
    assert p._log.gold().empty
    p.close()
