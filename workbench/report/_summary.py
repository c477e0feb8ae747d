"""A project's state in plain numbers: what ``workbench status`` prints and the report opens with."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workbench.exceptions import WorkbenchError

__all__ = ["learning_curve_from_runs", "project_summary"]

#: Label sources a person produces (the rest are LFs, models, consensus, feedback).
_PEOPLE = ("human", "gold", "adjudication")


def _plain(value: Any) -> Any:
    """``value`` as plain JSON types (numpy scalars unwrapped, NaN as None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def project_summary(project: Any, *, window: str | int | None = None) -> dict[str, Any]:
    """Counts, data and label versions, queues and quality of a project, as JSON-ready values.

    Every section is computed from what is stored (no labeling function needs to be
    registered). A section that has nothing to show yet holds ``None`` and its reason under
    ``notes``.

    Parameters
    ----------
    project : Project
        An open project.
    window : str or int, optional
        The window of annotator drift: a pandas offset such as ``"7D"`` or ``"12h"``, or an
        int, windows of that many answers per annotator. Default: the project's ``drift_window``.

    Returns
    -------
    dict
        Keys ``path``, ``schema`` (name, version, guideline version, questions), ``counts``
        (examples, data versions, events, labels by source, gold, annotators), ``data_versions``,
        ``label_versions`` (name, parent, rows, created, message), ``training_runs``, ``queues``
        (annotation progress, adjudication), ``quality`` (agreement, flagged annotators) and
        ``notes``.

    Examples
    --------
    >>> import tempfile, pandas as pd, workbench as wb
    >>> from workbench.report import project_summary
    >>> p = wb.Project.create(tempfile.mkdtemp() + "/p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    >>> _ = p.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["sub4sub!", "nice song"]}), id_column="id")
    >>> project_summary(p)["counts"]["examples"]
    2
    """
    notes: list[str] = []
    schema = project.schema
    events = project.events()
    labels = project.labels()
    gold = project.gold(schema.questions[0].name)
    by_source = {str(k): int(v) for k, v in labels["source"].value_counts().sort_index().items()} if len(labels) else {}
    people = labels[labels["source"].isin(_PEOPLE)] if len(labels) else labels
    counts = {
        "examples": len(project),
        "data_versions": len(project.data_versions()),
        "events": len(events),
        "labels": len(labels),
        "labels_by_source": by_source,
        "labeled_examples": int(labels["example_id"].nunique()) if len(labels) else 0,
        "gold": len(gold),
        "annotators": int(people[people["source"] == "human"]["annotator"].nunique()) if len(people) else 0,
    }
    dv = project.data_versions()
    data_versions = [
        {"version": str(r.version), "n_rows": int(r.n_rows), "n_existing": int(r.n_existing),
         "created_at": str(r.created_at), "message": str(r.message or "")}
        for r in dv.itertuples()
    ]
    lv = project.versions.list()
    label_versions = [
        {"name": str(r["name"]), "parent": None if r["parent"] is None or pd.isna(r["parent"]) else str(r["parent"]),
         "n_rows": int(r["n_rows"]), "created_at": str(r["created_at"]), "message": str(r["message"] or ""),
         "label_model": None if r["label_model"] is None or pd.isna(r["label_model"]) else str(r["label_model"]),
         "used_by_runs": len(r["used_by_runs"])}
        for _, r in lv.iterrows()
    ]
    runs = project.versions.runs()
    queues: dict[str, Any] = {"annotation": _plain(project.annotation.progress())}
    try:
        queues["adjudication"] = len(project.annotation.queue("adjudication", None))
    except WorkbenchError as exc:
        queues["adjudication"] = None
        notes.append(f"adjudication queue: {exc}")
    quality: dict[str, Any] = {"agreement": None, "annotators": None, "flagged": []}
    try:
        rep = project.quality.agreement()
        quality["agreement"] = _plain({"fleiss_kappa": rep.fleiss_kappa, "krippendorff_alpha": rep.krippendorff_alpha,
                                       "n_items_multi_rated": rep.n_items_multi_rated})
    except WorkbenchError as exc:
        notes.append(f"agreement: {exc}")
    try:
        ann = project.quality.annotator_report(window=window)
        cols = [c for c in ("n_labels", "honeypot_accuracy", "consensus_agreement", "flagged", "recommended_weight")
                if c in ann.columns]
        quality["annotators"] = {str(a): _plain(row.to_dict()) for a, row in ann[cols].iterrows()}
        if "flagged" in ann.columns:
            quality["flagged"] = [str(a) for a in ann.index[ann["flagged"].astype(bool)]]
    except WorkbenchError as exc:
        notes.append(f"annotator quality: {exc}")
    return {
        "path": str(project.path),
        "schema": {"name": schema.name, "version": project.schema_version,
                   "guideline_version": project.guideline_version,
                   "questions": {q.name: list(q.choices) for q in schema.questions}},
        "counts": counts,
        "data_versions": data_versions,
        "label_versions": label_versions,
        "training_runs": len(runs),
        "queues": queues,
        "quality": quality,
        "notes": notes,
    }


def learning_curve_from_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The learning curve the project recorded: cross-validated score against labels, per training run.

    A training run recorded by :class:`workbench.active.ActiveLearner` keeps how many labels
    by people it trained on (``n_human`` + ``n_gold``) and its cross-validated scores
    (``cv.accuracy``, ``cv.macro_f1``); runs without a score (cross-validation skipped, or
    recorded by hand without one) are left out. A run recorded by hand joins the curve when
    its ``params`` hold ``n_labels`` and ``score`` (numbers).

    Parameters
    ----------
    runs : DataFrame
        ``project.versions.runs()``.

    Returns
    -------
    DataFrame
        Columns ``run_id``, ``name``, ``created_at``, ``n_labels``, ``metric``, ``score``,
        oldest run first; empty when no run recorded a score.
    """
    rows: list[dict[str, Any]] = []
    for run in runs.itertuples():
        params: dict[str, Any] = run.params if isinstance(run.params, dict) else {}
        raw_cv = params.get("cv")
        cv: dict[str, Any] = raw_cv if isinstance(raw_cv, dict) else {}
        n_labels: Any = None
        if all(isinstance(params.get(k), (int, np.integer)) for k in ("n_human", "n_gold")):
            n_labels = int(params["n_human"]) + int(params["n_gold"])
        elif isinstance(params.get("n_labels"), (int, np.integer)):
            n_labels = int(params["n_labels"])
        if n_labels is None:
            continue
        for metric in ("macro_f1", "accuracy"):
            score = cv.get(metric)
            if isinstance(score, (int, float)) and math.isfinite(score):
                rows.append({"run_id": run.run_id, "name": run.name, "created_at": run.created_at,
                             "n_labels": n_labels, "metric": f"cv {metric}", "score": float(score)})
        score = params.get("score")
        if isinstance(score, (int, float)) and not isinstance(score, bool) and math.isfinite(score):
            rows.append({"run_id": run.run_id, "name": run.name, "created_at": run.created_at,
                         "n_labels": n_labels, "metric": str(params.get("metric", "score")), "score": float(score)})
    return pd.DataFrame(rows, columns=["run_id", "name", "created_at", "n_labels", "metric", "score"])
