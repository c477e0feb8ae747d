"""The public API of workbench.models is deliberate."""

from __future__ import annotations

import subprocess
import sys

import workbench.models as models


def test_all_is_pinned() -> None:
    assert sorted(models.__all__) == [
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
    ]
    for name in models.__all__:
        assert getattr(models, name).__module__.startswith("workbench.models._")


def test_import_loads_neither_snorkel_nor_torch_nor_ui() -> None:
    code = (
        "import sys, workbench.models; "
        "bad = [m for m in ('snorkel', 'torch', 'ipywidgets', 'traitlets', 'panel', 'IPython') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
