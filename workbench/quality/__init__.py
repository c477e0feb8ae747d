"""Annotation quality: agreement, honeypot correctness, drift, consensus and adjudication.

Every function takes a long-format DataFrame of annotations with the columns
``example_id`` (str), ``annotator`` (str), ``value`` (label) and, for drift,
``created_at`` (tz-aware timestamps): one row per annotator's current answer to an
example. Gold labels are a Series indexed by example_id.

Quality checks are plug-ins: subclass :class:`QualityCheck`, decorate it with
:func:`register_check`, and :func:`run_checks` runs it with the built-in ones
(``agreement``, ``honeypots``, ``drift``, ``annotators``).
"""

from workbench.quality._agreement import (
    AgreementCheck,
    AgreementReport,
    agreement,
    cohen_kappa_pairwise,
    fleiss_kappa,
    krippendorff_alpha,
)
from workbench.quality._config import QualityConfig, load_config, save_config
from workbench.quality._consensus import (
    dawid_skene_consensus,
    majority_consensus,
    needs_adjudication,
    route_to_adjudication,
)
from workbench.quality._drift import DriftCheck, annotator_drift
from workbench.quality._honeypots import (
    HoneypotCheck,
    agreement_with_consensus,
    honeypot_accuracy,
)
from workbench.quality._project import CONSENSUS_METHODS, ProjectQuality
from workbench.quality._registry import (
    CheckResult,
    QualityCheck,
    QualityCheckError,
    available_checks,
    get_check,
    register_check,
    run_checks,
)
from workbench.quality._report import AnnotatorReportCheck, annotator_report

__all__ = [
    "CONSENSUS_METHODS",
    "ProjectQuality",
    "QualityConfig",
    "load_config",
    "save_config",
    "AgreementCheck",
    "AgreementReport",
    "AnnotatorReportCheck",
    "CheckResult",
    "DriftCheck",
    "HoneypotCheck",
    "QualityCheck",
    "QualityCheckError",
    "agreement",
    "agreement_with_consensus",
    "annotator_drift",
    "annotator_report",
    "available_checks",
    "cohen_kappa_pairwise",
    "dawid_skene_consensus",
    "fleiss_kappa",
    "get_check",
    "honeypot_accuracy",
    "krippendorff_alpha",
    "majority_consensus",
    "needs_adjudication",
    "register_check",
    "route_to_adjudication",
    "run_checks",
]
