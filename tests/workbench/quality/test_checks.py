from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import workbench.quality as quality
from workbench.quality import (
    CheckResult,
    QualityCheck,
    QualityCheckError,
    _registry,
    available_checks,
    get_check,
    majority_consensus,
    register_check,
    run_checks,
)

BUILT_IN = ["agreement", "annotators", "drift", "honeypots"]


@pytest.fixture
def clean_registry() -> Iterator[None]:
    saved = dict(_registry._REGISTRY)
    yield
    _registry._REGISTRY.clear()
    _registry._REGISTRY.update(saved)


def test_public_api_is_pinned() -> None:
    assert sorted(quality.__all__) == sorted(
        [
            "AgreementCheck",
            "CONSENSUS_METHODS",
            "ProjectQuality",
            "QualityConfig",
            "load_config",
            "save_config",
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
    )
    for name in quality.__all__:
        assert getattr(quality, name) is not None


def test_no_ui_package_is_imported() -> None:
    code = (
        "import sys, workbench.quality as q\n"
        "ui = {'ipywidgets', 'traitlets', 'panel', 'param', 'bokeh', 'IPython', 'anywidget'}\n"
        "print(sorted(ui & {m.split('.')[0] for m in sys.modules}))\n"
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=root,
        env={"PYTHONPATH": str(root)},
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_built_in_checks_are_registered() -> None:
    assert set(BUILT_IN) <= set(available_checks())


@pytest.mark.data
def test_run_checks_on_real_rte(rte: tuple[pd.DataFrame, pd.Series]) -> None:
    ann, gold = rte
    results = run_checks(ann, gold)
    assert set(results) == {"agreement", "annotators", "honeypots"}  # drift needs created_at
    for name, result in results.items():
        assert isinstance(result, CheckResult) and result.name == name
        assert isinstance(result.table, pd.DataFrame) and isinstance(result.summary, dict)
    assert results["agreement"].summary["n_items_to_adjudicate"] == 65  # the tied items
    assert set(results["honeypots"].flagged_annotators) <= set(results["annotators"].flagged_annotators)
    assert results["honeypots"].summary["pooled_accuracy"] == pytest.approx(0.729, abs=1e-3)


def test_run_checks_selection_and_params() -> None:
    ann = pd.DataFrame({"example_id": ["1", "1", "2", "2"], "annotator": ["a", "b", "a", "b"], "value": [0, 0, 1, 0]})
    gold = pd.Series({"1": 0, "2": 1})
    out = run_checks(ann, gold, checks=["honeypots"], params={"honeypots": {"min_count": 1}})
    assert list(out) == ["honeypots"]
    assert out["honeypots"].table["enough"].all()
    with pytest.raises(QualityCheckError, match="needs \\['gold'\\]"):
        run_checks(ann, checks=["honeypots"])
    with pytest.raises(QualityCheckError, match="not run"):
        run_checks(ann, gold, checks=["agreement"], params={"honeypots": {}})
    with pytest.raises(QualityCheckError, match="no quality check named"):
        run_checks(ann, checks=["nope"])
    assert "honeypots" not in run_checks(ann)  # skipped without gold when not asked for
    explicit = get_check("agreement", kappa_threshold=0.5)
    assert run_checks(ann, consensus=majority_consensus(ann), checks=[explicit])["agreement"].name == "agreement"


def test_adding_a_check_is_adding_a_class(clean_registry: None) -> None:
    @register_check
    class LabelsPerAnnotator(QualityCheck):
        name = "labels_per_annotator"

        def __init__(self, minimum: int = 2) -> None:
            self.minimum = minimum

        def run(self, ann, gold=None, consensus=None):  # type: ignore[no-untyped-def]
            table = ann.groupby("annotator").size().rename("n_labels").to_frame()
            few = table.index[table["n_labels"] < self.minimum]
            return CheckResult(self.name, {"n": len(table)}, table, flagged_annotators=list(few))

    assert "labels_per_annotator" in available_checks()
    ann = pd.DataFrame({"example_id": ["1", "2", "1"], "annotator": ["a", "a", "b"], "value": [1, 0, 1]})
    out = run_checks(ann, params={"labels_per_annotator": {"minimum": 2}})
    assert out["labels_per_annotator"].flagged_annotators == ["b"]
    assert "minimum=2" in repr(get_check("labels_per_annotator"))


def test_register_check_rejects_bad_classes(clean_registry: None) -> None:
    class NoName(QualityCheck):
        def run(self, ann, gold=None, consensus=None):  # type: ignore[no-untyped-def]
            raise AssertionError

    with pytest.raises(QualityCheckError, match="non-empty class attribute 'name'"):
        register_check(NoName)

    class Clash(NoName):
        name = "agreement"

    with pytest.raises(QualityCheckError, match="already registered"):
        register_check(Clash)
    with pytest.raises(QualityCheckError, match="subclass of QualityCheck"):
        register_check(dict)  # type: ignore[arg-type]
