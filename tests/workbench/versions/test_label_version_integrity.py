"""Tampered, truncated, deleted or edited label versions are detected with clear messages."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.exceptions import IntegrityError, StoreError
from workbench.versions import LabelVersion, LabelVersionStore, verify_label_version


def _writable(path: Path) -> None:
    path.chmod(path.stat().st_mode | stat.S_IWUSR)


def _edit_probability(v: LabelVersion) -> None:
    path = v.path / "labels.parquet"
    table = pq.read_table(path)
    p = table.column("p_spam").to_pylist()
    p[0] = 0.5 if p[0] != 0.5 else 0.25
    table = table.set_column(table.schema.get_field_index("p_spam"), "p_spam", pa.array(p, pa.float64()))
    _writable(path)
    pq.write_table(table, path, compression="zstd")


def _reencode(v: LabelVersion) -> None:
    path = v.path / "labels.parquet"
    table = pq.read_table(path)
    _writable(path)
    pq.write_table(table, path, compression="gzip")


def _truncate(v: LabelVersion) -> None:
    path = v.path / "labels.parquet"
    data = path.read_bytes()
    _writable(path)
    path.write_bytes(data[: len(data) // 2])


def _flip_byte(v: LabelVersion) -> None:
    path = v.path / "labels.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    _writable(path)
    path.write_bytes(bytes(data))


def _delete_file(v: LabelVersion) -> None:
    (v.path / "labels.parquet").unlink()


def _delete_folder(v: LabelVersion) -> None:
    shutil.rmtree(v.path)


def _edit_manifest(v: LabelVersion) -> None:
    path = v.path / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m["message"] = "rewritten history"
    _writable(path)
    path.write_text(json.dumps(m, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _edit_manifest_and_checksums(v: LabelVersion) -> None:
    """A careful forger updates SHA256SUMS too; the project database still knows."""
    import hashlib

    _edit_manifest(v)
    digest = hashlib.sha256((v.path / "manifest.json").read_bytes()).hexdigest()
    sums = v.path / "SHA256SUMS"
    lines = [ln for ln in sums.read_text().splitlines() if not ln.endswith("manifest.json")]
    _writable(sums)
    sums.write_text("\n".join([*lines, f"{digest}  manifest.json"]) + "\n")


def _garble_manifest(v: LabelVersion) -> None:
    path = v.path / "manifest.json"
    _writable(path)
    path.write_text("{not json", encoding="utf-8")


TAMPERING: list[tuple[str, Callable[[LabelVersion], None], str]] = [
    ("edit-prob", _edit_probability, r"labels\.parquet was modified after it was saved: its SHA-256 is .*its content "
     r"differs from what was saved"),
    ("re-encode", _reencode, r"labels\.parquet was modified after it was saved.*content .* is unchanged, so it was "
     r"re-encoded"),
    ("truncate", _truncate, r"labels\.parquet is truncated: it has [\d,]+ bytes where [\d,]+ were recorded"),
    ("flip-byte", _flip_byte, r"labels\.parquet was modified"),
    ("delete-file", _delete_file, r"its data file labels\.parquet is missing from"),
    ("delete-folder", _delete_folder, r"its folder '.*v1' is missing"),
    ("edit-manifest", _edit_manifest, r"manifest\.json was edited after the version was saved: its SHA-256 is "
     r"[0-9a-f]{16}\.\.\. where [0-9a-f]{16}\.\.\. was recorded"),
    ("edit-manifest-and-sums", _edit_manifest_and_checksums, r"manifest\.json was edited after the version was saved"),
    ("garble-manifest", _garble_manifest, r"manifest\.json was edited"),
]


@pytest.mark.parametrize(("case", "tamper", "message"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_load_detects_tampering(
    versions: LabelVersionStore, soft: pd.DataFrame, case: str, tamper: Callable[[LabelVersion], None], message: str
) -> None:
    v1 = versions.save(soft, author="ann")
    versions.save(soft.iloc[:4], author="ann")
    tamper(v1)
    with pytest.raises(IntegrityError, match=message) as info:
        versions.load("v1")
    assert str(info.value).startswith("Label version v1 (in ")
    assert isinstance(info.value, StoreError)
    with pytest.raises(IntegrityError, match=message):
        versions.verify("v1")
    report = versions.verify_all()
    assert report["ok"].tolist() == [False, True]
    assert report.loc[0, "error"].startswith("Label version v1")
    versions.load("v2")  # the other version is untouched


def test_standalone_verifier(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    v = versions.save(soft, author="ann", manifest={"data_version": "d1"})
    manifest = verify_label_version(v.path)
    assert manifest["name"] == "v1" and manifest["data_version"] == "d1"
    assert verify_label_version(v.path / "manifest.json")["n_rows"] == len(soft)
    sha = versions._record("v1")["manifest_sha256"]
    verify_label_version(v.path, manifest_sha256=sha)
    with pytest.raises(IntegrityError, match="manifest.json was edited"):
        verify_label_version(v.path, manifest_sha256="0" * 64)


def test_standalone_verifier_uses_the_checksum_file(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    v = versions.save(soft, author="ann")
    _edit_manifest(v)
    with pytest.raises(IntegrityError, match=r"manifest\.json does not match SHA256SUMS"):
        verify_label_version(v.path)


def test_standalone_verifier_recomputes_the_content_hash(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    """Without SHA256SUMS, a manifest whose data hash was changed is caught by recomputing it."""
    v = versions.save(soft, author="ann")
    (v.path / "SHA256SUMS").unlink()
    path = v.path / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m["data_hash"]["sha256"] = "0" * 64
    _writable(path)
    path.write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IntegrityError, match="does not match the manifest's canonical data hash"):
        verify_label_version(v.path)


def test_standalone_verifier_on_edited_content(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    v = versions.save(soft, author="ann")
    _edit_probability(v)
    with pytest.raises(IntegrityError, match="content differs from what was saved"):
        verify_label_version(v.path)


def test_verify_false_skips_the_data_checks_only(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    v = versions.save(soft, author="ann")
    _edit_probability(v)
    df, _ = versions.load("v1", verify=False)
    assert len(df) == len(soft)
    _edit_manifest(v)
    with pytest.raises(IntegrityError, match="manifest.json was edited"):
        versions.load("v1", verify=False)


def test_swapped_folders_are_detected(versions: LabelVersionStore, soft: pd.DataFrame) -> None:
    v1 = versions.save(soft, author="ann")
    v2 = versions.save(soft.iloc[:3], author="ann")
    tmp = v1.path.with_name("swap")
    os.rename(v1.path, tmp)
    os.rename(v2.path, v1.path)
    os.rename(tmp, v2.path)
    with pytest.raises(IntegrityError, match="manifest.json was edited|holds the manifest of"):
        versions.load("v1")
