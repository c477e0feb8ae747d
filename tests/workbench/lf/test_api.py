"""The public API of workbench.lf is pinned: changing it is a deliberate diff."""

from __future__ import annotations

import workbench.lf as lf_pkg


def test_all_is_pinned() -> None:
    assert sorted(lf_pkg.__all__) == sorted(
        [
            "ABSTAIN",
            "BaseLF",
            "CachedVotes",
            "ProjectLFs",
            "FeedbackLF",
            "FingerprintReport",
            "KeywordLF",
            "LFCacheProblem",
            "LFCacheReport",
            "LFEngine",
            "LFErrorRecord",
            "LFResult",
            "LabelingFunction",
            "LexiconLF",
            "ModelLF",
            "RegexLF",
            "Row",
            "ThresholdLF",
            "VectorizedLF",
            "as_lf",
            "from_feedback",
            "from_model",
            "keywords",
            "labeling_function",
            "lexicon",
            "lf_pair_matrix",
            "lf_summary",
            "overall_stats",
            "regex",
            "rows_where_conflict",
            "rows_where_fires",
            "rows_where_wrong",
            "threshold",
            "vectorized",
        ]
    )
    for name in lf_pkg.__all__:
        assert hasattr(lf_pkg, name), name


def test_abstain_is_the_shared_constant() -> None:
    from workbench._constants import ABSTAIN

    assert lf_pkg.ABSTAIN is ABSTAIN == -1
