"""Real-browser test harness: JupyterLab and Panel servers driven by Chromium through Playwright.

The fixtures in ``conftest.py`` build on the objects and helpers defined here; test modules import the
helpers directly (``from ui_harness import open_notebook, run_all_cells, assert_no_errors``).

Design notes
------------
* Servers listen on 127.0.0.1 only, on a free port, with a random token, and are started with the
  interpreter running pytest (``sys.executable``), so the ``python3`` kernel is the same environment.
* JupyterLab runs with an isolated config/data/runtime/settings/workspaces directory and with every
  start-up network call disabled (news feed, update check, PyPI extension manager).
* ``open_notebook`` opens each notebook in a fresh, uniquely named JupyterLab workspace, so notebooks
  opened by earlier tests never reappear.
* JupyterLab is started with ``expose_app_in_browser`` so the harness can read the notebook *model*
  (kernel status, error outputs) instead of guessing from pixels; the cells themselves are run through
  the real menu (Run > Run All Cells).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    from playwright.sync_api import Page

__all__ = [
    "CHROMIUM_ARGS",
    "REPO_ROOT",
    "JupyterServer",
    "PanelServer",
    "ServerStartError",
    "assert_no_errors",
    "cell_outputs_text",
    "chromium_executable",
    "copy_notebook",
    "execute_in_kernel",
    "find_free_port",
    "make_self_signed_cert",
    "notebook_errors",
    "open_notebook",
    "openssl_executable",
    "run_all_cells",
    "start_jupyter_server",
    "start_panel_server",
    "stop_process",
    "write_notebook",
]

#: Repository root (``tests/ui/ui_harness.py`` -> ``tests/ui`` -> ``tests`` -> root).
REPO_ROOT: Path = Path(__file__).resolve().parents[2]

#: Chromium flags: no sandbox (containers, root), no GPU, and no background network traffic.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

_DEFAULT_CHROMIUM = "/usr/bin/chromium"
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ServerStartError(RuntimeError):
    """A server subprocess exited or did not answer in time; the message holds its log tail."""


def make_disputed_project(path: Path, *, prefix: str, n: int) -> None:
    """A spam project of ``n`` items on which three annotators split 2 spam : 1 ham, so each needs adjudication.

    Ids are ``f"{prefix}-{i}"`` for i = 1..n; no accounts are added (each test adds its own).
    """
    import pandas as pd

    import workbench as wb

    schema = wb.Schema.single("spam", ["ham", "spam"], guidelines="Spam advertises a channel or a link.")
    with wb.Project.create(path, schema=schema) as project:
        ids = [f"{prefix}-{i}" for i in range(1, n + 1)]
        project.add_data(pd.DataFrame({"id": ids, "text": [f"item {i}: visit my channel" for i in range(len(ids))]}),
                         id_column="id")
        rows = [{"id": eid, "annotator": name, "value": value}
                for eid in ids for name, value in zip(("ann", "bob", "cid"), ("spam", "ham", "spam"), strict=True)]
        project.annotation.import_annotations(pd.DataFrame(rows))


def chromium_executable() -> Path | None:
    """Return the Chromium binary to drive, or None when absent.

    ``WORKBENCH_CHROMIUM`` overrides the default ``/usr/bin/chromium``.
    """
    candidate = Path(os.environ.get("WORKBENCH_CHROMIUM", _DEFAULT_CHROMIUM))
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def find_free_port() -> int:
    """Return a TCP port that is currently free on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def openssl_executable() -> Path | None:
    """Return the ``openssl`` command line tool, or None when it is not installed."""
    found = shutil.which("openssl")
    return Path(found) if found else None


def make_self_signed_cert(directory: Path, *, days: int = 2) -> tuple[Path, Path]:
    """Write a self-signed certificate for ``127.0.0.1`` / ``localhost`` and its key; return ``(cert, key)``.

    The certificate (P-256 key, ``subjectAltName = IP:127.0.0.1, DNS:localhost``) is its own CA, so
    ``ssl.create_default_context(cafile=cert)`` trusts it with hostname checking on. Raises
    ``FileNotFoundError`` when ``openssl`` is missing (check :func:`openssl_executable` first to skip).
    """
    openssl = openssl_executable()
    if openssl is None:
        raise FileNotFoundError("The 'openssl' command is not installed (apt-get install openssl); it makes the "
                                "test certificate.")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    cmd = [str(openssl), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", str(key), "-out", str(cert), "-days", str(days), "-subj", "/CN=127.0.0.1",
           "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
           "-addext", "basicConstraints=critical,CA:TRUE"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl could not make a test certificate (exit {done.returncode}): {done.stderr.strip()}")
    return cert, key


def _subprocess_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for server subprocesses: repo root first on PYTHONPATH, WORKBENCH_* passed through."""
    env = dict(os.environ)
    parts = [str(REPO_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    env["PYTHONUNBUFFERED"] = "1"
    # Never let a server or a kernel try to open a browser or phone home.
    env["BROWSER"] = "true"
    env.pop("JUPYTER_TOKEN", None)
    if extra:
        env.update(extra)
    return env


def _log_tail(path: Path, n_chars: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "<no log>"
    return text[-n_chars:]


def stop_process(proc: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """Stop a server started in its own session: its children (e.g. kernels) too, always.

    Kernels run in their own sessions (jupyter_client uses ``start_new_session``), so killing the
    server's process group would not reach them: they are collected as psutil descendants first.
    """
    if proc.poll() is not None:
        return
    children: list[Any] = []
    try:
        import psutil

        children = psutil.Process(proc.pid).children(recursive=True)
    except (ImportError, OSError):  # psutil missing or the process just exited (psutil.Error is OSError)
        children = []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    if children:
        import psutil

        for child in children:
            with contextlib.suppress(psutil.Error):
                child.terminate()
        _, alive = psutil.wait_procs(children, timeout=timeout)
        for child in alive:
            with contextlib.suppress(psutil.Error):
                child.kill()


def _wait_http(
    url: str,
    proc: subprocess.Popen[bytes],
    log_path: Path,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 90.0,
    context: ssl.SSLContext | None = None,
) -> None:
    """Poll ``url`` until it answers 200; raise ServerStartError with the log tail otherwise.

    ``context`` verifies an ``https://`` URL (e.g. one trusting a test's self-signed certificate).
    """
    deadline = time.monotonic() + timeout
    last_error = "no attempt"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerStartError(
                f"Server exited with code {proc.returncode} before {url} answered.\n"
                f"Log {log_path}:\n{_log_tail(log_path)}"
            )
        request = urllib.request.Request(url, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(request, timeout=5, context=context) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last_error = f"HTTP {exc.code}"
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last_error = repr(exc)
        time.sleep(0.25)
    raise ServerStartError(
        f"{url} did not answer 200 within {timeout:.0f}s (last: {last_error}).\nLog {log_path}:\n{_log_tail(log_path)}"
    )


# --------------------------------------------------------------------------------------------------
# JupyterLab
# --------------------------------------------------------------------------------------------------

#: JupyterLab user settings written for the test server (``<package>/<plugin>.jupyterlab-settings``).
_LAB_SETTINGS: dict[str, dict[str, Any]] = {
    # No news toast, no update check: nothing in front of the notebook, no network.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Render every cell (no virtual scrolling) so off-screen outputs exist in the DOM.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # Tests write notebooks on disk; the browser must never save over them.
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
}


@dataclass
class JupyterServer:
    """A running JupyterLab server (see :func:`start_jupyter_server`)."""

    base_url: str
    token: str
    root_dir: Path
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def lab_url(self, relpath: str, *, workspace: str | None = None) -> str:
        """URL opening ``relpath`` in JupyterLab, in workspace ``workspace`` (a fresh one by default)."""
        ws = workspace or f"t{uuid.uuid4().hex[:12]}"
        quoted = urllib.parse.quote(relpath.lstrip("/"))
        return f"{self.base_url}/lab/workspaces/{ws}/tree/{quoted}?token={self.token}"

    def api(self, method: str, path: str, payload: Any | None = None) -> Any:
        """Call the server REST API (``path`` like ``/api/sessions``) and return the decoded JSON."""
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_all_kernels(self) -> None:
        """Delete every session and kernel (each test's notebooks leave none behind)."""
        if self.process.poll() is not None:
            return
        for session in self.api("GET", "/api/sessions"):
            try:
                self.api("DELETE", f"/api/sessions/{session['id']}")
            except urllib.error.HTTPError:
                continue
        for kernel in self.api("GET", "/api/kernels"):
            try:
                self.api("DELETE", f"/api/kernels/{kernel['id']}")
            except urllib.error.HTTPError:
                continue

    def stop(self) -> None:
        """Shut kernels down, then stop the server (and any kernel left) for good."""
        # The server may be dead or wedged already: stop_process still cleans up.
        with contextlib.suppress(OSError):
            self.shutdown_all_kernels()
        stop_process(self.process)


def start_jupyter_server(work_dir: Path, *, timeout: float = 90.0) -> JupyterServer:
    """Start ``python -m jupyter lab`` on 127.0.0.1 with a random token; return once /api/status answers.

    ``work_dir`` receives ``root/`` (the server's root_dir, where notebooks go), isolated Jupyter
    config/data/runtime/IPython dirs, lab settings and workspaces, and ``jupyter.log``.
    The caller must call :meth:`JupyterServer.stop` (the fixture does it in a ``finally``).
    """
    work_dir = Path(work_dir)
    root_dir = work_dir / "root"
    dirs = {name: work_dir / name for name in ("config", "data", "runtime", "ipython", "settings", "ws")}
    for path in (root_dir, *dirs.values()):
        path.mkdir(parents=True, exist_ok=True)
    for relpath, settings in _LAB_SETTINGS.items():
        target = dirs["settings"] / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings))

    port = find_free_port()
    token = secrets.token_hex(24)
    log_path = work_dir / "jupyter.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_remote_access=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={dirs['settings']}",
        f"--LabApp.workspaces_dir={dirs['ws']}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI runners often run as root
        cmd.append("--allow-root")
    env = _subprocess_env(
        {
            # Isolate from ~/.jupyter and ~/.local/share/jupyter: the python3 kernelspec found is the one
            # of this environment (argv "python" -> sys.executable of the server = this interpreter).
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "JUPYTER_PREFER_ENV_PATH": "1",
            "IPYTHONDIR": str(dirs["ipython"]),
        }
    )
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=root_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = JupyterServer(
        base_url=f"http://127.0.0.1:{port}",
        token=token,
        root_dir=root_dir,
        port=port,
        log_path=log_path,
        process=proc,
    )
    try:
        _wait_http(
            f"{server.base_url}/api/status",
            proc,
            log_path,
            headers={"Authorization": f"token {token}"},
            timeout=timeout,
        )
    except BaseException:
        stop_process(proc)
        raise
    return server


def _root_of(target: JupyterServer | Path) -> Path:
    return target.root_dir if isinstance(target, JupyterServer) else Path(target)


def write_notebook(
    target: JupyterServer | Path,
    relpath: str,
    cells: Iterable[str | tuple[str, str]],
) -> str:
    """Write a new notebook from cell sources into the server's root_dir; return ``relpath``.

    Each cell is a code source string, or a ``("markdown", text)`` / ``("code", source)`` pair.
    The notebook's kernelspec is ``python3`` so JupyterLab starts it without a kernel dialog.
    """
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for cell in cells:
        kind, source = ("code", cell) if isinstance(cell, str) else cell
        if kind == "code":
            nb.cells.append(nbformat.v4.new_code_cell(source))
        elif kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            raise ValueError(f"Cell kind must be 'code' or 'markdown'. Got {kind!r} instead.")
    nbformat.validate(nb)
    path = _root_of(target) / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return relpath


def copy_notebook(target: JupyterServer | Path, src: str | Path, relpath: str | None = None) -> str:
    """Copy notebook ``src`` into the server's root_dir (as ``relpath``, default its name); return relpath.

    Outputs are stripped and a ``python3`` kernelspec is set so the copy opens on this environment's kernel.
    """
    import nbformat

    src = Path(src)
    nb = nbformat.read(str(src), as_version=4)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    relpath = relpath or src.name
    path = _root_of(target) / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return relpath


# JavaScript run in the page. ``findPanel`` locates the notebook panel of ``path`` in the main area.
_JS_FIND_PANEL = """
const findPanel = (path) => {
  const app = window.jupyterapp;
  if (!app || !app.shell) { return null; }
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === path && w.content && w.sessionContext) { return w; }
  }
  return null;
};
"""

_JS_KERNEL_READY = (
    "(path) => {"
    + _JS_FIND_PANEL
    + """
  const panel = findPanel(path);
  if (!panel || !panel.context.isReady || !panel.sessionContext.isReady) { return false; }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""
)

_JS_KERNEL_STATUS = (
    "(path) => {"
    + _JS_FIND_PANEL
    + """
  if (!window.jupyterapp) { return 'JupyterLab did not start (window.jupyterapp is missing)'; }
  const panel = findPanel(path);
  if (!panel) { return 'the notebook panel is not open'; }
  const session = panel.sessionContext.session;
  if (!session || !session.kernel) { return 'no kernel (kernelspec: ' + panel.sessionContext.kernelDisplayName + ')'; }
  return 'kernel status ' + session.kernel.status + ', connection ' + session.kernel.connectionStatus;
}"""
)

_JS_EXECUTION_DONE = (
    "(path) => {"
    + _JS_FIND_PANEL
    + """
  const panel = findPanel(path);
  if (!panel) { return false; }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') { return false; }
  const prompts = panel.node.querySelectorAll('.jp-InputArea-prompt');
  for (const p of prompts) { if (p.textContent.includes('*')) { return false; } }
  return true;
}"""
)

_JS_HOOK_RUN_ALL = """
() => {
  const app = window.jupyterapp;
  window.__wbRunAll = {started: 0, done: 0, results: []};
  if (!window.__wbRunAllHooked) {
    window.__wbRunAllHooked = true;
    app.commands.commandExecuted.connect((_, args) => {
      if (args.id !== 'notebook:run-all-cells') { return; }
      const state = window.__wbRunAll;
      state.started += 1;
      Promise.resolve(args.result).then(
        (r) => { state.results.push(r); state.done += 1; },
        (e) => { state.results.push('rejected: ' + e); state.done += 1; });
    });
  }
}
"""

_JS_ERRORS = (
    "(path) => {"
    + _JS_FIND_PANEL
    + """
  const panel = findPanel(path);
  if (!panel) { return null; }
  const found = [];
  panel.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') { return; }
    const outputs = cell.model.outputs;
    for (let j = 0; j < outputs.length; j++) {
      const o = outputs.get(j).toJSON();
      if (o.output_type === 'error') {
        found.push({cell: index, kind: 'error', text: o.ename + ': ' + o.evalue + '\\n'
                    + (o.traceback || []).join('\\n')});
      } else if (o.output_type === 'stream' && o.name === 'stderr') {
        found.push({cell: index, kind: 'stderr', text: Array.isArray(o.text) ? o.text.join('') : o.text});
      }
    }
    const area = cell.node.querySelector('.jp-OutputArea');
    if (area && area.textContent.includes('Error displaying widget')) {
      found.push({cell: index, kind: 'widget', text: area.textContent.trim()});
    }
  });
  return found;
}"""
)

_JS_OUTPUT_TEXTS = (
    "(path) => {"
    + _JS_FIND_PANEL
    + """
  const panel = findPanel(path);
  if (!panel) { return null; }
  return panel.content.widgets.map((cell) => {
    const outputs = cell.node.querySelectorAll('.jp-OutputArea-output');
    return Array.from(outputs, (o) => o.innerText).join('\\n');
  });
}"""
)


_JS_EXECUTE = (
    "async ([path, code]) => {"
    + _JS_FIND_PANEL
    + """
  const panel = findPanel(path);
  if (!panel) { return {status: 'missing', out: '', err: 'the notebook panel is not open'}; }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel) { return {status: 'missing', out: '', err: 'the notebook has no kernel'}; }
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let out = ''; let err = null;
  future.onIOPub = (msg) => {
    const t = msg.header.msg_type;
    if (t === 'stream' && msg.content.name === 'stdout') { out += msg.content.text; }
    else if (t === 'error') { err = msg.content.ename + ': ' + msg.content.evalue + '\\n'
                              + (msg.content.traceback || []).join('\\n'); }
  };
  const reply = await future.done;
  return {status: reply.content.status, out, err};
}"""
)


def _current_path(page: Page) -> str:
    path = getattr(page, "_wb_notebook_path", None)
    if path is None:
        raise RuntimeError("No notebook is open on this page: call open_notebook(page, server, relpath) first.")
    return str(path)


def open_notebook(page: Page, server: JupyterServer, relpath: str, *, timeout: float = 60.0) -> None:
    """Open ``relpath`` (relative to ``server.root_dir``) in JupyterLab and wait for an idle kernel.

    The notebook opens in a fresh workspace (nothing else open). Later helpers on this ``page``
    (:func:`run_all_cells`, :func:`cell_outputs_text`, :func:`assert_no_errors`) act on it.
    """
    if not (server.root_dir / relpath).is_file():
        raise FileNotFoundError(
            f"Notebook {relpath!r} does not exist under the server root {server.root_dir}; "
            "create it with write_notebook() or copy_notebook() first."
        )
    page.goto(server.lab_url(relpath), wait_until="domcontentloaded", timeout=timeout * 1000)
    from playwright.sync_api import Error as PlaywrightError

    try:
        page.wait_for_function(_JS_KERNEL_READY, arg=relpath, timeout=timeout * 1000, polling=100)
    except PlaywrightError as exc:
        status = page.evaluate(_JS_KERNEL_STATUS, relpath)
        dialogs = page.locator(".jp-Dialog").all_inner_texts()
        raise AssertionError(
            f"{relpath!r} did not open with an idle kernel within {timeout:.0f}s: {status}. "
            f"Dialogs on screen: {dialogs or 'none'}. Server log: {server.log_path}"
        ) from exc
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(state="visible", timeout=timeout * 1000)
    page._wb_notebook_path = relpath  # type: ignore[attr-defined]


def run_all_cells(page: Page, *, timeout: float = 60.0) -> None:
    """Run every cell through the real menu (Run > Run All Cells) and wait until execution finished.

    Finished means: the run-all command's promise settled (JupyterLab resolves it once every cell ran,
    or stopped at the first error), the kernel is idle again and no cell prompt shows ``[*]``.
    """
    from playwright.sync_api import Error as PlaywrightError

    path = _current_path(page)
    ms = timeout * 1000
    page.evaluate(_JS_HOOK_RUN_ALL)
    # Select the first cell through its prompt (never its output, which may hold a live widget) so the
    # menu command targets this notebook.
    page.locator(".jp-NotebookPanel .jp-Cell .jp-InputPrompt").first.click()
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item", has=page.locator('.lm-Menu-itemLabel:text-is("Run All Cells")')).click()
    try:
        page.wait_for_function("() => window.__wbRunAll.started >= 1", timeout=10_000, polling=50)
    except PlaywrightError as exc:
        raise AssertionError(
            f"Run > Run All Cells did not start executing {path!r} within 10s "
            "(menu item disabled or the notebook was not the current widget)."
        ) from exc
    try:
        page.wait_for_function("() => window.__wbRunAll.done >= window.__wbRunAll.started", timeout=ms, polling=100)
        page.wait_for_function(_JS_EXECUTION_DONE, arg=path, timeout=ms, polling=100)
    except PlaywrightError as exc:
        raise AssertionError(
            f"Cells of {path!r} were still running after {timeout:.0f}s (raise run_all_cells' timeout "
            f"if that is expected). Outputs so far: {cell_outputs_text(page)!r}"
        ) from exc


def cell_outputs_text(page: Page) -> list[str]:
    """Rendered output text of each cell of the open notebook, prompts excluded ('' without output)."""
    texts = page.evaluate(_JS_OUTPUT_TEXTS, _current_path(page))
    if texts is None:
        raise RuntimeError(f"The notebook {_current_path(page)!r} is no longer open in JupyterLab.")
    return [str(t) for t in texts]


def execute_in_kernel(page: Page, code: str) -> str:
    """Run ``code`` in the kernel of the open notebook (no cell, no history) and return its stdout.

    The code goes to the same kernel the notebook's cells and widgets use, through the front end's
    own kernel connection, so a test can act between key presses (start a background job, read
    state). Raises ``AssertionError`` with the traceback if the code raised.
    """
    path = _current_path(page)
    result = page.evaluate(_JS_EXECUTE, [path, code])
    if result["status"] != "ok" or result["err"]:
        text = _ANSI_RE.sub("", str(result["err"] or result["status"]))
        raise AssertionError(f"Code run in the kernel of {path!r} failed ({result['status']}):\n{text}")
    return str(result["out"])


def notebook_errors(page: Page, *, include_stderr: bool = False) -> list[dict[str, Any]]:
    """Error outputs of the open notebook: ``{"cell": index, "kind": ..., "text": ...}`` dicts.

    Kinds: ``"error"`` (an exception, from the notebook model, ANSI colours stripped), ``"widget"``
    (a widget the front end failed to render) and, with ``include_stderr``, ``"stderr"`` streams
    (warnings land there, so they are not errors by default).
    """
    found = page.evaluate(_JS_ERRORS, _current_path(page))
    if found is None:
        raise RuntimeError(f"The notebook {_current_path(page)!r} is no longer open in JupyterLab.")
    errors = []
    for item in found:
        if item["kind"] == "stderr" and not include_stderr:
            continue
        errors.append({**item, "text": _ANSI_RE.sub("", str(item["text"]))})
    return errors


def assert_no_errors(page: Page, *, include_stderr: bool = False) -> None:
    """Fail, listing each one, if any cell of the open notebook shows an error output."""
    errors = notebook_errors(page, include_stderr=include_stderr)
    if errors:
        listing = "\n\n".join(f"cell {e['cell']} ({e['kind']}):\n{e['text']}" for e in errors)
        raise AssertionError(f"{len(errors)} error output(s) in {_current_path(page)!r}:\n\n{listing}")


# --------------------------------------------------------------------------------------------------
# Panel
# --------------------------------------------------------------------------------------------------


@dataclass
class PanelServer:
    """A running Panel server: ``panel serve`` of an app script, or a project's ``workbench serve``.

    See :func:`start_panel_server`. ``url`` is the page to open first (the app's page, or the server root
    of a project, which redirects to the login form); ``app_path`` is the script or the project directory.
    """

    url: str
    base_url: str
    port: int
    app_path: Path
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    #: For a project served with ``--tls-cert``: an SSL context trusting that certificate (``base_url`` is https).
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)

    def stop(self) -> None:
        stop_process(self.process)


def start_panel_server(
    target: str | Path,
    log_dir: Path,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
    ready_path: str | None = None,
) -> PanelServer:
    """Start a Panel server on 127.0.0.1 on a free port; return once it answers 200.

    ``target`` is what to serve:

    * a Panel app script (``.py``): ``python -m panel serve target``, ready when the app's page
      (``url``, ``/<script stem>``) answers;
    * a workbench project directory: ``python -m widgets.panel.serve target`` (the login-protected
      reviewer app, ``workbench serve``), ready when ``/login`` answers; ``url`` is the server root.

    ``args`` are appended to the command line. When they hold ``--tls-cert FILE`` the server speaks
    HTTPS only: ``url``/``base_url`` are ``https://`` and ``ssl_context`` trusts ``FILE`` (a self-signed
    certificate from :func:`make_self_signed_cert`), which the readiness check uses too. The caller
    must call :meth:`PanelServer.stop` (the ``panel_server`` fixture does).

    ``ready_path`` (e.g. ``"/liveness"`` with Panel's ``--liveness`` flag) is polled instead of the page
    when the page itself cannot answer 200 without a login, as under ``--oauth-provider``.
    """
    target = Path(target).resolve()
    port = find_free_port()
    origin = f"127.0.0.1:{port}"
    args = list(args)
    context: ssl.SSLContext | None = None
    if "--tls-cert" in args[:-1]:
        context = ssl.create_default_context(cafile=str(args[args.index("--tls-cert") + 1]))
    base_url = f"{'https' if context is not None else 'http'}://{origin}"
    if target.is_file() and target.suffix == ".py":
        name = f"panel-{target.stem}"
        cmd = [sys.executable, "-m", "panel", "serve", str(target), "--address", "127.0.0.1", "--port", str(port),
               f"--allow-websocket-origin={origin}", *args]
        cwd, url, ready = target.parent, f"{base_url}/{target.stem}", f"{base_url}/{target.stem}"
    elif (target / "workbench.json").is_file():
        name = f"workbench-serve-{target.name}"
        cmd = [sys.executable, "-m", "widgets.panel.serve", str(target), "--address", "127.0.0.1", "--port",
               str(port), "--no-browser", *args]
        cwd, url, ready = REPO_ROOT, f"{base_url}/", f"{base_url}/login"
    else:
        raise FileNotFoundError(
            f"Nothing to serve at {target}: expected a Panel app script (.py) or a workbench project directory "
            f"(with a workbench.json)."
        )
    if ready_path is not None:
        if not ready_path.startswith("/"):
            raise ValueError(
                f"The 'ready_path' parameter must be a path starting with '/'. Got {ready_path!r} instead."
            )
        ready = base_url + ready_path
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=_subprocess_env(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = PanelServer(url=url, base_url=base_url, port=port, app_path=target, log_path=log_path, process=proc,
                         ssl_context=context)
    try:
        _wait_http(ready, proc, log_path, timeout=timeout, context=context)
    except BaseException:
        stop_process(proc)
        raise
    return server
