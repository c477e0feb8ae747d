"""``workbench export --format hf``: a label version as a Hugging Face dataset folder, read back with
``datasets.load_from_disk``: its rows, columns, soft-label values and the provenance the command stores."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.cli import main

datasets = pytest.importorskip("datasets", reason="the hf export needs the 'datasets' package (a dev dependency)")

REPO = Path(__file__).resolve().parents[1]
PROVENANCE_KEYS = {"name", "parent", "created_at", "message", "data_version", "data_versions", "schema_version",
                   "guideline_version", "questions", "software", "content_hash"}


def _build(path: Path, data: pd.DataFrame, gold_rows: int) -> Path:
    """A spam project over ``data`` (id, text, label, ...): gold on the first rows, two LFs, versions v1 and v2."""
    p = wb.Project.create(path, schema=wb.Schema.single("spam", ["ham", "spam"], guidelines="Spam advertises."))
    p.add_data(data.drop(columns=["label"]), id_column="id")
    p.add_gold(data.head(gold_rows)[["id", "label"]], id_column="id", label_column="label")
    p.lfs.add(wb.lf.keywords("link", ["http", ".com"], label=p.schema.label_id("spam")))
    p.lfs.add(wb.lf.keywords("song", ["song", "love"], label=p.schema.label_id("ham")))
    p.versions.save(p.models.soft_labels("majority_vote"), message="two LFs + gold")
    p.annotate(str(data["id"].iloc[gold_rows]), "spam", annotator="ann")  # one more label: a child version
    p.versions.save(p.models.soft_labels("majority_vote"), message="one more label")
    p.close()
    return path


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    """An offline project over 60 demo comments (an extra column ``channel`` with ints and gaps)."""
    data = wb.datasets.load_demo(60, random_state=7)[["id", "text", "label"]]
    data = data.assign(channel=pd.array([i % 4 if i % 5 else None for i in range(len(data))], dtype="Int64"))
    return _build(tmp_path / "p", data, gold_rows=15)


def _export(proj: Path, out: Path, version: str, *extra: str) -> None:
    assert main(["export", str(proj), version, "--out", str(out), "--format", "hf", "--json", *extra]) == 0


def _expected(proj: Path, version: str) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    with wb.Project.open(proj) as p:
        soft = p.versions.load(version)
        manifest = p.versions.manifest(version)
        examples = p.examples().drop(columns=["data_version"])
    return soft, examples, manifest


def _provenance(ds: Any) -> dict[str, Any]:
    meta = json.loads(ds.info.description)
    assert list(meta) == ["workbench.label_version"]
    return dict(meta["workbench.label_version"])


def test_export_hf_round_trips_rows_columns_values_and_provenance(
    proj: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "train_hf"
    assert main(["export", str(proj), "v2", "--out", str(out), "--format", "hf", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    soft, examples, manifest = _expected(proj, "v2")
    ds = datasets.load_from_disk(str(out))
    # rows: one per row of the version, in its order; columns: id, the data, the soft labels
    assert ds.num_rows == len(soft) == summary["rows"] and summary["format"] == "hf" and summary["out"] == str(out)
    expected_cols = ["id", *examples.columns, *soft.columns]
    assert ds.column_names == expected_cols == summary["columns"]
    back = ds.to_pandas()
    assert back["id"].tolist() == soft.index.astype(str).tolist()
    # the soft labels, value for value (probabilities exactly, no float rounding on the way)
    for col in ("p_ham", "p_spam", "confidence", "weight"):
        np.testing.assert_array_equal(back[col].to_numpy(dtype=float), soft[col].to_numpy(dtype=float))
        assert ds.features[col].dtype == "float64"
    assert back["label"].tolist() == soft["label"].astype(str).tolist()
    assert back["sources"].tolist() == soft["sources"].astype(str).tolist()
    np.testing.assert_allclose(back[["p_ham", "p_spam"]].sum(axis=1), 1.0)
    assert set(back["label"]) <= {"ham", "spam"}
    hard = np.where(back["p_spam"] > back["p_ham"], "spam", "ham")
    decided = back["p_spam"] != back["p_ham"]
    assert (back.loc[decided, "label"] == hard[decided.to_numpy()]).all()  # the label is the argmax
    # the data next to them: texts, and an integer column with gaps kept as missing values
    ex = examples.reindex(soft.index.astype(str))
    assert back["text"].tolist() == ex["text"].tolist()
    assert back["channel"].isna().tolist() == ex["channel"].isna().tolist()
    assert back["channel"].dropna().astype(int).tolist() == ex["channel"].dropna().astype(int).tolist()
    # the provenance the command stores: the version, its lineage, schema, guidelines and content hash
    prov = _provenance(ds)
    assert set(prov) == PROVENANCE_KEYS
    for key in PROVENANCE_KEYS - {"content_hash"}:
        assert prov[key] == manifest[key], key
    assert (prov["name"], prov["parent"], prov["message"]) == ("v2", "v1", "one more label")
    assert prov["questions"] == {"spam": ["ham", "spam"]}
    assert prov["content_hash"] == manifest["data_hash"]["sha256"] == summary["content_hash"]
    with wb.Project.open(proj) as p:
        assert prov["schema_version"] == p.schema_version and prov["guideline_version"] == p.guideline_version
        assert prov["data_version"] == str(p.data_versions()["version"].iloc[-1])


def test_export_hf_labels_only_and_each_version_its_own(proj: Path, tmp_path: Path) -> None:
    only = tmp_path / "labels_hf"
    _export(proj, only, "v1", "--labels-only")
    soft1, _, manifest1 = _expected(proj, "v1")
    ds = datasets.load_from_disk(str(only))
    assert ds.column_names == ["id", *soft1.columns] and ds.num_rows == len(soft1)
    assert _provenance(ds)["content_hash"] == manifest1["data_hash"]["sha256"]
    assert _provenance(ds)["parent"] is None
    full = tmp_path / "v2_hf"
    _export(proj, full, "v2")
    soft2, _, manifest2 = _expected(proj, "v2")
    ds2 = datasets.load_from_disk(str(full))
    assert ds2.num_rows == len(soft2) == len(soft1) + 1  # v2 has the one more labelled row
    assert _provenance(ds2)["content_hash"] == manifest2["data_hash"]["sha256"] != manifest1["data_hash"]["sha256"]


@pytest.mark.parametrize(
    ("make_out", "expected"),
    [
        (lambda tmp: tmp / "missing" / "hf", "does not exist"),
        (lambda tmp: tmp / "file.txt", "already exists"),
        (lambda tmp: tmp / "full", "already exists"),
    ],
)
def test_export_hf_refuses_an_out_it_would_overwrite(proj: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     make_out, expected: str) -> None:
    (tmp_path / "file.txt").write_text("keep me", encoding="utf-8")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("keep me", encoding="utf-8")
    out = make_out(tmp_path)
    assert main(["export", str(proj), "v1", "--out", str(out), "--format", "hf"]) == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("workbench: error: --out") and expected in lines[0]
    assert (tmp_path / "file.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["keep.txt"]


def test_export_hf_into_an_empty_folder_and_not_twice(proj: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    _export(proj, out, "v1")
    assert datasets.load_from_disk(str(out)).num_rows > 0
    capsys.readouterr()
    assert main(["export", str(proj), "v1", "--out", str(out), "--format", "hf"]) == 2  # never over an export
    assert "already exists" in capsys.readouterr().err


@pytest.mark.slow  # a fresh interpreter importing the package: several seconds
def test_export_hf_without_the_datasets_package_says_what_to_install(proj: Path, tmp_path: Path) -> None:
    out = tmp_path / "hf"
    code = ("import sys; sys.modules['datasets'] = None; from workbench.cli import main; "
            f"sys.exit(main(['export', {str(proj)!r}, 'v1', '--out', {str(out)!r}, '--format', 'hf']))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "'datasets' package" in lines[0] and "pip install datasets" in lines[0]
    assert not out.exists()


def test_export_hf_of_a_version_after_a_question_rename(tmp_path: Path) -> None:
    data = wb.datasets.load_demo(40, random_state=3)[["id", "text", "label"]]
    proj = _build(tmp_path / "p", data, gold_rows=10)
    with wb.Project.open(proj) as p:
        p.migrations.plan(p.schema.evolve(rename_question={"spam": "content"}, rename={"spam": "promo"})).apply()
        p.versions.save(p.models.soft_labels("majority_vote"), message="after the rename")
    out = tmp_path / "hf"
    _export(proj, out, "v3")
    ds = datasets.load_from_disk(str(out))
    prov = _provenance(ds)
    assert prov["questions"] == {"content": ["ham", "promo"]} and prov["parent"] == "v2"
    assert {"p_ham", "p_promo"} <= set(ds.column_names) and "p_spam" not in ds.column_names
    assert set(ds["label"]) <= {"ham", "promo"}


@pytest.mark.data
def test_export_hf_of_the_real_youtube_spam_collection(data_dir: Path, tmp_path: Path) -> None:
    data = wb.datasets.load_youtube_spam(data_dir)
    proj = _build(tmp_path / "yt", data, gold_rows=200)
    out = tmp_path / "yt_hf"
    _export(proj, out, "v2")
    soft, examples, manifest = _expected(proj, "v2")
    ds = datasets.load_from_disk(str(out))
    assert ds.num_rows == len(soft) and ds.column_names == ["id", *examples.columns, *soft.columns]
    back = ds.to_pandas().set_index("id")
    ex = examples.reindex(soft.index.astype(str))
    assert back["text"].tolist() == ex["text"].tolist()  # decoded text, markup and all, unchanged
    assert back["date"].isna().sum() == ex["date"].isna().sum() > 0  # empty dates stay missing, not ""
    np.testing.assert_array_equal(back["p_spam"].to_numpy(dtype=float), soft["p_spam"].to_numpy(dtype=float))
    assert back["label"].tolist() == soft["label"].astype(str).tolist()
    gold = data.set_index("id")["label"].head(200)
    from_gold = back.loc[back["sources"].str.contains("gold")]
    assert (from_gold["label"] == gold.reindex(from_gold.index)).all()  # gold rows carry the gold answer
    assert _provenance(ds)["content_hash"] == manifest["data_hash"]["sha256"]


def test_export_hf_is_quiet_and_an_interrupted_write_leaves_nothing(
    proj: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "atomic_hf"
    real = datasets.Dataset.save_to_disk

    def half_then_fail(self: Any, path: str, *args: Any, **kwargs: Any) -> None:
        Path(path).mkdir(parents=True)
        (Path(path) / "data-00000-of-00001.arrow").write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(datasets.Dataset, "save_to_disk", half_then_fail)
    assert main(["export", str(proj), "v2", "--out", str(out), "--format", "hf"]) != 0
    assert "No space left on device" in capsys.readouterr().err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".atomic_hf")] == []
    monkeypatch.setattr(datasets.Dataset, "save_to_disk", real)
    capsys.readouterr()
    assert main(["export", str(proj), "v2", "--out", str(out), "--format", "hf"]) == 0  # the retry is not refused
    captured = capsys.readouterr()
    assert captured.err == ""  # no progress bar on a successful run
    assert captured.out.startswith("wrote label version v2")
    assert datasets.load_from_disk(str(out)).num_rows > 0
