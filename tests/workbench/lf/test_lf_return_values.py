"""What an LF returns: Series are aligned by index, invalid values are refused at registration."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import workbench as wb
import workbench.lf._engine as engine_mod
from workbench.exceptions import LFError
from workbench.lf import ABSTAIN, LFEngine, keywords, labeling_function, vectorized

VALID = re.escape("ABSTAIN (-1) for no vote, or a class id of question 'topic': 0 ('a'), 1 ('b'), 2 ('c')")


@pytest.fixture(params=[None, 600.0], ids=["in-process", "guarded"])
def topics(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[wb.Project]:
    """Three classes; r0..r5, every third text mentions apple/banana/cherry. Both ways LFs run."""
    p = wb.Project.create(tmp_path / "topics", schema=wb.Schema.single("topic", choices=["a", "b", "c"]))
    fruit = ["apple", "banana", "cherry"]
    p.add_data(pd.DataFrame({"id": [f"r{i}" for i in range(6)], "text": [f"text {fruit[i % 3]}" for i in range(6)]}),
               id_column="id")
    p.lfs.timeout = request.param
    yield p
    p.close()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[wb.Project]:
    p = wb.Project.create(tmp_path / "shop", schema=wb.Schema.single("spam", choices=["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a", "b", "c", "d"], "text": ["buy x", "hello", "buy y", "nice"]}), id_column="id")
    yield p
    p.close()


def column(project: wb.Project, name: str) -> dict[str, int]:
    L = project.lfs.matrix(progress=False)
    return dict(zip(project.examples().index, L[:, project.lfs.names.index(name)].tolist(), strict=True))


# --------------------------------------------------------------------------------------
# A. A returned Series is aligned by its index
# --------------------------------------------------------------------------------------
@vectorized()
def concat_lf(frame: pd.DataFrame) -> pd.Series:
    hit = frame["text"].str.contains("buy")
    return pd.concat([pd.Series(1, index=frame.index[hit]), pd.Series(0, index=frame.index[~hit])])


@pytest.mark.parametrize("timeout", [None, 600.0], ids=["in-process", "guarded"])
def test_a_series_in_another_row_order_is_aligned_by_index(shop: wb.Project, timeout: float | None) -> None:
    shop.lfs.timeout = timeout
    shop.lfs.add(concat_lf)
    assert column(shop, "concat_lf") == {"a": 1, "b": 0, "c": 1, "d": 0}
    assert concat_lf(wb.lf.Row(text="buy it")) == 1  # one row, called directly


def test_series_alignment_in_the_engine_and_the_default_range_index() -> None:
    df = pd.DataFrame({"text": ["buy x", "hello", "buy y", "nice"]}, index=pd.Index(["a", "b", "c", "d"], name="id"))
    engine = LFEngine(n_jobs=1, progress=False, timeout=None)
    engine.add(concat_lf)
    # pd.Series(values) has the labels 0..n-1: they are row positions, as in a list
    engine.add(vectorized(name="listlike", column="text")(lambda t: pd.Series([1 if "buy" in s else None for s in t])))
    engine.add(vectorized(name="same", column="text")(lambda t: t.str.contains("y").astype(int)))
    L = engine.apply([("d1", df)]).to_frame()
    assert L["concat_lf"].tolist() == [1, 0, 1, 0]
    assert L["listlike"].tolist() == [1, -1, 1, -1]
    assert L["same"].tolist() == [1, 0, 1, 0]


def _returns(series: Any) -> Any:
    return vectorized(name="misaligned")(series)


@pytest.mark.parametrize(
    ("lf", "message"),
    [
        (_returns(lambda f: pd.Series(1, index=f.index[f["text"].str.contains("buy")])),
         r"has no value for 2 of its 4 rows \(e\.g\. 'b', 'd'\)"),
        (_returns(lambda f: pd.Series(1, index=[*f.index, "zzz"])),
         r"holds 1 label\(s\) that are not rows of the input \(e\.g\. 'zzz'\)"),
        (_returns(lambda f: pd.Series(1, index=["a", "a", "c", "d"])),
         r"holds the label\(s\) 'a' more than once.*has no value for 1 of its 4 rows \(e\.g\. 'b'\)"),
        (_returns(lambda f: pd.Series(1, index=range(1, 5))),
         r"has no value for 4 of its 4 rows \(e\.g\. 'a', 'b', 'c'\).*not rows of the input \(e\.g\. 1, 2, 3\)"),
    ],
    ids=["missing", "extra", "duplicate", "shifted-range"],
)
def test_a_series_indexed_unlike_the_input_is_refused(shop: wb.Project, lf: Any, message: str) -> None:
    with pytest.raises(LFError, match=message) as info:
        shop.lfs.add(lf)
    text = str(info.value)
    assert "project.lfs.add refused the labeling function 'misaligned'" in text
    assert "returned a Series whose index does not match the rows it was given" in text
    assert "return one value per row, indexed like the input (e.g. pd.Series(values, index=frame.index))" in text
    assert "or a plain array or list in row order" in text
    assert "Nothing was registered" in text
    assert shop.lfs.names == []


def test_a_range_index_that_could_be_labels_or_positions_is_refused() -> None:
    df = pd.DataFrame({"n": [30, 20, 10, 0]}, index=pd.Index([3, 2, 1, 0], name="id"))
    engine = LFEngine(n_jobs=1, progress=False, timeout=None)
    engine.add(vectorized(name="ambiguous", column="n")(lambda n: pd.Series([1 if v > 15 else 0 for v in n])))
    message = (r"'ambiguous' returned a Series with the default index 0\.\.3, which are also the row ids of the input "
               r"in another order: it is unclear whether they are labels or positions")
    with pytest.raises(LFError, match=message):
        engine.apply([("d1", df)])
    engine.add(vectorized(name="ambiguous", column="n")(lambda n: (n > 15).astype(int).sort_index()))
    assert engine.apply([("d1", df)]).L[:, 0].tolist() == [1, 1, 0, 0]  # labels of the input: aligned


# --------------------------------------------------------------------------------------
# B. Invalid values are refused when the LF is registered
# --------------------------------------------------------------------------------------
def _row(value: Any) -> Any:
    @labeling_function(name="bad")
    def bad(x: Any) -> Any:
        return value if "banana" in x.text else ABSTAIN

    return bad


@pytest.mark.parametrize(
    ("lf", "shown"),
    [
        (_row(5), r"returned 5 \(int\)"),
        (_row(-2), r"returned -2 \(int\)"),
        (_row(None), r"returned None \(NoneType\).*Did the function forget to return ABSTAIN"),
        (_row("c"), r"returned 'c' \(str\).*'c' is a choice: return its class id, "
                    r"project\.schema\.label_id\('c'\) == 2"),
        (_row("grape"), r"returned 'grape' \(str\).*Return class ids, not choice names"),
        (_row(True), r"returned True \(bool\).*A bool is not a class id"),
        (_row(1.5), r"returned 1\.5 \(float\).*Return an int class id, not a float"),
        (vectorized(name="bad", column="text")(lambda t: np.where(t.str.contains("banana"), 3, -1)),
         r"returned 3 \(int\)"),
        (vectorized(name="bad", column="text")(lambda t: np.where(t.str.contains("banana"), 0.5, -1)),
         r"returned 0\.5 \(float\)"),
    ],
    ids=["5", "-2", "None", "choice-name", "str", "bool", "float", "vec-3", "vec-float"],
)
def test_add_refuses_an_lf_with_invalid_values_and_stores_nothing(topics: wb.Project, lf: Any, shown: str) -> None:
    good = topics.lfs.add(keywords("apple", ["apple"], label=0))
    before = topics.lfs.matrix(progress=False).copy()
    events: list[dict[str, Any]] = []
    with topics.on("lfs_changed", lambda **kw: events.append(kw)), pytest.raises(LFError, match=shown) as info:
        topics.lfs.add(lf)
    text = str(info.value)
    assert text.startswith("project.lfs.add refused the labeling function 'bad': ")
    assert "for example 'r1' (data version 'd1')" in text  # r1 is the first banana
    assert re.search(VALID, text), text
    assert "Nothing was registered (the labeling functions and their votes are unchanged)" in text
    assert "then add it again" in text
    assert "cardinality" not in text  # not something a project user sets
    assert topics.lfs.names == ["apple"] and events == []
    assert topics.lfs["apple"] is good
    np.testing.assert_array_equal(topics.lfs.matrix(progress=False), before)
    assert topics.lfs.summary().index.tolist() == ["apple"]
    assert not any(r.get("name") == "bad" for r in topics.lfs._store.get_records("lf").values())
    assert not any(p.name.startswith(lf.fingerprint) for p in (topics.path / "lf_cache").glob("*"))


def test_redefining_an_lf_as_invalid_keeps_the_valid_one(topics: wb.Project) -> None:
    @labeling_function(name="banana")
    def banana(x: Any) -> int:
        return 1 if "banana" in x.text else ABSTAIN

    topics.lfs.add(banana)
    assert column(topics, "banana")["r1"] == 1
    with pytest.raises(LFError, match=r"refused the labeling function 'banana': .*returned 7 \(int\)"):
        topics.lfs.add(_renamed(_row(7), "banana"))
    assert topics.lfs["banana"] is banana and topics.lfs.fingerprints == (banana.fingerprint,)
    assert column(topics, "banana")["r1"] == 1


def _renamed(lf: Any, name: str) -> Any:
    lf.name = name
    return lf


def test_builders_with_a_label_outside_the_choices_name_the_choices(topics: wb.Project) -> None:
    with pytest.raises(LFError, match=r"project\.lfs\.add refused the labeling function 'kw': it votes 3; expected "
                                      + VALID) as info:
        topics.lfs.add(keywords("kw", ["apple"], label=3))
    assert "cardinality" not in str(info.value) and topics.lfs.names == []


def test_valid_values_of_a_question_of_a_multi_question_schema(tmp_path: Path, seatbelt_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "car", schema=seatbelt_schema)
    try:
        p.add_data(pd.DataFrame({"id": ["x", "y"], "text": ["a man", "a car"]}), id_column="id")
        p.lfs.timeout = None
        lf = labeling_function(name="belt", question="seatbelt")(lambda x: 3 if "car" in x.text else ABSTAIN)
        message = (r"returned 3 \(int\) for example 'y'.*expected " + re.escape(
            "ABSTAIN (-1) for no vote, or a class id of question 'seatbelt': 0 ('yes'), 1 ('no'), 2 ('unsure')"))
        with pytest.raises(LFError, match=message):
            p.lfs.add(lf)
        assert p.lfs.names == []
    finally:
        p.close()


def test_the_check_at_registration_computes_each_vote_once(topics: wb.Project, tmp_path: Path) -> None:
    topics.lfs.timeout = None  # in-process, so the calls are seen here
    calls = tmp_path / "calls.txt"  # a file, not a list: what the LF reaches is part of its fingerprint

    @labeling_function()
    def counted(x: Any) -> int:
        with open(calls, "a", encoding="utf-8") as fh:
            fh.write(f"{x.name}\n")
        return 2 if "cherry" in x.text else ABSTAIN

    topics.lfs.add(counted)
    result = topics.lfs.apply(progress=False)
    assert result.computed["counted"] == ["d1"]  # reported by the apply that follows, as before
    assert column(topics, "counted")["r2"] == 2
    assert topics.lfs.apply(progress=False).cache_hits == ["counted"]
    assert sorted(calls.read_text().split()) == [f"r{i}" for i in range(6)]


def test_invalid_values_found_in_worker_processes_are_reported_the_same(
    topics: wb.Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_mod, "_PARALLEL_MIN_CALLS", 0)  # per-row LFs on a process pool
    monkeypatch.setattr(engine_mod, "_MIN_CHUNK", 2)
    topics.lfs.engine.n_jobs = 2
    with pytest.raises(LFError, match=r"^project\.lfs\.add refused the labeling function 'bad': it returned 5 \(int\) "
                                      r"for example 'r1' \(data version 'd1'\); expected ABSTAIN"):
        topics.lfs.add(_row(5))
    assert topics.lfs.names == []


def test_exceptions_inside_an_lf_stay_isolated(topics: wb.Project) -> None:
    @labeling_function()
    def fragile(x: Any) -> int:
        if "apple" in x.text:
            raise ValueError("boom")
        return 1

    topics.lfs.add(fragile)  # raising is not an invalid value: it is recorded, those rows abstain
    assert topics.lfs.summary()["errors"].tolist() == [2]
    assert column(topics, "fragile") == {"r0": -1, "r1": 1, "r2": 1, "r3": -1, "r4": 1, "r5": 1}


def test_an_lf_that_becomes_invalid_on_new_data_says_how_to_unblock(topics: wb.Project) -> None:
    @labeling_function()
    def by_digit(x: Any) -> int:
        return int(x.text[-1]) if x.text[-1].isdigit() else ABSTAIN

    topics.lfs.add(by_digit)
    topics.lfs.add(keywords("apple", ["apple"], label=0))
    topics.add_data(pd.DataFrame({"id": ["n1", "n2"], "text": ["new 1", "new 9"]}), id_column="id")
    for call in (topics.lfs.matrix, topics.lfs.summary, topics.lfs.apply):
        with pytest.raises(LFError) as info:
            call()
        text = str(info.value)
        assert text.startswith("The labeling function 'by_digit' returned 9 (int) for example 'n2' (data version "
                               "'d2'); expected ")
        assert re.search(VALID, text), text
        assert "It is still registered" in text
        assert "fix the LF and add it again with project.lfs.add(...), or run project.lfs.remove('by_digit')" in text
    topics.lfs.remove("by_digit")
    assert column(topics, "apple")["r0"] == 0  # the others are unblocked


def test_votes_for_a_choice_a_migration_removed_name_the_lf(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "narrow", schema=wb.Schema.single("topic", choices=["a", "b", "c"]))
    try:
        p.add_data(pd.DataFrame({"id": ["r0"], "text": ["apple"]}), id_column="id")
        p.lfs.timeout = None
        p.lfs.add(keywords("cherry_kw", ["cherry"], label=2))
        # a function that has not voted 2 yet on the project's data: nothing says it ever will
        p.lfs.add(labeling_function(name="cherry_fn")(lambda x: 2 if "cherry" in x.text else ABSTAIN))
        p.lfs.add(keywords("apple", ["apple"], label=0))
        p.add_data(pd.DataFrame({"id": ["r1"], "text": ["cherry"]}), id_column="id")  # not applied yet
        # a builder declares its label: the migration is refused while it is registered
        with pytest.raises(wb.SchemaError, match=r"LF 'cherry_kw' votes 2 \('c', removed\)") as info:
            p.migrations.plan(p.schema.evolve(remove=["c"])).apply()
        assert "cherry_fn" not in str(info.value)
        p.lfs.remove("cherry_kw")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            p.migrations.plan(p.schema.evolve(remove=["c"])).apply()
            assert p.lfs.names == ["cherry_fn", "apple"]  # nothing is unregistered behind the user's back
        # the function may still vote 2: the migration says so; 'apple' only ever votes 0
        assert [str(w.message) for w in caught if "unregistered" in str(w.message)] == []
        said = " ".join(str(w.message) for w in caught)
        assert "cherry_fn: vote 2 meant 'c', now is invalid" in said and "apple:" not in said
        # the function's first vote for the removed choice names it, and how to unblock the others
        with pytest.raises(LFError, match=r"^The labeling function 'cherry_fn' returned 2 \(int\) for example 'r1' "
                                          r"\(data version 'd2'\); expected ABSTAIN.*" + re.escape("0 ('a'), 1 ('b').")
                                          + r".*It is still registered.*project\.lfs\.remove\('cherry_fn'\)"):
            p.lfs.matrix()
        p.lfs.remove("cherry_fn")
        assert p.lfs.matrix().tolist() == [[0], [-1]]
    finally:
        p.close()


# --------------------------------------------------------------------------------------
# C. The summary's docstring describes its columns
# --------------------------------------------------------------------------------------
def test_every_column_the_summary_docstring_names_is_in_the_summary(topics: wb.Project) -> None:
    topics.lfs.add(keywords("apple", ["apple"], label=0))
    gold = pd.Series(["a", "b", "c"] * 2, index=[f"r{i}" for i in range(6)])
    summary = topics.lfs.summary(gold=gold)
    doc = wb.lf.ProjectLFs.summary.__doc__ or ""
    named = set(re.findall(r"``(\w+)``", doc))
    assert {"errors", "volatile"} <= named
    assert named <= set(summary.columns), named - set(summary.columns)
