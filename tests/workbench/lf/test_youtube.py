"""On the real YouTube spam comments: builders equal snorkel's tutorial LFs; summary equals LFAnalysis."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from snorkel.labeling import LabelingFunction as SnorkelLF
from snorkel.labeling import LFAnalysis, PandasLFApplier

from workbench.lf import ABSTAIN, LFEngine, keywords, labeling_function, lf_summary, regex

SPAM, HAM = 1, 0
pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def youtube(data_dir: Path) -> pd.DataFrame:
    files = sorted((data_dir / "youtube_spam").glob("*.csv"))
    if not files:
        pytest.skip(f"no YouTube spam CSVs under {data_dir / 'youtube_spam'}")
    df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    df = df.drop_duplicates("COMMENT_ID").set_index("COMMENT_ID")
    df.index = df.index.astype(str).rename("id")
    return df.rename(columns={"CONTENT": "text"})


def keyword_lookup(x: Any, keywords: list[str], label: int) -> int:
    return label if any(word in x.text.lower() for word in keywords) else ABSTAIN


def tutorial_keyword_lf(name: str, words: list[str], label: int) -> SnorkelLF:
    """As written in snorkel's spam tutorial."""
    return SnorkelLF(name, keyword_lookup, resources={"keywords": words, "label": label})


def test_builders_equal_snorkel_tutorial_lfs(youtube: pd.DataFrame) -> None:
    specs = [
        ("keyword_my", ["my"], SPAM),
        ("keyword_subscribe", ["subscribe"], SPAM),
        ("keyword_link", ["http"], SPAM),
        ("keyword_please", ["please", "plz"], SPAM),
        ("keyword_song", ["song"], HAM),
    ]
    theirs: list[Any] = [tutorial_keyword_lf(*s) for s in specs]

    def regex_check_out(x: Any) -> int:
        return SPAM if re.search(r"check.*out", x.text, flags=re.I) else ABSTAIN

    def short_comment(x: Any) -> int:
        return HAM if len(x.text.split()) < 5 else ABSTAIN

    theirs += [SnorkelLF("regex_check_out", regex_check_out), SnorkelLF("short_comment", short_comment)]
    ours: list[Any] = [keywords(*s) for s in specs]
    ours += [regex("regex_check_out", r"check.*out", SPAM), labeling_function()(short_comment)]
    engine = LFEngine(n_jobs=1, progress=False)
    for lf in ours:
        engine.add(lf)
    result = engine.apply([("youtube", youtube)])
    L_snorkel = PandasLFApplier(theirs).apply(youtube, progress_bar=False)
    assert np.array_equal(result.L, L_snorkel)
    assert not result.errors

    gold = youtube["CLASS"].to_numpy()
    ours_s = lf_summary(result.L, result.lf_names, gold=gold)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        their_s = LFAnalysis(L_snorkel, theirs).lf_summary(gold)
    np.testing.assert_allclose(ours_s["coverage"], their_s["Coverage"])
    np.testing.assert_allclose(ours_s["overlaps"], their_s["Overlaps"])
    np.testing.assert_allclose(ours_s["conflicts"], their_s["Conflicts"])
    assert ours_s["correct"].tolist() == their_s["Correct"].tolist()
    np.testing.assert_allclose(ours_s["emp_acc"], their_s["Emp. Acc."])
    # a sanity anchor on the real data: "check out" is a strong spam signal
    assert ours_s.loc["regex_check_out", "emp_acc"] > 0.9
