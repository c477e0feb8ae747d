"""Where each flat ``Project`` method of the first API went (for helpful AttributeErrors)."""

from __future__ import annotations

__all__ = ["MOVED"]

#: old ``project.<name>`` -> its new home.
MOVED: dict[str, str] = {
    # labeling functions
    "lf": "project.lfs.labeling_function",
    "add_lf": "project.lfs.add",
    "remove_lf": "project.lfs.remove",
    "apply_lfs": "project.lfs.apply",
    "label_matrix": "project.lfs.matrix",
    "lf_summary": "project.lfs.summary",
    "lf_names": "project.lfs.names",
    "gold_labels": "project.lfs.gold_labels",
    # label models
    "fit_label_model": "project.models.fit",
    "compare_label_models": "project.models.compare",
    "soft_labels": "project.models.soft_labels",
    "predict_proba": "project.models.predict_proba",
    # label versions and training runs
    "save_labels": "project.versions.save",
    "label_versions": "project.versions.list",
    "load_labels": "project.versions.load",
    "label_version_manifest": "project.versions.manifest",
    "diff_labels": "project.versions.diff",
    "training_data": "project.versions.training_data",
    "label_model_of": "project.versions.label_model",
    "record_training_run": "project.versions.record_run",
    "training_runs": "project.versions.runs",
    # annotation
    "configure_quality": "project.annotation.configure",
    "quality_config": "project.annotation.config",
    "import_annotations": "project.annotation.import_annotations",
    "queue": "project.annotation.queue",
    "next_items": "project.annotation.next_items",
    "submit": "project.annotation.submit",
    "skip": "project.annotation.skip",
    "undo": "project.annotation.undo",
    "progress": "project.annotation.progress",
    "draft": "project.annotation.draft",
    "annotations": "project.annotation.answers",
    # quality
    "consensus": "project.quality.consensus",
    "record_consensus": "project.quality.record_consensus",
    "agreement": "project.quality.agreement",
    "annotator_report": "project.quality.annotator_report",
    "annotator_drift": "project.quality.drift",
    "adjudicate": "project.quality.adjudicate",
    # the event log
    "all_events": "project.events",
    "data_batches": "project.examples (one data version: project.examples(data_version=...))",
}
