"""Evolving a schema: add, remove, rename, merge or split choices; add, remove or rename questions; change conditions.

:meth:`Schema.evolve <workbench.schema.Schema.evolve>` returns a new schema whose
:attr:`~workbench.schema.Schema.changes` says, for every old choice, which new choices it may
have become, and for every renamed question its new name. That description is what a migration
plan (``project.migrations.plan``) reads to decide which labels map automatically, which need
relabeling and which are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.exceptions import SchemaError

if TYPE_CHECKING:
    from workbench.schema._schema import Question, Schema

__all__ = ["SchemaChanges", "evolve_schema"]


def _dedupe(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True)
class SchemaChanges:
    """What changed between a base schema and a schema evolved from it.

    Attributes
    ----------
    base_version : str
        The schema version the changes start from.
    choice_maps : dict
        ``{question: {old choice: (new choices ...)}}`` for every question of the base schema
        that is still there (by its name in the base schema, also when it was renamed),
        covering every old choice: one new choice is an automatic mapping (the same name:
        unchanged; another: a rename or merge), several are a split (the old answer can be any
        of them: relabel), none is a removed choice.
    removed_questions : tuple of str
        Questions of the base schema that are gone.
    added_questions : tuple of str
        Questions that are new (by their names in the new schema).
    changed_conditions : tuple of str
        Questions whose condition was changed explicitly (``condition=``), by their names in
        the new schema. Conditions that only follow renamed, merged or split choices or
        renamed questions are rewritten automatically and not listed.
    steps : tuple of str
        The changes in words, in the order they were made.
    renamed_questions : dict of str to str
        ``{name in the base schema: name in the new schema}`` for every renamed question
        (a question renamed and renamed back is not listed).
    """

    base_version: str
    choice_maps: Mapping[str, Mapping[str, tuple[str, ...]]]
    removed_questions: tuple[str, ...] = ()
    added_questions: tuple[str, ...] = ()
    changed_conditions: tuple[str, ...] = ()
    steps: tuple[str, ...] = field(default=())
    renamed_questions: Mapping[str, str] = field(default_factory=dict)

    def question_target(self, question: str) -> str | None:
        """The name a question of the base schema has in the new schema (None: removed or unknown)."""
        if question not in self.choice_maps:
            return None
        return self.renamed_questions.get(question, question)

    def question_origin(self, question: str) -> str:
        """The name in the base schema of a question of the new schema (a new question keeps its name)."""
        for old, new in self.renamed_questions.items():
            if new == question:
                return old
        return question

    def targets(self, question: str, choice: str) -> tuple[str, ...] | None:
        """The new choices an old ``choice`` of ``question`` may have become (None: unknown question/choice).

        ``question`` is the name in the base schema; :meth:`question_target` gives its new name.
        """
        per_q = self.choice_maps.get(question)
        if per_q is None:
            return None
        return per_q.get(choice)

    def describe(self) -> list[str]:
        """The changes in words, one line each."""
        return list(self.steps)

    def then(self, later: SchemaChanges) -> SchemaChanges:
        """These changes followed by ``later`` (which must start where these end)."""
        maps: dict[str, dict[str, tuple[str, ...]]] = {}
        renamed: dict[str, str] = {}
        for q, per_q in self.choice_maps.items():
            mid_name = self.renamed_questions.get(q, q)
            if mid_name in later.removed_questions or mid_name not in later.choice_maps:
                continue
            nxt = later.choice_maps[mid_name]
            maps[q] = {old: _dedupe([t for mid in mids for t in nxt.get(mid, ())]) for old, mids in per_q.items()}
            final = later.renamed_questions.get(mid_name, mid_name)
            if final != q:
                renamed[q] = final
        origin = {new: old for old, new in self.renamed_questions.items()}
        forward = later.renamed_questions
        removed = _dedupe([*self.removed_questions,
                           *(origin.get(q, q) for q in later.removed_questions if q not in self.added_questions)])
        added = _dedupe([*(forward.get(q, q) for q in self.added_questions if q not in later.removed_questions),
                         *later.added_questions])
        conditions = _dedupe([*(forward.get(q, q) for q in self.changed_conditions if q not in later.removed_questions),
                              *later.changed_conditions])
        return SchemaChanges(self.base_version, maps, removed, added, conditions, (*self.steps, *later.steps),
                             renamed)

    @classmethod
    def infer(cls, old: Schema, new: Schema) -> SchemaChanges:
        """The changes from ``old`` to a schema built by hand: choices and questions matched by name.

        Nothing is taken for a rename: a choice or question missing from ``new`` counts as removed
        (use :meth:`Schema.evolve` to say that it was renamed, merged or split).
        """
        maps: dict[str, dict[str, tuple[str, ...]]] = {}
        steps: list[str] = []
        changed: list[str] = []
        new_names = set(new.question_names)
        for q in old.questions:
            if q.name not in new_names:
                continue
            nq = new.question(q.name)
            maps[q.name] = {c: ((c,) if c in nq.choices else ()) for c in q.choices}
            gone = [c for c in q.choices if c not in nq.choices]
            extra = [c for c in nq.choices if c not in q.choices]
            if gone:
                steps.append(f"removed the choice(s) {gone!r} of question {q.name!r}")
            if extra:
                steps.append(f"added the choice(s) {extra!r} to question {q.name!r}")
            kept = [c for c in nq.choices if c in q.choices]
            if kept != [c for c in q.choices if c in nq.choices]:
                steps.append(f"reordered the choices of question {q.name!r} to {list(nq.choices)!r}")
            if q.condition != nq.condition:
                changed.append(q.name)
                steps.append(f"changed the condition of question {q.name!r} to {_when_text(nq.condition)}")
        removed = tuple(q for q in old.question_names if q not in new_names)
        added = tuple(q for q in new.question_names if q not in set(old.question_names))
        steps += [f"removed question {q!r}" for q in removed] + [f"added question {q!r}" for q in added]
        return cls(old.version, maps, removed, added, tuple(changed), tuple(steps))


def _when_text(condition: Mapping[str, Sequence[str]]) -> str:
    if not condition:
        return "none (always asked)"
    return " and ".join(f"{p} in {list(v)!r}" for p, v in condition.items())


def _str_list(param: str, value: object, *, allow_str: bool = True) -> list[str]:
    if isinstance(value, str):
        if allow_str:
            return [value]
    elif isinstance(value, Sequence) and all(isinstance(v, str) and v for v in value):
        return list(value)
    raise SchemaError(
        f"The '{param}' parameter of Schema.evolve must be a list of choice names such as ['unsure']. "
        f"Got {value!r} instead."
    )


def _str_map(param: str, value: object, example: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and k for k in value):
        raise SchemaError(
            f"The '{param}' parameter of Schema.evolve must be a dict such as {example}. Got {value!r} instead."
        )
    return dict(value)


def _question_renames(schema: Schema, rename_question: object, added: list[Question]) -> dict[str, str]:
    """The checked ``rename_question`` mapping ``{old name: new name}``."""
    if rename_question is None:
        return {}
    renames = _str_map("rename_question", rename_question, "{'toxic': 'toxicity'}")
    names = list(schema.question_names)
    unknown = [q for q in renames if q not in names]
    if unknown:
        raise SchemaError(
            f"The 'rename_question' parameter of Schema.evolve names {unknown!r}, which are not questions of schema "
            f"{schema.name!r} (questions: {names!r}). Name a question by its current name, e.g. "
            f"rename_question={{{names[0]!r}: 'new_name'}}."
        )
    seen: dict[str, str] = {}
    for old, new in renames.items():
        if not isinstance(new, str) or not new.strip() or new != new.strip() or any(c in new for c in "\n\r\t"):
            raise SchemaError(
                f"The 'rename_question' parameter of Schema.evolve maps {old!r} to {new!r}; the new name must be a "
                f"non-empty string without leading/trailing white space or control characters, e.g. "
                f"rename_question={{{old!r}: 'new_name'}}."
            )
        if new == old:
            raise SchemaError(f"rename_question maps the question {old!r} to itself; leave it out.")
        if new in names:
            raise SchemaError(
                f"rename_question maps {old!r} to {new!r}, which is already a question of schema {schema.name!r} "
                f"(questions: {names!r}). Choose a name no question has; to swap two names, chain two calls "
                f"through a temporary name."
            )
        if new in [q.name for q in added]:
            raise SchemaError(f"rename_question maps {old!r} to {new!r}, the name of a question add_question adds "
                              f"in the same call. Choose another name for one of them.")
        if new in seen:
            raise SchemaError(f"rename_question maps both {seen[new]!r} and {old!r} to {new!r}; each question needs "
                              f"a name of its own.")
        seen[new] = old
    return dict(renames)


def _check_when_names(where: str, when: Mapping[str, object], renames: Mapping[str, str]) -> None:
    """A condition given for the new schema must name renamed questions by their new names."""
    stale = [p for p in when if p in renames]
    if stale:
        p = stale[0]
        raise SchemaError(
            f"{where} names the question {p!r}, which this call renames to {renames[p]!r}. A condition describes "
            f"the new schema: name the question {renames[p]!r} there."
        )


def _resolve_question(schema: Schema, question: str | None, named: list[str], has_add: bool) -> Question:
    """The question the choice operations apply to."""
    if question is not None:
        return schema.question(question)
    if schema.is_single:
        return schema.questions[0]
    holders = [q for q in schema.questions if named and all(c in q.choices for c in named)]
    if len(holders) == 1 and (named or not has_add):
        return holders[0]
    where = f"the choice(s) {named!r} belong to {[q.name for q in holders]!r}" if holders else (
        f"no single question has all of the choice(s) {named!r}" if named else "only new choices are named")
    raise SchemaError(
        f"Schema {schema.name!r} has several questions ({', '.join(schema.question_names)}) and {where}. "
        f"Name the question the choice changes apply to: evolve(question='...', ...)."
    )


def evolve_schema(
    schema: Schema,
    *,
    question: str | None = None,
    add: Sequence[str] | None = None,
    remove: Sequence[str] | None = None,
    rename: Mapping[str, str] | None = None,
    merge: Mapping[str, Sequence[str]] | None = None,
    split: Mapping[str, Sequence[str]] | None = None,
    add_question: Question | Sequence[Question] | None = None,
    remove_question: str | Sequence[str] | None = None,
    rename_question: Mapping[str, str] | None = None,
    condition: Mapping[str, Mapping[str, str | Sequence[str]] | None] | None = None,
) -> Schema:
    """The implementation of :meth:`workbench.schema.Schema.evolve`."""
    from workbench.schema._schema import Question, Schema

    adds = _str_list("add", add) if add is not None else []
    removes = _str_list("remove", remove) if remove is not None else []
    renames = _str_map("rename", rename, "{'ok': 'fine'}") if rename is not None else {}
    merges = _str_map("merge", merge, "{'abuse': ['insult', 'threat']}") if merge is not None else {}
    splits = _str_map("split", split, "{'toxic': ['harassment', 'hate', 'other']}") if split is not None else {}
    for old, new in renames.items():
        if not isinstance(new, str) or not new:
            raise SchemaError(f"rename maps {old!r} to {new!r}; the new name must be a non-empty string, "
                              f"e.g. rename={{{old!r}: 'new_name'}}.")
    merges = {k: _str_list(f"merge[{k!r}]", v, allow_str=False) for k, v in merges.items()}
    splits = {k: _str_list(f"split[{k!r}]", v, allow_str=False) for k, v in splits.items()}
    if add_question is None:
        new_questions: list[Question] = []
    elif isinstance(add_question, Question):
        new_questions = [add_question]
    elif isinstance(add_question, Sequence) and all(isinstance(q, Question) for q in add_question):
        new_questions = list(add_question)
    else:
        raise SchemaError(f"The 'add_question' parameter of Schema.evolve takes a wb.Question or a list of them. "
                          f"Got {add_question!r} instead.")
    dropped_qs = _str_list("remove_question", remove_question) if remove_question is not None else []
    conditions = _str_map("condition", condition, "{'seatbelt': {'person': ['yes', 'maybe']}}") \
        if condition is not None else {}
    q_renames = _question_renames(schema, rename_question, new_questions)
    # question=, remove_question= and condition= may also name a renamed question by its new name
    origin = {new: old for old, new in q_renames.items()}
    if question is not None and question not in schema.question_names and question in origin:
        question = origin[question]
    for qn in dropped_qs:
        if qn in q_renames or qn in origin:
            old = origin.get(qn, qn)
            raise SchemaError(
                f"The question {old!r} is both renamed (rename_question={{{old!r}: {q_renames[old]!r}}}) and removed "
                f"(remove_question={qn!r}) in one evolve call. Do one of the two."
            )
    conditions = {origin.get(qn, qn) if qn not in schema.question_names else qn: when
                  for qn, when in conditions.items()}
    for qn, when in conditions.items():
        if isinstance(when, Mapping):
            _check_when_names(f"condition[{q_renames.get(qn, qn)!r}]", when, q_renames)
    for nq in new_questions:
        _check_when_names(f"add_question {nq.name!r}", nq.condition, q_renames)

    choice_ops = bool(adds or removes or renames or merges or splits)
    if question is not None and not choice_ops:
        raise SchemaError("The 'question' parameter of Schema.evolve names the question for add=, remove=, rename=, "
                          "merge= or split=, but none of those was given.")
    if not (choice_ops or new_questions or dropped_qs or conditions or q_renames):
        raise SchemaError(
            "Schema.evolve was called without a change. Pass at least one of add=, remove=, rename=, merge=, "
            "split=, add_question=, remove_question=, rename_question= or condition=."
        )

    steps: list[str] = [f"renamed question {o!r} to {n!r}" for o, n in q_renames.items()]
    maps: dict[str, dict[str, tuple[str, ...]]] = {
        q.name: {c: (c,) for c in q.choices} for q in schema.questions}
    choices_of: dict[str, tuple[str, ...]] = {q.name: tuple(q.choices) for q in schema.questions}

    if choice_ops:
        named = [*removes, *renames, *(c for olds in merges.values() for c in olds), *splits]
        target = _resolve_question(schema, question, list(dict.fromkeys(named)), bool(adds))
        old_choices = list(target.choices)

        def _check_known(param: str, names: list[str]) -> None:
            bad = [c for c in names if c not in old_choices]
            if bad:
                raise SchemaError(
                    f"The '{param}' parameter of Schema.evolve names {bad!r}, which are not choices of question "
                    f"{target.name!r} (choices: {old_choices!r})."
                )

        _check_known("remove", removes)
        _check_known("rename", list(renames))
        for tgt, olds in merges.items():
            _check_known(f"merge[{tgt!r}]", olds)
        _check_known("split", list(splits))
        touched: dict[str, str] = {}
        for op, names in (("remove", removes), ("rename", list(renames)),
                          ("merge", [c for olds in merges.values() for c in olds]), ("split", list(splits))):
            for c in names:
                if c in touched:
                    raise SchemaError(
                        f"The choice {c!r} of question {target.name!r} is changed twice (by {touched[c]} and {op}). "
                        f"Give each choice one change per evolve call; chain calls (schema.evolve(...).evolve(...)) "
                        f"for several steps."
                    )
                touched[c] = op
        for tgt, olds in merges.items():
            if len(olds) < 2 and (not olds or olds[0] == tgt or tgt not in old_choices):
                raise SchemaError(
                    f"merge[{tgt!r}] must list at least two old choices to merge (or one old choice and an existing "
                    f"choice to merge it into). Got {olds!r}; to rename one choice use rename=."
                )
            if tgt in old_choices and tgt not in olds and tgt in touched:
                raise SchemaError(f"merge[{tgt!r}] merges into {tgt!r}, which this call also changes ({touched[tgt]}).")
        for old, parts in splits.items():
            if len(parts) < 2 or len(set(parts)) != len(parts):
                raise SchemaError(
                    f"split[{old!r}] must list at least two distinct new choices, e.g. "
                    f"split={{{old!r}: ['{old}_a', '{old}_b']}}. Got {parts!r}; to rename one choice use rename=."
                )
            for p in parts:
                if p in old_choices and p != old and p in touched:
                    raise SchemaError(f"split[{old!r}] names {p!r}, which this call also changes ({touched[p]}).")
        for old, new in renames.items():
            if new == old:
                raise SchemaError(f"rename maps {old!r} to itself; leave it out.")
            if new in old_choices and new not in touched:
                raise SchemaError(
                    f"rename maps {old!r} to {new!r}, which is already a choice of question {target.name!r}. To "
                    f"fold {old!r} into {new!r} use merge={{{new!r}: [{old!r}]}}."
                )
        producers: dict[str, list[str]] = {}
        for old, new in renames.items():
            producers.setdefault(new, []).append(f"rename {old!r} -> {new!r}")
        for tgt in merges:
            producers.setdefault(tgt, []).append(f"merge into {tgt!r}")
        for old, parts in splits.items():
            for p in parts:
                if p != old:
                    producers.setdefault(p, []).append(f"split of {old!r}")
        for name, who in producers.items():
            untouched_existing = name in old_choices and name not in touched
            if len(who) > 1 and not untouched_existing:
                raise SchemaError(
                    f"The new choice {name!r} of question {target.name!r} would come from several changes "
                    f"({'; '.join(who)}). To fold choices together say so with merge={{{name!r}: [...]}}."
                )
        # the new choice list, in the old order: renamed in place, merged at the first old choice, split in place
        emitted: dict[str, None] = {}
        merge_of = {c: tgt for tgt, olds in merges.items() for c in olds}
        for c in old_choices:
            if c in removes:
                continue
            if c in renames:
                emitted.setdefault(renames[c])
            elif c in merge_of:
                emitted.setdefault(merge_of[c])
            elif c in splits:
                for p in splits[c]:
                    emitted.setdefault(p)
            else:
                emitted.setdefault(c)
        for a in adds:
            if a in emitted:
                raise SchemaError(f"add names {a!r}, which is already a choice of question {target.name!r} after "
                                  f"this change. Choose a new name.")
            emitted.setdefault(a)
        new_choices = tuple(emitted)
        if len(new_choices) < 2:
            raise SchemaError(
                f"After this change question {target.name!r} would have {len(new_choices)} choice(s) "
                f"({list(new_choices)!r}); a question needs at least two. Remove the question instead "
                f"(remove_question={target.name!r})."
            )
        qmap: dict[str, tuple[str, ...]] = {}
        for c in old_choices:
            if c in removes:
                qmap[c] = ()
            elif c in renames:
                qmap[c] = (renames[c],)
            elif c in merge_of:
                qmap[c] = (merge_of[c],)
            elif c in splits:
                qmap[c] = tuple(splits[c])
            else:
                qmap[c] = (c,)
        maps[target.name] = qmap
        choices_of[target.name] = new_choices
        where = f" of question {q_renames.get(target.name, target.name)!r}"
        steps += [f"renamed the choice {o!r}{where} to {n!r}" for o, n in renames.items()]
        steps += [f"merged the choices {olds!r}{where} into {t!r}" for t, olds in merges.items()]
        steps += [f"split the choice {o!r}{where} into {parts!r}" for o, parts in splits.items()]
        steps += [f"removed the choice {c!r}{where}" for c in removes]
        steps += [f"added the choice {c!r}{where}" for c in adds]

    # questions: removals, rewritten conditions, explicit conditions, additions
    for qn in dropped_qs:
        schema.question(qn)  # a clear error for an unknown name
    if len(dropped_qs) >= len(schema.questions) and not new_questions:
        raise SchemaError("remove_question would remove every question; a schema needs at least one.")
    for qn in conditions:
        if qn not in schema.question_names and qn not in [q.name for q in new_questions]:
            raise SchemaError(
                f"condition names the question {qn!r}, which schema {schema.name!r} does not have. Expected one of "
                f"{list(schema.question_names)!r}."
            )
    kept: list[Question] = []
    for q in schema.questions:
        if q.name in dropped_qs:
            continue
        name = q_renames.get(q.name, q.name)
        if q.name in conditions:
            when = conditions[q.name]
            if when is not None and not isinstance(when, Mapping):
                raise SchemaError(f"condition[{name!r}] must be a dict such as {{'person': 'yes'}} or None (always "
                                  f"asked). Got {when!r} instead.")
            kept.append(Question(name, choices_of[q.name], when=when, description=q.description))
            continue
        new_when: dict[str, tuple[str, ...]] = {}
        for parent, accepted in q.condition.items():
            if parent in dropped_qs:
                raise SchemaError(
                    f"Question {q.name!r} is asked when {parent!r} is answered {list(accepted)!r}, but "
                    f"remove_question removes {parent!r}. Remove {q.name!r} too, or give it a new condition: "
                    f"condition={{{q.name!r}: None}}."
                )
            mapped = _dedupe([t for a in accepted for t in maps[parent].get(a, (a,))])
            if not mapped:
                raise SchemaError(
                    f"The condition of question {q.name!r} ({parent} in {list(accepted)!r}) names only removed "
                    f"choices. Give it a new condition (condition={{{q.name!r}: ...}}) or remove it "
                    f"(remove_question={q.name!r})."
                )
            new_when[q_renames.get(parent, parent)] = mapped
        kept.append(Question(name, choices_of[q.name], when={k: list(v) for k, v in new_when.items()} or None,
                             description=q.description))
    for nq in new_questions:
        if nq.name in [q.name for q in kept]:
            raise SchemaError(f"add_question adds {nq.name!r}, but schema {schema.name!r} already has a question of "
                              f"that name.")
        if nq.name in conditions:
            nq = Question(nq.name, nq.choices, when=conditions[nq.name], description=nq.description)
        kept.append(nq)
    steps += [f"removed question {qn!r}" for qn in dropped_qs]
    steps += [f"added question {q.name!r} with choices {list(q.choices)!r}" for q in new_questions]
    changed = [q_renames.get(qn, qn) for qn in conditions if qn in schema.question_names and qn not in dropped_qs]
    for qn in conditions:
        name = q_renames.get(qn, qn)
        when = next(q for q in kept if q.name == name).condition
        steps.append(f"changed the condition of question {name!r} to {_when_text(when)}")

    new = Schema(schema.name, kept)
    new.guidelines, new.guidelines_path = schema.guidelines, schema.guidelines_path
    for qn in dropped_qs:
        maps.pop(qn, None)
    own = SchemaChanges(schema.version, maps, tuple(dropped_qs), tuple(q.name for q in new_questions),
                        tuple(changed), tuple(steps), q_renames)
    new.changes = own if schema.changes is None else schema.changes.then(own)
    if new.version == schema.version:
        raise SchemaError("This evolve call changes nothing in the schema's structure (the result has the same "
                          "version). Check the names you passed.")
    return new
