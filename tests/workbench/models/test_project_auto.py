"""The project's default label model is AutoLabelModel on the project's gold; versions say what it chose."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import workbench as wb
from workbench.lf import keywords


def test_auto_is_the_default_and_the_manifest_says_what_it_chose(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    n = 400
    spam = rng.random(n) < 0.4
    words = np.where(spam, rng.choice(["subscribe now", "free gift", "my channel"], n),
                     rng.choice(["nice song", "love it", "great voice"], n))
    noisy = np.where(rng.random(n) < 0.15, rng.choice(["free song", "channel love"], n), words)
    df = pd.DataFrame({"id": [f"c{i}" for i in range(n)], "text": noisy, "label": np.where(spam, "spam", "ham")})
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(df, id_column="id")
    for name, kws, label in [("sub", ["subscribe"], 1), ("free", ["free"], 1), ("chan", ["channel"], 1),
                             ("song", ["song"], 0), ("love", ["love"], 0), ("voice", ["voice"], 0)]:
        p.lfs.add(keywords(name, kws, label=label))
    p.add_gold(df.iloc[:150][["id", "label"]])
    lm = p.models.fit()
    assert isinstance(lm, wb.models.AutoLabelModel)
    assert lm.report_["n_gold"] == 150 if "n_gold" in lm.report_ else True
    assert p.models.fitted().set_index("name").loc["auto", "semi_supervised"]
    soft = p.models.soft_labels()
    assert soft.attrs["model"] == "auto"
    v = p.versions.save(soft, author="t", gold="label")
    info = p.versions.manifest(v.name)["label_model"]
    assert info["class"] == "AutoLabelModel" and info["semi_supervised"] is True
    rebuilt = p.versions.label_model(v.name)
    assert rebuilt.report_["chosen"] == lm.report_["chosen"]
    # the comparison cross-fits the gold-using default and fits the others without gold
    table = p.models.compare(gold="gold", models=("majority_vote", "dawid_skene", "auto"))
    assert table.loc["auto", "evaluation"].startswith("cross-fitted")
    for col in ("ece", "brier"):  # calibration figures come with their bootstrap intervals
        assert (table[f"{col}_low"] <= table[col] + 1e-12).all() and (table[col] <= table[f"{col}_high"] + 1e-12).all()
    assert table.loc["dawid_skene", "evaluation"] == "unsupervised (gold not used)"
    assert table.loc["auto", "accuracy"] >= table.loc["majority_vote", "accuracy"] - 0.05  # 150 gold: noisy
    # new gold refits the default (the fit depends on it)
    p.add_gold(df.iloc[150:200][["id", "label"]])
    assert p.models.get("auto") is not lm
