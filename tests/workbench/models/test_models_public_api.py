"""The public API of workbench.models is deliberate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import workbench.models as models


def test_all_is_pinned() -> None:
    assert sorted(models.__all__) == sorted(
        [
            "LABEL_MODELS",
            "ProjectModels",
            "soft_label_columns",
            "AutoLabelModel",
            "WeightedMajorityVote",
            "calibration_errors",
            "default_candidates",
            "expected_score",
            "DawidSkene",
            "LabelModel",
            "MajorityVote",
            "SnorkelLabelModel",
            "break_ties",
            "check_gold",
            "check_label_matrix",
            "compare_label_models",
            "evaluate",
            "reliability_table",
            "get_num_threads",
            "set_num_threads",
        ]
    )
    for name in models.__all__:
        obj = getattr(models, name)
        if callable(obj):
            assert obj.__module__.startswith("workbench.models._")


def test_import_loads_neither_snorkel_nor_torch_nor_ui() -> None:
    code = (
        "import sys, workbench.models; "
        "bad = [m for m in ('snorkel', 'torch', 'ipywidgets', 'traitlets', 'panel', 'IPython') "
        "if m in sys.modules]; print(bad)"
    )
    repo = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=repo)
    assert out.stdout.strip() == "[]"
