"""The examples in the public docstrings of workbench.models run and are right."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "workbench.models._base",
        "workbench.models._majority",
        "workbench.models._dawid_skene",
        "workbench.models._metrics",
        "workbench.models._weighted",
        "workbench.models._auto",
    ],
)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
