"""The plug-in registry of quality checks (after cleanlab's ``IssueManager`` registry).

A quality check is a small class with a ``name`` and a ``run`` method that returns a
typed :class:`CheckResult`. Decorating it with :func:`register_check` makes it known to
:func:`run_checks` and :func:`available_checks`, so adding a metric is adding a file::

    from workbench.quality import CheckResult, QualityCheck, register_check

    @register_check
    class LabelsPerAnnotator(QualityCheck):
        name = "labels_per_annotator"

        def run(self, ann, gold=None, consensus=None):
            table = ann.groupby("annotator").size().rename("n_labels").to_frame()
            return CheckResult(self.name, {"n_annotators": len(table)}, table)
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from workbench.exceptions import WorkbenchError

__all__ = [
    "CheckResult",
    "QualityCheck",
    "available_checks",
    "get_check",
    "register_check",
    "run_checks",
]

_log = logging.getLogger(__name__)

_REGISTRY: dict[str, type[QualityCheck]] = {}


class QualityCheckError(WorkbenchError, ValueError):
    """A quality check is malformed, unknown, or cannot run on the given inputs."""


@dataclass(frozen=True)
class CheckResult:
    """What one quality check found.

    Attributes
    ----------
    name : str
        The name of the check that produced it.
    summary : dict
        A few headline figures (str -> number or text), e.g. ``{"fleiss_kappa": 0.61}``.
    table : pandas.DataFrame
        The detailed table (one row per annotator, pair, window ...) that a UI renders.
    flagged_annotators : list of str
        Annotators that need attention according to this check.
    flagged_items : list of str
        Example ids that need attention according to this check.
    """

    name: str
    summary: dict[str, Any]
    table: pd.DataFrame
    flagged_annotators: list[str] = field(default_factory=list)
    flagged_items: list[str] = field(default_factory=list)


class QualityCheck(ABC):
    """Base class of every quality check.

    Subclasses set the class attribute ``name`` (unique, snake_case), may set
    ``requires`` to a subset of ``("gold", "consensus", "created_at")``, take their
    thresholds as keyword arguments of ``__init__``, and implement :meth:`run`.
    """

    name: ClassVar[str] = ""
    #: Inputs without which the check cannot run; :func:`run_checks` skips it then.
    requires: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""

    @abstractmethod
    def run(
        self,
        ann: pd.DataFrame,
        gold: pd.Series | None = None,
        consensus: pd.DataFrame | pd.Series | None = None,
    ) -> CheckResult:
        """Run the check on a long-format annotation frame and return its result."""

    def missing_inputs(
        self,
        ann: pd.DataFrame,
        gold: pd.Series | None = None,
        consensus: pd.DataFrame | pd.Series | None = None,
    ) -> list[str]:
        """The names of required inputs that are absent (empty when the check can run)."""
        missing = []
        if "gold" in self.requires and gold is None:
            missing.append("gold")
        if "consensus" in self.requires and consensus is None:
            missing.append("consensus")
        if "created_at" in self.requires and "created_at" not in ann.columns:
            missing.append("created_at")
        return missing

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


def register_check(cls: type[QualityCheck]) -> type[QualityCheck]:
    """Class decorator that adds a :class:`QualityCheck` subclass to the registry.

    Raises
    ------
    QualityCheckError
        If ``cls`` is not a QualityCheck subclass, has no ``name``, or its name is taken
        by another class.
    """
    if not (isinstance(cls, type) and issubclass(cls, QualityCheck)):
        raise QualityCheckError(f"register_check must decorate a subclass of QualityCheck. Got {cls!r} instead.")
    name = getattr(cls, "name", "")
    if not isinstance(name, str) or not name:
        raise QualityCheckError(
            f"The quality check {cls.__name__} must set a non-empty class attribute 'name'. Got {name!r} instead."
        )
    existing = _REGISTRY.get(name)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise QualityCheckError(
            f"A quality check named {name!r} is already registered ({existing.__qualname__}). "
            f"Give {cls.__qualname__} another name."
        )
    _REGISTRY[name] = cls
    return cls


def available_checks() -> list[str]:
    """The names of every registered quality check, sorted."""
    return sorted(_REGISTRY)


def get_check(name: str, **params: Any) -> QualityCheck:
    """Instantiate the registered check called ``name`` with the given parameters."""
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise QualityCheckError(
            f"There is no quality check named {name!r}. Expected one of {available_checks()}. "
            f"Register new checks with @register_check."
        ) from None
    return cls(**params)


def run_checks(
    ann: pd.DataFrame,
    gold: pd.Series | None = None,
    consensus: pd.DataFrame | pd.Series | None = None,
    *,
    checks: Iterable[str | QualityCheck] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, CheckResult]:
    """Run several quality checks on the same annotations.

    Parameters
    ----------
    ann : pandas.DataFrame
        Long-format annotations (``example_id``, ``annotator``, ``value``[, ``created_at``]).
    gold : pandas.Series, optional
        Gold labels indexed by example_id (honeypots).
    consensus : DataFrame or Series, optional
        Consensus labels. When ``None``, the majority-vote consensus of ``ann``
        (``majority_consensus(ann)``, ties abstain) is computed once and passed to every
        check.
    checks : iterable of str or QualityCheck, optional
        Names of registered checks or check instances; default every registered check.
        When the default set is used, a check whose required inputs are absent (e.g. the
        honeypot check without ``gold``) is skipped with a log message; a check named
        explicitly raises instead.
    params : mapping, optional
        Keyword arguments per check name, e.g. ``{"honeypots": {"threshold": 0.8}}``.

    Returns
    -------
    dict of str to CheckResult
        Keyed by check name, in the order run.
    """
    params = dict(params or {})
    explicit = checks is not None
    instances: list[QualityCheck] = []
    for c in checks if checks is not None else available_checks():
        if isinstance(c, QualityCheck):
            instances.append(c)
        elif isinstance(c, str):
            instances.append(get_check(c, **params.pop(c, {})))
        else:
            raise QualityCheckError(
                f"The 'checks' parameter of run_checks must hold check names or QualityCheck "
                f"instances. Got {c!r} instead."
            )
    unused = set(params) - {i.name for i in instances}
    if unused:
        raise QualityCheckError(
            f"The 'params' parameter of run_checks names checks that are not run: "
            f"{sorted(unused)}. Expected names among {[i.name for i in instances]}."
        )
    if consensus is None:
        from workbench.quality._consensus import majority_consensus

        consensus = majority_consensus(ann)
    results: dict[str, CheckResult] = {}
    for check in instances:
        missing = check.missing_inputs(ann, gold, consensus)
        if missing:
            if explicit:
                raise QualityCheckError(
                    f"The quality check {check.name!r} needs {missing}, which were not given. "
                    f"Pass them to run_checks or leave the check out."
                )
            _log.info("Skipping quality check %r: missing %s", check.name, missing)
            continue
        results[check.name] = check.run(ann, gold=gold, consensus=consensus)
    return results
