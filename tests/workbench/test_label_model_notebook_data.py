"""Static checks of notebooks/03_label_model.ipynb (the notebook itself runs under nbval).

These run in the fast tier: they catch a notebook committed with outputs, one that would read the
answers it is supposed to predict, or one whose check cell went missing.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03_label_model.ipynb"


@pytest.fixture(scope="module")
def notebook() -> dict[str, Any]:
    if not NOTEBOOK.is_file():
        pytest.skip(f"{NOTEBOOK} is not there")
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _code(nb: dict[str, Any]) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def test_outputs_are_stripped(notebook: dict[str, Any]) -> None:
    for k, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"cell {k} has outputs"
            assert cell["execution_count"] is None, f"cell {k} has an execution count"


def test_every_code_cell_parses(notebook: dict[str, Any]) -> None:
    for k, src in enumerate(_code(notebook)):
        ast.parse(src, filename=f"cell {k}")


def test_answers_are_not_ingested(notebook: dict[str, Any]) -> None:
    source = "\n".join(_code(notebook))
    tree = ast.parse(source)
    # the ingested columns are a literal tuple without the label or the leaky date column
    literal_tuples = [
        {e.value for e in node.elts if isinstance(e, ast.Constant)}
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple) and {"id", "text"} <= {getattr(e, "value", None) for e in node.elts}
    ]
    assert literal_tuples, "the notebook no longer names the columns it ingests"
    assert all(not ({"label", "date"} & cols) for cols in literal_tuples)
    assert "add_data(data[features]" in source
    assert 'assert "label" not in project.examples().columns' in source


def test_ends_with_checks_on_both_data_sources(notebook: dict[str, Any]) -> None:
    checks = _code(notebook)[-1]
    asserts = [n for n in ast.walk(ast.parse(checks)) if isinstance(n, ast.Assert)]
    assert len(asserts) >= 20
    assert "if real_data:" in checks and "else:" in checks  # the demo fallback is checked too
    assert "wb.datasets.load_demo" in "\n".join(_code(notebook))
