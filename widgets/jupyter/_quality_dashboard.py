"""The annotation-quality dashboard: per-annotator table, honeypot accuracy over time, agreement, label mix, queues.

It renders what the workbench computes (``project.quality.annotator_report()``, ``project.quality.agreement()``,
``project.quality.drift``, ``project.annotation.queue(...)``) and refreshes itself
when labels are added, at most once per ``throttle`` seconds. The queues are listed a page at a time
("load more" adds the next page).
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from widgets.jupyter._tree import close_tree
from workbench import QUEUE_STRATEGIES, Project
from workbench.exceptions import WorkbenchError

if TYPE_CHECKING:
    import altair as alt

    from workbench import Subscription

__all__ = ["QualityDashboard"]

_log = logging.getLogger(__name__)

_CELL = "padding:2px 8px;text-align:left;vertical-align:top"
_QUEUE_TEXT_CHARS = 160
_TABLE_COLUMNS = (
    "n_labels", "n_gold_seen", "honeypot_accuracy", "honeypot_ci_low", "honeypot_ci_high", "consensus_agreement",
    "drifted", "flagged", "recommended_weight", "reasons",
)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return "" if value != value else f"{value:.2f}"
    return html.escape(str(value))


class QualityDashboard(widgets.VBox):
    """Live annotation-quality overview of a project.

    Parameters
    ----------
    project : workbench.Project
        The project whose human annotations are judged.
    question : str, optional
        The schema question (default: the only one).
    window : str or int, optional
        Width of the windows for honeypot accuracy over time and drift: a time span, or an int
        (windows of that many answers per annotator). Default: the project's ``drift_window``
        setting (``project.annotation.configure``), the one ``flagged()`` and consensus use.
    method : {"majority", "dawid_skene"}, default "majority"
        The consensus the annotators are compared with.
    throttle : float, default 2.0
        Minimum seconds between two automatic refreshes on ``labels_added``; events that arrive
        sooner schedule one refresh at the end of the interval (when an event loop runs, as in
        a kernel) or mark the dashboard stale.
    queue : {"adjudication", "random", "stratified", "disagreement", "uncertain"}, default "adjudication"
        The queue listed first (``project.annotation.queue``); ``queue_strategy`` switches it.
    page_size : int, default 20
        Queue rows per page: the first page is listed, "load more" adds the next.

    Attributes
    ----------
    refresh_button : ipywidgets.Button
    status : ipywidgets.HTML
        Counts, agreement figures, adjudication queue length, last refresh.
    adjudication_count : ipywidgets.HTML
        How many items wait for adjudication.
    annotator_table : ipywidgets.HTML
        ``project.quality.annotator_report()`` as a table (one ``<tr data-annotator=...>`` per annotator).
    queue_strategy : ipywidgets.Dropdown
        Which queue is listed.
    queue_table : ipywidgets.HTML
        Its first rows (one ``<tr data-id=...>`` each): rank, id, score, reason, text.
    queue_count : ipywidgets.HTML
        How many rows are listed of how many wait ("20 of 1,204").
    queue_more : ipywidgets.Button
        Lists the next page (hidden when every row is listed); :meth:`load_more` does the same.
    honeypot_chart, agreement_chart, label_mix_chart : ipywidgets.Output
        The Altair charts (see :mod:`widgets._quality_charts`); the chart objects are kept in
        :attr:`charts`.
    report, drift, agreement : DataFrame / AgreementReport or None
        What the last refresh showed.
    queue : DataFrame or None
        The listed queue in full (``example_id``, ``score``, ``reason``), as the last refresh computed it.

    Examples
    --------
    >>> dashboard = QualityDashboard(project)   # doctest: +SKIP
    >>> dashboard                               # doctest: +SKIP
    >>> dashboard.close()  # disconnects from the project  # doctest: +SKIP
    """

    def __init__(
        self,
        project: Project,
        question: str | None = None,
        *,
        window: str | int | None = None,
        method: str = "majority",
        throttle: float = 2.0,
        queue: str = "adjudication",
        page_size: int = 20,
    ) -> None:
        if not isinstance(project, Project):
            raise TypeError(
                f"The 'project' parameter of QualityDashboard must be a workbench.Project. Got "
                f"{type(project).__name__} instead; open one with wb.Project.open(path)."
            )
        if isinstance(throttle, bool) or not isinstance(throttle, (int, float)) or throttle < 0:
            raise ValueError(
                f"The 'throttle' parameter of QualityDashboard must be a number of seconds >= 0. Got {throttle!r}."
            )
        if method not in ("majority", "dawid_skene"):
            raise ValueError(
                f"The 'method' parameter of QualityDashboard must be 'majority' or 'dawid_skene'. Got {method!r}."
            )
        if queue not in QUEUE_STRATEGIES:
            raise ValueError(
                f"The 'queue' parameter of QualityDashboard must be one of {list(QUEUE_STRATEGIES)!r}. Got {queue!r}."
            )
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise ValueError(
                f"The 'page_size' parameter of QualityDashboard must be a positive int. Got {page_size!r} instead."
            )
        self.project = project
        self.question = project.schema.question(question).name
        self.window = window
        self.method = method
        self.throttle = float(throttle)
        self.page_size = page_size
        self.queue: pd.DataFrame | None = None
        self._queue_limit = page_size  # queue rows listed: grows by a page with "load more"
        self._queue_texts: dict[str, str] = {}
        self.report: pd.DataFrame | None = None
        self.drift: pd.DataFrame | None = None
        self.agreement: Any = None
        self.n_adjudication = 0
        self.charts: dict[str, alt.TopLevelMixin] = {}
        self.n_refreshes = 0
        self.stale = False
        self.last_error: str | None = None
        self._last_refresh = 0.0
        self._scheduled: asyncio.TimerHandle | None = None

        self.refresh_button = widgets.Button(description="Refresh", icon="refresh", tooltip="Recompute everything")
        self.status = widgets.HTML()
        self.adjudication_count = widgets.HTML()
        self.annotator_table = widgets.HTML()
        self.honeypot_chart = widgets.Output()
        self.agreement_chart = widgets.Output()
        self.label_mix_chart = widgets.Output()
        order = [queue, *(q for q in QUEUE_STRATEGIES if q != queue)]
        self.queue_strategy = widgets.Dropdown(description="queue", options=order, value=queue,
                                               layout=widgets.Layout(width="260px"))
        self.queue_table = widgets.HTML()
        self.queue_table.add_class("wb-queue")
        self.queue_count = widgets.HTML()
        self.queue_count.add_class("wb-queue-count")
        self.queue_more = widgets.Button(description="load more", icon="angle-down", tooltip="List the next page")
        self.queue_more.add_class("wb-queue-more")
        super().__init__(
            [
                widgets.HBox([widgets.HTML("<b>Annotation quality</b>"), self.refresh_button, self.adjudication_count]),
                self.status,
                self.annotator_table,
                widgets.HBox([self.honeypot_chart, self.agreement_chart]),
                self.label_mix_chart,
                widgets.HBox([widgets.HTML("<b>Queue</b>"), self.queue_strategy]),
                self.queue_table,
                widgets.HBox([self.queue_count, self.queue_more], layout=widgets.Layout(align_items="center")),
            ]
        )
        self.add_class("wb-quality-dashboard")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.queue_more.on_click(lambda _b: self.load_more())
        self.queue_strategy.observe(self._on_queue_strategy, names="value")
        self._subscriptions: list[Subscription] = [project.on("labels_added", self._on_labels_added)]
        self.refresh()

    # ------------------------------------------------------------------ refreshing
    def refresh(self) -> None:
        """Recompute every figure from the project and redraw."""
        self._cancel_scheduled()
        self._last_refresh = time.monotonic()
        self.stale = False
        self.n_refreshes += 1
        project, q = self.project, self.question
        try:
            adjudication = project.annotation.queue("adjudication", None, question=q)
            self.n_adjudication = len(adjudication)
            strategy = self.queue_strategy.value
            self.queue = adjudication if strategy == "adjudication" else project.annotation.queue(
                strategy, None, question=q)
            self._queue_texts = {}
            ann = project.annotation.answers(q, include_honeypots=True)
            if ann.empty:
                self.report, self.drift, self.agreement = None, None, None
            else:
                self.report = project.quality.annotator_report(self.window, q, method=self.method)
                self.drift = project.quality.drift(self.window, q, require_gold=True)
                try:
                    self.agreement = project.quality.agreement(q)
                except WorkbenchError:  # no item has two answers yet
                    self.agreement = None
            self.last_error = None
        except WorkbenchError as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            _log.info("QualityDashboard could not refresh: %s", exc)
            ann = pd.DataFrame(columns=["annotator", "value", "is_honeypot"])
        self._render_status(ann)
        self._render_table()
        self._render_charts(ann)
        self._render_queue()

    def load_more(self) -> list[str]:
        """List the queue's next page of ``page_size`` rows (the "load more" button); return the listed ids."""
        total = len(self.queue) if self.queue is not None else 0
        self._queue_limit = min(self._queue_limit + self.page_size, max(total, self.page_size))
        return self._render_queue()

    def _on_queue_strategy(self, _change: Any = None) -> None:
        self._queue_limit = self.page_size  # another queue: start again from its first page
        try:
            self.queue = self.project.annotation.queue(self.queue_strategy.value, None, question=self.question)
        except WorkbenchError as exc:
            self.queue = None
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.queue_table.value = f'<div style="color:#b00020">{html.escape(self.last_error)}</div>'
            self.queue_count.value = ""
            self.queue_more.layout.display = "none"
            return
        self._queue_texts = {}
        self._render_queue()

    def _on_labels_added(self, **_: Any) -> None:
        wait = self.throttle - (time.monotonic() - self._last_refresh)
        if wait <= 0:
            self._safe_refresh()
            return
        self.stale = True
        if self._scheduled is not None:
            return
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            return
        if loop.is_running():  # in a kernel: refresh once at the end of the interval
            self._scheduled = loop.call_later(wait, self._safe_refresh)

    def _safe_refresh(self) -> None:
        self._scheduled = None
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - a dashboard bug must not break the user's labeling
            _log.exception("QualityDashboard could not refresh.")
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.status.value = f'<div style="color:#b00020">Could not refresh: {html.escape(self.last_error)}</div>'

    def _cancel_scheduled(self) -> None:
        handle = getattr(self, "_scheduled", None)
        if handle is not None:
            handle.cancel()
        self._scheduled = None

    def close(self) -> None:
        """Disconnect from the project and close every sub-widget."""
        self._cancel_scheduled()
        for sub in getattr(self, "_subscriptions", []):
            sub.disconnect()
        self._subscriptions = []
        named = [getattr(self, name, None) for name in ("refresh_button", "status", "adjudication_count",
                                                        "annotator_table", "honeypot_chart", "agreement_chart",
                                                        "label_mix_chart", "queue_strategy", "queue_table",
                                                        "queue_count", "queue_more")]  # absent if __init__ failed
        close_tree(self, [w for w in named if w is not None])  # containers too (see widgets.jupyter._tree)
        super().close()

    # ------------------------------------------------------------------ rendering
    def _render_status(self, ann: pd.DataFrame) -> None:
        self.adjudication_count.value = (
            f'<span class="wb-adjudication-count">{self.n_adjudication}</span> item(s) wait for adjudication'
        )
        if self.last_error is not None:
            self.status.value = f'<div style="color:#b00020">{html.escape(self.last_error)}</div>'
            return
        n_ann = int(ann["annotator"].nunique()) if len(ann) else 0
        n_hp = int(ann["is_honeypot"].sum()) if len(ann) else 0
        parts = [
            f"<b>{len(ann) - n_hp:,}</b> answers and <b>{n_hp:,}</b> honeypot answers by <b>{n_ann}</b> annotator(s)"
        ]
        if self.agreement is not None:
            a = self.agreement
            parts.append(
                f"Fleiss' kappa <b>{_fmt(float(a.fleiss_kappa))}</b>, Krippendorff's alpha "
                f"<b>{_fmt(float(a.krippendorff_alpha))}</b> on {a.n_items_multi_rated:,} multi-rated items"
            )
        if self.report is not None and "flagged" in self.report.columns:
            flagged = [str(x) for x in self.report.index[self.report["flagged"].astype(bool)]]
            parts.append("flagged: <b>" + html.escape(", ".join(flagged)) + "</b>" if flagged else "no one flagged")
        parts.append(f"refreshed {time.strftime('%H:%M:%S')}")
        self.status.value = '<div class="wb-quality-status">' + " &middot; ".join(parts) + "</div>"

    def _render_table(self) -> None:
        if self.report is None:
            self.annotator_table.value = "<i>No human annotations yet.</i>"
            return
        cols = [c for c in _TABLE_COLUMNS if c in self.report.columns]
        head = "".join(f'<th style="{_CELL}">{html.escape(c.replace("_", " "))}</th>' for c in ["annotator", *cols])
        rows = []
        for name, row in self.report.iterrows():
            style = ' style="background:#fdecea"' if bool(row.get("flagged", False)) else ""
            cells = "".join(f'<td style="{_CELL}">{_fmt(row[c])}</td>' for c in cols)
            rows.append(f'<tr data-annotator="{html.escape(str(name))}"{style}><td style="{_CELL}">'
                        f"{html.escape(str(name))}</td>{cells}</tr>")
        self.annotator_table.value = (
            '<table class="wb-annotator-table" style="border-collapse:collapse">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )

    def _texts(self, ids: list[str]) -> dict[str, str]:
        """The text (or the data, for non-text projects) of each id, fetched once per refresh."""
        column = self.project.text_column
        for eid in ids:
            if eid not in self._queue_texts:
                row = self.project.example(eid)
                if column is not None and column in row.index:
                    value = row[column]
                    self._queue_texts[eid] = "" if pd.api.types.is_scalar(value) and pd.isna(value) else str(value)
                else:
                    self._queue_texts[eid] = "; ".join(f"{k}={v}" for k, v in row.items() if k != "data_version")
        return {eid: self._queue_texts[eid] for eid in ids}

    def _render_queue(self) -> list[str]:
        """List the queue's first ``_queue_limit`` rows; return their ids."""
        strategy = self.queue_strategy.value
        queue = self.queue if self.queue is not None else pd.DataFrame(columns=["example_id", "score", "reason"])
        total = len(queue)
        shown = queue.head(self._queue_limit)
        ids = [str(i) for i in shown["example_id"]]
        if not total:
            self.queue_table.value = f'<i class="wb-empty">The {html.escape(strategy)} queue is empty.</i>'
        else:
            texts = self._texts(ids)
            head = "".join(f'<th style="{_CELL}">{h}</th>' for h in ("#", "id", "score", "reason", "text"))
            rows = []
            for rank, (eid, score, reason) in enumerate(
                zip(ids, shown["score"], shown["reason"], strict=True), start=1
            ):
                text = texts[eid]
                text = text if len(text) <= _QUEUE_TEXT_CHARS else text[: _QUEUE_TEXT_CHARS - 1] + "\u2026"
                cells = [str(rank), html.escape(eid), _fmt(float(score)), html.escape(str(reason)), html.escape(text)]
                rows.append(f'<tr data-id="{html.escape(eid, quote=True)}">'
                            + "".join(f'<td style="{_CELL}">{c}</td>' for c in cells) + "</tr>")
            self.queue_table.value = (
                '<table class="wb-queue-table" style="border-collapse:collapse">'
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            )
        self.queue_count.value = (
            f'<span class="wb-queue-shown">{len(ids):,}</span> of <span class="wb-queue-total">{total:,}</span>'
            if total else ""
        )
        left = total - len(ids)
        self.queue_more.description = f"load {min(left, self.page_size):,} more" if left > 0 else "load more"
        self.queue_more.layout.display = None if left > 0 else "none"
        return ids

    def _render_charts(self, ann: pd.DataFrame) -> None:
        from widgets._quality_charts import agreement_heatmap, empty_chart, honeypot_accuracy_chart, label_mix_chart

        hp: alt.TopLevelMixin
        ag: alt.TopLevelMixin
        if self.drift is not None and "honeypot_accuracy" in self.drift.columns:
            hp = honeypot_accuracy_chart(self.drift)
        else:
            hp = empty_chart("Honeypot accuracy over time", "no gold items or no answers yet")
        if self.agreement is not None and len(self.agreement.pairwise):
            ag = agreement_heatmap(self.agreement.pairwise)
        else:
            ag = empty_chart("Pairwise Cohen's kappa", "no item has two annotators yet")
        regular = ann[~ann["is_honeypot"].astype(bool)] if len(ann) else ann
        mix = label_mix_chart(regular[["annotator", "value"]])
        self.charts = {"honeypot": hp, "agreement": ag, "label_mix": mix}
        for out, chart in ((self.honeypot_chart, hp), (self.agreement_chart, ag), (self.label_mix_chart, mix)):
            out.outputs = (_display_data(chart),)


#: The Vega-Lite mimetype JupyterLab 4 renders offline with its bundled Vega (altair 6 writes v6 specs, whose
#: default renderer is HTML loading Vega from a CDN: blank without internet access).
VEGALITE_MIMETYPE = "application/vnd.vegalite.v5+json"
_V5_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


def _display_data(chart: Any) -> dict[str, Any]:
    """An output for ``Output.outputs``: the chart's spec under the Vega-Lite 5 mimetype (offline rendering).

    The charts use only marks and encodings that Vega-Lite 5 and 6 share.
    """
    spec = chart.to_dict(validate=False)  # the builders are validated by the tests
    spec["$schema"] = _V5_SCHEMA
    title = spec.get("title", "")
    text = title.get("text", "") if isinstance(title, dict) else str(title)
    return {
        "output_type": "display_data",
        "data": {VEGALITE_MIMETYPE: spec, "text/plain": f"<Altair chart: {text}>"},
        "metadata": {},
    }
