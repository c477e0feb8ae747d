"""The pages of the reviewer app besides adjudication: overview, annotation, quality, LFs, versions, relabel, export.

Each view takes a project and an :class:`~widgets.panel._access.Access`, checks ``view:<name>`` when it is
built and the action's permission before every action, renders what the workbench computes, and forwards
each intent with one project call. Every user-supplied string (example text, annotator and LF names,
notes, messages) is HTML-escaped; tables are rendered with ``escape=True``; charts are Vega (SVG text).
The same classes work in a notebook (``OverviewView(project, LocalAccess("me", "admin"))``).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import altair as alt
import pandas as pd
import panel as pn

from widgets.panel._access import Access
from widgets.panel._keys import KeyboardShortcuts, one_update
from widgets.panel._review_app import ReviewApp, _esc, _fmt, _markdown_text, _set_color, _widget_kwargs
from workbench.auth import PermissionDeniedError
from workbench.exceptions import LabelValidationError, WorkbenchError

if TYPE_CHECKING:
    from workbench import Assignment, Project

__all__ = [
    "AnnotateView",
    "ExportView",
    "LFView",
    "OverviewView",
    "QualityView",
    "RelabelView",
    "VersionsView",
    "build_view",
    "has_migrations",
]

_log = logging.getLogger(__name__)

_QUALITY_WINDOW = None  # the project's drift_window, as in the notebook's QualityDashboard: the same numbers
_QUALITY_COLUMNS = (
    "n_labels", "n_gold_seen", "honeypot_accuracy", "honeypot_ci_low", "honeypot_ci_high", "consensus_agreement",
    "drifted", "flagged", "recommended_weight", "reasons",
)
_LF_COLUMNS = ("name", "polarity", "coverage", "overlaps", "conflicts", "accuracy", "accuracy_low", "accuracy_high",
               "n_gold", "errors")
EXPORT_FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")


def has_migrations(project: Project) -> bool:
    """Whether this workbench gives the project a relabel queue (``project.migrations.relabel_queue``)."""
    return callable(getattr(getattr(project, "migrations", None), "relabel_queue", None))


def _vega(chart: Any, **kwargs: Any) -> pn.pane.Vega:
    return pn.pane.Vega(chart.to_dict(validate=False) if hasattr(chart, "to_dict") else chart, **kwargs)


def _table(frame: pd.DataFrame, css: str, **kwargs: Any) -> pn.pane.DataFrame:
    """A table whose every cell is HTML-escaped."""
    return pn.pane.DataFrame(frame, index=False, escape=True, css_classes=[css], sizing_mode="stretch_width",
                             float_format=lambda v: f"{v:.3f}", **kwargs)


class _View:
    """What every page shares: the permission check, a status line, a refresh, a close."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""

    def __init__(self, project: Project, access: Access) -> None:
        access.require(f"view:{self.name}")
        self.project = project
        self.access = access
        self.status = pn.pane.HTML("", css_classes=["wb-status"], sizing_mode="stretch_width")
        self._subscriptions: list[Any] = []

    def _set_status(self, message: str, *, error: bool = False) -> None:
        color = "#b00020" if error else "#2e7d32"
        self.status.object = f"<span style='color:{color}'>{_esc(message)}</span>"

    def _allowed(self, permission: str) -> str | None:
        """The user's name if ``permission`` holds now; else None, with the refusal in the status line."""
        try:
            return self.access.require(permission)
        except PermissionDeniedError as exc:
            self._set_status(f"Refused: {exc}", error=True)
            return None

    def refresh(self) -> None:
        """Re-read everything shown from the project."""

    def panel(self) -> pn.Column:
        """The view's layout."""
        return self.layout

    def __panel__(self) -> pn.Column:
        return self.layout

    def close(self) -> None:
        """Disconnect from the project's events."""
        for sub in self._subscriptions:
            sub.disconnect()
        self._subscriptions = []

    layout: pn.Column


# ---------------------------------------------------------------------------------------------- overview
class OverviewView(_View):
    """Project overview: data, labels, queues, versions, schema; the consensus label mix as a chart.

    Attributes
    ----------
    summary : pn.pane.HTML
        The counts (``.wb-overview``, one ``<tr data-key=...>`` per figure).
    label_chart : pn.pane.Vega
        Consensus labels per choice.
    figures : dict
        What :attr:`summary` shows, by key.
    """

    name = "overview"
    title = "Overview"

    def __init__(self, project: Project, access: Access) -> None:
        super().__init__(project, access)
        self.figures: dict[str, Any] = {}
        self.summary = pn.pane.HTML("", css_classes=["wb-overview"], sizing_mode="stretch_width")
        self.label_chart = pn.pane.Vega(None, css_classes=["wb-label-chart"])
        self.layout = pn.Column(pn.pane.HTML("<h2 style='margin:0'>Project overview</h2>"), self.summary,
                                self.label_chart, self.status, sizing_mode="stretch_width")
        self._subscriptions = [project.on("labels_added", lambda **_: self.refresh())]
        self.refresh()

    def refresh(self) -> None:
        p = self.project
        q = p.schema.questions[0].name
        figures: dict[str, Any] = {"project": str(p.path.name), "examples": len(p)}
        try:
            answers = p.annotation.answers(q)
            figures["annotators"] = int(answers["annotator"].nunique())
            figures["human answers"] = len(answers)
            progress = p.annotation.progress()
            figures["items complete"] = f"{progress['n_complete']} of {progress['n_items']}"
            figures["waiting for adjudication"] = len(p.annotation.queue("adjudication", n=None))
            cons = p.quality.consensus("majority", q)
            figures["adjudicated"] = int(cons["adjudicated"].astype(bool).sum()) if len(cons) else 0
            if has_migrations(p):
                figures["waiting for relabeling"] = len(p.migrations.relabel_queue())
            figures["label versions"] = len(p.versions.list())
            figures["labeling functions (this session)"] = len(p.lfs)
            figures["schema version"] = p.schema_version
            figures["guideline version"] = p.guideline_version
            counts = cons["label"].dropna().astype(str).value_counts() if len(cons) else pd.Series(dtype=int)
        except WorkbenchError as exc:
            self._set_status(f"Part of the overview could not be computed: {exc}", error=True)
            counts = pd.Series(dtype=int)
        self.figures = figures
        rows = "".join(f"<tr data-key='{_esc(k)}'><td style='padding:2px 12px 2px 0'>{_esc(k)}</td>"
                       f"<td><b>{_esc(v)}</b></td></tr>" for k, v in figures.items())
        self.summary.object = f"<table>{rows}</table>"
        choices = [str(c) for c in p.schema.questions[0].choices]
        data = pd.DataFrame({"label": choices, "items": [int(counts.get(c, 0)) for c in choices]})
        chart = alt.Chart(data).mark_bar().encode(
            x=alt.X("items:Q", title="items"), y=alt.Y("label:N", sort=choices, title=None),
            tooltip=["label:N", "items:Q"],
        ).properties(title=f"Consensus labels ({q})", width=360, height=max(60, 24 * len(choices)))
        self.label_chart.object = chart.to_dict(validate=False)


# ---------------------------------------------------------------------------------------------- quality
class QualityView(_View):
    """Annotator quality, the same window and figures as the notebook's QualityDashboard.

    Attributes
    ----------
    summary : pn.pane.HTML
        Answers, annotators, agreement figures, who is flagged.
    table : pn.pane.DataFrame
        ``project.quality.annotator_report()`` in the project's drift window (escaped cells).
    honeypot_chart, agreement_chart, label_mix_chart : pn.pane.Vega
        The charts of :mod:`widgets._quality_charts`.
    report : DataFrame or None
    """

    name = "quality"
    title = "Annotator quality"

    def __init__(self, project: Project, access: Access, *, window: str | int | None = _QUALITY_WINDOW) -> None:
        super().__init__(project, access)
        self.window = window
        self.report: pd.DataFrame | None = None
        self.summary = pn.pane.HTML("", css_classes=["wb-quality-summary"], sizing_mode="stretch_width")
        self.table = _table(pd.DataFrame(), "wb-annotator-table")
        self.honeypot_chart = pn.pane.Vega(None)
        self.agreement_chart = pn.pane.Vega(None)
        self.label_mix_chart = pn.pane.Vega(None)
        self.layout = pn.Column(
            pn.pane.HTML(f"<h2 style='margin:0'>Annotator quality</h2><div>window "
                         f"{_esc(project.annotation.config.drift_window if window is None else window)}</div>"),
            self.summary, self.table, pn.Row(self.honeypot_chart, self.agreement_chart), self.label_mix_chart,
            self.status, sizing_mode="stretch_width")
        self._subscriptions = [project.on("labels_added", lambda **_: self.refresh())]
        self.refresh()

    def refresh(self) -> None:
        from widgets._quality_charts import agreement_heatmap, empty_chart, honeypot_accuracy_chart, label_mix_chart

        p = self.project
        q = p.schema.questions[0].name
        ann = p.annotation.answers(q, include_honeypots=True)
        agreement = drift = None
        if ann.empty:
            self.report = None
            self.summary.object = "<i>No human annotations yet.</i>"
            self.table.object = pd.DataFrame()
        else:
            try:
                self.report = p.quality.annotator_report(self.window, q)
                drift = p.quality.drift(self.window, q, require_gold=True)
            except WorkbenchError as exc:
                self._set_status(f"The annotator report could not be computed: {exc}", error=True)
                self.report = None
            try:
                agreement = p.quality.agreement(q)
            except WorkbenchError:
                agreement = None
            parts = [f"<b>{int((~ann['is_honeypot'].astype(bool)).sum())}</b> answers by "
                     f"<b>{ann['annotator'].nunique()}</b> annotator(s)"]
            if agreement is not None:
                parts.append(f"Fleiss' kappa <b>{_fmt(agreement.fleiss_kappa)}</b>, Krippendorff's alpha "
                             f"<b>{_fmt(agreement.krippendorff_alpha)}</b>")
            report = self.report
            if report is not None and "flagged" in report.columns:
                flagged = [str(x) for x in report.index[report["flagged"].astype(bool)]]
                parts.append(f"flagged: <b>{_esc(', '.join(flagged))}</b>" if flagged else "no one flagged")
            self.summary.object = " &middot; ".join(parts)
            if report is not None:
                cols = [c for c in _QUALITY_COLUMNS if c in report.columns]
                shown = report[cols].copy()
                shown.insert(0, "annotator", [str(i) for i in report.index])
                self.table.object = shown.reset_index(drop=True)
        hp = (honeypot_accuracy_chart(drift) if drift is not None and "honeypot_accuracy" in drift.columns
              else empty_chart("Honeypot accuracy over time", "no gold items or no answers yet"))
        ag = (agreement_heatmap(agreement.pairwise) if agreement is not None and len(agreement.pairwise)
              else empty_chart("Pairwise Cohen's kappa", "no item has two annotators yet"))
        regular = ann[~ann["is_honeypot"].astype(bool)] if len(ann) else pd.DataFrame(columns=["annotator", "value"])
        mix = label_mix_chart(regular[["annotator", "value"]])
        self.honeypot_chart.object = hp.to_dict(validate=False)
        self.agreement_chart.object = ag.to_dict(validate=False)
        self.label_mix_chart.object = mix.to_dict(validate=False)


# ---------------------------------------------------------------------------------------------- LFs
class LFView(_View):
    """The labeling functions, read-only: summary table and charts (no control edits or adds an LF).

    LFs are Python code registered in the process (a notebook kernel, or ``serve --lfs FILE``); without any,
    the LFs recorded in the latest label version are listed from its manifest.

    Attributes
    ----------
    table : pn.pane.DataFrame
        ``project.lfs.summary()`` (escaped cells), or the latest version's LF records.
    chart : pn.pane.Vega
        :func:`widgets.charts.lf_overview_chart` of the summary.
    note : pn.pane.HTML
    summary : DataFrame or None
    """

    name = "lfs"
    title = "Labeling functions"

    def __init__(self, project: Project, access: Access) -> None:
        super().__init__(project, access)
        self.summary: pd.DataFrame | None = None
        self.note = pn.pane.HTML("", css_classes=["wb-lf-note"], sizing_mode="stretch_width")
        self.table = _table(pd.DataFrame(), "wb-lf-summary")
        self.chart = pn.pane.Vega(None)
        self.layout = pn.Column(pn.pane.HTML("<h2 style='margin:0'>Labeling functions (read-only)</h2>"),
                                self.note, self.table, self.chart, self.status, sizing_mode="stretch_width")
        self._subscriptions = [project.on("lfs_changed", lambda **_: self.refresh())]
        self.refresh()

    def refresh(self) -> None:
        from widgets.charts import lf_overview_chart

        p = self.project
        if not len(p.lfs):
            self.summary = None
            self.chart.object = None
            self.chart.visible = False
            versions = p.versions.list()
            if len(versions):
                latest = str(versions["name"].iloc[-1])
                records = pd.DataFrame(p.versions.manifest(latest).get("lfs") or [])
                cols = [c for c in ("name", "kind", "question", "fingerprint") if c in records.columns]
                self.table.object = records[cols] if cols else pd.DataFrame()
                self.note.object = (f"No labeling function is registered in this server; these are the ones label "
                                    f"version <b>{_esc(latest)}</b> was made with.")
            else:
                self.table.object = pd.DataFrame()
                self.note.object = ("<i>No labeling function is registered in this server, and no label version "
                                    "records any. Start the server with --lfs FILE to analyse them here.</i>")
            return
        try:
            gold = "gold" if len(p.gold()) else None
            summary = p.lfs.summary(gold=gold)
        except WorkbenchError as exc:
            self._set_status(f"The LF summary could not be computed: {exc}", error=True)
            return
        self.summary = summary
        shown = summary.copy()
        shown.insert(0, "name", [str(i) for i in summary.index])
        cols = [c for c in _LF_COLUMNS if c in shown.columns]
        self.table.object = shown[cols].reset_index(drop=True)
        self.note.object = f"{len(summary)} labeling function(s), applied to {len(p)} examples."
        try:
            self.chart.object = lf_overview_chart(summary).to_dict(validate=False)
            self.chart.visible = True
        except WorkbenchError as exc:
            self.chart.visible = False
            self._set_status(f"No chart: {exc}", error=True)


# ---------------------------------------------------------------------------------------------- versions
class VersionsView(_View):
    """Label versions: the lineage (each version and its parent) and the diff between two versions.

    Attributes
    ----------
    lineage : pn.pane.HTML
        Each version with its parent, author, message, rows (``<li data-version=...>``).
    table : pn.pane.DataFrame
        ``project.versions.list()``.
    version_a, version_b : pn.widgets.Select
    diff_summary : pn.pane.HTML
    diff_table : pn.pane.DataFrame
        The changed examples of ``project.versions.diff(a, b)``.
    """

    name = "versions"
    title = "Label versions"

    def __init__(self, project: Project, access: Access, *, max_rows: int = 200) -> None:
        super().__init__(project, access)
        self.max_rows = max_rows
        self.lineage = pn.pane.HTML("", css_classes=["wb-lineage"], sizing_mode="stretch_width")
        self.table = _table(pd.DataFrame(), "wb-versions")
        self.version_a = pn.widgets.Select(**_widget_kwargs("From"), options=[], width=200)
        self.version_b = pn.widgets.Select(**_widget_kwargs("To"), options=[], width=200)
        self.diff_summary = pn.pane.HTML("", css_classes=["wb-diff-summary"], sizing_mode="stretch_width")
        self.diff_table = _table(pd.DataFrame(), "wb-diff")
        self.layout = pn.Column(
            pn.pane.HTML("<h2 style='margin:0'>Label versions</h2>"), self.lineage, self.table,
            pn.pane.HTML("<h3>Compare two versions</h3>"), pn.Row(self.version_a, self.version_b),
            self.diff_summary, self.diff_table, self.status, sizing_mode="stretch_width")
        for w in (self.version_a, self.version_b):
            w.param.watch(lambda _e: self._render_diff(), "value")
        self._subscriptions = [project.on("label_version_saved", lambda **_: self.refresh())]
        self.refresh()

    def refresh(self) -> None:
        versions = self.project.versions.list()
        if versions.empty:
            self.lineage.object = "<i>No label version saved yet (project.versions.save).</i>"
            self.table.object = pd.DataFrame()
            self.version_a.options, self.version_b.options = [], []
            self.diff_summary.object, self.diff_table.object = "", pd.DataFrame()
            return
        items = []
        for _, row in versions.iterrows():
            parent = f" &larr; {_esc(row['parent'])}" if isinstance(row["parent"], str) and row["parent"] else ""
            items.append(f"<li data-version='{_esc(row['name'])}'><b>{_esc(row['name'])}</b>{parent} &middot; "
                         f"{_esc(row['n_rows'])} rows &middot; {_esc(row['author'])} &middot; "
                         f"{_esc(row['created_at'])} &middot; {_esc(row['message'])}</li>")
        self.lineage.object = f"<ul>{''.join(items)}</ul>"
        cols = [c for c in versions.columns if c not in ("content_hash", "used_by_runs")]
        self.table.object = versions[cols]
        names = [str(n) for n in versions["name"]]
        self.version_a.options, self.version_b.options = names, names
        self.version_b.value = names[-1]
        self.version_a.value = names[-2] if len(names) > 1 else names[-1]
        self._render_diff()

    def _render_diff(self) -> None:
        a, b = self.version_a.value, self.version_b.value
        if not a or not b:
            return
        if a == b:
            self.diff_summary.object = "<i>Choose two different versions to compare.</i>"
            self.diff_table.object = pd.DataFrame()
            return
        try:
            diff = self.project.versions.diff(a, b)
        except WorkbenchError as exc:
            self._set_status(f"Cannot compare {a!r} and {b!r}: {exc}", error=True)
            return
        s = diff.attrs.get("summary", diff.attrs)
        keys = ("n_a", "n_b", "n_added", "n_removed", "n_label_changed", "n_changed", "mean_tvd", "max_tvd")
        self.diff_summary.object = " &middot; ".join(
            f"{_esc(k)} <b>{_esc(_fmt(s[k], 3) if isinstance(s[k], float) else s[k])}</b>" for k in keys if k in s)
        changed = diff[diff["changed"].astype(bool)].reset_index()
        cols = [c for c in changed.columns if c in ("id", "in_a", "in_b") or c.startswith(("label_", "tvd",
                                                                                            "max_abs"))]
        self.diff_table.object = changed[cols].head(self.max_rows)


# ---------------------------------------------------------------------------------------------- keyboard item views
class _ItemView(_View):
    """A view that shows one item at a time and decides it with buttons or keys (digits, Enter, s, u)."""

    def _build_item_widgets(self, choices: list[str]) -> None:
        self._choices = choices
        self.selected_choice: str | None = None
        self.item_header = pn.pane.HTML("", css_classes=["wb-item-header"], sizing_mode="stretch_width")
        self.text = pn.pane.HTML("", css_classes=["wb-item-text"], sizing_mode="stretch_width",
                                 styles={"border": "1px solid #ddd", "padding": "8px", "border-radius": "4px"})
        self.context = pn.pane.HTML("", css_classes=["wb-item-context"], sizing_mode="stretch_width")
        digits = [str(i) for i in range(1, min(len(choices), 9) + 1)]
        self.keys = KeyboardShortcuts(keys=[*digits, "Enter", "s", "u"], on_key=self._on_key,
                                      on_early=lambda message: self._set_status(message, error=True),
                                      context_free=["u"])
        self.choice_buttons: dict[str, pn.widgets.Button] = {}
        for choice in choices:
            button = pn.widgets.Button(**_widget_kwargs(choice, "primary"), width=120)
            button.on_click(self._click(choice))
            self.choice_buttons[choice] = button
        self.skip_button = pn.widgets.Button(**_widget_kwargs("Skip", "light"), width=90)
        self.skip_button.on_click(lambda _e: self.skip())
        self.undo_button = pn.widgets.Button(**_widget_kwargs("Undo", "light"), width=90)
        self.undo_button.on_click(lambda _e: self.undo())
        self.selected = pn.pane.HTML("", css_classes=["wb-selected"])
        hints = " &middot; ".join(f"<kbd>{k}</kbd> {_esc(c)}" for k, c in zip(digits, choices, strict=False))
        self.key_help = pn.pane.HTML(f"<span style='color:#555'>Keys: {hints} &middot; <kbd>Enter</kbd> confirm "
                                     f"&middot; <kbd>s</kbd> skip &middot; <kbd>u</kbd> undo</span>")
        self.count = pn.pane.HTML("", css_classes=["wb-queue-count"])
        self.empty_message = pn.pane.HTML("", css_classes=["wb-empty"], visible=False)
        self.item_view = pn.Column(
            self.item_header, self.text, self.context,
            pn.Row(*self.choice_buttons.values(), self.skip_button, self.undo_button, self.selected),
            self.key_help, sizing_mode="stretch_width")

    def _click(self, choice: str) -> Callable[[Any], None]:
        return self.keys.guarded(choice, lambda: self.decide(choice))

    def _render(self) -> None:
        # the item and its key context reach the page in one message; the context is set last so
        # that, outside a served page too, it never names an item whose panes are not drawn yet
        with one_update(getattr(self, "layout", None)):
            self._render_panes()
            self.keys.context = self._context_id()

    def _render_panes(self) -> None:  # pragma: no cover - every item view defines it
        raise NotImplementedError

    def _context_id(self) -> str:
        """What the page shows, sent back with every key (``""`` when no item is on screen)."""
        return ""

    def _on_key(self, key: str) -> None:
        if key.isdigit():
            i = int(key) - 1
            if 0 <= i < len(self._choices):
                self.select_choice(self._choices[i])
        elif key == "Enter":
            if self.selected_choice is None:
                self._set_status("Choose first: press a digit, then Enter.", error=True)
            else:
                self.decide(self.selected_choice)
        elif key == "s":
            self.skip()
        elif key == "u":
            self.undo()

    def select_choice(self, value: str) -> None:
        """Pick ``value`` (a digit key); Enter records it."""
        if value not in self._choices:
            raise LabelValidationError(f"{value!r} is not one of the choices {self._choices!r}.")
        self.selected_choice = value
        self._render_selected()

    def _render_selected(self) -> None:
        for choice, button in self.choice_buttons.items():
            _set_color(button, "success" if choice == self.selected_choice else "primary")
        self.selected.object = (f"chosen: <b class='wb-chosen'>{_esc(self.selected_choice)}</b> (Enter records it)"
                                if self.selected_choice else "")

    def _text_html(self, eid: str, data: dict[str, Any] | None = None) -> str:
        row = data if data is not None else self.project.example(eid).to_dict()
        column = self.project.text_column
        style = "white-space: pre-wrap; word-break: break-word; font-size: 1.1em; line-height: 1.5;"
        if column is not None and column in row:
            value = row[column]
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                return "<i>(no text)</i>"
            return f"<div style='{style}'>{_esc(value)}</div>"
        return f"<div style='{style}'>" + "<br>".join(
            f"<b>{_esc(k)}</b>: {_esc(v)}" for k, v in row.items() if k != "data_version") + "</div>"

    def decide(self, value: str) -> None:
        raise NotImplementedError

    def skip(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError


class AnnotateView(_ItemView):
    """The annotation view: the next item leased to the logged-in annotator, answered with one call.

    ``project.annotation.next_items`` leases the item (overlap and honeypots as configured);
    ``project.annotation.submit`` records the answer under the logged-in user, ``skip`` gives it back,
    ``undo`` walks back the user's last submission. Only the root question is asked here.

    Attributes
    ----------
    current : Assignment or None
    count : pn.pane.HTML
        The annotator's progress (``.wb-answered``).
    """

    name = "annotate"
    title = "Annotate"

    def __init__(self, project: Project, access: Access) -> None:
        super().__init__(project, access)
        self._question = project.schema.questions[0]
        self._build_item_widgets([str(c) for c in self._question.choices])
        self.current: Assignment | None = None
        self.layout = pn.Column(
            pn.pane.HTML(f"<h2 style='margin:0'>Annotate</h2><div>Annotator: <b class='wb-user'>"
                         f"{_esc(access.username)}</b> &middot; question <b>{_esc(self._question.name)}</b></div>"),
            self.count, self.empty_message, self.item_view, self.status,
            pn.Card(pn.pane.Markdown(_markdown_text(project.schema.guidelines or "*No guidelines.*")),
                    title="Guidelines", collapsed=True, sizing_mode="stretch_width"),
            self.keys, sizing_mode="stretch_width")
        self.refresh()

    def refresh(self) -> None:
        if self.current is None:
            self._next()
        self._render()

    def _next(self) -> None:
        try:
            items = self.project.annotation.next_items(self.access.username, n=1, question=self._question.name)
        except WorkbenchError as exc:
            self._set_status(f"No item could be served: {exc}", error=True)
            items = []
        self.current = items[0] if items else None
        self.selected_choice = None

    def decide(self, value: str) -> None:
        """Record ``value`` for the current item (one ``project.annotation.submit`` call)."""
        who = self._allowed("annotate")
        if who is None or self.current is None:
            return
        item = self.current
        answer: Any = value if self.project.schema.is_single else {self._question.name: value}
        try:
            self.project.annotation.submit(item.example_id, answer, annotator=who, draft=item.draft)
        except WorkbenchError as exc:
            self._set_status(f"Not recorded: {exc}", error=True)
            return
        self._set_status(f"Recorded {value!r} for {item.example_id!r}.")
        self.current = None
        self.refresh()

    def skip(self) -> None:
        """Give the current item back without answering (one ``project.annotation.skip`` call)."""
        who = self._allowed("annotate")
        if who is None or self.current is None:
            return
        item = self.current
        try:
            self.project.annotation.skip(item.example_id, annotator=who, draft=item.draft)
        except WorkbenchError as exc:
            self._set_status(f"Not skipped: {exc}", error=True)
            return
        self._set_status(f"Skipped {item.example_id!r}.")
        self.current = None
        self.refresh()

    def undo(self) -> None:
        """Walk back the user's last submission (one ``project.annotation.undo`` call)."""
        who = self._allowed("annotate")
        if who is None:
            return
        try:
            eid = self.project.annotation.undo(annotator=who)
        except WorkbenchError as exc:
            self._set_status(f"Nothing undone: {exc}", error=True)
            return
        if eid is None:
            self._set_status("Nothing to undo.")
            return
        self._set_status(f"Undid your answer to {eid!r}.")
        self.current = None
        self.refresh()

    def _context_id(self) -> str:
        return "" if self.current is None else str(self.current.example_id)

    def _render_panes(self) -> None:
        try:
            progress = self.project.annotation.progress(self.access.username)
            self.count.object = (f"<span class='wb-answered'>{progress.get('n_answered', 0)}</span> answered by you "
                                 f"&middot; {progress['n_remaining']} item(s) still need answers")
        except WorkbenchError:
            self.count.object = ""
        empty = self.current is None
        self.empty_message.object = "<p><b>Nothing to annotate right now: every open item has enough answers.</b></p>"
        self.empty_message.visible = empty
        self.item_view.visible = not empty
        for b in self.choice_buttons.values():
            b.disabled = empty
        self.skip_button.disabled = empty
        self._render_selected()
        if self.current is None:
            return
        item = self.current
        self.item_header.object = (f"<h3 style='margin:0'>Item <code class='wb-item-id'>{_esc(item.example_id)}"
                                   f"</code></h3>")
        self.text.object = self._text_html(item.example_id, dict(item.data) or None)
        d = item.draft
        self.context.object = (f"Draft: <b>{_esc(d.value)}</b>"
                               f"{f' ({_fmt(d.confidence)})' if d.confidence is not None else ''}" if d else "")


class RelabelView(_ItemView):
    """The relabel queue after a schema migration or a guideline re-review, worked through item by item.

    Each decision is one ``project.quality.adjudicate`` call recorded under the logged-in reviewer with
    the note ``"relabel"``: an expert's answer under the current schema, which takes the item out of
    ``project.migrations.relabel_queue()``. The item on screen is leased to the reviewer
    (``project.annotation.claim(..., task="relabel")``), so several reviewers work on different items;
    the lease expires on its own when a tab is closed without a goodbye.

    Attributes
    ----------
    queue : DataFrame
        ``project.migrations.relabel_queue()`` as last read.
    current : str or None
        The example id on screen.
    """

    name = "relabel"
    title = "Relabel queue"
    _TASK = "relabel"

    def __init__(self, project: Project, access: Access) -> None:
        super().__init__(project, access)
        self.available = has_migrations(project)
        self.queue = pd.DataFrame(columns=["example_id", "question", "reasons", "old_values"])
        self.current: str | None = None
        self._question_name: str | None = None
        self._decided: list[tuple[str, str]] = []
        self._skipped: list[str] = []
        schema = project.schema
        self._build_item_widgets([str(c) for c in schema.questions[0].choices])
        self.layout = pn.Column(
            pn.pane.HTML("<h2 style='margin:0'>Relabel queue</h2><div>Items whose labels a schema or guideline "
                         "change left flagged</div>"),
            self.count, self.empty_message, self.item_view, self.status, self.keys, sizing_mode="stretch_width")
        self._subscriptions = [project.on("labels_added", lambda **_: self.refresh())]
        self.refresh()

    def _items(self) -> list[tuple[str, str]]:
        pairs = list(dict.fromkeys(zip(self.queue["example_id"].astype(str), self.queue["question"].astype(str),
                                       strict=True)))
        return [p for p in pairs if p[0] not in self._skipped] + [p for p in pairs if p[0] in self._skipped]

    def refresh(self) -> None:
        if not self.available:
            self.queue = self.queue.iloc[0:0]
            self.current = None
            self._render()
            return
        try:
            self.queue = self.project.migrations.relabel_queue()
        except WorkbenchError as exc:
            self._set_status(f"The relabel queue could not be read: {exc}", error=True)
        items = self._items()
        me = self.access.username
        holders = {e: u for e, u in self.project.annotation.holders(self._TASK).items() if u != me}
        if self.current not in {e for e, _ in items} or self.current in holders:
            if self.current is not None:
                self.project.annotation.release(self.current, me, task=self._TASK)
            self.current, self._question_name = None, None
            for eid, q in items:
                if eid in holders:
                    continue
                if self.project.annotation.claim(eid, me, task=self._TASK) == me:
                    self.current, self._question_name = eid, q
                    break
        elif self.current is not None:  # still on screen: renew the lease
            self.project.annotation.claim(self.current, me, task=self._TASK)
        self._render()

    def _set_choices_for(self, question: str) -> None:
        choices = [str(c) for c in self.project.schema.question(question).choices]
        if choices != self._choices:
            self._choices = choices
            self.choice_buttons = {}
            for choice in choices:
                button = pn.widgets.Button(**_widget_kwargs(choice, "primary"), width=120)
                button.on_click(self._click(choice))
                self.choice_buttons[choice] = button
            self.item_view[3] = pn.Row(*self.choice_buttons.values(), self.skip_button, self.undo_button,
                                       self.selected)
            self.keys.keys = [*(str(i) for i in range(1, min(len(choices), 9) + 1)), "Enter", "s", "u"]

    def decide(self, value: str) -> None:
        """Relabel the current item as ``value`` (one ``project.quality.adjudicate`` call)."""
        who = self._allowed("relabel")
        if who is None or self.current is None or self._question_name is None:
            return
        eid, q = self.current, self._question_name
        if value not in self._choices:
            self._set_status(f"Not recorded: {value!r} is not a choice of {q!r}.", error=True)
            return
        answer: Any = value if self.project.schema.is_single else {q: value}
        try:
            self.project.quality.adjudicate(eid, answer, annotator=who, note="relabel")
        except WorkbenchError as exc:
            self._set_status(f"Not recorded: {exc}", error=True)
            return
        self.project.annotation.release(eid, who, task=self._TASK)
        self._decided.append((eid, q))
        self.current = None
        self.selected_choice = None
        self.refresh()
        self._set_status(f"Relabeled {eid!r} as {value!r}.")

    def skip(self) -> None:
        """Move on without writing; the item goes to the end of the queue."""
        if self.current is None:
            return
        eid = self.current
        self.project.annotation.release(eid, self.access.username, task=self._TASK)
        self._skipped = [e for e in self._skipped if e != eid] + [eid]
        self.current = None
        self.refresh()
        self._set_status(f"Skipped {eid!r}.")

    def undo(self) -> None:
        """Withdraw this session's last relabel (one ``project.retract`` call); the item is queued again."""
        who = self._allowed("relabel")
        if who is None:
            return
        if not self._decided:
            self._set_status("Nothing to undo in this session.")
            return
        eid, q = self._decided[-1]
        try:
            self.project.retract(eid, q, annotator=who, source="adjudication", note="undo relabel")
        except WorkbenchError as exc:
            self._set_status(f"Nothing undone: {exc}", error=True)
            return
        self._decided.pop()
        if self.current is not None:  # the undone item comes back first: give the one on screen back
            self.project.annotation.release(self.current, who, task=self._TASK)
        self.current = None
        self.refresh()
        self._set_status(f"Undid the relabel of {eid!r}.")

    def close(self) -> None:
        """Disconnect from the project's events and give back the item on screen."""
        super().close()
        if self.current is not None:
            self.project.annotation.release(self.current, self.access.username, task=self._TASK)
            self.current = None

    def _context_id(self) -> str:
        if self.current is None or self._question_name is None:
            return ""
        return f"{self.current}\x1f{self._question_name}"

    def _render_panes(self) -> None:
        n = len(self._items())
        self.count.object = f"<b class='wb-count'>{n}</b> item(s) to relabel"
        empty = self.current is None
        if not self.available:
            message = "This workbench has no schema migrations, so there is no relabel queue."
        elif n:  # every item left is leased to someone else
            message = (f"The {n} item(s) left are on other reviewers' screens right now; they come back here if "
                       f"those reviewers skip them or leave.")
        else:
            message = "Nothing to relabel: no migration or guideline review left items waiting."
        self.empty_message.object = f"<p><b>{_esc(message)}</b></p>"
        self.empty_message.visible = empty
        self.item_view.visible = not empty
        self.undo_button.disabled = not self._decided
        if empty or self._question_name is None:
            return
        self._set_choices_for(self._question_name)
        self._render_selected()
        eid, q = self.current, self._question_name
        rows = self.queue[(self.queue["example_id"].astype(str) == eid) & (self.queue["question"].astype(str) == q)]
        reasons = [str(r) for rs in rows["reasons"] for r in (rs if isinstance(rs, list) else [rs])]
        old = [str(v) for vs in rows["old_values"] for v in (vs if isinstance(vs, list) else [vs])]
        self.item_header.object = (f"<h3 style='margin:0'>Item <code class='wb-item-id'>{_esc(eid)}</code> &middot; "
                                   f"question <b>{_esc(q)}</b></h3>")
        self.text.object = self._text_html(str(eid))
        self.context.object = (f"Old label(s): <b>{_esc(', '.join(old) or 'none')}</b> &middot; why: "
                               f"{_esc('; '.join(dict.fromkeys(reasons)))}")


# ---------------------------------------------------------------------------------------------- export
class ExportView(_View):
    """Download a label version (admin only): CSV, JSON Lines or Parquet.

    The download is produced on the server by a callback that checks the ``export`` permission at
    the moment of the download.

    Attributes
    ----------
    version : pn.widgets.Select
    format : pn.widgets.Select
    download : pn.widgets.FileDownload
    """

    name = "export"
    title = "Export"

    def __init__(self, project: Project, access: Access) -> None:
        super().__init__(project, access)
        self.version = pn.widgets.Select(**_widget_kwargs("Label version"), options=[], width=240)
        self.format = pn.widgets.Select(**_widget_kwargs("Format"), options=list(EXPORT_FORMATS), value="csv",
                                        width=160)
        style = {"color" if "color" in pn.widgets.FileDownload.param else "button_type": "primary"}
        self.download = pn.widgets.FileDownload(callback=self._payload, filename="labels.csv", label="Download",
                                                width=200, **style)
        self.layout = pn.Column(pn.pane.HTML("<h2 style='margin:0'>Export a label version</h2>"),
                                pn.Row(self.version, self.format), self.download, self.status,
                                sizing_mode="stretch_width")
        for w in (self.version, self.format):
            w.param.watch(lambda _e: self._update_filename(), "value")
        self.refresh()

    def refresh(self) -> None:
        names = [str(n) for n in self.project.versions.list()["name"]]
        self.version.options = names
        if names and self.version.value not in names:
            self.version.value = names[-1]
        self.download.disabled = not names
        if not names:
            self._set_status("No label version saved yet: nothing to export.")
        self._update_filename()

    def _update_filename(self) -> None:
        self.download.filename = f"{self.version.value or 'labels'}.{self.format.value}"

    def export_bytes(self, version: str, fmt: str) -> bytes:
        """The version's soft labels in ``fmt`` (after the ``export`` permission check)."""
        self.access.require("export")
        if fmt not in EXPORT_FORMATS:
            raise LabelValidationError(f"The export format must be one of {list(EXPORT_FORMATS)!r}. Got {fmt!r}.")
        frame = self.project.versions.load(version)
        frame.attrs = {}
        out = io.BytesIO()
        if fmt == "csv":
            out.write(frame.to_csv().encode("utf-8"))
        elif fmt == "jsonl":
            out.write(frame.reset_index().to_json(orient="records", lines=True).encode("utf-8"))
        else:
            frame.to_parquet(out)
        return out.getvalue()

    def _payload(self) -> io.BytesIO | None:
        try:
            data = self.export_bytes(str(self.version.value), str(self.format.value))
        except (PermissionDeniedError, WorkbenchError) as exc:
            self._set_status(f"Not exported: {exc}", error=True)
            return None
        self._set_status(f"Exported {self.version.value!r} as {self.format.value}.")
        return io.BytesIO(data)


# ---------------------------------------------------------------------------------------------- registry
def build_view(
    name: str,
    project: Project,
    access: Access,
    *,
    method: str = "majority",
) -> Any:
    """The view called ``name`` (one of ``workbench.auth.VIEWS``) for ``access``, after its permission check.

    Raises
    ------
    PermissionDeniedError
        The user's role may not open the view.
    LabelValidationError
        Unknown view name.
    """
    if name == "adjudication":
        return ReviewApp(project, method=method, access=access)
    if name == "relabel":
        return RelabelView(project, access)
    views: dict[str, type[_View]] = {v.name: v for v in (OverviewView, QualityView, LFView, VersionsView,
                                                             AnnotateView, ExportView)}
    if name not in views:
        raise LabelValidationError(
            f"The 'name' parameter of build_view must be one of {sorted([*views, 'adjudication', 'relabel'])!r}. "
            f"Got {name!r} instead."
        )
    return views[name](project, access)
