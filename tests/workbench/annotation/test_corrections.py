"""The correction log: every confirmed, corrected or rejected draft, summarised into rates, throughput, suggestions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.lf import keywords


@pytest.fixture
def desk(spam_project: Callable[..., wb.Project]) -> wb.Project:
    return spam_project("desk", prefix="x", n=30, width=2, spam_text="cheap pills", ham_text="nice tune")


def model_drafts(p: wb.Project, ids: list[str], values: list[str], conf: float = 0.7) -> pd.DataFrame:
    spam = np.array([conf if v == "spam" else 1 - conf for v in values])
    return pd.DataFrame({"ham": 1 - spam, "spam": spam}, index=ids)


def test_every_draft_bearing_answer_is_logged_with_its_outcome(desk: wb.Project) -> None:
    ids = [f"x{i:02d}" for i in range(6)]
    drafts = ["spam", "spam", "ham", "ham", "spam", "ham"]
    desk.annotation.prelabel(model_drafts(desk, ids, drafts, 0.8), model_name="clf-v1")
    items = {i.example_id: i for i in desk.annotation.next_items("ann", 30)}
    assert all(items[e].draft == wb.Draft(d, pytest.approx(0.8), "model", "clf-v1")
               for e, d in zip(ids, drafts, strict=True))
    plan = {"x00": ("spam", True), "x01": ("spam", False), "x02": ("spam", False), "x03": ("ham", True)}
    for eid, (value, enter) in plan.items():
        desk.annotation.submit(eid, value, annotator="ann", time_spent=2.5, confirmed_draft=enter,
                               draft=items[eid].draft)
    desk.annotation.skip("x04", annotator="ann", time_spent=4.0)
    log = desk.annotation.corrections()
    assert log["example_id"].tolist() == ["x00", "x01", "x02", "x03", "x04"]
    assert log["outcome"].tolist() == ["confirmed", "confirmed", "corrected", "confirmed", "rejected"]
    assert log["confirmed_draft"].tolist() == [True, False, False, True, False]
    assert log["draft"].tolist() == drafts[:5]
    assert log["answer"].tolist()[:4] == ["spam", "spam", "spam", "ham"] and log["answer"].isna().tolist()[4]
    assert set(log["model_version"]) == {"clf-v1"} and set(log["draft_source"]) == {"model"}
    assert log["draft_confidence"].tolist() == pytest.approx([0.8] * 5)
    assert log["time_spent"].tolist() == [2.5, 2.5, 2.5, 2.5, 4.0]
    assert set(log["annotator"]) == {"ann"}
    # an answer without a draft is not a correction
    desk.add_data(pd.DataFrame({"id": ["n1"], "text": ["fresh"]}), id_column="id")
    desk.annotation.submit("n1", "ham", annotator="ann", time_spent=9.0)
    assert "n1" not in set(desk.annotation.corrections()["example_id"])
    # the log is in the store: another connection reads the same
    pd.testing.assert_frame_equal(wb.Project.open(desk.path).annotation.corrections(), desk.annotation.corrections())


def test_undone_submissions_leave_the_log(desk: wb.Project) -> None:
    desk.annotation.prelabel(model_drafts(desk, ["x00", "x01"], ["spam", "ham"]), model_name="clf-v1")
    desk.annotation.submit("x00", "ham", annotator="ann")
    desk.annotation.submit("x01", "ham", annotator="ann")
    assert desk.annotation.undo(annotator="ann") == "x01"
    assert desk.annotation.corrections()["example_id"].tolist() == ["x00"]
    desk.annotation.submit("x01", "spam", annotator="ann")  # answered again: a new entry
    assert desk.annotation.corrections()["outcome"].tolist() == ["corrected", "corrected"]


def test_the_draft_shown_is_logged_not_a_later_one(desk: wb.Project) -> None:
    desk.annotation.prelabel(model_drafts(desk, ["x00", "x01"], ["spam", "spam"]), model_name="clf-v1")
    served = {i.example_id: i for i in desk.annotation.next_items("ann", 30)}
    desk.annotation.prelabel(model_drafts(desk, ["x00", "x01"], ["ham", "ham"], 0.9), model_name="clf-v2")
    desk.annotation.submit("x00", "spam", annotator="ann", draft=served["x00"].draft)  # what the UI showed
    desk.annotation.submit("x01", "spam", annotator="ann")  # default: the draft the item has now
    log = desk.annotation.corrections().set_index("example_id")
    assert (log.loc["x00", "model_version"], log.loc["x00", "outcome"]) == ("clf-v1", "confirmed")
    assert (log.loc["x01", "model_version"], log.loc["x01", "outcome"]) == ("clf-v2", "corrected")
    desk.annotation.submit("x02", "spam", annotator="ann", draft=None)  # the UI showed no draft
    assert "x02" not in log.index and "x02" not in set(desk.annotation.corrections()["example_id"])


def test_label_model_drafts_are_logged_under_their_own_version(desk: wb.Project) -> None:
    desk.lfs.add(keywords("pills", ["pills"], label=1))
    served = desk.annotation.next_items("ann", 30)
    item = next(i for i in served if i.example_id == "x01")  # the LF fires on it: the label model drafts it
    assert item.draft is not None and item.draft.source == "label_model"
    desk.annotation.submit(item.example_id, item.draft.value, annotator="ann", confirmed_draft=True)
    log = desk.annotation.corrections()
    assert log[["draft_source", "model_version", "outcome"]].values.tolist() == [
        ["label_model", "label_model:auto", "confirmed"]]


def test_summary_rates_confusions_throughput_and_suggestions(
    desk: wb.Project, parity_truth: Callable[[str], str]
) -> None:
    ids = [f"x{i:02d}" for i in range(20)]
    # the model drafts "spam" for x00..x09 (half of them are ham) and the truth for x10..x19
    drafts = ["spam"] * 10 + [parity_truth(i) for i in ids[10:]]
    desk.annotation.prelabel(model_drafts(desk, ids, drafts), model_name="clf-v1")
    desk.lfs.add(keywords("nice", ["nice"], label=1))   # wrong: votes spam on the ham items
    desk.lfs.add(keywords("tune", ["tune"], label=0))   # right
    for eid in ids:
        desk.annotation.submit(eid, parity_truth(eid), annotator="ann", time_spent=2.0)
    desk.add_data(pd.DataFrame({"id": [f"n{i}" for i in range(4)], "text": ["plain"] * 4}), id_column="id")
    for i in range(4):  # no draft for these (no prediction, no LF fires): the time without a draft
        assert desk.annotation.draft(f"n{i}") is None
        desk.annotation.submit(f"n{i}", "ham", annotator="ann", time_spent=6.0)
    s = desk.annotation.correction_summary()
    corrected = [e for e, d in zip(ids, drafts, strict=True) if d != parity_truth(e)]
    assert s.by_class.loc["spam", "n"] == sum(d == "spam" for d in drafts)
    assert s.by_class.loc["spam", "corrected"] == len(corrected) == 5
    assert s.by_class.loc["ham", "confirm_rate"] == 1.0
    assert s.by_class.loc["spam", "confirm_low"] < s.by_class.loc["spam", "confirm_rate"] < \
        s.by_class.loc["spam", "confirm_high"]
    assert s.by_model_version.loc["clf-v1", "n"] == 20
    assert s.confusions[["draft", "answer", "n"]].values.tolist() == [["spam", "ham", 5]]
    assert s.confusions["share"].tolist() == [5 / 15]
    top = s.lf_contradictions.iloc[0]
    assert (top["lf"], top["n_votes"], top["n_contradicted"]) == ("nice", 5, 5)
    assert s.lf_contradictions.set_index("lf").loc["tune", "n_contradicted"] == 0
    row = s.throughput.set_index("annotator").loc["ann"]
    assert (row["n_with_draft"], row["n_without_draft"]) == (20, 4)
    assert (row["items_per_hour_with_draft"], row["items_per_hour_without_draft"], row["speedup"]) == (1800, 600, 3)
    text = " ".join(s.suggestions)
    assert "'nice'" in text and "drafts 'spam' where annotators answer 'ham'" in text and "3.0x" in text


def test_summary_of_an_empty_log_says_what_to_do(desk: wb.Project) -> None:
    s = desk.annotation.correction_summary()
    assert s.by_class.empty and s.confusions.empty and s.lf_contradictions.empty and s.throughput.empty
    assert "No draft has been confirmed" in s.suggestions[0]


def test_multi_question_answers_log_the_root_answer(tmp_path: Path, seatbelt_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "cars", schema=seatbelt_schema)
    p.add_data(pd.DataFrame({"id": ["f1", "f2"], "text": ["a", "b"]}), id_column="id")
    p.annotation.prelabel(pd.DataFrame({"yes": [0.9, 0.2], "no": [0.1, 0.8]}, index=["f1", "f2"]), model_name="m")
    p.annotation.submit("f1", {"person": "yes", "seatbelt": "no"}, annotator="ann")
    p.annotation.submit("f2", {"person": "yes", "seatbelt": "yes"}, annotator="ann")
    log = p.annotation.corrections()
    assert log[["example_id", "question", "answer", "outcome"]].values.tolist() == [
        ["f1", "person", "yes", "confirmed"], ["f2", "person", "yes", "corrected"]]


def test_correction_log_errors(desk: wb.Project) -> None:
    with pytest.raises(wb.LabelValidationError, match="'draft' parameter of submit must be the Draft that was shown"):
        desk.annotation.submit("x00", "spam", annotator="ann", draft="spam")  # type: ignore[arg-type]
    assert desk.labels().empty  # nothing written
    desk.annotation.prelabel(model_drafts(desk, ["x00"], ["spam"]), model_name="m")
    with pytest.raises(wb.LabelValidationError, match="'time_spent' parameter of skip must be a finite number"):
        desk.annotation.skip("x00", annotator="ann", time_spent=-1.0)
    with pytest.raises(wb.LabelValidationError, match="'draft' parameter of skip must be the Draft"):
        desk.annotation.skip("x00", annotator="ann", draft=0.7)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- the probabilities the queues read
def straightforward_proba(p: wb.Project) -> pd.DataFrame | None:
    """predict_proba written out row by row: the label model where an LF votes, the latest model prediction over it."""
    q = p.schema.questions[0]
    k = q.cardinality
    proba = pd.DataFrame(np.nan, index=p.examples().index, columns=list(q.choices))
    if len(p.lfs):
        L = p.lfs.matrix()
        P = p.models.get("auto").predict_proba(L)
        for i in range(len(L)):
            if (L[i] != -1).any():
                proba.iloc[i] = P[i]
    for _, row in p.labels(source="model").drop_duplicates("example_id", keep="last").iterrows():
        c = 1.0 if pd.isna(row["confidence"]) else float(row["confidence"])
        values = np.full(k, (1.0 - c) / (k - 1))
        values[q.choices.index(row["value"])] = c
        proba.loc[row["example_id"]] = values
    proba = proba.dropna()
    return proba if len(proba) else None


@pytest.mark.parametrize("choices", [["ham", "spam"], ["ham", "spam", "promo"]])
def test_predicted_probabilities_equal_the_row_by_row_result(
    spam_project: Callable[..., wb.Project], choices: list[str]
) -> None:
    rng = np.random.default_rng(3)
    p = spam_project("p", prefix="x", n=40, width=2, spam_text="cheap pills", ham_text="nice tune",
                     schema=wb.Schema.single("spam", choices))
    ids = [f"x{i:02d}" for i in range(40)]
    assert p.models.predict_proba() is None and straightforward_proba(p) is None  # nothing predicts anything yet
    p.lfs.add(keywords("pills", ["pills"], label=1))
    p.lfs.add(keywords("tune", ["tune"], label=0))
    p.add_data(pd.DataFrame({"id": ["n0", "n1"], "text": ["plain", "plain too"]}), id_column="id")  # no LF fires
    # model labels (what an accepted pre-label is): some with a confidence, one without, one relabelled later
    for eid in rng.choice(ids, 15, replace=False):
        p.annotate(str(eid), str(rng.choice(choices)), annotator="clf-1", source="model",
                   confidence=round(float(rng.uniform(0.4, 0.99)), 6))
    p.annotate("n0", choices[-1], annotator="clf-1", source="model")  # no confidence: all of it on its class
    p.annotate("x03", "ham", annotator="clf-2", source="model", confidence=0.91)  # the latest prediction wins
    expected = straightforward_proba(p)
    got = p.models.predict_proba()
    assert got is not None and expected is not None
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_index_type=False)
    assert "n1" not in got.index and got.loc["n0", choices[-1]] == 1.0
    assert got.loc["x03", "ham"] == 0.91
    # the uncertain queue ranks by the entropy of these probabilities
    ranked = p.annotation.queue("uncertain", n=len(got) + 1)
    assert ranked["example_id"].iloc[0] == "n1"  # no prediction: maximally uncertain


def multiply_row_by_row(P: np.ndarray, pos: pd.Series, ids: pd.Series, values: pd.Series, confidence: pd.Series,
                        q: wb.Question, sources: list[set[str]], name: str, *, replace: bool) -> None:
    """How soft labels fold a source's evidence into the distributions, one row at a time."""
    k = q.cardinality
    for eid, value, c in zip(ids, values, confidence, strict=True):
        if eid not in pos.index or value not in q.choices:
            continue
        i = int(pos[eid])
        c = 1.0 if c is None or pd.isna(c) else float(np.clip(c, 1.0 / k, 1.0))
        ev = np.full(k, (1.0 - c) / (k - 1))
        ev[q.choices.index(value)] = c
        if replace or np.isnan(P[i]).any():
            P[i] = ev
        else:
            prod = P[i] * ev
            total = prod.sum()
            P[i] = prod / total if total > 0 else ev
        sources[i].add(name)


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_soft_label_evidence_equals_the_row_by_row_result(replace: bool, seed: int) -> None:
    from workbench.models._project import _multiply

    rng = np.random.default_rng(seed)
    q = wb.Question("kind", choices=["a", "b", "c"])
    n = 60
    P = rng.dirichlet(np.ones(3), n)
    P[rng.random(n) < 0.3] = np.nan  # rows no source covered yet
    P[0] = [1.0, 0.0, 0.0]  # evidence for another class only: a zero product
    pos = pd.Series(np.arange(n), index=[f"i{j}" for j in range(n)])
    m = 80  # with ids given twice, unknown ids, values that are not choices and missing confidences
    ids = pd.Series([*(f"i{j}" for j in rng.integers(0, n + 5, m)), "i0"])
    values = pd.Series([*rng.choice(["a", "b", "c", "zzz"], m, p=[0.3, 0.3, 0.3, 0.1]).tolist(), "c"])
    conf = pd.Series([*(None if r < 0.1 else float(r) for r in rng.random(m)), 1.0], dtype=object)
    expected, got = P.copy(), P.copy()
    src_expected: list[set[str]] = [set() for _ in range(n)]
    src_got: list[set[str]] = [set() for _ in range(n)]
    multiply_row_by_row(expected, pos, ids, values, conf, q, src_expected, "model", replace=replace)
    _multiply(got, pos, ids, values, conf, q, src_got, "model", replace=replace)
    np.testing.assert_array_equal(got, expected)
    assert src_got == src_expected
    unique = ~ids.duplicated(keep="last")  # the shape callers use: one row per example
    expected, got = P.copy(), P.copy()
    multiply_row_by_row(expected, pos, ids[unique], values[unique], conf[unique], q, src_expected, "h", replace=replace)
    _multiply(got, pos, ids[unique], values[unique], conf[unique], q, src_got, "h", replace=replace)
    np.testing.assert_array_equal(got, expected)
    assert src_got == src_expected
