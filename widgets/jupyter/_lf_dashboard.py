"""A live dashboard of a project's labeling functions, for JupyterLab.

The dashboard holds a :class:`workbench.Project`, listens to its ``lfs_changed``,
``lfs_applied`` and ``data_added`` events (and ``labels_added`` with gold, when it shows the
project's gold), and redraws itself from
``project.lfs.summary()`` (which reuses every cached vote): re-registering an LF in another
cell updates the dashboard without re-running the dashboard's cell. Every number on it is
computed by :mod:`workbench.lf`; this module only lays them out.
"""

from __future__ import annotations

import contextlib
import html
import logging
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import altair as alt
import ipywidgets as widgets
import numpy as np
import pandas as pd

from widgets.jupyter._tree import close_tree
from workbench import ABSTAIN, Project
from workbench.exceptions import LFError, WorkbenchError
from workbench.lf import lf_pair_matrix, overall_stats, rows_where_conflict, rows_where_fires, rows_where_wrong

if TYPE_CHECKING:
    from workbench.lf import LFResult

__all__ = ["LFDashboard", "DrilldownWidget"]

_log = logging.getLogger(__name__)

#: Drill-down modes: value -> label shown in the mode dropdown.
DRILLDOWN_MODES: dict[str, str] = {
    "fires": "where it votes",
    "conflicts": "where it conflicts with another LF",
    "wrong": "where it disagrees with gold",
}

_TEXT_CHARS = 300
_VEGALITE5_MIME = "application/vnd.vegalite.v5+json"
_VEGALITE5_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"

_CSS = """
<style>
.wb-lf-table {border-collapse: collapse; font-size: 12px; font-family: var(--jp-ui-font-family, sans-serif);}
.wb-lf-table th, .wb-lf-table td {padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right;}
.wb-lf-table th {background: #f3f3f3;}
.wb-lf-table td.wb-col-lf, .wb-lf-table td.wb-col-polarity, .wb-lf-table td.wb-col-text {text-align: left;}
.wb-lf-table tr.wb-has-errors td.wb-col-errors {color: #b00020; font-weight: bold;}
.wb-lf-table tr.wb-recomputed td.wb-col-lf {font-weight: bold;}
.wb-error-pane pre {max-height: 12em; overflow: auto; font-size: 11px;}
</style>
"""


def _esc(value: Any) -> str:
    """HTML-escape anything (quotes too: values land in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _pct(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if np.isnan(v) else f"{v:.1%}"


def _short(text: Any, limit: int = _TEXT_CHARS) -> str:
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    return s if len(s) <= limit else s[: limit - 1] + "\u2026"


def _vegalite_bundle(spec: dict[str, Any]) -> dict[str, Any]:
    """A display bundle JupyterLab draws with its built-in Vega-Lite 5 renderer: offline, no CDN.

    Altair's default HTML renderer loads Vega from a CDN, which fails on air-gapped hubs. The
    dashboard's charts use only marks and encodings Vega-Lite 5 and 6 share, so the spec is
    handed to the renderer JupyterLab 4 ships with.
    """
    spec = dict(spec)
    spec["$schema"] = _VEGALITE5_SCHEMA
    return {_VEGALITE5_MIME: spec, "text/plain": "<LF charts: coverage, accuracy, LF x LF conflicts>"}


class DrilldownWidget(widgets.VBox):
    """The drill-down pane: pick an LF and a mode, see (HTML-escaped) example rows, a page at a time.

    Attributes
    ----------
    lf, mode, other : ipywidgets.Dropdown
        The LF to inspect; what to show (``"fires"``, ``"conflicts"``, ``"wrong"``); the
        other LF for ``"conflicts"``.
    examples : ipywidgets.HTML
        The example rows.
    count : ipywidgets.HTML
        How many rows are shown of how many match ("20 of 1,204").
    more : ipywidgets.Button
        Shows the next page of rows (hidden when every matching row is shown).
    shown_ids : list
        Ids of the rows currently shown.
    n_matching : int
        How many rows match (the first page of ``max_examples`` is shown; ``more`` adds pages).
    """

    def __init__(self) -> None:
        self.lf = widgets.Dropdown(description="LF", options=[], layout=widgets.Layout(width="260px"))
        self.mode = widgets.Dropdown(
            description="show rows",
            options=[(label, value) for value, label in DRILLDOWN_MODES.items()],
            value="fires",
            layout=widgets.Layout(width="360px"),
        )
        self.other = widgets.Dropdown(description="with LF", options=[], layout=widgets.Layout(width="260px"))
        self.examples = widgets.HTML()
        self.count = widgets.HTML()
        self.count.add_class("wb-drilldown-count")
        self.more = widgets.Button(description="load more", icon="angle-down", tooltip="Show the next page of rows")
        self.more.add_class("wb-drilldown-more")
        self.shown_ids: list[Any] = []
        self.n_matching = 0
        controls = widgets.HBox([self.lf, self.mode, self.other])
        pager = widgets.HBox([self.count, self.more], layout=widgets.Layout(align_items="center"))
        super().__init__([widgets.HTML("<b>Drill down</b>"), controls, self.examples, pager])
        self.add_class("wb-lf-drilldown")


class LFDashboard(widgets.VBox):
    """Live summary of a project's labeling functions: table, charts, drill-down, errors.

    Parameters
    ----------
    project : workbench.Project
        The project whose registered LFs are shown.
    gold : str or pandas.Series, optional
        Gold labels for the accuracy columns and the "disagrees with gold" drill-down: a
        data column, ``"gold"`` (labels recorded with ``source="gold"``) or a Series of
        choices indexed by example id (see ``project.lfs.gold_labels``).
    question : str, optional
        The schema question (default: the only one).
    max_examples : int, default 20
        Rows per page of the drill-down: the first page is shown, "load more" adds the next.
    show_charts : bool, default True
        Draw the Altair charts (coverage, accuracy, conflict heat map and, with gold, the
        reliability diagram of the label model on the gold rows).
    calibration_model : str, default "dawid_skene"
        The label model whose reliability diagram is drawn (``project.models.reliability``;
        an unsupervised one is cheap enough to redraw on every LF edit).

    Attributes
    ----------
    status : ipywidgets.HTML
        Overall coverage, overlap, conflict, and the time and duration of the last refresh.
    sort_by, sort_descending : ipywidgets.Dropdown, ipywidgets.Checkbox
        Sort order of the summary table.
    summary_table : ipywidgets.HTML
        The per-LF table (one ``<tr data-lf=name>`` per LF).
    charts : ipywidgets.Output
        The Altair charts (see :mod:`widgets.charts`).
    drilldown : DrilldownWidget
        Example rows where an LF votes, conflicts, or disagrees with gold, a page at a time
        (``drilldown.more`` or :meth:`load_more` shows the next page).
    errors : ipywidgets.HTML
        LFs that raised: name, count, exception, example ids and rows, traceback.
    summary : pandas.DataFrame or None
        The last ``project.lfs.summary()`` shown.
    last_result : workbench.lf.LFResult or None
        The last apply (``last_result.computed`` says which LFs were recomputed).
    last_refresh_seconds : float
        Wall time of the last refresh.

    Examples
    --------
    >>> dashboard = LFDashboard(project, gold="label")   # doctest: +SKIP
    >>> dashboard                                         # doctest: +SKIP
    >>> dashboard.close()   # disconnects from the project  # doctest: +SKIP
    """

    def __init__(
        self,
        project: Project,
        gold: str | pd.Series | None = None,
        question: str | None = None,
        *,
        max_examples: int = 20,
        show_charts: bool = True,
        calibration_model: str = "dawid_skene",
    ) -> None:
        self.calibration_model = calibration_model
        self.reliability: pd.DataFrame | None = None
        if not isinstance(project, Project):
            raise TypeError(
                f"The 'project' parameter of LFDashboard must be a workbench.Project. Got {type(project).__name__} "
                f"instead; open one with wb.Project.open(path)."
            )
        if not isinstance(max_examples, int) or isinstance(max_examples, bool) or max_examples < 1:
            raise ValueError(
                f"The 'max_examples' parameter of LFDashboard must be a positive int. Got {max_examples!r} instead."
            )
        self.project = project
        self.gold = gold
        self.question = question
        self.max_examples = max_examples
        self._drill_limit = max_examples  # rows of the drill-down shown: grows by a page with "load more"
        self.show_charts = show_charts
        self.summary: pd.DataFrame | None = None
        self.pairs: pd.DataFrame | None = None
        self.overall: dict[str, float] = {}
        self.last_result: LFResult | None = None
        self.last_refresh_seconds = 0.0
        self.last_refresh_at: datetime | None = None
        self.last_error: str | None = None
        self.timings: dict[str, float] = {}
        self.n_refreshes = 0
        self.chart: Any = None
        self._L = np.empty((0, 0), dtype=np.int8)
        self._names: list[str] = []
        self._row_ids: pd.Index = pd.Index([])
        self._gold: np.ndarray | None = None
        self._recomputed: list[str] = []
        self._closed = False
        self._refreshing = False
        self._captured: LFResult | None = None
        self._shown_state: tuple[Any, ...] | None = None
        self._hold = 0
        self._pending = False
        self._updating_controls = False

        self.status = widgets.HTML()
        self.status.add_class("wb-lf-status")
        self.sort_by = widgets.Dropdown(description="sort by", layout=widgets.Layout(width="240px"))
        self.sort_descending = widgets.Checkbox(value=False, description="descending", indent=False)
        self.summary_table = widgets.HTML()
        self.summary_table.add_class("wb-lf-summary")
        self.charts = widgets.Output()
        self.charts.add_class("wb-lf-charts")
        self.drilldown = DrilldownWidget()
        self.errors = widgets.HTML()
        self.errors.add_class("wb-lf-errors")
        self._set_sort_options()
        self.sort_by.value = "j"
        if self.gold is None:
            self.drilldown.mode.options = [(v, k) for k, v in DRILLDOWN_MODES.items() if k != "wrong"]

        super().__init__(
            [
                widgets.HTML("<b>Labeling functions</b>"),
                self.status,
                widgets.HBox([self.sort_by, self.sort_descending]),
                self.summary_table,
                self.charts,
                self.drilldown,
                widgets.HTML("<b>Errors</b>"),
                self.errors,
            ]
        )
        self.add_class("wb-lf-dashboard")

        self.sort_by.observe(self._on_sort, names="value")
        self.sort_descending.observe(self._on_sort, names="value")
        for control in (self.drilldown.lf, self.drilldown.mode, self.drilldown.other):
            control.observe(self._on_drilldown, names="value")
        self.drilldown.more.on_click(lambda _b: self.load_more())
        self._subscriptions = [
            project.on("lfs_changed", self._on_lfs_changed),
            project.on("lfs_applied", self._on_lfs_applied),
            project.on("data_added", self._on_data_added),
        ]
        if isinstance(gold, str) and gold == "gold":  # the project's gold, which grows as it is added
            self._subscriptions.append(project.on("labels_added", self._on_labels_added))
        try:
            self.refresh()
        except BaseException:
            self.close()  # never leave listeners behind a dashboard that failed to build
            raise

    # ------------------------------------------------------------------ events
    def _state(self, n_rows: int) -> tuple[Any, ...]:
        """What the dashboard shows: the registered LF objects (a replaced LF is a new object) and the row count."""
        return tuple(id(lf) for lf in self.project.lfs), n_rows

    def _on_lfs_changed(self, name: str | None = None, action: str | None = None, **_: Any) -> None:
        if action == "unchanged" or self._state(len(self._row_ids)) == self._shown_state:
            return  # e.g. another dashboard's refresh already brought this one up to date
        self._refresh_from_event()

    def _on_lfs_applied(self, result: LFResult | None = None, **_: Any) -> None:
        if self._refreshing:  # the apply inside our own refresh
            if self._captured is None:
                self._captured = result
            return
        if result is not None and self._state(len(result.row_ids)) == self._shown_state:
            return  # an apply of exactly what is on screen: nothing to redraw
        self._refresh_from_event(result)

    def _on_data_added(self, **_: Any) -> None:
        self._refresh_from_event()

    def _on_labels_added(self, events: Any = (), **_: Any) -> None:
        # the project's gold ("gold") moves the accuracy columns and the "disagrees with gold" drill-down
        if any(e.source == "gold" for e in events):
            self._refresh_from_event()

    def _refresh_from_event(self, result: LFResult | None = None) -> None:
        try:
            self.refresh(result)
        except Exception as exc:  # noqa: BLE001 - a dashboard bug must not break the user's cell
            _log.exception("LFDashboard could not refresh.")
            self._show_failure(exc)

    # ------------------------------------------------------------------ refreshing
    @contextlib.contextmanager
    def hold_refresh(self) -> Iterator[LFDashboard]:
        """Defer refreshes until the block ends (e.g. while registering many LFs), then refresh once."""
        self._hold += 1
        try:
            yield self
        finally:
            self._hold -= 1
            if self._hold == 0 and self._pending:
                self._pending = False
                self._refresh_from_event()

    def refresh(self, result: LFResult | None = None) -> None:
        """Re-apply the LFs (cached votes are reused) and redraw every pane.

        Parameters
        ----------
        result : LFResult, optional
            An apply that just happened (its ``computed`` is reported as "recomputed").
        """
        if self._closed:
            return
        if self._hold:
            self._pending = True
            return
        if self._refreshing:
            return
        self._refreshing = True
        self._captured = None
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        try:
            if self.project.lfs.names:
                # lf_summary applies the LFs (reusing every cached vote) and announces lfs_applied;
                # _on_lfs_applied captures that result, so one refresh costs one apply.
                summary = self.project.lfs.summary(gold=self.gold, question=self.question)
            else:  # nothing to summarise yet
                summary = pd.DataFrame(index=pd.Index([], name="lf", dtype=object))
            applied = self._captured if self._captured is not None else self.project.lfs.apply(progress=False)
            t1 = time.perf_counter()
            gold = None if self.gold is None else self.project.lfs.gold_labels(self.gold, self.question)
            reliability = None
            if gold is not None and len(summary) and self.show_charts:  # inside the refresh: its apply is ours
                try:
                    reliability = self.project.models.reliability(self.gold, model=self.calibration_model,
                                                                  question=self.question)
                except WorkbenchError as exc:  # e.g. no gold row yet: the other panes still render
                    _log.info("No reliability diagram: %s", exc)
            t2 = time.perf_counter()
            timings["apply_and_summary"], timings["gold"] = t1 - t0, t2 - t1
        except WorkbenchError as exc:
            self._shown_state = None
            self._show_failure(exc)
            return
        finally:
            self._refreshing = False
        names = [str(n) for n in summary.index]
        cols = [applied.lf_names.index(n) for n in names]
        self._L = applied.L[:, cols]
        self._names = names
        self._row_ids = applied.row_ids
        self._gold = self._align_gold(gold)
        report = result if result is not None else applied  # an outside apply says what it computed
        self._recomputed = [n for n in names if report.computed.get(n)]
        self.last_result = report
        self.summary = summary
        self.overall = overall_stats(self._L)
        self.pairs = lf_pair_matrix(self._L, names) if names else None
        self.reliability = reliability
        self.last_error = None
        self._shown_state = self._state(len(applied.row_ids))
        t3 = time.perf_counter()
        timings["analysis"] = t3 - t2
        self._render_table()
        self._render_errors()
        self._update_drilldown_controls()
        self._render_drilldown()
        t4 = time.perf_counter()
        timings["panes"] = t4 - t3
        self._render_charts()
        t5 = time.perf_counter()
        timings["charts"] = t5 - t4
        self.last_refresh_seconds = t5 - t0
        timings["total"] = self.last_refresh_seconds
        self.timings = timings
        self.last_refresh_at = datetime.now()
        self.n_refreshes += 1
        self._render_status()

    def _align_gold(self, gold: np.ndarray | None) -> np.ndarray | None:
        if gold is None:
            return None
        ids = self.project.examples().index
        if len(ids) == len(self._row_ids) and ids.equals(self._row_ids):
            return gold
        return pd.Series(gold, index=ids).reindex(self._row_ids).fillna(ABSTAIN).astype(np.int64).to_numpy()

    def _show_failure(self, exc: BaseException) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.status.value = (
            f'<div class="wb-status wb-status-failed" style="color:#b00020">The dashboard could not refresh: '
            f"{_esc(self.last_error)}</div>"
        )

    # ------------------------------------------------------------------ rendering
    @property
    def choices(self) -> list[str]:
        """The names of the question's choices (label ids index them)."""
        return list(self.project.schema.question(self.question).choices)

    def _label(self, value: Any) -> str:
        choices = self.choices
        v = int(value)
        if v == ABSTAIN:
            return ""
        return choices[v] if 0 <= v < len(choices) else str(v)

    def _set_sort_options(self) -> None:
        options = [
            ("registration order", "j"),
            ("name", "lf"),
            ("coverage", "coverage"),
            ("overlaps", "overlaps"),
            ("conflicts", "conflicts"),
            ("votes", "n_votes"),
            ("errors", "errors"),
        ]
        if self.gold is not None:
            options[6:6] = [("accuracy", "emp_acc"), ("incorrect", "incorrect")]
        self.sort_by.options = options

    def sorted_summary(self) -> pd.DataFrame:
        """The summary in the table's current order (``sort_by`` / ``sort_descending``)."""
        if self.summary is None:
            return pd.DataFrame()
        key = self.sort_by.value or "j"
        frame = self.summary
        ascending = not self.sort_descending.value
        if key == "lf":
            order = sorted(frame.index, key=str, reverse=not ascending)
            return frame.loc[order]
        if key not in frame.columns:
            return frame
        return frame.sort_values(key, ascending=ascending, na_position="last", kind="stable")

    def _on_sort(self, _change: Any = None) -> None:
        self._render_table()
        self._render_charts()

    def _render_status(self) -> None:
        n_lfs = len(self._names)
        n_items = int(self._L.shape[0])
        if self.last_error is not None:
            return
        parts = [f"<b>{n_lfs}</b> LFs on <b>{n_items:,}</b> examples"]
        if n_lfs:
            parts += [
                f'coverage <b class="wb-overall-coverage">{_pct(self.overall.get("coverage"))}</b>',
                f'overlap <b class="wb-overall-overlap">{_pct(self.overall.get("overlap"))}</b>',
                f'conflict <b class="wb-overall-conflict">{_pct(self.overall.get("conflict"))}</b>',
            ]
        stamp = self.last_refresh_at.strftime("%H:%M:%S") if self.last_refresh_at else "-"
        parts.append(
            f'refreshed {stamp} in <span class="wb-refresh-ms">{self.last_refresh_seconds * 1000:.0f}</span> ms'
        )
        if self._recomputed:
            parts.append("recomputed: " + ", ".join(_esc(n) for n in self._recomputed))
        if self.last_result is not None and self.last_result.errors:
            parts.append(f'<span style="color:#b00020">{len(self.last_result.errors)} LF(s) raised</span>')
        volatile = getattr(self.last_result, "volatile", None) or {}
        if volatile:  # the engine could not fingerprint their code: never cached, recomputed every apply
            parts.append(
                '<span class="wb-volatile" title="' + _esc("; ".join(f"{n}: {why}" for n, why in volatile.items()))
                + '">volatile (recomputed on every apply): ' + ", ".join(_esc(n) for n in volatile) + "</span>"
            )
        self.status.value = '<div class="wb-status">' + " &middot; ".join(parts) + "</div>"

    def _render_table(self) -> None:
        frame = self.sorted_summary()
        if frame.empty:
            self.summary_table.value = (
                '<div class="wb-empty">No labeling functions yet: register one with project.lfs.add(...) '
                "or @project.lfs.labeling_function().</div>"
            )
            return
        has_gold = "emp_acc" in frame.columns
        timings = self.last_result.timings if self.last_result is not None else {}
        head = ["LF", "polarity", "coverage", "overlaps", "conflicts", "votes"]
        if has_gold:
            head += ["correct", "incorrect", "accuracy (95% CI)"]
        head += ["errors", "last run"]
        rows = []
        for name, r in frame.iterrows():
            name = str(name)
            classes = []
            if int(r.get("errors", 0)):
                classes.append("wb-has-errors")
            if name in self._recomputed:
                classes.append("wb-recomputed")
            cells = [
                ("lf", _esc(name)),
                ("polarity", _esc(", ".join(self._label(v) for v in r["polarity"]))),
                ("coverage", _pct(r["coverage"])),
                ("overlaps", _pct(r["overlaps"])),
                ("conflicts", _pct(r["conflicts"])),
                ("votes", f"{int(r['n_votes']):,}"),
            ]
            if has_gold:
                acc = _pct(r["emp_acc"])
                ci = f" [{_pct(r['emp_acc_low'])}, {_pct(r['emp_acc_high'])}]" if acc else ""
                cells += [
                    ("correct", f"{int(r['correct']):,}"),
                    ("incorrect", f"{int(r['incorrect']):,}"),
                    ("accuracy", acc + ci),
                ]
            cells.append(("errors", f"{int(r.get('errors', 0)):,}"))
            run = f"{timings.get(name, 0.0) * 1000:.0f} ms" if name in self._recomputed else "cached"
            cells.append(("run", run))
            tds = "".join(f'<td class="wb-col-{k}">{v}</td>' for k, v in cells)
            rows.append(f'<tr data-lf="{_esc(name)}" class="{" ".join(classes)}">{tds}</tr>')
        ths = "".join(f"<th>{_esc(h)}</th>" for h in head)
        self.summary_table.value = (
            f'{_CSS}<table class="wb-lf-table"><thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )

    def _render_errors(self) -> None:
        errors = {} if self.last_result is None else self.last_result.errors
        errors = {n: rec for n, rec in errors.items() if n in set(self._names)}
        if not errors:
            self.errors.value = '<div class="wb-error-pane wb-no-errors">No LF raised an exception.</div>'
            return
        texts = self._texts([i for rec in errors.values() for i in list(getattr(rec, "row_ids", []))[:3]])
        blocks = []
        for name, rec in errors.items():
            ids = list(getattr(rec, "row_ids", []))
            examples = "".join(
                f"<li><code>{_esc(i)}</code>: {_esc(_short(texts.get(i), 120))}</li>" for i in ids[:3]
            )
            more = f" (first {len(ids)} ids: {_esc(', '.join(map(str, ids)))})" if ids else ""
            blocks.append(
                f'<div class="wb-error" data-lf="{_esc(name)}"><b>{_esc(name)}</b> raised on '
                f'<b class="wb-error-count">{int(rec.count):,}</b> row(s): '
                f'<code class="wb-error-exception">{_esc(rec.exception)}</code>{more}'
                f"<ul>{examples}</ul>"
                f"<details><summary>traceback</summary><pre>{_esc(rec.traceback)}</pre></details></div>"
            )
        self.errors.value = _CSS + '<div class="wb-error-pane">' + "".join(blocks) + "</div>"

    def _render_charts(self) -> None:
        if not self.show_charts:
            return
        if self.summary is None or self.summary.empty:
            self.chart = None
            self.charts.outputs = ()
            return
        from widgets.charts import lf_overview_chart

        order = [str(n) for n in self.sorted_summary().index]
        self.chart = lf_overview_chart(self.summary, self.pairs, order=order)
        if self.reliability is not None:
            from widgets import reliability_chart

            rel = self.reliability
            title = f"Label model {rel.attrs.get('model')} on {rel.attrs.get('n_gold')} gold rows"
            self.chart = alt.vconcat(self.chart, reliability_chart(rel, title=title, size=220))
        # The builders are validated by the tests; skipping jsonschema validation here saves ~150 ms a refresh.
        spec = self.chart.to_dict(validate=False)
        self.charts.outputs = ({"output_type": "display_data", "data": _vegalite_bundle(spec), "metadata": {}},)

    # ------------------------------------------------------------------ drill-down
    def _update_drilldown_controls(self) -> None:
        d = self.drilldown
        self._updating_controls = True
        try:
            current = d.lf.value
            d.lf.options = self._names
            if current in self._names:
                d.lf.value = current
            elif self._names:
                d.lf.value = self._names[0]
            self._update_other()
        finally:
            self._updating_controls = False

    def _update_other(self, keep: bool = True) -> None:
        """Offer every other LF; keep the current one (``keep``) or pick the most conflicting."""
        d = self.drilldown
        others = [n for n in self._names if n != d.lf.value]
        current = d.other.value
        d.other.options = others
        if keep and current in others:
            d.other.value = current
        elif others and self.pairs is not None and d.lf.value in self._names:
            conflicts = self.pairs["conflict"].loc[d.lf.value, others]
            d.other.value = str(conflicts.idxmax()) if len(conflicts) else others[0]
        d.other.layout.display = None if d.mode.value == "conflicts" else "none"

    def _on_drilldown(self, change: Any) -> None:
        if self._updating_controls:
            return
        if change is not None and change.get("owner") is not self.drilldown.other:
            self._updating_controls = True
            try:
                self._update_other(keep=change.get("owner") is not self.drilldown.lf)
            finally:
                self._updating_controls = False
        self._drill_limit = self.max_examples  # other rows: start again from the first page
        self._render_drilldown()

    def show_rows(self, lf: str, mode: str = "fires", other: str | None = None) -> list[Any]:
        """Point the drill-down at ``lf`` (and ``other``, for ``mode="conflicts"``); return the shown ids."""
        if lf not in self._names:
            raise LFError(f"No labeling function named {lf!r} on the dashboard. Registered: {self._names}.")
        modes = [v for _, v in self.drilldown.mode.options]
        if mode not in modes:
            raise ValueError(f"The 'mode' parameter of show_rows must be one of {modes}. Got {mode!r} instead.")
        self._updating_controls = True
        try:
            self.drilldown.lf.value = lf
            self.drilldown.mode.value = mode
            self._update_other(keep=False)
            if other is not None:
                if other not in self.drilldown.other.options:
                    raise LFError(f"'other' must name another LF on the dashboard. Got {other!r}.")
                self.drilldown.other.value = other
        finally:
            self._updating_controls = False
        self._drill_limit = self.max_examples
        self._render_drilldown()
        return list(self.drilldown.shown_ids)

    def load_more(self) -> list[Any]:
        """Show the drill-down's next page of ``max_examples`` rows (the "load more" button); return the shown ids."""
        most = max(self.drilldown.n_matching, self.max_examples)
        self._drill_limit = min(self._drill_limit + self.max_examples, most)
        self._render_drilldown()
        return list(self.drilldown.shown_ids)

    def _texts(self, ids: Sequence[Any]) -> dict[Any, Any]:
        if not len(ids):
            return {}
        frame = self.project.examples()
        column = self.project.text_column
        rows = frame.reindex(pd.Index(list(ids)))
        if column is not None and column in rows.columns:
            return dict(zip(ids, rows[column].tolist(), strict=True))
        cols = [c for c in rows.columns if c != "data_version"]
        return {i: "; ".join(f"{c}={v}" for c, v in zip(cols, row, strict=True)) for i, row in
                zip(ids, rows[cols].itertuples(index=False, name=None), strict=True)}

    def _render_pager(self) -> None:
        d = self.drilldown
        shown, total = len(d.shown_ids), d.n_matching
        d.count.value = (
            f'<span class="wb-drilldown-shown">{shown:,}</span> of <span class="wb-drilldown-total">{total:,}</span>'
            if total else ""
        )
        left = total - shown
        d.more.description = f"load {min(left, self.max_examples):,} more" if left > 0 else "load more"
        d.more.layout.display = None if left > 0 else "none"

    def _render_drilldown(self) -> None:
        self._render_drilldown_rows()
        self._render_pager()

    def _render_drilldown_rows(self) -> None:
        d = self.drilldown
        lf, mode, other = d.lf.value, d.mode.value, d.other.value
        if not self._names or lf not in self._names:
            d.shown_ids, d.n_matching = [], 0
            d.examples.value = '<div class="wb-empty">No labeling function to inspect.</div>'
            return
        j = self._names.index(lf)
        if mode == "conflicts":
            if other is None or other not in self._names:
                d.shown_ids, d.n_matching = [], 0
                d.examples.value = '<div class="wb-empty">Register a second LF to see conflicts.</div>'
                return
            pos = rows_where_conflict(self._L, lf, other, self._names)
            what = f"{_esc(lf)} and {_esc(other)} vote differently"
        elif mode == "wrong" and self._gold is not None:
            pos = rows_where_wrong(self._L, lf, self._gold, self._names)
            what = f"{_esc(lf)} disagrees with gold"
        else:
            pos = rows_where_fires(self._L, lf, self._names)
            what = f"{_esc(lf)} votes"
        d.n_matching = len(pos)
        pos = pos[: self._drill_limit]
        ids = [self._row_ids[p] for p in pos]
        d.shown_ids = ids
        texts = self._texts(ids)
        head = ["id", lf]
        if mode == "conflicts":
            head.append(str(other))
        if self._gold is not None:
            head.append("gold")
        head.append("text")
        rows = []
        k_other = self._names.index(other) if mode == "conflicts" and other in self._names else None
        for p, i in zip(pos, ids, strict=True):
            cells = [("id", _esc(i)), ("vote", _esc(self._label(self._L[p, j])))]
            if k_other is not None:
                cells.append(("other", _esc(self._label(self._L[p, k_other]))))
            if self._gold is not None:
                cells.append(("gold", _esc(self._label(self._gold[p]))))
            cells.append(("text", _esc(_short(texts.get(i)))))
            rows.append(
                f'<tr data-id="{_esc(i)}">' + "".join(f'<td class="wb-col-{k}">{v}</td>' for k, v in cells) + "</tr>"
            )
        ths = "".join(f"<th>{_esc(h)}</th>" for h in head)
        caption = f'<div class="wb-drilldown-caption">{d.n_matching:,} row(s) where {what}</div>'
        table = f'<table class="wb-lf-table"><thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        d.examples.value = _CSS + caption + (table if rows else "")

    # ------------------------------------------------------------------ closing
    @property
    def subscriptions(self) -> list[Any]:
        """The live subscriptions to the project's events (empty once closed)."""
        return [s for s in self._subscriptions if s.connected]

    def close(self) -> None:
        """Disconnect from the project's events and close every sub-widget."""
        if not getattr(self, "_closed", True):  # also reached from __del__ after a failed __init__
            self._closed = True
            for sub in self._subscriptions:
                sub.disconnect()
            self._subscriptions = []
            # the whole tree, containers included (see widgets.jupyter._tree)
            close_tree(self, (self.sort_by, self.sort_descending, self.summary_table, self.charts, self.status,
                              self.errors, self.drilldown.lf, self.drilldown.mode, self.drilldown.other,
                              self.drilldown.examples, self.drilldown.count, self.drilldown.more,
                              self.drilldown))
        super().close()
