"""Project store benchmark: ingest throughput and annotation write latency under concurrent writers.

Issue 2: "A benchmark in benchmarks/ reports ingest throughput (rows/s) and annotation write latency
(p50, p99) under 4 concurrent writers, against plain pandas.to_parquet and a bare SQLite insert loop
in the same run."

What is timed, all in one run on the same disk:

1. Ingest. A frame of N comments (YouTube comments resampled with a seed, unique ids):
   ``project.add_data(df, id_column="id")`` (validation, row hashing, one immutable Parquet file,
   one SQLite transaction of example rows) against ``df.to_parquet`` alone, a bare ``sqlite3``
   ``executemany`` of (id, text) in one transaction (WAL, synchronous=FULL), and the two together.
   Then the same rows from a CSV and a JSON Lines file, against pandas reading the file and
   writing Parquet.
2. Annotation latency. W writer processes (spawned) open the same project and each call
   ``project.annotate(example_id, choice, annotator=...)`` M times on examples drawn from one shared
   pool (so writers overlap, and a writer sometimes relabels an example, which supersedes its earlier
   label). Each call is timed. The peer: the same W processes doing a bare
   ``BEGIN IMMEDIATE; INSERT; COMMIT`` per event into one WAL database with synchronous=FULL.
   The two sides run in alternating blocks (all W writers on the workbench, then all W on the bare
   database, ...) so that the load of a shared machine falls on both alike. At the end the project
   must hold exactly W*M events. The same is then run with one writer, for the uncontended latency.

Usage::

    python benchmarks/bench_store.py            # 200,000 rows, 4 writers x 500 annotations
    python benchmarks/bench_store.py --quick    # 20,000 rows, 4 writers x 100 annotations
    python benchmarks/bench_store.py --profile  # also cProfile add_data and annotate
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import multiprocessing as mp
import pstats
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from _common import comment_frame, fmt_rate, latency_summary, machine_info, print_table, timed

import workbench as wb

CHOICES = ("ham", "spam")
QUESTION = "spam"


def _schema() -> wb.Schema:
    return wb.Schema.single(QUESTION, list(CHOICES))


# ---------------------------------------------------------------------------------------------- ingest
class _Dirs:
    """Fresh, numbered directories under one work folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.n = 0

    def new(self, stem: str) -> Path:
        self.n += 1
        return self.root / f"{stem}-{self.n}"


def _bare_sqlite_ingest(db: Path, df: pd.DataFrame) -> None:
    conn = sqlite3.connect(str(db), isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE IF NOT EXISTS examples (id TEXT PRIMARY KEY, text TEXT) WITHOUT ROWID")
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO examples (id, text) VALUES (?, ?)", zip(df["id"].tolist(), df["text"].tolist(), strict=True)
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def run_ingest(df: pd.DataFrame, work: Path, repeat: int) -> tuple[list[list[Any]], dict[str, float], Path]:
    """Time every ingest path; returns table rows, rows/s by name, and one populated project."""
    n = len(df)
    dirs = _Dirs(work)
    targets: dict[str, Path] = {}

    def fresh(stem: str) -> None:
        targets[stem] = dirs.new(stem)

    projects: list[wb.Project] = []

    def fresh_project() -> None:
        for p in projects:
            p.close()
        fresh("project")
        projects[:] = [wb.Project.create(targets["project"], schema=_schema())]

    def wb_add(source: pd.DataFrame | Path) -> wb.DataVersion:
        version = projects[0].add_data(source, id_column="id")
        if version.n_rows != n:
            raise RuntimeError(f"add_data stored {version.n_rows} rows, expected {n}")
        return version

    def to_parquet() -> None:
        targets["pq"].mkdir()
        df.to_parquet(targets["pq"] / "batch.parquet", index=False)

    def sqlite_insert() -> None:
        targets["db"].mkdir()
        _bare_sqlite_ingest(targets["db"] / "bare.db", df)

    def parquet_and_sqlite() -> None:
        to_parquet()
        sqlite_insert()

    def fresh_both() -> None:
        fresh("pq")
        fresh("db")

    # File sources: written once, untimed.
    files = work / "sources"
    files.mkdir()
    csv_path, jsonl_path = files / "comments.csv", files / "comments.jsonl"
    df.to_csv(csv_path, index=False)
    df.to_json(jsonl_path, orient="records", lines=True, force_ascii=False)

    def pandas_csv() -> None:
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, na_values=[""])
        targets["pq"].mkdir()
        frame.to_parquet(targets["pq"] / "batch.parquet", index=False)

    def pandas_jsonl() -> None:
        frame = pd.read_json(jsonl_path, lines=True, dtype=False)
        targets["pq"].mkdir()
        frame.to_parquet(targets["pq"] / "batch.parquet", index=False)

    cases: dict[str, tuple[Callable[[], object], Callable[[], None]]] = {
        "wb": (lambda: wb_add(df), fresh_project),
        "pq": (to_parquet, lambda: fresh("pq")),
        "sq": (sqlite_insert, lambda: fresh("db")),
        "both": (parquet_and_sqlite, fresh_both),
        "wb_csv": (lambda: wb_add(csv_path), fresh_project),
        "pd_csv": (pandas_csv, lambda: fresh("pq")),
        "wb_jsonl": (lambda: wb_add(jsonl_path), fresh_project),
        "pd_jsonl": (pandas_jsonl, lambda: fresh("pq")),
    }
    # Rounds: every case once per round, so a slow phase of a shared machine hits all of them.
    seconds: dict[str, list[float]] = {k: [] for k in cases}
    project_path: Path | None = None
    for _ in range(repeat):
        for key, (fn, setup) in cases.items():
            seconds[key] += timed(fn, 1, setup=setup).seconds
            if key == "wb":  # keep one DataFrame-ingested project: the annotation benchmark labels it
                project_path = targets["project"]
                projects.pop().close()
    if project_path is None:
        raise ValueError(f"The 'repeat' parameter must be at least 1. Got {repeat} instead.")
    best = {k: min(v) for k, v in seconds.items()}
    t_wb, t_pq, t_sq, t_both = best["wb"], best["pq"], best["sq"], best["both"]

    for p in projects:
        p.close()
    results: dict[str, float] = {}
    rows: list[list[Any]] = []

    def add(name: str, t: float, peer: float | None) -> None:
        results[name] = n / t
        ratio = "" if peer is None else f"{t / peer:.2f}x"
        rows.append([name, f"{t:.3f}", fmt_rate(n / t), ratio])

    add("wb add_data(DataFrame)", t_wb, None)
    add("  peer: df.to_parquet", t_pq, None)
    add("  peer: sqlite3 executemany (1 txn)", t_sq, None)
    add("  peer: to_parquet + sqlite3 insert", t_both, None)
    # ratios: how many times the peer's time the workbench takes
    rows[0][3] = f"{t_wb / t_pq:.2f}x parquet, {t_wb / t_sq:.2f}x sqlite, {t_wb / t_both:.2f}x both"
    add("wb add_data(CSV file)", best["wb_csv"], best["pd_csv"])
    add("  peer: pd.read_csv + to_parquet", best["pd_csv"], None)
    add("wb add_data(JSONL file)", best["wb_jsonl"], best["pd_jsonl"])
    add("  peer: pd.read_json(lines) + to_parquet", best["pd_jsonl"], None)
    results["ratio_parquet"] = t_wb / t_pq
    results["ratio_sqlite"] = t_wb / t_sq
    results["ratio_both"] = t_wb / t_both
    results["ratio_csv"] = best["wb_csv"] / best["pd_csv"]
    results["ratio_jsonl"] = best["wb_jsonl"] / best["pd_jsonl"]
    return rows, results, project_path


# ---------------------------------------------------------------------------------------------- writers
_BARE_EVENTS_SQL = """
CREATE TABLE IF NOT EXISTS events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT, event_uid TEXT UNIQUE NOT NULL,
    example_id TEXT NOT NULL, question TEXT NOT NULL, value TEXT, source TEXT NOT NULL,
    annotator TEXT NOT NULL, created_at TEXT NOT NULL)
"""
_BARE_INSERT_SQL = (
    "INSERT INTO events (event_uid, example_id, question, value, source, annotator, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _plan(pool: list[str], writer: int, n_events: int, seed: int) -> list[tuple[str, str]]:
    """The (example id, choice) sequence one writer labels: drawn with replacement from the shared pool."""
    rng = random.Random(seed * 1000 + writer)
    return [(rng.choice(pool), rng.choice(CHOICES)) for _ in range(n_events)]


def _bare_connect(db_path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(db_path, timeout=60.0, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 60000")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def _writer(
    project_path: str, bare_db: str, writer: int, n_events: int, pool: list[str], seed: int, block: int,
    barrier: Any, out: Any,
) -> None:
    """One writer process: alternating blocks of ``project.annotate`` and bare SQLite writes.

    All writers pass a barrier before every block, so the W workbench writers write together,
    then the W bare writers, and so on. Slow phases of a shared machine then hit both sides alike.
    Even blocks run the workbench first, odd blocks the bare peer first.
    """
    try:
        plan = _plan(pool, writer, n_events, seed)
        project = wb.Project.open(project_path)  # also loads and caches the schema
        conn = _bare_connect(bare_db)
        annotator = f"writer-{writer}"
        lat: dict[str, list[float]] = {"wb": [], "bare": []}
        spans: dict[str, list[tuple[float, float]]] = {"wb": [], "bare": []}

        def wb_block(items: list[tuple[str, str]]) -> None:
            for example_id, value in items:
                t0 = time.perf_counter()
                project.annotate(example_id, value, annotator=annotator)
                lat["wb"].append(time.perf_counter() - t0)

        def bare_block(items: list[tuple[str, str]]) -> None:
            for example_id, value in items:
                t0 = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    _BARE_INSERT_SQL,
                    (uuid.uuid4().hex, example_id, QUESTION, value, "human", annotator,
                     dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")),
                )
                conn.execute("COMMIT")
                lat["bare"].append(time.perf_counter() - t0)

        for k, first in enumerate(range(0, n_events, block)):
            items = plan[first : first + block]
            order = (("wb", wb_block), ("bare", bare_block))
            for side, run in order if k % 2 == 0 else order[::-1]:
                barrier.wait()
                t0 = time.perf_counter()
                run(items)
                spans[side].append((t0, time.perf_counter()))
        project.close()
        conn.close()
        out.put((writer, lat, spans, None))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails loudly
        barrier.abort()  # release the other writers instead of leaving them waiting
        out.put((writer, {}, {}, f"{type(exc).__name__}: {exc}"))


def _run_writers(
    project_path: Path, bare_db: Path, writers: int, n_events: int, pool: list[str], seed: int, block: int
) -> dict[str, dict[str, float]]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(writers)
    out = ctx.Queue()
    args = (str(project_path), str(bare_db))
    procs = [
        ctx.Process(target=_writer, args=(*args, w, n_events, pool, seed, block, barrier, out), daemon=True)
        for w in range(writers)
    ]
    t_spawn = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get(timeout=900) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [f"writer {w}: {err}" for w, _, _, err in results if err]
    if errors:
        raise RuntimeError("A writer process failed: " + "; ".join(errors))
    summary: dict[str, dict[str, float]] = {}
    first_start = min(s[0][0] for _, _, spans, _ in results for s in spans.values())
    for side in ("wb", "bare"):
        latencies = [x for _, lat, _, _ in results for x in lat[side]]
        n_blocks = len(results[0][2][side])
        # a block's wall time runs from the first writer's start to the last writer's end
        wall = sum(
            max(r[2][side][b][1] for r in results) - min(r[2][side][b][0] for r in results) for b in range(n_blocks)
        )
        summary[side] = {
            "n": len(latencies), "wall": wall, "throughput": len(latencies) / wall,
            "startup": first_start - t_spawn,  # spawning, importing and opening: untimed
            **latency_summary(latencies),
        }
    return summary


def _fresh_bare_db(path: Path) -> None:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(_BARE_EVENTS_SQL)
    conn.close()


def run_annotation(
    project_path: Path, work: Path, writer_counts: list[int], n_events: int, pool_size: int, seed: int, block: int
) -> tuple[list[list[Any]], dict[int, dict[str, Any]]]:
    """For each writer count: W writers on a fresh copy of the project and a fresh bare database."""
    with wb.Project.open(project_path) as project:
        if len(project.events()) != 0:
            raise RuntimeError("the annotation benchmark needs a project without events")
        ids = project.examples().index.tolist()
    pool = random.Random(seed).sample(ids, min(pool_size, len(ids)))

    rows: list[list[Any]] = []
    out: dict[int, dict[str, Any]] = {}
    for writers in writer_counts:
        copy = work / f"annotate-{writers}w"
        shutil.copytree(project_path, copy)  # a closed project: its database is complete on disk
        bare_db = work / f"bare-events-{writers}w.db"
        _fresh_bare_db(bare_db)

        summary = _run_writers(copy, bare_db, writers, n_events, pool, seed, block)
        wbr, bare = summary["wb"], summary["bare"]

        with wb.Project.open(copy) as project:
            stored = len(project.events())
            n_current = len(project.labels())
        conn = sqlite3.connect(str(bare_db))
        bare_stored = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        conn.close()
        expected = writers * n_events
        if stored != expected or bare_stored != expected:
            raise RuntimeError(
                f"Lost or extra writes with {writers} writers: the project holds {stored} events and the bare "
                f"database {bare_stored}; expected {expected} in each."
            )
        out[writers] = {"wb": wbr, "bare": bare, "expected": expected, "stored": stored, "current": n_current,
                        "bare_stored": bare_stored}
        for name, r, peer in (
            (f"wb project.annotate, {writers} writer(s)", wbr, bare),
            (f"  peer: sqlite3 INSERT+COMMIT, {writers} writer(s)", bare, None),
        ):
            rows.append([
                name,
                f"{r['p50']:.2f}", f"{r['p90']:.2f}", f"{r['p99']:.2f}", f"{r['max']:.1f}", f"{r['mean']:.2f}",
                fmt_rate(r["throughput"]),
                "" if peer is None else f"{r['p50'] / peer['p50']:.2f}x",
                "" if peer is None else f"{r['p99'] / peer['p99']:.2f}x",
                "" if peer is None else f"{r['throughput'] / peer['throughput']:.2f}x",
            ])
    return rows, out


# ---------------------------------------------------------------------------------------------- profile
def _print_profile(prof: cProfile.Profile, title: str, top: int) -> None:
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        text = buf.getvalue()
        body = text[text.find("   ncalls"):] if "   ncalls" in text else text
        print(f"\n{title}: top {top} by {key}")
        print(body.rstrip())


def run_profiles(df: pd.DataFrame, work: Path, n_annotations: int, top: int) -> None:
    path = work / "profiled-project"
    project = wb.Project.create(path, schema=_schema())
    prof = cProfile.Profile()
    prof.enable()
    project.add_data(df, id_column="id")
    prof.disable()
    _print_profile(prof, f"cProfile of add_data({len(df):,} rows)", top)

    ids = df["id"].tolist()
    plan = _plan(ids[: max(1, n_annotations // 2)], 0, n_annotations, 0)
    prof = cProfile.Profile()
    prof.enable()
    for example_id, value in plan:
        project.annotate(example_id, value, annotator="profiler")
    prof.disable()
    project.close()
    _print_profile(prof, f"cProfile of {n_annotations} annotate() calls (one process)", top)

    for suffix in (".csv", ".jsonl"):
        source = work / "sources" / f"comments{suffix}"
        if not source.is_file():
            continue
        with wb.Project.create(work / f"profiled-project{suffix.replace('.', '-')}", schema=_schema()) as project:
            prof = cProfile.Profile()
            prof.enable()
            project.add_data(source, id_column="id")
            prof.disable()
        _print_profile(prof, f"cProfile of add_data({source.name}, {len(df):,} rows)", top)


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 rows, 100 annotations per writer")
    parser.add_argument("--rows", type=int, default=None, help="rows to ingest (default 200,000; quick 20,000)")
    parser.add_argument("--events", type=int, default=None, help="annotations per writer (default 500; quick 100)")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writer processes (default 4)")
    parser.add_argument("--block", type=int, default=50, help="events per interleaved block (default 50)")
    parser.add_argument("--pool", type=int, default=None, help="examples the writers draw from (default = events)")
    parser.add_argument("--repeat", type=int, default=None, help="ingest rounds, best kept (default 2; quick 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None, help="where to write (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--no-baseline", dest="baseline", action="store_false", help="skip the single-writer runs"
    )
    parser.add_argument("--profile", action="store_true", help="also cProfile add_data and annotate")
    parser.add_argument("--top", type=int, default=15, help="profile lines to print")
    args = parser.parse_args(argv)
    n_rows = args.rows or (20_000 if args.quick else 200_000)
    n_events = args.events or (100 if args.quick else 500)
    repeat = args.repeat or (1 if args.quick else 2)
    pool_size = args.pool or n_events

    work = Path(tempfile.mkdtemp(prefix="wb-bench-store-", dir=args.workdir))
    t_start = time.perf_counter()
    try:
        print(f"bench_store: {machine_info()}")
        print(f"work folder: {work}")
        df, origin = comment_frame(n_rows, args.seed)
        print(f"data: {n_rows:,} rows (id, text) from {origin}; mean text length "
              f"{df['text'].str.len().mean():.0f} chars")

        t_phase = [time.perf_counter()]

        def phase(name: str) -> None:
            now = time.perf_counter()
            print(f"[{name}: {now - t_phase[0]:.1f} s]")
            t_phase[0] = now

        ingest_rows, ingest, project_path = run_ingest(df, work, repeat)
        print_table(
            ["ingest", "seconds", "rows/s", "wb time / peer time"], ingest_rows,
            title=f"Ingest of {n_rows:,} rows (best of {repeat})",
        )

        phase("ingest")
        counts = [args.writers] + ([1] if args.baseline and args.writers != 1 else [])
        ann_rows, ann = run_annotation(project_path, work, counts, n_events, pool_size, args.seed, args.block)
        print_table(
            ["writer", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean ms", "events/s",
             "wb/peer p50", "wb/peer p99", "wb/peer events/s"],
            ann_rows,
            title=(
                f"Annotation writes: W processes x {n_events} events each (and as many bare ones, interleaved in "
                f"blocks of {args.block}), pool of {pool_size} shared examples, WAL + synchronous=FULL, one "
                f"transaction per event"
            ),
        )
        for writers, r in ann.items():
            print(
                f"{writers} writer(s): project events stored {r['stored']:,} (expected {r['expected']:,}; "
                f"{r['current']:,} current, the rest superseded); bare database rows {r['bare_stored']:,}; "
                f"writing took {r['wb']['wall']:.1f} s (workbench) and {r['bare']['wall']:.1f} s (bare), after "
                f"{r['wb']['startup']:.1f} s of untimed process start-up"
            )
        phase("annotation")

        print("\nSummary")
        print(
            f"  ingest {n_rows:,} rows: add_data {fmt_rate(ingest['wb add_data(DataFrame)'])} rows/s vs "
            f"to_parquet {fmt_rate(ingest['  peer: df.to_parquet'])} rows/s ({ingest['ratio_parquet']:.1f}x the "
            f"time), sqlite insert {fmt_rate(ingest['  peer: sqlite3 executemany (1 txn)'])} rows/s "
            f"({ingest['ratio_sqlite']:.1f}x), both together {ingest['ratio_both']:.1f}x; "
            f"from CSV {ingest['ratio_csv']:.1f}x and JSONL {ingest['ratio_jsonl']:.1f}x pandas read + to_parquet"
        )
        for writers, r in ann.items():
            w, b = r["wb"], r["bare"]
            print(
                f"  annotate, {writers} writer(s): p50 {w['p50']:.2f} ms, p99 {w['p99']:.2f} ms, "
                f"{fmt_rate(w['throughput'])} events/s vs bare sqlite p50 {b['p50']:.2f} ms, p99 {b['p99']:.2f} ms, "
                f"{fmt_rate(b['throughput'])} events/s (p50 {w['p50'] / b['p50']:.1f}x, p99 "
                f"{w['p99'] / b['p99']:.1f}x, throughput {w['throughput'] / b['throughput']:.2f}x)"
            )
        if args.profile:
            run_profiles(df, work, n_annotations=min(n_events, 300), top=args.top)
            phase("profiles")
        print(f"\ntotal benchmark time: {time.perf_counter() - t_start:.1f} s")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
