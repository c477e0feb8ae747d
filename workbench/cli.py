"""The ``workbench`` command line.

Every command takes the project directory first. Errors are one line on stderr
(``workbench: error: ...``) with exit status 2; ``--json`` prints machine-readable output
where it makes sense (status, users list, labels, export). ``workbench COMMAND --help``
documents each command.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench._constants import LABEL_SOURCES
from workbench._version import __version__
from workbench.exceptions import CLIError, DataError, ProjectExistsError, WorkbenchError

__all__ = ["EXPORT_FORMATS", "LABEL_FORMATS", "build_demo_project", "main"]

#: ``workbench export`` formats and the file suffix each is recognised by (``hf`` is a folder).
EXPORT_FORMATS: dict[str, tuple[str, ...]] = {
    "parquet": (".parquet", ".pq"),
    "csv": (".csv",),
    "jsonl": (".jsonl", ".ndjson"),
    "hf": (),
}
#: ``workbench labels --out`` formats and their suffixes.
LABEL_FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "parquet": (".parquet", ".pq"),
    "jsonl": (".jsonl", ".ndjson"),
    "json": (".json",),
}
_EXIT_USAGE = 2
_EXIT_PIPE = 141  # 128 + SIGPIPE, what a Unix tool cut off by `| head` reports


# ---------------------------------------------------------------------- helpers
def _emit(text: str = "") -> None:
    """Print ``text`` in slices, flushed as they go: a reader that stops early (``| head``) is noticed at once."""
    text += "\n"
    for start in range(0, len(text), 8192):
        sys.stdout.write(text[start:start + 8192])
        sys.stdout.flush()


def _json(obj: Any) -> None:
    _emit(json.dumps(obj, indent=2, sort_keys=False, default=str, ensure_ascii=False))


def _open(path: str) -> Any:
    import workbench as wb

    return wb.Project.open(path)


_FLAGS = {"id_column": "--id-column", "encoding": "--encoding", "errors": "--encoding-errors",
          "text_column": "--text-column"}
_HINTS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"Pass id_column=None to derive ids from content\."), "Leave out --id-column to derive ids from "
                                                                       "content."),
    (re.compile(r"\bid_column=None\b"), "no --id-column"),
    (re.compile(r"\b(id_column|encoding|errors|text_column)=(?:'([^']*)'|(<[^>]*>)|([^\s,)'.]+))"),
     lambda m: f"{_FLAGS[m.group(1)]} {m.group(2) or m.group(3) or m.group(4)}"),
    (re.compile(r"omit id_column to derive"), "leave out --id-column to derive"),
    (re.compile(r"Open it with wb\.Project\.open\(path\), or pass exist_ok=True\."),
     "Choose another path, or look at that project with workbench info PATH."),
    (re.compile(r"[Cc]reate one with wb\.Project\.create\(path, schema=\.\.\.\)"),
     lambda m: f"{m.group(0)[0]}reate one with workbench init PATH --name QUESTION --choices A B"),
    (re.compile(r"project\.add_data\(\.\.\.\)"), "workbench ingest PROJECT FILE"),
    (re.compile(r"\(workbench init / wb\.Project\.create\)"), "(workbench init)"),
    (re.compile(r"The '(\w+)' parameter of Accounts(?:\.\w+)?"), r"The \1"),
    (re.compile(r"Accounts\.set_password / Accounts\.set_role \(workbench users passwd / role\)"),
     "workbench users set-password / set-role"),
    (re.compile(r"Accounts\.\w+ \((workbench users [^)]*)\)"), r"\1"),
]


def _cli_message(message: str) -> str:
    """A core error message with its Python-argument hints turned into the CLI's flags, on one line."""
    for pattern, repl in _HINTS:
        message = pattern.sub(repl, message)  # type: ignore[arg-type]
    return " ".join(str(message).split())


def _format_for(out: str, flag_format: str | None, formats: dict[str, tuple[str, ...]], command: str) -> str:
    """The output format: ``--format`` when given (it must agree with the suffix), else the file's suffix."""
    suffix = Path(out).suffix.lower()
    by_suffix = next((f for f, sufs in formats.items() if suffix in sufs), None)
    if flag_format is not None:
        if flag_format not in formats:
            raise CLIError(f"Unknown --format {flag_format!r} for workbench {command}. Choose one of: "
                           f"{', '.join(formats)}.")
        if by_suffix is not None and by_suffix != flag_format:
            raise CLIError(f"--format {flag_format} does not match the suffix of --out {out!r} ({suffix}, which "
                           f"is {by_suffix}). Change one of them.")
        return flag_format
    if by_suffix is None:
        known = ", ".join(f"{s} ({f})" for f, sufs in formats.items() for s in sufs)
        raise CLIError(f"Cannot tell the format of --out {out!r} from its suffix {suffix or '(none)'!r}. Use one "
                       f"of {known}, or pass --format ({', '.join(formats)}).")
    return by_suffix


def _check_out_file(out: str, *, folder: bool = False) -> Path:
    """``--out`` must name a new or existing file (or, with ``folder``, a new folder) in an existing directory."""
    path = Path(out)
    if folder:
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise CLIError(f"--out {out!r} already exists; the hf format writes a new folder. Remove it or name "
                           f"another folder.")
    elif path.is_dir():
        raise CLIError(f"--out {out!r} is a directory; name the file to write inside it, e.g. "
                       f"--out {str(path / 'labels.parquet')!r}.")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CLIError(f"--out {out!r}: the directory {str(parent)!r} does not exist. Create it first "
                       f"(mkdir -p {str(parent)!r}) or choose another --out.")
    return path


def _write_table(df: pd.DataFrame, path: Path, fmt: str, *, metadata: dict[str, Any] | None = None) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if fmt == "csv":
            df.to_csv(tmp, index=False)
        elif fmt == "jsonl":
            df.to_json(tmp, orient="records", lines=True, force_ascii=False, date_format="iso")
        elif fmt == "json":
            df.to_json(tmp, orient="records", force_ascii=False, date_format="iso", indent=1)
        elif fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                table = pa.Table.from_pandas(df, preserve_index=False)
            except (ValueError, TypeError) as exc:  # pyarrow's ArrowInvalid / ArrowTypeError
                raise CLIError(f"Cannot write {str(path)!r} as Parquet: {exc}. Export --format csv or jsonl "
                               f"instead.") from None
            if metadata:
                meta = dict(table.schema.metadata or {})
                meta.update({k.encode(): json.dumps(v, default=str).encode() for k, v in metadata.items()})
                table = table.replace_schema_metadata(meta)
            pq.write_table(table, tmp)
        else:  # pragma: no cover - guarded by _format_for
            raise CLIError(f"Unknown format {fmt!r}.")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _table(df: pd.DataFrame) -> str:
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200,
                           "display.max_colwidth", 60):
        return df.to_string(index=False)


# ---------------------------------------------------------------------- demo, init, ingest
_DEMO_MESSAGE = "demo: "


def _demo_schema() -> Any:
    import workbench as wb

    return wb.Schema.single(
        "spam",
        choices=["ham", "spam"],
        guidelines=(
            "# Spam or ham?\n\nA comment is **spam** when it advertises something unrelated to the video "
            "(channels, links, giveaways, money). Everything else is **ham**, even if rude or off-topic.\n"
        ),
    )


def _is_demo(project: Any) -> bool:
    """Whether ``project`` was built by :func:`build_demo_project` (its schema, and its first data from the demo)."""
    if project.schema_version != _demo_schema().version:
        return False
    messages = project.data_versions()["message"].astype(str).tolist()
    return not messages or messages[0].startswith(_DEMO_MESSAGE)  # no data: a demo build that was cut short


def build_demo_project(path: str | Path, *, n: int = 400, force: bool = False) -> Path:
    """Create the built-in demo project: spam/ham comments, a schema, guidelines and a few labels.

    Uses the real YouTube Spam Collection when ``WORKBENCH_DATA_DIR`` holds it, else the
    deterministic synthetic demo data. An existing demo project is kept unless ``force``.

    Raises
    ------
    ProjectExistsError
        If ``path`` holds a project that is not the demo: it is never replaced, not even with ``force``.
    """
    import workbench as wb

    target = Path(path)
    if (target / "workbench.json").exists():
        existing = wb.Project.open(target)
        if not _is_demo(existing):
            existing.close()
            raise ProjectExistsError(
                f"{str(target)!r} holds a project that is not the demo; it is left as it is (also with "
                f"--force, which rebuilds only an earlier demo). Give the demo another path, e.g. "
                f"{str(target.parent / 'demo')!r}."
            )
        if not force:
            existing.close()
            return target
        existing.delete()
    try:
        data = wb.datasets.load_youtube_spam()
        source = "YouTube Spam Collection"
    except WorkbenchError:
        data = wb.datasets.load_demo(n)
        source = "synthetic demo data"
    project = wb.Project.create(target, schema=_demo_schema())
    project.add_data(data.drop(columns=["label"]), id_column="id", message=f"{_DEMO_MESSAGE}{source}")
    first = data.head(6)
    project.annotate_many(
        pd.DataFrame({"example_id": first["id"], "value": first["label"], "annotator": "demo-expert",
                      "source": "gold"})
    )
    project.close()
    return target


def _cmd_demo(args: argparse.Namespace) -> int:
    kept = (Path(args.path) / "workbench.json").exists() and not args.force
    path = build_demo_project(args.path, n=args.n, force=args.force)
    _emit(f"demo project kept at {path} (--force rebuilds it)" if kept else f"demo project ready at {path}")
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    import workbench as wb

    guidelines = args.guidelines
    if guidelines is not None and Path(guidelines).suffix.lower() in (".md", ".txt") and not Path(guidelines).is_file():
        raise CLIError(f"--guidelines {guidelines!r} looks like a file but does not exist; give the file's path or "
                       f"the guideline text itself.")
    schema = wb.Schema.single(args.name, choices=args.choices, guidelines=guidelines)
    project = wb.Project.create(args.path, schema=schema, text_column=args.text_column)
    _emit(f"created {project.path} (schema {project.schema_version}, guidelines {project.guideline_version})")
    project.close()
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    file = Path(args.file)
    if file.is_dir():
        raise CLIError(f"{args.file!r} is a directory; give a CSV, TSV, Parquet or JSON Lines file.")
    if not file.is_file():
        raise CLIError(f"No such file: {args.file!r}.")
    with _open(args.path) as project:
        before = set(project.data_versions()["version"])
        v = project.add_data(file, id_column=args.id_column, message=args.message, encoding=args.encoding,
                             errors=args.encoding_errors)
        new = v.version not in before
    if not new:
        _emit(f"nothing new was added: every row of {args.file} is already stored (the newest of them in data version "
              f"{v.version}); "
              f"no data version was created")
    else:
        _emit(f"{v.version}: {v.n_rows} new example(s), {v.n_existing} already stored (hash {v.content_hash[:12]})")
    return 0


# ---------------------------------------------------------------------- reading
def _cmd_info(args: argparse.Namespace) -> int:
    with _open(args.path) as project:
        _emit(repr(project))
        _emit(f"schema {project.schema_version}: {project.schema!r}")
        _emit(f"guidelines {project.guideline_version}")
        dv = project.data_versions()
        _emit(_table(dv[["version", "n_rows", "n_existing", "created_at", "message"]]) if len(dv)
              else "no data yet: add a file with workbench ingest PROJECT FILE")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from workbench.quality._drift import parse_window
    from workbench.report import project_summary

    try:
        window = parse_window(args.window)  # None: the project's drift_window setting
    except DataError:
        if args.window.strip().isdigit():
            raise CLIError(f"--window {args.window!r}: a count of answers per window must be at least 1.") from None
        raise CLIError(f"--window {args.window!r} is not a time window; give a positive span such as 7D (seven "
                       f"days), 12h or 30min, or a count of answers per annotator such as 50.") from None
    with _open(args.path) as project:
        summary = project_summary(project, window=window)
    if args.json:
        _json(summary)
        return 0
    s, c = summary["schema"], summary["counts"]
    questions = "; ".join(f"{q}: {', '.join(ch)}" for q, ch in s["questions"].items())
    _emit(f"project   {summary['path']}")
    _emit(f"schema    {s['name']} ({s['version']}), guidelines {s['guideline_version']} - {questions}")
    by_source = ", ".join(f"{k} {v}" for k, v in c["labels_by_source"].items()) or "none"
    _emit(f"examples  {c['examples']} in {c['data_versions']} data version(s)")
    _emit(f"labels    {c['labels']} current ({by_source}) on {c['labeled_examples']} example(s); "
          f"{c['events']} event(s); {c['gold']} gold; {c['annotators']} annotator(s)")
    if summary["data_versions"]:
        _emit("data versions")
        for d in summary["data_versions"]:
            _emit(f"  {d['version']:<6} {d['n_rows']:>7} new {d['n_existing']:>7} already stored  "
                  f"{d['created_at'][:19]}  {d['message']}")
    else:
        _emit("data versions: none yet (workbench ingest PROJECT FILE)")
    if summary["label_versions"]:
        _emit("label versions")
        for v in summary["label_versions"]:
            parent = f"<- {v['parent']}" if v["parent"] else "(root)"
            _emit(f"  {v['name']:<6} {parent:<9} {v['n_rows']:>7} rows  {v['label_model'] or '-':<18} "
                  f"{v['created_at'][:19]}  {v['message']}")
    else:
        _emit("label versions: none yet")
    a = summary["queues"]["annotation"]
    adj = summary["queues"]["adjudication"]
    _emit(f"queues    annotation: {a['n_complete']} of {a['n_items']} item(s) done, {a['n_remaining']} remaining "
          f"({a['n_auto_accepted']} auto-accepted); adjudication: {adj if adj is not None else '-'} waiting")
    agr = summary["quality"]["agreement"]
    if agr:
        _emit(f"quality   Fleiss' kappa {agr['fleiss_kappa']:.3f}, Krippendorff's alpha "
              f"{agr['krippendorff_alpha']:.3f} on {agr['n_items_multi_rated']} multiply rated item(s)")
    anns = summary["quality"]["annotators"]
    if anns:
        for name, row in anns.items():
            acc = row.get("honeypot_accuracy")
            cons = row.get("consensus_agreement")
            flag = "  FLAGGED" if row.get("flagged") else ""
            _emit(f"  {name:<16} {row.get('n_labels', 0):>6} label(s)  honeypots "
                  f"{'-' if acc is None else f'{acc:.1%}'}  consensus {'-' if cons is None else f'{cons:.1%}'}{flag}")
    elif not agr:
        _emit("quality   no human annotations yet")
    for text in summary["notes"]:  # what could not be computed, and why (without answers: said above)
        if c["annotators"] or not text.startswith(("agreement:", "annotator quality:")):
            _emit(f"note      {_cli_message(text)}")
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    with _open(args.path) as project:
        cols = ["event_id", "created_at", "question", "value", "action", "source", "annotator", "confidence",
                "schema_version", "guideline_version", "superseded_by", "training_runs"]
        history = project.history(args.example_id)
        if history.empty:
            _emit(f"{args.example_id}: no label events yet")
        else:
            _emit(_table(history[cols]))
    return 0


def _cmd_labels(args: argparse.Namespace) -> int:
    fmt = None
    out = None
    if args.out:
        out = _check_out_file(args.out)
        fmt = _format_for(args.out, args.format, LABEL_FORMATS, "labels")
    elif args.format:
        raise CLIError("--format needs --out FILE (without --out the labels are printed; --json prints JSON).")
    if args.source is not None and args.source not in LABEL_SOURCES:
        raise CLIError(f"--source {args.source!r} is not a label source; use one of {', '.join(LABEL_SOURCES)}.")
    with _open(args.path) as project:
        names = list(project.schema.question_names)
        if args.question is not None and args.question not in names:
            raise CLIError(f"--question {args.question!r} is not a question of this project's schema; its questions: "
                           f"{', '.join(names)}.")
        labels = project.labels(question=args.question, source=args.source, annotator=args.annotator)
    if out is not None and fmt is not None:
        _write_table(labels, out, fmt)
        _emit(f"wrote {len(labels)} label(s) to {out} ({fmt})")
    elif args.json:
        _emit(labels.to_json(orient="records", force_ascii=False, date_format="iso"))
    elif labels.empty:
        filters = [f"--{k} {v}" for k, v in (("question", args.question), ("source", args.source),
                                              ("annotator", args.annotator)) if v]
        _emit("no labels " + (f"match {' '.join(filters)}" if filters else "yet") + ".")
    else:
        _emit(_table(labels))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    with _open(args.path) as project:
        report = project.verify()
    _emit(f"ok: {report['examples_checked']} examples match their hashes; {report['events']} events; "
          f"{report['label_versions']} label version(s); {report['lf_cache_entries']} LF cache entries")
    unknown = report.get("unknown_files") or []
    if unknown:
        _emit(f"note: {len(unknown)} file(s) in the project directory that the project does not know (left as they "
              f"are; remove them if they are not yours): {', '.join(map(str, unknown[:10]))}"
              f"{' ...' if len(unknown) > 10 else ''}")
    return 0


# ---------------------------------------------------------------------- users
def _accounts(path: str) -> Any:
    from workbench.auth import Accounts

    return Accounts(path)


def _read_password(args: argparse.Namespace, username: str) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CLIError("--password-stdin read an empty line; pipe the password in, e.g. "
                           "printf '%s\\n' \"$PASSWORD\" | workbench users add ...")
        return password
    if not sys.stdin.isatty():
        raise CLIError("No terminal to ask for the password: pass --password-stdin and pipe it in.")
    first = getpass.getpass(f"password for {username}: ")
    second = getpass.getpass("again: ")
    if first != second:
        raise CLIError("The two passwords differ; nothing was changed.")
    return first


def _cmd_users(args: argparse.Namespace) -> int:
    accounts = _accounts(args.path)
    action = args.users_command
    if action == "list":
        users = accounts.list()
        if args.json:
            _emit(users.to_json(orient="records", force_ascii=False))
        elif users.empty:
            _emit("no accounts yet: add one with workbench users add PROJECT NAME --role reviewer")
        else:
            _emit(_table(users.fillna("-")))
        return 0
    if action == "add":
        accounts.add(args.username, args.role, _read_password(args, args.username))
        _emit(f"added {args.username} ({args.role})")
    elif action == "remove":
        accounts.remove(args.username)
        _emit(f"removed {args.username} (their past decisions stay in the project under that name)")
    elif action in ("set-password", "passwd"):
        if accounts.role(args.username) is None:
            raise CLIError(f"There is no account {args.username!r}; see workbench users list {args.path}.")
        accounts.set_password(args.username, _read_password(args, args.username))
        _emit(f"new password set for {args.username}; their open sessions ended")
    elif action in ("set-role", "role"):
        accounts.set_role(args.username, args.role)
        _emit(f"{args.username} is now {args.role}")
    return 0


# ---------------------------------------------------------------------- serve
def _serve_module_exists() -> bool:
    import importlib.util

    spec = importlib.util.find_spec("widgets")  # a top-level lookup imports nothing
    if spec is None or not spec.submodule_search_locations:
        return False
    return any((Path(loc) / "panel" / "serve.py").is_file() for loc in spec.submodule_search_locations)


def _cmd_serve(args: argparse.Namespace) -> int:
    from workbench.auth import check_serve_address

    if not 1 <= args.port <= 65535:
        raise CLIError(f"--port must be between 1 and 65535. Got {args.port}.")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise CLIError("--tls-cert and --tls-key go together: pass both (the certificate and its private key).")
    for flag, value in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        if value and not Path(value).is_file():
            raise CLIError(f"{flag} {value!r}: no such file.")
    if args.session_minutes is not None and not args.session_minutes > 0:
        raise CLIError(f"--session-minutes must be a positive number. Got {args.session_minutes}.")
    _open(args.path).close()
    accounts = _accounts(args.path)
    check_serve_address(args.address, auth_enabled=accounts.enabled, tls=bool(args.tls_cert),
                        behind_proxy=args.behind_proxy)
    if not accounts.enabled:
        raise CLIError(f"{args.path} has no accounts, and the reviewer app always asks for a login: add one first "
                       f"with `workbench users {args.path} add NAME --role reviewer`.")
    if not _serve_module_exists():
        raise CLIError("This installation has no reviewer app to serve (the module widgets.panel.serve is "
                       "missing); reinstall labeling-workbench with its panel extra: "
                       "pip install labeling-workbench[panel]")
    import importlib.util

    if importlib.util.find_spec("panel") is None:
        raise CLIError("workbench serve needs Panel, which is not installed: pip install labeling-workbench[panel]")
    cmd = [sys.executable, "-m", "widgets.panel.serve", str(args.path), "--port", str(args.port),
           "--address", args.address, "--no-browser"]
    if args.tls_cert:
        cmd += ["--tls-cert", args.tls_cert, "--tls-key", args.tls_key]
    if args.behind_proxy:
        cmd.append("--behind-proxy")
    if args.session_minutes is not None:
        cmd += ["--session-minutes", f"{args.session_minutes:g}"]
    print(f"serving {args.path} on {args.address}:{args.port} (Ctrl-C stops)", file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd)  # our own interpreter and module; every argument checked above
    # a SIGTERM (a service manager, a test, kill) reaches the server too, so stopping this command stops it
    previous = None
    with contextlib.suppress(ValueError):  # ValueError: not the main thread, where signals cannot be caught
        previous = signal.signal(signal.SIGTERM, lambda signum, _frame: proc.send_signal(signum))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------------- report, export
def _parse_params(items: Sequence[str], template: str | None) -> dict[str, Any]:
    from workbench.report import convert_param, template_parameters

    if not items:
        return {}
    defaults = template_parameters(template)
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CLIError(f"--param takes NAME=VALUE (e.g. --param seed=1). Got {item!r}.")
        if name not in defaults or name == "project_path":
            raise CLIError(f"--param {name}: the report has no such parameter. It takes: "
                           f"{', '.join(k for k in defaults if k != 'project_path')}.")
        out[name] = convert_param(name, text, defaults[name])
    return out


def _cmd_report(args: argparse.Namespace) -> int:
    from workbench.report import build_report

    params = _parse_params(args.param or [], args.template)
    report = build_report(args.path, args.out, params=params, template=args.template,
                          timeout=None if args.timeout == 0 else args.timeout)
    where = "embedded" if report.chart_scripts == "inline" else "loaded from jsDelivr when opened"
    _emit(f"wrote {report.path} ({report.n_cells} cells, {report.n_charts} chart(s), chart scripts {where}; "
          f"{report.seconds:.1f} s)")
    return 0


def _export_frame(project: Any, version: str, labels_only: bool) -> tuple[pd.DataFrame, dict[str, Any]]:
    soft = project.versions.load(version)
    manifest = dict(soft.attrs.get("manifest", {}))
    soft = soft.copy()
    soft.attrs = {}
    soft.index = soft.index.astype(str)
    if labels_only:
        frame = soft
    else:
        data = project.examples().drop(columns=["data_version"], errors="ignore")
        data.index = data.index.astype(str)
        clash = [c for c in data.columns if c in soft.columns or c == "id"]  # "id" is the exported id column
        data = data.rename(columns={c: f"data.{c}" for c in clash})
        frame = data.reindex(soft.index).join(soft)
    frame = frame.rename_axis("id").reset_index()
    return frame, manifest


def _cmd_export(args: argparse.Namespace) -> int:
    if args.format != "hf":
        _check_out_file(args.out)
    fmt = _format_for(args.out, args.format, EXPORT_FORMATS, "export")
    out = _check_out_file(args.out, folder=fmt == "hf")
    if fmt == "hf":
        import importlib.util

        if importlib.util.find_spec("datasets") is None:
            raise CLIError("--format hf writes a Hugging Face dataset folder and needs the 'datasets' package, "
                           "which is not installed (pip install datasets); or export --format parquet, which "
                           "datasets.load_dataset('parquet', data_files=...) reads.")
    with _open(args.path) as project:
        frame, manifest = _export_frame(project, args.version, args.labels_only)
    keys = ("name", "parent", "created_at", "message", "data_version", "data_versions", "schema_version",
            "guideline_version", "questions", "software")
    provenance: dict[str, Any] = {k: manifest.get(k) for k in keys if k in manifest}
    provenance["content_hash"] = (manifest.get("data_hash") or {}).get("sha256")
    as_text = _mixed_columns(frame) if fmt in ("parquet", "hf") else []
    for col in as_text:  # one type per column in Parquet and Arrow: numbers in some rows, text in others
        frame[col] = frame[col].map(lambda v: v if v is None or (isinstance(v, float) and v != v) else str(v))
    if fmt == "hf":
        import datasets  # type: ignore[import-not-found, unused-ignore]

        ds = datasets.Dataset.from_pandas(frame, preserve_index=False)
        ds.info.description = json.dumps({"workbench.label_version": provenance}, default=str)
        datasets.disable_progress_bars()  # the command prints its own one-line summary
        # written next to the target and moved into place, so an interrupted export leaves no half folder
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            ds.save_to_disk(str(tmp))
            if out.is_dir():
                out.rmdir()  # _check_out_file let only an empty folder through
            os.replace(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        _write_table(frame, out, fmt, metadata={"workbench.label_version": provenance})
    summary = {"version": args.version, "format": fmt, "out": str(out), "rows": len(frame),
               "columns": [str(c) for c in frame.columns], "content_hash": provenance["content_hash"],
               "written_as_text": as_text}
    if args.json:
        _json(summary)
    else:
        _emit(f"wrote label version {args.version} ({len(frame)} row(s), {len(frame.columns)} column(s)) to {out} "
              f"({fmt})")
        if as_text:
            _emit(f"note: column(s) {', '.join(map(repr, as_text))} hold numbers in some rows and text in others "
                  f"(data versions stored them differently); {fmt} needs one type per column, so they were written "
                  f"as text")
    return 0


def _mixed_columns(frame: pd.DataFrame) -> list[str]:
    """Object columns whose values are of several kinds (numbers and text ...), which Arrow cannot store as one."""
    out = []
    for col in frame.columns:
        if frame[col].dtype != object:
            continue
        kinds = {"number" if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else type(v).__name__
                 for v in frame[col] if v is not None and not (isinstance(v, float) and v != v)}
        if len(kinds) > 1 and kinds <= {"number", "str", "bool"}:
            out.append(str(col))
    return out


# ---------------------------------------------------------------------- the parser
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="workbench", description="The labeling workbench: projects, labels, reviews and reports.",
        epilog="Each command takes the project directory first; workbench COMMAND --help tells more.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    i = sub.add_parser("init", help="create a single-question project")
    i.add_argument("path", help="the new project's directory")
    i.add_argument("--name", required=True, help="question name, e.g. spam")
    i.add_argument("--choices", nargs="+", required=True, help="e.g. ham spam")
    i.add_argument("--guidelines", help="guideline text or a .md/.txt file")
    i.add_argument("--text-column", default="text", help="the data column holding the text (default: text)")
    i.set_defaults(func=_cmd_init)

    a = sub.add_parser("ingest", aliases=["add-data"], help="add a CSV/TSV/Parquet/JSONL file as a new data version")
    a.add_argument("path")
    a.add_argument("file")
    a.add_argument("--id-column", help="the column holding example ids (default: ids derived from content)")
    a.add_argument("--message", default="", help="why this batch was added")
    a.add_argument("--encoding", default="utf-8", help="text encoding of the file (default: utf-8)")
    a.add_argument("--encoding-errors", default="strict", choices=["strict", "replace"],
                   help="what to do with bytes the encoding cannot decode (default: strict)")
    a.set_defaults(func=_cmd_ingest)

    s = sub.add_parser("status", help="counts, versions, queues and quality")
    s.add_argument("path")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--window", default=None,
                   help="window of annotator drift: a time span (7D, 12h) or a count of answers per annotator (50) "
                        "(default: the project's drift_window setting, 7D unless configured)")
    s.set_defaults(func=_cmd_status)

    u = sub.add_parser("users", help="accounts and roles of the reviewer app")
    u.add_argument("path")
    us = u.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    ul = us.add_parser("list", help="list the accounts")
    ul.add_argument("--json", action="store_true", help="print JSON")
    for name, aliases, hlp, with_role, with_password in (
        ("add", [], "add an account", True, True),
        ("remove", [], "remove an account", False, False),
        ("set-password", ["passwd"], "give an account a new password", False, True),
        ("set-role", ["role"], "change an account's role", True, False),
    ):
        c = us.add_parser(name, aliases=aliases, help=hlp)
        c.add_argument("username")
        if with_role:
            if name == "add":
                c.add_argument("--role", required=True, choices=["annotator", "reviewer", "admin"])
            else:
                c.add_argument("role", choices=["annotator", "reviewer", "admin"])
        if with_password:
            c.add_argument("--password-stdin", action="store_true",
                           help="read the password from the first line of standard input (for scripts)")
    u.set_defaults(func=_cmd_users)

    v = sub.add_parser("serve", help="serve the reviewer app (login required: add accounts with `workbench users`)")
    v.add_argument("path")
    v.add_argument("--port", type=int, default=5006, help="default: 5006")
    v.add_argument("--address", default="127.0.0.1",
                   help="interface to listen on (default: 127.0.0.1; any other needs accounts and TLS or a proxy)")
    v.add_argument("--tls-cert", help="TLS certificate file")
    v.add_argument("--tls-key", help="TLS private key file")
    v.add_argument("--behind-proxy", action="store_true", help="a reverse proxy in front terminates TLS")
    v.add_argument("--session-minutes", type=float, help="how long a login lasts")
    v.set_defaults(func=_cmd_serve)

    r = sub.add_parser("report", help="execute the report notebook over the project into one HTML file")
    r.add_argument("path")
    r.add_argument("--out", required=True, help="the HTML file to write")
    r.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="a report parameter (repeatable): seed, gold, question, window, version, lfs, "
                        "learning_curve, title")
    r.add_argument("--template", help="another notebook to execute (a cell tagged 'parameters' assigns project_path)")
    r.add_argument("--timeout", type=float, default=600, help="seconds one cell may run (default 600; 0: no limit)")
    r.set_defaults(func=_cmd_report)

    e = sub.add_parser("export", help="write a label version for training")
    e.add_argument("path")
    e.add_argument("version", help="the label version, e.g. v3")
    e.add_argument("--out", required=True, help="the file (or, for hf, the new folder) to write")
    e.add_argument("--format", help="parquet, csv, jsonl or hf (default: from the suffix of --out)")
    e.add_argument("--labels-only", action="store_true", help="only the labels, without the examples' data columns")
    e.add_argument("--json", action="store_true", help="print a JSON summary")
    e.set_defaults(func=_cmd_export)

    lab = sub.add_parser("labels", help="print or write the current labels")
    lab.add_argument("path")
    lab.add_argument("--out", help="file to write: .csv, .parquet, .jsonl or .json")
    lab.add_argument("--format", help="csv, parquet, jsonl or json (default: from the suffix of --out)")
    lab.add_argument("--json", action="store_true", help="print JSON records")
    lab.add_argument("--question")
    lab.add_argument("--source", help="human, gold, adjudication, lf, model, consensus or feedback")
    lab.add_argument("--annotator")
    lab.set_defaults(func=_cmd_labels)

    h = sub.add_parser("history", help="every event of one example")
    h.add_argument("path")
    h.add_argument("example_id")
    h.set_defaults(func=_cmd_history)

    for name, func, hlp in (("info", _cmd_info, "summarise a project (see also status)"),
                            ("verify", _cmd_verify, "check data files against their hashes")):
        x = sub.add_parser(name, help=hlp)
        x.add_argument("path")
        x.set_defaults(func=func)

    d = sub.add_parser("demo", help="create the built-in demo project")
    d.add_argument("path")
    d.add_argument("--n", type=int, default=400, help="rows of synthetic data when no real data is found")
    d.add_argument("--force", action="store_true", help="rebuild an existing demo project")
    d.set_defaults(func=_cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 an error, 141 output cut off by a closed pipe)."""
    args = _parser().parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # `workbench labels P | head -1`: the reader is gone; say nothing and stop writing.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # pytest's captured stdout has no file descriptor
            pass
        return _EXIT_PIPE
    except WorkbenchError as exc:
        print(f"workbench: error: {_cli_message(str(exc))}", file=sys.stderr)
        return _EXIT_USAGE
    except OSError as exc:
        where = f" {exc.filename!r}" if getattr(exc, "filename", None) else ""
        print(f"workbench: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return _EXIT_USAGE
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
