"""The expert reviewer app: work through the adjudication queue of a project, one decision per click.

The app renders project state only. Each reviewer intent is forwarded with one project call
(``project.quality.adjudicate``); the queue, the consensus and every quality number come from the project.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
import panel as pn

from workbench.exceptions import LabelValidationError, WorkbenchError

if TYPE_CHECKING:
    from workbench import Project

__all__ = ["ReviewApp"]

_log = logging.getLogger(__name__)

_METHODS = ("majority", "dawid_skene")
_NOTHING_TO_REVIEW = "Nothing to review: no item with disagreeing annotators is waiting for adjudication."
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


def _fmt(value: Any, digits: int = 2) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if pd.isna(number) else f"{number:.{digits}f}"


class ReviewApp:
    """A Panel app where an expert adjudicates the items whose annotators disagree.

    It shows the adjudication queue (``project.annotation.queue("adjudication")``), the current item's text,
    every annotator's answer and the consensus, the guidelines, and a small quality summary
    (Fleiss' kappa, Krippendorff's alpha, flagged annotators). One button per choice records the
    reviewer's decision with ``project.quality.adjudicate`` and moves on to the next item; "Skip" moves on
    without writing anything (a skipped item goes to the end of this session's queue).

    Parameters
    ----------
    project : workbench.Project
        An open project with human annotations.
    reviewer : str
        The expert's name, recorded as the annotator of each adjudication event.
    method : {"majority", "dawid_skene"}, default "majority"
        How the consensus shown next to the answers is computed.

    Attributes
    ----------
    queue_count : pn.pane.HTML
        How many items wait for adjudication.
    queue_list : pn.widgets.Select
        The queue in review order; choosing an item jumps to it.
    item_header : pn.pane.HTML
        The current item's id, position and why it was routed here.
    text : pn.pane.HTML
        The current item's text, HTML-escaped.
    answers : pn.pane.DataFrame
        Each annotator's answer to the current item (columns annotator, value, created_at).
    consensus : pn.pane.HTML
        The consensus for the current item.
    choice_buttons : dict of str to pn.widgets.Button
        One button per choice of the root question; a click adjudicates the current item.
    skip_button : pn.widgets.Button
        Moves to the next item without writing.
    note_input : pn.widgets.TextInput
        An optional note stored with the next decision.
    status : pn.pane.HTML
        What the last action did (or why it failed).
    empty_message : pn.pane.HTML
        Shown instead of the item when the queue is empty.
    guidelines : pn.Card
        The schema's guidelines, collapsed by default.
    quality : pn.pane.HTML
        Fleiss' kappa, Krippendorff's alpha and flagged annotators.
    current : str or None
        The id of the item on screen.

    Examples
    --------
    >>> app = ReviewApp(project, reviewer="dr_lee")      # doctest: +SKIP
    >>> app.choice_buttons["spam"].clicks += 1           # doctest: +SKIP
    >>> app.servable()                                   # doctest: +SKIP
    """

    def __init__(self, project: Project, reviewer: str, method: str = "majority") -> None:
        if not isinstance(reviewer, str) or not reviewer.strip():
            raise LabelValidationError(
                f"The 'reviewer' parameter of ReviewApp must be a non-empty string (the expert's name). "
                f"Got {reviewer!r} instead."
            )
        if method not in _METHODS:
            raise LabelValidationError(
                f"The 'method' parameter of ReviewApp must be one of {list(_METHODS)!r}. Got {method!r} instead."
            )
        self.project = project
        self.reviewer = reviewer
        self.method = method
        self._question = project.schema.questions[0]
        self.current: str | None = None
        self._order: list[str] = []
        self._skipped: list[str] = []
        self._reasons: dict[str, str] = {}
        self._annotations = pd.DataFrame(columns=["example_id", "annotator", "value", "created_at"])
        self._consensus = pd.DataFrame()
        self._examples: pd.DataFrame | None = None
        self._busy = False
        self._syncing_list = False

        self.title = pn.pane.HTML(
            f"<h2 style='margin:0'>Adjudication</h2><div>Reviewer: <b>{_esc(reviewer)}</b> &middot; "
            f"question <b>{_esc(self._question.name)}</b></div>",
            sizing_mode="stretch_width",
        )
        self.queue_count = pn.pane.HTML("", css_classes=["wb-queue-count"])
        self.queue_list = pn.widgets.Select(**_widget_kwargs("Queue"), options=[], size=12, width=260)
        self.item_header = pn.pane.HTML("", css_classes=["wb-item-header"], sizing_mode="stretch_width")
        self.text = pn.pane.HTML("", css_classes=["wb-item-text"], sizing_mode="stretch_width",
                                 styles={"border": "1px solid #ddd", "padding": "8px", "border-radius": "4px"})
        self.choice_buttons: dict[str, pn.widgets.Button] = {}
        for choice in self._question.choices:
            button = pn.widgets.Button(**_widget_kwargs(str(choice), "primary"), width=120)
            button.on_click(self._decide_handler(str(choice)))
            self.choice_buttons[str(choice)] = button
        self.skip_button = pn.widgets.Button(**_widget_kwargs("Skip", "light"), width=90)
        self.skip_button.on_click(lambda _event: self.skip())
        self.note_input = pn.widgets.TextInput(placeholder="Note stored with the decision (optional)", width=400)
        self.status = pn.pane.HTML("", css_classes=["wb-status"], sizing_mode="stretch_width")
        self.empty_message = pn.pane.HTML(f"<p><b>{_esc(_NOTHING_TO_REVIEW)}</b></p>", visible=False,
                                          css_classes=["wb-empty"])
        self.answers = pn.pane.DataFrame(pd.DataFrame(), index=False, escape=True, sizing_mode="stretch_width")
        self.consensus = pn.pane.HTML("", css_classes=["wb-consensus"], sizing_mode="stretch_width")
        # guidelines are user text: Markdown with raw HTML neutralised (see _markdown_text)
        self._guidelines_pane = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.guidelines = pn.Card(self._guidelines_pane, title="Guidelines", collapsed=True,
                                  sizing_mode="stretch_width")
        self.quality = pn.pane.HTML("", css_classes=["wb-quality"], width=280)

        self.item_view = pn.Column(
            self.item_header,
            self.text,
            pn.Row(*self.choice_buttons.values(), self.skip_button),
            self.note_input,
            pn.pane.HTML("<b>Annotators' answers</b>"),
            self.answers,
            self.consensus,
            sizing_mode="stretch_width",
        )
        self.layout = pn.Column(
            self.title,
            pn.Row(
                pn.Column(self.queue_count, self.queue_list, pn.pane.HTML("<b>Quality</b>"), self.quality, width=300),
                pn.Column(self.empty_message, self.item_view, self.status, self.guidelines,
                          sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            ),
            sizing_mode="stretch_width",
        )
        self.queue_list.param.watch(self._on_select, "value")
        self._subscriptions = [
            project.on("labels_added", self._on_labels_added),
            project.on("guidelines_changed", self._on_guidelines_changed),
            project.on("data_added", self._on_data_added),
        ]
        self._render_guidelines()
        self.refresh()

    # ------------------------------------------------------------------ public API
    @property
    def pending(self) -> list[str]:
        """The ids waiting for adjudication, in this session's review order."""
        return list(self._order)

    def refresh(self, *, advance_from: int | None = None, quality: bool = True) -> None:
        """Re-read the queue, the answers, the consensus and the quality summary from the project.

        ``advance_from`` is the position of an item that just left the queue: the item now at
        that position (the next one) becomes current. ``quality=False`` keeps the quality summary
        (an adjudication changes no human answer, so the agreement numbers stay the same).
        """
        question = self._question.name
        queue = self.project.annotation.queue("adjudication", n=None, question=question)
        ids = [str(i) for i in queue["example_id"]]
        self._reasons = {str(i): str(r) for i, r in zip(queue["example_id"], queue["reason"], strict=True)}
        skipped = [i for i in self._skipped if i in self._reasons]
        self._skipped = skipped
        self._order = [i for i in ids if i not in skipped] + skipped
        self._annotations = self.project.annotation.answers(question)
        self._consensus = self.project.quality.consensus(self.method, question)
        if advance_from is not None:
            self.current = self._order[min(advance_from, len(self._order) - 1)] if self._order else None
        elif self.current not in self._reasons:
            self.current = self._order[0] if self._order else None
        if quality:
            self._render_quality()
        self._render()

    def decide(self, value: str) -> None:
        """Adjudicate the current item as ``value`` (one ``project.quality.adjudicate`` call), then show the next.

        If another session (another process) adjudicated the item meanwhile, nothing is written and
        the app moves on, saying so.
        """
        if self.current is None:
            self._set_status(_NOTHING_TO_REVIEW)
            return
        eid = self.current
        position = self._order.index(eid) if eid in self._order else 0
        note = (self.note_input.value or "").strip() or None
        answer: Any = value if self.project.schema.is_single else {self._question.name: value}
        earlier = self.project.labels(source="adjudication", question=self._question.name)
        earlier = earlier[earlier["example_id"] == eid]
        if len(earlier):  # decided in another session since this one last looked
            who = str(earlier["annotator"].iloc[-1])
            self.refresh(advance_from=position)
            self._set_status(f"{eid!r} was already adjudicated by {who!r} (another session); nothing was written.",
                             error=True)
            return
        self._busy = True
        try:
            self.project.quality.adjudicate(eid, answer, annotator=self.reviewer, note=note)
        except WorkbenchError as exc:
            self._set_status(f"Not recorded: {exc}", error=True)
            return
        finally:
            self._busy = False
        self.note_input.value = ""
        self.refresh(advance_from=position, quality=False)
        self._set_status(f"Recorded {value!r} for {eid!r}.")

    def skip(self) -> None:
        """Move to the next item without writing; the skipped item goes to the end of the queue."""
        if self.current is None:
            self._set_status(_NOTHING_TO_REVIEW)
            return
        eid = self.current
        position = self._order.index(eid)
        self._skipped = [i for i in self._skipped if i != eid] + [eid]
        self._order = [i for i in self._order if i != eid] + [eid]
        self.current = self._order[position] if position < len(self._order) else self._order[0]
        self._render()
        self._set_status(f"Skipped {eid!r}; it is now last in the queue." if len(self._order) > 1
                         else f"Skipped {eid!r}; it is the only item left.")

    def show(self, example_id: str) -> None:
        """Put one queued item on screen."""
        if example_id not in self._reasons:
            raise LabelValidationError(
                f"The item {example_id!r} is not in the adjudication queue. Queued: {self._order[:10]!r}"
                f"{' ...' if len(self._order) > 10 else ''}."
            )
        self.current = example_id
        self._render()

    def panel(self) -> pn.Column:
        """The app's layout (a ``pn.Column``)."""
        return self.layout

    def servable(self, title: str | None = None) -> pn.Column:
        """Mark the layout servable for ``panel serve`` and return it."""
        return self.layout.servable(title=title or f"Adjudication - {self.reviewer}")

    def __panel__(self) -> pn.Column:
        return self.layout

    def close(self) -> None:
        """Disconnect from the project's events; the app stops following the project."""
        for sub in self._subscriptions:
            sub.disconnect()
        self._subscriptions = []

    def __repr__(self) -> str:
        return (f"ReviewApp(reviewer={self.reviewer!r}, method={self.method!r}, pending={len(self._order)}, "
                f"current={self.current!r})")

    # ------------------------------------------------------------------ events
    def _decide_handler(self, value: str) -> Callable[[Any], None]:
        def handler(_event: Any) -> None:
            self.decide(value)

        return handler

    def _on_labels_added(self, **_payload: Any) -> None:
        if not self._busy:  # our own decisions refresh once, in decide()
            self.refresh()

    def _on_data_added(self, **_payload: Any) -> None:
        self._examples = None
        self.refresh()

    def _on_guidelines_changed(self, **_payload: Any) -> None:
        self._render_guidelines()

    def _on_select(self, event: Any) -> None:
        if self._syncing_list or event.new is None or event.new == self.current:
            return
        self.show(str(event.new))

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
            value = row[column]
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                return "<i>(no text)</i>"
            return f"<div style='{_TEXT_STYLE}'>{_esc(value)}</div>"
        fields = [f"<b>{_esc(k)}</b>: {_esc(v)}" for k, v in row.items() if k != "data_version"]
        return f"<div style='{_TEXT_STYLE}'>{'<br>'.join(fields)}</div>"

    def _render(self) -> None:
        n = len(self._order)
        self.queue_count.object = (f"<b class='wb-count'>{n}</b> item{'s' if n != 1 else ''} to review"
                                   if n else "<b class='wb-count'>0</b> items to review")
        self._syncing_list = True
        try:
            self.queue_list.options = list(self._order)
            self.queue_list.value = self.current if self.current is not None else None
        finally:
            self._syncing_list = False
        empty = self.current is None
        self.empty_message.visible = empty
        self.item_view.visible = not empty
        for button in [*self.choice_buttons.values(), self.skip_button]:
            button.disabled = empty
        if empty:
            self.item_header.object = ""
            self.text.object = ""
            self.answers.object = pd.DataFrame()
            self.consensus.object = ""
            return
        eid = str(self.current)
        position = self._order.index(eid) + 1
        self.item_header.object = (
            f"<h3 style='margin:0'>Item <code class='wb-item-id'>{_esc(eid)}</code> ({position} of {n})</h3>"
            f"<div style='color:#666'>{_esc(self._reasons.get(eid, ''))}</div>"
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
