"""A keyboard-first annotation widget for JupyterLab (anywidget).

The widget renders one served item at a time and forwards each intent to the project in
one call: a choice key picks a choice (``project.annotation.submit`` once every asked question is
answered), Enter confirms the draft (``submit(..., confirmed_draft=True)``), ``s`` skips
(``project.annotation.skip``) and ``u`` / Backspace undoes (``project.annotation.undo``). The queue
itself (leases, overlap, honeypots, drafts) lives in the workbench; the widget only keeps the batches
that :meth:`workbench.annotation.ProjectAnnotation.next_items` served it, to count them.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import os
import re
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from workbench import QUEUE_STRATEGIES
from workbench.exceptions import LabelValidationError, WorkbenchError

if TYPE_CHECKING:
    from workbench import Assignment, Draft, Project, Subscription
    from workbench.schema import Question

__all__ = ["Annotator", "CHOICE_KEYS"]

_log = logging.getLogger(__name__)
_HERE = Path(__file__).resolve().parent
#: Images larger than this are not inlined (the widget says so instead).
MAX_IMAGE_BYTES = 8 * 1024 * 1024
#: The keys of the choices, in order: digits first, then letters (``s`` and ``u`` are taken by skip and undo).
#: A question with more choices than keys gets the rest as buttons only.
CHOICE_KEYS: tuple[str, ...] = tuple("1234567890abcdefghijklmnopqrtvwxyz")
#: Characters of an item's text quoted in messages.
SNIPPET_CHARS = 40
_SPACES = re.compile(r"\s+")


@dataclass
class _Slot:
    """One served item of one batch, as the widget counts it."""

    assignment: Assignment
    batch: int  # 1-based batch number
    position: int  # 1-based position in the batch
    quote: str  # the text snippet (or id) that messages name the item by
    status: str = "pending"  # "pending", "answered" or "skipped"
    answer: str = ""  # what was submitted, for the undo message

    @property
    def example_id(self) -> str:
        return self.assignment.example_id


def _quote(text: str, limit: int = SNIPPET_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters (with an ellipsis), in curly quotes.

    >>> _quote("check out   my channel, it has the best videos ever made")
    '\u201ccheck out my channel, it has the best vi\u2026\u201d'
    """
    one_line = _SPACES.sub(" ", text).strip()
    if len(one_line) > limit:
        one_line = one_line[: limit - 1].rstrip() + "\u2026"
    return f"\u201c{one_line}\u201d"


def _draft_state(draft: Draft | None) -> dict[str, Any]:
    """What the browser sees of a draft: its value, confidence and source (``{}`` for none)."""
    return {} if draft is None else {"value": draft.value, "confidence": draft.confidence, "source": draft.source}


class Annotator(anywidget.AnyWidget):
    """Label a project's items one by one, by keyboard, inside a notebook.

    Parameters
    ----------
    project : workbench.Project
        The project to label.
    annotator : str
        Who is labeling (recorded on every event).
    queue : {"random", "stratified", "disagreement", "uncertain", "review"}, default "random"
        The strategy :meth:`~workbench.annotation.ProjectAnnotation.next_items` serves items by.
        Adjudication is a decision, not one more answer: it is done in the ``QualityDashboard``
        (``queue="adjudication"``) or the reviewer app, and refused here.
    batch : int, default 50
        How many items to lease at once; the widget asks for more when the batch is done.
    question : str, optional
        The question to start each item with (default: the schema's first question).
        Follow-up questions whose condition holds are asked after it, in schema order.
    image_root : path-like, optional
        Folder that relative image paths are resolved against (default: the working
        directory, then the project's parent folder).

    Notes
    -----
    Keyboard, while the widget has the focus (click it to give it the focus; it looks dimmed
    and says so when it has not): ``1``..``9``, ``0``, then letters pick a choice (see
    :data:`CHOICE_KEYS`), Enter confirms the draft, ``s`` skips, ``u`` or Backspace undoes,
    ``?`` shows the keys and Esc closes that overlay. Key events stop at the widget, so
    JupyterLab's command-mode shortcuts do not fire; without the focus the widget takes no key.
    An unknown key shows a short note naming it. Messages quote the item's text, not its id.
    Honeypot status is never sent to the browser.

    Examples
    --------
    >>> annotator = Annotator(project, "alice", batch=20)  # doctest: +SKIP
    >>> annotator  # doctest: +SKIP
    >>> annotator.choose(2)  # the same as pressing "2"  # doctest: +SKIP
    >>> annotator.progress["text"]  # doctest: +SKIP
    '2 / 20 in this batch · 1 labeled'
    """

    _esm = _HERE / "_annotator.js"
    _css = _HERE / "_annotator.css"

    #: The item shown: ``{"example_id", "text" (as stored: the browser shows it as text), "image" (data: URL or
    #: ""), "image_note"}``; ``{}`` when none.
    item = traitlets.Dict().tag(sync=True)
    #: Name and wording of the question being asked.
    question = traitlets.Unicode("").tag(sync=True)
    question_text = traitlets.Unicode("").tag(sync=True)
    #: The choices of the current question, in key order.
    choices = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: The key of each choice (``choice_keys[i]`` picks ``choices[i]``); shorter when keys run out.
    choice_keys = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: Answers already given to earlier questions of the current item (multi-question schemas).
    answers = traitlets.Dict().tag(sync=True)
    #: ``{"value", "confidence", "source"}`` of the suggested answer (Enter confirms it), ``{}`` when none.
    draft = traitlets.Dict().tag(sync=True)
    guidelines = traitlets.Unicode("").tag(sync=True)
    #: The batch counter: ``{"position", "batch", "batch_number", "done", "answered", "skipped", "labeled",
    #: "text"}``. ``position`` is the shown item's place in its batch (1-based; 0 when none), ``done`` the
    #: batch's items answered or skipped, ``answered`` / ``skipped`` this session's, ``labeled`` the items
    #: this annotator has an answer on in the project, and ``text`` what the widget shows.
    progress = traitlets.Dict().tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    #: ``"info"`` or ``"error"``: how the message is styled.
    message_kind = traitlets.Unicode("info").tag(sync=True)
    #: True when the queue has no more items for this annotator.
    finished = traitlets.Bool(False).tag(sync=True)
    #: Bumped on every new render of an item (the front end resets its timer on it).
    revision = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        project: Project,
        annotator: str,
        queue: str = "random",
        batch: int = 50,
        question: str | None = None,
        *,
        image_root: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(annotator, str) or not annotator.strip():
            raise LabelValidationError(
                f"The 'annotator' parameter of Annotator must be a non-empty string. Got {annotator!r} instead."
            )
        if queue == "adjudication":
            raise LabelValidationError(
                "The Annotator records annotators' answers, so queue='adjudication' would only add one more vote "
                "to items whose votes disagree. Decide them with QualityDashboard(project, queue='adjudication') "
                "or the reviewer app (workbench serve), which record adjudications."
            )
        if queue not in QUEUE_STRATEGIES:
            raise LabelValidationError(
                f"The 'queue' parameter of Annotator must be one of {list(QUEUE_STRATEGIES)!r}. Got {queue!r} instead."
            )
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise LabelValidationError(
                f"The 'batch' parameter of Annotator must be a positive integer. Got {batch!r} instead."
            )
        schema = project.schema
        root = schema.question(question) if question is not None else schema.questions[0]
        if root.condition:
            parents = ", ".join(f"{p} in {list(v)}" for p, v in root.condition.items())
            raise LabelValidationError(
                f"Question {root.name!r} is only asked when {parents}, so it cannot start an item: start with "
                f"{next(iter(root.condition))!r} (the Annotator then asks {root.name!r} where it applies)."
            )
        super().__init__(**kwargs)
        self.project = project
        self.annotator = annotator
        self.queue = queue
        self.batch = batch
        self.root_question = root.name
        self.image_root = Path(image_root) if image_root is not None else None
        self._pending: deque[_Slot] = deque()
        self._batches: dict[int, list[_Slot]] = {}
        self._current: _Slot | None = None
        self._last_batch = 0  # the batch of the item shown last (counted when the queue runs dry)
        self._answered: list[_Slot] = []  # the session's submitted items, newest last, for undo
        self._shown_at = time.monotonic()
        self._n_answered = 0
        self._n_skipped = 0
        self._labeled_base = 0  # the project's count of this annotator's items, less this session's (see _recount)
        self._confirmed = False  # the current item's earlier answer was a confirmed draft
        self._root_draft: Draft | None = None  # the draft shown for the current item's root question
        self._subscriptions: list[Subscription] = [
            project.on("guidelines_changed", self._on_guidelines_changed),
            project.on("schema_changed", self._on_schema_changed),
            project.on("data_added", self._on_data_added),
        ]
        self.guidelines = schema.guidelines or ""
        self.on_msg(self._handle_message)
        self._advance()

    # ------------------------------------------------------------------ intents (keyboard and Python)
    def choose(self, choice: int | str, *, time_spent: float | None = None) -> None:
        """Answer the current question: ``choice`` is a 1-based position (key ``1`` is 1) or the choice itself.

        When every question asked for the item is answered, the answers are submitted with
        one :meth:`~workbench.annotation.ProjectAnnotation.submit` call and the next item is shown.
        """
        if self._current is None:
            self._look_again()
        if self._current is None:
            self._say("Nothing to label: the queue is empty.", "error")
            return
        options = list(self.choices)
        if isinstance(choice, str):
            if choice not in options:
                self._say(f"{choice!r} is not a choice of {self.question!r}: pick one of {options}.", "error")
                return
            value = choice
        elif isinstance(choice, int) and not isinstance(choice, bool) and 1 <= choice <= len(options):
            value = options[choice - 1]
        else:
            self._say(f"Key {choice!r} picks nothing: use 1..{len(options)}.", "error")
            return
        self._answer(value, confirmed=False, time_spent=time_spent)

    def confirm_draft(self, *, time_spent: float | None = None) -> None:
        """Accept the draft (the suggestion shown, preselected) for the current question: the Enter key.

        The answer is submitted with ``confirmed_draft=True`` once the item is complete.
        """
        if self._current is None:
            self._look_again()
        if self._current is None:
            self._say("Nothing to label: the queue is empty.", "error")
            return
        if not self.draft:
            self._say(f"{self._snippet(self._current)} has no draft to confirm: pick a choice with its key.", "error")
            return
        self._answer(str(self.draft["value"]), confirmed=True, time_spent=time_spent)

    def skip(self) -> None:
        """Give the current item back unanswered (``project.annotation.skip``) and show the next one."""
        if self._current is None:
            self._look_again()
        if self._current is None:
            self._say("Nothing to skip: the queue is empty.", "error")
            return
        slot = self._current
        spent = round(float(time.monotonic() - self._shown_at), 3)
        self.project.annotation.skip(slot.example_id, annotator=self.annotator, time_spent=spent,
                                     draft=self._root_draft)
        slot.status = "skipped"
        self._n_skipped += 1
        self._current = None
        self._advance(message=f"Skipped {self._snippet(slot)}.")

    def undo(self) -> str | None:
        """Step back: within an item, drop the last answer; otherwise undo the last submitted item.

        Undoing a submitted item calls :meth:`~workbench.annotation.ProjectAnnotation.undo` (which appends a
        superseding event; nothing is deleted) and shows that item again, counted in the batch it came
        in. Returns the example id undone in the project, or None.
        """
        if self.answers and self._current is not None:  # a multi-question item in progress: nothing stored yet
            answers = dict(self.answers)
            answers.popitem()
            if self.root_question not in answers:
                self._confirmed = False  # the confirmed draft's answer is gone with it
            self._show_question(answers, message=f"Went back one question on {self._snippet(self._current)}.")
            return None
        eid = self.project.annotation.undo(annotator=self.annotator)
        if eid is None:
            self._say("Nothing to undo.")
            return None
        again = next((s for s in reversed(self._answered) if s.example_id == eid), None)
        if again is not None:
            self._answered.remove(again)
            again.status = "pending"
            self._n_answered -= 1
            if self._current is not None:
                self._pending.appendleft(self._current)
            self._current = None
            self._pending.appendleft(again)
            self._advance(message=f"Undid {again.answer} on {self._snippet(again)}: label it again.")
        else:  # a submission from an earlier session (or another widget): undone, not shown
            text = self._text_of(self.project.example(eid).to_dict())
            self._recount()
            with self.hold_sync():
                self._say(f"Undid your last answer, on {_quote(text) if text else eid}.")
                self._refresh_progress()
        return eid

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Disconnect from the project and close the widget."""
        for sub in getattr(self, "_subscriptions", []):  # absent if __init__ failed early
            sub.disconnect()
        self._subscriptions = []
        super().close()

    @property
    def current_example_id(self) -> str | None:
        """The id of the item shown, or None."""
        return self._current.example_id if self._current is not None else None

    # ------------------------------------------------------------------ internals
    def _handle_message(self, _widget: Any, content: Mapping[str, Any], _buffers: Any) -> None:
        kind = content.get("type")
        spent = content.get("time_spent")
        spent = float(spent) if isinstance(spent, (int, float)) and not isinstance(spent, bool) and spent >= 0 else None
        expected, asked = content.get("example_id"), content.get("question")
        stale = (expected is not None and expected != self.current_example_id) or (
            asked is not None and asked != self.question
        )
        if kind in ("choose", "confirm", "skip") and stale:
            # A key pressed on an item or question that is no longer shown (a fast double press): ignore it.
            return
        shown = self._current
        try:
            if kind == "choose":
                self.choose(int(content.get("index", 0)), time_spent=spent)
            elif kind == "confirm":
                self.confirm_draft(time_spent=spent)
            elif kind == "skip":
                self.skip()
            elif kind == "undo":
                self.undo()
        except WorkbenchError as exc:
            where = self._snippet(shown) if shown is not None else "this item"
            what = {"choose": f"save the answer to {where}", "confirm": f"confirm the draft on {where}",
                    "skip": f"skip {where}"}.get(str(kind), "undo")
            self._say(f"Could not {what}: {exc}", "error")

    def _say(self, message: str, kind: str = "info") -> None:
        with self.hold_sync():
            self.message = message
            self.message_kind = kind

    def _text_of(self, data: Mapping[Any, Any]) -> str:
        text_col, image_col = self.project.text_column, self.project.image_column
        text = data.get(text_col) if text_col else None
        if text is None or (isinstance(text, float) and text != text):
            image = data.get(image_col) if image_col else None
            return Path(image).name if isinstance(image, str) else ""
        return str(text)

    def _snippet(self, slot: _Slot) -> str:
        return slot.quote

    def _quote_of(self, assignment: Assignment) -> str:
        """The item's text (or image file name) quoted and cut short; its id when it has neither."""
        text = self._text_of(assignment.data)
        return _quote(text) if text.strip() else assignment.example_id

    def _question(self, name: str) -> Question:
        return self.project.schema.question(name)

    def _asked_questions(self, answers: Mapping[str, str]) -> list[str]:
        names = list(self.project.schema.question_names)
        start = names.index(self.root_question)
        return [n for n in names[start:] if n == self.root_question or self._question(n).is_asked(answers)]

    def _answer(self, value: str, *, confirmed: bool, time_spent: float | None) -> None:
        assert self._current is not None
        answers = {**self.answers, self.question: value}
        remaining = [n for n in self._asked_questions(answers) if n not in answers]
        if remaining:  # a follow-up question applies: ask it before submitting
            self._confirmed = self._confirmed or confirmed
            self._show_question(answers)
            return
        confirmed = confirmed or self._confirmed
        spent = time_spent if time_spent is not None else time.monotonic() - self._shown_at
        slot = self._current
        label: Any = value if self.project.schema.is_single else answers
        self.project.annotation.submit(
            slot.example_id, label, annotator=self.annotator, time_spent=round(float(spent), 3),
            confirmed_draft=confirmed, draft=self._root_draft,  # the draft shown: logged for corrections()
        )
        slot.status = "answered"
        slot.answer = (
            repr(value) if len(answers) == 1 else ", ".join(f"{k}={v!r}" for k, v in answers.items())
        )
        self._answered.append(slot)
        self._n_answered += 1
        self._current = None
        verb = "Confirmed the draft" if confirmed else "Labeled"
        self._advance(message=f"{verb} {slot.answer} on {self._snippet(slot)}.")

    def _advance(self, message: str = "") -> None:
        """Show the next item; lease a new batch when the current one is used up."""
        if not self._pending:
            self._lease_batch()
        self._current = self._pending.popleft() if self._pending else None
        if self._current is not None:
            self._last_batch = self._current.batch
        self._confirmed = False
        self._shown_at = time.monotonic()
        with self.hold_sync():
            if self._current is None:
                self.item = {}
                self.question = ""
                self.question_text = ""
                self.choices = []
                self.choice_keys = []
                self.answers = {}
                self.draft = {}
                self.finished = True
                self.message = (message + " " if message else "") + "All done: nothing left to label for you."
                self.message_kind = "info"
            else:
                self.finished = False
                self.item = self._item_state(self._current.assignment)
                self._show_question({}, message=message, hold=False)
            self._refresh_progress()
            self.revision += 1
        self._refresh_draft()
        if self._current is not None and not self._pending:
            # The last item of the batch is on screen (already sent to the browser): lease the next
            # batch now, while the annotator reads, rather than after their key press.
            self._lease_batch()

    def _recount(self) -> None:
        """Ask the project how many items this annotator has answers on (once a batch: it reads the whole log)."""
        labeled = int(self.project.annotation.progress(self.annotator).get("n_answered", 0))
        self._labeled_base = labeled - self._n_answered

    def _refresh_progress(self) -> None:
        slots = self._batches.get(self._last_batch, [])
        done = sum(s.status != "pending" for s in slots)
        position = self._current.position if self._current is not None else 0
        # Served items have no answer of this annotator (next_items never serves one twice to the same
        # person, an undo retracts it), so each submit adds one and each undo of one takes one away.
        labeled = self._labeled_base + self._n_answered
        if position:
            where = f"{position} / {len(slots)} in this batch"
        else:  # the queue ran dry: how the last batch ended
            where = f"{done} / {len(slots)} done in the last batch"
        parts = [where, f"{labeled:,} labeled"]
        if self._n_skipped:
            parts.append(f"{self._n_skipped:,} skipped")
        self.progress = {
            "position": position,
            "batch": len(slots),
            "batch_number": self._last_batch,
            "done": done,
            "answered": self._n_answered,
            "skipped": self._n_skipped,
            "labeled": labeled,
            "text": " \u00b7 ".join(parts),
        }

    def _lease_batch(self) -> None:
        # The item on screen is still leased to us, and next_items hands an annotator's own leases out
        # first: ask for one more, so that the batch is full once the shown item is left out.
        n = self.batch + (1 if self._current is not None else 0)
        fetched = self.project.annotation.next_items(
            self.annotator, n, strategy=self.queue, question=self.root_question
        )
        shown = self.current_example_id
        # the shown item's lease is still ours; it may not come back first (a honeypot is served anew), so
        # cut to the batch size: the extra lease comes back first in the next batch
        fetched = [a for a in fetched if a.example_id != shown][: self.batch]
        self._recount()
        if fetched:
            number = len(self._batches) + 1
            slots = [_Slot(a, number, k, self._quote_of(a)) for k, a in enumerate(fetched, start=1)]
            self._batches[number] = slots
            self._pending.extend(slots)

    def _show_question(self, answers: Mapping[str, str], message: str = "", *, hold: bool = True) -> None:
        assert self._current is not None
        name = next(n for n in self._asked_questions(answers) if n not in answers)
        q = self._question(name)
        draft = self._current.assignment.draft if name == self.root_question else None  # as served
        if hold:
            with self.hold_sync():
                self._set_question(q, answers, draft, message)
                self.revision += 1
            self._refresh_draft()
        else:
            self._set_question(q, answers, draft, message)

    def _refresh_draft(self) -> None:
        """Show the draft the project has for the shown question now (``project.annotation.draft``).

        Called once the item is on screen, so that a draft recorded since the batch was served
        (a pre-label run, a new model) shows without slowing the key press down.
        """
        if self._current is not None and self.question:
            draft = self.project.annotation.draft(self._current.example_id, self.question)
            if self.question == self.root_question:
                self._root_draft = draft
            self.draft = _draft_state(draft)

    def _set_question(self, q: Question, answers: Mapping[str, str], draft: Draft | None, message: str) -> None:
        self.question = q.name
        self.question_text = q.description or q.name
        self.choices = list(q.choices)
        self.choice_keys = list(CHOICE_KEYS[: len(q.choices)])
        self.answers = dict(answers)
        if q.name == self.root_question:
            self._root_draft = draft
        self.draft = _draft_state(draft)
        self.message = message
        self.message_kind = "info"

    def _item_state(self, assignment: Assignment) -> dict[str, Any]:
        """What the browser may see of an item: its id, text and image; never honeypot status.

        The text goes as it is stored: the front end puts it in the page as text (``textContent``),
        never as markup.
        """
        data = assignment.data
        text_col, image_col = self.project.text_column, self.project.image_column
        text = data.get(text_col) if text_col else None
        text = "" if text is None or (isinstance(text, float) and text != text) else str(text)
        image, image_note = "", ""
        if image_col and isinstance(data.get(image_col), str):
            image, image_note = self._image_url(data[image_col])
        return {"example_id": assignment.example_id, "text": text, "image": image, "image_note": image_note}

    def _image_url(self, path_text: str) -> tuple[str, str]:
        path = Path(path_text)
        candidates = [path] if path.is_absolute() else [
            *( [self.image_root / path] if self.image_root is not None else []),
            Path.cwd() / path,
            Path(self.project.path).parent / path,
        ]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            return "", f"image not found: {path_text}"
        if found.stat().st_size > MAX_IMAGE_BYTES:
            return "", f"image too large to show inline: {path_text}"
        mime = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        return f"data:{mime};base64," + base64.b64encode(found.read_bytes()).decode("ascii"), ""

    def _on_guidelines_changed(self, **_: Any) -> None:
        self.guidelines = self.project.schema.guidelines or ""

    def _look_again(self) -> bool:
        """After "All done": ask the queue again (new data, items given back, leases expired); True if an item shows."""
        if not self.finished:
            return False
        self._advance()
        return self._current is not None

    def _on_data_added(self, **_: Any) -> None:
        if self.finished:
            self._advance(message="New items arrived.")

    def _on_schema_changed(self, **_: Any) -> None:
        """Redraw the shown item under the new schema: its choices may have been renamed, added or removed."""
        self._on_guidelines_changed()
        schema = self.project.schema
        note = "The schema changed"
        if self.root_question not in schema.question_names:
            note += f" (question {self.root_question!r} is gone: starting with {schema.questions[0].name!r})"
            self.root_question = schema.questions[0].name
        if self._current is None:
            return
        self._confirmed = False
        self._show_question({}, message=f"{note}: answer {self._snippet(self._current)} again.")
