"""The Snorkel wrapper: faithful to Snorkel, seeded, and helpful when Snorkel is missing."""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest

from workbench.exceptions import LFError, OptionalDependencyError
from workbench.models import SnorkelLabelModel


def test_missing_snorkel_names_the_extra(monkeypatch: pytest.MonkeyPatch, simulated) -> None:
    monkeypatch.setitem(sys.modules, "snorkel.labeling.model", None)  # makes the import fail
    with pytest.raises(OptionalDependencyError, match=r"labeling-workbench\[snorkel\]") as info:
        SnorkelLabelModel(random_state=0).fit(simulated[0])
    assert isinstance(info.value, ImportError)


def test_too_few_lfs_is_a_clear_error() -> None:
    with pytest.raises(LFError, match=r"at least 3 labeling functions .* 2 column\(s\)"):
        SnorkelLabelModel().fit([[0, 1], [1, 1], [0, -1]])


def test_matches_snorkel_and_restores_global_rng(simulated) -> None:
    snorkel_model = pytest.importorskip("snorkel.labeling.model")
    L, y = simulated
    random.seed(1)
    np.random.seed(1)
    before = (random.random(), np.random.random())
    random.seed(1)
    np.random.seed(1)
    ours = SnorkelLabelModel(n_epochs=50, random_state=123).fit(L)
    after = (random.random(), np.random.random())
    assert before == after  # Snorkel's global reseeding did not leak
    theirs = snorkel_model.LabelModel(cardinality=2, verbose=False)
    theirs.fit(L, n_epochs=50, seed=123, progress_bar=False)
    np.testing.assert_allclose(ours.predict_proba(L), theirs.predict_proba(L), atol=1e-5)
    assert ours.seed_ == 123
    assert (ours.predict(L) == y).mean() > 0.8


def test_gold_sets_the_class_balance(simulated) -> None:
    pytest.importorskip("snorkel")
    L, _ = simulated
    y = np.full(L.shape[0], -1)
    y[:10] = [1] * 8 + [0] * 2
    model = SnorkelLabelModel(n_epochs=5, random_state=0).fit(L, y)
    np.testing.assert_allclose(model.class_prior_, [3 / 12, 9 / 12])
