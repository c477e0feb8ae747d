"""Labeling functions: kinds and builders, the cached application engine, and analysis.

Examples
--------
>>> import pandas as pd
>>> from workbench.lf import LFEngine, keywords, regex, labeling_function, lf_summary, ABSTAIN
>>> SPAM = 1
>>> @labeling_function()
... def check_out(x):
...     return SPAM if "check out" in x.text.lower() else ABSTAIN
>>> engine = LFEngine(n_jobs=1)
>>> for lf in (keywords("subscribe", ["subscribe", "sub4sub"], label=SPAM),
...            regex("link", r"https?://", label=SPAM), check_out):
...     _ = engine.add(lf)
>>> df = pd.DataFrame({"text": ["check out http://x.io", "great song"]},
...                   index=pd.Index(["a", "b"], name="id"))
>>> result = engine.apply([("d1", df)])
>>> result.L.tolist()
[[-1, 1, 1], [-1, -1, -1]]
>>> lf_summary(result.L, result.lf_names)["coverage"].tolist()
[0.0, 0.5, 0.5]
"""

from workbench._constants import ABSTAIN
from workbench.lf._analysis import (
    lf_pair_matrix,
    lf_summary,
    overall_stats,
    rows_where_conflict,
    rows_where_fires,
    rows_where_wrong,
)
from workbench.lf._engine import CachedVotes, LFCacheProblem, LFCacheReport, LFEngine, LFErrorRecord, LFResult
from workbench.lf._fingerprint import FingerprintReport
from workbench.lf._lfs import (
    BaseLF,
    FeedbackLF,
    KeywordLF,
    LabelingFunction,
    LexiconLF,
    ModelLF,
    RegexLF,
    Row,
    ThresholdLF,
    VectorizedLF,
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
from workbench.lf._project import ProjectLFs

__all__ = [
    "ABSTAIN",
    "BaseLF",
    "CachedVotes",
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
    "ProjectLFs",
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
