"""Label-version benchmark: save and load an immutable soft-label version vs plain Parquet.

Issue 4 item 4: label versions are immutable Parquet + JSON manifest, validated on save and
re-hashed on every load. What that costs, all in one run on the same disk:

1. Save. ``LabelVersionStore.save(df, ...)`` of an N-row binary soft-labels frame (string ids,
   ``p_ham``/``p_spam``, ``label``, ``confidence``, ``weight``, ``sources``): validation, sort by
   id, two canonical content hashes, Parquet (zstd) + SHA-256, manifest, fsync, atomic name claim
   in SQLite, rename. The ids arrive shuffled (as after a join), so the save sorts them; a second
   row saves the same frame with ids already sorted. The peer: ``df.to_parquet(path)`` of the
   same frame (pandas defaults, snappy).
2. Load. ``load(name)`` (manifest hash vs database, file SHA-256, canonical hash recomputed,
   conversion to pandas indexed by id) and ``load(name, verify=False)``, against
   ``pd.read_parquet(path)``. Also the standalone ``verify_label_version(folder)``.

Usage::

    python benchmarks/bench_label_versions.py            # 1,000,000 rows, best of 3
    python benchmarks/bench_label_versions.py --quick    # 100,000 rows, best of 2
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _common import fmt_rate, machine_info, print_table, timed

import workbench as wb
from workbench.versions import verify_label_version

QUESTIONS = {"spam": ["ham", "spam"]}


def soft_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """N rows of binary soft labels; 5% of rows have no signal (no probabilities, no label)."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.5, 0.5, size=n)
    none = rng.random(n) < 0.05
    p[none] = np.nan
    label = np.where(p >= 0.5, "spam", "ham").astype(object)
    label[none] = None
    sources = rng.choice(np.array(["lf", "lf+human", "human", "lf+model"], dtype=object), size=n)
    sources[none] = ""
    order = rng.permutation(n)  # ids arrive unsorted, as from a join
    return pd.DataFrame(
        {
            "id": [f"ex-{i:08d}" for i in order],
            "p_ham": 1.0 - p,
            "p_spam": p,
            "label": label,
            "confidence": np.maximum(p, 1.0 - p),
            "weight": np.where(none, 0.0, 1.0),
            "sources": sources,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 2 repeats")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    n = args.rows or (100_000 if args.quick else 1_000_000)
    repeat = args.repeat or (2 if args.quick else 3)
    print(machine_info())
    df = soft_frame(n)
    tmp = Path(tempfile.mkdtemp(prefix="bench-labels-"))
    try:
        project = wb.Project.create(tmp / "project", schema=wb.Schema.single("spam", ["ham", "spam"]))
        store = project.versions.store
        manifest = {
            "questions": QUESTIONS,
            "data_version": "d1",
            "label_model": {"class": "MajorityVote", "params": {}, "weights": [0.5, 0.5]},
            "metrics": {"accuracy": 0.9},
        }
        plain = tmp / "plain.parquet"

        def plain_save() -> int:
            df.to_parquet(plain)
            return plain.stat().st_size

        saved: list[str] = []

        def our_save() -> int:
            v = store.save(df, manifest=manifest, author="bench", message="bench")
            saved.append(v.name)
            return int(v.manifest["file"]["bytes"])

        presorted = df.sort_values("id", ignore_index=True)

        def our_save_sorted() -> int:
            v = store.save(presorted, manifest=manifest, author="bench", message="bench, ids sorted")
            saved.append(v.name)
            return int(v.manifest["file"]["bytes"])

        t_plain_save = timed(plain_save, repeat)
        t_save_sorted = timed(our_save_sorted, repeat)
        t_save = timed(our_save, repeat)
        name = saved[-1]
        t_plain_load = timed(lambda: pd.read_parquet(plain), repeat)
        t_load = timed(lambda: store.load(name), repeat)
        t_load_nv = timed(lambda: store.load(name, verify=False), repeat)
        t_verify = timed(lambda: verify_label_version(store.root / name), repeat)
        loaded, _ = t_load.value
        assert len(loaded) == n and loaded.index.is_monotonic_increasing
        plain_bytes, our_bytes = t_plain_save.value, t_save.value
        manifest_bytes = (store.root / name / "manifest.json").stat().st_size
        ref_save, ref_load = t_plain_save.best, t_plain_load.best
        rows = [
            ["save: df.to_parquet (peer)", f"{ref_save:.3f}", fmt_rate(n / ref_save), f"{plain_bytes:,}", "1.00x"],
            ["save: LabelVersionStore.save", f"{t_save.best:.3f}", fmt_rate(n / t_save.best),
             f"{our_bytes + manifest_bytes:,}", f"{t_save.best / ref_save:.2f}x"],
            ["save: same, ids already sorted", f"{t_save_sorted.best:.3f}", fmt_rate(n / t_save_sorted.best),
             f"{t_save_sorted.value + manifest_bytes:,}", f"{t_save_sorted.best / ref_save:.2f}x"],
            ["load: pd.read_parquet (peer)", f"{ref_load:.3f}", fmt_rate(n / ref_load), f"{plain_bytes:,}", "1.00x"],
            ["load: LabelVersionStore.load (verify)", f"{t_load.best:.3f}", fmt_rate(n / t_load.best),
             f"{our_bytes:,}", f"{t_load.best / ref_load:.2f}x"],
            ["load: load(verify=False)", f"{t_load_nv.best:.3f}", fmt_rate(n / t_load_nv.best), f"{our_bytes:,}",
             f"{t_load_nv.best / ref_load:.2f}x"],
            ["verify_label_version (standalone)", f"{t_verify.best:.3f}", fmt_rate(n / t_verify.best),
             f"{our_bytes:,}", f"{t_verify.best / ref_load:.2f}x"],
        ]
        print_table(
            ["operation", "seconds (best)", "rows/s", "bytes", "vs peer"],
            rows,
            title=f"{n:,}-row binary soft-label version, best of {repeat} (ratios: ours / plain pandas Parquet)",
        )
        print(f"\nmanifest.json: {manifest_bytes:,} bytes; saved versions: {', '.join(saved)}")
        project.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
