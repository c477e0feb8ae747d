"""``project.lfs``: the labeling functions registered on a project, applied with caching."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench._events import EventEmitter
from workbench.data import DataCatalog
from workbench.exceptions import LFError, SchemaError
from workbench.lf._analysis import lf_summary
from workbench.lf._engine import DEFAULT_TIMEOUT, LFCacheReport, LFEngine, LFResult
from workbench.lf._lfs import BaseLF, as_lf, labeling_function
from workbench.log import LabelLog
from workbench.schema import SchemaRegistry
from workbench.store import EventStore

__all__ = ["LF_CACHE_DIR", "ProjectLFs", "lf_record", "lf_source"]

#: Folder of the project holding cached LF votes.
LF_CACHE_DIR = "lf_cache"


def lf_source(lf: Any) -> str | None:
    """The source text of an LF's function when Python can find it (for provenance)."""
    for attr in ("_f", "f", "func"):
        f = getattr(lf, attr, None)
        if callable(f):
            try:
                return inspect.getsource(f)
            except (OSError, TypeError):
                return None
    return None


def lf_record(lf: BaseLF) -> dict[str, Any]:
    """What provenance keeps of an LF: name, kind, question, code fingerprint, source and repr."""
    return {
        "name": lf.name,
        "kind": getattr(lf, "kind", type(lf).__name__),
        "question": lf.question,
        "fingerprint": lf.fingerprint,
        "source": lf_source(lf),
        "repr": repr(lf),
    }


class ProjectLFs:
    """The labeling functions of a project: register, apply (cached), analyse.

    Votes are cached per (LF code fingerprint, data version): re-applying an unchanged LF costs
    nothing, editing one recomputes only it, and a new data version is labelled only on its new
    rows. Iterating gives the registered LFs in registration order.

    Parameters
    ----------
    root : Path
        The project directory (votes are cached in ``root / "lf_cache"``).
    store : EventStore
        Where each registered LF's code and fingerprint are recorded.
    schema : SchemaRegistry
        The questions LFs vote on.
    data : DataCatalog
        The examples LFs are applied to.
    log : LabelLog
        Gold labels for accuracy figures.
    emitter : EventEmitter
        Announces ``lfs_changed`` and ``lfs_applied``.

    Examples
    --------
    >>> import tempfile, pandas as pd, workbench as wb
    >>> project = wb.Project.create(tempfile.mkdtemp() + "/p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    >>> _ = project.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["sub4sub!", "nice song"]}), id_column="id")
    >>> HAM, SPAM = project.schema.label_ids("ham", "spam")
    >>> _ = project.lfs.add(wb.lf.keywords("sub", ["sub4sub"], label=SPAM))
    >>> project.lfs.names
    ['sub']
    >>> project.lfs.matrix().tolist()
    [[1], [-1]]
    >>> project.lfs.summary()["coverage"].tolist()
    [0.5]
    """

    def __init__(
        self,
        root: Path,
        store: EventStore,
        schema: SchemaRegistry,
        data: DataCatalog,
        log: LabelLog,
        emitter: EventEmitter,
    ) -> None:
        self._root = root
        self._store = store
        self._schema = schema
        self._data = data
        self._log = log
        self._emitter = emitter
        self._engine: LFEngine | None = None
        self._result: LFResult | None = None
        self._timeout: float | None = DEFAULT_TIMEOUT

    def __repr__(self) -> str:
        return f"<project.lfs: {len(self)} labeling function(s): {', '.join(self.names) or 'none'}>"

    # ------------------------------------------------------------------ registry
    @property
    def engine(self) -> LFEngine:
        """The application engine (cache, workers) behind this namespace."""
        schema = self._schema.current
        cards: dict[str | None, int] = {q.name: q.cardinality for q in schema.questions}
        if schema.is_single:
            cards[None] = schema.questions[0].cardinality
        engine = self._engine
        if engine is None or engine.cardinality != cards or engine.timeout != self._timeout:
            old = engine
            engine = LFEngine(cache_dir=self._root / LF_CACHE_DIR, cardinality=cards, timeout=self._timeout)
            if old is not None:
                for lf in old.lfs:
                    engine.add(lf)
            self._engine = engine
        return engine

    @property
    def timeout(self) -> float | None:
        """Seconds one LF may run on one data version before it is stopped (None: no limit).

        LFs that run user code are computed in a forked worker while a limit is set, so an LF
        that never returns is stopped and reported by name (``result.timed_out``). Side effects
        of such LFs on notebook objects are not seen; set ``None`` to compute in-process.
        """
        return self._timeout

    @timeout.setter
    def timeout(self, seconds: float | None) -> None:
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                    or not seconds > 0):
            raise LFError(f"project.lfs.timeout must be a number of seconds > 0 or None (no limit). "
                          f"Got {seconds!r} instead.")
        self._timeout = None if seconds is None else float(seconds)

    def __iter__(self) -> Iterator[BaseLF]:
        return iter(self.engine.lfs)

    def __len__(self) -> int:
        return len(self.engine.lfs)

    def __contains__(self, name: object) -> bool:
        return name in self.engine

    def __getitem__(self, name: str) -> BaseLF:
        for lf in self.engine.lfs:
            if lf.name == name:
                return lf
        raise KeyError(f"No labeling function named {name!r}. Registered: {self.names}.")

    @property
    def names(self) -> list[str]:
        """Names of the registered labeling functions, in registration order."""
        return [lf.name for lf in self.engine.lfs]

    @property
    def fingerprints(self) -> tuple[str, ...]:
        """The code fingerprints of the registered LFs (what derived results are keyed on)."""
        return tuple(lf.fingerprint for lf in self.engine.lfs)

    def add(self, lf: Any, question: str | None = None) -> BaseLF:
        """Register a labeling function (ours, a builder's, or a snorkel ``LabelingFunction``).

        Registering an LF under a name already used replaces it; its votes are recomputed on
        the next :meth:`apply` only if its code or parameters changed.

        Parameters
        ----------
        lf : LF
            E.g. ``wb.lf.keywords(...)``, a function decorated with ``@wb.lf.labeling_function()``,
            or a snorkel ``LabelingFunction``.
        question : str, optional
            The schema question it votes on (default: the only question).

        Returns
        -------
        BaseLF
            The registered LF.
        """
        schema = self._schema.current
        wlf = as_lf(lf, question=question)
        if question is not None:
            wlf.question = question
        if wlf.question is not None:
            try:
                schema.question(wlf.question)
            except SchemaError as exc:
                raise LFError(f"The labeling function {wlf.name!r} votes on an unknown question: {exc}") from None
        elif not schema.is_single:
            raise LFError(
                f"The labeling function {wlf.name!r} names no question, but schema {schema.name!r} has "
                f"several ({', '.join(schema.question_names)}). Pass question=..."
            )
        engine = self.engine
        existed = wlf.name in engine
        changed = engine.add(wlf)
        action = "updated" if existed and changed else "added" if not existed else "unchanged"
        self._store.put_record("lf", f"{wlf.name}@{wlf.fingerprint}", lf_record(wlf))
        if changed:
            self._result = None
        self._emitter.emit("lfs_changed", name=wlf.name, action=action)
        return wlf

    def labeling_function(
        self,
        name: str | None = None,
        *,
        question: str | None = None,
        resources: Mapping[str, Any] | None = None,
        pre: Sequence[Any] | None = None,
    ) -> Callable[[Callable[..., int]], BaseLF]:
        """Decorator: turn ``f(x) -> label`` into a labeling function and register it.

        Examples
        --------
        >>> @project.lfs.labeling_function()                 # doctest: +SKIP
        ... def check_out(x):
        ...     return SPAM if "check out" in x.text.lower() else wb.ABSTAIN
        """

        def register(f: Callable[..., int]) -> BaseLF:
            return self.add(labeling_function(name=name, resources=resources, pre=pre, question=question)(f))

        return register

    def remove(self, name: str) -> None:
        """Unregister a labeling function (its cached votes stay on disk for a later re-add)."""
        engine = self.engine
        if name not in engine:
            raise LFError(f"No labeling function named {name!r}. Registered: {engine.names}.")
        engine.remove(name)
        self._result = None
        self._emitter.emit("lfs_changed", name=name, action="removed")

    def clear_cache(self, names: str | Sequence[str] | None = None) -> int:
        """Forget cached votes (all, or those of the LFs ``names``); returns how many files were deleted.

        The next :meth:`apply` recomputes them. Use it when an LF depends on something its
        fingerprint cannot see (a file it reads, a service it calls).
        """
        deleted = self.engine.clear_cache(names)
        self._result = None
        return deleted

    def verify_cache(self, *, repair: bool = False) -> LFCacheReport:
        """Check every cached vote file against its fingerprint, shape, dtype and the data's row counts."""
        n_rows = {str(v): int(n) for v, n in zip(self._data.versions()["version"], self._data.versions()["n_rows"],
                                                  strict=True)}
        return self.engine.verify_cache(n_rows, repair=repair)

    # ------------------------------------------------------------------ applying
    def apply(self, *, progress: bool | None = None) -> LFResult:
        """Apply every registered LF to every data version, reusing cached votes.

        Only LFs whose code changed since their last run, and data versions they have not
        seen, are computed. Exceptions inside an LF are isolated: see ``result.errors``.
        """
        result = self.engine.apply(self._data.batches(), progress=progress)
        self._result = result
        self._emitter.emit("lfs_applied", result=result)
        return result

    def question_key(self, question: str | None) -> str | None:
        """The engine's key for ``question`` (``None`` in a single-question schema)."""
        schema = self._schema.current
        if question is None:
            if not schema.is_single:
                raise SchemaError(
                    f"Schema {schema.name!r} has several questions; name one ({', '.join(schema.question_names)})."
                )
            return None
        schema.question(question)
        return question if not schema.is_single else None

    def matrix(self, question: str | None = None, *, progress: bool | None = None) -> np.ndarray:
        """The int8 label matrix (n_examples, n_lfs) of ``question``, ``ABSTAIN = -1``.

        Rows follow ``project.examples()`` order; columns follow :attr:`names` (restricted to
        the LFs voting on ``question``).
        """
        result = self.apply(progress=progress)
        L, _ = result.for_question(self.question_key(question))
        return L

    def gold_labels(self, gold: str | pd.Series | None = "gold", question: str | None = None) -> np.ndarray:
        """Gold label ids aligned with the rows of :meth:`matrix`, ``-1`` where unknown.

        Parameters
        ----------
        gold : str or Series
            ``"gold"`` (the default): labels recorded with ``source="gold"`` (latest per
            example). Any other string: a data column holding choices (e.g. ``"label"``). A
            Series indexed by example id holding choices.
        question : str, optional
            The question (default: the only one).
        """
        return self._log.gold_labels(gold, question)

    def summary(self, gold: str | pd.Series | None = None, question: str | None = None) -> pd.DataFrame:
        """Per-LF polarity, coverage, overlaps, conflicts and, with gold, accuracy with a Wilson CI.

        Accuracy is computed only on rows whose gold label is known. Extra columns: ``errors``
        (rows on which the LF raised) and ``seconds`` (time spent computing it in the last apply).
        """
        result = self.apply()  # cheap when nothing changed: every (LF, data version) is cached
        L, names = result.for_question(self.question_key(question))
        g = None if gold is None else self.gold_labels(gold, question)
        q = self._schema.current.question(question)
        summary = lf_summary(L, names, gold=g, cardinality=q.cardinality)
        summary["errors"] = [result.errors[n].count if n in result.errors else 0 for n in names]
        # an LF whose code cannot be fingerprinted is recomputed on every apply: say so
        summary["volatile"] = [n in result.volatile for n in names]
        return summary
