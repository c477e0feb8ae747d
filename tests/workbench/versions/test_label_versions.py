"""Saving, loading, listing, immutability and concurrency of label versions."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
import workbench.versions as wv
from workbench.exceptions import DataError
from workbench.versions import LabelVersionStore, verify_label_version
from workbench.versions._format import canonical_hash

REPO = Path(__file__).resolve().parents[3]
QUESTIONS = {"spam": ["ham", "spam"]}


def _provenance() -> dict:
    return {
        "questions": QUESTIONS,
        "data_version": "d1",
        "schema_version": "s-abc",
        "guideline_version": "g-none",
        "lfs": [
            {
                "name": "has_link",
                "fingerprint": "f" * 16,
                "source": "def has_link(x):\n    return 1 if 'http' in x.text else -1\n",
            },
        ],
        "label_model": {"class": "MajorityVote", "params": {"tie_break": "abstain"}, "weights": np.array([0.7, 0.3])},
        "metrics": {"accuracy": np.float64(0.875), "gold": {"n": 8, "coverage": 0.5}, "note": "text is skipped"},
    }


def test_public_api_is_pinned() -> None:
    assert sorted(wv.__all__) == sorted(
        [
            "CANONICAL_ALGORITHM",
            "FORMAT",
            "LABELS_DIR",
            "ProjectVersions",
            "FORMAT_VERSION",
            "LATEST",
            "PROB_TOLERANCE",
            "LabelVersion",
            "LabelVersionStore",
            "canonical_hash",
            "verify_label_version",
        ]
    )


def test_save_load_round_trip(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    shuffled = soft.sample(frac=1.0, random_state=3)
    v = versions.save(shuffled, manifest=_provenance(), author="ann", message="first labels")
    assert (v.name, v.parent, v.author, v.message, v.n_rows) == ("v1", None, "ann", "first labels", len(soft))
    assert v.path == versions.root / "v1"
    assert sorted(p.name for p in v.path.iterdir()) == ["SHA256SUMS", "labels.parquet", "manifest.json"]

    df, manifest = versions.load("v1")
    expected = soft.set_index("id").sort_index()
    assert df.index.name == "id"
    assert df.index.tolist() == sorted(soft["id"])  # stored sorted by id whatever the input order
    assert list(df.columns) == ["p_ham", "p_spam", "label", "confidence", "weight", "sources"]
    pd.testing.assert_frame_equal(
        df[["p_ham", "p_spam", "confidence", "weight"]], expected[["p_ham", "p_spam", "confidence", "weight"]]
    )
    assert df["label"].fillna("").tolist() == expected["label"].fillna("").tolist()
    assert df["label"].isna().sum() == 2
    assert df["sources"].tolist() == expected["sources"].tolist()

    assert manifest["name"] == "v1" and manifest["parent"] is None
    assert manifest["author"] == "ann" and manifest["message"] == "first labels"
    assert manifest["questions"] == QUESTIONS
    assert manifest["prob_columns"] == {"spam": ["p_ham", "p_spam"]}
    assert manifest["label_columns"] == {"spam": "label"}
    assert manifest["n_rows"] == len(soft)
    assert manifest["lfs"][0]["source"].startswith("def has_link")
    assert manifest["label_model"]["weights"] == [0.7, 0.3]
    assert manifest["metrics"]["accuracy"] == 0.875
    assert set(manifest["software"]) == {"python", "workbench", "pandas", "pyarrow", "numpy"}
    raw = (v.path / "labels.parquet").read_bytes()
    import hashlib

    assert manifest["file"] == {"name": "labels.parquet", "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    assert manifest["data_hash"]["sha256"] == v.content_hash
    assert manifest["counts"]["rows"] == len(soft)
    assert manifest["counts"]["by_sources"][""] == 2
    n_lf = int(soft["sources"].str.contains("lf").sum())
    assert manifest["counts"]["by_source"]["lf"] == n_lf
    assert manifest["counts"]["by_label"]["spam"][""] == 2
    # the manifest on disk is exactly what load returns
    assert json.loads((v.path / "manifest.json").read_text(encoding="utf-8")) == manifest


def test_id_index_and_input_order_give_the_same_content_hash(
    versions: LabelVersionStore, soft: pd.DataFrame
) -> None:
    a = versions.save(soft, manifest={"questions": QUESTIONS}, author="ann")
    b = versions.save(soft.set_index("id").iloc[::-1], manifest={"questions": QUESTIONS}, author="ann")
    assert a.content_hash == b.content_hash
    assert a.manifest["probabilities_hash"] == b.manifest["probabilities_hash"]
    changed = soft.copy()
    changed.loc[0, ["p_ham", "p_spam"]] = [0.25, 0.75]
    c = versions.save(changed, manifest={"questions": QUESTIONS}, author="ann")
    assert c.content_hash != a.content_hash
    assert c.manifest["probabilities_hash"]["sha256"] != a.manifest["probabilities_hash"]["sha256"]


def test_questions_inferred_from_columns(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    v = versions.save(soft, author="ann")
    assert v.manifest["questions"] == {"label": ["ham", "spam"]}


def test_versions_are_immutable_and_read_only(
    versions: LabelVersionStore, make_soft: Callable[..., pd.DataFrame]
) -> None:
    v1 = versions.save(make_soft(seed=1), manifest={"questions": QUESTIONS}, author="ann", message="one")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in v1.path.iterdir()}
    for p in v1.path.iterdir():
        mode = p.stat().st_mode
        assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), p
    time.sleep(0.01)
    v2 = versions.save(make_soft(seed=2), manifest={"questions": QUESTIONS}, author="bob", message="two")
    assert v2.name == "v2" and v2.parent == "v1"  # parent defaults to the latest version
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in v1.path.iterdir()}
    assert after == before
    v3 = versions.save(make_soft(seed=3), manifest={"questions": QUESTIONS}, parent=None, author="bob")
    assert v3.parent is None
    v4 = versions.save(make_soft(seed=4), manifest={"questions": QUESTIONS}, parent="v1", author="bob")
    assert v4.parent == "v1"
    with pytest.raises(DataError, match=r"'parent' parameter of save must be .*Got 'v9'"):
        versions.save(make_soft(seed=5), parent="v9", author="bob")
    # no temporary folder is left behind
    assert sorted(p.name for p in versions.root.iterdir()) == ["v1", "v2", "v3", "v4"]


def test_save_never_reuses_an_existing_folder(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    versions.save(soft, author="ann")
    stray = versions.root / "v2"
    stray.mkdir()
    (stray / "keep.txt").write_text("not a version")
    v = versions.save(soft, author="ann")
    assert v.name == "v3"
    assert (stray / "keep.txt").read_text() == "not a version"
    assert versions.names() == ["v1", "v3"]


def test_list_and_training_run_links(lv_project: wb.Project, versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    assert list(versions.list().columns)[:6] == ["name", "created_at", "parent", "author", "message", "n_rows"]
    assert versions.list().empty
    versions.save(soft, manifest=_provenance(), author="ann", message="m1")
    versions.save(soft.iloc[:5], manifest={"questions": QUESTIONS, "metrics": {"accuracy": 0.9}}, author="bob")
    table = versions.list()
    assert table["name"].tolist() == ["v1", "v2"]
    assert pd.isna(table.loc[0, "parent"]) and table.loc[1, "parent"] == "v1"
    assert table["n_rows"].tolist() == [len(soft), 5]
    assert table.loc[0, "data_version"] == "d1" and table.loc[0, "schema_version"] == "s-abc"
    assert table.loc[0, "label_model"] == "MajorityVote"
    assert table["accuracy"].tolist() == [0.875, 0.9]
    assert table.loc[0, "gold.n"] == 8 and np.isnan(table.loc[1, "gold.n"])
    assert "note" not in table.columns  # only numeric metrics become columns

    assert versions.mark_used("v1", "run-a") is True
    assert versions.mark_used("v1", "run-a") is False  # idempotent
    assert versions.mark_used("v1", "run-b") is True
    run = lv_project.versions.record_run("clf", labels=[], label_version="v2")
    assert versions.used_by("v1") == ["run-a", "run-b"]
    assert versions.used_by("v2") == [run.run_id]
    assert versions.list()["used_by_runs"].tolist() == [["run-a", "run-b"], [run.run_id]]
    with pytest.raises(DataError, match=r"Unknown label version 'v7'. Saved versions: \['v1', 'v2'\]"):
        versions.mark_used("v7", "run-a")
    with pytest.raises(DataError, match="'run_id' parameter of mark_used"):
        versions.mark_used("v1", "")
    assert versions.latest() == "v2" and len(versions) == 2 and "v1" in versions


def test_reopened_project_sees_the_same_versions(tmp_path: Path, soft: pd.DataFrame) -> None:
    project = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    v = project.versions.store.save(soft, author="ann")
    project.close()
    with wb.Project.open(tmp_path / "p") as again:
        store = again.versions.store
        assert store.names() == ["v1"]
        assert store.get("v1").content_hash == v.content_hash
        assert store.verify("v1")["ok"] is True


def test_unknown_version_errors(versions: LabelVersionStore) -> None:
    with pytest.raises(DataError, match=r"Unknown label version 'v1'. Saved versions: \[\]. Save one with save"):
        versions.load("v1")


_CONCURRENT = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np, pandas as pd
    import workbench as wb
    from workbench.versions import LabelVersionStore
    path, tag, barrier = sys.argv[1], sys.argv[2], sys.argv[3]
    project = wb.Project.open(path)
    store = project.versions.store
    open(barrier + "." + tag, "w").close()  # ready
    while not os.path.exists(barrier):
        time.sleep(0.005)
    for k in range(3):
        p = np.full(30, (k + 1) / 10 + (0.5 if tag == "B" else 0.0))
        df = pd.DataFrame({"id": [f"{tag}{i}" for i in range(30)], "p_ham": 1 - p, "p_spam": p,
                           "label": "spam", "confidence": 0.9, "weight": 1.0, "sources": "lf"})
        v = store.save(df, manifest={"questions": {"spam": ["ham", "spam"]}}, author=tag, message=f"{tag}-{k}")
        print(v.name, v.content_hash, flush=True)
    project.close()
    """
)


@pytest.mark.slow
def test_concurrent_saves_from_two_processes_get_distinct_names(
    lv_project: wb.Project, versions: LabelVersionStore, tmp_path: Path
) -> None:
    barrier = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT, str(lv_project.path), tag, str(barrier)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for tag in ("A", "B")
    ]
    deadline = time.monotonic() + 120
    while not all(Path(f"{barrier}.{tag}").exists() for tag in ("A", "B")) and time.monotonic() < deadline:
        time.sleep(0.01)
    barrier.touch()  # both processes are imported and waiting: they save at the same moment
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    claimed = [line.split() for out, _ in outputs for line in out.splitlines()]
    names = [n for n, _ in claimed]
    assert sorted(names, key=lambda n: int(n[1:])) == [f"v{i}" for i in range(1, 7)]
    table = versions.list()
    assert table["name"].tolist() == [f"v{i}" for i in range(1, 7)]
    for name, content_hash in claimed:
        assert versions.verify(name)["content_hash"] == content_hash
        df, manifest = versions.load(name)
        tag, k = manifest["message"].split("-")
        assert df.index[0].startswith(tag) and manifest["author"] == tag
        assert df["p_spam"].iloc[0] == pytest.approx((int(k) + 1) / 10 + (0.5 if tag == "B" else 0.0))
        parent = manifest["parent"]
        assert parent is None or int(parent[1:]) < int(name[1:])
    assert sorted(p.name for p in versions.root.iterdir()) == sorted(names)


def test_docstring_reference_verifier_matches(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    """The plain-Python check in the format docstring reproduces the stored hash."""
    from workbench.versions import _format

    doc = _format.__doc__ or ""
    start = doc.index("    import hashlib, json, struct")
    block = doc[start : doc.index(":func:`verify_label_version`")]
    code = textwrap.dedent(block)
    extra = soft.assign(flag=[i % 2 == 0 for i in range(len(soft))], n=list(range(len(soft))), note="x")
    extra.loc[0, "note"] = None
    extra.loc[1, "p_ham"], extra.loc[1, "p_spam"] = -0.0, 1.0
    v = versions.save(extra, author="ann")
    cwd = os.getcwd()
    os.chdir(v.path)
    try:
        exec(compile(code, "format-docstring", "exec"), {})  # raises AssertionError on mismatch
    finally:
        os.chdir(cwd)
    assert verify_label_version(v.path)["data_hash"]["sha256"] == v.content_hash


def test_canonical_hash_ignores_the_parquet_encoding(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    import pyarrow.parquet as pq

    v = versions.save(soft, author="ann")
    table = pq.read_table(v.path / "labels.parquet")
    columns = v.manifest["data_hash"]["columns"]
    for compression in ("snappy", "gzip", "none"):
        out = versions.root.parent / f"re-{compression}.parquet"
        pq.write_table(table, out, compression=compression, row_group_size=3)
        assert canonical_hash(pq.read_table(out), columns) == v.content_hash


def test_stale_temporary_folders_are_cleaned(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    versions.root.mkdir(parents=True)
    old, recent = versions.root / ".tmp-old", versions.root / ".tmp-recent"
    for p in (old, recent):
        p.mkdir()
        (p / "labels.parquet").write_bytes(b"partial")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    versions.save(soft, author="ann")
    assert not old.exists() and recent.exists()  # a save still running elsewhere keeps its folder
    assert versions.names() == ["v1"]


def test_a_failed_save_leaves_nothing(
    versions: LabelVersionStore, soft: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.exceptions import StoreError

    def locked(*args: object, **kwargs: object) -> bool:
        raise StoreError("Could not lock the project database for writing")

    with monkeypatch.context() as m:
        m.setattr(versions._store, "put_record", locked)
        with pytest.raises(StoreError, match="Could not lock"):
            versions.save(soft, author="ann")
    assert list(versions.root.iterdir()) == []

    def no_rename(src: object, dst: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr("workbench.versions._store.os.rename", no_rename)
        with pytest.raises(OSError, match="disk full"):
            versions.save(soft, author="ann")
    assert versions.names() == [] and list(versions.root.iterdir()) == []
    assert versions.save(soft, author="ann").name == "v1"


def test_a_label_written_after_the_soft_labels_is_not_in_the_versions_provenance(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "late", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["c0", "c1"], "text": ["a", "b"]}), id_column="id")
    first = p.annotate("c0", "ham", annotator="a")[0]
    p.annotate("c1", "spam", annotator="a")
    soft = p.models.soft_labels()
    late = p.annotate("c0", "spam", annotator="a")[0]  # e.g. from another kernel, before the save
    p.versions.save(soft, message="built before the late label")
    ids = p.versions.event_ids("v1")
    assert first.event_id in ids and late.event_id not in ids  # what the data says: c0 = ham
    assert p.versions.load("v1").loc["c0", "label"] == "ham"
    assert p.versions.manifest("v1")["events"]["watermark"] == late.event_id - 1
    run = p.versions.record_run("train", p.versions.event_ids("v1"), label_version="v1")
    history = p.history("c0").set_index("event_id")["training_runs"]
    assert run.run_id in history[first.event_id] and run.run_id not in history[late.event_id]
    # a frame built by hand has no mark: the events current at the save count
    by_hand = soft.copy()
    by_hand.attrs = {}
    p.versions.save(by_hand, message="by hand")
    assert late.event_id in p.versions.event_ids("v2")
    p.close()


def test_save_refuses_unknown_examples_and_labels_that_contradict_their_probabilities(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "bad", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["c0", "c1", "c2"], "text": ["a", "b", "c"]}), id_column="id")
    p.annotate("c0", "ham", annotator="a")
    p.annotate("c1", "spam", annotator="a")
    soft = p.models.soft_labels()
    stranger = pd.concat([soft, soft.iloc[[0]].rename(index={"c0": "zzz"})])
    with pytest.raises(wb.LabelValidationError, match=r"1 example\(s\) this project does not have, e.g. \['zzz'\]"):
        p.versions.save(stranger)
    with pytest.raises(wb.LabelValidationError, match=r"The 'label' of 2 row\(s\) is not a most probable choice of "
                                                      r"'spam', e.g. row 'c0': 'spam' has probability 0, 'ham' has 1"):
        p.versions.save(soft.assign(label=["spam", "ham"]))
    tied = soft.assign(p_ham=0.5, p_spam=0.5, label=["spam", "ham"])  # either label of a tie is fine
    assert p.versions.save(tied).name == "v1" and p.versions.list()["name"].tolist() == ["v1"]
    with pytest.raises(wb.LabelValidationError, match="must name a saved label version or be None.*'v1'"):
        p.versions.record_run("train", label_version="v99")
    for bad in ([1.5], ["abc"], [True]):
        with pytest.raises(wb.LabelValidationError, match="record_run takes label event ids"):
            p.versions.record_run("train", bad)
    for params, why in (("notamapping", "must be a mapping"), (["C", 1], "must be a mapping"),
                        ({"C": object()}, "JSON-serialisable")):
        with pytest.raises(wb.LabelValidationError, match=why):
            p.versions.record_run("train", params=params)  # type: ignore[arg-type]
    assert p.versions.runs().empty
    p.close()


def test_a_version_records_the_lfs_and_model_that_produced_its_soft_labels(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    data = wb.datasets.load_demo(120, random_state=1)
    p.add_data(data[["id", "text"]], id_column="id")
    p.lfs.add(wb.lf.keywords("link", ["http"], label=1))
    p.lfs.add(wb.lf.keywords("song", ["song"], label=0))
    soft = p.models.soft_labels("majority_vote")
    p.lfs.add(wb.lf.keywords("free", ["free"], label=1))  # after the soft labels were computed
    name = p.versions.save(soft, message="two LFs").name
    manifest = p.versions.manifest(name)
    assert [lf["name"] for lf in manifest["lfs"]] == ["link", "song"]


def _two_answered(tmp_path: Path) -> wb.Project:
    """Two comments, each answered by alice."""
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["hi", "buy"]}), id_column="id")
    p.annotate("a", "ham", annotator="alice")
    p.annotate("b", "spam", annotator="alice")
    return p


def test_soft_labels_from_before_a_migration_are_refused_with_what_to_do(tmp_path: Path) -> None:
    p = _two_answered(tmp_path)
    soft = p.models.soft_labels()
    p.migrations.plan(p.schema.evolve(rename={"ham": "legit"})).apply()
    with pytest.raises(wb.LabelValidationError, match="computed under an earlier schema.*soft_labels\\(\\) and save"):
        p.versions.save(soft)
    assert p.versions.store.names() == []
    assert p.versions.save(p.models.soft_labels()).name  # computed again: saved


def test_ids_as_a_column_or_as_the_index_give_the_same_provenance(tmp_path: Path) -> None:
    p = _two_answered(tmp_path)
    soft = p.models.soft_labels()
    indexed = p.versions.save(soft).name
    as_column = p.versions.save(soft.rename_axis("id").reset_index()).name
    one, two = p.versions.manifest(indexed), p.versions.manifest(as_column)
    assert one["label_schema_versions"] == two["label_schema_versions"] != {}
    assert p.versions.event_ids(indexed) == p.versions.event_ids(as_column)
