"""Helpers shared by the benchmark scripts: where the real data is, timing, and printing.

Benchmarks are plain scripts (``python benchmarks/bench_x.py [--quick]``); they time the
workbench against a peer measured in the same run and print the ratio. Nothing here is part of
the ``workbench`` package.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

__all__ = [
    "REPO_ROOT",
    "Timed",
    "comment_frame",
    "data_dir",
    "fmt_rate",
    "latency_summary",
    "machine_info",
    "print_table",
    "timed",
    "youtube_comments",
]

T = TypeVar("T")

#: The repository root (the folder holding ``benchmarks/``).
REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path | None:
    """The real-data directory: ``$WORKBENCH_DATA_DIR``, else ``../shared/data`` next to the repo, else None."""
    env = os.environ.get("WORKBENCH_DATA_DIR")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


def youtube_comments() -> list[str] | None:
    """The CONTENT column of the five YouTube Spam Collection CSVs, or None when the data is absent."""
    root = data_dir()
    if root is None:
        return None
    files = sorted((root / "youtube_spam").glob("*.csv"))
    if not files:
        return None
    texts: list[str] = []
    for f in files:
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        texts.extend(df["CONTENT"].tolist())
    return texts


_WORDS = [
    "check",
    "out",
    "my",
    "channel",
    "subscribe",
    "please",
    "love",
    "this",
    "song",
    "so",
    "much",
    "best",
    "video",
    "ever",
    "watch",
    "new",
    "music",
    "free",
    "gift",
    "card",
    "click",
    "here",
    "link",
    "awesome",
    "great",
    "beat",
    "dance",
    "lol",
    "omg",
    "who",
    "is",
    "listening",
    "in",
    "2015",
    "amazing",
    "voice",
    "views",
    "million",
    "like",
    "if",
    "you",
    "agree",
    "share",
    "thanks",
    "guys",
    "my",
    "playlist",
]


def _synthetic_comments(n: int, rng: np.random.Generator) -> list[str]:
    lengths = np.clip(rng.lognormal(mean=2.2, sigma=0.7, size=n).astype(int), 1, 200)
    vocab = np.asarray(_WORDS, dtype=object)
    return [" ".join(vocab[rng.integers(0, len(vocab), size=k)].tolist()) for k in lengths]


def comment_frame(n: int, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """A frame of ``n`` comments with unique string ids (columns ``id``, ``text``).

    Texts are resampled (with replacement, seeded) from the real YouTube comments when
    ``$WORKBENCH_DATA_DIR`` holds them, else synthesized from a small vocabulary. Returns the
    frame and a description of where the text came from.
    """
    rng = np.random.default_rng(seed)
    real = youtube_comments()
    if real:
        pool = np.asarray(real, dtype=object)
        texts = pool[rng.integers(0, len(pool), size=n)].tolist()
        origin = f"YouTube Spam Collection CONTENT ({len(real):,} comments) resampled, seed={seed}"
    else:
        texts = _synthetic_comments(n, rng)
        origin = f"synthetic comments (WORKBENCH_DATA_DIR absent), seed={seed}"
    ids = [f"yt-{i:07d}" for i in range(n)]
    return pd.DataFrame({"id": ids, "text": texts}), origin


class Timed:
    """The result of :func:`timed`: wall seconds of each repeat and the last return value."""

    def __init__(self, seconds: list[float], value: Any) -> None:
        self.seconds = seconds
        self.value = value

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def timed(fn: Callable[[], T], repeat: int = 1, setup: Callable[[], None] | None = None) -> Timed:
    """Call ``fn`` ``repeat`` times (after ``setup`` each time, untimed) and time each call."""
    seconds: list[float] = []
    value: Any = None
    for _ in range(repeat):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        value = fn()
        seconds.append(time.perf_counter() - t0)
    return Timed(seconds, value)


def latency_summary(latencies_s: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99, max and mean of latencies given in seconds, returned in milliseconds."""
    a = np.asarray(latencies_s, dtype=float) * 1000.0
    return {
        "p50": float(np.percentile(a, 50)),
        "p90": float(np.percentile(a, 90)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
        "mean": float(a.mean()),
    }


def fmt_rate(x: float) -> str:
    """A throughput with thousands separators."""
    return f"{x:,.0f}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    """Print a plain aligned text table (numbers right-aligned)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(headers))]
    numeric = [all(_looks_numeric(r[k]) for r in cells[1:]) for k in range(len(headers))]

    def line(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric, strict=True))

    if title:
        print(f"\n{title}")
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for r in cells[1:]:
        print(line(r))


def _looks_numeric(s: str) -> bool:
    t = s.replace(",", "").replace("x", "").replace("%", "").strip()
    try:
        float(t)
    except ValueError:
        return False
    return True


def machine_info() -> str:
    """One line naming the interpreter, CPU count and the library versions that matter here."""
    import sqlite3

    import pyarrow

    return (
        f"python {platform.python_version()} on {platform.system()} {platform.machine()}, {os.cpu_count()} CPU(s); "
        f"pandas {pd.__version__}, pyarrow {pyarrow.__version__}, SQLite {sqlite3.sqlite_version}; "
        f"argv: {' '.join(sys.argv[1:]) or '(defaults)'}"
    )


