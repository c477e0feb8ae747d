"""An active learner's priorities, pre-labels auto-accepted with a guarantee, drafts, and revoking a run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

import workbench as wb
from workbench.active import AutoAccept

REPO = Path(__file__).resolve().parents[3]
SPAM_WORDS = ("buy", "cheap", "subscribe", "offer", "click")
HAM_WORDS = ("song", "lovely", "voice", "melody", "chorus")


def truth(eid: str) -> str:
    return "spam" if int(eid[1:]) % 3 == 0 else "ham"


def _text(i: int, rng: np.random.Generator) -> str:
    words = SPAM_WORDS if i % 3 == 0 else HAM_WORDS
    other = HAM_WORDS if i % 3 == 0 else SPAM_WORDS
    picked = list(rng.choice(words, size=2, replace=False))
    if i % 7 == 0:  # some items carry a word of the other class: the model is less sure of them
        picked.append(str(rng.choice(other)))
    return " ".join(picked) + f" item{i}"


@pytest.fixture
def shop(tmp_path: Path, spam_schema: wb.Schema) -> wb.Project:
    rng = np.random.default_rng(0)
    ids = [f"e{i:03d}" for i in range(150)]
    p = wb.Project.create(tmp_path / "shop", schema=spam_schema)
    p.add_data(pd.DataFrame({"id": ids, "text": [_text(i, rng) for i in range(150)]}), id_column="id")
    yield p
    p.close()


class TextModel:
    """A real TF-IDF + logistic-regression classifier with the contract prelabel reads."""

    def __init__(self, project: wb.Project, version: str = "tfidf-lr-1") -> None:
        self.project = project
        self.model_version = version
        self.vec = TfidfVectorizer()
        self.clf = LogisticRegression(max_iter=1000, C=0.5)

    def fit(self, ids: list[str]) -> TextModel:
        texts = self.project.examples().loc[ids, "text"]
        self.clf.fit(self.vec.fit_transform(texts), [truth(i) for i in ids])
        return self

    def predict_frame(self, example_ids: list[str] | None = None) -> pd.DataFrame:
        ex = self.project.examples()
        ids = list(ex.index) if example_ids is None else list(example_ids)
        P = self.clf.predict_proba(self.vec.transform(ex.loc[ids, "text"]))
        return pd.DataFrame(P, index=pd.Index(ids, name="example_id"), columns=list(self.clf.classes_))


def calibrated_accept(target: float = 0.9, per_class: bool = False, seed: int = 0) -> AutoAccept:
    """An AutoAccept fitted on calibrated synthetic gold (right with probability = confidence)."""
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0.5, 1.0, 3000)
    pred = rng.integers(0, 2, 3000)
    y = np.where(rng.random(3000) < conf, pred, 1 - pred)
    proba = np.where(pred[:, None] == 1, np.c_[1 - conf, conf], np.c_[conf, 1 - conf])
    return AutoAccept(target_precision=target, confidence=0.95, per_class=per_class).fit(proba, y)


def probabilities(project: wb.Project, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = list(project.examples().index)
    spam = rng.uniform(0, 1, len(ids))
    return pd.DataFrame({"ham": 1 - spam, "spam": spam}, index=ids)


# ------------------------------------------------------------------------------------------ prioritize
def test_prioritize_orders_the_uncertain_queue_and_next_items(shop: wb.Project) -> None:
    shop.add_gold(pd.DataFrame({"id": ["e000"], "label": ["spam"]}))
    shop.annotation.submit("e010", "ham", annotator="ann")
    scores = pd.Series({"e005": 0.2, "e010": 0.99, "e000": 0.95, "e007": 0.8, "e020": 0.5})
    shop.annotation.prioritize(scores, source="learner-margin")
    q = shop.annotation.queue("uncertain", n=None)
    # answered (e010) and gold (e000) items are left out; the rest of the series comes first, best first
    assert q["example_id"].tolist()[:3] == ["e007", "e020", "e005"]
    assert q["score"].tolist()[:3] == [0.8, 0.5, 0.2]
    assert set(q["reason"][:3]) == {"priority from learner-margin"}
    assert q["reason"][3:].str.contains("not prioritised by learner-margin").all()
    assert len(q) == 150 - 2  # every open item is still served, after the prioritised ones
    items = shop.annotation.next_items("bob", 2, strategy="uncertain")
    assert [i.example_id for i in items] == ["e007", "e020"]


def test_the_latest_priorities_win_and_other_processes_see_them(shop: wb.Project) -> None:
    shop.annotation.prioritize(pd.Series({"e001": 1.0, "e002": 0.5}), source="round-1")
    shop.annotation.prioritize(pd.Series({"e003": 0.7, "e004": 0.9}), source="round-2")
    assert shop.annotation.queue("uncertain", n=2)["example_id"].tolist() == ["e004", "e003"]
    other = wb.Project.open(shop.path)  # another connection, as another kernel has
    pri = other.annotation.priorities()
    assert pri is not None and pri.index.tolist() == ["e004", "e003"] and pri.attrs["source"] == "round-2"
    shop.annotation.prioritize(pd.Series({"e009": 0.1}), source="round-3")
    assert other.annotation.queue("uncertain", n=1)["example_id"].tolist() == ["e009"]  # its cache refreshes
    shop.annotation.prioritize(pd.Series(dtype=float), source="round-4")  # an empty series clears them
    assert shop.annotation.priorities() is None
    assert "priority" not in " ".join(shop.annotation.queue("uncertain", n=None)["reason"])


@pytest.mark.slow
def test_priorities_reach_another_process(shop: wb.Project) -> None:
    shop.annotation.prioritize(pd.Series({"e003": 0.7, "e004": 0.9}), source="learner")
    code = ("import workbench as wb, sys; p = wb.Project.open(sys.argv[1]); "
            "print(','.join(p.annotation.queue('uncertain', n=2)['example_id']))")
    out = subprocess.run([sys.executable, "-c", code, str(shop.path)], capture_output=True, text=True, check=True,
                         cwd=REPO)
    assert out.stdout.strip() == "e004,e003"


@pytest.mark.parametrize(
    ("scores", "source", "error", "match"),
    [
        ([0.1, 0.2], "x", wb.LabelValidationError, "'scores' parameter of prioritize must be a pandas Series"),
        (pd.Series({"e001": 0.5}), "", wb.LabelValidationError, "'source' parameter of prioritize must be a non-empty"),
        (pd.Series([0.1, 0.2], index=["e001", "e001"]), "x", wb.LabelValidationError, "more than once.*'e001'"),
        (pd.Series({"e001": np.nan}), "x", wb.LabelValidationError, "finite numbers; 1 are NaN.*'e001'"),
        (pd.Series({"e001": "high"}), "x", wb.LabelValidationError, "must be numbers. Got dtype"),
        (pd.Series({"nope-1": 1.0, "e001": 0.5}), "x", wb.UnknownExampleError, "1 example id.*'nope-1'"),
    ],
)
def test_prioritize_errors(shop: wb.Project, scores: object, source: str, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        shop.annotation.prioritize(scores, source=source)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ prelabel
def test_prelabel_accepts_what_the_rule_accepts_and_drafts_the_rest(shop: wb.Project) -> None:
    accept = calibrated_accept(0.9)
    P = probabilities(shop)
    run = shop.annotation.prelabel(P, auto_accept=accept, model_name="clf-v1")
    expected = accept.accept(P.to_numpy())
    assert run.n_accepted == int(expected.sum()) > 0 and run.n_drafts == int((~expected).sum()) > 0
    assert run.n_skipped == 0 and run.threshold == pytest.approx(accept.threshold_)
    top = np.where(P["spam"] > P["ham"], "spam", "ham")
    assert run.accepted_per_class == {c: int(((top == c) & expected).sum()) for c in ("ham", "spam")}
    assert run.drafts_per_class == {c: int(((top == c) & ~expected).sum()) for c in ("ham", "spam")}
    labels = shop.labels(source="model")
    assert sorted(labels["example_id"]) == sorted(P.index[expected])
    assert set(labels["annotator"]) == {"clf-v1"}
    row = labels.iloc[0]
    assert row["confidence"] == pytest.approx(P.loc[row["example_id"]].max(), abs=1e-6)
    assert row["value"] == top[P.index.get_loc(row["example_id"])]
    assert f"{accept.threshold_:.4g}" in row["note"] and "target precision 0.9" in row["note"]
    assert "confidence 0.95" in row["note"] and run.run_id in row["note"]
    assert labels["event_uid"].str.contains(run.run_id).all()  # one group
    # drafts are not labels: only the accepted items count as model labels, in soft labels too
    soft = shop.models.soft_labels()
    assert set(soft.index[soft["sources"].str.contains("model")]) == set(labels["example_id"])
    drafted = P.index[~expected][0]
    d = shop.annotation.draft(drafted)
    assert d == wb.Draft(top[P.index.get_loc(drafted)], pytest.approx(P.loc[drafted].max(), abs=1e-6), "model",
                         "clf-v1")
    # accepted items left the queues; drafted ones are served with their draft
    for strategy in ("random", "uncertain", "stratified"):
        assert set(shop.annotation.queue(strategy, n=None)["example_id"]).isdisjoint(labels["example_id"])
    items = shop.annotation.next_items("ann", 5)
    assert all(i.draft is not None and i.draft.model_version == "clf-v1" for i in items)
    assert shop.annotation.progress()["n_auto_accepted"] == run.n_accepted
    runs = shop.annotation.prelabel_runs()
    assert runs["run_id"].tolist() == [run.run_id] and runs["n_accepted"].tolist() == [run.n_accepted]


def test_revoke_retracts_the_whole_run_append_only(shop: wb.Project) -> None:
    run = shop.annotation.prelabel(probabilities(shop), auto_accept=calibrated_accept(0.9), model_name="clf-v1")
    n_events = len(shop.events())
    assert shop.annotation.revoke_prelabels(run.run_id) == run.n_accepted
    ev = shop.events()
    assert len(ev) == n_events + run.n_accepted  # appended retractions; nothing rewritten
    assert (ev["action"].iloc[n_events:] == "retract").all()
    assert shop.labels(source="model").empty
    assert len(shop.annotation.queue("random", n=None)) == 150  # every item is back
    assert shop.annotation.draft(ev["example_id"].iloc[-1]) is not None  # with its draft
    assert shop.annotation.revoke_prelabels(run.run_id) == 0
    assert shop.annotation.prelabel_runs()["n_revoked"].tolist() == [run.n_accepted]
    with pytest.raises(wb.LabelValidationError, match="must name a prelabel run. Got 'prelabel-9'.*prelabel-1"):
        shop.annotation.revoke_prelabels("prelabel-9")


def test_revoking_one_run_keeps_the_labels_of_another(shop: wb.Project) -> None:
    P = probabilities(shop)
    first = shop.annotation.prelabel(P.iloc[:75], auto_accept=calibrated_accept(0.9), model_name="clf-v1")
    second = shop.annotation.prelabel(P.iloc[75:], auto_accept=calibrated_accept(0.9), model_name="clf-v1")
    shop.annotation.revoke_prelabels(first.run_id)
    left = shop.labels(source="model")
    assert len(left) == second.n_accepted and set(left["example_id"]) <= set(P.index[75:])


def test_prelabel_skips_answered_gold_and_accepted_items(shop: wb.Project) -> None:
    shop.add_gold(pd.DataFrame({"id": ["e001", "e002"], "label": ["ham", "ham"]}))
    shop.annotation.submit("e003", "spam", annotator="ann")
    accept = calibrated_accept(0.9)
    first = shop.annotation.prelabel(probabilities(shop), auto_accept=accept, model_name="clf-v1")
    assert first.n_skipped == 3
    again = shop.annotation.prelabel(probabilities(shop, seed=2), auto_accept=accept, model_name="clf-v2")
    assert again.n_skipped == 3 + first.n_accepted  # an accepted item is not pre-labelled twice
    assert shop.annotation.draft("e003") is None  # an answered item gets no draft (no LF, no prediction)
    assert shop.labels(source="model")["example_id"].nunique() == first.n_accepted + again.n_accepted
    settled = shop.annotation.settled()
    assert {"e001", "e002", "e003"} <= settled and len(settled) == 3 + first.n_accepted + again.n_accepted


def test_prelabel_skips_adjudicated_items(shop: wb.Project) -> None:
    shop.quality.adjudicate("e004", "spam", annotator="lead")  # decided without annotator answers
    run = shop.annotation.prelabel(probabilities(shop), auto_accept=calibrated_accept(0.9), model_name="clf-v1")
    assert run.n_skipped == 1 and "e004" in shop.annotation.settled()
    assert "e004" not in set(shop.labels(source="model")["example_id"])


def test_prelabel_with_a_real_model_and_per_class_thresholds(shop: wb.Project) -> None:
    ids = list(shop.examples().index)
    model = TextModel(shop).fit(ids[:60])
    gold_ids = ids[60:110]
    shop.add_gold(pd.DataFrame({"id": gold_ids, "label": [truth(i) for i in gold_ids]}))
    proba_gold = model.predict_frame(gold_ids)[["ham", "spam"]].to_numpy()
    y_gold = np.array([["ham", "spam"].index(truth(i)) for i in gold_ids])
    accept = AutoAccept(target_precision=0.8, confidence=0.9, per_class=True).fit(proba_gold, y_gold)
    run = shop.annotation.prelabel(model, auto_accept=accept)
    assert run.model_version == "tfidf-lr-1" and run.n_skipped == len(gold_ids)
    assert isinstance(run.threshold, dict) and set(run.threshold) == {"ham", "spam"}
    acc = shop.labels(source="model")
    for _, r in acc.iterrows():  # each accepted item passed its own class's threshold
        assert r["confidence"] >= run.threshold[r["value"]] - 1e-6
    precision = np.mean([v == truth(e) for e, v in zip(acc["example_id"], acc["value"], strict=True)])
    assert run.n_accepted > 0 and precision >= 0.8
    assert run.n_accepted + run.n_drafts == 150 - len(gold_ids)


def test_prelabel_on_youtube_spam_holds_the_target_on_held_out_items(data_dir: Path, tmp_path: Path) -> None:
    frames = [pd.read_csv(f) for f in sorted((data_dir / "youtube_spam").glob("*.csv"))]
    df = pd.concat(frames).drop_duplicates("COMMENT_ID").reset_index(drop=True)
    df = df.rename(columns={"COMMENT_ID": "id", "CONTENT": "text"})[["id", "text", "CLASS"]]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(df))
    train, gold, pool = order[:600], order[600:1100], order[1100:]
    p = wb.Project.create(tmp_path / "yt", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(df[["id", "text"]], id_column="id")
    names = np.array(["ham", "spam"])
    vec = TfidfVectorizer(min_df=2, ngram_range=(1, 2), sublinear_tf=True)
    clf = LogisticRegression(max_iter=2000, C=4.0)
    clf.fit(vec.fit_transform(df["text"].iloc[train]), df["CLASS"].iloc[train])

    def frame(rows: np.ndarray) -> pd.DataFrame:
        P = clf.predict_proba(vec.transform(df["text"].iloc[rows]))
        return pd.DataFrame(P, index=df["id"].iloc[rows].astype(str).to_numpy(), columns=names[clf.classes_])
    accept = AutoAccept(target_precision=0.95, confidence=0.95).fit(frame(gold).to_numpy(), df["CLASS"].iloc[gold])
    run = p.annotation.prelabel(frame(pool), auto_accept=accept, model_name="yt-lr")
    acc = p.labels(source="model").set_index("example_id")["value"]
    truth_of = dict(zip(df["id"].astype(str), names[df["CLASS"].to_numpy()], strict=True))
    precision = np.mean([truth_of[e] == v for e, v in acc.items()])
    assert run.n_accepted == len(acc) > 0.3 * len(pool)
    # the guarantee (precision >= 0.95 with 95% probability over the gold draw) on items the threshold never saw;
    # a finite pool of ~850 items adds its own sampling noise of about one point
    assert precision >= 0.94


@pytest.mark.parametrize(
    ("case", "error", "match"),
    [
        ("not_fitted", wb.NotFittedError, "AutoAccept given to prelabel is not fitted"),
        ("not_auto_accept", wb.LabelValidationError, "'auto_accept' parameter of prelabel must be a fitted"),
        ("three_classes", wb.LabelValidationError, "fitted on 3 classes, but question 'spam' has 2"),
        ("columns", wb.LabelValidationError, r"one column per choice of question 'spam', named \['ham', 'spam'\]"),
        ("sums", wb.LabelValidationError, "must sum to 1.*'e000' sums to 1.3"),
        ("range", wb.LabelValidationError, r"probabilities in \[0, 1\], no missing values.*'e000'"),
        ("unknown_rows", wb.UnknownExampleError, "1 example id.*'zz-1'"),
        ("duplicates", wb.LabelValidationError, "names some example ids twice"),
        ("no_name", wb.LabelValidationError, "no model_name"),
        ("not_a_model", wb.LabelValidationError, "must have predict_frame"),
        ("unknown_ids", wb.UnknownExampleError, "'example_ids' of prelabel name 1 id.*'zz-2'"),
        ("ids_string", wb.LabelValidationError, "list of ids, not one string"),
        ("missing_rows", wb.LabelValidationError, "has no row for 1 of the example_ids: 'e149'"),
        ("empty_version", wb.LabelValidationError, "model_version must be a non-empty string"),
        ("short_frame", wb.LabelValidationError, "predict_frame returned no row for"),
    ],
)
def test_prelabel_errors(shop: wb.Project, case: str, error: type, match: str) -> None:
    P = probabilities(shop)
    kwargs: dict[str, object] = {"model_name": "m"}
    model: object = P
    if case == "not_fitted":
        kwargs["auto_accept"] = AutoAccept()
    elif case == "not_auto_accept":
        kwargs["auto_accept"] = 0.9
    elif case == "three_classes":
        rng = np.random.default_rng(0)
        proba = rng.dirichlet([1, 1, 1], 500) * 0.01 + np.eye(3)[rng.integers(0, 3, 500)] * 0.99
        kwargs["auto_accept"] = AutoAccept(0.9).fit(proba, proba.argmax(axis=1))
    elif case == "columns":
        model = P.rename(columns={"spam": "Spam"})
    elif case == "sums":
        model = P.assign(ham=P["ham"] + np.r_[0.3, np.zeros(len(P) - 1)])
    elif case == "range":
        model = P.assign(ham=np.r_[np.nan, P["ham"].to_numpy()[1:]])
    elif case == "unknown_rows":
        model = pd.concat([P, pd.DataFrame({"ham": [0.5], "spam": [0.5]}, index=["zz-1"])])
    elif case == "duplicates":
        model = pd.concat([P, P.iloc[:1]])
    elif case == "no_name":
        kwargs = {}
    elif case == "not_a_model":
        model = object()
    elif case == "unknown_ids":
        kwargs["example_ids"] = ["e001", "zz-2"]
    elif case == "ids_string":
        kwargs["example_ids"] = "e001"
    elif case == "missing_rows":
        model, kwargs["example_ids"] = P.iloc[:-1], ["e001", "e149"]
    elif case == "empty_version":
        model, kwargs = TextModel(shop, version=""), {}
    elif case == "short_frame":
        class Short(TextModel):
            def predict_frame(self, example_ids: list[str] | None = None) -> pd.DataFrame:
                return super().predict_frame(example_ids).iloc[1:]
        ids = list(shop.examples().index)
        model, kwargs = Short(shop).fit(ids[:60]), {}
    with pytest.raises(error, match=match):
        shop.annotation.prelabel(model, **kwargs)  # type: ignore[arg-type]
    assert shop.labels(source="model").empty  # nothing written


def test_prelabel_refuses_a_follow_up_question(tmp_path: Path, seatbelt_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "cars", schema=seatbelt_schema)
    p.add_data(pd.DataFrame({"id": ["f1"], "text": ["a"]}), id_column="id")
    P = pd.DataFrame({"yes": [0.9], "no": [0.05], "unsure": [0.05]}, index=["f1"])
    with pytest.raises(wb.LabelValidationError, match="'seatbelt' is a follow-up question"):
        p.annotation.prelabel(P, model_name="m", question="seatbelt")
    run = p.annotation.prelabel(P.rename(columns={"yes": "yes"})[["yes", "no"]].div(0.95), model_name="m")
    assert run.question == "person" and run.n_drafts == 1
    assert p.annotation.draft("f1") == wb.Draft("yes", pytest.approx(0.9 / 0.95, abs=1e-6), "model", "m")
