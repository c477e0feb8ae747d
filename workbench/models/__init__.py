"""Label models and their honest evaluation.

One estimator contract (:class:`LabelModel`): ``fit(L, y=None)``, ``predict_proba(L)``,
``predict(L, tie_break=...)``, ``to_dict()``/``from_dict()``. Models: :class:`MajorityVote`
(the baseline), :class:`DawidSkene` (the default: sparse EM, also the crowd-consensus
engine with ``abstain="missing"``) and :class:`SnorkelLabelModel` (needs the ``snorkel``
extra). :func:`evaluate`, :func:`reliability_table` and :func:`compare_label_models`
score them against gold without dropping ties or uncovered rows.
"""

from workbench.models._base import LabelModel, break_ties, check_gold, check_label_matrix
from workbench.models._dawid_skene import DawidSkene
from workbench.models._majority import MajorityVote
from workbench.models._metrics import compare_label_models, evaluate, reliability_table
from workbench.models._snorkel import SnorkelLabelModel

__all__ = [
    "DawidSkene",
    "LabelModel",
    "MajorityVote",
    "SnorkelLabelModel",
    "break_ties",
    "check_gold",
    "check_label_matrix",
    "compare_label_models",
    "evaluate",
    "reliability_table",
]
