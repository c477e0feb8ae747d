"""Several processes writing one project at once; processes killed mid-write."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb

N_PROCS = 4
N_EVENTS = 60


def _writer(path: str, who: str, n: int, barrier_path: str) -> None:
    project = wb.Project.open(path)
    while not os.path.exists(barrier_path):  # start together for real contention
        time.sleep(0.005)
    for k in range(n):
        project.annotate(f"c-{k % 6 + 1}", "spam" if k % 2 else "ham", annotator=who, event_uid=f"{who}-{k}")
    project.close()


def test_n_processes_times_m_events_lose_and_duplicate_nothing(project: wb.Project, tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    barrier = tmp_path / "go"
    procs = [
        ctx.Process(target=_writer, args=(str(project.path), f"w{i}", N_EVENTS, str(barrier))) for i in range(N_PROCS)
    ]
    for p in procs:
        p.start()
    time.sleep(0.5)
    barrier.touch()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    events = project.events()
    assert len(events) == N_PROCS * N_EVENTS
    assert events["event_uid"].is_unique
    assert events["event_id"].is_unique
    # the supersede chain per (example, annotator) is intact: exactly one current event each
    current = project.labels()
    assert len(current) == N_PROCS * 6
    assert set(current.groupby("annotator").size()) == {6}


def test_concurrent_ingest_from_two_processes(project: wb.Project, tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, pandas as pd, workbench as wb
        p = wb.Project.open(sys.argv[1])
        tag = sys.argv[2]
        p.add_data(pd.DataFrame({"id": [f"{tag}-{i}" for i in range(500)], "text": ["t"] * 500}), id_column="id")
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(project.path), tag], env=_env()) for tag in ("a", "b")
    ]
    assert [p.wait(120) for p in procs] == [0, 0]
    versions = project.data_versions()
    assert sorted(versions["version"]) == ["d1", "d2", "d3"]
    assert len(project.examples()) == 6 + 1000


def _env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, workbench as wb
    p = wb.Project.open(sys.argv[1])
    who = sys.argv[2]
    k = 0
    while True:
        p.annotate_many([{"example_id": f"c-{(k + j) % 6 + 1}", "value": "spam", "annotator": who,
                          "event_uid": f"{who}-{k}-{j}"} for j in range(5)])
        print(k, flush=True)
        k += 1
    """
)


@pytest.mark.slow
def test_kill_minus_9_loop_keeps_every_committed_event(project: wb.Project) -> None:
    """Kill writers at random moments; the store stays readable and every committed batch is whole."""
    committed = 0
    for round_ in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", _KILL_SCRIPT, str(project.path), f"k{round_}"],
            stdout=subprocess.PIPE,
            env=_env(),
            text=True,
        )
        assert proc.stdout is not None
        # wait until it has committed a few batches, then kill it mid-stream
        for _ in range(3 + round_):
            line = proc.stdout.readline()
            assert line, "writer died before writing"
        time.sleep(0.002 * round_)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        printed = 3 + round_ + sum(1 for _ in proc.stdout)
        reopened = wb.Project.open(project.path)  # readable after every kill
        events = reopened.events()
        mine = events[events["annotator"] == f"k{round_}"]
        # batches are atomic: whole multiples of 5, at least as many as were acknowledged
        assert len(mine) % 5 == 0
        assert len(mine) // 5 >= printed
        committed += len(mine)
        reopened.close()
    final = wb.Project.open(project.path)
    assert len(final.events()) == committed
    assert final.events()["event_uid"].is_unique
    # integrity check of the SQLite file itself
    import sqlite3

    con = sqlite3.connect(project.path / "project.db")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_same_uid_from_two_processes_is_stored_once(project: wb.Project, tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    barrier = tmp_path / "go"
    procs = [ctx.Process(target=_writer, args=(str(project.path), "same", 20, str(barrier))) for _ in range(2)]
    for p in procs:
        p.start()
    time.sleep(0.5)
    barrier.touch()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert len(project.events()) == 20


def test_examples_frame_sees_other_processes_data(project: wb.Project) -> None:
    other = wb.Project.open(project.path)
    other.add_data(pd.DataFrame({"id": ["x1"], "text": ["from another kernel"]}), id_column="id")
    assert "x1" in project.examples().index
    other.close()
