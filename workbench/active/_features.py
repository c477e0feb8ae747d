"""Features for end models: built-in text features, user features, and a per-data-version cache.

:class:`TextFeatures` turns texts into a sparse TF-IDF matrix, with a vocabulary (``"tfidf"``) or
by feature hashing (``"hashing"``: no vocabulary in memory, stateless, parallel, for pools of a
million rows). :class:`FeatureCache` computes the features of a project's examples once per
(data versions, feature spec) and hands the same matrix to every later fit and re-score.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from workbench.exceptions import DataError, NotFittedError

__all__ = [
    "FEATURE_CACHE_DIR",
    "FEATURE_KINDS",
    "FeatureCache",
    "FeatureMatrix",
    "TextFeatures",
    "clear_feature_cache",
]

#: The built-in feature kinds (strings accepted wherever ``features=`` is).
FEATURE_KINDS: tuple[str, ...] = ("tfidf", "hashing", "auto")

#: Folder of the project directory holding cached feature matrices (``disk=True`` only).
FEATURE_CACHE_DIR = "cache/features"

#: Fewer texts than this are hashed in this process even with ``n_jobs`` (starting workers costs more).
_PARALLEL_MIN_TEXTS = 20_000

_CACHE_FORMAT = "workbench-feature-cache"
_CACHE_FORMAT_VERSION = 1
_MEMORY_ENTRIES = 4


def _check(name: str, ok: bool, expected: str, got: object, *, owner: str = "TextFeatures") -> None:
    if not ok:
        raise DataError(f"The {name!r} parameter of {owner} must be {expected}. Got {got!r} instead.")


_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


@dataclass(frozen=True)
class _WordNgrams:
    """The word n-grams of a text, exactly as scikit-learn's default word analyzer makes them, faster.

    Lower-cases (if ``lowercase``), tokenises with scikit-learn's default ``token_pattern``, and
    returns the n-grams for ``min_n <= n <= max_n`` in scikit-learn's order; a picklable value
    (parallel hashing sends it to worker processes).
    """

    min_n: int
    max_n: int
    lowercase: bool

    def __call__(self, doc: str) -> list[str]:
        tokens: list[str] = _TOKEN.findall(doc.lower() if self.lowercase else doc)
        if self.max_n == 1:
            return tokens
        out: list[str] = list(tokens) if self.min_n == 1 else []
        for n in range(max(2, self.min_n), self.max_n + 1):
            if n == 2:
                out += [a + " " + b for a, b in itertools.pairwise(tokens)]
            else:
                out += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
        return out


def _as_texts(texts: Any, *, func: str) -> list[str]:
    """``texts`` as a list of str: None and NaN become ""; anything else that is not a str is an error."""
    if isinstance(texts, str) or not isinstance(texts, (Sequence, np.ndarray, pd.Series, pd.Index)):
        raise DataError(
            f"TextFeatures.{func} takes a sequence of strings (a list, array or Series of texts). Got "
            f"{type(texts).__name__} instead" + (": wrap a single text in a list." if isinstance(texts, str) else ".")
        )
    values = texts.tolist() if isinstance(texts, (np.ndarray, pd.Series, pd.Index)) else list(texts)
    out: list[str] = []
    for i, t in enumerate(values):
        if isinstance(t, str):
            out.append(t)
        elif t is None or (isinstance(t, float) and t != t):
            out.append("")
        else:
            raise DataError(
                f"TextFeatures.{func}: element {i} is a {type(t).__name__} ({t!r}), not a string. Pass texts "
                f"(None or NaN count as empty); convert other values with str() first."
            )
    return out


class TextFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Sparse TF-IDF text features with a vocabulary, or by feature hashing for large pools.

    Parameters
    ----------
    kind : {"tfidf", "hashing", "auto"}, default "tfidf"
        ``"tfidf"``: :class:`~sklearn.feature_extraction.text.TfidfVectorizer` (a vocabulary
        learned on the texts). ``"hashing"``: a
        :class:`~sklearn.feature_extraction.text.HashingVectorizer` (term counts hashed into
        ``n_features`` columns; no vocabulary kept, so memory does not grow with the pool, and
        texts are hashed in parallel with ``n_jobs``) followed by a
        :class:`~sklearn.feature_extraction.text.TfidfTransformer`. ``"auto"``: hashing when
        ``fit`` sees more than ``auto_threshold`` texts, else tfidf.
    ngram_range : tuple of int, default (1, 2)
        Word n-grams (unigrams and bigrams by default).
    sublinear_tf : bool, default True
        ``1 + log(tf)`` instead of raw term counts.
    lowercase : bool, default True
        Lower-case texts before tokenising.
    min_df : int, default 1
        ``"tfidf"`` only: drop terms that occur in fewer documents.
    max_features : int, optional
        ``"tfidf"`` only: keep only the most frequent terms.
    n_features : int, default 2**20
        ``"hashing"`` only: the number of hashed columns.
    auto_threshold : int, default 200_000
        ``"auto"`` only: the number of texts above which hashing is used.
    n_jobs : int, optional
        ``"hashing"`` only: processes hashing chunks of texts in parallel (``-1``: every core;
        None: one, in this process).

    Attributes
    ----------
    kind_ : str
        The kind used (``"auto"`` resolved).
    vectorizer_ : object
        The fitted scikit-learn vectorizer (``"tfidf"``) or the hashing vectorizer.
    idf_transformer_ : TfidfTransformer or None
        The fitted IDF weighting (``"hashing"`` only).
    n_features_out_ : int
        Columns of the output.

    Examples
    --------
    >>> from workbench.active._features import TextFeatures
    >>> X = TextFeatures().fit_transform(["check out my channel", "love this song", "my song"])
    >>> X.shape
    (3, 13)
    >>> TextFeatures("hashing", n_features=2**10).fit_transform(["a b c", "b c d"]).shape
    (2, 1024)
    """

    def __init__(
        self,
        kind: str = "tfidf",
        *,
        ngram_range: tuple[int, int] = (1, 2),
        sublinear_tf: bool = True,
        lowercase: bool = True,
        min_df: int = 1,
        max_features: int | None = None,
        n_features: int = 2**20,
        auto_threshold: int = 200_000,
        n_jobs: int | None = None,
    ) -> None:
        self.kind = kind
        self.ngram_range = ngram_range
        self.sublinear_tf = sublinear_tf
        self.lowercase = lowercase
        self.min_df = min_df
        self.max_features = max_features
        self.n_features = n_features
        self.auto_threshold = auto_threshold
        self.n_jobs = n_jobs

    def _validate(self) -> None:
        _check("kind", self.kind in FEATURE_KINDS, f"one of {list(FEATURE_KINDS)!r}", self.kind)
        ng = self.ngram_range
        _check("ngram_range", isinstance(ng, tuple) and len(ng) == 2 and all(isinstance(v, int) for v in ng)
               and 1 <= ng[0] <= ng[1], "a tuple (min_n, max_n) of ints with 1 <= min_n <= max_n", ng)
        _check("n_features", isinstance(self.n_features, int) and not isinstance(self.n_features, bool)
               and self.n_features >= 1, "a positive int", self.n_features)
        _check("min_df", isinstance(self.min_df, int) and not isinstance(self.min_df, bool) and self.min_df >= 1,
               "a positive int", self.min_df)
        _check("max_features", self.max_features is None or (isinstance(self.max_features, int)
               and self.max_features >= 1), "a positive int or None", self.max_features)
        _check("auto_threshold", isinstance(self.auto_threshold, int) and self.auto_threshold >= 0,
               "an int >= 0", self.auto_threshold)
        _check("n_jobs", self.n_jobs is None or (isinstance(self.n_jobs, int) and self.n_jobs != 0),
               "None or a non-zero int", self.n_jobs)

    def _analyzer(self) -> _WordNgrams:
        return _WordNgrams(int(self.ngram_range[0]), int(self.ngram_range[1]), bool(self.lowercase))

    def _hasher(self) -> HashingVectorizer:
        return HashingVectorizer(analyzer=self._analyzer(), n_features=self.n_features, alternate_sign=False,
                                 norm=None, dtype=np.float64)

    def _hash(self, texts: list[str]) -> sp.csr_matrix:
        hasher: HashingVectorizer = self.vectorizer_
        n_jobs = self.n_jobs or 1
        if n_jobs < 0:
            n_jobs = max(1, (os.cpu_count() or 1) + 1 + n_jobs)
        if n_jobs == 1 or len(texts) < _PARALLEL_MIN_TEXTS:
            return hasher.transform(texts).tocsr()
        from joblib import Parallel, delayed

        bounds = np.linspace(0, len(texts), 4 * n_jobs + 1).astype(int)
        parts = Parallel(n_jobs=n_jobs)(
            delayed(hasher.transform)(texts[a:b]) for a, b in itertools.pairwise(bounds) if b > a
        )
        return sp.vstack(parts, format="csr")

    def fit(self, texts: Sequence[Any], y: Any = None) -> TextFeatures:
        """Learn the vocabulary (``"tfidf"``) or the IDF weights (``"hashing"``) from ``texts``."""
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Sequence[Any], y: Any = None, **fit_params: Any) -> sp.csr_matrix:
        """Fit on ``texts`` and return their features (one pass over the texts)."""
        self._validate()
        docs = _as_texts(texts, func="fit")
        kind = self.kind
        if kind == "auto":
            kind = "hashing" if len(docs) > self.auto_threshold else "tfidf"
        self.kind_ = kind
        if kind == "tfidf":
            vec = TfidfVectorizer(analyzer=self._analyzer(), sublinear_tf=self.sublinear_tf, min_df=self.min_df,
                                  max_features=self.max_features, dtype=np.float64)
            try:
                X = vec.fit_transform(docs)
            except ValueError as exc:  # "empty vocabulary": every text empty or stop words only
                raise DataError(
                    f"TextFeatures(kind='tfidf') found no terms in the {len(docs)} text(s) ({exc}). Check the "
                    f"text column, or use kind='hashing' (which accepts empty texts)."
                ) from None
            self.vectorizer_ = vec
            self.idf_transformer_ = None
        else:
            self.vectorizer_ = self._hasher()
            counts = self._hash(docs)
            self.idf_transformer_ = TfidfTransformer(sublinear_tf=self.sublinear_tf)
            X = self.idf_transformer_.fit_transform(counts)
        self.n_features_out_ = int(X.shape[1])
        return sp.csr_matrix(X)

    def transform(self, texts: Sequence[Any]) -> sp.csr_matrix:
        """Features of ``texts`` (rows L2-normalised), with what :meth:`fit` learned."""
        if not hasattr(self, "vectorizer_"):
            raise NotFittedError("This TextFeatures is not fitted yet: call fit(texts) or fit_transform(texts) first.")
        docs = _as_texts(texts, func="transform")
        if self.kind_ == "tfidf":
            return sp.csr_matrix(self.vectorizer_.transform(docs))
        assert self.idf_transformer_ is not None
        return sp.csr_matrix(self.idf_transformer_.transform(self._hash(docs)))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Column names: the vocabulary terms (``"tfidf"``), or ``hash_<i>`` (``"hashing"``)."""
        if not hasattr(self, "vectorizer_"):
            raise NotFittedError("This TextFeatures is not fitted yet: call fit(texts) first.")
        if self.kind_ == "tfidf":
            return np.asarray(self.vectorizer_.get_feature_names_out(), dtype=object)
        return np.asarray([f"hash_{i}" for i in range(self.n_features_out_)], dtype=object)


# ---------------------------------------------------------------------------------------------- the cache
@dataclass(frozen=True)
class FeatureMatrix:
    """The features of a project's examples: ``X`` row ``i`` belongs to ``ids[i]``.

    Attributes
    ----------
    ids : Index
        Example ids, in the project's example order.
    X : ndarray or scipy.sparse.csr_matrix
        One row per id.
    key : str
        The hash of (feature spec, data versions) the matrix was computed for.
    spec : dict
        The feature spec (JSON), as recorded with training runs.
    kind : str
        What made the matrix: ``"tfidf"`` or ``"hashing"`` (``"auto"`` resolved), ``"DataFrame"``,
        ``"transformer"`` or ``"callable"``.
    """

    ids: pd.Index
    X: Any
    key: str
    spec: dict[str, Any]
    kind: str = ""

    def rows(self, example_ids: Sequence[str] | pd.Index) -> np.ndarray:
        """Row positions of ``example_ids`` (``-1`` for ids without features)."""
        return np.asarray(self.ids.get_indexer(pd.Index(example_ids)), dtype=np.intp)


_memory: OrderedDict[tuple[str, str], tuple[Any, FeatureMatrix]] = OrderedDict()
_memory_lock = threading.Lock()


def clear_feature_cache() -> None:
    """Forget every feature matrix kept in memory (files written with ``disk=True`` stay)."""
    with _memory_lock:
        _memory.clear()


def _frame_hash(df: pd.DataFrame) -> str:
    h = hashlib.sha256(b"workbench-feature-frame-v1\n")
    h.update(json.dumps([str(c) for c in df.columns]).encode())
    h.update(np.asarray(pd.util.hash_pandas_object(df, index=True).to_numpy(), dtype=np.uint64).tobytes())
    return h.hexdigest()


def _is_transformer(obj: Any) -> bool:
    return callable(getattr(obj, "transform", None))


def _is_fitted(obj: Any) -> bool:
    try:
        check_is_fitted(obj)
    except _SklearnNotFittedError:
        return False
    except TypeError:  # not a scikit-learn estimator: assume it is ready to use
        return True
    return True


class FeatureCache:
    """The features of a project's examples, computed once per (data versions, feature spec).

    The matrix is kept in memory (shared by every cache object of the same project and spec,
    the four most recent kept) and, with ``disk=True``, also written under
    ``<project>/cache/features/<key>.npz`` so that a new kernel reads instead of recomputing.
    Adding data changes the data versions and so the key: the next :meth:`get` recomputes.

    Parameters
    ----------
    project : Project
        Whose examples to featurise.
    features : str, TextFeatures, transformer, callable or DataFrame, default "tfidf"
        ``"tfidf"``, ``"hashing"`` or ``"auto"`` (a :class:`TextFeatures` of that kind); a
        :class:`TextFeatures` (fitted on the project's texts); any other transformer (a fitted
        one transforms the texts, an unfitted scikit-learn one is fitted on them); a callable
        ``texts -> matrix`` (one row per text); or a DataFrame of precomputed features indexed
        by example id (embeddings ...), numeric, covering every example.
    disk : bool, default False
        Also keep the matrix on disk (only for string kinds, :class:`TextFeatures` and
        DataFrames, whose spec is a stable value; callables and other objects are cached in
        memory only).
    n_jobs : int, optional
        Passed to string kinds' :class:`TextFeatures` (parallel hashing).
    """

    def __init__(self, project: Any, features: Any = "tfidf", *, disk: bool = False,
                 n_jobs: int | None = None) -> None:
        self.project = project
        self.features = features
        self.disk = disk
        self.n_jobs = n_jobs
        self._spec_cache: tuple[int, dict[str, Any], bool] | None = None
        self.validate_spec()

    # -- the spec --------------------------------------------------------------------------------
    def validate_spec(self) -> None:
        """Raise :class:`DataError` now if ``features`` is not something this cache can use."""
        f = self.features
        if isinstance(f, str):
            if f not in FEATURE_KINDS:
                raise DataError(
                    f"The 'features' parameter must be one of {list(FEATURE_KINDS)!r}, a TextFeatures, a fitted "
                    f"transformer, a callable texts -> matrix, or a DataFrame indexed by example id. Got {f!r} "
                    f"instead."
                )
        elif isinstance(f, pd.DataFrame):
            bad = [c for c in f.columns if not pd.api.types.is_numeric_dtype(f[c])]
            if bad:
                raise DataError(
                    f"The features DataFrame must hold numbers only; columns {bad[:5]!r} are not numeric. Encode "
                    f"them (or drop them) first."
                )
            from workbench.data import id_text

            as_text = pd.Index([id_text(i) for i in f.index])  # ids as the project stores them: 1 and "1" are one
            if as_text.has_duplicates:
                dups = as_text[as_text.duplicated()].unique()[:5].tolist()
                raise DataError(f"The features DataFrame has duplicate example ids, e.g. {dups!r} (ids compare as "
                                f"text: 1, 1.0 and '1' are one id); keep one row per example.")
        elif not (_is_transformer(f) or callable(f)):
            raise DataError(
                f"The 'features' parameter must be one of {list(FEATURE_KINDS)!r}, a TextFeatures, a fitted "
                f"transformer, a callable texts -> matrix, or a DataFrame indexed by example id. Got "
                f"{type(f).__name__} instead."
            )
        _check("disk", isinstance(self.disk, bool), "a bool", self.disk, owner="FeatureCache")

    def spec(self) -> tuple[dict[str, Any], bool]:
        """``(spec, stable)``: a JSON description of the features, and whether it is a stable value."""
        f = self.features
        if self._spec_cache is not None and self._spec_cache[0] == id(f):
            return self._spec_cache[1], self._spec_cache[2]
        if isinstance(f, str):
            params = TextFeatures(f, n_jobs=self.n_jobs).get_params()
            params.pop("n_jobs")
            spec: dict[str, Any] = {"kind": "TextFeatures", "params": params}
            stable = True
        elif isinstance(f, TextFeatures):
            params = f.get_params()
            params.pop("n_jobs")
            spec, stable = {"kind": "TextFeatures", "params": params}, True
        elif isinstance(f, pd.DataFrame):
            spec, stable = {"kind": "DataFrame", "shape": list(f.shape), "sha256": _frame_hash(f)}, True
        elif _is_transformer(f):
            spec, stable = {"kind": "transformer", "class": type(f).__name__, "object": id(f)}, False
        else:
            name = getattr(f, "__qualname__", type(f).__name__)
            spec, stable = {"kind": "callable", "name": str(name), "object": id(f)}, False
        spec = json.loads(json.dumps(spec, default=str))  # tuples -> lists, so the recorded spec is plain JSON
        self._spec_cache = (id(f), spec, stable)
        return spec, stable

    def key(self) -> str:
        """The hash of the feature spec and the project's data versions (their content hashes)."""
        spec, _ = self.spec()
        dv = self.project.data_versions()
        versions = [[str(v), str(h)] for v, h in zip(dv["version"], dv["content_hash"], strict=True)]
        blob = json.dumps({"spec": spec, "data_versions": versions}, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:32]

    @property
    def directory(self) -> Path:
        """Where ``disk=True`` keeps matrices: ``<project>/cache/features``."""
        return Path(self.project.path) / FEATURE_CACHE_DIR

    # -- reading -----------------------------------------------------------------------------
    def get(self) -> FeatureMatrix:
        """The features of every example (computed on the first call for these data versions)."""
        key = self.key()
        spec, stable = self.spec()
        mem_key = (str(Path(self.project.path).resolve()), key)
        with _memory_lock:
            hit = _memory.get(mem_key)
            if hit is not None and (stable or hit[0] is self.features):
                _memory.move_to_end(mem_key)
                return hit[1]
        fm = self._read_disk(key, spec) if (self.disk and stable) else None
        if fm is None:
            fm = self._compute(key, spec)
            if self.disk and stable:
                self._write_disk(fm)
        with _memory_lock:
            _memory[mem_key] = (self.features, fm)
            _memory.move_to_end(mem_key)
            while len(_memory) > _MEMORY_ENTRIES:
                _memory.popitem(last=False)
        return fm

    def _texts(self, examples: pd.DataFrame) -> list[str]:
        col = self.project.text_column
        if not col or col not in examples.columns:
            raise DataError(
                f"Text features need the project's text column, but it is {col!r} and the examples have columns "
                f"{[c for c in examples.columns if c != 'data_version']!r}. Pass features= a DataFrame of "
                f"precomputed features indexed by example id, or a callable on your own column."
            )
        return _as_texts(examples[col], func="fit")

    def _compute(self, key: str, spec: dict[str, Any]) -> FeatureMatrix:
        f = self.features
        examples = self.project.examples()
        ids = pd.Index(examples.index.astype(str), name="example_id")
        if isinstance(f, pd.DataFrame):
            F = f.copy()
            F.index = F.index.astype(str)
            missing = ids[~ids.isin(F.index)]
            if len(missing):
                raise DataError(
                    f"The features DataFrame has no row for {len(missing)} of the project's {len(ids)} examples, "
                    f"e.g. {missing[:3].tolist()!r} (its index looks like {F.index[:3].tolist()!r}). Index it by "
                    f"example id and give every example a row."
                )
            X: Any = F.reindex(ids).to_numpy(dtype=np.float64)
            if not np.isfinite(X).all():
                raise DataError("The features DataFrame holds NaN or infinite values; fill or drop them first.")
            kind = "DataFrame"
        else:
            texts = self._texts(examples)
            if isinstance(f, (str, TextFeatures)):
                tf = TextFeatures(f, n_jobs=self.n_jobs) if isinstance(f, str) else clone(f)
                X = tf.fit_transform(texts)
                kind = tf.kind_
            elif _is_transformer(f):
                X = f.transform(texts) if _is_fitted(f) else clone(f).fit_transform(texts)
                kind = "transformer"
            else:
                X = f(texts)
                kind = "callable"
            X = self._check_matrix(X, len(ids))
        return FeatureMatrix(ids=ids, X=X, key=key, spec=spec, kind=kind)

    def _check_matrix(self, X: Any, n: int) -> Any:
        what = "features callable" if not _is_transformer(self.features) else f"{type(self.features).__name__}"
        if isinstance(X, pd.DataFrame):
            X = X.to_numpy(dtype=np.float64)
        if sp.issparse(X):
            X = sp.csr_matrix(X)
        else:
            try:
                X = np.asarray(X, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise DataError(f"The {what} returned something that is not a numeric matrix ({exc}).") from None
        if X.ndim != 2 or X.shape[0] != n:
            raise DataError(
                f"The {what} must return one row per text: a ({n}, d) matrix. Got shape {tuple(X.shape)} instead."
            )
        return X

    # -- disk --------------------------------------------------------------------------------
    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.directory / f"{key}.npz", self.directory / f"{key}.json"

    @staticmethod
    def _ids_hash(ids: pd.Index) -> str:
        return hashlib.sha256("\n".join(ids.astype(str)).encode()).hexdigest()

    def _read_disk(self, key: str, spec: dict[str, Any]) -> FeatureMatrix | None:
        data, meta = self._paths(key)
        if not (data.is_file() and meta.is_file()):
            return None
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
            ids = pd.Index(self.project.examples().index.astype(str), name="example_id")
            if info.get("format") != _CACHE_FORMAT or info.get("ids_sha256") != self._ids_hash(ids):
                return None
            X: Any
            if info.get("sparse"):
                X = sp.load_npz(data).tocsr()
            else:
                with np.load(data, allow_pickle=False) as z:
                    X = z["X"]
            if X.shape[0] != len(ids):
                return None
        except (OSError, ValueError, KeyError):  # a damaged cache file is recomputed, never trusted
            return None
        return FeatureMatrix(ids=ids, X=X, key=key, spec=spec, kind=str(info.get("kind", "")))

    def _write_disk(self, fm: FeatureMatrix) -> None:
        data, meta = self._paths(fm.key)
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{fm.key}.{uuid.uuid4().hex[:8]}.tmp.npz"
        try:
            if sp.issparse(fm.X):
                sp.save_npz(tmp, fm.X, compressed=False)
            else:
                np.savez(tmp, X=fm.X)
            os.replace(tmp, data)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        info = {"format": _CACHE_FORMAT, "format_version": _CACHE_FORMAT_VERSION, "spec": fm.spec,
                "n_rows": int(fm.X.shape[0]), "n_features": int(fm.X.shape[1]), "sparse": bool(sp.issparse(fm.X)),
                "ids_sha256": self._ids_hash(fm.ids), "kind": fm.kind}
        tmp_meta = meta.with_suffix(".json.tmp")
        tmp_meta.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp_meta, meta)

