"""A model-based test of review leases: claims, releases, served adjudication batches, decisions and skips by
several reviewers, in random order, against a small in-memory reference.

The reference: per (task, item) at most one holder; a claim returns the holder (and takes a free item); a release by
anyone but the holder changes nothing; ``next_items(strategy="adjudication")`` hands a reviewer their own leases that
are still queued first (oldest first), then queued items nobody holds and they did not skip; a decision takes the item
out of the adjudication queue; a skip ends the reviewer's leases of the item in every task.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import workbench as wb
from workbench.annotation import REVIEW_TASKS

settings.register_profile("leases-ci", max_examples=8, stateful_step_count=14, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("leases-deep", max_examples=60, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])

IDS = [f"r-{k}" for k in range(5)]
REVIEWERS = ("lee", "kim", "ray")


class ReviewLeaseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.mkdtemp()
        self.project = wb.Project.create(Path(self.tmp) / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
        self.project.add_data(pd.DataFrame({"id": IDS, "text": [f"text {i}" for i in IDS]}), id_column="id")
        rows = [{"id": eid, "annotator": who, "value": value} for eid in IDS
                for who, value in zip(("ann", "bob", "cid"), ("spam", "spam", "ham"), strict=True)]
        self.project.annotation.import_annotations(pd.DataFrame(rows))
        self.holders: dict[tuple[str, str], str] = {}         # (task, item) -> reviewer
        self.claimed: list[tuple[str, str, str]] = []          # (task, reviewer, item), oldest lease first
        self.decided: set[str] = set()
        self.skipped: dict[str, set[str]] = {r: set() for r in REVIEWERS}

    def teardown(self) -> None:
        self.project.close()

    def _take(self, task: str, eid: str, who: str) -> None:
        self.holders[(task, eid)] = who
        self.claimed.append((task, who, eid))

    def _drop(self, task: str, eid: str, who: str) -> None:
        if self.holders.get((task, eid)) == who:
            del self.holders[(task, eid)]
            self.claimed.remove((task, who, eid))

    # ------------------------------------------------------------------ rules
    @rule(task=st.sampled_from(REVIEW_TASKS), eid=st.sampled_from(IDS), who=st.sampled_from(REVIEWERS))
    def claim(self, task: str, eid: str, who: str) -> None:
        expected = self.holders.get((task, eid), who)
        assert self.project.annotation.claim(eid, who, task=task) == expected
        if (task, eid) not in self.holders:
            self._take(task, eid, who)

    @rule(task=st.sampled_from(REVIEW_TASKS), eid=st.sampled_from(IDS), who=st.sampled_from(REVIEWERS))
    def release(self, task: str, eid: str, who: str) -> None:
        self.project.annotation.release(eid, who, task=task)
        self._drop(task, eid, who)

    @rule(who=st.sampled_from(REVIEWERS), n=st.integers(1, 3))
    def serve(self, who: str, n: int) -> None:
        queue = [str(e) for e in self.project.annotation.queue("adjudication", n=None)["example_id"]]
        own = [e for t, r, e in self.claimed if t == "adjudication" and r == who and e in queue][:n]
        expected = list(own)
        for eid in queue:
            if len(expected) >= n:
                break
            if eid in expected or eid in self.skipped[who] or ("adjudication", eid) in self.holders:
                continue
            expected.append(eid)
        got = [a.example_id for a in self.project.annotation.next_items(who, n, strategy="adjudication")]
        assert got == expected
        for eid in expected[len(own):]:
            self._take("adjudication", eid, who)

    @precondition(lambda self: any(t == "adjudication" and e not in self.decided for (t, e) in self.holders))
    @rule(data=st.data())
    def decide(self, data: st.DataObject) -> None:
        eid, who = data.draw(st.sampled_from(sorted(
            (e, r) for (t, e), r in self.holders.items() if t == "adjudication" and e not in self.decided)))
        self.project.quality.adjudicate(eid, "spam", annotator=who)
        self.project.annotation.release(eid, who)
        self._drop("adjudication", eid, who)
        self.decided.add(eid)

    @rule(eid=st.sampled_from(IDS), who=st.sampled_from(REVIEWERS))
    def skip(self, eid: str, who: str) -> None:
        self.project.annotation.skip(eid, annotator=who)
        for task in REVIEW_TASKS:
            self._drop(task, eid, who)
        self.skipped[who].add(eid)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def one_holder_per_item_and_task(self) -> None:
        for task in REVIEW_TASKS:
            want = {e: r for (t, e), r in self.holders.items() if t == task}
            assert self.project.annotation.holders(task) == want

    @invariant()
    def decided_items_leave_the_queue(self) -> None:
        queue = set(self.project.annotation.queue("adjudication", n=None)["example_id"])
        assert queue == set(IDS) - self.decided


ReviewLeaseMachine.TestCase.settings = settings.get_profile(
    "leases-deep" if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else "leases-ci")
TestReviewLeaseStateMachine = pytest.mark.slow(ReviewLeaseMachine.TestCase)
