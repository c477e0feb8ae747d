"""The labeling-function part of :class:`workbench.Project` (kept apart to keep files small)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench._constants import ABSTAIN
from workbench._project_base import ProjectParts
from workbench.exceptions import LFError, SchemaError

if TYPE_CHECKING:
    from workbench.lf import BaseLF, LFEngine, LFResult

__all__ = ["LFMixin", "lf_source"]

_log = logging.getLogger(__name__)


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


class LFMixin(ProjectParts):
    """Labeling functions registered on a project, applied over its data versions with caching."""

    # ------------------------------------------------------------------ registry
    def _lf_engine(self) -> LFEngine:
        from workbench.lf import LFEngine

        engine = self._extensions.get("lf_engine")
        cards: dict[str | None, int] = {q.name: q.cardinality for q in self.schema.questions}
        if self.schema.is_single:
            cards[None] = self.schema.questions[0].cardinality
        if engine is None or engine.cardinality != cards:
            old = engine
            engine = LFEngine(cache_dir=self.path / "lf_cache", cardinality=cards)
            if old is not None:
                for lf in old.lfs:
                    engine.add(lf)
            self._extensions["lf_engine"] = engine
        return engine

    @property
    def lfs(self) -> list[BaseLF]:
        """The labeling functions registered in this session, in registration order."""
        return self._lf_engine().lfs

    @property
    def lf_names(self) -> list[str]:
        """Names of the registered labeling functions."""
        return [lf.name for lf in self.lfs]

    def add_lf(self, lf: Any, question: str | None = None) -> BaseLF:
        """Register a labeling function (ours, a builder's, or a snorkel ``LabelingFunction``).

        Registering an LF under a name already used replaces it; its votes are recomputed on
        the next :meth:`apply_lfs` only if its code or parameters changed.

        Parameters
        ----------
        lf : LF
            E.g. ``wb.lf.keywords(...)``, a function decorated with ``@project.lf()``, or a
            snorkel ``LabelingFunction``.
        question : str, optional
            The schema question it votes on (default: the only question).

        Returns
        -------
        BaseLF
            The registered LF.
        """
        from workbench.lf import as_lf

        wlf = as_lf(lf, question=question)
        if question is not None:
            wlf.question = question
        if wlf.question is not None:
            try:
                self.schema.question(wlf.question)
            except SchemaError as exc:
                raise LFError(f"The labeling function {wlf.name!r} votes on an unknown question: {exc}") from None
        elif not self.schema.is_single:
            raise LFError(
                f"The labeling function {wlf.name!r} names no question, but schema {self.schema.name!r} has "
                f"several ({', '.join(self.schema.question_names)}). Pass question=..."
            )
        engine = self._lf_engine()
        existed = wlf.name in engine
        changed = engine.add(wlf)
        action = "updated" if existed and changed else "added" if not existed else "unchanged"
        self._store.put_record(
            "lf",
            f"{wlf.name}@{wlf.fingerprint}",
            {
                "name": wlf.name,
                "fingerprint": wlf.fingerprint,
                "kind": getattr(wlf, "kind", type(wlf).__name__),
                "question": wlf.question,
                "source": lf_source(wlf),
                "repr": repr(wlf),
            },
        )
        self._extensions.pop("lf_result", None) if changed else None
        self.events.emit("lfs_changed", name=wlf.name, action=action)
        return wlf

    def lf(
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
        >>> @project.lf()                                    # doctest: +SKIP
        ... def check_out(x):
        ...     return SPAM if "check out" in x.text.lower() else wb.ABSTAIN
        """
        from workbench.lf import labeling_function

        def register(f: Callable[..., int]) -> BaseLF:
            return self.add_lf(labeling_function(name=name, resources=resources, pre=pre, question=question)(f))

        return register

    def remove_lf(self, name: str) -> None:
        """Unregister a labeling function (its cached votes stay on disk for a later re-add)."""
        engine = self._lf_engine()
        if name not in engine:
            raise LFError(f"No labeling function named {name!r}. Registered: {engine.names}.")
        engine.remove(name)
        self._extensions.pop("lf_result", None)
        self.events.emit("lfs_changed", name=name, action="removed")

    # ------------------------------------------------------------------ applying
    def apply_lfs(self, *, progress: bool | None = None) -> LFResult:
        """Apply every registered LF to every data version, reusing cached votes.

        Only LFs whose code changed since their last run, and data versions they have not
        seen, are computed. Exceptions inside an LF are isolated: see ``result.errors``.
        """
        engine = self._lf_engine()
        result = engine.apply(self.data_batches(), progress=progress)
        self._extensions["lf_result"] = result
        self.events.emit("lfs_applied", result=result)
        return result

    def label_matrix(self, question: str | None = None, *, progress: bool | None = None) -> np.ndarray:
        """The int8 label matrix (n_examples, n_lfs) of ``question``, ``ABSTAIN = -1``.

        Rows follow :meth:`examples` order; columns follow :attr:`lf_names` (restricted to
        the LFs voting on ``question``).
        """
        result = self.apply_lfs(progress=progress)
        L, _ = result.for_question(self._lf_question_key(question))
        return L

    def _lf_question_key(self, question: str | None) -> str | None:
        if question is None:
            if not self.schema.is_single:
                raise SchemaError(
                    f"Schema {self.schema.name!r} has several questions; name one "
                    f"({', '.join(self.schema.question_names)})."
                )
            return None
        self.schema.question(question)
        return question if not self.schema.is_single else None

    def gold_labels(self, gold: str | pd.Series | None = "gold", question: str | None = None) -> np.ndarray:
        """Gold label ids aligned with :meth:`examples`, ``-1`` where unknown.

        Parameters
        ----------
        gold : str or Series
            ``"gold"`` (the default): labels recorded with ``source="gold"`` (latest per
            example). Any other string: a data column holding choices (e.g. ``"label"``). A
            Series indexed by example id holding choices.
        question : str, optional
            The question (default: the only one).
        """
        q = self.schema.question(question)
        ids = self._example_index()
        if isinstance(gold, pd.Series):
            values = gold.reindex(ids)
        elif gold == "gold":
            g = self.labels(source="gold", question=q.name)
            values = g.drop_duplicates("example_id", keep="last").set_index("example_id")["value"].reindex(ids)
        elif isinstance(gold, str):
            frame = self._examples_frame()
            if gold not in frame.columns:
                raise LFError(
                    f"gold={gold!r} is neither 'gold' (labels recorded with source='gold') nor a data column. "
                    f"Columns: {[c for c in frame.columns if c != 'data_version']!r}."
                )
            values = frame[gold]
        else:
            raise LFError(f"gold must be 'gold', a column name or a pandas Series. Got {type(gold).__name__}.")
        lookup = {c: i for i, c in enumerate(q.choices)}
        out = np.full(len(ids), ABSTAIN, dtype=np.int64)
        vals = values.tolist()
        unknown = set()
        for k, v in enumerate(vals):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                continue
            key = v if isinstance(v, str) else str(v)
            if key in lookup:
                out[k] = lookup[key]
            elif isinstance(v, (int, np.integer)) and 0 <= int(v) < q.cardinality:
                out[k] = int(v)
            else:
                unknown.add(key)
        if unknown:
            raise LFError(
                f"The gold labels hold values that are not choices of {q.name!r}: {sorted(unknown)[:5]}. "
                f"Expected one of {list(q.choices)!r} (or their ids 0..{q.cardinality - 1})."
            )
        return out

    def lf_summary(self, gold: str | pd.Series | None = None, question: str | None = None) -> pd.DataFrame:
        """Per-LF polarity, coverage, overlaps, conflicts and, with gold, accuracy with a Wilson CI.

        Accuracy is computed only on rows whose gold label is known. Extra columns: ``errors``
        (rows on which the LF raised) and ``seconds`` (time spent computing it in the last apply).
        """
        from workbench.lf import lf_summary

        result = self.apply_lfs()  # cheap when nothing changed: every (LF, data version) is cached
        L, names = result.for_question(self._lf_question_key(question))
        g = None if gold is None else self.gold_labels(gold, question)
        q = self.schema.question(question)
        summary = lf_summary(L, names, gold=g, cardinality=q.cardinality)
        summary["errors"] = [result.errors[n].count if n in result.errors else 0 for n in names]
        return summary
