"""A model-based test of migrations: random annotations, schema changes, re-reviews and relabels.

A small reference model tracks, for every (example, annotator), the current answer and whether
it is in use, flagged for re-review, or flagged by a schema change. After every step: the event
log only grew (its stored columns never change), the current labels equal the model's, every
current label is a valid answer under the current schema and names the question by its current
name (the question is renamed too), and the relabel queue holds exactly
the items with a flagged answer that nobody has answered since. ``HYPOTHESIS_PROFILE=deep``
runs a longer profile.
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
from workbench.migrations import MigrationPlan

settings.register_profile("migrations-ci", max_examples=12, stateful_step_count=14, deadline=None,
                          derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("migrations-deep", max_examples=100, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])

PEOPLE = (("human", "ann"), ("human", "bob"), ("gold", "expert"))
STORED = ["event_id", "event_uid", "example_id", "question", "value", "action", "source", "annotator",
          "created_at", "schema_version", "guideline_version", "supersedes", "note"]
OPS = ("rename", "split", "merge", "remove", "add", "rename_question")


class MigrationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.mkdtemp()
        self.project = wb.Project.create(Path(self.tmp) / "p", schema=wb.Schema.single("t", ["ok", "toxic", "meh"]))
        ids = [f"x{i}" for i in range(5)]
        self.project.add_data(pd.DataFrame({"id": ids, "text": ids}), id_column="id")
        self.ids = ids
        # (example, source, annotator) -> (value, state, guideline version), state "ok", "review" or "flagged"
        self.model: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        self.pending: set[str] = set()
        self.log: list[dict[str, object]] = []
        self.fresh = 0
        self.last_plan: MigrationPlan | None = None
        self.question = "t"  # the question's current name (rename_question changes it)

    def teardown(self) -> None:
        self.project.close()

    def _name(self) -> str:
        self.fresh += 1
        return f"c{self.fresh}"

    # ------------------------------------------------------------------ rules
    @rule(data=st.data(), who=st.sampled_from(PEOPLE))
    def annotate(self, data: st.DataObject, who: tuple[str, str]) -> None:
        eid = data.draw(st.sampled_from(self.ids))
        value = data.draw(st.sampled_from(list(self.project.schema.question().choices)))
        source, annotator = who
        self.project.annotate(eid, value, annotator=annotator, source=source)
        self.model[(eid, source, annotator)] = (value, "ok", self.project.guideline_version)
        self.pending.discard(eid)  # any person's answer under the current schema takes the item out

    @rule(data=st.data(), op=st.sampled_from(OPS), exclude=st.sampled_from(["flagged", "keep_old_version"]))
    def migrate(self, data: st.DataObject, op: str, exclude: str) -> None:
        choices = list(self.project.schema.question().choices)
        if op == "rename":
            old = data.draw(st.sampled_from(choices))
            new = self.project.schema.evolve(rename={old: self._name()})
        elif op == "split":
            old = data.draw(st.sampled_from(choices))
            new = self.project.schema.evolve(split={old: [self._name(), self._name()]})
        elif op == "merge" and len(choices) >= 3:
            olds = data.draw(st.lists(st.sampled_from(choices), min_size=2, max_size=len(choices) - 1, unique=True))
            new = self.project.schema.evolve(merge={self._name(): olds})
        elif op == "remove" and len(choices) >= 3:
            new = self.project.schema.evolve(remove=[data.draw(st.sampled_from(choices))])
        elif op == "rename_question":
            new = self.project.schema.evolve(rename_question={self.question: f"q{self._name()}"})
        else:
            new = self.project.schema.evolve(add=[self._name()])
        assert new.changes is not None
        renamed = new.changes.question_target(self.question) != self.question
        plan = self.project.migrations.plan(new)
        expected = dict.fromkeys(("unchanged", "mapped", "relabel", "dropped"), 0)
        for value, state, _ in self.model.values():
            if state == "flagged":
                continue
            t = new.changes.targets(self.question, value)
            assert t is not None
            outcome = "dropped" if not t else "relabel" if len(t) > 1 else (
                "unchanged" if t[0] == value and not renamed else "mapped")
            expected[outcome] += 1
        assert {k: v for k, v in plan.counts.items() if k != "asked"} == expected
        plan.apply(relabel_queue=True, exclude=exclude)
        for key, (value, state, made_under) in list(self.model.items()):
            if state == "flagged":
                continue
            t = new.changes.targets(self.question, value) or ()
            if len(t) == 1:
                self.model[key] = (t[0], state, made_under)  # a mapping keeps the guidelines it was made under
            else:
                self.model[key] = (value, "flagged", made_under)
                self.pending.add(key[0])
        self.last_plan = plan
        self.question = self.project.schema.question().name

    @precondition(lambda self: self.last_plan is not None)
    @rule()
    def apply_again_is_refused(self) -> None:
        assert self.last_plan is not None
        n = len(self.project.events())
        with pytest.raises(wb.SchemaError, match="applied already"):
            self.last_plan.apply()
        assert len(self.project.events()) == n

    @rule(text=st.sampled_from(["Be strict.", "Be lenient.", "Ask when unsure."]))
    def new_guidelines_flag_old_labels(self, text: str) -> None:
        gv = self.project.update_guidelines(text)
        flagged = self.project.migrations.flag_for_review() if len(self.project.guideline_versions()) > 1 else None
        expected = {k for k, (_, state, made_under) in self.model.items() if state == "ok" and made_under != gv}
        got = set() if flagged is None else set(
            zip(flagged["example_id"], flagged["source"], flagged["annotator"], strict=True))
        assert got == expected
        for key in got:
            self.model[key] = (self.model[key][0], "review", self.model[key][2])
            self.pending.add(key[0])

    # ------------------------------------------------------------------ invariants
    @invariant()
    def the_log_only_grows(self) -> None:
        ev = self.project.events()[STORED].astype(object)
        now = [{str(k): v for k, v in r.items()} for r in ev.where(ev.notna(), None).to_dict("records")]
        assert now[: len(self.log)] == self.log
        self.log = now

    @invariant()
    def current_labels_match_the_model(self) -> None:
        lab = self.project.labels()
        got = {(e, s, a): v for e, s, a, v in zip(lab["example_id"], lab["source"], lab["annotator"], lab["value"],
                                                  strict=True)}
        assert got == {k: v for k, (v, state, _) in self.model.items() if state == "ok"}
        choices = set(self.project.schema.question().choices)
        assert set(got.values()) <= choices
        assert set(lab["question"]) <= {self.question}  # labels under the current name only

    @invariant()
    def the_relabel_queue_matches_the_model(self) -> None:
        assert set(self.project.migrations.relabel_ids()) == self.pending


MigrationMachine.TestCase.settings = settings.get_profile(
    "migrations-deep" if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else "migrations-ci")
TestMigrationStateMachine = pytest.mark.slow(MigrationMachine.TestCase)
