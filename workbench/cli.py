"""The ``workbench`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from workbench._version import __version__
from workbench.exceptions import WorkbenchError

__all__ = ["build_demo_project", "main"]


def build_demo_project(path: str | Path, *, n: int = 400, force: bool = False) -> Path:
    """Create the built-in demo project: spam/ham comments, a schema, guidelines and a few labels.

    Uses the real YouTube Spam Collection when ``WORKBENCH_DATA_DIR`` holds it, else the
    deterministic synthetic demo data. An existing demo project is kept unless ``force``.
    """
    import workbench as wb

    target = Path(path)
    if (target / "workbench.json").exists():
        if not force:
            return target
        wb.Project.open(target).delete()
    try:
        data = wb.datasets.load_youtube_spam()
        source = "YouTube Spam Collection"
    except WorkbenchError:
        data = wb.datasets.load_demo(n)
        source = "synthetic demo data"
    schema = wb.Schema.single(
        "spam",
        choices=["ham", "spam"],
        guidelines=(
            "# Spam or ham?\n\nA comment is **spam** when it advertises something unrelated to the video "
            "(channels, links, giveaways, money). Everything else is **ham**, even if rude or off-topic.\n"
        ),
    )
    project = wb.Project.create(target, schema=schema)
    project.add_data(data.drop(columns=["label"]), id_column="id", message=f"demo: {source}")
    first = data.head(6)
    project.annotate_many(
        pd.DataFrame({"example_id": first["id"], "value": first["label"], "annotator": "demo-expert",
                      "source": "gold"})
    )
    project.close()
    return target


def _cmd_demo(args: argparse.Namespace) -> int:
    path = build_demo_project(args.path, n=args.n, force=args.force)
    print(f"demo project ready at {path}")
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    import workbench as wb

    schema = wb.Schema.single(args.name, choices=args.choices, guidelines=args.guidelines)
    project = wb.Project.create(args.path, schema=schema, text_column=args.text_column)
    print(f"created {project.path} (schema {project.schema_version}, guidelines {project.guideline_version})")
    return 0


def _cmd_add_data(args: argparse.Namespace) -> int:
    import workbench as wb

    with wb.Project.open(args.path) as project:
        v = project.add_data(args.file, id_column=args.id_column, message=args.message, encoding=args.encoding)
    print(f"{v.version}: {v.n_rows} new example(s), {v.n_existing} already stored (hash {v.content_hash[:12]})")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    import workbench as wb

    with wb.Project.open(args.path) as project:
        print(repr(project))
        print(f"schema {project.schema_version}: {project.schema!r}")
        print(f"guidelines {project.guideline_version}")
        print(project.data_versions()[["version", "n_rows", "n_existing", "created_at", "message"]].to_string(
            index=False))
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    import workbench as wb

    with wb.Project.open(args.path) as project:
        cols = ["event_id", "created_at", "question", "value", "action", "source", "annotator", "confidence",
                "schema_version", "guideline_version", "superseded_by", "training_runs"]
        print(project.history(args.example_id)[cols].to_string(index=False))
    return 0


def _cmd_labels(args: argparse.Namespace) -> int:
    import workbench as wb

    with wb.Project.open(args.path) as project:
        labels = project.labels()
    if args.out:
        labels.to_csv(args.out, index=False)
        print(f"wrote {len(labels)} label(s) to {args.out}")
    else:
        print(labels.to_string(index=False))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    import workbench as wb

    with wb.Project.open(args.path) as project:
        report = project.verify()
    print(f"ok: {report['examples_checked']} examples match their hashes; {report['events']} events")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench", description="The labeling workbench.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="create the built-in demo project")
    d.add_argument("path")
    d.add_argument("--n", type=int, default=400, help="rows of synthetic data when no real data is found")
    d.add_argument("--force", action="store_true", help="rebuild an existing demo project")
    d.set_defaults(func=_cmd_demo)

    i = sub.add_parser("init", help="create a single-question project")
    i.add_argument("path")
    i.add_argument("--name", required=True, help="question name, e.g. spam")
    i.add_argument("--choices", nargs="+", required=True, help="e.g. ham spam")
    i.add_argument("--guidelines", help="guideline text or a .md/.txt file")
    i.add_argument("--text-column", default="text")
    i.set_defaults(func=_cmd_init)

    a = sub.add_parser("add-data", help="add a CSV/Parquet/JSONL file as a new data version")
    a.add_argument("path")
    a.add_argument("file")
    a.add_argument("--id-column")
    a.add_argument("--message", default="")
    a.add_argument("--encoding", default="utf-8")
    a.set_defaults(func=_cmd_add_data)

    for name, func, hlp in (("info", _cmd_info, "summarise a project"), ("verify", _cmd_verify,
                            "check data files against their hashes")):
        s = sub.add_parser(name, help=hlp)
        s.add_argument("path")
        s.set_defaults(func=func)

    h = sub.add_parser("history", help="every event of one example")
    h.add_argument("path")
    h.add_argument("example_id")
    h.set_defaults(func=_cmd_history)

    lab = sub.add_parser("labels", help="print or export the current labels")
    lab.add_argument("path")
    lab.add_argument("--out", help="CSV file to write")
    lab.set_defaults(func=_cmd_labels)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
