"""Queues, leases, overlap, honeypots, drafts, undo, consensus and adjudication through the Project API."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.lf import keywords


@pytest.fixture
def team(tmp_path: Path) -> wb.Project:
    n = 60
    texts = [("buy now http://x" if i % 2 else "lovely song") + f" #{i}" for i in range(n)]
    df = pd.DataFrame({"id": [f"e{i:02d}" for i in range(n)], "text": texts})
    p = wb.Project.create(tmp_path / "team", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(df, id_column="id")
    gold_ids = [f"e{i:02d}" for i in range(10)]
    gold = pd.DataFrame({"id": gold_ids, "label": [truth(i) for i in gold_ids]})
    assert p.add_gold(gold) == 10
    yield p
    p.close()


def truth(eid: str) -> str:
    return "spam" if int(eid[1:]) % 2 else "ham"


def test_configure_quality_validates(team: wb.Project) -> None:
    cfg = team.annotation.configure(overlap=2, honeypot_rate=0.1)
    assert (cfg.overlap, cfg.honeypot_rate) == (2, 0.1)
    assert wb.Project.open(team.path).annotation.config.overlap == 2  # stored, not in memory
    with pytest.raises(wb.LabelValidationError, match="'overlap' parameter of project.annotation.configure must"):
        team.annotation.configure(overlap=0)
    with pytest.raises(wb.LabelValidationError, match="honeypot_rate"):
        team.annotation.configure(honeypot_rate=1.0)
    with pytest.raises(wb.LabelValidationError, match="unknown setting"):
        team.annotation.configure(overlapp=2)


def test_overlap_k_different_annotators_never_twice(team: wb.Project) -> None:
    team.annotation.configure(overlap=2)
    seen: dict[str, list[str]] = {}
    for who in ("a", "b", "c"):
        for _ in range(40):
            items = team.annotation.next_items(who, 5)
            if not items:
                break
            for it in items:
                assert not it.is_honeypot
                seen.setdefault(it.example_id, []).append(who)
                team.annotation.submit(it.example_id, truth(it.example_id), annotator=who)
    assert all(len(w) == len(set(w)) for w in seen.values())  # never twice to the same annotator
    assert all(len(w) <= 2 for w in seen.values())  # never more than overlap
    assert team.annotation.progress()["n_remaining"] == 0  # 50 non-gold items x 2 = 100 answers
    assert len(team.annotation.answers()) == 100
    assert not any(i in seen for i in team.gold().index)  # gold only ever comes as honeypots


def test_leases_reserve_and_expire(team: wb.Project) -> None:
    team.annotation.configure(overlap=1, lease_seconds=2.0)  # long enough for a loaded machine between calls
    first = {i.example_id for i in team.annotation.next_items("a", 5)}
    other = {i.example_id for i in team.annotation.next_items("b", 5)}
    assert not first & other  # a's leased items are not served to b
    again = {i.example_id for i in team.annotation.next_items("a", 5)}
    assert again == first  # unexpired leases come back first
    time.sleep(2.1)
    taken = {i.example_id for i in team.annotation.next_items("c", 60)}
    assert first <= taken  # expired leases are free again


def _worker(path: str, who: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    p = wb.Project.open(path)
    got = []
    while True:
        items = p.annotation.next_items(who, 3)
        if not items:
            break
        for it in items:
            p.annotation.submit(it.example_id, "spam", annotator=who)
            got.append(it.example_id)
    out.put(got)
    p.close()


def test_two_kernels_overlap_two(team: wb.Project) -> None:
    team.annotation.configure(overlap=2, honeypot_rate=0.2)
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(team.path), who, q)) for who in ("alice", "bob")]
    for p in procs:
        p.start()
    results = [q.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    gold_ids = set(team.gold().index)
    for r in results:
        regular = [e for e in r if e not in gold_ids]
        assert len(regular) == len(set(regular)) == 50  # each of the 50 items went to both
        assert 1 <= len(r) - 50 <= 10  # hidden honeypots were mixed in
    assert len(team.annotation.answers()) == 100  # honeypot answers are not counted as labels
    honey = team.annotation.answers(include_honeypots=True)
    assert set(honey[honey["is_honeypot"]]["example_id"]) <= gold_ids
    report = team.quality.annotator_report()
    assert set(report.index if "annotator" not in report.columns else report["annotator"]) == {"alice", "bob"}


def test_honeypots_are_mixed_in_and_not_counted(team: wb.Project) -> None:
    team.annotation.configure(overlap=1, honeypot_rate=0.3)
    served = []
    for _ in range(20):
        items = team.annotation.next_items("a", 5, random_state=len(served))
        if not items:
            break
        for it in items:
            served.append(it)
            team.annotation.submit(it.example_id, truth(it.example_id), annotator="a")
    honey = [s for s in served if s.is_honeypot]
    assert 3 <= len(honey) <= 10
    assert all(s.example_id in set(team.gold().index) for s in honey)
    ann_all = team.annotation.answers(include_honeypots=True)
    assert ann_all["is_honeypot"].sum() == len(honey)
    assert team.annotation.answers()["is_honeypot"].sum() == 0  # honeypots never count as new labels
    assert set(team.quality.consensus().index).isdisjoint(set(team.gold().index))
    report = team.quality.annotator_report()
    assert len(report) == 1


def test_drafts_come_from_models_then_label_models(team: wb.Project) -> None:
    assert team.annotation.draft("e11") is None
    team.lfs.add(keywords("buy", ["buy now"], label=1))
    d = team.annotation.draft("e11")
    assert d is not None and d.value == "spam" and d.source == "label_model"
    team.annotate("e12", "spam", annotator="clf-v1", source="model", confidence=0.8)
    d2 = team.annotation.draft("e12")
    assert d2 is not None and (d2.value, d2.confidence, d2.source) == ("spam", 0.8, "model")


def test_submit_confirmed_draft_and_undo(team: wb.Project) -> None:
    (item,) = team.annotation.next_items("a", 1)
    team.annotation.submit(item.example_id, "spam", annotator="a", confirmed_draft=True, time_spent=1.5)
    h = team.history(item.example_id)
    assert h["note"].iloc[-1] == "confirmed draft" and h["time_spent"].iloc[-1] == 1.5
    assert team.annotation.undo(annotator="a") == item.example_id
    h = team.history(item.example_id)
    assert h["action"].tolist()[-2:] == ["label", "retract"]  # appended, nothing deleted
    team.annotate(item.example_id, "ham", annotator="a")
    team.annotate(item.example_id, "spam", annotator="a")
    team.annotation.undo(annotator="a")  # restores the earlier answer by a new event
    cur = team.labels(annotator="a", source="human")
    assert cur["value"].tolist() == ["ham"]
    assert team.annotation.undo(annotator="nobody") is None


def test_skip_is_not_served_again(team: wb.Project) -> None:
    (item,) = team.annotation.next_items("a", 1)
    team.annotation.skip(item.example_id, annotator="a")
    later = {i.example_id for i in team.annotation.next_items("a", 60)}
    assert item.example_id not in later
    assert item.example_id in {i.example_id for i in team.annotation.next_items("b", 60)}


def test_queue_strategies(team: wb.Project) -> None:
    for strategy in ("random", "stratified", "disagreement", "uncertain"):
        q = team.annotation.queue(strategy, 5)
        assert len(q) == 5 and list(q.columns) == ["example_id", "score", "reason"]
    assert "no predictions yet" in team.annotation.queue("uncertain", 1)["reason"].iloc[0]
    team.lfs.add(keywords("buy", ["buy"], label=1))
    team.lfs.add(keywords("http", ["http"], label=0))  # conflicts with "buy" on odd items
    dis = team.annotation.queue("disagreement", 5)
    assert (dis["reason"] == "labeling functions conflict").all()
    assert all(int(e[1:]) % 2 == 1 for e in dis["example_id"])
    strat = team.annotation.queue("stratified", 4)
    assert strat["reason"].str.startswith("stratified").all()
    with pytest.raises(wb.LabelValidationError, match="Unknown queue strategy"):
        team.annotation.queue("smart")
    with pytest.raises(wb.LabelValidationError, match="positive integer"):
        team.annotation.queue("random", 0)


def test_consensus_adjudication_and_agreement(team: wb.Project) -> None:
    team.annotation.configure(overlap=3, agreement_threshold=0.7)
    votes = {"a": 1.0, "b": 1.0, "c": 0.0}  # c always wrong
    for who, acc in votes.items():
        for k in range(10, 30):
            eid = f"e{k:02d}"
            v = truth(eid) if acc == 1.0 else ("ham" if truth(eid) == "spam" else "spam")
            team.annotate(eid, v, annotator=who)
    cons = team.quality.consensus()
    assert (cons["label"] == [truth(e) for e in cons.index]).all()
    assert np.allclose(cons["agreement"], 2 / 3)
    assert cons["needs_adjudication"].all()
    adj = team.annotation.queue("adjudication", None)
    assert len(adj) == 20
    team.quality.adjudicate("e10", "spam", annotator="lead")
    after = team.quality.consensus()
    assert after.loc["e10", "label"] == "spam" and after.loc["e10", "adjudicated"]
    assert len(team.annotation.queue("adjudication", None)) == 19
    rep = team.quality.agreement()
    assert rep.fleiss_kappa < 0.5
    ds = team.quality.consensus("dawid_skene")
    assert len(ds) == 20
    with pytest.raises(wb.LabelValidationError, match=r"consensus must be one of \['majority', 'dawid_skene'\]"):
        team.quality.consensus("vote")
    assert team.quality.record_consensus() == 20
    assert len(team.labels(source="consensus")) == 20
    n = len(team.events())
    assert team.quality.record_consensus() == 0 and len(team.events()) == n  # nothing changed: nothing written
    votes = team.annotation.answers().query("example_id == 'e11'")
    agreeing = votes.loc[votes["value"] == team.quality.consensus().loc["e11", "label"], "annotator"].tolist()
    team.retract("e11", annotator=agreeing[0])  # one of the two agreeing answers withdrawn: e11 now ties
    assert pd.isna(team.quality.consensus().loc["e11", "label"])
    assert team.quality.record_consensus() == 1  # the recorded consensus of e11 is withdrawn
    assert "e11" not in set(team.labels(source="consensus")["example_id"])


def test_imported_answers_are_recorded_oldest_first_and_numbers_read_as_choices(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "imp", schema=wb.Schema.single("rte", ["0", "1"]), text_column=None)
    p.add_data(pd.DataFrame({"id": [1, 2], "x": ["a", "b"]}), id_column="id")
    export = pd.DataFrame({"id": [1.0, 1.0, 2.0], "annotator": ["w1", "w1", "w2"], "value": [1.0, 0.0, np.nan],
                           "created_at": ["2024-05-02T10:00:00Z", "2024-05-01T10:00:00+02:00", None]})
    with pytest.raises(wb.LabelValidationError, match="Row 2"):  # a missing answer is refused, not 'nan'
        p.annotation.import_annotations(export)
    assert p.events().empty
    p.annotation.import_annotations(export.iloc[:2])  # an export sorted newest first
    current = p.labels().set_index("example_id")
    assert current.loc["1", "value"] == "1" and current.loc["1", "created_at"].startswith("2024-05-02")
    assert p.history("1")["created_at"].str[:10].tolist() == ["2024-05-01", "2024-05-02"]
    # a later import of an older answer (a backfill) goes into the history; the newest stays current
    late = pd.DataFrame({"id": [1], "annotator": ["w1"], "value": ["0"], "created_at": ["2024-04-01T00:00:00Z"]})
    p.annotation.import_annotations(late)
    assert p.labels().set_index("example_id").loc["1", "value"] == "1"
    assert p.history("1")["value"].tolist() == ["0", "1", "0", "1"]
    n = len(p.events())
    p.annotation.import_annotations(late.assign(created_at="2024-04-01T00:00:00Z"))  # new uid, same answer
    assert p.labels().set_index("example_id").loc["1", "value"] == "1" and len(p.events()) == n + 2
    p.close()


def test_import_annotations_and_errors(team: wb.Project) -> None:
    crowd = pd.DataFrame({"id": ["e10", "e11"], "annotator": ["w1", "w2"], "value": ["ham", "spam"],
                          "created_at": ["2024-05-01T10:00:00Z", "2024-05-02T10:00:00Z"]})
    assert len(team.annotation.import_annotations(crowd)) == 2
    assert team.annotation.answers()["created_at"].dt.year.tolist() == [2024, 2024]
    with pytest.raises(wb.DataError, match="column 'annotator' is missing"):
        team.annotation.import_annotations(crowd.drop(columns="annotator"))
    with pytest.raises(wb.LabelValidationError, match="not a choice"):
        team.annotation.import_annotations(crowd.assign(value=["ham", "maybe"]))
    assert len(team.annotation.answers()) == 2  # nothing written by the failed import
    with pytest.raises(wb.DataError, match="column 'label' is missing"):
        team.add_gold(crowd)


def test_undo_reverts_a_whole_multi_question_submission(tmp_path: Path, seatbelt_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "sb", schema=seatbelt_schema)
    p.add_data(pd.DataFrame({"id": ["f1", "f2"], "text": ["a", "b"]}), id_column="id")
    (item,) = p.annotation.next_items("a", 1)
    p.annotation.submit(item.example_id, {"person": "yes", "seatbelt": "no"}, annotator="a")
    assert p.annotation.undo(annotator="a") == item.example_id
    assert p.labels(annotator="a").empty  # both questions retracted
    h = p.history(item.example_id)
    assert h["action"].tolist() == ["label", "label", "retract", "retract"]
    assert p.annotation.progress("a")["n_answered"] == 0


def test_reanswer_after_undo_keeps_honeypot_status(team: wb.Project) -> None:
    team.annotation.configure(honeypot_rate=0.99)
    items = team.annotation.next_items("a", 3, random_state=3)
    honey = next(i for i in items if i.is_honeypot)
    team.annotation.submit(honey.example_id, "spam", annotator="a")
    for other in items:
        if other.example_id != honey.example_id:
            team.annotation.skip(other.example_id, annotator="a")
    team.annotation.undo(annotator="a")
    team.annotation.submit(honey.example_id, "ham", annotator="a")
    h = team.history(honey.example_id)
    mine = h[(h["annotator"] == "a") & (h["action"] == "label")]
    assert mine["is_honeypot"].all()


def test_annotator_drift_through_the_project(team: wb.Project) -> None:
    rows = []
    for k in range(10, 60):
        eid = f"e{k:02d}"
        when = f"2024-01-{1 + k % 20:02d}T10:00:00Z"
        rows.append({"id": eid, "annotator": "a", "value": truth(eid), "created_at": when})
    team.annotation.import_annotations(pd.DataFrame(rows))
    drift = team.quality.drift(window="7D")
    assert len(drift) >= 2  # several weekly windows
    assert set(drift["annotator"]) == {"a"}
    assert "window_start" in drift.columns


def test_labels_refuses_an_unknown_source_or_question(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a"], "text": ["x"]}), id_column="id")
    p.annotate("a", "ham", annotator="u")
    with pytest.raises(wb.LabelValidationError, match="'source' parameter of Project.labels .* Got 'humans'"):
        p.labels(source="humans")
    with pytest.raises(wb.LabelValidationError, match="'question' parameter of Project.labels .* Got 'spma'"):
        p.labels(question="spma")
    assert len(p.labels(source="human", question="spam")) == 1
