"""Questions, conditions, schemas and guideline versions."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.exceptions import LabelValidationError, SchemaError

if TYPE_CHECKING:
    from workbench.schema._evolve import SchemaChanges

__all__ = ["Question", "Schema", "guideline_version_of", "NO_GUIDELINES"]

#: The guideline version recorded when a schema has no guidelines.
NO_GUIDELINES = "g-none"

_NAME_HELP = "Use a short identifier such as 'spam' or 'seatbelt' (letters, digits, '_', '-')."


def _check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise SchemaError(f"A {kind} name must be a non-empty string. Got {name!r} instead. {_NAME_HELP}")
    if name != name.strip() or any(c in name for c in "\n\r\t"):
        raise SchemaError(
            f"The {kind} name {name!r} has leading/trailing white space or control characters. {_NAME_HELP}"
        )
    return name


def _hash_json(obj: Any) -> str:
    data = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def guideline_version_of(text: str | None) -> str:
    """The guideline version of a guideline text: ``"g-"`` + 12 hex digits of its SHA-256.

    Line endings are normalised first, so the same guidelines checked out on Windows and on
    Linux have one version. ``None`` or empty text gives :data:`NO_GUIDELINES`.
    """
    if not text:
        return NO_GUIDELINES
    norm = text.replace("\r\n", "\n").replace("\r", "\n")
    return "g-" + hashlib.sha256(norm.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Question:
    """One atomic question of a labeling schema.

    Parameters
    ----------
    name : str
        Identifier of the question, unique within its schema (e.g. ``"person"``).
    choices : sequence of str
        The allowed answers, in order; a choice's position is its integer label id
        (``ABSTAIN = -1`` means no answer).
    when : mapping of str to str or list of str, optional
        The condition under which this question is asked: every named earlier question must
        have been answered with the given choice (or one of the given choices). For example
        ``when={"person": "yes"}`` asks "seatbelt?" only when a person is in frame.
    description : str, optional
        The question as an annotator reads it.

    Examples
    --------
    >>> Question("seatbelt", choices=["yes", "no", "unsure"], when={"person": "yes"}).label_id("no")
    1
    """

    name: str
    choices: Sequence[str]
    when: Mapping[str, str | Sequence[str]] | None = None
    description: str = ""
    # Normalised condition: question -> tuple of accepted answers.
    condition: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name("question", self.name)
        if isinstance(self.choices, (str, bytes)) or not isinstance(self.choices, Iterable):
            raise SchemaError(
                f"The 'choices' of question {self.name!r} must be a list of strings such as "
                f"['yes', 'no']. Got {self.choices!r} instead."
            )
        choices = tuple(self.choices)
        if len(choices) < 2:
            raise SchemaError(
                f"Question {self.name!r} needs at least two choices. Got {list(choices)!r} instead."
            )
        for c in choices:
            if not isinstance(c, str) or not c.strip():
                raise SchemaError(
                    f"Every choice of question {self.name!r} must be a non-empty string. Got {c!r} "
                    f"instead; write numeric classes as strings, e.g. ['0', '1']."
                )
        dupes = sorted({c for c in choices if choices.count(c) > 1})
        if dupes:
            raise SchemaError(f"Question {self.name!r} lists the choice(s) {dupes} more than once.")
        object.__setattr__(self, "choices", choices)
        condition: dict[str, tuple[str, ...]] = {}
        if self.when is not None:
            if not isinstance(self.when, Mapping) or not self.when:
                raise SchemaError(
                    f"The 'when' condition of question {self.name!r} must be a non-empty mapping "
                    f"such as {{'person': 'yes'}}. Got {self.when!r} instead."
                )
            for parent, accepted in self.when.items():
                _check_name("question", parent)
                vals = (accepted,) if isinstance(accepted, str) else tuple(accepted)
                if not vals or not all(isinstance(v, str) for v in vals):
                    raise SchemaError(
                        f"The condition {parent!r} of question {self.name!r} must name one choice or "
                        f"a list of choices of {parent!r}. Got {accepted!r} instead."
                    )
                condition[parent] = vals
        object.__setattr__(self, "condition", condition)
        if not isinstance(self.description, str):
            raise SchemaError(f"The description of question {self.name!r} must be a string.")

    def label_id(self, choice: str) -> int:
        """The integer id of ``choice`` (its position in :attr:`choices`)."""
        try:
            return self.choices.index(choice)  # type: ignore[union-attr]
        except ValueError:
            raise LabelValidationError(
                f"{choice!r} is not a choice of question {self.name!r}. "
                f"Expected one of {list(self.choices)!r}."
            ) from None

    @property
    def cardinality(self) -> int:
        """The number of choices."""
        return len(self.choices)

    def is_asked(self, answers: Mapping[str, str]) -> bool:
        """Whether this question is asked given the ``answers`` to other questions."""
        return all(answers.get(parent) in accepted for parent, accepted in self.condition.items())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the question."""
        d: dict[str, Any] = {"name": self.name, "choices": list(self.choices)}
        if self.condition:
            d["when"] = {k: list(v) for k, v in self.condition.items()}
        if self.description:
            d["description"] = self.description
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Question:
        """Rebuild a question from :meth:`to_dict` output."""
        return cls(d["name"], d["choices"], when=d.get("when"), description=d.get("description", ""))


def _read_guidelines(guidelines: str | os.PathLike[str] | None) -> tuple[str | None, str | None]:
    """Return (text, source_path) for guidelines given as text, a path, or None."""
    if guidelines is None:
        return None, None
    if isinstance(guidelines, os.PathLike):
        path = Path(guidelines)
        if not path.is_file():
            raise SchemaError(f"The guidelines file {str(path)!r} does not exist. Give its path or the text itself.")
        return path.read_text(encoding="utf-8"), str(path)
    if not isinstance(guidelines, str):
        raise SchemaError(
            f"The 'guidelines' parameter of Schema must be text, a path, or None. Got {type(guidelines).__name__}."
        )
    one_word = not any(ch.isspace() for ch in guidelines.strip())
    looks_like_path = "\n" not in guidelines and (
        guidelines.lower().endswith((".md", ".txt", ".rst", ".html"))
        or (one_word and ("/" in guidelines or "\\" in guidelines or re.search(r"\.[A-Za-z]\w{0,9}$", guidelines)))
    )
    if looks_like_path:
        path = Path(guidelines)
        if not path.is_file():
            raise SchemaError(
                f"The guidelines file {guidelines!r} does not exist (relative paths start at "
                f"{os.getcwd()!r}). Give an existing path, or the guideline text itself."
            )
        return path.read_text(encoding="utf-8"), str(path)
    return guidelines, None


class Schema:
    """A versioned labeling schema: atomic questions, their conditions, and guidelines.

    Parameters
    ----------
    name : str
        The task's name (e.g. ``"seatbelts"``).
    questions : sequence of Question
        The questions in the order they are asked. A question's ``when`` condition may only
        refer to questions that come before it.
    guidelines : str or path-like, optional
        The annotation guidelines, as text or as the path of a text/Markdown file. Their
        content hash is the :attr:`guideline_version`.

    Examples
    --------
    >>> schema = Schema.single("spam", choices=["ham", "spam"])
    >>> schema.label_ids("spam", "ham")
    (1, 0)
    >>> schema.validate("spam")
    {'spam': 'spam'}
    """

    def __init__(
        self,
        name: str,
        questions: Sequence[Question],
        guidelines: str | os.PathLike[str] | None = None,
    ) -> None:
        self.name = _check_name("schema", name)
        if isinstance(questions, Question):
            questions = [questions]
        qs = list(questions)
        if not qs:
            raise SchemaError(f"Schema {name!r} needs at least one Question.")
        seen: dict[str, Question] = {}
        for q in qs:
            if not isinstance(q, Question):
                raise SchemaError(
                    f"Schema {name!r} takes Question objects; got {q!r}. Write "
                    f"wb.Question('name', choices=[...])."
                )
            if q.name in seen:
                raise SchemaError(f"Schema {name!r} has two questions named {q.name!r}.")
            for parent, accepted in q.condition.items():
                if parent not in seen:
                    raise SchemaError(
                        f"Question {q.name!r} depends on {parent!r}, which is not an earlier question "
                        f"of schema {name!r}. Put {parent!r} before {q.name!r}."
                    )
                bad = [a for a in accepted if a not in seen[parent].choices]
                if bad:
                    raise SchemaError(
                        f"The condition of question {q.name!r} names {bad!r}, which are not choices "
                        f"of {parent!r} (choices: {list(seen[parent].choices)!r})."
                    )
            seen[q.name] = q
        self.questions: tuple[Question, ...] = tuple(qs)
        self.guidelines, self.guidelines_path = _read_guidelines(guidelines)
        #: How this schema was evolved from an earlier one (set by :meth:`evolve`; None otherwise).
        self.changes: SchemaChanges | None = None

    # -- construction -------------------------------------------------------------------
    @classmethod
    def single(
        cls, name: str, choices: Sequence[str], guidelines: str | os.PathLike[str] | None = None
    ) -> Schema:
        """A schema with one question named like the schema; labels can then be given bare."""
        return cls(name, [Question(name, choices)], guidelines=guidelines)

    def to_dict(self) -> dict[str, Any]:
        """The schema's structure as JSON-ready data (guideline text excluded; see versions)."""
        return {"name": self.name, "questions": [q.to_dict() for q in self.questions]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], guidelines: str | None = None) -> Schema:
        """Rebuild a schema from :meth:`to_dict` output and optional guideline text."""
        s = cls(d["name"], [Question.from_dict(q) for q in d["questions"]])
        s.guidelines = guidelines or None
        return s

    def with_guidelines(self, guidelines: str | os.PathLike[str] | None) -> Schema:
        """A copy of this schema with other guidelines (a new guideline version)."""
        s = Schema.from_dict(self.to_dict())
        s.guidelines, s.guidelines_path = _read_guidelines(guidelines)
        s.changes = self.changes
        return s

    def evolve(
        self,
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
        """A new schema with changed choices, questions or conditions, and a record of what changed.

        The result's :attr:`changes` (a :class:`~workbench.schema.SchemaChanges`) says for every
        old choice which new choices it may have become, and for every renamed question its new
        name; ``project.migrations.plan(new)`` reads it to map labels automatically (rename,
        merge, a renamed question), queue them for relabeling (split) or drop them (removed
        choices and questions). Calls can be chained; the changes compose. The guidelines are
        kept.

        In one call, the choice operations name the choices of the schema being evolved, and
        ``question``, ``remove_question`` and the keys of ``condition`` name its questions (a
        question renamed in the same call may be named by either name). The ``when`` mappings
        of ``condition`` and ``add_question`` describe the result, so they name renamed
        questions and choices by their new names.

        Parameters
        ----------
        question : str, optional
            The question that ``add``, ``remove``, ``rename``, ``merge`` and ``split`` change.
            Not needed for a single-question schema, nor when the named choices belong to
            exactly one question.
        add : list of str, optional
            New choices, appended after the existing ones.
        remove : list of str, optional
            Choices that go away; labels using them are dropped (and their items queued).
        rename : dict of str to str, optional
            ``{old: new}``: the same meaning under a new name (mapped automatically).
        merge : dict of str to list of str, optional
            ``{new: [old, ...]}``: several choices become one (mapped automatically). ``new``
            may be one of the old choices or an existing choice they fold into.
        split : dict of str to list of str, optional
            ``{old: [new, ...]}``: one choice becomes several; an old answer can be any of
            them, so its labels need relabeling. A new choice may keep the old name.
        add_question : Question or list of Question, optional
            New questions, appended; their ``when`` may name any question of the result.
        remove_question : str or list of str, optional
            Questions that go away; their labels are dropped.
        rename_question : dict of str to str, optional
            ``{old: new}``: the same question under a new name, keeping its choices (and any
            choice changes of the same call), description, condition and position. Its labels
            are mapped automatically to the new name, and conditions of other questions that
            name it follow it. The new name must not be the name of a question of the schema
            (to swap two names, chain two calls through a temporary name).
        condition : dict, optional
            ``{question: when}`` with a new ``when`` mapping, or None (always asked). Conditions
            naming renamed, merged or split choices, or renamed questions, follow them
            automatically.

        Returns
        -------
        Schema
            The evolved schema; ``result.changes.describe()`` lists the changes.

        Raises
        ------
        SchemaError
            An unknown question or choice, a choice changed twice in one call, a name clash
            (also a question renamed to an existing question's name, or to an empty name), a
            question both renamed and removed, a question left with fewer than two choices, or
            a call that changes nothing.

        Examples
        --------
        >>> s = Schema.single("toxicity", ["ok", "toxic"])
        >>> new = s.evolve(split={"toxic": ["harassment", "hate", "other"]}, rename={"ok": "fine"})
        >>> new.question().choices
        ('fine', 'harassment', 'hate', 'other')
        >>> new.changes.targets("toxicity", "toxic")
        ('harassment', 'hate', 'other')

        Renaming a question (a follow-up question's condition follows it), then one of its
        choices in a chained call:

        >>> s = Schema("moderation", [Question("toxic", ["no", "yes"]),
        ...                           Question("target", ["person", "group"], when={"toxic": "yes"})])
        >>> renamed = s.evolve(rename_question={"toxic": "toxicity"})
        >>> renamed = renamed.evolve(question="toxicity", rename={"yes": "toxic"})
        >>> renamed.question_names
        ('toxicity', 'target')
        >>> renamed.question("target").condition
        {'toxicity': ('toxic',)}
        >>> renamed.changes.question_target("toxic"), renamed.changes.targets("toxic", "yes")
        ('toxicity', ('toxic',))
        """
        from workbench.schema._evolve import evolve_schema

        return evolve_schema(
            self, question=question, add=add, remove=remove, rename=rename, merge=merge, split=split,
            add_question=add_question, remove_question=remove_question, rename_question=rename_question,
            condition=condition,
        )

    # -- versions -----------------------------------------------------------------------
    @property
    def version(self) -> str:
        """The schema version: ``"s-"`` + 12 hex digits of the hash of its structure."""
        return "s-" + _hash_json(self.to_dict())[:12]

    @property
    def guideline_version(self) -> str:
        """The guideline version: ``"g-"`` + 12 hex digits of the guideline text's hash."""
        return guideline_version_of(self.guidelines)

    # -- lookup -------------------------------------------------------------------------
    @property
    def question_names(self) -> tuple[str, ...]:
        """The names of the questions, in order."""
        return tuple(q.name for q in self.questions)

    @property
    def is_single(self) -> bool:
        """Whether the schema has exactly one question."""
        return len(self.questions) == 1

    def question(self, name: str | None = None) -> Question:
        """The question called ``name``; with no name, the only question of a single-question schema."""
        if name is None:
            if not self.is_single:
                raise SchemaError(
                    f"Schema {self.name!r} has {len(self.questions)} questions "
                    f"({', '.join(self.question_names)}); name the one you mean."
                )
            return self.questions[0]
        for q in self.questions:
            if q.name == name:
                return q
        raise SchemaError(
            f"Schema {self.name!r} has no question {name!r}. Expected one of {list(self.question_names)!r}."
        )

    def label_ids(self, *choices: str, question: str | None = None) -> tuple[int, ...]:
        """The integer label ids of ``choices`` for ``question`` (positions in its choices)."""
        q = self.question(question)
        return tuple(q.label_id(c) for c in choices)

    def label_id(self, choice: str, question: str | None = None) -> int:
        """The integer label id of one choice."""
        return self.question(question).label_id(choice)

    # -- validation ---------------------------------------------------------------------
    def validate(
        self, value: object, *, context: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """Check an answer against the schema and return it as ``{question: choice}``.

        Parameters
        ----------
        value : str or mapping
            A bare choice (single-question schemas only) or a mapping of question names to
            choices. Partial answers are allowed: a mapping may answer only some questions.
        context : mapping, optional
            Earlier answers for the same example and annotator, used to check conditions of
            follow-up questions answered on their own.

        Raises
        ------
        LabelValidationError
            If a question is unknown, a choice is not allowed, or a follow-up is answered
            although its condition does not hold.
        """
        if isinstance(value, Mapping):
            answers = dict(value)
        elif isinstance(value, str):
            if not self.is_single:
                raise LabelValidationError(
                    f"Schema {self.name!r} has several questions ({', '.join(self.question_names)}), so a "
                    f"label must be a dict such as {{{self.question_names[0]!r}: "
                    f"{self.questions[0].choices[0]!r}}}. Got the bare value {value!r}."
                )
            answers = {self.questions[0].name: value}
        else:
            raise LabelValidationError(
                f"A label must be a choice (str) or a dict of question -> choice. Got "
                f"{type(value).__name__} {value!r} instead."
            )
        if not answers:
            raise LabelValidationError("The label is empty: answer at least one question.")
        known = set(self.question_names)
        for qname, choice in answers.items():
            if qname not in known:
                raise LabelValidationError(
                    f"Schema {self.name!r} has no question {qname!r}. Expected one of "
                    f"{list(self.question_names)!r}."
                )
            q = self.question(qname)
            if not isinstance(choice, str) or choice not in q.choices:
                raise LabelValidationError(
                    f"{choice!r} is not a choice of question {qname!r}. Expected one of {list(q.choices)!r}."
                )
        merged = {**(context or {}), **answers}
        for qname in answers:
            q = self.question(qname)
            if not q.is_asked(merged):
                cond = " and ".join(f"{p} in {list(v)!r}" for p, v in q.condition.items())
                got = {p: merged.get(p) for p in q.condition}
                raise LabelValidationError(
                    f"Question {qname!r} is only asked when {cond}, but the answers are {got!r}. "
                    f"Answer the earlier question(s) first, in the same label or before it."
                )
        # Keep schema order for readability.
        return {q: answers[q] for q in self.question_names if q in answers}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Schema)
            and self.to_dict() == other.to_dict()
            and self.guideline_version == other.guideline_version
        )

    def __hash__(self) -> int:
        return hash((self.version, self.guideline_version))

    def __repr__(self) -> str:
        qs = ", ".join(f"{q.name}{list(q.choices)}" for q in self.questions)
        return f"Schema({self.name!r}, [{qs}], version={self.version!r}, guidelines={self.guideline_version!r})"
