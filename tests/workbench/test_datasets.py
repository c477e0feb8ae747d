from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench import datasets


def test_youtube_spam_from_the_shared_folder(data_dir: Path) -> None:
    df = datasets.load_youtube_spam(data_dir)
    assert len(df) == 1953  # 1,956 published rows, 3 exact repeats dropped
    assert df["id"].is_unique
    assert set(df["label"]) == {"spam", "ham"}
    assert (df["label"] == "spam").sum() == 1005 - 2  # the three repeats are spam (2) and ham (1)
    assert df["video"].nunique() == 5


def test_youtube_spam_text_is_readable(data_dir: Path) -> None:
    """HTML entities are decoded once and the invisible trailing U+FEFF is gone; markup stays as written."""
    df = datasets.load_youtube_spam(data_dir).set_index("id")
    text = df["text"]
    for entity in ("&#39;", "&amp;", "&quot;", "&lt;", "&gt;"):
        assert not text.str.contains(entity, regex=False).any(), entity
    assert not text.str.contains("\ufeff").any() and not df["author"].str.contains("\ufeff").any()
    assert text["z13yyrro2wmcshswh04cd3saivu1xdprerk0k"] == "Yeah! Let's start the party!"
    assert text["z12aw1ah2m2vh30tb22bvl3olkbohlbid04"] == "I love this song so much <3<br />Keep em' coming!"
    assert "Free Leads on Auto Pilot & You Can" in text["z12pgdhovmrktzm3i23es5d5junftft3f"]
    assert "Fun&Hacks" in set(df["author"])
    # decoded exactly once: a literal "&amp;" in a comment would have been published as "&amp;amp;"
    raw = pd.concat(pd.read_csv(data_dir / "youtube_spam" / f, dtype=str, keep_default_na=False)
                    for f in datasets.YOUTUBE_FILES)
    assert not raw["CONTENT"].str.contains("&amp;amp;|&amp;#", regex=True).any()
    assert text.str.contains("<br />", regex=False).sum() == raw["CONTENT"].str.contains("<br />", regex=False).sum()


def test_youtube_spam_via_environment(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(data_dir))
    assert len(datasets.load_youtube_spam()) == 1953


def test_youtube_spam_missing_gives_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKBENCH_DATA_DIR", raising=False)
    with pytest.raises(wb.DataError, match="download=True"):
        datasets.load_youtube_spam(tmp_path)


def test_download_code_verifies_checksums_offline(data_dir: Path, tmp_path: Path) -> None:
    """The real download code, fed a local file:// archive (tests never touch the network)."""
    src = data_dir / "youtube_spam"
    archive = tmp_path / "yt.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in datasets.YOUTUBE_FILES:
            z.write(src / name, arcname=f"YouTube-Spam-Collection-v1/{name}")
    cache = tmp_path / "cache"
    got = datasets.download_youtube_spam(cache, url=archive.as_uri())
    assert sorted(p.name for p in got.iterdir()) == sorted(datasets.YOUTUBE_FILES)
    assert len(datasets.load_youtube_spam(cache)) == 1953
    # a damaged archive is refused and nothing is cached
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        for name in datasets.YOUTUBE_FILES:
            z.writestr(name, "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n")
    with pytest.raises(wb.DataError, match="SHA-256"):
        datasets.download_youtube_spam(tmp_path / "cache2", url=bad.as_uri())
    assert not any((tmp_path / "cache2").glob("*.csv"))
    with pytest.raises(wb.DataError, match="Could not download"):
        datasets.download_youtube_spam(tmp_path / "cache3", url=(tmp_path / "nope.zip").as_uri())


def test_modified_file_is_detected(data_dir: Path, tmp_path: Path) -> None:
    for name in datasets.YOUTUBE_FILES:
        (tmp_path / name).write_bytes((data_dir / "youtube_spam" / name).read_bytes())
    with (tmp_path / "Youtube01-Psy.csv").open("a") as fh:
        fh.write("x,y,z,w,1\n")
    with pytest.raises(wb.DataError, match="does not match the published SHA-256"):
        datasets.load_youtube_spam(tmp_path)
    assert hashlib.sha256(b"").hexdigest()  # sanity


def test_demo_is_deterministic_and_ingestible(tmp_path: Path) -> None:
    a, b = datasets.load_demo(300, random_state=1), datasets.load_demo(300, random_state=1)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(datasets.load_demo(300, random_state=2))
    assert a["id"].is_unique and set(a["label"]) == {"spam", "ham"}
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    assert p.add_data(a.drop(columns="label"), id_column="id").n_rows == 300
    with pytest.raises(wb.DataError, match="integer >= 2"):
        datasets.load_demo(1)


def test_load_wrench_reads_the_local_files_and_explains_what_is_missing(tmp_path: Path) -> None:
    import json as _json

    from workbench.datasets import load_wrench

    folder = tmp_path / "wrench_youtube"
    folder.mkdir()
    rows = {"0": {"label": 1, "weak_labels": [1, -1]}, "1": {"label": 0, "weak_labels": [-1, 0]}}
    (folder / "valid.json").write_text(_json.dumps(rows), encoding="utf-8")
    L, y = load_wrench("youtube", "valid", path=tmp_path)
    assert L.dtype == np.int8 and L.tolist() == [[1, -1], [-1, 0]] and y.tolist() == [1, 0]
    with pytest.raises(wb.DataError, match="not found.*WORKBENCH_DATA_DIR"):
        load_wrench("youtube", "test", path=tmp_path)
    with pytest.raises(wb.DataError, match="Unknown WRENCH task 'spam'"):
        load_wrench("spam", "test", path=tmp_path)
    with pytest.raises(wb.DataError, match="'train', 'valid' or 'test'"):
        load_wrench("youtube", "dev", path=tmp_path)
