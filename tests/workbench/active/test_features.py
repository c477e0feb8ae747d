"""TextFeatures and the per-data-version FeatureCache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer

import workbench as wb
from workbench.active import _features
from workbench.active._features import FEATURE_CACHE_DIR, FeatureCache, TextFeatures, clear_feature_cache

TEXTS = ["Check out my channel", "love this song", "my song, my channel!", "", "SUBSCRIBE to my channel"]


# ---------------------------------------------------------------------------------------------- TextFeatures
def test_tfidf_matches_scikit_learns_vectorizer_with_bigrams_and_sublinear_tf() -> None:
    X = TextFeatures().fit_transform(TEXTS)
    ref = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(TEXTS)
    assert sp.issparse(X) and X.shape == (5, len(ref.vocabulary_))
    assert abs(X - ref.transform(TEXTS)).max() < 1e-12
    names = TextFeatures().fit(TEXTS).get_feature_names_out().tolist()
    assert "check out" in names and "my channel" in names


def test_tfidf_transform_uses_the_learned_vocabulary() -> None:
    tf = TextFeatures().fit(TEXTS)
    X = tf.transform(["my channel", "completely unseen words"])
    assert X.shape[1] == tf.n_features_out_
    assert X[0].nnz > 0 and X[1].nnz == 0  # unseen terms have no column
    np.testing.assert_allclose(sp.linalg.norm(X[0]), 1.0)


def test_hashing_has_no_vocabulary_and_equals_scikit_learns_hashing_of_the_same_ngrams() -> None:
    tf = TextFeatures("hashing", n_features=2**12).fit(TEXTS)
    assert tf.kind_ == "hashing" and not hasattr(tf.vectorizer_, "vocabulary_")
    X = tf.transform(TEXTS)
    assert X.shape == (5, 2**12)
    counts = HashingVectorizer(ngram_range=(1, 2), n_features=2**12, alternate_sign=False, norm=None).transform(TEXTS)
    assert ((counts > 0) != (X > 0)).nnz == 0  # the same n-grams land in the same columns
    assert abs(tf.fit_transform(TEXTS) - X).max() < 1e-12


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 3), (2, 2)])
def test_the_fast_analyzer_gives_scikit_learns_terms(ngram_range: tuple[int, int]) -> None:
    ours = TextFeatures(ngram_range=ngram_range).fit(TEXTS).get_feature_names_out().tolist()
    ref = CountVectorizer(ngram_range=ngram_range).fit(TEXTS).get_feature_names_out().tolist()
    assert ours == ref


def test_auto_picks_hashing_above_the_threshold() -> None:
    assert TextFeatures("auto", auto_threshold=10).fit(TEXTS).kind_ == "tfidf"
    assert TextFeatures("auto", auto_threshold=3).fit(TEXTS).kind_ == "hashing"


@pytest.mark.slow
def test_hashing_in_parallel_equals_hashing_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_features, "_PARALLEL_MIN_TEXTS", 100)  # parallel from 100 texts: a small, fast test
    rng = np.random.default_rng(0)
    words = np.array(["spam", "ham", "check", "out", "my", "channel", "song", "love"], dtype=object)
    texts = [" ".join(words[rng.integers(0, len(words), 5)]) for _ in range(500)]
    one = TextFeatures("hashing", n_features=2**10).fit_transform(texts)
    two = TextFeatures("hashing", n_features=2**10, n_jobs=2).fit_transform(texts)
    assert abs(one - two).max() < 1e-12


def test_missing_texts_count_as_empty() -> None:
    X = TextFeatures().fit_transform(["my song", None, float("nan"), "my channel"])
    assert X.shape[0] == 4 and X[1].nnz == 0 and X[2].nnz == 0


def test_text_features_follow_the_estimator_contract() -> None:
    tf = TextFeatures("hashing", n_features=64)
    copy = clone(tf)
    assert copy.get_params() == tf.get_params() and not hasattr(copy, "kind_")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: TextFeatures("bag").fit(TEXTS), "'kind' parameter of TextFeatures must be one of"),
        (lambda: TextFeatures(ngram_range=(2, 1)).fit(TEXTS), "'ngram_range'"),
        (lambda: TextFeatures(n_features=0).fit(TEXTS), "'n_features'"),
        (lambda: TextFeatures(n_jobs=0).fit(TEXTS), "'n_jobs'"),
        (lambda: TextFeatures().fit("just one text"), "wrap a single text in a list"),
        (lambda: TextFeatures().fit(["ok", 3]), "element 1 is a int"),
        (lambda: TextFeatures().fit(["", None]), "found no terms"),
    ],
)
def test_bad_input_gets_a_clear_error(make: object, message: str) -> None:
    with pytest.raises(wb.WorkbenchError, match=message):
        make()  # type: ignore[operator]


def test_transform_before_fit_raises_not_fitted() -> None:
    with pytest.raises(wb.NotFittedError, match="call fit"):
        TextFeatures().transform(TEXTS)


# ---------------------------------------------------------------------------------------------- FeatureCache
def test_features_are_computed_once_per_data_version(project: wb.Project) -> None:
    cache = FeatureCache(project, "tfidf")
    first = cache.get()
    assert first.X.shape[0] == len(project) and list(first.ids) == list(project.examples().index)
    assert cache.get() is first
    assert FeatureCache(project, "tfidf").get() is first  # shared by every cache of this project and spec
    assert FeatureCache(project, "hashing").get() is not first  # another spec, another matrix
    project.add_data(pd.DataFrame({"id": ["c-7"], "text": ["new comment on my channel"]}), id_column="id")
    after = cache.get()
    assert after.key != first.key and after.X.shape[0] == len(project) == first.X.shape[0] + 1


def test_a_callable_hook_is_called_once_and_gets_the_texts(project: wb.Project) -> None:
    calls: list[list[str]] = []

    def lengths(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.array([[len(t), t.count(" ")] for t in texts], dtype=float)

    cache = FeatureCache(project, lengths)
    X = cache.get().X
    cache.get()
    assert len(calls) == 1 and calls[0][0] == "check out my channel" and calls[0][4] == ""
    assert X.shape == (len(project), 2) and X[0, 0] == len("check out my channel")


def test_a_callable_returning_the_wrong_shape_is_refused(project: wb.Project) -> None:
    with pytest.raises(wb.DataError, match=r"one row per text: a \(6, d\) matrix"):
        FeatureCache(project, lambda texts: np.zeros((2, 3))).get()


def test_a_dataframe_of_embeddings_is_aligned_by_example_id(project: wb.Project) -> None:
    ids = list(project.examples().index)
    emb = pd.DataFrame({"e0": np.arange(len(ids), dtype=float), "e1": 1.0}, index=ids[::-1])
    fm = FeatureCache(project, emb).get()
    np.testing.assert_array_equal(fm.X[:, 0], emb.loc[ids, "e0"].to_numpy())
    assert fm.kind == "DataFrame"


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (lambda ids: pd.DataFrame({"e": 1.0}, index=ids[:3]), "no row for 3 of the project's 6 examples"),
        (lambda ids: pd.DataFrame({"e": "x"}, index=ids), "must hold numbers only"),
        (lambda ids: pd.DataFrame({"e": 1.0}, index=[ids[0]] * 2 + ids[2:]), "duplicate example ids"),
        (lambda ids: pd.DataFrame({"e": np.nan}, index=ids), "NaN or infinite"),
    ],
)
def test_bad_feature_frames_are_refused(project: wb.Project, frame: object, message: str) -> None:
    ids = list(project.examples().index)
    with pytest.raises(wb.DataError, match=message):
        FeatureCache(project, frame(ids)).get()  # type: ignore[operator]


def test_a_fitted_transformer_transforms_and_an_unfitted_one_is_fitted(project: wb.Project) -> None:
    fitted = CountVectorizer().fit(["zebra channel", "zebra song"])
    assert FeatureCache(project, fitted).get().X.shape == (len(project), 3)  # its own vocabulary
    unfitted = CountVectorizer()
    X = FeatureCache(project, unfitted).get().X
    texts = [t if isinstance(t, str) else "" for t in project.examples()["text"]]
    assert X.shape[1] == len(CountVectorizer().fit(texts).vocabulary_)
    assert not hasattr(unfitted, "vocabulary_")  # the user's object is not changed


def test_unknown_feature_specs_are_refused(project: wb.Project) -> None:
    with pytest.raises(wb.DataError, match="'features' parameter must be one of"):
        FeatureCache(project, "bert")
    with pytest.raises(wb.DataError, match="Got int instead"):
        FeatureCache(project, 42)


def test_text_features_need_a_text_column(tmp_path: Path, spam_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "no_text", schema=spam_schema, text_column=None)
    p.add_data(pd.DataFrame({"id": ["a", "b"], "x": [1.0, 2.0]}), id_column="id")
    with pytest.raises(wb.DataError, match="DataFrame of precomputed features"):
        FeatureCache(p, "tfidf").get()
    p.close()


def test_the_disk_cache_is_read_back_in_a_new_session(project: wb.Project, monkeypatch: pytest.MonkeyPatch) -> None:
    first = FeatureCache(project, "hashing", disk=True).get()
    files = sorted(p.name for p in (project.path / FEATURE_CACHE_DIR).iterdir())
    assert files == [f"{first.key}.json", f"{first.key}.npz"]
    clear_feature_cache()  # a new kernel: nothing in memory

    def no_recompute(*args: object, **kwargs: object) -> None:
        raise AssertionError("the features were recomputed instead of read from disk")

    with monkeypatch.context() as m:
        m.setattr(FeatureCache, "_compute", no_recompute)
        again = FeatureCache(project, "hashing", disk=True).get()
    assert abs(again.X - first.X).max() == 0 and list(again.ids) == list(first.ids) and again.kind == "hashing"


def test_a_damaged_disk_cache_is_recomputed_not_trusted(project: wb.Project) -> None:
    first = FeatureCache(project, "tfidf", disk=True).get()
    (project.path / FEATURE_CACHE_DIR / f"{first.key}.npz").write_bytes(b"not a matrix")
    clear_feature_cache()
    again = FeatureCache(project, "tfidf", disk=True).get()
    assert abs(again.X - first.X).max() < 1e-12
