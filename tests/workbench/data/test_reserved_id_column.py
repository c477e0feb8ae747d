"""A data column named ``id`` next to another id column is kept, and the project still verifies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import workbench as wb
from workbench.cli import main


def _frames(tmp_path: Path) -> wb.Project:
    p = wb.Project.create(tmp_path / "frames", schema=wb.Schema("seatbelts", [wb.Question("person", ["yes", "no"])]),
                          text_column="caption")
    p.add_data(pd.DataFrame({"frame_id": ["frame-17", "frame-18"], "id": [17, 18],
                             "caption": ["driver", "empty road"]}), id_column="frame_id")
    return p


def test_a_data_column_named_id_is_kept_and_the_project_verifies(tmp_path: Path) -> None:
    p = _frames(tmp_path)
    ex = p.examples()
    assert ex.index.tolist() == ["frame-17", "frame-18"]
    assert ex["id"].tolist() == [17, 18] and ex["caption"].tolist() == ["driver", "empty road"]
    report = p.verify()
    assert report["examples_checked"] == 2 and report["unknown_files"] == []
    p.add_data(pd.DataFrame({"frame_id": ["frame-19"], "id": [19], "caption": ["a passenger"]}), id_column="frame_id")
    p.annotate("frame-19", "yes", annotator="ann")
    p.close()
    with wb.Project.open(tmp_path / "frames") as again:
        assert again.verify()["examples_checked"] == 3
        assert again.example("frame-19")["id"] == 19


def test_workbench_verify_accepts_such_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _frames(tmp_path).close()
    assert main(["verify", str(tmp_path / "frames")]) == 0
    assert "ok: 2 examples" in capsys.readouterr().out


def test_a_replaced_file_of_that_layout_is_still_caught(tmp_path: Path) -> None:
    p = _frames(tmp_path)
    file = tmp_path / "frames" / str(p.data_versions()["file"].iloc[0])
    forged = pd.DataFrame({"id": [17, 18], "caption": ["driver", "empty road"]},
                          index=pd.Index(["frame-17", "frame-99"], name="id"))
    forged.to_parquet(file, index=True)  # the same layout: the index stored beside the user's 'id' column
    p.close()
    with wb.Project.open(tmp_path / "frames") as again, pytest.raises(wb.IntegrityError, match="frame-99"):
        again.verify()
