"""A keyboard-first annotation widget for JupyterLab (anywidget).

The widget renders one served item at a time and forwards each intent to the project in
one call: a digit picks a choice (``project.annotation.submit`` once every asked question is
answered), Enter confirms the draft, ``s`` skips (``project.annotation.skip``) and ``u`` / Backspace
undoes (``project.annotation.undo``). The queue itself (leases, overlap, honeypots, drafts) lives in
the workbench; the widget only keeps the batch that :meth:`workbench.annotation.ProjectAnnotation.next_items`
served it.
"""

from __future__ import annotations

import base64
import html
import logging
import mimetypes
import os
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from workbench import QUEUE_STRATEGIES
from workbench.exceptions import LabelValidationError, WorkbenchError

if TYPE_CHECKING:
    from workbench import Assignment, Project, Subscription
    from workbench.schema import Question

__all__ = ["Annotator"]

_log = logging.getLogger(__name__)
_HERE = Path(__file__).resolve().parent
#: Images larger than this are not inlined (the widget says so instead).
MAX_IMAGE_BYTES = 8 * 1024 * 1024


class Annotator(anywidget.AnyWidget):
    """Label a project's items one by one, by keyboard, inside a notebook.

    Parameters
    ----------
    project : workbench.Project
        The project to label.
    annotator : str
        Who is labeling (recorded on every event).
    queue : {"random", "stratified", "disagreement", "uncertain", "adjudication"}, default "random"
        The strategy :meth:`~workbench.annotation.ProjectAnnotation.next_items` serves items by.
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
    Keyboard (when the widget has focus; it takes focus when shown): digits ``1``..``k``
    pick a choice, Enter confirms the draft, ``s`` skips, ``u`` or Backspace undoes. Key
    events stop at the widget, so JupyterLab's command-mode shortcuts do not fire.
    Honeypot status is never sent to the browser.

    Examples
    --------
    >>> annotator = Annotator(project, "alice", batch=20)  # doctest: +SKIP
    >>> annotator  # doctest: +SKIP
    >>> annotator.choose(2)  # the same as pressing "2"  # doctest: +SKIP
    """

    _esm = _HERE / "_annotator.js"
    _css = _HERE / "_annotator.css"

    #: The item shown: ``{"example_id", "html" (escaped text), "image" (data: URL or "")}``; ``{}`` when none.
    item = traitlets.Dict().tag(sync=True)
    #: Name and wording of the question being asked.
    question = traitlets.Unicode("").tag(sync=True)
    question_text = traitlets.Unicode("").tag(sync=True)
    #: The choices of the current question, in key order (key ``1`` is the first).
    choices = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: Answers already given to earlier questions of the current item (multi-question schemas).
    answers = traitlets.Dict().tag(sync=True)
    #: ``{"value", "confidence", "source"}`` of the suggested answer, ``{}`` when none.
    draft = traitlets.Dict().tag(sync=True)
    guidelines = traitlets.Unicode("").tag(sync=True)
    #: ``{"done", "batch", "answered", "skipped"}``: this batch's progress and the session's totals.
    progress = traitlets.Dict().tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
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
        super().__init__(**kwargs)
        self.project = project
        self.annotator = annotator
        self.queue = queue
        self.batch = batch
        self.root_question = root.name
        self.image_root = Path(image_root) if image_root is not None else None
        self._pending: deque[tuple[int, Assignment]] = deque()  # (batch number, item)
        self._batch_no = 0
        self._n_batches = 0
        self._batch_sizes: dict[int, int] = {}
        self._current: Assignment | None = None
        self._answered: list[Assignment] = []  # the session's submitted items, for undo
        self._shown_at = time.monotonic()
        self._batch_size = 0
        self._done = 0
        self._n_answered = 0
        self._n_skipped = 0
        self._confirmed = False  # the current item's earlier answer was a confirmed draft
        self._subscriptions: list[Subscription] = [
            project.on("guidelines_changed", self._on_guidelines_changed),
            project.on("schema_changed", self._on_guidelines_changed),
        ]
        self.guidelines = schema.guidelines or ""
        self.on_msg(self._handle_message)
        self._advance()

    # ------------------------------------------------------------------ intents (keyboard and Python)
    def choose(self, choice: int | str, *, time_spent: float | None = None) -> None:
        """Answer the current question: ``choice`` is a 1-based key (as typed) or the choice itself.

        When every question asked for the item is answered, the answers are submitted with
        one :meth:`~workbench.annotation.ProjectAnnotation.submit` call and the next item is shown.
        """
        if self._current is None:
            self.message = "Nothing to label: the queue is empty."
            return
        options = list(self.choices)
        if isinstance(choice, str):
            if choice not in options:
                self.message = f"{choice!r} is not a choice of {self.question!r}: pick one of {options}."
                return
            value = choice
        elif isinstance(choice, int) and not isinstance(choice, bool) and 1 <= choice <= len(options):
            value = options[choice - 1]
        else:
            self.message = f"Key {choice!r} picks nothing: use 1..{len(options)}."
            return
        self._answer(value, confirmed=False, time_spent=time_spent)

    def confirm_draft(self, *, time_spent: float | None = None) -> None:
        """Accept the draft (the model's suggestion) for the current question (the Enter key)."""
        if self._current is None:
            self.message = "Nothing to label: the queue is empty."
            return
        if not self.draft:
            self.message = "This item has no draft to confirm: pick a choice with its number key."
            return
        self._answer(str(self.draft["value"]), confirmed=True, time_spent=time_spent)

    def skip(self) -> None:
        """Give the current item back unanswered (``project.annotation.skip``) and show the next one."""
        if self._current is None:
            self.message = "Nothing to skip: the queue is empty."
            return
        eid = self._current.example_id
        self.project.annotation.skip(eid, annotator=self.annotator)
        self._n_skipped += 1
        self._done += 1
        self._current = None
        self._advance(message=f"Skipped {eid}.")

    def undo(self) -> str | None:
        """Step back: within an item, drop the last answer; otherwise undo the last submitted item.

        Undoing a submitted item calls :meth:`~workbench.annotation.ProjectAnnotation.undo` (which appends a
        superseding event; nothing is deleted) and shows that item again. Returns the
        example id undone in the project, or None.
        """
        if self.answers:  # a multi-question item in progress: nothing is stored yet
            answers = dict(self.answers)
            answers.popitem()
            self._show_question(answers, message="Went back one question.")
            return None
        eid = self.project.annotation.undo(annotator=self.annotator)
        if eid is None:
            self.message = "Nothing to undo."
            return None
        again = next((a for a in reversed(self._answered) if a.example_id == eid), None)
        if again is not None:
            self._answered.remove(again)
            self._n_answered -= 1
            self._done = max(self._done - 1, 0)
            if self._current is not None:
                self._pending.appendleft((self._batch_no, self._current))
            self._current = None
            self._pending.appendleft((self._batch_no, again))
            self._advance(message=f"Undid your answer to {eid}; label it again.")
        else:
            self.message = f"Undid your last answer (to {eid})."
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
            self.message = str(exc)

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
        current = self._current
        label: Any = value if self.project.schema.is_single else answers
        self.project.annotation.submit(
            current.example_id, label, annotator=self.annotator, time_spent=round(float(spent), 3),
            confirmed_draft=confirmed,
        )
        self._answered.append(current)
        self._n_answered += 1
        self._done += 1
        self._current = None
        self._advance(message=f"Saved {current.example_id}: " + ", ".join(f"{k}={v}" for k, v in answers.items()))

    def _advance(self, message: str = "") -> None:
        """Show the next item; lease a new batch when the current one is used up."""
        if not self._pending:
            self._lease_batch()
        if self._pending:
            batch_no, self._current = self._pending.popleft()
            if batch_no != self._batch_no:  # the first item of a new batch
                self._batch_no, self._batch_size, self._done = batch_no, self._batch_sizes.pop(batch_no), 0
        else:
            self._current = None
        self._confirmed = False
        self._shown_at = time.monotonic()
        with self.hold_sync():
            if self._current is None:
                self.item = {}
                self.question = ""
                self.question_text = ""
                self.choices = []
                self.answers = {}
                self.draft = {}
                self.finished = True
                self.message = (message + " " if message else "") + "All done: nothing left to label for you."
            else:
                self.finished = False
                self.item = self._item_state(self._current)
                self._show_question({}, message=message, hold=False)
            self.progress = {
                "done": self._done,
                "batch": self._batch_size,
                "answered": self._n_answered,
                "skipped": self._n_skipped,
            }
            self.revision += 1
        if self._current is not None and not self._pending:
            # The last item of the batch is on screen (already sent to the browser): lease the next
            # batch now, while the annotator reads, rather than after their key press.
            self._lease_batch()

    def _lease_batch(self) -> None:
        fetched = self.project.annotation.next_items(
            self.annotator, self.batch, strategy=self.queue, question=self.root_question
        )
        shown = self.current_example_id
        fetched = [a for a in fetched if a.example_id != shown]  # the shown item's lease is still ours
        if fetched:
            self._n_batches += 1
            self._batch_sizes[self._n_batches] = len(fetched)
            self._pending.extend((self._n_batches, a) for a in fetched)

    def _show_question(self, answers: Mapping[str, str], message: str = "", *, hold: bool = True) -> None:
        assert self._current is not None
        name = next(n for n in self._asked_questions(answers) if n not in answers)
        q = self._question(name)
        draft = self._current.draft if name == self.root_question else None
        if hold:
            with self.hold_sync():
                self._set_question(q, answers, draft, message)
                self.revision += 1
        else:
            self._set_question(q, answers, draft, message)

    def _set_question(self, q: Question, answers: Mapping[str, str], draft: Any, message: str) -> None:
        self.question = q.name
        self.question_text = q.description or q.name
        self.choices = list(q.choices)
        self.answers = dict(answers)
        self.draft = (
            {"value": draft.value, "confidence": draft.confidence, "source": draft.source} if draft is not None else {}
        )
        self.message = message

    def _item_state(self, assignment: Assignment) -> dict[str, Any]:
        """What the browser may see of an item: its id, escaped text and image; never honeypot status."""
        data = assignment.data
        text_col, image_col = self.project.text_column, self.project.image_column
        text = data.get(text_col) if text_col else None
        text = "" if text is None or (isinstance(text, float) and text != text) else str(text)
        image, image_note = "", ""
        if image_col and isinstance(data.get(image_col), str):
            image, image_note = self._image_url(data[image_col])
        return {
            "example_id": assignment.example_id,
            "html": html.escape(text),
            "image": image,
            "image_note": html.escape(image_note),
        }

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
