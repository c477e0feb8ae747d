"""A model-based test of the loop: priorities, pre-label runs and revocations, served work with drafts, undo and
production feedback, in random order, against a small in-memory reference.

After every step: the current accepted model labels are exactly those of the runs not revoked; the uncertain
queue holds exactly the open items (not answered, not gold, not auto-accepted), the latest priorities first in
score order; the feedback column of the label matrix votes each item's latest signal; and the correction log
has one row per draft-bearing answer not undone and per rejected (skipped) draft.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import workbench as wb
from workbench.active import AutoAccept

settings.register_profile("loop-ci", max_examples=6, stateful_step_count=12, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("loop-deep", max_examples=40, stateful_step_count=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])

IDS = [f"i{k:02d}" for k in range(12)]
CHOICES = ["ham", "spam"]
ANNOTATORS = ("ann", "bob")


def _accept() -> AutoAccept:
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.5, 1.0, 2000)
    return AutoAccept(target_precision=0.9, confidence=0.95).fit(np.c_[1 - conf, conf],
                                                                 (rng.random(2000) < conf).astype(int))


ACCEPT = _accept()


class LoopMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.mkdtemp()
        self.project = wb.Project.create(Path(self.tmp) / "p", schema=wb.Schema.single("spam", CHOICES))
        self.project.add_data(pd.DataFrame({"id": IDS, "text": [f"text {i}" for i in IDS]}), id_column="id")
        self.project.add_gold(pd.DataFrame({"id": [IDS[0]], "label": ["ham"]}))
        self.gold = {IDS[0]}
        self.answered: dict[str, str] = {}                   # item -> annotator (overlap 1)
        self.stack: dict[str, list[tuple[str, bool]]] = {a: [] for a in ANNOTATORS}  # (item, had a draft)
        self.skipped: dict[str, set[str]] = {a: set() for a in ANNOTATORS}
        self.runs: dict[str, set[str]] = {}                  # run id -> items it accepted (not revoked)
        self.priorities: dict[str, float] = {}
        self.feedback: dict[str, str] = {}
        self.seen_signals: set[tuple[str, str]] = set()
        self.n_log = 0

    def teardown(self) -> None:
        self.project.close()

    def accepted(self) -> set[str]:
        return set().union(*self.runs.values()) if self.runs else set()

    def open_items(self) -> set[str]:
        return set(IDS) - self.gold - set(self.answered) - self.accepted()

    # ------------------------------------------------------------------ rules
    @rule(picked=st.lists(st.sampled_from(IDS), unique=True, max_size=5),
          scores=st.lists(st.integers(0, 9), min_size=5, max_size=5))
    def prioritize(self, picked: list[str], scores: list[int]) -> None:
        series = pd.Series([float(s) for s in scores[: len(picked)]], index=picked, dtype=float)
        self.project.annotation.prioritize(series, source="learner")
        self.priorities = dict(series.items())

    @rule(seed=st.integers(0, 50))
    def prelabel(self, seed: int) -> None:
        spam = np.random.default_rng(seed).uniform(0, 1, len(IDS))
        P = pd.DataFrame({"ham": 1 - spam, "spam": spam}, index=IDS)
        settled = self.gold | set(self.answered) | self.accepted()
        run = self.project.annotation.prelabel(P, auto_accept=ACCEPT, model_name=f"m{seed}")
        ok = ACCEPT.accept(P.to_numpy())
        self.runs[run.run_id] = {i for i, a in zip(IDS, ok, strict=True) if a and i not in settled}
        assert run.n_accepted == len(self.runs[run.run_id])

    @precondition(lambda self: self.runs)
    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        run = data.draw(st.sampled_from(sorted(self.runs)))
        assert self.project.annotation.revoke_prelabels(run) == len(self.runs[run])
        self.runs[run] = set()

    @rule(annotator=st.sampled_from(ANNOTATORS), value=st.sampled_from(CHOICES), submit=st.booleans())
    def work(self, annotator: str, value: str, submit: bool) -> None:
        items = self.project.annotation.next_items(annotator, 1, strategy="uncertain")
        if not items:  # nothing open left for this annotator: others hold the rest, or they skipped it
            assert not self.open_items() - self.skipped[annotator] - {e for e, _ in self.leased_elsewhere(annotator)}
            return
        (item,) = items
        assert item.example_id in self.open_items()
        if submit:
            self.project.annotation.submit(item.example_id, value, annotator=annotator, draft=item.draft,
                                           time_spent=1.0)
            self.answered[item.example_id] = annotator
            self.stack[annotator].append((item.example_id, item.draft is not None))
            self.n_log += item.draft is not None
        else:
            self.project.annotation.skip(item.example_id, annotator=annotator, draft=item.draft)
            self.skipped[annotator].add(item.example_id)
            self.n_log += item.draft is not None

    def leased_elsewhere(self, annotator: str) -> list[tuple[str, str]]:
        lease = self.project._store.leases()  # the reference needs who holds which lease
        return [(e, a) for e, a in zip(lease["example_id"], lease["annotator"], strict=True) if a != annotator]

    @rule(annotator=st.sampled_from(ANNOTATORS))
    def undo(self, annotator: str) -> None:
        undone = self.project.annotation.undo(annotator=annotator)
        if not self.stack[annotator]:
            assert undone is None
            return
        eid, had_draft = self.stack[annotator].pop()
        assert undone == eid
        self.answered.pop(eid, None)
        self.n_log -= had_draft

    @rule(picked=st.lists(st.sampled_from(IDS[1:]), unique=True, min_size=1, max_size=4),
          labels=st.lists(st.sampled_from(CHOICES), min_size=4, max_size=4))
    def ingest(self, picked: list[str], labels: list[str]) -> None:
        rows = pd.DataFrame({"item": picked, "label": labels[: len(picked)]})
        batch = self.project.feedback.ingest(rows, kind="user_correction", id_column="item", label_column="label",
                                             source_name="app")
        new = [(i, v) for i, v in zip(rows["item"], rows["label"], strict=True) if (i, v) not in self.seen_signals]
        assert batch.n_new == len(new)  # without timestamps a signal is (item, label): a repeat is not new
        for i, v in new:
            self.seen_signals.add((i, v))
            self.feedback[i] = v

    # ------------------------------------------------------------------ invariants
    @invariant()
    def accepted_labels_match_the_runs(self) -> None:
        lab = self.project.labels(source="model")
        assert set(lab["example_id"]) == self.accepted()
        assert lab["example_id"].is_unique

    @invariant()
    def uncertain_queue_serves_open_items_priorities_first(self) -> None:
        q = self.project.annotation.queue("uncertain", n=None)
        assert set(q["example_id"]) == self.open_items()
        # leases of other annotators may put "started" items first only with overlap > 1; here overlap is 1
        got = [e for e in q["example_id"] if e in self.priorities]
        expected = sorted(got, key=lambda e: -self.priorities[e])
        assert got == q["example_id"].tolist()[: len(got)]
        assert [self.priorities[e] for e in got] == [self.priorities[e] for e in expected]

    @invariant()
    def feedback_column_votes_the_latest_signal(self) -> None:
        if not self.feedback:
            return
        names = self.project.lfs.names
        col = pd.Series(self.project.lfs.matrix(progress=False)[:, names.index("feedback:user_correction")],
                        index=self.project.examples().index)
        want = pd.Series({i: CHOICES.index(self.feedback[i]) if i in self.feedback else -1 for i in IDS})
        assert col.reindex(IDS).tolist() == want.reindex(IDS).tolist()

    @invariant()
    def correction_log_has_one_row_per_draft_bearing_answer(self) -> None:
        assert len(self.project.annotation.corrections()) == self.n_log


LoopMachine.TestCase.settings = settings.get_profile(
    "loop-deep" if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else "loop-ci")
TestLoopStateMachine = pytest.mark.slow(LoopMachine.TestCase)
