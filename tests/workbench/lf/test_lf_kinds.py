"""Each LF kind: per-row semantics, vectorized results, equality with snorkel's per-row applier."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from snorkel.labeling import LabelingFunction as SnorkelLF
from snorkel.labeling import PandasLFApplier
from snorkel.labeling import labeling_function as snorkel_labeling_function
from snorkel.preprocess import preprocessor

from workbench.exceptions import LFError
from workbench.lf import (
    ABSTAIN,
    LabelingFunction,
    LFEngine,
    Row,
    as_lf,
    from_feedback,
    from_model,
    keywords,
    labeling_function,
    lexicon,
    regex,
    threshold,
    vectorized,
)

SPAM, HAM = 1, 0


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": [
                "Check out my channel!",
                "love this song",
                "SUBSCRIBE please http://x.y",
                "",
                None,
                "great video, sub4sub?",
                "mysterious music",
                "I love it, I LOVE it, great great great",
            ],
            "length": [21.0, 14.0, 27.0, 0.0, np.nan, 21.0, 16.0, 38.0],
        },
        index=pd.Index([f"c-{i}" for i in range(8)], name="id"),
    )


def engine_matrix(lfs: list[Any], df: pd.DataFrame, cardinality: int = 2, **kw: Any) -> np.ndarray:
    engine = LFEngine(cache_dir=None, cardinality=cardinality, n_jobs=1, progress=False, **kw)
    for lf in lfs:
        engine.add(lf)
    result = engine.apply([("d1", df)])
    assert not result.errors, result.errors
    return result.L


def snorkel_matrix(lfs: list[Any], df: pd.DataFrame) -> np.ndarray:
    return PandasLFApplier(lfs).apply(df, progress_bar=False)


def test_keywords_case_insensitive_and_missing_text_abstains(frame: pd.DataFrame) -> None:
    lf = keywords("subscribe", ["subscribe", "sub4sub"], label=SPAM)
    L = engine_matrix([lf], frame)
    assert L[:, 0].tolist() == [-1, -1, 1, -1, -1, 1, -1, -1]
    assert L.dtype == np.int8


def test_keywords_word_boundary_and_case(frame: pd.DataFrame) -> None:
    sub = keywords("my", ["my"], label=SPAM)
    whole = keywords("my_word", ["my"], label=SPAM, word_boundary=True)
    cased = keywords("LOVE", ["LOVE"], label=HAM, case=True)
    L = engine_matrix([sub, whole, cased], frame)
    assert L[:, 0].tolist() == [1, -1, -1, -1, -1, -1, 1, -1]  # "mysterious" matches a substring
    assert L[:, 1].tolist() == [1, -1, -1, -1, -1, -1, -1, -1]
    assert L[:, 2].tolist() == [-1, -1, -1, -1, -1, -1, -1, 0]


def test_regex_builder(frame: pd.DataFrame) -> None:
    link = regex("link", r"https?://", label=SPAM)
    end_q = regex("question", r"\?$", label=SPAM)
    L = engine_matrix([link, end_q], frame)
    assert L[:, 0].tolist() == [-1, -1, 1, -1, -1, -1, -1, -1]
    assert L[:, 1].tolist() == [-1, -1, -1, -1, -1, 1, -1, -1]


def test_builders_equal_snorkel_per_row(frame: pd.DataFrame) -> None:
    """The builders are callable per row, so snorkel's own applier gives the reference matrix."""
    lfs = [
        keywords("kw", ["check out", "subscribe"], label=SPAM),
        keywords("kw_wb", ["love", "great"], label=HAM, word_boundary=True),
        regex("link", r"https?://", label=SPAM),
        regex("exclaim", r"!\s*$", label=SPAM, case=True),
        lexicon("lex", {"love": HAM, "great": HAM, "channel": SPAM, "subscribe": SPAM}),
        threshold("long", "length", label=SPAM, gt=20),
    ]
    assert np.array_equal(engine_matrix(lfs, frame), snorkel_matrix(lfs, frame))


def test_keywords_equal_handwritten_snorkel_lfs(frame: pd.DataFrame) -> None:
    @snorkel_labeling_function()
    def kw_check(x: Any) -> int:
        t = x.text
        return SPAM if isinstance(t, str) and any(w in t.lower() for w in ["check out", "sub4sub"]) else ABSTAIN

    ours = keywords("kw_check", ["check out", "sub4sub"], label=SPAM)
    assert np.array_equal(engine_matrix([ours], frame), snorkel_matrix([kw_check], frame))


def test_threshold_bounds(frame: pd.DataFrame) -> None:
    lf = threshold("mid", "length", label=HAM, ge=16, lt=27)
    assert engine_matrix([lf], frame)[:, 0].tolist() == [0, -1, -1, -1, -1, 0, 0, -1]
    assert lf(Row(length=16)) == HAM and lf(Row(length=None)) == ABSTAIN


def test_threshold_needs_numeric_column(frame: pd.DataFrame) -> None:
    engine = LFEngine(n_jobs=1, progress=False)
    engine.add(threshold("bad", "text", label=1, gt=3))
    with pytest.raises(LFError, match="needs a numeric column"):
        engine.apply([("d1", frame)])


def test_lexicon_majority_and_ties(frame: pd.DataFrame) -> None:
    lf = lexicon("lex", {"love": HAM, "great": HAM, "check": SPAM, "channel": SPAM, "song": SPAM}, min_count=1)
    L = engine_matrix([lf], frame)
    # row 1: love(HAM) vs song(SPAM) -> tie -> abstain; row 7: 5 HAM words
    assert L[:, 0].tolist() == [1, -1, -1, -1, -1, 0, -1, 0]
    strict = lexicon("lex2", {"great": HAM}, min_count=2)
    assert engine_matrix([strict], frame)[:, 0].tolist() == [-1, -1, -1, -1, -1, -1, -1, 0]


def test_decorated_function_and_row_access(frame: pd.DataFrame) -> None:
    seen: list[Any] = []

    @labeling_function()
    def check_out(x: Any) -> int:
        seen.append(x.name)
        t = x.text
        return SPAM if isinstance(t, str) and "check out" in t.lower() else ABSTAIN

    @labeling_function(name="by_item", resources={"word": "song"})
    def uses_item_access(x: Any, word: str) -> int:
        return HAM if isinstance(x["text"], str) and word in x["text"] else ABSTAIN

    # timeout=None computes in this process, so the side effect on ``seen`` is visible here
    # (with a time limit, LFs run in a forked worker).
    L = engine_matrix([check_out, uses_item_access], frame, timeout=None)
    assert L[:, 0].tolist() == [1, -1, -1, -1, -1, -1, -1, -1]
    assert L[:, 1].tolist() == [-1, 0, -1, -1, -1, -1, -1, -1]
    assert seen == list(frame.index)  # x.name is the example id


def test_snorkel_lf_with_preprocessor_and_resources(frame: pd.DataFrame) -> None:
    @preprocessor()
    def lower_text(x: Any) -> Any:
        x.lowered = x.text.lower() if isinstance(x.text, str) else ""
        return x

    def has_word(x: Any, word: str) -> int:
        return SPAM if word in x.lowered else ABSTAIN

    lf = SnorkelLF("has_subscribe", has_word, resources={"word": "subscribe"}, pre=[lower_text])
    assert np.array_equal(engine_matrix([lf], frame), snorkel_matrix([lf], frame))
    wrapped = as_lf(lf)
    assert isinstance(wrapped, LabelingFunction) and wrapped.name == "has_subscribe"


def test_vectorized_over_frame_and_column(frame: pd.DataFrame) -> None:
    @vectorized()
    def short(df: pd.DataFrame) -> np.ndarray:
        return np.where(df["length"].fillna(99) < 15, HAM, ABSTAIN)

    @vectorized(column="text")
    def shouting(texts: pd.Series) -> pd.Series:
        upper = texts.str.contains("[A-Z]{4,}", regex=True)
        return upper.map({True: SPAM, False: ABSTAIN})  # NaN for missing text -> ABSTAIN

    L = engine_matrix([short, shouting], frame)
    assert L[:, 0].tolist() == [-1, 0, -1, 0, -1, -1, -1, -1]
    assert L[:, 1].tolist() == [-1, -1, 1, -1, -1, -1, -1, 1]
    assert short(Row(length=3.0)) == HAM  # per-row call runs the function on a one-row frame


def test_model_lf_with_sklearn_estimator(frame: pd.DataFrame) -> None:
    train = pd.Series(["check out my channel", "subscribe now", "love this song", "great music"] * 5)
    y = np.array([SPAM, SPAM, HAM, HAM] * 5)
    model = make_pipeline(CountVectorizer(), LogisticRegression(random_state=0)).fit(train, y)
    lf = from_model("clf", model, label_if={SPAM: 0.6, HAM: 0.6}, column="text")
    L = engine_matrix([lf], frame)
    proba = model.predict_proba(frame["text"].fillna(""))
    expected = np.where(proba[:, 1] >= 0.6, SPAM, np.where(proba[:, 0] >= 0.6, HAM, ABSTAIN))
    expected[frame["text"].isna().to_numpy()] = ABSTAIN  # missing text abstains, never reaches the model
    assert L[:, 0].tolist() == expected.tolist()
    assert lf(Row(text="check out my channel")) == SPAM


def test_model_lf_with_callable_and_classes_order() -> None:
    df = pd.DataFrame({"score": [0.1, 0.5, 0.95]}, index=pd.Index(["a", "b", "c"], name="id"))

    def model(frame: pd.DataFrame) -> np.ndarray:
        p = frame["score"].to_numpy()
        return np.column_stack([1 - p, p])

    lf = from_model("m", model, label_if={HAM: 0.8, SPAM: 0.9})
    assert engine_matrix([lf], df)[:, 0].tolist() == [HAM, ABSTAIN, SPAM]

    class Reversed:  # probability columns follow classes_, not label order
        classes_ = np.array([SPAM, HAM])

        def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
            p = frame["score"].to_numpy()
            return np.column_stack([p, 1 - p])

    lf2 = from_model("m2", Reversed(), label_if={SPAM: 0.9})
    assert engine_matrix([lf2], df)[:, 0].tolist() == [ABSTAIN, ABSTAIN, SPAM]


def test_feedback_lf_last_and_majority() -> None:
    df = pd.DataFrame({"text": list("abcde")}, index=pd.Index(["i1", "i2", "i3", "i4", "i5"], name="id"))
    fb = pd.DataFrame(
        {
            "id": ["i1", "i1", "i2", "i3", "i3", "i3", "i9"],
            "ts": [2, 1, 1, 1, 2, 3, 1],
            "correction": ["spam", "ham", "ham", "spam", "ham", "ham", "spam"],
        }
    )
    mapping = {"spam": SPAM, "ham": HAM}
    last = from_feedback("corr_last", fb, column="correction", labels=mapping, id_column="id", order_by="ts")
    major = from_feedback("corr_major", fb, column="correction", labels=mapping, id_column="id", aggregate="majority")
    L = engine_matrix([last, major], df)
    assert L[:, 0].tolist() == [SPAM, HAM, HAM, -1, -1]  # i1: ts 2 -> spam is the last signal
    assert L[:, 1].tolist() == [-1, HAM, HAM, -1, -1]  # i1: one each -> tie abstains
    flags = pd.DataFrame({"flag": ["reported", None]}, index=["i4", "i5"])
    flag_lf = from_feedback("flags", flags, column="flag", labels=lambda v: SPAM if v == "reported" else ABSTAIN)
    assert engine_matrix([flag_lf], df)[:, 0].tolist() == [-1, -1, -1, SPAM, -1]


def test_question_attribute_and_for_question() -> None:
    df = pd.DataFrame({"text": ["a person", "a car"]}, index=pd.Index(["x", "y"], name="id"))
    engine = LFEngine(cardinality={"person": 2, "seatbelt": 3}, n_jobs=1, progress=False)
    engine.add(keywords("person_kw", ["person"], label=0, question="person"))
    engine.add(keywords("belt_kw", ["car"], label=2, question="seatbelt"))
    result = engine.apply([("d1", df)])
    L_belt, names = result.for_question("seatbelt")
    assert names == ["belt_kw"] and L_belt[:, 0].tolist() == [-1, 2]
    assert L_belt.flags.f_contiguous and L_belt.dtype == np.int8
    with pytest.raises(LFError, match="outside 0..1"):
        engine.add(keywords("bad", ["x"], label=2, question="person"))
    with pytest.raises(LFError, match="question 'nope'"):
        engine.add(keywords("unknown_q", ["x"], label=0, question="nope"))


def test_rows_behave_like_series_rows() -> None:
    row = Row(text="hi", n=3)
    object.__setattr__(row, "name", "id-1")
    assert row.text == row["text"] == "hi" and row.name == "id-1" and row.get("n") == 3
    row.extra = 5
    assert row["extra"] == 5
    with pytest.raises(AttributeError, match="no field 'missing'"):
        _ = row.missing
    import pickle

    clone = pickle.loads(pickle.dumps(row))
    assert clone == row and clone.name == "id-1"


def test_as_lf_rejects_plain_functions() -> None:
    with pytest.raises(LFError, match="Wrap plain functions with @labeling_function"):
        as_lf(lambda x: 1)
    with pytest.raises(LFError, match="with parentheses"):
        labeling_function(lambda x: 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: keywords("k", "subscribe", label=1), r"must be a list of str\. Got the str 'subscribe'"),
        (lambda: keywords("k", [], label=1), "non-empty list of non-empty str"),
        (lambda: keywords("k", ["a"], label=-1), r"The 'label' parameter of KeywordLF must be a class label"),
        (lambda: keywords("", ["a"], label=1), r"The 'name' parameter of KeywordLF must be a non-empty str"),
        (lambda: regex("r", "(unclosed", label=1), "not a valid regular expression"),
        (lambda: threshold("t", "length", label=1), "needs at least one bound"),
        (lambda: threshold("t", "length", label=1, gt=1, ge=2), "at most one lower bound"),
        (lambda: lexicon("l", {}, column="text"), "non-empty mapping from word to label"),
        (lambda: from_model("m", object(), label_if={1: 0.5}), "must have predict_proba"),
        (lambda: from_model("m", lambda X: X, label_if={1: 1.5}), r"must be a number in \[0, 1\]"),
        (lambda: from_feedback("f", pd.DataFrame({"a": [1]}), column="b"), "has no column 'b'"),
        (lambda: LabelingFunction("x", 3), "must be callable"),  # type: ignore[arg-type]
    ],
)
def test_builder_error_catalogue(make: Any, message: str) -> None:
    with pytest.raises(LFError, match=message):
        make()


def test_every_lf_kind_works_with_snorkel_appliers(frame: pd.DataFrame) -> None:
    """Our LFs are plain callables on a row, so snorkel's applier runs them too."""
    lfs = [keywords("kw", ["love"], label=HAM), threshold("t", "length", label=SPAM, gt=25)]
    L = snorkel_matrix(lfs, frame)
    assert L[:, 0].tolist() == [-1, 0, -1, -1, -1, -1, -1, 0]
    ns = SimpleNamespace(text="I love", length=30.0)
    assert [lf(ns) for lf in lfs] == [HAM, SPAM]
    assert re.escape("x") == "x"
