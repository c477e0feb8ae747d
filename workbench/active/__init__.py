"""Active learning and model-assisted labeling.

:class:`AutoAccept` chooses, on gold, the confidence above which model drafts are accepted
without review, with a guaranteed precision (fixed-sequence Clopper-Pearson testing).

Query strategies (:data:`STRATEGIES`, :func:`make_strategy`) choose which rows of a
:class:`Pool` a person labels next; :func:`learning_curve` simulates annotation from known labels
to compare them (optionally refitting with class weights, :func:`prior_weights`), and
:func:`labels_to_reach` turns a curve into "labels needed" and ratios.
"""

from workbench.active._auto_accept import AutoAccept, clopper_pearson_lower
from workbench.active._features import FeatureCache, FeatureMatrix, TextFeatures, clear_feature_cache
from workbench.active._learner import ActiveLearner, default_estimator
from workbench.active._simulate import (
    IMBALANCE_THRESHOLD,
    labels_to_reach,
    learning_curve,
    prior_weights,
    stratified_seed,
)
from workbench.active._strategies import (
    DEFAULT_STRATEGY,
    STRATEGIES,
    DiverseEntropySampling,
    EntropySampling,
    LeastConfidence,
    MarginSampling,
    Pool,
    QueryByCommittee,
    QueryStrategy,
    RandomSampling,
    StratifiedSampling,
    make_strategy,
)

__all__ = [
    "ActiveLearner",
    "default_estimator",
    "FeatureCache",
    "FeatureMatrix",
    "clear_feature_cache",
    "TextFeatures",
    "AutoAccept",
    "clopper_pearson_lower",
    # query strategies
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "DiverseEntropySampling",
    "EntropySampling",
    "LeastConfidence",
    "MarginSampling",
    "Pool",
    "QueryByCommittee",
    "QueryStrategy",
    "RandomSampling",
    "StratifiedSampling",
    "make_strategy",
    # simulated learning curves
    "IMBALANCE_THRESHOLD",
    "labels_to_reach",
    "learning_curve",
    "prior_weights",
    "stratified_seed",
]
