from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench.cli import main


def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proj = tmp_path / "p"
    assert main(["init", str(proj), "--name", "spam", "--choices", "ham", "spam"]) == 0
    csv = tmp_path / "d.csv"
    pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"]}).to_csv(csv, index=False)
    assert main(["add-data", str(proj), str(csv), "--id-column", "id"]) == 0
    assert "d1: 2 new example(s)" in capsys.readouterr().out
    assert main(["info", str(proj)]) == 0
    assert "examples=2" in capsys.readouterr().out
    assert main(["verify", str(proj)]) == 0
    assert main(["labels", str(proj), "--out", str(tmp_path / "l.csv")]) == 0
    assert main(["history", str(proj), "zzz"]) == 2
    assert "not in this project" in capsys.readouterr().err


def test_cli_demo_builds_a_labelled_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import workbench as wb

    assert main(["demo", str(tmp_path / "demo"), "--n", "50"]) == 0
    p = wb.Project.open(tmp_path / "demo")
    assert len(p) > 0 and len(p.labels()) == 6
    assert main(["demo", str(tmp_path / "demo")]) == 0  # kept, not rebuilt


def test_cli_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tmp_path / "none")]) == 2
    assert "There is no project" in capsys.readouterr().err
