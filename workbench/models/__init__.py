"""Label models and their honest evaluation.

One estimator contract (:class:`LabelModel`): ``fit(L, y=None)`` (``y``: gold per row,
``-1`` unknown), ``predict_proba(L)``, ``predict(L, tie_break=...)`` (the most probable
class of ``decision_function(L)``: of ``predict_proba(L)`` except for AutoLabelModel, whose
decisions keep its metric's choice while its probabilities are calibrated),
``to_dict()``/``from_dict()``. Models: :class:`MajorityVote` (the baseline),
:class:`WeightedMajorityVote` (one accuracy per source), :class:`DawidSkene` (sparse EM,
also the crowd-consensus engine with ``abstain="missing"``), :class:`SnorkelLabelModel`
(needs the ``snorkel`` extra) and :class:`AutoLabelModel` (the default: picks or blends the
others by cross-validated score on the gold rows, then calibrates). :func:`evaluate`,
:func:`expected_score`, :func:`calibration_errors`, :func:`reliability_table` and
:func:`compare_label_models` score them against gold without dropping ties or uncovered rows.
"""

from workbench.models._auto import AutoLabelModel, default_candidates
from workbench.models._base import (
    LabelModel,
    break_ties,
    check_gold,
    check_label_matrix,
    get_num_threads,
    set_num_threads,
)
from workbench.models._dawid_skene import DawidSkene
from workbench.models._majority import MajorityVote
from workbench.models._metrics import (
    calibration_errors,
    compare_label_models,
    evaluate,
    expected_score,
    reliability_table,
)
from workbench.models._project import LABEL_MODELS, ProjectModels, soft_label_columns
from workbench.models._snorkel import SnorkelLabelModel
from workbench.models._weighted import WeightedMajorityVote

__all__ = [
    "LABEL_MODELS",
    "ProjectModels",
    "soft_label_columns",
    "AutoLabelModel",
    "DawidSkene",
    "LabelModel",
    "MajorityVote",
    "SnorkelLabelModel",
    "WeightedMajorityVote",
    "break_ties",
    "calibration_errors",
    "check_gold",
    "check_label_matrix",
    "compare_label_models",
    "default_candidates",
    "evaluate",
    "expected_score",
    "get_num_threads",
    "set_num_threads",
    "reliability_table",
]
