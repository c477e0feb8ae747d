"""The examples in the docstrings of workbench.auth run and are right (errors included: their classes and messages)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import workbench.auth


def _modules_with_examples() -> list[str]:
    """Every module of workbench.auth (the package too) whose docstrings hold an example that runs (not +SKIP)."""
    names = ["workbench.auth", *(f"workbench.auth.{m.name}" for m in pkgutil.iter_modules(workbench.auth.__path__))]
    finder = doctest.DocTestFinder()
    return [n for n in sorted(names) if any(not e.options.get(doctest.SKIP)
                                            for t in finder.find(importlib.import_module(n)) for e in t.examples)]


MODULES = _modules_with_examples()


def test_the_role_and_address_examples_are_collected() -> None:
    # the examples that show an error raised from workbench.exceptions must be among those run below
    assert {"workbench.auth._roles", "workbench.auth._address"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS, report=False)
    assert result.attempted > 0
    assert result.failed == 0, (f"{result.failed} docstring example(s) of {module} failed; see them with "
                                f"python -c 'import doctest, {module} as m; doctest.testmod(m, verbose=True)'")
