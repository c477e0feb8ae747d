"""Fixtures shared by the engine's tests: small spam projects whose items' class is the parity of their number."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb

_NUMBER = re.compile(r"(\d+)$")


def _parity_truth(eid: str) -> str:
    """``"spam"`` for an id ending in an odd number (``"p001"``), ``"ham"`` for an even one (``"x02"``)."""
    found = _NUMBER.search(eid)
    if found is None:
        raise ValueError(f"parity_truth needs an id that ends in a number, such as 'p001'. Got {eid!r} instead.")
    return "spam" if int(found.group(1)) % 2 else "ham"


@pytest.fixture
def parity_truth() -> Callable[[str], str]:
    """The class of an item of :func:`spam_project`: ``"spam"`` when its number is odd, else ``"ham"``."""
    return _parity_truth


@pytest.fixture
def spam_project(tmp_path: Path, spam_schema: wb.Schema) -> Iterator[Callable[..., wb.Project]]:
    """Make projects of ``n`` items ``<prefix><number>`` (numbers zero-padded to ``width`` digits).

    An item's text is ``spam_text`` or ``ham_text``, by :func:`parity_truth` of its id, followed
    by its id, e.g. ``"win cash now p001"``. The schema is ``spam_schema`` unless ``schema`` is
    given. Every project made is closed after the test.
    """
    made: list[wb.Project] = []

    def make(name: str, *, prefix: str, n: int, width: int, spam_text: str, ham_text: str,
             schema: wb.Schema | None = None) -> wb.Project:
        ids = [f"{prefix}{i:0{width}d}" for i in range(n)]
        texts = [(spam_text if _parity_truth(i) == "spam" else ham_text) + f" {i}" for i in ids]
        project = wb.Project.create(tmp_path / name, schema=spam_schema if schema is None else schema)
        made.append(project)
        project.add_data(pd.DataFrame({"id": ids, "text": texts}), id_column="id")
        return project

    yield make
    for project in made:
        project.close()
