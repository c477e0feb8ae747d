"""A model-based test: random sequences of project calls against a small in-memory reference model.

After every step: the history is append-only, the current labels equal the model's, no annotator
is served an item they answered, skipped or hold already, ``queue()`` and ``progress()`` agree with
the model, and the LF matrix equals the reference LF. ``make test-deep`` runs a longer profile
(``HYPOTHESIS_PROFILE=deep``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import workbench as wb
from workbench.lf import keywords

settings.register_profile("ci", max_examples=15, stateful_step_count=18, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=300, stateful_step_count=50, deadline=None,  # random: explores
                          suppress_health_check=[HealthCheck.too_slow])

ANNOTATORS = ("ann", "bob", "cid")
WORDS = ("red", "green", "blue")
OVERLAP = 2
CORE = ["event_id", "example_id", "question", "value", "source", "annotator", "action", "event_uid", "created_at"]


class ProjectMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.mkdtemp()
        self.project = wb.Project.create(Path(self.tmp) / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
        self.project.annotation.configure(overlap=OVERLAP)
        self.texts: dict[str, str] = {}
        self.labels: dict[tuple[str, str], str] = {}            # (example, annotator) -> current value
        self.stack: dict[str, list[tuple[str, str | None]]] = {a: [] for a in ANNOTATORS}  # (example, before)
        self.skipped: set[tuple[str, str]] = set()
        self.leased: dict[str, set[str]] = {a: set() for a in ANNOTATORS}
        self.lf_word: str | None = None
        self.log = pd.DataFrame(columns=CORE)
        self.n_batches = 0

    def teardown(self) -> None:
        self.project.close()

    # ------------------------------------------------------------------ rules
    @rule(n=st.integers(1, 4), word=st.sampled_from(WORDS))
    def add_data(self, n: int, word: str) -> None:
        self.n_batches += 1
        ids = [f"b{self.n_batches}-{k}" for k in range(n)]
        texts = [f"{word} {k} {self.n_batches}" for k in range(n)]
        self.project.add_data(pd.DataFrame({"id": ids, "text": texts}), id_column="id")
        self.texts.update(zip(ids, texts, strict=True))

    def _record(self, eid: str, annotator: str, value: str | None) -> None:
        self.stack[annotator].append((eid, self.labels.get((eid, annotator))))
        if value is None:
            self.labels.pop((eid, annotator), None)
        else:
            self.labels[(eid, annotator)] = value

    @precondition(lambda self: self.texts)
    @rule(data=st.data(), annotator=st.sampled_from(ANNOTATORS), value=st.sampled_from(["ham", "spam"]))
    def annotate(self, data: st.DataObject, annotator: str, value: str) -> None:
        eid = data.draw(st.sampled_from(sorted(self.texts)))
        self.project.annotate(eid, value, annotator=annotator)
        self._record(eid, annotator, value)

    @rule(annotator=st.sampled_from(ANNOTATORS), n=st.integers(1, 3), value=st.sampled_from(["ham", "spam"]),
          submit=st.booleans())
    def lease_and_work(self, annotator: str, n: int, value: str, submit: bool) -> None:
        items = self.project.annotation.next_items(annotator, n=n, random_state=0)
        ids = [a.example_id for a in items]
        assert len(ids) == len(set(ids))
        for eid in ids:
            if eid not in self.leased[annotator]:  # a new lease: never an item this annotator has or skipped
                assert (eid, annotator) not in self.labels
                assert (eid, annotator) not in self.skipped
                others = {a for (e, a) in self.labels if e == eid} | {
                    a for a, held in self.leased.items() if eid in held and a != annotator}
                assert len(others) < OVERLAP, (eid, others)
            self.leased[annotator].add(eid)
        if ids:
            eid = ids[0]
            if submit:
                self.project.annotation.submit(eid, value, annotator=annotator)
                self._record(eid, annotator, value)
            else:
                self.project.annotation.skip(eid, annotator=annotator)
                self.skipped.add((eid, annotator))
            self.leased[annotator].discard(eid)

    @rule(annotator=st.sampled_from(ANNOTATORS))
    def undo(self, annotator: str) -> None:
        undone = self.project.annotation.undo(annotator=annotator)
        if not self.stack[annotator]:
            assert undone is None
            return
        eid, before = self.stack[annotator].pop()
        assert undone == eid
        if before is None:
            self.labels.pop((eid, annotator), None)
        else:
            self.labels[(eid, annotator)] = before

    @precondition(lambda self: self.labels)
    @rule(data=st.data())
    def retract(self, data: st.DataObject) -> None:
        eid, annotator = data.draw(st.sampled_from(sorted(self.labels)))
        self.project.retract(eid, annotator=annotator)
        self._record(eid, annotator, None)

    @rule(word=st.sampled_from(WORDS))
    def edit_lf(self, word: str) -> None:
        self.project.lfs.add(keywords("kw", [word], label=1))  # same name, maybe new code
        self.lf_word = word

    # ------------------------------------------------------------------ invariants
    @invariant()
    def history_is_append_only(self) -> None:
        now = self.project.events()[CORE]
        before = self.log
        assert len(now) >= len(before)
        if len(before):
            pd.testing.assert_frame_equal(now.iloc[: len(before)].reset_index(drop=True).astype(str),
                                          before.reset_index(drop=True).astype(str))
        self.log = now

    @invariant()
    def current_labels_match(self) -> None:
        lab = self.project.labels(source="human")
        got = {(e, a): v for e, a, v in zip(lab["example_id"], lab["annotator"], lab["value"], strict=True)}
        assert got == self.labels

    @invariant()
    def queue_and_progress_agree(self) -> None:
        counts = {e: len({a for (x, a) in self.labels if x == e}) for e in self.texts}
        open_ids = {e for e, c in counts.items() if c < OVERLAP}
        queued = set(self.project.annotation.queue(n=None)["example_id"]) if self.texts else set()
        assert queued == open_ids
        progress = self.project.annotation.progress()
        assert progress["n_complete"] == len(self.texts) - len(open_ids)
        assert progress["n_remaining"] == len(open_ids)

    @invariant()
    def lf_matrix_is_fresh(self) -> None:
        if self.lf_word is None or not self.texts:
            return
        L = self.project.lfs.matrix(progress=False)
        ids = self.project.examples().index
        expected = np.array([1 if self.lf_word in self.texts[i].split() else -1 for i in ids], dtype=np.int8)
        np.testing.assert_array_equal(L[:, self.project.lfs.names.index("kw")], expected)


ProjectMachine.TestCase.settings = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
TestProjectStateMachine = ProjectMachine.TestCase
