"""Review leases (one reviewer per adjudication / relabel item at a time) and the adjudication queue's filters.

Leases live in the store's lease table next to the annotators' leases (never in the event history); they are
exclusive per task, expire on their own, and are seen by every process that opens the project.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import workbench as wb
from workbench.annotation import REVIEW_TASKS
from workbench.exceptions import LabelValidationError, StoreError, UnknownExampleError

TEXTS = {
    "r-01": "check out my channel",
    "r-02": "free gift cards, visit my channel",
    "r-03": "I love this song",
    "r-04": "free gift cards",
    "r-05": "great video",
    "r-06": None,
}
# three annotators; r-01, r-02, r-04, r-06 split 2:1, r-03 and r-05 unanimous; dan answered r-02 only
ANSWERS = {
    "r-01": {"ann": "spam", "bob": "spam", "cid": "ham"},
    "r-02": {"ann": "ham", "bob": "spam", "cid": "spam", "dan": "ham"},
    "r-03": {"ann": "ham", "bob": "ham", "cid": "ham"},
    "r-04": {"ann": "spam", "bob": "ham", "cid": "spam"},
    "r-05": {"ann": "ham", "bob": "ham", "cid": "ham"},
    "r-06": {"ann": "ham", "bob": "ham", "cid": "spam"},
}
DISPUTED = {"r-01", "r-02", "r-04", "r-06"}


def _make(path: Path) -> wb.Project:
    project = wb.Project.create(path, schema=wb.Schema.single("spam", ["ham", "spam"]))
    project.add_data(pd.DataFrame({"id": list(TEXTS), "text": list(TEXTS.values())}), id_column="id")
    rows = [{"id": eid, "annotator": who, "value": value} for eid, answers in ANSWERS.items()
            for who, value in answers.items()]
    project.annotation.import_annotations(pd.DataFrame(rows))
    return project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[wb.Project]:
    p = _make(tmp_path / "review")
    yield p
    p.close()


# ---------------------------------------------------------------------------------------------- leases
def test_review_leases_keep_reviewers_apart(project: wb.Project) -> None:
    ann = project.annotation
    assert ann.claim("r-01", "dr_lee") == "dr_lee"
    assert ann.claim("r-01", "dr_kim") == "dr_lee"
    assert ann.claim("r-01", "dr_kim", task="relabel") == "dr_kim"  # tasks are separate
    assert ann.holders("adjudication") == {"r-01": "dr_lee"}
    assert ann.holders("relabel") == {"r-01": "dr_kim"}
    ann.release("r-01", "dr_kim")  # not theirs: nothing happens
    assert ann.holders("adjudication", ["r-01", "r-02"]) == {"r-01": "dr_lee"}
    assert ann.holders("adjudication", ["r-02"]) == {}
    assert ann.claim("r-01", "dr_lee") == "dr_lee"  # claiming one's own item again renews it
    ann.release("r-01", "dr_lee")
    assert ann.claim("r-01", "dr_kim") == "dr_kim"
    assert set(REVIEW_TASKS) == {"adjudication", "relabel"}


def test_an_expired_lease_frees_the_item(project: wb.Project) -> None:
    project.annotation.configure(lease_seconds=0.3)
    assert project.annotation.claim("r-04", "dr_lee") == "dr_lee"  # a tab that is closed without a goodbye
    assert project.annotation.claim("r-04", "dr_kim") == "dr_lee"
    time.sleep(0.4)
    assert project.annotation.holders() == {}
    assert project.annotation.claim("r-04", "dr_kim") == "dr_kim"


def test_review_leases_live_in_the_store_not_in_the_event_history(project: wb.Project) -> None:
    n_events = len(project.events())
    project.annotation.claim("r-01", "dr_lee")
    project.annotation.claim("r-02", "dr_kim", task="relabel")
    leases = project._store.leases()
    assert sorted(zip(leases["task"], leases["example_id"], leases["annotator"], strict=True)) == [
        ("adjudication", "r-01", "dr_lee"), ("relabel", "r-02", "dr_kim")]
    assert len(project.events()) == n_events
    other = wb.Project.open(project.path)  # another process sees them
    try:
        assert other.annotation.claim("r-01", "dr_kim") == "dr_lee"
        assert other.annotation.holders("relabel") == {"r-02": "dr_kim"}
    finally:
        other.close()


def test_concurrent_claims_of_one_item_have_one_winner(project: wb.Project) -> None:
    sessions = [wb.Project.open(project.path) for _ in range(6)]
    barrier = threading.Barrier(len(sessions))
    won: dict[str, str] = {}

    def grab(p: wb.Project, who: str) -> None:
        barrier.wait()
        won[who] = p.annotation.claim("r-06", who)

    threads = [threading.Thread(target=grab, args=(p, f"rev{k}")) for k, p in enumerate(sessions)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for p in sessions:
            p.close()
    holder = project.annotation.holders()["r-06"]
    assert set(won.values()) == {holder}  # everyone was told the same single holder
    assert holder in won


def test_next_items_serves_each_adjudication_item_to_one_reviewer(project: wb.Project) -> None:
    ann = project.annotation
    order = ann.queue("adjudication", n=None)["example_id"].tolist()
    lee = [a.example_id for a in ann.next_items("dr_lee", 2, strategy="adjudication")]
    kim = [a.example_id for a in ann.next_items("dr_kim", 4, strategy="adjudication")]
    assert lee == order[:2] and kim == order[2:]  # nothing dr_lee holds goes to dr_kim
    assert ann.holders() == {**{e: "dr_lee" for e in lee}, **{e: "dr_kim" for e in kim}}
    again = [a.example_id for a in ann.next_items("dr_lee", 2, strategy="adjudication")]
    assert again == lee  # unexpired leases come back first
    project.quality.adjudicate(lee[0], "spam", annotator="dr_lee")
    ann.release(lee[0], "dr_lee")
    assert [a.example_id for a in ann.next_items("dr_lee", 4, strategy="adjudication")] == [lee[1]]
    assert ann.holders()[lee[1]] == "dr_lee" and lee[0] not in ann.holders()


def test_a_decided_item_still_leased_is_not_served_again(project: wb.Project) -> None:
    ann = project.annotation
    (first,) = ann.next_items("dr_lee", 1, strategy="adjudication")
    project.quality.adjudicate(first.example_id, "ham", annotator="dr_lee")  # the lease is left to expire
    nxt = [a.example_id for a in ann.next_items("dr_lee", 1, strategy="adjudication")]
    assert nxt and nxt[0] != first.example_id


def test_review_leases_do_not_block_annotators(project: wb.Project) -> None:
    project.add_data(pd.DataFrame({"id": ["n-1"], "text": ["new"]}), id_column="id")
    project.annotation.configure(overlap=1)
    assert project.annotation.claim("n-1", "dr_lee") == "dr_lee"
    served = [a.example_id for a in project.annotation.next_items("eve", 5)]
    assert served == ["n-1"]  # an annotator's lease is another task
    assert project._store.lease_of("eve", "n-1") is not None
    project.annotation.skip("n-1", annotator="dr_lee")  # a skip ends the person's leases of every task
    assert project.annotation.holders() == {}


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda a: a.claim("r-01", "dr_lee", task="annotate"), LabelValidationError,
         r"'task' parameter of claim must be one of the review tasks \['adjudication', 'relabel'\]\. Got "
         r"'annotate' instead\. Annotators' items are leased by next_items"),
        (lambda a: a.claim("r-01", "dr_lee", task="review"), LabelValidationError,
         r"'task' parameter of claim must be one of the review tasks.*Got 'review'"),
        (lambda a: a.claim("r-01", ""), LabelValidationError,
         r"'reviewer' parameter of claim must be a non-empty string \(the reviewer's name\)\. Got ''"),
        (lambda a: a.claim("r-01", None), LabelValidationError, r"'reviewer' parameter of claim.*Got None"),
        (lambda a: a.claim("nope", "dr_lee"), UnknownExampleError, r"nope"),
        (lambda a: a.release("r-01", "dr_lee", task="annotate"), LabelValidationError,
         r"'task' parameter of release must be one of the review tasks"),
        (lambda a: a.release("r-01", " "), LabelValidationError, r"'reviewer' parameter of release"),
        (lambda a: a.release(7, "dr_lee"), UnknownExampleError,
         r"'example_id' parameter of release must be an example id \(a string\)\. Got int 7"),
        (lambda a: a.holders("annotate"), LabelValidationError,
         r"'task' parameter of holders must be one of the review tasks.*Got 'annotate'"),
        (lambda a: a.holders("adjudication", "r-01"), LabelValidationError,
         r"'example_ids' parameter of holders must be a list of example ids \(strings\), or None\. Got 'r-01'"),
    ],
)
def test_bad_lease_arguments_say_what_to_do(project: wb.Project, call: Any, error: type[Exception],
                                            message: str) -> None:
    with pytest.raises(error, match=message):
        call(project.annotation)
    assert project.annotation.holders() == {}


def test_the_store_refuses_an_exclusive_claim_of_annotators_work(project: wb.Project) -> None:
    with pytest.raises(StoreError, match=r"claim_item leases one item of a review task exclusively; the 'annotate' "
                                         r"task shares items among annotators up to the overlap"):
        project._store.claim_item("annotate", "r-01", "eve", lease_seconds=60)


# ---------------------------------------------------------------------------------------------- queue filters
def _ids(frame: pd.DataFrame) -> list[str]:
    return [str(i) for i in frame["example_id"]]


def test_adjudication_queue_search_and_filters(project: wb.Project) -> None:
    ann = project.annotation
    full = _ids(ann.queue("adjudication", n=None))
    assert set(full) == DISPUTED

    def kept(**filters: Any) -> list[str]:
        return _ids(ann.queue("adjudication", n=None, **filters))

    assert kept(search="gift") == [e for e in full if e in ("r-02", "r-04")]  # the queue's order is kept
    assert kept(search="GIFT  cards channel") == ["r-02"]  # every word, any case
    assert kept(search="R-0") == full  # ids count too
    assert kept(search="no such words") == []
    assert kept(search="   ") == full  # no words: no filter
    assert kept(annotator="dan") == ["r-02"]
    assert kept(annotator="cid") == full
    assert kept(label="spam") == full
    assert kept(label="ham", annotator="dan") == ["r-02"]  # both filters hold at once
    agreement = project.quality.consensus("majority")["agreement"]
    assert kept(max_agreement=0.5) == [e for e in full if agreement[e] <= 0.5] == ["r-02"]  # a 2:2 tie
    assert kept(max_agreement=0.67) == full  # 2 of 3 agree: 0.667
    assert kept(max_agreement=0.6) == ["r-02"]
    assert kept(max_agreement=0) == []
    assert _ids(ann.queue("adjudication", n=1, annotator="cid")) == full[:1]  # n is taken after filtering
    scores = ann.queue("adjudication", n=None, search="gift").set_index("example_id")["score"]
    assert scores.to_dict() == ann.queue("adjudication", n=None).set_index("example_id")["score"].loc[
        ["r-02", "r-04"]].to_dict()  # filtering changes no score or reason


def test_filters_apply_to_other_strategies_too(project: wb.Project) -> None:
    project.add_data(pd.DataFrame({"id": ["n-1", "n-2"], "text": ["gift card here", "nice tune"]}), id_column="id")
    ann = project.annotation
    ann.configure(overlap=5)  # every item still needs answers: all eight are in the random queue
    everything = _ids(ann.queue("random", n=None))
    assert set(everything) == {*TEXTS, "n-1", "n-2"}
    assert _ids(ann.queue("random", n=None, search="gift")) == [e for e in everything if e in ("n-1", "r-02",
                                                                                                 "r-04")]
    assert _ids(ann.queue("random", n=None, max_agreement=1.0)) == [e for e in everything if e not in ("n-1", "n-2")]
    assert _ids(ann.queue("random", n=None, label="spam")) == [e for e in everything if e in DISPUTED]
    assert _ids(ann.queue("random", n=None, label="spam", annotator="dan")) == ["r-02"]


def test_search_reads_every_field_without_a_text_column(tmp_path: Path) -> None:
    schema = wb.Schema.single("ok", ["no", "yes"])
    with wb.Project.create(tmp_path / "fields", schema=schema, text_column=None) as p:
        p.add_data(pd.DataFrame({"id": ["a", "b"], "city": ["Lyon", "Oslo"], "n": [1, 2]}), id_column="id")
        p.annotation.import_annotations(pd.DataFrame({"id": ["a", "a", "b", "b"], "annotator": ["x", "y"] * 2,
                                                      "value": ["no", "yes", "yes", "no"]}))
        assert set(_ids(p.annotation.queue("adjudication", n=None))) == {"a", "b"}
        assert _ids(p.annotation.queue("adjudication", n=None, search="oslo")) == ["b"]
        assert _ids(p.annotation.queue("adjudication", n=None, search="city: lyon")) == ["a"]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"search": 5}, r"'search' parameter of queue must be a string of words to find in the item's id or text, "
                        r"or None\. Got int 5 instead; pass e\.g\. search='gift card'"),
        ({"search": ["gift"]}, r"'search' parameter of queue must be a string.*Got list \['gift'\]"),
        ({"max_agreement": 1.5}, r"'max_agreement' parameter of queue must be a number between 0 and 1 \(the share "
                                 r"of an item's annotators who agree\), or None for no limit\. Got 1\.5 instead"),
        ({"max_agreement": -0.1}, r"'max_agreement' parameter of queue must be a number between 0 and 1.*Got -0\.1"),
        ({"max_agreement": float("nan")}, r"'max_agreement' parameter of queue.*Got nan"),
        ({"max_agreement": True}, r"'max_agreement' parameter of queue.*Got True"),
        ({"max_agreement": "0.5"}, r"'max_agreement' parameter of queue.*Got '0\.5'"),
        ({"annotator": ""}, r"'annotator' parameter of queue must be a non-empty string \(an annotator's name\), or "
                            r"None\. Got ''"),
        ({"annotator": 3}, r"'annotator' parameter of queue must be a non-empty string.*Got 3"),
        ({"annotator": "zed"}, r"'annotator' parameter of queue names 'zed', who has no current answer to question "
                               r"'spam'\. Expected one of the annotators with answers: \['ann', 'bob', 'cid', 'dan'\]"),
        ({"label": "spamm"}, r"'label' parameter of queue must be a choice of question 'spam': \['ham', 'spam'\], "
                             r"or None\. Got 'spamm' instead"),
        ({"label": 1}, r"'label' parameter of queue must be a choice of question 'spam'.*Got 1"),
    ],
)
def test_bad_filters_say_what_to_do(project: wb.Project, filters: dict[str, Any], message: str) -> None:
    with pytest.raises(LabelValidationError, match=message):
        project.annotation.queue("adjudication", n=None, **filters)
