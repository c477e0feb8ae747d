"""The adjudication view: an expert works through the items whose annotators disagree, one decision per call.

The view renders project state only. Each reviewer intent is forwarded with one project call
(``project.quality.adjudicate`` to decide, ``project.retract`` to undo); the queue, the consensus, the
LF votes, the draft and every quality number come from the project. Who decides is the view's
:class:`~widgets.panel._access.Access`: in a served app the logged-in user, checked on the server before
every decision, never a name from the URL.
"""

from __future__ import annotations

import html
import logging
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd
import panel as pn

from widgets.panel._access import Access, LocalAccess
from widgets.panel._keys import KeyboardShortcuts, one_update
from workbench.auth import PermissionDeniedError
from workbench.exceptions import LabelValidationError, StaleDecisionError, WorkbenchError

if TYPE_CHECKING:
    from workbench import Project

__all__ = ["ReviewApp"]

_log = logging.getLogger(__name__)

_METHODS = ("majority", "dawid_skene")
_ANY = "(any)"
_TASK = "adjudication"
_PREVIEW_CHARS = 60
_NOTHING_TO_REVIEW = "Nothing to review: no item with disagreeing annotators is waiting for adjudication."
_NOTHING_MATCHES = "No queued item matches the search and filters; clear them to see the whole queue."
_TEXT_STYLE = "white-space: pre-wrap; word-break: break-word; font-size: 1.1em; line-height: 1.5;"


def _markdown_text(text: str) -> str:
    """Markdown that can hold no HTML: ``&`` and ``<`` are escaped, so a ``<script>`` or an
    ``<img onerror=...>`` in the guidelines is shown as text, while Markdown itself (headings,
    lists, emphasis, ``>`` quotes) still renders."""
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _esc(value: Any) -> str:
    """HTML-escape anything shown to the reviewer (texts, ids and annotator names are user data)."""
    return html.escape("" if value is None else str(value), quote=True)


def _widget_kwargs(label: str, color: str | None = None) -> dict[str, str]:
    """Panel >= 1.9 names a widget's caption ``label`` and a button's style ``color`` (``name`` and
    ``button_type`` are deprecated there); older releases only know the old names."""
    new = "label" in pn.widgets.Button.param
    out = {"label" if new else "name": label}
    if color is not None:
        out["color" if new else "button_type"] = color
    return out


def _set_color(button: pn.widgets.Button, color: str) -> None:
    setattr(button, "color" if "color" in button.param else "button_type", color)


def _fmt(value: Any, digits: int = 2) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if pd.isna(number) else f"{number:.{digits}f}"


def _as_text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)


def preview(text: str | None, limit: int = _PREVIEW_CHARS) -> str:
    """One line of at most ``limit`` characters (whitespace collapsed) to list an item by."""
    if not text:
        return "(no text)"
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


class ReviewApp:
    """A Panel view where an expert adjudicates the items whose annotators disagree.

    It shows the adjudication queue (``project.annotation.queue("adjudication")``) with text previews,
    a search box and filters (agreement, annotator, label), the current item's text, every annotator's
    answer, the consensus, the labeling functions' votes, the model's draft, the guidelines and a quality
    summary. A choice button, or a digit then Enter, records the decision with one
    ``project.quality.adjudicate`` call and moves on; ``s`` (or "Skip") moves on without writing; ``u``
    (or "Undo") withdraws this session's last decision with one ``project.retract`` call.

    Several reviewers can work at once: the item on one reviewer's screen is leased to them
    (``project.annotation.claim(..., task="adjudication")``, exclusive and expiring, kept in the project's
    store so every process sees it), so the others are served other items; an item decided in another
    session meanwhile is never written twice. The search and the filters are one
    ``project.annotation.queue("adjudication", search=..., max_agreement=..., annotator=..., label=...)`` call.

    Parameters
    ----------
    project : workbench.Project
        An open project with human annotations.
    reviewer : str, optional
        The expert's name, recorded as the annotator of each adjudication (notebook use). Give
        either this or ``access``.
    method : {"majority", "dawid_skene"}, default "majority"
        How the consensus shown next to the answers is computed.
    access : Access, optional
        Who is deciding and what they may do, checked before every decision (the served app
        passes the logged-in session). Default: ``LocalAccess(reviewer, "reviewer")``.

    Attributes
    ----------
    queue_count : pn.pane.HTML
        How many items wait for adjudication (``.wb-count``).
    progress : pn.pane.HTML
        Decided in this session, and how many items the filters show.
    queue_list : pn.widgets.Select
        The (filtered) queue in review order, one ``id · text preview`` per item; choosing one jumps to it.
    search : pn.widgets.TextInput
        Keeps items whose id or text contains the words.
    agreement_filter : pn.widgets.FloatSlider
        Keeps items whose annotator agreement is at most this.
    annotator_filter, label_filter : pn.widgets.Select
        Keep items one annotator answered / some annotator answered with one label.
    item_header, text : pn.pane.HTML
        The current item's id, position and reason; its text, HTML-escaped.
    answers : pn.pane.DataFrame
        Each annotator's answer to the current item (columns annotator, value, created_at), escaped.
    consensus, lf_votes, draft : pn.pane.HTML
        The consensus; the labeling functions that voted on the item; the model's draft.
    choice_buttons : dict of str to pn.widgets.Button
        One button per choice of the root question; a click adjudicates the current item.
    selected : pn.pane.HTML
        The choice picked with a digit key, waiting for Enter.
    keys : KeyboardShortcuts
        Digits choose, Enter confirms, ``s`` skips, ``u`` undoes.
    skip_button, undo_button : pn.widgets.Button
    note_input : pn.widgets.TextInput
        An optional note stored with the next decision.
    status : pn.pane.HTML
        What the last action did (or why it was refused).
    empty_message : pn.pane.HTML
        Shown instead of the item when nothing is (or nothing matching is) queued.
    guidelines : pn.Card
        The schema's guidelines, collapsed by default.
    quality : pn.pane.HTML
        Fleiss' kappa, Krippendorff's alpha and flagged annotators.
    current : str or None
        The id of the item on screen.
    reviewer : str
        The name decisions are recorded under.

    Examples
    --------
    >>> app = ReviewApp(project, reviewer="dr_lee")      # doctest: +SKIP
    >>> app.choice_buttons["spam"].clicks += 1           # doctest: +SKIP
    >>> app.keys.press("1"); app.keys.press("Enter")     # doctest: +SKIP
    >>> app.servable()                                   # doctest: +SKIP
    """

    def __init__(
        self,
        project: Project,
        reviewer: str | None = None,
        method: str = "majority",
        *,
        access: Access | None = None,
    ) -> None:
        if access is None:
            if not isinstance(reviewer, str) or not reviewer.strip():
                raise LabelValidationError(
                    f"The 'reviewer' parameter of ReviewApp must be a non-empty string (the expert's name). "
                    f"Got {reviewer!r} instead."
                )
            access = LocalAccess(reviewer, "reviewer")
        elif reviewer is not None and reviewer != access.username:
            raise LabelValidationError(
                f"The 'reviewer' parameter of ReviewApp must be left out when 'access' is given (decisions are "
                f"recorded under {access.username!r}). Got {reviewer!r} instead."
            )
        if method not in _METHODS:
            raise LabelValidationError(
                f"The 'method' parameter of ReviewApp must be one of {list(_METHODS)!r}. Got {method!r} instead."
            )
        access.require("view:adjudication")
        self.project = project
        self.access = access
        self.reviewer = access.username
        self.method = method
        self._question = project.schema.questions[0]
        self._choices = [str(c) for c in self._question.choices]
        self.current: str | None = None
        self.selected_choice: str | None = None
        self._order: list[str] = []
        self._visible: list[str] = []
        self._skipped: list[str] = []
        self._reasons: dict[str, str] = {}
        self._holders: dict[str, str] = {}
        self._decided: list[str] = []  # this session's decisions, newest last (the undo stack)
        self._texts: dict[str, str | None] = {}
        self._annotations = pd.DataFrame(columns=["example_id", "annotator", "value", "created_at"])
        self._consensus = pd.DataFrame()
        self._votes: pd.DataFrame | None = None
        self._votes_note = ""
        self._examples: pd.DataFrame | None = None
        self._busy = False
        self._syncing = False

        self.title = pn.pane.HTML(
            f"<h2 style='margin:0'>Adjudication</h2><div>Reviewer: <b class='wb-reviewer'>{_esc(self.reviewer)}</b>"
            f" &middot; question <b>{_esc(self._question.name)}</b></div>",
            sizing_mode="stretch_width",
        )
        self.queue_count = pn.pane.HTML("", css_classes=["wb-queue-count"])
        self.progress = pn.pane.HTML("", css_classes=["wb-progress"])
        self.search = pn.widgets.TextInput(placeholder="Search id or text", width=260)
        self.agreement_filter = pn.widgets.FloatSlider(**_widget_kwargs("Agreement at most"), start=0.0, end=1.0,
                                                       step=0.05, value=1.0, width=260)
        self.annotator_filter = pn.widgets.Select(**_widget_kwargs("Annotator"), options=[_ANY], value=_ANY,
                                                  width=260)
        self.label_filter = pn.widgets.Select(**_widget_kwargs("Answered with label"),
                                              options=[_ANY, *self._choices], value=_ANY, width=260)
        self.queue_list = pn.widgets.Select(**_widget_kwargs("Queue"), options={}, size=12, width=260)
        self.item_header = pn.pane.HTML("", css_classes=["wb-item-header"], sizing_mode="stretch_width")
        self.text = pn.pane.HTML("", css_classes=["wb-item-text"], sizing_mode="stretch_width",
                                 styles={"border": "1px solid #ddd", "padding": "8px", "border-radius": "4px"})
        digit_keys = [str(i) for i in range(1, min(len(self._choices), 9) + 1)]
        self.keys = KeyboardShortcuts(keys=[*digit_keys, "Enter", "s", "u"], on_key=self._on_key,
                                      on_early=lambda message: self._set_status(message, error=True),
                                      context_free=["u"])
        self.choice_buttons: dict[str, pn.widgets.Button] = {}
        for number, choice in enumerate(self._choices, 1):
            caption = choice
            button = pn.widgets.Button(**_widget_kwargs(caption, "primary"), width=120,
                                       description=f"key {number}" if number <= 9 else None)
            button.on_click(self.keys.guarded(choice, partial(self.decide, choice)))
            self.choice_buttons[choice] = button
        self.skip_button = pn.widgets.Button(**_widget_kwargs("Skip", "light"), width=90)
        self.skip_button.on_click(lambda _event: self.skip())
        self.undo_button = pn.widgets.Button(**_widget_kwargs("Undo", "light"), width=90, disabled=True)
        self.undo_button.on_click(lambda _event: self.undo())
        self.selected = pn.pane.HTML("", css_classes=["wb-selected"])
        hints = " &middot; ".join(f"<kbd>{k}</kbd> {_esc(c)}" for k, c in zip(digit_keys, self._choices, strict=False))
        self.key_help = pn.pane.HTML(
            f"<span style='color:#555'>Keys: {hints} &middot; <kbd>Enter</kbd> confirm &middot; <kbd>s</kbd> skip "
            f"&middot; <kbd>u</kbd> undo</span>", sizing_mode="stretch_width")
        self.note_input = pn.widgets.TextInput(placeholder="Note stored with the decision (optional)", width=400)
        self.status = pn.pane.HTML("", css_classes=["wb-status"], sizing_mode="stretch_width")
        self.empty_message = pn.pane.HTML(f"<p><b>{_esc(_NOTHING_TO_REVIEW)}</b></p>", visible=False,
                                          css_classes=["wb-empty"])
        self.answers = pn.pane.DataFrame(pd.DataFrame(), index=False, escape=True, sizing_mode="stretch_width",
                                         css_classes=["wb-answers"])
        self.consensus = pn.pane.HTML("", css_classes=["wb-consensus"], sizing_mode="stretch_width")
        self.lf_votes = pn.pane.HTML("", css_classes=["wb-lf-votes"], sizing_mode="stretch_width")
        self.draft = pn.pane.HTML("", css_classes=["wb-draft"], sizing_mode="stretch_width")
        # guidelines are user text: Markdown with raw HTML neutralised (see _markdown_text)
        self._guidelines_pane = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["wb-guidelines"])
        self.guidelines = pn.Card(self._guidelines_pane, title="Guidelines", collapsed=True,
                                  sizing_mode="stretch_width")
        self.quality = pn.pane.HTML("", css_classes=["wb-quality"], width=280)

        self.item_view = pn.Column(
            self.item_header,
            self.text,
            pn.Row(*self.choice_buttons.values(), self.skip_button, self.undo_button, self.selected),
            self.key_help,
            self.note_input,
            pn.pane.HTML("<b>Annotators' answers</b>"),
            self.answers,
            self.consensus,
            pn.Row(pn.Column(pn.pane.HTML("<b>Labeling functions</b>"), self.lf_votes, sizing_mode="stretch_width"),
                   pn.Column(pn.pane.HTML("<b>Model draft</b>"), self.draft, sizing_mode="stretch_width"),
                   sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
        self.layout = pn.Column(
            self.title,
            pn.Row(
                pn.Column(self.queue_count, self.progress, self.search, self.agreement_filter, self.annotator_filter,
                          self.label_filter, self.queue_list, pn.pane.HTML("<b>Quality</b>"), self.quality,
                          width=300),
                pn.Column(self.empty_message, self.item_view, self.status, self.guidelines,
                          sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            ),
            self.keys,
            sizing_mode="stretch_width",
        )
        self.queue_list.param.watch(self._on_select, "value")
        for widget in (self.search, self.agreement_filter, self.annotator_filter, self.label_filter):
            widget.param.watch(self._on_filter, "value")
        self._subscriptions = [
            project.on("labels_added", self._on_labels_added),
            project.on("guidelines_changed", self._on_guidelines_changed),
            project.on("data_added", self._on_data_added),
            project.on("lfs_changed", self._on_lfs_changed),
        ]
        self._render_guidelines()
        self.refresh()

    # ------------------------------------------------------------------ public API
    @property
    def pending(self) -> list[str]:
        """The ids waiting for adjudication, in this session's review order (filters ignored)."""
        return list(self._order)

    @property
    def visible(self) -> list[str]:
        """The queued ids the search and filters keep, in the order listed (items others hold last)."""
        return list(self._visible)

    @property
    def decided(self) -> list[str]:
        """The ids decided in this session and not undone, oldest first."""
        return list(self._decided)

    def refresh(self, *, advance_from: int | None = None, quality: bool = True) -> None:
        """Re-read the queue, the answers, the consensus, the LF votes and the quality summary from the project.

        ``advance_from`` is the position (among the listed items) of an item that just left the
        queue: the item now at that position (the next one) becomes current. ``quality=False``
        keeps the quality summary (an adjudication changes no human answer).
        """
        question = self._question.name
        queue = self.project.annotation.queue("adjudication", n=None, question=question)
        ids = [str(i) for i in queue["example_id"]]
        self._reasons = {str(i): str(r) for i, r in zip(queue["example_id"], queue["reason"], strict=True)}
        self._skipped = [i for i in self._skipped if i in self._reasons]
        self._order = [i for i in ids if i not in self._skipped] + self._skipped
        self._annotations = self.project.annotation.answers(question)
        self._consensus = self.project.quality.consensus(self.method, question)
        self._load_texts(ids)
        self._load_votes()
        self._update_annotator_options()
        if quality:
            self._render_quality()
        self._place(advance_from=advance_from)

    def decide(self, value: str) -> None:
        """Adjudicate the current item as ``value`` (one ``project.quality.adjudicate`` call), then show the next.

        The reviewer's permission and session are checked first; nothing is written when refused,
        when another reviewer holds the item, or when another session adjudicated it meanwhile.
        """
        try:
            who = self.access.require("adjudicate")
        except PermissionDeniedError as exc:
            self._set_status(f"Not recorded: {exc}", error=True)
            return
        if self.current is None:
            self._set_status(_NOTHING_TO_REVIEW)
            return
        if value not in self._choices:
            self._set_status(f"Not recorded: {value!r} is not a choice of {self._question.name!r} "
                             f"({self._choices!r}).", error=True)
            return
        eid = self.current
        position = self._visible.index(eid) if eid in self._visible else 0
        holder = self._claim(eid, who)
        if holder != who:
            self._set_status(f"Not recorded: {holder!r} has {eid!r} on screen right now; pick another item.",
                             error=True)
            return
        note = (self.note_input.value or "").strip() or None
        answer: Any = value if self.project.schema.is_single else {self._question.name: value}
        shown = self._annotations[self._annotations["example_id"].astype(str) == eid]
        seen = dict(zip(shown["annotator"], shown["value"], strict=True))
        self._busy = True
        try:
            self.project.quality.adjudicate(eid, answer, annotator=who, note=note, seen=seen)
        except StaleDecisionError as exc:  # another session answered or decided it meanwhile
            self._busy = False
            self._release(eid)
            self.refresh(advance_from=position)
            self._set_status(f"Not recorded: {exc}", error=True)
            return
        except WorkbenchError as exc:
            self._set_status(f"Not recorded: {exc}", error=True)
            return
        finally:
            self._busy = False
        self._decided.append(eid)
        self._release(eid)
        self.note_input.value = ""
        self.selected_choice = None
        self.refresh(advance_from=position, quality=False)
        self._set_status(f"Recorded {value!r} for {eid!r}.")

    def select_choice(self, value: str) -> None:
        """Pick ``value`` for the current item (a digit key); :meth:`confirm` (Enter) records it."""
        if value not in self._choices:
            raise LabelValidationError(f"{value!r} is not a choice of {self._question.name!r}: {self._choices!r}.")
        if self.current is None:
            self._set_status(_NOTHING_TO_REVIEW)
            return
        self.selected_choice = value
        self._render_selected()
        self._set_status(f"{value!r} chosen for {self.current!r}: press Enter to record it.")

    def confirm(self) -> None:
        """Record the choice picked with a digit (the Enter key)."""
        if self.selected_choice is None:
            digits = ", ".join(f"{i} {c}" for i, c in enumerate(self._choices[:9], 1))
            self._set_status(f"Choose first: press a digit ({digits}), then Enter.", error=True)
            return
        self.decide(self.selected_choice)

    def skip(self) -> None:
        """Move to the next item without writing; the skipped item goes to the end of the queue."""
        if self.current is None:
            self._set_status(_NOTHING_TO_REVIEW)
            return
        eid = self.current
        position = self._visible.index(eid) if eid in self._visible else 0
        self._release(eid)
        self._skipped = [i for i in self._skipped if i != eid] + [eid]
        self._order = [i for i in self._order if i != eid] + [eid]
        self.selected_choice = None
        self._place(advance_from=position, avoid=eid)
        only = len(self._visible) <= 1
        self._set_status(f"Skipped {eid!r}; it is the only item left." if only
                         else f"Skipped {eid!r}; it is now last in the queue.")

    def undo(self) -> None:
        """Withdraw this session's last decision (one ``project.retract`` call); the item is queued again."""
        try:
            who = self.access.require("adjudicate")
        except PermissionDeniedError as exc:
            self._set_status(f"Nothing undone: {exc}", error=True)
            return
        if not self._decided:
            self._set_status("Nothing to undo: no decision was made in this session.")
            return
        eid = self._decided[-1]
        self._busy = True
        try:
            self.project.retract(eid, self._question.name, annotator=who, source="adjudication", note="undo")
        except WorkbenchError as exc:
            self._decided.pop()
            self._set_status(f"Nothing undone: {exc}", error=True)
            self._render_buttons()
            return
        finally:
            self._busy = False
        self._decided.pop()
        self._skipped = [i for i in self._skipped if i != eid]
        self.selected_choice = None
        self.current = eid
        self.refresh(quality=False)
        self._set_status(f"Undid the decision on {eid!r}; it is back in the queue.")

    def show(self, example_id: str) -> None:
        """Put one queued item on screen."""
        if example_id not in self._reasons:
            raise LabelValidationError(
                f"The item {example_id!r} is not in the adjudication queue. Queued: {self._order[:10]!r}"
                f"{' ...' if len(self._order) > 10 else ''}."
            )
        if self.current is not None and self.current != example_id:
            self._release(self.current)
        self.current = example_id
        self.selected_choice = None
        self._claim(example_id, self.reviewer)
        self._render()

    def panel(self) -> pn.Column:
        """The view's layout (a ``pn.Column``)."""
        return self.layout

    def servable(self, title: str | None = None) -> pn.Column:
        """Mark the layout servable for ``panel serve`` and return it."""
        return self.layout.servable(title=title or f"Adjudication - {self.reviewer}")

    def __panel__(self) -> pn.Column:
        return self.layout

    def close(self) -> None:
        """Disconnect from the project's events and give back this reviewer's leases."""
        for sub in self._subscriptions:
            sub.disconnect()
        self._subscriptions = []
        if self.current is not None:
            self._release(self.current)

    def __repr__(self) -> str:
        return (f"ReviewApp(reviewer={self.reviewer!r}, method={self.method!r}, pending={len(self._order)}, "
                f"current={self.current!r})")

    # ------------------------------------------------------------------ events
    def _on_key(self, key: str) -> None:
        if key.isdigit():
            index = int(key) - 1
            if 0 <= index < len(self._choices):
                self.select_choice(self._choices[index])
        elif key == "Enter":
            self.confirm()
        elif key == "s":
            self.skip()
        elif key == "u":
            self.undo()

    def _on_labels_added(self, **_payload: Any) -> None:
        if not self._busy:  # our own decisions refresh once, in decide()
            self.refresh()

    def _on_data_added(self, **_payload: Any) -> None:
        self._examples = None
        self._texts = {}
        self.refresh()

    def _on_lfs_changed(self, **_payload: Any) -> None:
        self._load_votes()
        self._render()

    def _on_guidelines_changed(self, **_payload: Any) -> None:
        self._render_guidelines()

    def _on_select(self, event: Any) -> None:
        if self._syncing or event.new is None or event.new == self.current:
            return
        self.show(str(event.new))

    def _on_filter(self, _event: Any) -> None:
        self._place()

    # ------------------------------------------------------------------ leases
    def _claim(self, eid: str, who: str) -> str:
        holder = self.project.annotation.claim(eid, who, task=_TASK)
        if holder != who:
            self._holders[eid] = holder
        return holder

    def _release(self, eid: str) -> None:
        self.project.annotation.release(eid, self.reviewer, task=_TASK)

    # ------------------------------------------------------------------ data
    def _load_texts(self, ids: list[str]) -> None:
        missing = [i for i in ids if i not in self._texts]
        if not missing:
            return
        if self._examples is None:
            self._examples = self.project.examples()
        column = self.project.text_column
        known = self._examples.index.intersection(missing)
        if column is not None and column in self._examples.columns:
            for eid, value in self._examples.loc[known, column].items():
                self._texts[str(eid)] = _as_text(value)
        else:
            for eid, row in self._examples.loc[known].iterrows():
                self._texts[str(eid)] = "; ".join(f"{k}: {v}" for k, v in row.items() if k != "data_version")

    def _load_votes(self) -> None:
        lfs = self.project.lfs
        if not len(lfs):
            self._votes = None
            self._votes_note = "No labeling function is registered in this session."
            return
        try:
            result = lfs.apply(progress=False)
            matrix, names = result.for_question(lfs.question_key(self._question.name))
        except WorkbenchError as exc:
            self._votes = None
            self._votes_note = f"The labeling functions could not be applied: {exc}"
            return
        if not names:
            self._votes = None
            self._votes_note = f"No labeling function votes on {self._question.name!r}."
            return
        self._votes = pd.DataFrame(matrix, index=[str(i) for i in result.row_ids], columns=names)
        self._votes_note = ""

    def _update_annotator_options(self) -> None:
        names = sorted({str(a) for a in self._annotations["annotator"]})
        options = [_ANY, *names]
        if list(self.annotator_filter.options) != options:
            self._syncing = True
            try:
                value = self.annotator_filter.value if self.annotator_filter.value in options else _ANY
                self.annotator_filter.options = options
                self.annotator_filter.value = value
            finally:
                self._syncing = False

    def _filters(self) -> dict[str, Any]:
        """The search box and the filter widgets as ``queue`` arguments (a widget at "any" passes None)."""
        agreement = self.agreement_filter.value
        return {
            "search": (self.search.value or "").strip() or None,
            "max_agreement": None if agreement is None or float(agreement) >= 1.0 else float(agreement),
            "annotator": None if self.annotator_filter.value == _ANY else self.annotator_filter.value,
            "label": None if self.label_filter.value == _ANY else self.label_filter.value,
        }

    def _matches(self) -> list[str]:
        """The queued ids the search and filters keep (one project call), in this session's order."""
        filters = {k: v for k, v in self._filters().items() if v is not None}
        if not filters:
            return list(self._order)
        try:
            kept = self.project.annotation.queue("adjudication", n=None, question=self._question.name, **filters)
        except WorkbenchError as exc:
            self._set_status(f"The filters could not be applied: {exc}", error=True)
            return []
        keep = set(kept["example_id"].astype(str))
        return [eid for eid in self._order if eid in keep]

    def _place(self, *, advance_from: int | None = None, avoid: str | None = None) -> None:
        """Apply the filters, order the list (items other reviewers hold last) and choose the current item."""
        matching = self._matches()
        self._holders = {e: u for e, u in self.project.annotation.holders(_TASK, matching).items()
                         if u != self.reviewer}
        free = [e for e in matching if e not in self._holders]
        self._visible = free + [e for e in matching if e in self._holders]
        previous = self.current
        if previous is not None and previous in free and previous != avoid and advance_from is None:
            chosen: str | None = previous
        elif not free:
            chosen = None
        else:
            start = min(advance_from, len(free) - 1) if advance_from is not None else 0
            candidates = free[start:] + free[:start]
            chosen = next((e for e in candidates if e != avoid), candidates[0])
        # claim it; if another reviewer took it a moment ago, take the next free one
        while chosen is not None and self._claim(chosen, self.reviewer) != self.reviewer:
            free.remove(chosen)
            self._visible = free + [e for e in matching if e not in free]
            chosen = free[0] if free else None
        if previous is not None and previous != chosen:
            self._release(previous)
            self.selected_choice = None
        self.current = chosen
        self._render()

    # ------------------------------------------------------------------ rendering
    def _set_status(self, message: str, *, error: bool = False) -> None:
        color = "#b00020" if error else "#2e7d32"
        self.status.object = f"<span style='color:{color}'>{_esc(message)}</span>"

    def _render_guidelines(self) -> None:
        text = self.project.schema.guidelines
        self._guidelines_pane.object = _markdown_text(text) if text else "*This schema has no guidelines.*"

    def _render_quality(self) -> None:
        lines = []
        try:
            report = self.project.quality.agreement(self._question.name)
            lines.append(f"Fleiss' kappa: <b>{_fmt(report.fleiss_kappa)}</b>")
            lines.append(f"Krippendorff's alpha: <b>{_fmt(report.krippendorff_alpha)}</b>")
        except WorkbenchError as exc:
            lines.append(_esc(str(exc)))
        try:
            annotators = self.project.quality.annotator_report(window="7D", question=self._question.name)
        except WorkbenchError:
            annotators = None
        if annotators is not None and "flagged" in annotators.columns:
            flagged = annotators[annotators["flagged"].astype(bool)]
            if len(flagged):
                names = [f"{_esc(name)} ({_esc(reason)})" if str(reason) else _esc(name)
                         for name, reason in zip(flagged.index, flagged.get("reasons", [""] * len(flagged)),
                                                 strict=True)]
                lines.append("Flagged annotators: " + ", ".join(names))
            else:
                lines.append("Flagged annotators: none")
        self.quality.object = "<br>".join(lines)

    def _item_text(self, eid: str) -> str:
        if self._examples is None:
            self._examples = self.project.examples()
        row = self._examples.loc[eid]
        column = self.project.text_column
        if column is not None and column in row.index:
            value = _as_text(row[column])
            if value is None:
                return "<i>(no text)</i>"
            return f"<div style='{_TEXT_STYLE}'>{_esc(value)}</div>"
        fields = [f"<b>{_esc(k)}</b>: {_esc(v)}" for k, v in row.items() if k != "data_version"]
        return f"<div style='{_TEXT_STYLE}'>{'<br>'.join(fields)}</div>"

    def _render_counts(self) -> None:
        n = len(self._order)
        self.queue_count.object = f"<b class='wb-count'>{n}</b> item{'s' if n != 1 else ''} to review"
        shown = len(self._visible)
        filtered = f" &middot; <span class='wb-shown'>{shown}</span> shown" if shown != n else ""
        self.progress.object = (f"<span class='wb-decided'>{len(self._decided)}</span> decided in this session"
                                f"{filtered}")

    def _render_list(self) -> None:
        options: dict[str, str] = {}
        for eid in self._visible:
            label = f"{eid} \u00b7 {preview(self._texts.get(eid))}"
            if eid in self._holders:
                label += f" (with {self._holders[eid]})"
            options[label] = eid
        self._syncing = True
        try:
            self.queue_list.options = options
            self.queue_list.value = self.current if self.current in self._visible else None
        finally:
            self._syncing = False

    def _render_buttons(self) -> None:
        empty = self.current is None
        held = self.current in self._holders
        for button in self.choice_buttons.values():
            button.disabled = empty or held
        self.skip_button.disabled = empty
        self.undo_button.disabled = not self._decided
        self._render_selected()

    def _render_selected(self) -> None:
        for choice, button in self.choice_buttons.items():
            _set_color(button, "success" if choice == self.selected_choice else "primary")
        self.selected.object = (f"chosen: <b class='wb-chosen'>{_esc(self.selected_choice)}</b> (Enter records it)"
                                if self.selected_choice else "")

    def _render(self) -> None:
        with one_update(getattr(self, "layout", None)):  # the item and its key context reach the page together
            self._render_item()

    def _render_item(self) -> None:
        self._render_counts()
        self._render_list()
        empty = self.current is None
        self.empty_message.object = f"<p><b>{_esc(_NOTHING_TO_REVIEW if not self._order else _NOTHING_MATCHES)}</b></p>"
        self.empty_message.visible = empty
        self.item_view.visible = not empty
        self._render_buttons()
        if empty:
            for pane in (self.item_header, self.text, self.consensus, self.lf_votes, self.draft):
                pane.object = ""
            self.answers.object = pd.DataFrame()
            self.keys.context = ""
            return
        eid = str(self.current)
        position = self._visible.index(eid) + 1 if eid in self._visible else 0
        held = (f"<div class='wb-held' style='color:#b00020'>{_esc(self._holders[eid])} has this item on screen; "
                f"it cannot be decided here now.</div>" if eid in self._holders else "")
        self.item_header.object = (
            f"<h3 style='margin:0'>Item <code class='wb-item-id'>{_esc(eid)}</code> ({position} of "
            f"{len(self._visible)})</h3><div style='color:#666'>{_esc(self._reasons.get(eid, ''))}</div>{held}"
        )
        self.text.object = self._item_text(eid)
        ann = self._annotations
        mine = ann[ann["example_id"] == eid]
        table = mine[["annotator", "value", "created_at"]].sort_values("annotator").reset_index(drop=True)
        table["created_at"] = pd.to_datetime(table["created_at"], utc=True).dt.strftime("%Y-%m-%d %H:%M UTC")
        self.answers.object = table
        if eid in self._consensus.index:
            row = self._consensus.loc[eid]
            tie = " (tie)" if bool(row.get("tie", False)) else ""
            self.consensus.object = (
                f"Consensus ({_esc(self.method)}): <b>{_esc(row['label'])}</b>{tie} &middot; confidence "
                f"{_fmt(row['confidence'])} &middot; agreement {_fmt(row['agreement'])} &middot; "
                f"{_esc(row['n_annotators'])} annotators"
            )
        else:
            self.consensus.object = "Consensus: none"
        self.lf_votes.object = self._votes_html(eid)
        self.draft.object = self._draft_html(eid)
        # last: the browser must never hold the new item's context while it still shows the old item
        self.keys.context = eid

    def _votes_html(self, eid: str) -> str:
        if self._votes is None:
            return f"<i>{_esc(self._votes_note)}</i>"
        if eid not in self._votes.index:
            return "<i>No votes for this item yet.</i>"
        row = self._votes.loc[eid]
        voted = [(str(name), int(v)) for name, v in zip(row.index, row.to_numpy(), strict=True) if int(v) >= 0]
        abstained = len(row) - len(voted)
        if not voted:
            return f"<i>All {len(row)} labeling function(s) abstain.</i>"
        rows = "".join(
            f"<tr><td class='wb-lf-name'>{_esc(name)}</td>"
            f"<td><b>{_esc(self._choices[v] if v < len(self._choices) else v)}</b></td></tr>" for name, v in voted)
        return (f"<table class='wb-lf-table'>{rows}</table>"
                f"<div style='color:#666'>{abstained} abstain</div>")

    def _draft_html(self, eid: str) -> str:
        try:
            draft = self.project.annotation.draft(eid, self._question.name)
        except WorkbenchError as exc:
            return f"<i>No draft: {_esc(exc)}</i>"
        if draft is None:
            return "<i>No model draft for this item.</i>"
        confidence = f" ({_fmt(draft.confidence)})" if draft.confidence is not None else ""
        source = "label model" if draft.source == "label_model" else f"model {draft.model_version or ''}".strip()
        return f"<b class='wb-draft-value'>{_esc(draft.value)}</b>{confidence} &middot; {_esc(source)}"
