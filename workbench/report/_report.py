"""Execute a parameterised report notebook over a project and write it as one self-contained HTML file."""

from __future__ import annotations

import ast
import html
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.exceptions import OptionalDependencyError, ReportError

__all__ = [
    "DEFAULT_TEMPLATE",
    "Report",
    "ReportContents",
    "ReportError",
    "build_report",
    "convert_param",
    "read_report",
    "template_parameters",
]

#: The report notebook shipped with the package.
DEFAULT_TEMPLATE = Path(__file__).with_name("template.ipynb")
_HTML_TEMPLATE = "workbench_report.html.j2"
_VEGALITE = re.compile(r"^application/vnd\.vegalite\.v(\d+)[.+]json$")
_PARAMETERS_TAG = "parameters"
_INJECTED_TAG = "injected-parameters"
#: Where a chart spec is kept in the HTML (one ``<script type="application/json">`` per chart).
_SPEC_CLASS = "workbench-chart-spec"


@dataclass(frozen=True)
class Report:
    """What :func:`build_report` wrote.

    Attributes
    ----------
    path : Path
        The HTML file.
    template : Path
        The notebook that was executed.
    params : dict
        Every parameter the notebook ran with (the template's defaults, overridden).
    n_cells : int
        Cells executed.
    n_charts : int
        Vega-Lite charts embedded.
    chart_scripts : str
        Where the charts' JavaScript comes from: ``"inline"`` (embedded in the file, works
        offline) or ``"cdn"`` (loaded from jsDelivr when the file is opened).
    seconds : float
        Time taken.
    """

    path: Path
    template: Path
    params: dict[str, Any]
    n_cells: int
    n_charts: int
    chart_scripts: str
    seconds: float


@dataclass
class ReportContents:
    """The tables and charts of a written report, read back from its HTML (see :func:`read_report`).

    Attributes
    ----------
    tables : list of DataFrame
        Every HTML table in document order, cells as text (the first row of ``<th>`` as columns).
    charts : list of dict
        Every embedded Vega-Lite specification, data included, in document order.
    """

    tables: list[pd.DataFrame] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------------- parameters
def template_parameters(template: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The parameters a report notebook accepts, with their defaults.

    They are the plain assignments (``name = <literal>``) of the notebook's cell tagged
    ``parameters`` (papermill's convention). ``project_path`` must be one of them.

    Parameters
    ----------
    template : path-like, optional
        The notebook (default: :data:`DEFAULT_TEMPLATE`).

    Returns
    -------
    dict
        Parameter name -> default value, in the order of the cell.

    Raises
    ------
    ReportError
        The file is not a notebook, has no ``parameters`` cell, or that cell lacks ``project_path``.
    """
    path, nb = _read_template(template)
    return _parameters(path, nb)[1]


def _read_template(template: str | os.PathLike[str] | None) -> tuple[Path, Any]:
    import nbformat

    path = Path(template) if template is not None else DEFAULT_TEMPLATE
    if not path.is_file():
        raise ReportError(f"The report template {str(path)!r} does not exist (or is a directory); pass a .ipynb "
                          f"file with --template, or leave it out for the built-in report.")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a file that is not a notebook
        raise ReportError(f"The report template {str(path)!r} is not a readable notebook "
                          f"({type(exc).__name__}: {exc}).") from None
    return path, nb


def _parameters(path: Path, nb: Any) -> tuple[int, dict[str, Any]]:
    for k, cell in enumerate(nb.cells):  # noqa: B007 - k is the cell found
        if cell.cell_type == "code" and _PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            break
    else:
        raise ReportError(f"The report template {str(path)!r} has no cell tagged {_PARAMETERS_TAG!r}: tag the cell "
                          f"that assigns project_path (and the other parameters) with it.")
    try:
        tree = ast.parse(cell.source)
    except SyntaxError as exc:
        raise ReportError(f"The parameters cell of {str(path)!r} is not valid Python: {exc}.") from None
    params: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                params[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    if "project_path" not in params:
        raise ReportError(f"The parameters cell of {str(path)!r} does not assign project_path; add "
                          f"project_path = \"\" to it.")
    return k, params


def convert_param(name: str, text: str, default: Any) -> Any:
    """A ``--param name=text`` value converted to the type of the parameter's default.

    Booleans take ``true/false/yes/no/1/0``; integers and floats their usual spelling;
    strings are taken as they are; a parameter whose default is ``None`` takes a Python
    literal (``3``, ``0.5``, ``"x"``, ``[1, 2]``) or else the text.

    Raises
    ------
    ReportError
        The text does not fit the default's type.
    """
    if isinstance(default, bool):
        low = text.strip().lower()
        if low in ("true", "yes", "1", "on"):
            return True
        if low in ("false", "no", "0", "off"):
            return False
        raise ReportError(f"--param {name}= takes true or false (its default is {default!r}). Got {text!r} instead.")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ReportError(f"--param {name}= takes an integer (its default is {default!r}). Got {text!r} "
                              f"instead.") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise ReportError(f"--param {name}= takes a number (its default is {default!r}). Got {text!r} "
                              f"instead.") from None
    if isinstance(default, str):
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _resolve_params(path: Path, defaults: Mapping[str, Any], project: Path,
                    params: Mapping[str, Any] | None) -> dict[str, Any]:
    if params is not None and not isinstance(params, Mapping):
        raise ReportError(f"The 'params' parameter of build_report must be a mapping of parameter name -> value. "
                          f"Got {type(params).__name__} instead.")
    given = dict(params or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ReportError(f"The report template {path.name!r} has no parameter {', '.join(map(repr, unknown))}. It "
                          f"takes: {', '.join(k for k in defaults if k != 'project_path')}.")
    if "project_path" in given:
        raise ReportError("project_path is set from the PROJECT argument; do not pass it as a parameter.")
    resolved = {**defaults, **given, "project_path": str(project)}
    for key, value in resolved.items():
        try:
            ok = ast.literal_eval(repr(value)) == value
        except (ValueError, SyntaxError):
            ok = False
        if not ok:
            raise ReportError(f"The report parameter {key!r} must be a plain value (str, number, bool, None, list "
                              f"or dict of those). Got {type(value).__name__} instead.")
    return resolved


def _injected_cell(params: Mapping[str, Any]) -> Any:
    import nbformat

    lines = ["# Parameters injected by workbench.report.build_report"]
    lines += [f"{k} = {v!r}" for k, v in params.items()]
    lines += [
        "try:  # charts are kept as Vega-Lite specifications (a JSON output) and embedded in the HTML",
        "    import altair as _alt",
        "    _key = 'application/vnd.vegalite.v' + _alt.SCHEMA_VERSION.lstrip('v').split('.')[0] + '+json'",
        "    _alt.renderers.register('workbench-report', lambda spec, **_: {_key: spec, 'text/plain': '<chart>'})",
        "    _alt.renderers.enable('workbench-report')",
        "except ImportError:",
        "    pass",
    ]
    return nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [_INJECTED_TAG]})


# ---------------------------------------------------------------------- execution
def _need_jupyter() -> None:
    for module in ("nbclient", "nbconvert", "nbformat", "ipykernel"):
        if importlib.util.find_spec(module) is None:
            raise OptionalDependencyError(
                f"workbench report executes a notebook and needs {module}, which is not installed. Install the "
                f"extra: pip install labeling-workbench[jupyter]"
            )


def _check_out(out: Path) -> None:
    if out.is_dir():
        raise ReportError(f"--out {str(out)!r} is a directory; name the HTML file to write, e.g. "
                          f"--out {str(out / 'report.html')!r}.")
    if not out.parent.is_dir():
        raise ReportError(f"--out {str(out)!r}: the directory {str(out.parent)!r} does not exist; create it first.")
    if out.suffix.lower() not in (".html", ".htm"):
        raise ReportError(f"--out {str(out)!r}: the report is HTML; name the file with a .html suffix.")


def _cell_label(cell: Any) -> str:
    first = next((ln.strip() for ln in str(cell.source).splitlines() if ln.strip() and not ln.strip().startswith("#")),
                 "")
    return first if len(first) <= 60 else first[:57] + "..."


def _execute(nb: Any, path: Path, workdir: Path, timeout: float | None) -> None:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    with tempfile.TemporaryDirectory(prefix="workbench-report-kernel-") as kdir:
        # The kernel runs on this interpreter (the environment holding workbench), whatever kernels are installed.
        spec_dir = Path(kdir) / "workbench-report"
        spec_dir.mkdir()
        (spec_dir / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "workbench report", "language": "python",
        }), encoding="utf-8")
        ksm = KernelSpecManager(kernel_dirs=[kdir], ensure_native_kernel=False)
        km = KernelManager(kernel_name="workbench-report", kernel_spec_manager=ksm)
        client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="workbench-report",
                                resources={"metadata": {"path": str(workdir)}}, allow_errors=False)
        env = {**os.environ, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
        try:
            client.execute(env=env, stderr=subprocess.DEVNULL)  # the kernel's log lines are not the report's
        except CellTimeoutError:
            k = _failed_cell(nb, client)
            raise ReportError(f"The report notebook {path.name!r} timed out in cell {k + 1} "
                              f"({_cell_label(nb.cells[k])!r}): it ran longer than --timeout {timeout} seconds.") \
                from None
        except CellExecutionError as exc:
            k = _failed_cell(nb, client)
            raise ReportError(f"The report notebook {path.name!r} failed in cell {k + 1} "
                              f"({_cell_label(nb.cells[k])!r}): {exc.ename}: {_one_line(exc.evalue)}") from None
        except DeadKernelError as exc:
            raise ReportError(f"The report notebook's kernel died ({_one_line(str(exc))}).") from None


def _failed_cell(nb: Any, client: Any) -> int:
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return k
    # a timeout leaves no error output: the last code cell that started
    started = [k for k, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count")]
    return started[-1] + 1 if started and started[-1] + 1 < len(nb.cells) else (started[-1] if started else 0)


def _one_line(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text))
    return " ".join(text.split())


# ---------------------------------------------------------------------- charts and HTML
def _chart_scripts() -> tuple[str, str]:
    """(kind, HTML) of the scripts that draw the charts: inlined from an installed copy, else from a CDN."""
    spec = importlib.util.find_spec("panel")  # finds the files without importing panel
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / "dist" / "bundled" / "vegaplot"
        files = [sorted(folder.glob(f"{lib}@*")) for lib in ("vega", "vega-lite", "vega-embed")]
        if all(files):
            sources = [f[-1].read_text(encoding="utf-8").replace("</script", "<\\/script") for f in files]
            return "inline", "".join(f"<script>{s}</script>\n" for s in sources)
    urls = ["https://cdn.jsdelivr.net/npm/vega@6", "https://cdn.jsdelivr.net/npm/vega-lite@6",
            "https://cdn.jsdelivr.net/npm/vega-embed@7"]
    return "cdn", "".join(f'<script src="{u}"></script>\n' for u in urls)


_EMBED_JS = """<script>
(function () {
  document.querySelectorAll("script.SPEC_CLASS").forEach(function (node) {
    var target = document.getElementById(node.dataset.target);
    if (typeof vegaEmbed === "undefined") {
      target.textContent = "(chart not drawn: the Vega scripts could not be loaded)";
      return;
    }
    vegaEmbed(target, JSON.parse(node.textContent), {actions: false, renderer: "svg"});
  });
})();
</script>
""".replace("SPEC_CLASS", _SPEC_CLASS)


def _charts_to_html(nb: Any) -> int:
    """Replace each Vega-Lite output by a placeholder and its specification; returns how many."""
    n = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not data:
                continue
            key = next((k for k in data if _VEGALITE.match(k)), None)
            if key is None:
                continue
            n += 1
            spec = json.dumps(data[key], sort_keys=True).replace("</", "<\\/")
            target = f"workbench-chart-{n}"
            out["data"] = {"text/html": f'<div id="{target}" class="workbench-chart"></div>\n'
                                        f'<script type="application/json" class="{_SPEC_CLASS}" '
                                        f'data-target="{target}">{spec}</script>'}
            out.setdefault("metadata", {})
    return n


def _export(nb: Any, title: str) -> str:
    from nbconvert import HTMLExporter

    nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", template_file=str(Path(__file__).with_name(_HTML_TEMPLATE)))
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    body, _ = exporter.from_notebook_node(nb)
    return str(body)


def build_report(
    project_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    params: Mapping[str, Any] | None = None,
    template: str | os.PathLike[str] | None = None,
    timeout: float | None = 600,
) -> Report:
    """Execute the report notebook over a project and write it as one self-contained HTML file.

    The notebook (:data:`DEFAULT_TEMPLATE` unless ``template``) runs in a fresh kernel on this
    Python interpreter, with the parameters injected after its cell tagged ``parameters``
    (papermill's convention) and ``PYTHONHASHSEED=0``. The built-in report shows the
    project's counts and data versions, the LF table, the label-model comparison, annotator
    quality, the learning curve when training runs recorded one, and the label versions'
    lineage, with charts; every random step takes the ``seed`` parameter, so two runs on the
    same project give the same numbers. The HTML holds no code cells; images are embedded
    and Vega-Lite charts are drawn by scripts embedded in the file when an installed copy of
    Vega is found (Panel ships one), else loaded from jsDelivr when the file is opened
    (``Report.chart_scripts`` says which).

    Parameters
    ----------
    project_path : path-like
        The project.
    out : path-like
        The HTML file to write (its directory must exist). Written atomically.
    params : mapping, optional
        Report parameters (see :func:`template_parameters`). The built-in report takes ``seed``
        (0), ``gold`` (``"gold"``, or a data column of choices), ``question`` (default the
        first), ``window`` (annotator drift window: a time span, a count of answers, or ``""``
        for the project's ``drift_window``), ``version`` (the label version
        whose LFs are analysed, default the newest), ``lfs`` (a Python file that registers the
        project's LFs with ``project.lfs.add``: then the table and the comparison, with the
        cross-fitted default label model, come from live LFs instead of the cached votes),
        ``learning_curve`` (a CSV, Parquet or JSON Lines file from ``learning_curve``: columns
        ``n_labels``, ``score`` and optionally ``strategy``, ``seed``) and ``title``.
    template : path-like, optional
        Another notebook to execute; it needs a cell tagged ``parameters`` assigning ``project_path``.
    timeout : float or None, default 600
        Seconds one cell may run (None: no limit).

    Returns
    -------
    Report

    Raises
    ------
    ReportError
        A bad parameter, template or output path, or a cell failed: the message names the cell
        and its error, and nothing is written.
    ProjectNotFoundError
        There is no project at ``project_path``.
    OptionalDependencyError
        nbclient, nbconvert or ipykernel is missing (the ``jupyter`` extra).

    Examples
    --------
    >>> from workbench.report import build_report
    >>> report = build_report("projects/spam", "report.html", params={"seed": 1})   # doctest: +SKIP
    >>> report.path, report.n_charts                                                 # doctest: +SKIP
    (PosixPath('report.html'), 4)
    """
    import workbench as wb

    started = time.perf_counter()
    _need_jupyter()
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ReportError(f"--timeout must be a number of seconds > 0. Got {timeout!r} instead.")
    out_path = Path(out)
    _check_out(out_path)
    project = Path(project_path).resolve()
    wb.Project.open(project).close()  # a clear error now rather than in the first cell
    path, nb = _read_template(template)
    at, defaults = _parameters(path, nb)
    resolved = _resolve_params(path, defaults, project, params)
    nb.cells.insert(at + 1, _injected_cell(resolved))
    _execute(nb, path, out_path.resolve().parent, timeout)
    n_charts = _charts_to_html(nb)
    body = _export(nb, str(resolved.get("title") or "Labeling report"))
    kind, scripts = _chart_scripts() if n_charts else ("inline", "")
    if n_charts:
        body = body.replace("</body>", scripts + _EMBED_JS + "</body>", 1)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    n_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    return Report(out_path, path, resolved, n_cells, n_charts, kind, time.perf_counter() - started)


# ---------------------------------------------------------------------- reading a report back
class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[tuple[str, str]]]] = []
        self.charts: list[str] = []
        self._depth = 0
        self._cell: list[str] | None = None
        self._tag = ""
        self._spec: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
            if self._depth == 1:
                self.tables.append([])
        elif tag == "tr" and self._depth == 1:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self._depth == 1:
            self._cell, self._tag = [], tag
        elif tag == "script" and _SPEC_CLASS in (dict(attrs).get("class") or ""):
            self._spec = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._depth -= 1
        elif tag in ("td", "th") and self._cell is not None and self._depth == 1:
            if self.tables[-1]:
                self.tables[-1][-1].append((self._tag, " ".join("".join(self._cell).split())))
            self._cell = None
        elif tag == "script" and self._spec is not None:
            self.charts.append("".join(self._spec))
            self._spec = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._spec is not None:
            self._spec.append(data)


def read_report(path: str | os.PathLike[str]) -> ReportContents:
    """The tables and charts of a report written by :func:`build_report`, e.g. to compare two runs.

    Parameters
    ----------
    path : path-like
        The HTML file.

    Returns
    -------
    ReportContents
    """
    file = Path(path)
    if not file.is_file():
        raise ReportError(f"There is no report at {str(file)!r}.")
    reader = _Reader()
    reader.feed(file.read_text(encoding="utf-8"))
    tables = []
    for rows in reader.tables:
        rows = [r for r in rows if r]
        heads: list[list[str]] = []
        while rows and all(tag == "th" for tag, _ in rows[0]):
            heads.append([text for _, text in rows.pop(0)])
        n_head = max((len(h) for h in heads), default=0)
        header = [" ".join(h[i] for h in heads if i < len(h) and h[i]).strip() for i in range(n_head)]
        body = [[text for _, text in r] for r in rows]
        width = max([len(header), *(len(r) for r in body)], default=0)
        cols = (header + [f"col{i}" for i in range(len(header), width)]) if width else header
        tables.append(pd.DataFrame([r + [""] * (width - len(r)) for r in body], columns=cols))
    charts = [json.loads(html.unescape(s) if s.lstrip().startswith("&") else s) for s in reader.charts]
    return ReportContents(tables=tables, charts=charts)
