"""``project.models`` follows the project's gold and schema: kept models and cached probabilities never go stale."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.lf import keywords
from workbench.models import _auto

N_GOLD = 80


@pytest.fixture(autouse=True)
def _no_snorkel_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    """``"auto"`` without Snorkel among its candidates: its torch fits would take seconds per fit, nothing more."""
    monkeypatch.setattr(_auto, "_snorkel_installed", lambda: False)


@pytest.fixture
def noisy(tmp_path: Path) -> Iterator[tuple[wb.Project, pd.Series]]:
    """200 comments whose words say their class four times in five, four keyword LFs, and the truth."""
    rng = np.random.default_rng(11)
    n = 200
    is_spam = rng.random(n) < 0.4
    spam_words = np.array(["subscribe to my channel", "free gift card", "subscribe for a free gift"])
    ham_words = np.array(["love this song", "great voice", "this song is great"])
    flip = rng.random(n) < 0.2
    texts = [str(rng.choice(spam_words if s != f else ham_words)) for s, f in zip(is_spam, flip, strict=True)]
    ids = [f"c{i:03d}" for i in range(n)]
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ids, "text": texts}), id_column="id")
    p.lfs.add(keywords("subscribe", ["subscribe"], label=1))
    p.lfs.add(keywords("free", ["free"], label=1))
    p.lfs.add(keywords("song", ["song"], label=0))
    p.lfs.add(keywords("great", ["great", "love"], label=0))
    truth = pd.Series(np.where(is_spam, "spam", "ham"), index=ids)
    yield p, truth
    p.close()


def _add_gold(p: wb.Project, labels: pd.Series) -> None:
    p.add_gold(pd.DataFrame({"id": labels.index, "label": labels.to_numpy()}))


def _fresh_auto(p: wb.Project, **params: object) -> wb.models.AutoLabelModel:
    """What a new session fits as ``"auto"`` on the project as it is now (its LF votes and its gold)."""
    y = p.lfs.gold_labels("gold")
    model = wb.models.AutoLabelModel(cardinality=len(p.schema.questions[0].choices), random_state=0, **params)
    return model.fit(p.lfs.matrix(), y if (y >= 0).any() else None)


def _covered_proba(p: wb.Project, model: wb.models.LabelModel) -> pd.DataFrame:
    L = p.lfs.matrix()
    covered = (L != wb.ABSTAIN).any(axis=1)
    return pd.DataFrame(model.predict_proba(L)[covered], index=p.examples().index[covered],
                        columns=list(p.schema.questions[0].choices))


def test_gold_added_after_the_first_fit_is_used_by_the_default_model(noisy: tuple[wb.Project, pd.Series]) -> None:
    p, truth = noisy
    p.models.soft_labels()  # explore before any gold exists: "auto" is fitted on its no-gold fallback
    assert p.models.get("auto").report_["n_gold"] == 0
    _add_gold(p, truth.iloc[:N_GOLD])
    row = p.models.fitted().set_index("name").loc["auto"]
    assert not row["current"]  # the project's gold changed under it
    auto = p.models.get("auto")
    assert auto.report_["n_gold"] == N_GOLD
    row = p.models.fitted().set_index("name").loc["auto"]
    assert row["current"] and row["semi_supervised"]
    assert p.models.info("auto")["semi_supervised"] is True
    L = p.lfs.matrix()
    np.testing.assert_allclose(auto.predict_proba(L), _fresh_auto(p).predict_proba(L))
    assert p.models.compare(models=("majority_vote", "auto")).loc["auto", "evaluation"].startswith("cross-fitted")
    # an LF change refits, still with the project's gold
    p.lfs.add(keywords("channel", ["channel"], label=1))
    refit = p.models.get("auto")
    assert refit is not auto and refit.report_["n_gold"] == N_GOLD
    L = p.lfs.matrix()
    np.testing.assert_allclose(refit.predict_proba(L), _fresh_auto(p).predict_proba(L))


def test_changed_or_removed_gold_refits_a_project_gold_model(noisy: tuple[wb.Project, pd.Series]) -> None:
    p, truth = noisy
    gold = truth.iloc[:N_GOLD]
    _add_gold(p, gold)
    first = p.models.fit()  # kept with the project's gold
    assert p.models.get("auto") is first
    # an expert corrects ten gold labels: the kept model is refitted on the corrected gold
    corrected = gold.iloc[:10].map({"ham": "spam", "spam": "ham"})
    _add_gold(p, corrected)
    assert not p.models.fitted().set_index("name").loc["auto", "current"]
    second = p.models.get("auto")
    assert second is not first
    L = p.lfs.matrix()
    np.testing.assert_allclose(second.predict_proba(L), _fresh_auto(p).predict_proba(L))
    # every gold label retracted: back to the no-gold fallback, and no longer semi-supervised
    for eid in gold.index:
        p.retract(eid, annotator="expert", source="gold")
    third = p.models.get("auto")
    assert third is not second and third.report_["n_gold"] == 0
    assert not p.models.fitted().set_index("name").loc["auto", "semi_supervised"]
    np.testing.assert_allclose(third.predict_proba(L), _fresh_auto(p).predict_proba(L))


def test_unsupervised_named_models_stay_unsupervised_when_gold_arrives(noisy: tuple[wb.Project, pd.Series]) -> None:
    p, truth = noisy
    ds = p.models.fit("dawid_skene")
    _add_gold(p, truth.iloc[:N_GOLD])
    assert p.models.get("dawid_skene") is ds  # its fit does not depend on gold
    row = p.models.fitted().set_index("name").loc["dawid_skene"]
    assert row["current"] and not row["semi_supervised"]
    assert p.models.compare(models=("dawid_skene",)).loc["dawid_skene", "evaluation"].startswith("unsupervised")


def test_explicitly_unsupervised_auto_ignores_gold(noisy: tuple[wb.Project, pd.Series]) -> None:
    p, truth = noisy
    kept = p.models.fit("auto", gold=None)
    _add_gold(p, truth.iloc[:N_GOLD])
    assert p.models.get("auto") is kept and kept.report_["n_gold"] == 0


def test_predict_proba_follows_new_gold(noisy: tuple[wb.Project, pd.Series]) -> None:
    p, truth = noisy
    before = p.models.predict_proba()
    assert before is not None
    _add_gold(p, truth.iloc[:N_GOLD])
    after = p.models.predict_proba()
    assert after is not None
    expected = _covered_proba(p, _fresh_auto(p))
    assert not np.allclose(before.to_numpy(), expected.loc[before.index].to_numpy())  # gold changes the answer
    pd.testing.assert_frame_equal(after, expected, check_exact=False)
    assert p.models.predict_proba() is after  # cached while nothing changes


def test_predict_proba_follows_the_model_kept_as_auto(noisy: tuple[wb.Project, pd.Series]) -> None:
    p, truth = noisy
    _add_gold(p, truth.iloc[:N_GOLD])
    p.models.predict_proba()
    kept = p.models.fit("auto", gold=None)  # the user replaces the default model deliberately
    pd.testing.assert_frame_equal(p.models.predict_proba(), _covered_proba(p, kept), check_exact=False)


def test_predict_proba_follows_a_schema_change(noisy: tuple[wb.Project, pd.Series]) -> None:
    p, _ = noisy
    assert list(p.models.predict_proba().columns) == ["ham", "spam"]
    p.update_schema(wb.Schema.single("spam", ["ham", "spam", "promo"]))
    after = p.models.predict_proba()
    assert list(after.columns) == ["ham", "spam", "promo"]
    soft = p.models.soft_labels()
    np.testing.assert_allclose(after.loc[soft.index].to_numpy(), soft[["p_ham", "p_spam", "p_promo"]].to_numpy())
    np.testing.assert_allclose(after.sum(axis=1), 1.0)


def test_predict_proba_follows_recorded_predictions(noisy: tuple[wb.Project, pd.Series]) -> None:
    p, _ = noisy
    p.annotate("c000", "spam", annotator="clf", source="model", confidence=0.9)
    p.annotate("c001", "spam", annotator="clf", source="model", confidence=0.9)
    assert p.models.predict_proba().loc["c001", "spam"] == pytest.approx(0.9)
    # one prediction withdrawn and another recorded: as many predictions as before
    p.retract("c001", annotator="clf", source="model")
    p.annotate("c002", "ham", annotator="clf", source="model", confidence=0.8)
    after = p.models.predict_proba()
    assert after.loc["c002", "ham"] == pytest.approx(0.8)
    assert after.loc["c001", "spam"] != pytest.approx(0.9)
