"""``project.lfs``: the labeling functions registered on a project, applied with caching."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench._events import EventEmitter
from workbench.data import DataCatalog
from workbench.exceptions import DataError, LFError, LFTimeoutError, SchemaError
from workbench.lf._analysis import lf_summary
from workbench.lf._engine import (
    DEFAULT_TIMEOUT,
    FINGERPRINT_PATTERN,
    CachedVotes,
    LFCacheReport,
    LFEngine,
    LFResult,
)
from workbench.lf._lfs import BaseLF, LFOutputError, as_lf, labeling_function
from workbench.log import LabelLog
from workbench.schema import Question, Schema, SchemaRegistry
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


#: At most this many class ids are listed in a message (the first ones and the last).
_MAX_LISTED_CHOICES = 12
#: The values of an invalid output the messages rephrase in the project's terms.
_VALUE_KINDS = ("type", "range", "declared")


def _valid_values(q: Question) -> str:
    """What an LF voting on ``q`` may return, with the choice each class id stands for."""
    ids = [f"{i} ({c!r})" for i, c in enumerate(q.choices)]
    if len(ids) > _MAX_LISTED_CHOICES:
        ids = [*ids[: _MAX_LISTED_CHOICES - 2], "...", ids[-1]]
    return f"ABSTAIN (-1) for no vote, or a class id of question {q.name!r}: {', '.join(ids)}"


def _what_it_returned(exc: LFOutputError, schema: Schema, q: Question) -> str:
    """``exc`` as "returned <value> (<type>) for example <id> (data version <v>); expected ...<hint>"."""
    if exc.kind == "declared":
        return f"it votes {exc.value_repr}; expected {_valid_values(q)}."
    where = f" for example {exc.row_id!r}" if exc.row_id is not None else ""
    if exc.data_version is not None:
        where += f" (data version {exc.data_version!r})"
    hint = ""
    value = exc.value
    if exc.value_type == "NoneType":
        hint = " Did the function forget to return ABSTAIN on some path?"
    elif exc.value_type == "bool":
        hint = " A bool is not a class id: return a class id when the condition holds and ABSTAIN otherwise."
    elif exc.value_type == "str" and isinstance(value, str) and value in q.choices:
        asked = f", question={q.name!r}" if not schema.is_single else ""
        hint = (f" {value!r} is a choice: return its class id, project.schema.label_id({value!r}{asked}) == "
                f"{q.choices.index(value)}.")
    elif exc.value_type == "str":
        hint = " Return class ids, not choice names."
    elif exc.value_type in ("float", "float64", "float32"):
        hint = " Return an int class id, not a float."
    return f"returned {exc.value_repr} ({exc.value_type}){where}; expected {_valid_values(q)}.{hint}"


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
            dropped: list[str] = []
            outside: list[str] = []
            if old is not None:
                for lf in old.lfs:
                    if lf.question not in cards:  # a migration removed or renamed its question
                        dropped.append(f"{lf.name!r} (question {lf.question!r})")
                        continue
                    try:
                        engine.add(lf)
                    except LFOutputError as exc:  # a migration removed the choice a builder votes for
                        outside.append(f"{lf.name!r} (votes {exc.value_repr}; now "
                                       f"{_valid_values(schema.question(lf.question))})")
            self._engine = engine
            self._result = None
            if dropped:
                warnings.warn(
                    f"The schema changed and no longer has the question of the labeling function(s) "
                    f"{', '.join(dropped)}, so they were unregistered from this session. If a question was "
                    f"renamed, register them again with project.lfs.add(lf, question=<new name>).",
                    UserWarning,
                    stacklevel=3,
                )
            if outside:
                warnings.warn(
                    f"The schema changed and the labeling function(s) {'; '.join(outside)} vote for a class id "
                    "their question no longer has, so they were unregistered from this session. Register them "
                    "again with a label of the new schema (project.schema.label_id(choice)).",
                    UserWarning,
                    stacklevel=3,
                )
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

        The LF is first computed on the project's examples; it is refused, and nothing is
        recorded, when it returns anything but ``ABSTAIN`` or a class id of its question on
        some example (an LF that raises on some examples is accepted: those rows abstain and
        ``result.errors`` says why), or when it runs past :attr:`timeout` (it would be waited for
        again by every apply). The votes computed for that check are used by the next
        :meth:`apply`, which still reports them as computed. Registering an LF under a name
        already used replaces it (a refused one leaves the old one in place); its votes are
        recomputed only if its code or parameters changed.

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

        Raises
        ------
        LFError
            The LF votes on an unknown question, or its output on some example is not a vote:
            the message names the LF, the example id, the value and the valid values.

        Examples
        --------
        >>> import tempfile, pandas as pd, workbench as wb
        >>> project = wb.Project.create(tempfile.mkdtemp() + "/p", schema=wb.Schema.single("spam", ["ham", "spam"]))
        >>> _ = project.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["buy now", "nice"]}), id_column="id")
        >>> @wb.lf.labeling_function()
        ... def yes_no(x):
        ...     return "spam" if "buy" in x.text else wb.ABSTAIN
        >>> try:
        ...     project.lfs.add(yes_no)
        ... except wb.LFError as exc:
        ...     print(str(exc)[:102])
        project.lfs.add refused the labeling function 'yes_no': it returned 'spam' (str) for example 'a' (data
        >>> project.lfs.names
        []
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
        try:
            engine.check(wlf, self._data.batches())
        except LFOutputError as exc:
            raise LFError(self._refusal(wlf, exc)) from None
        except LFError as exc:
            raise (LFTimeoutError if isinstance(exc, LFTimeoutError) else LFError)(
                f"project.lfs.add refused the labeling function {wlf.name!r}: {exc} Nothing was registered (the "
                "labeling functions and their votes are unchanged): fix the LF, then add it again."
            ) from exc
        existed = wlf.name in engine
        changed = engine.add(wlf)
        action = "updated" if existed and changed else "added" if not existed else "unchanged"
        self._store.put_record("lf", f"{wlf.name}@{wlf.fingerprint}", lf_record(wlf))
        if changed:
            self._result = None
        self._emitter.emit("lfs_changed", name=wlf.name, action=action)
        return wlf

    def _refusal(self, lf: BaseLF, exc: LFOutputError) -> str:
        """Why :meth:`add` refuses ``lf``, in the project's terms."""
        schema = self._schema.current
        head = f"project.lfs.add refused the labeling function {lf.name!r}: "
        tail = " Nothing was registered (the labeling functions and their votes are unchanged): "
        if exc.kind in _VALUE_KINDS:
            what = _what_it_returned(exc, schema, schema.question(lf.question))
            if not what.startswith("it "):
                what = "it " + what
            return f"{head}{what}{tail}make the LF return one of these values on every example, then add it again."
        return f"{head}{exc.message}{tail}fix the LF, then add it again."

    def _blocked(self, exc: LFOutputError) -> str:
        """Why :meth:`apply` stops: a registered LF cast an invalid vote (e.g. on a new data version)."""
        schema = self._schema.current
        registered = next((lf for lf in self.engine.lfs if lf.name == exc.lf), None)
        unblock = (
            " It is still registered, and project.lfs.apply, matrix and summary (and project.models.soft_labels, "
            "which uses them) need valid votes from every registered labeling function, so none of them can run: "
            f"fix the LF and add it again with project.lfs.add(...), or run project.lfs.remove({exc.lf!r}) to "
            "unblock the others."
        )
        if exc.kind in _VALUE_KINDS and registered is not None:
            what = _what_it_returned(exc, schema, schema.question(registered.question))
            return f"The labeling function {exc.lf!r} {what}{unblock}"
        where = f" (data version {exc.data_version!r})" if exc.data_version is not None else ""
        return f"{exc.message}{where}{unblock}"

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

    def known_votes(self, name: str) -> frozenset[int]:
        """The label ids the registered LF ``name`` is known to vote on the project's data.

        What its builder declares (``keywords(..., label=2)``) and every vote it cast when it
        was checked at :meth:`add` or applied (its cached votes for its current code); nothing
        is computed. Schema changes use it: a choice an LF votes for cannot be removed while
        the LF is registered.

        Raises
        ------
        LFError
            No LF of that name is registered.
        """
        engine = self.engine
        if name not in engine:
            raise LFError(f"No labeling function named {name!r}. Registered: {engine.names}.")
        return engine.known_votes(name, {v: n for v, n in self._data.row_counts().items() if n})

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
        return self.engine.verify_cache(self._data.row_counts(), repair=repair)

    def cached_votes(
        self,
        lfs: str | BaseLF | Sequence[str | BaseLF] | Mapping[str, str],
        data_versions: str | Sequence[str] | None = None,
    ) -> CachedVotes:
        """The votes the cache holds for some LFs over the project's rows, and what it lacks.

        Nothing is applied or computed, and the LFs need not be registered: a fresh process (a
        report, a served app) has none, but a label version's manifest records each LF's name
        and code fingerprint, and votes are cached per (fingerprint, data version), so the
        votes exactly as that code cast them can be read back. An LF whose votes on some data
        version are not in the cache (never applied to it, the cache was cleared, or the entry
        is damaged) is listed in ``missing`` and is not a column of ``L``: it is never given
        other votes.

        Parameters
        ----------
        lfs : str, BaseLF, sequence of them, or mapping
            The LFs, each as a registered LF's name (its current code), an LF object (its
            name and fingerprint; registered or not) or a code fingerprint (24 hex digits;
            the column is named by the fingerprint). A mapping ``{name: fingerprint}``, such as
            a label version's manifest gives, names the columns itself.
        data_versions : str or sequence of str, optional
            The data versions whose rows to read (default: every data version); rows follow
            ``project.examples()`` order whatever the order given.

        Returns
        -------
        CachedVotes
            ``L`` (int8, rows ``row_ids``, columns ``names``), ``fingerprints`` of every LF
            asked for and ``missing``: LF name -> data versions without valid cached votes.

        Raises
        ------
        LFError
            ``lfs`` names an LF that is not registered, is not a fingerprint or an LF, or
            names one LF twice.
        DataError
            ``data_versions`` names a data version the project does not have.

        Examples
        --------
        >>> import tempfile, pandas as pd, workbench as wb
        >>> project = wb.Project.create(tempfile.mkdtemp() + "/p", schema=wb.Schema.single("spam", ["ham", "spam"]))
        >>> _ = project.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["sub4sub!", "nice song"]}), id_column="id")
        >>> sub = project.lfs.add(wb.lf.keywords("sub", ["sub4sub"], label=1))
        >>> project.lfs.cached_votes("sub").missing               # never applied: nothing cached
        {'sub': ['d1']}
        >>> _ = project.lfs.apply(progress=False)
        >>> votes = project.lfs.cached_votes({"sub": sub.fingerprint})
        >>> votes.names, votes.L.tolist(), list(votes.row_ids)
        (['sub'], [[1], [-1]], ['a', 'b'])
        """
        wanted = self._cached_votes_lfs(lfs)
        n_rows = self._data.row_counts()
        known = list(n_rows)
        if data_versions is None:
            chosen = known
        else:
            asked = [data_versions] if isinstance(data_versions, str) else data_versions
            if not isinstance(asked, Sequence) or any(not isinstance(v, str) for v in asked):
                raise DataError(
                    "The 'data_versions' parameter of project.lfs.cached_votes must be a data version name or a "
                    f"list of them (see project.data_versions()). Got {data_versions!r} instead. Pass e.g. "
                    f"data_versions=[{known[-1] if known else 'd1'!r}], or None for all."
                )
            unknown = [v for v in asked if v not in n_rows]
            if unknown:
                raise DataError(
                    f"The 'data_versions' parameter of project.lfs.cached_votes names {unknown[0]!r}, which is not a "
                    f"data version of this project; known: {known!r}. Pass some of those, or None for all."
                )
            if len(set(asked)) != len(asked):
                twice = next(v for v in asked if list(asked).count(v) > 1)
                raise DataError(
                    f"The 'data_versions' parameter of project.lfs.cached_votes names {twice!r} twice; name each "
                    "data version once."
                )
            chosen = [v for v in known if v in set(asked)]
        batches = [v for v in chosen if n_rows[v] > 0]
        engine = self.engine
        columns: list[np.ndarray] = []
        names: list[str] = []
        missing: dict[str, list[str]] = {}
        for name, fp in wanted.items():
            parts: list[np.ndarray] = []
            lacking: list[str] = []
            for dv in batches:
                arr = engine.cached(fp, dv, n_rows[dv])
                if arr is None:
                    lacking.append(dv)
                else:
                    parts.append(arr)
            if lacking:
                missing[name] = lacking
                continue
            names.append(name)
            columns.append(np.concatenate(parts) if parts else np.empty(0, dtype=np.int8))
        frame = self._data.frame()
        rows = frame.index[frame["data_version"].isin(batches).to_numpy()] if batches else frame.index[:0]
        L = np.column_stack(columns) if columns else np.empty((len(rows), 0), dtype=np.int8)
        return CachedVotes(np.asarray(L, dtype=np.int8), names, rows, chosen, dict(wanted), missing)

    def _cached_votes_lfs(self, lfs: Any) -> dict[str, str]:
        """LF name -> fingerprint for the ``lfs`` argument of :meth:`cached_votes` (validated)."""
        func = "project.lfs.cached_votes"
        how = ("Pass registered LF names, LF objects, code fingerprints (24 hex digits) or a mapping "
               "{name: fingerprint}, e.g. from project.versions.manifest(version)['lfs'].")
        if isinstance(lfs, Mapping):
            out: dict[str, str] = {}
            for name, fp in lfs.items():
                if not isinstance(name, str) or not name:
                    raise LFError(f"The 'lfs' mapping given to {func} must have LF names as keys. Got "
                                  f"{name!r} instead. {how}")
                if not isinstance(fp, str) or not FINGERPRINT_PATTERN.match(fp):
                    raise LFError(f"The 'lfs' mapping given to {func} maps {name!r} to {fp!r}, which is not a code "
                                  f"fingerprint (24 lower-case hex digits). {how}")
                out[name] = fp
            return out
        items = [lfs] if isinstance(lfs, (str, BaseLF)) else lfs
        if not isinstance(items, Sequence):
            raise LFError(f"The 'lfs' parameter of {func} must be an LF name, an LF, a fingerprint, a list of them or "
                          f"a mapping {{name: fingerprint}}. Got {type(lfs).__name__} instead. {how}")
        out = {}
        registered = {lf.name: lf for lf in self.engine.lfs}
        for item in items:
            if isinstance(item, BaseLF):
                name, fp = item.name, item.fingerprint
            elif isinstance(item, str) and item in registered:
                name, fp = item, registered[item].fingerprint
            elif isinstance(item, str) and FINGERPRINT_PATTERN.match(item):
                name, fp = item, item
            elif isinstance(item, str):
                raise LFError(f"The 'lfs' parameter of {func} names {item!r}, which is neither a registered "
                              f"labeling function nor a code fingerprint; registered: {list(registered)}. {how}")
            else:
                raise LFError(f"The 'lfs' parameter of {func} holds {item!r} ({type(item).__name__}); expected LF "
                              f"names, LFs or fingerprints. {how}")
            if name in out:
                raise LFError(f"The 'lfs' parameter of {func} names {name!r} twice; name each LF once.")
            out[name] = fp
        return out

    # ------------------------------------------------------------------ applying
    def apply(self, *, progress: bool | None = None) -> LFResult:
        """Apply every registered LF to every data version, reusing cached votes.

        Only LFs whose code changed since their last run, and data versions they have not
        seen, are computed. Exceptions inside an LF are isolated: see ``result.errors``.

        Raises
        ------
        LFError
            A registered LF cast a vote that is not ``ABSTAIN`` or a class id of its question
            (e.g. on a data version added since it was registered, or a cached vote for a
            choice a migration removed). The message names the LF, the example and the value;
            fixing the LF (and adding it again) or ``project.lfs.remove(name)`` unblocks the rest.
        """
        try:
            result = self.engine.apply(self._data.batches(), progress=progress)
        except LFOutputError as exc:
            raise LFError(self._blocked(exc)) from None
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

        Accuracy is computed only on rows whose gold label is known. The columns are those of
        :func:`~workbench.lf.lf_summary` plus ``errors`` (the number of rows on which the LF
        raised; they abstain, ``project.lfs.apply().errors`` has the traceback) and
        ``volatile`` (True when part of what the LF computes cannot be fingerprinted, so it is
        recomputed on every apply). How long each LF took is in ``project.lfs.apply().timings``.

        Parameters
        ----------
        gold : str or Series, optional
            Gold labels for the accuracy columns, as for :meth:`gold_labels`.
        question : str, optional
            The question (default: the only one).

        Returns
        -------
        DataFrame
            One row per LF voting on the question, indexed by LF name.
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
